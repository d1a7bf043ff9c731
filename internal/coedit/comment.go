package coedit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/mail"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

const (
	maxCommentBody = 5000
	maxMentions    = 20
	// maxQuote caps the code points a thread keeps of the text it was
	// opened on (the rest is cut, with an ellipsis): the quote is a reminder
	// for orphaned threads, not a copy of the section.
	maxQuote = 1000
	// maxMailQuote caps the quote in a mention's mail.
	maxMailQuote = 300
	// maxCommentLag is how many versions behind its section a new
	// thread's range may be given: moving it costs reading and
	// transforming those operations while the section is locked against
	// the committer.
	maxCommentLag = 1024
)

// CommentInput opens a thread on [Start, End) of a section's text at
// Version (transformed to the current version by the server).
type CommentInput struct {
	SectionID  int64
	Version    int64
	Start, End int
	Body       string
	Mentions   []int64
}

// CommentFilter narrows Comments.
type CommentFilter struct {
	DocumentID      int64
	SectionID       int64 // 0: all sections
	IncludeResolved bool
}

// AddComment opens a thread (CommentDocument: the territory's working group
// in any role but policy makers, and administrators), while the document is
// DRAFT or IN_REVIEW (CONFLICT with reason NOT_OPEN_FOR_COMMENTS
// otherwise).
//
// The range is given at the section's Version as the client saw it; in one
// transaction that locks the section row, so that no edit commits
// meanwhile, it is moved through every operation committed since to the
// section's current version, where it is stored (AnchorVersion), and the
// text it covers there becomes the thread's Quote. From then on the
// committer moves it with every edit. The body is trimmed and holds 1 to
// 5,000 characters; Mentions name at most 20 people (duplicates count once),
// who must exist, be neither archived nor erased, and may read the document
// (access.ReadDocument with their current roles: the mail quotes it); each
// of them but the author with an email is sent a mail, queued in the same
// transaction, in their language.
//
// The people mentioned are looked up (their roles and contacts) before the
// transaction, and the transaction reads only through its own connection:
// it never waits for the pool while it holds the section's lock.
//
// It returns NOT_FOUND for a section the caller may not read, FORBIDDEN when
// they may read but not comment, BAD_USER_INPUT for a bad body ("body"),
// mentions ("mentions"; more than 20, or reason MENTION_NOT_READER for a
// mention of anyone who is not a live person who may read the document,
// the same answer whether or not the person exists), a version below 0,
// ahead of the section's (field "version", reason VERSION_AHEAD) or more
// than 1,024 versions behind it (reason VERSION_TOO_OLD: re-read the
// section and give the range at a recent version), a range outside the text
// at that version ("range") or a removed section ("sectionId"), and CONFLICT
// with reason ANCHOR_DELETED when all of the range's text was deleted since
// that version. A refused comment changes nothing.
func (s *Service) AddComment(ctx context.Context, in CommentInput) (*Comment, error) {
	const op = "coedit.AddComment"
	body, mentions, err := cleanComment(op, in.Body, in.Mentions)
	if err != nil {
		return nil, err
	}
	if in.Version < 0 {
		return nil, apperr.Invalid(op, "version", "a version is 0 or more; got %d", in.Version)
	}
	if in.Start < 0 || in.End < in.Start {
		return nil, apperr.Invalid(op, "range", "a range has 0 <= start <= end; got [%d, %d)", in.Start, in.End)
	}
	sec, d, err := s.commentableSection(ctx, op, in.SectionID)
	if err != nil {
		return nil, err
	}
	c := &Comment{DocumentID: d.ID, SectionID: sec.ID, AuthorID: actorID(ctx), Body: body}
	who, err := s.lookUpMentions(ctx, op, d, c.AuthorID, in.Mentions, mentions)
	if err != nil {
		return nil, err
	}
	var mailed bool
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := s.openForComments(ctx, tx, op, d.ID)
		if err != nil {
			return err
		}
		sec := new(Section)
		q := tx.NewSelect().Model(sec).Where("id = ?", in.SectionID)
		if storage.EngineOf(tx) == storage.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return storage.MapError(op, "section", err)
		}
		if sec.Removed != nil {
			return apperr.Invalid(op, "sectionId", "this section was removed; comment on a live one")
		}
		r, err := anchorNow(ctx, tx, op, sec, in)
		if err != nil {
			return err
		}
		text, err := s.lockedText(ctx, tx, op, sec)
		if err != nil {
			return err
		}
		c.AnchorStart, c.AnchorEnd, c.AnchorVersion = r.Start, r.End, sec.Version
		c.Quote = cutRunes([]rune(text)[r.Start:r.End], maxQuote)
		c.CreatedAt = s.now()
		c.UpdatedAt = c.CreatedAt
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return storage.MapError(op, "comment", err)
		}
		if err := s.logTx(ctx, tx, activity.Entry{Kind: activity.ThreadOpened, SectionID: &sec.ID, ThemeID: sec.ThemeID,
			CommentID: &c.ID}, d); err != nil {
			return err
		}
		mailed, err = s.mention(ctx, tx, op, d, c, c, who)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.afterComment(ctx, c, mailed)
	return c, nil
}

