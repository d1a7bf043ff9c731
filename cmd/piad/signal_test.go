package main

import (
	"bufio"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildPiad compiles the real binary, for what only the process shows: the
// signals main listens to and its exit status.
func buildPiad(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build piad with")
	}
	bin := filepath.Join(t.TempDir(), "piad")
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// piadCommand runs bin with args and only the given environment, so that the
// PIA_* variables of whoever runs the tests do not leak in.
func piadCommand(t *testing.T, bin string, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PIA_ADDR=127.0.0.1:0", "PIA_DATA_DIR=" + t.TempDir(), "PIA_WS_INIT_TIMEOUT=2s"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func exitCode(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("wait: %v", err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(within):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("piad still running %v later", within)
		return -1
	}
}

var textAddr = regexp.MustCompile(`msg=listening addr=(\S+)`)

func TestProcess(t *testing.T) {
	bin := buildPiad(t)

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			// Default log format in dev: text, as a newcomer sees it.
			cmd := piadCommand(t, bin, nil, "serve")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 100)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			var logs []string
			next := func(deadline <-chan time.Time) (string, bool) {
				select {
				case l, ok := <-lines:
					if ok {
						logs = append(logs, l)
					}
					return l, ok
				case <-deadline:
					_ = cmd.Process.Kill()
					t.Fatalf("timed out; logs so far:\n%s", strings.Join(logs, "\n"))
					return "", false
				}
			}

			deadline := time.After(10 * time.Second)
			var addr string
			for addr == "" {
				l, ok := next(deadline)
				if !ok {
					t.Fatalf("piad ended before listening:\n%s", strings.Join(logs, "\n"))
				}
				if m := textAddr.FindStringSubmatch(l); m != nil {
					addr = m[1]
				}
			}
			resp, err := httpClient.Get("http://" + addr + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/readyz = %d", resp.StatusCode)
			}

			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			deadline = time.After(5 * time.Second)
			for {
				if _, ok := next(deadline); !ok {
					break
				}
			}
			if code := exitCode(t, cmd, 5*time.Second); code != 0 {
				t.Errorf("exit status %d after %s, want 0:\n%s", code, sig, strings.Join(logs, "\n"))
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("stopping took %v", d)
			}
			if !strings.Contains(strings.Join(logs, "\n"), "msg=stopped") {
				t.Errorf("no stopped log:\n%s", strings.Join(logs, "\n"))
			}
		})
	}

	t.Run("flags help exits 0", func(t *testing.T) {
		cmd := piadCommand(t, bin, nil, "-h")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "-database-url") {
			t.Errorf("piad -h: %v\n%s", err, out)
		}
	})

	t.Run("bad configuration exits 1", func(t *testing.T) {
		cmd := piadCommand(t, bin, map[string]string{"PIA_ENV": "staging"}, "serve")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want status 1", err)
		}
		if !strings.HasPrefix(string(out), "piad: configuration: PIA_ENV") {
			t.Errorf("output %q, want the error on stderr prefixed with piad:", out)
		}
	})

	t.Run("version", func(t *testing.T) {
		out, err := piadCommand(t, bin, nil, "version").Output()
		if err != nil || !regexp.MustCompile(`^piad \S+\n$`).Match(out) {
			t.Errorf("piad version: %v %q", err, out)
		}
	})
}
