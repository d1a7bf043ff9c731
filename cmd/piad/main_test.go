package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// logBuffer collects what run writes to stderr.
type logBuffer = testutil.LogBuffer

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// testEnv is what every test server runs with, overridden by env: a free
// port on loopback, its own data directory, JSON logs, short timeouts.
func testEnv(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	full := map[string]string{
		"PIA_ADDR":             "127.0.0.1:0",
		"PIA_DATA_DIR":         t.TempDir(),
		"PIA_ENV":              "dev",
		"PIA_LOG_FORMAT":       "json",
		"PIA_WS_INIT_TIMEOUT":  "2s",
		"PIA_SHUTDOWN_TIMEOUT": "5s",
	}
	for k, v := range env {
		full[k] = v
	}
	return full
}

const startTimeout = 20 * time.Second

// startServer runs `piad serve` in process with env (over testEnv) and
// returns once it listens. stop cancels run's context and returns what run
// returned; it is also called when the test ends.
func startServer(t *testing.T, env map[string]string) (baseURL string, stop func() error, logs *logBuffer) {
	t.Helper()
	full := testEnv(t, env)
	logs = &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = run(ctx, []string{"serve"}, getenv(full), io.Discard, logs)
	}()

	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case <-done:
				stopErr = runErr
			case <-time.After(15 * time.Second):
				stopErr = errors.New("run still running 15s after its context was cancelled")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	})

	deadline := time.After(startTimeout)
	for {
		if e, ok := logs.Find("listening"); ok {
			addr, _ := e["addr"].(string)
			if addr == "" {
				t.Fatalf("listening without an addr: %v", e)
			}
			return "http://" + addr, stop, logs
		}
		select {
		case <-done:
			t.Fatalf("run returned before listening: %v\nlogs:\n%s", runErr, logs)
		case <-deadline:
			t.Fatalf("not listening after %v; logs:\n%s", startTimeout, logs)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// forEachEngine runs fn as the subtests "sqlite" (databaseURL empty) and
// "postgres" (a URL to a fresh schema of the test's own).
func forEachEngine(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	for _, engine := range storagetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			var url string
			if engine == storage.Postgres {
				url = storagetest.NewPostgresSchema(t)
			}
			fn(t, url)
		})
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(b)
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// graphql POSTs query to /graphql the way the README's curl does.
func graphql(t *testing.T, baseURL, query string) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := httpClient.Post(baseURL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("POST /graphql answered %d with a body that is not JSON: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, r
}

type referenceData struct {
	Territories []struct{ ID, Code, Name string } `json:"territories"`
	Themes      []struct{ ID, Code string }       `json:"themes"`
}

const referenceQuery = `{ territories { id code name } themes { id code } }`

func fetchReference(t *testing.T, baseURL string) referenceData {
	t.Helper()
	status, r := graphql(t, baseURL, referenceQuery)
	if status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("reference query: %d %+v", status, r.Errors)
	}
	var d referenceData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func checkReference(t *testing.T, d referenceData) {
	t.Helper()
	var got []string
	for _, tr := range d.Territories {
		got = append(got, tr.Code+" "+tr.Name)
		if tr.ID == "" {
			t.Errorf("territory %s has no id", tr.Code)
		}
	}
	want := "AG Agrigento, CL Caltanissetta, CT Catania, EN Enna, ME Messina, PA Palermo, RG Ragusa, SR Siracusa, TP Trapani"
	if strings.Join(got, ", ") != want {
		t.Errorf("territories:\n got %s\nwant %s", strings.Join(got, ", "), want)
	}
	got = got[:0]
	for _, th := range d.Themes {
		got = append(got, th.Code)
	}
	if strings.Join(got, " ") != "HEALTH EDUCATION WORK HOUSING" {
		t.Errorf("themes: %v, want HEALTH EDUCATION WORK HOUSING", got)
	}
}

// firstAdminToken signs in, through GraphQL, as the administrator that a
// first start in dev creates, with the password it logged: what the README
// tells a newcomer to do.
func firstAdminToken(t *testing.T, baseURL string, logs *logBuffer) string {
	t.Helper()
	e, ok := logs.Find("first administrator created with a generated password, shown only this once: sign in and keep it safe")
	if !ok {
		t.Fatalf("no generated administrator password in the log:\n%s", logs)
	}
	email, _ := e["email"].(string)
	password, _ := e["password"].(string)
	q, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: SignInInput!) { signIn(input: $in) { token person { displayName globalRoles } } }`,
		"variables": map[string]any{"in": map[string]string{"email": email, "password": password}},
	})
	resp, err := httpClient.Post(baseURL+"/graphql", "application/json", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			SignIn struct {
				Token  string
				Person struct{ GlobalRoles []string }
			}
		}
		Errors []gqlError
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 || r.Data.SignIn.Token == "" {
		t.Fatalf("signIn as %s: %v %+v", email, err, r)
	}
	if roles := r.Data.SignIn.Person.GlobalRoles; len(roles) != 1 || roles[0] != "ADMIN" {
		t.Errorf("the first administrator has roles %v, want [ADMIN]", roles)
	}
	return r.Data.SignIn.Token
}
