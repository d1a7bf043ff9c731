package meeting

import (
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// FocusGroup is the group of one theme in one territory's working group:
// every working group has four, created with it.
type FocusGroup struct {
	bun.BaseModel `bun:"table:focus_groups,alias:fg"`

	ID             int64     `bun:"id,pk,autoincrement"`
	WorkingGroupID int64     `bun:"working_group_id,notnull"`
	TerritoryID    int64     `bun:"territory_id,notnull"` // the working group's, kept for authorization
	ThemeID        int64     `bun:"theme_id,notnull"`
	FacilitatorID  *int64    `bun:"facilitator_id"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`
}

// Invitee is a person or a whole organization invited to a focus group's
// meetings. Exactly one of PersonID and OrganizationID is set. An
// organization is invited through its current representatives.
type Invitee struct {
	bun.BaseModel `bun:"table:focus_group_invitees,alias:fgi"`

	ID             int64     `bun:"id,pk,autoincrement"`
	FocusGroupID   int64     `bun:"focus_group_id,notnull"`
	PersonID       *int64    `bun:"person_id"`
	OrganizationID *int64    `bun:"organization_id"`
	AddedAt        time.Time `bun:"added_at,notnull"`
	AddedBy        *int64    `bun:"added_by"`
}

// Mode is how a meeting is held.
type Mode string

// The modes.
const (
	InPerson Mode = "IN_PERSON"
	Online   Mode = "ONLINE"
	Hybrid   Mode = "HYBRID"
)

// Modes lists the modes.
var Modes = []Mode{InPerson, Online, Hybrid}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return slices.Contains(Modes, m) }

// Status is where a meeting stands.
type Status string

// The statuses. A meeting starts PLANNED; see transitions in meeting.go.
const (
	Planned   Status = "PLANNED"
	Confirmed Status = "CONFIRMED"
	Held      Status = "HELD"
	Postponed Status = "POSTPONED"
	Cancelled Status = "CANCELLED"
)

