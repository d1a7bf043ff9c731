package coedit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
)

// EditInput is one client's operation on a section.
type EditInput struct {
	SectionID   int64
	BaseVersion int64
	Op          ot.Op
	ClientID    string
	ClientSeq   int64
}

// Edit is a committed operation, as the log holds it and streams send it.
type Edit struct {
	SectionID  int64
	DocumentID int64
	Version    int64
	Op         ot.Op
	ClientID   string
	ClientSeq  int64
	AuthorID   *int64
	Origin     Origin
	At         time.Time
}

// restoreClientPrefix starts the client ids of the operations the server
// makes itself (RestoreVersion's "restore:<versionID>"): a participant may
// not use it, so nobody can take those keys first.
const restoreClientPrefix = "restore:"

// DefaultMaxVersionsBehind is how far behind the section's version an
// edit's base version may be: an older one is refused (VERSION_TOO_OLD)
// rather than transformed through an unbounded part of the log.
const DefaultMaxVersionsBehind = 100_000

// maxRebases is how many times the committer sends an operation back to
// its submitter to be transformed up to a recent version (see rebase)
// before it reads the log itself.
const maxRebases = 4

// commitTimeout bounds one batch's transaction.
const commitTimeout = time.Minute

// EditSection transforms, applies and commits an operation (EditDocument,
// document in DRAFT), and returns it as applied: transformed against what
// was committed after BaseVersion, at the section's next version.
//
// A resubmission of (ClientID, ClientSeq) gets the first answer and changes
// nothing. The server keeps the operation as applied, not as submitted, so
// it recognises a resubmission by transforming it again from its
// BaseVersion: a client that resends its pending operation (transformed or
// not by what it received meanwhile, as an OT client does) gets the first
// answer; the same pair with another operation is CONFLICT
// CLIENT_SEQ_REUSED. The log is checked before the status: a resubmission
// gets its first answer even after the document left DRAFT or the section
// was removed.
//
// An operation that changes nothing (only retains) still commits as a
// version: clients count on the acknowledgement.
//
// Refusals change nothing: UNAUTHENTICATED; NOT_FOUND for a section the
// caller may not read; FORBIDDEN for one they may only read; BAD_USER_INPUT
// for a bad client id (one starting with "restore:" is the server's),
// client seq or base version, with reason VERSION_TOO_OLD for a base
// version more than DefaultMaxVersionsBehind versions behind the section's
// (reload the section), INVALID_OPERATION or INVALID_UTF8 for a malformed operation,
// OPERATION_TOO_LARGE (more than MaxInsertRunes inserted),
// VERSION_AHEAD (a base version the section has not reached),
// BASE_LENGTH_MISMATCH (the operation does not cover the text at its base
// version), SECTION_TOO_LARGE (the result would exceed MaxSectionRunes);
// CONFLICT NOT_DRAFT out of DRAFT and CONFLICT for a removed section (for
// a new operation), CONFLICT CLIENT_SEQ_REUSED (also when another person
// used the same client id and sequence number: choose a new client id).
//
// Only the recent operations, which the committer holds in memory, are
// transformed in the batch's transaction: an operation made on an older
// version is first transformed up to a recent one from the log by the
// submitting goroutine, outside any transaction (see rebase), so that it
// does not hold up the other edits.
func (s *Service) EditSection(ctx context.Context, in EditInput) (*Edit, error) {
	const op = "coedit.EditSection"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	if err := s.checkEdit(op, &in); err != nil {
		return nil, err
	}
	m, err := s.sectionMeta(ctx, s.db, in.SectionID)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if err := s.authorize(ctx, access.EditDocument, &Document{ID: m.DocumentID, TerritoryID: m.TerritoryID}); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.E(apperr.NotFound, op, "section not found")
		}
		return nil, err
	}
	return s.submit(ctx, submitRequest{EditInput: in, AuthorID: actorID(ctx), Origin: OriginEdit})
}

// checkEdit validates a client's edit and normalizes its operation.
func (s *Service) checkEdit(op string, in *EditInput) error {
	if err := checkClientID(op, in.ClientID); err != nil {
		return err
	}
	if strings.HasPrefix(in.ClientID, restoreClientPrefix) {
		return apperr.Invalid(op, "clientId", "client ids starting with %q are the server's: choose another", restoreClientPrefix)
	}
	if in.ClientSeq < 0 {
		return apperr.Invalid(op, "clientSeq", "a client sequence number is 0 or more; got %d", in.ClientSeq)
	}
	if in.BaseVersion < 0 {
		return apperr.Invalid(op, "baseVersion", "a base version is 0 or more; got %d", in.BaseVersion)
	}
	if err := in.Op.Validate(); err != nil {
		reason := "INVALID_OPERATION"
		if errors.Is(err, ot.ErrInvalidUTF) {
			reason = "INVALID_UTF8"
		}
		return apperr.Invalid(op, "operation", "the operation is not valid: %v", err).WithReason(reason)
	}
	for _, c := range in.Op {
		if strings.IndexByte(c.Insert, 0) >= 0 {
			return apperr.Invalid(op, "operation", "the operation inserts a NUL character, which cannot be stored").
				WithReason("INVALID_OPERATION")
		}
	}
	if n := in.Op.InsertedRunes(); n > s.o.MaxInsertRunes {
		return apperr.Invalid(op, "operation", "the operation inserts %d characters; the most is %d", n, s.o.MaxInsertRunes).
			WithReason("OPERATION_TOO_LARGE")
	}
	in.Op = ot.Normalize(in.Op)
	return nil
}

