package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// meetEnv is docEnv with a coordinator of Enna's working group signed in,
// and the global ids of Enna's focus groups by theme.
type meetEnv struct {
	*docEnv
	coordinator string // token
	focus       map[string]string
}

func newMeetEnv(t *testing.T, db *bun.DB) *meetEnv {
	t.Helper()
	return meetEnvOn(t, newResolver(t, db))
}

// meetEnvOn is newMeetEnv serving r.
func meetEnvOn(t *testing.T, r *graph.Resolver) *meetEnv {
	t.Helper()
	e := &meetEnv{docEnv: docEnvOn(t, r), focus: map[string]string{}}
	e.coordinator = e.join(t, "coordinatrice@pia.test", "Carla Coordinatrice", "EN", access.Coordinator)
	var data struct {
		FocusGroups []struct {
			ID    string
			Theme struct{ Code string }
		}
	}
	e.must(t, e.coordinator, `{ focusGroups(territory: "EN") { id theme { code } } }`, nil, &data)
	for _, fg := range data.FocusGroups {
		e.focus[fg.Theme.Code] = fg.ID
	}
	if len(e.focus) != 4 {
		t.Fatalf("Enna's focus groups: %+v; want four, one per theme", data.FocusGroups)
	}
	return e
}

// join gives a new person an account and a role in a territory's working
// group, and returns their token.
func (e *docEnv) join(t *testing.T, email, name, territory string, role access.TerritoryRole) string {
	t.Helper()
	token := e.account(t, email, name)
	var me struct{ Me struct{ ID string } }
	e.must(t, token, `{ me { id } }`, nil, &me)
	ctx := access.WithActor(context.Background(), e.actor)
	if _, err := e.r.Network.AddMember(ctx, network.MemberInput{WorkingGroupID: e.groups[territory],
		PersonID: personID(t, me.Me.ID), Role: role}); err != nil {
		t.Fatal(err)
	}
	return token
}

// count counts the rows of table.
func count(t *testing.T, db *bun.DB, table string) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// writes is what a refused meeting mutation must not change: the numbers
// of meetings, invitees, invitations and queued mails.
func writes(t *testing.T, db *bun.DB) string {
	t.Helper()
	return fmt.Sprintf("%d meetings, %d invitees, %d invitations, %d mails", count(t, db, "meetings"),
		count(t, db, "focus_group_invitees"), count(t, db, "meeting_invitations"), count(t, db, "mail_outbox"))
}

const planDoc = `mutation ($in: PlanThematicMeetingsInput!) { planThematicMeetings(input: $in) { meetings {
	id title theme { code } territory { code } workingGroup { id } focusGroup { id }
	startsAt endsAt startsAtLocal endsAtLocal timeZone mode venue onlineUrl status sequence icsUrl
	services { kind languages } agenda private facilitator { displayName } createdBy { displayName } } } }`

type meetingData struct {
	ID            string
	Title         string
	Theme         struct{ Code string }
	Territory     struct{ Code string }
	WorkingGroup  struct{ ID string }
	FocusGroup    struct{ ID string }
	StartsAt      string
	EndsAt        string
	StartsAtLocal string
	EndsAtLocal   string
	TimeZone      string
	Mode          string
	Venue         *string
	OnlineURL     *string
	Status        string
	Sequence      int
	IcsURL        string
	Services      []struct {
		Kind      string
		Languages []string
	}
	Agenda      []string
	Private     bool
	Facilitator *struct{ DisplayName string }
	CreatedBy   *struct{ DisplayName string }
}

// ennaRound is the round of the four thematic meetings of Enna, in hybrid
// form at 10:00 in Rome, on both sides of the change to summer time
// (Sunday 29 March 2026).
func (e *meetEnv) ennaRound() map[string]any {
	return vars("workingGroup", gid("WorkingGroup", e.groups["EN"]),
		"template", vars("startTime", "10:00", "durationMinutes", 120, "mode", "HYBRID", "venue", "Sala Cerere, Enna",
			"onlineUrl", "https://meet.example.org/enna", "agenda", []string{"Benvenuto", "Mappatura dei servizi"},
			"services", []any{vars("kind", "INTERPRETING", "languages", []string{"ar", "FR"}), vars("kind", "CHILDCARE")}),
		"meetings", []any{
			vars("theme", "HEALTH", "date", "2026-03-27"),
			vars("theme", "EDUCATION", "date", "2026-03-29"),
			vars("theme", "WORK", "date", "2026-04-03", "startTime", "15:30"),
			vars("theme", "HOUSING", "date", "2026-04-03", "startTime", "09:00", "venue", "Biblioteca comunale, Enna"),
		})
}

