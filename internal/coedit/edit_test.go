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

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// coreOp builds an operation: a positive int retains, a negative one
// deletes, a string inserts.
func coreOp(parts ...any) ot.Op {
	var op ot.Op
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			if v > 0 {
				op = append(op, ot.Component{Retain: v})
			} else {
				op = append(op, ot.Component{Delete: -v})
			}
		case string:
			op = append(op, ot.Component{Insert: v})
		}
	}
	return op
}

// coreInsert is the operation inserting s at pos of a text of length n.
func coreInsert(n, pos int, s string) ot.Op {
	var parts []any
	if pos > 0 {
		parts = append(parts, pos)
	}
	parts = append(parts, s)
	if n-pos > 0 {
		parts = append(parts, n-pos)
	}
	return coreOp(parts...)
}

// coreText is a section's text and version as a reader sees them.
func coreText(t *testing.T, f *fixture, id int64) (string, int64) {
	t.Helper()
	text, v, err := f.svc.SectionText(f.as(f.admin), id)
	if err != nil {
		t.Fatal(err)
	}
	return text, v
}

// coreReplay applies a section's whole log to initial, checking that the
// versions follow each other, and returns the text.
func coreReplay(t *testing.T, f *fixture, id int64, initial string) string {
	t.Helper()
	log, err := f.svc.Log(f.as(f.admin), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	text := initial
	for i, e := range log {
		if e.Version != int64(i+1) {
			t.Fatalf("log entry %d has version %d", i, e.Version)
		}
		if text, err = ot.Apply(text, e.Op); err != nil {
			t.Fatalf("replay version %d: %v", e.Version, err)
		}
	}
	return text
}

func TestSequentialEdits(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Città")
		id := secs[0].ID
		ctx := f.as(f.member)
		steps := []struct {
			op   ot.Op
			want string
		}{
			{coreOp(5, " di Enna"), "Città di Enna"},
			{coreOp("La ", 13), "La Città di Enna"},
			{coreOp(3, -1, "c", 12), "La città di Enna"},
			{coreOp(16, " 🌋"), "La città di Enna 🌋"},
			{coreOp(18), "La città di Enna 🌋"}, // a no-op still commits
		}
		for i, s := range steps {
			e, err := f.svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: int64(i), Op: s.op, ClientID: "tab-1", ClientSeq: int64(i)})
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if e.Version != int64(i+1) || e.SectionID != id || e.DocumentID != d.ID || e.AuthorID == nil ||
				*e.AuthorID != f.member.PersonID || e.Origin != coedit.OriginEdit || !e.At.Equal(f.clock.Now().UTC().Truncate(1000)) {
				t.Fatalf("step %d: edit %+v", i, e)
			}
			if text, v := coreText(t, f, id); text != s.want || v != int64(i+1) {
				t.Fatalf("step %d: %q v%d; want %q", i, text, v, s.want)
			}
		}
		sec, err := f.svc.Section(ctx, id)
		if err != nil || sec.Version != 5 || sec.Length != 18 {
			t.Fatalf("section %+v %v", sec, err)
		}
		if got := coreReplay(t, f, id, "Città"); got != "La città di Enna 🌋" {
			t.Fatalf("replay %q", got)
		}
		part, err := f.svc.Log(ctx, id, 1, 3)
		if err != nil || len(part) != 2 || part[0].Version != 2 || part[1].Version != 3 {
			t.Fatalf("Log(1, 3) = %v %v", part, err)
		}
		// An edit made on an old version is transformed: "!" typed at the
		// end of version 1 lands at the end now, after " 🌋", committed
		// first at the same place (committed text stays left).
		f.clock.Advance(time.Minute)
		e, err := f.svc.EditSection(f.as(f.coord), coedit.EditInput{SectionID: id, BaseVersion: 1, Op: coreOp(13, "!"), ClientID: "tab-2", ClientSeq: 0})
		if err != nil {
			t.Fatal(err)
		}
		if want := coreOp(18, "!"); e.Version != 6 || !opEqual(e.Op, want) {
			t.Fatalf("transformed edit %+v; want op %v", e, want)
		}
		if text, _ := coreText(t, f, id); text != "La città di Enna 🌋!" {
			t.Fatalf("text %q", text)
		}
		// The member edited first, at 9:00; the coordinator later.
		who, err := f.svc.Contributors(f.as(f.observer), d.ID)
		if err != nil || len(who) != 2 || who[0] != f.member.PersonID || who[1] != f.coord.PersonID {
			t.Fatalf("contributors %v %v", who, err)
		}
	})
}

