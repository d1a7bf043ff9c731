package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A newcomer's first `piad serve` on an empty data directory: it creates and
// migrates the database, serves GraphiQL and the reference data; a second
// start on the same database finds nothing to migrate and the same data.
func TestFirstRun(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		dataDir := filepath.Join(t.TempDir(), "data") // does not exist yet
		env := map[string]string{"PIA_DATA_DIR": dataDir, "PIA_DATABASE_URL": databaseURL}

		base, stop, logs := startServer(t, env)
		dbFile := filepath.Join(dataDir, "pia.db")
		_, err := os.Stat(dbFile)
		if databaseURL == "" && err != nil {
			t.Errorf("no SQLite database at %s: %v", dbFile, err)
		}
		if databaseURL != "" && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("on PostgreSQL the data directory was touched: %v", err)
		}

		applied, ok := logs.Find("migrations applied")
		if !ok || !strings.Contains(logs.String(), "20261122000001_reference_data") {
			t.Errorf("first start did not log the migrations it applied: %v\n%s", applied, logs)
		}
		listening, _ := logs.Find("listening")
		wantEngine, wantAt := "sqlite", dataDir
		if databaseURL != "" {
			wantEngine, wantAt = "postgres", databaseURL // no password to hide here
		}
		url, _ := listening["url"].(string)
		if listening["database"] != wantEngine || listening["at"] != wantAt || listening["env"] != "dev" ||
			listening["version"] == "" || !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Errorf("listening line %v: want database %s at %s, env dev, a version and a URL", listening, wantEngine, wantAt)
		}

		resp, page := httpGet(t, base+"/")
		if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(page), "graphiql") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET / = %d %s, want the GraphiQL page", resp.StatusCode, resp.Header.Get("Content-Type"))
		}

		first := fetchReference(t, base)
		checkReference(t, first)
		firstAdminToken(t, base, logs)

		if err := stop(); err != nil {
			t.Fatalf("run returned %v after its context was cancelled, want nil", err)
		}
		if _, ok := logs.Find("stopped"); !ok {
			t.Errorf("no 'stopped' log:\n%s", logs)
		}

		base, stop, logs = startServer(t, env)
		if _, ok := logs.Find("migrations applied"); ok {
			t.Errorf("the second start applied migrations again:\n%s", logs)
		}
		if strings.Contains(logs.String(), "generated password") {
			t.Errorf("the second start made another administrator:\n%s", logs)
		}
		second := fetchReference(t, base)
		if !reflect.DeepEqual(first, second) {
			t.Errorf("the data changed across restarts:\nfirst  %+v\nsecond %+v", first, second)
		}
		if err := stop(); err != nil {
			t.Fatalf("second run returned %v, want nil", err)
		}
	})
}

func TestProbes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		base, _, _ := startServer(t, map[string]string{"PIA_DATABASE_URL": databaseURL})
		if resp, body := httpGet(t, base+"/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
			t.Errorf("/healthz = %d %q", resp.StatusCode, body)
		}
		if resp, body := httpGet(t, base+"/readyz"); resp.StatusCode != http.StatusOK || body != "ready\n" {
			t.Errorf("/readyz = %d %q, want 200 while the database answers", resp.StatusCode, body)
		}
	})
}

