package graph

// Focus groups and meetings: global ids, connections, the mapping of
// filters and inputs to the meeting service's, the conflicts a refusal
// lists, invitations, registers, minutes and the calendars' addresses, and
// the stream of a territory's meetings.

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pia-sicilia/pia/graph/model"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/sheet"
)

// The connections of meetings and invitations, named for gqlgen.
type (
	MeetingConnection    = Connection[*meeting.Meeting]
	MeetingEdge          = Edge[*meeting.Meeting]
	InvitationConnection = Connection[*meeting.Invitation]
	InvitationEdge       = Edge[*meeting.Invitation]
)

// MeetingEvent is one item of Subscription.territoryMeetings: what
// happened, and the meeting as the subscriber may read it now. The counts
// a client shows beside it (Meeting.rsvpCounts, registerTotals, minutes)
// are the meeting's fields, read with the event's own loaders, so each
// event has them as they are when it is sent.
type MeetingEvent struct {
	Kind    meeting.EventKind
	Meeting *meeting.Meeting
}

// fetchMeetingNode loads a focus group or a meeting for Query.node. The
// service answers NOT_FOUND for a meeting the caller may not read, which
// node turns into null.
func (r *Resolver) fetchMeetingNode(ctx context.Context, typ string, id int64) (relay.Node, error) {
	switch typ {
	case typeFocusGroup:
		return nodeOf(r.Meetings.FocusGroup(ctx, id))
	case typeMeeting:
		return nodeOf(r.Meetings.Meeting(ctx, id))
	case typeInvitation:
		return nodeOf(r.Meetings.Invitation(ctx, id))
	}
	return nil, nil
}

// invitationConnection announces the meetings, people and organizations of
// a page of invitations as peers, so that each type loads in one batch.
func (r *Resolver) invitationConnection(ctx context.Context) func(*relay.Page[*meeting.Invitation], error) (*InvitationConnection, error) {
	l := r.loadersFrom(ctx)
	conn := connectionOf[*meeting.Invitation](nil, func(inv *meeting.Invitation) int64 { return inv.ID })
	return func(page *relay.Page[*meeting.Invitation], err error) (*InvitationConnection, error) {
		if err == nil {
			l.invitationsRead(page.Items)
		}
		return conn(page, err)
	}
}

// myInvitationsFilter maps Query.myInvitations' filter.
func myInvitationsFilter(in *model.MyInvitationsFilter) meeting.MyInvitationsFilter {
	if in == nil {
		return meeting.MyInvitationsFilter{}
	}
	return meeting.MyInvitationsFilter{Statuses: in.Statuses, Past: flag(in.Past)}
}

// myInvitation is Meeting.myInvitation: the caller's own among the
// meeting's invitations, which always include it; nil when not invited.
func (r *Resolver) myInvitation(ctx context.Context, m *meeting.Meeting) (*meeting.Invitation, error) {
	invs, err := load(ctx, r.loadersFrom(ctx).invitationsOfMeeting, m.ID)
	if err != nil {
		return nil, err
	}
	me := access.ActorFrom(ctx).PersonID
	for _, inv := range invs {
		if inv.PersonID == me {
			return inv, nil
		}
	}
	return nil, nil
}

// publicURL is path at PIA's public address.
func (r *Resolver) publicURL(path string) string { return strings.TrimRight(r.PublicURL, "/") + path }

// registerCSVURL is Meeting.registerCsvUrl: where RegisterHandler serves
// the register, for those the service lets read it; nil for the others.
func (r *Resolver) registerCSVURL(ctx context.Context, m *meeting.Meeting) *string {
	return r.registerFileURL(ctx, m, sheet.CSV)
}

// registerFileURL is where RegisterHandler serves the register as format,
// for those the service lets read it; nil for the others.
func (r *Resolver) registerFileURL(ctx context.Context, m *meeting.Meeting, format sheet.Format) *string {
	if !r.Meetings.ReadsRegister(ctx, m) {
		return nil
	}
	u := r.publicURL("/meetings/" + relay.ID(typeMeeting, m.ID) + "/register" + format.Ext())
	return &u
}

// The calendars' addresses (CalendarHandler's routes).

func (r *Resolver) territoryCalendarURL(t *reference.Territory) string {
	return r.publicURL("/calendar/" + t.Code + ".ics")
}

func (r *Resolver) focusGroupCalendarURL(fg *meeting.FocusGroup) string {
	return r.publicURL("/calendar/focus-groups/" + relay.ID(typeFocusGroup, fg.ID) + ".ics")
}

