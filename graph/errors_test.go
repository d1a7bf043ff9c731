package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

const nodeQuery = `query ($id: ID!) { node(id: $id) { typename: __typename id ... on Territory { code name } ... on Theme { themeCode: code labelEn } } }`

func TestNode(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())

		t.Run("round trip", func(t *testing.T) {
			var list struct {
				Territories []struct{ ID, Code, Name string }
				Themes      []struct{ ID, Code, LabelEn string }
			}
			srv.query(t, `{ territories { id code name } themes { id code labelEn } }`, nil, &list)
			if len(list.Territories) != 9 || len(list.Themes) != 4 {
				t.Fatalf("%d territories and %d themes", len(list.Territories), len(list.Themes))
			}
			ids := map[string]bool{}
			for _, tr := range list.Territories {
				ids[tr.ID] = true
				var got struct {
					Node struct{ Typename, ID, Code, Name string }
				}
				srv.query(t, nodeQuery, map[string]any{"id": tr.ID}, &got)
				if got.Node.Typename != "Territory" || got.Node.ID != tr.ID || got.Node.Code != tr.Code || got.Node.Name != tr.Name {
					t.Errorf("node(%q) = %+v, want territory %s", tr.ID, got.Node, tr.Code)
				}
			}
			for _, th := range list.Themes {
				ids[th.ID] = true
				var got struct {
					Node struct{ Typename, ID, ThemeCode, LabelEn string }
				}
				srv.query(t, nodeQuery, map[string]any{"id": th.ID}, &got)
				if got.Node.Typename != "Theme" || got.Node.ID != th.ID || got.Node.ThemeCode != th.Code || got.Node.LabelEn != th.LabelEn {
					t.Errorf("node(%q) = %+v, want theme %s", th.ID, got.Node, th.Code)
				}
			}
			if len(ids) != 13 {
				t.Errorf("%d distinct ids for 13 objects", len(ids))
			}
		})

		t.Run("malformed id", func(t *testing.T) {
			for _, id := range []string{"not an id", "", "VGVycml0b3J5", relay.ID("Territory", 0), "!!!"} {
				r := srv.post(t, mediaGraphQLResponse, nodeQuery, map[string]any{"id": id})
				if r.Status != http.StatusOK {
					t.Errorf("node(%q): status %d; an error while executing is 200", id, r.Status)
				}
				e := onlyError(t, r)
				if e.code() != "BAD_USER_INPUT" || e.Extensions["field"] != "id" {
					t.Errorf("node(%q): extensions %v, want BAD_USER_INPUT on field id", id, e.Extensions)
				}
				if len(e.Path) != 1 || e.Path[0] != "node" {
					t.Errorf("node(%q): path %v", id, e.Path)
				}
				if string(r.Resp.Data) != `{"node":null}` {
					t.Errorf("node(%q): data %s", id, r.Resp.Data)
				}
			}
		})

		t.Run("unknown", func(t *testing.T) {
			for _, id := range []string{relay.ID("Meeting", 1), relay.ID("Territory", 999999), relay.ID("Theme", 999999)} {
				r := srv.post(t, mediaGraphQLResponse, nodeQuery, map[string]any{"id": id})
				if r.Status != http.StatusOK || len(r.Resp.Errors) > 0 || string(r.Resp.Data) != `{"node":null}` {
					t.Errorf("node(%q): status %d, body %s; want null without errors", id, r.Status, r.Body)
				}
			}
		})
	})
}

func TestTerritoryByCode(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())
		const q = `query ($c: String!) { territory(code: $c) { code name istatCode } }`
		for code, want := range map[string]string{
			"EN": `{"territory":{"code":"EN","name":"Enna","istatCode":"086"}}`,
			"en": `{"territory":{"code":"EN","name":"Enna","istatCode":"086"}}`,
			"PA": `{"territory":{"code":"PA","name":"Palermo","istatCode":"282"}}`,
			"XX": `{"territory":null}`,
		} {
			r := srv.post(t, mediaGraphQLResponse, q, map[string]any{"c": code})
			if r.Status != http.StatusOK || len(r.Resp.Errors) > 0 || string(r.Resp.Data) != want {
				t.Errorf("territory(%q): status %d, body %s; want data %s", code, r.Status, r.Body, want)
			}
		}
		for _, code := range []string{"E1", "", "ENN", "É"} {
			r := srv.post(t, mediaGraphQLResponse, q, map[string]any{"c": code})
			e := onlyError(t, r)
			if r.Status != http.StatusOK || e.code() != "BAD_USER_INPUT" || e.Extensions["field"] != "code" {
				t.Errorf("territory(%q): status %d, body %s; want BAD_USER_INPUT on field code", code, r.Status, r.Body)
			}
			if string(r.Resp.Data) != `{"territory":null}` {
				t.Errorf("territory(%q): data %s", code, r.Resp.Data)
			}
		}
	})
}

