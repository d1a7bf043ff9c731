package meeting_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// hybridMeeting plans a hybrid meeting of Enna's focus group on theme, on
// day d of April 2026 from 10:00 to 12:00 in Rome, inviting the
// municipality (through its representative) and the member.
func (f *fixture) hybridMeeting(theme reference.ThemeCode, d int) *meeting.Meeting {
	f.t.Helper()
	fg := f.focus["EN"][theme]
	if _, err := f.svc.AddInvitees(f.as(f.coord), fg, []int64{f.member.PersonID}, []int64{f.orgA}); err != nil {
		f.t.Fatal(err)
	}
	in := f.input(rome(2026, 4, d, 10, 0))
	in.FocusGroupID, in.Mode, in.OnlineURL = fg, meeting.Hybrid, "https://meet.example.org/enna"
	return f.create(in)
}

// register adds an entry as the coordinator and fails the test on an
// error.
func (f *fixture) register(in meeting.AttendanceInput) *meeting.Attendance {
	f.t.Helper()
	a, err := f.svc.RegisterAttendance(f.as(f.coord), in)
	if err != nil {
		f.t.Fatalf("register %+v: %v", in, err)
	}
	return a
}

// at moves the clock to t.
func (f *fixture) at(t time.Time) { f.clock.Advance(t.Sub(f.clock.Now())) }

