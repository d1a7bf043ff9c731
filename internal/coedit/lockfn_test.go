package coedit_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// lockfnHold opens a transaction that stands for another instance: it runs
// write (which takes row locks the committer needs) and returns the
// transaction and its backend's pid.
func lockfnHold(t *testing.T, db *bun.DB, write func(tx bun.Tx) error) (bun.Tx, int) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	var pid int
	if err := tx.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	if err := write(tx); err != nil {
		t.Fatal(err)
	}
	return tx, pid
}

// lockfnWaitBlocked returns once some backend waits for a lock pid holds.
func lockfnWaitBlocked(t *testing.T, db *bun.DB, pid int) {
	t.Helper()
	for {
		var n int
		if err := db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))", pid).
			Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCommitterReadsHeadsAfterLocks: on PostgreSQL the committer takes its
// row locks, then reads the heads in a statement of its own. An edit that
// waits for the locks of another instance's transaction must see what that
// transaction committed: a status change (the edit is refused) or a newer
// version (the edit is transformed through it). SQLite transactions are
// serial, so there is nothing to wait for there.
func TestCommitterReadsHeadsAfterLocks(t *testing.T) {
	ctx := context.Background()
	t.Run("status", func(t *testing.T) {
		db := storagetest.Open(t, storage.Postgres)
		f := newFixture(t, db)
		_, secs := f.doc("Ciao")
		sec := secs[0]
		tx, pid := lockfnHold(t, db, func(tx bun.Tx) error {
			_, err := tx.NewRaw("UPDATE documents SET status = ? WHERE id = ?", coedit.InReview, sec.DocumentID).Exec(ctx)
			return err
		})
		done := make(chan error, 1)
		go func() {
			_, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: sec.ID, BaseVersion: sec.Version,
				Op: ot.Op{{Insert: "X"}, {Retain: 4}}, ClientID: "lockfn-a", ClientSeq: 1})
			done <- err
		}()
		lockfnWaitBlocked(t, db, pid)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !apperr.Is(err, apperr.Conflict) || apperr.ReasonOf(err) != "NOT_DRAFT" {
			t.Fatalf("edit after the document left DRAFT: %v, want CONFLICT NOT_DRAFT", err)
		}
		text, v, err := f.svc.SectionText(f.as(f.member), sec.ID)
		if err != nil || text != "Ciao" || v != sec.Version {
			t.Fatalf("section after the refusal: %q v%d (%v), want %q v%d", text, v, err, "Ciao", sec.Version)
		}
	})
	t.Run("version", func(t *testing.T) {
		db := storagetest.Open(t, storage.Postgres)
		f := newFixture(t, db)
		_, secs := f.doc("Ciao")
		sec := secs[0]
		tx, pid := lockfnHold(t, db, func(tx bun.Tx) error {
			// Another instance's commit: a log row and the new head.
			row := &coedit.LoggedOp{SectionID: sec.ID, Version: sec.Version + 1, Op: ot.Op{{Retain: 4}, {Insert: "!"}},
				ClientID: "lockfn-other", ClientSeq: 1, AuthorID: &f.coord.PersonID, Origin: coedit.OriginEdit,
				CreatedAt: f.clock.Now()}
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return err
			}
			_, err := tx.NewRaw("UPDATE sections SET version = ?, length = 5 WHERE id = ?", sec.Version+1, sec.ID).Exec(ctx)
			return err
		})
		done := make(chan error, 1)
		var e *coedit.Edit
		go func() {
			var err error
			e, err = f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: sec.ID, BaseVersion: sec.Version,
				Op: ot.Op{{Insert: "X"}, {Retain: 4}}, ClientID: "lockfn-b", ClientSeq: 1})
			done <- err
		}()
		lockfnWaitBlocked(t, db, pid)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("edit behind another instance's commit: %v", err)
		}
		if e.Version != sec.Version+2 {
			t.Fatalf("edit committed at v%d, want v%d (after the other instance's)", e.Version, sec.Version+2)
		}
		text, v, err := f.svc.SectionText(f.as(f.member), sec.ID)
		if err != nil || text != "XCiao!" || v != sec.Version+2 {
			t.Fatalf("section: %q v%d (%v), want %q v%d", text, v, err, "XCiao!", sec.Version+2)
		}
	})
}
