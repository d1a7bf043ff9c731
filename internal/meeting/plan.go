package meeting

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

// RoundTemplate is what the meetings of a round share, unless a meeting
// says otherwise.
type RoundTemplate struct {
	// Title is each meeting's title; empty gives "Focus group <tema> –
	// <territorio>".
	Title       string
	Description string
	Agenda      []string
	// StartTime is the wall-clock time in Rome, "HH:MM", on each meeting's
	// date; Duration how long each lasts.
	StartTime string
	Duration  time.Duration
	Mode      Mode
	Venue     string
	OnlineURL string
	Capacity  *int
	Services  []Offer
	Private   bool
}

// RoundMeeting is one meeting of a round: its theme and date, and what
// differs from the template.
type RoundMeeting struct {
	Theme reference.ThemeCode
	// Date is the day, as the Date scalar gives it (midnight UTC); the
	// meeting starts then at StartTime in Rome, whatever the offset that
	// day (daylight saving time included).
	Date      time.Time
	StartTime string    // overrides the template's
	Venue     *string   // overrides the template's
	Title     *string   // overrides the template's
	Agenda    *[]string // overrides the template's
	// FacilitatorID overrides the focus group's facilitator.
	FacilitatorID *int64
	// InvitePeople and InviteOrganizations join the focus group's
	// invitees (and so its later meetings too) before the meeting is
	// planned.
	InvitePeople        []int64
	InviteOrganizations []int64
}

// RoundInput plans the thematic meetings of a working group in one step.
type RoundInput struct {
	WorkingGroupID    int64
	Template          RoundTemplate
	Meetings          []RoundMeeting
	OverrideConflicts bool
	OverrideNote      string
}

var clock = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// wallClock turns a date and an "HH:MM" in Rome into an instant. A time
// that does not exist that day (02:30 on the last Sunday of March) is
// BAD_USER_INPUT rather than silently moved.
func wallClock(op, field string, date time.Time, hhmm string) (time.Time, error) {
	mm := clock.FindStringSubmatch(hhmm)
	if mm == nil {
		return time.Time{}, apperr.Invalid(op, field, "a time is HH:MM on a 24-hour clock, such as 09:30; got %q", hhmm)
	}
	h, _ := strconv.Atoi(mm[1])
	mi, _ := strconv.Atoi(mm[2])
	y, mo, d := civilDate(date)
	t := time.Date(y, mo, d, h, mi, 0, 0, Rome)
	if t.Hour() != h || t.Minute() != mi {
		return time.Time{}, apperr.Invalid(op, field, "%s does not exist on %04d-%02d-%02d in Rome (the clocks go forward)", hhmm, y, mo, d)
	}
	return t, nil
}

