package coedit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// reviewFillLog commits n random operations (inserts and deletes) to a
// section straight into the log, as another instance would, and returns
// them with the text they end on.
func reviewFillLog(t *testing.T, f *fixture, id int64, n int, seed uint64) ([]ot.Op, string) {
	t.Helper()
	ctx := context.Background()
	text, v := coreText(t, f, id)
	rng := rand.New(rand.NewPCG(seed, 1))
	ops := make([]ot.Op, 0, n)
	rows := make([]*coedit.LoggedOp, 0, n)
	at := f.clock.Now().UTC().Truncate(time.Microsecond)
	for i := range n {
		l := len([]rune(text))
		var op ot.Op
		if l > 20 && rng.IntN(3) == 0 {
			pos := rng.IntN(l - 2)
			op = coreOp(pos, -2, l-pos-2)
			if pos == 0 {
				op = coreOp(-2, l-2)
			}
		} else {
			op = coreInsert(l, rng.IntN(l+1), fmt.Sprintf("<%d>", i))
		}
		var err error
		if text, err = ot.Apply(text, op); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
		rows = append(rows, &coedit.LoggedOp{SectionID: id, Version: v + int64(i) + 1, Op: op, ClientID: "other",
			ClientSeq: v + int64(i), Origin: coedit.OriginEdit, CreatedAt: at})
	}
	for len(rows) > 0 {
		k := min(len(rows), 500)
		chunk := rows[:k]
		if _, err := f.db.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		rows = rows[k:]
	}
	if _, err := f.db.NewUpdate().Table("sections").Set("version = ?", v+int64(n)).Set("length = ?", len([]rune(text))).
		Where("id = ?", id).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return ops, text
}

// reviewExpect is what op, made on the text the ops start from, does to
// the text they end on: op transformed through each of them, as the server
// transforms an incoming operation.
func reviewExpect(t *testing.T, op ot.Op, ops []ot.Op, text string) string {
	t.Helper()
	for _, c := range ops {
		var err error
		if _, op, err = ot.Transform(c, op); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ot.Apply(text, op)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOldBaseIsTransformedOutsideTheCommitter: an edit made on version 0
// of a section with a long log is transformed through the whole log and
// applied right, and so is its resubmission answered, without the
// committer reading the log (it holds the row locks of every batch); a
// base too far behind is refused and changes nothing.
func TestOldBaseIsTransformedOutsideTheCommitter(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("La commissione si riunisce ogni mese.", "Altro")
		id := secs[0].ID
		n := 2500
		ops, text := reviewFillLog(t, f, id, n, 7)
		coreAppend(t, f, f.svc, secs[1].ID, "!") // the committer is warm
		op := coreOp(3, -11, "Il gruppo", 23)    // made on version 0
		want := reviewExpect(t, op, ops, text)
		in := coedit.EditInput{SectionID: id, BaseVersion: 0, Op: op, ClientID: "late", ClientSeq: 1}
		e, err := f.svc.EditSection(f.as(f.member), in)
		if err != nil {
			t.Fatal(err)
		}
		if got, v := coreText(t, f, id); got != want || v != int64(n)+1 || e.Version != v {
			t.Fatalf("got %q at %d (edit at %d), want %q at %d", got, v, e.Version, want, n+1)
		}
		if !strings.Contains(want, "Il gruppo") {
			t.Fatalf("the test's operation vanished: %q", want)
		}
		// A resubmission from version 0 gets the first answer.
		again, err := f.svc.EditSection(f.as(f.member), in)
		if err != nil || again.Version != e.Version || fmt.Sprint(again.Op) != fmt.Sprint(e.Op) {
			t.Fatalf("resubmission: %+v, %v; first %+v", again, err, e)
		}
		// The same key with another operation is refused.
		other := in
		other.Op = coreOp(38, "?")
		_, err = f.svc.EditSection(f.as(f.member), other)
		coreWant(t, err, apperr.Conflict, "CLIENT_SEQ_REUSED")
		if got, v := coreText(t, f, id); got != want || v != int64(n)+1 {
			t.Fatalf("after resubmissions: %q at %d", got, v)
		}
		if r := coedit.ReviewCommitterLogRows(f.svc); r != 0 {
			t.Fatalf("the committer read %d operations from the log", r)
		}
		if got := coreReplay(t, f, id, "La commissione si riunisce ogni mese."); got != want {
			t.Fatalf("the log replays to %q, want %q", got, want)
		}
	})
}

