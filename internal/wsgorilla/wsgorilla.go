// Package wsgorilla lets gqlgen's websocket transport run on
// github.com/gorilla/websocket. gqlgen (from v0.17.92) defaults to
// coder/websocket; PIA's design card fixes gorilla, so this adapter implements
// transport.WebsocketImplementation and the optional read-limit and
// read-deadline interfaces, so that the payload limit and the ping/pong
// timeout hold.
package wsgorilla

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"github.com/pia-sicilia/pia/internal/jsontext"
)

// Close codes of the graphql-transport-ws protocol that gqlgen does not use
// on its own.
const (
	CloseBadRequest       = 4400 // an invalid message
	CloseUnauthorized     = 4401 // subscribe before connection_init
	CloseForbidden        = 4403 // "Forbidden"
	CloseInitTimeout      = 4408 // "Connection initialisation timeout"
	CloseSubscriberExists = 4409 // a subscribe reusing an id in use
	CloseTooManyInits     = 4429 // a second connection_init
)

const transportWS = "graphql-transport-ws"

const writeWait = 10 * time.Second

// Implementation accepts websocket upgrades with gorilla.
type Implementation struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) that may
	// open a websocket besides the server's own host. "*" allows any origin.
	// Requests without an Origin header (non-browser clients) are allowed.
	AllowedOrigins []string
	// LegacyPingInterval is how often a graphql-ws connection gets a
	// websocket ping frame; one that answers none for two intervals is
	// dropped. That protocol has no ping of its own (gqlgen's keep-alive
	// expects no answer), so without this a dead peer would hold its
	// subscriptions until the operating system noticed. Zero turns it off.
	LegacyPingInterval time.Duration
}

var _ transport.WebsocketImplementation = Implementation{}

// Accept upgrades the request, negotiating one of gqlgen's subprotocols.
func (im Implementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     opts.Subprotocols,
		CheckOrigin:      im.CheckOrigin,
	}
	conn, err := up.Upgrade(w, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	c := &Conn{conn: conn, done: make(chan struct{}), override: slotFrom(r.Context())}
	// gqlgen waits for connection_init without watching the request's
	// context, so until the first message arrives the adapter closes the
	// socket itself when that context ends (the server shutting down).
	c.stopInitWatch = context.AfterFunc(r.Context(), func() {
		_ = c.WriteClose(websocket.CloseGoingAway, "server shutting down")
		_ = c.Close()
	})
	if conn.Subprotocol() != transportWS && im.LegacyPingInterval > 0 {
		c.pingLegacy(im.LegacyPingInterval)
	}
	return c, nil
}

// pingLegacy sends websocket pings until the connection closes, and lets
// reads fail once no pong has come for two intervals.
func (c *Conn) pingLegacy(interval time.Duration) {
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * interval))
	c.conn.SetPongHandler(func(string) error { // runs on the reading goroutine
		return c.conn.SetReadDeadline(time.Now().Add(2 * interval))
	})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-t.C:
				if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
					return
				}
			}
		}
	}()
}

// CheckOrigin allows requests with no Origin (not from a browser), from the
// server's own host, and from the configured origins: a page elsewhere cannot
// use a signed-in browser's websocket.
func (im Implementation) CheckOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, allowed := range im.AllowedOrigins {
		if allowed == "*" || strings.EqualFold(strings.TrimRight(allowed, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// Conn is one accepted websocket.
type Conn struct {
	conn          *websocket.Conn
	wmu           sync.Mutex // gorilla allows one writer at a time
	stopInitWatch func() bool
	done          chan struct{} // closed by Close
	closeOnce     sync.Once

	override *closeSlot // set by CloseWith

	// The graphql-transport-ws rules gqlgen does not enforce (see guard).
	pmu      sync.Mutex
	initSeen bool
	active   map[string]bool // subscription ids in use
}

var (
	_ transport.WebsocketConn          = (*Conn)(nil)
	_ transport.WebsocketReadLimiter   = (*Conn)(nil)
	_ transport.WebsocketReadDeadliner = (*Conn)(nil)
)

// NextReader returns the next message; a normal close by the peer is
// transport.ErrWebsocketClosed, as gqlgen expects.
//
// A message whose text encoding/json would silently change (bytes that are
// not UTF-8, a \u escape of a lone surrogate: see package jsontext) never
// reaches gqlgen, which would run it with U+FFFD in place of what the
// client sent: a graphql-transport-ws subscribe gets an error message for
// its id (extensions.code BAD_USER_INPUT, reason INVALID_UTF8) and the
// connection goes on; any other message closes the connection with 4400.
func (c *Conn) NextReader() (int, io.Reader, error) {
	for {
		mt, r, err := c.conn.NextReader()
		if c.stopInitWatch != nil {
			// Past the first message gqlgen watches the context itself. Only
			// gqlgen's one reading goroutine calls NextReader.
			c.stopInitWatch()
			c.stopInitWatch = nil
		}
		if err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived, websocket.CloseGoingAway) {
				return mt, nil, transport.ErrWebsocketClosed
			}
			return mt, nil, err
		}
		data, err := io.ReadAll(r) // bounded by the read limit
		if err != nil {
			return mt, nil, err
		}
		code, reason, refusal := c.guard(data)
		if refusal != nil {
			if err := c.write(refusal); err != nil {
				return mt, nil, err
			}
			continue
		}
		if code != 0 {
			_ = c.WriteClose(code, reason)
			_ = c.Close()
			return mt, nil, transport.ErrWebsocketClosed
		}
		return mt, bytes.NewReader(data), nil
	}
}

// guard enforces the rules of graphql-transport-ws that gqlgen leaves out,
// with the close codes the protocol gives them: gqlgen closes all of these
// with 1002 or 1000, or ignores them, and a subscribe that reuses an active
// id starts a second subscription that the client can no longer stop. It
// also refuses text that encoding/json would change (see NextReader): a
// subscribe with an error message to send (refusal), anything else, on
// either protocol, with 4400.
func (c *Conn) guard(data []byte) (code int, reason string, refusal []byte) {
	problem := jsontext.Problem(data)
	if c.conn.Subprotocol() != transportWS {
		if problem != "" {
			return CloseBadRequest, truncate("Invalid message received: " + problem), nil
		}
		return 0, "", nil
	}
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return CloseBadRequest, "Invalid message received", nil
	}
	code, reason = c.guardTransportWS(m.Type, m.ID, problem)
	if code == 0 && problem != "" {
		if m.Type != "subscribe" || !utf8.ValidString(m.ID) || strings.ContainsRune(m.ID, utf8.RuneError) {
			return CloseBadRequest, truncate("Invalid message received: " + problem), nil
		}
		refusal, _ = json.Marshal(map[string]any{"id": m.ID, "type": "error", "payload": []any{map[string]any{
			"message":    problem,
			"extensions": map[string]any{"code": "BAD_USER_INPUT", "reason": "INVALID_UTF8"},
		}}})
	}
	return code, reason, refusal
}

