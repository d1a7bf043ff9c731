// Package access decides who may do what in PIA. It is the one place where
// authorization rules live: services call Authorize before they read or
// change anything, so the API, subscriptions, exports and calendar feeds all
// get the same answer. Anything without a rule is refused (default deny).
package access

import (
	"context"
	"slices"
	"sync"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// GlobalRole is a role that holds everywhere.
type GlobalRole string

// The global roles.
const (
	// Admin manages accounts, roles, territories and reference data, and may
	// do everything.
	Admin GlobalRole = "ADMIN"
	// PolicyMaker reads everything and edits nothing.
	PolicyMaker GlobalRole = "POLICY_MAKER"
)

// GlobalRoles lists the global roles, in display order.
var GlobalRoles = []GlobalRole{Admin, PolicyMaker}

// Valid reports whether r is a known global role.
func (r GlobalRole) Valid() bool { return slices.Contains(GlobalRoles, r) }

// TerritoryRole is a role in one territory's working group.
type TerritoryRole string

// The territory roles, from working-group membership.
const (
	Coordinator TerritoryRole = "COORDINATOR"
	Member      TerritoryRole = "MEMBER"
	Observer    TerritoryRole = "OBSERVER"
)

// TerritoryRoles lists the territory roles, strongest first.
var TerritoryRoles = []TerritoryRole{Coordinator, Member, Observer}

// Valid reports whether r is a known territory role.
func (r TerritoryRole) Valid() bool { return slices.Contains(TerritoryRoles, r) }

// Actor is who is asking: a signed-in person with their roles, or nobody.
// The zero Actor is anonymous.
type Actor struct {
	PersonID    int64 // 0 when anonymous
	SessionID   int64 // the session the request came with
	GlobalRoles []GlobalRole
	// Territories maps a territory id to the person's role in its working
	// group.
	Territories map[int64]TerritoryRole
}

// Anonymous is the actor of a request without a session.
var Anonymous = &Actor{}

// SignedIn reports whether a is a person with a session.
func (a *Actor) SignedIn() bool { return a != nil && a.PersonID != 0 }

// Has reports whether a holds the global role r.
func (a *Actor) Has(r GlobalRole) bool { return a != nil && slices.Contains(a.GlobalRoles, r) }

// RoleIn is a's role in a territory's working group, or "".
func (a *Actor) RoleIn(territoryID int64) TerritoryRole {
	if a == nil {
		return ""
	}
	return a.Territories[territoryID]
}

// CoordinatesAny reports whether a coordinates at least one working group.
func (a *Actor) CoordinatesAny() bool {
	if a == nil {
		return false
	}
	for _, r := range a.Territories {
		if r == Coordinator {
			return true
		}
	}
	return false
}

type actorKey struct{}

// actorCell holds the actor of a request that may sign in midway.
type actorCell struct {
	mu sync.Mutex
	a  *Actor
}

type cellKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// WithSignInCell returns ctx for a request in which Become may later set the
// actor: a signIn mutation's payload (the person's own email, which session
// is current) and the mutations after it are answered as the person who
// just proved who they are.
func WithSignInCell(ctx context.Context) context.Context {
	return context.WithValue(ctx, cellKey{}, &actorCell{})
}

// Become makes a the actor for the rest of the request whose context was
// prepared by WithSignInCell, and reports whether there was one.
func Become(ctx context.Context, a *Actor) bool {
	c, ok := ctx.Value(cellKey{}).(*actorCell)
	if !ok {
		return false
	}
	c.mu.Lock()
	c.a = a
	c.mu.Unlock()
	return true
}

// ActorFrom returns the actor in ctx, or Anonymous.
func ActorFrom(ctx context.Context) *Actor {
	if c, ok := ctx.Value(cellKey{}).(*actorCell); ok {
		c.mu.Lock()
		a := c.a
		c.mu.Unlock()
		if a != nil {
			return a
		}
	}
	if a, ok := ctx.Value(actorKey{}).(*Actor); ok && a != nil {
		return a
	}
	return Anonymous
}

// Client is where a request comes from, for throttling and the audit log.
type Client struct {
	Addr      string // the client's IP address
	UserAgent string
}

type clientKey struct{}

// WithClient returns ctx carrying c.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the client in ctx, or a zero Client.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// Action is something an actor may try to do.
type Action string

// The actions. Each has a rule in rules; an action without one is refused.
const (
	ReadReference        Action = "reference.read"       // territories, themes
	ReadServerStatus     Action = "server.status"        // the serverStatus subscription
	ReadPerson           Action = "person.read"          // a person's name, language and roles
	ReadPersonContact    Action = "person.contact"       // a person's email
	UpdateOwnProfile     Action = "person.updateProfile" // display name and language
	ReadSessions         Action = "session.read"         // a person's sessions
	RevokeSession        Action = "session.revoke"       // end a session
	InvitePerson         Action = "person.invite"        // send an invitation
	ManageGlobalRoles    Action = "role.manage"          // grant and revoke ADMIN, POLICY_MAKER
	ReadAudit            Action = "audit.read"           // the security audit log
	LinkExternalIdentity Action = "identity.link"        // attach an OpenID Connect identity

	// The stakeholder network.
	ReadNetwork         Action = "network.read"         // organizations, affiliations, working groups, practices, municipalities
	CreatePerson        Action = "person.create"        // add a person to the directory (no account needed)
	UpdatePerson        Action = "person.update"        // edit or archive a person's directory entry
	EnrolPerson         Action = "person.enrol"         // bring a person into a working group or tie them to an organization
	ErasePerson         Action = "person.erase"         // pseudonymise a person, keeping counts
	ExportPersonalData  Action = "person.export"        // a person's own data, as a file
	ManageOrganization  Action = "organization.manage"  // create, update, archive organizations and affiliations
	ManageWorkingGroup  Action = "workinggroup.manage"  // a working group's details and members
	CreateWorkingGroup  Action = "workinggroup.create"  // the one working group of a territory
	ArchiveWorkingGroup Action = "workinggroup.archive" // archive or restore a working group
	ManagePractice      Action = "practice.manage"      // create, update, archive practices
	ManageMunicipality  Action = "municipality.manage"  // the municipalities of a territory
	ImportNetwork       Action = "network.import"       // import organizations and people from a spreadsheet

	// Guideline documents and their co-editing.
	ReadDocument    Action = "document.read"    // a document, its sections, log, comments, versions, presence
	EditDocument    Action = "document.edit"    // text, structure, naming and restoring versions
	CommentDocument Action = "document.comment" // comment, reply, resolve and reopen threads
	ReviewDocument  Action = "document.review"  // move the review: in review, approved, published, back to draft
	CreateDocument  Action = "document.create"  // a new document of the territory's working group

	// Focus groups and meetings.
	ReadMeeting        Action = "meeting.read"     // a meeting, its focus group, agenda and minutes
	ReadRegister       Action = "meeting.register" // invitations, answers, the attendance register and its export
	ManageMeeting      Action = "meeting.manage"   // plan, change, cancel, invite, register attendance, write minutes
	AnswerInvitation   Action = "meeting.answer"   // accept, decline, delegate an invitation
	ReadPublicCalendar Action = "calendar.public"  // the public calendar feeds: non-private meetings
	ManageCalendarFeed Action = "calendar.feed"    // one's own private calendar feed and its token

	// Tracking: the regional overview and each territory's progress.
	ReadTracking Action = "tracking.read" // aggregate figures, never personal data
)

// Resource is what an action is about. Fields that do not apply stay zero.
type Resource struct {
	// OwnerID is the person the object belongs to (a person's own record,
	// their sessions).
	OwnerID int64
	// TerritoryID is the territory whose working group the object belongs to.
	TerritoryID int64
	// Territories are the territories an object spans: those an
	// organization works in, or those whose working groups a person is a
	// current member of.
	Territories []int64
	// Public says that the object is public within PIA (a meeting that is
	// not private): every signed-in person may read it.
	Public bool
	// Privileged says that the person the action is about holds a global
	// role (ADMIN, POLICY_MAKER): only administrators edit or enrol them.
	Privileged bool
	// HasAccount says that the person the action is about has a password:
	// they sign in, so a coordinator edits them only within their groups.
	HasAccount bool
}

// rule decides one action. It is called only for signed-in actors unless the
// action is listed in public.
type rule func(a *Actor, r Resource) bool

func adminOnly(a *Actor, _ Resource) bool { return a.Has(Admin) }
func anyone(*Actor, Resource) bool        { return true }
func self(a *Actor, r Resource) bool      { return r.OwnerID != 0 && a.PersonID == r.OwnerID }
func selfOrAdmin(a *Actor, r Resource) bool {
	return a.Has(Admin) || self(a, r)
}

// coordinates reports whether a coordinates the working group of territory.
func (a *Actor) coordinates(territory int64) bool {
	return territory != 0 && a.RoleIn(territory) == Coordinator
}

// coordinatesOneOf reports whether a coordinates one of territories.
func (a *Actor) coordinatesOneOf(territories []int64) bool {
	return slices.ContainsFunc(territories, a.coordinates)
}

// sharesGroup reports whether a belongs, in any role, to the working group
// of one of territories.
func (a *Actor) sharesGroup(territories []int64) bool {
	return slices.ContainsFunc(territories, func(t int64) bool { return a.RoleIn(t) != "" })
}

// networkEditor may change an organization that spans r.Territories:
// administrators, and coordinators of one of those territories. An
// organization tied to no territory (a national body working nowhere in
// particular) is open to every coordinator. Moving an organization into or
// out of a territory is checked per territory, r.Territories holding that
// one alone (package network).
func networkEditor(a *Actor, r Resource) bool {
	if a.Has(Admin) || a.coordinatesOneOf(r.Territories) {
		return true
	}
	return len(r.Territories) == 0 && a.CoordinatesAny()
}

// personEditor may edit or archive a person's directory entry:
// administrators, and, for a person holding no global role, the
// coordinators of one of the person's groups. A person in no group is open
// to every coordinator only while they have no account: an account holder
// outside one's groups (an invited person, an administrator) is not a
// coordinator's to rename or archive.
func personEditor(a *Actor, r Resource) bool {
	if a.Has(Admin) {
		return true
	}
	if r.Privileged {
		return false
	}
	return a.coordinatesOneOf(r.Territories) || (len(r.Territories) == 0 && !r.HasAccount && a.CoordinatesAny())
}

// personEnroller may bring a person into a working group or tie them to an
// organization, which opens their contacts to the group's coordinators:
// administrators, and, for a person holding no global role, the coordinators
// of one of the person's groups or, for a person in no group, any
// coordinator (an invited person joins a group this way).
func personEnroller(a *Actor, r Resource) bool {
	if a.Has(Admin) {
		return true
	}
	if r.Privileged {
		return false
	}
	return a.coordinatesOneOf(r.Territories) || (len(r.Territories) == 0 && a.CoordinatesAny())
}

func territoryCoordinator(a *Actor, r Resource) bool {
	return a.Has(Admin) || a.coordinates(r.TerritoryID)
}

// public lists the actions anonymous callers may take.
var public = map[Action]bool{ReadReference: true, ReadPublicCalendar: true}

var rules = map[Action]rule{
	ReadReference:    anyone,
	ReadServerStatus: anyone,
	// A person is visible to themselves, administrators, policy makers (who
	// read everything), every coordinator (who looks for people to bring
	// into a group) and the members of the person's working groups. r names
	// the person (OwnerID) and their working groups' territories.
	ReadPerson: func(a *Actor, r Resource) bool {
		return selfOrAdmin(a, r) || a.Has(PolicyMaker) || a.CoordinatesAny() || a.sharesGroup(r.Territories)
	},
	// Private contacts (email, phone): the person, administrators, and the
	// coordinators of the person's working groups. Never policy makers, who
	// see organizations and aggregates.
	ReadPersonContact: func(a *Actor, r Resource) bool {
		return selfOrAdmin(a, r) || a.coordinatesOneOf(r.Territories)
	},
	UpdateOwnProfile:     self,
	ReadSessions:         selfOrAdmin,
	RevokeSession:        selfOrAdmin,
	InvitePerson:         func(a *Actor, _ Resource) bool { return a.Has(Admin) || a.CoordinatesAny() },
	ManageGlobalRoles:    adminOnly,
	ReadAudit:            adminOnly,
	LinkExternalIdentity: adminOnly,

	ReadNetwork:        anyone,
	CreatePerson:       func(a *Actor, _ Resource) bool { return a.Has(Admin) || a.CoordinatesAny() },
	UpdatePerson:       personEditor,
	EnrolPerson:        personEnroller,
	ErasePerson:        adminOnly,
	ExportPersonalData: selfOrAdmin,
	ManageOrganization: networkEditor,
	ManageWorkingGroup: territoryCoordinator,
	CreateWorkingGroup: adminOnly,
	// Archiving a group takes its members' territory roles, its
	// coordinators' included, who then could not restore it.
	ArchiveWorkingGroup: adminOnly,
	ManagePractice:      territoryCoordinator,
	ManageMunicipality:  adminOnly,
	ImportNetwork:       func(a *Actor, _ Resource) bool { return a.Has(Admin) || a.CoordinatesAny() },

	// A territory's documents are read by its working group in any role,
	// policy makers and administrators; edited by its coordinators and
	// members; commented on by observers too; reviewed by coordinators.
	ReadDocument: func(a *Actor, r Resource) bool {
		return a.Has(Admin) || a.Has(PolicyMaker) || (r.TerritoryID != 0 && a.RoleIn(r.TerritoryID) != "")
	},
	EditDocument: func(a *Actor, r Resource) bool {
		return a.Has(Admin) || a.coordinates(r.TerritoryID) || (r.TerritoryID != 0 && a.RoleIn(r.TerritoryID) == Member)
	},
	CommentDocument: func(a *Actor, r Resource) bool {
		return a.Has(Admin) || (r.TerritoryID != 0 && a.RoleIn(r.TerritoryID) != "")
	},
	ReviewDocument: territoryCoordinator,
	CreateDocument: territoryCoordinator,

	// Meetings: coordinators of the territory manage them; the working
	// group in any role, policy makers and administrators read them and
	// their registers; a meeting that is not private is read by every
	// signed-in person, and an invitee reads the meeting they are invited
	// to (OwnerID). Invitees answer their own invitations; coordinators
	// and administrators may answer for them (a phone call, a paper form).
	ReadMeeting: func(a *Actor, r Resource) bool {
		return r.Public || self(a, r) || a.Has(Admin) || a.Has(PolicyMaker) || (r.TerritoryID != 0 && a.RoleIn(r.TerritoryID) != "")
	},
	ReadRegister: func(a *Actor, r Resource) bool {
		return a.Has(Admin) || a.Has(PolicyMaker) || (r.TerritoryID != 0 && a.RoleIn(r.TerritoryID) != "")
	},
	ManageMeeting: territoryCoordinator,
	AnswerInvitation: func(a *Actor, r Resource) bool {
		return self(a, r) || territoryCoordinator(a, r)
	},
	ReadPublicCalendar: anyone,
	ManageCalendarFeed: self,

	// The tracking figures are aggregates without personal data: policy
	// makers follow them, and every working group compares itself with the
	// others, so anyone with a role in any territory reads all of them.
	ReadTracking: func(a *Actor, _ Resource) bool {
		return a.Has(Admin) || a.Has(PolicyMaker) || len(a.Territories) > 0
	},
}

// Allowed reports whether a may take action on r.
func Allowed(a *Actor, action Action, r Resource) bool {
	return Authorize(a, action, r) == nil
}

// Authorize returns nil when a may take action on r, UNAUTHENTICATED when a
// is anonymous and the action needs a session, and FORBIDDEN otherwise.
// An action without a rule is refused.
func Authorize(a *Actor, action Action, r Resource) error {
	if a == nil {
		a = Anonymous
	}
	f, ok := rules[action]
	if !ok {
		return apperr.E(apperr.Forbidden, string(action), "this action is not allowed")
	}
	if !a.SignedIn() {
		if public[action] {
			return nil
		}
		return apperr.E(apperr.Unauthenticated, string(action), "sign in first")
	}
	if f(a, r) {
		return nil
	}
	return apperr.E(apperr.Forbidden, string(action), "you are not allowed to do this")
}

// Check is Authorize for the actor in ctx.
func Check(ctx context.Context, action Action, r Resource) error {
	return Authorize(ActorFrom(ctx), action, r)
}

// Actions lists every action that has a rule, for tests and documentation.
func Actions() []Action {
	out := make([]Action, 0, len(rules))
	for a := range rules {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// RoleSource gives a person's territory roles: network.Service, from the
// current members of each working group.
type RoleSource interface {
	TerritoryRoles(ctx context.Context, personID int64) (map[int64]TerritoryRole, error)
}
