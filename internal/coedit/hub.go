package coedit

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Event is one item of a stream: an edit, or, last before the channel
// closes, the error that ended it (RESUBSCRIBE when the subscriber fell
// behind).
type Event struct {
	Edit *Edit
	Err  error
}

// replayPage is how many log rows a stream reads at a time.
const replayPage = 500

// SectionEdits replays a section's operations after since, then streams live
// ones, in strict version order, until ctx ends or the service closes (the
// channel then closes). A section the caller may not read is NOT_FOUND; a
// since below 0 or above the section's version is BAD_USER_INPUT (reason
// VERSION_AHEAD for the latter). A subscriber that falls SubscriberBuffer
// events behind gets a last Event with a RESUBSCRIBE error naming the
// version to resubscribe from; a failure to read the log ends the stream
// with an INTERNAL error.
//
// The stream registers with the hub before it reads the log, so nothing
// committed meanwhile is missed; what the hub brings that the replay sent
// already is skipped, and a gap (a lost notification from another instance)
// is filled from the log.
func (s *Service) SectionEdits(ctx context.Context, sectionID int64, since int64) (<-chan Event, error) {
	const op = "coedit.SectionEdits"
	m, err := s.readSection(ctx, op, sectionID)
	if err != nil {
		return nil, err
	}
	if since < 0 {
		return nil, apperr.Invalid(op, "sinceVersion", "a version is 0 or more; got %d", since)
	}
	sub := s.hub.addSection(sectionID)
	var cur int64
	if err := s.db.NewSelect().Table("sections").Column("version").Where("id = ?", sectionID).Scan(ctx, &cur); err != nil {
		s.hub.removeSection(sectionID, sub)
		return nil, storage.MapError(op, "section", err)
	}
	if since > cur {
		s.hub.removeSection(sectionID, sub)
		return nil, (&apperr.Error{Kind: apperr.BadInput, Op: op, Field: "sinceVersion",
			Message: "the section is at version " + fmtInt(cur) + "; sinceVersion " + fmtInt(since) + " is ahead of it"}).WithReason("VERSION_AHEAD")
	}
	out := make(chan Event)
	go func() {
		defer close(out)
		defer s.hub.removeSection(sectionID, sub)
		st := &stream{s: s, ctx: ctx, docID: m.DocumentID, next: map[int64]int64{sectionID: since + 1},
			send: func(e *Edit) bool {
				select {
				case out <- Event{Edit: e}:
					return true
				case <-ctx.Done():
				case <-s.stop:
				}
				return false
			}}
		end := func(err error) {
			select {
			case out <- Event{Err: err}:
			case <-ctx.Done():
			case <-s.stop:
			}
		}
		if err := st.fill(sectionID, 0); err != nil {
			end(err)
			return
		}
		for {
			select {
			case <-sub.over:
				end(apperr.E(apperr.Resubscribe, op, "this stream fell behind; subscribe again from version %d", st.next[sectionID]-1))
				return
			default:
			}
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			case <-sub.over:
				end(apperr.E(apperr.Resubscribe, op, "this stream fell behind; subscribe again from version %d", st.next[sectionID]-1))
				return
			case e := <-sub.inbox:
				ok, err := st.edit(e)
				if err != nil {
					end(err)
				}
				if !ok {
					return
				}
			}
		}
	}()
	return out, nil
}

// stream is what one subscription sends: per section, the next version it
// owes.
type stream struct {
	s     *Service
	ctx   context.Context
	docID int64
	next  map[int64]int64
	send  func(*Edit) bool // false: the subscriber is gone
}

// edit sends e in order: nothing when it was sent already, after the
// versions missing before it (from the log). A section it has no next
// version for started after the subscription: its history is sent whole.
// ok is false when the stream must end (err says why, if not the
// subscriber's going).
func (st *stream) edit(e *Edit) (ok bool, err error) {
	next, known := st.next[e.SectionID]
	if !known {
		next = 1
		st.next[e.SectionID] = 1
	}
	if e.Version < next {
		return true, nil
	}
	if e.Version > next {
		if err := st.fill(e.SectionID, e.Version-1); err != nil {
			return false, err
		}
		if e.Version < st.next[e.SectionID] {
			return true, nil
		}
	}
	if !st.send(e) {
		return false, nil
	}
	st.next[e.SectionID] = e.Version + 1
	return true, nil
}

