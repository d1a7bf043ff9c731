package coedit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// presenceWait bounds how long a test waits for a list it expects; it is a
// failsafe, not a measure.
const presenceWait = 5 * time.Second

// presenceNames describes lists by actor name, for readable comparisons.
func (f *fixture) presenceNames() map[int64]string {
	return map[int64]string{f.admin.PersonID: "admin", f.policy.PersonID: "policy", f.coord.PersonID: "coord",
		f.member.PersonID: "member", f.observer.PersonID: "observer", f.outside.PersonID: "outside"}
}

// presenceLines describes a list: one line per client, in its order.
func (f *fixture) presenceLines(list []*coedit.Presence) []string {
	names := f.presenceNames()
	out := []string{}
	for _, p := range list {
		line := fmt.Sprintf("%s/%s", names[p.PersonID], p.ClientID)
		if p.SectionID != 0 {
			line += fmt.Sprintf(" v%d", p.Version)
		}
		if p.Cursor != nil {
			line += fmt.Sprintf(" cursor %d", *p.Cursor)
		}
		if p.Selection != nil {
			line += fmt.Sprintf(" selection %d-%d", p.Selection.Start, p.Selection.End)
		}
		out = append(out, line)
	}
	return out
}

// presenceUntil reads lists from ch until one is described by want, and
// returns how many lists it read.
func (f *fixture) presenceUntil(ch <-chan []*coedit.Presence, what string, want ...string) int {
	f.t.Helper()
	if want == nil {
		want = []string{}
	}
	timeout := time.After(presenceWait)
	var last []string
	for n := 1; ; n++ {
		select {
		case list, ok := <-ch:
			if !ok {
				f.t.Fatalf("%s: the watch ended", what)
			}
			if last = f.presenceLines(list); slices.Equal(last, want) {
				return n
			}
		case <-timeout:
			f.t.Fatalf("%s: the watcher's last list was %q, want %q", what, last, want)
		}
	}
}

// presenceNow checks PresenceOf(docID) as a against want.
func (f *fixture) presenceNow(a *access.Actor, docID int64, what string, want ...string) {
	f.t.Helper()
	list, err := f.svc.PresenceOf(f.as(a), docID)
	if err != nil {
		f.t.Fatalf("%s: PresenceOf: %v", what, err)
	}
	if want == nil {
		want = []string{}
	}
	if got := f.presenceLines(list); !slices.Equal(got, want) {
		f.t.Errorf("%s: PresenceOf = %q, want %q", what, got, want)
	}
}

// presenceSet records a heartbeat and fails on an error.
func (f *fixture) presenceSet(a *access.Actor, in coedit.PresenceInput) *coedit.Presence {
	f.t.Helper()
	p, err := f.svc.UpdatePresence(f.as(a), in)
	if err != nil {
		f.t.Fatalf("UpdatePresence(%+v): %v", in, err)
	}
	return p
}

func intp(v int) *int { return &v }

func TestPresenceJoinMoveLeave(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Buongiorno a tutti", "Seconda parte")
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		ch, err := f.svc.WatchPresence(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.presenceUntil(ch, "at once, nobody")

		// Join: a member in a section with a cursor and a selection.
		p := f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "tab-1", SectionID: secs[0].ID,
			Cursor: intp(3), Selection: &ot.Range{Start: 2, End: 5}})
		if p.PersonID != f.member.PersonID || p.DocumentID != d.ID || p.SectionID != secs[0].ID || p.Version != 0 ||
			!p.ExpiresAt.Equal(f.clock.Now().Add(coedit.DefaultPresenceTTL)) || !p.LastSeen.Equal(f.clock.Now()) {
			t.Errorf("UpdatePresence returned %+v", p)
		}
		f.presenceUntil(ch, "join", "member/tab-1 v0 cursor 3 selection 2-5")
		// A policy maker may be present (ReadDocument), without a section.
		f.presenceSet(f.policy, coedit.PresenceInput{DocumentID: d.ID, ClientID: "laptop"})
		// Another client of the member, in the other section.
		f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "phone", SectionID: secs[1].ID, Cursor: intp(0)})
		want := []string{"policy/laptop", "member/phone v0 cursor 0", "member/tab-1 v0 cursor 3 selection 2-5"}
		if f.policy.PersonID > f.member.PersonID {
			want = []string{"member/phone v0 cursor 0", "member/tab-1 v0 cursor 3 selection 2-5", "policy/laptop"}
		}
		f.presenceUntil(ch, "two more", want...)
		f.presenceNow(f.coord, d.ID, "two more", want...)

		// Move: the member's tab goes to the other section.
		f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "tab-1", SectionID: secs[1].ID, Cursor: intp(7)})
		want = slices.Clone(want)
		want[slices.Index(want, "member/tab-1 v0 cursor 3 selection 2-5")] = "member/tab-1 v0 cursor 7"
		f.presenceUntil(ch, "move", want...)

		// Someone else leaving with the member's client id leaves nothing.
		if err := f.svc.LeaveDocument(f.as(f.coord), d.ID, "tab-1"); err != nil {
			t.Fatal(err)
		}
		f.presenceNow(f.observer, d.ID, "another's leave", want...)

		// Leave: at once, and twice is fine.
		for range 2 {
			if err := f.svc.LeaveDocument(f.as(f.member), d.ID, "tab-1"); err != nil {
				t.Fatal(err)
			}
		}
		want = slices.DeleteFunc(want, func(s string) bool { return strings.HasPrefix(s, "member/tab-1") })
		f.presenceUntil(ch, "leave", want...)
		f.presenceNow(f.observer, d.ID, "leave", want...)

		// The watch ends with its context.
		cancel()
		for range ch {
		}
	})
}

