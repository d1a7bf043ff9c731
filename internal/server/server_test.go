package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pia-sicilia/pia/internal/health"
	"github.com/pia-sicilia/pia/internal/server"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// syncBuffer is a log destination that the server writes while the test reads.
type syncBuffer = testutil.LogBuffer

// watchedListener tells the test when it hands out a connection and when the
// server closes it, which is how the test knows shutdown has begun.
type watchedListener struct {
	net.Listener
	accepted chan struct{}
	closed   chan struct{}
	once     sync.Once
}

func listen(t *testing.T) *watchedListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &watchedListener{Listener: ln, accepted: make(chan struct{}, 16), closed: make(chan struct{})}
}

func (l *watchedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		select {
		case l.accepted <- struct{}{}:
		default:
		}
	}
	return c, err
}

func (l *watchedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

type options struct {
	graphql         http.Handler
	export          http.Handler
	dev             bool
	shutdownTimeout time.Duration
	health          *health.Checker
}

// newServer builds a server over an open SQLite database; the GraphQL handler
// is the test's.
func newServer(t *testing.T, o options) (*server.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if o.health == nil {
		o.health = health.NewChecker(storagetest.OpenEmpty(t, storage.SQLite), "test", time.Now)
	}
	if o.graphql == nil {
		o.graphql = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "graphql") })
	}
	if o.shutdownTimeout == 0 {
		o.shutdownTimeout = 5 * time.Second
	}
	srv := server.New(server.Options{
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		GraphQL:         o.graphql,
		Export:          o.export,
		Health:          o.health,
		Dev:             o.dev,
		ShutdownTimeout: o.shutdownTimeout,
	})
	return srv, logs
}

// serve runs srv on ln until the returned cancel; done yields Serve's result
// once.
func serve(t *testing.T, srv *server.Server, ln net.Listener) (cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		errc <- srv.Serve(ctx, ln)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after the test")
		}
	})
	return cancel, errc
}

func served(t *testing.T, done <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("Serve still running %v after cancel", within)
		return nil
	}
}

var client = &http.Client{Timeout: 5 * time.Second}

// get runs one request through h in process.
func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

func TestProbes(t *testing.T) {
	srv, _ := newServer(t, options{})
	h := srv.Handler()
	if status, body := get(t, h, "/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", status, body)
	}
	if status, body := get(t, h, "/readyz"); status != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz on an open database = %d %q", status, body)
	}
}

func TestReadyzFailsWhenTheDatabaseIsGone(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	srv, _ := newServer(t, options{health: health.NewChecker(db, "test", time.Now)})
	h := srv.Handler()
	if status, _ := get(t, h, "/readyz"); status != http.StatusOK {
		t.Fatalf("/readyz before closing = %d", status)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, h, "/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("/readyz on a closed database = %d %q, want 503 naming the database", status, body)
	}
	// The process is still alive: liveness does not depend on the database.
	if status, _ := get(t, h, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz on a closed database = %d, want 200", status)
	}
}

func TestGraphiQLOnlyInDev(t *testing.T) {
	dev, _ := newServer(t, options{dev: true})
	status, body := get(t, dev.Handler(), "/")
	if status != http.StatusOK || !strings.Contains(strings.ToLower(body), "graphiql") {
		t.Errorf("dev / = %d, GraphiQL page: %v", status, strings.Contains(strings.ToLower(body), "graphiql"))
	}
	if status, _ := get(t, dev.Handler(), "/elsewhere"); status != http.StatusNotFound {
		t.Errorf("dev /elsewhere = %d, want 404", status)
	}
	prod, _ := newServer(t, options{dev: false})
	if status, body := get(t, prod.Handler(), "/"); status != http.StatusNotFound || strings.Contains(strings.ToLower(body), "graphiql") {
		t.Errorf("prod / = %d, want 404 without GraphiQL", status)
	}
	if status, body := get(t, prod.Handler(), "/graphql"); status != http.StatusOK || body != "graphql" {
		t.Errorf("prod /graphql = %d %q, want the GraphQL handler", status, body)
	}
}