// anchorNow checks in's range against the section's text at in.Version and
// moves it to sec.Version, which the caller has locked.
func anchorNow(ctx context.Context, tx bun.IDB, op string, sec *Section, in CommentInput) (ot.Range, error) {
	r := ot.Range{Start: in.Start, End: in.End}
	if in.Version > sec.Version {
		return r, apperr.Invalid(op, "version", "version %d is ahead of the section, which is at %d", in.Version, sec.Version).WithReason("VERSION_AHEAD")
	}
	if sec.Version-in.Version > maxCommentLag {
		return r, apperr.Invalid(op, "version", "version %d is %d versions behind the section, which is at %d; the most is %d: re-read the section and give the range at a recent version",
			in.Version, sec.Version-in.Version, sec.Version, maxCommentLag).WithReason("VERSION_TOO_OLD")
	}
	ops, err := featLoggedOps(ctx, tx, op, sec.ID, in.Version, sec.Version)
	if err != nil {
		return r, err
	}
	if int64(len(ops)) != sec.Version-in.Version {
		return r, apperr.Wrap(op, fmt.Errorf("the log of section %d has a gap after version %d", sec.ID, in.Version))
	}
	length := sec.Length
	if len(ops) > 0 {
		length = ops[0].BaseLen()
	}
	if r.End > length {
		return r, apperr.Invalid(op, "range", "the range [%d, %d) is outside the text, which has %d characters at version %d", r.Start, r.End, length, in.Version)
	}
	for _, o := range ops {
		var collapsed bool
		if r, collapsed = ot.TransformRange(r, o); collapsed {
			return r, apperr.E(apperr.Conflict, op, "all of the text you commented on was deleted meanwhile; select the text again").WithReason("ANCHOR_DELETED")
		}
	}
	if r.Start < 0 || r.End > sec.Length || r.Start > r.End {
		return r, apperr.Wrap(op, fmt.Errorf("range moved to [%d, %d) outside section %d of length %d", r.Start, r.End, sec.ID, sec.Length))
	}
	return r, nil
}

// anchorCatchUp is a resolved thread's anchor moved through the log
// without any lock, from the anchor it had (from*) to version to, where it
// is r, or orphaned.
type anchorCatchUp struct {
	fromVersion        int64
	fromStart, fromEnd int
	to                 int64
	r                  ot.Range
	orphaned           bool
}

// catchUpAnchor moves the anchor of c, a thread read without a lock that is
// about to be reopened, through the operations committed since its anchor's
// version, when they are more than maxCommentLag: it reads and transforms
// them outside any transaction, by pages, so that reanchor holds the
// section's lock only for what commits meanwhile. It returns nil when
// reanchor has little to do itself.
func (s *Service) catchUpAnchor(ctx context.Context, op string, c *Comment) (*anchorCatchUp, error) {
	if c.Resolved == nil || c.Orphaned != nil || c.ParentID != nil {
		return nil, nil
	}
	var head int64
	if err := s.db.NewSelect().Model((*Section)(nil)).Column("version").Where("id = ?", c.SectionID).Scan(ctx, &head); err != nil {
		return nil, storage.MapError(op, "section", err)
	}
	if head-c.AnchorVersion <= maxCommentLag {
		return nil, nil
	}
	m := &anchorCatchUp{fromVersion: c.AnchorVersion, fromStart: c.AnchorStart, fromEnd: c.AnchorEnd, to: head,
		r: ot.Range{Start: c.AnchorStart, End: c.AnchorEnd}}
	for v := c.AnchorVersion; v < head && !m.orphaned; {
		to := min(v+maxCommentLag, head)
		ops, err := featLoggedOps(ctx, s.db, op, c.SectionID, v, to)
		if err != nil {
			return nil, err
		}
		if int64(len(ops)) != to-v {
			return nil, apperr.Wrap(op, fmt.Errorf("the log of section %d has a gap after version %d", c.SectionID, v))
		}
		for _, o := range ops {
			if m.r, m.orphaned = ot.TransformRange(m.r, o); m.orphaned {
				break
			}
		}
		v = to
	}
	return m, nil
}

