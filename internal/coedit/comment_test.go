package coedit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// Helpers of the features' tests (comments, versions, review, export).

var featClients atomic.Int64

// featEdit commits op on a section at base as a, from a client of its own.
func featEdit(t *testing.T, f *fixture, a *access.Actor, sectionID, base int64, op ot.Op) *coedit.Edit {
	t.Helper()
	e, err := f.svc.EditSection(f.as(a), coedit.EditInput{SectionID: sectionID, BaseVersion: base, Op: op,
		ClientID: fmt.Sprintf("feat-%d", featClients.Add(1)), ClientSeq: 1})
	if err != nil {
		t.Fatalf("edit section %d at %d with %v: %v", sectionID, base, op, err)
	}
	return e
}

// featText is a section's text and version now.
func featText(t *testing.T, f *fixture, sectionID int64) (string, int64) {
	t.Helper()
	text, v, err := f.svc.SectionText(f.as(f.admin), sectionID)
	if err != nil {
		t.Fatalf("section text: %v", err)
	}
	return text, v
}

// featRows counts the rows of a table.
func featRows(t *testing.T, db *bun.DB, table string) int {
	t.Helper()
	n, err := db.NewSelect().TableExpr(table).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// featTables are the rows a refused change must leave as they were.
func featTables(t *testing.T, db *bun.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"comments", "comment_mentions", "mail_outbox", "document_versions",
		"document_version_sections", "document_transitions", "section_ops"} {
		out[table] = featRows(t, db, table)
	}
	return out
}

// featUnchanged fails unless the tables hold as many rows as before.
func featUnchanged(t *testing.T, db *bun.DB, before map[string]int) {
	t.Helper()
	for table, n := range featTables(t, db) {
		if n != before[table] {
			t.Errorf("%s has %d rows, had %d", table, n, before[table])
		}
	}
}

// featWant fails unless err is an application error of kind, and (when not
// empty) of field and reason.
func featWant(t *testing.T, err error, kind apperr.Kind, field, reason string) {
	t.Helper()
	if !apperr.Is(err, kind) {
		t.Fatalf("got %v; want %s", err, kind)
	}
	if field != "" {
		if _, _, got := apperr.Public(err); got != field {
			t.Errorf("field %q; want %q (%v)", got, field, err)
		}
	}
	if got := apperr.ReasonOf(err); got != reason {
		t.Errorf("reason %q; want %q (%v)", got, reason, err)
	}
}

