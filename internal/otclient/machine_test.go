package otclient

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

// fakeLog is the server's side of the protocol in memory: transform an
// incoming operation against what was committed after its base version
// (committed first, so committed inserts stay left), apply, append; a
// resubmitted (clientId, clientSeq) gets its first answer.
type fakeLog struct {
	text string
	log  []Edit
	seen map[string]int64
}

func newFakeLog(text string) *fakeLog { return &fakeLog{text: text, seen: map[string]int64{}} }

func (f *fakeLog) submit(t *testing.T, clientID string, s *submission) Edit {
	t.Helper()
	key := fmt.Sprintf("%s/%d", clientID, s.Seq)
	if v, ok := f.seen[key]; ok {
		return f.log[v-1]
	}
	op := s.Op
	for _, e := range f.log[s.Base:] {
		var err error
		if _, op, err = ot.Transform(e.Op, op); err != nil {
			t.Fatalf("server: transforming %s/%d against version %d: %v", clientID, s.Seq, e.Version, err)
		}
	}
	text, err := ot.Apply(f.text, op)
	if err != nil {
		t.Fatalf("server: applying %s/%d: %v", clientID, s.Seq, err)
	}
	f.text = text
	e := Edit{Version: int64(len(f.log) + 1), Op: op, ClientID: clientID, ClientSeq: s.Seq}
	f.log = append(f.log, e)
	f.seen[key] = e.Version
	return e
}

func newMachine(id, text string, version int64) *machine {
	var seq int64
	return &machine{clientID: id, nextSeq: func() int64 { seq++; return seq }, text: []rune(text), version: version}
}

func ins(n, pos int, s string) ot.Op {
	op, err := insertOp(n, pos, s)
	if err != nil {
		panic(err)
	}
	return op
}

func del(n, pos, count int) ot.Op {
	op, err := deleteOp(n, pos, count)
	if err != nil {
		panic(err)
	}
	return op
}

func mustLocal(t *testing.T, m *machine, op ot.Op, w chan Ack) *submission {
	t.Helper()
	s, _, err := m.local(op, w)
	if err != nil {
		t.Fatalf("local %v: %v", op, err)
	}
	return s
}

func mustRemote(t *testing.T, m *machine, e Edit) remoteResult {
	t.Helper()
	r, err := m.remote(e)
	if err != nil {
		t.Fatalf("remote v%d: %v", e.Version, err)
	}
	return r
}

// The three states of ot.js, one operation in flight, the rest composed
// into the buffer and sent as one operation on the ack.
func TestMachineStates(t *testing.T) {
	srv := newFakeLog("hello")
	m := newMachine("a", "hello", 0)
	if m.state() != "Synchronized" {
		t.Fatalf("state %s", m.state())
	}
	w1 := make(chan Ack, 1)
	s1 := mustLocal(t, m, ins(5, 5, " world"), w1)
	if s1 == nil || s1.Base != 0 || s1.Seq != 1 || m.state() != "AwaitingConfirm" {
		t.Fatalf("first edit: send %+v, state %s", s1, m.state())
	}
	w2, w3 := make(chan Ack, 1), make(chan Ack, 1)
	if s := mustLocal(t, m, ins(11, 0, "¡"), w2); s != nil {
		t.Fatalf("second edit sent while one is in flight: %+v", s)
	}
	if s := mustLocal(t, m, del(12, 1, 5), w3); s != nil {
		t.Fatalf("third edit sent while one is in flight: %+v", s)
	}
	if m.state() != "AwaitingWithBuffer" || string(m.text) != "¡ world" {
		t.Fatalf("state %s, text %q", m.state(), string(m.text))
	}

	e1 := srv.submit(t, "a", s1)
	a, send, err := m.answer(s1.Seq, e1.Version)
	if err != nil || a == nil || a.ack.Version != 1 || a.ack.ClientSeq != 1 || len(a.waiters) != 1 || a.waiters[0] != w1 {
		t.Fatalf("answer: %+v %v", a, err)
	}
	if send == nil || send.Base != 1 || send.Seq != 2 || m.state() != "AwaitingConfirm" {
		t.Fatalf("after the ack the buffer is sent: %+v, state %s", send, m.state())
	}
	if got, _ := ot.Apply("hello world", send.Op); got != "¡ world" {
		t.Fatalf("the composed buffer gives %q", got)
	}
	// The own operation coming back on the stream afterwards changes nothing.
	if r := mustRemote(t, m, e1); r.applied != nil || r.ack != nil || r.send != nil {
		t.Fatalf("own edit replayed: %+v", r)
	}
	e2 := srv.submit(t, "a", send)
	// This time the stream brings the ack first; the answer then is stale.
	r := mustRemote(t, m, e2)
	if r.ack == nil || r.ack.ack.Version != 2 || len(r.ack.waiters) != 2 || r.applied != nil || r.send != nil {
		t.Fatalf("own edit on the stream: %+v", r)
	}
	if a, send, err := m.answer(send.Seq, 2); a != nil || send != nil || err != nil {
		t.Fatalf("late answer: %+v %+v %v", a, send, err)
	}
	if m.state() != "Synchronized" || m.version != 2 || string(m.text) != srv.text {
		t.Fatalf("end: %s v%d %q, server %q", m.state(), m.version, string(m.text), srv.text)
	}
}