func TestRegisterAttendance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		m := f.hybridMeeting("HEALTH", 10)
		person := func(a *access.Actor, mode meeting.AttendanceMode) meeting.AttendanceInput {
			return meeting.AttendanceInput{MeetingID: m.ID, PersonID: &a.PersonID, Mode: mode}
		}
		before := f.snapshot()
		_, err := f.svc.RegisterAttendance(f.as(f.coord), person(f.repA, meeting.AttendedInPerson))
		refused(t, "a day before", err, apperr.Conflict, "NOT_STARTED", "")
		f.unchanged(before, "registering early")

		// Check-in opens an hour before the start.
		f.at(m.StartsAt.Add(-59 * time.Minute))
		events, err := f.svc.Subscribe(f.as(f.coord), f.terr["EN"])
		if err != nil {
			t.Fatal(err)
		}
		rep := f.register(person(f.repA, meeting.AttendedInPerson))
		if rep.OrganizationID == nil || *rep.OrganizationID != f.orgA || !rep.CheckedInAt.Equal(f.clock.Now()) ||
			rep.RecordedBy == nil || *rep.RecordedBy != f.coord.PersonID || rep.GuestName != nil {
			t.Errorf("the representative's entry: %+v", rep)
		}
		select {
		case ev := <-events:
			if ev.Kind != meeting.AttendanceChanged || ev.MeetingID != m.ID {
				t.Errorf("event %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Error("no event for an entry")
		}
		// Not invited, one affiliation: the municipality's staff.
		if s := f.register(person(f.staffA, meeting.AttendedOnline)); s.OrganizationID == nil || *s.OrganizationID != f.orgA {
			t.Errorf("the staff's entry: %+v", s)
		}
		// Invited in person, no affiliation: no organization.
		if mb := f.register(person(f.member, meeting.AttendedInPerson)); mb.OrganizationID != nil {
			t.Errorf("the member's entry: %+v", mb)
		}
		// Two affiliations: none chosen for them, unless given.
		two := f.actor("Doppio Incarico", nil)
		f.affiliate(two, f.orgA, network.Staff)
		f.affiliate(two, f.orgB, network.Delegate)
		if d := f.register(person(two, meeting.AttendedInPerson)); d.OrganizationID != nil {
			t.Errorf("two affiliations: %+v", d)
		}
		given := person(f.repB, meeting.AttendedInPerson)
		given.OrganizationID = &f.orgA
		if g := f.register(given); *g.OrganizationID != f.orgA {
			t.Errorf("a given organization: %+v", g)
		}
		guest := f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("  Amina   K. "),
			GuestOrganization: new("Comunità eritrea di Enna"), Mode: meeting.AttendedOnline})
		if *guest.GuestName != "Amina K." || *guest.GuestOrganization != "Comunità eritrea di Enna" || guest.PersonID != nil ||
			guest.OrganizationID != nil {
			t.Errorf("a guest: %+v", guest)
		}
		f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("Yusuf"), OrganizationID: &f.orgB, Mode: meeting.AttendedInPerson})
		f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("Yusuf"), GuestOrganization: new(""), Mode: meeting.AttendedInPerson})

		before = f.snapshot()
		ghost := int64(999_999)
		for _, c := range []struct {
			what, field string
			in          meeting.AttendanceInput
		}{
			{"no mode", "mode", meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.observer.PersonID}},
			{"hybrid is not a way to attend", "mode", meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.observer.PersonID, Mode: "HYBRID"}},
			{"neither person nor guest", "person", meeting.AttendanceInput{MeetingID: m.ID, Mode: meeting.AttendedOnline}},
			{"a blank guest", "person", meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("  "), Mode: meeting.AttendedOnline}},
			{"both", "guestName", meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.observer.PersonID, GuestName: new("X"), Mode: meeting.AttendedOnline}},
			{"a person with a free-text organization", "guestOrganization", meeting.AttendanceInput{MeetingID: m.ID,
				PersonID: &f.observer.PersonID, GuestOrganization: new("Caritas"), Mode: meeting.AttendedOnline}},
			{"a guest with two organizations", "guestOrganization", meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("X"),
				GuestOrganization: new("Caritas"), OrganizationID: &f.orgB, Mode: meeting.AttendedOnline}},
			{"a long guest name", "guestName", meeting.AttendanceInput{MeetingID: m.ID, GuestName: new(strings.Repeat("a", 201)), Mode: meeting.AttendedOnline}},
			{"a long guest organization", "guestOrganization", meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("X"),
				GuestOrganization: new(strings.Repeat("a", 301)), Mode: meeting.AttendedOnline}},
			{"an unknown person", "person", meeting.AttendanceInput{MeetingID: m.ID, PersonID: &ghost, Mode: meeting.AttendedOnline}},
			{"an unknown organization", "organization", meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.observer.PersonID,
				OrganizationID: &ghost, Mode: meeting.AttendedOnline}},
		} {
			_, err := f.svc.RegisterAttendance(f.as(f.coord), c.in)
			refused(t, c.what, err, apperr.BadInput, "", c.field)
		}
		_, err = f.svc.RegisterAttendance(f.as(f.coord), person(f.repA, meeting.AttendedOnline))
		refused(t, "a second entry", err, apperr.Conflict, "ALREADY_REGISTERED", "")
		for _, c := range []struct {
			who  string
			a    *access.Actor
			want apperr.Kind
		}{
			{"anonymous", access.Anonymous, apperr.Unauthenticated},
			{"a member", f.member, apperr.Forbidden},
			{"a policy maker", f.policy, apperr.Forbidden},
			{"another territory's coordinator", f.outside, apperr.Forbidden},
		} {
			_, err := f.svc.RegisterAttendance(f.as(c.a), person(f.observer, meeting.AttendedInPerson))
			refused(t, c.who, err, c.want, "", "")
		}
		_, err = f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: ghost, PersonID: &f.observer.PersonID, Mode: meeting.AttendedOnline})
		refused(t, "an unknown meeting", err, apperr.NotFound, "", "")
		f.unchanged(before, "refused entries")

		// The meeting's mode decides how one may have taken part.
		f.at(rome(2026, 4, 20, 9, 30))
		inPerson := f.create(f.input(rome(2026, 4, 20, 10, 0)))
		online := f.input(rome(2026, 4, 20, 10, 0))
		online.FocusGroupID, online.Mode, online.OnlineURL, online.Venue = f.focus["EN"]["WORK"], meeting.Online, "https://meet.example.org/w", ""
		online.OverrideConflicts = true
		on := f.create(online)
		before = f.snapshot()
		_, err = f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: inPerson.ID, PersonID: &f.repA.PersonID, Mode: meeting.AttendedOnline})
		refused(t, "online at an in-person meeting", err, apperr.BadInput, "", "mode")
		_, err = f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: on.ID, PersonID: &f.repA.PersonID, Mode: meeting.AttendedInPerson})
		refused(t, "in person at an online meeting", err, apperr.BadInput, "", "mode")
		f.unchanged(before, "entries in the wrong mode")
		f.register(meeting.AttendanceInput{MeetingID: on.ID, PersonID: &f.repA.PersonID, Mode: meeting.AttendedOnline})

		// Cancelled and postponed meetings take no entries.
		if _, err := f.svc.ChangeStatus(f.as(f.coord), inPerson.ID, meeting.Cancelled, "sala chiusa"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), on.ID, meeting.Postponed, ""); err != nil {
			t.Fatal(err)
		}
		before = f.snapshot()
		_, err = f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: inPerson.ID, PersonID: &f.repB.PersonID, Mode: meeting.AttendedInPerson})
		refused(t, "a cancelled meeting", err, apperr.Conflict, "MEETING_CLOSED", "")
		_, err = f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: on.ID, PersonID: &f.repB.PersonID, Mode: meeting.AttendedOnline})
		refused(t, "a postponed meeting", err, apperr.Conflict, "NOT_STARTED", "")
		f.unchanged(before, "entries in closed meetings")

		// Thirty days after the end the register is closed for good.
		f.at(m.EndsAt.Add(30 * 24 * time.Hour))
		f.register(person(f.observer, meeting.AttendedInPerson))
		f.clock.Advance(time.Minute)
		before = f.snapshot()
		_, err = f.svc.RegisterAttendance(f.as(f.coord), person(f.stranger, meeting.AttendedInPerson))
		refused(t, "a month later", err, apperr.Conflict, "REGISTER_CLOSED", "")
		_, err = f.svc.RemoveAttendance(f.as(f.coord), rep.ID)
		refused(t, "removing a month later", err, apperr.Conflict, "REGISTER_CLOSED", "")
		f.unchanged(before, "a closed register")
	})
}