// featEmails gives every person of the fixture a valid address and a
// language (the fixture's addresses hold a space).
func featEmails(t *testing.T, f *fixture, lang map[*access.Actor]string) {
	t.Helper()
	for _, a := range []*access.Actor{f.admin, f.policy, f.coord, f.member, f.observer, f.outside} {
		l := lang[a]
		if l == "" {
			l = "it"
		}
		if _, err := f.db.NewUpdate().TableExpr("people").Set("email = ?", fmt.Sprintf("p%d@example.org", a.PersonID)).
			Set("language = ?", l).Where("id = ?", a.PersonID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

type outboxRow struct {
	To      string `bun:"to_addr"`
	Subject string `bun:"subject"`
	Body    string `bun:"body"`
}

func featOutbox(t *testing.T, db *bun.DB) []outboxRow {
	t.Helper()
	var rows []outboxRow
	if err := db.NewSelect().TableExpr("mail_outbox").Column("to_addr", "subject", "body").Order("id").
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestCommentAnchorMovesWithLaterEdits(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("Il servizio è aperto a tutti.")
		sec := secs[0]
		// "aperto" is [14, 20).
		c, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: sec.ID, Version: 0, Start: 14, End: 20, Body: "Sempre?"})
		if err != nil {
			t.Fatal(err)
		}
		if c.AnchorStart != 14 || c.AnchorEnd != 20 || c.AnchorVersion != 0 || c.Quote != "aperto" {
			t.Fatalf("comment %+v", c)
		}
		// An insert before the range shifts it; one inside widens it.
		featEdit(t, f, f.coord, sec.ID, 0, ot.Op{{Insert: "Già ora "}, {Retain: 29}})
		featEdit(t, f, f.coord, sec.ID, 1, ot.Op{{Retain: 25}, {Insert: "-"}, {Retain: 12}})
		got, err := f.svc.Comment(f.as(f.observer), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		text, v := featText(t, f, sec.ID)
		if got.AnchorVersion != v || got.AnchorStart != 22 || got.AnchorEnd != 29 || got.Orphaned != nil {
			t.Fatalf("after the edits the anchor is [%d, %d) at %d, orphaned %v; want [22, 29) at %d", got.AnchorStart, got.AnchorEnd, got.AnchorVersion, got.Orphaned, v)
		}
		if s := string([]rune(text)[22:29]); s != "ape-rto" {
			t.Errorf("the anchor covers %q", s)
		}
		// Deleting all of its text orphans the thread, which stays listed
		// with its quote.
		featEdit(t, f, f.coord, sec.ID, v, ot.Op{{Retain: 22}, {Delete: 7}, {Retain: 9}})
		got, err = f.svc.Comment(f.as(f.observer), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Orphaned == nil || got.Quote != "aperto" {
			t.Fatalf("after deleting its text: %+v", got)
		}
		page, err := f.svc.Threads(f.as(f.policy), coedit.CommentFilter{DocumentID: c.DocumentID}, relay.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].ID != c.ID || page.Items[0].Orphaned == nil || page.TotalCount != 1 {
			t.Fatalf("threads: %+v", page)
		}
	})
}

func TestReopenedThreadCatchesUpWithTheText(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		sec, due, tre := featResolvedPair(t, f)
		// While they are resolved, text goes in before both and "tre " goes.
		featEdit(t, f, f.coord, sec.ID, 0, ot.Op{{Insert: "zero "}, {Retain: 19}})
		featEdit(t, f, f.coord, sec.ID, 1, ot.Op{{Retain: 13}, {Delete: 4}, {Retain: 7}})
		text, v := featText(t, f, sec.ID)
		got, err := f.svc.ResolveComment(f.as(f.observer), due.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.AnchorVersion != v || string([]rune(text)[got.AnchorStart:got.AnchorEnd]) != "due" || got.Orphaned != nil {
			t.Errorf("reopened at [%d, %d) of version %d, orphaned %v, in %q", got.AnchorStart, got.AnchorEnd, got.AnchorVersion, got.Orphaned, text)
		}
		got, err = f.svc.ResolveComment(f.as(f.observer), tre.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Orphaned == nil || got.Quote != "tre" {
			t.Errorf("a reopened thread whose text went: %+v", got)
		}
		// From then on edits move the reopened anchor.
		featEdit(t, f, f.coord, sec.ID, v, ot.Op{{Insert: "- "}, {Retain: 20}})
		text, v = featText(t, f, sec.ID)
		got, err = f.svc.Comment(f.as(f.observer), due.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.AnchorVersion != v || string([]rune(text)[got.AnchorStart:got.AnchorEnd]) != "due" {
			t.Errorf("after one more edit: [%d, %d) of version %d in %q", got.AnchorStart, got.AnchorEnd, got.AnchorVersion, text)
		}
	})
}

func TestCommentAtAnOlderVersionIsMovedToTheCurrentOne(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("abcdef🙂gh")
		sec := secs[0]
		featEdit(t, f, f.coord, sec.ID, 0, ot.Op{{Insert: "XY"}, {Retain: 9}})
		featEdit(t, f, f.coord, sec.ID, 1, ot.Op{{Retain: 11}, {Insert: "!"}})
		// The client saw version 0 and selected "ef🙂" at [4, 7).
		c, err := f.svc.AddComment(f.as(f.observer), coedit.CommentInput{SectionID: sec.ID, Version: 0, Start: 4, End: 7, Body: "Perché?"})
		if err != nil {
			t.Fatal(err)
		}
		if c.AnchorStart != 6 || c.AnchorEnd != 9 || c.AnchorVersion != 2 || c.Quote != "ef🙂" || c.ParentID != nil {
			t.Fatalf("comment %+v; want [6, 9) at 2 quoting ef🙂", c)
		}
		// Text deleted since the client's version cannot be commented on.
		featEdit(t, f, f.coord, sec.ID, 2, ot.Op{{Retain: 2}, {Delete: 2}, {Retain: 8}})
		before := featTables(t, db)
		_, err = f.svc.AddComment(f.as(f.observer), coedit.CommentInput{SectionID: sec.ID, Version: 1, Start: 2, End: 4, Body: "Qui"})
		featWant(t, err, apperr.Conflict, "", "ANCHOR_DELETED")
		featUnchanged(t, db, before)
	})
}

func TestCommentRefusalsChangeNothing(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		featEmails(t, f, nil)
		d, secs := f.doc("Testo di prova", "Altro")
		sec := secs[0]
		thread, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: sec.ID, Start: 0, End: 5, Body: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := f.svc.Reply(f.as(f.member), thread.ID, "risposta", nil)
		if err != nil {
			t.Fatal(err)
		}
		many := make([]int64, 21)
		for i := range many {
			many[i] = int64(1000 + i)
		}
		in := func(mod func(*coedit.CommentInput)) coedit.CommentInput {
			x := coedit.CommentInput{SectionID: sec.ID, Version: 0, Start: 0, End: 5, Body: "corpo"}
			mod(&x)
			return x
		}
		cases := []struct {
			name          string
			do            func() error
			kind          apperr.Kind
			field, reason string
		}{
			{"empty body", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Body = " \n\t " }))
				return err
			}, apperr.BadInput, "body", ""},
			{"long body", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Body = strings.Repeat("è", 5001) }))
				return err
			}, apperr.BadInput, "body", ""},
			{"invalid UTF-8", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Body = "a\xffb" }))
				return err
			}, apperr.BadInput, "body", "INVALID_UTF8"},
			{"21 mentions", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Mentions = many }))
				return err
			}, apperr.BadInput, "mentions", ""},
			{"unknown person", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Mentions = []int64{f.coord.PersonID, 999999} }))
				return err
			}, apperr.BadInput, "mentions", "MENTION_NOT_READER"},
			{"range past the end", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.End = 15 }))
				return err
			}, apperr.BadInput, "range", ""},
			{"range backwards", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Start, x.End = 4, 2 }))
				return err
			}, apperr.BadInput, "range", ""},
			{"negative start", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Start = -1 }))
				return err
			}, apperr.BadInput, "range", ""},
			{"version ahead", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Version = 3 }))
				return err
			}, apperr.BadInput, "version", "VERSION_AHEAD"},
			{"negative version", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.Version = -1 }))
				return err
			}, apperr.BadInput, "version", ""},
			{"unknown section", func() error {
				_, err := f.svc.AddComment(f.as(f.member), in(func(x *coedit.CommentInput) { x.SectionID = 999999 }))
				return err
			}, apperr.NotFound, "", ""},
			{"reply to a reply", func() error {
				_, err := f.svc.Reply(f.as(f.member), reply.ID, "no", nil)
				return err
			}, apperr.BadInput, "threadId", ""},
			{"resolve a reply", func() error {
				_, err := f.svc.ResolveComment(f.as(f.member), reply.ID, true)
				return err
			}, apperr.BadInput, "threadId", ""},
			{"reply with an empty body", func() error {
				_, err := f.svc.Reply(f.as(f.member), thread.ID, "", nil)
				return err
			}, apperr.BadInput, "body", ""},
			{"reply mentioning nobody", func() error {
				_, err := f.svc.Reply(f.as(f.member), thread.ID, "vedi", []int64{-4})
				return err
			}, apperr.BadInput, "mentions", "MENTION_NOT_READER"},
			{"unknown thread", func() error {
				_, err := f.svc.Reply(f.as(f.member), 999999, "vedi", nil)
				return err
			}, apperr.NotFound, "", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := featTables(t, db)
				featWant(t, c.do(), c.kind, c.field, c.reason)
				featUnchanged(t, db, before)
			})
		}

		// A removed section takes no new threads.
		if _, err := f.svc.RemoveSection(f.as(f.coord), secs[1].ID, d.StructureVersion); err != nil {
			t.Fatal(err)
		}
		before := featTables(t, db)
		_, err = f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[1].ID, Start: 0, End: 1, Body: "x"})
		featWant(t, err, apperr.BadInput, "sectionId", "")
		featUnchanged(t, db, before)

		// Comments are closed once the document is approved.
		for _, to := range []coedit.Status{coedit.InReview, coedit.Approved} {
			if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, to, ""); err != nil {
				t.Fatal(err)
			}
		}
		before = featTables(t, db)
		_, err = f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: sec.ID, Start: 0, End: 1, Body: "x"})
		featWant(t, err, apperr.Conflict, "", "NOT_OPEN_FOR_COMMENTS")
		_, err = f.svc.Reply(f.as(f.member), thread.ID, "x", nil)
		featWant(t, err, apperr.Conflict, "", "NOT_OPEN_FOR_COMMENTS")
		_, err = f.svc.ResolveComment(f.as(f.member), thread.ID, true)
		featWant(t, err, apperr.Conflict, "", "NOT_OPEN_FOR_COMMENTS")
		featUnchanged(t, db, before)
		if c, err := f.svc.Comment(f.as(f.member), thread.ID); err != nil || c.Resolved != nil {
			t.Errorf("thread after a refused resolve: %+v, %v", c, err)
		}
	})
}

