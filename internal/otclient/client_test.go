package otclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pia-sicilia/pia/internal/ot"
)

// fakeServer speaks just enough graphql-transport-ws and of PIA's schema
// (node, sectionEdits, editSection on one section "S1") to exercise the
// client's sockets, reconnections and the order of answers and streams.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	log   *fakeLog
	subs  map[*fakeSub]struct{}
	conns map[*websocket.Conn]*sync.Mutex
	rng   *rand.Rand
}

type fakeSub struct {
	ws    *websocket.Conn
	wmu   *sync.Mutex
	id    string
	since int64
}

func newFakeServer(t *testing.T, text string) *fakeServer {
	f := &fakeServer{t: t, log: newFakeLog(text), subs: map[*fakeSub]struct{}{},
		conns: map[*websocket.Conn]*sync.Mutex{}, rng: rand.New(rand.NewPCG(1, 2))}
	up := websocket.Upgrader{Subprotocols: []string{"graphql-transport-ws"}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.serve(ws)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) write(ws *websocket.Conn, wmu *sync.Mutex, m message) {
	wmu.Lock()
	defer wmu.Unlock()
	_ = ws.WriteJSON(m)
}

func (f *fakeServer) serve(ws *websocket.Conn) {
	defer ws.Close()
	var init message
	if err := ws.ReadJSON(&init); err != nil || init.Type != "connection_init" {
		return
	}
	var p struct{ AuthToken string }
	_ = json.Unmarshal(init.Payload, &p)
	if p.AuthToken != "good" {
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4403, "Forbidden"))
		return
	}
	wmu := &sync.Mutex{}
	f.write(ws, wmu, message{Type: "ping"}) // the client must answer pings before the ack too
	f.write(ws, wmu, message{Type: "connection_ack"})
	f.mu.Lock()
	f.conns[ws] = wmu
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.conns, ws)
		for s := range f.subs {
			if s.ws == ws {
				delete(f.subs, s)
			}
		}
		f.mu.Unlock()
	}()
	for {
		var m message
		if err := ws.ReadJSON(&m); err != nil {
			return
		}
		if m.Type == "complete" {
			f.mu.Lock()
			for s := range f.subs {
				if s.ws == ws && s.id == m.ID {
					delete(f.subs, s)
				}
			}
			f.mu.Unlock()
			continue
		}
		if m.Type != "subscribe" {
			continue
		}
		var req struct {
			Query     string
			Variables map[string]json.RawMessage
		}
		_ = json.Unmarshal(m.Payload, &req)
		f.handle(ws, wmu, m.ID, req.Query, req.Variables)
	}
}

func (f *fakeServer) next(ws *websocket.Conn, wmu *sync.Mutex, id string, data any) {
	b, _ := json.Marshal(map[string]any{"data": data})
	f.write(ws, wmu, message{ID: id, Type: "next", Payload: b})
}

func (f *fakeServer) handle(ws *websocket.Conn, wmu *sync.Mutex, id, query string, vars map[string]json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.Contains(query, "sectionEdits"):
		var since int64
		_ = json.Unmarshal(vars["v"], &since)
		s := &fakeSub{ws: ws, wmu: wmu, id: id, since: since}
		for _, e := range f.log.log[since:] {
			f.next(ws, wmu, id, map[string]any{"sectionEdits": e})
		}
		f.subs[s] = struct{}{}
	case strings.Contains(query, "editSection"):
		var in struct {
			BaseVersion int64
			Operation   ot.Op
			ClientID    string
			ClientSeq   int64
		}
		_ = json.Unmarshal(vars["in"], &in)
		e := f.log.submit(f.t, in.ClientID, &submission{Base: in.BaseVersion, Op: in.Operation, Seq: in.ClientSeq})
		answer := func() {
			f.next(ws, wmu, id, map[string]any{"editSection": map[string]any{"version": e.Version}})
			f.write(ws, wmu, message{ID: id, Type: "complete"})
		}
		first := f.rng.IntN(2) == 0
		if first {
			answer()
		}
		if int(e.Version) == len(f.log.log) { // not a resubmission
			for s := range f.subs {
				f.next(s.ws, s.wmu, s.id, map[string]any{"sectionEdits": e})
			}
		}
		if !first {
			answer()
		}
		if len(f.log.log)%7 == 0 {
			// As a server whose subscriber fell behind: an error with code
			// RESUBSCRIBE as the last item, then complete.
			b, _ := json.Marshal(map[string]any{"data": nil, "errors": []map[string]any{{"message": "fell behind",
				"extensions": map[string]any{"code": "RESUBSCRIBE"}}}})
			for s := range f.subs {
				f.write(s.ws, s.wmu, message{ID: s.id, Type: "next", Payload: b})
				f.write(s.ws, s.wmu, message{ID: s.id, Type: "complete"})
				delete(f.subs, s)
			}
		}
	case strings.Contains(query, "node("):
		f.next(ws, wmu, id, map[string]any{"node": map[string]any{"__typename": "Section", "text": f.log.text, "version": len(f.log.log)}})
		f.write(ws, wmu, message{ID: id, Type: "complete"})
	default:
		b, _ := json.Marshal([]map[string]any{{"message": "unknown field", "extensions": map[string]any{"code": "BAD_USER_INPUT"}}})
		f.write(ws, wmu, message{ID: id, Type: "error", Payload: b})
	}
}

