package demo_test

import (
	"context"
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
	// A second seed plans nothing again.
	again, err := demo.Seed(context.Background(), e.deps, demo.Options{Demo: true})
	if err != nil || again.Meetings != 0 {
		t.Errorf("a second seed planned %d meetings (%v)", again.Meetings, err)
	}
}
