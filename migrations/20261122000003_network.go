package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Frozen models: the stakeholder network (organizations, affiliations,
// working groups with their membership history, practices, municipalities),
// and the directory columns of people, as first created.
//
// name_key columns hold a name folded for comparison (lower case, single
// spaces), written by the application; duplicates are refused on them.

type organization20261122 struct {
	bun.BaseModel `bun:"table:organizations"`

	ID        int64      `bun:"id,pk,autoincrement"`
	Name      string     `bun:"name,notnull,type:varchar(300)"`
	NameKey   string     `bun:"name_key,notnull,type:varchar(300)"`
	Kind      string     `bun:"kind,notnull,type:varchar(40)"`
	Level     string     `bun:"level,notnull,type:varchar(16)"`
	Website   *string    `bun:"website,type:varchar(500)"`
	Email     *string    `bun:"email,type:varchar(254)"`
	Phone     *string    `bun:"phone,type:varchar(40)"`
	TaxCode   *string    `bun:"tax_code,unique,type:varchar(16)"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	UpdatedAt time.Time  `bun:"updated_at,notnull"`
	CreatedBy *int64     `bun:"created_by"`
	Archived  *time.Time `bun:"archived_at"`
}

// The territories an organization works in. name_key repeats the
// organization's, so that the database itself refuses two organizations of
// the same name in one territory.
type organizationTerritory20261122 struct {
	bun.BaseModel `bun:"table:organization_territories"`

	OrganizationID int64  `bun:"organization_id,pk"`
	TerritoryID    int64  `bun:"territory_id,pk"`
	NameKey        string `bun:"name_key,notnull,type:varchar(300)"`
}

type organizationTheme20261122 struct {
	bun.BaseModel `bun:"table:organization_themes"`

	OrganizationID int64 `bun:"organization_id,pk"`
	ThemeID        int64 `bun:"theme_id,pk"`
}

// A person's tie to an organization: representative, delegate or staff.
// Ending it keeps the row.
type affiliation20261122 struct {
	bun.BaseModel `bun:"table:affiliations"`

	ID             int64      `bun:"id,pk,autoincrement"`
	PersonID       int64      `bun:"person_id,notnull"`
	OrganizationID int64      `bun:"organization_id,notnull"`
	Role           string     `bun:"role,notnull,type:varchar(16)"`
	Title          *string    `bun:"title,type:varchar(200)"`
	StartedAt      time.Time  `bun:"started_at,notnull"`
	EndedAt        *time.Time `bun:"ended_at"`
	CreatedBy      *int64     `bun:"created_by"`
	EndedBy        *int64     `bun:"ended_by"`
}

// One working group per territory.
type workingGroup20261122 struct {
	bun.BaseModel `bun:"table:working_groups"`

	ID          int64      `bun:"id,pk,autoincrement"`
	TerritoryID int64      `bun:"territory_id,notnull,unique"`
	Name        string     `bun:"name,notnull,type:varchar(300)"`
	Description string     `bun:"description,notnull"`
	FormedOn    *time.Time `bun:"formed_on"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`
	Archived    *time.Time `bun:"archived_at"`
}

// A period of membership with one role. A role change ends the period and
// starts another; leaving ends it. Rows are never deleted: they are the
// group's history.
type workingGroupMember20261122 struct {
	bun.BaseModel `bun:"table:working_group_members"`

	ID             int64      `bun:"id,pk,autoincrement"`
	WorkingGroupID int64      `bun:"working_group_id,notnull"`
	PersonID       int64      `bun:"person_id,notnull"`
	OrganizationID *int64     `bun:"organization_id"`
	Role           string     `bun:"role,notnull,type:varchar(16)"`
	JoinedAt       time.Time  `bun:"joined_at,notnull"`
	AddedBy        *int64     `bun:"added_by"`
	LeftAt         *time.Time `bun:"left_at"`
	RemovedBy      *int64     `bun:"removed_by"`
}

type practice20261122 struct {
	bun.BaseModel `bun:"table:practices"`

	ID                 int64      `bun:"id,pk,autoincrement"`
	Name               string     `bun:"name,notnull,type:varchar(300)"`
	NameKey            string     `bun:"name_key,notnull,type:varchar(300)"`
	Description        string     `bun:"description,notnull"`
	TerritoryID        int64      `bun:"territory_id,notnull"`
	LeadOrganizationID *int64     `bun:"lead_organization_id"`
	Funding            string     `bun:"funding,notnull,type:varchar(16)"`
	FundingDetail      string     `bun:"funding_detail,notnull,type:varchar(300)"`
	StartsOn           *time.Time `bun:"starts_on"`
	EndsOn             *time.Time `bun:"ends_on"`
	Beneficiaries      string     `bun:"beneficiaries,notnull"`
	Services           string     `bun:"services,notnull"` // a JSON array of strings
	OpeningHours       string     `bun:"opening_hours,notnull,type:varchar(500)"`
	Address            string     `bun:"address,notnull,type:varchar(300)"`
	ContactEmail       *string    `bun:"contact_email,type:varchar(254)"`
	ContactPhone       *string    `bun:"contact_phone,type:varchar(40)"`
	Website            *string    `bun:"website,type:varchar(500)"`
	CreatedAt          time.Time  `bun:"created_at,notnull"`
	UpdatedAt          time.Time  `bun:"updated_at,notnull"`
	Archived           *time.Time `bun:"archived_at"`
}

type practiceTheme20261122 struct {
	bun.BaseModel `bun:"table:practice_themes"`

	PracticeID int64 `bun:"practice_id,pk"`
	ThemeID    int64 `bun:"theme_id,pk"`
}

type practicePartner20261122 struct {
	bun.BaseModel `bun:"table:practice_partners"`

	PracticeID     int64 `bun:"practice_id,pk"`
	OrganizationID int64 `bun:"organization_id,pk"`
}

type municipality20261122 struct {
	bun.BaseModel `bun:"table:municipalities"`

	ID          int64      `bun:"id,pk,autoincrement"`
	TerritoryID int64      `bun:"territory_id,notnull"`
	Name        string     `bun:"name,notnull,type:varchar(200)"`
	NameKey     string     `bun:"name_key,notnull,type:varchar(200)"`
	IstatCode   *string    `bun:"istat_code,unique,type:varchar(6)"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`
	Archived    *time.Time `bun:"archived_at"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			// The directory columns of people: a phone number, archiving, and
			// erasure (identifying fields pseudonymised, rows kept).
			ts := "TIMESTAMP" // bun's type for time.Time on SQLite
			if tx.Dialect().Name() == dialect.PG {
				ts = "TIMESTAMPTZ"
			}
			for _, col := range []string{
				`ALTER TABLE people ADD COLUMN phone VARCHAR(40)`,
				`ALTER TABLE people ADD COLUMN archived_at ` + ts,
				`ALTER TABLE people ADD COLUMN erased_at ` + ts,
			} {
				if _, err := tx.ExecContext(ctx, col); err != nil {
					return err
				}
			}
			tables := []struct {
				model any
				fks   []string
			}{
				{(*organization20261122)(nil), []string{`("created_by") REFERENCES "people" ("id")`}},
				{(*organizationTerritory20261122)(nil), []string{`("organization_id") REFERENCES "organizations" ("id")`, `("territory_id") REFERENCES "territories" ("id")`}},
				{(*organizationTheme20261122)(nil), []string{`("organization_id") REFERENCES "organizations" ("id")`, `("theme_id") REFERENCES "themes" ("id")`}},
				{(*affiliation20261122)(nil), []string{`("person_id") REFERENCES "people" ("id")`, `("organization_id") REFERENCES "organizations" ("id")`,
					`("created_by") REFERENCES "people" ("id")`, `("ended_by") REFERENCES "people" ("id")`}},
				{(*workingGroup20261122)(nil), []string{`("territory_id") REFERENCES "territories" ("id")`}},
				{(*workingGroupMember20261122)(nil), []string{`("working_group_id") REFERENCES "working_groups" ("id")`, `("person_id") REFERENCES "people" ("id")`,
					`("organization_id") REFERENCES "organizations" ("id")`, `("added_by") REFERENCES "people" ("id")`, `("removed_by") REFERENCES "people" ("id")`}},
				{(*practice20261122)(nil), []string{`("territory_id") REFERENCES "territories" ("id")`, `("lead_organization_id") REFERENCES "organizations" ("id")`}},
				{(*practiceTheme20261122)(nil), []string{`("practice_id") REFERENCES "practices" ("id")`, `("theme_id") REFERENCES "themes" ("id")`}},
				{(*practicePartner20261122)(nil), []string{`("practice_id") REFERENCES "practices" ("id")`, `("organization_id") REFERENCES "organizations" ("id")`}},
				{(*municipality20261122)(nil), []string{`("territory_id") REFERENCES "territories" ("id")`}},
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
				where   string
			}{
				{(*organization20261122)(nil), "organizations_name_key_idx", false, []string{"name_key", "id"}, ""},
				{(*organization20261122)(nil), "organizations_kind_idx", false, []string{"kind"}, ""},
				{(*organizationTerritory20261122)(nil), "organization_territories_name_idx", true, []string{"territory_id", "name_key"}, ""},
				{(*organizationTheme20261122)(nil), "organization_themes_theme_idx", false, []string{"theme_id"}, ""},
				{(*affiliation20261122)(nil), "affiliations_current_idx", true, []string{"person_id", "organization_id"}, "ended_at IS NULL"},
				{(*affiliation20261122)(nil), "affiliations_organization_idx", false, []string{"organization_id"}, ""},
				{(*workingGroupMember20261122)(nil), "working_group_members_current_idx", true, []string{"working_group_id", "person_id"}, "left_at IS NULL"},
				{(*workingGroupMember20261122)(nil), "working_group_members_person_idx", false, []string{"person_id"}, ""},
				{(*practice20261122)(nil), "practices_name_idx", true, []string{"territory_id", "name_key"}, ""},
				{(*practiceTheme20261122)(nil), "practice_themes_theme_idx", false, []string{"theme_id"}, ""},
				{(*practicePartner20261122)(nil), "practice_partners_organization_idx", false, []string{"organization_id"}, ""},
				{(*municipality20261122)(nil), "municipalities_name_idx", true, []string{"territory_id", "name_key"}, ""},
			}
			for _, ix := range indexes {
				q := tx.NewCreateIndex().Model(ix.model).Index(ix.name).Column(ix.columns...)
				if ix.unique {
					q = q.Unique()
				}
				if ix.where != "" {
					q = q.Where(ix.where)
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
				(*municipality20261122)(nil), (*practicePartner20261122)(nil), (*practiceTheme20261122)(nil),
				(*practice20261122)(nil), (*workingGroupMember20261122)(nil), (*workingGroup20261122)(nil),
				(*affiliation20261122)(nil), (*organizationTheme20261122)(nil), (*organizationTerritory20261122)(nil),
				(*organization20261122)(nil),
			} {
				if _, err := tx.NewDropTable().Model(m).IfExists().Exec(ctx); err != nil {
					return err
				}
			}
			for _, col := range []string{"erased_at", "archived_at", "phone"} {
				if _, err := tx.ExecContext(ctx, `ALTER TABLE people DROP COLUMN `+col); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
