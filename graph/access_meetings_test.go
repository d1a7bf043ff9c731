package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
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

// The outcomes of the register's rules: the territory's working group,
// policy makers and administrators read it; the outsider reads Enna's
// public meetings but not their registers.
var (
	registerRead      = cells{unauth, yes, yes, yes, yes, yes, hidden}
	everyoneSignedIn  = cells{unauth, yes, yes, yes, yes, yes, yes}
	registerGuestName = "Ospite della matrice"
)

const (
	createMeetingDoc  = `mutation ($in: CreateMeetingInput!) { createMeeting(input: $in) { meeting { id status } } }`
	updateMeetingDoc  = `mutation ($in: UpdateMeetingInput!) { updateMeeting(input: $in) { meeting { id title sequence } } }`
	meetingStatusDoc  = `mutation ($in: ChangeMeetingStatusInput!) { changeMeetingStatus(input: $in) { meeting { id status } } }`
	nodeMeetingDoc    = `query ($id: ID!) { node(id: $id) { id ... on Meeting { title startsAtLocal focusGroup { theme { code } } } } }`
	nodeFocusGroupDoc = `query ($id: ID!) { node(id: $id) { id ... on FocusGroup { theme { code } territory { code } facilitator { id } } } }`
	nodeInvitationDoc = `query ($id: ID!) { node(id: $id) { id ... on Invitation { status person { id } meeting { id } } } }`
	answerDoc         = `mutation ($in: AnswerInvitationInput!) { answerInvitation(input: $in) { invitation { id status comment } } }`
	inviteDoc         = `mutation ($in: InviteToMeetingInput!) { inviteToMeeting(input: $in) { invitation { id status } } }`
	delegateDoc       = `mutation ($in: DelegateInvitationInput!) { delegateInvitation(input: $in) {
		original { id status } delegate { id status } } }`
	themeTotalsDoc         = `query ($t: String) { themeTotals(territory: $t) { theme { code } meetingsHeld entries people guests organizations } }`
	participationReportDoc = `query ($t: String) { participationReport(territory: $t) { cells { territory { code } theme { code }
		meetingsHeld participants } total { entries organizations byKind { kind count } bySector { sector count } } } }`
)

