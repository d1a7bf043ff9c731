package coedit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// coreWait bounds how long a test waits for an event that must come; it
// only turns a hang into a failure.
const coreWait = 20 * time.Second

// coreNext receives the next event of a section stream.
func coreNext(t *testing.T, ch <-chan coedit.Event) coedit.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream closed")
		}
		return ev
	case <-time.After(coreWait):
		t.Fatal("no event")
	}
	return coedit.Event{}
}

// coreVersions receives n edits and returns their versions.
func coreVersions(t *testing.T, ch <-chan coedit.Event, n int) []int64 {
	t.Helper()
	var out []int64
	for range n {
		ev := coreNext(t, ch)
		if ev.Err != nil {
			t.Fatalf("stream error after %v: %v", out, ev.Err)
		}
		out = append(out, ev.Edit.Version)
	}
	return out
}

// coreAppend appends s to a section as the member and returns the edit.
func coreAppend(t *testing.T, f *fixture, svc *coedit.Service, id int64, s string) *coedit.Edit {
	t.Helper()
	text, v, err := svc.SectionText(f.as(f.member), id)
	if err != nil {
		t.Fatal(err)
	}
	n := len([]rune(text))
	e, err := svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: v, Op: coreInsert(n, n, s),
		ClientID: "appender", ClientSeq: time.Now().UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func coreSeq(from, to int64) []int64 {
	var out []int64
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func sameVersions(a, b []int64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestSectionEditsReplayThenLive(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("")
		id := secs[0].ID
		for i := range 3 {
			coreAppend(t, f, f.svc, id, fmt.Sprint(i))
		}
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		all, err := f.svc.SectionEdits(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		mid, err := f.svc.SectionEdits(ctx, id, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := coreVersions(t, all, 3); !sameVersions(got, coreSeq(1, 3)) {
			t.Fatalf("replay %v", got)
		}
		// Live edits, written while the replay may still run, come once
		// and in order.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 3; i < 40; i++ {
				if _, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: int64(i),
					Op: coreInsert(i, i, "x"), ClientID: "live", ClientSeq: int64(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		if got := coreVersions(t, all, 37); !sameVersions(got, coreSeq(4, 40)) {
			t.Fatalf("live %v", got)
		}
		if got := coreVersions(t, mid, 38); !sameVersions(got, coreSeq(3, 40)) {
			t.Fatalf("from 2: %v", got)
		}
		wg.Wait()
		// What the stream sent rebuilds the text.
		text := ""
		log, _ := f.svc.Log(f.as(f.admin), id, 0, 0)
		for _, e := range log {
			text, _ = ot.Apply(text, e.Op)
		}
		if got, _ := coreText(t, f, id); got != text {
			t.Fatalf("text %q; log %q", got, text)
		}
		// Ending the context closes the stream.
		cancel()
		for range all {
		}
		for range mid {
		}
	})
}

func TestSectionEditsRefusals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("")
		id := secs[0].ID
		coreAppend(t, f, f.svc, id, "a")
		ctx := f.as(f.member)
		_, err := f.svc.SectionEdits(ctx, id, -1)
		coreWant(t, err, apperr.BadInput, "")
		_, err = f.svc.SectionEdits(ctx, id, 2)
		coreWant(t, err, apperr.BadInput, "VERSION_AHEAD")
		_, err = f.svc.SectionEdits(f.as(f.outside), id, 0)
		coreWant(t, err, apperr.NotFound, "")
		_, err = f.svc.SectionEdits(context.Background(), id, 0)
		coreWant(t, err, apperr.Unauthenticated, "")
		_, err = f.svc.DocumentEvents(ctx, secs[0].DocumentID, map[int64]int64{id: 5})
		coreWant(t, err, apperr.BadInput, "VERSION_AHEAD")
		_, err = f.svc.DocumentEvents(ctx, secs[0].DocumentID, map[int64]int64{424242: 0})
		coreWant(t, err, apperr.BadInput, "")
		_, err = f.svc.DocumentEvents(f.as(f.outside), secs[0].DocumentID, nil)
		coreWant(t, err, apperr.NotFound, "")
	})
}

// coreUntilEnd reads a stream that must end with a RESUBSCRIBE error within
// coreWait: the edits before it come in order from version 1, and nothing
// comes after it. It returns the last version received (0 for none).
func coreUntilEnd(t *testing.T, ch <-chan coedit.Event) int64 {
	t.Helper()
	deadline := time.After(coreWait)
	var last int64
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream closed after version %d without RESUBSCRIBE", last)
			}
			if ev.Err == nil {
				if ev.Edit.Version != last+1 {
					t.Fatalf("version %d after %d", ev.Edit.Version, last)
				}
				last = ev.Edit.Version
				continue
			}
			coreWant(t, ev.Err, apperr.Resubscribe, "")
			if want := fmt.Sprintf("subscribe again from version %d", last); !strings.Contains(ev.Err.Error(), want) {
				t.Fatalf("error %q does not say %q", ev.Err, want)
			}
			select {
			case ev, ok := <-ch:
				if ok {
					t.Fatalf("an event after RESUBSCRIBE: %+v", ev)
				}
			case <-deadline:
				t.Fatal("the stream did not close after RESUBSCRIBE")
			}
			return last
		case <-deadline:
			t.Fatalf("no RESUBSCRIBE: the stream stopped after version %d", last)
		}
	}
}

