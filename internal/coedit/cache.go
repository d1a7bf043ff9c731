package coedit

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
)

// The text cache's bounds: sections kept, code points kept across them, and
// how long an unused section stays.
const (
	defaultCacheSections = 1000
	defaultCacheRunes    = 64 << 20 // 256 MB of runes at most
	defaultCacheIdle     = 10 * time.Minute
	// ringOps and ringRunes bound the recent operations a section keeps for
	// transforms: older ones are read from the log.
	ringOps   = 1024
	ringRunes = 4 << 20
	// maxKnownClients bounds a section's table of client sequence numbers;
	// past it the table starts again (the log answers for the others).
	maxKnownClients = 4096
)

// sectionState is a section's text at a committed version, with its most
// recent operations. Its mutex is held by whoever reads or changes it; the
// committer holds it from the moment the section's row is locked until its
// transaction has committed, so that readers only ever see committed text.
// A state is consistent with the database up to its version; users compare
// that with sections.version and catch up from the log.
type sectionState struct {
	mu     sync.Mutex
	id     int64
	loaded bool
	// dead: the state holds text that did not commit (a failed
	// transaction) and was dropped from the cache; whoever waited for it
	// takes a fresh one.
	dead    bool
	version int64
	// text is the section's text in chunks, so that an edit anywhere in
	// a large section moves a chunk, not the text (see chunkText).
	text chunkText
	ring opRing
	// seqs holds, for the clients present, the highest client_seq
	// committed on the section: exact, because an entry is made from the
	// log (max) and then follows every commit. A client absent is looked up.
	seqs map[string]int64

	// Bookkeeping of textCache, under its mutex.
	elem     *list.Element
	lastUsed time.Time
	runes    int
}

// opRing is a section's most recent committed operations, consecutive.
type opRing struct {
	first int64 // the version of ops[0]
	ops   []ot.Op
	runes int // inserted code points held, to bound memory
}

func (r *opRing) reset() { *r = opRing{} }

// push appends the operation of version v (the one after the last held).
func (r *opRing) push(v int64, op ot.Op) {
	if len(r.ops) == 0 || r.first+int64(len(r.ops)) != v {
		r.ops, r.first, r.runes = r.ops[:0], v, 0
	}
	r.ops = append(r.ops, op)
	r.runes += op.InsertedRunes()
	drop := 0
	for len(r.ops)-drop > ringOps || (r.runes > ringRunes && len(r.ops)-drop > 1) {
		r.runes -= r.ops[drop].InsertedRunes()
		drop++
	}
	if drop > 0 {
		r.ops = append(r.ops[:0:0], r.ops[drop:]...)
		r.first += int64(drop)
	}
}

// after returns the operations of versions from+1 .. to, when held.
func (r *opRing) after(from, to int64) ([]ot.Op, bool) {
	if from >= to {
		return nil, true
	}
	last := r.first + int64(len(r.ops)) - 1
	if len(r.ops) == 0 || from+1 < r.first || to > last {
		return nil, false
	}
	return r.ops[from+1-r.first : to+1-r.first], true
}

// apply applies e, the operation after the state's version, to the state.
func (st *sectionState) apply(e *Edit) error {
	if e.Version != st.version+1 {
		return errors.New("coedit: the log skips a version")
	}
	if err := st.text.apply(e.Op); err != nil {
		return err
	}
	st.version = e.Version
	st.ring.push(e.Version, e.Op)
	st.noteSeq(e.ClientID, e.ClientSeq)
	return nil
}

// noteSeq records a committed (client, seq) for a client present in seqs.
func (st *sectionState) noteSeq(client string, seq int64) {
	if cur, ok := st.seqs[client]; ok && seq > cur {
		st.seqs[client] = seq
	}
}

// learnSeq records the highest committed seq of a client read from the log.
func (st *sectionState) learnSeq(client string, seq int64) {
	if len(st.seqs) >= maxKnownClients {
		clear(st.seqs)
	}
	st.seqs[client] = seq
}

// textCache holds the states of recently used sections, least recently
// used first out, within a count, a total of code points and an idle time.
type textCache struct {
	mu       sync.Mutex
	m        map[int64]*sectionState
	lru      *list.List // front: most recently used
	max      int
	maxRunes int
	idle     time.Duration
	runes    int
}

func newTextCache(max, maxRunes int, idle time.Duration) *textCache {
	return &textCache{m: make(map[int64]*sectionState), lru: list.New(), max: max, maxRunes: maxRunes, idle: idle}
}

// get returns the state of section id, a new unloaded one when absent.
func (c *textCache) get(id int64) *sectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	st := c.m[id]
	if st == nil {
		st = &sectionState{id: id, seqs: make(map[string]int64)}
		st.elem = c.lru.PushFront(st)
		c.m[id] = st
		c.evict(now, st)
	} else {
		c.lru.MoveToFront(st.elem)
	}
	st.lastUsed = now
	return st
}

