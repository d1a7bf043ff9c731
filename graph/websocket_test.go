package graph_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// The two subprotocols and their message names, which differ.
const (
	transportWS = "graphql-transport-ws"
	legacyWS    = "graphql-ws"
)

var protocols = []string{transportWS, legacyWS}

type wsNames struct{ subscribe, next, stop string }

var names = map[string]wsNames{
	transportWS: {subscribe: "subscribe", next: "next", stop: "complete"},
	legacyWS:    {subscribe: "start", next: "data", stop: "stop"},
}

// wsMessage is one message of either subprotocol.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient speaks a GraphQL websocket subprotocol to the server under test.
type wsClient struct {
	t     testing.TB
	conn  *websocket.Conn
	proto string
	// raw holds the text of the message read last.
	raw []byte
	// token is sent as authToken by init; empty for an anonymous connection.
	token string
}

// dialWS opens a websocket to srv with proto and the given headers; it fails
// the test when the handshake fails.
func dialWS(t testing.TB, srv *testServer, proto string, header http.Header) *wsClient {
	t.Helper()
	conn, res, err := dialer(proto).Dial(srv.WS, header)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", proto, err, status)
	}
	if conn.Subprotocol() != proto {
		t.Fatalf("negotiated %q, want %q", conn.Subprotocol(), proto)
	}
	c := &wsClient{t: t, conn: conn, proto: proto}
	if srv.accounts != nil {
		c.token = srv.adminToken(t)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return c
}

func dialer(proto string) *websocket.Dialer {
	return &websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 2 * time.Second}
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err := c.conn.WriteJSON(m); err != nil {
		c.t.Fatalf("send %s: %v", m.Type, err)
	}
}

// next reads the next message within d, returning the read error instead
// when the connection ends.
func (c *wsClient) next(d time.Duration) (wsMessage, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	var m wsMessage
	_, raw, err := c.conn.ReadMessage()
	if err != nil {
		return m, err
	}
	c.raw = raw
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("message %s: %v", raw, err)
	}
	return m, nil
}

// read returns the next message other than keep-alives and pings within 2s,
// answering pings.
func (c *wsClient) read() wsMessage {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		m, err := c.next(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			c.send(wsMessage{Type: "pong"})
			continue
		}
		return m
	}
}

// init sends connection_init and waits for connection_ack.
func (c *wsClient) init() {
	c.t.Helper()
	payload := json.RawMessage(`{}`)
	if c.token != "" {
		payload, _ = json.Marshal(map[string]string{"authToken": c.token})
	}
	c.send(wsMessage{Type: "connection_init", Payload: payload})
	if m := c.read(); m.Type != "connection_ack" {
		c.t.Fatalf("got %s %s, want connection_ack", m.Type, c.raw)
	}
}

// subscribe starts operation query as id.
func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query})
	c.send(wsMessage{Type: names[c.proto].subscribe, ID: id, Payload: p})
}

// result reads the next message, which must be a result for id, and decodes it.
func (c *wsClient) result(id string) gqlResponse {
	c.t.Helper()
	m := c.read()
	if m.Type != names[c.proto].next || m.ID != id {
		c.t.Fatalf("got %s, want %s for %s", c.raw, names[c.proto].next, id)
	}
	var r gqlResponse
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		c.t.Fatalf("payload %s: %v", m.Payload, err)
	}
	checkErrors(c.t, r.Errors)
	return r
}

// complete reads the next message, which must complete id.
func (c *wsClient) complete(id string) {
	c.t.Helper()
	if m := c.read(); m.Type != "complete" || m.ID != id {
		c.t.Fatalf("got %s, want complete for %s", c.raw, id)
	}
}

// closed reads until the server closes the connection within d and returns
// the close code, or -1 for a connection dropped without a close frame.
func (c *wsClient) closed(d time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := c.next(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("the server did not close the connection within %v", d)
		}
		return -1
	}
}

