package coedit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// notifyWait bounds how long the test waits for another instance's commit;
// it only turns a hang into a failure.
const notifyWait = 20 * time.Second

// TestNotifyCarriesEditsToAnotherInstance proves that LISTEN/NOTIFY, and
// nothing else, brings instance A's commits to B's subscribers: B's
// periodic resync is set to an hour, far beyond the test's deadline.
func TestNotifyCarriesEditsToAnotherInstance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		if storage.EngineOf(db) != storage.Postgres {
			t.Skip("instances hear each other's commits through PostgreSQL LISTEN/NOTIFY; one SQLite file serves one instance")
		}
		bg := context.Background()
		now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
		p := &account.Person{DisplayName: "Ada", Language: "it", CreatedAt: now, UpdatedAt: now}
		if _, err := db.NewInsert().Model(p).Exec(bg); err != nil {
			t.Fatal(err)
		}
		ctx := access.WithActor(bg, &access.Actor{PersonID: p.ID, SessionID: 1, GlobalRoles: []access.GlobalRole{access.Admin}})
		g, err := network.NewService(db, network.Options{}).CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: "EN"})
		if err != nil {
			t.Fatal(err)
		}
		a := NewService(db, Options{})
		a.resyncEvery = time.Hour
		if err := a.Start(bg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		b := NewService(storagetest.Reopen(t, db), Options{})
		b.resyncEvery = time.Hour // only a notification can bring A's commits in time
		if err := b.Start(bg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)

		d, err := a.CreateDocument(ctx, DocumentInput{WorkingGroupID: g.ID, Title: "Prova", Sections: []SectionInput{{Title: "Uno", Body: "abc"}}})
		if err != nil {
			t.Fatal(err)
		}
		secs, err := a.SectionsOfDocuments(ctx, []int64{d.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		id := secs[d.ID][0].ID

		sub, cancel := context.WithTimeout(ctx, notifyWait)
		defer cancel()
		edits, err := b.SectionEdits(sub, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := b.DocumentEvents(sub, d.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 3
		for v := int64(1); v <= 3; v++ {
			op := ot.Op{{Retain: n}, {Insert: fmt.Sprint(v)}}
			e, err := a.EditSection(ctx, EditInput{SectionID: id, BaseVersion: v - 1, Op: op, ClientID: "on-a", ClientSeq: v})
			if err != nil {
				t.Fatal(err)
			}
			n++
			select {
			case ev, ok := <-edits:
				if !ok || ev.Err != nil {
					t.Fatalf("B's section stream ended (%v) before version %d", ev.Err, v)
				}
				if ev.Edit.Version != v || !slices.Equal(ev.Edit.Op, e.Op) || ev.Edit.ClientID != "on-a" {
					t.Fatalf("B's section stream got %+v; want version %d %v", ev.Edit, v, e.Op)
				}
			case <-sub.Done():
				t.Fatalf("B's subscriber did not get version %d, committed on A, before the deadline: no notification carried it", v)
			}
			for got := false; !got; {
				select {
				case ev, ok := <-docs:
					if !ok || ev.Err != nil {
						t.Fatalf("B's document stream ended (%v) before version %d", ev.Err, v)
					}
					if ev.Kind != DocEdit {
						continue // A's earlier document events may come too
					}
					if ev.Edit.SectionID != id || ev.Edit.Version != v {
						t.Fatalf("B's document stream got %+v; want version %d", ev.Edit, v)
					}
					got = true
				case <-sub.Done():
					t.Fatalf("B's document stream did not get version %d, committed on A, before the deadline", v)
				}
			}
		}
	})
}

// TestBroadcastReachesNotes: another feature's notification, sent with
// Broadcast by instance A, reaches B's handler for its kind over
// PostgreSQL, and never A's own.
func TestBroadcastReachesNotes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		if storage.EngineOf(db) != storage.Postgres {
			t.Skip("instances hear each other through PostgreSQL LISTEN/NOTIFY")
		}
		bg := context.Background()
		heard := func() (chan string, map[string]func([]byte)) {
			ch := make(chan string, 1024)
			return ch, map[string]func([]byte){"meeting": func(p []byte) {
				select {
				case ch <- string(p):
				default:
				}
			}}
		}
		aHeard, aNotes := heard()
		bHeard, bNotes := heard()
		a := NewService(db, Options{Notes: aNotes})
		if err := a.Start(bg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		b := NewService(storagetest.Reopen(t, db), Options{Notes: bNotes})
		if err := b.Start(bg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		// A listener starts listening a moment after Start: a note is sent
		// again until it is heard.
		until := func(from *Service, note string, ch chan string) string {
			deadline := time.Now().Add(notifyWait)
			for time.Now().Before(deadline) {
				from.Broadcast(bg, []byte(note))
				select {
				case p := <-ch:
					return p
				case <-time.After(100 * time.Millisecond):
				}
			}
			t.Fatalf("%s was never heard", note)
			return ""
		}
		if p := until(a, `{"k":"meeting","m":7}`, bHeard); !strings.Contains(p, `"m":7`) || !strings.Contains(p, `"k":"meeting"`) {
			t.Errorf("B heard %s", p)
		}
		// A's own notes went out before B's on the channel: had A not
		// ignored them, it would hear one of them first.
		if p := until(b, `{"k":"meeting","m":8}`, aHeard); !strings.Contains(p, `"m":8`) {
			t.Errorf("A heard %s first, want B's note 8", p)
		}
	})
}