// resize records the code points st now holds and evicts what exceeds the
// bounds (never st itself).
func (c *textCache) resize(st *sectionState, runes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[st.id] != st {
		return
	}
	c.runes += runes - st.runes
	st.runes = runes
	c.evict(time.Now(), st)
}

// drop removes st from the cache, if it is still there.
func (c *textCache) drop(st *sectionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(st)
}

func (c *textCache) remove(st *sectionState) {
	if c.m[st.id] != st {
		return
	}
	delete(c.m, st.id)
	c.lru.Remove(st.elem)
	c.runes -= st.runes
}

// evict removes the least recently used states beyond the bounds and those
// idle too long, keeping keep. Called with c.mu held.
func (c *textCache) evict(now time.Time, keep *sectionState) {
	for e := c.lru.Back(); e != nil; {
		st := e.Value.(*sectionState)
		prev := e.Prev()
		over := len(c.m) > c.max || c.runes > c.maxRunes
		if st != keep && (over || now.Sub(st.lastUsed) > c.idle) {
			c.remove(st)
		} else if !over {
			break
		}
		e = prev
	}
}

// sweep evicts the states idle too long.
func (c *textCache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(time.Now(), nil)
}

// len is the number of sections cached (tests).
func (c *textCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// lockState returns the cached state of section id, locked, taking a fresh
// one when the one found was dropped meanwhile. It may be unloaded.
func (s *Service) lockState(id int64) *sectionState {
	for {
		st := s.cache.get(id)
		st.mu.Lock()
		if !st.dead {
			return st
		}
		st.mu.Unlock()
	}
}

// sectionHead is what the committer and the readers compare a state with.
type sectionHead struct {
	bun.BaseModel `bun:"table:sections,alias:section"`

	ID         int64      `bun:"id"`
	DocumentID int64      `bun:"document_id"`
	Version    int64      `bun:"version"`
	Length     int        `bun:"length"`
	Removed    *time.Time `bun:"removed_at"`
	// SnapshotVersion is the version of the section's snapshot, which the
	// committer reads with the head (section_snapshots.version); other
	// readers leave it 0.
	SnapshotVersion int64 `bun:"snapshot_version,scanonly"`
}

// syncState brings st, locked, to head.Version through db: from the
// snapshot when it is unloaded (or, which should not happen, ahead of the
// database), otherwise with the log rows it misses. A load without the
// section's row lock may reach a later version, committed since head was
// read. It returns those rows
// (nil after a full load): commits of other instances, which the caller
// publishes.
func (s *Service) syncState(ctx context.Context, db bun.IDB, st *sectionState, head *sectionHead) ([]*Edit, error) {
	const op = "coedit.syncState"
	if st.loaded && st.version == head.Version {
		return nil, nil
	}
	if !st.loaded || st.version > head.Version {
		// The snapshot with the section's version and length, in one
		// statement: a reader without the row lock (textAt) may find a
		// snapshot another instance wrote after it read head, and then
		// goes to that newer version, which is as good.
		var snap struct {
			Version         int64  `bun:"version"`
			Length          int    `bun:"length"`
			SnapshotVersion int64  `bun:"snapshot_version"`
			Text            string `bun:"text"`
		}
		err := db.NewSelect().TableExpr("sections AS s").Join("JOIN section_snapshots AS ss ON ss.section_id = s.id").
			ColumnExpr("s.version, s.length, ss.version AS snapshot_version, ss.text").Where("s.id = ?", st.id).Scan(ctx, &snap)
		if err != nil {
			st.loaded = false
			return nil, storage.MapError(op, "section", err)
		}
		if snap.Version < head.Version || snap.SnapshotVersion > snap.Version {
			st.loaded = false
			return nil, apperr.E(apperr.Internal, op, "section %d: snapshot at %d, section at %d, expected %d",
				st.id, snap.SnapshotVersion, snap.Version, head.Version)
		}
		st.loaded, st.version = true, snap.SnapshotVersion
		st.text.set(snap.Text)
		st.ring.reset()
		clear(st.seqs)
		rows, err := s.opsAfter(ctx, db, st.id, st.version, snap.Version)
		if err != nil {
			st.loaded = false
			return nil, err
		}
		for _, e := range rows {
			if err := st.apply(e); err != nil {
				st.loaded = false
				return nil, apperr.Wrap(op, err)
			}
		}
		if st.version != snap.Version || st.text.len() != snap.Length {
			st.loaded = false
			return nil, apperr.E(apperr.Internal, op, "section %d: the log does not reach its version", st.id)
		}
		s.cache.resize(st, st.text.len())
		return nil, nil
	}
	rows, err := s.opsAfter(ctx, db, st.id, st.version, head.Version)
	if err != nil {
		return nil, err
	}
	for _, e := range rows {
		if err := st.apply(e); err != nil {
			st.loaded = false
			return nil, apperr.Wrap(op, err)
		}
	}
	if st.version != head.Version {
		st.loaded = false
		return nil, apperr.E(apperr.Internal, op, "section %d: the log does not reach its version", st.id)
	}
	s.cache.resize(st, st.text.len())
	return rows, nil
}

// textAt returns a section's current text and version, without
// authorization (callers check): the cached text, brought up to date with
// the database first. NOT_FOUND when there is no such section. It takes the
// section's cache lock and reads outside any transaction, so a caller may
// hold the section's row lock (lockSection) meanwhile: the text is then
// that of the version its transaction sees.
func (s *Service) textAt(ctx context.Context, sectionID int64) (string, int64, error) {
	const op = "coedit.textAt"
	st := s.lockState(sectionID)
	defer st.mu.Unlock()
	head := new(sectionHead)
	if err := s.db.NewSelect().Model(head).Where("id = ?", sectionID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			s.cache.drop(st)
			return "", 0, apperr.E(apperr.NotFound, op, "section not found")
		}
		return "", 0, storage.MapError(op, "section", err)
	}
	if _, err := s.syncState(ctx, s.db, st, head); err != nil {
		return "", 0, err
	}
	return st.text.String(), st.version, nil
}

