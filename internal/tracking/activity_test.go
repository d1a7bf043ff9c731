package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// feed reads every line of f as ctx's actor, page by page (pages of 7, so
// that the cursors are used), and checks that they come newest first.
func (r *region) feed(ctx context.Context, f activity.Filter) []*activity.Entry {
	r.t.Helper()
	svc := activity.NewService(r.db)
	var all []*activity.Entry
	n := 7
	args := relay.PageArgs{First: &n}
	total := -1
	for {
		page, err := svc.Feed(ctx, f, args)
		if err != nil {
			r.t.Fatalf("feed: %v", err)
		}
		if total >= 0 && page.TotalCount != total {
			r.t.Fatalf("totalCount moved from %d to %d between pages", total, page.TotalCount)
		}
		total = page.TotalCount
		all = append(all, page.Items...)
		if !page.HasNextPage {
			break
		}
		after := page.Cursors[len(page.Cursors)-1]
		args.After = &after
	}
	if len(all) != total {
		r.t.Fatalf("%d lines over the pages, totalCount %d", len(all), total)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID || all[i].At.After(all[i-1].At) {
			r.t.Fatalf("line %d (%d at %s) after line %d (%d at %s): not newest first", i, all[i].ID, all[i].At, i-1, all[i-1].ID, all[i-1].At)
		}
	}
	return all
}

// tally counts lines by kind and status.
func tally(lines []*activity.Entry) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		k := string(l.Kind)
		if l.Status != "" {
			k += "/" + l.Status
		}
		out[k] += l.Count
	}
	return out
}

// TestActivityFeedTellsWhatHappened: after the seeded region's work, the
// feed of each territory tells what the records hold, line by line, with
// the register entries of a meeting added up on one line.
func TestActivityFeedTellsWhatHappened(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		r.seed()
		ctx := context.Background()
		en := r.terr["EN"]
		lines := r.feed(r.as(r.policy), activity.Filter{TerritoryIDs: []int64{en}})
		for _, l := range lines {
			if l.TerritoryID != en {
				t.Fatalf("a line of territory %d in EN's feed: %+v", l.TerritoryID, l)
			}
		}
		got := tally(lines)

		// What the records say, counted in the tables.
		count := func(q *bun.SelectQuery) int {
			t.Helper()
			n, err := q.Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		want := map[string]int{
			"GROUP_FORMED":    1,
			"MEETING_PLANNED": count(db.NewSelect().Table("meetings").Where("territory_id = ?", en)),
			"MEETING_STATUS_CHANGED/HELD": count(db.NewSelect().Table("meetings").Where("territory_id = ?", en).
				Where("status = ?", meeting.Held)),
			"MEETING_STATUS_CHANGED/CANCELLED": count(db.NewSelect().Table("meetings").Where("territory_id = ?", en).
				Where("status = ?", meeting.Cancelled)),
			"ATTENDANCE_RECORDED": count(db.NewSelect().Table("meeting_attendance").
				Where("meeting_id IN (SELECT id FROM meetings WHERE territory_id = ?)", en)),
			"DOCUMENT_CREATED": count(db.NewSelect().Table("documents").Where("territory_id = ?", en)),
			"DOCUMENT_STATUS_CHANGED/IN_REVIEW": count(db.NewSelect().Table("document_transitions").
				Where("document_id IN (SELECT id FROM documents WHERE territory_id = ?)", en).Where("to_status = 'IN_REVIEW'")),
			"COMMENT_OPENED": count(db.NewSelect().Table("comments").Where("parent_id IS NULL").
				Where("document_id IN (SELECT id FROM documents WHERE territory_id = ?)", en)),
			"COMMENT_REPLIED": count(db.NewSelect().Table("comments").Where("parent_id IS NOT NULL").
				Where("document_id IN (SELECT id FROM documents WHERE territory_id = ?)", en)),
			"COMMENT_RESOLVED": count(db.NewSelect().Table("comments").Where("parent_id IS NULL").Where("resolved_at IS NOT NULL").
				Where("document_id IN (SELECT id FROM documents WHERE territory_id = ?)", en)),
			"MEMBER_JOINED/COORDINATOR": 1,
			"MEMBER_JOINED/MEMBER":      2,
			"MEMBER_JOINED/OBSERVER":    1,
			"MEMBER_LEFT":               1,
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %d in the feed, %d in the records", k, got[k], w)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %d in the feed, none expected", k, got[k])
			}
		}
		// By hand, so that the test does not only agree with itself: EN
		// planned 7 meetings, held 5 with 4+3+1+1+1 register entries.
		if want["MEETING_PLANNED"] != 7 || want["MEETING_STATUS_CHANGED/HELD"] != 5 || want["ATTENDANCE_RECORDED"] != 10 {
			t.Errorf("the seed changed: %v", want)
		}
		// One line per held meeting's register: the admin recorded them
		// in a row.
		registers := 0
		for _, l := range lines {
			if l.Kind == activity.Attended {
				registers++
				if l.MeetingID == nil || l.ActorID == nil || *l.ActorID != r.admin.PersonID {
					t.Errorf("register line without its meeting or actor: %+v", l)
				}
			}
		}
		if registers != 5 {
			t.Errorf("%d register lines for 5 held meetings", registers)
		}

		// By theme: EN × HEALTH is two meetings and the threads on the
		// health section; a line about the document as a whole has no theme.
		health := r.themes["HEALTH"]
		hl := r.feed(r.as(r.policy), activity.Filter{TerritoryIDs: []int64{en}, ThemeIDs: []int64{health}})
		for _, l := range hl {
			if l.ThemeID == nil || *l.ThemeID != health {
				t.Fatalf("a line without theme HEALTH in its feed: %+v", l)
			}
		}
		if h := tally(hl); h["MEETING_PLANNED"] != 2 || h["MEETING_STATUS_CHANGED/HELD"] != 2 || h["ATTENDANCE_RECORDED"] != 7 ||
			h["COMMENT_OPENED"] != 2 || h["COMMENT_REPLIED"] != 2 || h["COMMENT_RESOLVED"] != 1 || h["DOCUMENT_CREATED"] != 0 {
			t.Errorf("EN × HEALTH: %v", h)
		}

		// By kind, across the region: three working groups formed.
		formed := r.feed(r.as(r.coord), activity.Filter{Kinds: []activity.Kind{activity.GroupFormed}})
		if len(formed) != 3 {
			t.Errorf("%d GROUP_FORMED lines for 3 working groups", len(formed))
		}
		// By meeting: one meeting's story, oldest last.
		m := lines[len(lines)-1]
		for _, l := range lines {
			if l.Kind == activity.MeetingNew {
				m = l
			}
		}
		story := r.feed(r.as(r.policy), activity.Filter{MeetingID: *m.MeetingID})
		if len(story) == 0 || story[len(story)-1].Kind != activity.MeetingNew {
			t.Errorf("the story of meeting %d does not start with its planning: %+v", *m.MeetingID, story)
		}
		// A window of time: nothing before the seed's start, everything
		// after it.
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if early := r.feed(r.as(r.policy), activity.Filter{Until: &start}); len(early) != 0 {
			t.Errorf("%d lines before the region existed", len(early))
		}
		if all := r.feed(r.as(r.policy), activity.Filter{Since: &start, TerritoryIDs: []int64{en}}); len(all) != len(lines) {
			t.Errorf("%d lines since the start, %d in all", len(all), len(lines))
		}
	})
}