func TestRepliesResolveAndReopen(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Uno due tre", "Quattro")
		t1, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[0].ID, Start: 4, End: 7, Body: "Primo"})
		if err != nil {
			t.Fatal(err)
		}
		t2, err := f.svc.AddComment(f.as(f.observer), coedit.CommentInput{SectionID: secs[1].ID, Start: 0, End: 0, Body: "Un punto"})
		if err != nil {
			t.Fatal(err)
		}
		if t2.Quote != "" || t2.AnchorStart != 0 || t2.AnchorEnd != 0 {
			t.Errorf("a caret comment: %+v", t2)
		}
		r1, err := f.svc.Reply(f.as(f.coord), t1.ID, "  Risposta\r\nsu due righe  ", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r1.ParentID == nil || *r1.ParentID != t1.ID || r1.SectionID != secs[0].ID || r1.Body != "Risposta\nsu due righe" ||
			r1.AnchorStart != 0 || r1.AnchorEnd != 0 || r1.AnchorVersion != 0 || r1.Quote != "" || *r1.AuthorID != f.coord.PersonID {
			t.Fatalf("reply %+v", r1)
		}
		r2, err := f.svc.Reply(f.as(f.observer), t1.ID, "Seconda", nil)
		if err != nil {
			t.Fatal(err)
		}
		replies, err := f.svc.RepliesOf(f.as(f.policy), []int64{t1.ID, t2.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(replies[t1.ID]) != 2 || replies[t1.ID][0].ID != r1.ID || replies[t1.ID][1].ID != r2.ID || len(replies[t2.ID]) != 0 {
			t.Fatalf("replies %+v", replies)
		}

		f.clock.Advance(60e9)
		res, err := f.svc.ResolveComment(f.as(f.observer), t1.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Resolved == nil || !res.Resolved.Equal(f.clock.Now()) || res.ResolvedBy == nil || *res.ResolvedBy != f.observer.PersonID {
			t.Fatalf("resolved %+v", res)
		}
		// Resolving a resolved thread changes nothing.
		f.clock.Advance(60e9)
		again, err := f.svc.ResolveComment(f.as(f.coord), t1.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Resolved.Equal(*res.Resolved) || *again.ResolvedBy != f.observer.PersonID {
			t.Errorf("resolving again changed it: %+v", again)
		}
		threads := func(all bool, section int64) []int64 {
			t.Helper()
			p, err := f.svc.Threads(f.as(f.member), coedit.CommentFilter{DocumentID: d.ID, SectionID: section, IncludeResolved: all}, relay.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range p.Items {
				ids = append(ids, c.ID)
			}
			return ids
		}
		if got := fmt.Sprint(threads(false, 0)); got != fmt.Sprint([]int64{t2.ID}) {
			t.Errorf("open threads %s", got)
		}
		if got := fmt.Sprint(threads(true, 0)); got != fmt.Sprint([]int64{t1.ID, t2.ID}) {
			t.Errorf("all threads %s", got)
		}
		if got := fmt.Sprint(threads(true, secs[1].ID)); got != fmt.Sprint([]int64{t2.ID}) {
			t.Errorf("threads of section 2 %s", got)
		}
		reopened, err := f.svc.ResolveComment(f.as(f.member), t1.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if reopened.Resolved != nil || reopened.ResolvedBy != nil {
			t.Errorf("reopened %+v", reopened)
		}
		if got := fmt.Sprint(threads(false, 0)); got != fmt.Sprint([]int64{t1.ID, t2.ID}) {
			t.Errorf("open threads after reopening %s", got)
		}
		// Pages follow ids.
		one := 1
		p, err := f.svc.Threads(f.as(f.member), coedit.CommentFilter{DocumentID: d.ID}, relay.PageArgs{First: &one})
		if err != nil {
			t.Fatal(err)
		}
		p2, err := f.svc.Threads(f.as(f.member), coedit.CommentFilter{DocumentID: d.ID}, relay.PageArgs{First: &one, After: &p.Cursors[0]})
		if err != nil {
			t.Fatal(err)
		}
		if p.Items[0].ID != t1.ID || !p.HasNextPage || p2.Items[0].ID != t2.ID || p2.HasNextPage || p.TotalCount != 2 {
			t.Errorf("pages %+v %+v", p, p2)
		}
		byID, err := f.svc.CommentsByID(f.as(f.policy), []int64{t1.ID, r2.ID, 999999})
		if err != nil {
			t.Fatal(err)
		}
		if len(byID) != 2 || byID[r2.ID].Body != "Seconda" {
			t.Errorf("by id %+v", byID)
		}
	})
}

func TestMentionsMailEachPersonInTheirLanguage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		var woken atomic.Int32
		f := newFixture(t, db, func(o *coedit.Options) { o.MailQueued = func() { woken.Add(1) } })
		featEmails(t, f, map[*access.Actor]string{f.observer: "en"})
		d, secs := f.doc("La casa è un diritto.")
		// The member mentions the coordinator twice, the observer, and
		// themself.
		c, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[0].ID, Start: 3, End: 7, Body: "Serve una fonte",
			Mentions: []int64{f.coord.PersonID, f.observer.PersonID, f.coord.PersonID, f.member.PersonID}})
		if err != nil {
			t.Fatal(err)
		}
		mails := featOutbox(t, db)
		if len(mails) != 2 {
			t.Fatalf("%d mails: %+v", len(mails), mails)
		}
		link := "https://pia.example/documents/" + relay.ID("Document", d.ID)
		it, en := mails[0], mails[1]
		if it.To != fmt.Sprintf("p%d@example.org", f.coord.PersonID) || en.To != fmt.Sprintf("p%d@example.org", f.observer.PersonID) {
			t.Fatalf("mails to %s and %s", it.To, en.To)
		}
		for _, want := range []string{"Mario Membro l'ha menzionata/o", "«Linee guida Enna»", "> casa", "Serve una fonte", link} {
			if !strings.Contains(it.Subject+"\n"+it.Body, want) {
				t.Errorf("the Italian mail lacks %q:\n%s\n%s", want, it.Subject, it.Body)
			}
		}
		for _, want := range []string{"Mario Membro mentioned you", "“Linee guida Enna”", "> casa", "Serve una fonte", link} {
			if !strings.Contains(en.Subject+"\n"+en.Body, want) {
				t.Errorf("the English mail lacks %q:\n%s\n%s", want, en.Subject, en.Body)
			}
		}
		if woken.Load() != 1 {
			t.Errorf("MailQueued called %d times", woken.Load())
		}
		mentions, err := f.svc.MentionsOf(f.as(f.observer), []int64{c.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{f.coord.PersonID, f.member.PersonID, f.observer.PersonID} // in id order
		if fmt.Sprint(mentions[c.ID]) != fmt.Sprint(want) {
			t.Errorf("mentions %v; want %v", mentions[c.ID], want)
		}
		// A reply mentions too, quoting its thread; no mention, no mail.
		if _, err := f.svc.Reply(f.as(f.coord), c.ID, "Eccola", []int64{f.member.PersonID}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(f.as(f.coord), c.ID, "Grazie", nil); err != nil {
			t.Fatal(err)
		}
		mails = featOutbox(t, db)
		if len(mails) != 3 || mails[2].To != fmt.Sprintf("p%d@example.org", f.member.PersonID) ||
			!strings.Contains(mails[2].Body, "Carla Coordinatrice") || !strings.Contains(mails[2].Body, "> casa") {
			t.Errorf("after the replies: %+v", mails)
		}
		if woken.Load() != 2 {
			t.Errorf("MailQueued called %d times", woken.Load())
		}
		// Whoever may not read the document sees none of it.
		if m, err := f.svc.MentionsOf(f.as(f.outside), []int64{c.ID}); err != nil || len(m) != 0 {
			t.Errorf("an outsider's mentions: %v, %v", m, err)
		}
	})
}

// A mention mails the quote and the body, so only people who may read the
// document, with their current roles, may be mentioned: anyone else is
// BAD_USER_INPUT MENTION_NOT_READER, and the comment, its mentions and the
// mails are not written. A policy maker reads every document.
func TestMentionsOnlyOfReaders(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		featEmails(t, f, nil)
		_, secs := f.doc("La casa è un diritto.")
		thread, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[0].ID, Start: 3, End: 7, Body: "Fonte?",
			Mentions: []int64{f.policy.PersonID}})
		if err != nil {
			t.Fatal(err)
		}
		// A person with no role anywhere, inserted behind the fixture's back.
		now := f.clock.Now()
		email := "nessuno@example.org"
		nobody := &account.Person{DisplayName: "Nessuno", Email: &email, Language: "it", CreatedAt: now, UpdatedAt: now}
		if _, err := db.NewInsert().Model(nobody).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		before := featTables(t, db)
		for _, who := range []struct {
			name string
			id   int64
		}{{"Palermo's coordinator", f.outside.PersonID}, {"a person without roles", nobody.ID}} {
			t.Run(who.name, func(t *testing.T) {
				_, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[0].ID, Start: 3, End: 7, Body: "Vedi",
					Mentions: []int64{f.coord.PersonID, who.id}})
				featWant(t, err, apperr.BadInput, "mentions", "MENTION_NOT_READER")
				_, err = f.svc.Reply(f.as(f.member), thread.ID, "Vedi", []int64{who.id})
				featWant(t, err, apperr.BadInput, "mentions", "MENTION_NOT_READER")
			})
		}
		featUnchanged(t, db, before)

		// Whether an id is nobody, someone archived, or someone who may
		// not read, the answer is the same: a commenter cannot probe which
		// ids are people. It names the mention's place in the list.
		archivedEmail := "archiviata@example.org"
		archived := &account.Person{DisplayName: "Archiviata", Email: &archivedEmail, Language: "it", CreatedAt: now, UpdatedAt: now, ArchivedAt: &now}
		if _, err := db.NewInsert().Model(archived).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.roles[archived.ID] = &access.Actor{PersonID: archived.ID, Territories: map[int64]access.TerritoryRole{f.terr["EN"]: access.Member}}
		var answers []string
		for _, id := range []int64{999999, nobody.ID, f.outside.PersonID, archived.ID} {
			_, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[0].ID, Start: 3, End: 7, Body: "Vedi",
				Mentions: []int64{f.coord.PersonID, f.coord.PersonID, id, f.observer.PersonID}})
			featWant(t, err, apperr.BadInput, "mentions", "MENTION_NOT_READER")
			_, msg, _ := apperr.Public(err)
			answers = append(answers, msg)
			_, err = f.svc.Reply(f.as(f.member), thread.ID, "Vedi", []int64{id})
			featWant(t, err, apperr.BadInput, "mentions", "MENTION_NOT_READER")
			_, msg, _ = apperr.Public(err)
			answers = append(answers, msg)
		}
		for i := 2; i < len(answers); i++ {
			if answers[i] != answers[i%2] {
				t.Errorf("answer %d differs: %q and %q", i, answers[i], answers[i%2])
			}
		}
		if !strings.Contains(answers[0], "3") || !strings.Contains(answers[1], "1") {
			t.Errorf("the answers do not name the mention's place: %q", answers)
		}
		featUnchanged(t, db, before)
		if mails := featOutbox(t, db); len(mails) != 1 || mails[0].To != fmt.Sprintf("p%d@example.org", f.policy.PersonID) {
			t.Errorf("mails: %+v", mails)
		}
		// The roles are read at the mention: the observer who left the group
		// may no longer be mentioned.
		if _, err := f.svc.Reply(f.as(f.member), thread.ID, "Vedi", []int64{f.observer.PersonID}); err != nil {
			t.Fatal(err)
		}
		delete(f.observer.Territories, f.terr["EN"])
		before = featTables(t, db)
		_, err = f.svc.Reply(f.as(f.member), thread.ID, "Ancora", []int64{f.observer.PersonID})
		featWant(t, err, apperr.BadInput, "mentions", "MENTION_NOT_READER")
		featUnchanged(t, db, before)
	})
}

