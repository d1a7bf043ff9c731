package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/server"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// calendarEnv serves the calendar routes through internal/server, as piad
// mounts them, over Enna's working group and its focus groups.
type calendarEnv struct {
	base   string
	db     *bun.DB
	logs   *logBuffer
	token  string        // the administrator's session
	admin  *access.Actor // who the token is
	meets  *meeting.Service
	terr   int64 // Enna
	group  int64
	health int64 // Enna's health focus group
	work   int64 // Enna's work focus group
}

func newCalendarEnv(t *testing.T, db *bun.DB) *calendarEnv {
	t.Helper()
	ctx := context.Background()
	r := newResolver(t, db)
	r.Meetings = meeting.NewService(db, meeting.Options{PublicURL: "http://pia.test"})
	e := &calendarEnv{db: db, logs: &logBuffer{}, meets: r.Meetings}
	o := defaultOptions()
	o.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Auth = r.Accounts
	srv := server.New(server.Options{Logger: o.Logger, GraphQL: graph.NewHandler(r, o), Calendar: graph.CalendarHandler(r, o),
		Health: r.Health})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e.base = hs.URL

	if _, _, err := r.Accounts.EnsureAdmin(ctx, adminEmail, adminPassword, false); err != nil {
		t.Fatal(err)
	}
	in, err := r.Accounts.SignIn(access.WithClient(ctx, access.Client{Addr: "127.0.0.1"}), adminEmail, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	e.token = in.Token
	if e.admin, _, err = r.Accounts.Authenticate(ctx, e.token); err != nil {
		t.Fatal(err)
	}
	g, err := r.Network.CreateWorkingGroup(access.WithActor(ctx, e.admin), network.WorkingGroupInput{Territory: "EN"})
	if err != nil {
		t.Fatal(err)
	}
	e.group, e.terr = g.ID, g.TerritoryID
	var fgs []meeting.FocusGroup
	if err := db.NewSelect().Model(&fgs).Where("working_group_id = ?", g.ID).Order("theme_id").Scan(ctx); err != nil || len(fgs) != 4 {
		t.Fatalf("focus groups %+v: %v", fgs, err)
	}
	e.health, e.work = fgs[0].ID, fgs[1].ID
	return e
}

// meeting inserts a meeting of focus group fg starting in days days.
func (e *calendarEnv) meeting(t *testing.T, fg int64, days int, private bool) *meeting.Meeting {
	t.Helper()
	var themeID int64
	if err := e.db.NewSelect().Table("focus_groups").Column("theme_id").Where("id = ?", fg).Scan(context.Background(), &themeID); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	start := now.Truncate(time.Hour).AddDate(0, 0, days)
	m := &meeting.Meeting{FocusGroupID: fg, WorkingGroupID: e.group, TerritoryID: e.terr, ThemeID: themeID,
		Title: "Incontro " + strconv.Itoa(days), Agenda: []string{}, Services: []meeting.Offer{},
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), Mode: meeting.InPerson, Venue: "Municipio di Enna",
		Private: private, Status: meeting.Planned, Sequence: days, CreatedAt: now, UpdatedAt: now}
	if _, err := e.db.NewInsert().Model(m).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// get fetches path with token (none when empty).
func (e *calendarEnv) get(t *testing.T, token, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// uids fetches a calendar, checks it is one, and returns its events' UIDs
// with their SEQUENCE and start.
func (e *calendarEnv) uids(t *testing.T, token, path string) []string {
	t.Helper()
	res, body := e.get(t, token, path)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET %s: %d %s\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(body))).Decode()
	if err != nil {
		t.Fatalf("GET %s: not a calendar: %v\n%s", path, err, body)
	}
	var out []string
	for _, ev := range cal.Events() {
		uid, _ := ev.Props.Text(ical.PropUID)
		seq, _ := ev.Props.Get(ical.PropSequence).Int()
		start, err := ev.DateTimeStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, uid+" "+strconv.Itoa(seq)+" "+start.UTC().Format(time.RFC3339))
	}
	return out
}

func want(ms ...*meeting.Meeting) []string {
	var out []string
	for _, m := range ms {
		out = append(out, "meeting-"+strconv.FormatInt(m.ID, 10)+"@pia.test "+strconv.Itoa(m.Sequence)+" "+m.StartsAt.UTC().Format(time.RFC3339))
	}
	return out
}

