// Package storage opens PIA's database (SQLite embedded, or PostgreSQL), runs
// its migrations and turns database errors into application errors. Feature
// packages take the *bun.DB it returns; nothing else talks to database/sql.
package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// Engine names the database behind a *bun.DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// SQLiteFile is the name of the embedded database inside the data directory.
const SQLiteFile = "pia.db"

// Options says which database to open.
type Options struct {
	// URL is a postgres:// or postgresql:// URL. Empty means the embedded
	// SQLite database in DataDir.
	URL string
	// DataDir holds the SQLite file; created when missing.
	DataDir string
	// SQLitePath overrides DataDir/pia.db (tests use a file of their own).
	SQLitePath string
	// MaxOpenConns bounds the connection pool; 0 means DefaultMaxOpenConns.
	// gqlgen resolves root fields concurrently, so without a bound one query
	// of many aliased fields could open hundreds of connections and exhaust
	// PostgreSQL's max_connections for every instance.
	MaxOpenConns int
}

// DefaultMaxOpenConns is the pool size when Options.MaxOpenConns is 0.
const DefaultMaxOpenConns = 20

// Open connects to the database and checks that it answers. It does not migrate.
func Open(ctx context.Context, opts Options) (*bun.DB, error) {
	var db *bun.DB
	switch {
	case opts.URL == "":
		path := opts.SQLitePath
		if path == "" {
			dir := opts.DataDir
			if dir == "" {
				dir = "data"
			}
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("storage: create data directory: %w", err)
			}
			path = filepath.Join(dir, SQLiteFile)
		}
		sqldb, err := sql.Open("sqlite", sqliteDSN(path))
		if err != nil {
			return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
		}
		db = bun.NewDB(sqldb, sqlitedialect.New())
	default:
		u, err := url.Parse(opts.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return nil, fmt.Errorf("storage: PIA_DATABASE_URL must look like postgres://user@host:5432/dbname (got %q)", redact(opts.URL))
		}
		if u.Query().Get("sslmode") == "" {
			// pgdriver's default is to try TLS; a local server usually has none.
			q := u.Query()
			q.Set("sslmode", "disable")
			u.RawQuery = q.Encode()
		}
		connector := pgdriver.NewConnector(pgdriver.WithDSN(u.String()), pgdriver.WithTimeout(10*time.Second))
		db = bun.NewDB(sql.OpenDB(connector), pgdialect.New())
	}
	conns := opts.MaxOpenConns
	if conns <= 0 {
		conns = DefaultMaxOpenConns
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("storage: the %s database does not answer: %w", EngineOf(db), err)
	}
	return db, nil
}

// sqliteDSN turns on what PIA relies on in every connection: WAL so readers do
// not block the writer, foreign keys, a busy timeout instead of immediate
// SQLITE_BUSY, and BEGIN IMMEDIATE so a write transaction takes its lock up
// front instead of failing when it upgrades.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

// EngineOf tells which engine db runs on.
func EngineOf(db bun.IDB) Engine {
	if db.Dialect().Name() == dialect.PG {
		return Postgres
	}
	return SQLite
}

// Ping reports whether the database answers; used by /readyz.
func Ping(ctx context.Context, db *bun.DB) error {
	if err := db.PingContext(ctx); err != nil {
		return apperr.Wrap("storage.Ping", err)
	}
	return nil
}

// redact hides a password in a database URL so it can be logged or shown.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.Index(raw, "@"); i >= 0 {
			return "***" + raw[i:]
		}
		return raw
	}
	return u.Redacted()
}

// Redact hides the password of a database URL.
func Redact(raw string) string { return redact(raw) }