func (r *Resolver) personalCalendarURL(token string) string {
	return r.publicURL("/calendar/personal/" + token + ".ics")
}

// minutesSections are Minutes.sections: the linked sections the caller may
// read, in the minutes' order; the section loader has none of the others.
func (r *Resolver) minutesSections(ctx context.Context, mm *meeting.Minutes) ([]*coedit.Section, error) {
	out := make([]*coedit.Section, 0, len(mm.SectionIDs))
	l := r.loadersFrom(ctx)
	if l.section == nil {
		return out, nil
	}
	for _, thunk := range l.section.queue(ctx, mm.SectionIDs) {
		sec, err := thunk()
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, nil
}

// attendanceInput maps registerAttendance's input.
func attendanceInput(in model.RegisterAttendanceInput) (out meeting.AttendanceInput, err error) {
	if out.MeetingID, err = inputID("meeting", typeMeeting, in.Meeting); err != nil {
		return out, err
	}
	if out.PersonID, err = optionalInputID("person", typePerson, in.Person); err != nil {
		return out, err
	}
	if out.OrganizationID, err = optionalInputID("organization", typeOrganization, in.Organization); err != nil {
		return out, err
	}
	out.GuestName, out.GuestOrganization, out.Mode, out.CheckedInAt = in.GuestName, in.GuestOrganization, in.Mode, in.CheckedInAt
	return out, nil
}

// minutesInput maps setMeetingMinutes' input.
func minutesInput(in model.SetMeetingMinutesInput) (id int64, out meeting.MinutesInput, err error) {
	if id, err = inputID("meeting", typeMeeting, in.Meeting); err != nil {
		return 0, out, err
	}
	if out.SectionIDs, err = inputIDs("sections", typeSection, in.Sections); err != nil {
		return 0, out, err
	}
	out.Body, out.Decisions = in.Body, in.Decisions
	return id, out, nil
}

// totalsFilter maps themeTotals' arguments.
func (r *Resolver) totalsFilter(ctx context.Context, territory, workingGroup *string, from, to *time.Time) (f meeting.TotalsFilter, err error) {
	if f.TerritoryID, err = r.territoryIDOf(ctx, "graph.themeTotals", "territory", territory); err != nil {
		return f, err
	}
	if f.WorkingGroupID, err = optionalID(typeWorkingGroup, workingGroup); err != nil {
		return f, inField(err, "workingGroup")
	}
	f.From, f.To = from, to
	return f, nil
}

// meetingConnection announces the meetings of a page as peers, and their
// focus groups and people as the peers of the next level's loads, so that a
// page's focus groups and facilitators load in one batch each.
func (r *Resolver) meetingConnection(ctx context.Context) func(*relay.Page[*meeting.Meeting], error) (*MeetingConnection, error) {
	l := r.loadersFrom(ctx)
	conn := connectionOf(l.meetings, func(m *meeting.Meeting) int64 { return m.ID })
	return func(page *relay.Page[*meeting.Meeting], err error) (*MeetingConnection, error) {
		if err == nil {
			l.meetingsRead(page.Items)
		}
		return conn(page, err)
	}
}

// localTime is an instant as the wall clock shows it in Rome, where the
// meetings take place: ISO 8601 with the offset of that day.
func localTime(t time.Time) string { return t.In(meeting.Rome).Format(time.RFC3339) }

// icsURL is where a meeting's calendar file is served.
func (r *Resolver) icsURL(m *meeting.Meeting) string {
	return r.publicURL("/meetings/" + relay.ID(typeMeeting, m.ID) + ".ics")
}

// orNull is an optional text the service keeps as "" when absent.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// conflictOverride is Meeting.conflictOverride: null unless the meeting
// was kept despite conflicts.
func (r *Resolver) conflictOverride(ctx context.Context, m *meeting.Meeting) (*model.MeetingConflictOverride, error) {
	if m.ConflictNote == "" && m.OverriddenBy == nil {
		return nil, nil
	}
	by, err := r.personOrNil(ctx, m.OverriddenBy)
	if err != nil {
		return nil, err
	}
	return &model.MeetingConflictOverride{Note: m.ConflictNote, By: by}, nil
}

// inField names field as the input field an error is about: ids are
// parsed before the service sees them, and "id" alone would not tell the
// client which one was wrong.
func inField(err error, field string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		c := *ae
		c.Field = field
		return &c
	}
	return err
}

// inputID parses the global id of type typ given as field.
func inputID(field, typ, gid string) (int64, error) {
	id, err := parseID(typ, gid)
	if err != nil {
		return 0, inField(err, field)
	}
	return id, nil
}