func TestCalendarRoutes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newCalendarEnv(t, db)
		ctx := access.WithActor(context.Background(), e.admin)
		later := e.meeting(t, e.health, 9, false)
		soon := e.meeting(t, e.work, 2, false)
		private := e.meeting(t, e.health, 5, true)
		now := time.Now().UTC()
		inv := &meeting.Invitation{MeetingID: private.ID, PersonID: e.admin.PersonID, Status: meeting.Accepted, CreatedAt: now, UpdatedAt: now}
		if _, err := db.NewInsert().Model(inv).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		feedToken, err := e.meets.CreateCalendarToken(ctx)
		if err != nil {
			t.Fatal(err)
		}

		for path, w := range map[string][]string{
			"/calendar/EN.ics": want(soon, later),
			"/calendar/en.ics": want(soon, later),
			"/calendar/PA.ics": nil,
			"/calendar/focus-groups/" + gid("FocusGroup", e.health) + ".ics": want(later),
			"/calendar/focus-groups/" + gid("FocusGroup", e.work) + ".ics":   want(soon),
			"/calendar/personal/" + feedToken + ".ics":                       want(private),
		} {
			if got := e.uids(t, "", path); strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Errorf("GET %s:\n got %q\nwant %q", path, got, w)
			}
		}
		// A stale token does not keep a public feed from its reader.
		if got := e.uids(t, "not-a-token", "/calendar/EN.ics"); len(got) != 2 {
			t.Errorf("the feed with a stale token: %q", got)
		}
		path := "/meetings/" + gid("Meeting", private.ID) + ".ics"
		if got := e.uids(t, e.token, path); strings.Join(got, "") != strings.Join(want(private), "") {
			t.Errorf("GET %s: %q", path, got)
		}
		res, _ := e.get(t, e.token, path)
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="`+gid("Meeting", private.ID)+`.ics"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
			t.Errorf("a private meeting's Cache-Control %q", cc)
		}

		// A client polling an unchanged feed gets 304; a HEAD gets no body.
		res, _ = e.get(t, "", "/calendar/EN.ics")
		etag := res.Header.Get("ETag")
		if etag == "" || !strings.HasPrefix(res.Header.Get("Cache-Control"), "public") {
			t.Fatalf("ETag %q, Cache-Control %q", etag, res.Header.Get("Cache-Control"))
		}
		if res, body := e.get(t, "", "/calendar/EN.ics", "If-None-Match", etag); res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match: %d, %d bytes", res.StatusCode, len(body))
		}
		req, _ := http.NewRequest(http.MethodHead, e.base+"/calendar/EN.ics", nil)
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("HEAD: %v %v", res, err)
		} else {
			res.Body.Close()
		}

		if _, err := e.meets.RevokeCalendarTokens(ctx); err != nil {
			t.Fatal(err)
		}
		refusals := []struct {
			name, token, path string
			status            int
			code              string
		}{
			{"a territory code of three letters", "", "/calendar/ENN.ics", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"an unknown territory", "", "/calendar/ZZ.ics", http.StatusNotFound, "NOT_FOUND"},
			{"no .ics", "", "/calendar/EN", http.StatusNotFound, "NOT_FOUND"},
			{"another extension", "", "/calendar/EN.ical", http.StatusNotFound, "NOT_FOUND"},
			{"only .ics", "", "/calendar/.ics", http.StatusNotFound, "NOT_FOUND"},
			{"a deeper path", "", "/calendar/focus-groups/a/b.ics", http.StatusNotFound, "NOT_FOUND"},
			{"a focus group id of another type", "", "/calendar/focus-groups/" + gid("Meeting", later.ID) + ".ics", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"a malformed focus group id", "", "/calendar/focus-groups/12.ics", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"an unknown focus group", "", "/calendar/focus-groups/" + gid("FocusGroup", 999999) + ".ics", http.StatusNotFound, "NOT_FOUND"},
			{"a revoked token", "", "/calendar/personal/" + feedToken + ".ics", http.StatusNotFound, "NOT_FOUND"},
			{"a malformed token", "", "/calendar/personal/abc.ics", http.StatusNotFound, "NOT_FOUND"},
			{"a meeting without a session", "", path, http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"a meeting with a stale token", "not-a-token", path, http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"a meeting id of another type", e.token, "/meetings/" + gid("FocusGroup", e.health) + ".ics", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"an unknown meeting", e.token, "/meetings/" + gid("Meeting", 999999) + ".ics", http.StatusNotFound, "NOT_FOUND"},
			{"a meeting without .ics", e.token, "/meetings/" + gid("Meeting", private.ID), http.StatusNotFound, "NOT_FOUND"},
		}
		for _, c := range refusals {
			res, body := e.get(t, c.token, c.path)
			var r gqlResponse
			if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) != 1 {
				t.Errorf("%s: %d %s; want a JSON error", c.name, res.StatusCode, body)
				continue
			}
			if res.StatusCode != c.status || r.Errors[0].code() != c.code {
				t.Errorf("%s: %d %s; want %d %s", c.name, res.StatusCode, r.Errors[0].code(), c.status, c.code)
			}
		}
		// The request log does not show a personal feed's token.
		if strings.Contains(e.logs.String(), feedToken) || !strings.Contains(e.logs.String(), "path=/calendar/personal/…") {
			t.Errorf("the log shows the feed's token, or no request to it")
		}
	})
}