func TestSlowSubscriberIsToldToResubscribe(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db, func(o *coedit.Options) { o.SubscriberBuffer = 4 })
		d, secs := f.doc("")
		id := secs[0].ID
		ctx, cancel := context.WithCancel(f.as(f.member))
		defer cancel()
		slow, err := f.svc.SectionEdits(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := f.svc.DocumentEvents(ctx, d.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		fast, err := f.svc.SectionEdits(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Nobody reads slow or docs while 12 edits commit: more than the
		// buffer holds. Slow subscribers do not slow the others: fast
		// receives each version as it commits, before the next is sent.
		for i := range 12 {
			text, v := coreText(t, f, id)
			n := len([]rune(text))
			edit, cancelEdit := context.WithTimeout(f.as(f.member), coreWait)
			e, err := f.svc.EditSection(edit, coedit.EditInput{SectionID: id, BaseVersion: v, Op: coreInsert(n, n, fmt.Sprint(i%10)),
				ClientID: "appender", ClientSeq: int64(i)})
			cancelEdit()
			if err != nil {
				t.Fatalf("edit %d: %v", i+1, err)
			}
			ev := coreNext(t, fast)
			if ev.Err != nil || ev.Edit.Version != e.Version {
				t.Fatalf("the fast subscriber got %+v; want version %d", ev, e.Version)
			}
		}
		last := coreUntilEnd(t, slow)
		deadline := time.After(coreWait)
	docStream:
		for {
			select {
			case ev, ok := <-docs:
				if !ok {
					t.Fatal("the document stream closed without RESUBSCRIBE")
				}
				if ev.Err != nil {
					coreWant(t, ev.Err, apperr.Resubscribe, "")
					break docStream
				}
			case <-deadline:
				t.Fatal("no RESUBSCRIBE on the document stream")
			}
		}
		// The fast one goes on.
		e := coreAppend(t, f, f.svc, id, "!")
		if ev := coreNext(t, fast); ev.Err != nil || ev.Edit.Version != e.Version {
			t.Fatalf("the fast subscriber got %+v after the slow one ended; want version %d", ev, e.Version)
		}
		// Resubscribing from the last version applied gets the rest.
		again, err := f.svc.SectionEdits(ctx, id, last)
		if err != nil {
			t.Fatal(err)
		}
		if got := coreVersions(t, again, int(13-last)); !sameVersions(got, coreSeq(last+1, 13)) {
			t.Fatalf("resubscribed from %d: %v", last, got)
		}
	})
}

