package meeting_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// input is a valid in-person meeting of Enna's health focus group.
func (f *fixture) input(start time.Time) meeting.MeetingInput {
	return meeting.MeetingInput{FocusGroupID: f.focus["EN"]["HEALTH"], Title: "Salute: accesso ai servizi",
		Description: "Primo incontro del focus group.", Agenda: []string{"Presentazioni", "  ", "Mappatura dei servizi"},
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), Mode: meeting.InPerson, Venue: "Sala Cerere, Piazza Garibaldi 1, Enna"}
}

func (f *fixture) create(in meeting.MeetingInput) *meeting.Meeting {
	f.t.Helper()
	m, err := f.svc.CreateMeeting(f.as(f.coord), in)
	if err != nil {
		f.t.Fatalf("create meeting: %v", err)
	}
	return m
}

func kind(err error) apperr.Kind {
	if err == nil {
		return ""
	}
	return apperr.KindOf(err)
}

func TestCreateMeeting(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		start := rome(2026, 3, 10, 10, 0)
		in := f.input(start)
		two := 2
		in.Capacity = &two
		in.Services = []meeting.Offer{{Kind: meeting.Childcare}, {Kind: meeting.Interpreting, Languages: []string{"AR", "fr", "ar"}}}
		m := f.create(in)
		if m.Status != meeting.Planned || m.Sequence != 0 || m.TerritoryID != f.terr["EN"] || m.ThemeID != f.themes["HEALTH"] {
			t.Errorf("new meeting: %+v", m)
		}
		if !m.StartsAt.Equal(start) || m.StartsAt.Location() != time.UTC || m.StartsAt.Hour() != 9 {
			t.Errorf("starts at %v, want 09:00 UTC (10:00 in Rome in winter)", m.StartsAt)
		}
		if len(m.Agenda) != 2 {
			t.Errorf("agenda %q: empty items are dropped", m.Agenda)
		}
		if len(m.Services) != 2 || m.Services[0].Kind != meeting.Interpreting || strings.Join(m.Services[0].Languages, ",") != "ar,fr" {
			t.Errorf("services %+v: in fixed order, languages folded and once", m.Services)
		}
		got, err := f.svc.Meeting(f.as(f.member), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != m.Title || !got.StartsAt.Equal(start) || got.Capacity == nil || *got.Capacity != 2 || len(got.Services) != 2 {
			t.Errorf("read back %+v", got)
		}
	})
}