// TestPlanThematicMeetings plans the four meetings of Enna in one mutation
// and reads them back: the wall-clock times stay 10:00 in Rome while the
// offset changes with summer time.
func TestPlanThematicMeetings(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		var plan struct {
			PlanThematicMeetings struct{ Meetings []meetingData }
		}
		e.must(t, e.coordinator, planDoc, vars("in", e.ennaRound()), &plan)
		ms := plan.PlanThematicMeetings.Meetings
		if len(ms) != 4 {
			t.Fatalf("%d meetings planned; want 4", len(ms))
		}
		want := []struct{ theme, startsAt, local, endLocal string }{
			{"HEALTH", "2026-03-27T09:00:00Z", "2026-03-27T10:00:00+01:00", "2026-03-27T12:00:00+01:00"},
			{"EDUCATION", "2026-03-29T08:00:00Z", "2026-03-29T10:00:00+02:00", "2026-03-29T12:00:00+02:00"},
			{"WORK", "2026-04-03T13:30:00Z", "2026-04-03T15:30:00+02:00", "2026-04-03T17:30:00+02:00"},
			{"HOUSING", "2026-04-03T07:00:00Z", "2026-04-03T09:00:00+02:00", "2026-04-03T11:00:00+02:00"},
		}
		for i, m := range ms {
			w := want[i]
			if m.Theme.Code != w.theme || m.StartsAt != w.startsAt || m.StartsAtLocal != w.local || m.EndsAtLocal != w.endLocal {
				t.Errorf("meeting %d: %s from %s (%s to %s); want %s from %s (%s to %s)", i+1, m.Theme.Code, m.StartsAt,
					m.StartsAtLocal, m.EndsAtLocal, w.theme, w.startsAt, w.local, w.endLocal)
			}
			if m.FocusGroup.ID != e.focus[w.theme] || m.Territory.Code != "EN" || m.WorkingGroup.ID != gid("WorkingGroup", e.groups["EN"]) {
				t.Errorf("meeting %d in focus group %s, territory %s, group %s", i+1, m.FocusGroup.ID, m.Territory.Code, m.WorkingGroup.ID)
			}
			if m.TimeZone != "Europe/Rome" || m.Mode != "HYBRID" || m.Status != "PLANNED" || m.Sequence != 0 || m.Private {
				t.Errorf("meeting %d: %+v", i+1, m)
			}
			if m.IcsURL != "http://pia.test/meetings/"+m.ID+".ics" {
				t.Errorf("icsUrl %q", m.IcsURL)
			}
			if len(m.Services) != 2 || m.Services[0].Kind != "INTERPRETING" || strings.Join(m.Services[0].Languages, ",") != "ar,fr" ||
				m.Services[1].Kind != "CHILDCARE" || len(m.Services[1].Languages) != 0 {
				t.Errorf("services %+v", m.Services)
			}
			if m.OnlineURL == nil || *m.OnlineURL != "https://meet.example.org/enna" || len(m.Agenda) != 2 {
				t.Errorf("link %v, agenda %q", m.OnlineURL, m.Agenda)
			}
			if m.CreatedBy == nil || m.CreatedBy.DisplayName != "Carla Coordinatrice" || m.Facilitator != nil {
				t.Errorf("created by %+v, facilitator %+v", m.CreatedBy, m.Facilitator)
			}
		}
		if ms[0].Title != "Focus group Salute – Enna" || *ms[3].Venue != "Biblioteca comunale, Enna" || *ms[2].Venue != "Sala Cerere, Enna" {
			t.Errorf("titles and venues: %q, %q, %q", ms[0].Title, *ms[2].Venue, *ms[3].Venue)
		}

		// Read back through the list, filtered, and through node.
		var list struct {
			Meetings struct {
				TotalCount int
				Edges      []struct{ Node meetingData }
			}
		}
		e.must(t, e.member, `query ($f: MeetingFilter) { meetings(filter: $f) { totalCount edges { node { id startsAtLocal theme { code } } } } }`,
			vars("f", vars("territory", "EN", "from", "2026-03-28T00:00:00+01:00", "to", "2026-03-30T00:00:00+02:00")), &list)
		if list.Meetings.TotalCount != 1 || list.Meetings.Edges[0].Node.StartsAtLocal != "2026-03-29T10:00:00+02:00" {
			t.Errorf("meetings of 28-29 March: %+v", list.Meetings)
		}
		e.must(t, e.member, `query ($f: MeetingFilter) { meetings(filter: $f) { totalCount edges { node { id startsAtLocal } } } }`,
			vars("f", vars("focusGroup", e.focus["HEALTH"], "statuses", []string{"PLANNED"})), &list)
		if list.Meetings.TotalCount != 1 || list.Meetings.Edges[0].Node.StartsAtLocal != "2026-03-27T10:00:00+01:00" {
			t.Errorf("the health focus group's meetings: %+v", list.Meetings)
		}
		var node struct{ Node meetingData }
		e.must(t, e.outsider, `query ($id: ID!) { node(id: $id) { ... on Meeting { id startsAtLocal endsAtLocal } } }`,
			vars("id", ms[1].ID), &node)
		if node.Node.StartsAtLocal != "2026-03-29T10:00:00+02:00" || node.Node.EndsAtLocal != "2026-03-29T12:00:00+02:00" {
			t.Errorf("node: %+v", node.Node)
		}
		var group struct {
			WorkingGroup struct {
				FocusGroups []struct {
					ID       string
					Theme    struct{ Code string }
					Meetings struct {
						TotalCount int
						Edges      []struct {
							Node struct{ StartsAtLocal string }
						}
					}
				}
			}
			Territory struct{ FocusGroups []struct{ ID string } }
		}
		e.must(t, e.member, `{ workingGroup(territory: "EN") { focusGroups { id theme { code }
			meetings { totalCount edges { node { startsAtLocal } } } } } territory(code: "EN") { focusGroups { id } } }`, nil, &group)
		fgs := group.WorkingGroup.FocusGroups
		if len(fgs) != 4 || fgs[0].Theme.Code != "HEALTH" || fgs[3].Theme.Code != "HOUSING" || len(group.Territory.FocusGroups) != 4 {
			t.Fatalf("focus groups %+v, of the territory %+v", fgs, group.Territory.FocusGroups)
		}
		for i, fg := range fgs {
			if fg.Meetings.TotalCount != 1 || fg.Meetings.Edges[0].Node.StartsAtLocal != want[i].local {
				t.Errorf("%s: %+v", fg.Theme.Code, fg.Meetings)
			}
		}
	})
}

