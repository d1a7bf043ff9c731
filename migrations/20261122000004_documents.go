package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen models: guideline documents, their sections with their snapshots
// and the operation log, comments with their anchors and mentions, named versions,
// and the review's transitions, as first created.

type document20261122 struct {
	bun.BaseModel `bun:"table:documents"`

	ID                 int64      `bun:"id,pk,autoincrement"`
	WorkingGroupID     int64      `bun:"working_group_id,notnull"`
	TerritoryID        int64      `bun:"territory_id,notnull"`
	Title              string     `bun:"title,notnull,type:varchar(300)"`
	Status             string     `bun:"status,notnull,type:varchar(16)"`
	StructureVersion   int        `bun:"structure_version,notnull"`
	PublishedVersionID *int64     `bun:"published_version_id"`
	CreatedAt          time.Time  `bun:"created_at,notnull"`
	UpdatedAt          time.Time  `bun:"updated_at,notnull"`
	CreatedBy          *int64     `bun:"created_by"`
	Archived           *time.Time `bun:"archived_at"`
}

type section20261122 struct {
	bun.BaseModel `bun:"table:sections"`

	ID         int64      `bun:"id,pk,autoincrement"`
	DocumentID int64      `bun:"document_id,notnull"`
	Position   int        `bun:"position,notnull"`
	Title      string     `bun:"title,notnull,type:varchar(300)"`
	ThemeID    *int64     `bun:"theme_id"`
	Version    int64      `bun:"version,notnull"`
	Length     int        `bun:"length,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	UpdatedAt  time.Time  `bun:"updated_at,notnull"`
	CreatedBy  *int64     `bun:"created_by"`
	Removed    *time.Time `bun:"removed_at"`
	RemovedBy  *int64     `bun:"removed_by"`
}

// A section's text at Version, from which the log goes on: one row per
// section, replaced when a new snapshot is taken. It lives apart from the
// sections row, which every commit updates: SQLite rewrites a whole row on
// update, so a snapshot in it made each edit cost the text's size.
type sectionSnapshot20261122 struct {
	bun.BaseModel `bun:"table:section_snapshots"`

	SectionID int64  `bun:"section_id,pk"`
	Version   int64  `bun:"version,notnull"`
	Text      string `bun:"text,notnull,type:text"`
}

// One row per committed operation; (section_id, version) is the key and the
// order. (section_id, client_id, client_seq) is unique, so a resubmission
// finds its first answer.
type sectionOp20261122 struct {
	bun.BaseModel `bun:"table:section_ops"`

	SectionID int64     `bun:"section_id,pk"`
	Version   int64     `bun:"version,pk"`
	Op        string    `bun:"op,notnull,type:text"`
	ClientID  string    `bun:"client_id,notnull,type:varchar(64)"`
	ClientSeq int64     `bun:"client_seq,notnull"`
	AuthorID  *int64    `bun:"author_id"`
	Origin    string    `bun:"origin,notnull,type:varchar(16)"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

type comment20261122 struct {
	bun.BaseModel `bun:"table:comments"`

	ID            int64      `bun:"id,pk,autoincrement"`
	DocumentID    int64      `bun:"document_id,notnull"`
	SectionID     int64      `bun:"section_id,notnull"`
	ParentID      *int64     `bun:"parent_id"`
	AuthorID      *int64     `bun:"author_id"`
	Body          string     `bun:"body,notnull,type:text"`
	AnchorStart   int        `bun:"anchor_start,notnull"`
	AnchorEnd     int        `bun:"anchor_end,notnull"`
	AnchorVersion int64      `bun:"anchor_version,notnull"`
	Quote         string     `bun:"quote,notnull,type:text"`
	Orphaned      *time.Time `bun:"orphaned_at"`
	Resolved      *time.Time `bun:"resolved_at"`
	ResolvedBy    *int64     `bun:"resolved_by"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
}

type commentMention20261122 struct {
	bun.BaseModel `bun:"table:comment_mentions"`

	CommentID int64 `bun:"comment_id,pk"`
	PersonID  int64 `bun:"person_id,pk"`
}

type documentVersion20261122 struct {
	bun.BaseModel `bun:"table:document_versions"`

	ID         int64     `bun:"id,pk,autoincrement"`
	DocumentID int64     `bun:"document_id,notnull"`
	Name       string    `bun:"name,notnull,type:varchar(200)"`
	Note       string    `bun:"note,notnull,type:text"`
	Kind       string    `bun:"kind,notnull,type:varchar(16)"`
	Title      string    `bun:"title,notnull,type:varchar(300)"`
	CreatedBy  *int64    `bun:"created_by"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

type documentVersionSection20261122 struct {
	bun.BaseModel `bun:"table:document_version_sections"`

	VersionID      int64  `bun:"version_id,pk"`
	SectionID      int64  `bun:"section_id,pk"`
	Position       int    `bun:"position,notnull"`
	Title          string `bun:"title,notnull,type:varchar(300)"`
	ThemeID        *int64 `bun:"theme_id"`
	SectionVersion int64  `bun:"section_version,notnull"`
	Text           string `bun:"text,notnull,type:text"`
}

type documentTransition20261122 struct {
	bun.BaseModel `bun:"table:document_transitions"`

	ID         int64     `bun:"id,pk,autoincrement"`
	DocumentID int64     `bun:"document_id,notnull"`
	From       string    `bun:"from_status,notnull,type:varchar(16)"`
	To         string    `bun:"to_status,notnull,type:varchar(16)"`
	ActorID    *int64    `bun:"actor_id"`
	Note       string    `bun:"note,notnull,type:text"`
	VersionID  *int64    `bun:"version_id"`
	At         time.Time `bun:"at,notnull"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			tables := []struct {
				model any
				fks   []string
			}{
				{(*document20261122)(nil), []string{`("working_group_id") REFERENCES "working_groups" ("id")`,
					`("territory_id") REFERENCES "territories" ("id")`, `("created_by") REFERENCES "people" ("id")`}},
				{(*section20261122)(nil), []string{`("document_id") REFERENCES "documents" ("id")`, `("theme_id") REFERENCES "themes" ("id")`,
					`("created_by") REFERENCES "people" ("id")`, `("removed_by") REFERENCES "people" ("id")`}},
				{(*sectionSnapshot20261122)(nil), []string{`("section_id") REFERENCES "sections" ("id")`}},
				{(*sectionOp20261122)(nil), []string{`("section_id") REFERENCES "sections" ("id")`, `("author_id") REFERENCES "people" ("id")`}},
				{(*comment20261122)(nil), []string{`("document_id") REFERENCES "documents" ("id")`, `("section_id") REFERENCES "sections" ("id")`,
					`("parent_id") REFERENCES "comments" ("id")`, `("author_id") REFERENCES "people" ("id")`, `("resolved_by") REFERENCES "people" ("id")`}},
				{(*commentMention20261122)(nil), []string{`("comment_id") REFERENCES "comments" ("id")`, `("person_id") REFERENCES "people" ("id")`}},
				{(*documentVersion20261122)(nil), []string{`("document_id") REFERENCES "documents" ("id")`, `("created_by") REFERENCES "people" ("id")`}},
				{(*documentVersionSection20261122)(nil), []string{`("version_id") REFERENCES "document_versions" ("id")`, `("section_id") REFERENCES "sections" ("id")`,
					`("theme_id") REFERENCES "themes" ("id")`}},
				{(*documentTransition20261122)(nil), []string{`("document_id") REFERENCES "documents" ("id")`, `("actor_id") REFERENCES "people" ("id")`,
					`("version_id") REFERENCES "document_versions" ("id")`}},
			}
			for _, t := range tables {
				q := tx.NewCreateTable().Model(t.model)
				for _, fk := range t.fks {
					q = q.ForeignKey(fk)
				}
				if _, err := q.Exec(ctx); err != nil {
					return err
				}
			}
			indexes := []struct {
				model   any
				name    string
				unique  bool
				columns []string
			}{
				{(*document20261122)(nil), "documents_working_group_idx", false, []string{"working_group_id"}},
				{(*document20261122)(nil), "documents_territory_idx", false, []string{"territory_id"}},
				{(*section20261122)(nil), "sections_document_idx", false, []string{"document_id", "position"}},
				{(*sectionOp20261122)(nil), "section_ops_client_idx", true, []string{"section_id", "client_id", "client_seq"}},
				{(*sectionOp20261122)(nil), "section_ops_author_idx", false, []string{"author_id"}},
				{(*comment20261122)(nil), "comments_section_idx", false, []string{"section_id"}},
				{(*comment20261122)(nil), "comments_document_idx", false, []string{"document_id", "id"}},
				{(*comment20261122)(nil), "comments_parent_idx", false, []string{"parent_id"}},
				{(*commentMention20261122)(nil), "comment_mentions_person_idx", false, []string{"person_id"}},
				{(*documentVersion20261122)(nil), "document_versions_document_idx", false, []string{"document_id", "id"}},
				{(*documentTransition20261122)(nil), "document_transitions_document_idx", false, []string{"document_id", "id"}},
			}
			for _, ix := range indexes {
				q := tx.NewCreateIndex().Model(ix.model).Index(ix.name).Column(ix.columns...)
				if ix.unique {
					q = q.Unique()
				}
				if _, err := q.Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, m := range []any{
				(*documentTransition20261122)(nil), (*documentVersionSection20261122)(nil), (*documentVersion20261122)(nil),
				(*commentMention20261122)(nil), (*comment20261122)(nil), (*sectionOp20261122)(nil), (*sectionSnapshot20261122)(nil),
				(*section20261122)(nil), (*document20261122)(nil),
			} {
				if _, err := tx.NewDropTable().Model(m).IfExists().Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