func TestCommentAccess(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Testo")
		add := func(a *access.Actor) (*coedit.Comment, error) {
			return f.svc.AddComment(f.as(a), coedit.CommentInput{SectionID: secs[0].ID, Start: 0, End: 5, Body: "Nota"})
		}
		var thread *coedit.Comment
		for _, a := range []*access.Actor{f.admin, f.coord, f.member, f.observer} {
			c, err := add(a)
			if err != nil {
				t.Fatalf("person %d: %v", a.PersonID, err)
			}
			thread = c
		}
		before := featTables(t, db)
		_, err := add(f.policy)
		featWant(t, err, apperr.Forbidden, "", "")
		_, err = f.svc.Reply(f.as(f.policy), thread.ID, "x", nil)
		featWant(t, err, apperr.Forbidden, "", "")
		_, err = f.svc.ResolveComment(f.as(f.policy), thread.ID, true)
		featWant(t, err, apperr.Forbidden, "", "")
		_, err = add(f.outside)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.Reply(f.as(f.outside), thread.ID, "x", nil)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.Comment(f.as(f.outside), thread.ID)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.Threads(f.as(f.outside), coedit.CommentFilter{DocumentID: d.ID}, relay.PageArgs{})
		featWant(t, err, apperr.NotFound, "", "")
		_, err = add(nil)
		featWant(t, err, apperr.Unauthenticated, "", "")
		featUnchanged(t, db, before)
		if m, err := f.svc.CommentsByID(f.as(f.outside), []int64{thread.ID}); err != nil || len(m) != 0 {
			t.Errorf("an outsider reads %v, %v", m, err)
		}
		if m, err := f.svc.RepliesOf(f.as(f.outside), []int64{thread.ID}); err != nil || len(m) != 0 {
			t.Errorf("an outsider reads replies %v, %v", m, err)
		}
		if p, err := f.svc.Threads(f.as(f.policy), coedit.CommentFilter{DocumentID: d.ID}, relay.PageArgs{}); err != nil || len(p.Items) != 4 {
			t.Errorf("the policy maker reads %v, %v", p, err)
		}
	})
}