// opsAfter returns a section's committed operations with from < version <=
// to, in order, read through db (a caller's transaction sees what it
// locked); to <= 0 means up to the latest. It checks nothing: callers
// authorize. Comments use it to move a range given at a client's version to
// the current one, versions and restores to read what happened after a
// snapshot.
func (s *Service) opsAfter(ctx context.Context, db bun.IDB, sectionID, from, to int64) ([]*Edit, error) {
	const op = "coedit.opsAfter"
	var rows []*LoggedOp
	q := db.NewSelect().Model(&rows).Where("section_id = ?", sectionID).Where("version > ?", from).Order("version")
	if to > 0 {
		if to <= from {
			return nil, nil
		}
		q = q.Where("version <= ?", to)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "operation", err)
	}
	docID, err := s.documentOf(ctx, db, sectionID)
	if err != nil {
		return nil, err
	}
	out := make([]*Edit, len(rows))
	for i, r := range rows {
		out[i] = r.edit(docID)
	}
	return out, nil
}

// edit is the log row as an Edit of document docID.
func (r *LoggedOp) edit(docID int64) *Edit {
	return &Edit{SectionID: r.SectionID, DocumentID: docID, Version: r.Version, Op: r.Op, ClientID: r.ClientID,
		ClientSeq: r.ClientSeq, AuthorID: r.AuthorID, Origin: r.Origin, At: r.CreatedAt}
}

// sectionMeta is what never changes about a section: its document and that
// document's territory (for authorization).
type sectionMeta struct {
	DocumentID  int64 `bun:"document_id"`
	TerritoryID int64 `bun:"territory_id"`
}

// metaCache remembers sectionMeta; it never goes stale, so it is only
// bounded.
type metaCache struct {
	mu sync.Mutex
	m  map[int64]sectionMeta
}

const maxMeta = 100_000

func newMetaCache() *metaCache { return &metaCache{m: make(map[int64]sectionMeta)} }

func (c *metaCache) get(id int64) (sectionMeta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[id]
	return m, ok
}

func (c *metaCache) put(id int64, m sectionMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxMeta {
		clear(c.m)
	}
	c.m[id] = m
}

// sectionMeta returns a section's document and territory, through db when
// not cached; NOT_FOUND when there is no such section.
func (s *Service) sectionMeta(ctx context.Context, db bun.IDB, id int64) (sectionMeta, error) {
	const op = "coedit.sectionMeta"
	if m, ok := s.meta.get(id); ok {
		return m, nil
	}
	var m sectionMeta
	err := db.NewSelect().TableExpr("sections AS s").Join("JOIN documents AS d ON d.id = s.document_id").
		ColumnExpr("s.document_id, d.territory_id").Where("s.id = ?", id).Scan(ctx, &m)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.E(apperr.NotFound, op, "section not found")
	}
	if err != nil {
		return m, storage.MapError(op, "section", err)
	}
	s.meta.put(id, m)
	return m, nil
}

// documentOf is a section's document id.
func (s *Service) documentOf(ctx context.Context, db bun.IDB, sectionID int64) (int64, error) {
	m, err := s.sectionMeta(ctx, db, sectionID)
	return m.DocumentID, err
}

// chunkMax is the most code points a chunk of a chunkText holds: an edit
// moves at most this many (64 KB), whatever the section's length.
const chunkMax = 16 << 10

