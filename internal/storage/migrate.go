package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/pia-sicilia/pia/migrations"
)

// lockWait bounds how long a starting instance waits for another one that
// holds the migration lock.
const lockWait = 2 * time.Minute

func newMigrator(db *bun.DB) *migrate.Migrator {
	return migrate.NewMigrator(db, migrations.Migrations, migrate.WithMarkAppliedOnSuccess(true))
}

// MigrateUp applies every pending migration under the migrator's lock and
// returns the names applied. Several instances may start at once: the ones
// that do not get the lock wait for it, then find nothing left to do.
func MigrateUp(ctx context.Context, db *bun.DB) ([]string, error) {
	m := newMigrator(db)
	var applied []string
	err := withLock(ctx, db, m, func() error {
		group, err := m.Migrate(ctx)
		if err != nil {
			return err
		}
		for _, mg := range group.Migrations {
			applied = append(applied, mg.String())
		}
		return nil
	})
	return applied, err
}

// MigrateDown rolls back the last group of migrations and returns the names
// rolled back.
func MigrateDown(ctx context.Context, db *bun.DB) ([]string, error) {
	m := newMigrator(db)
	var rolled []string
	err := withLock(ctx, db, m, func() error {
		group, err := m.Rollback(ctx)
		if err != nil {
			return err
		}
		for _, mg := range group.Migrations {
			rolled = append(rolled, mg.String())
		}
		return nil
	})
	return rolled, err
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Applied bool
	Group   int64
}

// Status lists every migration the binary carries, oldest first.
func Status(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	m := newMigrator(db)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: init: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, mg := range ms {
		out = append(out, MigrationStatus{Name: mg.String(), Applied: mg.IsApplied(), Group: mg.GroupID})
	}
	return out, nil
}

// withLock runs fn holding the migration lock. On PostgreSQL a session
// advisory lock (one per schema) comes first, because bun's lock table cannot
// guard its own creation: two instances creating it at once collide. SQLite
// serializes that creation by itself.
func withLock(ctx context.Context, db *bun.DB, m *migrate.Migrator, fn func() error) error {
	if EngineOf(db) == Postgres {
		lctx, cancel := context.WithTimeout(ctx, lockWait)
		defer cancel()
		conn, err := db.Conn(lctx)
		if err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.Close()
		const key = "hashtext('pia_migrations:' || current_schema())"
		if _, err := conn.ExecContext(lctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
			return fmt.Errorf("migrate: waiting for another instance's migrations: %w", err)
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")") }()
	}
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrate: init: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := m.Lock(ctx)
		if err == nil {
			break
		}
		if ViolationOf(err) != UniqueViolation {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("migrate: another instance holds the migration lock (remove the row in bun_migration_locks if it crashed): %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer func() { _ = m.Unlock(context.WithoutCancel(ctx)) }()
	if err := fn(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