func TestRegisterReadsAndRemove(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		m := f.hybridMeeting("HEALTH", 10)
		priv := f.input(rome(2026, 4, 10, 10, 0))
		priv.FocusGroupID, priv.Private, priv.Venue = f.focus["EN"]["WORK"], true, "Altra sala, Enna"
		priv.OverrideConflicts = true
		p := f.create(priv)
		f.at(m.StartsAt)
		// Entered out of name order, a minute apart.
		var want []int64
		for i, a := range []*access.Actor{f.staffA, f.repA, f.member} {
			f.clock.Advance(time.Duration(i) * time.Minute)
			want = append(want, f.register(meeting.AttendanceInput{MeetingID: m.ID, PersonID: &a.PersonID, Mode: meeting.AttendedInPerson}).ID)
		}
		f.register(meeting.AttendanceInput{MeetingID: p.ID, GuestName: new("Ospite"), Mode: meeting.AttendedInPerson})
		reg, err := f.svc.Register(f.as(f.observer), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(reg) != 3 || reg[0].ID != want[0] || reg[1].ID != want[1] || reg[2].ID != want[2] {
			t.Errorf("register %+v, want ids %v", reg, want)
		}
		if _, err := f.svc.Register(f.as(f.stranger), m.ID); kind(err) != apperr.Forbidden {
			t.Errorf("a stranger reading a public meeting's register: %v", err)
		}
		if _, err := f.svc.Register(f.as(f.outside), p.ID); kind(err) != apperr.NotFound {
			t.Errorf("another territory reading a private meeting's register: %v", err)
		}
		counter := storage.CountStatements(db)
		all, err := f.svc.AttendanceOf(f.as(f.policy), []int64{m.ID, p.ID})
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 1 {
			t.Errorf("AttendanceOf ran %d statements", n)
		}
		if len(all[m.ID]) != 3 || len(all[p.ID]) != 1 || all[m.ID][0].ID != want[0] {
			t.Errorf("AttendanceOf: %v", all)
		}
		if none, _ := f.svc.AttendanceOf(f.as(f.outside), []int64{m.ID, p.ID}); len(none) != 0 {
			t.Errorf("another territory reads %v", none)
		}
		// Removing a mistaken entry.
		before := f.snapshot()
		for _, c := range []struct {
			who  string
			a    *access.Actor
			id   int64
			want apperr.Kind
		}{
			{"anonymous", access.Anonymous, want[0], apperr.Unauthenticated},
			{"a member", f.member, want[0], apperr.Forbidden},
			{"another territory's coordinator", f.outside, want[0], apperr.NotFound},
			{"a stranger", f.stranger, want[0], apperr.NotFound},
			{"an unknown entry", f.coord, 999_999, apperr.NotFound},
		} {
			_, err := f.svc.RemoveAttendance(f.as(c.a), c.id)
			refused(t, c.who, err, c.want, "", "")
		}
		f.unchanged(before, "refused removals")
		gone, err := f.svc.RemoveAttendance(f.as(f.coord), want[1])
		if err != nil || gone.PersonID == nil || *gone.PersonID != f.repA.PersonID {
			t.Fatalf("removed %+v %v", gone, err)
		}
		if reg, _ := f.svc.Register(f.as(f.coord), m.ID); len(reg) != 2 {
			t.Errorf("%d entries after a removal", len(reg))
		}
		// Now the representative may be registered again.
		f.register(meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.repA.PersonID, Mode: meeting.AttendedOnline})
	})
}

