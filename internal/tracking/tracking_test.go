package tracking_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// region is a small region seeded through the real services: working
// groups with their focus groups, organizations, members, meetings with
// invitations and registers, documents with themed sections, edits,
// comments and a review.
type region struct {
	t      *testing.T
	db     *bun.DB
	clock  *testutil.Clock
	net    *network.Service
	meet   *meeting.Service
	docs   *coedit.Service
	svc    *tracking.Service
	terr   map[string]int64
	themes map[reference.ThemeCode]int64
	groups map[string]int64
	focus  map[string]map[reference.ThemeCode]int64

	admin, policy, coord, stranger *access.Actor
	people                         []int64
	orgs                           []int64
	slot                           time.Duration // spreads meetings apart
	seq                            int64
}

func newRegion(t *testing.T, db *bun.DB) *region {
	t.Helper()
	r := &region{t: t, db: db, clock: testutil.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		terr: map[string]int64{}, themes: map[reference.ThemeCode]int64{}, groups: map[string]int64{},
		focus: map[string]map[reference.ThemeCode]int64{}}
	ctx := context.Background()
	ref := reference.NewService(db)
	ts, err := ref.Territories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		r.terr[x.Code] = x.ID
	}
	th, err := ref.Themes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range th {
		r.themes[x.Code] = x.ID
	}
	r.admin = r.person("Ada Admin", access.Admin)
	r.policy = r.person("Paolo Policy", access.PolicyMaker)
	r.coord = r.person("Carla Coordinatrice")
	r.stranger = r.person("Sara Sconosciuta")
	r.net = network.NewService(db, network.Options{Now: r.clock.Now, GroupCreated: meeting.CreateFocusGroups})
	r.meet = meeting.NewService(db, meeting.Options{Now: r.clock.Now, PublicURL: "https://pia.example"})
	r.docs = coedit.NewService(db, coedit.Options{Now: r.clock.Now, PublicURL: "https://pia.example", SnapshotEvery: 2})
	if err := r.docs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.docs.Close)
	r.svc = tracking.NewService(db, tracking.Options{Now: r.clock.Now})
	for _, code := range []string{"EN", "PA", "CT"} {
		g, err := r.net.CreateWorkingGroup(r.as(r.admin), network.WorkingGroupInput{Territory: code})
		if err != nil {
			t.Fatal(err)
		}
		r.groups[code] = g.ID
	}
	r.coord.Territories[r.terr["EN"]] = access.Coordinator
	var fgs []meeting.FocusGroup
	if err := db.NewSelect().Model(&fgs).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, fg := range fgs {
		for code, id := range r.terr {
			if id != fg.TerritoryID {
				continue
			}
			if r.focus[code] == nil {
				r.focus[code] = map[reference.ThemeCode]int64{}
			}
			for tc, tid := range r.themes {
				if tid == fg.ThemeID {
					r.focus[code][tc] = fg.ID
				}
			}
		}
	}
	for i, k := range []network.Kind{network.KindMunicipality, network.KindMigrantCommunityAssociation, network.KindAssociation, network.KindHealthAuthority} {
		lvl := []network.Level{network.LevelMunicipal, network.LevelRegional}[i%2]
		o, err := r.net.CreateOrganization(r.as(r.admin), network.OrganizationInput{Name: fmt.Sprintf("Ente %d", i), Kind: k,
			Level: lvl, Territories: []string{"EN", "PA"}})
		if err != nil {
			t.Fatal(err)
		}
		r.orgs = append(r.orgs, o.ID)
	}
	for i := range 6 {
		p := r.person(fmt.Sprintf("Persona %d", i))
		r.people = append(r.people, p.PersonID)
		if i < len(r.orgs) {
			if _, err := r.net.AddAffiliation(r.as(r.admin), network.AffiliationInput{PersonID: p.PersonID,
				OrganizationID: r.orgs[i], Role: network.Representative}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// EN's working group: the coordinator for no organization, two
	// members for organizations, one observer who left.
	r.member("EN", r.coord.PersonID, access.Coordinator, nil)
	r.member("EN", r.people[0], access.Member, &r.orgs[0])
	r.member("EN", r.people[1], access.Member, &r.orgs[1])
	left := r.member("EN", r.people[2], access.Observer, &r.orgs[2])
	if _, err := r.net.RemoveMember(r.as(r.admin), left); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *region) member(code string, person int64, role access.TerritoryRole, org *int64) int64 {
	r.t.Helper()
	m, err := r.net.AddMember(r.as(r.admin), network.MemberInput{WorkingGroupID: r.groups[code], PersonID: person, Role: role, OrganizationID: org})
	if err != nil {
		r.t.Fatalf("add member: %v", err)
	}
	return m.ID
}

func (r *region) person(name string, global ...access.GlobalRole) *access.Actor {
	r.t.Helper()
	now := r.clock.Now()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	p := &account.Person{DisplayName: name, Email: &email, Language: "it", CreatedAt: now, UpdatedAt: now}
	if _, err := r.db.NewInsert().Model(p).Exec(context.Background()); err != nil {
		r.t.Fatalf("insert person %s: %v", name, err)
	}
	return &access.Actor{PersonID: p.ID, SessionID: 1, GlobalRoles: global, Territories: map[int64]access.TerritoryRole{}}
}

func (r *region) as(a *access.Actor) context.Context {
	return access.WithActor(context.Background(), a)
}

// meeting plans a meeting of code's focus group on theme, starting days
// from now (each meeting an hour later than the one before, so none
// conflicts).
func (r *region) meeting(code string, theme reference.ThemeCode, days int) *meeting.Meeting {
	r.t.Helper()
	r.slot += 3 * time.Hour
	start := r.clock.Now().Truncate(time.Hour).AddDate(0, 0, days).Add(r.slot % (24 * 30 * time.Hour))
	m, err := r.meet.CreateMeeting(r.as(r.admin), meeting.MeetingInput{FocusGroupID: r.focus[code][theme], Title: "Incontro",
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), Mode: meeting.InPerson, Venue: "Via Roma 1", OverrideConflicts: true, OverrideNote: "test"})
	if err != nil {
		r.t.Fatalf("create meeting: %v", err)
	}
	return m
}

// hold moves the clock into m, invites people, marks it held and
// registers people (with their organization by default) and guests.
func (r *region) hold(m *meeting.Meeting, invited, present []int64, guests int) {
	r.t.Helper()
	for _, p := range invited {
		if _, err := r.meet.InvitePerson(r.as(r.admin), m.ID, p, nil); err != nil && !apperr.Is(err, apperr.Conflict) {
			r.t.Fatalf("invite: %v", err)
		}
	}
	if d := m.StartsAt.Add(time.Hour).Sub(r.clock.Now()); d > 0 {
		r.clock.Advance(d)
	}
	if _, err := r.meet.ChangeStatus(r.as(r.admin), m.ID, meeting.Held, ""); err != nil {
		r.t.Fatalf("hold: %v", err)
	}
	at := m.StartsAt.Add(10 * time.Minute)
	for _, p := range present {
		if _, err := r.meet.RegisterAttendance(r.as(r.admin), meeting.AttendanceInput{MeetingID: m.ID, PersonID: &p, Mode: meeting.AttendedInPerson, CheckedInAt: &at}); err != nil {
			r.t.Fatalf("register: %v", err)
		}
	}
	for i := range guests {
		name, org := fmt.Sprintf("Ospite %d", i), "Parrocchia"
		if _, err := r.meet.RegisterAttendance(r.as(r.admin), meeting.AttendanceInput{MeetingID: m.ID, GuestName: &name, GuestOrganization: &org, Mode: meeting.AttendedInPerson, CheckedInAt: &at}); err != nil {
			r.t.Fatalf("register a guest: %v", err)
		}
	}
}

// document creates a document of code's group with sections of bodies on
// themes (nil: no theme).
func (r *region) document(code string, themes []*reference.ThemeCode, bodies []string) []*coedit.Section {
	r.t.Helper()
	in := coedit.DocumentInput{WorkingGroupID: r.groups[code], Title: "Linee guida " + code}
	for i, b := range bodies {
		var th *int64
		if themes[i] != nil {
			id := r.themes[*themes[i]]
			th = &id
		}
		in.Sections = append(in.Sections, coedit.SectionInput{Title: fmt.Sprintf("Sezione %d", i+1), ThemeID: th, Body: b})
	}
	d, err := r.docs.CreateDocument(r.as(r.admin), in)
	if err != nil {
		r.t.Fatalf("create document: %v", err)
	}
	secs, err := r.docs.SectionsOfDocuments(r.as(r.admin), []int64{d.ID}, false)
	if err != nil {
		r.t.Fatal(err)
	}
	return secs[d.ID]
}

// edit replaces a section's text, as a.
func (r *region) edit(a *access.Actor, sectionID int64, text string) {
	r.t.Helper()
	old, v, err := r.docs.SectionText(r.as(r.admin), sectionID)
	if err != nil {
		r.t.Fatal(err)
	}
	r.seq++
	if _, err := r.docs.EditSection(r.as(a), coedit.EditInput{SectionID: sectionID, BaseVersion: v, Op: ot.Diff(old, text),
		ClientID: fmt.Sprintf("c%d", a.PersonID), ClientSeq: r.seq}); err != nil {
		r.t.Fatalf("edit: %v", err)
	}
}

func (r *region) comment(sectionID int64, resolve bool) {
	r.t.Helper()
	_, v, err := r.docs.SectionText(r.as(r.admin), sectionID)
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := r.docs.AddComment(r.as(r.admin), coedit.CommentInput{SectionID: sectionID, Version: v, Start: 0, End: 1, Body: "Va bene?"})
	if err != nil {
		r.t.Fatalf("comment: %v", err)
	}
	if _, err := r.docs.Reply(r.as(r.admin), c.ID, "Sì", nil); err != nil {
		r.t.Fatal(err)
	}
	if resolve {
		if _, err := r.docs.ResolveComment(r.as(r.admin), c.ID, true); err != nil {
			r.t.Fatal(err)
		}
	}
}

func theme(c reference.ThemeCode) *reference.ThemeCode { return &c }

// seed fills the region: EN holds all four themes and writes its
// document, PA holds one meeting and cancels another, CT only plans.
func (r *region) seed() {
	health, work, edu, housing := reference.ThemeCode("HEALTH"), reference.ThemeCode("WORK"), reference.ThemeCode("EDUCATION"), reference.ThemeCode("HOUSING")
	p := r.people
	secs := r.document("EN", []*reference.ThemeCode{&health, &health, &work, nil}, []string{"Accesso ai servizi sanitari", "", "Lavoro e formazione", "Introduzione"})
	r.edit(r.coord, secs[0].ID, "Accesso ai servizi sanitari di base")
	r.comment(secs[0].ID, false)
	r.comment(secs[0].ID, true)
	r.comment(secs[2].ID, true)
	m1 := r.meeting("EN", health, 2)
	m2 := r.meeting("EN", health, 3)
	r.hold(m1, []int64{p[0], p[1], p[2]}, []int64{p[0], p[1]}, 2)
	r.clock.Advance(20 * 24 * time.Hour) // the first edits fall out of the week
	r.edit(r.admin, secs[0].ID, "Accesso ai servizi sanitari di base e specialistici")
	r.edit(r.coord, secs[0].ID, "Accesso ai servizi sanitari di base, specialistici e consultori")
	r.edit(r.coord, secs[2].ID, "Lavoro, formazione e tirocini")
	r.hold(m2, []int64{p[0], p[3]}, []int64{p[0], p[3]}, 1)
	for _, th := range []reference.ThemeCode{work, edu, housing} {
		r.hold(r.meeting("EN", th, 1), []int64{p[1]}, []int64{p[1]}, 0)
	}
	if _, err := r.meet.ChangeStatus(r.as(r.admin), r.meeting("EN", work, 5).ID, meeting.Cancelled, "maltempo"); err != nil {
		r.t.Fatal(err)
	}
	r.meeting("EN", work, 9)
	pa := r.meeting("PA", edu, 1)
	r.hold(pa, []int64{p[4], p[5]}, []int64{p[4]}, 0)
	if _, err := r.meet.ChangeStatus(r.as(r.admin), r.meeting("PA", edu, 3).ID, meeting.Cancelled, "sciopero"); err != nil {
		r.t.Fatal(err)
	}
	r.meeting("CT", housing, 4)
	pSecs := r.document("PA", []*reference.ThemeCode{&edu}, []string{"Scuola"})
	r.edit(r.admin, pSecs[0].ID, "Scuola e lingua italiana")
	docs, err := r.docs.DocumentsOfGroups(r.as(r.admin), []int64{r.groups["EN"]})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.docs.ChangeStatus(r.as(r.admin), docs[r.groups["EN"]][0].ID, coedit.InReview, "pronta"); err != nil {
		r.t.Fatal(err)
	}
}

// figures is a cell without its territory and theme, to compare.
type figures struct {
	Meetings   tracking.MeetingCounts
	Attendance tracking.Attendance
	Sections   tracking.Sections
	Comments   tracking.Comments
}

type key struct{ territory, theme int64 }

// expected computes every cell from the rows, one by one, in Go.
func (r *region) expected(now time.Time) map[key]*figures {
	r.t.Helper()
	ctx := context.Background()
	out := map[key]*figures{}
	cell := func(t, th int64) *figures {
		k := key{t, th}
		if out[k] == nil {
			out[k] = &figures{}
		}
		return out[k]
	}
	var ms []meeting.Meeting
	if err := r.db.NewSelect().Model(&ms).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	held := map[int64]*meeting.Meeting{}
	for i := range ms {
		m := &ms[i]
		c := cell(m.TerritoryID, m.ThemeID)
		switch m.Status {
		case meeting.Planned, meeting.Confirmed, meeting.Postponed:
			c.Meetings.Planned++
		case meeting.Held:
			c.Meetings.Held++
			held[m.ID] = m
		case meeting.Cancelled:
			c.Meetings.Cancelled++
		}
		if m.Status != meeting.Cancelled && !m.StartsAt.Before(now) {
			if c.Meetings.Next == nil || m.StartsAt.Before(*c.Meetings.Next) {
				t := m.StartsAt.UTC()
				c.Meetings.Next = &t
			}
		}
	}
	var orgs []network.Organization
	if err := r.db.NewSelect().Model(&orgs).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	kindOf := map[int64]network.Kind{}
	for _, o := range orgs {
		kindOf[o.ID] = o.Kind
	}
	var as []meeting.Attendance
	if err := r.db.NewSelect().Model(&as).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	people, orgsOf := map[key]map[int64]bool{}, map[key]map[int64]bool{}
	for _, a := range as {
		m := held[a.MeetingID]
		if m == nil {
			continue
		}
		k := key{m.TerritoryID, m.ThemeID}
		if people[k] == nil {
			people[k], orgsOf[k] = map[int64]bool{}, map[int64]bool{}
		}
		if a.PersonID == nil {
			cell(k.territory, k.theme).Attendance.Guests++
		} else {
			people[k][*a.PersonID] = true
		}
		if a.OrganizationID != nil {
			orgsOf[k][*a.OrganizationID] = true
		}
	}
	for k, ps := range people {
		c := cell(k.territory, k.theme)
		c.Attendance.People, c.Attendance.Attended, c.Attendance.Organizations = len(ps), len(ps), len(orgsOf[k])
		kinds, sectors := map[network.Kind]int{}, map[network.Sector]int{}
		for o := range orgsOf[k] {
			kinds[kindOf[o]]++
			sectors[kindOf[o].Sector()]++
		}
		for _, kd := range network.Kinds {
			if kinds[kd] > 0 {
				c.Attendance.ByKind = append(c.Attendance.ByKind, tracking.KindCount{Kind: kd, Count: kinds[kd]})
			}
		}
		for _, s := range network.Sectors {
			if sectors[s] > 0 {
				c.Attendance.BySector = append(c.Attendance.BySector, tracking.SectorCount{Sector: s, Count: sectors[s]})
			}
		}
	}
	var invs []meeting.Invitation
	if err := r.db.NewSelect().Model(&invs).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	invited := map[key]map[int64]bool{}
	for _, i := range invs {
		m := held[i.MeetingID]
		if m == nil || i.Status == meeting.Delegated {
			continue
		}
		k := key{m.TerritoryID, m.ThemeID}
		if invited[k] == nil {
			invited[k] = map[int64]bool{}
		}
		invited[k][i.PersonID] = true
	}
	for k, ps := range invited {
		cell(k.territory, k.theme).Attendance.Invited = len(ps)
	}
	var docs []coedit.Document
	if err := r.db.NewSelect().Model(&docs).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	territoryOf := map[int64]int64{}
	for _, d := range docs {
		if d.Archived == nil {
			territoryOf[d.ID] = d.TerritoryID
		}
	}
	var secs []coedit.Section
	if err := r.db.NewSelect().Model(&secs).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	sectionKey := map[int64]key{}
	for _, s := range secs {
		t, ok := territoryOf[s.DocumentID]
		if !ok || s.Removed != nil || s.ThemeID == nil {
			continue
		}
		k := key{t, *s.ThemeID}
		sectionKey[s.ID] = k
		c := cell(k.territory, k.theme)
		c.Sections.Count++
		text, _, err := r.docs.SectionText(r.as(r.admin), s.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		if text != "" {
			c.Sections.WithContent++
		}
		c.Sections.Words += len(strings.Fields(text))
	}
	var ops []coedit.LoggedOp
	if err := r.db.NewSelect().Model(&ops).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	authors := map[key]map[int64]bool{}
	for _, o := range ops {
		k, ok := sectionKey[o.SectionID]
		if !ok {
			continue
		}
		c := cell(k.territory, k.theme)
		if authors[k] == nil {
			authors[k] = map[int64]bool{}
		}
		if o.AuthorID != nil {
			authors[k][*o.AuthorID] = true
		}
		if o.CreatedAt.After(now.AddDate(0, 0, -7)) {
			c.Sections.Edits7Days++
		}
		if o.CreatedAt.After(now.AddDate(0, 0, -30)) {
			c.Sections.Edits30Days++
		}
	}
	for k, as := range authors {
		cell(k.territory, k.theme).Sections.Contributors = len(as)
	}
	var cs []coedit.Comment
	if err := r.db.NewSelect().Model(&cs).Scan(ctx); err != nil {
		r.t.Fatal(err)
	}
	for _, c := range cs {
		k, ok := sectionKey[c.SectionID]
		if !ok || c.ParentID != nil {
			continue
		}
		if c.Resolved == nil {
			cell(k.territory, k.theme).Comments.Open++
		} else {
			cell(k.territory, k.theme).Comments.Resolved++
		}
	}
	return out
}

func TestRegionalOverviewMatchesTheRecords(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		r.seed()
		ov, err := r.svc.RegionalOverview(r.as(r.policy))
		if err != nil {
			t.Fatal(err)
		}
		if len(ov.Cells) != 36 {
			t.Fatalf("%d cells, want 36", len(ov.Cells))
		}
		want := r.expected(ov.At)
		nonzero := 0
		for _, c := range ov.Cells {
			got := figures{Meetings: c.Meetings, Attendance: c.Attendance, Sections: c.Sections, Comments: c.Comments}
			w := want[key{c.Territory.ID, c.Theme.ID}]
			if w == nil {
				w = &figures{}
			} else {
				nonzero++
			}
			if !reflect.DeepEqual(got, *w) {
				t.Errorf("%s × %s:\n got %+v\nwant %+v", c.Territory.Code, c.Theme.Code, got, *w)
			}
		}
		if nonzero < 6 {
			t.Errorf("only %d cells have figures: the seed is too thin", nonzero)
		}
		// A few figures by hand, so that the test does not only agree
		// with itself.
		en := cellOf(t, ov, "EN", "HEALTH")
		if en.Meetings.Held != 2 || en.Attendance.People != 3 || en.Attendance.Guests != 3 || en.Attendance.Invited != 3 ||
			en.Sections.Count != 2 || en.Sections.WithContent != 1 || en.Sections.Words != 9 || en.Sections.Contributors != 2 ||
			en.Comments.Open != 1 || en.Comments.Resolved != 1 {
			t.Errorf("EN × HEALTH: %+v", en)
		}
		if w := cellOf(t, ov, "EN", "WORK"); w.Meetings.Cancelled != 1 || w.Meetings.Planned != 1 || w.Meetings.Next == nil {
			t.Errorf("EN × WORK: %+v", w.Meetings)
		}
	})
}

