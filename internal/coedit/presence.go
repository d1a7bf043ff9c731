package coedit

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
)

// PresenceInput is a heartbeat: where a client is in a document. Positions
// are at the section's Version and are transformed by later edits.
type PresenceInput struct {
	DocumentID int64
	ClientID   string
	SectionID  int64 // 0: in the document, no section
	Version    int64
	Cursor     *int
	Selection  *ot.Range
}

// Presence is one client in a document.
type Presence struct {
	PersonID   int64
	ClientID   string
	DocumentID int64
	SectionID  int64
	Version    int64
	Cursor     *int
	Selection  *ot.Range
	LastSeen   time.Time
	ExpiresAt  time.Time
}

// The limits of presence.
const (
	// MaxClientIDLen is the most characters a client id may have.
	MaxClientIDLen = 64
	// maxClientsPerPerson is how many clients one person may have in a
	// document at once: one more pushes out the one heard from least
	// recently, so that made-up client ids cannot fill the memory.
	maxClientsPerPerson = 16
	// maxPresenceLag is how many operations a heartbeat's positions may be
	// behind the section: moving them costs reading those operations.
	maxPresenceLag = 1000
	// presenceCoalesce is the least time between two lists sent to a
	// watcher: a burst of changes makes one list.
	presenceCoalesce = 50 * time.Millisecond
)

// UpdatePresence records a heartbeat of the signed-in actor's client in a
// document they may read (ReadDocument: policy makers too), and returns it
// with its positions moved to the section's current version. It returns
// UNAUTHENTICATED for an anonymous caller, NOT_FOUND for a document the
// actor may not read, and BAD_USER_INPUT for a client id that is empty or
// longer than MaxClientIDLen, a section that is not a live section of the
// document, a version ahead of the section's (or more than 1,000 operations
// behind it), a cursor or a selection outside the section's text at that
// version, or a position without a section. A refused heartbeat changes
// nothing.
func (s *Service) UpdatePresence(ctx context.Context, in PresenceInput) (*Presence, error) {
	const op = "coedit.UpdatePresence"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	d, err := s.document(ctx, s.db, in.DocumentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	if err := checkClientID(op, in.ClientID); err != nil {
		return nil, err
	}
	p := &Presence{PersonID: access.ActorFrom(ctx).PersonID, ClientID: in.ClientID, DocumentID: d.ID, SectionID: in.SectionID}
	if in.SectionID == 0 {
		if in.Cursor != nil || in.Selection != nil {
			return nil, apperr.Invalid(op, "sectionId", "a cursor or a selection is in a section: give its id")
		}
	} else if err := s.placePresence(ctx, op, in, p); err != nil {
		return nil, err
	}
	now := s.now()
	p.LastSeen, p.ExpiresAt = now, now.Add(s.o.PresenceTTL)
	s.pres.set(p)
	s.pres.broadcastSet(ctx, p)
	return p.clone(), nil
}

// placePresence checks in's section and positions and sets p's, moved from
// in.Version to the section's current version.
func (s *Service) placePresence(ctx context.Context, op string, in PresenceInput, p *Presence) error {
	sec := new(Section)
	err := s.db.NewSelect().Model(sec).Where("id = ?", in.SectionID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (sec.DocumentID != in.DocumentID || sec.Removed != nil)) {
		return apperr.Invalid(op, "sectionId", "the section is not one of the document's sections")
	}
	if err != nil {
		return storage.MapError(op, "section", err)
	}
	switch {
	case in.Version < 0 || in.Version > sec.Version:
		return apperr.Invalid(op, "version", "the section is at version %d; the positions are at %d", sec.Version, in.Version).WithReason("VERSION_AHEAD")
	case sec.Version-in.Version > maxPresenceLag:
		return apperr.Invalid(op, "version", "the positions are at version %d, too far behind the section's %d: send them at the version the client has", in.Version, sec.Version)
	}
	var edits []*Edit
	if in.Version < sec.Version {
		if edits, err = s.opsAfter(ctx, s.db, sec.ID, in.Version, sec.Version); err != nil {
			return err
		}
	}
	length := sec.Length // the text's length at in.Version
	if len(edits) > 0 {
		length = edits[0].Op.BaseLen()
	}
	if in.Cursor != nil && (*in.Cursor < 0 || *in.Cursor > length) {
		return apperr.Invalid(op, "cursor", "the cursor is at %d, outside the section's %d characters", *in.Cursor, length)
	}
	if r := in.Selection; r != nil && (r.Start < 0 || r.Start > r.End || r.End > length) {
		return apperr.Invalid(op, "selection", "the selection %d–%d is not within the section's %d characters", r.Start, r.End, length)
	}
	p.Version = in.Version
	if in.Cursor != nil {
		c := *in.Cursor
		p.Cursor = &c
	}
	if in.Selection != nil {
		r := *in.Selection
		p.Selection = &r
	}
	for _, e := range edits {
		if e.Version != p.Version+1 {
			break // a hole in the log cannot be: stop where the positions are true
		}
		p.move(e)
	}
	return nil
}

// checkClientID checks a client id by the rule EditSection's (checkEdit in
// edit.go) uses, so that a client has one id for its edits and its
// presence: valid UTF-8, 1 to MaxClientIDLen characters, none of them a
// control character (below U+0020, or U+007F).
func checkClientID(op, id string) error {
	if n := utf8.RuneCountInString(id); !utf8.ValidString(id) || n == 0 || n > MaxClientIDLen ||
		strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return apperr.Invalid(op, "clientId", "a client id is 1 to %d printable characters", MaxClientIDLen)
	}
	return nil
}

