package account

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
)

// Person is a human taking part in PIA. A person signs in when they have an
// email and a password; the network issue adds people who have neither yet.
type Person struct {
	bun.BaseModel `bun:"table:people"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        *string   `bun:"email"` // lower-cased; private (see access.ReadPersonContact)
	DisplayName  string    `bun:"display_name"`
	Language     string    `bun:"language"` // "it" or "en"
	PasswordHash *string   `bun:"password_hash"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
	// The directory fields, managed by package network.
	Phone      *string    `bun:"phone"` // private, like Email
	ArchivedAt *time.Time `bun:"archived_at"`
	// ErasedAt is set when an administrator erased the person: the
	// identifying fields are pseudonymised, the rows that count them stay.
	ErasedAt *time.Time `bun:"erased_at"`

	GlobalRoles []access.GlobalRole `bun:"-"`
}

type personRole struct {
	bun.BaseModel `bun:"table:person_roles"`

	PersonID  int64     `bun:"person_id,pk"`
	Role      string    `bun:"role,pk"`
	GrantedAt time.Time `bun:"granted_at"`
	GrantedBy *int64    `bun:"granted_by"`
}

// Session is a signed-in device. Its token is only ever stored as a hash.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID         int64      `bun:"id,pk,autoincrement"`
	PersonID   int64      `bun:"person_id"`
	TokenHash  string     `bun:"token_hash"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	LastSeenAt time.Time  `bun:"last_seen_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	ClientAddr string     `bun:"client_addr"`
	UserAgent  string     `bun:"user_agent"`
}

// Token kinds.
const (
	kindInvitation = "INVITATION"
	kindReset      = "RESET"
)

type oneTimeToken struct {
	bun.BaseModel `bun:"table:account_tokens"`

	ID        int64      `bun:"id,pk,autoincrement"`
	Kind      string     `bun:"kind"`
	TokenHash string     `bun:"token_hash"`
	Email     string     `bun:"email"`
	PersonID  *int64     `bun:"person_id"`
	CreatedBy *int64     `bun:"created_by"`
	Language  string     `bun:"language"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

type externalIdentity struct {
	bun.BaseModel `bun:"table:external_identities"`

	ID        int64     `bun:"id,pk,autoincrement"`
	PersonID  int64     `bun:"person_id"`
	Issuer    string    `bun:"issuer"`
	Subject   string    `bun:"subject"`
	CreatedAt time.Time `bun:"created_at"`
}

// AuditKind is the kind of a security event.
type AuditKind string

// The audit kinds. Append only: they are stored.
const (
	AuditSignInSucceeded        AuditKind = "SIGN_IN_SUCCEEDED"
	AuditSignInFailed           AuditKind = "SIGN_IN_FAILED"
	AuditSignInThrottled        AuditKind = "SIGN_IN_THROTTLED"
	AuditSignedOut              AuditKind = "SIGNED_OUT"
	AuditSessionRevoked         AuditKind = "SESSION_REVOKED"
	AuditRoleChanged            AuditKind = "ROLE_CHANGED"
	AuditInvitationSent         AuditKind = "INVITATION_SENT"
	AuditInvitationAccepted     AuditKind = "INVITATION_ACCEPTED"
	AuditPasswordResetRequested AuditKind = "PASSWORD_RESET_REQUESTED"
	AuditPasswordReset          AuditKind = "PASSWORD_RESET"
	AuditAdminCreated           AuditKind = "ADMIN_CREATED"
	AuditProfileUpdated         AuditKind = "PROFILE_UPDATED"
	AuditIdentityLinked         AuditKind = "IDENTITY_LINKED"
	AuditAccountCreated         AuditKind = "ACCOUNT_CREATED" // by an administrator, with a password
	AuditPersonErased           AuditKind = "PERSON_ERASED"
)

// AuditKinds lists every audit kind.
var AuditKinds = []AuditKind{
	AuditSignInSucceeded, AuditSignInFailed, AuditSignInThrottled, AuditSignedOut, AuditSessionRevoked,
	AuditRoleChanged, AuditInvitationSent, AuditInvitationAccepted, AuditPasswordResetRequested,
	AuditPasswordReset, AuditAdminCreated, AuditProfileUpdated, AuditIdentityLinked,
	AuditAccountCreated, AuditPersonErased,
}

// AuditEvent is one security event: what happened, who did it (ActorID),
// to whom (PersonID), from where, and when. It never holds a password, a
// token or a hash.
type AuditEvent struct {
	bun.BaseModel `bun:"table:audit_events"`

	ID         int64     `bun:"id,pk,autoincrement"`
	At         time.Time `bun:"at"`
	Kind       AuditKind `bun:"kind"`
	ActorID    *int64    `bun:"actor_id"`
	PersonID   *int64    `bun:"person_id"`
	Email      string    `bun:"email"` // the address an attempt named, when it matters
	ClientAddr string    `bun:"client_addr"`
	Detail     string    `bun:"detail"`

	// Filled by AuditEvents and AuditEvent.
	Actor  *Person `bun:"-"`
	Person *Person `bun:"-"`
}
