// Package activity is PIA's activity log: what happened in each territory,
// for the policy makers' feed. The features write it in their own
// transactions (Record), so an entry exists exactly when the change it
// tells of was committed; Service.Feed reads it in pages, newest first,
// filtered by territory, theme and kind.
//
// An entry names its subjects by id (a meeting, a document, a section, a
// comment thread, a version, a member) and keeps the subject's title as it
// was, so the feed reads without joins and stays true after renames. It
// keeps nothing personal beyond who acted and, for membership, who joined
// or left: register entries are counted, never named, and a private
// meeting's title is not kept. Edits to the text are not logged one by one
// (the overview counts them); the security log is account's audit log.
package activity

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Kind says what happened.
type Kind string

// The kinds of entry, by feature.
const (
	GroupFormed   Kind = "GROUP_FORMED"  // a working group was created
	MemberJoined  Kind = "MEMBER_JOINED" // PersonID joined the working group
	MemberLeft    Kind = "MEMBER_LEFT"   // PersonID left it
	MemberRole    Kind = "MEMBER_ROLE"   // PersonID's role changed to Status
	MeetingNew    Kind = "MEETING_PLANNED"
	MeetingEdit   Kind = "MEETING_UPDATED"        // details: time, place, agenda…
	MeetingStatus Kind = "MEETING_STATUS_CHANGED" // Status is the new one
	Attended      Kind = "ATTENDANCE_RECORDED"    // Count register entries added
	Unattended    Kind = "ATTENDANCE_REMOVED"     // Count register entries removed
	MinutesSet    Kind = "MINUTES_RECORDED"
	DocumentNew   Kind = "DOCUMENT_CREATED"
	DocumentState Kind = "DOCUMENT_STATUS_CHANGED" // Status is the new one
	ThreadOpened  Kind = "COMMENT_OPENED"
	ThreadReplied Kind = "COMMENT_REPLIED"
	ThreadClosed  Kind = "COMMENT_RESOLVED"
	ThreadAgain   Kind = "COMMENT_REOPENED"
	VersionNamed  Kind = "VERSION_NAMED"
	VersionBack   Kind = "VERSION_RESTORED"
)

// Kinds lists every kind, in the schema's order.
var Kinds = []Kind{GroupFormed, MemberJoined, MemberLeft, MemberRole,
	MeetingNew, MeetingEdit, MeetingStatus, Attended, Unattended, MinutesSet,
	DocumentNew, DocumentState, ThreadOpened, ThreadReplied, ThreadClosed, ThreadAgain,
	VersionNamed, VersionBack}

// Valid tells whether k is a kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Entry is one line of the log.
type Entry struct {
	bun.BaseModel `bun:"table:activity_events,alias:a"`

	ID          int64     `bun:"id,pk,autoincrement"`
	At          time.Time `bun:"at,notnull"`
	Kind        Kind      `bun:"kind,notnull"`
	TerritoryID int64     `bun:"territory_id,notnull"`
	ThemeID     *int64    `bun:"theme_id"`
	ActorID     *int64    `bun:"actor_id"`  // who did it; nil for PIA itself
	PersonID    *int64    `bun:"person_id"` // the member, for the Member kinds
	MeetingID   *int64    `bun:"meeting_id"`
	DocumentID  *int64    `bun:"document_id"`
	SectionID   *int64    `bun:"section_id"`
	CommentID   *int64    `bun:"comment_id"` // the thread
	VersionID   *int64    `bun:"version_id"`
	// Status is the new status (MeetingStatus, DocumentState) or role
	// (MemberJoined, MemberRole); empty otherwise.
	Status string `bun:"status,notnull"`
	// Title is the subject's title when it happened: the meeting's (empty
	// for a private one), the document's, the version's name.
	Title   string `bun:"title,notnull"`
	Private bool   `bun:"private,notnull"` // about a private meeting
	// Count is how many of the same thing this line stands for: register
	// entries recorded by one person in a row (see Record).
	Count int `bun:"count,notnull"`
}

// mergeWindow is how long register entries of one meeting by one person,
// with nothing else about the meeting in between, add up on one line: the
// register of a meeting is one line, not forty.
const mergeWindow = time.Hour