// corePlaces lists the positions of text where a tag "<...>" may be
// inserted: anywhere but inside another tag.
func corePlaces(text string) []int {
	var places []int
	inside := false
	runes := []rune(text)
	for j, r := range runes {
		if !inside {
			places = append(places, j)
		}
		inside = (inside || r == '<') && r != '>'
	}
	return append(places, len(runes))
}

func opEqual(a, b ot.Op) bool {
	return fmt.Sprint(ot.Normalize(a)) == fmt.Sprint(ot.Normalize(b))
}

func TestConcurrentEditsConverge(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db, func(o *coedit.Options) { o.SnapshotEvery = 97 })
		const initial = "Linee guida per la co-progettazione."
		_, secs := f.doc(initial)
		id := secs[0].ID
		const clients, ops = 20, 50
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(c), 7))
				ctx := f.as(f.member)
				for i := range ops {
					// Each client edits the version it last read; others
					// commit meanwhile, so the server transforms.
					text, v, err := f.svc.SectionText(ctx, id)
					if err != nil {
						errs <- err
						return
					}
					places := corePlaces(text)
					n := len([]rune(text))
					tag := fmt.Sprintf("<%d.%d>", c, i)
					if _, err := f.svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: v,
						Op: coreInsert(n, places[rng.IntN(len(places))], tag), ClientID: fmt.Sprintf("client-%d", c), ClientSeq: int64(i)}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		text, v := coreText(t, f, id)
		if v != clients*ops {
			t.Fatalf("version %d; want %d", v, clients*ops)
		}
		if replay := coreReplay(t, f, id, initial); replay != text {
			t.Fatalf("the cached text differs from the log's replay:\n%s\n%s", text, replay)
		}
		want := len([]rune(initial))
		for c := range clients {
			for i := range ops {
				tag := fmt.Sprintf("<%d.%d>", c, i)
				if strings.Count(text, tag) != 1 {
					t.Fatalf("tag %s appears %d times in %s", tag, strings.Count(text, tag), text)
				}
				want += len(tag)
			}
		}
		sec, _ := f.svc.Section(f.as(f.admin), id)
		if sec.Length != want || len([]rune(text)) != want {
			t.Fatalf("length %d (text %d); want %d", sec.Length, len([]rune(text)), want)
		}
		// A fresh service on the same database (empty cache) reads the same.
		other := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		if err := other.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		got, gv, err := other.SectionText(f.as(f.admin), id)
		if err != nil || got != text || gv != v {
			t.Fatalf("fresh service reads v%d %v", gv, err)
		}
	})
}

