package coedit_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// featStructure is a document's structure version now.
func featStructure(t *testing.T, f *fixture, id int64) int {
	t.Helper()
	d, err := f.svc.Document(f.as(f.admin), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.StructureVersion
}

// featAppend appends s to a section's text as a.
func featAppend(t *testing.T, f *fixture, a *access.Actor, sectionID int64, s string) {
	t.Helper()
	text, v := featText(t, f, sectionID)
	n := utf8.RuneCountInString(text)
	op := ot.Op{{Insert: s}}
	if n > 0 {
		op = ot.Op{{Retain: n}, {Insert: s}}
	}
	featEdit(t, f, a, sectionID, v, op)
}

func TestNameVersionSnapshotsTheTextsOfThatMoment(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Primo testo", "Secondo testo 🙂", "")
		featAppend(t, f, f.member, secs[0].ID, " modificato")
		featAppend(t, f, f.coord, secs[2].ID, "terzo")
		want := map[int64]string{}
		wantV := map[int64]int64{}
		for _, s := range secs {
			want[s.ID], wantV[s.ID] = featText(t, f, s.ID)
		}
		v1, err := f.svc.NameVersion(f.as(f.member), d.ID, "  Bozza   1 ", "prima lettura\n")
		if err != nil {
			t.Fatal(err)
		}
		if v1.Name != "Bozza 1" || v1.Note != "prima lettura" || v1.Kind != coedit.NamedVersion || v1.Title != "Linee guida Enna" ||
			*v1.CreatedBy != f.member.PersonID || v1.DocumentID != d.ID {
			t.Fatalf("version %+v", v1)
		}
		// Later edits do not touch it.
		featAppend(t, f, f.member, secs[0].ID, " ancora")
		featAppend(t, f, f.member, secs[1].ID, "!")
		vs, err := f.svc.VersionSections(f.as(f.policy), v1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 3 {
			t.Fatalf("%d sections", len(vs))
		}
		for i, s := range vs {
			if s.SectionID != secs[i].ID || s.Position != i || s.Title != fmt.Sprintf("Sezione %d", i+1) ||
				s.Text != want[s.SectionID] || s.SectionVersion != wantV[s.SectionID] {
				t.Errorf("section %d: %+v; want text %q at %d", i, s, want[s.SectionID], wantV[s.SectionID])
			}
		}
		// Naming is allowed in any status.
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, coedit.InReview, ""); err != nil {
			t.Fatal(err)
		}
		v2, err := f.svc.NameVersion(f.as(f.coord), d.ID, "In revisione", "")
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.Versions(f.as(f.observer), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != v2.ID || list[1].ID != v1.ID {
			t.Errorf("versions %+v", list)
		}
		got, err := f.svc.VersionByID(f.as(f.policy), v1.ID)
		if err != nil || got.Name != "Bozza 1" {
			t.Errorf("version by id: %+v, %v", got, err)
		}
	})
}

func TestNameVersionRefusalsAndAccess(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, _ := f.doc("Testo")
		v, err := f.svc.NameVersion(f.as(f.admin), d.ID, "Prima", "")
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name       string
			actor      *access.Actor
			vname      string
			note       string
			kind       apperr.Kind
			field      string
			documentID int64
		}{
			{"empty name", f.member, "   ", "", apperr.BadInput, "name", d.ID},
			{"long name", f.member, strings.Repeat("n", 201), "", apperr.BadInput, "name", d.ID},
			{"control characters", f.member, "a\x07b", "", apperr.BadInput, "name", d.ID},
			{"long note", f.member, "ok", strings.Repeat("è", 2001), apperr.BadInput, "note", d.ID},
			{"observer", f.observer, "ok", "", apperr.Forbidden, "", d.ID},
			{"policy maker", f.policy, "ok", "", apperr.Forbidden, "", d.ID},
			{"outsider", f.outside, "ok", "", apperr.NotFound, "", d.ID},
			{"unknown document", f.admin, "ok", "", apperr.NotFound, "", 999999},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := featTables(t, db)
				_, err := f.svc.NameVersion(f.as(c.actor), c.documentID, c.vname, c.note)
				featWant(t, err, c.kind, c.field, "")
				featUnchanged(t, db, before)
			})
		}
		if _, err := f.svc.NameVersion(f.as(f.member), d.ID, strings.Repeat("n", 200), strings.Repeat("è", 2000)); err != nil {
			t.Errorf("the longest name and note: %v", err)
		}
		// Readers read versions; others do not see them.
		if _, err := f.svc.Versions(f.as(f.policy), d.ID); err != nil {
			t.Error(err)
		}
		_, err = f.svc.Versions(f.as(f.outside), d.ID)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.VersionByID(f.as(f.outside), v.ID)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.VersionSections(f.as(f.outside), v.ID)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.Diff(f.as(f.outside), d.ID, v.ID, nil)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.VersionByID(f.as(f.admin), 999999)
		featWant(t, err, apperr.NotFound, "", "")
	})
}

