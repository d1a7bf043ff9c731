package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runOnce runs piad with args and env (over testEnv) to completion, within a
// bound, and returns its error and outputs.
func runOnce(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	full := testEnv(t, env)
	var out, errOut logBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv(full), &out, &errOut) }()
	select {
	case err = <-done:
	case <-time.After(25 * time.Second):
		t.Fatalf("piad %s still running after 25s", strings.Join(args, " "))
	}
	if ctx.Err() != nil {
		t.Fatalf("piad %s ran until its 20s bound: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), err
}

// A wrong setting stops piad before it touches the disk or listens, with an
// error naming what is wrong.
func TestBadConfiguration(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		want  []string // in the error
		never string   // never in the error
	}{
		{name: "unknown env", env: map[string]string{"PIA_ENV": "staging"}, want: []string{"PIA_ENV", "staging"}},
		{name: "several bad settings", env: map[string]string{"PIA_LOG_LEVEL": "loud", "PIA_SHUTDOWN_TIMEOUT": "soon"},
			want: []string{"PIA_LOG_LEVEL", "PIA_SHUTDOWN_TIMEOUT"}},
		{name: "mysql", env: map[string]string{"PIA_DATABASE_URL": "mysql://root:secret@localhost/pia"},
			want: []string{"postgres://"}, never: "secret"},
		{name: "flag beats env", env: map[string]string{"PIA_ENV": "dev"}, args: []string{"-env", "qa"}, want: []string{"PIA_ENV", "qa"}},
		{name: "unknown flag", args: []string{"-port", "80"}, want: []string{"-port"}},
		{name: "stray argument", args: []string{"now"}, want: []string{`unexpected argument "now"`}},
		{name: "address taken", env: map[string]string{"PIA_ADDR": busy.Addr().String()},
			want: []string{"listen on " + busy.Addr().String()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"PIA_DATA_DIR": dataDir}
			for k, v := range tc.env {
				env[k] = v
			}
			_, stderr, err := runOnce(t, env, append([]string{"serve"}, tc.args...)...)
			if err == nil {
				t.Fatal("piad serve accepted the bad configuration")
			}
			msg := err.Error() + "\n" + stderr
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q (stderr %q) does not mention %q", err, stderr, w)
				}
			}
			if tc.never != "" && strings.Contains(msg, tc.never) {
				t.Errorf("error %q shows %q", err, tc.never)
			}
			if strings.Contains(stderr, "listening") {
				t.Errorf("the server listened:\n%s", stderr)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data directory was created for a configuration that was refused")
			}
		})
	}
}

func TestCommands(t *testing.T) {
	t.Run("version", func(t *testing.T) {
		stdout, stderr, err := runOnce(t, nil, "version")
		if err != nil || !regexp.MustCompile(`^piad \S+\n$`).MatchString(stdout) || stderr != "" {
			t.Errorf("version: %v, stdout %q, stderr %q; want `piad <version>`", err, stdout, stderr)
		}
	})
	t.Run("help", func(t *testing.T) {
		stdout, _, err := runOnce(t, nil, "help")
		if err != nil || !strings.HasPrefix(stdout, "usage:") || !strings.Contains(stdout, "piad migrate up|down|status") {
			t.Errorf("help: %v, stdout %q", err, stdout)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		stdout, _, err := runOnce(t, nil, "start")
		if err == nil || !strings.Contains(err.Error(), `unknown command "start"`) || !strings.Contains(err.Error(), "usage:") {
			t.Errorf("unknown command: %v, want an error naming it, with the usage", err)
		}
		if stdout != "" {
			t.Errorf("stdout %q", stdout)
		}
	})
	t.Run("flags help", func(t *testing.T) {
		// main exits 0 on flag.ErrHelp, as `go run ./cmd/piad -h` should.
		_, stderr, err := runOnce(t, nil, "-h")
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("-h: %v, want flag.ErrHelp", err)
		}
		for _, s := range []string{"-database-url", "$PIA_DATABASE_URL", "-shutdown-timeout"} {
			if !strings.Contains(stderr, s) {
				t.Errorf("-h does not list %s:\n%s", s, stderr)
			}
		}
	})
}

var statusLine = regexp.MustCompile(`(?m)^20261122000001_reference_data +(pending|applied \(group \d+\))$`)

func migrationState(t *testing.T, stdout string) string {
	t.Helper()
	m := statusLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("migrate status does not list 20261122000001_reference_data:\n%s", stdout)
	}
	return m[1]
}

// The migrate commands on a fresh database: status, up, down and up again.
func TestMigrate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := map[string]string{"PIA_DATA_DIR": t.TempDir(), "PIA_DATABASE_URL": databaseURL}
		step := func(want string, args ...string) string {
			t.Helper()
			stdout, stderr, err := runOnce(t, env, args...)
			if err != nil {
				t.Fatalf("piad %s: %v\n%s", strings.Join(args, " "), err, stderr)
			}
			if !strings.Contains(stdout, want) {
				t.Fatalf("piad %s printed %q, want %q", strings.Join(args, " "), stdout, want)
			}
			return stdout
		}

		if s := migrationState(t, step("", "migrate", "status")); s != "pending" {
			t.Errorf("status on a fresh database: %s, want pending", s)
		}
		step("applied 20261122000001_reference_data", "migrate", "up")
		step("nothing to apply", "migrate", "up")
		if s := migrationState(t, step("", "migrate", "status")); s != "applied (group 1)" {
			t.Errorf("status after up: %s, want applied (group 1)", s)
		}
		step("rolled back 20261122000001_reference_data", "migrate", "down")
		if s := migrationState(t, step("", "migrate", "status")); s != "pending" {
			t.Errorf("status after down: %s, want pending", s)
		}
		step("nothing to roll back", "migrate", "down")
		step("applied 20261122000001_reference_data", "migrate", "up")
		if s := migrationState(t, step("", "migrate", "status")); !strings.HasPrefix(s, "applied") {
			t.Errorf("status after up again: %s", s)
		}

		// The server then finds the database up to date and the data there.
		base, _, logs := startServer(t, env)
		if _, ok := logs.Find("migrations applied"); ok {
			t.Errorf("serve applied migrations after migrate up:\n%s", logs)
		}
		checkReference(t, fetchReference(t, base))
	})
}

func TestMigrateUsage(t *testing.T) {
	for _, args := range [][]string{{"migrate"}, {"migrate", "sideways"}, {"migrate", "-data-dir", "x"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			stdout, _, err := runOnce(t, map[string]string{"PIA_DATA_DIR": dataDir}, args...)
			if err == nil {
				t.Fatalf("piad %s succeeded (stdout %q)", strings.Join(args, " "), stdout)
			}
			if !strings.Contains(err.Error(), "up, down or status") {
				t.Errorf("error %q does not say what migrate takes", err)
			}
			if len(args) > 1 && args[1] == "sideways" && !strings.Contains(err.Error(), "sideways") {
				t.Errorf("error %q does not name the wrong subcommand", err)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Error("a mistyped migrate command created the database")
			}
		})
	}
}