func TestResubmissionGetsTheFirstAnswer(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("abc")
		id := secs[0].ID
		ctx := f.as(f.member)
		in := coedit.EditInput{SectionID: id, BaseVersion: 0, Op: coreOp(3, "d"), ClientID: "tab", ClientSeq: 7}
		first, err := f.svc.EditSection(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.svc.EditSection(ctx, in)
		if err != nil || again.Version != first.Version || !opEqual(again.Op, first.Op) {
			t.Fatalf("resubmission = %+v %v", again, err)
		}
		// Someone else edits; the client, having received that edit,
		// transforms its pending operation and resends it on the newer
		// base, as an OT client does after a reconnection.
		other, err := f.svc.EditSection(f.as(f.coord), coedit.EditInput{SectionID: id, BaseVersion: 0, Op: coreOp("X", 3), ClientID: "other", ClientSeq: 0})
		if err != nil {
			t.Fatal(err)
		}
		if other.Version != 2 {
			t.Fatalf("other at %d", other.Version)
		}
		// Against version 1 (its own) the first answer holds.
		again, err = f.svc.EditSection(ctx, in)
		if err != nil || again.Version != 1 {
			t.Fatalf("resubmission after another edit = %+v %v", again, err)
		}
		// Also in a fresh service, whose cache knows no client.
		fresh := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		if err := fresh.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		again, err = fresh.EditSection(ctx, in)
		if err != nil || again.Version != 1 {
			t.Fatalf("resubmission to a fresh service = %+v %v", again, err)
		}
		// The same pair with another operation is refused.
		reused := in
		reused.Op = coreOp(3, "zzz")
		_, err = f.svc.EditSection(ctx, reused)
		coreWant(t, err, apperr.Conflict, "CLIENT_SEQ_REUSED")
		if text, v := coreText(t, f, id); text != "Xabcd" || v != 2 {
			t.Fatalf("text %q v%d", text, v)
		}
		if n := coreCount(t, db, "section_ops"); n != 2 {
			t.Fatalf("%d log rows", n)
		}
		// The same request sent many times at once (several land in one
		// batch) commits once, and every copy gets that answer.
		dup := coedit.EditInput{SectionID: id, BaseVersion: 2, Op: coreOp(5, "!"), ClientID: "burst", ClientSeq: 0}
		var wg sync.WaitGroup
		answers := make([]*coedit.Edit, 16)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e, err := f.svc.EditSection(ctx, dup)
				if err != nil {
					t.Error(err)
				}
				answers[i] = e
			}()
		}
		wg.Wait()
		for _, e := range answers {
			if e == nil || e.Version != 3 {
				t.Fatalf("answer %+v", e)
			}
		}
		if text, v := coreText(t, f, id); text != "Xabcd!" || v != 3 {
			t.Fatalf("text %q v%d", text, v)
		}
	})
}

// A client that resends an operation committed just before a coordinator
// sent the document to review gets its first answer, not NOT_DRAFT: the log
// is checked before the status. A new operation is refused, and the log
// stays as it was.
func TestResubmissionAfterTheDocumentLeftDraft(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("abc")
		id := secs[0].ID
		ctx := f.as(f.member)
		in := coedit.EditInput{SectionID: id, BaseVersion: 0, Op: coreOp(3, "d"), ClientID: "tab", ClientSeq: 4}
		first, err := f.svc.EditSection(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, coedit.InReview, ""); err != nil {
			t.Fatal(err)
		}
		before, err := f.svc.Log(f.as(f.admin), id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		fresh := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		if err := fresh.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		for name, svc := range map[string]*coedit.Service{"same service": f.svc, "fresh service": fresh} {
			again, err := svc.EditSection(ctx, in)
			if err != nil || again.Version != first.Version || !opEqual(again.Op, first.Op) || again.ClientSeq != first.ClientSeq {
				t.Fatalf("%s: resubmission in review = %+v %v; want %+v", name, again, err, first)
			}
		}
		// A new operation, and the old pair with another operation, are
		// refused.
		_, err = f.svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: 1, Op: coreOp(4, "e"), ClientID: "tab", ClientSeq: 5})
		coreWant(t, err, apperr.Conflict, "NOT_DRAFT")
		reused := in
		reused.Op = coreOp(3, "zzz")
		_, err = f.svc.EditSection(ctx, reused)
		coreWant(t, err, apperr.Conflict, "CLIENT_SEQ_REUSED")
		after, err := f.svc.Log(f.as(f.admin), id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) || len(after) != 1 || !opEqual(after[0].Op, before[0].Op) {
			t.Fatalf("log changed: %+v, was %+v", after, before)
		}
		if text, v := coreText(t, f, id); text != "abcd" || v != 1 {
			t.Fatalf("text %q v%d", text, v)
		}
	})
}