// submitRequest is an operation for the committer: a participant's edit, or
// one the service makes itself (a restore).
type submitRequest struct {
	EditInput
	AuthorID *int64
	Origin   Origin
}

// pending is a request waiting in the committer's queue.
type pending struct {
	req  submitRequest
	ctx  context.Context
	meta sectionMeta
	done chan outcome // buffered: the committer never waits

	// mayRead lets the committer read old operations from the log itself
	// rather than send the request back (after maxRebases).
	mayRead bool

	// Set by the committer while it works on the batch.
	out    outcome
	commit bool     // out.edit is this batch's: it holds if the batch commits
	same   *pending // a resubmission of another request of the batch
}

type outcome struct {
	edit *Edit
	err  error
	// back: the committer does not hold the operations the request must be
	// transformed through; its submitter does that work (rebase) and, for
	// a new operation, queues it again.
	back *sendBack
}

// sendBack is what the committer asks of a request's submitter.
type sendBack struct {
	// to: transform the operation up to this committed version and queue
	// it again. dup: the request reuses the key of an operation of the
	// batch, so an operation that does not fit is CLIENT_SEQ_REUSED.
	to  int64
	dup bool
	// orig, when set: the request reuses the key of this committed
	// operation, of the same author; answer it if it is the same request
	// (see sameRequest), CLIENT_SEQ_REUSED otherwise.
	orig *Edit
}

// submit hands req to the committer and waits for its answer. Authorization
// is the caller's to check; the committer refuses (CONFLICT NOT_DRAFT)
// unless the document is in DRAFT, whatever the origin. The operation must
// be valid (ot.Op.Validate); MaxInsertRunes is EditSection's limit only, so
// a restore may insert more. It returns what EditSection returns, and
// INTERNAL when the service is not running or ctx ends first (the operation
// may commit all the same: a resubmission tells).
func (s *Service) submit(ctx context.Context, req submitRequest) (*Edit, error) {
	const op = "coedit.submit"
	m, err := s.sectionMeta(ctx, s.db, req.SectionID)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	req.Op = ot.Normalize(req.Op)
	for tries := 0; ; tries++ {
		p := &pending{req: req, ctx: ctx, meta: m, done: make(chan outcome, 1), mayRead: tries >= maxRebases}
		s.mu.Lock()
		if !s.started || s.closed {
			s.mu.Unlock()
			return nil, apperr.E(apperr.Internal, op, "the co-editing service is not running")
		}
		s.queue = append(s.queue, p)
		s.mu.Unlock()
		s.signal()
		var o outcome
		select {
		case o = <-p.done:
		case <-ctx.Done():
			return nil, apperr.Wrap(op, ctx.Err())
		}
		if o.back == nil {
			return o.edit, o.err
		}
		if done, e, err := s.rebase(ctx, &req, o.back); done {
			return e, err
		}
	}
}

// rebase does, in the submitter's goroutine and outside any transaction,
// what the committer sent back: it reads from the log the operations req
// must be transformed through. For a resubmission of a committed operation
// (back.orig) it answers (done); for a new operation it transforms req up
// to version back.to, which the committer holds the operations after, and
// the caller queues it again. The result is the one the committer would
// have reached: transforming through the operations in two stretches is
// transforming through them all.
func (s *Service) rebase(ctx context.Context, req *submitRequest, back *sendBack) (done bool, e *Edit, err error) {
	const op = "coedit.EditSection"
	if orig := back.orig; orig != nil {
		if orig.Version-1-req.BaseVersion > s.maxBehind {
			return true, nil, versionTooOld(op, orig.Version-1, req.BaseVersion)
		}
		ops, err := s.logOps(ctx, req.SectionID, req.BaseVersion, orig.Version-1)
		if err != nil {
			return true, nil, err
		}
		if !sameOp(req.Op, ops, orig) {
			return true, nil, seqReused(op)
		}
		return true, orig, nil
	}
	if back.to <= req.BaseVersion {
		return false, nil, nil
	}
	if back.to-req.BaseVersion > s.maxBehind {
		return true, nil, versionTooOld(op, back.to, req.BaseVersion)
	}
	ops, err := s.logOps(ctx, req.SectionID, req.BaseVersion, back.to)
	if err != nil {
		return true, nil, err
	}
	x, ok := transformThrough(req.Op, ops, 0)
	if !ok {
		if back.dup {
			return true, nil, seqReused(op)
		}
		return true, nil, baseMismatch(op, req.BaseVersion, req.Op)
	}
	req.BaseVersion, req.Op = back.to, x
	return false, nil, nil
}

