package otclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Errors of the client, to be matched with errors.Is.
var (
	// ErrClosed: the Client or Section was closed.
	ErrClosed = errors.New("otclient: closed")
	// ErrConnectionLost: the socket dropped before the answer came; a
	// mutation may or may not have run.
	ErrConnectionLost = errors.New("otclient: connection lost before the answer")
	// ErrRefused: the server refused the connection (a close code 44xx
	// during or after connection_init, such as 4403 for a bad token). The
	// client does not reconnect.
	ErrRefused = errors.New("otclient: connection refused by the server")
)

// Error is a GraphQL error the server answered with.
type Error struct {
	Message string
	// Code is extensions.code (BAD_USER_INPUT, CONFLICT, NOT_FOUND...).
	Code string
	// Reason is extensions.reason (BASE_LENGTH_MISMATCH, NOT_DRAFT...), if any.
	Reason string
	Path   []any
}

func (e *Error) Error() string {
	s := "otclient: " + e.Message
	if e.Code != "" {
		s += " (" + e.Code
		if e.Reason != "" {
			s += ", " + e.Reason
		}
		s += ")"
	}
	return s
}

// gqlError is an error as the server writes it.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (g gqlError) err() *Error {
	e := &Error{Message: g.Message, Path: g.Path}
	e.Code, _ = g.Extensions["code"].(string)
	e.Reason, _ = g.Extensions["reason"].(string)
	return e
}

// result is the payload of a "next" message.
type result struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// firstError returns the first of errs as an *Error, nil when none.
func firstError(errs []gqlError) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0].err()
}

// Options tune a Client. Zero values take the defaults.
type Options struct {
	// ClientID is the id sent with every operation (1 to 64 characters);
	// a random one by default.
	ClientID string
	// Header is sent with the websocket upgrade (an Origin, for example).
	Header http.Header
	// HandshakeTimeout bounds the upgrade and connection_ack (default 10 s).
	HandshakeTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the wait between reconnection
	// attempts, doubling from the first to the second (default 20 ms, 1 s).
	ReconnectMin, ReconnectMax time.Duration
	// RetryDelay is the wait before resending an operation the server
	// answered with an INTERNAL error (default 100 ms).
	RetryDelay time.Duration

	// The fields below are for tests and fault injection: leave them nil
	// in an application.

	// OnAnswer, if set, is called on the reader goroutine with every answer
	// to editSection the client reads, before it acts on it, including
	// answers it then ignores (a resubmission's, when the stream already
	// acknowledged the operation).
	OnAnswer func(sectionID string, a Answer)
	// DropOnCommit, if set, is asked once per operation, when the first
	// sign that the server committed it arrives: the answer to editSection
	// or the operation coming back on the sectionEdits stream, whichever
	// comes first. true closes the socket before the client reads that
	// message, as a network failing between the commit and the
	// acknowledgement would: the client reconnects and resends the
	// operation, which the server must answer with the version it first
	// committed it at.
	DropOnCommit func(clientSeq int64) bool
	// ReceiveDelay, if set, holds every incoming message for the duration
	// it returns (called once per message) before the client handles it,
	// never handling one before those that came earlier, as a slow link
	// would. Messages still held when the socket drops are lost with it.
	ReceiveDelay func() time.Duration
}

// Answer is one answer to editSection, as Options.OnAnswer sees it.
type Answer struct {
	ClientSeq int64
	// Resent: the operation had been sent before (on a connection that
	// dropped, or answered INTERNAL) and this answers a resubmission.
	Resent bool
	// Version is the version the server committed the operation at; 0
	// with Err.
	Version int64
	// Err is the server's refusal (an *Error), if it refused.
	Err error
}

// Client is one graphql-transport-ws connection to PIA, reconnected when it
// drops, carrying the sections it opened and plain GraphQL requests.
type Client struct {
	url   string
	token string
	o     Options

	seqMu sync.Mutex
	seq   int64

	mu         sync.Mutex
	cur        *conn // nil while disconnected
	changed    chan struct{}
	sections   map[*Section]struct{}
	closed     bool
	err        error // why the client stopped, once it has
	reconnects int
	resends    atomic.Int64

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the connection loop has returned
}

// WebsocketURL turns a server's address (http://host:port, or a ws:// URL)
// into its GraphQL websocket URL: ws://host:port/graphql.
func WebsocketURL(addr string) (string, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("otclient: %q is not an http(s) or ws(s) URL", addr)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/graphql"
	}
	return u.String(), nil
}