func (f *fakeServer) text() (string, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.text, int64(len(f.log.log))
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Clients editing through real sockets, dropped at random, converge to the
// server's text, and every acknowledged operation is in the server's log.
func TestClientsConvergeThroughDrops(t *testing.T) {
	f := newFakeServer(t, "Linee guida")
	ctx := ctxFor(t)
	const n, edits = 4, 150
	type member struct {
		c *Client
		s *Section
	}
	var ms []member
	for i := range n {
		c, err := Dial(ctx, f.srv.URL, "good", Options{ClientID: fmt.Sprint("client", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		s, err := c.OpenSection(ctx, "S1")
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, member{c, s})
	}
	var wg sync.WaitGroup
	var ackMu sync.Mutex
	acks := map[string]int64{}
	for i, m := range ms {
		m.s.OnAck(func(a Ack) {
			ackMu.Lock()
			acks[fmt.Sprintf("%s/%d", a.ClientID, a.ClientSeq)] = a.Version
			ackMu.Unlock()
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			for k := range edits {
				l := m.s.Len()
				var err error
				if l > 0 && rng.IntN(4) == 0 {
					pos := rng.IntN(l)
					err = m.s.Delete(pos, 1+rng.IntN(min(2, l-pos)))
				} else {
					err = m.s.Insert(rng.IntN(l+1), string([]rune("xé😀")[rng.IntN(3)]))
				}
				if err != nil {
					t.Error(err)
					return
				}
				if k%40 == 39 {
					m.c.DropConnection()
				}
				if rng.IntN(3) == 0 {
					time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	for _, m := range ms {
		if err := m.s.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want, version := f.text()
	for _, m := range ms {
		if err := m.s.WaitVersion(ctx, version); err != nil {
			t.Fatal(err)
		}
		if got := m.s.Text(); got != want || m.s.Version() != version || m.s.State() != "Synchronized" {
			t.Errorf("%s: %q v%d, server %q v%d", m.c.ID(), got, m.s.Version(), want, version)
		}
		if m.c.Reconnects() < 1 {
			t.Errorf("%s reconnected %d times, want at least once", m.c.ID(), m.c.Reconnects())
		}
		if m.s.Resubscriptions() <= m.c.Reconnects() {
			t.Errorf("%s resubscribed %d times for %d reconnections: RESUBSCRIBE was not followed (version %d)", m.c.ID(), m.s.Resubscriptions(), m.c.Reconnects(), version)
		}
	}
	log, err := ms[0].c.ReadLog(ctx, "S1", 10, version)
	if err != nil || int64(len(log)) != version-10 || log[0].Version != 11 {
		t.Fatalf("ReadLog(10, %d): %d edits, %v", version, len(log), err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ackMu.Lock()
	defer ackMu.Unlock()
	for key, v := range acks {
		if e := f.log.log[v-1]; fmt.Sprintf("%s/%d", e.ClientID, e.ClientSeq) != key {
			t.Errorf("ack %s at version %d, the log has %s/%d there", key, v, e.ClientID, e.ClientSeq)
		}
	}
	if len(acks) != len(f.log.log) {
		t.Errorf("%d acks for %d logged operations", len(acks), len(f.log.log))
	}
}

// InsertAwait's channel receives the ack; a remote edit reaches OnRemote.
func TestClientAwaitAndRemote(t *testing.T) {
	f := newFakeServer(t, "")
	ctx := ctxFor(t)
	a, err := Dial(ctx, f.srv.URL, "good", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Dial(ctx, strings.Replace(f.srv.URL, "http", "ws", 1)+"/graphql", "good", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sa, err := a.OpenSection(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.OpenSection(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	sb.OnRemote(func(op ot.Op) {
		for _, c := range op {
			if c.Insert != "" {
				got <- c.Insert
			}
		}
	})
	ch, err := sa.InsertAwait(0, "𝄞")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ack := <-ch:
		if ack.Err != nil || ack.Version != 1 || ack.ClientID != a.ID() || ack.ClientSeq != 1 || ack.At.IsZero() {
			t.Errorf("ack %+v", ack)
		}
	case <-ctx.Done():
		t.Fatal("no ack")
	}
	select {
	case s := <-got:
		if s != "𝄞" {
			t.Errorf("remote insert %q", s)
		}
	case <-ctx.Done():
		t.Fatal("no remote op")
	}
	if sb.Text() != "𝄞" || sb.Len() != 1 {
		t.Errorf("b has %q", sb.Text())
	}

	var out struct{ X int }
	var gqlErr *Error
	if err := a.Do(ctx, "{ nothing }", nil, &out); !errors.As(err, &gqlErr) || gqlErr.Code != "BAD_USER_INPUT" {
		t.Errorf("an error answer: %v", err)
	}
	if err := sa.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sa.Insert(0, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("insert on a closed section: %v", err)
	}
}

// A token the server refuses is an error at Dial, not a reconnection loop.
func TestClientRefusedToken(t *testing.T) {
	f := newFakeServer(t, "")
	_, err := Dial(ctxFor(t), f.srv.URL, "bad", Options{})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("dial with a bad token: %v, want ErrRefused", err)
	}
}

func TestWebsocketURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":        "ws://127.0.0.1:8080/graphql",
		"https://pia.example/":         "wss://pia.example/graphql",
		"ws://127.0.0.1:8080/graphql":  "ws://127.0.0.1:8080/graphql",
		"http://127.0.0.1:8080/custom": "ws://127.0.0.1:8080/custom",
	} {
		if got, err := WebsocketURL(in); err != nil || got != want {
			t.Errorf("WebsocketURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := WebsocketURL("ftp://x"); err == nil {
		t.Error("ftp:// accepted")
	}
}

// With DropOnCommit, sockets close after the server committed an operation
// and before the client read that: the client resends it, the server's
// first answer comes back, and nothing is lost or applied twice. With
// ReceiveDelay every message is late, in order.
func TestDropOnCommitResendsCommittedOperations(t *testing.T) {
	f := newFakeServer(t, "testo")
	ctx := ctxFor(t)
	const n, edits = 3, 40
	type resent struct {
		key     string
		version int64
	}
	var mu sync.Mutex
	var answers []resent
	var asked []string
	var cs []*Client
	var ss []*Section
	for i := range n {
		id := fmt.Sprint("client", i)
		o := Options{ClientID: id,
			OnAnswer: func(sectionID string, a Answer) {
				if sectionID != "S1" || a.Err != nil {
					t.Errorf("answer %+v to %s", a, sectionID)
				}
				if a.Resent {
					mu.Lock()
					answers = append(answers, resent{fmt.Sprintf("%s/%d", id, a.ClientSeq), a.Version})
					mu.Unlock()
				}
			},
			DropOnCommit: func(seq int64) bool {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, fmt.Sprintf("%s/%d", id, seq))
				return seq%3 == 0
			}}
		if i > 0 {
			o.ReceiveDelay = func() time.Duration { return time.Duration(rand.IntN(3)) * time.Millisecond }
		}
		c, err := Dial(ctx, f.srv.URL, "good", o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		s, err := c.OpenSection(ctx, "S1")
		if err != nil {
			t.Fatal(err)
		}
		cs, ss = append(cs, c), append(ss, s)
	}
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Go(func() {
			for k := range edits {
				if err := s.Insert(s.Len()*k%(s.Len()+1), string(rune('a'+i))); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, s := range ss {
		if err := s.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want, version := f.text()
	for i, s := range ss {
		if err := s.WaitVersion(ctx, version); err != nil {
			t.Fatal(err)
		}
		if got := s.Text(); got != want {
			t.Errorf("client %d holds %q, the server %q", i, got, want)
		}
		if cs[i].Resends() < 1 || cs[i].Reconnects() < cs[i].Resends() {
			t.Errorf("client %d: %d resends, %d reconnections; want at least one resend, each after a reconnection",
				i, cs[i].Resends(), cs[i].Reconnects())
		}
	}
	if got := len([]rune(want)); got != len("testo")+n*edits {
		t.Errorf("the server's text has %d code points, want %d: an insert was lost or applied twice", got, len("testo")+n*edits)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(answers) == 0 {
		t.Fatal("no answer to a resent operation")
	}
	for _, a := range answers {
		if v, ok := f.log.seen[a.key]; !ok || v != a.version {
			t.Errorf("resent %s answered with version %d, first committed at %d", a.key, a.version, v)
		}
	}
	seen := map[string]bool{}
	for _, key := range asked {
		if seen[key] {
			t.Errorf("DropOnCommit asked twice about %s", key)
		}
		seen[key] = true
	}
}