// LeaveDocument ends the presence of one of the actor's clients at once,
// here and on the other instances. One may always withdraw a presence of
// one's own (even after losing access to the document); leaving a document
// one is not in does nothing, or returns NOT_FOUND when the actor may not
// read it, as every other call about it does. It returns UNAUTHENTICATED
// for an anonymous caller and BAD_USER_INPUT for a bad client id.
func (s *Service) LeaveDocument(ctx context.Context, documentID int64, clientID string) error {
	const op = "coedit.LeaveDocument"
	if err := requireActor(ctx, op); err != nil {
		return err
	}
	if err := checkClientID(op, clientID); err != nil {
		return err
	}
	k := presenceKey{doc: documentID, person: access.ActorFrom(ctx).PersonID, client: clientID}
	if !s.pres.leave(k) {
		if err := s.readableDocument(ctx, op, documentID); err != nil {
			return err
		}
	}
	// Peers may hold it even when this instance did not (a heartbeat
	// broadcast while this instance's listener was reconnecting).
	s.pres.broadcastLeave(ctx, k)
	return nil
}

// PresenceOf lists who is in a document now, by person then client. It
// returns UNAUTHENTICATED for an anonymous caller and NOT_FOUND for a
// document the actor may not read.
func (s *Service) PresenceOf(ctx context.Context, documentID int64) ([]*Presence, error) {
	const op = "coedit.PresenceOf"
	if err := s.readableDocument(ctx, op, documentID); err != nil {
		return nil, err
	}
	return s.pres.list(documentID), nil
}

// readableDocument checks that the actor may read document id.
func (s *Service) readableDocument(ctx context.Context, op string, id int64) error {
	if err := requireActor(ctx, op); err != nil {
		return err
	}
	d, err := s.document(ctx, s.db, id)
	if err != nil {
		return err
	}
	return s.authorize(ctx, access.ReadDocument, d)
}

// WatchPresence sends the whole list at once and after every change, until
// ctx ends.
//
// A change is a client joining, moving, leaving or expiring, or an edit
// moving a cursor. Changes close together make one list (at most one every
// 50 ms), and a watcher that reads slowly gets the latest list when it
// reads, never a queue of old ones: it holds up nobody. The channel closes
// when ctx ends or the Service closes. It returns UNAUTHENTICATED for an
// anonymous caller and NOT_FOUND for a document the actor may not read.
func (s *Service) WatchPresence(ctx context.Context, documentID int64) (<-chan []*Presence, error) {
	const op = "coedit.WatchPresence"
	if err := s.readableDocument(ctx, op, documentID); err != nil {
		return nil, err
	}
	w := &presenceWatcher{wake: make(chan struct{}, 1)}
	s.pres.watch(documentID, w)
	out := make(chan []*Presence)
	go s.pres.serve(ctx, documentID, w, out)
	return out, nil
}