// TestMeetingBadInput: bad values are BAD_USER_INPUT naming their field,
// and nothing is written.
func TestMeetingBadInput(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		before := writes(t, db)
		round := func(edit func(in map[string]any)) map[string]any {
			in := e.ennaRound()
			edit(in)
			return vars("in", in)
		}
		meeting0 := func(in map[string]any) map[string]any { return in["meetings"].([]any)[0].(map[string]any) }
		create := func(edit func(in map[string]any)) map[string]any {
			in := vars("focusGroup", e.focus["HEALTH"], "title", "Salute", "startsAt", "2026-05-04T10:00:00+02:00",
				"endsAt", "2026-05-04T12:00:00+02:00", "mode", "IN_PERSON", "venue", "Sala Cerere, Enna")
			edit(in)
			return vars("in", in)
		}
		cases := []struct {
			name, doc string
			vars      map[string]any
			field     string
		}{
			{"an unknown theme", planDoc, round(func(in map[string]any) { meeting0(in)["theme"] = "SPORT" }), "theme"},
			{"a start time that is no time", planDoc, round(func(in map[string]any) {
				in["template"].(map[string]any)["startTime"] = "25:00"
			}), "startTime"},
			{"a start time that does not exist that day", planDoc, round(func(in map[string]any) {
				in["meetings"].([]any)[1].(map[string]any)["startTime"] = "02:30" // 29 March: the clocks go forward
			}), "startTime"},
			{"no duration", planDoc, round(func(in map[string]any) { in["template"].(map[string]any)["durationMinutes"] = 0 }), "durationMinutes"},
			{"a day that does not exist", planDoc, round(func(in map[string]any) { meeting0(in)["date"] = "2026-02-30" }), ""},
			{"a working group id that is no id", planDoc, round(func(in map[string]any) { in["workingGroup"] = "not-an-id" }), "workingGroup"},
			{"an organization for a person", planDoc, round(func(in map[string]any) {
				meeting0(in)["invitePeople"] = []string{gid("Organization", 1)}
			}), "invitePeople"},
			{"a person who does not exist", planDoc, round(func(in map[string]any) {
				meeting0(in)["invitePeople"] = []string{gid("Person", 999_999)}
			}), "people"},
			{"a facilitator id that is no id", planDoc, round(func(in map[string]any) { meeting0(in)["facilitator"] = "x" }), "facilitator"},
			{"a time that is no time", createMeetingDoc, create(func(in map[string]any) { in["startsAt"] = "4 maggio, 10:00" }), "startsAt"},
			{"a time with seconds", createMeetingDoc, create(func(in map[string]any) { in["endsAt"] = "2026-05-04T12:00:30+02:00" }), "startsAt"},
			{"a focus group id of another type", createMeetingDoc, create(func(in map[string]any) {
				in["focusGroup"] = gid("WorkingGroup", e.groups["EN"])
			}), "focusGroup"},
			{"a link that is no link", createMeetingDoc, create(func(in map[string]any) {
				in["mode"], in["onlineUrl"] = "HYBRID", "javascript:alert(1)"
			}), "onlineUrl"},
			{"a language that is no language", createMeetingDoc, create(func(in map[string]any) {
				in["services"] = []any{vars("kind", "CULTURAL_MEDIATION", "languages", []string{"arabic"})}
			}), "services"},
			{"an unknown territory", `{ meetings(filter: {territory: "XX"}) { totalCount } }`, nil, "territory"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := authPost(t, e.srv, authBearer(e.coordinator), c.doc, c.vars)
				er := onlyError(t, r)
				if er.code() != "BAD_USER_INPUT" {
					t.Fatalf("%s: %s", c.name, r.Body)
				}
				if f, _ := er.Extensions["field"].(string); f != c.field {
					t.Errorf("extensions.field %q; want %q: %s", f, c.field, r.Body)
				}
			})
		}
		if after := writes(t, db); after != before {
			t.Errorf("refused requests wrote: %s before, %s after", before, after)
		}
	})
}

