package otclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pia-sicilia/pia/internal/ot"
)

// Ack is the acknowledgement of a local operation: the server committed it
// as Version. At is when the client took it as acknowledged (the answer to
// editSection or the operation coming back on the stream, whichever came
// first, once every earlier version had been applied). Err is set instead
// when the operation will never be acknowledged (the section failed or was
// closed).
type Ack struct {
	Version   int64
	ClientID  string
	ClientSeq int64
	At        time.Time
	Err       error
}

// Section is one section's text kept in step with the server: local edits
// apply at once and travel one at a time (the others wait, composed, in a
// buffer); remote edits are transformed over the local ones and applied.
// Its methods are safe for concurrent use.
type Section struct {
	c  *Client
	id string

	mu       sync.Mutex
	m        machine
	sub      *subscription // the current stream
	err      error         // why the section stopped
	changed  chan struct{}
	onRemote func(ot.Op)
	onAck    func(Ack)
	onError  func(error)
	resubs   int
	calls    int // messages whose callbacks (OnRemote, OnAck, waiters) are running

	lastSent  int64 // the clientSeq last sent, to tell resubmissions
	dropAsked int64 // the last clientSeq Options.DropOnCommit was asked about
}

// subscription identifies one sectionEdits stream, so that messages of a
// stream that was replaced are ignored.
type subscription struct {
	cn *conn
	id string
}

const sectionQuery = `query($id: ID!) { node(id: $id) { __typename ... on Section { text version } } }`

const editsSubscription = `subscription($id: ID!, $v: Int!) { sectionEdits(sectionId: $id, sinceVersion: $v) { version operation clientId clientSeq } }`

const editMutation = `mutation($in: EditSectionInput!) { editSection(input: $in) { version } }`

// OpenSection reads a section's text and version (a query over the socket)
// and subscribes to its edits from that version.
func (c *Client) OpenSection(ctx context.Context, sectionID string) (*Section, error) {
	var out struct {
		Node *struct {
			Typename string `json:"__typename"`
			Text     string `json:"text"`
			Version  int64  `json:"version"`
		} `json:"node"`
	}
	if err := c.Do(ctx, sectionQuery, map[string]any{"id": sectionID}, &out); err != nil {
		return nil, err
	}
	if out.Node == nil || out.Node.Typename != "Section" {
		return nil, &Error{Message: fmt.Sprintf("no section %s", sectionID), Code: "NOT_FOUND"}
	}
	s := &Section{c: c, id: sectionID, changed: make(chan struct{})}
	s.m = machine{clientID: c.o.ClientID, nextSeq: c.nextSeq, text: []rune(out.Node.Text), version: out.Node.Version}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.sections[s] = struct{}{}
	c.mu.Unlock()
	s.subscribe()
	return s, nil
}

// ID is the section's global id.
func (s *Section) ID() string { return s.id }

// OnRemote sets a function called, on the client's reader goroutine, right
// after each remote operation has been applied to the local text, with the
// operation as applied. Set it before editing.
func (s *Section) OnRemote(f func(op ot.Op)) {
	s.mu.Lock()
	s.onRemote = f
	s.mu.Unlock()
}

// OnAck sets a function called with the Ack of every local operation the
// server committed.
func (s *Section) OnAck(f func(Ack)) {
	s.mu.Lock()
	s.onAck = f
	s.mu.Unlock()
}

// OnError sets a function called once if the section stops with an error
// (a refused operation, inconsistent messages, the client closing).
func (s *Section) OnError(f func(error)) {
	s.mu.Lock()
	s.onError = f
	s.mu.Unlock()
}

// Text returns the local text.
func (s *Section) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.m.text)
}

// Len returns the local text's length in code points.
func (s *Section) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m.text)
}

// Version returns the server version the local text is based on: the
// last one applied or acknowledged.
func (s *Section) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.version
}

// State returns the ot.js state: "Synchronized", "AwaitingConfirm" or
// "AwaitingWithBuffer".
func (s *Section) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.state()
}

// Resubscriptions counts the streams opened after the first.
func (s *Section) Resubscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resubs
}

// Err returns why the section stopped, nil while it works.
func (s *Section) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Insert inserts str at pos (in code points).
func (s *Section) Insert(pos int, str string) error {
	_, err := s.edit(func(n int) (ot.Op, error) { return insertOp(n, pos, str) }, nil)
	return err
}

