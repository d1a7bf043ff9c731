// Package storagetest gives each test a database of its own, migrated, on
// SQLite always and on PostgreSQL when one is reachable, so that every storage
// test runs on both engines.
//
// PostgreSQL is found at PIA_TEST_POSTGRES_URL, or at the local default
// postgres://postgres@127.0.0.1:5432/test. When it is unreachable the
// PostgreSQL half is skipped, except under CI (CI=true), where that is a
// failure: CI must prove both engines.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/storage"
)

// DefaultPostgresURL is tried when PIA_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engines lists the engines tests run on, in order.
var Engines = []storage.Engine{storage.SQLite, storage.Postgres}

// Run runs fn once per engine as a subtest named after the engine, each with
// a fresh migrated database.
func Run(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	for _, engine := range Engines {
		t.Run(string(engine), func(t *testing.T) {
			fn(t, Open(t, engine))
		})
	}
}

// Open returns a fresh, migrated database on engine, removed after the test.
func Open(t testing.TB, engine storage.Engine) *bun.DB {
	t.Helper()
	db := OpenEmpty(t, engine)
	if _, err := storage.MigrateUp(context.Background(), db); err != nil {
		t.Fatalf("migrate up on %s: %v", engine, err)
	}
	return db
}

// OpenEmpty is Open without the migrations.
func OpenEmpty(t testing.TB, engine storage.Engine) *bun.DB {
	t.Helper()
	var opts storage.Options
	switch engine {
	case storage.SQLite:
		opts.SQLitePath = filepath.Join(t.TempDir(), "test.db")
	case storage.Postgres:
		opts.URL = NewPostgresSchema(t)
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	return open(t, opts)
}

func open(t testing.TB, opts storage.Options) *bun.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	dbOptions.Store(db, opts)
	t.Cleanup(func() {
		dbOptions.Delete(db)
		_ = db.Close()
	})
	return db
}

// dbOptions remembers how each test database was opened, for Reopen.
var dbOptions sync.Map

// Reopen opens a second, independent connection pool to the database of db
// (which Open or OpenEmpty returned), as a second server instance would.
func Reopen(t testing.TB, db *bun.DB) *bun.DB {
	t.Helper()
	opts, ok := dbOptions.Load(db)
	if !ok {
		t.Fatal("storagetest.Reopen: db was not opened by storagetest")
	}
	return open(t, opts.(storage.Options))
}

// NewPostgresSchema creates an empty schema of the test's own on the test
// server and returns a database URL whose search_path points at it, so tests
// and packages run in parallel without seeing each other. The schema is
// dropped after the test. It skips (or, under CI, fails) when PostgreSQL is
// unreachable.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	admin := postgresAdmin(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "pia_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, _ := url.Parse(PostgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL is the server the PostgreSQL half of the suite uses.
func PostgresURL() string {
	if u := os.Getenv("PIA_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	adminOnce sync.Once
	adminDB   *bun.DB
	adminErr  error
)

func postgresAdmin(t testing.TB) *bun.DB {
	t.Helper()
	adminOnce.Do(func() {
		raw := PostgresURL()
		// storage.Open, as piad opens it: the same URL checks and defaults.
		db, err := storage.Open(context.Background(), storage.Options{URL: raw})
		if err != nil {
			adminErr = fmt.Errorf("PostgreSQL at %s: %w", storage.Redact(raw), err)
			return
		}
		adminDB = db
	})
	if adminErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("under CI the PostgreSQL suite may not skip: %v", adminErr)
		}
		t.Skipf("skipping the PostgreSQL half: %v (set PIA_TEST_POSTGRES_URL)", adminErr)
	}
	return adminDB
}