// TestExportRoute: GET /documents/{id}/export reaches the export handler
// with the id as the path's wildcard; other methods and paths do not, and
// without a handler there is no route.
func TestExportRoute(t *testing.T) {
	export := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "export of "+r.PathValue("id")+" as "+r.URL.Query().Get("format"))
	})
	srv, _ := newServer(t, options{export: export})
	h := srv.Handler()
	if status, body := get(t, h, "/documents/RG9jdW1lbnQ6MQ/export?format=html"); status != http.StatusOK || body != "export of RG9jdW1lbnQ6MQ as html" {
		t.Errorf("GET /documents/{id}/export = %d %q", status, body)
	}
	for _, target := range []string{"/documents/RG9jdW1lbnQ6MQ", "/documents/a/b/export", "/documents/export"} {
		if status, _ := get(t, h, target); status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, status)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/documents/RG9jdW1lbnQ6MQ/export", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /documents/{id}/export = %d, want 405", rec.Code)
	}
	without, _ := newServer(t, options{})
	if status, _ := get(t, without.Handler(), "/documents/RG9jdW1lbnQ6MQ/export"); status != http.StatusNotFound {
		t.Errorf("without an export handler = %d, want 404", status)
	}
}

func TestPanicIsA500AndLogged(t *testing.T) {
	srv, logs := newServer(t, options{graphql: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("resolver exploded")
	})})
	status, body := get(t, srv.Handler(), "/graphql")
	if status != http.StatusInternalServerError || strings.Contains(body, "exploded") {
		t.Errorf("panic = %d %q, want 500 without the panic's text", status, body)
	}
	if l := logs.String(); !strings.Contains(l, "panic in handler") || !strings.Contains(l, "resolver exploded") {
		t.Errorf("panic not logged: %s", l)
	}
}

func TestServeAnswersUntilCancelled(t *testing.T) {
	srv, logs := newServer(t, options{})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)
	resp, err := client.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	cancel()
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil after a graceful shutdown", err)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown log: %s", logs.String())
	}
	if _, err := client.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("the server still answers after Serve returned")
	}
}

func TestServeReturnsTheListenersError(t *testing.T) {
	srv, _ := newServer(t, options{})
	ln := listen(t)
	_ = ln.Listener.Close() // closed beneath the server: Accept fails at once
	_, done := serve(t, srv, ln)
	if err := served(t, done, 5*time.Second); err == nil {
		t.Fatal("Serve on a dead listener returned nil")
	}
}

