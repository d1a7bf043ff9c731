// Package migrations holds PIA's schema history. Each file registers one
// migration, named by its file (YYYYMMDDhhmmss_what.go). Migrations are
// written once and never edited: a change is a new migration. They use bun's
// query builder and frozen copies of the models as they were when written, so
// the same migration runs on SQLite and on PostgreSQL, and later changes to the
// live models cannot change history.
package migrations

import "github.com/uptrace/bun/migrate"

// Migrations is the set the binary carries; storage.Migrate runs it.
var Migrations = migrate.NewMigrations()
