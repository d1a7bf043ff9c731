package graph_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/sheet"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// overviewCell is one cell of regionalOverview as a client reads it.
type overviewCell struct {
	Territory struct{ ID, Code, Name string }
	Theme     struct{ Code, LabelIt string }
	Meetings  struct {
		Planned, Held, Cancelled int
		Next                     *time.Time
	}
	Attendance struct {
		People, Guests, Organizations, Invited, Attended int
		ByKind                                           []struct {
			Kind  string
			Count int
		}
		BySector []struct {
			Sector string
			Count  int
		}
	}
	Sections struct {
		Count, WithContent, Words, Contributors, Edits7Days, Edits30Days int
	}
	Comments struct{ Open, Resolved int }
}

const regionalOverviewDoc = `{ regionalOverview { at cells { territory { id code name } theme { code labelIt }
	meetings { planned held cancelled next }
	attendance { people guests organizations invited attended byKind { kind count } bySector { sector count } }
	sections { count withContent words contributors edits7Days edits30Days } comments { open resolved } } } }`

// TestDemoRegionOverview is issue 7's done-when on the demo region: a
// policy maker sees the 36 cells, with figures that match the underlying
// records, computed here from the raw rows by docs/indicators.md's
// definitions; and the overview downloaded as XLSX and CSV opens with the
// same figures.
//
// The demo is seeded as `piad seed --demo` seeds it, its documents written
// 35 days before its meetings' seed day; then the Enna working group goes
// on through the API over nine days (edits on three days, a comment, a
// section added, written, commented and removed, a meeting cancelled), so
// that the edit windows, the removed section and the next meeting each
// leave some records out.
func TestDemoRegionOverview(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		day := 24 * time.Hour
		seedDay := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
		clock := testutil.NewClock(seedDay)                   // meetings and tracking
		docClock := testutil.NewClock(seedDay.Add(-35 * day)) // co-editing
		r := newResolver(t, db, func(o *coedit.Options) { o.Now = docClock.Now })
		r.Meetings = meeting.NewService(db, meeting.Options{Now: clock.Now, PublicURL: "http://pia.test"})
		r.Tracking = tracking.NewService(db, tracking.Options{Now: clock.Now})
		srv := serveResolver(t, r, defaultOptions())

		start := time.Now()
		rep, err := demo.Seed(ctx, demo.Deps{Accounts: r.Accounts, Network: r.Network, Reference: r.Reference,
			Coedit: r.Coedit, Meetings: r.Meetings, Now: clock.Now}, demo.Options{Demo: true})
		if err != nil {
			t.Fatalf("seed the demo: %v", err)
		}
		t.Logf("demo seed: %s (%d organizations, %d people, %d documents, %d edits, %d comments, %d meetings, %d register entries)",
			time.Since(start).Round(time.Millisecond), rep.Organizations, rep.People, rep.Documents, rep.Edits, rep.Comments,
			rep.Meetings, rep.Attendance)

		account := func(role string) string {
			for _, a := range demo.Accounts() {
				if strings.HasPrefix(a.Role, role) {
					tok, _ := authSignIn(t, srv, a.Email, a.Password)
					return tok
				}
			}
			t.Fatalf("no demo account %s", role)
			return ""
		}
		policy, coord, member := account("POLICY_MAKER"), account("COORDINATOR"), account("MEMBER")
		e := ennaAPI{t: t, srv: srv, db: db}
		e.find()

		// The day of the seed (the documents' edits 35 days old by then).
		docClock.Advance(35 * day)
		e.appendTo(member, "HEALTH", " Il gruppo propone un punto di accesso unico.")
		// Three days on: an edit, a comment, a section written and dropped,
		// and the last housing meeting cancelled.
		clock.Advance(3 * day)
		docClock.Advance(3 * day)
		e.appendTo(coord, "WORK", "\n\nTirocini con le imprese agricole del territorio.")
		e.comment(coord, e.sections["HOUSING"], "Serve un dato aggiornato sugli alloggi disponibili.")
		dropped := e.addSection(coord, "HEALTH", "Appunti")
		e.appendToSection(member, dropped, " da riordinare")
		e.comment(coord, dropped, "Da spostare nella sezione Salute.")
		e.removeSection(coord, dropped)
		e.cancelLastMeeting(coord, "HOUSING")
		// Six more days: another edit, then the policy maker looks.
		clock.Advance(6 * day)
		docClock.Advance(6 * day)
		e.appendTo(member, "EDUCATION", " Anche i corsi serali del CPIA.")

		var ov struct {
			RegionalOverview struct {
				At    time.Time
				Cells []overviewCell
			}
		}
		authQuery(t, srv, policy, regionalOverviewDoc, nil, &ov)
		got := ov.RegionalOverview
		if !got.At.Equal(clock.Now()) {
			t.Errorf("the overview is at %s, want the clock's %s", got.At, clock.Now())
		}
		want := overviewFromRecords(t, db, r.Coedit, got.At)
		if len(got.Cells) != 36 || len(want) != 36 {
			t.Fatalf("%d cells, want 36 (the records give %d)", len(got.Cells), len(want))
		}
		for i, w := range want {
			g := got.Cells[i]
			if g.Territory.Code != w.territory || g.Theme.Code != w.theme {
				t.Errorf("cell %d is %s × %s, want %s × %s", i, g.Territory.Code, g.Theme.Code, w.territory, w.theme)
				continue
			}
			compareCell(t, g, w)
		}
		exercised(t, want)

		// The same figures in the files the policy maker downloads.
		checkOverviewXLSX(t, srv, policy, got.Cells)
		checkOverviewCSV(t, srv, policy, got.Cells)
	})
}