func cellOf(t *testing.T, ov *tracking.Overview, territory string, theme reference.ThemeCode) *tracking.Cell {
	t.Helper()
	for _, c := range ov.Cells {
		if c.Territory.Code == territory && c.Theme.Code == theme {
			return c
		}
	}
	t.Fatalf("no cell %s × %s", territory, theme)
	return nil
}

// TestRegionalOverviewStatementsDoNotGrow: the overview costs as many
// statements on a larger region as on a small one.
func TestRegionalOverviewStatementsDoNotGrow(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		counter := storage.CountStatements(db)
		count := func() int64 {
			counter.Reset()
			if _, err := r.svc.RegionalOverview(r.as(r.policy)); err != nil {
				t.Fatal(err)
			}
			return counter.Count()
		}
		empty := count()
		r.seed()
		small := count()
		edu := reference.ThemeCode("EDUCATION")
		secs := r.document("CT", []*reference.ThemeCode{&edu, &edu}, []string{"uno", "due"})
		for i := range 5 {
			r.edit(r.admin, secs[i%2].ID, strings.Repeat("parola ", i+2))
			r.hold(r.meeting("CT", edu, 1), r.people, r.people[:3], 2)
		}
		larger := count()
		// Territories, themes, nine aggregates and the operations after
		// the snapshots (docs/benchmarks.md).
		if small != empty || larger != small || small != 12 {
			t.Errorf("statements: %d on an empty region, %d on a small one, %d on a larger one; want 12 each time", empty, small, larger)
		}
	})
}