func TestDocumentEvents(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("", "")
		a, b := secs[0].ID, secs[1].ID
		coreAppend(t, f, f.svc, a, "1")
		coreAppend(t, f, f.svc, a, "2")
		coreAppend(t, f, f.svc, b, "1")
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		// a is replayed after version 1; b is live only.
		ch, err := f.svc.DocumentEvents(ctx, d.ID, map[int64]int64{a: 1})
		if err != nil {
			t.Fatal(err)
		}
		next := func() coedit.DocEvent {
			t.Helper()
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatal("closed")
				}
				if ev.Err != nil {
					t.Fatal(ev.Err)
				}
				return ev
			case <-time.After(coreWait):
				t.Fatal("no event")
			}
			return coedit.DocEvent{}
		}
		desc := func(ev coedit.DocEvent) string {
			if ev.Kind == coedit.DocEdit {
				name := map[int64]string{a: "a", b: "b"}[ev.Edit.SectionID]
				if name == "" {
					name = "new"
				}
				return fmt.Sprintf("%s%d", name, ev.Edit.Version)
			}
			return string(ev.Kind)
		}
		if got := desc(next()); got != "a2" {
			t.Fatalf("replay: %s", got)
		}
		coreAppend(t, f, f.svc, b, "2")
		coreAppend(t, f, f.svc, a, "3")
		if _, err := f.svc.UpdateDocument(f.as(f.member), d.ID, 1, "Rinominato"); err != nil {
			t.Fatal(err)
		}
		added, err := f.svc.AddSection(f.as(f.member), coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: 2,
			SectionInput: coedit.SectionInput{Title: "Nuova"}})
		if err != nil {
			t.Fatal(err)
		}
		coreAppend(t, f, f.svc, added.ID, "n")
		var got []string
		for range 5 {
			got = append(got, desc(next()))
		}
		if want := "[b2 a3 STRUCTURE STRUCTURE new1]"; fmt.Sprint(got) != want {
			t.Fatalf("events %v; want %s", got, want)
		}
	})
}

// TestEditsAcrossInstances runs two services on one PostgreSQL database,
// as two server instances: a subscriber of one sees what the other
// commits, and concurrent edits through both serialize.
func TestEditsAcrossInstances(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		if storage.EngineOf(db) != storage.Postgres {
			t.Skip("instances share commits through PostgreSQL LISTEN/NOTIFY; one SQLite file serves one instance")
		}
		f := newFixture(t, db)
		d, secs := f.doc("start")
		id := secs[0].ID
		other := coedit.NewService(storagetest.Reopen(t, db), coedit.Options{Now: f.clock.Now})
		if err := other.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		onB, err := other.SectionEdits(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		docOnB, err := other.DocumentEvents(ctx, d.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		coreAppend(t, f, f.svc, id, " A")
		if got := coreVersions(t, onB, 1); got[0] != 1 {
			t.Fatalf("B saw %v", got)
		}
		// A structure change on A reaches B's document stream.
		if _, err := f.svc.UpdateDocument(f.as(f.member), d.ID, 1, "Altro"); err != nil {
			t.Fatal(err)
		}
		seen := map[coedit.DocEventKind]bool{}
		for !seen[coedit.DocStructure] {
			select {
			case ev := <-docOnB:
				if ev.Err != nil {
					t.Fatal(ev.Err)
				}
				seen[ev.Kind] = true
			case <-time.After(coreWait):
				t.Fatalf("B's document stream saw %v", seen)
			}
		}
		// Concurrent edits through both instances, each a distinct tag at
		// a random place of the text its writer last read: the instances
		// transform against each other's commits.
		var wg sync.WaitGroup
		var tags []string
		for n, svc := range []*coedit.Service{f.svc, other} {
			for c := range 3 {
				for i := range 20 {
					tags = append(tags, fmt.Sprintf("<%d.%d.%d>", n, c, i))
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(n), uint64(c)))
					ctx := f.as(f.member)
					for i := range 20 {
						text, v, err := svc.SectionText(ctx, id)
						if err != nil {
							t.Error(err)
							return
						}
						places := corePlaces(text)
						op := coreInsert(len([]rune(text)), places[rng.IntN(len(places))], fmt.Sprintf("<%d.%d.%d>", n, c, i))
						if _, err := svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: v, Op: op,
							ClientID: fmt.Sprintf("i%d-c%d", n, c), ClientSeq: int64(i)}); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		want := coreReplay(t, f, id, "start")
		rest := want
		for _, tag := range tags {
			if got := strings.Count(want, tag); got != 1 {
				t.Fatalf("tag %s appears %d times in %q", tag, got, want)
			}
			rest = strings.Replace(rest, tag, "", 1)
		}
		if rest != "start A" {
			t.Fatalf("without the tags the text is %q; want %q", rest, "start A")
		}
		for n, svc := range []*coedit.Service{f.svc, other} {
			text, v, err := svc.SectionText(f.as(f.admin), id)
			if err != nil || text != want || v != 121 {
				t.Fatalf("instance %d: v%d %q %v; want the log's replay %q", n, v, text, err, want)
			}
		}
		if got := coreVersions(t, onB, 120); !sameVersions(got, coreSeq(2, 121)) {
			t.Fatalf("B's stream: %v", got)
		}
	})
}