func TestCommentsOpenedDuringEditsKeepTheirText(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("TARGET")
		sec := secs[0]
		const editors, edits, comments = 3, 12, 12
		errs := make(chan error, editors*edits+comments)
		var wg sync.WaitGroup
		for e := range editors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range edits {
					text, v, err := f.svc.SectionText(f.as(f.member), sec.ID)
					if err == nil {
						_, err = f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: sec.ID, BaseVersion: v,
							Op: ot.Op{{Insert: "x"}, {Retain: len([]rune(text))}}, ClientID: fmt.Sprintf("race-%d", e), ClientSeq: int64(i + 1)})
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range comments {
				text, v, err := f.svc.SectionText(f.as(f.observer), sec.ID)
				if err == nil {
					at := len([]rune(text[:strings.Index(text, "TARGET")]))
					_, err = f.svc.AddComment(f.as(f.observer), coedit.CommentInput{SectionID: sec.ID, Version: v, Start: at, End: at + 6, Body: "nota"})
				}
				if err != nil {
					errs <- err
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		text, v := featText(t, f, sec.ID)
		if text != strings.Repeat("x", editors*edits)+"TARGET" {
			t.Fatalf("text %q", text)
		}
		page, err := f.svc.Threads(f.as(f.observer), coedit.CommentFilter{DocumentID: sec.DocumentID}, relay.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != comments {
			t.Fatalf("%d threads", len(page.Items))
		}
		for _, c := range page.Items {
			if c.AnchorVersion != v || c.AnchorStart != editors*edits || c.AnchorEnd != editors*edits+6 || c.Quote != "TARGET" {
				t.Errorf("thread %d: [%d, %d) at %d quoting %q; want [%d, %d) at %d", c.ID, c.AnchorStart, c.AnchorEnd, c.AnchorVersion, c.Quote,
					editors*edits, editors*edits+6, v)
			}
		}
	})
}

func TestCommentBatchesRunOneStatement(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		_, secs := f.doc("Uno due tre")
		var threads, all []int64
		for i := range 3 {
			c, err := f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: secs[0].ID, Start: i, End: i + 1, Body: "nota",
				Mentions: []int64{f.coord.PersonID, f.observer.PersonID}})
			if err != nil {
				t.Fatal(err)
			}
			threads = append(threads, c.ID)
			all = append(all, c.ID)
			for range 2 {
				r, err := f.svc.Reply(f.as(f.coord), c.ID, "sì", []int64{f.member.PersonID})
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, r.ID)
			}
		}
		counter := storage.CountStatements(db)
		for _, ids := range [][]int64{threads[:1], threads} {
			counter.Reset()
			replies, err := f.svc.RepliesOf(f.as(f.observer), ids)
			if err != nil || len(replies) != len(ids) || counter.Count() != 1 {
				t.Errorf("replies of %d threads: %d statements, %d answers, %v", len(ids), counter.Count(), len(replies), err)
			}
		}
		for _, ids := range [][]int64{all[:1], all} {
			counter.Reset()
			byID, err := f.svc.CommentsByID(f.as(f.observer), ids)
			if err != nil || len(byID) != len(ids) || counter.Count() != 1 {
				t.Errorf("%d comments by id: %d statements, %d answers, %v", len(ids), counter.Count(), len(byID), err)
			}
			counter.Reset()
			mentions, err := f.svc.MentionsOf(f.as(f.observer), ids)
			if err != nil || len(mentions) != len(ids) || counter.Count() != 1 {
				t.Errorf("mentions of %d comments: %d statements, %d answers, %v", len(ids), counter.Count(), len(mentions), err)
			}
		}
	})
}

