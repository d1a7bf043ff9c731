package graph_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// newMeetEnvAt is newMeetEnv whose meeting service reads the time from
// clock, so that a test can let a meeting start. The tracking service is
// rebuilt on the same clock, following that meeting service.
func newMeetEnvAt(t *testing.T, db *bun.DB, clock *testutil.Clock) *meetEnv {
	t.Helper()
	r := newResolver(t, db)
	r.Meetings = meeting.NewService(db, meeting.Options{Now: clock.Now, PublicURL: "http://pia.test"})
	r.Tracking = tracking.NewService(db, tracking.Options{Now: clock.Now, Meetings: r.Meetings, Documents: r.Coedit, Debounce: liveDebounce})
	t.Cleanup(r.Tracking.Close)
	return meetEnvOn(t, r)
}

// advanceTo moves clock forward to at.
func advanceTo(clock *testutil.Clock, at time.Time) { clock.Advance(at.Sub(clock.Now())) }

// registerWrites is what a refused mutation of invitations, registers,
// minutes or calendar feeds must leave as it is: the rows of their tables
// and of queued mail, and every invitation's status and comment.
func registerWrites(t *testing.T, db *bun.DB) string {
	t.Helper()
	var invs []meeting.Invitation
	if err := db.NewSelect().Model(&invs).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, inv := range invs {
		fmt.Fprintf(&b, "%d %s %q; ", inv.ID, inv.Status, inv.Comment)
	}
	return fmt.Sprintf("%s; %d entries, %d minutes, %d sections linked, %d calendar tokens; invitations %s", writes(t, db),
		count(t, db, "meeting_attendance"), count(t, db, "meeting_minutes"), count(t, db, "meeting_minutes_sections"),
		count(t, db, "calendar_tokens"), b.String())
}

const (
	answerInvitationDoc = `mutation ($in: AnswerInvitationInput!) { answerInvitation(input: $in) { invitation {
		id status comment waitlistedAt respondedAt person { displayName } organization { name } } } }`
	registerAttendanceDoc = `mutation ($in: RegisterAttendanceInput!) { registerAttendance(input: $in) {
		entry { id person { displayName } guestName organization { name } checkedInAtLocal } meeting { registerTotals { total } } } }`
	setMinutesDoc = `mutation ($in: SetMeetingMinutesInput!) { setMeetingMinutes(input: $in) {
		minutes { body decisions sections { id } } } }`
	// territoryEventsDoc is what a subscriber of Enna's meetings shows of
	// each event: the counts and the minutes.
	territoryEventsDoc = `subscription { territoryMeetings(territory: "EN") { kind meeting { id status
		rsvpCounts { pending accepted declined waitlisted } registerTotals { total guests } minutes { decisions } } } }`
)

type invitationData struct {
	ID           string
	Status       string
	Comment      *string
	WaitlistedAt *string
	RespondedAt  *string
	Person       *struct{ DisplayName string }
	Organization *struct{ Name string }
}

type rsvpCounts struct{ Pending, Accepted, Declined, Waitlisted int }

// meetingEvent is one event of territoryEventsDoc.
type meetingEvent struct {
	Kind    string
	Meeting struct {
		ID             string
		Status         string
		RsvpCounts     rsvpCounts
		RegisterTotals *struct{ Total, Guests int }
		Minutes        *struct{ Decisions []string }
	}
}

type entryData struct {
	ID                string
	Person            *struct{ DisplayName string }
	GuestName         *string
	Organization      *struct{ Name, Kind string }
	GuestOrganization *string
	Mode              string
	CheckedInAt       string
	CheckedInAtLocal  string
	RecordedBy        *struct{ DisplayName string }
}