// Delete deletes n code points from pos.
func (s *Section) Delete(pos, n int) error {
	_, err := s.edit(func(l int) (ot.Op, error) { return deleteOp(l, pos, n) }, nil)
	return err
}

// Apply applies op, which must cover the whole local text, as a local edit.
func (s *Section) Apply(op ot.Op) error {
	_, err := s.edit(func(int) (ot.Op, error) { return op, nil }, nil)
	return err
}

// InsertAwait is Insert returning a channel that receives the Ack of the
// operation that carries the insert to the server (once).
func (s *Section) InsertAwait(pos int, str string) (<-chan Ack, error) {
	w := make(chan Ack, 1)
	return s.edit(func(n int) (ot.Op, error) { return insertOp(n, pos, str) }, w)
}

// ApplyAwait is Apply returning a channel that receives the operation's Ack.
func (s *Section) ApplyAwait(op ot.Op) (<-chan Ack, error) {
	w := make(chan Ack, 1)
	return s.edit(func(int) (ot.Op, error) { return op, nil }, w)
}

func insertOp(n, pos int, str string) (ot.Op, error) {
	if pos < 0 || pos > n {
		return nil, fmt.Errorf("otclient: insert at %d in a text of %d code points", pos, n)
	}
	var op ot.Op
	if pos > 0 {
		op = append(op, ot.Component{Retain: pos})
	}
	if str != "" {
		op = append(op, ot.Component{Insert: str})
	}
	if n-pos > 0 {
		op = append(op, ot.Component{Retain: n - pos})
	}
	return op, nil
}

func deleteOp(n, pos, count int) (ot.Op, error) {
	if pos < 0 || count < 0 || pos+count > n {
		return nil, fmt.Errorf("otclient: delete %d at %d in a text of %d code points", count, pos, n)
	}
	var op ot.Op
	if pos > 0 {
		op = append(op, ot.Component{Retain: pos})
	}
	if count > 0 {
		op = append(op, ot.Component{Delete: count})
	}
	if n-pos-count > 0 {
		op = append(op, ot.Component{Retain: n - pos - count})
	}
	return op, nil
}

// edit applies the operation build makes for the current length.
func (s *Section) edit(build func(n int) (ot.Op, error), w chan Ack) (<-chan Ack, error) {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	op, err := build(len(s.m.text))
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	send, done, err := s.m.local(op, w)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if done != nil {
		s.calls++
	}
	s.signal()
	onAck := s.onAck
	s.mu.Unlock()
	if done != nil {
		s.deliver(done, onAck)
		s.finish()
	}
	if send != nil {
		s.submit(send)
	}
	return w, nil
}

// signal wakes the waiters of a state change. s.mu held.
func (s *Section) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// finish ends what calls counted: the callbacks of one message have run.
func (s *Section) finish() {
	s.mu.Lock()
	s.calls--
	s.signal()
	s.mu.Unlock()
}

// deliver tells the waiters and the OnAck function of an acknowledgement.
func (s *Section) deliver(a *acked, onAck func(Ack)) {
	if a == nil {
		return
	}
	a.ack.At = time.Now()
	for _, w := range a.waiters {
		w <- a.ack
	}
	if onAck != nil && a.ack.ClientSeq != 0 {
		onAck(a.ack)
	}
}

// WaitSynced waits until every local edit is acknowledged and the OnAck
// and OnRemote calls of what came so far have returned.
func (s *Section) WaitSynced(ctx context.Context) error {
	return s.wait(ctx, func() bool { return s.m.synced() && s.calls == 0 })
}

// WaitVersion waits until the local text is at version v or later and
// the OnAck and OnRemote calls of what came so far have returned.
func (s *Section) WaitVersion(ctx context.Context, v int64) error {
	return s.wait(ctx, func() bool { return s.m.version >= v && s.calls == 0 })
}