func TestEditRefusalsChangeNothing(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db, func(o *coedit.Options) { o.MaxInsertRunes = 5; o.MaxSectionRunes = 11 })
		d, secs := f.doc("abcdef")
		id := secs[0].ID
		// Bring the section to version 1 so that versions are checked
		// against a log.
		if _, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, Op: coreOp(6, "g"), ClientID: "c", ClientSeq: 0}); err != nil {
			t.Fatal(err)
		}
		good := coedit.EditInput{SectionID: id, BaseVersion: 1, Op: coreOp(7, "h"), ClientID: "c", ClientSeq: 1}
		with := func(fn func(*coedit.EditInput)) coedit.EditInput { in := good; fn(&in); return in }
		cases := []struct {
			name   string
			actor  *access.Actor
			in     coedit.EditInput
			kind   apperr.Kind
			reason string
		}{
			{"anonymous", nil, good, apperr.Unauthenticated, ""},
			{"observer", f.observer, good, apperr.Forbidden, ""},
			{"policy maker", f.policy, good, apperr.Forbidden, ""},
			{"outsider", f.outside, good, apperr.NotFound, ""},
			{"unknown section", f.member, with(func(in *coedit.EditInput) { in.SectionID = 999999 }), apperr.NotFound, ""},
			{"empty client id", f.member, with(func(in *coedit.EditInput) { in.ClientID = "" }), apperr.BadInput, ""},
			{"long client id", f.member, with(func(in *coedit.EditInput) { in.ClientID = strings.Repeat("c", 65) }), apperr.BadInput, ""},
			{"negative seq", f.member, with(func(in *coedit.EditInput) { in.ClientSeq = -1 }), apperr.BadInput, ""},
			{"negative base", f.member, with(func(in *coedit.EditInput) { in.BaseVersion = -1 }), apperr.BadInput, ""},
			{"zero retain", f.member, with(func(in *coedit.EditInput) { in.Op = ot.Op{{Retain: 0}, {Retain: 7}} }), apperr.BadInput, "INVALID_OPERATION"},
			{"bad UTF-8", f.member, with(func(in *coedit.EditInput) { in.Op = coreOp(7, "\xff") }), apperr.BadInput, "INVALID_UTF8"},
			{"NUL", f.member, with(func(in *coedit.EditInput) { in.Op = coreOp(7, "a\x00") }), apperr.BadInput, "INVALID_OPERATION"},
			{"too large", f.member, with(func(in *coedit.EditInput) { in.Op = coreOp(7, "àèìòùà") }), apperr.BadInput, "OPERATION_TOO_LARGE"},
			// A valid operation within MaxInsertRunes whose result, 12
			// characters, is over MaxSectionRunes.
			{"section too large", f.member, with(func(in *coedit.EditInput) { in.Op = coreOp(3, "12345", 4) }), apperr.BadInput, "SECTION_TOO_LARGE"},
			{"base too short", f.member, with(func(in *coedit.EditInput) { in.Op = coreOp(6, "h") }), apperr.BadInput, "BASE_LENGTH_MISMATCH"},
			{"base too long", f.member, with(func(in *coedit.EditInput) { in.Op = coreOp(8, "h") }), apperr.BadInput, "BASE_LENGTH_MISMATCH"},
			{"base of another version", f.member, with(func(in *coedit.EditInput) { in.BaseVersion = 0 }), apperr.BadInput, "BASE_LENGTH_MISMATCH"},
			{"version ahead", f.member, with(func(in *coedit.EditInput) { in.BaseVersion = 2 }), apperr.BadInput, "VERSION_AHEAD"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				if c.actor != nil {
					ctx = f.as(c.actor)
				}
				_, err := f.svc.EditSection(ctx, c.in)
				coreWant(t, err, c.kind, c.reason)
				if text, v := coreText(t, f, id); text != "abcdefg" || v != 1 {
					t.Fatalf("changed: %q v%d", text, v)
				}
			})
		}
		// Exactly MaxSectionRunes is allowed; one more character is not.
		_, err := f.svc.EditSection(f.as(f.member), with(func(in *coedit.EditInput) { in.Op = coreOp(7, "1234"); in.ClientSeq = 2 }))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: 2, Op: coreOp(11, "x"), ClientID: "c", ClientSeq: 3})
		coreWant(t, err, apperr.BadInput, "SECTION_TOO_LARGE")
		// Out of DRAFT nothing is applied.
		coreSetStatus(t, f, d.ID, coedit.InReview)
		_, err = f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: 2, Op: coreOp(-1, 10), ClientID: "c", ClientSeq: 4})
		coreWant(t, err, apperr.Conflict, "NOT_DRAFT")
		if text, v := coreText(t, f, id); text != "abcdefg1234" || v != 2 {
			t.Fatalf("changed: %q v%d", text, v)
		}
		if n := coreCount(t, db, "section_ops"); n != 2 {
			t.Fatalf("%d log rows", n)
		}
	})
}