func TestWebsocketOperations(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())
		for _, proto := range protocols {
			t.Run(proto, func(t *testing.T) {
				c := dialWS(t, srv, proto, nil)
				c.init()

				c.subscribe("1", `subscription { serverStatus(intervalSeconds: 1) { version ready } }`)
				r := c.result("1")
				if string(r.Data) != `{"serverStatus":{"version":"test","ready":true}}` {
					t.Errorf("serverStatus %s", c.raw)
				}
				// The client's stop ends the stream: gqlgen confirms with a
				// complete, after which nothing comes for that id.
				c.send(wsMessage{Type: names[proto].stop, ID: "1"})
				c.complete("1")

				c.subscribe("2", `{ territories { code } themes { code } }`)
				r = c.result("2")
				var data struct{ Territories, Themes []struct{ Code string } }
				if err := json.Unmarshal(r.Data, &data); err != nil || len(data.Territories) != 9 || len(data.Themes) != 4 {
					t.Errorf("query over websocket: %s", c.raw)
				}
				c.complete("2")

				// A resolver's refusal: the subscription's error message, with
				// BAD_USER_INPUT, which ends it (no complete follows).
				c.subscribe("3", `subscription { serverStatus(intervalSeconds: 0) { version } }`)
				m := c.read()
				errs := messageErrors(t, m)
				if len(errs) != 1 || errs[0].code() != "BAD_USER_INPUT" || errs[0].Extensions["field"] != "intervalSeconds" {
					t.Errorf("serverStatus(intervalSeconds: 0): %s", c.raw)
				}
				if m.Type != "error" {
					t.Errorf("a refused subscription is an error message on %s; got %s", proto, c.raw)
				}

				// A request error: validation fails before execution.
				c.subscribe("4", `subscription { serverStatus { nope } }`)
				m = c.read()
				errs = messageErrors(t, m)
				if len(errs) != 1 || errs[0].code() != "BAD_USER_INPUT" || errs[0].reason() != "GRAPHQL_VALIDATION_FAILED" {
					t.Errorf("invalid subscription: %s", c.raw)
				}
				if proto == transportWS && m.Type != "error" {
					t.Errorf("a validation failure is an error message on %s; got %s", proto, c.raw)
				}

				// The connection still serves. (gqlgen follows an error
				// message with a complete, which the protocol does not ask
				// for; a client ignores it.)
				c.subscribe("5", `{ territory(code: "EN") { name } }`)
				m = c.read()
				if m.Type == "complete" && m.ID == "4" {
					m = c.read()
				}
				if m.Type != names[proto].next || m.ID != "5" || !strings.Contains(string(m.Payload), `{"territory":{"name":"Enna"}}`) {
					t.Errorf("territory over websocket: %s", c.raw)
				}
				c.complete("5")
			})
		}
	})
}

// messageErrors returns the errors a next, data or error message carries.
func messageErrors(t *testing.T, m wsMessage) []gqlError {
	t.Helper()
	var errs []gqlError
	switch m.Type {
	case "next", "data":
		var r gqlResponse
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			t.Fatalf("payload %s: %v", m.Payload, err)
		}
		errs = r.Errors
	case "error":
		if err := json.Unmarshal(m.Payload, &errs); err != nil {
			// graphql-ws sends one error object
			var e gqlError
			if err := json.Unmarshal(m.Payload, &e); err != nil {
				t.Fatalf("error payload %s: %v", m.Payload, err)
			}
			errs = []gqlError{e}
		}
	default:
		t.Fatalf("got %s %s, want a result or an error", m.Type, m.Payload)
	}
	checkErrors(t, errs)
	return errs
}

// TestWebsocketLimits checks that the limits hold over the websocket too,
// with the same codes as over HTTP.
func TestWebsocketLimits(t *testing.T) {
	t.Parallel()
	o := defaultOptions()
	o.MaxDepth = 1
	srv := serveResolver(t, &graph.Resolver{}, o) // refused before any resolver runs
	for _, proto := range protocols {
		c := dialWS(t, srv, proto, nil)
		c.init()
		c.subscribe("1", `subscription { serverStatus { version } }`)
		m := c.read()
		if proto == transportWS && m.Type != "error" {
			t.Errorf("a refused operation came as %s, want an error message", m.Type)
		}
		errs := messageErrors(t, m)
		if len(errs) != 1 || errs[0].code() != "BAD_USER_INPUT" || errs[0].reason() != "DEPTH_LIMIT_EXCEEDED" {
			t.Errorf("%s: %s", proto, c.raw)
		}
		c.complete("1")
	}
}

func TestWebsocketInitTimeout(t *testing.T) {
	t.Parallel()
	o := defaultOptions()
	o.WSInitTimeout = 200 * time.Millisecond
	srv := serveResolver(t, &graph.Resolver{}, o)
	for proto, want := range map[string]int{transportWS: 4408, legacyWS: websocket.CloseProtocolError} {
		c := dialWS(t, srv, proto, nil)
		start := time.Now()
		if code := c.closed(2 * time.Second); code != want {
			t.Errorf("%s: close code %d, want %d", proto, code, want)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("%s: closed after %v, before the timeout", proto, d)
		}
	}
}

