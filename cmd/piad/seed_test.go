package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// piad seed --demo on a fresh database, then again: the second run finds
// the demo there and creates nothing. The demo accounts are listed both
// times.
func TestSeedDemo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := map[string]string{"PIA_DATA_DIR": t.TempDir(), "PIA_DATABASE_URL": databaseURL}
		stdout, stderr, err := runOnce(t, env, "seed", "--demo")
		if err != nil {
			t.Fatalf("piad seed --demo: %v\n%s", err, stderr)
		}
		counts := regexp.MustCompile(`demo region: (\d+) organizations, (\d+) people \(\d+ affiliations\), 9 working groups \(\d+ members\), (\d+) practices, (\d+) municipalities`)
		if !counts.MatchString(stdout) {
			t.Errorf("the report does not give what was created:\n%s", stdout)
		}
		for _, want := range []string{`password "demo-pia-2026"`, "admin@pia.demo", "coordinatore.enna@pia.demo",
			"membro.enna@pia.demo", "osservatore.enna@pia.demo", "decisore@pia.demo", "POLICY_MAKER"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the report lacks %q:\n%s", want, stdout)
			}
		}
		stdout, stderr, err = runOnce(t, env, "seed", "--demo")
		if err != nil {
			t.Fatalf("second piad seed --demo: %v\n%s", err, stderr)
		}
		if !strings.Contains(stdout, "demo region: already seeded, nothing created") || !strings.Contains(stdout, "coordinatore.enna@pia.demo") {
			t.Errorf("second run:\n%s", stdout)
		}
	})
}

// piad seed --scale imports a generated region, and can be combined with
// --demo.
func TestSeedScale(t *testing.T) {
	env := map[string]string{"PIA_DATA_DIR": t.TempDir()}
	stdout, stderr, err := runOnce(t, env, "seed", "--scale=0.02", "--demo", "--rand-seed", "3")
	if err != nil {
		t.Fatalf("piad seed: %v\n%s", err, stderr)
	}
	for _, want := range []string{"demo region: ", "scale 0.02: 40 organizations, 200 people", "organizations-1.csv", "people-1.csv"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
}

// Bad uses of seed are refused before the database is created.
func TestSeedRefusals(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing to do", nil, []string{"seed"}, "seed needs -demo, -scale N or both"},
		{"in prod", map[string]string{"PIA_ENV": "prod"}, []string{"seed", "--demo"}, "refused when PIA_ENV is prod"},
		{"prod by flag", nil, []string{"seed", "--demo", "-env", "prod"}, "refused when PIA_ENV is prod"},
		{"scale zero", nil, []string{"seed", "--scale", "0"}, `invalid value "0" for flag -scale: want a number above 0`},
		{"scale not a number", nil, []string{"seed", "--scale", "lots"}, `invalid value "lots" for flag -scale`},
		{"scale NaN", nil, []string{"seed", "--scale=NaN"}, `invalid value "NaN" for flag -scale`},
		{"scale without value", nil, []string{"seed", "--scale"}, "flag needs an argument: -scale"},
		{"bad seed", nil, []string{"seed", "--scale", "1", "--rand-seed", "-1"}, `invalid value "-1" for flag -rand-seed`},
		{"stray argument", nil, []string{"seed", "--demo", "now"}, `unexpected argument "now"`},
		{"unknown flag", nil, []string{"seed", "--demo", "-colour", "red"}, "-colour"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"PIA_DATA_DIR": dataDir}
			for k, v := range tc.env {
				env[k] = v
			}
			stdout, stderr, err := runOnce(t, env, tc.args...)
			if err == nil || !strings.Contains(err.Error()+stderr, tc.want) {
				t.Fatalf("piad %s: %v (stderr %q), want an error with %q", strings.Join(tc.args, " "), err, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data directory was created for a refused seed")
			}
		})
	}
}