// reanchor brings a reopened thread's anchor to its section's current
// version, under the section's lock: the committer moves the anchors of
// open threads only, so a resolved one may have stayed behind. A thread
// whose text was all deleted meanwhile is orphaned. pre, when not nil, is
// the anchor already moved outside the lock (catchUpAnchor): it is used
// when c's anchor is still the one it started from, and only the operations
// committed after it are read here.
func reanchor(ctx context.Context, tx bun.IDB, op string, c *Comment, now time.Time, pre *anchorCatchUp) error {
	if c.Orphaned != nil {
		return nil
	}
	sec := new(Section)
	q := tx.NewSelect().Model(sec).Where("id = ?", c.SectionID)
	if storage.EngineOf(tx) == storage.Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return storage.MapError(op, "section", err)
	}
	from, r := c.AnchorVersion, ot.Range{Start: c.AnchorStart, End: c.AnchorEnd}
	if pre != nil && pre.fromVersion == c.AnchorVersion && pre.fromStart == c.AnchorStart && pre.fromEnd == c.AnchorEnd &&
		pre.to <= sec.Version {
		from, r = pre.to, pre.r
		if pre.orphaned {
			c.Orphaned = &now
			c.AnchorStart, c.AnchorEnd, c.AnchorVersion = r.Start, r.End, sec.Version
			return nil
		}
	}
	if from >= sec.Version {
		c.AnchorStart, c.AnchorEnd, c.AnchorVersion = r.Start, r.End, from
		return nil
	}
	ops, err := featLoggedOps(ctx, tx, op, sec.ID, from, sec.Version)
	if err != nil {
		return err
	}
	for _, o := range ops {
		var collapsed bool
		if r, collapsed = ot.TransformRange(r, o); collapsed {
			c.Orphaned = &now
			break
		}
	}
	c.AnchorStart, c.AnchorEnd, c.AnchorVersion = r.Start, r.End, sec.Version
	return nil
}

// Reply answers a thread: the same people may reply as may comment, with
// the same rules for the body and the mentions, while the document is DRAFT
// or IN_REVIEW. A reply has no anchor (0, 0 at version 0, no quote); replying
// to a resolved thread leaves it resolved. A threadID that is a reply is
// BAD_USER_INPUT ("threadId"): answer its thread.
func (s *Service) Reply(ctx context.Context, threadID int64, body string, mentions []int64) (*Comment, error) {
	const op = "coedit.Reply"
	body, clean, err := cleanComment(op, body, mentions)
	if err != nil {
		return nil, err
	}
	thread, d, err := s.commentableThread(ctx, op, threadID)
	if err != nil {
		return nil, err
	}
	c := &Comment{DocumentID: d.ID, SectionID: thread.SectionID, ParentID: &thread.ID, AuthorID: actorID(ctx), Body: body}
	who, err := s.lookUpMentions(ctx, op, d, c.AuthorID, mentions, clean)
	if err != nil {
		return nil, err
	}
	var mailed bool
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := s.openForComments(ctx, tx, op, d.ID)
		if err != nil {
			return err
		}
		c.CreatedAt = s.now()
		c.UpdatedAt = c.CreatedAt
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return storage.MapError(op, "comment", err)
		}
		if err := s.logThreadTx(ctx, tx, op, activity.ThreadReplied, thread, d); err != nil {
			return err
		}
		mailed, err = s.mention(ctx, tx, op, d, thread, c, who)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.afterComment(ctx, c, mailed)
	return c, nil
}