// presenceKey names one client's presence.
type presenceKey struct {
	doc, person int64
	client      string
}

func (p *Presence) key() presenceKey {
	return presenceKey{doc: p.DocumentID, person: p.PersonID, client: p.ClientID}
}

// clone is a copy of p that shares nothing with it.
func (p *Presence) clone() *Presence {
	c := *p
	if p.Cursor != nil {
		v := *p.Cursor
		c.Cursor = &v
	}
	if p.Selection != nil {
		v := *p.Selection
		c.Selection = &v
	}
	return &c
}

// move moves p's positions through e, the operation after p.Version. An
// insert at the cursor pushes it only when the client made it.
func (p *Presence) move(e *Edit) {
	own := e.ClientID == p.ClientID && e.AuthorID != nil && *e.AuthorID == p.PersonID
	if p.Cursor != nil {
		c := ot.TransformPosition(*p.Cursor, e.Op, own)
		p.Cursor = &c
	}
	if p.Selection != nil {
		r, _ := ot.TransformRange(*p.Selection, e.Op)
		p.Selection = &r
	}
	p.Version = e.Version
}

// presenceStore holds the presence of this instance's and (on PostgreSQL)
// the other instances' clients, in memory: a heartbeat is set here and
// broadcast, and every instance moves the positions through each edit it
// commits or hears of (onEdit). Entries whose version fell behind the
// section's (an edit heard before the heartbeat that it follows, a peer's
// heartbeat made at an older version) are caught up from the log.
//
// A janitor goroutine drops expired entries and tells the watchers; it runs
// only while there are entries, and stops with close or the Service's Close.
type presenceStore struct {
	s      *Service
	ctx    context.Context // ends with close: the catch-ups' reads
	cancel context.CancelFunc
	tick   time.Duration // how often the janitor looks for expired entries

	mu        sync.Mutex
	docs      map[int64]*docPresence
	sections  map[int64]int   // section id → how many entries are in it
	latest    map[int64]int64 // section id → the last version onEdit saw
	catching  map[int64]bool  // sections being caught up
	janitorOn bool
	closed    bool
	wg        sync.WaitGroup
}

// docPresence is one document's entries and watchers.
type docPresence struct {
	entries  map[presenceKey]*Presence
	watchers map[*presenceWatcher]struct{}
}

// presenceWatcher is one WatchPresence: told of a change by a token in
// wake, which never blocks the teller.
type presenceWatcher struct{ wake chan struct{} }

// maxLatest bounds the versions remembered for sections nobody is in.
const maxLatest = 4096

// newPresenceStore returns the store of s (Service.pres, set in
// NewService).
func newPresenceStore(s *Service) *presenceStore {
	ctx, cancel := context.WithCancel(context.Background())
	tick := min(max(s.o.PresenceTTL/10, 10*time.Millisecond), time.Second)
	return &presenceStore{s: s, ctx: ctx, cancel: cancel, tick: tick, docs: map[int64]*docPresence{},
		sections: map[int64]int{}, latest: map[int64]int64{}, catching: map[int64]bool{}}
}

// close stops the janitor, the catch-ups and the watchers, and waits for
// the janitor and the catch-ups. The Service's Close calls it (the
// goroutines also stop when the Service's streams stop).
func (p *presenceStore) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// done is closed when the store is closed.
func (p *presenceStore) done() <-chan struct{} { return p.ctx.Done() }

// doc returns the entry of document id, creating it.
func (p *presenceStore) doc(id int64) *docPresence {
	d := p.docs[id]
	if d == nil {
		d = &docPresence{entries: map[presenceKey]*Presence{}, watchers: map[*presenceWatcher]struct{}{}}
		p.docs[id] = d
	}
	return d
}

// forget drops document id's entry when it holds nothing.
func (p *presenceStore) forget(id int64) {
	if d := p.docs[id]; d != nil && len(d.entries) == 0 && len(d.watchers) == 0 {
		delete(p.docs, id)
	}
}