// TestInternalErrorsAreHidden breaks the resolvers for real: a closed
// database fails every query, and a resolver without its service panics.
// The client learns "internal error"; the log learns the cause.
func TestInternalErrorsAreHidden(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())
		_ = db.Close()
		r := srv.post(t, mediaGraphQLResponse, `{ territories { code } }`, nil)
		e := onlyError(t, r)
		if r.Status != http.StatusOK || e.code() != "INTERNAL" || e.Message != "internal error" {
			t.Errorf("status %d, body %s; want 200 with INTERNAL \"internal error\"", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "closed") {
			t.Errorf("the body tells the cause: %s", r.Body)
		}
		if logs := srv.Logs.String(); !strings.Contains(logs, "closed") {
			t.Errorf("the log does not tell the cause:\n%s", logs)
		}
	})

	t.Run("panic", func(t *testing.T) {
		srv := serveResolver(t, &graph.Resolver{}, defaultOptions()) // no Reference: a nil dereference
		r := srv.post(t, mediaJSON, `{ themes { code } }`, nil)
		e := onlyError(t, r)
		if r.Status != http.StatusOK || e.code() != "INTERNAL" || e.Message != "internal error" {
			t.Errorf("status %d, body %s; want 200 with INTERNAL \"internal error\"", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "nil pointer") {
			t.Errorf("the body tells the cause: %s", r.Body)
		}
		if logs := srv.Logs.String(); !strings.Contains(logs, "nil pointer dereference") || !strings.Contains(logs, "Themes") {
			t.Errorf("the log lacks the panic and its stack:\n%s", logs)
		}
	})
}

// present runs graph's ErrorPresenter on err, returning the error as a
// client would read it and the log.
func present(t *testing.T, err error) (gqlError, string) {
	t.Helper()
	logs := &logBuffer{}
	presented := graph.ErrorPresenter(slog.New(slog.NewJSONHandler(logs, nil)))(context.Background(), err)
	b, jerr := json.Marshal(presented)
	if jerr != nil {
		t.Fatal(jerr)
	}
	var e gqlError
	if jerr := json.Unmarshal(b, &e); jerr != nil {
		t.Fatal(jerr)
	}
	checkErrors(t, []gqlError{e})
	return e, logs.String()
}

func TestErrorPresenter(t *testing.T) {
	const secret = "password=hunter2"
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantMsg    string
		wantField  string
		wantReason string
		wantLog    bool
	}{
		{
			name: "plain Go error", err: fmt.Errorf("dial db: %s", secret),
			wantCode: "INTERNAL", wantMsg: "internal error", wantLog: true,
		},
		{
			name: "plain error on a path", err: gqlerror.WrapPath(ast.Path{ast.PathName("territories")}, errors.New(secret)),
			wantCode: "INTERNAL", wantMsg: "internal error", wantLog: true,
		},
		{
			name: "internal application error", err: apperr.Wrap("reference.Territories", errors.New(secret)),
			wantCode: "INTERNAL", wantMsg: "internal error", wantLog: true,
		},
		{
			name: "invalid input", err: apperr.Invalid("op", "code", "a code is two letters"),
			wantCode: "BAD_USER_INPUT", wantMsg: "a code is two letters", wantField: "code",
		},
		{
			name: "wrapped conflict", err: fmt.Errorf("save: %w", apperr.E(apperr.Conflict, "op", "already there")),
			wantCode: "CONFLICT", wantMsg: "already there",
		},
		{
			name: "not found without a message", err: &apperr.Error{Kind: apperr.NotFound, Op: "op", Err: errors.New(secret)},
			wantCode: "NOT_FOUND", wantMsg: "not found",
		},
		{
			name: "each kind keeps its code", err: apperr.E(apperr.RateLimited, "op", "slow down"),
			wantCode: "RATE_LIMITED", wantMsg: "slow down",
		},
		{
			name: "validation failure", err: &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}},
			wantCode: "BAD_USER_INPUT", wantMsg: "Cannot query field", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "variable failure on the variable's path", err: &gqlerror.Error{Message: "must be defined", Path: ast.Path{ast.PathName("variable"), ast.PathName("id")}, Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}},
			wantCode: "BAD_USER_INPUT", wantMsg: "must be defined", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "variable failure inside an input names the field", err: &gqlerror.Error{Message: "SPORT is not a valid ThemeCode",
				Path:       ast.Path{ast.PathName("variable"), ast.PathName("in"), ast.PathName("meetings"), ast.PathIndex(0), ast.PathName("theme")},
				Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}},
			wantCode: "BAD_USER_INPUT", wantMsg: "SPORT is not a valid ThemeCode", wantField: "theme", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "limit refusal keeps its reason", err: &gqlerror.Error{Message: "too deep", Extensions: map[string]any{"code": "BAD_USER_INPUT", "reason": "DEPTH_LIMIT_EXCEEDED"}},
			wantCode: "BAD_USER_INPUT", wantMsg: "too deep", wantReason: "DEPTH_LIMIT_EXCEEDED",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logs := present(t, tt.err)
			if e.code() != tt.wantCode || e.Message != tt.wantMsg {
				t.Errorf("got %s %q, want %s %q", e.code(), e.Message, tt.wantCode, tt.wantMsg)
			}
			if f, _ := e.Extensions["field"].(string); f != tt.wantField {
				t.Errorf("extensions.field %q, want %q", f, tt.wantField)
			}
			if e.reason() != tt.wantReason {
				t.Errorf("extensions.reason %q, want %q", e.reason(), tt.wantReason)
			}
			if b, _ := json.Marshal(e); strings.Contains(string(b), "hunter2") {
				t.Errorf("the client sees the secret: %s", b)
			}
			if tt.wantLog != strings.Contains(logs, "hunter2") {
				t.Errorf("logged %v, want %v: %s", !tt.wantLog, tt.wantLog, logs)
			}
		})
	}
}