// TestMeetingConflicts: a conflict is CONFLICT, reason SCHEDULE_CONFLICT,
// with the meetings it clashes with in extensions.conflicts; an override
// keeps the meeting and records why.
func TestMeetingConflicts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		var first struct {
			CreateMeeting struct{ Meeting struct{ ID, Title string } }
		}
		in := vars("focusGroup", e.focus["HEALTH"], "title", "Salute: accesso ai servizi", "startsAt", "2026-05-04T10:00:00+02:00",
			"endsAt", "2026-05-04T12:00:00+02:00", "mode", "IN_PERSON", "venue", "Sala Cerere, Enna")
		e.must(t, e.coordinator, createMeetingDoc, vars("in", in), &first)

		// Another focus group of the same working group, an hour later.
		clash := vars("focusGroup", e.focus["WORK"], "title", "Lavoro", "startsAt", "2026-05-04T11:00:00+02:00",
			"endsAt", "2026-05-04T13:00:00+02:00", "mode", "ONLINE", "onlineUrl", "https://meet.example.org/lavoro")
		before := writes(t, db)
		r := authPost(t, e.srv, authBearer(e.coordinator), createMeetingDoc, vars("in", clash))
		er := onlyError(t, r)
		if er.code() != "CONFLICT" || er.reason() != "SCHEDULE_CONFLICT" {
			t.Fatalf("an overlap in the working group: %s", r.Body)
		}
		var conflicts []map[string]any
		raw, _ := json.Marshal(er.Extensions["conflicts"])
		if err := json.Unmarshal(raw, &conflicts); err != nil || len(conflicts) != 1 {
			t.Fatalf("extensions.conflicts %s: %v", raw, err)
		}
		want := map[string]any{"kind": "WORKING_GROUP", "meeting": first.CreateMeeting.Meeting.ID, "index": nil,
			"title": "Salute: accesso ai servizi", "startsAt": "2026-05-04T08:00:00Z", "endsAt": "2026-05-04T10:00:00Z",
			"startsAtLocal": "2026-05-04T10:00:00+02:00", "endsAtLocal": "2026-05-04T12:00:00+02:00"}
		if fmt.Sprint(conflicts[0]) != fmt.Sprint(want) {
			t.Errorf("conflict %v\nwant %v", conflicts[0], want)
		}
		if after := writes(t, db); after != before {
			t.Errorf("a refused conflict wrote: %s before, %s after", before, after)
		}

		// A round that clashes with itself names the meeting by its index.
		round := vars("workingGroup", gid("WorkingGroup", e.groups["EN"]),
			"template", vars("startTime", "10:00", "durationMinutes", 60, "mode", "ONLINE", "onlineUrl", "https://meet.example.org/enna"),
			"meetings", []any{vars("theme", "EDUCATION", "date", "2026-06-01"), vars("theme", "HOUSING", "date", "2026-06-01", "startTime", "10:30")})
		r = authPost(t, e.srv, authBearer(e.coordinator), planDoc, vars("in", round))
		er = onlyError(t, r)
		raw, _ = json.Marshal(er.Extensions["conflicts"])
		if er.reason() != "SCHEDULE_CONFLICT" || !strings.Contains(string(raw), `"index":0`) || !strings.Contains(string(raw), `"meeting":null`) {
			t.Errorf("a round clashing with itself: %s", r.Body)
		}

		// Overridden, the meeting is kept and says so.
		clash["overrideConflicts"], clash["overrideNote"] = true, "due stanze diverse"
		var kept struct {
			CreateMeeting struct {
				Meeting struct {
					ConflictOverride *struct {
						Note string
						By   struct{ DisplayName string }
					}
				}
			}
		}
		e.must(t, e.coordinator, `mutation ($in: CreateMeetingInput!) { createMeeting(input: $in) { meeting {
			conflictOverride { note by { displayName } } } } }`, vars("in", clash), &kept)
		o := kept.CreateMeeting.Meeting.ConflictOverride
		if o == nil || !strings.Contains(o.Note, "WORKING_GROUP with "+first.CreateMeeting.Meeting.ID) ||
			!strings.Contains(o.Note, "due stanze diverse") || o.By.DisplayName != "Carla Coordinatrice" {
			t.Errorf("the override: %+v", o)
		}
	})
}

