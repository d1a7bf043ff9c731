package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// Frozen models: the reference tables as first created.
type territory20261122 struct {
	bun.BaseModel `bun:"table:territories"`

	ID        int64  `bun:"id,pk,autoincrement"`
	Code      string `bun:"code,notnull,unique,type:varchar(2)"`
	Name      string `bun:"name,notnull"`
	IstatCode string `bun:"istat_code,notnull,unique,type:varchar(3)"`
}

type theme20261122 struct {
	bun.BaseModel `bun:"table:themes"`

	ID       int64  `bun:"id,pk,autoincrement"`
	Code     string `bun:"code,notnull,unique,type:varchar(16)"`
	Position int    `bun:"position,notnull"`
	LabelIt  string `bun:"label_it,notnull"`
	LabelEn  string `bun:"label_en,notnull"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewCreateTable().Model((*territory20261122)(nil)).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewCreateTable().Model((*theme20261122)(nil)).Exec(ctx); err != nil {
				return err
			}
			// The 9 Sicilian provinces. ISTAT codes are those of the current
			// supra-municipal units: 2xx for the three metropolitan cities.
			territories := []territory20261122{
				{Code: "AG", Name: "Agrigento", IstatCode: "084"},
				{Code: "CL", Name: "Caltanissetta", IstatCode: "085"},
				{Code: "CT", Name: "Catania", IstatCode: "287"},
				{Code: "EN", Name: "Enna", IstatCode: "086"},
				{Code: "ME", Name: "Messina", IstatCode: "283"},
				{Code: "PA", Name: "Palermo", IstatCode: "282"},
				{Code: "RG", Name: "Ragusa", IstatCode: "088"},
				{Code: "SR", Name: "Siracusa", IstatCode: "089"},
				{Code: "TP", Name: "Trapani", IstatCode: "081"},
			}
			if _, err := tx.NewInsert().Model(&territories).Exec(ctx); err != nil {
				return err
			}
			themes := []theme20261122{
				{Code: "HEALTH", Position: 1, LabelIt: "Salute", LabelEn: "Health"},
				{Code: "EDUCATION", Position: 2, LabelIt: "Istruzione", LabelEn: "Education"},
				{Code: "WORK", Position: 3, LabelIt: "Lavoro", LabelEn: "Work"},
				{Code: "HOUSING", Position: 4, LabelIt: "Casa", LabelEn: "Housing"},
			}
			_, err := tx.NewInsert().Model(&themes).Exec(ctx)
			return err
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewDropTable().Model((*theme20261122)(nil)).IfExists().Exec(ctx); err != nil {
				return err
			}
			_, err := tx.NewDropTable().Model((*territory20261122)(nil)).IfExists().Exec(ctx)
			return err
		})
	})
}