func TestWebsocketMessageTooLarge(t *testing.T) {
	t.Parallel()
	o := defaultOptions()
	o.MaxBodyBytes = 1024
	srv := serveResolver(t, &graph.Resolver{}, o)
	for _, proto := range protocols {
		c := dialWS(t, srv, proto, nil)
		c.init()
		c.subscribe("1", `{ __typename `+strings.Repeat(" ", 2048)+`}`)
		if code := c.closed(2 * time.Second); code != websocket.CloseMessageTooBig {
			t.Errorf("%s: close code %d, want 1009", proto, code)
		}

		// A message within the limit is served.
		c = dialWS(t, srv, proto, nil)
		c.init()
		c.subscribe("1", `{ __typename `+strings.Repeat(" ", 800)+`}`)
		if r := c.result("1"); string(r.Data) != `{"__typename":"Query"}` {
			t.Errorf("%s: %s", proto, c.raw)
		}
	}
}

func TestWebsocketOrigin(t *testing.T) {
	t.Parallel()
	o := defaultOptions()
	o.AllowedOrigins = []string{"https://pia.example.org"}
	srv := serveResolver(t, &graph.Resolver{}, o)
	for origin, wantOK := range map[string]bool{
		"":                             true, // not a browser
		"http://" + srv.Host:           true,
		"https://pia.example.org":      true,
		"https://PIA.example.org":      true,
		"https://evil.example":         false,
		"http://127.0.0.1:1":           false, // the same machine on another port is another origin
		"https://pia.example.org.evil": false,
		"null":                         false,
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, res, err := dialer(transportWS).Dial(srv.WS, h)
		if wantOK {
			if err != nil {
				t.Errorf("Origin %q refused: %v", origin, err)
				continue
			}
			c := &wsClient{t: t, conn: conn, proto: transportWS}
			c.init()
			_ = conn.Close()
			continue
		}
		if err == nil {
			_ = conn.Close()
			t.Errorf("Origin %q accepted", origin)
			continue
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("Origin %q: %v, response %v; want HTTP 403", origin, err, res)
		}
	}
}

func TestWebsocketPingPong(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	o := defaultOptions()
	o.WSPingInterval = interval
	srv := serveResolver(t, &graph.Resolver{}, o)

	t.Run("silent client is dropped", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, srv, transportWS, nil)
		c.init()
		start := time.Now()
		pinged := false
		for {
			m, err := c.next(2 * time.Second)
			if err != nil {
				var ne interface{ Timeout() bool }
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("the server kept a client that never answers ping")
				}
				break
			}
			if m.Type == "ping" {
				pinged = true
				if strings.TrimSpace(string(c.raw)) != `{"type":"ping"}` {
					t.Errorf("ping %s", c.raw)
				}
			}
		}
		if d := time.Since(start); !pinged || d > 5*interval {
			t.Errorf("dropped after %v (pinged: %v); want a ping, then the drop within a few intervals", d, pinged)
		}
	})

	t.Run("answering client stays", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, srv, transportWS, nil)
		c.init()
		// A client's read timeout breaks a gorilla connection for good, so
		// the client counts pings rather than waiting for a time.
		start := time.Now()
		for pings := 0; pings < 8; {
			m, err := c.next(2 * time.Second)
			if err != nil {
				t.Fatalf("dropped after %d pings: %v", pings, err)
			}
			if m.Type == "ping" {
				pings++
				c.send(wsMessage{Type: "pong"})
			}
		}
		if d := time.Since(start); d < 6*interval {
			t.Errorf("8 pings in %v, want one every %v", d, interval)
		}
		c.subscribe("1", `{ __typename }`)
		if r := c.result("1"); string(r.Data) != `{"__typename":"Query"}` {
			t.Errorf("after the pings: %s", c.raw)
		}
	})

	t.Run("graphql-ws keep-alive", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, srv, legacyWS, nil)
		c.init()
		start := time.Now()
		for kas := 0; kas < 4; {
			m, err := c.next(2 * time.Second)
			if err != nil {
				t.Fatalf("after %d keep-alives: %v", kas, err)
			}
			if m.Type == "ka" {
				kas++
			}
		}
		if d := time.Since(start); d < 2*interval {
			t.Errorf("4 keep-alives in %v, want one every %v", d, interval)
		}
		c.subscribe("1", `{ __typename }`)
		if r := c.result("1"); string(r.Data) != `{"__typename":"Query"}` {
			t.Errorf("after the keep-alives: %s", c.raw)
		}
	})

	// graphql-ws has no ping of its own: the server sends websocket ping
	// frames, which a live client answers by itself (gorilla, like browsers,
	// does while it reads), and drops a client that answers none.
	t.Run("graphql-ws client answering no ping frame is dropped", func(t *testing.T) {
		t.Parallel()
		c := dialWS(t, srv, legacyWS, nil)
		pinged := make(chan struct{}, 100)
		c.conn.SetPingHandler(func(string) error { pinged <- struct{}{}; return nil })
		c.init()
		start := time.Now()
		for {
			if _, err := c.next(2 * time.Second); err != nil {
				var ne interface{ Timeout() bool }
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("the server kept a graphql-ws client that answers no ping")
				}
				break
			}
		}
		if d := time.Since(start); len(pinged) == 0 || d > 5*interval {
			t.Errorf("dropped after %v with %d pings; want pings, then the drop within a few intervals", d, len(pinged))
		}
	})
}

