package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/health"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/testutil"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// Media types a client asks for and gets back.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

// codes is every extensions.code the API promises.
var codes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "NOT_FOUND": true, "BAD_USER_INPUT": true,
	"CONFLICT": true, "RATE_LIMITED": true, "INTERNAL": true, "RESUBSCRIBE": true,
}

// logBuffer collects a server's log.
type logBuffer = testutil.LogBuffer

// testServer is the GraphQL handler served over real HTTP at /graphql.
type testServer struct {
	URL  string // http://127.0.0.1:port/graphql
	Base string // http://127.0.0.1:port
	WS   string // ws://127.0.0.1:port/graphql
	Host string // 127.0.0.1:port
	Logs *logBuffer

	handler  http.Handler
	accounts *account.Service
	// token is an administrator's session token, made by adminToken.
	tokenOnce sync.Once
	token     string
	// lastLength is the Content-Length of the last request to reach the
	// server (-1 when it came chunked), so a test can tell how a body travelled.
	lastLength atomic.Int64
}

// defaultOptions are the server's protections, with timers short enough for tests.
func defaultOptions() graph.Options {
	return graph.Options{
		Dev:             true,
		MaxBodyBytes:    2 << 20,
		MaxDepth:        12,
		MaxComplexity:   5000,
		MaxTokens:       5000,
		MaxRepeats:      50,
		MaxFieldPairs:   100_000,
		DefaultPageSize: 20,
		WSInitTimeout:   2 * time.Second,
		WSPingInterval:  time.Minute,
	}
}

// liveDebounce is the live figures' debounce in tests.
const liveDebounce = 50 * time.Millisecond

// newResolver is the resolver cmd/piad builds, on db, reporting version "test":
// territory roles come from the network's working groups, each of which gets
// its focus groups when it is created. Its co-editing service, with opts
// applied to its options, runs until the test ends.
func newResolver(t testing.TB, db *bun.DB, opts ...func(*coedit.Options)) *graph.Resolver {
	t.Helper()
	roles := &lateRoles{}
	accounts, err := account.NewService(db, account.Options{PublicURL: "http://pia.test", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	net := network.NewService(db, network.Options{Accounts: accounts, GroupCreated: meeting.CreateFocusGroups})
	roles.RoleSource = net
	o := coedit.Options{People: directoryPeople{accounts, net}, PublicURL: "http://pia.test"}
	for _, f := range opts {
		f(&o)
	}
	docs := coedit.NewService(db, o)
	if err := docs.Start(context.Background()); err != nil {
		t.Fatalf("start the co-editing service: %v", err)
	}
	t.Cleanup(docs.Close)
	meetings := meeting.NewService(db, meeting.Options{PublicURL: "http://pia.test"})
	// The live figures follow both hubs, with a short debounce.
	figures := tracking.NewService(db, tracking.Options{Meetings: meetings, Documents: docs, Debounce: liveDebounce})
	t.Cleanup(figures.Close)
	return &graph.Resolver{Reference: reference.NewService(db), Health: health.NewChecker(db, "test", time.Now),
		Accounts: accounts, Network: net, Coedit: docs, Meetings: meetings, Tracking: figures,
		Activity:  activity.NewService(db),
		PublicURL: "http://pia.test"}
}

// directoryPeople is what cmd/piad gives the co-editing service: the
// directory's people, read as an administrator that is nobody's person.
type directoryPeople struct {
	accounts *account.Service
	net      *network.Service
}

var systemCtx = access.WithActor(context.Background(), &access.Actor{PersonID: -1, GlobalRoles: []access.GlobalRole{access.Admin}})

func (p directoryPeople) Contacts(_ context.Context, ids []int64) (map[int64]coedit.Contact, error) {
	people, err := p.net.PeopleByID(systemCtx, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]coedit.Contact{}
	for id, person := range people {
		c := coedit.Contact{Name: person.DisplayName, Language: person.Language}
		if person.Email != nil {
			c.Email = *person.Email
		}
		out[id] = c
	}
	return out, nil
}

func (p directoryPeople) Readers(_ context.Context, ids []int64) (map[int64]*access.Actor, error) {
	people, err := p.net.PeopleByID(systemCtx, ids)
	if err != nil {
		return nil, err
	}
	roles, err := p.accounts.GlobalRolesOf(systemCtx, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]*access.Actor{}
	for id, person := range people {
		if person.ArchivedAt != nil || person.ErasedAt != nil {
			continue
		}
		territories, err := p.net.TerritoryRoles(systemCtx, id)
		if err != nil {
			return nil, err
		}
		out[id] = &access.Actor{PersonID: id, GlobalRoles: roles[id], Territories: territories}
	}
	return out, nil
}

// lateRoles lets the account service ask the network service, built after
// it, for territory roles, as cmd/piad does.
type lateRoles struct{ access.RoleSource }

// The administrator adminToken signs in as.
const (
	adminEmail    = "admin@pia.test"
	adminPassword = "a long enough password"
)

// adminToken returns a session token of the server's administrator, created
// on first use.
func (s *testServer) adminToken(t testing.TB) string {
	t.Helper()
	s.tokenOnce.Do(func() {
		ctx := context.Background()
		if _, _, err := s.accounts.EnsureAdmin(ctx, adminEmail, adminPassword, false); err != nil {
			t.Fatalf("first administrator: %v", err)
		}
		in, err := s.accounts.SignIn(access.WithClient(ctx, access.Client{Addr: "127.0.0.1"}), adminEmail, adminPassword)
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		s.token = in.Token
	})
	if s.token == "" {
		t.Fatal("no administrator token")
	}
	return s.token
}

// newServer serves graph.NewHandler(newResolver(db), o) on a local port until
// the test ends. A nil Logger in o is replaced by one writing to Logs.
func newServer(t testing.TB, db *bun.DB, o graph.Options) *testServer {
	t.Helper()
	return serveResolver(t, newResolver(t, db), o)
}

func serveResolver(t testing.TB, r *graph.Resolver, o graph.Options) *testServer {
	t.Helper()
	logs := &logBuffer{}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Auth == nil && r.Accounts != nil {
		o.Auth = r.Accounts
	}
	s := &testServer{Logs: logs, handler: graph.NewHandler(r, o), accounts: r.Accounts}
	mux := http.NewServeMux()
	mux.Handle("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.lastLength.Store(r.ContentLength)
		s.handler.ServeHTTP(w, r)
	}))
	mux.Handle("GET /documents/{id}/export", graph.ExportHandler(r, o))
	// The meetings' routes as internal/server mounts them: the calendars'
	// /meetings/{file} beside the register's file.
	calendar := graph.CalendarHandler(r, o)
	mux.Handle("GET /calendar/", calendar)
	mux.Handle("GET /meetings/{file}", calendar)
	register := graph.RegisterHandler(r, o)
	mux.Handle("GET /meetings/{id}/register.csv", register)
	mux.Handle("GET /meetings/{id}/register.xlsx", register)
	reports := graph.ReportHandler(r, o)
	mux.Handle("GET /reports/participation.csv", reports)
	mux.Handle("GET /reports/participation.xlsx", reports)
	mux.Handle("GET /reports/overview.csv", reports)
	mux.Handle("GET /reports/overview.xlsx", reports)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	u, _ := url.Parse(hs.URL)
	s.URL, s.Base = hs.URL+"/graphql", hs.URL
	s.WS = "ws://" + u.Host + "/graphql"
	s.Host = u.Host
	return s
}

