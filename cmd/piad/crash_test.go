package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/otclient"
)

// crashServer is a piad process the test can kill -9 and start again on
// the same database and port.
type crashServer struct {
	t    *testing.T
	bin  string
	env  map[string]string
	addr string
	cmd  *exec.Cmd
	logs *crashLogs
}

// crashLogs keeps a process's stderr, read to the end so that a full pipe
// never blocks the server.
type crashLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *crashLogs) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *crashLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// crashFreeAddr finds a free loopback port, for both lives of the server.
func crashFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the server and returns once it listens.
func (s *crashServer) start() {
	t := s.t
	t.Helper()
	env := map[string]string{"PIA_ADDR": s.addr, "PIA_LOG_FORMAT": "text"}
	for k, v := range s.env {
		env[k] = v
	}
	cmd := piadCommand(t, s.bin, env, "serve")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd, s.logs = cmd, &crashLogs{}
	listening := make(chan struct{})
	go func(logs *crashLogs) {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := false
		for sc.Scan() {
			logs.add(sc.Text())
			if !once && strings.Contains(sc.Text(), "msg=listening") {
				once = true
				close(listening)
			}
		}
	}(s.logs)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	select {
	case <-listening:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("piad not listening after 20 s:\n%s", s.logs)
	}
}

// kill ends the server with SIGKILL: no shutdown, no flush.
func (s *crashServer) kill() {
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

// A storm of edits from several clients; piad is killed with SIGKILL in
// the middle and started again on the same database. Every operation the
// server acknowledged before (and after) the crash is in the log at the
// version its ack named, the section's text is the replay of the log from
// the initial text, and the clients, which reconnect by themselves and
// resend what was in flight, converge on it. Besides the crash, the
// clients' sockets drop now and then right after a commit of theirs, before
// they read it: the resent operations are answered with the version they
// were first committed at, before and after the restart.
func TestCrashKeepsAcknowledgedEdits(t *testing.T) {
	bin := buildPiad(t) // skipped with -short
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := coeditEnv(databaseURL)
		env["PIA_DATA_DIR"] = filepath.Join(t.TempDir(), "data") // the same SQLite file for both lives
		srv := &crashServer{t: t, bin: bin, env: env, addr: crashFreeAddr(t)}
		srv.start()
		base := "http://" + srv.addr
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const initial = "Testo iniziale, è 𝄞.\n"
		token, sectionID := coeditDocument(t, ctx, base, initial)

		const clients = 5
		type ack struct {
			version     int64
			key         string
			beforeCrash bool
		}
		var ackMu sync.Mutex
		var acks []ack
		var crashed atomic.Bool
		secs := make([]*otclient.Section, clients)
		cls := make([]*otclient.Client, clients)
		resends := newCoeditResends(t, cancel)
		for i := range clients {
			o := resends.options(fmt.Sprintf("crash-%d", i), 10)
			o.ReconnectMax = 100 * time.Millisecond
			cl, err := otclient.Dial(ctx, base, token, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cl.Close() })
			s, err := cl.OpenSection(ctx, sectionID)
			if err != nil {
				t.Fatal(err)
			}
			s.OnAck(func(a otclient.Ack) {
				ackMu.Lock()
				acks = append(acks, ack{a.Version, fmt.Sprintf("%s/%d", a.ClientID, a.ClientSeq), !crashed.Load()})
				ackMu.Unlock()
			})
			cls[i], secs[i] = cl, s
		}
		acked := func() int {
			ackMu.Lock()
			defer ackMu.Unlock()
			return len(acks)
		}

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 99))
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := coeditRandomEdit(rng, secs[i]); err != nil {
						t.Errorf("client %d, edit %d: %v", i, k, err)
						return
					}
					time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
				}
			}()
		}
		waitFor := func(what string, ok func() bool) {
			t.Helper()
			for !ok() {
				select {
				case <-ctx.Done():
					close(stop)
					t.Fatalf("waiting for %s: %v", what, ctx.Err())
				case <-time.After(5 * time.Millisecond):
				}
			}
		}

		waitFor("acks before the crash", func() bool { return acked() >= 150 })
		crashed.Store(true)
		srv.kill()
		before := acked()
		time.Sleep(200 * time.Millisecond) // the clients edit on, offline
		srv.start()
		waitFor("acks after the restart", func() bool { return acked() >= before+150 })
		close(stop)
		wg.Wait()

		for i, s := range secs {
			if err := s.WaitSynced(ctx); err != nil {
				t.Fatalf("client %d never synced after the restart: %v (state %s)\nlogs:\n%s", i, err, s.State(), srv.logs)
			}
		}
		text, version := coeditServerSection(t, ctx, base, token, sectionID)
		for i, s := range secs {
			if err := s.WaitVersion(ctx, version); err != nil {
				t.Fatalf("client %d never reached version %d: %v", i, version, err)
			}
			if got := s.Text(); got != text {
				t.Errorf("client %d holds\n%q\nthe server\n%q", i, got, text)
			}
			if cls[i].Reconnects() == 0 {
				t.Errorf("client %d never reconnected", i)
			}
		}

		log := coeditCheckLog(t, ctx, cls[0], sectionID, initial, text, version)
		resent := resends.check(log)
		if resent == 0 {
			t.Error("no operation was resent after its commit: the idempotent path was not exercised")
		}
		ackMu.Lock()
		defer ackMu.Unlock()
		atCrash := 0
		for _, a := range acks {
			if a.beforeCrash {
				atCrash++
			}
			if a.version < 1 || a.version > int64(len(log)) {
				t.Errorf("%s acknowledged as version %d, the log ends at %d", a.key, a.version, len(log))
				continue
			}
			if e := log[a.version-1]; fmt.Sprintf("%s/%d", e.ClientID, e.ClientSeq) != a.key {
				t.Errorf("%s acknowledged as version %d (before the crash: %v), the log has %s/%d there",
					a.key, a.version, a.beforeCrash, e.ClientID, e.ClientSeq)
			}
		}
		if atCrash < 150 {
			t.Errorf("only %d operations acknowledged before the crash", atCrash)
		}
		t.Logf("%d operations acknowledged before the kill, %d in all; the log has %d; %d answers to resent operations",
			atCrash, len(acks), len(log), resent)
	})
}