// ennaAPI drives the Enna working group's document and meetings through the
// API, finding the ids a client would have from the records.
type ennaAPI struct {
	t        *testing.T
	srv      *testServer
	db       *bun.DB
	doc      string
	sections map[string]string // the themed sections' ids by theme code
	seq      int
}

func (e *ennaAPI) find() {
	e.t.Helper()
	ctx := context.Background()
	var doc int64
	if err := e.db.NewSelect().TableExpr("documents AS d").Join("JOIN territories AS t ON t.id = d.territory_id").
		Where("t.code = 'EN'").Where("d.archived_at IS NULL").ColumnExpr("d.id").Scan(ctx, &doc); err != nil {
		e.t.Fatalf("Enna's document: %v", err)
	}
	e.doc = gid("Document", doc)
	var secs []struct {
		ID   int64  `bun:"id"`
		Code string `bun:"code"`
	}
	if err := e.db.NewSelect().TableExpr("sections AS s").Join("JOIN themes AS th ON th.id = s.theme_id").
		Where("s.document_id = ?", doc).Where("s.removed_at IS NULL").ColumnExpr("s.id, th.code").Scan(ctx, &secs); err != nil {
		e.t.Fatal(err)
	}
	e.sections = map[string]string{}
	for _, s := range secs {
		e.sections[s.Code] = gid("Section", s.ID)
	}
}

func (e *ennaAPI) appendTo(token, theme, text string) {
	e.appendToSection(token, e.sections[theme], text)
}

// appendToSection adds text at the end of the section, on its current version.
func (e *ennaAPI) appendToSection(token, section, text string) {
	e.t.Helper()
	var s struct{ Node struct{ Version, Length int } }
	authQuery(e.t, e.srv, token, `query ($id: ID!) { node(id: $id) { ... on Section { version length } } }`, vars("id", section), &s)
	e.seq++
	authQuery(e.t, e.srv, token, editSectionDoc, vars("in", vars("sectionId", section, "baseVersion", s.Node.Version,
		"operation", []any{s.Node.Length, text}, "clientId", "e2e", "clientSeq", e.seq)), nil)
}

func (e *ennaAPI) comment(token, section, body string) {
	e.t.Helper()
	var s struct{ Node struct{ Version, Length int } }
	authQuery(e.t, e.srv, token, `query ($id: ID!) { node(id: $id) { ... on Section { version length } } }`, vars("id", section), &s)
	authQuery(e.t, e.srv, token, `mutation ($in: AddCommentInput!) { addComment(input: $in) { id } }`,
		vars("in", vars("sectionId", section, "version", s.Node.Version, "range", vars("start", 0, "end", min(s.Node.Length, 5)),
			"body", body)), nil)
}