// Dial connects to url (ws://host:port/graphql, or http://host:port) and
// signs the connection in with token (none when empty). It returns once
// connection_ack came; after that the client reconnects by itself whenever
// the socket drops, until Close.
func Dial(ctx context.Context, addr, token string, o Options) (*Client, error) {
	wsURL, err := WebsocketURL(addr)
	if err != nil {
		return nil, err
	}
	if o.ClientID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		o.ClientID = hex.EncodeToString(b[:])
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = 20 * time.Millisecond
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = max(time.Second, o.ReconnectMin)
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 100 * time.Millisecond
	}
	c := &Client{url: wsURL, token: token, o: o, changed: make(chan struct{}),
		sections: map[*Section]struct{}{}, done: make(chan struct{})}
	cn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.cur = cn
	go c.loop(cn)
	return c, nil
}

// ID is the clientId this client sends with its operations.
func (c *Client) ID() string { return c.o.ClientID }

// Reconnects counts the connections made after the first.
func (c *Client) Reconnects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reconnects
}

// Resends counts the operations sent again with the same clientSeq: after
// a reconnection, or after an INTERNAL answer.
func (c *Client) Resends() int { return int(c.resends.Load()) }

// Connected reports whether the socket is up now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil
}

// Err returns why the client stopped: ErrClosed after Close, an error
// wrapping ErrRefused when the server refused it; nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// nextSeq returns the next clientSeq; one counter for all the client's
// sections keeps (clientId, clientSeq) unique whatever the server's scope.
func (c *Client) nextSeq() int64 {
	c.seqMu.Lock()
	defer c.seqMu.Unlock()
	c.seq++
	return c.seq
}

// Close ends the client: its sections stop (pending operations are
// abandoned, their waiters get ErrClosed) and the socket closes.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	if c.err == nil {
		c.err = ErrClosed
	}
	secs := make([]*Section, 0, len(c.sections))
	for s := range c.sections {
		secs = append(secs, s)
	}
	cn := c.cur
	c.signal()
	c.mu.Unlock()
	for _, s := range secs {
		s.fail(ErrClosed)
	}
	c.cancel()
	if cn != nil {
		cn.close()
	}
	<-c.done
	return nil
}

// DropConnection closes the socket under the client as a network failure
// would; the client reconnects and its sections resubscribe and resend.
// For tests and fault injection.
func (c *Client) DropConnection() {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn != nil {
		cn.close()
	}
}

// signal wakes whoever waits for a change of connection state. c.mu held.
func (c *Client) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// loop reads cn until it drops, then reconnects, until Close or a refusal.
func (c *Client) loop(cn *conn) {
	defer close(c.done)
	for {
		err := cn.readLoop(c.o.ReceiveDelay)
		c.mu.Lock()
		c.cur = nil
		c.signal()
		closed := c.closed
		c.mu.Unlock()
		cn.lost()
		if closed {
			return
		}
		if errors.Is(err, ErrRefused) {
			c.stop(err)
			return
		}
		cn = c.reconnect()
		if cn == nil {
			return
		}
	}
}

// stop ends the client after a refusal.
func (c *Client) stop(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	secs := make([]*Section, 0, len(c.sections))
	for s := range c.sections {
		secs = append(secs, s)
	}
	c.signal()
	c.mu.Unlock()
	for _, s := range secs {
		s.fail(err)
	}
}

// reconnect dials until it gets a connection, then resubscribes the
// sections and resends their inflight operations. nil when the client
// closed or was refused meanwhile.
func (c *Client) reconnect() *conn {
	wait := c.o.ReconnectMin
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-time.After(wait):
		}
		cn, err := c.connect(c.ctx)
		if err != nil {
			if errors.Is(err, ErrRefused) {
				c.stop(err)
				return nil
			}
			wait = min(2*wait, c.o.ReconnectMax)
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			cn.close()
			return nil
		}
		c.cur = cn
		c.reconnects++
		c.signal()
		secs := make([]*Section, 0, len(c.sections))
		for s := range c.sections {
			secs = append(secs, s)
		}
		c.mu.Unlock()
		for _, s := range secs {
			s.reconnected()
		}
		return cn
	}
}