// logOps reads the operations of versions from+1..to of a section from the
// log, outside any transaction (they are committed, so they never change).
func (s *Service) logOps(ctx context.Context, sectionID, from, to int64) ([]ot.Op, error) {
	if from >= to {
		return nil, nil
	}
	rows, err := s.opsAfter(ctx, s.db, sectionID, from, to)
	if err != nil {
		return nil, apperr.Wrap("coedit.EditSection", err)
	}
	if int64(len(rows)) != to-from {
		return nil, apperr.E(apperr.Internal, "coedit.EditSection", "section %d: the log misses versions", sectionID)
	}
	ops := make([]ot.Op, len(rows))
	for i, r := range rows {
		ops[i] = r.Op
	}
	return ops, nil
}

// commitLoop is the committer: it writes what is queued, BatchMax at a time,
// until Close, after which it writes what was queued before and returns.
func (s *Service) commitLoop() {
	defer close(s.done)
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		s.mu.Lock()
		n := min(len(s.queue), s.o.BatchMax)
		batch := slices.Clone(s.queue[:n])
		s.queue = s.queue[n:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		closed := s.closed
		s.mu.Unlock()
		if n > 0 {
			s.commit(batch)
			continue
		}
		if closed {
			return
		}
		select {
		case <-s.wake:
		case <-sweep.C:
			s.cache.sweep()
		}
	}
}

// sectionWork is one section's part of a batch.
type sectionWork struct {
	id, docID int64
	reqs      []*pending
	head      *sectionHead
	status    Status
	st        *sectionState // locked while the batch runs
	base      int64         // the committed version, once caught up
	caughtUp  []*Edit       // other instances' commits found in the log
	edits     []*Edit       // accepted in this batch, versions base+1...
	byClient  map[clientKey]*pending
	comments  []*anchorRow
}

type clientKey struct {
	client string
	seq    int64
}

// anchorRow is an open thread's anchor, as the committer moves it.
type anchorRow struct {
	ID        int64 `bun:"id"`
	SectionID int64 `bun:"section_id"`
	Start     int   `bun:"anchor_start"`
	End       int   `bun:"anchor_end"`
	changed   bool
	orphaned  bool
}

// commit writes one batch: see the package comment. Refusals are answered
// whatever happens to the batch; a transaction that fails drops the cache
// of its sections and answers INTERNAL to the operations it held.
func (s *Service) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	works := map[int64]*sectionWork{}
	var ids []int64
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- outcome{err: apperr.Wrap("coedit.submit", err)}
			continue
		}
		w := works[p.req.SectionID]
		if w == nil {
			w = &sectionWork{id: p.req.SectionID, docID: p.meta.DocumentID, byClient: map[clientKey]*pending{}}
			works[w.id] = w
			ids = append(ids, w.id)
		}
		w.reqs = append(w.reqs, p)
	}
	if len(ids) == 0 {
		return
	}
	slices.Sort(ids)
	list := make([]*sectionWork, len(ids))
	for i, id := range ids {
		list[i] = works[id]
	}

	err := s.runBatch(ctx, list)
	committed := err == nil
	if err != nil {
		s.o.Logger.Error("coedit: commit failed", "sections", ids, "err", err)
	}
	for _, w := range list {
		if w.st == nil {
			continue
		}
		if committed {
			for _, e := range w.edits {
				w.st.ring.push(e.Version, e.Op)
				w.st.noteSeq(e.ClientID, e.ClientSeq)
			}
			s.cache.resize(w.st, w.st.text.len())
		} else {
			w.st.dead = true
			s.cache.drop(w.st)
		}
		w.st.mu.Unlock()
	}
	// Publish before answering: what a client does after its
	// acknowledgement is announced after its edit.
	if committed {
		for _, w := range list {
			if len(w.caughtUp)+len(w.edits) > 0 {
				s.hub.publish(ctx, append(w.caughtUp, w.edits...))
			}
		}
	}
	failed := apperr.E(apperr.Internal, "coedit.EditSection", "the operation could not be saved; send it again")
	for _, w := range list {
		for _, p := range w.reqs {
			o := p.out
			src := p
			if p.same != nil {
				src = p.same
				o = outcome{edit: src.out.edit, err: src.out.err}
			}
			if !committed && (src.commit || (o.edit == nil && o.err == nil && o.back == nil)) {
				o = outcome{err: failed}
			}
			p.done <- o
		}
	}
}

