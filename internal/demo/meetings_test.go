package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/relay"
)

// demoNow is the seed's clock in these tests: meetings are placed around
// it.
var demoNow = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// checkMeetings: in every territory, the four focus groups held a first
// round of meetings and have a second round planned, and the policy maker
// reads them all.
func (e *env) checkMeetings(t *testing.T, rep *demo.Report) {
	if rep.Meetings != 72 || rep.MeetingsHeld != 36 {
		t.Fatalf("report: %d meetings, %d held; want 72 and 36", rep.Meetings, rep.MeetingsHeld)
	}
	_, ctx := e.signIn("decisore@pia.demo")
	fgs, err := e.meetings.FocusGroups(ctx, meeting.FocusGroupFilter{})
	if err != nil || len(fgs) != 36 {
		t.Fatalf("%d focus groups (%v), want 36", len(fgs), err)
	}
	for code, tid := range e.terr {
		page, err := e.meetings.Meetings(ctx, meeting.MeetingFilter{TerritoryID: tid}, relay.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		held, upcoming := map[int64]int{}, map[int64]int{}
		for _, m := range page.Items {
			switch {
			case m.Status == meeting.Held && m.EndsAt.Before(demoNow):
				held[m.ThemeID]++
			case (m.Status == meeting.Planned || m.Status == meeting.Confirmed) && m.StartsAt.After(demoNow):
				upcoming[m.ThemeID]++
			default:
				t.Errorf("%s: meeting %q is %s on %v", code, m.Title, m.Status, m.StartsAt)
			}
			if len(m.Agenda) == 0 || m.Venue == "" || m.OnlineURL == "" || m.FacilitatorID == nil {
				t.Errorf("%s: meeting %q lacks agenda, venue, link or facilitator", code, m.Title)
			}
		}
		if len(held) != 4 || len(upcoming) != 4 {
			t.Errorf("%s: held by theme %v, upcoming by theme %v; want each theme in both", code, held, upcoming)
		}
	}
	if rep.Attendance < 36*3 || rep.Minutes != 36 || rep.Answers < 36 {
		t.Errorf("report: %d register entries, %d minutes, %d answers", rep.Attendance, rep.Minutes, rep.Answers)
	}
	// Enna's held health meeting: its register, the totals computed here
	// from it, minutes linking the document's health section, and the
	// register's export, row by row.
	page, err := e.meetings.Meetings(ctx, meeting.MeetingFilter{TerritoryID: e.terr["EN"], Statuses: []meeting.Status{meeting.Held}}, relay.PageArgs{})
	if err != nil || len(page.Items) != 4 {
		t.Fatalf("Enna's held meetings: %v %v", page, err)
	}
	held := page.Items[0]
	reg, err := e.meetings.Register(ctx, held.ID)
	if err != nil || len(reg) < 3 {
		t.Fatalf("register of %q: %d entries, %v", held.Title, len(reg), err)
	}
	guests, online, orgs := 0, 0, map[int64]bool{}
	for _, a := range reg {
		if a.GuestName != nil {
			guests++
		}
		if a.Mode == meeting.AttendedOnline {
			online++
		}
		if a.OrganizationID != nil {
			orgs[*a.OrganizationID] = true
		}
	}
	totals, err := e.meetings.RegisterTotals(ctx, []int64{held.ID})
	if err != nil {
		t.Fatal(err)
	}
	if tt := totals[held.ID]; tt == nil || tt.Total != len(reg) || tt.Guests != guests || tt.Online != online || tt.Organizations != len(orgs) {
		t.Errorf("totals %+v; the register has %d entries, %d guests, %d online, %d organizations", tt, len(reg), guests, online, len(orgs))
	}
	min, err := e.meetings.Minutes(ctx, held.ID)
	if err != nil || min == nil || len(min.Decisions) == 0 || len(min.SectionIDs) == 0 {
		t.Errorf("minutes of %q: %+v %v", held.Title, min, err)
	}
	csv, err := e.meetings.ExportRegister(ctx, held.ID)
	if err != nil || strings.Count(string(csv), "\r\n") != len(reg)+1 {
		t.Errorf("export of %d entries: %d lines, %v", len(reg), strings.Count(string(csv), "\r\n"), err)
	}
	// The planned round has answers.
	upcoming, err := e.meetings.Meetings(ctx, meeting.MeetingFilter{TerritoryID: e.terr["EN"], From: &demoNow}, relay.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(upcoming.Items))
	for i, m := range upcoming.Items {
		ids[i] = m.ID
	}
	counts, err := e.meetings.RSVPCounts(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, c := range counts {
		accepted += c.Accepted
	}
	if accepted == 0 {
		t.Errorf("nobody accepted Enna's planned meetings: %v", counts)
	}
	// A second seed plans nothing again.
	again, err := demo.Seed(context.Background(), e.deps, demo.Options{Demo: true})
	if err != nil || again.Meetings != 0 {
		t.Errorf("a second seed planned %d meetings (%v)", again.Meetings, err)
	}
}