// A request in flight when shutdown begins completes, and Serve waits for it.
func TestShutdownLetsARequestInFlightFinish(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv, _ := newServer(t, options{graphql: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, `{"data":{"slow":true}}`)
	})})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)

	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := client.Post("http://"+ln.Addr().String()+"/graphql", "application/json", strings.NewReader(`{"query":"{ slow }"}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	wait(t, entered, "the request to reach the handler")

	cancel()
	wait(t, ln.closed, "shutdown to close the listener")
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) with a request still in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)

	select {
	case r := <-res:
		if r.err != nil || r.status != http.StatusOK || r.body != `{"data":{"slow":true}}` {
			t.Fatalf("request in flight during shutdown: %d %q %v, want 200 and its body", r.status, r.body, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request in flight never completed")
	}
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

// A request that outlives the shutdown timeout does not hold the process.
func TestShutdownTimeoutBoundsARequestThatNeverEnds(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, logs := newServer(t, options{shutdownTimeout: 200 * time.Millisecond, graphql: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)
	errc := make(chan error, 1)
	go func() {
		resp, err := client.Get("http://" + ln.Addr().String() + "/graphql")
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	wait(t, entered, "the request to reach the handler")
	start := time.Now()
	cancel()
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Serve took %v with a 200ms shutdown timeout", d)
	}
	if !strings.Contains(logs.String(), "requests still in flight after the shutdown timeout") {
		t.Errorf("no warning about the request cut short: %s", logs.String())
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Error("the cut-short request got a response")
		}
	case <-time.After(5 * time.Second):
		t.Error("the cut-short request is still hanging")
	}
}

// websocketHandler is a websocket GraphQL stand-in that, like gqlgen's transport,
// sends a close frame when its request context ends.
func websocketHandler(accepted chan<- struct{}) http.Handler {
	up := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			_, _ = io.WriteString(w, "graphql")
			return
		}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		accepted <- struct{}{}
		go func() { // read so that the peer's close is seen
			for {
				if _, _, err := conn.NextReader(); err != nil {
					return
				}
			}
		}()
		<-r.Context().Done()
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
	})
}

func TestShutdownClosesWebsocketsWithACloseFrame(t *testing.T) {
	accepted := make(chan struct{}, 1)
	srv, _ := newServer(t, options{graphql: websocketHandler(accepted)})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)

	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := dialer.Dial("ws://"+ln.Addr().String()+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wait(t, accepted, "the websocket to be accepted")

	cancel()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("client read %v, want a close frame 1001", err)
	}
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

// A websocket that ignores the end of its context holds shutdown only for
// the shutdown timeout.
func TestShutdownTimeoutBoundsAStuckWebsocket(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	accepted := make(chan struct{}, 1)
	up := websocket.Upgrader{}
	srv, logs := newServer(t, options{shutdownTimeout: 200 * time.Millisecond, graphql: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		accepted <- struct{}{}
		<-release
	})})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)
	conn, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial("ws://"+ln.Addr().String()+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wait(t, accepted, "the websocket to be accepted")
	start := time.Now()
	cancel()
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Serve took %v with a 200ms shutdown timeout", d)
	}
	if !strings.Contains(logs.String(), "websockets still open after the shutdown timeout") {
		t.Errorf("no warning about the stuck websocket: %s", logs.String())
	}
}

// Once shutdown has begun no websocket opens: a new connection is refused,
// and an upgrade sent on a connection the server had accepted just before
// gets no 101. (The server's own 503 for an upgrade that slips in between
// closing the websockets and stopping the listener cannot be reached from
// outside; the check here is what a client sees.)
func TestNoNewWebsocketAfterShutdownBegins(t *testing.T) {
	accepted := make(chan struct{}, 1)
	srv, _ := newServer(t, options{graphql: websocketHandler(accepted)})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)

	raw, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	wait(t, ln.accepted, "the server to accept the connection")

	cancel()
	wait(t, ln.closed, "shutdown to close the listener")
	dialer := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	if ws, _, err := dialer.Dial("ws://"+ln.Addr().String()+"/graphql", nil); err == nil {
		_ = ws.Close()
		t.Error("a new websocket opened after shutdown began")
	}
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	u := &url.URL{Scheme: "ws", Host: ln.Addr().String(), Path: "/graphql"}
	ws, resp, err := websocket.NewClient(raw, u, nil, 1024, 1024)
	if err == nil {
		_ = ws.Close()
		t.Fatal("a websocket opened after shutdown began, on a connection accepted before")
	}
	if resp != nil {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("upgrade after shutdown answered %d, want 503 or no answer", resp.StatusCode)
		}
	}
	select {
	case <-accepted:
		t.Error("the GraphQL handler accepted an upgrade after shutdown began")
	default:
	}
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

// At debug level every request is logged with its status, and a websocket
// passes through the middleware (which must not wrap its writer, or the
// upgrade could not hijack the connection) and is logged when it closes.
func TestRequestLogsAtDebug(t *testing.T) {
	accepted := make(chan struct{}, 1)
	srv, logs := newServer(t, options{graphql: websocketHandler(accepted)})
	ln := listen(t)
	cancel, done := serve(t, srv, ln)
	resp, err := client.Get("http://" + ln.Addr().String() + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	conn, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial("ws://"+ln.Addr().String()+"/graphql", nil)
	if err != nil {
		t.Fatalf("websocket through the middleware: %v", err)
	}
	wait(t, accepted, "the websocket to be accepted")
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = conn.Close()
	cancel()
	if err := served(t, done, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	l := logs.String()
	if !strings.Contains(l, "msg=request method=GET path=/graphql status=200") {
		t.Errorf("no request log: %s", l)
	}
	if !strings.Contains(l, `msg="websocket closed" path=/graphql`) {
		t.Errorf("no websocket log: %s", l)
	}
}