// set stores e (a heartbeat made here or on a peer), pushing out the
// person's oldest client in the document beyond maxClientsPerPerson, tells
// the document's watchers, and catches e up if the section has moved on.
func (p *presenceStore) set(e *Presence) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	d := p.doc(e.DocumentID)
	k := e.key()
	if old := d.entries[k]; old != nil {
		p.untrack(old)
	} else {
		var mine []*Presence
		for ek, x := range d.entries {
			if ek.person == k.person {
				mine = append(mine, x)
			}
		}
		if len(mine) >= maxClientsPerPerson {
			oldest := slices.MinFunc(mine, func(a, b *Presence) int { return a.LastSeen.Compare(b.LastSeen) })
			delete(d.entries, oldest.key())
			p.untrack(oldest)
		}
	}
	d.entries[k] = e
	if e.SectionID != 0 {
		p.sections[e.SectionID]++
	}
	behind := e.SectionID != 0 && p.latest[e.SectionID] > e.Version
	p.startJanitor()
	p.notify(d)
	p.mu.Unlock()
	if behind {
		p.catchUp(e.SectionID)
	}
}

// untrack forgets that e is in its section. Under p.mu.
func (p *presenceStore) untrack(e *Presence) {
	if e.SectionID == 0 {
		return
	}
	if p.sections[e.SectionID]--; p.sections[e.SectionID] <= 0 {
		delete(p.sections, e.SectionID)
	}
}

// leave removes k's entry, if any, tells the watchers, and reports whether
// there was one.
func (p *presenceStore) leave(k presenceKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.docs[k.doc]
	if d == nil {
		return false
	}
	e := d.entries[k]
	if e != nil {
		delete(d.entries, k)
		p.untrack(e)
		p.notify(d)
	}
	p.forget(k.doc)
	return e != nil
}

// notify tells d's watchers that its list changed. Under p.mu.
func (p *presenceStore) notify(d *docPresence) {
	for w := range d.watchers {
		select {
		case w.wake <- struct{}{}:
		default: // told already; it will read the latest list
		}
	}
}

// list returns copies of document id's live entries, by person then client.
func (p *presenceStore) list(id int64) []*Presence {
	now := p.s.o.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []*Presence{}
	if d := p.docs[id]; d != nil {
		for _, e := range d.entries {
			if now.Before(e.ExpiresAt) {
				out = append(out, e.clone())
			}
		}
	}
	slices.SortFunc(out, func(a, b *Presence) int {
		return cmp.Or(cmp.Compare(a.PersonID, b.PersonID), cmp.Compare(a.ClientID, b.ClientID))
	})
	return out
}

// watch registers w for document id.
func (p *presenceStore) watch(id int64, w *presenceWatcher) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doc(id).watchers[w] = struct{}{}
}

// unwatch forgets w.
func (p *presenceStore) unwatch(id int64, w *presenceWatcher) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.docs[id]; d != nil {
		delete(d.watchers, w)
		p.forget(id)
	}
}

// serve sends document id's list to out at once and after each change, at
// most one list per presenceCoalesce, until ctx ends or the store or the
// Service stops; then it closes out. While out is not read, a newer list
// replaces the one waiting.
func (p *presenceStore) serve(ctx context.Context, id int64, w *presenceWatcher, out chan<- []*Presence) {
	defer close(out)
	defer p.unwatch(id, w)
	pending, have, last := p.list(id), true, time.Now() // last: when pending was read
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	for {
		var send chan<- []*Presence
		if have {
			send = out
		}
		select {
		case <-ctx.Done():
			return
		case <-p.done():
			return
		case <-p.s.stop:
			return
		case <-w.wake:
			if armed {
				continue
			}
			if wait := presenceCoalesce - time.Since(last); wait > 0 {
				timer.Reset(wait)
				armed = true
				continue
			}
			pending, have, last = p.list(id), true, time.Now()
		case <-timer.C:
			armed = false
			pending, have, last = p.list(id), true, time.Now()
		case send <- pending:
			have = false
		}
	}
}

