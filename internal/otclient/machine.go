package otclient

import (
	"errors"
	"fmt"

	"github.com/pia-sicilia/pia/internal/ot"
)

// Edit is a committed operation as the server sends it, on the
// sectionEdits stream or as the answer to editSection.
type Edit struct {
	Version   int64  `json:"version"`
	Op        ot.Op  `json:"operation"`
	ClientID  string `json:"clientId"`
	ClientSeq int64  `json:"clientSeq"`
}

// submission is what the client sends with editSection.
type submission struct {
	Base int64
	Op   ot.Op
	Seq  int64
}

// pending is a local operation sent to the server and not acknowledged yet.
type pending struct {
	op      ot.Op // transformed through the remote operations seen since: applies to the text at machine.version
	sent    ot.Op // as sent, resent unchanged after a reconnection (the server checks it is the same)
	base    int64 // the version sent with it
	seq     int64
	ackAt   int64 // the version the server's answer named; 0 until it came
	waiters []chan Ack
}

// machine is the client side of the protocol without any I/O, as ot.js's
// Client: Synchronized (no inflight), AwaitingConfirm (inflight), and
// AwaitingWithBuffer (inflight and buffer). The local text is the server's
// text at version, followed by inflight.op, followed by buffer.
//
// Its methods return what to send; the caller sends it.
type machine struct {
	clientID string
	nextSeq  func() int64

	text    []rune
	version int64

	inflight   *pending
	buffer     ot.Op
	bufWaiters []chan Ack
}

// errGap says a stream skipped versions: resubscribe from machine.version.
var errGap = errors.New("otclient: the stream skipped versions")

// ErrInconsistent means the server's messages contradict each other or the
// local state (an operation that does not fit the text, an answer at a
// version already taken by someone else's operation). The section stops.
var ErrInconsistent = errors.New("otclient: inconsistent server messages")

// acked is an acknowledged local operation: who to tell.
type acked struct {
	ack     Ack
	waiters []chan Ack
}

// state names the ot.js state the machine is in.
func (m *machine) state() string {
	switch {
	case m.inflight == nil:
		return "Synchronized"
	case m.buffer == nil:
		return "AwaitingConfirm"
	default:
		return "AwaitingWithBuffer"
	}
}

// local applies a local operation to the text and either sends it (none in
// flight) or composes it into the buffer. w, if not nil, gets the Ack of the
// operation that carries op to the server.
func (m *machine) local(op ot.Op, w chan Ack) (*submission, *acked, error) {
	if err := op.Validate(); err != nil {
		return nil, nil, err
	}
	if op.BaseLen() != len(m.text) {
		return nil, nil, fmt.Errorf("%w: the operation covers %d code points, the text has %d", ot.ErrBaseLength, op.BaseLen(), len(m.text))
	}
	if op.IsNoop() {
		// Nothing to send: acknowledged at once, at the current version.
		return nil, &acked{ack: Ack{Version: m.version, ClientID: m.clientID}, waiters: waitList(w)}, nil
	}
	text, err := ot.ApplyRunes(m.text, op)
	if err != nil {
		return nil, nil, err
	}
	m.text = text
	if m.inflight == nil {
		m.inflight = &pending{op: op, sent: op, base: m.version, seq: m.nextSeq(), waiters: waitList(w)}
		return m.inflight.submission(), nil, nil
	}
	if m.buffer == nil {
		m.buffer = op
	} else if m.buffer, err = ot.Compose(m.buffer, op); err != nil {
		return nil, nil, fmt.Errorf("%w: composing the buffer: %v", ErrInconsistent, err)
	}
	m.bufWaiters = append(m.bufWaiters, waitList(w)...)
	return nil, nil, nil
}

func waitList(w chan Ack) []chan Ack {
	if w == nil {
		return nil
	}
	return []chan Ack{w}
}

func (p *pending) submission() *submission {
	return &submission{Base: p.base, Op: p.sent, Seq: p.seq}
}

// remoteResult is what one edit from the stream did.
type remoteResult struct {
	applied ot.Op       // the remote operation as applied to the local text; nil if none
	ack     *acked      // set when the edit acknowledged the inflight operation
	send    *submission // the buffer, to send now that the inflight one is acknowledged
}

