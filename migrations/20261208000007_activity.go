package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen model: the activity log the policy makers' feed reads, written by
// the features in their transactions. Its first lines are made from the
// records that exist (working groups, meetings as planned, documents, their
// status changes, named versions and comment threads), in time order, so a
// running platform's feed does not start empty. (PostgreSQL types a
// union's columns by its first branch: the NULLs there are cast.)

type activityEvent20261208 struct {
	bun.BaseModel `bun:"table:activity_events"`

	ID          int64     `bun:"id,pk,autoincrement"`
	At          time.Time `bun:"at,notnull"`
	Kind        string    `bun:"kind,notnull,type:varchar(40)"`
	TerritoryID int64     `bun:"territory_id,notnull"`
	ThemeID     *int64    `bun:"theme_id"`
	ActorID     *int64    `bun:"actor_id"`
	PersonID    *int64    `bun:"person_id"`
	MeetingID   *int64    `bun:"meeting_id"`
	DocumentID  *int64    `bun:"document_id"`
	SectionID   *int64    `bun:"section_id"`
	CommentID   *int64    `bun:"comment_id"`
	VersionID   *int64    `bun:"version_id"`
	Status      string    `bun:"status,notnull,type:varchar(40)"`
	Title       string    `bun:"title,notnull"`
	Private     bool      `bun:"private,notnull"`
	Count       int       `bun:"count,notnull"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			q := tx.NewCreateTable().Model((*activityEvent20261208)(nil))
			for _, fk := range []string{
				`("territory_id") REFERENCES "territories" ("id")`, `("theme_id") REFERENCES "themes" ("id")`,
				`("actor_id") REFERENCES "people" ("id")`, `("person_id") REFERENCES "people" ("id")`,
				`("meeting_id") REFERENCES "meetings" ("id")`, `("document_id") REFERENCES "documents" ("id")`,
				`("section_id") REFERENCES "sections" ("id")`, `("comment_id") REFERENCES "comments" ("id")`,
				`("version_id") REFERENCES "document_versions" ("id")`,
			} {
				q = q.ForeignKey(fk)
			}
			if _, err := q.Exec(ctx); err != nil {
				return err
			}
			for name, cols := range map[string][]string{
				"activity_events_territory_idx": {"territory_id", "id"},
				"activity_events_kind_idx":      {"kind", "id"},
				"activity_events_meeting_idx":   {"meeting_id", "id"},
				"activity_events_document_idx":  {"document_id", "id"},
			} {
				if _, err := tx.NewCreateIndex().Model((*activityEvent20261208)(nil)).Index(name).Column(cols...).Exec(ctx); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO activity_events
				(at, kind, territory_id, theme_id, actor_id, meeting_id, document_id, comment_id, version_id, section_id, status, title, private, count)
				SELECT at, kind, territory_id, theme_id, actor_id, meeting_id, document_id, comment_id, version_id, section_id, status, title, private, 1 FROM (
				SELECT wg.created_at AS at, 'GROUP_FORMED' AS kind, wg.territory_id AS territory_id, CAST(NULL AS BIGINT) AS theme_id, CAST(NULL AS BIGINT) AS actor_id,
					CAST(NULL AS BIGINT) AS meeting_id, CAST(NULL AS BIGINT) AS document_id, CAST(NULL AS BIGINT) AS comment_id, CAST(NULL AS BIGINT) AS version_id, CAST(NULL AS BIGINT) AS section_id,
					'' AS status, wg.name AS title, FALSE AS private
					FROM working_groups AS wg
				UNION ALL
				SELECT m.created_at, 'MEETING_PLANNED', m.territory_id, m.theme_id, m.created_by, m.id, NULL, NULL, NULL, NULL,
					'', CASE WHEN m.private THEN '' ELSE m.title END, m.private
					FROM meetings AS m
				UNION ALL
				SELECT d.created_at, 'DOCUMENT_CREATED', d.territory_id, NULL, d.created_by, NULL, d.id, NULL, NULL, NULL, '', d.title, FALSE
					FROM documents AS d
				UNION ALL
				SELECT t.at, 'DOCUMENT_STATUS_CHANGED', d.territory_id, NULL, t.actor_id, NULL, d.id, NULL, t.version_id, NULL, t.to_status, d.title, FALSE
					FROM document_transitions AS t JOIN documents AS d ON d.id = t.document_id
				UNION ALL
				SELECT v.created_at, 'VERSION_NAMED', d.territory_id, NULL, v.created_by, NULL, d.id, NULL, v.id, NULL, '', v.name, FALSE
					FROM document_versions AS v JOIN documents AS d ON d.id = v.document_id WHERE v.kind = 'NAMED'
				UNION ALL
				SELECT c.created_at, 'COMMENT_OPENED', d.territory_id, s.theme_id, c.author_id, NULL, d.id, c.id, NULL, s.id, '', d.title, FALSE
					FROM comments AS c JOIN documents AS d ON d.id = c.document_id JOIN sections AS s ON s.id = c.section_id
					WHERE c.parent_id IS NULL
				) AS past ORDER BY at, kind`)
			return err
		})
	}, func(ctx context.Context, db *bun.DB) error {
		_, err := db.NewDropTable().Model((*activityEvent20261208)(nil)).IfExists().Exec(ctx)
		return err
	})
}