// TestBadMeetingInput: each bad value is BAD_USER_INPUT naming its field,
// and nothing is written.
func TestBadMeetingInput(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		start := rome(2026, 3, 10, 10, 0)
		zero, huge := 0, 100_000
		ghost := int64(999_999)
		cases := []struct {
			name, field string
			edit        func(*meeting.MeetingInput)
		}{
			{"no title", "title", func(in *meeting.MeetingInput) { in.Title = "  " }},
			{"title with control characters", "title", func(in *meeting.MeetingInput) { in.Title = "a\x00b" }},
			{"ends before it starts", "endsAt", func(in *meeting.MeetingInput) { in.EndsAt = in.StartsAt.Add(-time.Hour) }},
			{"lasts two days", "endsAt", func(in *meeting.MeetingInput) { in.EndsAt = in.StartsAt.Add(48 * time.Hour) }},
			{"seconds", "startsAt", func(in *meeting.MeetingInput) { in.StartsAt = in.StartsAt.Add(time.Second) }},
			{"no start", "startsAt", func(in *meeting.MeetingInput) { in.StartsAt = time.Time{} }},
			{"year 1990", "startsAt", func(in *meeting.MeetingInput) {
				in.StartsAt = time.Date(1990, 1, 1, 9, 0, 0, 0, time.UTC)
				in.EndsAt = in.StartsAt.Add(time.Hour)
			}},
			{"unknown mode", "mode", func(in *meeting.MeetingInput) { in.Mode = "TELEPATHY" }},
			{"in person without venue", "venue", func(in *meeting.MeetingInput) { in.Venue = "" }},
			{"online without link", "onlineUrl", func(in *meeting.MeetingInput) { in.Mode = meeting.Online }},
			{"hybrid with a bad link", "onlineUrl", func(in *meeting.MeetingInput) { in.Mode = meeting.Hybrid; in.OnlineURL = "javascript:alert(1)" }},
			{"capacity 0", "capacity", func(in *meeting.MeetingInput) { in.Capacity = &zero }},
			{"capacity huge", "capacity", func(in *meeting.MeetingInput) { in.Capacity = &huge }},
			{"interpreting without languages", "services", func(in *meeting.MeetingInput) {
				in.Services = []meeting.Offer{{Kind: meeting.Interpreting}}
			}},
			{"a bad language", "services", func(in *meeting.MeetingInput) {
				in.Services = []meeting.Offer{{Kind: meeting.CulturalMediation, Languages: []string{"arabic"}}}
			}},
			{"childcare with languages", "services", func(in *meeting.MeetingInput) {
				in.Services = []meeting.Offer{{Kind: meeting.Childcare, Languages: []string{"it"}}}
			}},
			{"a service twice", "services", func(in *meeting.MeetingInput) {
				in.Services = []meeting.Offer{{Kind: meeting.Childcare}, {Kind: meeting.Childcare}}
			}},
			{"unknown service", "services", func(in *meeting.MeetingInput) { in.Services = []meeting.Offer{{Kind: "MASSAGE"}} }},
			{"unknown facilitator", "facilitator", func(in *meeting.MeetingInput) { in.FacilitatorID = &ghost }},
		}
		for _, c := range cases {
			in := f.input(start)
			c.edit(&in)
			_, err := f.svc.CreateMeeting(f.as(f.coord), in)
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Kind != apperr.BadInput || ae.Field != c.field {
				t.Errorf("%s: %v, want BAD_USER_INPUT on %s", c.name, err, c.field)
			}
		}
		in := f.input(start)
		in.FocusGroupID = 999_999
		if _, err := f.svc.CreateMeeting(f.as(f.coord), in); kind(err) != apperr.NotFound {
			t.Errorf("unknown focus group: %v", err)
		}
		if n := f.count("meetings"); n != 0 {
			t.Errorf("%d meetings written by refused requests", n)
		}
		if n := f.count("mail_outbox"); n != 0 {
			t.Errorf("%d mails queued by refused requests", n)
		}
	})
}

func TestMeetingAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		in := f.input(rome(2026, 3, 10, 10, 0))
		for _, c := range []struct {
			who  string
			a    *access.Actor
			want apperr.Kind
		}{
			{"anonymous", access.Anonymous, apperr.Unauthenticated},
			{"member", f.member, apperr.Forbidden},
			{"observer", f.observer, apperr.Forbidden},
			{"policy maker", f.policy, apperr.Forbidden},
			{"another territory's coordinator", f.outside, apperr.NotFound},
			{"stranger", f.stranger, apperr.NotFound},
		} {
			if _, err := f.svc.CreateMeeting(f.as(c.a), in); kind(err) != c.want {
				t.Errorf("%s creating: %v, want %s", c.who, err, c.want)
			}
		}
		if _, err := f.svc.CreateMeeting(f.as(f.admin), in); err != nil {
			t.Errorf("admin: %v", err)
		}
		m := f.create(f.input(rome(2026, 3, 11, 10, 0)))
		// A meeting that is not private is read by every signed-in person;
		// a private one by the territory's group, policy makers and admins.
		for _, a := range []*access.Actor{f.member, f.observer, f.policy, f.outside, f.stranger} {
			if _, err := f.svc.Meeting(f.as(a), m.ID); err != nil {
				t.Errorf("reading a public meeting as %d: %v", a.PersonID, err)
			}
		}
		priv := f.input(rome(2026, 3, 12, 10, 0))
		priv.Private = true
		p := f.create(priv)
		for _, a := range []*access.Actor{f.member, f.observer, f.policy, f.admin} {
			if _, err := f.svc.Meeting(f.as(a), p.ID); err != nil {
				t.Errorf("reading a private meeting as %d: %v", a.PersonID, err)
			}
		}
		for _, a := range []*access.Actor{f.outside, f.stranger} {
			if _, err := f.svc.Meeting(f.as(a), p.ID); kind(err) != apperr.NotFound {
				t.Errorf("private meeting as %d: %v, want NOT_FOUND", a.PersonID, err)
			}
		}
		if _, err := f.svc.ChangeStatus(f.as(f.member), m.ID, meeting.Confirmed, ""); kind(err) != apperr.Forbidden {
			t.Errorf("member confirming: %v", err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.outside), p.ID, meeting.Confirmed, ""); kind(err) != apperr.NotFound {
			t.Errorf("outsider confirming a private meeting: %v", err)
		}
		// The list shows the stranger the public ones only.
		page, err := f.svc.Meetings(f.as(f.stranger), meeting.MeetingFilter{}, relay.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 2 {
			t.Errorf("stranger lists %d meetings, want the 2 public ones", page.TotalCount)
		}
		page, err = f.svc.Meetings(f.as(f.member), meeting.MeetingFilter{TerritoryID: f.terr["EN"]}, relay.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 3 {
			t.Errorf("member lists %d meetings, want 3", page.TotalCount)
		}
	})
}

