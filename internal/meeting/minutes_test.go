package meeting_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// guideline creates a document of code's working group with three
// sections, as admin, and returns it with its section ids in order.
func (f *fixture) guideline(docs *coedit.Service, code string) (*coedit.Document, []int64) {
	f.t.Helper()
	ctx := f.as(f.admin)
	d, err := docs.CreateDocument(ctx, coedit.DocumentInput{WorkingGroupID: f.groups[code], Title: "Linee guida " + code,
		Sections: []coedit.SectionInput{{Title: "Salute", Body: "a"}, {Title: "Scuola", Body: "b"}, {Title: "Casa", Body: "c"}}})
	if err != nil {
		f.t.Fatal(err)
	}
	secs, err := docs.SectionsOfDocuments(ctx, []int64{d.ID}, false)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []int64
	for _, s := range secs[d.ID] {
		ids = append(ids, s.ID)
	}
	return d, ids
}

func TestMinutes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		docs := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		t.Cleanup(docs.Close)
		doc, sec := f.guideline(docs, "EN")
		_, pa := f.guideline(docs, "PA")
		m := f.create(f.input(rome(2026, 4, 10, 10, 0)))
		in := meeting.MinutesInput{Body: "## Sintesi\r\n\nSi è discusso di **accesso ai servizi**.\n",
			Decisions: []string{"  Mappare gli sportelli ", "", "Chiedere all'ASP\nun referente"}, SectionIDs: []int64{sec[2], sec[0], sec[2]}}
		before := f.snapshot()
		_, err := f.svc.SetMinutes(f.as(f.coord), m.ID, in)
		refused(t, "a planned meeting", err, apperr.Conflict, "NOT_HELD", "")
		f.unchanged(before, "minutes of a planned meeting")

		f.at(m.EndsAt)
		if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Held, ""); err != nil {
			t.Fatal(err)
		}
		events, err := f.svc.Subscribe(f.as(f.coord), f.terr["EN"])
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.SetMinutes(f.as(f.coord), m.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Body != "## Sintesi\n\nSi è discusso di **accesso ai servizi**." || strings.Join(got.Decisions, "|") != "Mappare gli sportelli|Chiedere all'ASP\nun referente" ||
			len(got.SectionIDs) != 2 || got.SectionIDs[0] != sec[0] || got.SectionIDs[1] != sec[2] || *got.UpdatedBy != f.coord.PersonID {
			t.Errorf("minutes %+v", got)
		}
		select {
		case ev := <-events:
			if ev.Kind != meeting.MinutesChanged || ev.MeetingID != m.ID {
				t.Errorf("event %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Error("no event for the minutes")
		}
		read, err := f.svc.Minutes(f.as(f.stranger), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if read.Body != got.Body || strings.Join(read.Decisions, "|") != strings.Join(got.Decisions, "|") ||
			len(read.SectionIDs) != 2 || read.SectionIDs[0] != sec[0] || read.SectionIDs[1] != sec[2] || !read.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("read back %+v", read)
		}

		// Refusals change nothing.
		before = f.snapshot()
		ghost := int64(999_999)
		for _, c := range []struct {
			what, field string
			edit        func(*meeting.MinutesInput)
		}{
			{"a long body", "body", func(in *meeting.MinutesInput) { in.Body = strings.Repeat("a", 100_001) }},
			{"a body with NUL", "body", func(in *meeting.MinutesInput) { in.Body = "a\x00" }},
			{"too many decisions", "decisions", func(in *meeting.MinutesInput) { in.Decisions = make([]string, 101); fillDecisions(in.Decisions) }},
			{"a long decision", "decisions", func(in *meeting.MinutesInput) { in.Decisions = []string{strings.Repeat("d", 2001)} }},
			{"an unknown section", "sections", func(in *meeting.MinutesInput) { in.SectionIDs = []int64{sec[0], ghost} }},
			{"another territory's section", "sections", func(in *meeting.MinutesInput) { in.SectionIDs = []int64{pa[0]} }},
		} {
			bad := in
			c.edit(&bad)
			_, err := f.svc.SetMinutes(f.as(f.coord), m.ID, bad)
			refused(t, c.what, err, apperr.BadInput, "", c.field)
		}
		for _, c := range []struct {
			who  string
			a    *access.Actor
			want apperr.Kind
		}{
			{"anonymous", access.Anonymous, apperr.Unauthenticated},
			{"a member", f.member, apperr.Forbidden},
			{"another territory's coordinator", f.outside, apperr.Forbidden},
		} {
			_, err := f.svc.SetMinutes(f.as(c.a), m.ID, in)
			refused(t, c.who, err, c.want, "", "")
		}
		_, err = f.svc.SetMinutes(f.as(f.coord), ghost, in)
		refused(t, "an unknown meeting", err, apperr.NotFound, "", "")
		f.unchanged(before, "refused minutes")
		// A removed section is refused.
		if _, err := docs.RemoveSection(f.as(f.admin), sec[1], doc.StructureVersion); err != nil {
			t.Fatal(err)
		}
		before = f.snapshot()
		_, err = f.svc.SetMinutes(f.as(f.coord), m.ID, meeting.MinutesInput{Body: "x", SectionIDs: []int64{sec[1]}})
		refused(t, "a removed section", err, apperr.BadInput, "", "sections")
		f.unchanged(before, "minutes with a removed section")

		// A new record replaces the old one whole.
		again, err := f.svc.SetMinutes(f.as(f.admin), m.ID, meeting.MinutesInput{Body: "Versione corretta", SectionIDs: []int64{sec[0]}})
		if err != nil {
			t.Fatal(err)
		}
		if again.Body != "Versione corretta" || len(again.Decisions) != 0 || len(again.SectionIDs) != 1 || *again.UpdatedBy != f.admin.PersonID {
			t.Errorf("replaced: %+v", again)
		}
		if n, s := f.count("meeting_minutes"), f.count("meeting_minutes_sections"); n != 1 || s != 1 {
			t.Errorf("%d minutes and %d links after a replacement", n, s)
		}
		read, _ = f.svc.Minutes(f.as(f.member), m.ID)
		if read.Body != "Versione corretta" || read.Decisions == nil || len(read.Decisions) != 0 || len(read.SectionIDs) != 1 {
			t.Errorf("read back the replacement %+v", read)
		}
	})
}