// meetingFieldRow is a row reading field (with sel beneath it) of the
// meeting pick gives.
func meetingFieldRow(variant, field, sel string, pick func(e *matrixEnv) int64, want cells) matrixRow {
	return matrixRow{op: "Query.node(Meeting)", variant: variant, field: field,
		doc:     `query ($id: ID!) { node(id: $id) { id ... on Meeting { ` + field + sel + ` } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Meeting", pick(e)) }),
		want:    want}
}

func publicMeeting(e *matrixEnv) int64 { return e.mt.public }
func rsvpMeeting(e *matrixEnv) int64   { return e.mt.rsvp }
func heldMeeting(e *matrixEnv) int64   { return e.mt.held }

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

	// Invitations: those who read the register see every one, an invitee
	// their own; others cannot tell one from an id that names nothing.
	{op: "Query.node(Invitation)", variant: "(own)", doc: nodeInvitationDoc,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, p *persona) string {
			return gid("Invitation", e.mt.own[own(e, p).role])
		}),
		want: everyoneSignedIn},
	{op: "Query.node(Invitation)", variant: "(another person's)", doc: nodeInvitationDoc,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Invitation", e.mt.mate) }),
		want:    cells{unauth, yes, yes, yes, yes, yes, null}},
	{op: "Query.myInvitations", doc: `{ myInvitations(first: 5) { totalCount edges { node { id status meeting { title } } } } }`,
		want: everyoneSignedIn},
	// The fields of a meeting that the register's rules guard: the
	// outsider reads the public meeting with its invitations empty (they
	// are not invited to it), and the held meeting without its register.
	meetingFieldRow("(its invitations)", "invitations", " { id status person { id } }", publicMeeting, registerRead),
	meetingFieldRow("(my invitation)", "myInvitation", " { id status }", rsvpMeeting, everyoneSignedIn),
	{op: "Query.node(Meeting)", variant: "(the answers to a private meeting)",
		doc:     `query ($id: ID!) { node(id: $id) { id ... on Meeting { rsvpCounts { pending accepted waitlisted } } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Meeting", e.mt.private) }),
		want:    meetingReadPrivate},
	meetingFieldRow("(its register)", "register", " { id guestName mode checkedInAtLocal person { id } }", heldMeeting, registerRead),
	meetingFieldRow("(its register's totals)", "registerTotals", " { total guests byKind { kind count } }", heldMeeting, registerRead),
	meetingFieldRow("(its register's file)", "registerCsvUrl", "", heldMeeting, registerRead),
	meetingFieldRow("(its register's workbook)", "registerXlsxUrl", "", heldMeeting, registerRead),
	meetingFieldRow("(its minutes)", "minutes", " { body bodyHtml decisions sections { id } }", heldMeeting, everyoneSignedIn),
	{op: "Query.themeTotals", variant: "(Enna)", doc: themeTotalsDoc,
		prepare: func(*testing.T, *matrixEnv, *persona) request { return request{vars: vars("t", "EN")} },
		want:    cells{unauth, yes, yes, yes, yes, yes, forbid}},
	{op: "Query.themeTotals", variant: "(the region)", doc: themeTotalsDoc,
		want: cells{unauth, forbid, forbid, forbid, yes, yes, forbid}},
	// The register as a file: as the register, but a refusal is an answer
	// of its own (403 for a meeting the caller reads, 404 for one they do
	// not).
	{op: "GET /meetings/{id}/register.csv", variant: "(not private)", doc: "(a download)",
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{get: "/meetings/" + gid("Meeting", e.mt.held) + "/register.csv", getHolds: registerGuestName}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, forbid}},
	{op: "GET /meetings/{id}/register.csv", variant: "(private)", doc: "(a download)",
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{get: "/meetings/" + gid("Meeting", e.mt.heldPrivate) + "/register.csv", getHolds: registerGuestName}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, absent}},
	{op: "GET /meetings/{id}/register.xlsx", variant: "(not private)", doc: "(a download)",
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{get: "/meetings/" + gid("Meeting", e.mt.held) + "/register.xlsx", getHolds: registerGuestName}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, forbid}},
	{op: "GET /meetings/{id}/register.xlsx", variant: "(private)", doc: "(a download)",
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{get: "/meetings/" + gid("Meeting", e.mt.heldPrivate) + "/register.xlsx", getHolds: registerGuestName}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, absent}},

	{op: "Query.participationReport", variant: "(Enna)", doc: participationReportDoc,
		prepare: func(*testing.T, *matrixEnv, *persona) request { return request{vars: vars("t", "EN")} },
		want:    cells{unauth, yes, yes, yes, yes, yes, forbid}},
	{op: "Query.participationReport", variant: "(the region)", doc: participationReportDoc,
		want: cells{unauth, forbid, forbid, forbid, yes, yes, forbid}},
	// The participation report as a file: as themeTotals, counts only.
	{op: "GET /reports/participation.csv", variant: "(Enna)", doc: "(a download)",
		prepare: func(*testing.T, *matrixEnv, *persona) request {
			return request{get: "/reports/participation.csv?territory=EN", getHolds: "Enna"}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, forbid}},
	{op: "GET /reports/participation.xlsx", variant: "(the region)", doc: "(a download)",
		prepare: func(*testing.T, *matrixEnv, *persona) request {
			return request{get: "/reports/participation.xlsx", getHolds: "Palermo"}
		},
		want: cells{unauth, forbid, forbid, forbid, yes, yes, forbid}},

	// Answers: one's own invitation, and anyone's for the territory's
	// coordinators and administrators.
	{op: "Mutation.answerInvitation", variant: "(own)", doc: answerDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("Invitation", e.mt.own[own(e, p).role]), "answer", "TENTATIVE", "comment", e.name("Forse", p))
		}),
		want: everyoneSignedIn, unchanged: meetingState},
	{op: "Mutation.answerInvitation", variant: "(another person's)", doc: answerDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("Invitation", e.newInvitation(t, p)), "answer", "ACCEPTED")
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.inviteToMeeting", variant: "(not private)", doc: inviteDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("meeting", gid("Meeting", e.mt.public), "person", gid("Person", e.newPerson(t, p, false).ID))
		}),
		want: meetingManagePublic, unchanged: meetingState},
	{op: "Mutation.inviteToMeeting", variant: "(private)", doc: inviteDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("meeting", gid("Meeting", e.mt.private), "person", gid("Person", e.newPerson(t, p, false).ID))
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.delegateInvitation", variant: "(own)", doc: delegateDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any { return e.delegation(t, p, true) }),
		want:    everyoneSignedIn, unchanged: meetingState},
	{op: "Mutation.delegateInvitation", variant: "(another person's)", doc: delegateDoc,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any { return e.delegation(t, p, false) }),
		want:    meetingManage, unchanged: meetingState},

	// The register and the minutes: the territory's coordinators and
	// administrators keep them. The outsider reads the held meeting, so
	// changing it is FORBIDDEN, but not its register, so an entry of it is
	// NOT_FOUND.
	{op: "Mutation.registerAttendance", doc: `mutation ($in: RegisterAttendanceInput!) { registerAttendance(input: $in) {
		entry { id guestName } meeting { registerTotals { total } } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("meeting", gid("Meeting", e.mt.held), "guestName", e.name("Ospite", p), "mode", "ONLINE")
		}),
		want: meetingManagePublic, unchanged: meetingState},
	{op: "Mutation.removeAttendance", doc: `mutation ($in: RemoveAttendanceInput!) { removeAttendance(input: $in) { removedEntryId } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("id", gid("AttendanceEntry", e.newEntry(t, p)))
		}),
		want: meetingManage, unchanged: meetingState},
	{op: "Mutation.setMeetingMinutes", doc: `mutation ($in: SetMeetingMinutesInput!) { setMeetingMinutes(input: $in) {
		minutes { body sections { id } } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("meeting", gid("Meeting", e.mt.held), "body", e.name("Verbale", p), "decisions", []string{"Si procede"},
				"sections", []string{gid("Section", e.doc.sections[0])})
		}),
		want: meetingManagePublic, unchanged: meetingState},

	// Personal calendars: one's own, for every signed-in person.
	{op: "Mutation.createCalendarFeed", doc: `mutation { createCalendarFeed { token url } }`,
		want: everyoneSignedIn, unchanged: meetingState},
	{op: "Mutation.revokeCalendarFeeds", doc: `mutation { revokeCalendarFeeds { revoked } }`,
		want: everyoneSignedIn, unchanged: meetingState},

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

	mate        int64            // the groupmate's invitation to public
	rsvp        int64            // a meeting every persona (and the bystander) is invited to
	own         map[string]int64 // their invitations to rsvp, by role
	held        int64            // a meeting held hours ago, with a guest in its register and minutes
	heldPrivate int64            // a private one, likewise
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

	mate, err := svc.InvitePerson(e.admin, e.mt.public, personID(t, e.groupmate), nil)
	if err != nil {
		t.Fatalf("invite the groupmate: %v", err)
	}
	e.mt.mate = mate.ID
	e.mt.rsvp = e.newMeeting(t, setup, false)
	e.mt.own = map[string]int64{}
	for _, p := range append(e.people[1:], e.bystander) {
		inv, err := svc.InvitePerson(e.admin, e.mt.rsvp, personID(t, p.gid), nil)
		if err != nil {
			t.Fatalf("invite %s: %v", p.role, err)
		}
		e.mt.own[p.role] = inv.ID
	}
	e.mt.held = e.heldMeeting(t, 3*time.Hour, false)
	e.mt.heldPrivate = e.heldMeeting(t, 6*time.Hour, true)
}

// heldMeeting makes, as the administrator, a meeting of Enna's health
// focus group that started ago and lasted an hour (its register stays open
// for 30 days), with a guest in its register, HELD, with minutes linking
// the shared document's first section.
func (e *matrixEnv) heldMeeting(t *testing.T, ago time.Duration, private bool) int64 {
	t.Helper()
	svc := e.mt.svc
	start := time.Now().Add(-ago).Truncate(time.Minute)
	m, err := svc.CreateMeeting(e.admin, meeting.MeetingInput{FocusGroupID: e.mt.focus["HEALTH"], Title: "Incontro tenuto",
		StartsAt: start, EndsAt: start.Add(time.Hour), Mode: meeting.Online, OnlineURL: "https://meet.example.org/enna", Private: private})
	if err != nil {
		t.Fatalf("held meeting: %v", err)
	}
	if _, err := svc.RegisterAttendance(e.admin, meeting.AttendanceInput{MeetingID: m.ID, GuestName: &registerGuestName,
		Mode: meeting.AttendedOnline}); err != nil {
		t.Fatalf("its register: %v", err)
	}
	if _, err := svc.ChangeStatus(e.admin, m.ID, meeting.Held, ""); err != nil {
		t.Fatalf("held: %v", err)
	}
	if _, err := svc.SetMinutes(e.admin, m.ID, meeting.MinutesInput{Body: "Verbale", Decisions: []string{"Si decide"},
		SectionIDs: []int64{e.doc.sections[0]}}); err != nil {
		t.Fatalf("its minutes: %v", err)
	}
	return m.ID
}

// newInvitation invites, as the administrator, a fresh person to the
// public meeting for p's cell.
func (e *matrixEnv) newInvitation(t *testing.T, p *persona) int64 {
	t.Helper()
	inv, err := e.mt.svc.InvitePerson(e.admin, e.mt.public, e.newPerson(t, p, false).ID, nil)
	if err != nil {
		t.Fatalf("invitation: %v", err)
	}
	return inv.ID
}

// newEntry registers, as the administrator, a guest at the held meeting
// for p's cell.
func (e *matrixEnv) newEntry(t *testing.T, p *persona) int64 {
	t.Helper()
	name := e.name("Ospite", p)
	a, err := e.mt.svc.RegisterAttendance(e.admin, meeting.AttendanceInput{MeetingID: e.mt.held, GuestName: &name,
		Mode: meeting.AttendedOnline})
	if err != nil {
		t.Fatalf("entry: %v", err)
	}
	return a.ID
}

// delegation is a delegateInvitation input for p's cell: an invitation on
// a fresh organization's behalf, p's own to a meeting of their own when
// ownInvitation (the bystander's for the anonymous caller), else a fresh
// representative's to the public meeting, and a fresh delegate of the same
// organization.
func (e *matrixEnv) delegation(t *testing.T, p *persona, ownInvitation bool) map[string]any {
	t.Helper()
	org := e.newOrganization(t, p)
	affiliate := func(person int64, role network.AffiliationRole) {
		if _, err := e.net.AddAffiliation(e.admin, network.AffiliationInput{PersonID: person, OrganizationID: org.ID, Role: role}); err != nil {
			t.Fatalf("affiliation: %v", err)
		}
	}
	meetingID, holder := e.mt.public, e.newPerson(t, p, false).ID
	if ownInvitation {
		meetingID, holder = e.newMeeting(t, p, false), personID(t, own(e, p).gid)
	}
	affiliate(holder, network.Representative)
	delegate := e.newPerson(t, p, false).ID
	affiliate(delegate, network.Staff)
	inv, err := e.mt.svc.InvitePerson(e.admin, meetingID, holder, &org.ID)
	if err != nil {
		t.Fatalf("invitation on the organization's behalf: %v", err)
	}
	return vars("id", gid("Invitation", inv.ID), "delegate", gid("Person", delegate))
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
// facilitator, every invitation's answer, every meeting's minutes, and the
// counts of invitees, invitations, queued mail, register entries, minutes
// and their sections, calendar tokens and revoked ones.
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
	var invs []meeting.Invitation
	if err := e.db.NewSelect().Model(&invs).Order("id").Scan(ctx); err != nil {
		t.Fatalf("invitations: %v", err)
	}
	for _, inv := range invs {
		state[fmt.Sprintf("invitation %d", inv.ID)] = fmt.Sprintf("%s %q, on behalf of %v, delegated to %v, updated %v",
			inv.Status, inv.Comment, deref(inv.OrganizationID), deref(inv.DelegatedToID), inv.UpdatedAt.UTC())
	}
	var minutes []meeting.Minutes
	if err := e.db.NewSelect().Model(&minutes).Order("meeting_id").Scan(ctx); err != nil {
		t.Fatalf("minutes: %v", err)
	}
	for _, mm := range minutes {
		state[fmt.Sprintf("minutes of %d", mm.MeetingID)] = fmt.Sprintf("%q %q, updated %v", mm.Body, mm.Decisions, mm.UpdatedAt.UTC())
	}
	revoked, err := e.db.NewSelect().Table("calendar_tokens").Where("revoked_at IS NOT NULL").Count(ctx)
	if err != nil {
		t.Fatalf("revoked calendar tokens: %v", err)
	}
	state["revoked calendar tokens"] = fmt.Sprint(revoked)
	for _, table := range []string{"focus_group_invitees", "meeting_invitations", "mail_outbox", "meeting_attendance",
		"meeting_minutes", "meeting_minutes_sections", "calendar_tokens"} {
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