// TestMeetingRoundToRegister is the meetings issue's acceptance test,
// through the API on both engines: the four meetings of the Enna working
// group are planned in one mutation; invitations to the health meeting are
// answered by the invitees themselves, one waitlisted while the meeting is
// full and moved up when someone declines; once it has started, a person
// and a guest are registered, the meeting is closed as HELD and its
// minutes link a document section; the register downloaded over HTTP
// parses to the same rows as Meeting.register. A subscriber of Enna's
// meetings meanwhile sees the counts of each event as they are then, and a
// personal calendar address works until it is revoked.
func TestMeetingRoundToRegister(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clock := testutil.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		e := newMeetEnvAt(t, db, clock)
		ctx := access.WithActor(context.Background(), e.actor)

		// Anna represents an association of Enna, Bruno is a resident:
		// both have accounts but no role in the working group.
		anna := e.account(t, "anna@pia.test", "Anna Associazione")
		bruno := e.account(t, "bruno@pia.test", "Bruno Residente")
		ponti, err := e.r.Network.CreateOrganization(ctx, network.OrganizationInput{Name: "Associazione Ponti",
			Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{"EN"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.r.Network.AddAffiliation(ctx, network.AffiliationInput{PersonID: personID(t, e.meID(t, anna)),
			OrganizationID: ponti.ID, Role: network.Representative}); err != nil {
			t.Fatal(err)
		}

		// The round: at most two people per meeting; the health meeting
		// invites the member, Bruno and the association.
		round := e.ennaRound()
		round["template"].(map[string]any)["capacity"] = 2
		health := round["meetings"].([]any)[0].(map[string]any)
		health["invitePeople"] = []string{e.meID(t, e.member), e.meID(t, bruno)}
		health["inviteOrganizations"] = []string{gid("Organization", ponti.ID)}
		var plan struct {
			PlanThematicMeetings struct {
				Meetings []struct {
					ID         string
					Theme      struct{ Code string }
					RsvpCounts rsvpCounts
				}
			}
		}
		e.must(t, e.coordinator, `mutation ($in: PlanThematicMeetingsInput!) { planThematicMeetings(input: $in) {
			meetings { id theme { code } rsvpCounts { pending accepted declined waitlisted } } } }`, vars("in", round), &plan)
		ms := plan.PlanThematicMeetings.Meetings
		if len(ms) != 4 || ms[0].Theme.Code != "HEALTH" {
			t.Fatalf("planned %+v; want the four meetings, health first", ms)
		}
		healthID, housingID := ms[0].ID, ms[3].ID
		if c := ms[0].RsvpCounts; c != (rsvpCounts{Pending: 3}) {
			t.Errorf("the health meeting's answers once planned: %+v; want 3 pending", c)
		}

		// A subscriber of Enna's meetings: the housing meeting is touched
		// until the subscription answers, which says it is registered.
		ws := wsSubscribe(t, e.srv, e.coordinator, "1", territoryEventsDoc, nil)
		touches := 0
		touch := func(t *testing.T) {
			touches++
			var out any
			e.must(t, e.coordinator, updateMeetingDoc, vars("in", vars("id", housingID, "description", fmt.Sprintf("Nota %d", touches))), &out)
		}
		if m := ws.readDuring(t, touch); m.Type != "next" {
			t.Fatalf("first message %s", ws.raw)
		}
		// event reads the next event about the health meeting, which must
		// be of kind.
		event := func(kind string) meetingEvent {
			t.Helper()
			for {
				r := ws.result("1")
				var data struct{ TerritoryMeetings meetingEvent }
				if err := json.Unmarshal(r.Data, &data); err != nil || len(r.Errors) > 0 {
					t.Fatalf("event %s: %v", ws.raw, err)
				}
				if ev := data.TerritoryMeetings; ev.Meeting.ID == healthID {
					if ev.Kind != kind {
						t.Fatalf("event %+v; want %s", ev, kind)
					}
					return ev
				}
			}
		}

		// Answers, each by the invitee themselves.
		var mine struct {
			MyInvitations struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						invitationData
						Meeting struct{ ID string }
					}
				}
			}
		}
		const myInvitationsDoc = `{ myInvitations(filter: {statuses: [PENDING]}) { totalCount edges { node {
			id status organization { name } meeting { id } } } } }`
		e.must(t, anna, myInvitationsDoc, nil, &mine)
		if mine.MyInvitations.TotalCount != 1 || mine.MyInvitations.Edges[0].Node.Meeting.ID != healthID ||
			mine.MyInvitations.Edges[0].Node.Organization == nil || mine.MyInvitations.Edges[0].Node.Organization.Name != "Associazione Ponti" {
			t.Fatalf("Anna's invitations: %+v; want the health meeting's, on the association's behalf", mine.MyInvitations)
		}
		annaInv := mine.MyInvitations.Edges[0].Node.ID
		e.must(t, e.member, myInvitationsDoc, nil, &mine)
		if mine.MyInvitations.TotalCount != 1 || mine.MyInvitations.Edges[0].Node.Organization != nil {
			t.Fatalf("the member's invitations: %+v; want one, personal", mine.MyInvitations)
		}
		memberInv := mine.MyInvitations.Edges[0].Node.ID
		var bm struct {
			Node struct{ MyInvitation *invitationData }
		}
		e.must(t, bruno, `query ($id: ID!) { node(id: $id) { ... on Meeting { myInvitation { id status } } } }`, vars("id", healthID), &bm)
		if bm.Node.MyInvitation == nil || bm.Node.MyInvitation.Status != "PENDING" {
			t.Fatalf("Bruno's invitation: %+v", bm.Node.MyInvitation)
		}
		brunoInv := bm.Node.MyInvitation.ID

		answer := func(token, id, answer, comment string) invitationData {
			t.Helper()
			var out struct {
				AnswerInvitation struct{ Invitation invitationData }
			}
			e.must(t, token, answerInvitationDoc, vars("in", vars("id", id, "answer", answer, "comment", comment)), &out)
			return out.AnswerInvitation.Invitation
		}
		if inv := answer(bruno, brunoInv, "ACCEPTED", ""); inv.Status != "ACCEPTED" || inv.RespondedAt == nil || inv.Comment != nil {
			t.Errorf("Bruno accepts: %+v", inv)
		}
		if ev := event("RSVP"); ev.Meeting.RsvpCounts != (rsvpCounts{Pending: 2, Accepted: 1}) {
			t.Errorf("the first acceptance reaches the subscriber as %+v; want 1 accepted (it was 0)", ev.Meeting.RsvpCounts)
		}
		if inv := answer(anna, annaInv, "ACCEPTED", "Ci sarò con una collega"); inv.Status != "ACCEPTED" ||
			inv.Comment == nil || *inv.Comment != "Ci sarò con una collega" {
			t.Errorf("Anna accepts: %+v", inv)
		}
		if ev := event("RSVP"); ev.Meeting.RsvpCounts.Accepted != 2 {
			t.Errorf("after Anna: %+v", ev.Meeting.RsvpCounts)
		}
		// The meeting is full: the member waits.
		if inv := answer(e.member, memberInv, "ACCEPTED", ""); inv.Status != "WAITLISTED" || inv.WaitlistedAt == nil {
			t.Errorf("the member accepts a full meeting: %+v; want WAITLISTED", inv)
		}
		if ev := event("RSVP"); ev.Meeting.RsvpCounts != (rsvpCounts{Accepted: 2, Waitlisted: 1}) {
			t.Errorf("after the member: %+v", ev.Meeting.RsvpCounts)
		}
		// Bruno cannot come after all: the member moves up.
		if inv := answer(bruno, brunoInv, "DECLINED", "Impegno di lavoro"); inv.Status != "DECLINED" {
			t.Errorf("Bruno declines: %+v", inv)
		}
		if ev := event("RSVP"); ev.Meeting.RsvpCounts != (rsvpCounts{Accepted: 2, Declined: 1}) {
			t.Errorf("after Bruno declines: %+v; want the member accepted from the waiting list", ev.Meeting.RsvpCounts)
		}
		var node struct{ Node invitationData }
		e.must(t, e.member, `query ($id: ID!) { node(id: $id) { ... on Invitation { id status waitlistedAt } } }`, vars("id", memberInv), &node)
		if node.Node.Status != "ACCEPTED" || node.Node.WaitlistedAt != nil {
			t.Errorf("the member's invitation after Bruno declined: %+v; want ACCEPTED, off the list", node.Node)
		}
		const invitationsDoc = `query ($id: ID!) { node(id: $id) { ... on Meeting { invitations { id status person { displayName }
			organization { name } invitedBy { displayName } } } } }`
		var invs struct {
			Node struct{ Invitations []invitationData }
		}
		e.must(t, e.coordinator, invitationsDoc, vars("id", healthID), &invs)
		if len(invs.Node.Invitations) != 3 {
			t.Errorf("the coordinator sees %d invitations; want 3", len(invs.Node.Invitations))
		}
		e.must(t, e.outsider, invitationsDoc, vars("id", healthID), &invs)
		if len(invs.Node.Invitations) != 0 {
			t.Errorf("Palermo's coordinator sees invitations: %+v", invs.Node.Invitations)
		}

		// The meeting starts (10:00 in Rome); the coordinator registers
		// who came, a minute apart: the member, Anna (on the association's
		// behalf, from her invitation) and a guest online.
		advanceTo(clock, time.Date(2026, 3, 27, 9, 5, 0, 0, time.UTC))
		entries := []map[string]any{
			vars("meeting", healthID, "person", e.meID(t, e.member), "mode", "IN_PERSON"),
			vars("meeting", healthID, "person", e.meID(t, anna), "mode", "IN_PERSON"),
			vars("meeting", healthID, "guestName", "Fatima Haile", "guestOrganization", "Comunità eritrea di Enna", "mode", "ONLINE"),
		}
		for i, in := range entries {
			clock.Advance(time.Minute)
			var out struct {
				RegisterAttendance struct {
					Entry   entryData
					Meeting struct{ RegisterTotals struct{ Total int } }
				}
			}
			e.must(t, e.coordinator, registerAttendanceDoc, vars("in", in), &out)
			if out.RegisterAttendance.Meeting.RegisterTotals.Total != i+1 {
				t.Errorf("entry %d: totals %+v", i+1, out.RegisterAttendance.Meeting.RegisterTotals)
			}
			if ev := event("ATTENDANCE"); ev.Meeting.RegisterTotals == nil || ev.Meeting.RegisterTotals.Total != i+1 {
				t.Errorf("entry %d reaches the subscriber with totals %+v; want %d", i+1, ev.Meeting.RegisterTotals, i+1)
			}
		}

		// Closed, with minutes linking a section of Enna's guidelines.
		clock.Advance(2 * time.Hour)
		var out any
		e.must(t, e.coordinator, meetingStatusDoc, vars("in", vars("id", healthID, "status", "HELD")), &out)
		if ev := event("CHANGED"); ev.Meeting.Status != "HELD" {
			t.Errorf("closing reaches the subscriber as %+v", ev)
		}
		doc := e.newDoc(t, "Linee guida di Enna", "Accesso ai servizi sanitari")
		var minutes struct {
			SetMeetingMinutes struct {
				Minutes struct {
					Body      string
					Decisions []string
					Sections  []struct{ ID string }
				}
			}
		}
		body := "Si è discusso dell'**accesso** ai servizi.\n\n<script>alert(1)</script>\n"
		e.must(t, e.coordinator, setMinutesDoc, vars("in", vars("meeting", healthID, "body", body,
			"decisions", []string{"Mappare gli sportelli", "  ", "Rivedersi a maggio"}, "sections", []string{doc.Sections[0].ID})), &minutes)
		mm := minutes.SetMeetingMinutes.Minutes
		if len(mm.Decisions) != 2 || len(mm.Sections) != 1 || mm.Sections[0].ID != doc.Sections[0].ID {
			t.Errorf("minutes %+v", mm)
		}
		if ev := event("MINUTES"); ev.Meeting.Minutes == nil || len(ev.Meeting.Minutes.Decisions) != 2 {
			t.Errorf("the minutes reach the subscriber as %+v", ev.Meeting.Minutes)
		}
		ws.send(wsMessage{Type: "complete", ID: "1"})

		// The meeting as the coordinator reads it.
		const readDoc = `query ($id: ID!) { node(id: $id) { ... on Meeting { status
			register { id person { displayName } guestName organization { name kind } guestOrganization mode
				checkedInAt checkedInAtLocal recordedBy { displayName } }
			registerTotals { total inPerson online guests organizations byKind { kind count } bySector { sector count } }
			registerCsvUrl
			minutes { body bodyHtml decisions sections { id title } updatedBy { displayName } } } } }`
		type meetingRead struct {
			Node struct {
				Status         string
				Register       []entryData
				RegisterTotals *struct {
					Total, InPerson, Online, Guests, Organizations int
					ByKind                                         []struct {
						Kind  string
						Count int
					}
					BySector []struct {
						Sector string
						Count  int
					}
				}
				RegisterCsvURL *string
				Minutes        *struct {
					Body, BodyHTML string
					Decisions      []string
					Sections       []struct{ ID, Title string }
					UpdatedBy      *struct{ DisplayName string }
				}
			}
		}
		var read meetingRead
		e.must(t, e.coordinator, readDoc, vars("id", healthID), &read)
		n := read.Node
		if n.Status != "HELD" || len(n.Register) != 3 {
			t.Fatalf("the meeting: %+v", n)
		}
		if r := n.Register; r[0].Person == nil || r[0].Person.DisplayName != "Mario Membro" || r[0].Organization != nil ||
			r[1].Organization == nil || r[1].Organization.Name != "Associazione Ponti" || r[2].Person != nil ||
			r[2].GuestName == nil || *r[2].GuestName != "Fatima Haile" || r[2].Mode != "ONLINE" ||
			r[0].CheckedInAtLocal != "2026-03-27T10:06:00+01:00" || r[0].RecordedBy == nil || r[0].RecordedBy.DisplayName != "Carla Coordinatrice" {
			t.Errorf("the register: %+v", r)
		}
		if tt := n.RegisterTotals; tt == nil || tt.Total != 3 || tt.InPerson != 2 || tt.Online != 1 || tt.Guests != 1 || tt.Organizations != 1 ||
			len(tt.ByKind) != 1 || tt.ByKind[0].Kind != "ASSOCIATION" || len(tt.BySector) != 1 || tt.BySector[0].Count != 1 {
			t.Errorf("the totals: %+v", tt)
		}
		if m := n.Minutes; m == nil || !strings.HasPrefix(m.Body, "Si è discusso dell'**accesso**") ||
			!strings.Contains(m.BodyHTML, "<strong>accesso</strong>") || strings.Contains(m.BodyHTML, "<script") ||
			len(m.Sections) != 1 || m.Sections[0].Title != "Sezione 1" || m.UpdatedBy == nil {
			t.Errorf("the minutes: %+v", m)
		}
		if n.RegisterCsvURL == nil || *n.RegisterCsvURL != "http://pia.test/meetings/"+healthID+"/register.csv" {
			t.Fatalf("registerCsvUrl %v", n.RegisterCsvURL)
		}

		// Palermo's coordinator reads the meeting and its minutes, not its
		// register nor Enna's documents.
		var outside meetingRead
		e.must(t, e.outsider, readDoc, vars("id", healthID), &outside)
		if o := outside.Node; len(o.Register) != 0 || o.RegisterTotals != nil || o.RegisterCsvURL != nil || o.Minutes == nil ||
			len(o.Minutes.Sections) != 0 || len(o.Minutes.Decisions) != 2 {
			t.Errorf("Palermo's coordinator reads %+v", o)
		}

		// The register's file parses to the same rows.
		path := strings.TrimPrefix(*n.RegisterCsvURL, "http://pia.test")
		res, csvBody := download(t, e.srv.Base+path, e.coordinator)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="registro-`+healthID+`.csv"` {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, res.Header)
		}
		if !strings.HasPrefix(csvBody, "\ufeff") || !strings.Contains(csvBody, "\r\n") {
			t.Errorf("the file is not UTF-8 with a BOM and CRLF lines: %q", csvBody)
		}
		cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvBody, "\ufeff")))
		cr.Comma = ';'
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("the register does not parse: %v\n%s", err, csvBody)
		}
		want := [][]string{{"Nome", "Ospite", "Organizzazione", "Tipo di organizzazione", "Modalità",
			"Ora di registrazione (Europe/Rome)", "Registrato da"}}
		for _, en := range n.Register {
			name, guest, org, kind := "", "no", "", ""
			if en.Person != nil {
				name = en.Person.DisplayName
			} else {
				name, guest = *en.GuestName, "sì"
			}
			if en.Organization != nil {
				org, kind = en.Organization.Name, map[string]string{"ASSOCIATION": "Associazione"}[en.Organization.Kind]
			} else if en.GuestOrganization != nil {
				org = *en.GuestOrganization
			}
			at, err := time.Parse(time.RFC3339, en.CheckedInAt)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, []string{name, guest, org, kind, map[string]string{"IN_PERSON": "In presenza", "ONLINE": "Online"}[en.Mode],
				at.In(meeting.Rome).Format("02/01/2006 15:04"), en.RecordedBy.DisplayName})
		}
		if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) {
			t.Errorf("the register's file:\n%q\nMeeting.register:\n%q", rows, want)
		}
		// The workbook holds the same rows, the check-in as a date cell.
		xpath := strings.TrimSuffix(path, ".csv") + ".xlsx"
		res, xlsxBody := download(t, e.srv.Base+xpath, e.coordinator)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="registro-`+healthID+`.xlsx"` {
			t.Fatalf("GET %s: %d %v", xpath, res.StatusCode, res.Header)
		}
		wb, err := excelize.OpenReader(strings.NewReader(xlsxBody))
		if err != nil {
			t.Fatal(err)
		}
		xrows, err := wb.GetRows("Registro")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%q", xrows) != fmt.Sprintf("%q", want) {
			t.Errorf("the register's workbook:\n%q\nMeeting.register:\n%q", xrows, want)
		}
		if typ, _ := wb.GetCellType("Registro", "F2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("the check-in is text in the workbook")
		}
		_ = wb.Close()
		for _, p := range []string{path, xpath} {
			if res, _ := download(t, e.srv.Base+p, e.outsider); res.StatusCode != http.StatusForbidden {
				t.Errorf("Palermo's coordinator downloads %s: %d; want 403", p, res.StatusCode)
			}
		}
		if res, _ := download(t, e.srv.Base+path, ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("downloading the register without a session: %d; want 401", res.StatusCode)
		}

		// The theme's totals over the held meetings.
		var totals struct {
			ThemeTotals []struct {
				Theme                                                struct{ Code string }
				MeetingsHeld, Entries, People, Guests, Organizations int
			}
		}
		e.must(t, e.member, `{ themeTotals(territory: "EN") { theme { code } meetingsHeld entries people guests organizations } }`, nil, &totals)
		if tt := totals.ThemeTotals; len(tt) != 4 || tt[0].Theme.Code != "HEALTH" || tt[0].MeetingsHeld != 1 || tt[0].Entries != 3 ||
			tt[0].People != 2 || tt[0].Guests != 1 || tt[0].Organizations != 1 || tt[1].MeetingsHeld != 0 {
			t.Errorf("themeTotals %+v", tt)
		}

		// Calendars: the territory's and the focus group's addresses, and
		// the member's personal one until revoked.
		var cals struct {
			Territory struct{ CalendarURL string }
			Node      struct{ CalendarURL string }
		}
		e.must(t, e.member, `query ($fg: ID!) { territory(code: "EN") { calendarUrl } node(id: $fg) { ... on FocusGroup { calendarUrl } } }`,
			vars("fg", e.focus["HEALTH"]), &cals)
		if cals.Territory.CalendarURL != "http://pia.test/calendar/EN.ics" ||
			cals.Node.CalendarURL != "http://pia.test/calendar/focus-groups/"+e.focus["HEALTH"]+".ics" {
			t.Errorf("calendar addresses %+v", cals)
		}
		var feed struct{ CreateCalendarFeed struct{ Token, URL string } }
		e.must(t, e.member, `mutation { createCalendarFeed { token url } }`, nil, &feed)
		f := feed.CreateCalendarFeed
		if len(f.Token) != 43 || f.URL != "http://pia.test/calendar/personal/"+f.Token+".ics" {
			t.Fatalf("the feed %+v", f)
		}
		feedPath := e.srv.Base + strings.TrimPrefix(f.URL, "http://pia.test")
		if res, ics := download(t, feedPath, ""); res.StatusCode != http.StatusOK || !strings.Contains(ics, "SUMMARY:Focus group Salute") {
			t.Errorf("the member's calendar: %d\n%s", res.StatusCode, ics)
		}
		var revoked struct{ RevokeCalendarFeeds struct{ Revoked int } }
		e.must(t, e.member, `mutation { revokeCalendarFeeds { revoked } }`, nil, &revoked)
		if revoked.RevokeCalendarFeeds.Revoked != 1 {
			t.Errorf("revoked %d addresses; want 1", revoked.RevokeCalendarFeeds.Revoked)
		}
		if res, _ := download(t, feedPath, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("the revoked calendar: %d; want 404", res.StatusCode)
		}
	})
}