// fill sends a section's versions from its next one up to upto (0: to the
// latest) from the log, a page at a time.
func (st *stream) fill(sectionID, upto int64) error {
	for {
		from := st.next[sectionID] - 1
		if upto > 0 && from >= upto {
			return nil
		}
		to := from + replayPage
		if upto > 0 {
			to = min(to, upto)
		}
		rows, err := st.s.opsAfter(st.ctx, st.s.db, sectionID, from, to)
		if err != nil {
			if st.ctx.Err() != nil {
				return nil
			}
			return apperr.Wrap("coedit.stream", err)
		}
		for _, e := range rows {
			if e.Version != st.next[sectionID] {
				return apperr.E(apperr.Internal, "coedit.stream", "section %d: the log skips version %d", sectionID, st.next[sectionID])
			}
			if !st.send(e) {
				return nil
			}
			st.next[sectionID] = e.Version + 1
		}
		if len(rows) < int(to-from) {
			return nil
		}
	}
}

// DocEventKind says what a document event is about.
type DocEventKind string

// The kinds of document event.
const (
	DocEdit      DocEventKind = "EDIT"      // Edit is set
	DocStructure DocEventKind = "STRUCTURE" // title or sections changed
	DocStatus    DocEventKind = "STATUS"    // the review moved
	DocComment   DocEventKind = "COMMENT"   // CommentID is set
	DocVersion   DocEventKind = "VERSION"   // VersionID is set
)

// DocEvent is one item of a document's stream.
type DocEvent struct {
	Kind       DocEventKind
	DocumentID int64
	Edit       *Edit
	CommentID  int64
	VersionID  int64
	Err        error // set on the last event when the stream ended on an error
}

// DocumentEvents streams a document's events: edits of all its sections
// (replayed after since[sectionID] for the sections named; live only for the
// others), structure, status, comment and version changes. Edits come in
// version order per section; a section added after the subscription comes
// whole, from version 1. A document the caller may not read is NOT_FOUND;
// a section of since that is not the document's, or a version below 0 or
// above the section's, BAD_USER_INPUT. Falling behind ends the stream as
// SectionEdits's does.
func (s *Service) DocumentEvents(ctx context.Context, documentID int64, since map[int64]int64) (<-chan DocEvent, error) {
	const op = "coedit.DocumentEvents"
	if _, err := s.Document(ctx, documentID); err != nil {
		return nil, err
	}
	for id, v := range since {
		if v < 0 {
			return nil, apperr.Invalid(op, "since", "section %d: a version is 0 or more; got %d", id, v)
		}
	}
	sub := s.hub.addDoc(documentID)
	var heads []struct {
		ID      int64 `bun:"id"`
		Version int64 `bun:"version"`
	}
	if err := s.db.NewSelect().Table("sections").Column("id", "version").Where("document_id = ?", documentID).
		Scan(ctx, &heads); err != nil {
		s.hub.removeDoc(documentID, sub)
		return nil, storage.MapError(op, "section", err)
	}
	next := make(map[int64]int64, len(heads))
	for _, h := range heads {
		next[h.ID] = h.Version + 1
		if v, ok := since[h.ID]; ok {
			if v > h.Version {
				s.hub.removeDoc(documentID, sub)
				return nil, (&apperr.Error{Kind: apperr.BadInput, Op: op, Field: "since",
					Message: "section " + fmtInt(h.ID) + " is at version " + fmtInt(h.Version) + "; " + fmtInt(v) + " is ahead of it"}).WithReason("VERSION_AHEAD")
			}
			next[h.ID] = v + 1
		}
	}
	var replay []int64
	for id := range since {
		if _, ok := next[id]; !ok {
			s.hub.removeDoc(documentID, sub)
			return nil, apperr.Invalid(op, "since", "section %d is not a section of this document", id)
		}
		replay = append(replay, id)
	}
	slices.Sort(replay)
	out := make(chan DocEvent)
	go func() {
		defer close(out)
		defer s.hub.removeDoc(documentID, sub)
		deliver := func(ev DocEvent) bool {
			select {
			case out <- ev:
				return true
			case <-ctx.Done():
			case <-s.stop:
			}
			return false
		}
		end := func(err error) { deliver(DocEvent{DocumentID: documentID, Err: err}) }
		behind := func() {
			end(apperr.E(apperr.Resubscribe, op, "this stream fell behind; subscribe again with the version of each section you applied"))
		}
		st := &stream{s: s, ctx: ctx, docID: documentID, next: next,
			send: func(e *Edit) bool { return deliver(DocEvent{Kind: DocEdit, DocumentID: documentID, Edit: e}) }}
		for _, id := range replay {
			if err := st.fill(id, 0); err != nil {
				end(err)
				return
			}
		}
		for {
			select {
			case <-sub.over:
				behind()
				return
			default:
			}
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			case <-sub.over:
				behind()
				return
			case ev := <-sub.inbox:
				if ev.Kind != DocEdit {
					if !deliver(ev) {
						return
					}
					continue
				}
				ok, err := st.edit(ev.Edit)
				if err != nil {
					end(err)
				}
				if !ok {
					return
				}
			}
		}
	}()
	return out, nil
}