func fillDecisions(s []string) {
	for i := range s {
		s[i] = "decisione"
	}
}

// TestMinutesReads: minutes go to whoever reads the meeting, in two
// statements for a batch; a meeting without minutes has none.
func TestMinutesReads(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		docs := coedit.NewService(db, coedit.Options{Now: f.clock.Now})
		t.Cleanup(docs.Close)
		_, sec := f.guideline(docs, "EN")
		pub := f.create(f.input(rome(2026, 4, 10, 10, 0)))
		in := f.input(rome(2026, 4, 11, 10, 0))
		in.Private = true
		priv := f.create(in)
		none := f.create(f.input(rome(2026, 4, 12, 10, 0)))
		if _, err := f.svc.InvitePerson(f.as(f.coord), priv.ID, f.stranger.PersonID, nil); err != nil {
			t.Fatal(err)
		}
		f.at(none.EndsAt)
		for _, m := range []*meeting.Meeting{pub, priv, none} {
			if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Held, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range []*meeting.Meeting{pub, priv} {
			if _, err := f.svc.SetMinutes(f.as(f.coord), m.ID, meeting.MinutesInput{Body: "Verbale", Decisions: []string{"Una"},
				SectionIDs: sec[:2]}); err != nil {
				t.Fatal(err)
			}
		}
		if mm, err := f.svc.Minutes(f.as(f.coord), none.ID); err != nil || mm != nil {
			t.Errorf("a meeting without minutes: %+v %v", mm, err)
		}
		if _, err := f.svc.Minutes(f.as(f.outside), priv.ID); kind(err) != apperr.NotFound {
			t.Errorf("another territory reading a private meeting's minutes: %v", err)
		}
		ids := []int64{pub.ID, priv.ID, none.ID}
		counter := storage.CountStatements(db)
		all, err := f.svc.MinutesOf(f.as(f.member), ids)
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 2 {
			t.Errorf("MinutesOf ran %d statements, want 2", n)
		}
		if len(all) != 2 || len(all[pub.ID].SectionIDs) != 2 || all[priv.ID].SectionIDs[1] != sec[1] || all[pub.ID].Decisions[0] != "Una" {
			t.Errorf("MinutesOf %+v", all)
		}
		if got, _ := f.svc.MinutesOf(f.as(f.stranger), ids); len(got) != 2 {
			t.Errorf("an invitee of the private meeting reads %d minutes", len(got))
		}
		if got, _ := f.svc.MinutesOf(f.as(f.outside), ids); len(got) != 1 || got[pub.ID] == nil {
			t.Errorf("another territory reads %v", got)
		}
		if _, err := f.svc.MinutesOf(context.Background(), ids); kind(err) != apperr.Unauthenticated {
			t.Errorf("anonymous: %v", err)
		}
	})
}