// TestBaseTooOldIsRefused: a base version further behind than the server
// transforms through is BAD_USER_INPUT VERSION_TOO_OLD and changes nothing.
func TestBaseTooOldIsRefused(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		coedit.ReviewSetMaxBehind(f.svc, 100)
		_, secs := f.doc("Testo di partenza")
		id := secs[0].ID
		_, text := reviewFillLog(t, f, id, 150, 3)
		_, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: 10,
			Op: coreOp(17, "!"), ClientID: "late", ClientSeq: 1})
		coreWant(t, err, apperr.BadInput, "VERSION_TOO_OLD")
		if !strings.Contains(err.Error(), "reload") {
			t.Fatalf("the message should say to reload: %v", err)
		}
		if got, v := coreText(t, f, id); got != text || v != 150 {
			t.Fatalf("got %q at %d", got, v)
		}
		// Within the bound it goes through.
		e, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, BaseVersion: 60,
			Op: coreOp(len([]rune(coreLogText(t, f, id, 60))), "!"), ClientID: "late", ClientSeq: 2})
		if err != nil || e.Version != 151 {
			t.Fatalf("edit within the bound: %+v %v", e, err)
		}
	})
}

// coreLogText is a section's text at version v, from its log.
func coreLogText(t *testing.T, f *fixture, id, v int64) string {
	t.Helper()
	log, err := f.svc.Log(f.as(f.admin), id, 0, v)
	if err != nil {
		t.Fatal(err)
	}
	text := "Testo di partenza"
	for _, e := range log {
		if text, err = ot.Apply(text, e.Op); err != nil {
			t.Fatal(err)
		}
	}
	return text
}

// TestClientKeyIsTheAuthors: a (clientId, clientSeq) someone else used is
// CONFLICT CLIENT_SEQ_REUSED, which tells nothing of their operation: one
// cannot take another's answer, nor is one's own operation answered with
// another's.
func TestClientKeyIsTheAuthors(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("Ciao")
		id := secs[0].ID
		mine := coedit.EditInput{SectionID: id, BaseVersion: 0, Op: coreOp(4, " segreto"), ClientID: "mario-1", ClientSeq: 1}
		first, err := f.svc.EditSection(f.as(f.member), mine)
		if err != nil {
			t.Fatal(err)
		}
		// The coordinator resends it, as if it were hers.
		_, err = f.svc.EditSection(f.as(f.coord), mine)
		coreWant(t, err, apperr.Conflict, "CLIENT_SEQ_REUSED")
		if strings.Contains(err.Error(), "segreto") {
			t.Fatalf("the refusal tells the other's operation: %v", err)
		}
		// The author's own resubmission still gets the first answer.
		again, err := f.svc.EditSection(f.as(f.member), mine)
		if err != nil || again.Version != first.Version {
			t.Fatalf("the author's resubmission: %+v %v", again, err)
		}
		// The coordinator takes the member's next key first; the member's
		// operation with that key is refused, not answered with hers.
		next := coedit.EditInput{SectionID: id, BaseVersion: 1, Op: coreOp(12, "!"), ClientID: "mario-1", ClientSeq: 2}
		if _, err := f.svc.EditSection(f.as(f.coord), next); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.EditSection(f.as(f.member), next)
		if err == nil {
			t.Fatalf("the member got the coordinator's edit as theirs: %+v", got)
		}
		coreWant(t, err, apperr.Conflict, "CLIENT_SEQ_REUSED")
		if text, v := coreText(t, f, id); text != "Ciao segreto!" || v != 2 {
			t.Fatalf("got %q at %d", text, v)
		}
		// With a fresh client id the member's operation goes through.
		next.ClientID = "mario-2"
		if e, err := f.svc.EditSection(f.as(f.member), next); err != nil || e.Version != 3 {
			t.Fatalf("fresh client id: %+v %v", e, err)
		}
	})
}