func TestPresenceExpires(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Testo")
		ctx, cancel := context.WithCancel(f.as(f.coord))
		defer cancel()
		ch, err := f.svc.WatchPresence(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "a", SectionID: secs[0].ID, Cursor: intp(1)})
		f.presenceSet(f.observer, coedit.PresenceInput{DocumentID: d.ID, ClientID: "b"})
		both := []string{"member/a v0 cursor 1", "observer/b"}
		f.presenceUntil(ch, "both joined", both...)

		// Just before the TTL the member beats again; the observer does not.
		f.clock.Advance(coedit.DefaultPresenceTTL - time.Second)
		f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "a", SectionID: secs[0].ID, Cursor: intp(2)})
		f.presenceUntil(ch, "heartbeat", "member/a v0 cursor 2", "observer/b")
		f.clock.Advance(time.Second)
		f.presenceNow(f.coord, d.ID, "the observer expired", "member/a v0 cursor 2")
		f.presenceUntil(ch, "the observer expired", "member/a v0 cursor 2")

		// Without a heartbeat the member goes too.
		f.clock.Advance(coedit.DefaultPresenceTTL)
		f.presenceUntil(ch, "the member expired")
		f.presenceNow(f.coord, d.ID, "the member expired")

		// Coming back after expiring is a join.
		f.presenceSet(f.observer, coedit.PresenceInput{DocumentID: d.ID, ClientID: "b"})
		f.presenceUntil(ch, "back", "observer/b")
	})
}

// The server moves stored cursors and selections through each edit of
// their section, and a heartbeat made at an older version through the
// edits after it.
func TestPresenceMovesWithEdits(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Hello world", "Altro")
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		ch, err := f.svc.WatchPresence(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		// "Hello |world|" (cursor 6, selection 6-11) and one in the other
		// section.
		f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "m", SectionID: secs[0].ID,
			Cursor: intp(6), Selection: &ot.Range{Start: 6, End: 11}})
		f.presenceSet(f.observer, coedit.PresenceInput{DocumentID: d.ID, ClientID: "o", SectionID: secs[1].ID, Cursor: intp(2)})
		f.presenceUntil(ch, "joined", "member/m v0 cursor 6 selection 6-11", "observer/o v0 cursor 2")

		// The coordinator writes "Oh, " before them.
		e, err := f.svc.EditSection(f.as(f.coord), coedit.EditInput{SectionID: secs[0].ID, BaseVersion: 0,
			Op: ot.Op{{Insert: "Oh, "}, {Retain: 11}}, ClientID: "c", ClientSeq: 1})
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != 1 {
			t.Fatalf("edit at version %d", e.Version)
		}
		moved := []string{"member/m v1 cursor 10 selection 10-15", "observer/o v0 cursor 2"}
		f.presenceUntil(ch, "after the edit", moved...)
		f.presenceNow(f.coord, d.ID, "after the edit", moved...)

		// Deleting "world" collapses the selection onto its start.
		if _, err := f.svc.EditSection(f.as(f.coord), coedit.EditInput{SectionID: secs[0].ID, BaseVersion: 1,
			Op: ot.Op{{Retain: 10}, {Delete: 5}}, ClientID: "c", ClientSeq: 2}); err != nil {
			t.Fatal(err)
		}
		f.presenceUntil(ch, "after the delete", "member/m v2 cursor 10 selection 10-10", "observer/o v0 cursor 2")

		// A heartbeat made at version 0 ("Hello world", cursor 5 after
		// "Hello") is moved to version 2 ("Oh, Hello ", cursor 9).
		p := f.presenceSet(f.observer, coedit.PresenceInput{DocumentID: d.ID, ClientID: "late", SectionID: secs[0].ID,
			Version: 0, Cursor: intp(5), Selection: &ot.Range{Start: 0, End: 11}})
		if p.Version != 2 || *p.Cursor != 9 || *p.Selection != (ot.Range{Start: 4, End: 10}) {
			t.Errorf("the late heartbeat was stored as v%d cursor %d selection %+v", p.Version, *p.Cursor, *p.Selection)
		}
	})
}