// download GETs url with Authorization: Bearer token (none when empty).
func download(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// TestMeetingRegisterBadInput: bad input to the mutations of invitations,
// registers, minutes and calendar feeds is BAD_USER_INPUT naming its field,
// or the service's CONFLICT with its reason, and changes nothing.
func TestMeetingRegisterBadInput(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clock := testutil.NewClock(time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC))
		e := newMeetEnvAt(t, db, clock)
		ctx := access.WithActor(context.Background(), e.actor)
		create := func(fg, start string, hours int) string {
			t.Helper()
			s, _ := time.Parse(time.RFC3339, start)
			var out struct {
				CreateMeeting struct{ Meeting struct{ ID string } }
			}
			e.must(t, e.coordinator, createMeetingDoc, vars("in", vars("focusGroup", e.focus[fg], "title", "Incontro "+fg,
				"startsAt", start, "endsAt", s.Add(time.Duration(hours)*time.Hour).Format(time.RFC3339), "mode", "IN_PERSON",
				"venue", "Sala Cerere, Enna")), &out)
			return out.CreateMeeting.Meeting.ID
		}
		past := create("HEALTH", "2026-05-04T08:00:00Z", 1) // under way once the clock moves
		future := create("WORK", "2026-05-06T08:00:00Z", 2) // days ahead
		person := func(name string) int64 {
			t.Helper()
			p, err := e.r.Network.CreatePerson(ctx, network.PersonInput{DisplayName: name})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		anna := e.account(t, "anna@pia.test", "Anna Associazione")
		annaID, brunoID, carloID := personID(t, e.meID(t, anna)), person("Bruno Delegato"), person("Carlo Nessuno")
		ponti, err := e.r.Network.CreateOrganization(ctx, network.OrganizationInput{Name: "Associazione Ponti",
			Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{"EN"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []struct {
			person int64
			role   network.AffiliationRole
		}{{annaID, network.Representative}, {brunoID, network.Staff}} {
			if _, err := e.r.Network.AddAffiliation(ctx, network.AffiliationInput{PersonID: a.person, OrganizationID: ponti.ID,
				Role: a.role}); err != nil {
				t.Fatal(err)
			}
		}
		invite := func(meetingID string, person int64, org *int64) string {
			t.Helper()
			in := vars("meeting", meetingID, "person", gid("Person", person))
			if org != nil {
				in["organization"] = gid("Organization", *org)
			}
			var out struct {
				InviteToMeeting struct{ Invitation struct{ ID string } }
			}
			e.must(t, e.coordinator, inviteDoc, vars("in", in), &out)
			return out.InviteToMeeting.Invitation.ID
		}
		member := personID(t, e.meID(t, e.member))
		memberFuture, memberPast := invite(future, member, nil), invite(past, member, nil)
		annaFuture := invite(future, annaID, &ponti.ID)
		var delegated struct {
			DelegateInvitation struct{ Delegate struct{ ID string } }
		}
		e.must(t, anna, delegateDoc, vars("in", vars("id", annaFuture, "delegate", gid("Person", brunoID))), &delegated)
		brunoFuture := delegated.DelegateInvitation.Delegate.ID

		// The past meeting starts; the member is registered and it is held.
		advanceTo(clock, time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC))
		var out any
		e.must(t, e.coordinator, registerAttendanceDoc, vars("in", vars("meeting", past, "person", gid("Person", member), "mode", "IN_PERSON")), &out)
		e.must(t, e.coordinator, meetingStatusDoc, vars("in", vars("id", past, "status", "HELD")), &out)
		var palermo struct{ CreateDocument docData }
		e.must(t, e.admin, `mutation ($in: CreateDocumentInput!) { createDocument(input: $in) { `+docFields+` } }`,
			vars("in", vars("workingGroupId", gid("WorkingGroup", e.groups["PA"]), "title", "Linee guida di Palermo",
				"sections", []any{vars("title", "Salute", "body", "Testo")})), &palermo)
		// The member holds as many calendar addresses as one may.
		memberActor, _, err := e.r.Accounts.Authenticate(context.Background(), e.member)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			if _, err := e.r.Meetings.CreateCalendarToken(access.WithActor(context.Background(), memberActor)); err != nil {
				t.Fatal(err)
			}
		}

		answer := func(id, answer string, comment string) map[string]any {
			return vars("in", vars("id", id, "answer", answer, "comment", comment))
		}
		entry := func(kv ...any) map[string]any {
			in := vars("meeting", past, "mode", "IN_PERSON")
			for k, v := range vars(kv...) {
				in[k] = v
			}
			return vars("in", in)
		}
		minutes := func(meetingID string, kv ...any) map[string]any {
			in := vars("meeting", meetingID, "body", "Verbale")
			for k, v := range vars(kv...) {
				in[k] = v
			}
			return vars("in", in)
		}
		long := func(n int) string { return strings.Repeat("a", n) }
		manyDecisions := make([]string, 101)
		for i := range manyDecisions {
			manyDecisions[i] = fmt.Sprintf("Decisione %d", i)
		}
		const removeDoc = `mutation ($in: RemoveAttendanceInput!) { removeAttendance(input: $in) { removedEntryId } }`
		cases := []struct {
			name, token, doc    string
			vars                map[string]any
			code, field, reason string
		}{
			{"an invitation id that is no id", e.member, answerInvitationDoc, answer("not-an-id", "ACCEPTED", ""), "BAD_USER_INPUT", "id", "INVALID_ID"},
			{"a meeting's id for an invitation", e.member, answerInvitationDoc, answer(future, "ACCEPTED", ""), "BAD_USER_INPUT", "id", "WRONG_ID_TYPE"},
			{"a state that is no answer", e.member, answerInvitationDoc, answer(memberFuture, "WAITLISTED", ""), "BAD_USER_INPUT", "answer", ""},
			{"a comment too long", e.member, answerInvitationDoc, answer(memberFuture, "ACCEPTED", long(1001)), "BAD_USER_INPUT", "comment", ""},
			{"a delegated invitation", anna, answerInvitationDoc, answer(annaFuture, "ACCEPTED", ""), "CONFLICT", "", "DELEGATED"},
			{"an invitation to a meeting under way", e.member, answerInvitationDoc, answer(memberPast, "DECLINED", ""), "CONFLICT", "", "MEETING_CLOSED"},

			{"an unknown person", e.coordinator, inviteDoc, vars("in", vars("meeting", future, "person", gid("Person", 999_999))), "BAD_USER_INPUT", "person", ""},
			{"an organization the person is not in", e.coordinator, inviteDoc, vars("in", vars("meeting", future,
				"person", gid("Person", carloID), "organization", gid("Organization", ponti.ID))), "BAD_USER_INPUT", "organization", ""},
			{"an organization id of another type", e.coordinator, inviteDoc, vars("in", vars("meeting", future,
				"person", gid("Person", carloID), "organization", gid("Person", carloID))), "BAD_USER_INPUT", "organization", "WRONG_ID_TYPE"},
			{"a person invited already", e.coordinator, inviteDoc, vars("in", vars("meeting", future, "person", gid("Person", member))), "CONFLICT", "", "ALREADY_INVITED"},
			{"a meeting under way", e.coordinator, inviteDoc, vars("in", vars("meeting", past, "person", gid("Person", carloID))), "CONFLICT", "", "MEETING_CLOSED"},

			{"the invitee as their own delegate", e.coordinator, delegateDoc, vars("in", vars("id", brunoFuture, "delegate", gid("Person", brunoID))), "BAD_USER_INPUT", "delegate", ""},
			{"a delegate outside the organization", e.coordinator, delegateDoc, vars("in", vars("id", brunoFuture, "delegate", gid("Person", carloID))), "BAD_USER_INPUT", "delegate", ""},
			{"a delegate id that is no id", e.coordinator, delegateDoc, vars("in", vars("id", brunoFuture, "delegate", "x")), "BAD_USER_INPUT", "delegate", "INVALID_ID"},
			{"a personal invitation", e.coordinator, delegateDoc, vars("in", vars("id", memberFuture, "delegate", gid("Person", brunoID))), "CONFLICT", "", "PERSONAL_INVITATION"},

			{"neither a person nor a guest", e.coordinator, registerAttendanceDoc, entry(), "BAD_USER_INPUT", "person", ""},
			{"a person and a guest", e.coordinator, registerAttendanceDoc, entry("person", gid("Person", carloID), "guestName", "Ospite"), "BAD_USER_INPUT", "guestName", ""},
			{"online at a meeting in person", e.coordinator, registerAttendanceDoc, entry("guestName", "Ospite", "mode", "ONLINE"), "BAD_USER_INPUT", "mode", ""},
			{"an unknown mode", e.coordinator, registerAttendanceDoc, entry("guestName", "Ospite", "mode", "BY_PHONE"), "BAD_USER_INPUT", "mode", ""},
			{"a guest's name too long", e.coordinator, registerAttendanceDoc, entry("guestName", long(201)), "BAD_USER_INPUT", "guestName", ""},
			{"a free-text organization for a person", e.coordinator, registerAttendanceDoc, entry("person", gid("Person", carloID),
				"guestOrganization", "Comitato"), "BAD_USER_INPUT", "guestOrganization", ""},
			{"an unknown organization", e.coordinator, registerAttendanceDoc, entry("guestName", "Ospite",
				"organization", gid("Organization", 999_999)), "BAD_USER_INPUT", "organization", ""},
			{"a check-in time that is not a time", e.coordinator, registerAttendanceDoc, entry("guestName", "Ospite",
				"checkedInAt", "ieri alle dieci"), "BAD_USER_INPUT", "checkedInAt", ""},
			{"a check-in years before the meeting", e.coordinator, registerAttendanceDoc, entry("guestName", "Ospite",
				"checkedInAt", "2020-01-01T10:00:00Z"), "BAD_USER_INPUT", "checkedInAt", ""},
			{"a meeting days ahead", e.coordinator, registerAttendanceDoc, vars("in", vars("meeting", future, "guestName", "Ospite",
				"mode", "IN_PERSON")), "CONFLICT", "", "NOT_STARTED"},
			{"a person registered already", e.coordinator, registerAttendanceDoc, entry("person", gid("Person", member)), "CONFLICT", "", "ALREADY_REGISTERED"},
			{"a meeting's id for an entry", e.coordinator, removeDoc, vars("in", vars("id", past)), "BAD_USER_INPUT", "id", "WRONG_ID_TYPE"},

			{"minutes too long", e.coordinator, setMinutesDoc, minutes(past, "body", long(100_001)), "BAD_USER_INPUT", "body", ""},
			{"too many decisions", e.coordinator, setMinutesDoc, minutes(past, "decisions", manyDecisions), "BAD_USER_INPUT", "decisions", ""},
			{"a section id that is no id", e.coordinator, setMinutesDoc, minutes(past, "sections", []string{"x"}), "BAD_USER_INPUT", "sections", "INVALID_ID"},
			{"a section of another territory", e.coordinator, setMinutesDoc, minutes(past, "sections",
				[]string{palermo.CreateDocument.Sections[0].ID}), "BAD_USER_INPUT", "sections", ""},
			{"minutes of a meeting not held", e.coordinator, setMinutesDoc, minutes(future), "CONFLICT", "", "NOT_HELD"},

			{"a twenty-first calendar address", e.member, `mutation { createCalendarFeed { token } }`, nil, "CONFLICT", "", ""},
			{"totals of an unknown territory", e.member, themeTotalsDoc, vars("t", "XX"), "BAD_USER_INPUT", "territory", ""},
			{"totals of a meeting for a working group", e.member, `query ($g: ID) { themeTotals(workingGroup: $g) { entries } }`,
				vars("g", past), "BAD_USER_INPUT", "workingGroup", "WRONG_ID_TYPE"},
			{"my invitations in an unknown state", e.member, `{ myInvitations(filter: {statuses: [LOST]}) { totalCount } }`, nil,
				"BAD_USER_INPUT", "", "GRAPHQL_VALIDATION_FAILED"},
		}
		before := registerWrites(t, db)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := authPost(t, e.srv, authBearer(c.token), c.doc, c.vars)
				er := onlyError(t, r)
				if f, _ := er.Extensions["field"].(string); er.code() != c.code || f != c.field || (c.reason != "" && er.reason() != c.reason) {
					t.Errorf("code %s, field %q, reason %q; want %s, %q, %q: %.300s", er.code(), f, er.reason(), c.code, c.field, c.reason, r.Body)
				}
			})
		}
		if after := registerWrites(t, db); after != before {
			t.Errorf("refused requests wrote:\n%s\nthen\n%s", before, after)
		}
	})
}