// Statuses lists the statuses.
var Statuses = []Status{Planned, Confirmed, Held, Postponed, Cancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// ServiceKind is a service offered at a meeting so that everyone can take
// part.
type ServiceKind string

// The services.
const (
	CulturalMediation ServiceKind = "CULTURAL_MEDIATION"
	Interpreting      ServiceKind = "INTERPRETING"
	Childcare         ServiceKind = "CHILDCARE"
	Accessibility     ServiceKind = "ACCESSIBILITY"
)

// ServiceKinds lists the services.
var ServiceKinds = []ServiceKind{CulturalMediation, Interpreting, Childcare, Accessibility}

// Valid reports whether k is a known service.
func (k ServiceKind) Valid() bool { return slices.Contains(ServiceKinds, k) }

// Offer is one service offered at a meeting; mediation and interpreting
// name their languages (ISO 639-1 codes, such as "ar", "fr", "ti").
type Offer struct {
	Kind      ServiceKind `json:"kind"`
	Languages []string    `json:"languages,omitempty"`
}

// Meeting is one meeting of a focus group. Times are UTC; they are shown in
// Europe/Rome.
type Meeting struct {
	bun.BaseModel `bun:"table:meetings,alias:m"`

	ID             int64     `bun:"id,pk,autoincrement"`
	FocusGroupID   int64     `bun:"focus_group_id,notnull"`
	WorkingGroupID int64     `bun:"working_group_id,notnull"` // the focus group's, kept for conflicts
	TerritoryID    int64     `bun:"territory_id,notnull"`     // kept for authorization and feeds
	ThemeID        int64     `bun:"theme_id,notnull"`
	Title          string    `bun:"title,notnull"`
	Description    string    `bun:"description,notnull"`
	Agenda         []string  `bun:"agenda,notnull,type:text"` // stored as a JSON array
	StartsAt       time.Time `bun:"starts_at,notnull"`
	EndsAt         time.Time `bun:"ends_at,notnull"`
	Mode           Mode      `bun:"mode,notnull"`
	Venue          string    `bun:"venue,notnull"`      // an address; required in person and hybrid
	OnlineURL      string    `bun:"online_url,notnull"` // required online and hybrid
	Capacity       *int      `bun:"capacity"`           // nil: no limit
	Services       []Offer   `bun:"services,notnull,type:text"`
	// Private meetings are left out of the public feeds.
	Private       bool   `bun:"private,notnull"`
	FacilitatorID *int64 `bun:"facilitator_id"`
	Status        Status `bun:"status,notnull"`
	CancelReason  string `bun:"cancel_reason,notnull"`
	// Sequence is the iCalendar SEQUENCE: it grows with every change that
	// calendar clients must see (time, place, status, text).
	Sequence int `bun:"sequence,notnull"`
	// ConflictNote is set when a coordinator kept a meeting despite a
	// conflict: the conflicts they were shown and overrode.
	ConflictNote   string     `bun:"conflict_note,notnull"`
	OverriddenBy   *int64     `bun:"overridden_by"`
	ReminderSentAt *time.Time `bun:"reminder_sent_at"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
	CreatedBy      *int64     `bun:"created_by"`
}

// RSVP is the state of an invitation.
type RSVP string

// The states of an invitation.
const (
	Pending    RSVP = "PENDING"
	Accepted   RSVP = "ACCEPTED"
	Declined   RSVP = "DECLINED"
	Tentative  RSVP = "TENTATIVE"
	Waitlisted RSVP = "WAITLISTED" // accepted while the meeting was full: moves up in order
	Delegated  RSVP = "DELEGATED"  // handed to a delegate of the same organization
)

// Invitation is one person's invitation to a meeting, on behalf of an
// organization when they were invited as its representative.
type Invitation struct {
	bun.BaseModel `bun:"table:meeting_invitations,alias:mi"`

	ID             int64      `bun:"id,pk,autoincrement"`
	MeetingID      int64      `bun:"meeting_id,notnull"`
	PersonID       int64      `bun:"person_id,notnull"`
	OrganizationID *int64     `bun:"organization_id"`
	Status         RSVP       `bun:"status,notnull"`
	Comment        string     `bun:"comment,notnull"`
	WaitlistedAt   *time.Time `bun:"waitlisted_at"` // the waiting list's order
	RespondedAt    *time.Time `bun:"responded_at"`
	DelegatedToID  *int64     `bun:"delegated_to_id"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
	UpdatedAt      time.Time  `bun:"updated_at,notnull"`
	InvitedBy      *int64     `bun:"invited_by"`
}

// AttendanceMode is how a person took part.
type AttendanceMode string

// The attendance modes.
const (
	AttendedInPerson AttendanceMode = "IN_PERSON"
	AttendedOnline   AttendanceMode = "ONLINE"
)

// Attendance is one entry of a meeting's register: a person of the
// directory, or a guest without an account known only by name (and the
// organization they said they represent), kept minimal.
type Attendance struct {
	bun.BaseModel `bun:"table:meeting_attendance,alias:ma"`

	ID                int64          `bun:"id,pk,autoincrement"`
	MeetingID         int64          `bun:"meeting_id,notnull"`
	PersonID          *int64         `bun:"person_id"`
	GuestName         *string        `bun:"guest_name"`
	OrganizationID    *int64         `bun:"organization_id"`
	GuestOrganization *string        `bun:"guest_organization"`
	Mode              AttendanceMode `bun:"mode,notnull"`
	CheckedInAt       time.Time      `bun:"checked_in_at,notnull"`
	RecordedBy        *int64         `bun:"recorded_by"`
}

// Minutes are a meeting's record: Markdown text and the decisions taken.
// The people present are the register; the document sections discussed are
// linked in meeting_minutes_sections.
type Minutes struct {
	bun.BaseModel `bun:"table:meeting_minutes,alias:mm"`

	MeetingID int64     `bun:"meeting_id,pk"`
	Body      string    `bun:"body,notnull"`
	Decisions []string  `bun:"decisions,notnull,type:text"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	UpdatedBy *int64    `bun:"updated_by"`

	SectionIDs []int64 `bun:"-"`
}

type minutesSection struct {
	bun.BaseModel `bun:"table:meeting_minutes_sections,alias:mms"`

	MeetingID int64 `bun:"meeting_id,pk"`
	SectionID int64 `bun:"section_id,pk"`
}

// calendarToken is a private feed's token; only its SHA-256 is kept.
type calendarToken struct {
	bun.BaseModel `bun:"table:calendar_tokens,alias:ct"`

	ID        int64      `bun:"id,pk,autoincrement"`
	PersonID  int64      `bun:"person_id,notnull"`
	TokenHash string     `bun:"token_hash,notnull"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	RevokedAt *time.Time `bun:"revoked_at"`
}
