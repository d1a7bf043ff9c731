package coedit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// reviewPath is the way to each status from DRAFT.
var reviewPath = map[coedit.Status][]coedit.Status{
	coedit.Draft:     nil,
	coedit.InReview:  {coedit.InReview},
	coedit.Approved:  {coedit.InReview, coedit.Approved},
	coedit.Published: {coedit.InReview, coedit.Approved, coedit.Published},
}

// reviewTo moves a draft document along the path to status.
func reviewTo(t *testing.T, f *fixture, id int64, status coedit.Status) {
	t.Helper()
	for _, s := range reviewPath[status] {
		if _, err := f.svc.ChangeStatus(f.as(f.coord), id, s, ""); err != nil {
			t.Fatalf("to %s: %v", s, err)
		}
	}
}

func TestReviewStateMachine(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		statuses := []coedit.Status{coedit.Draft, coedit.InReview, coedit.Approved, coedit.Published}
		legal := map[[2]coedit.Status]bool{
			{coedit.Draft, coedit.InReview}:     true,
			{coedit.InReview, coedit.Draft}:     true,
			{coedit.InReview, coedit.Approved}:  true,
			{coedit.Approved, coedit.Published}: true,
		}
		allowed := map[coedit.Status][]string{
			coedit.Draft: {"IN_REVIEW"}, coedit.InReview: {"DRAFT", "APPROVED"}, coedit.Approved: {"PUBLISHED"}, coedit.Published: {"final"},
		}
		for _, from := range statuses {
			for _, to := range statuses {
				t.Run(string(from)+"->"+string(to), func(t *testing.T) {
					d, _ := f.doc("Testo")
					reviewTo(t, f, d.ID, from)
					before := featTables(t, db)
					got, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, to, "nota")
					if !legal[[2]coedit.Status{from, to}] {
						featWant(t, err, apperr.Conflict, "", "BAD_TRANSITION")
						_, msg, _ := apperr.Public(err)
						for _, s := range allowed[from] {
							if !strings.Contains(msg, s) {
								t.Errorf("the message %q does not name %s", msg, s)
							}
						}
						featUnchanged(t, db, before)
						if now, _ := f.svc.Document(f.as(f.coord), d.ID); now.Status != from {
							t.Errorf("the status moved to %s", now.Status)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if got.Status != to {
						t.Errorf("status %s", got.Status)
					}
					if now, _ := f.svc.Document(f.as(f.member), d.ID); now.Status != to {
						t.Errorf("stored status %s", now.Status)
					}
					trs, err := f.svc.Transitions(f.as(f.observer), d.ID)
					if err != nil {
						t.Fatal(err)
					}
					last := trs[len(trs)-1]
					if len(trs) != len(reviewPath[from])+1 || last.From != from || last.To != to || last.Note != "nota" ||
						*last.ActorID != f.coord.PersonID || (last.VersionID != nil) != (to == coedit.Published) {
						t.Errorf("transitions %+v", trs)
					}
				})
			}
		}
	})
}

func TestEditingStopsWhenTheDocumentLeavesDraft(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Testo")
		edit := func() error {
			_, v := featText(t, f, secs[0].ID)
			_, err := f.svc.EditSection(f.as(f.member), coedit.EditInput{SectionID: secs[0].ID, BaseVersion: v,
				Op: ot.Op{{Retain: 5}, {Insert: "!"}}, ClientID: "review-test", ClientSeq: v + 1})
			return err
		}
		for _, to := range []coedit.Status{coedit.InReview, coedit.Approved, coedit.Published} {
			if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, to, ""); err != nil {
				t.Fatal(err)
			}
			before := featTables(t, db)
			featWant(t, edit(), apperr.Conflict, "", "NOT_DRAFT")
			featUnchanged(t, db, before)
			if text, _ := featText(t, f, secs[0].ID); text != "Testo" {
				t.Errorf("in %s the text became %q", to, text)
			}
		}
		// Back in draft, edits go through again.
		d2, secs2 := f.doc("Altro")
		reviewTo(t, f, d2.ID, coedit.InReview)
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d2.ID, coedit.Draft, "da rivedere"); err != nil {
			t.Fatal(err)
		}
		featEdit(t, f, f.member, secs2[0].ID, 0, ot.Op{{Retain: 5}, {Insert: "!"}})
		if text, _ := featText(t, f, secs2[0].ID); text != "Altro!" {
			t.Errorf("text %q", text)
		}
	})
}

