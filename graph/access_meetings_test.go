package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// The outcomes of the meeting rules (package access) for the roles of the
// matrix. Focus groups and meetings that are not private are read by
// every signed-in person; a private meeting of Enna is NOT_FOUND for the
// outsider, who coordinates Palermo, as if it did not exist. Managing
// belongs to the coordinators of the territory and administrators: the
// outsider, who may not read Enna's registers, cannot tell Enna's focus
// groups from ids that name nothing when changing them (NOT_FOUND), but
// reads a public meeting, so changing one is FORBIDDEN.
var (
	meetingRead          = cells{unauth, yes, yes, yes, yes, yes, yes}
	meetingReadPrivate   = cells{unauth, yes, yes, yes, yes, yes, null}
	meetingManage        = cells{unauth, forbid, yes, forbid, forbid, yes, absent}
	meetingManagePublic  = cells{unauth, forbid, yes, forbid, forbid, yes, forbid}
	meetingManagePalermo = cells{unauth, absent, absent, absent, forbid, yes, yes}
)

const (
	createMeetingDoc  = `mutation ($in: CreateMeetingInput!) { createMeeting(input: $in) { meeting { id status } } }`
	updateMeetingDoc  = `mutation ($in: UpdateMeetingInput!) { updateMeeting(input: $in) { meeting { id title sequence } } }`
	meetingStatusDoc  = `mutation ($in: ChangeMeetingStatusInput!) { changeMeetingStatus(input: $in) { meeting { id status } } }`
	nodeMeetingDoc    = `query ($id: ID!) { node(id: $id) { id ... on Meeting { title startsAtLocal focusGroup { theme { code } } } } }`
	nodeFocusGroupDoc = `query ($id: ID!) { node(id: $id) { id ... on FocusGroup { theme { code } territory { code } facilitator { id } } } }`
)

// meetingRows are the matrix's rows for focus groups and meetings. Each
// cell that plans a meeting plans it on a day of its own, so that no cell
// conflicts with another.
var meetingRows = []matrixRow{
	{op: "Query.focusGroups", doc: `{ focusGroups(territory: "EN") { id theme { code } } }`, want: meetingRead},
	{op: "Query.meetings", doc: `{ meetings(first: 5, filter: {territory: "EN"}) { totalCount edges { node { id title } } } }`,
		want: meetingRead},
	{op: "Query.node(FocusGroup)", doc: nodeFocusGroupDoc,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("FocusGroup", e.mt.focus["HEALTH"]) }),
		want:    meetingRead},
	// Invitees are the register's: the outsider gets the focus group with
	// an empty list.
	{op: "Query.node(FocusGroup)", variant: "(its invitees)", field: "invitees",
		doc:     `query ($id: ID!) { node(id: $id) { id ... on FocusGroup { invitees { id person { id } organization { id } } } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("FocusGroup", e.mt.focus["WORK"]) }),
		want:    cells{unauth, yes, yes, yes, yes, yes, hidden}},
	{op: "Query.node(Meeting)", variant: "(not private)", doc: nodeMeetingDoc,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Meeting", e.mt.public) }),
		want:    meetingRead},
	{op: "Query.node(Meeting)", variant: "(private)", doc: nodeMeetingDoc,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Meeting", e.mt.private) }),
		want:    meetingReadPrivate},

	{op: "Mutation.createMeeting", doc: createMeetingDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return e.meetingInput(e.mt.focus["HEALTH"], p)
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.createMeeting", variant: "(in Palermo)", doc: createMeetingDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return e.meetingInput(e.mt.palermo, p)
		}),
		want: meetingManagePalermo, unchanged: meetingState},
	{op: "Mutation.updateMeeting", variant: "(not private)", doc: updateMeetingDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("Meeting", e.mt.public), "title", e.name("Incontro", p))
		}),
		want: meetingManagePublic, unchanged: meetingState},
	{op: "Mutation.updateMeeting", variant: "(private)", doc: updateMeetingDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("Meeting", e.mt.private), "title", e.name("Incontro riservato", p))
		}),
		want: meetingManage, unchanged: meetingState},
	// Each cell confirms a meeting of its own: a second confirmation would
	// be a BAD_TRANSITION.
	{op: "Mutation.changeMeetingStatus", variant: "(not private)", doc: meetingStatusDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("Meeting", e.newMeeting(t, p, false)), "status", "CONFIRMED")
		}),
		want: meetingManagePublic, unchanged: meetingState},
	{op: "Mutation.changeMeetingStatus", variant: "(private)", doc: meetingStatusDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("Meeting", e.newMeeting(t, p, true)), "status", "CANCELLED", "reason", "Sala non disponibile")
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.planThematicMeetings", doc: `mutation ($in: PlanThematicMeetingsInput!) {
		planThematicMeetings(input: $in) { meetings { id theme { code } } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			day := e.nextDay().Format(time.DateOnly)
			var ms []any
			for i, th := range []string{"HEALTH", "EDUCATION", "WORK", "HOUSING"} {
				ms = append(ms, vars("theme", th, "date", day, "startTime", fmt.Sprintf("%02d:00", 9+2*i)))
			}
			return vars("workingGroup", e.nodes["WorkingGroup"], "meetings", ms, "template",
				vars("startTime", "10:00", "durationMinutes", 90, "mode", "IN_PERSON", "venue", e.name("Sala", p)))
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.setFocusGroupFacilitator", doc: `mutation ($in: SetFocusGroupFacilitatorInput!) {
		setFocusGroupFacilitator(input: $in) { focusGroup { id facilitator { id } } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, _ *persona) map[string]any {
			return vars("focusGroup", gid("FocusGroup", e.mt.focus["HOUSING"]), "facilitator", e.groupmate)
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.addFocusGroupInvitees", doc: `mutation ($in: AddFocusGroupInviteesInput!) {
		addFocusGroupInvitees(input: $in) { focusGroup { id } added { id person { id } } } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("focusGroup", gid("FocusGroup", e.mt.focus["WORK"]), "people", []string{gid("Person", e.newPerson(t, p, false).ID)})
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.removeFocusGroupInvitee", doc: `mutation ($in: RemoveFocusGroupInviteeInput!) {
		removeFocusGroupInvitee(input: $in) { focusGroup { id } removedInviteeId } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("invitee", gid("FocusGroupInvitee", e.newInvitee(t, p)))
		}),
		want: meetingManage, unchanged: meetingState},

	// The stream of a territory's meetings: its working group, policy
	// makers and administrators. Nothing is sent at first, so each cell
	// changes the shared meeting until an answer comes.
	{op: "Subscription.territoryMeetings", doc: `subscription { territoryMeetings(territory: "EN") { kind meeting { id title } } }`,
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{trigger: e.touchMeeting}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, forbid}},
}

