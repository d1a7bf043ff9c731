package graph_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// TestTrackingOverGraphQL: the overview has its 36 cells with their
// territory and theme, and a territory's code is checked as the service
// checks it. The figures themselves are package tracking's tests.
func TestTrackingOverGraphQL(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		srv := newServer(t, db, defaultOptions())
		admin := srv.adminToken(t)
		var ov struct {
			RegionalOverview struct {
				Cells []struct {
					Territory struct{ Code string }
					Theme     struct{ Code string }
					Meetings  struct{ Held int }
				}
			}
		}
		authQuery(t, srv, admin, `{ regionalOverview { cells { territory { code } theme { code } meetings { held } } } }`, nil, &ov)
		seen := map[string]bool{}
		for _, c := range ov.RegionalOverview.Cells {
			seen[c.Territory.Code+"/"+c.Theme.Code] = true
		}
		if len(ov.RegionalOverview.Cells) != 36 || len(seen) != 36 {
			t.Errorf("%d cells, %d distinct, want 36", len(ov.RegionalOverview.Cells), len(seen))
		}
		var p struct {
			TerritoryProgress struct {
				Territory struct{ Code string }
				HasGroup  bool
			}
		}
		authQuery(t, srv, admin, `{ territoryProgress(territory: "en") { territory { code } hasGroup } }`, nil, &p)
		if p.TerritoryProgress.Territory.Code != "EN" || p.TerritoryProgress.HasGroup {
			t.Errorf("progress of EN with no working group: %+v", p.TerritoryProgress)
		}
		for code, want := range map[string]string{"E1": "BAD_USER_INPUT", "ZZ": "NOT_FOUND"} {
			r := authPost(t, srv, authBearer(admin), `query ($t: String!) { territoryProgress(territory: $t) { hasGroup } }`, map[string]any{"t": code})
			if got := onlyError(t, r).code(); got != want {
				t.Errorf("territoryProgress(%q): %s, want %s", code, got, want)
			}
		}
		r := authPost(t, srv, nil, `{ regionalOverview { at } }`, nil)
		if got := onlyError(t, r).code(); got != "UNAUTHENTICATED" {
			t.Errorf("anonymous overview: %s", got)
		}
	})
}

// figuresDoc follows a territory's figures.
const figuresDoc = `subscription ($t: String!) { territoryFigures(territory: $t) { territory { code } at
	cells { theme { code } meetings { planned held } attendance { people invited } sections { count edits30Days } } } }`

type figuresData struct {
	TerritoryFigures struct {
		Territory struct{ Code string }
		At        string
		Cells     []struct {
			Theme      struct{ Code string }
			Meetings   struct{ Planned, Held int }
			Attendance struct{ People, Invited int }
			Sections   struct{ Count, Edits30Days int }
		}
	}
}

// healthOf returns the HEALTH cell's meetings, attendance and sections.
func (f figuresData) health(t *testing.T) (planned, held, people, edits int) {
	t.Helper()
	for _, c := range f.TerritoryFigures.Cells {
		if c.Theme.Code == "HEALTH" {
			return c.Meetings.Planned, c.Meetings.Held, c.Attendance.People, c.Sections.Edits30Days
		}
	}
	t.Fatalf("no HEALTH cell in %+v", f)
	return
}