func TestTerritoryProgress(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		start := r.clock.Now()
		r.seed()
		p, err := r.svc.TerritoryProgress(r.as(r.coord), "en")
		if err != nil {
			t.Fatal(err)
		}
		c := p.Composition
		if c.Members != 3 || c.NoOrganization != 1 ||
			!reflect.DeepEqual(c.ByRole, []tracking.RoleCount{{Role: access.Coordinator, Count: 1}, {Role: access.Member, Count: 2}}) ||
			!reflect.DeepEqual(c.ByKind, []tracking.KindCount{{Kind: network.KindMunicipality, Count: 1}, {Kind: network.KindMigrantCommunityAssociation, Count: 1}}) ||
			!reflect.DeepEqual(c.ByLevel, []tracking.LevelCount{{Level: network.LevelRegional, Count: 1}, {Level: network.LevelMunicipal, Count: 1}}) {
			t.Errorf("composition: %+v", c)
		}
		var ms []meeting.Meeting
		if err := db.NewSelect().Model(&ms).Where("territory_id = ?", r.terr["EN"]).Where("status = 'HELD'").Order("starts_at").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		firstOf := map[int64]time.Time{}
		for _, m := range ms {
			if _, ok := firstOf[m.ThemeID]; !ok {
				firstOf[m.ThemeID] = m.StartsAt
			}
		}
		var last time.Time
		for _, at := range firstOf {
			if at.After(last) {
				last = at
			}
		}
		mi := p.Milestones
		switch {
		case mi.GroupFormed == nil || !mi.GroupFormed.Equal(start):
			t.Errorf("group formed %v, want %v", mi.GroupFormed, start)
		case mi.FirstMeetingHeld == nil || !mi.FirstMeetingHeld.Equal(ms[0].StartsAt):
			t.Errorf("first meeting held %v, want %v", mi.FirstMeetingHeld, ms[0].StartsAt)
		case len(firstOf) != 4 || mi.AllThemesHeld == nil || !mi.AllThemesHeld.Equal(last):
			t.Errorf("all themes held %v, want %v", mi.AllThemesHeld, last)
		case mi.InReview == nil || !mi.InReview.Equal(r.clock.Now()) || mi.Approved != nil || mi.Published != nil:
			t.Errorf("review milestones: %+v", mi)
		}
		if len(p.Documents) != 1 || p.Documents[0].Status != coedit.InReview || len(p.Documents[0].Transitions) != 1 {
			t.Errorf("documents: %+v", p.Documents)
		}
		if want := r.lastActivity("EN"); p.LastActivity == nil || !p.LastActivity.Equal(want) {
			t.Errorf("last activity %v, want %v", p.LastActivity, want)
		}
		// A territory without a working group has no figures.
		if q, err := r.svc.TerritoryProgress(r.as(r.policy), "AG"); err != nil || q.GroupID != 0 || q.Milestones.GroupFormed != nil {
			t.Errorf("AG: %+v, %v", q, err)
		}
	})
}