func (s *Section) wait(ctx context.Context, ok func() bool) error {
	for {
		s.mu.Lock()
		err, done, ch := s.err, ok(), s.changed
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the section's stream. Unacknowledged edits are abandoned
// (call WaitSynced first to keep them); their waiters get ErrClosed.
func (s *Section) Close() error {
	s.fail(ErrClosed)
	s.c.mu.Lock()
	delete(s.c.sections, s)
	s.c.mu.Unlock()
	return nil
}

// fail stops the section with err.
func (s *Section) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	sub := s.sub
	s.sub = nil
	waiters := s.m.abandon()
	onError := s.onError
	s.signal()
	s.mu.Unlock()
	if sub != nil {
		sub.cn.stop(sub.id)
	}
	for _, w := range waiters {
		w <- Ack{Err: err}
	}
	if onError != nil && !errors.Is(err, ErrClosed) {
		onError(err)
	}
}

// subscribe (re)opens the stream from the current version, replacing the
// current one. Without a connection it does nothing: reconnected will.
func (s *Section) subscribe() {
	s.c.mu.Lock()
	cn := s.c.cur
	s.c.mu.Unlock()
	if cn == nil {
		return
	}
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	old := s.sub
	if old != nil {
		s.resubs++
	}
	// Registered under s.mu: the handlers take s.mu, so none runs before
	// s.sub and sub.id are set.
	sub := &subscription{cn: cn}
	s.sub = sub
	sub.id, _ = cn.start(editsSubscription, map[string]any{"id": s.id, "v": s.m.version}, &handler{
		next:     func(r result) { s.streamed(sub, r) },
		fail:     func(err error) { s.streamFailed(sub, err) },
		complete: func() { s.streamFailed(sub, nil) },
		lost:     func() {},
	})
	s.mu.Unlock()
	if old != nil && old.cn == cn && old.id != "" {
		cn.stop(old.id)
	}
}

// streamed takes one message of the stream sub.
func (s *Section) streamed(sub *subscription, r result) {
	if len(r.Errors) > 0 {
		s.streamFailed(sub, firstError(r.Errors))
		return
	}
	var data struct {
		SectionEdits *Edit `json:"sectionEdits"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || data.SectionEdits == nil {
		s.fail(fmt.Errorf("%w: a stream message without an edit: %s (%v)", ErrInconsistent, r.Data, err))
		return
	}
	s.take(sub, *data.SectionEdits)
}

// take applies one edit of the stream sub.
func (s *Section) take(sub *subscription, e Edit) {
	if e.ClientID == s.c.o.ClientID && s.dropOnCommit(sub, e.ClientSeq, e.Version) {
		sub.cn.close()
		return
	}
	s.mu.Lock()
	if s.err != nil || s.sub != sub {
		s.mu.Unlock()
		return
	}
	res, err := s.m.remote(e)
	if err != nil && !errors.Is(err, errGap) {
		s.mu.Unlock()
		s.fail(err)
		return
	}
	busy := res.applied != nil || res.ack != nil
	if busy {
		s.calls++
		s.signal()
	}
	onRemote, onAck := s.onRemote, s.onAck
	s.mu.Unlock()
	if errors.Is(err, errGap) {
		s.subscribe()
		return
	}
	if res.applied != nil && onRemote != nil {
		onRemote(res.applied)
	}
	s.deliver(res.ack, onAck)
	if busy {
		s.finish()
	}
	if res.send != nil {
		s.submit(res.send)
	}
}

// streamFailed handles the end of the stream sub: an error (RESUBSCRIBE:
// open it again from the current version; others stop the section) or a
// complete from the server (open it again, after a pause).
func (s *Section) streamFailed(sub *subscription, err error) {
	s.mu.Lock()
	current := s.err == nil && s.sub == sub
	s.mu.Unlock()
	if !current {
		return
	}
	var e *Error
	switch {
	case err == nil:
		time.AfterFunc(s.c.o.RetryDelay, func() {
			s.mu.Lock()
			still := s.sub == sub
			s.mu.Unlock()
			if still {
				s.subscribe()
			}
		})
	case errors.As(err, &e) && (e.Code == "RESUBSCRIBE" || e.Code == "INTERNAL"):
		s.subscribe()
	default:
		s.fail(err)
	}
}

// submit sends an operation with editSection; the answer acknowledges it.
// Without a connection it does nothing: reconnected resends it.
func (s *Section) submit(sub *submission) {
	s.c.mu.Lock()
	cn := s.c.cur
	s.c.mu.Unlock()
	if cn == nil {
		return
	}
	in := map[string]any{"sectionId": s.id, "baseVersion": sub.Base, "operation": sub.Op,
		"clientId": s.c.o.ClientID, "clientSeq": sub.Seq}
	s.mu.Lock()
	resent := sub.Seq == s.lastSent
	_, ok := cn.start(editMutation, map[string]any{"in": in}, &handler{
		next: func(r result) { s.answered(cn, sub, resent, r) },
		fail: func(err error) {
			s.told(sub, resent, 0, err)
			s.refused(sub, err)
		},
		complete: func() {},
		lost:     func() {},
	})
	if ok {
		s.lastSent = sub.Seq
	}
	s.mu.Unlock()
	if ok && resent {
		s.c.resends.Add(1)
	}
}

// dropOnCommit asks Options.DropOnCommit, once per operation, whether to
// close the socket now that the server committed clientSeq at version
// (its answer, or the operation on the stream sub; nil for an answer).
func (s *Section) dropOnCommit(sub *subscription, seq, version int64) bool {
	drop := s.c.o.DropOnCommit
	if drop == nil {
		return false
	}
	s.mu.Lock()
	p := s.m.inflight
	ask := s.err == nil && (sub == nil || s.sub == sub) && p != nil && p.seq == seq &&
		seq > s.dropAsked && version > s.m.version
	if ask {
		s.dropAsked = seq
	}
	s.mu.Unlock()
	return ask && drop(seq)
}

// told passes an answer to Options.OnAnswer.
func (s *Section) told(sub *submission, resent bool, version int64, err error) {
	if f := s.c.o.OnAnswer; f != nil {
		f(s.id, Answer{ClientSeq: sub.Seq, Resent: resent, Version: version, Err: err})
	}
}

// answered takes the answer, on cn, to editSection.
func (s *Section) answered(cn *conn, sub *submission, resent bool, r result) {
	if len(r.Errors) > 0 {
		err := firstError(r.Errors)
		s.told(sub, resent, 0, err)
		s.refused(sub, err)
		return
	}
	var data struct {
		EditSection *struct {
			Version int64 `json:"version"`
		} `json:"editSection"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || data.EditSection == nil {
		err := fmt.Errorf("%w: an editSection answer without a version: %s", ErrInconsistent, r.Data)
		s.told(sub, resent, 0, err)
		s.refused(sub, err)
		return
	}
	if s.dropOnCommit(nil, sub.Seq, data.EditSection.Version) {
		cn.close()
		return
	}
	s.told(sub, resent, data.EditSection.Version, nil)
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	done, send, err := s.m.answer(sub.Seq, data.EditSection.Version)
	if err != nil {
		s.mu.Unlock()
		s.fail(err)
		return
	}
	if done != nil {
		s.calls++
		s.signal()
	}
	onAck := s.onAck
	s.mu.Unlock()
	if done != nil {
		s.deliver(done, onAck)
		s.finish()
	}
	if send != nil {
		s.submit(send)
	}
}

// refused handles an error answer to editSection: INTERNAL is resent
// after a pause (the same clientSeq, so it is never applied twice);
// anything else stops the section, since the local text holds an edit the
// server will not take.
func (s *Section) refused(sub *submission, err error) {
	var e *Error
	if errors.As(err, &e) && e.Code == "INTERNAL" {
		time.AfterFunc(s.c.o.RetryDelay, func() {
			s.mu.Lock()
			still := s.err == nil && s.m.inflight != nil && s.m.inflight.seq == sub.Seq
			s.mu.Unlock()
			if still {
				s.submit(sub)
			}
		})
		return
	}
	s.mu.Lock()
	still := s.m.inflight != nil && s.m.inflight.seq == sub.Seq
	s.mu.Unlock()
	if still {
		s.fail(fmt.Errorf("otclient: section %s: operation %d refused: %w", s.id, sub.Seq, err))
	}
}

// reconnected resubscribes from the current version and resends the
// inflight operation, unchanged, after the client reconnected.
func (s *Section) reconnected() {
	s.subscribe()
	s.mu.Lock()
	var send *submission
	if s.err == nil {
		send = s.m.resend()
	}
	s.mu.Unlock()
	if send != nil {
		s.submit(send)
	}
}