// TestMeetingRegistersStatementCount: a page of held meetings with their
// invitations (people, organizations), answers, registers (people,
// organizations), totals and minutes (sections) runs as many statements
// for 10 meetings as for 2. The people invited and those registered are
// different people, and so are their organizations: the same person
// reached by both paths at one depth may take a batch of each (see
// docs/architecture.md).
func TestMeetingRegistersStatementCount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		ctx := access.WithActor(context.Background(), e.actor)
		n := 0
		person := func() int64 {
			n++
			p, err := e.r.Network.CreatePerson(ctx, network.PersonInput{DisplayName: fmt.Sprintf("Persona %d", n)})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		organization := func(territory string) int64 {
			n++
			o, err := e.r.Network.CreateOrganization(ctx, network.OrganizationInput{Name: fmt.Sprintf("Organizzazione %d", n),
				Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{territory}})
			if err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		// Every focus group of Enna and Palermo invites two people and an
		// organization with its representative.
		var fgs struct {
			FocusGroups []struct {
				ID        string
				Territory struct{ Code string }
			}
		}
		e.must(t, e.admin, `{ focusGroups { id territory { code } } }`, nil, &fgs)
		if len(fgs.FocusGroups) != 8 {
			t.Fatalf("%d focus groups; want Enna's and Palermo's 8", len(fgs.FocusGroups))
		}
		for _, fg := range fgs.FocusGroups {
			org := organization(fg.Territory.Code)
			if _, err := e.r.Network.AddAffiliation(ctx, network.AffiliationInput{PersonID: person(), OrganizationID: org,
				Role: network.Representative}); err != nil {
				t.Fatal(err)
			}
			var out any
			e.must(t, e.admin, `mutation ($in: AddFocusGroupInviteesInput!) { addFocusGroupInvitees(input: $in) { added { id } } }`,
				vars("in", vars("focusGroup", fg.ID, "people", []string{gid("Person", person()), gid("Person", person())},
					"organizations", []string{gid("Organization", org)})), &out)
		}
		// Each territory's guidelines have a section per meeting.
		sections := map[string][]string{}
		for _, code := range []string{"EN", "PA"} {
			secs := make([]any, 10)
			for i := range secs {
				secs[i] = vars("title", fmt.Sprintf("Sezione %d", i+1), "body", "Testo")
			}
			var doc struct{ CreateDocument docData }
			e.must(t, e.admin, `mutation ($in: CreateDocumentInput!) { createDocument(input: $in) { `+docFields+` } }`,
				vars("in", vars("workingGroupId", gid("WorkingGroup", e.groups[code]), "title", "Linee guida "+code, "sections", secs)), &doc)
			for _, s := range doc.CreateDocument.Sections {
				sections[code] = append(sections[code], s.ID)
			}
		}
		// Ten meetings held over the last ten days, each with two people of
		// organizations of their own and a guest in its register, and
		// minutes linking a section.
		day := time.Now().UTC().Truncate(time.Hour)
		for i := range 10 {
			fg := fgs.FocusGroups[i%len(fgs.FocusGroups)]
			start := day.Add(-time.Duration(10-i) * 24 * time.Hour)
			var created struct {
				CreateMeeting struct{ Meeting struct{ ID string } }
			}
			e.must(t, e.admin, createMeetingDoc, vars("in", vars("focusGroup", fg.ID, "title", fmt.Sprintf("Incontro %d", i),
				"startsAt", start.Format(time.RFC3339), "endsAt", start.Add(time.Hour).Format(time.RFC3339), "mode", "HYBRID",
				"venue", "Sala", "onlineUrl", "https://meet.example.org/x")), &created)
			id := created.CreateMeeting.Meeting.ID
			var out any
			for _, in := range []map[string]any{
				vars("person", gid("Person", person()), "organization", gid("Organization", organization(fg.Territory.Code)), "mode", "IN_PERSON"),
				vars("person", gid("Person", person()), "organization", gid("Organization", organization(fg.Territory.Code)), "mode", "ONLINE"),
				vars("guestName", "Ospite", "guestOrganization", "Comitato di quartiere", "mode", "IN_PERSON"),
			} {
				in["meeting"] = id
				e.must(t, e.admin, registerAttendanceDoc, vars("in", in), &out)
			}
			e.must(t, e.admin, meetingStatusDoc, vars("in", vars("id", id, "status", "HELD")), &out)
			e.must(t, e.admin, setMinutesDoc, vars("in", vars("meeting", id, "body", "Verbale", "decisions", []string{"Si procede"},
				"sections", []string{sections[fg.Territory.Code][i]})), &out)
		}

		const query = `query ($n: Int!) { meetings(first: $n) { edges { node { title
			invitations { status person { displayName } organization { name } }
			rsvpCounts { pending accepted }
			register { guestName person { displayName } organization { name } }
			registerTotals { total byKind { kind count } }
			minutes { decisions sections { id title } } } } } }`
		type page struct {
			Meetings struct {
				Edges []struct {
					Node struct {
						Title       string
						Invitations []struct {
							Person       *struct{ DisplayName string }
							Organization *struct{ Name string }
						}
						RsvpCounts struct{ Pending int }
						Register   []struct {
							GuestName    *string
							Person       *struct{ DisplayName string }
							Organization *struct{ Name string }
						}
						RegisterTotals *struct{ Total int }
						Minutes        *struct {
							Sections []struct{ ID, Title string }
						}
					}
				}
			}
		}
		counter := storage.CountStatements(db)
		statements := map[int][]string{}
		run := func(n int) (int64, page) {
			var p page
			counter.Reset()
			e.must(t, e.admin, query, vars("n", n), &p)
			statements[n] = counter.Statements()
			return counter.Count(), p
		}
		run(1) // the session's first use
		small, two := run(2)
		large, ten := run(10)
		if len(two.Meetings.Edges) != 2 || len(ten.Meetings.Edges) != 10 {
			t.Fatalf("pages of %d and %d meetings; want 2 and 10", len(two.Meetings.Edges), len(ten.Meetings.Edges))
		}
		for _, edge := range ten.Meetings.Edges {
			m := edge.Node
			if len(m.Invitations) != 3 || m.Invitations[0].Person == nil || m.Invitations[2].Organization == nil || m.RsvpCounts.Pending != 3 ||
				len(m.Register) != 3 || m.Register[0].Person == nil || m.Register[0].Organization == nil || m.Register[2].GuestName == nil ||
				m.RegisterTotals == nil || m.RegisterTotals.Total != 3 || m.Minutes == nil || len(m.Minutes.Sections) != 1 {
				t.Fatalf("%s: %+v; want its invitations, answers, register, totals and minutes", m.Title, m)
			}
		}
		t.Logf("%d statements for 2 meetings, %d for 10", small, large)
		if small != large {
			t.Errorf("%d statements for 2 meetings, %d for 10: related objects are not batched\nfor 2:\n%s\nfor 10:\n%s",
				small, large, strings.Join(statements[2], "\n"), strings.Join(statements[10], "\n"))
		}
	})
}
