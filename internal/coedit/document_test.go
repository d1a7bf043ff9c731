package coedit_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// coreWant fails unless err is of kind (and, when given, reason).
func coreWant(t *testing.T, err error, kind apperr.Kind, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %s %s", kind, reason)
	}
	if got := apperr.KindOf(err); got != kind {
		t.Fatalf("got %s (%v); want %s %s", got, err, kind, reason)
	}
	if reason != "" && apperr.ReasonOf(err) != reason {
		t.Fatalf("got reason %q (%v); want %s", apperr.ReasonOf(err), err, reason)
	}
}

// coreCount counts a table's rows.
func coreCount(t *testing.T, db *bun.DB, table string) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// coreStructure is what a user sees of a document's structure: its title,
// structure version and sections as "position:title" in order.
func coreStructure(t *testing.T, f *fixture, id int64) string {
	t.Helper()
	d, err := f.svc.Document(f.as(f.admin), id)
	if err != nil {
		t.Fatal(err)
	}
	secs, err := f.svc.SectionsOfDocuments(f.as(f.admin), []int64{id}, true)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(d.Title + " v" + strconv.Itoa(d.StructureVersion) + ":")
	for _, s := range secs[id] {
		b.WriteString(" " + strconv.Itoa(s.Position) + ":" + s.Title)
		if s.Removed != nil {
			b.WriteString("(removed)")
		}
	}
	return b.String()
}

func TestCreateDocumentWithSections(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Introduzione", "", "Città è già")
		if d.Status != coedit.Draft || d.StructureVersion != 1 || d.TerritoryID != f.terr["EN"] || d.WorkingGroupID != f.groups["EN"] {
			t.Fatalf("document = %+v", d)
		}
		if len(secs) != 3 {
			t.Fatalf("%d sections", len(secs))
		}
		for i, want := range []string{"Introduzione", "", "Città è già"} {
			s := secs[i]
			if s.Position != i || s.Version != 0 || s.Length != len([]rune(want)) || s.Title != "Sezione "+string(rune('1'+i)) {
				t.Fatalf("section %d = %+v", i, s)
			}
			text, v, err := f.svc.SectionText(f.as(f.member), s.ID)
			if err != nil || text != want || v != 0 {
				t.Fatalf("text of %d = %q v%d %v; want %q", i, text, v, err, want)
			}
		}
		// No log rows: a body is the snapshot at version 0, one row per
		// section.
		if n := coreCount(t, db, "section_ops"); n != 0 {
			t.Fatalf("%d log rows", n)
		}
		for i, want := range []string{"Introduzione", "", "Città è già"} {
			var snaps []coedit.SectionSnapshot
			if err := db.NewSelect().Model(&snaps).Where("section_id = ?", secs[i].ID).Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(snaps) != 1 || snaps[0].Version != 0 || snaps[0].Text != want {
				t.Fatalf("snapshots of section %d: %+v; want %q at 0", i, snaps, want)
			}
		}
		// Titles are trimmed; a theme is kept.
		var theme int64
		for _, id := range f.themes {
			theme = id
		}
		d2, err := f.svc.CreateDocument(f.as(f.admin), coedit.DocumentInput{WorkingGroupID: f.groups["EN"], Title: "  Due   parole ",
			Sections: []coedit.SectionInput{{Title: " Uno ", ThemeID: &theme}}})
		if err != nil {
			t.Fatal(err)
		}
		if d2.Title != "Due parole" {
			t.Fatalf("title %q", d2.Title)
		}
		s2, _ := f.svc.SectionsOfDocuments(f.as(f.admin), []int64{d2.ID}, false)
		if got := s2[d2.ID]; len(got) != 1 || got[0].Title != "Uno" || got[0].ThemeID == nil || *got[0].ThemeID != theme {
			t.Fatalf("sections %+v", got)
		}
	})
}