// gqlResponse is a GraphQL response as a client decodes it.
type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string   { s, _ := e.Extensions["code"].(string); return s }
func (e gqlError) reason() string { s, _ := e.Extensions["reason"].(string); return s }

// httpResult is what a client sees of one HTTP exchange.
type httpResult struct {
	Status int
	Header http.Header
	Body   []byte
	Resp   gqlResponse
}

// media is the response's media type without parameters.
func (r httpResult) media() string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}

// do sends req and decodes the answer, checking what holds for every answer:
// a GraphQL media type, a JSON body, and an extensions.code from the
// promised set on every error.
func do(t testing.TB, req *http.Request) httpResult {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := httpResult{Status: res.StatusCode, Header: res.Header, Body: body}
	if m := r.media(); m != mediaJSON && m != mediaGraphQLResponse {
		t.Fatalf("Content-Type %q, want a GraphQL media type; body %s", res.Header.Get("Content-Type"), body)
	}
	if err := json.Unmarshal(body, &r.Resp); err != nil {
		t.Fatalf("body is not a GraphQL response: %v: %s", err, body)
	}
	checkErrors(t, r.Resp.Errors)
	return r
}

// checkErrors fails unless every error has an extensions.code from the set.
func checkErrors(t testing.TB, errs []gqlError) {
	t.Helper()
	for _, e := range errs {
		if !codes[e.code()] {
			t.Errorf("error %q has extensions.code %q, want one of UNAUTHENTICATED FORBIDDEN NOT_FOUND BAD_USER_INPUT CONFLICT RATE_LIMITED INTERNAL", e.Message, e.Extensions["code"])
		}
	}
}

// post sends a GraphQL POST with Content-Type application/json and the given Accept.
func (s *testServer) post(t testing.TB, accept, query string, vars map[string]any) httpResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return do(t, req)
}

// query POSTs query asking for application/graphql-response+json and
// decodes data into out when it is not nil; it fails on any error.
func (s *testServer) query(t testing.TB, query string, vars map[string]any, out any) {
	t.Helper()
	r := s.post(t, mediaGraphQLResponse, query, vars)
	if r.Status != http.StatusOK || len(r.Resp.Errors) > 0 {
		t.Fatalf("%s: status %d, body %s", query, r.Status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Resp.Data, out); err != nil {
			t.Fatalf("data %s: %v", r.Resp.Data, err)
		}
	}
}

// onlyError returns the one error of r, failing when there is not exactly one.
func onlyError(t testing.TB, r httpResult) gqlError {
	t.Helper()
	if len(r.Resp.Errors) != 1 {
		t.Fatalf("want one error, got %d: %s", len(r.Resp.Errors), r.Body)
	}
	return r.Resp.Errors[0]
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