// remote takes the next edit of the stream. Edits at or below version are
// skipped (replays after a resubscription); one beyond version+1 is errGap.
// An edit carrying the inflight (clientId, clientSeq) acknowledges it;
// any other is transformed over inflight and buffer and applied.
func (m *machine) remote(e Edit) (remoteResult, error) {
	var r remoteResult
	switch {
	case e.Version <= m.version:
		return r, nil
	case e.Version > m.version+1:
		return r, errGap
	}
	if p := m.inflight; p != nil {
		if e.ClientID == m.clientID && e.ClientSeq == p.seq {
			if p.ackAt != 0 && p.ackAt != e.Version {
				return r, fmt.Errorf("%w: operation %d answered at version %d, streamed at %d", ErrInconsistent, p.seq, p.ackAt, e.Version)
			}
			r.ack, r.send = m.ack(e.Version)
			return r, nil
		}
		if p.ackAt == e.Version {
			return r, fmt.Errorf("%w: operation %d answered at version %d, which the stream gives to %s/%d", ErrInconsistent, p.seq, p.ackAt, e.ClientID, e.ClientSeq)
		}
	}
	op := e.Op
	var err error
	if m.inflight != nil {
		if op, m.inflight.op, err = ot.Transform(op, m.inflight.op); err != nil {
			return r, fmt.Errorf("%w: version %d against the inflight operation: %v", ErrInconsistent, e.Version, err)
		}
	}
	if m.buffer != nil {
		if op, m.buffer, err = ot.Transform(op, m.buffer); err != nil {
			return r, fmt.Errorf("%w: version %d against the buffer: %v", ErrInconsistent, e.Version, err)
		}
	}
	text, err := ot.ApplyRunes(m.text, op)
	if err != nil {
		return r, fmt.Errorf("%w: version %d: %v", ErrInconsistent, e.Version, err)
	}
	m.text, m.version, r.applied = text, e.Version, op
	if p := m.inflight; p != nil && p.ackAt == m.version+1 {
		r.ack, r.send = m.ack(p.ackAt)
	}
	return r, nil
}

// answer takes the server's answer to the submission seq: committed at
// version. It acknowledges the inflight operation once every version before
// it has been applied; until then the stream brings them.
func (m *machine) answer(seq, version int64) (*acked, *submission, error) {
	p := m.inflight
	if p == nil || p.seq != seq {
		return nil, nil, nil // already acknowledged by the stream, or a stale answer
	}
	if version <= m.version {
		return nil, nil, fmt.Errorf("%w: operation %d answered at version %d, the text is already at %d", ErrInconsistent, seq, version, m.version)
	}
	p.ackAt = version
	if version == m.version+1 {
		a, s := m.ack(version)
		return a, s, nil
	}
	return nil, nil, nil
}

// ack makes the inflight operation version and sends the buffer, if any.
func (m *machine) ack(version int64) (*acked, *submission) {
	p := m.inflight
	m.version, m.inflight = version, nil
	a := &acked{ack: Ack{Version: version, ClientID: m.clientID, ClientSeq: p.seq}, waiters: p.waiters}
	if m.buffer == nil {
		return a, nil
	}
	m.inflight = &pending{op: m.buffer, sent: m.buffer, base: m.version, seq: m.nextSeq(), waiters: m.bufWaiters}
	m.buffer, m.bufWaiters = nil, nil
	return a, m.inflight.submission()
}

// resend is what to send again after a reconnection: the inflight
// operation exactly as first sent, with the same clientSeq.
func (m *machine) resend() *submission {
	if m.inflight == nil {
		return nil
	}
	return m.inflight.submission()
}

// synced reports whether every local operation is acknowledged.
func (m *machine) synced() bool { return m.inflight == nil }

// abandon takes every waiter of unacknowledged operations.
func (m *machine) abandon() []chan Ack {
	var ws []chan Ack
	if m.inflight != nil {
		ws = append(ws, m.inflight.waiters...)
		m.inflight.waiters = nil
	}
	ws = append(ws, m.bufWaiters...)
	m.bufWaiters = nil
	return ws
}