func TestCreateDocumentRefusals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db, func(o *coedit.Options) { o.MaxSectionRunes = 10 })
		en := f.groups["EN"]
		missing := int64(999999)
		cases := []struct {
			name   string
			actor  *access.Actor
			in     coedit.DocumentInput
			kind   apperr.Kind
			reason string
		}{
			{"anonymous", nil, coedit.DocumentInput{WorkingGroupID: en, Title: "T"}, apperr.Unauthenticated, ""},
			{"member", f.member, coedit.DocumentInput{WorkingGroupID: en, Title: "T"}, apperr.Forbidden, ""},
			{"observer", f.observer, coedit.DocumentInput{WorkingGroupID: en, Title: "T"}, apperr.Forbidden, ""},
			{"policy maker", f.policy, coedit.DocumentInput{WorkingGroupID: en, Title: "T"}, apperr.Forbidden, ""},
			{"coordinator of another territory", f.outside, coedit.DocumentInput{WorkingGroupID: en, Title: "T"}, apperr.Forbidden, ""},
			{"unknown group", f.coord, coedit.DocumentInput{WorkingGroupID: missing, Title: "T"}, apperr.BadInput, ""},
			{"empty title", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: "   "}, apperr.BadInput, ""},
			{"long title", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: strings.Repeat("à", 301)}, apperr.BadInput, ""},
			{"bad UTF-8 title", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: "a\xffb"}, apperr.BadInput, "INVALID_UTF8"},
			{"empty section title", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: "T",
				Sections: []coedit.SectionInput{{Title: ""}}}, apperr.BadInput, ""},
			{"bad UTF-8 body", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: "T",
				Sections: []coedit.SectionInput{{Title: "S", Body: "\xc3("}}}, apperr.BadInput, "INVALID_UTF8"},
			{"body too large", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: "T",
				Sections: []coedit.SectionInput{{Title: "S", Body: "01234567890"}}}, apperr.BadInput, "SECTION_TOO_LARGE"},
			{"unknown theme", f.coord, coedit.DocumentInput{WorkingGroupID: en, Title: "T",
				Sections: []coedit.SectionInput{{Title: "S", ThemeID: &missing}}}, apperr.BadInput, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				if c.actor != nil {
					ctx = f.as(c.actor)
				}
				_, err := f.svc.CreateDocument(ctx, c.in)
				coreWant(t, err, c.kind, c.reason)
				if n := coreCount(t, db, "documents") + coreCount(t, db, "sections"); n != 0 {
					t.Fatalf("%d rows written", n)
				}
			})
		}
		// Exactly 10 code points fit (the limit counts characters, not bytes).
		if _, err := f.svc.CreateDocument(f.as(f.coord), coedit.DocumentInput{WorkingGroupID: en, Title: "T",
			Sections: []coedit.SectionInput{{Title: "S", Body: "àèìòùàèìòù"}}}); err != nil {
			t.Fatal(err)
		}
		// An archived group takes no new documents.
		if _, err := f.net.ArchiveWorkingGroup(f.as(f.admin), f.groups["PA"], true); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.CreateDocument(f.as(f.admin), coedit.DocumentInput{WorkingGroupID: f.groups["PA"], Title: "T"})
		coreWant(t, err, apperr.Conflict, "")
		if n := coreCount(t, db, "documents"); n != 1 {
			t.Fatalf("%d documents", n)
		}
	})
}