// publishDoc announces a non-edit document event to this instance's and
// (on PostgreSQL) other instances' subscribers. Call it after the commit
// that caused it; it never fails (delivery to peers is logged when it
// does). Kind DocEdit is the committer's alone.
func (s *Service) publishDoc(ctx context.Context, ev DocEvent) {
	ev.Edit, ev.Err = nil, nil
	s.hub.publishDoc(ev)
	if s.pg {
		b, _ := jsonMarshal(docNote{K: "doc", D: ev.DocumentID, T: string(ev.Kind), C: ev.CommentID, X: ev.VersionID})
		s.broadcast(ctx, b)
	}
}

// docNote carries a document event to the other instances.
type docNote struct {
	K string `json:"k"`
	D int64  `json:"d"`
	T string `json:"t"`
	C int64  `json:"c,omitempty"`
	X int64  `json:"x,omitempty"`
}

// hub delivers this instance's events to its subscribers: a bounded inbox
// each, never waited on; a full inbox ends that subscription (over).
type hub struct {
	s    *Service
	mu   sync.Mutex // guards secs, docs
	secs map[int64]map[*sectionSub]struct{}
	docs map[int64]map[*docSub]struct{}

	// pubMu serializes publication (the committer's and the listener's),
	// so that each section's edits reach presence and inboxes once, in
	// version order; last is the highest version published per section.
	pubMu sync.Mutex
	last  map[int64]int64

	// maxRead is the most log rows one gap filling read (tests).
	maxRead atomic.Int64

	// watchers hear of every document's changes (Service.Watch); terr
	// remembers documents' territories for them. Both guarded by mu.
	watchers map[*watcher]struct{}
	terr     map[int64]int64
}

type watcher struct{ fn func(DocChange) }

// maxLast bounds hub.last; past it the table starts again.
const maxLast = 100_000

type sectionSub struct {
	inbox    chan *Edit
	over     chan struct{}
	overOnce sync.Once
}

type docSub struct {
	inbox    chan DocEvent
	over     chan struct{}
	overOnce sync.Once
}

func newHub(s *Service) *hub {
	return &hub{s: s, secs: map[int64]map[*sectionSub]struct{}{}, docs: map[int64]map[*docSub]struct{}{}, last: map[int64]int64{},
		watchers: map[*watcher]struct{}{}, terr: map[int64]int64{}}
}

func (h *hub) addSection(id int64) *sectionSub {
	sub := &sectionSub{inbox: make(chan *Edit, h.s.o.SubscriberBuffer), over: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.secs[id] == nil {
		h.secs[id] = map[*sectionSub]struct{}{}
	}
	h.secs[id][sub] = struct{}{}
	return sub
}

func (h *hub) removeSection(id int64, sub *sectionSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.secs[id], sub)
	if len(h.secs[id]) == 0 {
		delete(h.secs, id)
	}
}

func (h *hub) addDoc(id int64) *docSub {
	sub := &docSub{inbox: make(chan DocEvent, h.s.o.SubscriberBuffer), over: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.docs[id] == nil {
		h.docs[id] = map[*docSub]struct{}{}
	}
	h.docs[id][sub] = struct{}{}
	return sub
}

func (h *hub) removeDoc(id int64, sub *docSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.docs[id], sub)
	if len(h.docs[id]) == 0 {
		delete(h.docs, id)
	}
}