// matrixMeetings are the focus groups and meetings the meeting rows act on.
type matrixMeetings struct {
	svc     *meeting.Service
	focus   map[reference.ThemeCode]int64 // Enna's focus groups
	palermo int64                         // Palermo's health focus group
	public  int64                         // a meeting of Enna's health focus group
	private int64                         // a private meeting of Enna's education focus group
	day     time.Time                     // the last day a cell planned on
}

// meetings makes, as the administrator, the shared meetings of Enna (one
// public, one private) and an invitee of its work focus group.
func (e *matrixEnv) meetings(t *testing.T, svc *meeting.Service) {
	t.Helper()
	e.mt = &matrixMeetings{svc: svc, focus: map[reference.ThemeCode]int64{},
		day: time.Date(2031, 1, 6, 0, 0, 0, 0, time.UTC)}
	territory, err := relay.ParseAs("Territory", e.territory)
	if err != nil {
		t.Fatal(err)
	}
	fgs, err := svc.FocusGroups(e.admin, meeting.FocusGroupFilter{})
	if err != nil {
		t.Fatal(err)
	}
	themes, err := e.srvThemes(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, fg := range fgs {
		switch {
		case fg.TerritoryID == territory:
			e.mt.focus[themes[fg.ThemeID]] = fg.ID
		case fg.WorkingGroupID == e.palermo && themes[fg.ThemeID] == "HEALTH":
			e.mt.palermo = fg.ID
		}
	}
	if len(e.mt.focus) != 4 || e.mt.palermo == 0 {
		t.Fatalf("focus groups of Enna %v and Palermo's health one %d: the working groups did not get theirs", e.mt.focus, e.mt.palermo)
	}
	setup := &persona{role: "setup"}
	e.mt.public = e.newMeeting(t, setup, false)
	e.mt.private = e.newMeeting(t, setup, true)
	e.newInvitee(t, setup)
}

// srvThemes are the theme codes by id.
func (e *matrixEnv) srvThemes(t *testing.T) (map[int64]reference.ThemeCode, error) {
	t.Helper()
	var themes []reference.Theme
	if err := e.db.NewSelect().Model(&themes).Scan(context.Background()); err != nil {
		return nil, err
	}
	out := map[int64]reference.ThemeCode{}
	for _, th := range themes {
		out[th.ID] = th.Code
	}
	return out, nil
}

// nextDay is a day no cell has planned on yet.
func (e *matrixEnv) nextDay() time.Time {
	e.mt.day = e.mt.day.AddDate(0, 0, 1)
	return e.mt.day
}

// meetingInput is a createMeeting input for p's cell: an hour in person in
// focus group fg, at 10:00 in Rome on a day of its own.
func (e *matrixEnv) meetingInput(fg int64, p *persona) map[string]any {
	d := e.nextDay()
	start := time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, meeting.Rome)
	return vars("focusGroup", gid("FocusGroup", fg), "title", e.name("Incontro", p), "startsAt", start.Format(time.RFC3339),
		"endsAt", start.Add(time.Hour).Format(time.RFC3339), "mode", "IN_PERSON", "venue", "Sala Cerere, Enna")
}