// PlanRound plans up to four meetings of a working group's focus groups,
// one per theme, in one transaction: all of them or none (ManageMeeting in
// the group's territory). It returns the meetings in the order given.
// Errors are those of CreateMeeting, for any of them, with the meeting's
// position in the message; conflicts among the round's own meetings count
// too, and OverrideConflicts overrides them all.
func (s *Service) PlanRound(ctx context.Context, in RoundInput) ([]*Meeting, error) {
	const op = "meeting.PlanRound"
	if len(in.Meetings) == 0 || len(in.Meetings) > 4 {
		return nil, apperr.Invalid(op, "meetings", "a round plans one to four meetings, one per theme; got %d", len(in.Meetings))
	}
	if in.Template.Duration <= 0 || in.Template.Duration > maxDuration || in.Template.Duration%time.Minute != 0 {
		return nil, apperr.Invalid(op, "durationMinutes", "a meeting lasts from 1 minute to %d hours, in whole minutes", int(maxDuration.Hours()))
	}
	fgs, err := s.focusGroupsOfGroup(ctx, op, in.WorkingGroupID)
	if err != nil {
		return nil, err
	}
	seen := map[reference.ThemeCode]bool{}
	ins := make([]MeetingInput, 0, len(in.Meetings))
	for i, rm := range in.Meetings {
		fg, ok := fgs[rm.Theme]
		if !ok {
			return nil, apperr.Invalid(op, "meetings", "meeting %d: unknown theme %q; the themes are HEALTH, EDUCATION, WORK, HOUSING", i+1, rm.Theme)
		}
		if seen[rm.Theme] {
			return nil, apperr.Invalid(op, "meetings", "meeting %d: %s is planned twice in this round", i+1, rm.Theme)
		}
		seen[rm.Theme] = true
		if rm.Date.IsZero() {
			return nil, apperr.Invalid(op, "meetings", "meeting %d needs a date", i+1)
		}
		hhmm := in.Template.StartTime
		if rm.StartTime != "" {
			hhmm = rm.StartTime
		}
		start, err := wallClock(op, "startTime", rm.Date, hhmm)
		if err != nil {
			return nil, indexed(err, len(in.Meetings), i)
		}
		mi := MeetingInput{FocusGroupID: fg.id, Title: in.Template.Title, Description: in.Template.Description,
			Agenda: in.Template.Agenda, StartsAt: start, EndsAt: start.Add(in.Template.Duration), Mode: in.Template.Mode,
			Venue: in.Template.Venue, OnlineURL: in.Template.OnlineURL, Capacity: in.Template.Capacity,
			Services: in.Template.Services, Private: in.Template.Private, FacilitatorID: rm.FacilitatorID,
			OverrideConflicts: in.OverrideConflicts, OverrideNote: in.OverrideNote}
		if mi.Title == "" {
			mi.Title = fmt.Sprintf("Focus group %s – %s", fg.label, fg.territory)
		}
		if rm.Title != nil {
			mi.Title = *rm.Title
		}
		if rm.Venue != nil {
			mi.Venue = *rm.Venue
		}
		if rm.Agenda != nil {
			mi.Agenda = *rm.Agenda
		}
		ins = append(ins, mi)
	}
	return s.plan(ctx, op, ins, func(ctx context.Context, tx bun.Tx) error {
		for i, rm := range in.Meetings {
			if len(rm.InvitePeople)+len(rm.InviteOrganizations) == 0 {
				continue
			}
			if _, err := s.addInvitees(ctx, tx, op, fgs[rm.Theme].id, rm.InvitePeople, rm.InviteOrganizations); err != nil {
				return indexed(err, len(in.Meetings), i)
			}
		}
		return nil
	})
}

type groupFocus struct {
	id        int64
	label     string // the theme's Italian label
	territory string
}

// focusGroupsOfGroup gives a working group's focus groups by theme code;
// NOT_FOUND for an unknown group or one the actor may not see.
func (s *Service) focusGroupsOfGroup(ctx context.Context, op string, groupID int64) (map[reference.ThemeCode]groupFocus, error) {
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var rows []struct {
		ID        int64               `bun:"id"`
		Code      reference.ThemeCode `bun:"code"`
		Label     string              `bun:"label_it"`
		Territory string              `bun:"territory"`
	}
	err := s.db.NewSelect().TableExpr("focus_groups AS fg").ColumnExpr("fg.id, th.code, th.label_it, t.name AS territory").
		Join("JOIN themes AS th ON th.id = fg.theme_id").Join("JOIN territories AS t ON t.id = fg.territory_id").
		Where("fg.working_group_id = ?", groupID).Scan(ctx, &rows)
	if err != nil {
		return nil, storage.MapError(op, "focus group", err)
	}
	if len(rows) == 0 {
		return nil, &apperr.Error{Kind: apperr.NotFound, Op: op, Field: "workingGroup", Message: "working group not found"}
	}
	out := map[reference.ThemeCode]groupFocus{}
	for _, r := range rows {
		out[r.Code] = groupFocus{id: r.ID, label: r.Label, territory: r.Territory}
	}
	return out, nil
}