// optionalInputID parses an optional global id of type typ given as field;
// nil when absent.
func optionalInputID(field, typ string, gid *string) (*int64, error) {
	if gid == nil {
		return nil, nil
	}
	id, err := inputID(field, typ, *gid)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// inputIDs parses a list of global ids of type typ given as field.
func inputIDs(field, typ string, gids []string) ([]int64, error) {
	out, err := ids(typ, gids)
	if err != nil {
		return nil, inField(err, field)
	}
	return out, nil
}

// territoryIDOf resolves a territory code given as field; an unknown or
// malformed code is BAD_USER_INPUT on that field. 0 when absent.
func (r *Resolver) territoryIDOf(ctx context.Context, op, field string, code *string) (int64, error) {
	if code == nil {
		return 0, nil
	}
	t, err := r.Reference.TerritoryByCode(ctx, *code)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.BadInput) {
		return 0, apperr.Invalid(op, field, "no territory has the code %q; use a code such as EN", *code)
	}
	if err != nil {
		return 0, err
	}
	return t.ID, nil
}

// themeIDOf resolves an optional theme code; 0 when absent.
func (r *Resolver) themeIDOf(ctx context.Context, code *reference.ThemeCode) (int64, error) {
	id, err := r.themeID(ctx, code)
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

func (r *Resolver) focusGroupFilter(ctx context.Context, territory *string, theme *reference.ThemeCode) (f meeting.FocusGroupFilter, err error) {
	if f.TerritoryID, err = r.territoryIDOf(ctx, "graph.focusGroups", "territory", territory); err != nil {
		return f, err
	}
	f.ThemeID, err = r.themeIDOf(ctx, theme)
	return f, err
}

func (r *Resolver) meetingFilter(ctx context.Context, in *model.MeetingFilter) (f meeting.MeetingFilter, err error) {
	if in == nil {
		return f, nil
	}
	if f.TerritoryID, err = r.territoryIDOf(ctx, "graph.meetings", "territory", in.Territory); err != nil {
		return f, err
	}
	if f.WorkingGroupID, err = optionalID(typeWorkingGroup, in.WorkingGroup); err != nil {
		return f, inField(err, "workingGroup")
	}
	if f.FocusGroupID, err = optionalID(typeFocusGroup, in.FocusGroup); err != nil {
		return f, inField(err, "focusGroup")
	}
	if f.ThemeID, err = r.themeIDOf(ctx, in.Theme); err != nil {
		return f, err
	}
	f.Statuses, f.From, f.To = in.Statuses, in.From, in.To
	return f, nil
}

// offers are the services of an input.
func offers(in []*model.MeetingServiceInput) []meeting.Offer {
	out := make([]meeting.Offer, 0, len(in))
	for _, o := range in {
		if o != nil {
			out = append(out, meeting.Offer{Kind: o.Kind, Languages: o.Languages})
		}
	}
	return out
}

func meetingInput(in model.CreateMeetingInput) (out meeting.MeetingInput, err error) {
	if out.FocusGroupID, err = inputID("focusGroup", typeFocusGroup, in.FocusGroup); err != nil {
		return out, err
	}
	if out.FacilitatorID, err = optionalInputID("facilitator", typePerson, in.Facilitator); err != nil {
		return out, err
	}
	out.Title, out.Description, out.Agenda = in.Title, in.Description, in.Agenda
	out.StartsAt, out.EndsAt, out.Mode = in.StartsAt, in.EndsAt, in.Mode
	out.Venue, out.OnlineURL, out.Capacity = str(in.Venue), str(in.OnlineURL), in.Capacity
	out.Services, out.Private = offers(in.Services), in.Private
	out.OverrideConflicts, out.OverrideNote = flag(in.OverrideConflicts), str(in.OverrideNote)
	return out, nil
}

// flag is an optional Boolean, false when absent or null.
func flag(b *bool) bool { return b != nil && *b }

func meetingPatch(in model.UpdateMeetingInput) (p meeting.MeetingPatch, err error) {
	const op = "graph.updateMeeting"
	if p.Title, err = required(op, "title", in.Title); err != nil {
		return p, err
	}
	if p.StartsAt, err = required(op, "startsAt", in.StartsAt); err != nil {
		return p, err
	}
	if p.EndsAt, err = required(op, "endsAt", in.EndsAt); err != nil {
		return p, err
	}
	if p.Mode, err = required(op, "mode", in.Mode); err != nil {
		return p, err
	}
	if p.Private, err = required(op, "private", in.Private); err != nil {
		return p, err
	}
	p.Description, p.Venue, p.OnlineURL = clearable(in.Description), clearable(in.Venue), clearable(in.OnlineURL)
	p.Agenda = list(in.Agenda)
	if services := list(in.Services); services != nil {
		o := offers(*services)
		p.Services = &o
	}
	if c, set := in.Capacity.ValueOK(); set {
		p.Capacity, p.ClearCapacity = c, c == nil
	}
	if f, set := in.Facilitator.ValueOK(); set {
		if f == nil {
			p.ClearFacilitator = true
		} else if p.FacilitatorID, err = optionalInputID("facilitator", typePerson, f); err != nil {
			return p, err
		}
	}
	p.OverrideConflicts, p.OverrideNote = flag(in.OverrideConflicts), str(in.OverrideNote)
	return p, nil
}

// maxMinutes bounds durationMinutes before it becomes a Duration, which a
// 32-bit count of minutes could overflow; the service refuses anything over
// 12 hours anyway.
const maxMinutes = 100_000

func roundInput(in model.PlanThematicMeetingsInput) (out meeting.RoundInput, err error) {
	if out.WorkingGroupID, err = inputID("workingGroup", typeWorkingGroup, in.WorkingGroup); err != nil {
		return out, err
	}
	if t := in.Template; t != nil {
		out.Template = meeting.RoundTemplate{Title: str(t.Title), Description: t.Description, Agenda: t.Agenda,
			StartTime: t.StartTime, Duration: time.Duration(min(max(t.DurationMinutes, 0), maxMinutes)) * time.Minute,
			Mode: t.Mode, Venue: str(t.Venue), OnlineURL: str(t.OnlineURL), Capacity: t.Capacity,
			Services: offers(t.Services), Private: t.Private}
	}
	for _, m := range in.Meetings {
		if m == nil {
			continue
		}
		rm := meeting.RoundMeeting{Theme: m.Theme, Date: m.Date, StartTime: str(m.StartTime), Venue: m.Venue, Title: m.Title}
		if rm.FacilitatorID, err = optionalInputID("facilitator", typePerson, m.Facilitator); err != nil {
			return out, err
		}
		if rm.InvitePeople, err = inputIDs("invitePeople", typePerson, m.InvitePeople); err != nil {
			return out, err
		}
		if rm.InviteOrganizations, err = inputIDs("inviteOrganizations", typeOrganization, m.InviteOrganizations); err != nil {
			return out, err
		}
		out.Meetings = append(out.Meetings, rm)
	}
	out.OverrideConflicts, out.OverrideNote = flag(in.OverrideConflicts), str(in.OverrideNote)
	return out, nil
}

// conflictsExtension is extensions.conflicts of a schedule conflict: each
// meeting the refused one overlaps, what they share, and when it is, so a
// client can show them and offer to override. meeting is the other
// meeting's id, or null for another meeting of the same round, which index
// names (its position in the input's meetings, from 0).
func conflictsExtension(err error) ([]map[string]any, bool) {
	var ce *meeting.ConflictError
	if !errors.As(err, &ce) {
		return nil, false
	}
	out := make([]map[string]any, 0, len(ce.Conflicts))
	for _, c := range ce.Conflicts {
		item := map[string]any{"kind": string(c.Kind), "meeting": nil, "index": nil, "title": c.Title,
			"startsAt": c.StartsAt.UTC().Format(time.RFC3339), "endsAt": c.EndsAt.UTC().Format(time.RFC3339),
			"startsAtLocal": localTime(c.StartsAt), "endsAtLocal": localTime(c.EndsAt)}
		if c.MeetingID != 0 {
			item["meeting"] = relay.ID(typeMeeting, c.MeetingID)
		}
		if c.Index >= 0 {
			item["index"] = c.Index
		}
		out = append(out, item)
	}
	return out, true
}

// meetingEvents maps a territory's events: each carries the meeting read
// again as the subscriber may read it now, and is skipped when they may
// not (a private meeting of another territory's, should the hub ever send
// one). Each event is a response of its own, with loaders of its own.
func (r *Resolver) meetingEvents(ctx context.Context, in <-chan meeting.Event) <-chan *MeetingEvent {
	return stream(ctx, in, func(ev meeting.Event) (*MeetingEvent, error) {
		m, err := r.Meetings.Meeting(ctx, ev.MeetingID)
		if apperr.Is(err, apperr.NotFound) {
			return nil, errSkip
		}
		if err != nil {
			return nil, err
		}
		return &MeetingEvent{Kind: ev.Kind, Meeting: m}, nil
	})
}