func (e *ennaAPI) structureVersion(token string) int {
	e.t.Helper()
	var d struct {
		Node struct{ StructureVersion int }
	}
	authQuery(e.t, e.srv, token, `query ($id: ID!) { node(id: $id) { ... on Document { structureVersion } } }`, vars("id", e.doc), &d)
	return d.Node.StructureVersion
}

func (e *ennaAPI) addSection(token, theme, body string) string {
	e.t.Helper()
	var out struct{ AddSection struct{ ID string } }
	authQuery(e.t, e.srv, token, `mutation ($in: AddSectionInput!) { addSection(input: $in) { id } }`,
		vars("in", vars("documentId", e.doc, "structureVersion", e.structureVersion(token), "title", "Appunti",
			"theme", theme, "body", body)), &out)
	return out.AddSection.ID
}

func (e *ennaAPI) removeSection(token, section string) {
	e.t.Helper()
	authQuery(e.t, e.srv, token, `mutation ($in: RemoveSectionInput!) { removeSection(input: $in) { id } }`,
		vars("in", vars("sectionId", section, "structureVersion", e.structureVersion(token))), nil)
}

// cancelLastMeeting cancels Enna's latest meeting on theme.
func (e *ennaAPI) cancelLastMeeting(token, theme string) {
	e.t.Helper()
	var id int64
	if err := e.db.NewSelect().TableExpr("meetings AS m").Join("JOIN territories AS t ON t.id = m.territory_id").
		Join("JOIN themes AS th ON th.id = m.theme_id").Where("t.code = 'EN'").Where("th.code = ?", theme).
		ColumnExpr("m.id").OrderExpr("m.starts_at DESC").Limit(1).Scan(context.Background(), &id); err != nil {
		e.t.Fatal(err)
	}
	authQuery(e.t, e.srv, token, `mutation ($in: ChangeMeetingStatusInput!) { changeMeetingStatus(input: $in) { meeting { status } } }`,
		vars("in", vars("id", gid("Meeting", id), "status", "CANCELLED", "reason", "La sala non è disponibile.")), nil)
}

// cellFigures is one cell as the records give it.
type cellFigures struct {
	territory, theme, territoryName                  string
	planned, held, cancelled                         int
	next                                             *time.Time
	people, guests, organizations, invited, attended int
	byKind, bySector                                 map[string]int
	sections, withContent, words, contributors       int
	edits7, edits30                                  int
	open, resolved                                   int
}