// guardTransportWS checks a graphql-transport-ws message's type and id and
// notes the subscriptions started and completed; a subscribe whose text is
// refused (problem) starts none.
func (c *Conn) guardTransportWS(typ, id, problem string) (code int, reason string) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	switch typ {
	case "connection_init":
		if c.initSeen {
			return CloseTooManyInits, "Too many initialisation requests"
		}
		c.initSeen = true
	case "ping", "pong":
	case "subscribe":
		switch {
		case !c.initSeen:
			return CloseUnauthorized, "Unauthorized"
		case id == "":
			return CloseBadRequest, "Invalid message received: subscribe needs an id"
		case c.active[id]:
			return CloseSubscriberExists, truncate("Subscriber for " + id + " already exists")
		}
		if problem != "" {
			break
		}
		if c.active == nil {
			c.active = map[string]bool{}
		}
		c.active[id] = true
	case "complete":
		delete(c.active, id)
	default:
		return CloseBadRequest, truncate("Invalid message received: unknown type " + typ)
	}
	return 0, ""
}

// sent notes the end of a subscription the server completed or failed, so
// that its id may be used again.
func (c *Conn) sent(data []byte) {
	if c.conn.Subprotocol() != transportWS {
		return
	}
	// Most messages are results ("next"): only a message that names one
	// of the two types somewhere is worth parsing.
	if !bytes.Contains(data, []byte(`"complete"`)) && !bytes.Contains(data, []byte(`"error"`)) {
		return
	}
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(data, &m) == nil && (m.Type == "complete" || m.Type == "error") {
		c.pmu.Lock()
		delete(c.active, m.ID)
		c.pmu.Unlock()
	}
}

// truncate fits a close reason into a close frame (123 bytes).
func truncate(s string) string {
	if len(s) > 123 {
		return s[:123]
	}
	return s
}

// WriteJSON sends v as one text message. A peer that does not read within
// writeWait is dropped rather than allowed to block its subscriptions.
func (c *Conn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.sent(data)
	return c.write(data)
}

// write sends data as one text message, within writeWait.
func (c *Conn) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return c.conn.WriteMessage(websocket.TextMessage, data)
}

// WriteClose sends a close frame. gqlgen closes an unanswered
// graphql-transport-ws handshake with 1002; that protocol says 4408, so the
// code is translated here.
func (c *Conn) WriteClose(code int, message string) error {
	if c.override != nil {
		c.override.mu.Lock()
		if c.override.code != 0 {
			code, message = c.override.code, c.override.reason
		}
		c.override.mu.Unlock()
	}
	if code == transport.WebsocketCloseProtocolError && c.conn.Subprotocol() == transportWS &&
		strings.Contains(message, "initialisation timeout") {
		code = CloseInitTimeout
		message = "Connection initialisation timeout"
	}
	message = truncate(message)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	err := c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, message), time.Now().Add(writeWait))
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}

// Subprotocol is the negotiated subprotocol.
func (c *Conn) Subprotocol() string { return c.conn.Subprotocol() }

// SetReadLimit bounds one message; a larger one closes the connection with 1009.
func (c *Conn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

// SetReadDeadline makes reads fail after t; gqlgen uses it for ping/pong.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// Close closes the network connection.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return c.conn.Close()
}

// closeSlot holds the close code and reason that a connection's next close
// frame carries instead of gqlgen's, which closes every connection whose
// context ends with 1000.
type closeSlot struct {
	mu     sync.Mutex
	code   int
	reason string
}

type slotKey struct{}

// WithCloseSlot prepares ctx, an upgrade request's context, for CloseWith.
func WithCloseSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotKey{}, &closeSlot{})
}

func slotFrom(ctx context.Context) *closeSlot {
	s, _ := ctx.Value(slotKey{}).(*closeSlot)
	return s
}

// CloseWith sets the close code and reason of the connection whose context
// (or a context derived from it) is ctx, for when the server closes it next:
// a session that ends closes its websocket with 4403 rather than 1000. It
// reports false when ctx belongs to no connection prepared by WithCloseSlot.
func CloseWith(ctx context.Context, code int, reason string) bool {
	s := slotFrom(ctx)
	if s == nil {
		return false
	}
	s.mu.Lock()
	s.code, s.reason = code, reason
	s.mu.Unlock()
	return true
}