// Two clients insert at the same place: the one the server committed first
// is on the left at both, as the server's tie-break says.
func TestMachineTieBreak(t *testing.T) {
	srv := newFakeLog("ab")
	a, b := newMachine("a", "ab", 0), newMachine("b", "ab", 0)
	sa := mustLocal(t, a, ins(2, 1, "X"), nil)
	sb := mustLocal(t, b, ins(2, 1, "Y"), nil)
	ea := srv.submit(t, "a", sa) // a first
	eb := srv.submit(t, "b", sb)
	if srv.text != "aXYb" {
		t.Fatalf("server %q", srv.text)
	}
	for _, m := range []*machine{a, b} {
		mustRemote(t, m, ea)
		mustRemote(t, m, eb)
		if string(m.text) != "aXYb" || m.version != 2 || m.state() != "Synchronized" {
			t.Errorf("%s: %q v%d %s", m.clientID, string(m.text), m.version, m.state())
		}
	}
}

// The answer may overtake the stream: the ack waits until the versions
// before it are applied.
func TestMachineAnswerOvertakesStream(t *testing.T) {
	srv := newFakeLog("")
	a, b := newMachine("a", "", 0), newMachine("b", "", 0)
	eb := srv.submit(t, "b", mustLocal(t, b, ins(0, 0, "🙂"), nil))
	w := make(chan Ack, 1)
	sa := mustLocal(t, a, ins(0, 0, "x"), w)
	mustLocal(t, a, ins(1, 1, "y"), nil) // buffered
	ea := srv.submit(t, "a", sa)
	done, send, err := a.answer(sa.Seq, ea.Version)
	if done != nil || send != nil || err != nil || a.version != 0 {
		t.Fatalf("answer at 2 while at 0 must wait: %+v %+v %v", done, send, err)
	}
	r := mustRemote(t, a, eb)
	if r.applied == nil || r.ack == nil || r.ack.ack.Version != 2 || r.send == nil || r.send.Base != 2 {
		t.Fatalf("version 1 then the ack: %+v", r)
	}
	if r := mustRemote(t, a, ea); r.applied != nil || r.ack != nil {
		t.Fatalf("the own edit after its ack: %+v", r)
	}
	srv.submit(t, "a", r.send)
	if string(a.text) != "🙂xy" || srv.text != "🙂xy" {
		t.Fatalf("client %q, server %q", string(a.text), srv.text)
	}
}

func TestMachineGapsAndInconsistencies(t *testing.T) {
	m := newMachine("a", "abc", 3)
	if r, err := m.remote(Edit{Version: 2, Op: ins(3, 0, "z"), ClientID: "b", ClientSeq: 1}); err != nil || r.applied != nil {
		t.Errorf("an old version: %+v %v, want it skipped", r, err)
	}
	if _, err := m.remote(Edit{Version: 5, Op: ins(3, 0, "z"), ClientID: "b", ClientSeq: 1}); !errors.Is(err, errGap) {
		t.Errorf("a skipped version: %v, want errGap", err)
	}
	if _, err := m.remote(Edit{Version: 4, Op: ins(2, 0, "z"), ClientID: "b", ClientSeq: 1}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("an operation of the wrong length: %v, want ErrInconsistent", err)
	}
	if string(m.text) != "abc" || m.version != 3 {
		t.Errorf("refused messages changed the state: %q v%d", string(m.text), m.version)
	}

	s := mustLocal(t, m, ins(3, 3, "d"), nil)
	if _, _, err := m.answer(s.Seq, 6); err != nil {
		t.Fatal(err)
	}
	// The answer put it at version 6: the stream may not bring it at 4.
	if _, err := m.remote(Edit{Version: 4, Op: s.Op, ClientID: "a", ClientSeq: s.Seq}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("own operation streamed at 4 after the answer said 6: %v", err)
	}
	if _, _, err := m.answer(s.Seq, 2); !errors.Is(err, ErrInconsistent) {
		t.Errorf("an answer at a version already applied: %v", err)
	}
	if _, _, err := m.local(ins(3, 0, "x"), nil); !errors.Is(err, ot.ErrBaseLength) {
		t.Errorf("a local op of the wrong length: %v", err)
	}
	if _, done, err := m.local(ot.Op{{Retain: 4}}, nil); err != nil || done == nil || done.ack.Version != m.version {
		t.Errorf("a no-op: %+v %v, want acknowledged at once", done, err)
	}
}