// TestActivityRegisterLines: register entries add up on one line while one
// person records them within the hour; later ones, or another person's,
// start a line; a private meeting's lines keep no title.
func TestActivityRegisterLines(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		m := r.meeting("EN", "WORK", 1)
		private := true
		if _, err := r.meet.UpdateMeeting(r.as(r.admin), m.ID, meeting.MeetingPatch{Private: &private}); err != nil {
			t.Fatal(err)
		}
		r.hold(m, nil, r.people[:2], 1) // 3 entries by the admin
		r.clock.Advance(2 * time.Hour)
		r.register(r.as(r.admin), m, r.people[2:3]) // after the hour: a line of its own
		r.register(r.as(r.coord), m, r.people[3:5]) // another person: a line of its own
		a, err := r.meet.Register(r.as(r.admin), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.meet.RemoveAttendance(r.as(r.admin), a[0].ID); err != nil {
			t.Fatal(err)
		}
		lines := r.feed(r.as(r.policy), activity.Filter{MeetingID: m.ID})
		var counts []int
		var kinds []activity.Kind
		for _, l := range lines {
			kinds = append(kinds, l.Kind)
			counts = append(counts, l.Count)
			if l.Title != "" && l.Kind != activity.MeetingNew && l.Kind != activity.MeetingEdit {
				t.Errorf("a line of a private meeting keeps its title: %+v", l)
			}
		}
		wantKinds := []activity.Kind{activity.Unattended, activity.Attended, activity.Attended, activity.Attended,
			activity.MeetingStatus, activity.MeetingEdit, activity.MeetingNew}
		wantCounts := []int{1, 2, 1, 3, 1, 1, 1}
		if len(kinds) != len(wantKinds) {
			t.Fatalf("lines %v (counts %v), want %v", kinds, counts, wantKinds)
		}
		for i := range kinds {
			if kinds[i] != wantKinds[i] || counts[i] != wantCounts[i] {
				t.Fatalf("lines %v counts %v, want %v counts %v", kinds, counts, wantKinds, wantCounts)
			}
		}
		if !lines[0].Private || lines[len(lines)-1].Private || lines[len(lines)-1].Title != "Incontro" {
			t.Errorf("privacy of the lines: first %+v, last %+v", lines[0], lines[len(lines)-1])
		}
	})
}