// runBatch runs the batch's transaction. It locks each section's state
// (w.st), which commit unlocks. PostgreSQL has a path of its own
// (runBatchPG), in two round trips.
func (s *Service) runBatch(ctx context.Context, list []*sectionWork) error {
	if s.pg {
		return s.runBatchPG(ctx, list)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	now := s.now()

	// SQLite transactions are immediate, and so serial: no row locks.
	docIDs, secIDs := batchIDs(list)
	var docs []struct {
		ID     int64  `bun:"id"`
		Status Status `bun:"status"`
	}
	if err := tx.NewSelect().Table("documents").Column("id", "status").Where("id IN (?)", bun.In(docIDs)).Order("id").
		Scan(ctx, &docs); err != nil {
		return err
	}
	status := map[int64]Status{}
	for _, d := range docs {
		status[d.ID] = d.Status
	}
	var heads []*sectionHead
	if err := tx.NewSelect().Model(&heads).Column("id", "document_id", "version", "length", "removed_at").
		ColumnExpr("COALESCE(ss.version, 0) AS snapshot_version").
		Join("LEFT JOIN section_snapshots AS ss ON ss.section_id = section.id").
		Where("section.id IN (?)", bun.In(secIDs)).Order("section.id").Scan(ctx); err != nil {
		return err
	}
	byID := map[int64]*sectionHead{}
	for _, h := range heads {
		byID[h.ID] = h
	}
	if err := s.decideAll(ctx, tx, list, byID, status, now); err != nil {
		return err
	}
	rows, touched := logRows(list)
	if len(rows) == 0 {
		return tx.Commit()
	}
	var anchors []*anchorRow
	if err := tx.NewSelect().Table("comments").Column("id", "section_id", "anchor_start", "anchor_end").
		Where("section_id IN (?)", bun.In(touched)).Where("parent_id IS NULL").Where("resolved_at IS NULL").
		Where("orphaned_at IS NULL").Order("id").Scan(ctx, &anchors); err != nil {
		return err
	}
	for _, q := range anchorUpdates(tx, list, anchors, now) {
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return err
	}
	for _, w := range list {
		if len(w.edits) == 0 {
			continue
		}
		if _, err := headUpdate(tx, w, now).Exec(ctx); err != nil {
			return err
		}
		if q := s.snapshotUpdate(tx, w); q != nil {
			if _, err := q.Exec(ctx); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// runBatchPG is runBatch on PostgreSQL, in two round trips on a connection
// of its own, each one message of several statements (the simple query
// protocol), where database/sql's transaction would take eight:
//
//  1. BEGIN; the row locks in the package's order (documents FOR SHARE,
//     then sections FOR UPDATE by id, in a DO block, which returns no
//     rows); then, in a statement of its own and so with a snapshot taken
//     once the locks are held, the sections' heads with their snapshot's
//     version, their document's status and their open threads' anchors.
//  2. The log rows, the sections' new versions (and snapshots), the moved
//     anchors, the NOTIFY of each section, and COMMIT: the answer comes
//     once the commit is durable.
//
// Reads that the batch rarely needs (a client's last sequence number, log
// rows older than the cached ones) run in between, in the transaction.
// On any failure the transaction is rolled back, and a connection that
// cannot roll back is discarded.
func (s *Service) runBatchPG(ctx context.Context, list []*sectionWork) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	open := false
	defer func() {
		if err != nil && open {
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, rerr := conn.Conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
		_ = conn.Close()
	}()
	now := s.now()
	docIDs, secIDs := batchIDs(list)
	docList, secList := idList(docIDs), idList(secIDs)
	var heads []struct {
		ID              int64      `bun:"id"`
		DocumentID      int64      `bun:"document_id"`
		Version         int64      `bun:"version"`
		Length          int        `bun:"length"`
		Removed         *time.Time `bun:"removed_at"`
		SnapshotVersion int64      `bun:"snapshot_version"`
		Status          Status     `bun:"status"`
		Anchors         string     `bun:"anchors"`
	}
	open = true
	if err := conn.NewRaw("BEGIN; DO $$BEGIN PERFORM 1 FROM documents WHERE id IN ("+docList+
		") ORDER BY id FOR SHARE; PERFORM 1 FROM sections WHERE id IN ("+secList+") ORDER BY id FOR UPDATE; END$$; "+
		`SELECT s.id, s.document_id, s.version, s.length, s.removed_at, COALESCE(ss.version, 0) AS snapshot_version,
			d.status, COALESCE((SELECT json_agg(json_build_array(c.id, c.anchor_start, c.anchor_end) ORDER BY c.id)
				FROM comments AS c WHERE c.section_id = s.id AND c.parent_id IS NULL AND c.resolved_at IS NULL
				AND c.orphaned_at IS NULL), '[]') AS anchors
		FROM sections AS s JOIN documents AS d ON d.id = s.document_id
		LEFT JOIN section_snapshots AS ss ON ss.section_id = s.id
		WHERE s.id IN (`+secList+`) ORDER BY s.id`).Scan(ctx, &heads); err != nil {
		return err
	}
	byID := map[int64]*sectionHead{}
	status := map[int64]Status{}
	var anchors []*anchorRow
	for _, h := range heads {
		byID[h.ID] = &sectionHead{ID: h.ID, DocumentID: h.DocumentID, Version: h.Version, Length: h.Length,
			Removed: h.Removed, SnapshotVersion: h.SnapshotVersion}
		status[h.DocumentID] = h.Status
		var rs [][3]int64
		if err := json.Unmarshal([]byte(h.Anchors), &rs); err != nil {
			return err
		}
		for _, r := range rs {
			anchors = append(anchors, &anchorRow{ID: r[0], SectionID: h.ID, Start: int(r[1]), End: int(r[2])})
		}
	}
	if err := s.decideAll(ctx, conn, list, byID, status, now); err != nil {
		return err
	}
	rows, _ := logRows(list)
	var stmts []string
	if len(rows) > 0 {
		stmts = append(stmts, s.db.NewInsert().Model(&rows).String())
		for _, w := range list {
			if len(w.edits) == 0 {
				continue
			}
			stmts = append(stmts, headUpdate(s.db, w, now).String())
			if q := s.snapshotUpdate(s.db, w); q != nil {
				stmts = append(stmts, q.String())
			}
		}
		for _, q := range anchorUpdates(s.db, list, anchors, now) {
			stmts = append(stmts, q.String())
		}
		for _, w := range list {
			if len(w.edits) == 0 {
				continue
			}
			// Sent at commit, and only if it commits.
			b, _ := json.Marshal(editNote{K: "edit", I: s.instance, N: s.scope, S: w.id, D: w.docID,
				F: w.edits[0].Version, V: w.st.version})
			stmts = append(stmts, s.db.NewRaw("NOTIFY "+notifyChannel+", ?", string(b)).String())
		}
	}
	stmts = append(stmts, "COMMIT")
	// Through database/sql without arguments: pgdriver sends the text as
	// it is, one message.
	_, err = conn.Conn.ExecContext(ctx, strings.Join(stmts, ";\n"))
	return err
}

// batchIDs returns the batch's documents and sections, each in id order
// (the lock order).
func batchIDs(list []*sectionWork) (docIDs, secIDs []int64) {
	for _, w := range list {
		secIDs = append(secIDs, w.id)
		if !slices.Contains(docIDs, w.docID) {
			docIDs = append(docIDs, w.docID)
		}
	}
	slices.Sort(docIDs)
	slices.Sort(secIDs)
	return docIDs, secIDs
}

// idList writes ids for an IN list.
func idList(ids []int64) string {
	b := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// decideAll answers or applies each request of the batch, its sections'
// rows locked and read (byID; a section missing is NOT_FOUND), their
// documents' status known. It locks and catches up each section's state.
func (s *Service) decideAll(ctx context.Context, tx bun.IDB, list []*sectionWork, byID map[int64]*sectionHead,
	status map[int64]Status, now time.Time) error {
	const op = "coedit.commit"
	for _, w := range list {
		w.head, w.status = byID[w.id], status[w.docID]
		if w.head == nil {
			for _, p := range w.reqs {
				p.out.err = apperr.E(apperr.NotFound, op, "section not found")
			}
			continue
		}
		w.st = s.lockState(w.id)
		var err error
		if w.caughtUp, err = s.syncState(ctx, tx, w.st, w.head); err != nil {
			return err
		}
		w.base = w.st.version
		for _, p := range w.reqs {
			if err := s.decide(ctx, tx, w, p, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// logRows returns the log rows of the batch's accepted edits and the
// sections they touch.
func logRows(list []*sectionWork) (rows []*LoggedOp, touched []int64) {
	for _, w := range list {
		for _, e := range w.edits {
			rows = append(rows, &LoggedOp{SectionID: e.SectionID, Version: e.Version, Op: e.Op, ClientID: e.ClientID,
				ClientSeq: e.ClientSeq, AuthorID: e.AuthorID, Origin: e.Origin, CreatedAt: e.At})
		}
		if len(w.edits) > 0 {
			touched = append(touched, w.id)
		}
	}
	return rows, touched
}

// headUpdate is the statement that moves w's section to its new version.
func headUpdate(db bun.IDB, w *sectionWork, now time.Time) *bun.UpdateQuery {
	return db.NewUpdate().Table("sections").Set("version = ?", w.st.version).Set("length = ?", w.st.text.len()).
		Set("updated_at = ?", now).Where("id = ?", w.id)
}

// snapshotUpdate is the statement that replaces w's snapshot, when it is
// due, or nil. The snapshot has a row of its own: the sections row stays
// small, so the head's update costs the same for any text.
func (s *Service) snapshotUpdate(db bun.IDB, w *sectionWork) *bun.UpdateQuery {
	if w.st.version-w.head.SnapshotVersion < int64(s.o.SnapshotEvery) {
		return nil
	}
	return db.NewUpdate().Model((*SectionSnapshot)(nil)).Set("version = ?", w.st.version).
		Set("text = ?", w.st.text.String()).Where("section_id = ?", w.id)
}

// editNote announces a commit: versions F..V of section S of document D.
type editNote struct {
	K string `json:"k"`
	I string `json:"i"`
	N string `json:"n"`
	S int64  `json:"s"`
	D int64  `json:"d"`
	F int64  `json:"f"`
	V int64  `json:"v"`
}

// decide answers p or applies it to w's state (w.st, locked, caught up). It
// returns an error only when the batch must fail. It reads no old
// operations from the log: when the state's ring does not hold those p
// must be transformed through, it sends p back to its submitter (sendBack),
// unless p.mayRead.
func (s *Service) decide(ctx context.Context, tx bun.IDB, w *sectionWork, p *pending, now time.Time) error {
	const op = "coedit.EditSection"
	in := p.req
	refuse := func(err error) error { p.out.err = err; return nil }
	back := func(b *sendBack) error { p.out.back = b; return nil }
	// Idempotency first: an operation already committed gets its first
	// answer whatever happened since (the document left DRAFT, the section
	// was removed), so a client that lost the acknowledgement learns it
	// was saved. Only new operations are refused below. A key is one
	// author's: another's use of it is refused, and tells nothing of it.
	st := w.st
	key := clientKey{in.ClientID, in.ClientSeq}
	if q := w.byClient[key]; q != nil { // accepted earlier in this batch
		if !sameAuthor(in, q.req.AuthorID) {
			return refuse(seqReused(op))
		}
		ok, held, err := s.sameRequest(ctx, tx, w, p, q.out.edit)
		if err != nil {
			return err
		}
		if !held { // q is not committed yet: p comes again after this batch
			return back(&sendBack{to: w.base, dup: true})
		}
		if !ok {
			return refuse(seqReused(op))
		}
		p.same = q
		return nil
	}
	max, known := st.seqs[in.ClientID]
	if !known {
		var m sql.NullInt64
		if err := tx.NewSelect().Table("section_ops").ColumnExpr("max(client_seq)").Where("section_id = ?", w.id).
			Where("client_id = ?", in.ClientID).Scan(ctx, &m); err != nil {
			return err
		}
		max = -1
		if m.Valid {
			max = m.Int64
		}
		st.learnSeq(in.ClientID, max)
	}
	if in.ClientSeq <= max {
		row := new(LoggedOp)
		err := tx.NewSelect().Model(row).Where("section_id = ?", w.id).Where("client_id = ?", in.ClientID).
			Where("client_seq = ?", in.ClientSeq).Scan(ctx)
		switch {
		case err == nil:
			if !sameAuthor(in, row.AuthorID) {
				return refuse(seqReused(op))
			}
			orig := row.edit(w.docID)
			ok, held, err := s.sameRequest(ctx, tx, w, p, orig)
			if err != nil {
				return err
			}
			if !held {
				return back(&sendBack{orig: orig})
			}
			if !ok {
				return refuse(seqReused(op))
			}
			p.out.edit = orig
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	if w.status != Draft {
		return refuse(apperr.E(apperr.Conflict, op, "the document is %s; its text changes only in DRAFT", w.status).WithReason("NOT_DRAFT"))
	}
	if w.head.Removed != nil {
		return refuse(apperr.E(apperr.Conflict, op, "this section was removed from the document"))
	}
	cur := st.version
	if in.BaseVersion > cur {
		return refuse((&apperr.Error{Kind: apperr.BadInput, Op: op, Field: "baseVersion",
			Message: fmt.Sprintf("the section is at version %d; the base version %d is ahead of it", cur, in.BaseVersion)}).
			WithReason("VERSION_AHEAD"))
	}
	if cur-in.BaseVersion > s.maxBehind {
		return refuse(versionTooOld(op, cur, in.BaseVersion))
	}
	ops, held, err := s.opsBetween(ctx, tx, w, in.BaseVersion, cur, p.mayRead)
	if err != nil {
		return err
	}
	if !held {
		return back(&sendBack{to: w.base})
	}
	x, ok := transformThrough(in.Op, ops, st.text.len())
	if !ok {
		return refuse(baseMismatch(op, in.BaseVersion, in.Op))
	}
	if n := x.TargetLen(); n > s.o.MaxSectionRunes && n > st.text.len() {
		return refuse(apperr.Invalid(op, "operation", "the section would have %d characters; the most is %d", n, s.o.MaxSectionRunes).
			WithReason("SECTION_TOO_LARGE"))
	}
	if err := st.text.apply(x); err != nil {
		return err // the batch fails and drops the state
	}
	st.version = cur + 1
	e := &Edit{SectionID: w.id, DocumentID: w.docID, Version: st.version, Op: x, ClientID: in.ClientID,
		ClientSeq: in.ClientSeq, AuthorID: in.AuthorID, Origin: in.Origin, At: now}
	if e.Origin == "" {
		e.Origin = OriginEdit
	}
	w.edits = append(w.edits, e)
	p.out.edit, p.commit = e, true
	w.byClient[key] = p
	return nil
}

// sameAuthor reports whether in may reuse a key first used by author: the
// same person, or the server itself (a restore's key names the version,
// whoever asks for it).
func sameAuthor(in submitRequest, author *int64) bool {
	if in.Origin == OriginRestore {
		return true
	}
	if in.AuthorID == nil || author == nil {
		return in.AuthorID == nil && author == nil
	}
	return *in.AuthorID == *author
}

func seqReused(op string) error {
	return (&apperr.Error{Kind: apperr.Conflict, Op: op, Field: "clientSeq",
		Message: "this client id and sequence number were used for another operation; number each operation anew, with a client id of your own"}).
		WithReason("CLIENT_SEQ_REUSED")
}

func versionTooOld(op string, cur, base int64) error {
	return (&apperr.Error{Kind: apperr.BadInput, Op: op, Field: "baseVersion",
		Message: fmt.Sprintf("the base version %d is more than %d versions behind the section (at version %d or later): reload the section",
			base, DefaultMaxVersionsBehind, cur)}).WithReason("VERSION_TOO_OLD")
}

func baseMismatch(op string, base int64, o ot.Op) error {
	return apperr.Invalid(op, "operation", "the operation does not fit the text at version %d: it covers %d characters",
		base, o.BaseLen()).WithReason("BASE_LENGTH_MISMATCH")
}

// transformThrough transforms op, made on the text that ops start from
// (or, with no ops, on a text of length cur), through each of ops, as the
// incoming side. ok is false when op does not cover that text.
func transformThrough(op ot.Op, ops []ot.Op, cur int) (ot.Op, bool) {
	base := cur
	if len(ops) > 0 {
		base = ops[0].BaseLen()
	}
	if op.BaseLen() != base {
		return nil, false
	}
	for _, c := range ops {
		var err error
		if _, op, err = ot.Transform(c, op); err != nil {
			return nil, false
		}
	}
	return op, true
}

// sameRequest reports whether p, which reuses the (client, seq) of orig,
// is the request orig answered: transformed from its base version to
// orig's, it must be orig's operation. held is false when the operations
// between are not in memory (and p may not read the log).
func (s *Service) sameRequest(ctx context.Context, tx bun.IDB, w *sectionWork, p *pending, orig *Edit) (ok, held bool, err error) {
	in := p.req
	if in.BaseVersion >= orig.Version {
		return slices.Equal(ot.Normalize(in.Op), ot.Normalize(orig.Op)), true, nil
	}
	if orig.Version-1-in.BaseVersion > s.maxBehind {
		// Refused as CLIENT_SEQ_REUSED would tell what was committed; the
		// submitter answers VERSION_TOO_OLD.
		return false, false, nil
	}
	ops, held, err := s.opsBetween(ctx, tx, w, in.BaseVersion, orig.Version-1, p.mayRead)
	if err != nil || !held {
		return false, held, err
	}
	return sameOp(in.Op, ops, orig), true, nil
}

// sameOp reports whether op, transformed through ops, is orig's operation.
func sameOp(op ot.Op, ops []ot.Op, orig *Edit) bool {
	x, ok := transformThrough(op, ops, orig.Op.BaseLen())
	return ok && slices.Equal(ot.Normalize(x), ot.Normalize(orig.Op))
}

// opsBetween returns the operations of versions from+1..to of w's section:
// those committed before the batch from the state's ring, then those
// accepted in this batch. held is false when the ring does not reach back
// to from; with read, those are read from the log instead (in tx, which
// holds the batch's locks: the committer's last resort).
func (s *Service) opsBetween(ctx context.Context, tx bun.IDB, w *sectionWork, from, to int64, read bool) ([]ot.Op, bool, error) {
	if from >= to {
		return nil, true, nil
	}
	var out []ot.Op
	if from < w.base {
		upto := min(to, w.base)
		held, ok := w.st.ring.after(from, upto)
		if !ok {
			if !read {
				return nil, false, nil
			}
			rows, err := s.opsAfter(ctx, tx, w.id, from, upto)
			if err != nil {
				return nil, false, err
			}
			s.committerLogRows.Add(int64(len(rows)))
			if int64(len(rows)) != upto-from {
				return nil, false, apperr.E(apperr.Internal, "coedit.opsBetween", "section %d: the log misses versions", w.id)
			}
			held = make([]ot.Op, len(rows))
			for i, r := range rows {
				held[i] = r.Op
			}
		}
		out = append(out, held...)
	}
	if to > w.base {
		lo := max(from, w.base) - w.base
		for _, e := range w.edits[lo : to-w.base] {
			out = append(out, e.Op)
		}
	}
	return out, true, nil
}

// anchorUpdates moves the anchors of the open threads of the batch's
// sections (rows, in id order) through their new operations and returns
// the statements that write those that moved, 200 rows a statement: their
// range, the section version it is at, and orphaned_at for a thread whose
// whole range was deleted (it moves no more).
func anchorUpdates(db bun.IDB, list []*sectionWork, rows []*anchorRow, now time.Time) []*bun.RawQuery {
	if len(rows) == 0 {
		return nil
	}
	edits := map[int64][]*Edit{}
	final := map[int64]int64{}
	for _, w := range list {
		if w.st != nil {
			edits[w.id] = w.edits
			final[w.id] = w.st.version
		}
	}
	var moved []*anchorRow
	for _, r := range rows {
		for _, e := range edits[r.SectionID] {
			out, collapsed := ot.TransformRange(ot.Range{Start: r.Start, End: r.End}, e.Op)
			if out.Start != r.Start || out.End != r.End {
				r.Start, r.End, r.changed = out.Start, out.End, true
			}
			if collapsed {
				r.orphaned, r.changed = true, true
				break
			}
		}
		if r.changed {
			moved = append(moved, r)
		}
	}
	var out []*bun.RawQuery
	for len(moved) > 0 {
		n := min(len(moved), 200)
		out = append(out, anchorUpdate(db, moved[:n], final, now))
		moved = moved[n:]
	}
	return out
}

// anchorUpdate is one statement writing moved anchors.
func anchorUpdate(db bun.IDB, rows []*anchorRow, version map[int64]int64, now time.Time) *bun.RawQuery {
	var b strings.Builder
	var args []any
	ids := make([]int64, len(rows))
	for i, col := range []string{"anchor_start", "anchor_end", "anchor_version"} {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(col + " = CASE id")
		for _, r := range rows {
			v := []int64{int64(r.Start), int64(r.End), version[r.SectionID]}[i]
			b.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, v)
		}
		b.WriteString(" END")
	}
	orphans := false
	for i, r := range rows {
		ids[i] = r.ID
		if r.orphaned {
			if !orphans {
				b.WriteString(", orphaned_at = CASE id")
				orphans = true
			}
			b.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, now)
		}
	}
	if orphans {
		b.WriteString(" ELSE orphaned_at END")
	}
	args = append(args, bun.In(ids))
	return db.NewRaw("UPDATE comments SET "+b.String()+" WHERE id IN (?)", args...)
}

// Log returns a section's committed operations with from < version <= to,
// in order (to = 0: up to the latest), for a section the caller may read
// (NOT_FOUND otherwise). Negative bounds, or to below from, are
// BAD_USER_INPUT.
func (s *Service) Log(ctx context.Context, sectionID int64, from, to int64) ([]*Edit, error) {
	const op = "coedit.Log"
	if from < 0 {
		return nil, apperr.Invalid(op, "from", "a version is 0 or more; got %d", from)
	}
	if to < 0 || (to != 0 && to < from) {
		return nil, apperr.Invalid(op, "to", "the last version is 0 (the latest) or at least %d; got %d", from, to)
	}
	if _, err := s.readSection(ctx, op, sectionID); err != nil {
		return nil, err
	}
	out, err := s.opsAfter(ctx, s.db, sectionID, from, to)
	return out, apperr.Wrap(op, err)
}

// Contributors returns the ids of the people who have edited a document
// (restores included), in the order of their first edit, for a document
// the caller may read (NOT_FOUND otherwise). One statement after the
// document's.
func (s *Service) Contributors(ctx context.Context, documentID int64) ([]int64, error) {
	const op = "coedit.Contributors"
	if _, err := s.Document(ctx, documentID); err != nil {
		return nil, err
	}
	// Each author's first edit: the earliest, and for edits of the same
	// moment (one batch, a clock's tick) the first by section and version.
	var ids []int64
	err := s.db.NewRaw(`SELECT author_id FROM (
		SELECT o.author_id, o.created_at, o.section_id, o.version,
			row_number() OVER (PARTITION BY o.author_id ORDER BY o.created_at, o.section_id, o.version) AS n
		FROM section_ops AS o JOIN sections AS s ON s.id = o.section_id
		WHERE s.document_id = ? AND o.author_id IS NOT NULL) AS firsts
		WHERE n = 1 ORDER BY created_at, section_id, version`, documentID).Scan(ctx, &ids)
	if err != nil {
		return nil, storage.MapError(op, "operation", err)
	}
	return ids, nil
}