func TestTrackingAccess(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		for _, tc := range []struct {
			name  string
			ctx   context.Context
			code  string
			want  apperr.Kind
			wantO apperr.Kind
		}{
			{"anonymous", context.Background(), "EN", apperr.Unauthenticated, apperr.Unauthenticated},
			{"stranger", r.as(r.stranger), "EN", apperr.Forbidden, apperr.Forbidden},
			{"malformed code", r.as(r.policy), "E1", apperr.BadInput, ""},
			{"unknown code", r.as(r.policy), "ZZ", apperr.NotFound, ""},
			{"coordinator", r.as(r.coord), "PA", "", ""},
			{"admin", r.as(r.admin), "EN", "", ""},
		} {
			_, err := r.svc.TerritoryProgress(tc.ctx, tc.code)
			if got := apperr.KindOf(err); err != nil && got != tc.want || err == nil && tc.want != "" {
				t.Errorf("%s: TerritoryProgress %v, want %q", tc.name, err, tc.want)
			}
			_, err = r.svc.RegionalOverview(tc.ctx)
			if got := apperr.KindOf(err); err != nil && got != tc.wantO || err == nil && tc.wantO != "" {
				t.Errorf("%s: RegionalOverview %v, want %q", tc.name, err, tc.wantO)
			}
		}
	})
}