// TestUpdateMeeting: an update changes what it names, clears optional
// fields with null, refuses null on required ones, and moves the status.
func TestUpdateMeeting(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		var created struct {
			CreateMeeting struct{ Meeting struct{ ID string } }
		}
		e.must(t, e.coordinator, createMeetingDoc, vars("in", vars("focusGroup", e.focus["HOUSING"], "title", "Casa",
			"description", "Primo incontro", "startsAt", "2027-02-01T10:00:00+01:00", "endsAt", "2027-02-01T12:00:00+01:00",
			"mode", "HYBRID", "venue", "Sala Cerere, Enna", "onlineUrl", "https://meet.example.org/casa", "capacity", 30,
			"facilitator", e.meID(t, e.member))), &created)
		id := created.CreateMeeting.Meeting.ID
		const doc = `mutation ($in: UpdateMeetingInput!) { updateMeeting(input: $in) { meeting {
			title description capacity venue onlineUrl mode facilitator { id } sequence startsAtLocal } } }`
		var got struct {
			UpdateMeeting struct {
				Meeting struct {
					Title, Description string
					Capacity           *int
					Venue, OnlineURL   *string
					Mode               string
					Facilitator        *struct{ ID string }
					Sequence           int
					StartsAtLocal      string
				}
			}
		}
		e.must(t, e.coordinator, doc, vars("in", vars("id", id, "description", nil, "capacity", nil, "facilitator", nil,
			"mode", "ONLINE", "startsAt", "2027-02-01T09:30:00+01:00")), &got)
		m := got.UpdateMeeting.Meeting
		if m.Title != "Casa" || m.Description != "" || m.Capacity != nil || m.Facilitator != nil || m.Venue != nil ||
			m.OnlineURL == nil || m.Mode != "ONLINE" || m.Sequence != 1 || m.StartsAtLocal != "2027-02-01T09:30:00+01:00" {
			t.Errorf("after the update: %+v", m)
		}
		before := writes(t, db)
		for _, field := range []string{"title", "startsAt", "mode", "private"} {
			r := authPost(t, e.srv, authBearer(e.coordinator), doc, vars("in", vars("id", id, field, nil)))
			if er := onlyError(t, r); er.code() != "BAD_USER_INPUT" || er.Extensions["field"] != field {
				t.Errorf("null %s: %s", field, r.Body)
			}
		}
		if after := writes(t, db); after != before {
			t.Errorf("refused updates wrote: %s, then %s", before, after)
		}
		// The status: cancelling needs a reason, and a cancelled meeting is closed.
		r := authPost(t, e.srv, authBearer(e.coordinator), meetingStatusDoc, vars("in", vars("id", id, "status", "CANCELLED")))
		if er := onlyError(t, r); er.code() != "BAD_USER_INPUT" || er.Extensions["field"] != "reason" {
			t.Errorf("cancelling without a reason: %s", r.Body)
		}
		var cancelled struct {
			ChangeMeetingStatus struct {
				Meeting struct {
					Status       string
					CancelReason *string
				}
			}
		}
		e.must(t, e.coordinator, `mutation ($in: ChangeMeetingStatusInput!) { changeMeetingStatus(input: $in) { meeting { status cancelReason } } }`,
			vars("in", vars("id", id, "status", "CANCELLED", "reason", "Sala inagibile")), &cancelled)
		if c := cancelled.ChangeMeetingStatus.Meeting; c.Status != "CANCELLED" || c.CancelReason == nil || *c.CancelReason != "Sala inagibile" {
			t.Errorf("cancelled: %+v", c)
		}
		r = authPost(t, e.srv, authBearer(e.coordinator), doc, vars("in", vars("id", id, "title", "Ancora")))
		if er := onlyError(t, r); er.code() != "CONFLICT" || er.reason() != "MEETING_CLOSED" {
			t.Errorf("updating a cancelled meeting: %s", r.Body)
		}
		r = authPost(t, e.srv, authBearer(e.coordinator), meetingStatusDoc, vars("in", vars("id", id, "status", "PLANNED")))
		if er := onlyError(t, r); er.code() != "CONFLICT" || er.reason() != "BAD_TRANSITION" {
			t.Errorf("cancelled -> planned: %s", r.Body)
		}
	})
}