// A refused heartbeat gets a clear error and changes nothing.
func TestPresenceRefusals(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Dodici lettere", "Da togliere")
		other, otherSecs := f.doc("Altro documento")
		if _, err := f.svc.RemoveSection(f.as(f.coord), secs[1].ID, d.StructureVersion); err != nil {
			t.Fatal(err)
		}
		before := f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "m", SectionID: secs[0].ID, Cursor: intp(4)})
		state := []string{"member/m v0 cursor 4"}
		long := strings.Repeat("x", coedit.MaxClientIDLen+1)
		in := func(change func(*coedit.PresenceInput)) coedit.PresenceInput {
			x := coedit.PresenceInput{DocumentID: d.ID, ClientID: "m", SectionID: secs[0].ID, Cursor: intp(1)}
			change(&x)
			return x
		}
		for _, c := range []struct {
			what  string
			actor *access.Actor
			in    coedit.PresenceInput
			kind  apperr.Kind
		}{
			{"another document's section", f.member, in(func(x *coedit.PresenceInput) { x.SectionID = otherSecs[0].ID }), apperr.BadInput},
			{"a removed section", f.member, in(func(x *coedit.PresenceInput) { x.SectionID = secs[1].ID }), apperr.BadInput},
			{"no such section", f.member, in(func(x *coedit.PresenceInput) { x.SectionID = 999999 }), apperr.BadInput},
			{"a cursor past the end", f.member, in(func(x *coedit.PresenceInput) { x.Cursor = intp(15) }), apperr.BadInput},
			{"a negative cursor", f.member, in(func(x *coedit.PresenceInput) { x.Cursor = intp(-1) }), apperr.BadInput},
			{"a reversed selection", f.member, in(func(x *coedit.PresenceInput) { x.Selection = &ot.Range{Start: 5, End: 2} }), apperr.BadInput},
			{"a selection past the end", f.member, in(func(x *coedit.PresenceInput) { x.Selection = &ot.Range{Start: 5, End: 15} }), apperr.BadInput},
			{"a version ahead", f.member, in(func(x *coedit.PresenceInput) { x.Version = 1 }), apperr.BadInput},
			{"a cursor without a section", f.member, in(func(x *coedit.PresenceInput) { x.SectionID = 0 }), apperr.BadInput},
			{"an empty client id", f.member, in(func(x *coedit.PresenceInput) { x.ClientID = "" }), apperr.BadInput},
			{"a long client id", f.member, in(func(x *coedit.PresenceInput) { x.ClientID = long }), apperr.BadInput},
			{"a client id with a line break", f.member, in(func(x *coedit.PresenceInput) { x.ClientID = "m\nx" }), apperr.BadInput},
			{"a client id with an escape", f.member, in(func(x *coedit.PresenceInput) { x.ClientID = "m\x1b[2J" }), apperr.BadInput},
			{"a client id with a DEL", f.member, in(func(x *coedit.PresenceInput) { x.ClientID = "m\x7f" }), apperr.BadInput},
			{"a client id of invalid UTF-8", f.member, in(func(x *coedit.PresenceInput) { x.ClientID = "m\xff" }), apperr.BadInput},
			{"another territory's coordinator", f.outside, in(func(x *coedit.PresenceInput) {}), apperr.NotFound},
			{"no such document", f.member, in(func(x *coedit.PresenceInput) { x.DocumentID = 999999 }), apperr.NotFound},
			{"anonymous", nil, in(func(x *coedit.PresenceInput) {}), apperr.Unauthenticated},
		} {
			ctx := context.Background()
			if c.actor != nil {
				ctx = f.as(c.actor)
			}
			_, err := f.svc.UpdatePresence(ctx, c.in)
			if !apperr.Is(err, c.kind) {
				t.Errorf("%s: got %v, want %s", c.what, err, c.kind)
			}
			if c.what == "a version ahead" && apperr.ReasonOf(err) != "VERSION_AHEAD" {
				t.Errorf("%s: reason %q", c.what, apperr.ReasonOf(err))
			}
			f.presenceNow(f.coord, d.ID, c.what, state...)
		}
		// Fourteen code points: a cursor at the very end is fine.
		if _, err := f.svc.UpdatePresence(f.as(f.member), in(func(x *coedit.PresenceInput) { x.Cursor = intp(14) })); err != nil {
			t.Errorf("a cursor at the end: %v", err)
		}
		f.presenceNow(f.coord, d.ID, "a cursor at the end", "member/m v0 cursor 14")
		if before.Cursor == nil || *before.Cursor != 4 {
			t.Errorf("the returned presence changed: %+v", before)
		}

		// Reading and watching follow ReadDocument.
		if _, err := f.svc.PresenceOf(f.as(f.outside), d.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("PresenceOf by an outsider: %v", err)
		}
		if _, err := f.svc.WatchPresence(f.as(f.outside), d.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("WatchPresence by an outsider: %v", err)
		}
		if _, err := f.svc.PresenceOf(context.Background(), d.ID); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("PresenceOf anonymous: %v", err)
		}
		if err := f.svc.LeaveDocument(f.as(f.member), d.ID, ""); !apperr.Is(err, apperr.BadInput) {
			t.Errorf("LeaveDocument without a client id: %v", err)
		}
		if err := f.svc.LeaveDocument(f.as(f.member), d.ID, "m\x00"); !apperr.Is(err, apperr.BadInput) {
			t.Errorf("LeaveDocument with a control character in the client id: %v", err)
		}
		if err := f.svc.LeaveDocument(f.as(f.outside), d.ID, "m"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("LeaveDocument by an outsider: %v", err)
		}
		if err := f.svc.LeaveDocument(f.as(f.member), 999999, "m"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("LeaveDocument of no document: %v", err)
		}
		f.presenceNow(f.coord, d.ID, "refused leaves", "member/m v0 cursor 14")
		// One may withdraw one's own presence after losing access.
		gone := &access.Actor{PersonID: f.member.PersonID, SessionID: 1, Territories: map[int64]access.TerritoryRole{}}
		if err := f.svc.LeaveDocument(f.as(gone), d.ID, "m"); err != nil {
			t.Errorf("withdrawing one's own presence without access: %v", err)
		}
		f.presenceNow(f.coord, d.ID, "withdrawn")
		list, err := f.svc.PresenceOf(f.as(f.policy), other.ID)
		if err != nil || len(list) != 0 {
			t.Errorf("the other document: %v, %v", list, err)
		}
	})
}