func TestRegisterTotals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		health := f.hybridMeeting("HEALTH", 10)
		work := f.hybridMeeting("WORK", 11)
		empty := f.hybridMeeting("HOUSING", 12)
		later := f.hybridMeeting("HEALTH", 20)
		entry := func(m *meeting.Meeting, a *access.Actor, mode meeting.AttendanceMode) {
			f.register(meeting.AttendanceInput{MeetingID: m.ID, PersonID: &a.PersonID, Mode: mode})
		}
		f.at(health.StartsAt)
		entry(health, f.repA, meeting.AttendedInPerson)
		entry(health, f.staffA, meeting.AttendedOnline)
		entry(health, f.repB, meeting.AttendedInPerson)
		entry(health, f.member, meeting.AttendedInPerson)
		f.register(meeting.AttendanceInput{MeetingID: health.ID, GuestName: new("Amina"), GuestOrganization: new("Comunità eritrea"),
			Mode: meeting.AttendedOnline})
		f.register(meeting.AttendanceInput{MeetingID: health.ID, GuestName: new("Yusuf"), OrganizationID: &f.orgB, Mode: meeting.AttendedInPerson})
		f.at(work.StartsAt)
		entry(work, f.repA, meeting.AttendedInPerson)
		entry(work, f.observer, meeting.AttendedOnline)
		f.register(meeting.AttendanceInput{MeetingID: work.ID, GuestName: new("Amina"), Mode: meeting.AttendedOnline})
		f.at(empty.EndsAt)
		for _, m := range []*meeting.Meeting{health, work, empty} {
			if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Held, ""); err != nil {
				t.Fatal(err)
			}
		}
		f.at(later.StartsAt) // registered, but not held: left out of the themes' totals
		entry(later, f.stranger, meeting.AttendedInPerson)

		counter := storage.CountStatements(db)
		tot, err := f.svc.RegisterTotals(f.as(f.member), []int64{health.ID, work.ID, empty.ID, 999_999})
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n > 2 {
			t.Errorf("RegisterTotals ran %d statements", n)
		}
		h := tot[health.ID]
		if h == nil || h.Total != 6 || h.InPerson != 4 || h.Online != 2 || h.Guests != 2 || h.Organizations != 2 {
			t.Fatalf("health totals %+v", h)
		}
		wantKinds := []meeting.KindCount{{Kind: network.KindMunicipality, Count: 2}, {Kind: network.KindMigrantCommunityAssociation, Count: 2}}
		if len(h.ByKind) != 2 || h.ByKind[0] != wantKinds[0] || h.ByKind[1] != wantKinds[1] {
			t.Errorf("by kind %+v", h.ByKind)
		}
		wantSectors := []meeting.SectorCount{{Sector: network.SectorPublic, Count: 2}, {Sector: network.SectorMigrantCommunity, Count: 2}}
		if len(h.BySector) != 2 || h.BySector[0] != wantSectors[0] || h.BySector[1] != wantSectors[1] {
			t.Errorf("by sector %+v", h.BySector)
		}
		if e := tot[empty.ID]; e == nil || e.Total != 0 || len(e.ByKind) != 0 {
			t.Errorf("an empty register: %+v", e)
		}
		if _, ok := tot[999_999]; ok || len(tot) != 3 {
			t.Errorf("totals for %d meetings", len(tot))
		}
		if none, _ := f.svc.RegisterTotals(f.as(f.stranger), []int64{health.ID}); len(none) != 0 {
			t.Errorf("a stranger reads totals %+v", none)
		}

		// By theme: held meetings only; people and organizations distinct.
		byTheme, err := f.svc.TotalsByTheme(f.as(f.member), meeting.TotalsFilter{WorkingGroupID: f.groups["EN"]})
		if err != nil {
			t.Fatal(err)
		}
		if len(byTheme) != 4 {
			t.Fatalf("%d themes", len(byTheme))
		}
		got := map[int64]meeting.ThemeTotals{}
		for _, x := range byTheme {
			got[x.ThemeID] = *x
		}
		if x := got[f.themes["HEALTH"]]; x != (meeting.ThemeTotals{ThemeID: f.themes["HEALTH"], MeetingsHeld: 1, Entries: 6, People: 4, Guests: 2, Organizations: 2}) {
			t.Errorf("health %+v", x)
		}
		if x := got[f.themes["WORK"]]; x != (meeting.ThemeTotals{ThemeID: f.themes["WORK"], MeetingsHeld: 1, Entries: 3, People: 2, Guests: 1, Organizations: 1}) {
			t.Errorf("work %+v", x)
		}
		if x := got[f.themes["HOUSING"]]; x.MeetingsHeld != 1 || x.Entries != 0 {
			t.Errorf("housing %+v", x)
		}
		from := rome(2026, 4, 11, 0, 0)
		byTheme, err = f.svc.TotalsByTheme(f.as(f.policy), meeting.TotalsFilter{From: &from})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range byTheme {
			if x.ThemeID == f.themes["HEALTH"] && x.MeetingsHeld != 0 {
				t.Errorf("health from the 11th: %+v", x)
			}
		}
		if _, err := f.svc.TotalsByTheme(f.as(f.coord), meeting.TotalsFilter{}); kind(err) != apperr.Forbidden {
			t.Errorf("a coordinator's region: %v", err)
		}
		if _, err := f.svc.TotalsByTheme(f.as(f.outside), meeting.TotalsFilter{TerritoryID: f.terr["EN"]}); kind(err) != apperr.Forbidden {
			t.Errorf("another territory: %v", err)
		}
		if _, err := f.svc.TotalsByTheme(f.as(f.coord), meeting.TotalsFilter{WorkingGroupID: 999_999}); kind(err) != apperr.NotFound {
			t.Errorf("an unknown group: %v", err)
		}
		if _, err := f.svc.TotalsByTheme(f.as(f.admin), meeting.TotalsFilter{WorkingGroupID: f.groups["EN"], TerritoryID: f.terr["PA"]}); kind(err) != apperr.BadInput {
			t.Errorf("a group of another territory: %v", err)
		}
	})
}

