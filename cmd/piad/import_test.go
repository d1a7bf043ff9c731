package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/storage"
)

// importTestdata is the network package's sample files.
var importTestdata = filepath.Join("..", "..", "internal", "network", "testdata")

// addAdmin creates the first administrator of the database env names, as
// `piad serve` does with PIA_ADMIN_EMAIL, and returns its id.
func addAdmin(t *testing.T, env map[string]string, email string) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{URL: env["PIA_DATABASE_URL"], DataDir: env["PIA_DATA_DIR"]})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts, err := account.NewService(db, account.Options{HashSlots: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := accounts.EnsureAdmin(ctx, email, "una password lunga abbastanza 2026", false); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.NewSelect().TableExpr("people").Column("id").Where("email = ?", email).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// piad import of a list: refused while the database has no administrator,
// then a dry run, the import, a bad file (errors by line and column, exit
// status not zero, nothing written) and a re-import that changes nothing.
func TestImportCommand(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := map[string]string{"PIA_DATA_DIR": t.TempDir(), "PIA_DATABASE_URL": databaseURL}
		orgs := filepath.Join(importTestdata, "organizations.csv")

		_, _, err := runOnce(t, env, "import", "--kind", "organizations", orgs)
		if err == nil || !strings.Contains(err.Error(), "no administrator") || !strings.Contains(err.Error(), "PIA_ADMIN_EMAIL") {
			t.Fatalf("import without an administrator: %v, want an error saying how to get one", err)
		}
		admin := addAdmin(t, env, "ada@example.org")

		stdout, stderr, err := runOnce(t, env, "import", "--kind=organizations", "--dry-run", orgs)
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, stderr)
		}
		for _, want := range []string{"CSV (UTF-8, comma), 5 rows: 5 created, 0 updated, 0 unchanged", "dry run: nothing was written"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("dry run printed %q, want %q", stdout, want)
			}
		}
		// Any spelling of true is a dry run, the flag package's way.
		stdout, _, err = runOnce(t, env, "import", orgs, "-dry-run=TRUE", "-kind", "organizations")
		if err != nil || !strings.Contains(stdout, "5 created") || !strings.Contains(stdout, "dry run: nothing was written") {
			t.Errorf("-dry-run=TRUE after the file: %v, printed %q", err, stdout)
		}

		stdout, stderr, err = runOnce(t, env, "import", "--kind", "organizations", "--as", "ADA@example.org", orgs)
		if err != nil || !strings.Contains(stdout, "5 rows: 5 created, 0 updated, 0 unchanged") || strings.Contains(stdout, "dry run") {
			t.Fatalf("import: %v, printed %q\n%s", err, stdout, stderr)
		}
		db, err := storage.Open(context.Background(), storage.Options{URL: databaseURL, DataDir: env["PIA_DATA_DIR"]})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		n, err := db.NewSelect().TableExpr("organizations").Where("created_by = ?", admin).Count(context.Background())
		if err != nil || n != 5 {
			t.Errorf("%d organizations created by the administrator (%v), want 5", n, err)
		}

		// The Excel variant of the same list, with the database given by flag.
		args := []string{"import", "--kind", "organizzazioni", filepath.Join(importTestdata, "organizations_excel.csv")}
		if databaseURL != "" {
			args = append(args[:1], append([]string{"-database-url", databaseURL}, args[1:]...)...)
		}
		stdout, _, err = runOnce(t, env, args...)
		if err != nil || !strings.Contains(stdout, "CSV (UTF-8, BOM, semicolon), 5 rows: 0 created, 0 updated, 5 unchanged") {
			t.Errorf("re-import: %v, printed %q", err, stdout)
		}

		// The sample bad file with a new, valid row after the bad one: the
		// bad row must keep the new one out too.
		bad, err := os.ReadFile(filepath.Join(importTestdata, "organizations_bad.csv"))
		if err != nil {
			t.Fatal(err)
		}
		badFile := filepath.Join(t.TempDir(), "organizations_bad.csv")
		bad = append(bytes.TrimRight(bad, "\n"), "\nNuova Associazione,associazione,provinciale,AG\n"...)
		if err := os.WriteFile(badFile, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, _, err = runOnce(t, env, "import", "--kind", "organizations", badFile)
		if err == nil || !strings.Contains(err.Error(), "1 error(s)") {
			t.Errorf("bad file: %v, want an error", err)
		}
		if !strings.Contains(stdout, `line 4, column "tipo": BAD_USER_INPUT: "circolo" is not a kind of organization`) ||
			!strings.Contains(stdout, "nothing was written") {
			t.Errorf("bad file printed:\n%s", stdout)
		}
		if n, err := db.NewSelect().TableExpr("organizations").Count(context.Background()); err != nil || n != 5 {
			t.Errorf("%d organizations after the bad file (%v), want 5", n, err)
		}
		if n, err := db.NewSelect().TableExpr("organizations").Where("name = ?", "Nuova Associazione").Count(context.Background()); err != nil || n != 0 {
			t.Errorf("the bad file's valid new row was written (%d rows, %v)", n, err)
		}

		_, _, err = runOnce(t, env, "import", "--kind", "organizations", "--as", "nobody@example.org", orgs)
		if err == nil || !strings.Contains(err.Error(), "nobody@example.org") {
			t.Errorf("--as an unknown administrator: %v", err)
		}
	})
}

// Bad uses of import are refused before the database is created.
func TestImportCommandUsage(t *testing.T) {
	file := filepath.Join(importTestdata, "organizations.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", file}, "-kind"},
		{[]string{"import", "--kind", "organizations"}, "a file"},
		{[]string{"import", "--kind", "practices", file}, `-kind "practices"`},
		{[]string{"import", "--kind", "people", "--dry-run=maybe", file}, `invalid boolean value "maybe" for -dry-run`},
		{[]string{"import", "--kind", "people", file, file}, "one file"},
		{[]string{"import", "--kind", "people", "missing.csv"}, "missing.csv"},
		{[]string{"import", "--kind", "people", "-env", "staging", file}, "PIA_ENV"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(tc.args[1:], " "), importTestdata+string(filepath.Separator), ""), func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			_, _, err := runOnce(t, map[string]string{"PIA_DATA_DIR": dataDir}, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
			if _, err := os.Stat(dataDir); err == nil {
				t.Error("a refused import created the database")
			}
		})
	}
}
