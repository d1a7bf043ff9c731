package coedit

import (
	"time"

	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/uptrace/bun"
)

// Status is where a document stands in its review.
type Status string

// The statuses, in the order a document goes through them.
const (
	Draft     Status = "DRAFT"
	InReview  Status = "IN_REVIEW"
	Approved  Status = "APPROVED"
	Published Status = "PUBLISHED"
)

// Document is a guideline document of a territory's working group.
type Document struct {
	bun.BaseModel `bun:"table:documents"`

	ID             int64  `bun:"id,pk,autoincrement"`
	WorkingGroupID int64  `bun:"working_group_id,notnull"`
	TerritoryID    int64  `bun:"territory_id,notnull"` // the working group's, kept here for authorization
	Title          string `bun:"title,notnull"`
	Status         Status `bun:"status,notnull"`
	// StructureVersion grows with every structural change (title, sections
	// added, renamed, moved, removed): the optimistic version those changes
	// carry.
	StructureVersion   int        `bun:"structure_version,notnull"`
	PublishedVersionID *int64     `bun:"published_version_id"`
	CreatedAt          time.Time  `bun:"created_at,notnull"`
	UpdatedAt          time.Time  `bun:"updated_at,notnull"`
	CreatedBy          *int64     `bun:"created_by"`
	Archived           *time.Time `bun:"archived_at"`
}

// Section is one ordered part of a document, with a Markdown body edited
// through operations. Its text is its snapshot (SectionSnapshot) plus the
// operations after the snapshot's version in the log.
type Section struct {
	bun.BaseModel `bun:"table:sections"`

	ID         int64  `bun:"id,pk,autoincrement"`
	DocumentID int64  `bun:"document_id,notnull"`
	Position   int    `bun:"position,notnull"` // order within the document, 0-based, among live sections
	Title      string `bun:"title,notnull"`
	ThemeID    *int64 `bun:"theme_id"`
	// Version is the number of the last operation in the section's log (0
	// when none); Length is the text's length in code points at Version.
	Version   int64      `bun:"version,notnull"`
	Length    int        `bun:"length,notnull"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	UpdatedAt time.Time  `bun:"updated_at,notnull"`
	CreatedBy *int64     `bun:"created_by"`
	Removed   *time.Time `bun:"removed_at"` // a removed section keeps its log and comments
	RemovedBy *int64     `bun:"removed_by"`
}

// SectionSnapshot is a section's text at Version: the body it was created
// with (Version 0), then, every Options.SnapshotEvery operations, the text
// the committer has reached. The section's text is the snapshot plus the
// log's operations after Version.
//
// A section has exactly one, replaced in place, written with the section
// and then only by the committer, which holds the section's row lock: a
// reader that holds that lock, or reads the snapshot and the section's
// version in one statement, finds them consistent. Older snapshots would
// serve no reader (versions keep their own texts), so one row is enough. It
// lives apart from the sections row because every commit updates that row
// and SQLite rewrites a whole row on update: with the text in it, an edit
// cost the section's size.
type SectionSnapshot struct {
	bun.BaseModel `bun:"table:section_snapshots"`

	SectionID int64  `bun:"section_id,pk"`
	Version   int64  `bun:"version,notnull"`
	Text      string `bun:"text,notnull"`
}

// Origin says where an operation came from.
type Origin string

// The origins of an operation.
const (
	OriginEdit    Origin = "EDIT"    // a participant's edit
	OriginRestore Origin = "RESTORE" // restoring a named version
)

// LoggedOp is one committed operation: the row of the section's log at
// Version.
type LoggedOp struct {
	bun.BaseModel `bun:"table:section_ops"`

	SectionID int64     `bun:"section_id,pk"`
	Version   int64     `bun:"version,pk"`
	Op        ot.Op     `bun:"op,notnull,type:text"`
	ClientID  string    `bun:"client_id,notnull"`
	ClientSeq int64     `bun:"client_seq,notnull"`
	AuthorID  *int64    `bun:"author_id"`
	Origin    Origin    `bun:"origin,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Comment is a thread's first comment (anchored to a range of a section) or
// a reply (ParentID set, no anchor).
type Comment struct {
	bun.BaseModel `bun:"table:comments"`

	ID         int64  `bun:"id,pk,autoincrement"`
	DocumentID int64  `bun:"document_id,notnull"`
	SectionID  int64  `bun:"section_id,notnull"`
	ParentID   *int64 `bun:"parent_id"`
	AuthorID   *int64 `bun:"author_id"`
	Body       string `bun:"body,notnull"`
	// The anchor, [AnchorStart, AnchorEnd) in code points at the section's
	// AnchorVersion, moved with every operation in the same transaction.
	// Quote is the text the range covered when the thread was opened.
	AnchorStart   int        `bun:"anchor_start,notnull"`
	AnchorEnd     int        `bun:"anchor_end,notnull"`
	AnchorVersion int64      `bun:"anchor_version,notnull"`
	Quote         string     `bun:"quote,notnull"`
	Orphaned      *time.Time `bun:"orphaned_at"` // the whole range was deleted; the thread is kept
	Resolved      *time.Time `bun:"resolved_at"`
	ResolvedBy    *int64     `bun:"resolved_by"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
}

// Mention is a person named in a comment, who is told by mail.
type Mention struct {
	bun.BaseModel `bun:"table:comment_mentions"`

	CommentID int64 `bun:"comment_id,pk"`
	PersonID  int64 `bun:"person_id,pk"`
}

// VersionKind says why a version was taken.
type VersionKind string

// The kinds of version.
const (
	NamedVersion     VersionKind = "NAMED"     // a participant named it
	PublishedVersion VersionKind = "PUBLISHED" // frozen at publication
)

// Version is a named snapshot of a whole document.
type Version struct {
	bun.BaseModel `bun:"table:document_versions"`

	ID         int64       `bun:"id,pk,autoincrement"`
	DocumentID int64       `bun:"document_id,notnull"`
	Name       string      `bun:"name,notnull"`
	Note       string      `bun:"note,notnull"`
	Kind       VersionKind `bun:"kind,notnull"`
	Title      string      `bun:"title,notnull"` // the document's title then
	CreatedBy  *int64      `bun:"created_by"`
	CreatedAt  time.Time   `bun:"created_at,notnull"`
}

// VersionSection is one section as a version holds it.
type VersionSection struct {
	bun.BaseModel `bun:"table:document_version_sections"`

	VersionID      int64  `bun:"version_id,pk"`
	SectionID      int64  `bun:"section_id,pk"`
	Position       int    `bun:"position,notnull"`
	Title          string `bun:"title,notnull"`
	ThemeID        *int64 `bun:"theme_id"`
	SectionVersion int64  `bun:"section_version,notnull"` // the section's log version the text is at
	Text           string `bun:"text,notnull"`
}

// Transition is one recorded change of a document's status.
type Transition struct {
	bun.BaseModel `bun:"table:document_transitions"`

	ID         int64     `bun:"id,pk,autoincrement"`
	DocumentID int64     `bun:"document_id,notnull"`
	From       Status    `bun:"from_status,notnull"`
	To         Status    `bun:"to_status,notnull"`
	ActorID    *int64    `bun:"actor_id"`
	Note       string    `bun:"note,notnull"`
	VersionID  *int64    `bun:"version_id"` // the version frozen by a publication
	At         time.Time `bun:"at,notnull"`
}