// meID is the global id of the holder of token.
func (e *meetEnv) meID(t *testing.T, token string) string {
	t.Helper()
	var me struct{ Me struct{ ID string } }
	e.must(t, token, `{ me { id } }`, nil, &me)
	return me.Me.ID
}

// TestFocusGroupInvitees: a coordinator names a facilitator and invites
// people and organizations; the register's readers see them, others an
// empty list; removing one gives its id back.
func TestFocusGroupInvitees(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		ctx := access.WithActor(context.Background(), e.actor)
		org, err := e.r.Network.CreateOrganization(ctx, network.OrganizationInput{Name: "Associazione Ponti",
			Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{"EN"}})
		if err != nil {
			t.Fatal(err)
		}
		member := e.meID(t, e.member)
		var set struct {
			SetFocusGroupFacilitator struct {
				FocusGroup struct{ Facilitator struct{ DisplayName string } }
			}
		}
		e.must(t, e.coordinator, `mutation ($in: SetFocusGroupFacilitatorInput!) { setFocusGroupFacilitator(input: $in) {
			focusGroup { facilitator { displayName } } } }`, vars("in", vars("focusGroup", e.focus["WORK"], "facilitator", member)), &set)
		if set.SetFocusGroupFacilitator.FocusGroup.Facilitator.DisplayName != "Mario Membro" {
			t.Errorf("facilitator %+v", set)
		}
		var added struct {
			AddFocusGroupInvitees struct {
				FocusGroup struct{ Invitees []struct{ ID string } }
				Added      []struct {
					ID           string
					Person       *struct{ DisplayName string }
					Organization *struct{ Name string }
					AddedBy      struct{ DisplayName string }
					FocusGroup   struct{ ID string }
				}
			}
		}
		const add = `mutation ($in: AddFocusGroupInviteesInput!) { addFocusGroupInvitees(input: $in) {
			focusGroup { invitees { id } } added { id person { displayName } organization { name } addedBy { displayName } focusGroup { id } } } }`
		e.must(t, e.coordinator, add, vars("in", vars("focusGroup", e.focus["WORK"], "people", []string{member},
			"organizations", []string{gid("Organization", org.ID)})), &added)
		a := added.AddFocusGroupInvitees
		if len(a.Added) != 2 || len(a.FocusGroup.Invitees) != 2 || a.Added[0].Person == nil || a.Added[0].Person.DisplayName != "Mario Membro" ||
			a.Added[1].Organization == nil || a.Added[1].Organization.Name != "Associazione Ponti" ||
			a.Added[0].AddedBy.DisplayName != "Carla Coordinatrice" || a.Added[0].FocusGroup.ID != e.focus["WORK"] {
			t.Fatalf("added %+v", a)
		}
		// Again: nothing new.
		e.must(t, e.coordinator, add, vars("in", vars("focusGroup", e.focus["WORK"], "people", []string{member})), &added)
		if len(added.AddFocusGroupInvitees.Added) != 0 {
			t.Errorf("added twice: %+v", added)
		}
		const read = `query ($id: ID!) { node(id: $id) { ... on FocusGroup { facilitator { displayName } invitees { id } } } }`
		var seen struct {
			Node struct {
				Facilitator *struct{ DisplayName string }
				Invitees    []struct{ ID string }
			}
		}
		e.must(t, e.member, read, vars("id", e.focus["WORK"]), &seen)
		if len(seen.Node.Invitees) != 2 {
			t.Errorf("the member sees %d invitees; want 2", len(seen.Node.Invitees))
		}
		e.must(t, e.outsider, read, vars("id", e.focus["WORK"]), &seen)
		if len(seen.Node.Invitees) != 0 || seen.Node.Facilitator == nil {
			t.Errorf("Palermo's coordinator sees %+v; want the facilitator and no invitees", seen.Node)
		}
		var removed struct {
			RemoveFocusGroupInvitee struct {
				FocusGroup       struct{ Invitees []struct{ ID string } }
				RemovedInviteeID string
			}
		}
		e.must(t, e.coordinator, `mutation ($in: RemoveFocusGroupInviteeInput!) { removeFocusGroupInvitee(input: $in) {
			focusGroup { invitees { id } } removedInviteeId } }`, vars("in", vars("invitee", a.Added[0].ID)), &removed)
		if r := removed.RemoveFocusGroupInvitee; r.RemovedInviteeID != a.Added[0].ID || len(r.FocusGroup.Invitees) != 1 {
			t.Errorf("removed %+v", r)
		}
		r := authPost(t, e.srv, authBearer(e.coordinator), `mutation ($in: RemoveFocusGroupInviteeInput!) {
			removeFocusGroupInvitee(input: $in) { removedInviteeId } }`, vars("in", vars("invitee", a.Added[0].ID)))
		if er := onlyError(t, r); er.code() != "NOT_FOUND" {
			t.Errorf("removing it again: %s", r.Body)
		}
	})
}