// ResolveComment resolves (resolved) or reopens a thread, with the rights
// and in the statuses of commenting. Resolving records who and when;
// reopening clears both and brings the anchor up to date (orphaning the
// thread if all of its text was deleted while it was resolved). A thread
// resolved long ago may be any number of versions behind: reopening never
// refuses it for that. When it is more than 1,024 versions behind, its
// anchor is first moved through the log outside any lock, and the
// transaction, which locks the section against the committer, moves it only
// through what committed meanwhile. A thread already in the asked state is
// returned as it is, unchanged. A reply is BAD_USER_INPUT ("threadId").
func (s *Service) ResolveComment(ctx context.Context, threadID int64, resolved bool) (*Comment, error) {
	const op = "coedit.ResolveComment"
	thread, d, err := s.commentableThread(ctx, op, threadID)
	if err != nil {
		return nil, err
	}
	var pre *anchorCatchUp
	if !resolved {
		if pre, err = s.catchUpAnchor(ctx, op, thread); err != nil {
			return nil, err
		}
	}
	var out *Comment
	changed := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := s.openForComments(ctx, tx, op, d.ID); err != nil {
			return err
		}
		c := new(Comment)
		q := tx.NewSelect().Model(c).Where("id = ?", threadID)
		if storage.EngineOf(tx) == storage.Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return storage.MapError(op, "comment", err)
		}
		out = c
		if (c.Resolved != nil) == resolved {
			return nil
		}
		now := s.now()
		c.Resolved, c.ResolvedBy, c.UpdatedAt = nil, nil, now
		if resolved {
			c.Resolved, c.ResolvedBy = &now, actorID(ctx)
		} else if err := reanchor(ctx, tx, op, c, now, pre); err != nil {
			return err
		}
		changed = true
		if _, err := tx.NewUpdate().Model(c).Column("resolved_at", "resolved_by", "updated_at",
			"anchor_start", "anchor_end", "anchor_version", "orphaned_at").WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "comment", err)
		}
		kind := activity.ThreadAgain
		if resolved {
			kind = activity.ThreadClosed
		}
		return s.logThreadTx(ctx, tx, op, kind, c, d)
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.publishDoc(ctx, DocEvent{Kind: DocComment, DocumentID: d.ID, CommentID: out.ID})
	}
	return out, nil
}

// Comment returns a comment the caller may read; NOT_FOUND otherwise.
func (s *Service) Comment(ctx context.Context, id int64) (*Comment, error) {
	const op = "coedit.Comment"
	c, err := loadComment(ctx, s.db, op, id)
	if err != nil {
		return nil, err
	}
	d, err := s.document(ctx, s.db, c.DocumentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	return c, nil
}

// commentRow is a comment with its document's territory, for checking
// ReadDocument on comments read in bulk.
type commentRow struct {
	Comment     `bun:",extend"`
	TerritoryID int64 `bun:"territory_id"`
}

// readableComments runs q, a select of comments joined with their
// documents as d, and keeps those the caller may read.
func readableComments(ctx context.Context, op string, q *bun.SelectQuery) ([]*Comment, error) {
	var rows []*commentRow
	if err := q.ColumnExpr("comment.*").ColumnExpr("d.territory_id").
		Join("JOIN documents AS d ON d.id = comment.document_id").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "comment", err)
	}
	a := access.ActorFrom(ctx)
	out := make([]*Comment, 0, len(rows))
	for _, r := range rows {
		if access.Allowed(a, access.ReadDocument, access.Resource{TerritoryID: r.TerritoryID}) {
			c := r.Comment
			out = append(out, &c)
		}
	}
	return out, nil
}

// CommentsByID returns comments the caller may read, by id. One statement.
func (s *Service) CommentsByID(ctx context.Context, ids []int64) (map[int64]*Comment, error) {
	const op = "coedit.CommentsByID"
	out := make(map[int64]*Comment, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cs, err := readableComments(ctx, op, s.db.NewSelect().Model((*Comment)(nil)).Where("comment.id IN (?)", bun.In(ids)))
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[c.ID] = c
	}
	return out, nil
}