// In development the schema can be explored: introspection works and a
// mistyped field gets a suggestion.
func TestDevExplains(t *testing.T) {
	base, _, _ := startServer(t, nil)
	status, r := graphql(t, base, `{ __schema { types { name } } }`)
	if status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"Territory"`) {
		t.Errorf("introspection in dev: %d %+v", status, r.Errors)
	}
	_, r = graphql(t, base, `{ territorie { code } }`)
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "territories") {
		t.Errorf("a mistyped field in dev: %+v, want a suggestion of territories", r.Errors)
	}
}

// PIA_ENV=prod: no GraphiQL, no introspection, no suggestions, JSON logs
// (PIA_LOG_FORMAT left empty), and the API still answers.
func TestProd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		base, stop, logs := startServer(t, map[string]string{
			"PIA_ENV": "prod", "PIA_LOG_FORMAT": "", "PIA_DATABASE_URL": databaseURL,
		})
		if resp, body := httpGet(t, base+"/"); resp.StatusCode != http.StatusNotFound || strings.Contains(strings.ToLower(body), "graphiql") {
			t.Errorf("GET / in prod = %d, want 404 without GraphiQL", resp.StatusCode)
		}

		for _, q := range []string{`{ __schema { types { name } } }`, `{ __type(name: "Territory") { name } }`} {
			_, r := graphql(t, base, q)
			if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
				t.Errorf("%s in prod: %+v, want an error with extensions.code BAD_USER_INPUT", q, r.Errors)
			}
			if strings.Contains(string(r.Data), "Territory") {
				t.Errorf("%s in prod leaked the schema: %s", q, r.Data)
			}
		}
		_, r := graphql(t, base, `{ territorie { code } }`)
		if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "territories") {
			t.Errorf("a mistyped field in prod: %+v, want an error without a suggestion", r.Errors)
		}
		checkReference(t, fetchReference(t, base))

		// A page on another site may not open a websocket; the refusal is
		// logged like everything else, as JSON.
		dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{"graphql-transport-ws"}}
		conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/graphql", http.Header{"Origin": {"https://elsewhere.example"}})
		if err == nil {
			_ = conn.Close()
			t.Error("a cross-origin websocket opened in prod")
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin websocket: %v, want 403", err)
		}

		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "websocket refused: origin not allowed") {
			t.Errorf("the refused websocket was not logged through run's logger:\n%s", logs)
		}
		entries, bad := logs.Entries()
		if len(bad) > 0 || len(entries) == 0 {
			t.Errorf("prod logs are not all JSON: %q", bad)
		}
		if l, _ := logs.Find("listening"); l["env"] != "prod" {
			t.Errorf("listening line %v, want env prod", l)
		}
	})
}

// wsRead returns the next graphql-transport-ws message, answering pings.
func wsRead(t *testing.T, conn *websocket.Conn) (typ string, payload json.RawMessage) {
	t.Helper()
	for {
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("reading the websocket: %v", err)
		}
		if m.Type == "ping" {
			_ = conn.WriteJSON(map[string]string{"type": "pong"})
			continue
		}
		return m.Type, m.Payload
	}
}

// Stopping the server ends a live subscription with a websocket close frame,
// not a dropped connection, and run returns nil without waiting for the
// shutdown timeout.
func TestShutdownClosesSubscriptions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		base, stop, logs := startServer(t, map[string]string{
			"PIA_DATABASE_URL": databaseURL, "PIA_SHUTDOWN_TIMEOUT": "10s",
		})
		wsURL := "ws" + strings.TrimPrefix(base, "http") + "/graphql"
		dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{"graphql-transport-ws"}}
		conn, resp, err := dialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", wsURL, err)
		}
		defer conn.Close()
		if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "graphql-transport-ws" {
			t.Fatalf("negotiated subprotocol %q", got)
		}

		token := firstAdminToken(t, base, logs)
		if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"authToken": token}}); err != nil {
			t.Fatal(err)
		}
		if typ, _ := wsRead(t, conn); typ != "connection_ack" {
			t.Fatalf("got %q, want connection_ack", typ)
		}
		err = conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
			"query": `subscription { serverStatus(intervalSeconds: 1) { ready version } }`,
		}})
		if err != nil {
			t.Fatal(err)
		}
		typ, payload := wsRead(t, conn)
		var next struct {
			Data struct {
				ServerStatus struct {
					Ready   bool
					Version string
				}
			}
		}
		if err := json.Unmarshal(payload, &next); typ != "next" || err != nil || !next.Data.ServerStatus.Ready || next.Data.ServerStatus.Version == "" {
			t.Fatalf("got %s %s, want next with ready true and a version", typ, payload)
		}

		start := time.Now()
		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()

		// Until the close frame the client may still see messages.
		var readErr error
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for readErr == nil {
			_, _, readErr = conn.ReadMessage()
		}
		var ce *websocket.CloseError
		if !errors.As(readErr, &ce) || (ce.Code != websocket.CloseNormalClosure && ce.Code != websocket.CloseGoingAway) {
			t.Errorf("the subscriber saw %v, want a close frame 1000 or 1001", readErr)
		}

		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("run returned %v, want nil", err)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("run still running 8s after cancel")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("shutdown took %v with one subscriber; it should not wait for the 10s timeout", d)
		}
		if strings.Contains(logs.String(), "still open after the shutdown timeout") {
			t.Errorf("the websocket was not closed in time:\n%s", logs)
		}
		if c, _, err := dialer.Dial(wsURL, nil); err == nil {
			_ = c.Close()
			t.Error("a websocket opened after the server stopped")
		}
	})
}

// A websocket opened but never initialised gets a close frame (1001) at
// shutdown too, at once: gqlgen does not watch the context before
// connection_init, so the adapter does.
func TestShutdownWithAnUninitialisedWebsocket(t *testing.T) {
	base, stop, _ := startServer(t, map[string]string{"PIA_WS_INIT_TIMEOUT": "1s", "PIA_SHUTDOWN_TIMEOUT": "10s"})
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{"graphql-transport-ws"}}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("the client saw %v, want a close frame with 1001", err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("run still running 8s after cancel")
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("shutdown took %v; it should not wait for the 1s init timeout", d)
	}
}