// interested reports whether a section or its document has subscribers
// here, or someone here is present in the section (presence moves with
// every edit).
func (h *hub) interested(sectionID, docID int64) bool {
	h.mu.Lock()
	subs := len(h.secs[sectionID]) > 0 || len(h.docs[docID]) > 0
	h.mu.Unlock()
	return subs || h.s.pres.follows(sectionID)
}

// subscribed lists the sections and documents with subscribers here.
func (h *hub) subscribed() (secs, docs []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range h.secs {
		secs = append(secs, id)
	}
	for id := range h.docs {
		docs = append(docs, id)
	}
	return secs, docs
}

// publish delivers committed edits of one section, in version order, with
// versions already published skipped and a gap before them (commits of
// another instance not yet heard of) filled from the log when someone here
// follows the section and the gap is at most replayPage versions: a longer
// one the streams fill themselves, a page at a time, each in its own
// goroutine, rather than the committer or the listener in one read.
func (h *hub) publish(ctx context.Context, edits []*Edit) {
	if len(edits) == 0 {
		return
	}
	h.pubMu.Lock()
	h.publishLocked(ctx, edits)
	h.pubMu.Unlock()
	h.changed(ctx, DocChange{Kind: DocEdit, DocumentID: edits[0].DocumentID}, edits[0].SectionID)
}

func (h *hub) publishLocked(ctx context.Context, edits []*Edit) {
	sid := edits[0].SectionID
	last, known := h.last[sid]
	for _, e := range edits {
		if known && e.Version <= last {
			continue
		}
		if known && e.Version > last+1 && e.Version-1-last <= replayPage && h.interested(sid, e.DocumentID) {
			if rows, err := h.s.opsAfter(ctx, h.s.db, sid, last, e.Version-1); err == nil {
				h.noteRead(len(rows))
				for _, r := range rows {
					if r.Version == last+1 {
						h.deliver(r)
						last = r.Version
					}
				}
			} // else the subscribers fill the gap themselves
		}
		h.deliver(e)
		last, known = e.Version, true
	}
	if len(h.last) >= maxLast {
		clear(h.last)
	}
	h.last[sid] = last
}

