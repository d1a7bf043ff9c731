package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Frozen models: the four thematic focus groups of each working group with
// their invitees, meetings with their invitations, attendance register and
// minutes, the private calendar feeds' tokens, and attachments on queued
// mail, as first created.

type focusGroup20261207 struct {
	bun.BaseModel `bun:"table:focus_groups"`

	ID             int64     `bun:"id,pk,autoincrement"`
	WorkingGroupID int64     `bun:"working_group_id,notnull"`
	TerritoryID    int64     `bun:"territory_id,notnull"`
	ThemeID        int64     `bun:"theme_id,notnull"`
	FacilitatorID  *int64    `bun:"facilitator_id"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`
}

// An invitee is a person or a whole organization (exactly one is set).
type focusGroupInvitee20261207 struct {
	bun.BaseModel `bun:"table:focus_group_invitees"`

	ID             int64     `bun:"id,pk,autoincrement"`
	FocusGroupID   int64     `bun:"focus_group_id,notnull"`
	PersonID       *int64    `bun:"person_id"`
	OrganizationID *int64    `bun:"organization_id"`
	AddedAt        time.Time `bun:"added_at,notnull"`
	AddedBy        *int64    `bun:"added_by"`
}

type meeting20261207 struct {
	bun.BaseModel `bun:"table:meetings"`

	ID             int64      `bun:"id,pk,autoincrement"`
	FocusGroupID   int64      `bun:"focus_group_id,notnull"`
	WorkingGroupID int64      `bun:"working_group_id,notnull"`
	TerritoryID    int64      `bun:"territory_id,notnull"`
	ThemeID        int64      `bun:"theme_id,notnull"`
	Title          string     `bun:"title,notnull,type:varchar(300)"`
	Description    string     `bun:"description,notnull,type:text"`
	Agenda         string     `bun:"agenda,notnull,type:text"` // a JSON array of items
	StartsAt       time.Time  `bun:"starts_at,notnull"`
	EndsAt         time.Time  `bun:"ends_at,notnull"`
	Mode           string     `bun:"mode,notnull,type:varchar(16)"`
	Venue          string     `bun:"venue,notnull,type:varchar(500)"`
	OnlineURL      string     `bun:"online_url,notnull,type:varchar(2000)"`
	Capacity       *int       `bun:"capacity"`
	Services       string     `bun:"services,notnull,type:text"` // a JSON array
	Private        bool       `bun:"private,notnull"`
	FacilitatorID  *int64     `bun:"facilitator_id"`
	Status         string     `bun:"status,notnull,type:varchar(16)"`
	CancelReason   string     `bun:"cancel_reason,notnull,type:varchar(1000)"`
	Sequence       int        `bun:"sequence,notnull"`
	ConflictNote   string     `bun:"conflict_note,notnull,type:varchar(1000)"`
	OverriddenBy   *int64     `bun:"overridden_by"`
	ReminderSentAt *time.Time `bun:"reminder_sent_at"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
	CreatedBy      *int64     `bun:"created_by"`
}

type meetingInvitation20261207 struct {
	bun.BaseModel `bun:"table:meeting_invitations"`

	ID             int64      `bun:"id,pk,autoincrement"`
	MeetingID      int64      `bun:"meeting_id,notnull"`
	PersonID       int64      `bun:"person_id,notnull"`
	OrganizationID *int64     `bun:"organization_id"`
	Status         string     `bun:"status,notnull,type:varchar(16)"`
	Comment        string     `bun:"comment,notnull,type:varchar(1000)"`
	WaitlistedAt   *time.Time `bun:"waitlisted_at"`
	RespondedAt    *time.Time `bun:"responded_at"`
	DelegatedToID  *int64     `bun:"delegated_to_id"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
	InvitedBy      *int64     `bun:"invited_by"`
}