func TestConflicts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		fac := f.member.PersonID
		first := f.input(rome(2026, 3, 10, 10, 0))
		first.FacilitatorID = &fac
		m := f.create(first)

		// Same working group (another theme), overlapping by an hour.
		other := f.input(rome(2026, 3, 10, 11, 0))
		other.FocusGroupID = f.focus["EN"]["WORK"]
		other.Venue = "Altrove, Via Roma 3, Enna"
		_, err := f.svc.CreateMeeting(f.as(f.coord), other)
		var ce *meeting.ConflictError
		if !errors.As(err, &ce) || kind(err) != apperr.Conflict || apperr.ReasonOf(err) != "SCHEDULE_CONFLICT" {
			t.Fatalf("overlap in the group: %v", err)
		}
		if len(ce.Conflicts) != 1 || ce.Conflicts[0].Kind != meeting.SameWorkingGroup || ce.Conflicts[0].MeetingID != m.ID {
			t.Errorf("conflicts %+v", ce.Conflicts)
		}
		// Back to back is no overlap.
		other.StartsAt, other.EndsAt = m.EndsAt, m.EndsAt.Add(time.Hour)
		f.create(other)

		// Another territory at the same venue (folded), and with the same
		// facilitator.
		pa := f.input(rome(2026, 3, 10, 9, 30))
		pa.FocusGroupID = f.focus["PA"]["HEALTH"]
		pa.Venue = "sala cerere,  piazza garibaldi 1, ENNA"
		pa.FacilitatorID = &fac
		_, err = f.svc.CreateMeeting(f.as(f.admin), pa)
		if !errors.As(err, &ce) {
			t.Fatalf("venue and facilitator: %v", err)
		}
		kinds := map[meeting.ConflictKind]bool{}
		for _, c := range ce.Conflicts {
			kinds[c.Kind] = true
		}
		if !kinds[meeting.SameVenue] || !kinds[meeting.SameFacilitator] || kinds[meeting.SameWorkingGroup] {
			t.Errorf("conflicts %+v, want venue and facilitator", ce.Conflicts)
		}
		if n := f.count("meetings"); n != 2 {
			t.Errorf("%d meetings after a refused conflict, want 2", n)
		}
		// An explicit override is recorded, with who and why.
		pa.OverrideConflicts, pa.OverrideNote = true, "sala grande divisa in due"
		kept, err := f.svc.CreateMeeting(f.as(f.admin), pa)
		if err != nil {
			t.Fatal(err)
		}
		if kept.OverriddenBy == nil || *kept.OverriddenBy != f.admin.PersonID || !strings.Contains(kept.ConflictNote, "VENUE") ||
			!strings.Contains(kept.ConflictNote, "FACILITATOR") || !strings.Contains(kept.ConflictNote, "sala grande divisa in due") {
			t.Errorf("override recorded as %q by %v", kept.ConflictNote, kept.OverriddenBy)
		}
		// A private meeting of another territory at the same venue: its
		// time is shown, its title and id are not.
		secret := f.input(rome(2026, 3, 25, 10, 0))
		secret.FocusGroupID, secret.Private, secret.Title = f.focus["PA"]["WORK"], true, "Riunione riservata sul caso X"
		if _, err := f.svc.CreateMeeting(f.as(f.outside), secret); err != nil {
			t.Fatal(err)
		}
		clash := f.input(rome(2026, 3, 25, 11, 0))
		_, err = f.svc.CreateMeeting(f.as(f.coord), clash)
		if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || ce.Conflicts[0].MeetingID != 0 || ce.Conflicts[0].Index != -1 ||
			ce.Conflicts[0].Title != meeting.PrivateTitle || !ce.Conflicts[0].StartsAt.Equal(secret.StartsAt) ||
			strings.Contains(err.Error(), "caso X") {
			t.Errorf("a private meeting elsewhere: %v %+v", err, ce)
		}
		// A cancelled meeting conflicts with nothing.
		if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Cancelled, "sala non disponibile"); err != nil {
			t.Fatal(err)
		}
		again := f.input(rome(2026, 3, 10, 10, 0))
		again.FocusGroupID = f.focus["EN"]["EDUCATION"]
		again.Venue = "Biblioteca comunale, Enna"
		if _, err := f.svc.CreateMeeting(f.as(f.coord), again); err != nil {
			t.Errorf("over a cancelled meeting: %v", err)
		}
		// Moving a meeting onto another is a conflict too.
		later := f.create(f.input(rome(2026, 3, 20, 10, 0)))
		to := rome(2026, 3, 10, 10, 30)
		end := to.Add(time.Hour)
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), later.ID, meeting.MeetingPatch{StartsAt: &to, EndsAt: &end}); !errors.As(err, &ce) {
			t.Errorf("moving onto another: %v", err)
		}
		if got, _ := f.svc.Meeting(f.as(f.coord), later.ID); !got.StartsAt.Equal(later.StartsAt) || got.Sequence != 0 {
			t.Errorf("a refused move changed the meeting: %+v", got)
		}
	})
}

