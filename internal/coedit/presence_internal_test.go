package coedit

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// presenceEnv is a started Service with a document of one section, "Hello
// world", and an administrator to act as.
type presenceEnv struct {
	t     *testing.T
	s     *Service
	clock *testutil.Clock
	ctx   context.Context
	doc   *Document
	sec   *Section
}

func newPresenceEnv(t *testing.T, db *bun.DB) *presenceEnv {
	t.Helper()
	clock := testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	bg := context.Background()
	p := &account.Person{DisplayName: "Ada", Language: "it", CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
	if _, err := db.NewInsert().Model(p).Exec(bg); err != nil {
		t.Fatal(err)
	}
	ctx := access.WithActor(bg, &access.Actor{PersonID: p.ID, SessionID: 1, GlobalRoles: []access.GlobalRole{access.Admin}})
	g, err := network.NewService(db, network.Options{Now: clock.Now}).CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: "EN"})
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(db, Options{Now: clock.Now})
	if err := s.Start(bg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	d, err := s.CreateDocument(ctx, DocumentInput{WorkingGroupID: g.ID, Title: "Prova", Sections: []SectionInput{{Title: "Uno", Body: "Hello world"}}})
	if err != nil {
		t.Fatal(err)
	}
	secs, err := s.SectionsOfDocuments(ctx, []int64{d.ID}, false)
	if err != nil {
		t.Fatal(err)
	}
	return &presenceEnv{t: t, s: s, clock: clock, ctx: ctx, doc: d, sec: secs[d.ID][0]}
}

// edit commits op on the section at base.
func (e *presenceEnv) edit(base int64, op ot.Op, seq int64) *Edit {
	e.t.Helper()
	ed, err := e.s.EditSection(e.ctx, EditInput{SectionID: e.sec.ID, BaseVersion: base, Op: op, ClientID: "editor", ClientSeq: seq})
	if err != nil {
		e.t.Fatal(err)
	}
	return ed
}

// entry is a stored entry of the document, or nil.
func (e *presenceEnv) entry(person int64, client string) *Presence {
	p := e.s.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.docs[e.doc.ID]; d != nil {
		if x := d.entries[presenceKey{doc: e.doc.ID, person: person, client: client}]; x != nil {
			return x.clone()
		}
	}
	return nil
}

// waitFor waits until ok holds of the entry (a failsafe bound, not a
// measure).
func (e *presenceEnv) waitFor(person int64, client, what string, ok func(*Presence) bool) {
	e.t.Helper()
	limit := time.Now().Add(5 * time.Second)
	for {
		x := e.entry(person, client)
		if ok(x) {
			return
		}
		if time.Now().After(limit) {
			e.t.Fatalf("%s: the entry is %+v", what, x)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func presenceAt(v int64, cursor int) func(*Presence) bool {
	return func(x *Presence) bool { return x != nil && x.Version == v && x.Cursor != nil && *x.Cursor == cursor }
}

// An entry that missed edits (a peer's heartbeat made at an older version,
// an edit heard before the heartbeat it follows) is caught up from the log.
func TestPresenceCatchesUpFromTheLog(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newPresenceEnv(t, db)
		e.edit(0, ot.Op{{Insert: "Oh, "}, {Retain: 11}}, 1) // "Oh, Hello world"
		e.edit(1, ot.Op{{Insert: "Ah! "}, {Retain: 15}}, 2) // "Ah! Oh, Hello world"

		// A peer's heartbeat at version 0, cursor 6 ("Hello |world"),
		// arrives after this instance saw version 2.
		payload, _ := json.Marshal(presenceWire{K: "presence", Op: "set", Document: e.doc.ID, Person: 99, Client: "peer",
			Section: e.sec.ID, Version: 0, Cursor: new(6), LastSeen: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Minute), Instance: "elsewhere"})
		e.s.pres.fromPeer(payload)
		e.waitFor(99, "peer", "a peer's late heartbeat", presenceAt(2, 14))

		// An edit heard out of step (version 4 when the entry is at 2)
		// makes the store read versions 3 and 4.
		e.edit(2, ot.Op{{Insert: "1"}, {Retain: 19}}, 3)
		v4 := e.edit(3, ot.Op{{Insert: "2"}, {Retain: 20}}, 4)
		e.waitFor(99, "peer", "two edits in step", presenceAt(4, 16))
		e.s.pres.mu.Lock()
		for _, d := range e.s.pres.docs { // back to version 2, as if 3 and 4 had not been seen
			for k, x := range d.entries {
				if k.client == "peer" {
					x = x.clone()
					x.Version, x.Cursor = 2, new(14)
					d.entries[k] = x
				}
			}
		}
		e.s.pres.mu.Unlock()
		e.s.pres.onEdit(v4)
		e.waitFor(99, "peer", "an edit heard out of step", presenceAt(4, 16))

		// Its own instance's payload, another scope's and a leave.
		own, _ := json.Marshal(presenceWire{K: "presence", Op: "set", Document: e.doc.ID, Person: 98, Client: "own",
			ExpiresAt: e.clock.Now().Add(time.Minute), Instance: e.s.instance})
		e.s.pres.fromPeer(own)
		other, _ := json.Marshal(presenceWire{K: "presence", Op: "set", Document: e.doc.ID, Person: 98, Client: "own",
			ExpiresAt: e.clock.Now().Add(time.Minute), Instance: "elsewhere", Scope: e.s.scope + "-other"})
		e.s.pres.fromPeer(other)
		if x := e.entry(98, "own"); x != nil {
			t.Errorf("a payload not for this instance was stored: %+v", x)
		}
		leave, _ := json.Marshal(presenceWire{K: "presence", Op: "leave", Document: e.doc.ID, Person: 99, Client: "peer", Instance: "elsewhere"})
		e.s.pres.fromPeer(leave)
		if x := e.entry(99, "peer"); x != nil {
			t.Errorf("the peer's leave left %+v", x)
		}
		e.s.pres.fromPeer([]byte(`{"k":"presence","o":`)) // logged, ignored
	})
}

// One person's made-up client ids cannot fill the memory: beyond the cap,
// the client heard from least recently goes.
func TestPresenceCapsClientsPerPerson(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newPresenceEnv(t, db)
		for i := range maxClientsPerPerson + 2 {
			if _, err := e.s.UpdatePresence(e.ctx, PresenceInput{DocumentID: e.doc.ID, ClientID: fmt.Sprint("c", i)}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Millisecond)
		}
		list, err := e.s.PresenceOf(e.ctx, e.doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != maxClientsPerPerson {
			t.Fatalf("%d clients kept, want %d", len(list), maxClientsPerPerson)
		}
		for _, p := range list {
			if p.ClientID == "c0" || p.ClientID == "c1" {
				t.Errorf("the oldest clients were kept: %s", p.ClientID)
			}
		}
		// The janitor stops when nothing is left, and starts again.
		e.clock.Advance(DefaultPresenceTTL)
		limit := time.Now().Add(5 * time.Second)
		for {
			e.s.pres.mu.Lock()
			on, n := e.s.pres.janitorOn, len(e.s.pres.docs)
			e.s.pres.mu.Unlock()
			if !on && n == 0 {
				break
			}
			if time.Now().After(limit) {
				t.Fatalf("the janitor is on %v with %d documents", on, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := e.s.UpdatePresence(e.ctx, PresenceInput{DocumentID: e.doc.ID, ClientID: "again"}); err != nil {
			t.Fatal(err)
		}
		e.s.pres.mu.Lock()
		on := e.s.pres.janitorOn
		e.s.pres.mu.Unlock()
		if !on {
			t.Error("the janitor did not start again")
		}
	})
}