// Threads lists a document's threads (first comments), oldest first
// (ReadDocument). Resolved threads only with IncludeResolved; orphaned ones
// (all their text deleted) are listed like the others.
func (s *Service) Threads(ctx context.Context, f CommentFilter, p relay.PageArgs) (*relay.Page[*Comment], error) {
	const op = "coedit.Threads"
	d, err := s.document(ctx, s.db, f.DocumentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*Comment)(nil)).Where("comment.document_id = ?", d.ID).Where("comment.parent_id IS NULL")
	if f.SectionID != 0 {
		q = q.Where("comment.section_id = ?", f.SectionID)
	}
	if !f.IncludeResolved {
		q = q.Where("comment.resolved_at IS NULL")
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{IDColumn: "comment.id"}, func(c *Comment) (string, int64) { return "", c.ID })
	if err != nil {
		return nil, storage.MapError(op, "comment", err)
	}
	return page, nil
}

// RepliesOf returns the replies of threads the caller may read, oldest
// first, by thread id. One statement.
func (s *Service) RepliesOf(ctx context.Context, threadIDs []int64) (map[int64][]*Comment, error) {
	const op = "coedit.RepliesOf"
	out := make(map[int64][]*Comment, len(threadIDs))
	if len(threadIDs) == 0 {
		return out, nil
	}
	cs, err := readableComments(ctx, op, s.db.NewSelect().Model((*Comment)(nil)).
		Where("comment.parent_id IN (?)", bun.In(threadIDs)).OrderExpr("comment.id"))
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[*c.ParentID] = append(out[*c.ParentID], c)
	}
	return out, nil
}

// MentionsOf returns the people mentioned in comments the caller may read,
// in id order, by comment id. One statement.
func (s *Service) MentionsOf(ctx context.Context, commentIDs []int64) (map[int64][]int64, error) {
	const op = "coedit.MentionsOf"
	out := make(map[int64][]int64, len(commentIDs))
	if len(commentIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		CommentID   int64 `bun:"comment_id"`
		PersonID    int64 `bun:"person_id"`
		TerritoryID int64 `bun:"territory_id"`
	}
	err := s.db.NewSelect().TableExpr("comment_mentions AS m").ColumnExpr("m.comment_id, m.person_id, d.territory_id").
		Join("JOIN comments AS c ON c.id = m.comment_id").Join("JOIN documents AS d ON d.id = c.document_id").
		Where("m.comment_id IN (?)", bun.In(commentIDs)).OrderExpr("m.comment_id, m.person_id").Scan(ctx, &rows)
	if err != nil {
		return nil, storage.MapError(op, "mention", err)
	}
	a := access.ActorFrom(ctx)
	for _, r := range rows {
		if access.Allowed(a, access.ReadDocument, access.Resource{TerritoryID: r.TerritoryID}) {
			out[r.CommentID] = append(out[r.CommentID], r.PersonID)
		}
	}
	return out, nil
}

// cleanComment checks a comment's body and mentions (duplicates removed,
// order kept).
func cleanComment(op, body string, mentions []int64) (string, []int64, error) {
	body, err := featCleanText(op, "body", body, maxCommentBody)
	if err != nil {
		return "", nil, err
	}
	if body == "" {
		return "", nil, apperr.Invalid(op, "body", "a comment needs some text")
	}
	var ids []int64
	for _, id := range mentions {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > maxMentions {
		return "", nil, apperr.Invalid(op, "mentions", "a comment mentions at most %d people; it names %d", maxMentions, len(ids))
	}
	return body, ids, nil
}

// loadComment reads a comment; NOT_FOUND when missing.
func loadComment(ctx context.Context, db bun.IDB, op string, id int64) (*Comment, error) {
	c := new(Comment)
	if err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "no such comment")
		}
		return nil, storage.MapError(op, "comment", err)
	}
	return c, nil
}

// commentableSection loads a section and its document and checks
// CommentDocument on it.
func (s *Service) commentableSection(ctx context.Context, op string, id int64) (*Section, *Document, error) {
	sec := new(Section)
	if err := s.db.NewSelect().Model(sec).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, apperr.E(apperr.NotFound, op, "no such section")
		}
		return nil, nil, storage.MapError(op, "section", err)
	}
	d, err := s.document(ctx, s.db, sec.DocumentID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.authorize(ctx, access.CommentDocument, d); err != nil {
		return nil, nil, err
	}
	return sec, d, nil
}