func TestStatusMachine(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		m := f.create(f.input(rome(2026, 3, 10, 10, 0)))
		ctx := f.as(f.coord)
		if _, err := f.svc.ChangeStatus(ctx, m.ID, meeting.Held, ""); kind(err) != apperr.Conflict || apperr.ReasonOf(err) != "NOT_STARTED" {
			t.Errorf("held before it starts: %v", err)
		}
		if _, err := f.svc.ChangeStatus(ctx, m.ID, meeting.Cancelled, "   "); kind(err) != apperr.BadInput {
			t.Errorf("cancelled without reason: %v", err)
		}
		if _, err := f.svc.ChangeStatus(ctx, m.ID, "DONE", ""); kind(err) != apperr.BadInput {
			t.Errorf("unknown status: %v", err)
		}
		c, err := f.svc.ChangeStatus(ctx, m.ID, meeting.Confirmed, "")
		if err != nil || c.Status != meeting.Confirmed || c.Sequence != 1 {
			t.Fatalf("confirm: %+v %v", c, err)
		}
		p, err := f.svc.ChangeStatus(ctx, m.ID, meeting.Postponed, "")
		if err != nil || p.Status != meeting.Postponed || p.Sequence != 2 {
			t.Fatalf("postpone: %+v %v", p, err)
		}
		// New dates plan it again.
		to := rome(2026, 3, 17, 10, 0)
		end := to.Add(time.Hour)
		u, err := f.svc.UpdateMeeting(ctx, m.ID, meeting.MeetingPatch{StartsAt: &to, EndsAt: &end})
		if err != nil || u.Status != meeting.Planned || u.Sequence != 3 {
			t.Fatalf("new dates: %+v %v", u, err)
		}
		// Nothing changed: no new sequence.
		same := u.Title
		if u2, err := f.svc.UpdateMeeting(ctx, m.ID, meeting.MeetingPatch{Title: &same}); err != nil || u2.Sequence != 3 {
			t.Errorf("an update that changes nothing: %+v %v", u2, err)
		}
		f.clock.Advance(to.Sub(f.clock.Now()) + time.Minute)
		h, err := f.svc.ChangeStatus(ctx, m.ID, meeting.Held, "")
		if err != nil || h.Status != meeting.Held {
			t.Fatalf("held after it started: %+v %v", h, err)
		}
		for _, st := range []meeting.Status{meeting.Planned, meeting.Cancelled, meeting.Postponed, meeting.Held} {
			if _, err := f.svc.ChangeStatus(ctx, m.ID, st, "x"); kind(err) != apperr.Conflict || apperr.ReasonOf(err) != "BAD_TRANSITION" {
				t.Errorf("held -> %s: %v", st, err)
			}
		}
		title := "Nuovo titolo"
		if _, err := f.svc.UpdateMeeting(ctx, m.ID, meeting.MeetingPatch{Title: &title}); apperr.ReasonOf(err) != "MEETING_CLOSED" {
			t.Errorf("updating a held meeting: %v", err)
		}
		k := f.create(f.input(rome(2026, 4, 10, 10, 0)))
		c, err = f.svc.ChangeStatus(ctx, k.ID, meeting.Cancelled, "  Sala   inagibile ")
		if err != nil || c.CancelReason != "Sala inagibile" || c.Status != meeting.Cancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		if _, err := f.svc.ChangeStatus(ctx, k.ID, meeting.Planned, ""); apperr.ReasonOf(err) != "BAD_TRANSITION" {
			t.Errorf("cancelled -> planned: %v", err)
		}
	})
}