// startJanitor starts the janitor unless it runs. Under p.mu.
func (p *presenceStore) startJanitor() {
	if p.janitorOn || p.closed {
		return
	}
	p.janitorOn = true
	p.wg.Add(1)
	go p.janitor()
}

// janitor drops expired entries every p.tick and tells the watchers, until
// no entry is left or the store stops.
func (p *presenceStore) janitor() {
	defer p.wg.Done()
	t := time.NewTicker(p.tick)
	defer t.Stop()
	for {
		select {
		case <-p.done():
			p.stopJanitor()
			return
		case <-p.s.stop:
			p.stopJanitor()
			return
		case <-t.C:
		}
		if !p.expire() {
			return
		}
	}
}

func (p *presenceStore) stopJanitor() {
	p.mu.Lock()
	p.janitorOn = false
	p.mu.Unlock()
}

// expire drops the expired entries and reports whether any entry is left;
// when none is, the janitor stops (set starts it again).
func (p *presenceStore) expire() bool {
	now := p.s.o.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	left := false
	for id, d := range p.docs {
		changed := false
		for k, e := range d.entries {
			if !now.Before(e.ExpiresAt) {
				delete(d.entries, k)
				p.untrack(e)
				changed = true
			}
		}
		if changed {
			p.notify(d)
		}
		left = left || len(d.entries) > 0
		p.forget(id)
	}
	if !left {
		p.janitorOn = false
	}
	return left
}

// onEdit moves the cursors and selections in e's section through e.Op. The
// committer calls it for every committed edit, local or from another
// instance, in version order per section. It does no I/O: an entry more
// than one version behind is caught up from the log by another goroutine.
func (p *presenceStore) onEdit(e *Edit) {
	p.mu.Lock()
	if e.Version > p.latest[e.SectionID] {
		p.latest[e.SectionID] = e.Version
	}
	if len(p.latest) > maxLatest {
		for id := range p.latest {
			if p.sections[id] == 0 {
				delete(p.latest, id)
			}
		}
	}
	behind := false
	if p.sections[e.SectionID] > 0 {
		if d := p.docs[e.DocumentID]; d != nil {
			changed := false
			for k, x := range d.entries {
				switch {
				case x.SectionID != e.SectionID || x.Version >= e.Version:
				case x.Version == e.Version-1:
					moved := x.clone()
					moved.move(e)
					d.entries[k] = moved
					changed = true
				default:
					behind = true
				}
			}
			if changed {
				p.notify(d)
			}
		}
	}
	p.mu.Unlock()
	if behind {
		p.catchUp(e.SectionID)
	}
}

// follows reports whether someone is present in section id: the hub then
// reads the edits other instances make to it, so that onEdit moves them,
// even when nobody here streams the section.
func (p *presenceStore) follows(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sections[id] > 0
}

// catchUp moves the entries of section id that are behind the last version
// onEdit saw through the operations they missed, read from the log, unless
// a catch-up of the section runs already (it loops until none is behind).
func (p *presenceStore) catchUp(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.catching[id] || p.closed {
		return
	}
	p.catching[id] = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			from, ok := p.behind(id)
			if !ok {
				return
			}
			edits, err := p.s.opsAfter(p.ctx, p.s.db, id, from, 0)
			if err != nil && p.ctx.Err() == nil {
				p.s.o.Logger.Error("coedit: catching presence up", "section", id, "err", err)
			}
			if err != nil || !p.apply(id, edits) {
				// Stop: the next edit of the section, or heartbeat, tries
				// again.
				p.mu.Lock()
				delete(p.catching, id)
				p.mu.Unlock()
				return
			}
		}
	}()
}

// behind returns the least version of section id's entries that are
// behind, or, when none is, ends the catch-up.
func (p *presenceStore) behind(id int64) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	latest, from, found := p.latest[id], int64(0), false
	if !p.closed {
		for _, d := range p.docs {
			for _, x := range d.entries {
				if x.SectionID == id && x.Version < latest && (!found || x.Version < from) {
					from, found = x.Version, true
				}
			}
		}
	}
	if !found {
		delete(p.catching, id)
	}
	return from, found
}