// overviewFromRecords computes the 36 cells from the raw rows, by
// docs/indicators.md, with now as the overview's now. The current texts
// come from the co-editing service.
func overviewFromRecords(t *testing.T, db *bun.DB, docs *coedit.Service, now time.Time) []*cellFigures {
	t.Helper()
	ctx := context.Background()
	scan := func(dest any, query string) {
		t.Helper()
		if err := db.NewRaw(query).Scan(ctx, dest); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	type territory struct {
		ID   int64  `bun:"id"`
		Code string `bun:"code"`
		Name string `bun:"name"`
	}
	type theme struct {
		ID       int64  `bun:"id"`
		Code     string `bun:"code"`
		Position int    `bun:"position"`
	}
	var territories []territory
	var themes []theme
	scan(&territories, "SELECT id, code, name FROM territories")
	scan(&themes, "SELECT id, code, position FROM themes")
	// Territories by name, themes in their order.
	slices.SortFunc(territories, func(a, b territory) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(themes, func(a, b theme) int { return a.Position - b.Position })
	type key struct{ territory, theme int64 }
	cells := map[key]*cellFigures{}
	var out []*cellFigures
	for _, tr := range territories {
		for _, th := range themes {
			c := &cellFigures{territory: tr.Code, territoryName: tr.Name, theme: th.Code, byKind: map[string]int{}, bySector: map[string]int{}}
			cells[key{tr.ID, th.ID}] = c
			out = append(out, c)
		}
	}

	// Meetings.
	var meetings []struct {
		ID          int64     `bun:"id"`
		TerritoryID int64     `bun:"territory_id"`
		ThemeID     int64     `bun:"theme_id"`
		Status      string    `bun:"status"`
		StartsAt    time.Time `bun:"starts_at"`
	}
	scan(&meetings, "SELECT id, territory_id, theme_id, status, starts_at FROM meetings")
	heldIn := map[int64]*cellFigures{}
	for _, m := range meetings {
		c := cells[key{m.TerritoryID, m.ThemeID}]
		switch m.Status {
		case "PLANNED", "CONFIRMED", "POSTPONED":
			c.planned++
		case "HELD":
			c.held++
			heldIn[m.ID] = c
		case "CANCELLED":
			c.cancelled++
		default:
			t.Fatalf("meeting %d has status %q", m.ID, m.Status)
		}
		if m.Status != "CANCELLED" && !m.StartsAt.Before(now) && (c.next == nil || m.StartsAt.Before(*c.next)) {
			at := m.StartsAt.UTC()
			c.next = &at
		}
	}

	// Attendance of held meetings.
	var kinds []struct {
		ID   int64  `bun:"id"`
		Kind string `bun:"kind"`
	}
	scan(&kinds, "SELECT id, kind FROM organizations")
	kindOf := map[int64]string{}
	for _, o := range kinds {
		kindOf[o.ID] = o.Kind
	}
	var entries []struct {
		MeetingID      int64  `bun:"meeting_id"`
		PersonID       *int64 `bun:"person_id"`
		OrganizationID *int64 `bun:"organization_id"`
	}
	scan(&entries, "SELECT meeting_id, person_id, organization_id FROM meeting_attendance")
	people := map[*cellFigures]map[int64]bool{}
	orgs := map[*cellFigures]map[int64]bool{}
	for _, a := range entries {
		c := heldIn[a.MeetingID]
		if c == nil {
			continue
		}
		if a.PersonID == nil {
			c.guests++
		} else {
			if people[c] == nil {
				people[c] = map[int64]bool{}
			}
			people[c][*a.PersonID] = true
		}
		if a.OrganizationID != nil {
			if orgs[c] == nil {
				orgs[c] = map[int64]bool{}
			}
			orgs[c][*a.OrganizationID] = true
		}
	}
	for c, ps := range people {
		c.people, c.attended = len(ps), len(ps)
	}
	for c, os := range orgs {
		c.organizations = len(os)
		for id := range os {
			k := network.Kind(kindOf[id])
			c.byKind[string(k)]++
			c.bySector[string(k.Sector())]++
		}
	}
	var invitations []struct {
		MeetingID int64  `bun:"meeting_id"`
		PersonID  int64  `bun:"person_id"`
		Status    string `bun:"status"`
	}
	scan(&invitations, "SELECT meeting_id, person_id, status FROM meeting_invitations")
	invited := map[*cellFigures]map[int64]bool{}
	for _, i := range invitations {
		c := heldIn[i.MeetingID]
		if c == nil || i.Status == "DELEGATED" {
			continue
		}
		if invited[c] == nil {
			invited[c] = map[int64]bool{}
		}
		invited[c][i.PersonID] = true
	}
	for c, ps := range invited {
		c.invited = len(ps)
	}

	// Sections on a theme of documents not archived, not removed.
	var documents []struct {
		ID          int64      `bun:"id"`
		TerritoryID int64      `bun:"territory_id"`
		ArchivedAt  *time.Time `bun:"archived_at"`
	}
	scan(&documents, "SELECT id, territory_id, archived_at FROM documents")
	territoryOf := map[int64]int64{}
	for _, d := range documents {
		if d.ArchivedAt == nil {
			territoryOf[d.ID] = d.TerritoryID
		}
	}
	var sections []struct {
		ID         int64      `bun:"id"`
		DocumentID int64      `bun:"document_id"`
		ThemeID    *int64     `bun:"theme_id"`
		RemovedAt  *time.Time `bun:"removed_at"`
	}
	scan(&sections, "SELECT id, document_id, theme_id, removed_at FROM sections")
	sectionIn := map[int64]*cellFigures{}
	for _, s := range sections {
		tid, live := territoryOf[s.DocumentID]
		if !live || s.ThemeID == nil || s.RemovedAt != nil {
			continue
		}
		c := cells[key{tid, *s.ThemeID}]
		sectionIn[s.ID] = c
		c.sections++
		text, _, err := docs.SectionText(systemCtx, s.ID)
		if err != nil {
			t.Fatalf("section %d's text: %v", s.ID, err)
		}
		if text != "" {
			c.withContent++
		}
		c.words += len(strings.Fields(text))
	}
	var ops []struct {
		SectionID int64     `bun:"section_id"`
		AuthorID  *int64    `bun:"author_id"`
		CreatedAt time.Time `bun:"created_at"`
	}
	scan(&ops, "SELECT section_id, author_id, created_at FROM section_ops")
	authors := map[*cellFigures]map[int64]bool{}
	for _, o := range ops {
		c := sectionIn[o.SectionID]
		if c == nil {
			continue
		}
		if o.AuthorID != nil {
			if authors[c] == nil {
				authors[c] = map[int64]bool{}
			}
			authors[c][*o.AuthorID] = true
		}
		if o.CreatedAt.After(now.Add(-7 * 24 * time.Hour)) {
			c.edits7++
		}
		if o.CreatedAt.After(now.Add(-30 * 24 * time.Hour)) {
			c.edits30++
		}
	}
	for c, as := range authors {
		c.contributors = len(as)
	}
	var comments []struct {
		SectionID  int64      `bun:"section_id"`
		ParentID   *int64     `bun:"parent_id"`
		ResolvedAt *time.Time `bun:"resolved_at"`
	}
	scan(&comments, "SELECT section_id, parent_id, resolved_at FROM comments")
	for _, cm := range comments {
		c := sectionIn[cm.SectionID]
		if c == nil || cm.ParentID != nil {
			continue
		}
		if cm.ResolvedAt == nil {
			c.open++
		} else {
			c.resolved++
		}
	}
	return out
}

// compareCell reports every figure of g that differs from the records'.
func compareCell(t *testing.T, g overviewCell, w *cellFigures) {
	t.Helper()
	where := w.territory + " × " + w.theme
	for _, f := range []struct {
		name      string
		got, want int
	}{
		{"meetings planned", g.Meetings.Planned, w.planned}, {"meetings held", g.Meetings.Held, w.held},
		{"meetings cancelled", g.Meetings.Cancelled, w.cancelled},
		{"people", g.Attendance.People, w.people}, {"guests", g.Attendance.Guests, w.guests},
		{"organizations", g.Attendance.Organizations, w.organizations}, {"invited", g.Attendance.Invited, w.invited},
		{"attended", g.Attendance.Attended, w.attended},
		{"sections", g.Sections.Count, w.sections}, {"sections with content", g.Sections.WithContent, w.withContent},
		{"words", g.Sections.Words, w.words}, {"contributors", g.Sections.Contributors, w.contributors},
		{"edits in 7 days", g.Sections.Edits7Days, w.edits7}, {"edits in 30 days", g.Sections.Edits30Days, w.edits30},
		{"open threads", g.Comments.Open, w.open}, {"resolved threads", g.Comments.Resolved, w.resolved},
	} {
		if f.got != f.want {
			t.Errorf("%s, %s: %d, the records give %d", where, f.name, f.got, f.want)
		}
	}
	if (g.Meetings.Next == nil) != (w.next == nil) || (w.next != nil && !g.Meetings.Next.Equal(*w.next)) {
		t.Errorf("%s, next meeting: %v, the records give %v", where, g.Meetings.Next, w.next)
	}
	byKind := map[string]int{}
	for _, k := range g.Attendance.ByKind {
		byKind[k.Kind] = k.Count
	}
	bySector := map[string]int{}
	for _, s := range g.Attendance.BySector {
		bySector[s.Sector] = s.Count
	}
	if fmt.Sprint(byKind) != fmt.Sprint(w.byKind) || len(byKind) != len(g.Attendance.ByKind) {
		t.Errorf("%s, organizations by kind: %v, the records give %v", where, g.Attendance.ByKind, w.byKind)
	}
	if fmt.Sprint(bySector) != fmt.Sprint(w.bySector) || len(bySector) != len(g.Attendance.BySector) {
		t.Errorf("%s, organizations by sector: %v, the records give %v", where, g.Attendance.BySector, w.bySector)
	}
}

// exercised checks that the region gives each rule something to count and
// something to leave out, so that matching figures mean something.
func exercised(t *testing.T, cells []*cellFigures) {
	t.Helper()
	var sum cellFigures
	var nexts, kinds, sectors, editsBetween int
	for _, c := range cells {
		sum.planned += c.planned
		sum.held += c.held
		sum.cancelled += c.cancelled
		sum.people += c.people
		sum.guests += c.guests
		sum.invited += c.invited
		sum.words += c.words
		sum.contributors += c.contributors
		sum.edits7 += c.edits7
		sum.edits30 += c.edits30
		sum.open += c.open
		sum.resolved += c.resolved
		if c.next != nil {
			nexts++
		}
		kinds += len(c.byKind)
		sectors += len(c.bySector)
		if c.edits30 > c.edits7 {
			editsBetween++
		}
	}
	if sum.planned == 0 || sum.held == 0 || sum.cancelled == 0 || sum.people == 0 || sum.guests == 0 || sum.invited == 0 ||
		sum.words == 0 || sum.contributors == 0 || sum.edits7 == 0 || editsBetween == 0 || sum.open == 0 || sum.resolved == 0 ||
		nexts == 0 || kinds == 0 || sectors < 2 {
		t.Errorf("the demo region leaves a figure untested: %+v, %d next meetings, %d kinds, %d sectors, %d cells with edits between 7 and 30 days",
			sum, nexts, kinds, sectors, editsBetween)
	}
}

// overviewColumns are the figures' columns of the overview's files, by
// their heading, with the figure each holds.
var overviewColumns = []struct {
	heading string
	figure  func(overviewCell) int
}{
	{"Incontri in programma", func(c overviewCell) int { return c.Meetings.Planned }},
	{"Incontri svolti", func(c overviewCell) int { return c.Meetings.Held }},
	{"Incontri annullati", func(c overviewCell) int { return c.Meetings.Cancelled }},
	{"Persone presenti", func(c overviewCell) int { return c.Attendance.People }},
	{"Ospiti", func(c overviewCell) int { return c.Attendance.Guests }},
	{"Organizzazioni presenti", func(c overviewCell) int { return c.Attendance.Organizations }},
	{"Invitati", func(c overviewCell) int { return c.Attendance.Invited }},
	{"Presenti tra gli invitati", func(c overviewCell) int { return c.Attendance.Attended }},
	{"Sezioni", func(c overviewCell) int { return c.Sections.Count }},
	{"Sezioni con testo", func(c overviewCell) int { return c.Sections.WithContent }},
	{"Parole", func(c overviewCell) int { return c.Sections.Words }},
	{"Autori", func(c overviewCell) int { return c.Sections.Contributors }},
	{"Modifiche negli ultimi 7 giorni", func(c overviewCell) int { return c.Sections.Edits7Days }},
	{"Modifiche negli ultimi 30 giorni", func(c overviewCell) int { return c.Sections.Edits30Days }},
	{"Commenti aperti", func(c overviewCell) int { return c.Comments.Open }},
	{"Commenti risolti", func(c overviewCell) int { return c.Comments.Resolved }},
	{"Organizzazioni: Pubblico", sectorFigure("PUBLIC")},
	{"Organizzazioni: Terzo settore", sectorFigure("THIRD_SECTOR")},
	{"Organizzazioni: Privato", sectorFigure("PRIVATE")},
	{"Organizzazioni: Comunità migranti", sectorFigure("MIGRANT_COMMUNITY")},
}

func sectorFigure(sector string) func(overviewCell) int {
	return func(c overviewCell) int {
		for _, s := range c.Attendance.BySector {
			if s.Sector == sector {
				return s.Count
			}
		}
		return 0
	}
}

// checkOverviewRows compares a file's rows (the header first) with the
// cells of the API, column by heading; next reads the next meeting's cell
// as a time in Rome.
func checkOverviewRows(t *testing.T, format string, rows [][]string, cells []overviewCell, next func(string) (time.Time, error)) {
	t.Helper()
	if len(rows) != len(cells)+1 {
		t.Fatalf("the %s has %d rows, want a header and %d", format, len(rows), len(cells))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"Territorio", "Tema", "Prossimo incontro"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("the %s has no column %q: %q", format, h, rows[0])
		}
	}
	for _, c := range overviewColumns {
		if _, ok := col[c.heading]; !ok {
			t.Fatalf("the %s has no column %q: %q", format, c.heading, rows[0])
		}
	}
	cell := func(row []string, heading string) string {
		if i := col[heading]; i < len(row) {
			return row[i]
		}
		return ""
	}
	for i, c := range cells {
		row := rows[i+1]
		where := fmt.Sprintf("the %s's row %d", format, i+2)
		if cell(row, "Territorio") != c.Territory.Name || cell(row, "Tema") != c.Theme.LabelIt {
			t.Errorf("%s is %q × %q, want %s × %s", where, cell(row, "Territorio"), cell(row, "Tema"), c.Territory.Name, c.Theme.LabelIt)
			continue
		}
		for _, f := range overviewColumns {
			if got, want := cell(row, f.heading), strconv.Itoa(f.figure(c)); got != want {
				t.Errorf("%s (%s × %s), %s: %q, the API gives %s", where, c.Territory.Code, c.Theme.Code, f.heading, got, want)
			}
		}
		n := cell(row, "Prossimo incontro")
		switch {
		case c.Meetings.Next == nil && n != "":
			t.Errorf("%s (%s × %s): next meeting %q, the API gives none", where, c.Territory.Code, c.Theme.Code, n)
		case c.Meetings.Next != nil:
			at, err := next(n)
			if w := c.Meetings.Next.In(sheet.Rome); err != nil || !at.Equal(w.Truncate(time.Minute)) {
				t.Errorf("%s (%s × %s): next meeting %q (%v), the API gives %s", where, c.Territory.Code, c.Theme.Code, n, err, w)
			}
		}
	}
}

func checkOverviewXLSX(t *testing.T, srv *testServer, token string, cells []overviewCell) {
	t.Helper()
	res, body := download(t, srv.Base+"/reports/overview.xlsx", token)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("GET /reports/overview.xlsx: %d %v", res.StatusCode, res.Header)
	}
	wb, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer wb.Close()
	sheets := wb.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("the workbook's sheets: %q", sheets)
	}
	rows, err := wb.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	// Counts are numbers, the next meeting a date: a spreadsheet adds and
	// sorts them as such.
	for _, ref := range []string{"C2", "N2", "S2"} {
		if typ, err := wb.GetCellType(sheets[0], ref); err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("cell %s is %v (%v), want a number", ref, typ, err)
		}
	}
	checkOverviewRows(t, "workbook", rows, cells, func(s string) (time.Time, error) {
		serial, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("not a date serial: %w", err)
		}
		wall, err := excelize.ExcelDateToTime(serial, false)
		if err != nil {
			return time.Time{}, err
		}
		wall = wall.Round(time.Minute)
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, sheet.Rome), nil
	})
}

func checkOverviewCSV(t *testing.T, srv *testServer, token string, cells []overviewCell) {
	t.Helper()
	res, body := download(t, srv.Base+"/reports/overview.csv", token)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("GET /reports/overview.csv: %d %v", res.StatusCode, res.Header)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	checkOverviewRows(t, "CSV", rows, cells, func(s string) (time.Time, error) {
		return time.ParseInLocation("02/01/2006 15:04", s, sheet.Rome)
	})
}