// A refusal answers its own request and nothing else: good and bad
// operations sent at the same moment from many clients share the
// committer's batches, and every good one commits all the same, on one
// section and across two.
func TestRefusalsDoNotFailTheBatch(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		const initial = "Testo iniziale della sezione."
		_, secs := f.doc(initial, initial, initial)
		for _, c := range []struct {
			name string
			ids  []int64
		}{
			{"one section", []int64{secs[0].ID}},
			{"two sections", []int64{secs[1].ID, secs[2].ID}},
		} {
			t.Run(c.name, func(t *testing.T) {
				const rounds, requests = 3, 40 // half of them good
				type request struct {
					in     coedit.EditInput
					tag    string // a good one's insert
					reason string // a bad one's expected refusal
					edit   *coedit.Edit
					err    error
				}
				var good []*request
				for r := range rounds {
					// Every request of the round is made on the sections
					// as they are now, and all are sent at once.
					texts, versions := map[int64]string{}, map[int64]int64{}
					for _, id := range c.ids {
						texts[id], versions[id] = coreText(t, f, id)
					}
					var round []*request
					for g := range requests {
						id := c.ids[g%len(c.ids)]
						text, v := texts[id], versions[id]
						n := len([]rune(text))
						rng := rand.New(rand.NewPCG(uint64(r), uint64(g)))
						q := &request{in: coedit.EditInput{SectionID: id, BaseVersion: v, ClientSeq: int64(r)}}
						switch (g / len(c.ids)) % 4 {
						case 0, 2:
							places := corePlaces(text)
							q.tag = fmt.Sprintf("<%d.%d>", r, g)
							q.in.ClientID = fmt.Sprintf("good-%d", g)
							q.in.Op = coreInsert(n, places[rng.IntN(len(places))], q.tag)
							good = append(good, q)
						case 1: // made on a longer text than the base version's
							q.in.ClientID = fmt.Sprintf("bad-%d", g)
							q.in.Op = coreInsert(n+1, rng.IntN(n+2), "BAD")
							q.reason = "BASE_LENGTH_MISMATCH"
						case 3: // made on a version the section has not reached
							q.in.ClientID = fmt.Sprintf("bad-%d", g)
							q.in.BaseVersion = v + 1000
							q.in.Op = coreInsert(n, rng.IntN(n+1), "BAD")
							q.reason = "VERSION_AHEAD"
						}
						round = append(round, q)
					}
					start := make(chan struct{})
					var wg sync.WaitGroup
					for _, q := range round {
						wg.Add(1)
						go func() {
							defer wg.Done()
							ctx := f.as(f.member)
							<-start
							q.edit, q.err = f.svc.EditSection(ctx, q.in)
						}()
					}
					close(start)
					wg.Wait()
					for _, q := range round {
						if q.reason == "" {
							if q.err != nil {
								t.Fatalf("round %d: the good edit %s was refused: %v", r, q.in.ClientID, q.err)
							}
							if q.edit == nil || q.edit.SectionID != q.in.SectionID || q.edit.ClientID != q.in.ClientID || q.edit.ClientSeq != q.in.ClientSeq {
								t.Fatalf("round %d: %s answered %+v", r, q.in.ClientID, q.edit)
							}
							continue
						}
						if q.edit != nil {
							t.Fatalf("round %d: the bad edit %s committed as version %d", r, q.in.ClientID, q.edit.Version)
						}
						coreWant(t, q.err, apperr.BadInput, q.reason)
					}
				}
				// The log holds exactly the good edits, and the text is its
				// replay with every good tag once.
				for _, id := range c.ids {
					want := map[string]bool{}
					for _, q := range good {
						if q.in.SectionID == id {
							want[fmt.Sprintf("%s/%d", q.in.ClientID, q.in.ClientSeq)] = true
						}
					}
					log, err := f.svc.Log(f.as(f.admin), id, 0, 0)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range log {
						key := fmt.Sprintf("%s/%d", e.ClientID, e.ClientSeq)
						if !want[key] {
							t.Fatalf("section %d: the log holds %s (version %d), which is not a good edit or is there twice", id, key, e.Version)
						}
						delete(want, key)
					}
					if len(want) > 0 {
						t.Fatalf("section %d: good edits missing from the log: %v", id, want)
					}
					text, v := coreText(t, f, id)
					if v != int64(len(log)) {
						t.Fatalf("section %d: version %d with %d log rows", id, v, len(log))
					}
					if replay := coreReplay(t, f, id, initial); replay != text {
						t.Fatalf("section %d: text %q; the log's replay %q", id, text, replay)
					}
					if strings.Contains(text, "BAD") {
						t.Fatalf("section %d: a refused insert is in the text: %q", id, text)
					}
					for _, q := range good {
						if got := strings.Count(text, q.tag); (q.in.SectionID == id) != (got == 1) || got > 1 {
							t.Fatalf("section %d: tag %s appears %d times in %q", id, q.tag, got, text)
						}
					}
				}
			})
		}
	})
}