// TestTerritoryMeetingsSubscription: a subscriber of Enna's meetings hears
// a meeting created and then cancelled, with the meeting as it is.
func TestTerritoryMeetingsSubscription(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		// A meeting the test changes until the subscription answers: it
		// cannot tell otherwise when the server has registered it.
		var probe struct {
			CreateMeeting struct{ Meeting struct{ ID string } }
		}
		e.must(t, e.coordinator, createMeetingDoc, vars("in", vars("focusGroup", e.focus["EDUCATION"], "title", "Sonda",
			"startsAt", "2027-03-01T10:00:00+01:00", "endsAt", "2027-03-01T11:00:00+01:00", "mode", "ONLINE",
			"onlineUrl", "https://meet.example.org/sonda")), &probe)
		n := 0
		touch := func(t *testing.T) {
			n++
			var out any
			e.must(t, e.coordinator, updateMeetingDoc, vars("in", vars("id", probe.CreateMeeting.Meeting.ID,
				"description", fmt.Sprintf("Aggiornamento %d", n))), &out)
		}
		ws := wsSubscribe(t, e.srv, e.member, "1", `subscription { territoryMeetings(territory: "EN") {
			kind meeting { id title status cancelReason startsAtLocal focusGroup { theme { code } } } } }`, nil)
		if m := ws.readDuring(t, touch); m.Type != "next" || !strings.Contains(string(m.Payload), `"kind":"CHANGED"`) {
			t.Fatalf("first event %s", ws.raw)
		}
		// next reads the next event about a meeting other than the probe.
		type event struct {
			Kind    string
			Meeting struct {
				ID, Title, Status, StartsAtLocal string
				CancelReason                     *string
				FocusGroup                       struct{ Theme struct{ Code string } }
			}
		}
		next := func() event {
			t.Helper()
			for {
				r := ws.result("1")
				var data struct{ TerritoryMeetings event }
				if err := json.Unmarshal(r.Data, &data); err != nil || len(r.Errors) > 0 {
					t.Fatalf("event %s: %v", ws.raw, err)
				}
				if data.TerritoryMeetings.Meeting.ID != probe.CreateMeeting.Meeting.ID {
					return data.TerritoryMeetings
				}
			}
		}
		var created struct {
			CreateMeeting struct{ Meeting struct{ ID string } }
		}
		e.must(t, e.coordinator, createMeetingDoc, vars("in", vars("focusGroup", e.focus["HEALTH"], "title", "Salute",
			"startsAt", "2027-03-02T10:00:00+01:00", "endsAt", "2027-03-02T12:00:00+01:00", "mode", "IN_PERSON",
			"venue", "Sala Cerere, Enna", "private", true)), &created)
		id := created.CreateMeeting.Meeting.ID
		ev := next()
		if ev.Kind != "CREATED" || ev.Meeting.ID != id || ev.Meeting.Status != "PLANNED" ||
			ev.Meeting.StartsAtLocal != "2027-03-02T10:00:00+01:00" || ev.Meeting.FocusGroup.Theme.Code != "HEALTH" {
			t.Errorf("first event %+v; want CREATED", ev)
		}
		var out any
		e.must(t, e.coordinator, meetingStatusDoc, vars("in", vars("id", id, "status", "CANCELLED", "reason", "Sala inagibile")), &out)
		ev = next()
		if ev.Kind != "CANCELLED" || ev.Meeting.ID != id || ev.Meeting.Status != "CANCELLED" ||
			ev.Meeting.CancelReason == nil || *ev.Meeting.CancelReason != "Sala inagibile" {
			t.Errorf("second event %+v; want CANCELLED", ev)
		}
		ws.send(wsMessage{Type: "complete", ID: "1"})

		// Palermo's coordinator may not follow Enna; an unknown territory is bad input.
		for _, c := range []struct{ token, territory, code string }{
			{e.outsider, "EN", "FORBIDDEN"}, {e.member, "XX", "BAD_USER_INPUT"}, {"", "EN", "UNAUTHENTICATED"},
		} {
			ws := wsSubscribe(t, e.srv, c.token, "1", `subscription ($t: String!) { territoryMeetings(territory: $t) { kind } }`,
				vars("t", c.territory))
			if errs := messageErrors(t, ws.read()); len(errs) != 1 || errs[0].code() != c.code {
				t.Errorf("%s on %s: %s; want %s", c.token, c.territory, ws.raw, c.code)
			}
		}
	})
}