// Many comments and named versions at once on one section all go through:
// while a transaction holds the section's lock it reads everything through
// its own connection, so the lock holder never waits for the pool that the
// others, waiting for the lock, hold (20 connections here, as by default).
// The deadline only guards against a hang.
func TestConcurrentCommentsAndVersionsDoNotExhaustThePool(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		db.SetMaxOpenConns(storage.DefaultMaxOpenConns)
		f := newFixture(t, db)
		featEmails(t, f, nil)
		d, secs := f.doc("Uno due tre quattro cinque", "Sei sette")
		featEdit(t, f, f.coord, secs[0].ID, 0, ot.Op{{Insert: "Zero "}, {Retain: 26}})
		const comments, versions = 40, 10
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errs := make(chan error, comments+versions)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range comments {
			wg.Go(func() {
				<-start
				_, err := f.svc.AddComment(access.WithActor(ctx, f.member), coedit.CommentInput{SectionID: secs[0].ID, Version: 0,
					Start: 4, End: 7, Body: fmt.Sprintf("nota %d", i), Mentions: []int64{f.coord.PersonID}})
				errs <- err
			})
		}
		for i := range versions {
			wg.Go(func() {
				<-start
				_, err := f.svc.NameVersion(access.WithActor(ctx, f.coord), d.ID, fmt.Sprintf("v%d", i), "")
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		failed := 0
		for err := range errs {
			if err != nil {
				failed++
				t.Error(err)
			}
		}
		if failed > 0 {
			t.Fatalf("%d of %d calls failed", failed, comments+versions)
		}
		page, err := f.svc.Threads(f.as(f.observer), coedit.CommentFilter{DocumentID: d.ID}, relay.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != comments {
			t.Fatalf("%d threads; want %d", page.TotalCount, comments)
		}
		for _, c := range page.Items {
			if c.Quote != "due" || c.AnchorStart != 9 || c.AnchorVersion != 1 {
				t.Errorf("thread %d: %+v", c.ID, c)
			}
		}
		vs, err := f.svc.Versions(f.as(f.observer), d.ID)
		if err != nil || len(vs) != versions {
			t.Fatalf("%d versions, %v", len(vs), err)
		}
		if n := len(featOutbox(t, db)); n != comments {
			t.Errorf("%d mails; want %d", n, comments)
		}
	})
}

// A range given more than 1,024 versions behind its section is refused
// (VERSION_TOO_OLD) without writing anything: moving it would read and
// transform that much of the log while the section is locked against the
// committer. Exactly 1,024 behind is still fine. A thread resolved that
// long ago is still reopened, its anchor brought through every version.
func TestCommentFarBehindTheSection(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		sec, due, tre := featResolvedPair(t, f)
		// 1,100 versions: an "x" goes in front each time, but once, when
		// "tre " goes.
		const edits, gone = 1100, 500
		n := 19
		for v := range int64(edits) {
			if v == gone {
				featEdit(t, f, f.coord, sec.ID, v, ot.Op{{Retain: 8 + gone}, {Delete: 4}, {Retain: 7}})
				n -= 4
				continue
			}
			featEdit(t, f, f.coord, sec.ID, v, ot.Op{{Insert: "x"}, {Retain: n}})
			n++
		}
		text, head := featText(t, f, sec.ID)
		if head != edits || text != strings.Repeat("x", edits-1)+"uno due quattro" {
			t.Fatalf("version %d: %q", head, text)
		}

		before := featTables(t, db)
		for _, v := range []int64{0, head - 1025} {
			_, err := f.svc.AddComment(f.as(f.observer), coedit.CommentInput{SectionID: sec.ID, Version: v, Start: 4, End: 7, Body: "Vecchio"})
			featWant(t, err, apperr.BadInput, "version", "VERSION_TOO_OLD")
		}
		featUnchanged(t, db, before)

		// 1,024 behind: the client saw version 76, with 76 x's in front.
		c, err := f.svc.AddComment(f.as(f.observer), coedit.CommentInput{SectionID: sec.ID, Version: head - 1024, Start: 76 + 4, End: 76 + 7, Body: "Recente"})
		if err != nil {
			t.Fatal(err)
		}
		if c.AnchorVersion != head || c.Quote != "due" || c.AnchorStart != edits-1+4 {
			t.Errorf("comment 1,024 behind: %+v", c)
		}

		got, err := f.svc.ResolveComment(f.as(f.observer), due.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.AnchorVersion != head || got.Orphaned != nil || string([]rune(text)[got.AnchorStart:got.AnchorEnd]) != "due" {
			t.Errorf("reopened 1,100 versions later: [%d, %d) at %d, orphaned %v", got.AnchorStart, got.AnchorEnd, got.AnchorVersion, got.Orphaned)
		}
		got, err = f.svc.ResolveComment(f.as(f.observer), tre.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Orphaned == nil || got.Quote != "tre" {
			t.Errorf("reopened after its text went: %+v", got)
		}
		// The reopened thread moves with the next edit.
		featEdit(t, f, f.coord, sec.ID, head, ot.Op{{Insert: "- "}, {Retain: len([]rune(text))}})
		text, head = featText(t, f, sec.ID)
		got, err = f.svc.Comment(f.as(f.observer), due.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.AnchorVersion != head || string([]rune(text)[got.AnchorStart:got.AnchorEnd]) != "due" {
			t.Errorf("after one more edit: [%d, %d) at %d", got.AnchorStart, got.AnchorEnd, got.AnchorVersion)
		}
	})
}

// featResolvedPair makes a section "uno due tre quattro" with two threads,
// on "due" and on "tre", both resolved by the member.
func featResolvedPair(t *testing.T, f *fixture) (sec *coedit.Section, due, tre *coedit.Comment) {
	t.Helper()
	_, secs := f.doc("uno due tre quattro")
	sec = secs[0]
	var err error
	due, err = f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: sec.ID, Start: 4, End: 7, Body: "due?"})
	if err != nil {
		t.Fatal(err)
	}
	tre, err = f.svc.AddComment(f.as(f.member), coedit.CommentInput{SectionID: sec.ID, Start: 8, End: 11, Body: "tre?"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*coedit.Comment{due, tre} {
		if _, err := f.svc.ResolveComment(f.as(f.member), c.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	return sec, due, tre
}