// TestExportRegister: the register export matches the register, row by
// row, and no cell is a formula.
func TestExportRegister(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		m := f.hybridMeeting("HEALTH", 10)
		f.at(m.StartsAt.Add(-30 * time.Minute))
		f.register(meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.repA.PersonID, Mode: meeting.AttendedInPerson})
		f.clock.Advance(17*time.Minute + 3*time.Second)
		f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: new(`=HYPERLINK("http://x.example","clic")`),
			GuestOrganization: new("+39 associazione; \"Ponti\""), Mode: meeting.AttendedOnline})
		f.clock.Advance(time.Hour)
		f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("Yusuf"), OrganizationID: &f.orgB, Mode: meeting.AttendedInPerson})
		f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: new("-1 Rossi"), Mode: meeting.AttendedInPerson})
		if _, err := f.svc.RegisterAttendance(f.as(f.admin), meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.member.PersonID,
			Mode: meeting.AttendedOnline}); err != nil {
			t.Fatal(err)
		}
		data, err := f.svc.ExportRegister(f.as(f.observer), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || !bytes.Contains(data, []byte("\r\n")) {
			t.Errorf("no BOM or CRLF: %q", data)
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		r.Comma = ';'
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		header := []string{"Nome", "Ospite", "Organizzazione", "Tipo di organizzazione", "Modalità", "Ora di registrazione (Europe/Rome)", "Registrato da"}
		if strings.Join(rows[0], "|") != strings.Join(header, "|") {
			t.Errorf("header %q", rows[0])
		}
		reg, err := f.svc.Register(f.as(f.coord), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != len(reg) {
			t.Fatalf("%d rows for %d entries", len(rows)-1, len(reg))
		}
		names := map[int64]string{f.repA.PersonID: "Rita Rappresentante", f.member.PersonID: "Mario Membro",
			f.coord.PersonID: "Carla Coordinatrice", f.admin.PersonID: "Ada Admin"}
		orgs := map[int64][2]string{f.orgA: {"Comune di Enna", "Comune"}, f.orgB: {"Associazione Ponti", "Associazione di comunità migranti"}}
		safe := func(s string) string {
			if s != "" && strings.ContainsAny(s[:1], "=+-@") {
				return "'" + s
			}
			return s
		}
		for i, a := range reg {
			want := []string{"", "no", "", "", map[meeting.AttendanceMode]string{meeting.AttendedInPerson: "In presenza",
				meeting.AttendedOnline: "Online"}[a.Mode], a.CheckedInAt.In(meeting.Rome).Format("02/01/2006 15:04"), names[*a.RecordedBy]}
			if a.PersonID != nil {
				want[0] = names[*a.PersonID]
			} else {
				want[0], want[1] = safe(*a.GuestName), "sì"
			}
			if a.OrganizationID != nil {
				want[2], want[3] = orgs[*a.OrganizationID][0], orgs[*a.OrganizationID][1]
			} else if a.GuestOrganization != nil {
				want[2] = safe(*a.GuestOrganization)
			}
			if got := rows[i+1]; strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("row %d: %q, want %q", i+1, got, want)
			}
		}
		if rows[2][0] != `'=HYPERLINK("http://x.example","clic")` || rows[2][2] != `'+39 associazione; "Ponti"` || rows[2][5] != "10/04/2026 09:47" {
			t.Errorf("the guest's row %q", rows[2])
		}
		if _, err := f.svc.ExportRegister(f.as(f.stranger), m.ID); kind(err) != apperr.Forbidden {
			t.Errorf("a stranger exporting: %v", err)
		}
	})
}