// publishRange publishes versions from..to of a section committed by
// another instance, read from the log, when someone here follows it. When
// nobody does, the section's published version moves to to all the same
// (nobody here missed anything), so that a later subscriber does not make
// the listener read the versions in between. A section never published
// here, or more than replayPage versions behind, starts at to: its
// subscribers fill what they miss themselves.
func (h *hub) publishRange(ctx context.Context, sectionID, docID, from, to int64) {
	if !h.interested(sectionID, docID) {
		h.pubMu.Lock()
		last, known := h.last[sectionID]
		if known && to > last {
			h.last[sectionID] = to
		}
		h.pubMu.Unlock()
		if !known || to > last {
			h.changed(ctx, DocChange{Kind: DocEdit, DocumentID: docID}, sectionID)
		}
		return
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	last, known := h.last[sectionID]
	switch {
	case known && to <= last:
		return
	case known && to-last <= replayPage:
		from = last + 1
	default:
		from = to
	}
	rows, err := h.s.opsAfter(ctx, h.s.db, sectionID, from-1, to)
	if err != nil {
		h.s.o.Logger.Error("coedit: read the log for subscribers", "section", sectionID, "err", err)
		return
	}
	h.noteRead(len(rows))
	h.publishLocked(ctx, rows)
	// pubMu is held: changed reads a territory at most once per document,
	// and its watchers return at once.
	h.changed(ctx, DocChange{Kind: DocEdit, DocumentID: docID}, sectionID)
}

// noteRead records a read of n log rows for subscribers.
func (h *hub) noteRead(n int) {
	for {
		cur := h.maxRead.Load()
		if int64(n) <= cur || h.maxRead.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// deliver hands e to presence and to every inbox of its section and
// document. Called with pubMu held.
func (h *hub) deliver(e *Edit) {
	h.s.pres.onEdit(e)
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.secs[e.SectionID] {
		select {
		case sub.inbox <- e:
		default:
			sub.overOnce.Do(func() { close(sub.over) })
		}
	}
	ev := DocEvent{Kind: DocEdit, DocumentID: e.DocumentID, Edit: e}
	for sub := range h.docs[e.DocumentID] {
		select {
		case sub.inbox <- ev:
		default:
			sub.overOnce.Do(func() { close(sub.over) })
		}
	}
}

// publishDoc hands a non-edit event to the document's inboxes, and then
// tells the watchers.
func (h *hub) publishDoc(ev DocEvent) {
	h.mu.Lock()
	for sub := range h.docs[ev.DocumentID] {
		select {
		case sub.inbox <- ev:
		default:
			sub.overOnce.Do(func() { close(sub.over) })
		}
	}
	h.mu.Unlock()
	h.changed(context.Background(), DocChange{Kind: ev.Kind, DocumentID: ev.DocumentID}, 0)
}

// DocChange is what a watcher (Service.Watch) hears: a document of a
// territory changed. Kind is DocEdit for committed operations (one DocChange
// per section and commit, not per operation), or the kind of the document
// event.
type DocChange struct {
	Kind        DocEventKind
	DocumentID  int64
	TerritoryID int64
}

// Watch calls fn with every change to every document, this instance's and
// those other instances announce (the listener: edits, structure, status,
// comments, versions), after the change committed, until ctx ends (fn may
// still be called briefly after). It checks no access: it is for other
// features of PIA (package tracking's live figures), which check their
// own callers. fn runs on the committer's, a request's or the listener's
// goroutine, so it must return at once: note the change and leave the
// work to another goroutine.
//
// A DocChange carries its document's territory. The hub learns it from the
// section metadata the committer and the listener already keep, or, for a
// document it has not met, with one read by primary key; it then remembers
// it (a document never moves to another territory). Without watchers
// nothing is read.
func (s *Service) Watch(ctx context.Context, fn func(DocChange)) {
	w := &watcher{fn: fn}
	s.hub.mu.Lock()
	s.hub.watchers[w] = struct{}{}
	s.hub.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.hub.mu.Lock()
		delete(s.hub.watchers, w)
		s.hub.mu.Unlock()
	})
}

// changed tells the watchers about c, once its territory is known (from
// sectionID's metadata when it is not 0, else from the document). A
// document whose territory cannot be read (it is gone, the database does
// not answer) is logged and left out.
func (h *hub) changed(ctx context.Context, c DocChange, sectionID int64) {
	h.mu.Lock()
	if len(h.watchers) == 0 {
		h.mu.Unlock()
		return
	}
	terr, known := h.terr[c.DocumentID]
	h.mu.Unlock()
	if !known {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		var err error
		if sectionID != 0 {
			var m sectionMeta
			m, err = h.s.sectionMeta(ctx, h.s.db, sectionID)
			terr = m.TerritoryID
		} else {
			err = h.s.db.NewSelect().Table("documents").Column("territory_id").Where("id = ?", c.DocumentID).Scan(ctx, &terr)
		}
		if err != nil {
			h.s.o.Logger.Warn("coedit: the territory of a changed document", "document", c.DocumentID, "err", err)
			return
		}
	}
	c.TerritoryID = terr
	h.mu.Lock()
	if !known {
		if len(h.terr) >= maxMeta {
			clear(h.terr)
		}
		h.terr[c.DocumentID] = terr
	}
	watchers := make([]*watcher, 0, len(h.watchers))
	for w := range h.watchers {
		watchers = append(watchers, w)
	}
	h.mu.Unlock()
	for _, w := range watchers {
		w.fn(c)
	}
}

// sectionVersions reads the versions of the sections ids or of documents
// docs, for the listener's resync.
func sectionVersions(ctx context.Context, db bun.IDB, ids, docs []int64) ([]sectionVersion, error) {
	var rows []sectionVersion
	q := db.NewSelect().Table("sections").Column("id", "document_id", "version")
	switch {
	case len(ids) > 0 && len(docs) > 0:
		q = q.Where("id IN (?) OR document_id IN (?)", bun.In(ids), bun.In(docs))
	case len(ids) > 0:
		q = q.Where("id IN (?)", bun.In(ids))
	case len(docs) > 0:
		q = q.Where("document_id IN (?)", bun.In(docs))
	default:
		return nil, nil
	}
	err := q.Scan(ctx, &rows)
	return rows, err
}

type sectionVersion struct {
	ID         int64 `bun:"id"`
	DocumentID int64 `bun:"document_id"`
	Version    int64 `bun:"version"`
}