// register adds people to the register of m, held already, as ctx's actor.
func (r *region) register(ctx context.Context, m *meeting.Meeting, people []int64) {
	r.t.Helper()
	for _, p := range people {
		if _, err := r.meet.RegisterAttendance(ctx, meeting.AttendanceInput{MeetingID: m.ID, PersonID: &p, Mode: meeting.AttendedInPerson}); err != nil {
			r.t.Fatalf("register: %v", err)
		}
	}
}

// TestActivityRefusalsWriteNoLine: a change refused, or rolled back, leaves
// no line; bad filters and paging are BAD_USER_INPUT; the feed is for the
// readers of the tracking figures.
func TestActivityRefusalsWriteNoLine(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		ctx := context.Background()
		lines := func() int {
			n, err := db.NewSelect().Table("activity_events").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := lines()
		m := r.meeting("EN", "HOUSING", 3)
		afterPlan := lines()
		if afterPlan != before+1 {
			t.Fatalf("planning a meeting wrote %d lines", afterPlan-before)
		}
		// Held before it starts: NOT_STARTED, nothing written.
		if _, err := r.meet.ChangeStatus(r.as(r.admin), m.ID, meeting.Held, ""); apperr.ReasonOf(err) != "NOT_STARTED" {
			t.Fatalf("holding a future meeting: %v", err)
		}
		// A round whose two meetings clash (the same working group at the
		// same hour): all or nothing, rolled back after the first insert.
		day := r.clock.Now().AddDate(0, 0, 4).Truncate(24 * time.Hour)
		_, err := r.meet.PlanRound(r.as(r.admin), meeting.RoundInput{WorkingGroupID: r.groups["EN"], Template: meeting.RoundTemplate{
			Title: "Giro", StartTime: "10:00", Duration: time.Hour, Mode: meeting.InPerson, Venue: "Via Roma 2"},
			Meetings: []meeting.RoundMeeting{{Theme: "HEALTH", Date: day}, {Theme: "WORK", Date: day}}})
		if apperr.ReasonOf(err) != "SCHEDULE_CONFLICT" {
			t.Fatalf("a round of two meetings at once: %v", err)
		}
		// Someone who may not manage the meeting.
		if _, err := r.meet.ChangeStatus(r.as(r.stranger), m.ID, meeting.Confirmed, ""); err == nil {
			t.Fatal("a stranger confirmed a meeting")
		}
		if n := lines(); n != afterPlan {
			t.Errorf("refused changes wrote %d lines", n-afterPlan)
		}

		svc := activity.NewService(db)
		big, zero := relay.MaxPage+1, 5
		later := r.clock.Now()
		earlier := later.Add(-time.Hour)
		for _, tc := range []struct {
			name string
			ctx  context.Context
			f    activity.Filter
			p    relay.PageArgs
			want apperr.Kind
		}{
			{"anonymous", ctx, activity.Filter{}, relay.PageArgs{}, apperr.Unauthenticated},
			{"no role", r.as(r.stranger), activity.Filter{}, relay.PageArgs{}, apperr.Forbidden},
			{"unknown kind", r.as(r.policy), activity.Filter{Kinds: []activity.Kind{"MEETING_EXPLODED"}}, relay.PageArgs{}, apperr.BadInput},
			{"since after until", r.as(r.policy), activity.Filter{Since: &later, Until: &earlier}, relay.PageArgs{}, apperr.BadInput},
			{"page too large", r.as(r.policy), activity.Filter{}, relay.PageArgs{First: &big}, apperr.BadInput},
			{"first and last", r.as(r.policy), activity.Filter{}, relay.PageArgs{First: &zero, Last: &zero}, apperr.BadInput},
			{"coordinator", r.as(r.coord), activity.Filter{}, relay.PageArgs{}, ""},
		} {
			_, err := svc.Feed(tc.ctx, tc.f, tc.p)
			if got := apperr.KindOf(err); err != nil && got != tc.want || err == nil && tc.want != "" {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		}
	})
}