// TestErrorPresenterConflicts: a schedule conflict lists the meetings it
// clashes with in extensions.conflicts, wrapped or not.
func TestErrorPresenterConflicts(t *testing.T) {
	start := time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)
	ce := &meeting.ConflictError{
		Err: (&apperr.Error{Kind: apperr.Conflict, Op: "meeting.PlanRound", Field: "startsAt", Message: "this meeting overlaps others"}).
			WithReason("SCHEDULE_CONFLICT"),
		Conflicts: []meeting.Conflict{
			{Kind: meeting.SameVenue, MeetingID: 7, Index: -1, Title: "Salute", StartsAt: start, EndsAt: start.Add(2 * time.Hour)},
			{Kind: meeting.SameWorkingGroup, Index: 0, Title: "Lavoro", StartsAt: start, EndsAt: start.Add(time.Hour)},
		},
	}
	e, _ := present(t, fmt.Errorf("plan: %w", ce))
	if e.code() != "CONFLICT" || e.reason() != "SCHEDULE_CONFLICT" || e.Extensions["field"] != "startsAt" || e.Message != "this meeting overlaps others" {
		t.Errorf("presented %+v", e)
	}
	got, _ := json.Marshal(e.Extensions["conflicts"])
	want := `[{"endsAt":"2026-03-29T10:00:00Z","endsAtLocal":"2026-03-29T12:00:00+02:00","index":null,"kind":"VENUE",` +
		`"meeting":"` + relay.ID("Meeting", 7) + `","startsAt":"2026-03-29T08:00:00Z","startsAtLocal":"2026-03-29T10:00:00+02:00","title":"Salute"},` +
		`{"endsAt":"2026-03-29T09:00:00Z","endsAtLocal":"2026-03-29T11:00:00+02:00","index":0,"kind":"WORKING_GROUP",` +
		`"meeting":null,"startsAt":"2026-03-29T08:00:00Z","startsAtLocal":"2026-03-29T10:00:00+02:00","title":"Lavoro"}]`
	if string(got) != want {
		t.Errorf("extensions.conflicts\n%s\nwant\n%s", got, want)
	}
	// Other conflicts carry no list.
	if e, _ := present(t, apperr.E(apperr.Conflict, "op", "already there")); e.Extensions["conflicts"] != nil {
		t.Errorf("a plain conflict lists conflicts: %+v", e)
	}
}

func TestRecoverFunc(t *testing.T) {
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	err := graph.RecoverFunc(logger)(context.Background(), "panic with password=hunter2")
	if err == nil {
		t.Fatal("RecoverFunc returned nil")
	}
	presented := graph.ErrorPresenter(logger)(context.Background(), err)
	b, _ := json.Marshal(presented)
	var e gqlError
	_ = json.Unmarshal(b, &e)
	if e.code() != "INTERNAL" || e.Message != "internal error" || strings.Contains(string(b), "hunter2") {
		t.Errorf("presented as %s; want INTERNAL \"internal error\" without the panic value", b)
	}
	if l := logs.String(); !strings.Contains(l, "hunter2") || !strings.Contains(l, "goroutine") {
		t.Errorf("the log lacks the panic value or the stack:\n%s", l)
	}
}

// gqlgen resolves root fields concurrently; the bounded pool makes a query
// of hundreds of aliased root fields wait for connections instead of
// exhausting the database's.
func TestManyRootFieldsShareThePool(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())
		var b strings.Builder
		b.WriteString("{ ")
		for i := range 400 {
			fmt.Fprintf(&b, "t%d: themes { code } ", i)
		}
		b.WriteString("}")
		var data map[string][]struct{ Code string }
		srv.query(t, b.String(), nil, &data)
		if len(data) != 400 || len(data["t399"]) != 4 || data["t399"][0].Code != "HEALTH" {
			t.Fatalf("%d fields answered; t399 = %v", len(data), data["t399"])
		}
	})
}