func TestSnapshotsAndAFreshCache(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db, func(o *coedit.Options) { o.SnapshotEvery = 5 })
		_, secs := f.doc("0")
		id := secs[0].ID
		text := "0"
		for i := range 23 {
			n := len([]rune(text))
			e, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: int64(i),
				Op: coreInsert(n, n/2, fmt.Sprint(i%10)), ClientID: "c", ClientSeq: int64(i)})
			if err != nil {
				t.Fatal(err)
			}
			if text, err = ot.Apply(text, e.Op); err != nil {
				t.Fatal(err)
			}
		}
		var rows []coedit.SectionSnapshot
		if err := db.NewSelect().Model(&rows).Where("section_id = ?", id).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Version != 20 {
			t.Fatalf("snapshots %+v; want one at 20", rows)
		}
		row := rows[0]
		log, _ := f.svc.Log(f.as(f.admin), id, 0, 20)
		at20 := "0"
		for _, e := range log {
			at20, _ = ot.Apply(at20, e.Op)
		}
		if row.Text != at20 {
			t.Fatalf("snapshot %q; want %q", row.Text, at20)
		}
		fresh := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		if err := fresh.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		got, v, err := fresh.SectionText(f.as(f.member), id)
		if err != nil || got != text || v != 23 {
			t.Fatalf("fresh service: %q v%d %v; want %q", got, v, err, text)
		}
		// And it goes on editing from there.
		e, err := fresh.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: 23, Op: coreInsert(24, 0, ">"), ClientID: "c", ClientSeq: 23})
		if err != nil || e.Version != 24 {
			t.Fatalf("edit on the fresh service: %+v %v", e, err)
		}
		// The first service catches up from the log.
		if got, v := coreText(t, f, id); got != ">"+text || v != 24 {
			t.Fatalf("first service: %q v%d", got, v)
		}
	})
}