// One entry per person per meeting: a registered person (person_id) or a
// guest without an account (guest_name), with the organization represented.
type meetingAttendance20261207 struct {
	bun.BaseModel `bun:"table:meeting_attendance"`

	ID                int64     `bun:"id,pk,autoincrement"`
	MeetingID         int64     `bun:"meeting_id,notnull"`
	PersonID          *int64    `bun:"person_id"`
	GuestName         *string   `bun:"guest_name,type:varchar(200)"`
	OrganizationID    *int64    `bun:"organization_id"`
	GuestOrganization *string   `bun:"guest_organization,type:varchar(300)"`
	Mode              string    `bun:"mode,notnull,type:varchar(16)"`
	CheckedInAt       time.Time `bun:"checked_in_at,notnull"`
	RecordedBy        *int64    `bun:"recorded_by"`
}

type meetingMinutes20261207 struct {
	bun.BaseModel `bun:"table:meeting_minutes"`

	MeetingID int64     `bun:"meeting_id,pk"`
	Body      string    `bun:"body,notnull,type:text"`
	Decisions string    `bun:"decisions,notnull,type:text"` // a JSON array
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	UpdatedBy *int64    `bun:"updated_by"`
}

type meetingMinutesSection20261207 struct {
	bun.BaseModel `bun:"table:meeting_minutes_sections"`

	MeetingID int64 `bun:"meeting_id,pk"`
	SectionID int64 `bun:"section_id,pk"`
}