// TestMeetingsStatementCount: a page of meetings with their focus groups
// (and the focus groups' facilitators), facilitators, territories and
// themes runs as many statements for 10 meetings as for 2.
func TestMeetingsStatementCount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		ctx := access.WithActor(context.Background(), e.actor)
		person := func(name string) string {
			p, err := e.r.Network.CreatePerson(ctx, network.PersonInput{DisplayName: name})
			if err != nil {
				t.Fatal(err)
			}
			return gid("Person", p.ID)
		}
		// Every focus group of Enna and Palermo has a facilitator; each
		// meeting has another of its own.
		var fgs struct{ FocusGroups []struct{ ID string } }
		e.must(t, e.admin, `{ focusGroups { id } }`, nil, &fgs)
		if len(fgs.FocusGroups) != 8 {
			t.Fatalf("%d focus groups; want Enna's and Palermo's 8", len(fgs.FocusGroups))
		}
		for i, fg := range fgs.FocusGroups {
			var out any
			e.must(t, e.admin, `mutation ($in: SetFocusGroupFacilitatorInput!) { setFocusGroupFacilitator(input: $in) { focusGroup { id } } }`,
				vars("in", vars("focusGroup", fg.ID, "facilitator", person(fmt.Sprintf("Facilitatore %d", i)))), &out)
		}
		for i := range 10 {
			fg := fgs.FocusGroups[i%len(fgs.FocusGroups)].ID
			start := time.Date(2027, 1, 4+i, 10, 0, 0, 0, time.UTC)
			var out any
			e.must(t, e.admin, createMeetingDoc, vars("in", vars("focusGroup", fg, "title", fmt.Sprintf("Incontro %d", i),
				"startsAt", start.Format(time.RFC3339), "endsAt", start.Add(time.Hour).Format(time.RFC3339), "mode", "ONLINE",
				"onlineUrl", "https://meet.example.org/x", "facilitator", person(fmt.Sprintf("Conduttore %d", i)))), &out)
		}
		const query = `query ($n: Int!) { meetings(first: $n) { edges { node { title startsAtLocal
			facilitator { displayName } territory { code } theme { code } workingGroup { name }
			focusGroup { theme { code } facilitator { displayName } } } } } }`
		type page struct {
			Meetings struct {
				Edges []struct {
					Node struct {
						Title       string
						Facilitator *struct{ DisplayName string }
						Territory   struct{ Code string }
						FocusGroup  struct {
							Facilitator *struct{ DisplayName string }
						}
					}
				}
			}
		}
		counter := storage.CountStatements(db)
		run := func(n int) (int64, page) {
			var p page
			counter.Reset()
			e.must(t, e.admin, query, vars("n", n), &p)
			return counter.Count(), p
		}
		run(1) // the session's first use
		small, two := run(2)
		large, ten := run(10)
		if len(two.Meetings.Edges) != 2 || len(ten.Meetings.Edges) != 10 {
			t.Fatalf("pages of %d and %d meetings; want 2 and 10", len(two.Meetings.Edges), len(ten.Meetings.Edges))
		}
		for _, edge := range ten.Meetings.Edges {
			n := edge.Node
			if n.Facilitator == nil || n.FocusGroup.Facilitator == nil || n.Territory.Code == "" {
				t.Fatalf("meeting %+v; want its facilitator, its focus group's and its territory", n)
			}
		}
		t.Logf("%d statements for 2 meetings, %d for 10", small, large)
		if small != large {
			t.Errorf("%d statements for 2 meetings, %d for 10: related objects are not batched", small, large)
		}
	})
}