// commentableThread loads a thread's first comment and its document and
// checks CommentDocument on it.
func (s *Service) commentableThread(ctx context.Context, op string, id int64) (*Comment, *Document, error) {
	c, err := loadComment(ctx, s.db, op, id)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.document(ctx, s.db, c.DocumentID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.authorize(ctx, access.CommentDocument, d); err != nil {
		return nil, nil, err
	}
	if c.ParentID != nil {
		return nil, nil, apperr.Invalid(op, "threadId", "this comment is a reply; use the id of its thread")
	}
	return c, d, nil
}

// openForComments reads the document in tx, locked against a concurrent
// change of status on PostgreSQL, and checks that it takes comments.
func (s *Service) openForComments(ctx context.Context, tx bun.IDB, op string, id int64) (*Document, error) {
	d, err := featLockDocument(ctx, tx, op, id, "SHARE")
	if err != nil {
		return nil, err
	}
	if d.Status != Draft && d.Status != InReview {
		return nil, apperr.E(apperr.Conflict, op, "the document is %s: comments are open in DRAFT and IN_REVIEW only", d.Status).
			WithReason("NOT_OPEN_FOR_COMMENTS")
	}
	return d, nil
}

// mentioned is what a comment's mentions need from outside its
// transaction, looked up before it: the people mentioned, checked, and the
// contacts of them and of the author.
type mentioned struct {
	ids      []int64
	contacts map[int64]Contact
}

// lookUpMentions checks, before the comment's transaction, that every one
// of ids (given with duplicates removed) is a live person (neither archived
// nor erased) who may read d (access.ReadDocument with their current roles:
// the mail quotes the text), and reads their contacts and the author's. A
// mention that fails is BAD_USER_INPUT "mentions" with reason
// MENTION_NOT_READER naming its position in given, the same whether the
// person does not exist, is archived, or may not read: a commenter cannot
// learn which ids are people. When People is no ReaderSource nobody's roles
// are known, so nobody may be mentioned.
//
// It runs outside the transaction on purpose: People reads the directory
// through connections of its own, which a transaction holding a section's
// lock must not wait for. Someone archived between this look-up and the
// commit still gets the mail.
func (s *Service) lookUpMentions(ctx context.Context, op string, d *Document, author *int64, given, ids []int64) (*mentioned, error) {
	if len(ids) == 0 {
		return &mentioned{}, nil
	}
	var live []int64
	if err := s.db.NewSelect().TableExpr("people").Column("id").Where("id IN (?)", bun.In(ids)).
		Where("archived_at IS NULL").Where("erased_at IS NULL").Scan(ctx, &live); err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	var readers map[int64]*access.Actor
	if src, ok := s.o.People.(ReaderSource); ok {
		var err error
		if readers, err = src.Readers(ctx, ids); err != nil {
			return nil, apperr.Wrap(op, err)
		}
	}
	for _, id := range ids {
		ok := false
		if a := readers[id]; a != nil && slices.Contains(live, id) {
			who := *a
			who.PersonID = id
			ok = access.Allowed(&who, access.ReadDocument, access.Resource{TerritoryID: d.TerritoryID})
		}
		if !ok {
			return nil, apperr.Invalid(op, "mentions", "mention %d of the list may not read this document; mention only people who can",
				slices.Index(given, id)+1).WithReason("MENTION_NOT_READER")
		}
	}
	out := &mentioned{ids: ids}
	if s.o.People == nil {
		return out, nil
	}
	want := slices.Clone(ids)
	if author != nil {
		want = append(want, *author)
	}
	var err error
	if out.contacts, err = s.o.People.Contacts(ctx, want); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return out, nil
}

// mention stores c's mentions, looked up before tx by lookUpMentions, and
// queues in tx a mail to each person mentioned but its author who has an
// email, in their language. thread is c's thread (c itself for a first
// comment), whose quote the mail shows. It reports whether it queued any
// mail. It reads nothing but through tx.
func (s *Service) mention(ctx context.Context, tx bun.IDB, op string, d *Document, thread, c *Comment, m *mentioned) (bool, error) {
	if len(m.ids) == 0 {
		return false, nil
	}
	rows := make([]*Mention, len(m.ids))
	for i, id := range m.ids {
		rows[i] = &Mention{CommentID: c.ID, PersonID: id}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return false, storage.MapError(op, "mention", err)
	}
	author := ""
	if c.AuthorID != nil {
		author = m.contacts[*c.AuthorID].Name
	}
	mailed := false
	for _, id := range m.ids {
		to, ok := m.contacts[id]
		if !ok || to.Email == "" || (c.AuthorID != nil && id == *c.AuthorID) {
			continue
		}
		msg := s.mentionMail(to, author, d, thread, c)
		if err := mail.Enqueue(ctx, tx, s.now(), msg); err != nil {
			if apperr.Is(err, apperr.BadInput) {
				// A bad address in the directory does not stop the comment.
				s.o.Logger.WarnContext(ctx, "mention mail not queued", "person", id, "err", err)
				continue
			}
			return false, apperr.Wrap(op, err)
		}
		mailed = true
	}
	return mailed, nil
}

// mentionMail is the mail telling to that author mentioned them in c.
func (s *Service) mentionMail(to Contact, author string, d *Document, thread, c *Comment) mail.Message {
	link := strings.TrimRight(s.o.PublicURL, "/") + "/documents/" + relay.ID("Document", d.ID)
	title := cutRunes([]rune(strings.Join(strings.Fields(d.Title), " ")), 120)
	quote := cutRunes([]rune(thread.Quote), maxMailQuote)
	if to.Language == "en" {
		if author == "" {
			author = "Someone"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Hello,\n\n%s mentioned you in a comment on the document “%s”.\n\n", author, title)
		if quote != "" {
			fmt.Fprintf(&b, "On the text:\n\n> %s\n\n", quoteLines(quote))
		}
		fmt.Fprintf(&b, "The comment:\n\n%s\n\nTo read it and answer, open:\n\n%s\n", c.Body, link)
		return mail.Message{To: to.Email, Subject: cutRunes([]rune(author+" mentioned you in “"+title+"”"), 300), Body: b.String()}
	}
	if author == "" {
		author = "Qualcuno"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Buongiorno,\n\n%s l'ha menzionata/o in un commento al documento «%s».\n\n", author, title)
	if quote != "" {
		fmt.Fprintf(&b, "Sul testo:\n\n> %s\n\n", quoteLines(quote))
	}
	fmt.Fprintf(&b, "Il commento:\n\n%s\n\nPer leggerlo e rispondere apra:\n\n%s\n", c.Body, link)
	return mail.Message{To: to.Email, Subject: cutRunes([]rune(author+" l'ha menzionata/o in «"+title+"»"), 300), Body: b.String()}
}

// afterComment runs after a comment committed: it wakes the mailer when
// mail was queued, and tells the document's subscribers.
func (s *Service) afterComment(ctx context.Context, c *Comment, mailed bool) {
	if mailed && s.o.MailQueued != nil {
		s.o.MailQueued()
	}
	s.publishDoc(ctx, DocEvent{Kind: DocComment, DocumentID: c.DocumentID, CommentID: c.ID})
}

// cutRunes is text, cut to max code points with an ellipsis when longer.
func cutRunes(text []rune, max int) string {
	if len(text) <= max {
		return string(text)
	}
	return string(text[:max-1]) + "…"
}

// quoteLines continues a mail quote's "> " on each of its lines.
func quoteLines(s string) string {
	return strings.ReplaceAll(s, "\n", "\n> ")
}

// ThreadsOfDocuments returns the threads of documents the caller may read,
// oldest first, by document id; resolved ones only when includeResolved. One
// statement, for the GraphQL layer's batches.
func (s *Service) ThreadsOfDocuments(ctx context.Context, documentIDs []int64, includeResolved bool) (map[int64][]*Comment, error) {
	out := make(map[int64][]*Comment, len(documentIDs))
	if len(documentIDs) == 0 {
		return out, nil
	}
	q := s.db.NewSelect().Model((*Comment)(nil)).Where("comment.document_id IN (?)", bun.In(documentIDs)).
		Where("comment.parent_id IS NULL").OrderExpr("comment.id")
	if !includeResolved {
		q = q.Where("comment.resolved_at IS NULL")
	}
	cs, err := readableComments(ctx, "coedit.ThreadsOfDocuments", q)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[c.DocumentID] = append(out[c.DocumentID], c)
	}
	return out, nil
}
