package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen model: the section log, for the tracking overview's edit windows
// (operations of the last 7 and 30 days), which read the window through an
// index on created_at instead of the whole log.

type sectionOp20261207 struct {
	bun.BaseModel `bun:"table:section_ops"`

	SectionID int64     `bun:"section_id,pk"`
	Version   int64     `bun:"version,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		_, err := db.NewCreateIndex().Model((*sectionOp20261207)(nil)).Index("section_ops_created_idx").
			Column("created_at").Exec(ctx)
		return err
	}, func(ctx context.Context, db *bun.DB) error {
		_, err := db.NewDropIndex().Model((*sectionOp20261207)(nil)).Index("section_ops_created_idx").IfExists().Exec(ctx)
		return err
	})
}