// TestPlanRoundEnna plans the four thematic meetings of Enna in one step,
// one of them on 2026-03-29, the day the clocks go forward in Rome.
func TestPlanRoundEnna(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
		biblio := "Biblioteca comunale, Enna"
		in := meeting.RoundInput{WorkingGroupID: f.groups["EN"],
			Template: meeting.RoundTemplate{StartTime: "10:00", Duration: 2 * time.Hour, Mode: meeting.Hybrid,
				Venue: "Sala Cerere, Enna", OnlineURL: "https://meet.example.org/enna", Agenda: []string{"Benvenuto"}},
			Meetings: []meeting.RoundMeeting{
				{Theme: "HEALTH", Date: day(3, 27), InvitePeople: []int64{f.member.PersonID}, InviteOrganizations: []int64{f.orgA}},
				{Theme: "EDUCATION", Date: day(3, 29), InviteOrganizations: []int64{f.orgB}},
				{Theme: "WORK", Date: day(4, 3), StartTime: "15:30"},
				{Theme: "HOUSING", Date: day(4, 3), StartTime: "09:00", Venue: &biblio},
			}}
		ms, err := f.svc.PlanRound(f.as(f.coord), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 4 {
			t.Fatalf("%d meetings", len(ms))
		}
		// 10:00 in Rome is 09:00 UTC before the change and 08:00 UTC after.
		want := []time.Time{
			time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC),
			time.Date(2026, 4, 3, 13, 30, 0, 0, time.UTC), time.Date(2026, 4, 3, 7, 0, 0, 0, time.UTC),
		}
		for i, m := range ms {
			if !m.StartsAt.Equal(want[i]) || m.EndsAt.Sub(m.StartsAt) != 2*time.Hour {
				t.Errorf("meeting %d: %v to %v, want from %v", i+1, m.StartsAt, m.EndsAt, want[i])
			}
			if m.FocusGroupID != f.focus["EN"][[]reference.ThemeCode{"HEALTH", "EDUCATION", "WORK", "HOUSING"}[i]] {
				t.Errorf("meeting %d in focus group %d", i+1, m.FocusGroupID)
			}
		}
		if !strings.Contains(ms[0].Title, "Salute") || !strings.Contains(ms[0].Title, "Enna") {
			t.Errorf("default title %q", ms[0].Title)
		}
		if ms[3].Venue != biblio || ms[2].Venue != "Sala Cerere, Enna" {
			t.Errorf("venues %q %q", ms[2].Venue, ms[3].Venue)
		}
		// Health invites the member by name and the municipality through
		// its representative (not its staff); education the association's.
		var invs []meeting.Invitation
		if err := db.NewSelect().Model(&invs).Order("mi.id").Scan(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := map[int64][]int64{}
		for _, inv := range invs {
			got[inv.MeetingID] = append(got[inv.MeetingID], inv.PersonID)
			if inv.Status != meeting.Pending {
				t.Errorf("invitation %+v is not pending", inv)
			}
			if inv.PersonID == f.repA.PersonID && (inv.OrganizationID == nil || *inv.OrganizationID != f.orgA) {
				t.Errorf("the representative is invited on behalf of %v", inv.OrganizationID)
			}
		}
		if len(got[ms[0].ID]) != 2 || len(got[ms[1].ID]) != 1 || got[ms[1].ID][0] != f.repB.PersonID || len(got[ms[2].ID]) != 0 {
			t.Errorf("invitations by meeting: %v", got)
		}
		// Each invitation is mailed, with the meeting's details in Italian.
		mails := f.mails()
		if len(mails) != 3 {
			t.Fatalf("%d mails, want 3", len(mails))
		}
		if !strings.HasPrefix(mails[0].Subject, "Invito: ") || !strings.Contains(mails[0].Body, "venerdì 27 marzo 2026, dalle 10:00 alle 12:00") {
			t.Errorf("invitation mail: %q\n%s", mails[0].Subject, mails[0].Body)
		}
		if f.queued == 0 {
			t.Error("the deliverer was not woken")
		}
		// Planning again over the same dates is refused whole.
		_, err = f.svc.PlanRound(f.as(f.coord), in)
		if kind(err) != apperr.Conflict {
			t.Errorf("planning over the round: %v", err)
		}
		if n := f.count("meetings"); n != 4 {
			t.Errorf("%d meetings after a refused round", n)
		}
	})
}