// lastActivity is the latest time among code's section operations,
// comments, meetings and register entries, row by row.
func (r *region) lastActivity(code string) time.Time {
	r.t.Helper()
	ctx := context.Background()
	var last time.Time
	see := func(t time.Time) {
		if t.After(last) {
			last = t
		}
	}
	var docs []coedit.Document
	var secs []coedit.Section
	var ops []coedit.LoggedOp
	var cs []coedit.Comment
	var ms []meeting.Meeting
	var as []meeting.Attendance
	for _, q := range []*bun.SelectQuery{
		r.db.NewSelect().Model(&docs), r.db.NewSelect().Model(&secs), r.db.NewSelect().Model(&ops),
		r.db.NewSelect().Model(&cs), r.db.NewSelect().Model(&ms), r.db.NewSelect().Model(&as),
	} {
		if err := q.Scan(ctx); err != nil {
			r.t.Fatal(err)
		}
	}
	ours := map[int64]bool{}
	for _, d := range docs {
		ours[d.ID] = d.WorkingGroupID == r.groups[code]
	}
	docOf := map[int64]int64{}
	for _, s := range secs {
		docOf[s.ID] = s.DocumentID
	}
	for _, o := range ops {
		if ours[docOf[o.SectionID]] {
			see(o.CreatedAt)
		}
	}
	for _, c := range cs {
		if ours[c.DocumentID] {
			see(c.UpdatedAt)
		}
	}
	inTerritory := map[int64]bool{}
	for _, m := range ms {
		if m.TerritoryID == r.terr[code] {
			inTerritory[m.ID] = true
			see(m.UpdatedAt)
		}
	}
	for _, a := range as {
		if inTerritory[a.MeetingID] {
			see(a.CheckedInAt)
		}
	}
	return last.UTC()
}