// apply moves section id's entries through edits, consecutive operations
// of the log, each entry from its own version on, and reports whether it
// moved any. When it moved none (the log holds nothing after the entries'
// versions), the entries are as current as the log: what onEdit saw is
// forgotten, so that the catch-up ends.
func (p *presenceStore) apply(id int64, edits []*Edit) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	moved := false
	var last int64
	for _, d := range p.docs {
		changed := false
		for k, x := range d.entries {
			if x.SectionID != id {
				continue
			}
			i, ok := slices.BinarySearchFunc(edits, x.Version+1, func(e *Edit, v int64) int { return cmp.Compare(e.Version, v) })
			if ok {
				y := x.clone()
				for _, e := range edits[i:] {
					if e.Version != y.Version+1 {
						break
					}
					y.move(e)
				}
				d.entries[k], x = y, y
				changed = true
			}
			last = max(last, x.Version)
		}
		if changed {
			p.notify(d)
			moved = true
		}
	}
	if len(edits) > 0 {
		last = max(last, edits[len(edits)-1].Version)
	}
	if !moved && p.latest[id] > last {
		p.latest[id] = last
	}
	return moved
}

// presenceWire is a presence payload between instances: a heartbeat ("o":
// "set") or a leave ("o": "leave").
type presenceWire struct {
	K         string    `json:"k"`
	Op        string    `json:"o"`
	Document  int64     `json:"d"`
	Person    int64     `json:"u"`
	Client    string    `json:"c"`
	Section   int64     `json:"s,omitempty"`
	Version   int64     `json:"v,omitempty"`
	Cursor    *int      `json:"cur,omitempty"`
	Selection *ot.Range `json:"sel,omitempty"`
	LastSeen  time.Time `json:"seen,omitzero"`
	ExpiresAt time.Time `json:"exp,omitzero"`
	// Instance and Scope are what Service.broadcast adds: the sender.
	Instance string `json:"i,omitempty"`
	Scope    string `json:"n,omitempty"`
}

// broadcastSet tells the other instances of e.
func (p *presenceStore) broadcastSet(ctx context.Context, e *Presence) {
	p.send(ctx, presenceWire{K: "presence", Op: "set", Document: e.DocumentID, Person: e.PersonID, Client: e.ClientID,
		Section: e.SectionID, Version: e.Version, Cursor: e.Cursor, Selection: e.Selection, LastSeen: e.LastSeen, ExpiresAt: e.ExpiresAt})
}

// broadcastLeave tells the other instances that k left.
func (p *presenceStore) broadcastLeave(ctx context.Context, k presenceKey) {
	p.send(ctx, presenceWire{K: "presence", Op: "leave", Document: k.doc, Person: k.person, Client: k.client})
}

func (p *presenceStore) send(ctx context.Context, w presenceWire) {
	if !p.s.pg {
		return
	}
	b, err := json.Marshal(w)
	if err != nil {
		p.s.o.Logger.Error("coedit: presence payload", "err", err)
		return
	}
	// A request that ends right after its heartbeat must not lose it.
	p.s.broadcast(context.WithoutCancel(ctx), b)
}

// fromPeer takes a presence payload another instance broadcast (the
// listener calls it for payloads of kind "presence").
func (p *presenceStore) fromPeer(payload []byte) {
	var w presenceWire
	if err := json.Unmarshal(payload, &w); err != nil || w.K != "presence" {
		p.s.o.Logger.Warn("coedit: a presence payload that does not parse", "err", err)
		return
	}
	if w.Instance == p.s.instance || (w.Scope != "" && w.Scope != p.s.scope) {
		return // our own, or another database's
	}
	switch w.Op {
	case "set":
		if checkClientID("", w.Client) != nil || w.Document == 0 || w.Person == 0 {
			return
		}
		p.set(&Presence{PersonID: w.Person, ClientID: w.Client, DocumentID: w.Document, SectionID: w.Section,
			Version: w.Version, Cursor: w.Cursor, Selection: w.Selection, LastSeen: w.LastSeen, ExpiresAt: w.ExpiresAt})
	case "leave":
		p.leave(presenceKey{doc: w.Document, person: w.Person, client: w.Client})
	}
}