// TestCheckInFromThePaperSheet: an entry copied from the paper sheet after
// the meeting keeps the arrival time it gives, within the meeting's window,
// and the register is in order of arrival.
func TestCheckInFromThePaperSheet(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		m := f.hybridMeeting("WORK", 10)
		f.at(m.EndsAt.Add(48 * time.Hour))
		late, early := m.StartsAt.Add(20*time.Minute), m.StartsAt.Add(-5*time.Minute)
		a := f.register(meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.member.PersonID, Mode: meeting.AttendedOnline, CheckedInAt: &late})
		b := f.register(meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.repA.PersonID, Mode: meeting.AttendedInPerson, CheckedInAt: &early})
		if !a.CheckedInAt.Equal(late) || !b.CheckedInAt.Equal(early) {
			t.Errorf("check-in times %v and %v, want %v and %v", a.CheckedInAt, b.CheckedInAt, late, early)
		}
		reg, err := f.svc.Register(f.as(f.coord), m.ID)
		if err != nil || len(reg) != 2 || reg[0].ID != b.ID {
			t.Errorf("register %+v (%v), want the earlier arrival first", reg, err)
		}
		before := f.snapshot()
		for _, at := range []time.Time{m.StartsAt.Add(-61 * time.Minute), m.EndsAt.Add(time.Minute), f.clock.Now().Add(time.Hour)} {
			_, err := f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: m.ID, PersonID: &f.repB.PersonID,
				Mode: meeting.AttendedOnline, CheckedInAt: &at})
			refused(t, "checked in at "+at.String(), err, apperr.BadInput, "", "checkedInAt")
		}
		f.unchanged(before, "bad check-in times")
		// A meeting under way: no check-in ahead of now.
		m2 := f.hybridMeeting("HOUSING", 20)
		f.at(m2.StartsAt.Add(30 * time.Minute))
		before = f.snapshot()
		ahead := f.clock.Now().Add(10 * time.Minute)
		_, err = f.svc.RegisterAttendance(f.as(f.coord), meeting.AttendanceInput{MeetingID: m2.ID, PersonID: &f.repB.PersonID,
			Mode: meeting.AttendedOnline, CheckedInAt: &ahead})
		refused(t, "checked in ahead of now", err, apperr.BadInput, "", "checkedInAt")
		f.unchanged(before, "a check-in ahead of now")
	})
}