// After a reconnection the inflight operation goes again as first sent;
// the server's first answer and the replay both acknowledge it once.
func TestMachineResend(t *testing.T) {
	srv := newFakeLog("")
	a, b := newMachine("a", "", 0), newMachine("b", "", 0)
	sa := mustLocal(t, a, ins(0, 0, "a"), nil)
	eb := srv.submit(t, "b", mustLocal(t, b, ins(0, 0, "b"), nil))
	mustRemote(t, a, eb) // a's inflight is now transformed
	ea := srv.submit(t, "a", sa)
	// The answer is lost with the socket; a resends.
	re := a.resend()
	if re == nil || re.Seq != sa.Seq || re.Base != sa.Base || fmt.Sprint(re.Op) != fmt.Sprint(sa.Op) {
		t.Fatalf("resend %+v, want %+v", re, sa)
	}
	if again := srv.submit(t, "a", re); again.Version != ea.Version {
		t.Fatalf("the server applied the resend again: %+v", again)
	}
	r := mustRemote(t, a, ea) // the replay brings it back first
	if r.ack == nil {
		t.Fatalf("replayed own edit: %+v", r)
	}
	if done, _, err := a.answer(re.Seq, ea.Version); done != nil || err != nil {
		t.Fatalf("answer after the replay: %+v %v", done, err)
	}
	if string(a.text) != srv.text || a.resend() != nil {
		t.Fatalf("client %q, server %q", string(a.text), srv.text)
	}
}

// simClient is a machine with its network: submissions on the way to the
// server, answers and stream items on the way back.
type simClient struct {
	m       *machine
	toSrv   []*submission
	answers []Edit
	next    int64 // the next version the stream delivers
}

// Many clients edit at random with inserts and deletes (astral characters
// too), the network delays and reorders answers against the stream, and
// connections drop (losing what was on the wire); at the end every client
// has the server's text.
func TestMachineConvergesUnderChaos(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, seed) })
	}
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	alphabet := []rune("ab cdé€😀𝄞\n")
	srv := newFakeLog("start")
	var clients []*simClient
	for i := range 5 {
		clients = append(clients, &simClient{m: newMachine(fmt.Sprint("c", i), srv.text, 0), next: 1})
	}
	send := func(c *simClient, s *submission) {
		if s != nil {
			c.toSrv = append(c.toSrv, s)
		}
	}
	step := func(c *simClient) {
		switch k := rng.IntN(100); {
		case k < 30: // a local edit
			n := len(c.m.text)
			var op ot.Op
			if n > 0 && rng.IntN(3) == 0 {
				pos := rng.IntN(n)
				op = del(n, pos, 1+rng.IntN(min(3, n-pos)))
			} else {
				var b strings.Builder
				for range 1 + rng.IntN(3) {
					b.WriteRune(alphabet[rng.IntN(len(alphabet))])
				}
				op = ins(n, rng.IntN(n+1), b.String())
			}
			s, _, err := c.m.local(op, nil)
			if err != nil {
				t.Fatal(err)
			}
			send(c, s)
		case k < 50: // the server takes a submission
			if len(c.toSrv) > 0 {
				e := srv.submit(t, c.m.clientID, c.toSrv[0])
				c.toSrv = c.toSrv[1:]
				c.answers = append(c.answers, e)
			}
		case k < 70: // an answer arrives
			if len(c.answers) > 0 {
				e := c.answers[0]
				c.answers = c.answers[1:]
				_, s, err := c.m.answer(e.ClientSeq, e.Version)
				if err != nil {
					t.Fatal(err)
				}
				send(c, s)
			}
		case k < 97: // the stream delivers
			if c.next <= int64(len(srv.log)) {
				r, err := c.m.remote(srv.log[c.next-1])
				if err != nil {
					t.Fatal(err)
				}
				c.next++
				send(c, r.send)
			}
		default: // the socket drops: what was on the wire may or may not have reached the server
			for _, s := range c.toSrv {
				if rng.IntN(2) == 0 {
					srv.submit(t, c.m.clientID, s)
				}
			}
			c.toSrv, c.answers = nil, nil
			c.next = c.m.version + 1 // resubscribe from the version
			send(c, c.m.resend())
		}
	}
	for range 3000 {
		step(clients[rng.IntN(len(clients))])
	}
	// Quiesce: deliver everything.
	for busy := true; busy; {
		busy = false
		for _, c := range clients {
			for len(c.toSrv) > 0 {
				c.answers = append(c.answers, srv.submit(t, c.m.clientID, c.toSrv[0]))
				c.toSrv = c.toSrv[1:]
				busy = true
			}
			for len(c.answers) > 0 || c.next <= int64(len(srv.log)) {
				busy = true
				if len(c.answers) > 0 && rng.IntN(2) == 0 {
					e := c.answers[0]
					c.answers = c.answers[1:]
					_, s, err := c.m.answer(e.ClientSeq, e.Version)
					if err != nil {
						t.Fatal(err)
					}
					send(c, s)
				} else if c.next <= int64(len(srv.log)) {
					r, err := c.m.remote(srv.log[c.next-1])
					if err != nil {
						t.Fatal(err)
					}
					c.next++
					send(c, r.send)
				}
			}
		}
	}
	for _, c := range clients {
		if got := string(c.m.text); got != srv.text || c.m.version != int64(len(srv.log)) || !c.m.synced() {
			t.Errorf("%s: %q v%d %s, server %q v%d", c.m.clientID, got, c.m.version, c.m.state(), srv.text, len(srv.log))
		}
	}
	if len(srv.log) < 100 {
		t.Errorf("only %d operations committed", len(srv.log))
	}
}