// newMeeting plans, as the administrator, a meeting of Enna's education
// focus group for p's cell, on a day of its own.
func (e *matrixEnv) newMeeting(t *testing.T, p *persona, private bool) int64 {
	t.Helper()
	d := e.nextDay()
	start := time.Date(d.Year(), d.Month(), d.Day(), 15, 0, 0, 0, meeting.Rome)
	m, err := e.mt.svc.CreateMeeting(e.admin, meeting.MeetingInput{FocusGroupID: e.mt.focus["EDUCATION"],
		Title: e.name("Incontro", p), StartsAt: start, EndsAt: start.Add(2 * time.Hour), Mode: meeting.Online,
		OnlineURL: "https://meet.example.org/enna", Private: private})
	if err != nil {
		t.Fatalf("meeting: %v", err)
	}
	return m.ID
}

// newInvitee adds, as the administrator, a fresh person to the invitees of
// Enna's work focus group, for p's cell.
func (e *matrixEnv) newInvitee(t *testing.T, p *persona) int64 {
	t.Helper()
	added, err := e.mt.svc.AddInvitees(e.admin, e.mt.focus["WORK"], []int64{e.newPerson(t, p, false).ID}, nil)
	if err != nil || len(added) != 1 {
		t.Fatalf("invitee: %v %v", added, err)
	}
	return added[0].ID
}

// touchMeeting changes the shared public meeting's description, so that
// the territory's subscribers hear of it.
func (e *matrixEnv) touchMeeting(t *testing.T) {
	t.Helper()
	e.seq++
	d := fmt.Sprintf("Aggiornamento %d", e.seq)
	if _, err := e.mt.svc.UpdateMeeting(e.admin, e.mt.public, meeting.MeetingPatch{Description: &d}); err != nil {
		t.Fatalf("touch the meeting: %v", err)
	}
}

// meetingState reads what a refused meeting mutation must leave as it is:
// every meeting (its details, status and sequence), every focus group's
// facilitator, and the counts of invitees, invitations and queued mail.
func meetingState(t *testing.T, e *matrixEnv) map[string]string {
	t.Helper()
	ctx := context.Background()
	state := map[string]string{}
	var ms []meeting.Meeting
	if err := e.db.NewSelect().Model(&ms).Order("id").Scan(ctx); err != nil {
		t.Fatalf("meetings: %v", err)
	}
	for _, m := range ms {
		state[fmt.Sprintf("meeting %d", m.ID)] = fmt.Sprintf("%q %q at %v-%v, %s %q %q, private %v, facilitator %v, %s %q, sequence %d, updated %v",
			m.Title, m.Description, m.StartsAt.UTC(), m.EndsAt.UTC(), m.Mode, m.Venue, m.OnlineURL, m.Private, deref(m.FacilitatorID),
			m.Status, m.CancelReason, m.Sequence, m.UpdatedAt.UTC())
	}
	var fgs []meeting.FocusGroup
	if err := e.db.NewSelect().Model(&fgs).Order("id").Scan(ctx); err != nil {
		t.Fatalf("focus groups: %v", err)
	}
	for _, fg := range fgs {
		state[fmt.Sprintf("focus group %d", fg.ID)] = fmt.Sprintf("facilitator %v, updated %v", deref(fg.FacilitatorID), fg.UpdatedAt.UTC())
	}
	for _, table := range []string{"focus_group_invitees", "meeting_invitations", "mail_outbox"} {
		n, err := e.db.NewSelect().Table(table).Count(ctx)
		if err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		state["rows of "+table] = fmt.Sprint(n)
	}
	return state
}

// readDuring reads the next message other than keep-alives, calling
// trigger every 50 ms until one comes (within 5 s): a subscription that
// sends nothing at first answers only once it is registered, which the
// client cannot see, so the trigger repeats whatever makes it answer.
func (c *wsClient) readDuring(t *testing.T, trigger func(*testing.T)) wsMessage {
	t.Helper()
	type read struct {
		m   wsMessage
		err error
	}
	got := make(chan read, 1)
	go func() {
		for {
			m, err := c.next(5 * time.Second)
			if err != nil || (m.Type != "ka" && m.Type != "ping" && m.Type != "pong") {
				got <- read{m, err}
				return
			}
		}
	}()
	deadline := time.After(5 * time.Second)
	for {
		trigger(t)
		select {
		case r := <-got:
			if r.err != nil {
				t.Fatalf("read: %v", r.err)
			}
			return r.m
		case <-deadline:
			t.Fatal("no message within 5s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