// A private calendar feed: the database keeps the token's SHA-256 only.
type calendarToken20261207 struct {
	bun.BaseModel `bun:"table:calendar_tokens"`

	ID        int64      `bun:"id,pk,autoincrement"`
	PersonID  int64      `bun:"person_id,notnull"`
	TokenHash string     `bun:"token_hash,notnull,type:varchar(64)"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			tables := []struct {
				model any
				fks   []string
			}{
				{(*focusGroup20261207)(nil), []string{`("working_group_id") REFERENCES "working_groups" ("id")`,
					`("territory_id") REFERENCES "territories" ("id")`, `("theme_id") REFERENCES "themes" ("id")`,
					`("facilitator_id") REFERENCES "people" ("id")`}},
				{(*focusGroupInvitee20261207)(nil), []string{`("focus_group_id") REFERENCES "focus_groups" ("id")`,
					`("person_id") REFERENCES "people" ("id")`, `("organization_id") REFERENCES "organizations" ("id")`,
					`("added_by") REFERENCES "people" ("id")`}},
				{(*meeting20261207)(nil), []string{`("focus_group_id") REFERENCES "focus_groups" ("id")`,
					`("working_group_id") REFERENCES "working_groups" ("id")`, `("territory_id") REFERENCES "territories" ("id")`,
					`("theme_id") REFERENCES "themes" ("id")`, `("facilitator_id") REFERENCES "people" ("id")`,
					`("overridden_by") REFERENCES "people" ("id")`, `("created_by") REFERENCES "people" ("id")`}},
				{(*meetingInvitation20261207)(nil), []string{`("meeting_id") REFERENCES "meetings" ("id")`,
					`("person_id") REFERENCES "people" ("id")`, `("organization_id") REFERENCES "organizations" ("id")`,
					`("delegated_to_id") REFERENCES "people" ("id")`, `("invited_by") REFERENCES "people" ("id")`}},
				{(*meetingAttendance20261207)(nil), []string{`("meeting_id") REFERENCES "meetings" ("id")`,
					`("person_id") REFERENCES "people" ("id")`, `("organization_id") REFERENCES "organizations" ("id")`,
					`("recorded_by") REFERENCES "people" ("id")`}},
				{(*meetingMinutes20261207)(nil), []string{`("meeting_id") REFERENCES "meetings" ("id")`,
					`("updated_by") REFERENCES "people" ("id")`}},
				{(*meetingMinutesSection20261207)(nil), []string{`("meeting_id") REFERENCES "meetings" ("id")`,
					`("section_id") REFERENCES "sections" ("id")`}},
				{(*calendarToken20261207)(nil), []string{`("person_id") REFERENCES "people" ("id")`}},
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
				{(*focusGroup20261207)(nil), "focus_groups_group_theme_idx", true, []string{"working_group_id", "theme_id"}},
				{(*focusGroup20261207)(nil), "focus_groups_territory_idx", false, []string{"territory_id", "theme_id"}},
				// NULLs are distinct on both engines: a person and an
				// organization are each invited at most once.
				{(*focusGroupInvitee20261207)(nil), "focus_group_invitees_person_idx", true, []string{"focus_group_id", "person_id"}},
				{(*focusGroupInvitee20261207)(nil), "focus_group_invitees_org_idx", true, []string{"focus_group_id", "organization_id"}},
				{(*meeting20261207)(nil), "meetings_focus_group_idx", false, []string{"focus_group_id", "starts_at"}},
				{(*meeting20261207)(nil), "meetings_territory_idx", false, []string{"territory_id", "starts_at"}},
				{(*meeting20261207)(nil), "meetings_working_group_idx", false, []string{"working_group_id", "starts_at"}},
				{(*meeting20261207)(nil), "meetings_starts_idx", false, []string{"starts_at"}},
				{(*meetingInvitation20261207)(nil), "meeting_invitations_person_idx", true, []string{"meeting_id", "person_id"}},
				{(*meetingInvitation20261207)(nil), "meeting_invitations_by_person_idx", false, []string{"person_id"}},
				{(*meetingAttendance20261207)(nil), "meeting_attendance_person_idx", true, []string{"meeting_id", "person_id"}},
				{(*meetingAttendance20261207)(nil), "meeting_attendance_meeting_idx", false, []string{"meeting_id", "id"}},
				{(*calendarToken20261207)(nil), "calendar_tokens_hash_idx", true, []string{"token_hash"}},
				{(*calendarToken20261207)(nil), "calendar_tokens_person_idx", false, []string{"person_id"}},
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
			// Mail may carry one attachment (a meeting's .ics).
			for _, col := range []string{
				`ALTER TABLE mail_outbox ADD COLUMN attachment_name VARCHAR(200) NOT NULL DEFAULT ''`,
				`ALTER TABLE mail_outbox ADD COLUMN attachment_type VARCHAR(200) NOT NULL DEFAULT ''`,
				`ALTER TABLE mail_outbox ADD COLUMN attachment TEXT NOT NULL DEFAULT ''`,
			} {
				if _, err := tx.ExecContext(ctx, col); err != nil {
					return err
				}
			}
			// Every working group that exists gets its four focus groups,
			// as new ones do when they are created.
			now := time.Now().UTC().Truncate(time.Microsecond)
			ts := "?"
			if tx.Dialect().Name() == dialect.PG {
				ts = "?::timestamptz"
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO focus_groups (working_group_id, territory_id, theme_id, created_at, updated_at)
				SELECT wg.id, wg.territory_id, th.id, `+ts+`, `+ts+` FROM working_groups AS wg CROSS JOIN themes AS th
				ORDER BY wg.id, th.id`, now, now)
			return err
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, m := range []any{
				(*calendarToken20261207)(nil), (*meetingMinutesSection20261207)(nil), (*meetingMinutes20261207)(nil),
				(*meetingAttendance20261207)(nil), (*meetingInvitation20261207)(nil), (*meeting20261207)(nil),
				(*focusGroupInvitee20261207)(nil), (*focusGroup20261207)(nil),
			} {
				if _, err := tx.NewDropTable().Model(m).IfExists().Exec(ctx); err != nil {
					return err
				}
			}
			for _, col := range []string{"attachment", "attachment_type", "attachment_name"} {
				if _, err := tx.ExecContext(ctx, `ALTER TABLE mail_outbox DROP COLUMN `+col); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
