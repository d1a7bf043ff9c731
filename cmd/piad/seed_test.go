package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/storage"
)

// seededCounts are the organizations and people the database env names
// holds, to check what a seed's report claims.
func seededCounts(t *testing.T, env map[string]string) (organizations, people int) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{URL: env["PIA_DATABASE_URL"], DataDir: env["PIA_DATA_DIR"]})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if organizations, err = db.NewSelect().TableExpr("organizations").Count(ctx); err != nil {
		t.Fatal(err)
	}
	if people, err = db.NewSelect().TableExpr("people").Count(ctx); err != nil {
		t.Fatal(err)
	}
	return organizations, people
}

// seededDocuments counts the guideline documents, their sections' logged
// operations and comments in the database env names.
func seededDocuments(t *testing.T, env map[string]string) (documents, edits, comments int) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{URL: env["PIA_DATABASE_URL"], DataDir: env["PIA_DATA_DIR"]})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for table, n := range map[string]*int{"documents": &documents, "section_ops": &edits, "comments": &comments} {
		if *n, err = db.NewSelect().TableExpr(table).Count(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return documents, edits, comments
}

// reportCounts finds re in a seed's report and returns its first two
// numbers: the organizations and the people it says were created.
func reportCounts(t *testing.T, re *regexp.Regexp, stdout string) (organizations, people int) {
	t.Helper()
	m := re.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("the report does not give what was created (%s):\n%s", re, stdout)
	}
	organizations, _ = strconv.Atoi(m[1])
	people, _ = strconv.Atoi(m[2])
	return organizations, people
}

var (
	docCounts   = regexp.MustCompile(`guideline documents: 9 drafts, (\d+) edits, (\d+) comments, 9 named versions`)
	demoCounts  = regexp.MustCompile(`demo region: (\d+) organizations, (\d+) people \(\d+ affiliations\), 9 working groups \(\d+ members\), \d+ practices, \d+ municipalities`)
	scaleCounts = regexp.MustCompile(`scale 0\.02: (\d+) organizations, (\d+) people`)
)

// piad seed --demo on a fresh database, then again: the second run finds
// the demo there and creates nothing, documents included. The demo
// accounts are listed both times.
func TestSeedDemo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := map[string]string{"PIA_DATA_DIR": t.TempDir(), "PIA_DATABASE_URL": databaseURL}
		stdout, stderr, err := runOnce(t, env, "seed", "--demo")
		if err != nil {
			t.Fatalf("piad seed --demo: %v\n%s", err, stderr)
		}
		orgs, people := reportCounts(t, demoCounts, stdout)
		if orgs <= 0 || people <= 0 {
			t.Errorf("the report claims %d organizations and %d people; want some of each", orgs, people)
		}
		// The people are the demo's and the administrator who seeded it.
		gotOrgs, gotPeople := seededCounts(t, env)
		if gotOrgs != orgs || gotPeople != people+1 {
			t.Errorf("the database holds %d organizations and %d people; the report claims %d and %d (and the administrator)",
				gotOrgs, gotPeople, orgs, people)
		}
		// And a draft guideline document per territory, written through
		// the co-editing service.
		edits, comments := reportCounts(t, docCounts, stdout)
		if d, e, c := seededDocuments(t, env); d != 9 || e != edits || c != comments || e == 0 || c == 0 {
			t.Errorf("the database holds %d documents, %d edits and %d comments; the report claims 9, %d and %d", d, e, c, edits, comments)
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
		if o, p := seededCounts(t, env); o != gotOrgs || p != gotPeople {
			t.Errorf("the second run changed the database: %d organizations and %d people, then %d and %d", gotOrgs, gotPeople, o, p)
		}
		if d, e, c := seededDocuments(t, env); d != 9 || e != edits || c != comments || strings.Contains(stdout, "guideline documents:") {
			t.Errorf("the second run wrote documents: %d documents, %d edits and %d comments, then %d, %d and %d\n%s", 9, edits, comments, d, e, c, stdout)
		}
	})
}

// piad seed --scale imports a generated region, and can be combined with
// --demo: the database holds both.
func TestSeedScale(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := map[string]string{"PIA_DATA_DIR": t.TempDir(), "PIA_DATABASE_URL": databaseURL}
		stdout, stderr, err := runOnce(t, env, "seed", "--scale=0.02", "--demo", "--rand-seed", "3")
		if err != nil {
			t.Fatalf("piad seed: %v\n%s", err, stderr)
		}
		for _, want := range []string{"scale 0.02: 40 organizations, 200 people", "organizations-1.csv", "people-1.csv"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the report lacks %q:\n%s", want, stdout)
			}
		}
		demoOrgs, demoPeople := reportCounts(t, demoCounts, stdout)
		scaleOrgs, scalePeople := reportCounts(t, scaleCounts, stdout)
		// The people are the demo's, the generated ones and the
		// administrator who seeded both.
		orgs, people := seededCounts(t, env)
		if orgs != demoOrgs+scaleOrgs || people != demoPeople+scalePeople+1 {
			t.Errorf("the database holds %d organizations and %d people; the report claims %d+%d and %d+%d (and the administrator)",
				orgs, people, demoOrgs, scaleOrgs, demoPeople, scalePeople)
		}
	})
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