func TestDocumentAccessByRole(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("testo")
		pa, err := f.svc.CreateDocument(f.as(f.outside), coedit.DocumentInput{WorkingGroupID: f.groups["PA"], Title: "Palermo"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []*access.Actor{f.admin, f.policy, f.coord, f.member, f.observer} {
			if _, err := f.svc.Document(f.as(a), d.ID); err != nil {
				t.Fatalf("%d reads: %v", a.PersonID, err)
			}
			if _, _, err := f.svc.SectionText(f.as(a), secs[0].ID); err != nil {
				t.Fatalf("%d reads the text: %v", a.PersonID, err)
			}
		}
		_, err = f.svc.Document(f.as(f.outside), d.ID)
		coreWant(t, err, apperr.NotFound, "")
		_, err = f.svc.Section(f.as(f.outside), secs[0].ID)
		coreWant(t, err, apperr.NotFound, "")
		_, _, err = f.svc.SectionText(f.as(f.outside), secs[0].ID)
		coreWant(t, err, apperr.NotFound, "")
		_, err = f.svc.Document(context.Background(), d.ID)
		coreWant(t, err, apperr.Unauthenticated, "")
		_, err = f.svc.Document(f.as(f.member), 424242)
		coreWant(t, err, apperr.NotFound, "")

		// Lists count only what the caller sees.
		count := func(a *access.Actor, filter coedit.DocumentFilter) int {
			t.Helper()
			p, err := f.svc.Documents(f.as(a), filter, relay.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != p.TotalCount {
				t.Fatalf("%d items, total %d", len(p.Items), p.TotalCount)
			}
			return p.TotalCount
		}
		for a, want := range map[*access.Actor]int{f.admin: 2, f.policy: 2, f.member: 1, f.observer: 1, f.outside: 1} {
			if got := count(a, coedit.DocumentFilter{}); got != want {
				t.Fatalf("actor %d sees %d documents; want %d", a.PersonID, got, want)
			}
		}
		if got := count(f.admin, coedit.DocumentFilter{TerritoryID: f.terr["PA"]}); got != 1 {
			t.Fatalf("PA filter: %d", got)
		}
		if got := count(f.member, coedit.DocumentFilter{TerritoryID: f.terr["PA"]}); got != 0 {
			t.Fatalf("member, PA filter: %d", got)
		}
		if got := count(f.admin, coedit.DocumentFilter{Status: coedit.InReview}); got != 0 {
			t.Fatalf("IN_REVIEW filter: %d", got)
		}
		_, err = f.svc.Documents(f.as(f.admin), coedit.DocumentFilter{Status: "LOST"}, relay.PageArgs{})
		coreWant(t, err, apperr.BadInput, "")
		// Newest first, paged.
		one := 1
		p, err := f.svc.Documents(f.as(f.admin), coedit.DocumentFilter{}, relay.PageArgs{First: &one})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != pa.ID || !p.HasNextPage {
			t.Fatalf("first page %+v %v", p, err)
		}
		p, err = f.svc.Documents(f.as(f.admin), coedit.DocumentFilter{}, relay.PageArgs{First: &one, After: &p.Cursors[0]})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != d.ID || p.HasNextPage {
			t.Fatalf("second page %+v %v", p, err)
		}

		// Batch readers keep what the caller may read.
		byID, err := f.svc.DocumentsByID(f.as(f.member), []int64{d.ID, pa.ID})
		if err != nil || len(byID) != 1 || byID[d.ID] == nil {
			t.Fatalf("DocumentsByID = %v %v", byID, err)
		}
		ofGroups, err := f.svc.DocumentsOfGroups(f.as(f.outside), []int64{f.groups["EN"], f.groups["PA"]})
		if err != nil || len(ofGroups[f.groups["EN"]]) != 0 || len(ofGroups[f.groups["PA"]]) != 1 {
			t.Fatalf("DocumentsOfGroups = %v %v", ofGroups, err)
		}
		secsOf, err := f.svc.SectionsOfDocuments(f.as(f.outside), []int64{d.ID, pa.ID}, true)
		if err != nil || len(secsOf[d.ID]) != 0 {
			t.Fatalf("SectionsOfDocuments = %v %v", secsOf, err)
		}
		secsByID, err := f.svc.SectionsByID(f.as(f.outside), []int64{secs[0].ID})
		if err != nil || len(secsByID) != 0 {
			t.Fatalf("SectionsByID = %v %v", secsByID, err)
		}
		secsByID, err = f.svc.SectionsByID(f.as(f.policy), []int64{secs[0].ID})
		if err != nil || len(secsByID) != 1 {
			t.Fatalf("SectionsByID as policy maker = %v %v", secsByID, err)
		}
	})
}

func TestStructureChanges(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("a", "b", "c")
		ctx := f.as(f.member)
		want := func(s string) {
			t.Helper()
			if got := coreStructure(t, f, d.ID); got != s {
				t.Fatalf("structure\n got %s\nwant %s", got, s)
			}
		}
		want("Linee guida Enna v1: 0:Sezione 1 1:Sezione 2 2:Sezione 3")

		// A stale structure version changes nothing.
		_, err := f.svc.UpdateDocument(ctx, d.ID, 0, "Nuovo")
		coreWant(t, err, apperr.Conflict, "STALE_STRUCTURE")
		want("Linee guida Enna v1: 0:Sezione 1 1:Sezione 2 2:Sezione 3")

		got, err := f.svc.UpdateDocument(ctx, d.ID, 1, "  Nuovo titolo ")
		if err != nil || got.Title != "Nuovo titolo" || got.StructureVersion != 2 {
			t.Fatalf("UpdateDocument = %+v %v", got, err)
		}
		pos := 1
		added, err := f.svc.AddSection(ctx, coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: 2, Position: &pos,
			SectionInput: coedit.SectionInput{Title: "Nuova", Body: "corpo"}})
		if err != nil || added.Position != 1 || added.Length != 5 || added.Version != 0 {
			t.Fatalf("AddSection = %+v %v", added, err)
		}
		want("Nuovo titolo v3: 0:Sezione 1 1:Nuova 2:Sezione 2 3:Sezione 3")
		if text, v, err := f.svc.SectionText(ctx, added.ID); err != nil || text != "corpo" || v != 0 {
			t.Fatalf("new section text %q v%d %v", text, v, err)
		}
		if _, err := f.svc.AddSection(ctx, coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: 3,
			SectionInput: coedit.SectionInput{Title: "Ultima"}}); err != nil {
			t.Fatal(err)
		}
		want("Nuovo titolo v4: 0:Sezione 1 1:Nuova 2:Sezione 2 3:Sezione 3 4:Ultima")
		bad := 6
		_, err = f.svc.AddSection(ctx, coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: 4, Position: &bad,
			SectionInput: coedit.SectionInput{Title: "X"}})
		coreWant(t, err, apperr.BadInput, "")
		if _, err := f.svc.MoveSection(ctx, secs[0].ID, 4, 3); err != nil {
			t.Fatal(err)
		}
		want("Nuovo titolo v5: 0:Nuova 1:Sezione 2 2:Sezione 3 3:Sezione 1 4:Ultima")
		_, err = f.svc.MoveSection(ctx, secs[0].ID, 5, 5)
		coreWant(t, err, apperr.BadInput, "")
		_, err = f.svc.MoveSection(ctx, secs[0].ID, 4, 0)
		coreWant(t, err, apperr.Conflict, "STALE_STRUCTURE")

		// A removed section keeps its log; the others close up.
		if _, err := f.svc.EditSection(ctx, coedit.EditInput{SectionID: secs[1].ID, BaseVersion: 0,
			Op: coreOp(1, "!"), ClientID: "c1", ClientSeq: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RemoveSection(ctx, secs[1].ID, 5); err != nil {
			t.Fatal(err)
		}
		want("Nuovo titolo v6: 0:Nuova 1:Sezione 3 2:Sezione 1 3:Ultima 1:Sezione 2(removed)")
		live, _ := f.svc.SectionsOfDocuments(ctx, []int64{d.ID}, false)
		if len(live[d.ID]) != 4 {
			t.Fatalf("%d live sections", len(live[d.ID]))
		}
		log, err := f.svc.Log(ctx, secs[1].ID, 0, 0)
		if err != nil || len(log) != 1 {
			t.Fatalf("log of the removed section: %v %v", log, err)
		}
		if text, _, err := f.svc.SectionText(ctx, secs[1].ID); err != nil || text != "b!" {
			t.Fatalf("removed section's text %q %v", text, err)
		}
		_, err = f.svc.RemoveSection(ctx, secs[1].ID, 6)
		coreWant(t, err, apperr.Conflict, "")
		_, err = f.svc.UpdateSection(ctx, secs[1].ID, 6, "T", nil)
		coreWant(t, err, apperr.Conflict, "")
		_, err = f.svc.EditSection(ctx, coedit.EditInput{SectionID: secs[1].ID, BaseVersion: 1, Op: coreOp(2, "?"), ClientID: "c1", ClientSeq: 2})
		coreWant(t, err, apperr.Conflict, "")
		var theme int64
		for _, id := range f.themes {
			theme = id
		}
		sec, err := f.svc.UpdateSection(ctx, secs[2].ID, 6, "Terza", &theme)
		if err != nil || sec.Title != "Terza" || sec.ThemeID == nil || *sec.ThemeID != theme {
			t.Fatalf("UpdateSection = %+v %v", sec, err)
		}
		missing := int64(987654)
		_, err = f.svc.UpdateSection(ctx, secs[2].ID, 7, "Terza", &missing)
		coreWant(t, err, apperr.BadInput, "")
		want("Nuovo titolo v7: 0:Nuova 1:Terza 2:Sezione 1 3:Ultima 1:Sezione 2(removed)")

		// Who may change the structure.
		for _, c := range []struct {
			a    *access.Actor
			kind apperr.Kind
		}{{f.observer, apperr.Forbidden}, {f.policy, apperr.Forbidden}, {f.outside, apperr.NotFound}} {
			_, err := f.svc.UpdateDocument(f.as(c.a), d.ID, 7, "X")
			coreWant(t, err, c.kind, "")
			_, err = f.svc.MoveSection(f.as(c.a), secs[0].ID, 7, 0)
			coreWant(t, err, c.kind, "")
			_, err = f.svc.RemoveSection(f.as(c.a), secs[0].ID, 7)
			coreWant(t, err, c.kind, "")
			_, err = f.svc.AddSection(f.as(c.a), coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: 7,
				SectionInput: coedit.SectionInput{Title: "X"}})
			coreWant(t, err, c.kind, "")
		}
		if _, err := f.svc.UpdateDocument(f.as(f.admin), d.ID, 7, "Dall'amministratore"); err != nil {
			t.Fatal(err)
		}
		// Out of DRAFT the structure is frozen.
		coreSetStatus(t, f, d.ID, coedit.InReview)
		_, err = f.svc.UpdateDocument(ctx, d.ID, 8, "X")
		coreWant(t, err, apperr.Conflict, "NOT_DRAFT")
		_, err = f.svc.AddSection(ctx, coedit.AddSectionInput{DocumentID: d.ID, StructureVersion: 8, SectionInput: coedit.SectionInput{Title: "X"}})
		coreWant(t, err, apperr.Conflict, "NOT_DRAFT")
		want("Dall'amministratore v8: 0:Nuova 1:Terza 2:Sezione 1 3:Ultima 1:Sezione 2(removed)")
	})
}

// coreSetStatus moves a document's status in the database, as the review
// (another file's) does, to test what depends on it.
func coreSetStatus(t *testing.T, f *fixture, id int64, st coedit.Status) {
	t.Helper()
	if _, err := f.db.NewUpdate().Table("documents").Set("status = ?", st).Where("id = ?", id).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}