func TestPublishingFreezesAVersion(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Primo", "Secondo")
		featAppend(t, f, f.member, secs[0].ID, " testo")
		reviewTo(t, f, d.ID, coedit.Approved)
		// 23:30 UTC is already the next day in Rome.
		f.clock.Advance(14*time.Hour + 30*time.Minute)
		got, err := f.svc.ChangeStatus(f.as(f.admin), d.ID, coedit.Published, "approvato dal tavolo")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != coedit.Published || got.PublishedVersionID == nil {
			t.Fatalf("document %+v", got)
		}
		v, err := f.svc.VersionByID(f.as(f.policy), *got.PublishedVersionID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind != coedit.PublishedVersion || v.Name != "Pubblicata il 23 novembre 2026" || v.Note != "approvato dal tavolo" || *v.CreatedBy != f.admin.PersonID {
			t.Errorf("version %+v", v)
		}
		vs, err := f.svc.VersionSections(f.as(f.policy), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 2 || vs[0].Text != "Primo testo" || vs[1].Text != "Secondo" {
			t.Errorf("published sections %+v", vs)
		}
		trs, err := f.svc.Transitions(f.as(f.policy), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := [][2]coedit.Status{{coedit.Draft, coedit.InReview}, {coedit.InReview, coedit.Approved}, {coedit.Approved, coedit.Published}}
		if len(trs) != len(want) {
			t.Fatalf("transitions %+v", trs)
		}
		for i, w := range want {
			if trs[i].From != w[0] || trs[i].To != w[1] {
				t.Errorf("transition %d: %s -> %s", i, trs[i].From, trs[i].To)
			}
		}
		if trs[2].VersionID == nil || *trs[2].VersionID != v.ID || !trs[2].At.Equal(f.clock.Now()) {
			t.Errorf("the publication %+v", trs[2])
		}
		list, err := f.svc.Versions(f.as(f.member), d.ID)
		if err != nil || len(list) != 1 || list[0].ID != v.ID {
			t.Errorf("versions %+v, %v", list, err)
		}
	})
}

func TestChangeStatusRefusals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, _ := f.doc("Testo")
		cases := []struct {
			name  string
			actor *access.Actor
			to    coedit.Status
			note  string
			kind  apperr.Kind
			field string
		}{
			{"member", f.member, coedit.InReview, "", apperr.Forbidden, ""},
			{"observer", f.observer, coedit.InReview, "", apperr.Forbidden, ""},
			{"policy maker", f.policy, coedit.InReview, "", apperr.Forbidden, ""},
			{"outsider", f.outside, coedit.InReview, "", apperr.NotFound, ""},
			{"anonymous", nil, coedit.InReview, "", apperr.Unauthenticated, ""},
			{"unknown status", f.coord, coedit.Status("ARCHIVED"), "", apperr.BadInput, "status"},
			{"long note", f.coord, coedit.InReview, strings.Repeat("x", 2001), apperr.BadInput, "note"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := featTables(t, db)
				_, err := f.svc.ChangeStatus(f.as(c.actor), d.ID, c.to, c.note)
				featWant(t, err, c.kind, c.field, "")
				featUnchanged(t, db, before)
			})
		}
		if now, _ := f.svc.Document(f.as(f.coord), d.ID); now.Status != coedit.Draft {
			t.Errorf("status %s", now.Status)
		}
		if _, err := f.svc.Transitions(f.as(f.policy), d.ID); err != nil {
			t.Error(err)
		}
		_, err := f.svc.Transitions(f.as(f.outside), d.ID)
		featWant(t, err, apperr.NotFound, "", "")
	})
}