// TestSubscriptionGoroutines checks that a subscription leaves nothing
// running once its client goes away without a word (the live figures'
// feed included).
func TestSubscriptionGoroutines(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())
		// Warm up the server and the database pool.
		srv.query(t, `{ territories { code } }`, nil, nil)
		http.DefaultClient.CloseIdleConnections()
		baseline := settledGoroutines()

		var clients []*wsClient
		for _, proto := range protocols {
			for i := range 3 {
				c := dialWS(t, srv, proto, nil)
				c.init()
				c.subscribe("s", `subscription { serverStatus(intervalSeconds: 1) { ready } }`)
				c.result("s")
				if i == 0 {
					c.subscribe("t", `subscription { serverStatus(intervalSeconds: 1) { version } }`)
					c.result("t")
				}
				if i == 1 { // the live figures: a feed per territory, shared
					c.subscribe("f", `subscription { territoryFigures(territory: "EN") { at } }`)
					c.result("f")
				}
				clients = append(clients, c)
			}
		}
		if n := runtime.NumGoroutine(); n <= baseline {
			t.Fatalf("%d goroutines with 6 clients subscribed, %d before: the count cannot show a leak", n, baseline)
		}
		for _, c := range clients {
			_ = c.conn.Close() // no complete, no close frame
		}

		var n int
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if n = runtime.NumGoroutine(); n <= baseline {
				return
			}
		}
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines 2s after the clients left, %d before:\n%s", n, baseline, buf)
	})
}

// settledGoroutines waits briefly for the goroutine count to stop falling.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 10 {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return max(m, n)
		}
		n = m
	}
	return n
}

// The rules of graphql-transport-ws that gqlgen leaves to the adapter: each
// breach closes the connection with the protocol's code.
func TestTransportWSProtocolRules(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions())
		status := `subscription { serverStatus(intervalSeconds: 60) { ready } }`
		cases := []struct {
			name string
			do   func(c *wsClient)
			want int
		}{
			{"subscribe before connection_init", func(c *wsClient) { c.subscribe("1", status) }, 4401},
			{"a second connection_init", func(c *wsClient) {
				c.init()
				c.send(wsMessage{Type: "connection_init"})
			}, 4429},
			{"a subscribe reusing an active id", func(c *wsClient) {
				c.init()
				c.subscribe("1", status)
				c.result("1")
				c.subscribe("1", status)
			}, 4409},
			{"a subscribe without an id", func(c *wsClient) {
				c.init()
				c.subscribe("", status)
			}, 4400},
			{"an unknown message type", func(c *wsClient) {
				c.init()
				c.send(wsMessage{Type: "start", ID: "1"})
			}, 4400},
			{"a message that is not JSON", func(c *wsClient) {
				c.init()
				if err := c.conn.WriteMessage(websocket.TextMessage, []byte("{nope")); err != nil {
					t.Fatal(err)
				}
			}, 4400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dialWS(t, srv, transportWS, nil)
				tc.do(c)
				if got := c.closed(2 * time.Second); got != tc.want {
					t.Errorf("closed with %d, want %d", got, tc.want)
				}
			})
		}

		// An id is free again once its operation is over, whoever ended it.
		c := dialWS(t, srv, transportWS, nil)
		c.init()
		c.subscribe("1", status)
		c.result("1")
		c.send(wsMessage{Type: "complete", ID: "1"})
		c.complete("1")
		c.subscribe("1", `{ themes { code } }`) // the server completes a query
		c.result("1")
		c.complete("1")
		c.subscribe("1", status)
		if r := c.result("1"); string(r.Data) != `{"serverStatus":{"ready":true}}` {
			t.Errorf("reused id: %s", c.raw)
		}
	})
}