// Record writes entries in db, the caller's transaction, at at, done by the
// context's actor. A register entry (Attended, Unattended) adds to the
// meeting's latest line instead when that line is of the same kind, by the
// same actor, less than an hour old.
func Record(ctx context.Context, db bun.IDB, at time.Time, entries ...Entry) error {
	const op = "activity.Record"
	var actor *int64
	if a := access.ActorFrom(ctx); a.SignedIn() {
		id := a.PersonID
		actor = &id
	}
	rows := make([]*Entry, 0, len(entries))
	for i := range entries {
		e := entries[i]
		e.ID, e.At, e.ActorID = 0, at.UTC(), actor
		if e.Count <= 0 {
			e.Count = 1
		}
		if e.Private {
			e.Title = ""
		}
		if (e.Kind == Attended || e.Kind == Unattended) && e.MeetingID != nil {
			merged, err := merge(ctx, db, &e)
			if err != nil {
				return storage.MapError(op, "activity", err)
			}
			if merged {
				continue
			}
		}
		rows = append(rows, &e)
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return storage.MapError(op, "activity", err)
	}
	return nil
}

// merge adds e to the latest line about its meeting when that line is of
// e's kind and actor and younger than mergeWindow; it tells whether it did.
func merge(ctx context.Context, db bun.IDB, e *Entry) (bool, error) {
	last := new(Entry)
	err := db.NewSelect().Model(last).Where("meeting_id = ?", *e.MeetingID).OrderExpr("id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	same := last.Kind == e.Kind && e.At.Sub(last.At) < mergeWindow &&
		((last.ActorID == nil && e.ActorID == nil) || (last.ActorID != nil && e.ActorID != nil && *last.ActorID == *e.ActorID))
	if !same {
		return false, nil
	}
	_, err = db.NewUpdate().Model((*Entry)(nil)).Set("count = count + ?", e.Count).Where("id = ?", last.ID).Exec(ctx)
	return err == nil, err
}

// Service reads the log.
type Service struct {
	db bun.IDB
}

// NewService returns a Service on db.
func NewService(db bun.IDB) *Service { return &Service{db: db} }

// Filter narrows the feed; zero fields do not filter.
type Filter struct {
	TerritoryIDs []int64
	ThemeIDs     []int64
	Kinds        []Kind
	// MeetingID and DocumentID keep the lines about one meeting or one
	// document (its sections, comments and versions included).
	MeetingID  int64
	DocumentID int64
	Since      *time.Time // lines at or after
	Until      *time.Time // lines before
}

// Feed returns a page of the log, newest first (by id, which follows the
// commits), for those who read the tracking figures: administrators,
// policy makers, anyone with a territory role. Unknown kinds are
// BAD_USER_INPUT; so are paging arguments out of range.
func (s *Service) Feed(ctx context.Context, f Filter, p relay.PageArgs) (*relay.Page[*Entry], error) {
	const op = "activity.Feed"
	if err := access.Check(ctx, access.ReadTracking, access.Resource{}); err != nil {
		return nil, err
	}
	for _, k := range f.Kinds {
		if !k.Valid() {
			return nil, apperr.Invalid(op, "kinds", "unknown kind %q; the kinds are %v", k, Kinds)
		}
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return nil, apperr.Invalid(op, "until", "until must come after since")
	}
	q := s.db.NewSelect().Model((*Entry)(nil))
	if len(f.TerritoryIDs) > 0 {
		q = q.Where("a.territory_id IN (?)", bun.In(f.TerritoryIDs))
	}
	if len(f.ThemeIDs) > 0 {
		q = q.Where("a.theme_id IN (?)", bun.In(f.ThemeIDs))
	}
	if len(f.Kinds) > 0 {
		q = q.Where("a.kind IN (?)", bun.In(f.Kinds))
	}
	if f.MeetingID != 0 {
		q = q.Where("a.meeting_id = ?", f.MeetingID)
	}
	if f.DocumentID != 0 {
		q = q.Where("a.document_id = ?", f.DocumentID)
	}
	if f.Since != nil {
		q = q.Where("a.at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("a.at < ?", f.Until.UTC())
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{IDColumn: "a.id", Desc: true},
		func(e *Entry) (string, int64) { return "", e.ID })
	if err != nil {
		return nil, storage.MapError(op, "activity", err)
	}
	return page, nil
}