// chunkText is a text as a list of chunks of code points, none empty, each
// at most chunkMax long. An edit finds its place by walking the chunks'
// lengths (a 2 M code point section has a few hundred chunks) and moves
// the rest of one chunk, where a single []rune moved the rest of the text:
// 4 MB for an insert at the start of a 1 M code point section. The zero
// value is the empty text.
type chunkText struct {
	chunks [][]rune
	n      int
}

// set replaces the text with s (valid UTF-8), in chunks half full, so
// that typing fills them before they split.
func (t *chunkText) set(s string) {
	rs := []rune(s)
	t.chunks, t.n = t.chunks[:0], len(rs)
	clear(t.chunks[:cap(t.chunks)])
	for len(rs) > 0 {
		k := min(len(rs), chunkMax/2)
		t.chunks = append(t.chunks, rs[:k:k])
		rs = rs[k:]
	}
}

// len is the text's length in code points.
func (t *chunkText) len() int { return t.n }

// String returns the text.
func (t *chunkText) String() string {
	var b strings.Builder
	b.Grow(t.n)
	for _, c := range t.chunks {
		for _, r := range c {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// apply applies op, which must cover the text: errors wrap ot.ErrInvalid
// or ot.ErrBaseLength, as ot.ApplyRunes's. The text is unchanged when it returns an error.
func (t *chunkText) apply(op ot.Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	if bl := op.BaseLen(); bl != t.n {
		return fmt.Errorf("%w: the operation covers %d code points, the text has %d", ot.ErrBaseLength, bl, t.n)
	}
	pos := 0
	for _, c := range op {
		switch {
		case c.Retain > 0:
			pos += c.Retain
		case c.Delete > 0:
			t.delete(pos, c.Delete)
		default:
			pos += t.insert(pos, c.Insert)
		}
	}
	return nil
}

// locate returns the chunk holding code point pos and pos's offset in it;
// for pos == t.n, the end of the last chunk (i == len(chunks) when empty).
func (t *chunkText) locate(pos int) (i, off int) {
	if pos >= t.n {
		if len(t.chunks) == 0 {
			return 0, 0
		}
		last := len(t.chunks) - 1
		return last, len(t.chunks[last])
	}
	for i, c := range t.chunks {
		if pos < len(c) {
			return i, pos
		}
		pos -= len(c)
	}
	panic("coedit: chunkText lengths out of step")
}

// insert inserts s at pos and returns its length in code points.
func (t *chunkText) insert(pos int, s string) int {
	k := utf8.RuneCountInString(s)
	if k == 0 {
		return 0
	}
	i, off := t.locate(pos)
	t.n += k
	if i == len(t.chunks) {
		t.chunks = append(t.chunks, nil)
	}
	c := t.chunks[i]
	if len(c)+k <= chunkMax {
		// In place: move the chunk's rest, then write s.
		old := len(c)
		c = slices.Grow(c, k)[:old+k]
		copy(c[off+k:], c[off:old])
		j := off
		for _, r := range s {
			c[j] = r
			j++
		}
		t.chunks[i] = c
		return k
	}
	// The chunk would overflow: rebuild it with s as chunks half full.
	rs := make([]rune, 0, len(c)+k)
	rs = append(rs, c[:off]...)
	for _, r := range s {
		rs = append(rs, r)
	}
	rs = append(rs, c[off:]...)
	var parts [][]rune
	for len(rs) > 0 {
		n := min(len(rs), chunkMax/2)
		parts = append(parts, rs[:n:n])
		rs = rs[n:]
	}
	t.chunks = slices.Replace(t.chunks, i, i+1, parts...)
	return k
}

// delete removes k code points at pos (pos+k <= t.n), dropping chunks
// that empty and merging a chunk left small with its next when they fit.
func (t *chunkText) delete(pos, k int) {
	i, off := t.locate(pos)
	t.n -= k
	for k > 0 {
		c := t.chunks[i]
		d := min(k, len(c)-off)
		k -= d
		if d == len(c) {
			t.chunks = slices.Delete(t.chunks, i, i+1)
			off = 0
			continue
		}
		copy(c[off:], c[off+d:])
		t.chunks[i] = c[:len(c)-d]
		i, off = i+1, 0
	}
	// Keep chunks from fragmenting under deletes: merge the chunk before
	// the deletion's end with its neighbours while they fit in half a chunk.
	for j := max(i-1, 0); j < len(t.chunks)-1 && j <= i; {
		if len(t.chunks[j])+len(t.chunks[j+1]) <= chunkMax/2 {
			t.chunks[j] = append(t.chunks[j], t.chunks[j+1]...)
			t.chunks = slices.Delete(t.chunks, j+1, j+2)
			i--
			continue
		}
		j++
	}
}