func TestPlanRoundBadInput(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		day := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
		base := func() meeting.RoundInput {
			return meeting.RoundInput{WorkingGroupID: f.groups["EN"],
				Template: meeting.RoundTemplate{StartTime: "10:00", Duration: time.Hour, Mode: meeting.InPerson, Venue: "Sala"},
				Meetings: []meeting.RoundMeeting{{Theme: "HEALTH", Date: day}, {Theme: "WORK", Date: day, StartTime: "12:00"}}}
		}
		cases := []struct {
			name string
			edit func(*meeting.RoundInput)
			want apperr.Kind
		}{
			{"no meetings", func(in *meeting.RoundInput) { in.Meetings = nil }, apperr.BadInput},
			{"a theme twice", func(in *meeting.RoundInput) { in.Meetings[1].Theme = "HEALTH" }, apperr.BadInput},
			{"unknown theme", func(in *meeting.RoundInput) { in.Meetings[1].Theme = "SPORT" }, apperr.BadInput},
			{"no duration", func(in *meeting.RoundInput) { in.Template.Duration = 0 }, apperr.BadInput},
			{"bad time", func(in *meeting.RoundInput) { in.Template.StartTime = "25:00" }, apperr.BadInput},
			// 02:30 does not exist in Rome on 2026-03-29.
			{"a time that does not exist", func(in *meeting.RoundInput) { in.Meetings[0].StartTime = "02:30" }, apperr.BadInput},
			{"no date", func(in *meeting.RoundInput) { in.Meetings[0].Date = time.Time{} }, apperr.BadInput},
			{"unknown invitee", func(in *meeting.RoundInput) { in.Meetings[0].InvitePeople = []int64{999_999} }, apperr.BadInput},
			{"the second meeting is bad", func(in *meeting.RoundInput) { in.Meetings[1].Venue = new(string) }, apperr.BadInput},
			{"the round clashes with itself", func(in *meeting.RoundInput) { in.Meetings[1].StartTime = "10:30" }, apperr.Conflict},
			{"unknown group", func(in *meeting.RoundInput) { in.WorkingGroupID = 999_999 }, apperr.NotFound},
		}
		for _, c := range cases {
			in := base()
			c.edit(&in)
			if _, err := f.svc.PlanRound(f.as(f.coord), in); kind(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		if _, err := f.svc.PlanRound(f.as(f.member), base()); kind(err) != apperr.Forbidden {
			t.Errorf("member planning: %v", err)
		}
		if n := f.count("meetings") + f.count("focus_group_invitees") + f.count("meeting_invitations"); n != 0 {
			t.Errorf("refused rounds wrote %d rows", n)
		}
	})
}

