package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/otclient"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// TestServeWiresCalendars: the server piad runs serves a territory's feed
// of the meetings of the focus groups its working group got when it was
// made, to anyone, and one meeting to a signed-in reader; a meeting's
// register, beside it under /meetings/, to a signed-in reader too.
func TestServeWiresCalendars(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := coeditEnv(databaseURL)
		env["PIA_DATA_DIR"] = t.TempDir()
		env["PIA_PUBLIC_URL"] = "https://pia.example.org"
		base, stop, _ := startServer(t, env)
		defer func() {
			if err := stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		}()
		ctx := context.Background()
		token, err := otclient.SignIn(ctx, base, coeditAdminEmail, coeditAdminPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := otclient.PostGraphQL(ctx, base, token, `mutation { createWorkingGroup(input: {territory: "EN"}) { id } }`, nil, nil); err != nil {
			t.Fatalf("createWorkingGroup: %v", err)
		}

		// Meetings are put in the database as planning would.
		db, err := storage.Open(ctx, storage.Options{URL: databaseURL, DataDir: env["PIA_DATA_DIR"]})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var fg meeting.FocusGroup
		if err := db.NewSelect().Model(&fg).Join("JOIN territories AS t ON t.id = fg.territory_id").
			Where("t.code = ?", "EN").Order("fg.theme_id").Limit(1).Scan(ctx); err != nil {
			t.Fatalf("Enna's focus groups: %v", err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		var ms []*meeting.Meeting
		for i, private := range []bool{false, true, false} {
			start := now.Truncate(time.Hour).AddDate(0, 0, 3+i)
			m := &meeting.Meeting{FocusGroupID: fg.ID, WorkingGroupID: fg.WorkingGroupID, TerritoryID: fg.TerritoryID, ThemeID: fg.ThemeID,
				Title: "Incontro " + strconv.Itoa(i), Agenda: []string{}, Services: []meeting.Offer{}, StartsAt: start,
				EndsAt: start.Add(90 * time.Minute), Mode: meeting.InPerson, Venue: "Enna", Private: private,
				Status: meeting.Confirmed, Sequence: i, CreatedAt: now, UpdatedAt: now}
			if _, err := db.NewInsert().Model(m).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}

		get := func(token, path string) (*http.Response, []ical.Event) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				return resp, nil
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", path, ct)
			}
			cal, err := ical.NewDecoder(strings.NewReader(string(body))).Decode()
			if err != nil {
				t.Fatalf("GET %s: not a calendar: %v\n%s", path, err, body)
			}
			return resp, cal.Events()
		}
		check := func(path string, evs []ical.Event, want ...*meeting.Meeting) {
			t.Helper()
			if len(evs) != len(want) {
				t.Fatalf("GET %s: %d events, want %d", path, len(evs), len(want))
			}
			for i, ev := range evs {
				uid, _ := ev.Props.Text(ical.PropUID)
				seq, _ := ev.Props.Get(ical.PropSequence).Int()
				start, _ := ev.DateTimeStart(nil)
				end, _ := ev.DateTimeEnd(nil)
				m := want[i]
				if uid != "meeting-"+strconv.FormatInt(m.ID, 10)+"@pia.example.org" || seq != m.Sequence ||
					!start.Equal(m.StartsAt) || !end.Equal(m.EndsAt) {
					t.Errorf("GET %s: event %d is %s %d %v-%v, want meeting %d", path, i, uid, seq, start, end, m.ID)
				}
			}
		}

		resp, evs := get("", "/calendar/EN.ics")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /calendar/EN.ics: %d", resp.StatusCode)
		}
		check("/calendar/EN.ics", evs, ms[0], ms[2])
		path := "/calendar/focus-groups/" + relay.ID("FocusGroup", fg.ID) + ".ics"
		_, evs = get("", path)
		check(path, evs, ms[0], ms[2])
		path = "/meetings/" + relay.ID("Meeting", ms[1].ID) + ".ics"
		_, evs = get(token, path)
		check(path, evs, ms[1])
		if resp, _ := get("", path); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d", path, resp.StatusCode)
		}
		if resp, _ := get("", "/calendar/ENNA.ics"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /calendar/ENNA.ics: %d", resp.StatusCode)
		}

		register := func(token string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, base+"/meetings/"+relay.ID("Meeting", ms[0].ID)+"/register.csv", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}
		resp, body := register(token)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(body, "\ufeffNome;Ospite;") {
			t.Errorf("GET the register: %d %s: %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp, _ := register(""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET the register without a session: %d", resp.StatusCode)
		}
	})
}