// featSpell is the old and the new text a diff's hunks spell.
func featSpell(hs []coedit.Hunk) (old, cur string) {
	var o, n strings.Builder
	for _, h := range hs {
		switch h.Kind {
		case coedit.HunkEqual:
			o.WriteString(h.Text)
			n.WriteString(h.Text)
		case coedit.HunkDelete:
			o.WriteString(h.Text)
		case coedit.HunkInsert:
			n.WriteString(h.Text)
		}
	}
	return o.String(), n.String()
}

func TestDiffHunksSpellBothTexts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Il gatto dorme sul divano; il caffè è pronto.", "Da togliere", "Da rinominare", "Invariata")
		v1, err := f.svc.NameVersion(f.as(f.member), d.ID, "Prima", "")
		if err != nil {
			t.Fatal(err)
		}
		old := map[int64]string{}
		for _, s := range secs {
			old[s.ID], _ = featText(t, f, s.ID)
		}
		// "gatto" -> "cane 🐕", "dorme" -> "dorme sempre".
		featEdit(t, f, f.member, secs[0].ID, 0, ot.Op{{Retain: 3}, {Delete: 5}, {Insert: "cane 🐕"}, {Retain: 6}, {Insert: " sempre"}, {Retain: 31}})
		if _, err := f.svc.RemoveSection(f.as(f.member), secs[1].ID, featStructure(t, f, d.ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateSection(f.as(f.member), secs[2].ID, featStructure(t, f, d.ID), "Rinominata", nil); err != nil {
			t.Fatal(err)
		}
		added, err := f.svc.AddSection(f.as(f.member), coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: featStructure(t, f, d.ID),
			SectionInput: coedit.SectionInput{Title: "Nuova", Body: "Testo nuovo"}})
		if err != nil {
			t.Fatal(err)
		}
		now := map[int64]string{}
		for _, s := range append(secs, added) {
			now[s.ID], _ = featText(t, f, s.ID)
		}
		check := func(t *testing.T, diffs []*coedit.SectionDiff) {
			t.Helper()
			type row struct {
				id              int64
				change          coedit.Change
				title, oldTitle string
			}
			want := []row{
				{secs[0].ID, coedit.Changed, "Sezione 1", "Sezione 1"},
				{secs[2].ID, coedit.Changed, "Rinominata", "Sezione 3"},
				{secs[3].ID, coedit.Unchanged, "Sezione 4", "Sezione 4"},
				{added.ID, coedit.Added, "Nuova", ""},
				{secs[1].ID, coedit.Removed, "Sezione 2", "Sezione 2"},
			}
			if len(diffs) != len(want) {
				t.Fatalf("%d section diffs; want %d", len(diffs), len(want))
			}
			for i, w := range want {
				sd := diffs[i]
				if sd.SectionID != w.id || sd.Change != w.change || sd.Title != w.title || sd.OldTitle != w.oldTitle {
					t.Errorf("diff %d: %+v; want %+v", i, sd, w)
				}
				wantOld, wantNew := old[w.id], now[w.id]
				switch w.change {
				case coedit.Added:
					wantOld = ""
				case coedit.Removed:
					wantNew = ""
				}
				o, n := featSpell(sd.Hunks)
				if o != wantOld || n != wantNew {
					t.Errorf("diff %d spells %q -> %q; want %q -> %q", i, o, n, wantOld, wantNew)
				}
				ins, del := 0, 0
				for _, h := range sd.Hunks {
					switch h.Kind {
					case coedit.HunkInsert:
						ins += utf8.RuneCountInString(h.Text)
					case coedit.HunkDelete:
						del += utf8.RuneCountInString(h.Text)
					}
				}
				if sd.Inserted != ins || sd.Deleted != del || ins-del != utf8.RuneCountInString(wantNew)-utf8.RuneCountInString(wantOld) {
					t.Errorf("diff %d counts +%d -%d; hunks +%d -%d", i, sd.Inserted, sd.Deleted, ins, del)
				}
			}
		}
		diffs, err := f.svc.Diff(f.as(f.policy), d.ID, v1.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		check(t, diffs)
		v2, err := f.svc.NameVersion(f.as(f.member), d.ID, "Seconda", "")
		if err != nil {
			t.Fatal(err)
		}
		diffs, err = f.svc.Diff(f.as(f.observer), d.ID, v1.ID, &v2.ID)
		if err != nil {
			t.Fatal(err)
		}
		check(t, diffs)
		// A version against itself is unchanged throughout.
		diffs, err = f.svc.Diff(f.as(f.observer), d.ID, v2.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, sd := range diffs {
			if sd.Change != coedit.Unchanged || sd.Inserted != 0 || sd.Deleted != 0 {
				t.Errorf("v2 against now: %+v", sd)
			}
		}
		// Versions of another document are not this one's.
		other, _ := f.doc("Altro")
		w, err := f.svc.NameVersion(f.as(f.member), other.ID, "Altra", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Diff(f.as(f.member), d.ID, w.ID, nil)
		featWant(t, err, apperr.NotFound, "from", "")
		_, err = f.svc.Diff(f.as(f.member), d.ID, v1.ID, &w.ID)
		featWant(t, err, apperr.NotFound, "to", "")
	})
}

func TestRestoreVersionAddsOperationsAndKeepsHistory(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Il caffè 🙂 è e\u0301 pronto", "Seconda")
		featAppend(t, f, f.member, secs[0].ID, ", subito")
		v1, err := f.svc.NameVersion(f.as(f.member), d.ID, "Prima", "")
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{}
		for _, s := range secs {
			want[s.ID], _ = featText(t, f, s.ID)
		}
		featEdit(t, f, f.coord, secs[0].ID, 1, ot.Op{{Retain: 3}, {Delete: 6}, {Insert: "tè 🍵"}, {Retain: 21}})
		featAppend(t, f, f.coord, secs[0].ID, " per tutti")
		featAppend(t, f, f.coord, secs[1].ID, " parte")
		logBefore, err := f.svc.Log(f.as(f.admin), secs[0].ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}

		// Outside DRAFT a restore is refused and changes nothing.
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, coedit.InReview, ""); err != nil {
			t.Fatal(err)
		}
		before := featTables(t, db)
		_, err = f.svc.RestoreVersion(f.as(f.member), v1.ID)
		featWant(t, err, apperr.Conflict, "", "NOT_DRAFT")
		featUnchanged(t, db, before)
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, coedit.Draft, ""); err != nil {
			t.Fatal(err)
		}
		before = featTables(t, db)
		// Only editors restore.
		for _, c := range []struct {
			a    *access.Actor
			kind apperr.Kind
		}{{f.observer, apperr.Forbidden}, {f.policy, apperr.Forbidden}, {f.outside, apperr.NotFound}} {
			_, err = f.svc.RestoreVersion(f.as(c.a), v1.ID)
			featWant(t, err, c.kind, "", "")
		}
		featUnchanged(t, db, before)

		if _, err := f.svc.RestoreVersion(f.as(f.member), v1.ID); err != nil {
			t.Fatal(err)
		}
		for _, s := range secs {
			if got, _ := featText(t, f, s.ID); got != want[s.ID] {
				t.Errorf("section %d after the restore: %q; want %q", s.ID, got, want[s.ID])
			}
		}
		logAfter, err := f.svc.Log(f.as(f.admin), secs[0].ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(logAfter) != len(logBefore)+1 {
			t.Fatalf("the log grew from %d to %d rows", len(logBefore), len(logAfter))
		}
		for i, e := range logBefore {
			a := logAfter[i]
			if a.Version != e.Version || fmt.Sprint(a.Op) != fmt.Sprint(e.Op) || a.ClientID != e.ClientID || a.Origin != coedit.OriginEdit {
				t.Errorf("log row %d changed: %+v -> %+v", i, e, a)
			}
		}
		last := logAfter[len(logAfter)-1]
		if last.Origin != coedit.OriginRestore || last.ClientID != "restore:"+strconv.FormatInt(v1.ID, 10) ||
			last.ClientSeq != logBefore[len(logBefore)-1].Version || last.AuthorID == nil || *last.AuthorID != f.member.PersonID {
			t.Errorf("the restore's row: %+v", last)
		}
		// Restoring again finds nothing to change.
		ops := featRows(t, db, "section_ops")
		if _, err := f.svc.RestoreVersion(f.as(f.coord), v1.ID); err != nil {
			t.Fatal(err)
		}
		if n := featRows(t, db, "section_ops"); n != ops {
			t.Errorf("a second restore added %d rows", n-ops)
		}
		// A section removed since stays removed; the others are restored.
		featAppend(t, f, f.coord, secs[0].ID, " di nuovo")
		featAppend(t, f, f.coord, secs[1].ID, " via")
		if _, err := f.svc.RemoveSection(f.as(f.coord), secs[1].ID, featStructure(t, f, d.ID)); err != nil {
			t.Fatal(err)
		}
		_, v := featText(t, f, secs[1].ID)
		if _, err := f.svc.RestoreVersion(f.as(f.coord), v1.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := featText(t, f, secs[0].ID); got != want[secs[0].ID] {
			t.Errorf("section 1: %q", got)
		}
		if _, v2 := featText(t, f, secs[1].ID); v2 != v {
			t.Errorf("the removed section moved from version %d to %d", v, v2)
		}
		live, err := f.svc.SectionsOfDocuments(f.as(f.coord), []int64{d.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(live[d.ID]) != 1 {
			t.Errorf("%d live sections", len(live[d.ID]))
		}
	})
}

// featReplace sets a section's text to s as a, in one operation.
func featReplace(t *testing.T, f *fixture, a *access.Actor, sectionID int64, s string) {
	t.Helper()
	text, v := featText(t, f, sectionID)
	var op ot.Op
	if n := utf8.RuneCountInString(text); n > 0 {
		op = append(op, ot.Component{Delete: n})
	}
	if s != "" {
		op = append(op, ot.Component{Insert: s})
	}
	featEdit(t, f, a, sectionID, v, op)
}

// featProse is n words or so of made-up prose in paragraphs, the same for
// the same seed.
func featProse(seed, n int) string {
	words := []string{"casa", "diritto", "servizio", "territorio", "persone", "accesso", "sociale", "la", "il", "di", "e", "per", "città"}
	var b strings.Builder
	x := uint32(seed)
	for i := range n {
		x = x*1664525 + 1013904223
		b.WriteString(words[x>>16%uint32(len(words))])
		if i%17 == 16 {
			b.WriteString(".\n\n")
		} else {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// Diffs of large sections stay exact and cheap: a long text with a few
// changes is diffed by lines, then by characters, and its hunks are those
// few changes; a text of many lines changed at both ends, and texts built
// to make diffmatchpatch's search quadratic (one text almost inside the
// other, all alike), get coarser hunks, still exact. Restoring any of them
// gives exactly the version's text. The deadline only guards against a
// hang: without the bounds the repetitive texts take minutes.
func TestDiffOfLargeSectionsIsBounded(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db, func(o *coedit.Options) { o.MaxInsertRunes = 2_000_000 })
		prose := featProse(1, 25_000)
		var changed strings.Builder
		edits := 0
		for i, p := range strings.Split(prose, "\n\n") {
			if i%50 == 7 {
				p = strings.Replace(p, " ", " NUOVO ", 1)
				edits++
			}
			if i > 0 {
				changed.WriteString("\n\n")
			}
			changed.WriteString(p)
		}
		manyLines := strings.Repeat("riga\n", 30_000)
		olds := []string{prose, "inizio\n" + manyLines + "fine", "c" + strings.Repeat("a", 1_000_000), "c\n" + strings.Repeat("a\n", 300_000)}
		news := []string{changed.String(), "INIZIO\n" + manyLines + "FINE", strings.Repeat("a", 500_000) + "b", strings.Repeat("a\n", 150_000) + "b\n"}
		d, secs := f.doc(olds...)
		v1, err := f.svc.NameVersion(f.as(f.member), d.ID, "Prima", "")
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range secs {
			featReplace(t, f, f.member, s.ID, news[i])
		}
		type result struct {
			diffs []*coedit.SectionDiff
			err   error
		}
		done := make(chan result, 1)
		go func() {
			diffs, err := f.svc.Diff(f.as(f.observer), d.ID, v1.ID, nil)
			done <- result{diffs, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("Diff has not answered in a minute")
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.diffs) != len(secs) {
			t.Fatalf("%d section diffs", len(r.diffs))
		}
		for i, sd := range r.diffs {
			o, n := featSpell(sd.Hunks)
			if sd.Change != coedit.Changed || o != olds[i] || n != news[i] {
				t.Errorf("section %d: %s, the hunks do not spell its texts", i, sd.Change)
			}
		}
		// One paragraph in 50 got " NUOVO": the hunks say just that.
		if sd := r.diffs[0]; edits < 20 || sd.Inserted != edits*len(" NUOVO") || sd.Deleted != 0 {
			t.Errorf("a few changes in a long text: +%d -%d in %d hunks", sd.Inserted, sd.Deleted, len(sd.Hunks))
		}

		done2 := make(chan error, 1)
		go func() {
			_, err := f.svc.RestoreVersion(f.as(f.member), v1.ID)
			done2 <- err
		}()
		select {
		case err = <-done2:
		case <-time.After(60 * time.Second):
			t.Fatal("RestoreVersion has not answered in a minute")
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range secs {
			if text, _ := featText(t, f, s.ID); text != olds[i] {
				t.Errorf("section %d is not restored exactly (%d characters; want %d)", i, utf8.RuneCountInString(text), utf8.RuneCountInString(olds[i]))
			}
		}
	})
}

// A diff compares at most 4,000,000 characters (an unchanged text counts
// once): beyond, it is refused with DIFF_TOO_LARGE before any diffing.
func TestDiffTooLargeIsRefused(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		big := strings.Repeat("x", 2_000_000)
		d, _ := f.doc(big, big)
		v1, err := f.svc.NameVersion(f.as(f.member), d.ID, "Prima", "")
		if err != nil {
			t.Fatal(err)
		}
		diffs, err := f.svc.Diff(f.as(f.observer), d.ID, v1.ID, nil)
		if err != nil || len(diffs) != 2 || diffs[0].Change != coedit.Unchanged {
			t.Fatalf("4,000,000 characters: %v", err)
		}
		small, _ := f.doc(big, big, "e uno")
		v2, err := f.svc.NameVersion(f.as(f.member), small.ID, "Prima", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Diff(f.as(f.observer), small.ID, v2.ID, nil)
		featWant(t, err, apperr.BadInput, "", "DIFF_TOO_LARGE")
	})
}
