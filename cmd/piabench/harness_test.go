package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/otclient"
)

const (
	harnessEmail    = "admin@bench.test"
	harnessPassword = "bench-harness-password-2026"
)

var harnessListening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// harnessServer builds piad, runs `piad serve` on SQLite in a temporary
// data directory on a free port with a known administrator, and gives
// Enna a working group: what piabench needs of a server. It returns the
// server's address and process id.
func harnessServer(t *testing.T) (url string, pid int) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs piad; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build piad with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "piad")
	if out, err := exec.Command(gobin, "build", "-o", bin, "../piad").CombinedOutput(); err != nil {
		t.Fatalf("go build ../piad: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve")
	// Only these variables: none of the PIA_* of whoever runs the tests.
	cmd.Env = []string{"PIA_ADDR=127.0.0.1:0", "PIA_DATA_DIR=" + filepath.Join(dir, "data"), "PIA_ENV=dev",
		"PIA_LOG_FORMAT=text", "PIA_ADMIN_EMAIL=" + harnessEmail, "PIA_ADMIN_PASSWORD=" + harnessPassword}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var logMu sync.Mutex
	var logs strings.Builder
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := harnessListening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		url = "http://" + a
	case <-time.After(20 * time.Second):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("piad not listening after 20 s:\n%s", logs.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := otclient.SignIn(ctx, url, harnessEmail, harnessPassword)
	if err != nil {
		t.Fatalf("signIn: %v", err)
	}
	if err := otclient.PostGraphQL(ctx, url, token, `mutation { createWorkingGroup(input: {territory: "EN"}) { id } }`, nil, nil); err != nil {
		t.Fatalf("createWorkingGroup: %v", err)
	}
	return url, cmd.Process.Pid
}

// harnessReport is the part of piabench's -json report the test reads;
// null (a NaN) decodes as nil.
type harnessReport struct {
	Workloads map[string]struct {
		AllConverged bool
		Runs         []struct {
			Docs, ClientsPerDoc, OpsPerClient int
			TotalOps, CommittedOps            int
			Converged                         bool
			FinalLength, ExpectedLength       int
			Undelivered                       int
			CommittedOpsPerSec                *float64
			AckP50, AckP99                    *float64
			FanoutP50, FanoutP99              *float64
			ServerCPUUsPerOp                  *float64 `json:"serverCpuUsPerOp"`
		}
	}
}

// piabench runs W1 and W3, scaled down, against a real piad: every run
// converges, the server's logs hold exactly the operations sent, and the
// figures are there and ordered.
func TestHarnessRunsTheWorkloads(t *testing.T) {
	url, pid := harnessServer(t)
	for _, tc := range []struct {
		workload                string
		docs, clients, ops, all int
	}{
		{"W1", 0, 2, 5, 10}, // one document, 2 clients × 5 ops
		{"W3", 2, 2, 3, 12}, // 2 documents × 2 clients × 3 ops
	} {
		t.Run(tc.workload, func(t *testing.T) {
			args := []string{"-url", url, "-email", harnessEmail, "-password", harnessPassword,
				"-workload", tc.workload, "-clients", strconv.Itoa(tc.clients), "-ops", strconv.Itoa(tc.ops),
				"-runs", "1", "-json", "-quiet-wait", "0", "-max-retries", "0", "-timeout", "30s", "-pid", strconv.Itoa(pid)}
			if tc.docs > 0 {
				args = append(args, "-docs", strconv.Itoa(tc.docs))
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := run(ctx, args, &stdout, &stderr); err != nil {
				t.Fatalf("piabench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			var rep harnessReport
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("the -json report: %v\n%s", err, stdout.String())
			}
			wr, ok := rep.Workloads[tc.workload]
			if !ok || len(wr.Runs) != 1 {
				t.Fatalf("the report has no single run of %s:\n%s", tc.workload, stdout.String())
			}
			r := wr.Runs[0]
			docs := max(tc.docs, 1)
			if r.Docs != docs || r.ClientsPerDoc != tc.clients || r.OpsPerClient != tc.ops || r.TotalOps != tc.all {
				t.Errorf("ran %d documents × %d clients × %d ops = %d, want %d × %d × %d = %d",
					r.Docs, r.ClientsPerDoc, r.OpsPerClient, r.TotalOps, docs, tc.clients, tc.ops, tc.all)
			}
			if !r.Converged || !wr.AllConverged || r.FinalLength != r.ExpectedLength || r.ExpectedLength != tc.clients*tc.ops {
				t.Errorf("converged %v (all: %v), final length %d, expected %d (want %d)",
					r.Converged, wr.AllConverged, r.FinalLength, r.ExpectedLength, tc.clients*tc.ops)
			}
			if r.CommittedOps != tc.all {
				t.Errorf("the server committed %d operations, want %d", r.CommittedOps, tc.all)
			}
			if r.Undelivered != 0 {
				t.Errorf("%d operations not delivered to every other client", r.Undelivered)
			}
			ordered := func(name string, p50, p99 *float64) {
				if p50 == nil || p99 == nil || *p50 <= 0 || *p50 > *p99 {
					t.Errorf("%s p50/p99: %v/%v, want 0 < p50 <= p99", name, deref(p50), deref(p99))
				}
			}
			ordered("ack", r.AckP50, r.AckP99)
			ordered("fan-out", r.FanoutP50, r.FanoutP99)
			if r.CommittedOpsPerSec == nil || *r.CommittedOpsPerSec <= 0 {
				t.Errorf("committed ops/s: %v", deref(r.CommittedOpsPerSec))
			}
			if r.ServerCPUUsPerOp == nil || *r.ServerCPUUsPerOp < 0 {
				t.Errorf("server CPU per op: %v", deref(r.ServerCPUUsPerOp))
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