// nextFigures reads the next figures of subscription id within a generous
// wait (updates come a debounce after a change; a loaded machine is slow).
func nextFigures(t *testing.T, c *wsClient, id string) figuresData {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := c.next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for figures: %v", err)
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			c.send(wsMessage{Type: "pong"})
			continue
		}
		var r gqlResponse
		if m.Type != "next" || m.ID != id || json.Unmarshal(m.Payload, &r) != nil || len(r.Errors) > 0 {
			t.Fatalf("got %s; want figures for %s", c.raw, id)
		}
		var f figuresData
		if err := json.Unmarshal(r.Data, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// TestTerritoryFiguresSubscription: a dashboard following Enna's figures
// over the websocket gets them at once, and sees an edit of Enna's
// document and a meeting closed (its register, then HELD) as they happen;
// Palermo's document does not move it. Refusals are those of
// territoryProgress.
func TestTerritoryFiguresSubscription(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clock := testutil.NewClock(time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC))
		e := newMeetEnvAt(t, db, clock)
		var created struct {
			CreateMeeting struct{ Meeting struct{ ID string } }
		}
		e.must(t, e.coordinator, createMeetingDoc, vars("in", vars("focusGroup", e.focus["HEALTH"], "title", "Salute",
			"startsAt", "2026-05-04T08:00:00Z", "endsAt", "2026-05-04T10:00:00Z", "mode", "IN_PERSON", "venue", "Sala Cerere, Enna")), &created)
		meetingID := created.CreateMeeting.Meeting.ID
		docIn := func(group string) map[string]any {
			return vars("in", vars("workingGroupId", gid("WorkingGroup", e.groups[group]), "title", "Linee guida",
				"sections", []any{vars("title", "Salute", "body", "Testo", "theme", "HEALTH")}))
		}
		var enDoc, paDoc struct{ CreateDocument docData }
		e.must(t, e.admin, `mutation ($in: CreateDocumentInput!) { createDocument(input: $in) { `+docFields+` } }`, docIn("EN"), &enDoc)
		e.must(t, e.admin, `mutation ($in: CreateDocumentInput!) { createDocument(input: $in) { `+docFields+` } }`, docIn("PA"), &paDoc)

		// Palermo's coordinator follows Enna: the figures come at once.
		ws := wsSubscribe(t, e.srv, e.outsider, "1", figuresDoc, vars("t", "en"))
		f := nextFigures(t, ws, "1")
		if planned, held, people, edits := f.health(t); f.TerritoryFigures.Territory.Code != "EN" || len(f.TerritoryFigures.Cells) != 4 ||
			planned != 1 || held != 0 || people != 0 || edits != 0 || f.TerritoryFigures.At == "" {
			t.Fatalf("first figures %+v", f)
		}

		// Palermo's document is edited, then Enna's: the first update
		// shows Enna's edit (one made for Palermo's alone would not).
		pa, en := paDoc.CreateDocument.Sections[0], enDoc.CreateDocument.Sections[0]
		e.edit(t, e.outsider, pa.ID, pa.Version, []any{5, "!"}, "pa", 1)
		e.edit(t, e.member, en.ID, en.Version, []any{5, "!"}, "en", 1)
		if _, _, _, edits := nextFigures(t, ws, "1").health(t); edits != 1 {
			t.Fatalf("the first update shows %d edits; want Enna's one", edits)
		}
		// The meeting is closed: the member is registered and it is
		// marked held.
		advanceTo(clock, time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC))
		member := personID(t, e.meID(t, e.member))
		var out any
		e.must(t, e.coordinator, registerAttendanceDoc, vars("in", vars("meeting", meetingID, "person", gid("Person", member), "mode", "IN_PERSON")), &out)
		e.must(t, e.coordinator, meetingStatusDoc, vars("in", vars("id", meetingID, "status", "HELD")), &out)
		for {
			f = nextFigures(t, ws, "1")
			if planned, held, people, edits := f.health(t); held == 1 && people == 1 {
				if planned != 0 || edits != 1 {
					t.Errorf("once held: %+v", f)
				}
				break
			}
		}
		ws.send(wsMessage{Type: "complete", ID: "1"})

		nobody := e.account(t, "nessuno@pia.test", "Nessun Ruolo")
		for _, c := range []struct{ who, token, territory, code string }{
			{"anonymous", "", "EN", "UNAUTHENTICATED"}, {"no role", nobody, "EN", "FORBIDDEN"},
			{"a malformed code", e.member, "E1", "BAD_USER_INPUT"}, {"an unknown code", e.member, "ZZ", "NOT_FOUND"},
		} {
			ws := wsSubscribe(t, e.srv, c.token, "1", figuresDoc, vars("t", c.territory))
			if errs := messageErrors(t, ws.read()); len(errs) != 1 || errs[0].code() != c.code {
				t.Errorf("%s on %s: %s; want %s", c.who, c.territory, ws.raw, c.code)
			}
		}
	})
}