// TestRestoreClientIDsAreTheServers: a participant may not use a client id
// starting with "restore:", so nobody can take a restore's key first.
func TestRestoreClientIDsAreTheServers(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("Ciao")
		id := secs[0].ID
		for _, cid := range []string{"restore:1", "restore:", "\x01bad", ""} {
			_, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, Op: coreOp(4, "!"), ClientID: cid, ClientSeq: 0})
			coreWant(t, err, apperr.BadInput, "")
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Field != "clientId" {
				t.Fatalf("%q: %v, want field clientId", cid, err)
			}
		}
		if text, v := coreText(t, f, id); text != "Ciao" || v != 0 {
			t.Fatalf("got %q at %d", text, v)
		}
		// "Restore:" is another prefix: ids are case-sensitive.
		if _, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: id, Op: coreOp(4, "!"), ClientID: "Restore:x"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHubCapsGapFilling: a hub that believes a followed section is far
// behind does not read the whole gap at once: it publishes the latest
// version and the streams fill the rest a page at a time.
func TestHubCapsGapFilling(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Ciao")
		id := secs[0].ID
		n := coedit.ReviewReplayPage + 100
		_, text := reviewFillLog(t, f, id, n, 5)
		coedit.ReviewHubSetLast(f.svc, id, 0)
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		ch, err := f.svc.SectionEdits(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		// An edit here: the hub is n versions behind before it.
		coreAppend(t, f, f.svc, id, "!")
		got := coreVersions(t, ch, n+1)
		for i, v := range got {
			if v != int64(i)+1 {
				t.Fatalf("versions %v...", got[:i+1])
			}
		}
		if r := coedit.ReviewHubMaxRead(f.svc); r > int64(coedit.ReviewReplayPage) {
			t.Fatalf("the hub read %d rows at once", r)
		}
		// So does the listener, told of a commit of another instance.
		coreAppend(t, f, f.svc, id, "!")
		if got := coreVersions(t, ch, 1); got[0] != int64(n)+2 {
			t.Fatalf("then %v", got)
		}
		coedit.ReviewHubSetLast(f.svc, id, 0)
		coedit.ReviewHubPublishRange(f.svc, id, d.ID, int64(n)+2, int64(n)+2)
		if r := coedit.ReviewHubMaxRead(f.svc); r > int64(coedit.ReviewReplayPage) {
			t.Fatalf("the listener read %d rows at once", r)
		}
		if got, _ := coreText(t, f, id); got != text+"!!" {
			t.Fatalf("text %q", got)
		}
	})
}

// TestHubFollowsSectionsNobodyWatches: an instance where nobody follows a
// section keeps track of the versions other instances commit, so that a
// later subscriber does not make its listener read them all back.
func TestHubFollowsSectionsNobodyWatches(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		if storage.EngineOf(db) != storage.Postgres {
			t.Skip("instances share commits through PostgreSQL LISTEN/NOTIFY")
		}
		f := newFixture(t, db)
		_, secs := f.doc("uno", "marcatore")
		id, marker := secs[0].ID, secs[1].ID
		other := coedit.NewService(storagetest.Reopen(t, db), coedit.Options{Now: f.clock.Now})
		if err := other.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		// B follows the section for one edit, then nobody there does.
		ctx1, cancel1 := context.WithCancel(f.as(f.observer))
		onB, err := other.SectionEdits(ctx1, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		coreAppend(t, f, f.svc, id, ".")
		coreVersions(t, onB, 1)
		cancel1()
		for range onB { // closed once the subscription is gone
		}
		ctx, cancel := context.WithCancel(f.as(f.observer))
		defer cancel()
		markerOnB, err := other.SectionEdits(ctx, marker, 0)
		if err != nil {
			t.Fatal(err)
		}
		const gap = 40
		for range gap {
			coreAppend(t, f, f.svc, id, ".")
		}
		// B's listener heard those before this one (in commit order).
		coreAppend(t, f, f.svc, marker, "!")
		coreVersions(t, markerOnB, 1)
		onB, err = other.SectionEdits(ctx, id, gap+1)
		if err != nil {
			t.Fatal(err)
		}
		coreAppend(t, f, f.svc, id, "!")
		if got := coreVersions(t, onB, 1); got[0] != gap+2 {
			t.Fatalf("B saw %v", got)
		}
		if r := coedit.ReviewHubMaxRead(other); r >= gap {
			t.Fatalf("B's listener read %d rows at once for a section nobody followed", r)
		}
	})
}
