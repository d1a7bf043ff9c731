package storage_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func tableExists(t *testing.T, db *bun.DB, name string) bool {
	t.Helper()
	var n int
	var err error
	if storage.EngineOf(db) == storage.Postgres {
		err = db.NewRaw("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", name).Scan(context.Background(), &n)
	} else {
		err = db.NewRaw("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(context.Background(), &n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestMigrationsUpDownUp(t *testing.T) {
	for _, engine := range storagetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenEmpty(t, engine)

			applied, err := storage.MigrateUp(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 {
				t.Fatal("nothing applied on an empty database")
			}
			if !tableExists(t, db, "territories") || !tableExists(t, db, "themes") {
				t.Fatal("reference tables missing after up")
			}
			// Up again is a no-op.
			again, err := storage.MigrateUp(ctx, db)
			if err != nil || len(again) != 0 {
				t.Fatalf("second up applied %v, err %v", again, err)
			}

			rolled, err := storage.MigrateDown(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(rolled) != len(applied) {
				t.Fatalf("down rolled back %v, want the group %v", rolled, applied)
			}
			if tableExists(t, db, "territories") || tableExists(t, db, "themes") {
				t.Fatal("reference tables still there after down")
			}
			st, err := storage.Status(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range st {
				if m.Applied {
					t.Fatalf("%s still applied after down", m.Name)
				}
			}

			if _, err := storage.MigrateUp(ctx, db); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.NewSelect().Table("territories").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 9 {
				t.Fatalf("territories after up-down-up: %d (%v)", n, err)
			}
			st, err = storage.Status(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range st {
				if !m.Applied {
					t.Fatalf("%s not applied after up", m.Name)
				}
			}
		})
	}
}

type parent struct {
	bun.BaseModel `bun:"table:errmap_parents"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Name          string `bun:"name,notnull,unique"`
}

type child struct {
	bun.BaseModel `bun:"table:errmap_children"`
	ID            int64 `bun:"id,pk,autoincrement"`
	ParentID      int64 `bun:"parent_id,notnull"`
}

func TestMapErrorOnBothEngines(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		if _, err := db.NewCreateTable().Model((*parent)(nil)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.NewCreateTable().Model((*child)(nil)).
			ForeignKey(`("parent_id") REFERENCES "errmap_parents" ("id")`).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.NewInsert().Model(&parent{Name: "Arci Siracusa"}).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		_, err := db.NewInsert().Model(&parent{Name: "Arci Siracusa"}).Exec(ctx)
		if got := apperr.KindOf(storage.MapError("test", "organization", err)); got != apperr.Conflict {
			t.Errorf("unique violation -> %s, want CONFLICT (%v)", got, err)
		}

		_, err = db.NewInsert().Model(&child{ParentID: 999}).Exec(ctx)
		if got := apperr.KindOf(storage.MapError("test", "membership", err)); got != apperr.BadInput {
			t.Errorf("foreign key violation -> %s, want BAD_USER_INPUT (%v)", got, err)
		}

		_, err = db.NewRaw("INSERT INTO errmap_parents (name) VALUES (NULL)").Exec(ctx)
		if got := apperr.KindOf(storage.MapError("test", "organization", err)); got != apperr.BadInput {
			t.Errorf("not-null violation -> %s, want BAD_USER_INPUT (%v)", got, err)
		}

		var p parent
		err = db.NewSelect().Model(&p).Where("id = ?", 12345).Scan(ctx)
		mapped := storage.MapError("test", "organization", err)
		if apperr.KindOf(mapped) != apperr.NotFound {
			t.Errorf("no rows -> %s, want NOT_FOUND", apperr.KindOf(mapped))
		}
		if _, msg, _ := apperr.Public(mapped); msg != "organization not found" {
			t.Errorf("message %q", msg)
		}

		_, err = db.NewRaw("SELECT * FROM no_such_table").Exec(ctx)
		mapped = storage.MapError("test", "organization", err)
		if kind, msg, _ := apperr.Public(mapped); kind != apperr.Internal || msg != apperr.InternalMessage {
			t.Errorf("syntax error -> %s %q, want a bare INTERNAL", kind, msg)
		}

		// Nothing was written by the refused statements.
		n, err := db.NewSelect().Model((*parent)(nil)).Count(ctx)
		if err != nil || n != 1 {
			t.Errorf("parents = %d (%v), want 1", n, err)
		}
		if storage.MapError("test", "x", nil) != nil {
			t.Error("MapError(nil) must be nil")
		}
		if got := apperr.KindOf(storage.MapError("test", "x", sql.ErrNoRows)); got != apperr.NotFound {
			t.Errorf("sql.ErrNoRows -> %s", got)
		}
	})
}

func TestStatementCounter(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		c := storage.CountStatements(db)
		for i := 0; i < 3; i++ {
			if _, err := db.NewSelect().Table("themes").ColumnExpr("count(*)").Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if c.Count() != 3 {
			t.Fatalf("counted %d statements, want 3", c.Count())
		}
		c.Reset()
		if c.Count() != 0 {
			t.Fatal("reset did not reset")
		}
	})
}

func TestOpenRejectsABadURL(t *testing.T) {
	_, err := storage.Open(context.Background(), storage.Options{URL: "mysql://root:secret@localhost/pia"})
	if err == nil {
		t.Fatal("a mysql URL was accepted")
	}
	if got := err.Error(); !strings.Contains(got, "postgres://") || strings.Contains(got, "secret") {
		t.Fatalf("error %q should show the expected form and hide the password", got)
	}
}

// Several instances starting at once on one database: each waits for the
// migration lock, one applies, and all end with the same schema.
func TestConcurrentMigrateUp(t *testing.T) {
	for _, engine := range storagetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			first := storagetest.OpenEmpty(t, engine)
			dbs := []*bun.DB{first}
			for i := 0; i < 3; i++ {
				dbs = append(dbs, storagetest.Reopen(t, first))
			}
			var wg sync.WaitGroup
			errs := make([]error, len(dbs))
			applied := make([][]string, len(dbs))
			for i, db := range dbs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					applied[i], errs[i] = storage.MigrateUp(ctx, db)
				}()
			}
			wg.Wait()
			total := 0
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
				total += len(applied[i])
			}
			st, err := storage.Status(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			if total != len(st) {
				t.Fatalf("%d migrations applied in all, want each of the %d once", total, len(st))
			}
			var n int
			if err := first.NewSelect().Table("territories").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 9 {
				t.Fatalf("territories = %d (%v)", n, err)
			}
		})
	}
}
