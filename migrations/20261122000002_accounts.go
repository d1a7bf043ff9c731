package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen models: accounts, sessions, one-time tokens, throttling, audit and
// the mail outbox, as first created.

// A person is a human taking part. The network issue adds people who have no
// account yet, so the email and the password hash may be empty; an email,
// when present, is stored lower-cased and is unique.
type person20261122 struct {
	bun.BaseModel `bun:"table:people"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        *string   `bun:"email,unique,type:varchar(254)"`
	DisplayName  string    `bun:"display_name,notnull,type:varchar(200)"`
	Language     string    `bun:"language,notnull,type:varchar(2)"`
	PasswordHash *string   `bun:"password_hash,type:varchar(200)"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
}

type personRole20261122 struct {
	bun.BaseModel `bun:"table:person_roles"`

	PersonID  int64     `bun:"person_id,pk"`
	Role      string    `bun:"role,pk,type:varchar(32)"`
	GrantedAt time.Time `bun:"granted_at,notnull"`
	GrantedBy *int64    `bun:"granted_by"`
}

type externalIdentity20261122 struct {
	bun.BaseModel `bun:"table:external_identities"`

	ID        int64     `bun:"id,pk,autoincrement"`
	PersonID  int64     `bun:"person_id,notnull"`
	Issuer    string    `bun:"issuer,notnull,unique:external_identity,type:varchar(500)"`
	Subject   string    `bun:"subject,notnull,unique:external_identity,type:varchar(255)"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

type session20261122 struct {
	bun.BaseModel `bun:"table:sessions"`

	ID         int64      `bun:"id,pk,autoincrement"`
	PersonID   int64      `bun:"person_id,notnull"`
	TokenHash  string     `bun:"token_hash,notnull,unique,type:varchar(64)"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	LastSeenAt time.Time  `bun:"last_seen_at,notnull"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	ClientAddr string     `bun:"client_addr,notnull,type:varchar(64)"`
	UserAgent  string     `bun:"user_agent,notnull,type:varchar(300)"`
}

// Invitations and password resets: single-use, expiring, stored as hashes.
type accountToken20261122 struct {
	bun.BaseModel `bun:"table:account_tokens"`

	ID        int64      `bun:"id,pk,autoincrement"`
	Kind      string     `bun:"kind,notnull,type:varchar(16)"`
	TokenHash string     `bun:"token_hash,notnull,unique,type:varchar(64)"`
	Email     string     `bun:"email,notnull,type:varchar(254)"`
	PersonID  *int64     `bun:"person_id"`
	CreatedBy *int64     `bun:"created_by"`
	Language  string     `bun:"language,notnull,type:varchar(2)"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
}

// A fixed-window counter per key ("signin:account:...", "signin:addr:...").
// Times are Unix milliseconds so that one atomic upsert works on both engines.
type throttle20261122 struct {
	bun.BaseModel `bun:"table:throttle"`

	Key         string `bun:"key,pk,type:varchar(300)"`
	WindowStart int64  `bun:"window_start,notnull"`
	Count       int64  `bun:"count,notnull"`
}

type auditEvent20261122 struct {
	bun.BaseModel `bun:"table:audit_events"`

	ID         int64     `bun:"id,pk,autoincrement"`
	At         time.Time `bun:"at,notnull"`
	Kind       string    `bun:"kind,notnull,type:varchar(40)"`
	ActorID    *int64    `bun:"actor_id"`
	PersonID   *int64    `bun:"person_id"`
	Email      string    `bun:"email,notnull,type:varchar(254)"`
	ClientAddr string    `bun:"client_addr,notnull,type:varchar(64)"`
	Detail     string    `bun:"detail,notnull,type:varchar(500)"`
}

type mail20261122 struct {
	bun.BaseModel `bun:"table:mail_outbox"`

	ID            int64      `bun:"id,pk,autoincrement"`
	To            string     `bun:"to_addr,notnull,type:varchar(254)"`
	Subject       string     `bun:"subject,notnull,type:varchar(300)"`
	Body          string     `bun:"body,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	Attempts      int        `bun:"attempts,notnull"`
	NextAttemptAt time.Time  `bun:"next_attempt_at,notnull"`
	SentAt        *time.Time `bun:"sent_at"`
	FailedAt      *time.Time `bun:"failed_at"`
	LastError     string     `bun:"last_error,notnull,type:varchar(500)"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			tables := []struct {
				model any
				fks   []string
			}{
				{(*person20261122)(nil), nil},
				{(*personRole20261122)(nil), []string{`("person_id") REFERENCES "people" ("id")`, `("granted_by") REFERENCES "people" ("id")`}},
				{(*externalIdentity20261122)(nil), []string{`("person_id") REFERENCES "people" ("id")`}},
				{(*session20261122)(nil), []string{`("person_id") REFERENCES "people" ("id")`}},
				{(*accountToken20261122)(nil), []string{`("person_id") REFERENCES "people" ("id")`, `("created_by") REFERENCES "people" ("id")`}},
				{(*throttle20261122)(nil), nil},
				{(*auditEvent20261122)(nil), []string{`("actor_id") REFERENCES "people" ("id")`, `("person_id") REFERENCES "people" ("id")`}},
				{(*mail20261122)(nil), nil},
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
				columns []string
			}{
				{(*session20261122)(nil), "sessions_person_id_idx", []string{"person_id"}},
				{(*accountToken20261122)(nil), "account_tokens_email_idx", []string{"email"}},
				{(*auditEvent20261122)(nil), "audit_events_kind_idx", []string{"kind", "id"}},
				{(*auditEvent20261122)(nil), "audit_events_person_id_idx", []string{"person_id", "id"}},
				{(*mail20261122)(nil), "mail_outbox_due_idx", []string{"sent_at", "failed_at", "next_attempt_at"}},
			}
			for _, ix := range indexes {
				if _, err := tx.NewCreateIndex().Model(ix.model).Index(ix.name).Column(ix.columns...).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, m := range []any{
				(*mail20261122)(nil), (*auditEvent20261122)(nil), (*throttle20261122)(nil),
				(*accountToken20261122)(nil), (*session20261122)(nil), (*externalIdentity20261122)(nil),
				(*personRole20261122)(nil), (*person20261122)(nil),
			} {
				if _, err := tx.NewDropTable().Model(m).IfExists().Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