// A watcher that does not read holds up nobody, and gets the latest list
// when it reads.
func TestPresenceSlowWatcher(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Un testo abbastanza lungo per cento cursori: " + strings.Repeat("x", 100))
		ctx, cancel := context.WithCancel(f.as(f.coord))
		defer cancel()
		slow, err := f.svc.WatchPresence(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		fast, err := f.svc.WatchPresence(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.presenceUntil(fast, "at once")
		for i := range 100 {
			f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "m", SectionID: secs[0].ID, Cursor: intp(i)})
		}
		f.presenceUntil(fast, "the fast watcher", "member/m v0 cursor 99")
		// The slow one has its first list waiting, then the latest.
		if n := f.presenceUntil(slow, "the slow watcher", "member/m v0 cursor 99"); n > 3 {
			t.Errorf("the slow watcher read %d lists to reach the latest", n)
		}
	})
}

// On PostgreSQL, presence travels between instances: a heartbeat, an
// edit's move and a leave on one are seen by a watcher on the other.
func TestPresenceAcrossInstances(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		if db.Dialect().Name() != dialect.PG {
			t.Skip("one SQLite database has one instance")
		}
		f := newFixture(t, db)
		d, secs := f.doc("Hello world")
		peer := coedit.NewService(storagetest.Reopen(t, db), coedit.Options{Now: f.clock.Now, People: people{db, f.roles}})
		if err := peer.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(peer.Close)
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		ch, err := peer.WatchPresence(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.presenceUntil(ch, "at once")
		// The watcher views the document, as an editor does: it follows
		// its events too.
		events, err := peer.DocumentEvents(ctx, d.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for range events {
			}
		}()

		f.presenceSet(f.member, coedit.PresenceInput{DocumentID: d.ID, ClientID: "m", SectionID: secs[0].ID, Cursor: intp(6)})
		f.presenceUntil(ch, "a heartbeat on the other instance", "member/m v0 cursor 6")
		if _, err := f.svc.EditSection(f.as(f.coord), coedit.EditInput{SectionID: secs[0].ID, BaseVersion: 0,
			Op: ot.Op{{Insert: "Oh, "}, {Retain: 11}}, ClientID: "c", ClientSeq: 1}); err != nil {
			t.Fatal(err)
		}
		f.presenceUntil(ch, "an edit on the other instance", "member/m v1 cursor 10")
		if err := f.svc.LeaveDocument(f.as(f.member), d.ID, "m"); err != nil {
			t.Fatal(err)
		}
		f.presenceUntil(ch, "a leave on the other instance")
	})
}