// message is one graphql-transport-ws message.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// connect opens a socket and does connection_init / connection_ack.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.HandshakeTimeout)
	defer cancel()
	d := websocket.Dialer{HandshakeTimeout: c.o.HandshakeTimeout, Subprotocols: []string{"graphql-transport-ws"}}
	ws, resp, err := d.DialContext(ctx, c.url, c.o.Header)
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return nil, fmt.Errorf("%w: %s answered %s", ErrRefused, c.url, resp.Status)
		}
		return nil, fmt.Errorf("otclient: dial %s: %w", c.url, err)
	}
	if ws.Subprotocol() != "graphql-transport-ws" {
		_ = ws.Close()
		return nil, fmt.Errorf("%w: the server did not accept the graphql-transport-ws subprotocol", ErrRefused)
	}
	payload := map[string]string{}
	if c.token != "" {
		payload["authToken"] = c.token
	}
	p, _ := json.Marshal(payload)
	deadline, _ := ctx.Deadline()
	_ = ws.SetWriteDeadline(deadline)
	_ = ws.SetReadDeadline(deadline)
	stopWatch := context.AfterFunc(ctx, func() { _ = ws.Close() })
	defer stopWatch()
	if err := ws.WriteJSON(message{Type: "connection_init", Payload: p}); err != nil {
		_ = ws.Close()
		return nil, fmt.Errorf("otclient: connection_init: %w", err)
	}
	for {
		var m message
		if err := ws.ReadJSON(&m); err != nil {
			_ = ws.Close()
			return nil, fmt.Errorf("otclient: waiting for connection_ack: %w", classify(err))
		}
		switch m.Type {
		case "ping":
			if err := ws.WriteJSON(message{Type: "pong"}); err != nil {
				_ = ws.Close()
				return nil, err
			}
			continue
		case "connection_ack":
		default:
			_ = ws.Close()
			return nil, fmt.Errorf("otclient: got %q before connection_ack", m.Type)
		}
		break
	}
	if !stopWatch() {
		return nil, ctx.Err()
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	cn := &conn{ws: ws, handlers: map[string]*handler{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go cn.writeLoop()
	return cn, nil
}

// classify turns a close frame with a 44xx code (the protocol's refusals:
// 4400 bad message, 4401 unauthorized, 4403 forbidden...) into ErrRefused.
func classify(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code >= 4400 && ce.Code < 4500 && ce.Code != 4408 {
		return fmt.Errorf("%w: %d %s", ErrRefused, ce.Code, ce.Text)
	}
	return err
}

// handler receives the messages of one operation.
type handler struct {
	next     func(result)
	fail     func(error) // an "error" message
	complete func()
	lost     func() // the connection dropped
}

// conn is one socket: a reader (Client.loop) and a writer goroutine.
type conn struct {
	ws *websocket.Conn

	mu       sync.Mutex
	handlers map[string]*handler
	lastID   int
	queue    [][]byte
	dead     bool

	wake      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (cn *conn) close() {
	cn.closeOnce.Do(func() {
		close(cn.done)
		_ = cn.ws.Close()
	})
}

// enqueue hands b to the writer; it never blocks. false: the socket is gone.
func (cn *conn) enqueue(b []byte) bool {
	cn.mu.Lock()
	if cn.dead {
		cn.mu.Unlock()
		return false
	}
	cn.queue = append(cn.queue, b)
	cn.mu.Unlock()
	select {
	case cn.wake <- struct{}{}:
	default:
	}
	return true
}

func (cn *conn) writeLoop() {
	for {
		select {
		case <-cn.done:
			return
		case <-cn.wake:
		}
		cn.mu.Lock()
		q := cn.queue
		cn.queue = nil
		cn.mu.Unlock()
		for _, b := range q {
			_ = cn.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := cn.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				cn.close()
				return
			}
		}
	}
}

// start registers h under a new id and sends subscribe.
func (cn *conn) start(query string, vars map[string]any, h *handler) (string, bool) {
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	cn.mu.Lock()
	if cn.dead {
		cn.mu.Unlock()
		return "", false
	}
	cn.lastID++
	id := strconv.Itoa(cn.lastID)
	cn.handlers[id] = h
	cn.mu.Unlock()
	b, _ := json.Marshal(message{ID: id, Type: "subscribe", Payload: payload})
	return id, cn.enqueue(b)
}

// stop forgets id and sends complete.
func (cn *conn) stop(id string) {
	cn.mu.Lock()
	_, ok := cn.handlers[id]
	delete(cn.handlers, id)
	cn.mu.Unlock()
	if ok {
		b, _ := json.Marshal(message{ID: id, Type: "complete"})
		cn.enqueue(b)
	}
}

// errDropped: the socket was closed under the reader (DropConnection,
// Options.DropOnCommit, Close).
var errDropped = errors.New("otclient: the socket was closed")

// readLoop dispatches messages until the socket fails. With delay, a
// second goroutine reads and stamps each message with the time it may be
// handled; this one handles them in order, each no earlier than its time.
func (cn *conn) readLoop(delay func() time.Duration) error {
	defer cn.close()
	if delay == nil {
		for {
			_, b, err := cn.ws.ReadMessage()
			if err != nil {
				return classify(err)
			}
			if err := cn.dispatch(b); err != nil {
				return err
			}
		}
	}
	type frame struct {
		b   []byte
		due time.Time
		err error
	}
	frames := make(chan frame, 1024)
	go func() {
		for {
			_, b, err := cn.ws.ReadMessage()
			f := frame{b: b, err: err}
			if err == nil {
				f.due = time.Now().Add(delay())
			}
			select {
			case frames <- f:
			case <-cn.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var f frame
		select {
		case f = <-frames:
		case <-cn.done:
			return errDropped
		}
		if f.err != nil {
			return classify(f.err)
		}
		if d := time.Until(f.due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-cn.done:
				t.Stop()
				return errDropped
			}
		}
		if err := cn.dispatch(f.b); err != nil {
			return err
		}
	}
}

// dispatch hands one message to its handler. Once the socket is closed
// (a handler may close it) nothing more is handled, even what was read.
func (cn *conn) dispatch(b []byte) error {
	select {
	case <-cn.done:
		return errDropped
	default:
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("otclient: a message that is not JSON: %w", err)
	}
	switch m.Type {
	case "ping":
		pong, _ := json.Marshal(message{Type: "pong"})
		cn.enqueue(pong)
		return nil
	case "pong":
		return nil
	}
	cn.mu.Lock()
	h := cn.handlers[m.ID]
	if m.Type == "error" || m.Type == "complete" {
		delete(cn.handlers, m.ID)
	}
	cn.mu.Unlock()
	if h == nil {
		return nil
	}
	switch m.Type {
	case "next":
		var r result
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			r.Errors = []gqlError{{Message: "a next message that is not a GraphQL result: " + err.Error()}}
		}
		h.next(r)
	case "error":
		var errs []gqlError
		if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 {
			errs = []gqlError{{Message: "an error message without errors: " + string(m.Payload)}}
		}
		h.fail(firstError(errs))
	case "complete":
		h.complete()
	}
	return nil
}

// lost marks cn dead and tells every handler.
func (cn *conn) lost() {
	cn.mu.Lock()
	cn.dead = true
	hs := cn.handlers
	cn.handlers = map[string]*handler{}
	cn.queue = nil
	cn.mu.Unlock()
	for _, h := range hs {
		h.lost()
	}
}

// current waits until the client is connected and returns the socket.
func (c *Client) current(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, err, ch := c.cur, c.err, c.changed
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if cn != nil {
			return cn, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Do runs a query or mutation over the socket (waiting for a connection
// if it is down) and decodes its data into out (if not nil). A GraphQL
// error is returned as an *Error; data is decoded even then. A socket that
// drops before the answer gives ErrConnectionLost.
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	cn, err := c.current(ctx)
	if err != nil {
		return err
	}
	type answer struct {
		r   result
		err error
	}
	ch := make(chan answer, 1)
	put := func(a answer) {
		select {
		case ch <- a:
		default:
		}
	}
	id, ok := cn.start(query, vars, &handler{
		next:     func(r result) { put(answer{r: r}) },
		fail:     func(err error) { put(answer{err: err}) },
		complete: func() { put(answer{err: errors.New("otclient: completed without a result")}) },
		lost:     func() { put(answer{err: ErrConnectionLost}) },
	})
	if !ok {
		return ErrConnectionLost
	}
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		cn.stop(id)
		return ctx.Err()
	}
	if a.err != nil {
		return a.err
	}
	if out != nil && len(a.r.Data) > 0 && string(a.r.Data) != "null" {
		if err := json.Unmarshal(a.r.Data, out); err != nil {
			return fmt.Errorf("otclient: decoding the answer: %w", err)
		}
	}
	return firstError(a.r.Errors)
}

// SignIn signs in over HTTP at addr (http://host:port) with the signIn
// mutation and returns the session token.
func SignIn(ctx context.Context, addr, email, password string) (string, error) {
	var out struct {
		SignIn struct{ Token string } `json:"signIn"`
	}
	err := PostGraphQL(ctx, addr, "", `mutation($in: SignInInput!) { signIn(input: $in) { token } }`,
		map[string]any{"in": map[string]string{"email": email, "password": password}}, &out)
	if err != nil {
		return "", err
	}
	return out.SignIn.Token, nil
}

// PostGraphQL runs query over HTTP POST at addr (http://host:port or the
// /graphql URL itself), with token as a bearer token when not empty, and
// decodes data into out. GraphQL errors are returned as *Error.
func PostGraphQL(ctx context.Context, addr, token, query string, vars map[string]any, out any) error {
	u, err := url.Parse(addr)
	if err != nil {
		return err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/graphql"
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("otclient: POST %s answered %s with a body that is not a GraphQL result: %w", u, resp.Status, err)
	}
	if out != nil && len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, out); err != nil {
			return fmt.Errorf("otclient: decoding the answer: %w", err)
		}
	}
	return firstError(r.Errors)
}

// ErrEnded: the server completed a subscription.
var ErrEnded = errors.New("otclient: the stream ended")

// Subscribe starts a subscription on the current connection (waiting for
// one if it is down). fn gets, on the client's reader goroutine, the data of
// each item, or once the error that ended it: a GraphQL error (*Error),
// ErrEnded when the server completed it, ErrConnectionLost when the socket
// dropped (it is not renewed: subscribe again). stop ends it.
func (c *Client) Subscribe(ctx context.Context, query string, vars map[string]any, fn func(data json.RawMessage, err error)) (stop func(), err error) {
	cn, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	ended := false
	end := func(err error) {
		mu.Lock()
		was := ended
		ended = true
		mu.Unlock()
		if !was {
			fn(nil, err)
		}
	}
	id, ok := cn.start(query, vars, &handler{
		next: func(r result) {
			if len(r.Errors) > 0 {
				end(firstError(r.Errors))
				return
			}
			mu.Lock()
			done := ended
			mu.Unlock()
			if !done {
				fn(r.Data, nil)
			}
		},
		fail:     end,
		complete: func() { end(ErrEnded) },
		lost:     func() { end(ErrConnectionLost) },
	})
	if !ok {
		return nil, ErrConnectionLost
	}
	return func() {
		mu.Lock()
		ended = true
		mu.Unlock()
		cn.stop(id)
	}, nil
}

// ReadLog returns a section's committed edits with since < version <=
// until, in order, read from the sectionEdits replay.
func (c *Client) ReadLog(ctx context.Context, sectionID string, since, until int64) ([]Edit, error) {
	if until <= since {
		return nil, nil
	}
	type item struct {
		e   Edit
		err error
	}
	ch := make(chan item, 64)
	done := make(chan struct{})
	defer close(done)
	stop, err := c.Subscribe(ctx, editsSubscription, map[string]any{"id": sectionID, "v": since}, func(data json.RawMessage, err error) {
		var it item
		if err != nil {
			it.err = err
		} else {
			var d struct {
				SectionEdits *Edit `json:"sectionEdits"`
			}
			if it.err = json.Unmarshal(data, &d); it.err == nil && d.SectionEdits == nil {
				it.err = fmt.Errorf("%w: a stream message without an edit", ErrInconsistent)
			}
			if it.err == nil {
				it.e = *d.SectionEdits
			}
		}
		select {
		case ch <- it:
		case <-done:
		}
	})
	if err != nil {
		return nil, err
	}
	defer stop()
	var log []Edit
	for {
		select {
		case it := <-ch:
			if it.err != nil {
				return log, it.err
			}
			if want := since + int64(len(log)) + 1; it.e.Version != want {
				return log, fmt.Errorf("%w: the log gave version %d, want %d", ErrInconsistent, it.e.Version, want)
			}
			log = append(log, it.e)
			if it.e.Version >= until {
				return log, nil
			}
		case <-ctx.Done():
			return log, ctx.Err()
		}
	}
}