func TestCloseEndsStreamsAndRefusesEdits(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("abc")
		svc := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ch, err := svc.SectionEdits(f.as(f.member), secs[0].ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := svc.DocumentEvents(f.as(f.member), d.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc.Close()
		svc.Close()
		for range ch {
			t.Fatal("an event after Close")
		}
		for range docs {
			t.Fatal("an event after Close")
		}
		_, err = svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: secs[0].ID, Op: coreOp(3, "d"), ClientID: "c", ClientSeq: 0})
		coreWant(t, err, apperr.Internal, "")
		if text, v := coreText(t, f, secs[0].ID); text != "abc" || v != 0 {
			t.Fatalf("changed: %q v%d", text, v)
		}
	})
}

// watchChanges collects what svc's watchers hear until the test ends.
func watchChanges(t *testing.T, svc *coedit.Service) <-chan coedit.DocChange {
	ch := make(chan coedit.DocChange, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	svc.Watch(ctx, func(c coedit.DocChange) {
		select {
		case ch <- c:
		default:
			t.Error("the test's watcher fell behind")
		}
	})
	return ch
}

// nextChange waits for the next change of kind, skipping others.
func nextChange(t *testing.T, ch <-chan coedit.DocChange, kind coedit.DocEventKind) coedit.DocChange {
	t.Helper()
	deadline := time.After(coreWait)
	for {
		select {
		case c := <-ch:
			if c.Kind == kind {
				return c
			}
		case <-deadline:
			t.Fatalf("no %s change within %s", kind, coreWait)
		}
	}
}

// TestWatchDocuments: a watcher hears edits and document events of every
// document with its territory, without subscribing to any and with no
// access of its own; on PostgreSQL, another instance's too.
func TestWatchDocuments(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("start")
		here := watchChanges(t, f.svc)
		en := f.terr["EN"]
		coreAppend(t, f, f.svc, secs[0].ID, " A")
		if c := nextChange(t, here, coedit.DocEdit); c != (coedit.DocChange{Kind: coedit.DocEdit, DocumentID: d.ID, TerritoryID: en}) {
			t.Errorf("edit: %+v", c)
		}
		if _, err := f.svc.UpdateDocument(f.as(f.member), d.ID, 1, "Altro"); err != nil {
			t.Fatal(err)
		}
		if c := nextChange(t, here, coedit.DocStructure); c != (coedit.DocChange{Kind: coedit.DocStructure, DocumentID: d.ID, TerritoryID: en}) {
			t.Errorf("structure: %+v", c)
		}
		if storage.EngineOf(db) != storage.Postgres {
			return
		}
		other := coedit.NewService(storagetest.Reopen(t, db), coedit.Options{Now: f.clock.Now})
		if err := other.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		there := watchChanges(t, other)
		coreAppend(t, f, f.svc, secs[0].ID, " B")
		if c := nextChange(t, there, coedit.DocEdit); c != (coedit.DocChange{Kind: coedit.DocEdit, DocumentID: d.ID, TerritoryID: en}) {
			t.Errorf("the other instance heard the edit as %+v", c)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, coedit.InReview, "pronta"); err != nil {
			t.Fatal(err)
		}
		if c := nextChange(t, there, coedit.DocStatus); c != (coedit.DocChange{Kind: coedit.DocStatus, DocumentID: d.ID, TerritoryID: en}) {
			t.Errorf("the other instance heard the review as %+v", c)
		}
	})
}