// BenchmarkEditSmallSection and BenchmarkEditLargeSection measure one edit
// (a one-character insert in the middle, committed) on a section of 100
// characters and of 1 MB: the cost should not grow with the size. Run with
// PIA_TEST_POSTGRES_URL set for the PostgreSQL numbers.
func BenchmarkEditSmallSection(b *testing.B) { benchmarkEdit(b, 100) }

func BenchmarkEditLargeSection(b *testing.B) { benchmarkEdit(b, 1<<20) }

func benchmarkEdit(b *testing.B, size int) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			ctx := context.Background()
			email := "bench@example.org"
			p := &account.Person{DisplayName: "Bench", Email: &email, Language: "it", CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if _, err := db.NewInsert().Model(p).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			ctx = access.WithActor(ctx, &access.Actor{PersonID: p.ID, SessionID: 1, GlobalRoles: []access.GlobalRole{access.Admin}})
			g, err := network.NewService(db, network.Options{}).CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: "EN"})
			if err != nil {
				b.Fatal(err)
			}
			svc := coedit.NewService(db, coedit.Options{})
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer svc.Close()
			body := strings.Repeat("abcdefghij", size/10)
			d, err := svc.CreateDocument(ctx, coedit.DocumentInput{WorkingGroupID: g.ID, Title: "Bench",
				Sections: []coedit.SectionInput{{Title: "S", Body: body}}})
			if err != nil {
				b.Fatal(err)
			}
			secs, err := svc.SectionsOfDocuments(ctx, []int64{d.ID}, false)
			if err != nil {
				b.Fatal(err)
			}
			id := secs[d.ID][0].ID
			n := len(body)
			// Warm the cache: the first edit loads the text.
			if _, err := svc.EditSection(ctx, coedit.EditInput{SectionID: id, Op: coreInsert(n, n/2, "x"), ClientID: "bench", ClientSeq: 0}); err != nil {
				b.Fatal(err)
			}
			n++
			b.ResetTimer()
			for i := range b.N {
				if _, err := svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: int64(i + 1),
					Op: coreInsert(n, n/2, "x"), ClientID: "bench", ClientSeq: int64(i + 1)}); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

func TestFailedCommitLeavesNothing(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("abc")
		id := secs[0].ID
		ctx := f.as(f.member)
		if _, err := f.svc.EditSection(ctx, coedit.EditInput{SectionID: id, Op: coreOp(3, "d"), ClientID: "c", ClientSeq: 0}); err != nil {
			t.Fatal(err)
		}
		// A row behind the service's back takes version 2: the next commit
		// breaks the log's key and fails as a whole.
		bg := context.Background()
		if _, err := db.NewInsert().Model(&coedit.LoggedOp{SectionID: id, Version: 2, Op: coreOp(4, "?"), ClientID: "rogue",
			Origin: coedit.OriginEdit, CreatedAt: f.clock.Now()}).Exec(bg); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: 1, Op: coreOp(4, "e"), ClientID: "c", ClientSeq: 1})
		coreWant(t, err, apperr.Internal, "")
		if _, err := db.NewDelete().Model((*coedit.LoggedOp)(nil)).Where("client_id = ?", "rogue").Exec(bg); err != nil {
			t.Fatal(err)
		}
		if text, v := coreText(t, f, id); text != "abcd" || v != 1 {
			t.Fatalf("after the failed commit: %q v%d", text, v)
		}
		// The client sends it again and it commits once.
		e, err := f.svc.EditSection(ctx, coedit.EditInput{SectionID: id, BaseVersion: 1, Op: coreOp(4, "e"), ClientID: "c", ClientSeq: 1})
		if err != nil || e.Version != 2 {
			t.Fatalf("resent: %+v %v", e, err)
		}
		if text, _ := coreText(t, f, id); text != "abcde" || coreReplay(t, f, id, "abc") != "abcde" {
			t.Fatalf("text %q", text)
		}
	})
}