// TestMeetingsPaging: the list is ordered by start, and pages by start
// time and id on both engines.
func TestMeetingsPaging(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		var starts []time.Time
		for i := range 7 {
			// Created out of order: days 7, 6, ... 1.
			in := f.input(rome(2026, 5, 7-i, 10, 0))
			in.OverrideConflicts = true
			starts = append([]time.Time{in.StartsAt}, starts...)
			f.create(in)
		}
		var seen []time.Time
		var after *string
		two := 2
		for {
			page, err := f.svc.Meetings(f.as(f.member), meeting.MeetingFilter{FocusGroupID: f.focus["EN"]["HEALTH"]}, relay.PageArgs{First: &two, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page.Items {
				seen = append(seen, m.StartsAt)
			}
			if !page.HasNextPage {
				break
			}
			after = &page.Cursors[len(page.Cursors)-1]
		}
		if len(seen) != 7 {
			t.Fatalf("paged %d meetings, want 7", len(seen))
		}
		for i := range seen {
			if !seen[i].Equal(starts[i]) {
				t.Errorf("item %d starts %v, want %v", i, seen[i], starts[i])
			}
		}
		from := rome(2026, 5, 5, 0, 0)
		page, err := f.svc.Meetings(f.as(f.member), meeting.MeetingFilter{From: &from, Statuses: []meeting.Status{meeting.Planned}}, relay.PageArgs{})
		if err != nil || page.TotalCount != 3 {
			t.Errorf("from 5 May: %v %v", page, err)
		}
		if _, err := f.svc.Meetings(f.as(f.member), meeting.MeetingFilter{Statuses: []meeting.Status{"LOST"}}, relay.PageArgs{}); kind(err) != apperr.BadInput {
			t.Errorf("unknown status filter: %v", err)
		}
	})
}

// TestOneRoomBookedAtOnce: eight territories book one room for the same
// morning at the same moment. The planning transactions take turns, so one
// meeting is planned and the seven others see it: SCHEDULE_CONFLICT, with
// the room as the clash, and nothing written for them.
func TestOneRoomBookedAtOnce(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		codes := []string{"EN", "PA", "CT", "ME", "AG", "TP", "SR", "RG"}
		for _, code := range codes[2:] {
			if _, err := f.net.CreateWorkingGroup(f.as(f.admin), network.WorkingGroupInput{Territory: code}); err != nil {
				t.Fatal(err)
			}
		}
		focus := map[string]int64{}
		var fgs []meeting.FocusGroup
		if err := db.NewSelect().Model(&fgs).Where("theme_id = ?", f.themes["HEALTH"]).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, fg := range fgs {
			for code, id := range f.terr {
				if id == fg.TerritoryID {
					focus[code] = fg.ID
				}
			}
		}
		before := f.count("meetings")
		start := make(chan struct{})
		errs := make(chan error, len(codes))
		for _, code := range codes {
			in := f.input(rome(2026, 3, 12, 10, 0))
			in.FocusGroupID, in.Venue = focus[code], "Aula Magna, Palazzo della Regione"
			go func() {
				<-start
				_, err := f.svc.CreateMeeting(f.as(f.admin), in)
				errs <- err
			}()
		}
		close(start)
		planned, refused := 0, 0
		for range codes {
			err := <-errs
			var ce *meeting.ConflictError
			switch {
			case err == nil:
				planned++
			case errors.As(err, &ce) && apperr.ReasonOf(err) == "SCHEDULE_CONFLICT" &&
				len(ce.Conflicts) == 1 && ce.Conflicts[0].Kind == meeting.SameVenue:
				refused++
			default:
				t.Errorf("booking the room: %v", err)
			}
		}
		if planned != 1 || refused != len(codes)-1 {
			t.Errorf("%d planned and %d refused; want 1 and %d", planned, refused, len(codes)-1)
		}
		if n := f.count("meetings") - before; n != 1 {
			t.Errorf("%d meetings written; want 1", n)
		}
	})
}
