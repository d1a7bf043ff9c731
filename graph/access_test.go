package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// The roles of the matrix, in the order of its columns. The member,
// coordinator and observer hold those roles in the Enna working group, where
// the matrix's objects are; the outsider coordinates Palermo's group and
// holds no role in Enna.
var matrixRoles = [7]string{"anonymous", "member", "coordinator", "observer", "policy maker", "admin", "outsider"}

// Outcomes of one cell: an error's extensions.code, or one of these.
const (
	yes    = "ok"     // data, no error
	null   = "null"   // no error, the root field is null: the caller may not see the object
	hidden = "hidden" // no error, the object is there but the row's private field is null (or an empty list)
	unauth = "UNAUTHENTICATED"
	forbid = "FORBIDDEN"
	absent = "NOT_FOUND"
	// rowRefused: an import runs, but its report refuses the row (FORBIDDEN
	// in its errors) and writes nothing.
	rowRefused = "report not ok"
)

// cells are a row's outcomes, one per role in matrixRoles order.
type cells [7]string

// matrixRow is one operation, or one case of an operation whose outcome
// depends on whose object it is.
type matrixRow struct {
	// op is "Query.me", "Mutation.signIn", "Subscription.serverStatus", or
	// "Query.node(Person)" for node on one Node type. The root field's name
	// is also the response key the outcome is read from.
	op      string
	variant string // whose object, or which private field, when op has several rows
	doc     string
	// field is a private field of the root's object: the cell is hidden when
	// the object comes back with it null.
	field string
	// prepare makes the variables, and any fresh state, for one role just
	// before its request.
	prepare func(t *testing.T, e *matrixEnv, p *persona) request
	want    cells
	// unchanged, when set, reads what the row's refused cells must leave as
	// it is: it runs after prepare and again after a request that did not
	// succeed, and a cell whose two readings differ wrote although it was
	// refused (its outcome then says so).
	unchanged func(t *testing.T, e *matrixEnv) map[string]string
}

// request is what prepare gives a cell: variables, and a token to use
// instead of the role's own (a fresh session, for signOut).
type request struct {
	vars  map[string]any
	token string
	// upload, when set, is a CSV of organizations that the cell imports
	// with importNetwork in a multipart request (multipartImport), instead
	// of posting the row's doc.
	upload []byte
	// undo, when set, runs after the request: it puts back what the cell
	// changed that later cells rely on.
	undo func(t *testing.T)
	// get, when set, is a path of the server's that the cell GETs (the
	// export route, whose row's op is "GET /documents/{id}/export"),
	// instead of posting the row's doc.
	get string
	// getHolds is the text a download of get must hold, and an error must
	// not: the shared document's first section when empty.
	getHolds string
	// trigger, when set, makes a subscription that sends nothing at first
	// answer: it runs until the first message comes (see readDuring).
	trigger func(t *testing.T)
}

func (r matrixRow) name() string {
	if r.variant == "" {
		return r.op
	}
	return r.op + " " + r.variant
}

// isRoute says whether r is one of the server's routes outside GraphQL
// (an op such as "GET /documents/{id}/export"), which the schema does not
// list.
func isRoute(r matrixRow) bool { return strings.HasPrefix(r.op, "GET ") }

// root is the root field r runs: "node" for "Query.node(Person)".
func (r matrixRow) root() string {
	_, f, _ := strings.Cut(r.op, ".")
	f, _, _ = strings.Cut(f, "(")
	return f
}

func vars(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// idOf is a prepare giving $id the global id pick chooses.
func idOf(pick func(t *testing.T, e *matrixEnv, p *persona) string) func(*testing.T, *matrixEnv, *persona) request {
	return func(t *testing.T, e *matrixEnv, p *persona) request { return request{vars: vars("id", pick(t, e, p))} }
}

// input is a prepare giving $in the input f makes.
func input(f func(t *testing.T, e *matrixEnv, p *persona) map[string]any) func(*testing.T, *matrixEnv, *persona) request {
	return func(t *testing.T, e *matrixEnv, p *persona) request { return request{vars: vars("in", f(t, e, p))} }
}

// networkNode is a prepare giving $id the global id of the object of type
// typ that newMatrixEnv made for the rows that read the network.
func networkNode(typ string) func(*testing.T, *matrixEnv, *persona) request {
	return idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.nodes[typ] })
}

func gid(typ string, id int64) string { return relay.ID(typ, id) }

// fresh is a prepare giving $id the global id of a new object of type typ,
// made for the cell (see matrixEnv.fresh).
func fresh(typ string) func(*testing.T, *matrixEnv, *persona) request {
	return idOf(func(t *testing.T, e *matrixEnv, p *persona) string { return e.fresh(t, typ, p) })
}

// own is p's own person, or, for the anonymous caller who has none, the
// bystander's.
func own(e *matrixEnv, p *persona) *persona {
	if p.anonymous() {
		return e.bystander
	}
	return p
}

const (
	nodeTerritory = `query ($id: ID!) { node(id: $id) { id ... on Territory { code } } }`
	nodeTheme     = `query ($id: ID!) { node(id: $id) { id ... on Theme { code } } }`
	nodePerson    = `query ($id: ID!) { node(id: $id) { id ... on Person { displayName globalRoles } } }`
	nodeEmail     = `query ($id: ID!) { node(id: $id) { id ... on Person { email } } }`
	nodePhone     = `query ($id: ID!) { node(id: $id) { id ... on Person { phone } } }`
	nodeSessions  = `query ($id: ID!) { node(id: $id) { id ... on Person { sessions { id } } } }`
	nodeSession   = `query ($id: ID!) { node(id: $id) { id ... on Session { createdAt current } } }`
	nodeAudit     = `query ($id: ID!) { node(id: $id) { id ... on AuditEvent { kind email } } }`
	signInPayload = `{ expiresAt session { id } person { id } }`

	nodeOrganization = `query ($id: ID!) { node(id: $id) { id ... on Organization { name territories { code } } } }`
	nodeAffiliation  = `query ($id: ID!) { node(id: $id) { id ... on Affiliation { role organization { name } } } }`
	nodeWorkingGroup = `query ($id: ID!) { node(id: $id) { id ... on WorkingGroup { name memberCount } } }`
	nodeMembership   = `query ($id: ID!) { node(id: $id) { id ... on Membership { role workingGroup { name } } } }`
	nodePractice     = `query ($id: ID!) { node(id: $id) { id ... on Practice { name territory { code } } } }`
	nodeMunicipality = `query ($id: ID!) { node(id: $id) { id ... on Municipality { name territory { code } } } }`
	updatePerson     = `mutation ($id: ID!) { updatePerson(id: $id, input: {phone: "+39 0935 111222"}) { id } }`
)

// matrixRows is the authorization matrix: every operation of the schema
// against every role. Rows run in this order, once per role, so a row may
// use what an earlier one left (the people acceptInvitation creates are the
// ones later rows reset and promote). "Another person" is the bystander, a
// person with no role anywhere.
var matrixRows = append([]matrixRow{
	// Reference data: public.
	{op: "Query.node(Territory)", doc: nodeTerritory,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.territory }),
		want:    cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Theme)", doc: nodeTheme,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.theme }),
		want:    cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Query.territories", doc: `{ territories { id code name } }`, want: cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Query.territory", doc: `query ($code: String!) { territory(code: $code) { id name } }`,
		prepare: func(*testing.T, *matrixEnv, *persona) request { return request{vars: vars("code", "EN")} },
		want:    cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Query.themes", doc: `{ themes { id code label(language: EN) } }`, want: cells{yes, yes, yes, yes, yes, yes, yes}},

	// People: visible to themselves, administrators, policy makers, every
	// coordinator and the members of their working groups; their email to
	// themselves, administrators and their groups' coordinators (the
	// bystander has no group); sessions to themselves and administrators. A
	// person one may not see is null, as if the id named nothing.
	{op: "Query.node(Person)", variant: "(self)", doc: nodePerson,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, p *persona) string { return own(e, p).gid }),
		want:    cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Person)", variant: "(another person)", doc: nodePerson,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.bystander.gid }),
		want:    cells{unauth, null, yes, null, yes, yes, yes}},
	{op: "Query.node(Person)", variant: "(another person's email)", doc: nodeEmail, field: "email",
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.bystander.gid }),
		want:    cells{unauth, null, hidden, null, hidden, yes, hidden}},
	{op: "Query.node(Person)", variant: "(another person's phone)", doc: nodePhone, field: "phone",
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.bystander.gid }),
		want:    cells{unauth, null, hidden, null, hidden, yes, hidden}},
	// A member of the Enna group (without an account): every role but the
	// bystander's shares the group, and its coordinator reads the contacts.
	{op: "Query.node(Person)", variant: "(a groupmate)", doc: nodePerson,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.groupmate }),
		want:    cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Person)", variant: "(a groupmate's email)", doc: nodeEmail, field: "email",
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.groupmate }),
		want:    cells{unauth, hidden, yes, hidden, hidden, yes, hidden}},
	{op: "Query.node(Person)", variant: "(a groupmate's phone)", doc: nodePhone, field: "phone",
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.groupmate }),
		want:    cells{unauth, hidden, yes, hidden, hidden, yes, hidden}},
	{op: "Query.node(Person)", variant: "(another person's sessions)", doc: nodeSessions,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.bystander.gid }),
		want:    cells{unauth, null, forbid, null, forbid, yes, forbid}},
	{op: "Query.me", doc: `{ me { id displayName language globalRoles createdAt } }`,
		want: cells{null, yes, yes, yes, yes, yes, yes}},
	{op: "Query.me", variant: "(own email)", doc: `{ me { id email } }`, field: "email",
		want: cells{null, yes, yes, yes, yes, yes, yes}},
	{op: "Query.me", variant: "(own phone)", doc: `{ me { id phone } }`, field: "phone",
		want: cells{null, yes, yes, yes, yes, yes, yes}},
	{op: "Query.me", variant: "(own sessions)", doc: `{ me { id sessions { id current clientAddress } } }`,
		want: cells{null, yes, yes, yes, yes, yes, yes}},

	// Sessions: one's own, and anyone's for administrators.
	{op: "Query.node(Session)", variant: "(own)", doc: nodeSession,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, p *persona) string { return own(e, p).session }),
		want:    cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Session)", variant: "(another person's)", doc: nodeSession,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.bystander.session }),
		want:    cells{unauth, null, null, null, null, yes, null}},

	// The audit log: administrators only.
	{op: "Query.auditEvents", doc: `{ auditEvents(first: 5) { totalCount edges { node { id kind } } } }`,
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},
	{op: "Query.node(AuditEvent)", doc: nodeAudit,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.auditEvent }),
		want:    cells{unauth, null, null, null, null, yes, null}},

	// Signing in is for anyone; the anonymous caller signs in as the bystander.
	{op: "Mutation.signIn", doc: `mutation ($input: SignInInput!) { signIn(input: $input) ` + signInPayload + ` }`,
		prepare: func(_ *testing.T, e *matrixEnv, p *persona) request {
			who := own(e, p)
			return request{vars: vars("input", vars("email", who.email, "password", who.password))}
		},
		want: cells{yes, yes, yes, yes, yes, yes, yes}},
	// signOut ends the session it comes with: a fresh one for each role.
	{op: "Mutation.signOut", doc: `mutation { signOut { session { id } } }`,
		prepare: func(t *testing.T, e *matrixEnv, p *persona) request {
			if p.anonymous() {
				return request{}
			}
			return request{token: e.freshSession(t, p).token}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Mutation.revokeSession", variant: "(own other session)", doc: `mutation ($id: ID!) { revokeSession(id: $id) { session { id } } }`,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string {
			if p.anonymous() {
				return e.bystander.session
			}
			return e.freshSession(t, p).session
		}),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Mutation.revokeSession", variant: "(another person's)", doc: `mutation ($id: ID!) { revokeSession(id: $id) { session { id } } }`,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string {
			if p.anonymous() {
				return e.bystander.session
			}
			return e.freshSession(t, e.bystander).session
		}),
		want: cells{unauth, absent, absent, absent, absent, yes, absent}},

	// Invitations: administrators and coordinators (of any working group).
	{op: "Mutation.invitePerson", doc: `mutation ($input: InvitePersonInput!) { invitePerson(input: $input) { email expiresAt } }`,
		prepare: func(_ *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("input", vars("email", e.newEmail("invited-by-"+p.slug())))}
		},
		want: cells{unauth, forbid, yes, forbid, forbid, yes, yes}},
	// Accepting an invitation needs its code, not a session: each role
	// accepts a fresh one, creating the person later rows reset and promote.
	{op: "Mutation.acceptInvitation", doc: `mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) ` + signInPayload + ` }`,
		prepare: func(t *testing.T, e *matrixEnv, p *persona) request {
			email := e.newEmail("accepted-by-" + p.slug())
			token := e.invite(t, email)
			n := &persona{email: email, password: "matrix password for " + email}
			e.accepted[p.role] = n
			return request{vars: vars("input", vars("token", token, "displayName", "Accepted by "+p.role, "password", n.password))}
		},
		want: cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Mutation.requestPasswordReset", doc: `mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { email expiresAt } }`,
		prepare: func(t *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("input", vars("email", e.acceptedBy(t, p).email))}
		},
		want: cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Mutation.resetPassword", doc: `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) ` + signInPayload + ` }`,
		prepare: func(t *testing.T, e *matrixEnv, p *persona) request {
			token := e.resetToken(t, e.acceptedBy(t, p).email)
			return request{vars: vars("input", vars("token", token, "password", "a new matrix password"))}
		},
		want: cells{yes, yes, yes, yes, yes, yes, yes}},
	{op: "Mutation.updateMe", doc: `mutation ($input: UpdateMeInput!) { updateMe(input: $input) { id language } }`,
		prepare: func(*testing.T, *matrixEnv, *persona) request {
			return request{vars: vars("input", vars("language", "EN"))}
		},
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Mutation.setGlobalRoles", doc: `mutation ($input: SetGlobalRolesInput!) { setGlobalRoles(input: $input) { id globalRoles } }`,
		prepare: func(t *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("input", vars("email", e.acceptedBy(t, p).email, "roles", []string{"POLICY_MAKER"}))}
		},
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},

	// The stakeholder network. Reading it needs a session; the people in it
	// follow the rules of Person above.
	{op: "Query.organizations", doc: `{ organizations(first: 5) { totalCount edges { node { id name } } } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.people", doc: `{ people(first: 5) { totalCount edges { node { id displayName } } } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.workingGroups", doc: `{ workingGroups(first: 5) { totalCount edges { node { id name memberCount } } } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.workingGroup", doc: `{ workingGroup(territory: "EN") { id name memberCount } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.practices", doc: `{ practices(first: 5) { totalCount edges { node { id name } } } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.municipalities", doc: `{ municipalities(first: 5) { totalCount edges { node { id name } } } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Organization)", doc: nodeOrganization, prepare: networkNode("Organization"),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Affiliation)", doc: nodeAffiliation, prepare: networkNode("Affiliation"),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(WorkingGroup)", doc: nodeWorkingGroup, prepare: networkNode("WorkingGroup"),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Membership)", doc: nodeMembership, prepare: networkNode("Membership"),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Practice)", doc: nodePractice, prepare: networkNode("Practice"),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Municipality)", doc: nodeMunicipality, prepare: networkNode("Municipality"),
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	// Personal data: one's own; anyone's for administrators.
	{op: "Query.personalData", variant: "(own)", doc: `{ personalData }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.personalData", variant: "(another person's)", doc: `query ($id: ID) { personalData(personId: $id) }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return e.groupmate }),
		want:    cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},

	// Organizations and the people who stand for them, in Enna: its
	// coordinator and administrators; in Palermo, whose group the personas
	// are not in, administrators only. Each cell changes objects of its own.
	{op: "Mutation.createOrganization", doc: `mutation ($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("name", e.name("Associazione", p), "kind", "ASSOCIATION", "level", "PROVINCIAL", "territories", []string{"EN"})
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.createOrganization", variant: "(in Palermo)", doc: `mutation ($in: CreateOrganizationInput!) { createOrganization(input: $in) { id } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("name", e.name("Associazione", p), "kind", "ASSOCIATION", "level", "PROVINCIAL", "territories", []string{"PA"})
		}),
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, yes}},
	{op: "Mutation.updateOrganization", doc: `mutation ($id: ID!) { updateOrganization(id: $id, input: {website: "example.org"}) { id website } }`,
		prepare: fresh("Organization"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.archiveOrganization", doc: `mutation ($id: ID!) { archiveOrganization(id: $id) { id archived } }`,
		prepare: fresh("Organization"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	// A person: anyone who coordinates a group adds one; the coordinators
	// of the person's groups (any coordinator for a person in none who has
	// no account) and administrators change them, administrators alone
	// those with a global role; only administrators erase.
	{op: "Mutation.createPerson", doc: `mutation ($in: CreatePersonInput!) { createPerson(input: $in) { id } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("displayName", e.name("Persona", p))
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, yes}},
	{op: "Mutation.updatePerson", variant: "(a member of the group)", doc: updatePerson,
		prepare: fresh("Person"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.updatePerson", variant: "(a person in no group)", doc: updatePerson,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string { return gid("Person", e.newPerson(t, p, false).ID) }),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, yes}},
	{op: "Mutation.archivePerson", doc: `mutation ($id: ID!) { archivePerson(id: $id) { id archived } }`,
		prepare: fresh("Person"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.erasePerson", doc: `mutation ($id: ID!) { erasePerson(id: $id) { id erased } }`,
		prepare: fresh("Person"),
		want:    cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},
	{op: "Mutation.addAffiliation", doc: `mutation ($in: AddAffiliationInput!) { addAffiliation(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("personId", gid("Person", e.newPerson(t, p, true).ID),
				"organizationId", gid("Organization", e.newOrganization(t, p).ID), "role", "DELEGATE")
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.updateAffiliation", doc: `mutation ($id: ID!) { updateAffiliation(id: $id, input: {title: "referente"}) { id title } }`,
		prepare: fresh("Affiliation"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.endAffiliation", doc: `mutation ($id: ID!) { endAffiliation(id: $id) { id current } }`,
		prepare: fresh("Affiliation"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},

	// Working groups: administrators create them (one per territory, so only
	// the administrator's cell takes Trapani's); the group's coordinators
	// and administrators run them.
	{op: "Mutation.createWorkingGroup", doc: `mutation { createWorkingGroup(input: {territory: "TP"}) { id } }`,
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},
	{op: "Mutation.updateWorkingGroup", doc: `mutation ($id: ID!, $d: String!) { updateWorkingGroup(id: $id, input: {description: $d}) { id description } }`,
		prepare: func(_ *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("id", e.nodes["WorkingGroup"], "d", "Described by "+p.role)}
		},
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	// Archiving the Enna group takes its members' roles away: each cell
	// restores it after its request. Administrators only (access
	// ArchiveWorkingGroup): a coordinator who archived their own group
	// would lose the role needed to restore it, so the coordinator's cell
	// is FORBIDDEN.
	{op: "Mutation.archiveWorkingGroup", doc: `mutation ($id: ID!) { archiveWorkingGroup(id: $id) { id archived } }`,
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{vars: vars("id", e.nodes["WorkingGroup"]), undo: e.restoreGroup}
		},
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},
	{op: "Mutation.addMember", doc: `mutation ($in: AddMemberInput!) { addMember(input: $in) { id role } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("workingGroupId", e.nodes["WorkingGroup"], "personId", gid("Person", e.newPerson(t, p, false).ID), "role", "MEMBER")
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.changeMemberRole", doc: `mutation ($id: ID!) { changeMemberRole(id: $id, role: OBSERVER) { id role } }`,
		prepare: fresh("Membership"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.removeMember", doc: `mutation ($id: ID!) { removeMember(id: $id) { id current } }`,
		prepare: fresh("Membership"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},

	// Practices: the territory's coordinators and administrators.
	{op: "Mutation.createPractice", doc: `mutation ($in: CreatePracticeInput!) { createPractice(input: $in) { id } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("name", e.name("Sportello", p), "territory", "EN", "funding", "FAMI")
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.createPractice", variant: "(in Palermo)", doc: `mutation ($in: CreatePracticeInput!) { createPractice(input: $in) { id } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("name", e.name("Sportello", p), "territory", "PA", "funding", "FAMI")
		}),
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, yes}},
	{op: "Mutation.updatePractice", doc: `mutation ($id: ID!) { updatePractice(id: $id, input: {openingHours: "Lun-Ven 9-13"}) { id openingHours } }`,
		prepare: fresh("Practice"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.archivePractice", doc: `mutation ($id: ID!) { archivePractice(id: $id) { id archived } }`,
		prepare: fresh("Practice"),
		want:    cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},

	// Municipalities are reference data: administrators only.
	{op: "Mutation.createMunicipality", doc: `mutation ($in: CreateMunicipalityInput!) { createMunicipality(input: $in) { id } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("territory", "EN", "name", e.name("Comune", p))
		}),
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},
	{op: "Mutation.updateMunicipality", doc: `mutation ($id: ID!, $name: String!) { updateMunicipality(id: $id, input: {name: $name}) { id name } }`,
		prepare: func(t *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("id", gid("Municipality", e.newMunicipality(t, p).ID), "name", e.name("Comune rinominato", p))}
		},
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},
	{op: "Mutation.archiveMunicipality", doc: `mutation ($id: ID!) { archiveMunicipality(id: $id) { id archived } }`,
		prepare: fresh("Municipality"),
		want:    cells{unauth, forbid, forbid, forbid, forbid, yes, forbid}},

	// Imports: administrators and coordinators, each row then checked as
	// if entered by hand (an organization in Enna, here: the outsider's
	// report refuses it). The cell is ok only when the report is.
	{op: "Mutation.importNetwork", doc: "(multipartImport's)",
		prepare: func(_ *testing.T, e *matrixEnv, p *persona) request {
			file := "nome,tipo,livello,territori\n" + e.name("Importata", p) + ",ASSOCIATION,PROVINCIAL,EN\n"
			return request{upload: []byte(file)}
		},
		want: cells{unauth, forbid, yes, forbid, forbid, yes, rowRefused}},

	// Subscriptions, over the websocket: for signed-in people.
	{op: "Subscription.serverStatus", doc: `subscription ($s: Int!) { serverStatus(intervalSeconds: $s) { version ready } }`,
		prepare: func(*testing.T, *matrixEnv, *persona) request { return request{vars: vars("s", 60)} },
		want:    cells{unauth, yes, yes, yes, yes, yes, yes}},
}, slices.Concat(documentRows, meetingRows, trackingRows)...)

// schemaOperations lists what the schema lets a client do: every root field
// of Query, Mutation and Subscription, with node once per type that
// implements Node.
func schemaOperations() map[string]bool {
	s := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	ops := map[string]bool{}
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") { // __schema, __type, __typename
				continue
			}
			if root == s.Query && f.Name == "node" {
				for _, typ := range s.GetPossibleTypes(s.Types["Node"]) {
					ops["Query.node("+typ.Name+")"] = true
				}
				continue
			}
			ops[root.Name+"."+f.Name] = true
		}
	}
	return ops
}

// persona is one person of the matrix: a role, the account behind it and
// the session its requests carry. The anonymous persona has none of them.
type persona struct {
	role            string
	email, password string
	gid             string // the person's global id
	token           string
	session         string // the global id of token's session
}

func (p *persona) anonymous() bool { return p.token == "" }

func (p *persona) slug() string { return strings.ReplaceAll(p.role, " ", "-") }

// matrixEnv is one engine's server and people.
type matrixEnv struct {
	srv      *testServer
	db       *bun.DB
	accounts *account.Service
	net      *network.Service
	// admin is the context of the administrator's direct calls to the
	// services, which make the objects the rows act on.
	admin   context.Context
	group   int64 // the Enna working group, whose members the personas are
	palermo int64 // the Palermo working group, the outsider's
	docs    *coedit.Service
	doc     *matrixDoc      // the document of Enna the document rows act on
	mt      *matrixMeetings // the focus groups and meetings the meeting rows act on
	// nodes are the global ids of objects of the network by type, for the
	// rows that read them: all in Enna.
	nodes     map[string]string
	groupmate string // a member of the Enna group without an account

	people     [7]*persona // in matrixRoles order
	bystander  *persona    // another person, with no role anywhere
	accepted   map[string]*persona
	territory  string // the global ids rows read
	theme      string
	auditEvent string
	seq        int
}

// name is a fresh name for an object made for p's cell.
func (e *matrixEnv) name(prefix string, p *persona) string {
	e.seq++
	return fmt.Sprintf("%s %d per %s", prefix, e.seq, p.slug())
}

// newOrganization makes an organization working in Enna.
func (e *matrixEnv) newOrganization(t *testing.T, p *persona) *network.Organization {
	t.Helper()
	o, err := e.net.CreateOrganization(e.admin, network.OrganizationInput{Name: e.name("Associazione", p),
		Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{"EN"}})
	if err != nil {
		t.Fatalf("organization: %v", err)
	}
	return o
}

// newPerson makes a person without an account, with an email and a phone,
// and makes them a member of the Enna group when inGroup.
func (e *matrixEnv) newPerson(t *testing.T, p *persona, inGroup bool) *network.Person {
	t.Helper()
	email, phone := e.newEmail("person-for-"+p.slug()), "+39 0935 000111"
	n, err := e.net.CreatePerson(e.admin, network.PersonInput{DisplayName: e.name("Persona", p), Email: &email, Phone: &phone})
	if err != nil {
		t.Fatalf("person: %v", err)
	}
	if inGroup {
		e.addMember(t, n.ID, access.Member)
	}
	return n
}

func (e *matrixEnv) addMember(t *testing.T, personID int64, role access.TerritoryRole) *network.Membership {
	t.Helper()
	m, err := e.net.AddMember(e.admin, network.MemberInput{WorkingGroupID: e.group, PersonID: personID, Role: role})
	if err != nil {
		t.Fatalf("member %d as %s: %v", personID, role, err)
	}
	return m
}

// newMembership makes a fresh person a member of the Enna group.
func (e *matrixEnv) newMembership(t *testing.T, p *persona) *network.Membership {
	t.Helper()
	return e.addMember(t, e.newPerson(t, p, false).ID, access.Member)
}

// newAffiliation ties a fresh member of the Enna group to a fresh
// organization of Enna.
func (e *matrixEnv) newAffiliation(t *testing.T, p *persona) *network.Affiliation {
	t.Helper()
	a, err := e.net.AddAffiliation(e.admin, network.AffiliationInput{PersonID: e.newPerson(t, p, true).ID,
		OrganizationID: e.newOrganization(t, p).ID, Role: network.Staff})
	if err != nil {
		t.Fatalf("affiliation: %v", err)
	}
	return a
}

// newPractice makes a practice in Enna.
func (e *matrixEnv) newPractice(t *testing.T, p *persona) *network.Practice {
	t.Helper()
	pr, err := e.net.CreatePractice(e.admin, network.PracticeInput{Name: e.name("Sportello", p), Territory: "EN", Funding: network.FundingFAMI})
	if err != nil {
		t.Fatalf("practice: %v", err)
	}
	return pr
}

// newMunicipality makes a municipality of Enna.
func (e *matrixEnv) newMunicipality(t *testing.T, p *persona) *network.Municipality {
	t.Helper()
	m, err := e.net.CreateMunicipality(e.admin, network.MunicipalityInput{Territory: "EN", Name: e.name("Comune", p)})
	if err != nil {
		t.Fatalf("municipality: %v", err)
	}
	return m
}

// fresh makes an object of type typ in Enna for p's cell, and returns its
// global id: a Person is a member of the Enna group, a Membership a fresh
// person's, an Affiliation ties a fresh member to a fresh organization.
func (e *matrixEnv) fresh(t *testing.T, typ string, p *persona) string {
	t.Helper()
	var id int64
	switch typ {
	case "Organization":
		id = e.newOrganization(t, p).ID
	case "Person":
		id = e.newPerson(t, p, true).ID
	case "Affiliation":
		id = e.newAffiliation(t, p).ID
	case "Membership":
		id = e.newMembership(t, p).ID
	case "Practice":
		id = e.newPractice(t, p).ID
	case "Municipality":
		id = e.newMunicipality(t, p).ID
	default:
		t.Fatalf("no fresh %s", typ)
	}
	return gid(typ, id)
}

// restoreGroup brings the Enna group back from the archive, and with it
// the personas' territory roles.
func (e *matrixEnv) restoreGroup(t *testing.T) {
	t.Helper()
	if _, err := e.net.ArchiveWorkingGroup(e.admin, e.group, false); err != nil {
		t.Fatalf("restore the Enna group: %v", err)
	}
}

// client is the context of the test's direct calls to the service.
var client = access.Client{Addr: "127.0.0.1", UserAgent: "authorization matrix"}

func (e *matrixEnv) newEmail(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s-%d@pia.test", prefix, e.seq)
}

// post sends doc over HTTP, with Authorization: Bearer token unless token
// is empty.
func (e *matrixEnv) post(t *testing.T, token, doc string, vars map[string]any) httpResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", mediaJSON)
	req.Header.Set("Accept", mediaGraphQLResponse)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

// must is post for the setup: it fails on any error and decodes data into out.
func (e *matrixEnv) must(t *testing.T, token, doc string, vars map[string]any, out any) {
	t.Helper()
	r := e.post(t, token, doc, vars)
	if r.Status != http.StatusOK || len(r.Resp.Errors) > 0 {
		t.Fatalf("%s: status %d, body %s", doc, r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Resp.Data, out); err != nil {
		t.Fatalf("data %s: %v", r.Resp.Data, err)
	}
}

var mailToken = regexp.MustCompile(`(?:invitation|password-reset)#([A-Za-z0-9_-]{43})`)

// mailedToken is the token of the last mail to email in the outbox.
func (e *matrixEnv) mailedToken(t *testing.T, email string) string {
	t.Helper()
	var body string
	err := e.db.NewSelect().Table("mail_outbox").Column("body").Where("to_addr = ?", email).
		Order("id DESC").Limit(1).Scan(context.Background(), &body)
	if err != nil {
		t.Fatalf("the mail to %s: %v", email, err)
	}
	m := mailToken.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link with a token in the mail to %s:\n%s", email, body)
	}
	return m[1]
}

// invite has the administrator invite email through the API and returns
// the invitation's code.
func (e *matrixEnv) invite(t *testing.T, email string) string {
	t.Helper()
	var out any
	e.must(t, e.people[5].token, `mutation ($input: InvitePersonInput!) { invitePerson(input: $input) { email } }`,
		vars("input", vars("email", email)), &out)
	return e.mailedToken(t, email)
}

// resetToken asks the service for a password reset of email and returns
// the code it mailed.
func (e *matrixEnv) resetToken(t *testing.T, email string) string {
	t.Helper()
	if _, err := e.accounts.RequestPasswordReset(access.WithClient(context.Background(), client), email); err != nil {
		t.Fatalf("reset %s: %v", email, err)
	}
	return e.mailedToken(t, email)
}

// freshSession signs p in once more through the service.
func (e *matrixEnv) freshSession(t *testing.T, p *persona) *persona {
	t.Helper()
	in, err := e.accounts.SignIn(access.WithClient(context.Background(), client), p.email, p.password)
	if err != nil {
		t.Fatalf("sign in %s: %v", p.email, err)
	}
	return &persona{role: p.role, email: p.email, password: p.password, gid: p.gid,
		token: in.Token, session: relay.ID("Session", in.Session.ID)}
}

func (e *matrixEnv) acceptedBy(t *testing.T, p *persona) *persona {
	t.Helper()
	n := e.accepted[p.role]
	if n == nil {
		t.Fatalf("no person accepted an invitation as %s: the acceptInvitation row must run first", p.role)
	}
	return n
}

// signIn signs p in through the API and fills its token and ids.
func (e *matrixEnv) signIn(t *testing.T, p *persona) {
	t.Helper()
	var data struct {
		SignIn struct {
			Token   string
			Session struct{ ID string }
			Person  struct{ ID string }
		}
	}
	e.must(t, "", `mutation ($input: SignInInput!) { signIn(input: $input) { token session { id } person { id } } }`,
		vars("input", vars("email", p.email, "password", p.password)), &data)
	p.token, p.session, p.gid = data.SignIn.Token, data.SignIn.Session.ID, data.SignIn.Person.ID
}

// join creates a person through the API: the administrator invites them,
// they accept, and they sign in.
func (e *matrixEnv) join(t *testing.T, role, name string) *persona {
	t.Helper()
	p := &persona{role: role, email: e.newEmail(strings.ReplaceAll(role, " ", "-")), password: "the password of " + name}
	token := e.invite(t, p.email)
	var out any
	e.must(t, "", `mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { person { id } } }`,
		vars("input", vars("token", token, "displayName", name, "password", p.password)), &out)
	e.signIn(t, p)
	return p
}

func personID(t *testing.T, gid string) int64 {
	t.Helper()
	id, err := relay.ParseAs("Person", gid)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newMatrixEnv serves the API on db as cmd/piad does, the territory roles
// coming from the network's working groups, and creates the people of the
// matrix: the member, coordinator and observer are members of the Enna
// working group with those roles, so the roles the matrix tests are the
// ones production computes.
func newMatrixEnv(t *testing.T, db *bun.DB) *matrixEnv {
	t.Helper()
	// Presence lasts the whole run, so that no entry expires between the
	// two readings of a refused cell (see matrixRow.unchanged).
	r := newResolver(t, db, func(o *coedit.Options) { o.PresenceTTL = time.Hour })
	e := &matrixEnv{srv: serveResolver(t, r, defaultOptions()), db: db, accounts: r.Accounts, net: r.Network, docs: r.Coedit,
		accepted: map[string]*persona{}, nodes: map[string]string{}}

	// The administrator: EnsureAdmin and SignIn, as adminToken does.
	admin := &persona{role: "admin", email: adminEmail, password: adminPassword, token: e.srv.adminToken(t)}
	var me struct {
		Me struct {
			ID       string
			Sessions []struct {
				ID      string
				Current bool
			}
		}
	}
	e.must(t, admin.token, `{ me { id sessions { id current } } }`, nil, &me)
	admin.gid = me.Me.ID
	for _, s := range me.Me.Sessions {
		if s.Current {
			admin.session = s.ID
		}
	}
	actor, _, err := e.accounts.Authenticate(context.Background(), admin.token)
	if err != nil {
		t.Fatal(err)
	}
	e.admin = access.WithActor(access.WithClient(context.Background(), client), actor)
	e.people = [7]*persona{{role: "anonymous"}, nil, nil, nil, nil, admin, nil}

	e.people[1] = e.join(t, "member", "Maria Member")
	e.people[2] = e.join(t, "coordinator", "Carlo Coordinator")
	e.people[3] = e.join(t, "observer", "Olga Observer")
	e.people[4] = e.join(t, "policy maker", "Paolo Policy")
	e.people[6] = e.join(t, "outsider", "Pietro Palermo")
	e.bystander = e.join(t, "bystander", "Bianca Bystander")
	var pm any
	e.must(t, admin.token, `mutation ($input: SetGlobalRolesInput!) { setGlobalRoles(input: $input) { id } }`,
		vars("input", vars("email", e.people[4].email, "roles", []string{"POLICY_MAKER"})), &pm)

	var ref struct {
		Territory struct{ ID string }
		Themes    []struct{ ID string }
	}
	e.must(t, "", `{ territory(code: "EN") { id } themes { id } }`, nil, &ref)
	e.territory, e.theme = ref.Territory.ID, ref.Themes[0].ID
	e.network(t)
	e.documents(t)
	e.meetings(t, r.Meetings)

	var audit struct {
		AuditEvents struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	e.must(t, admin.token, `{ auditEvents(first: 1) { edges { node { id } } } }`, nil, &audit)
	if len(audit.AuditEvents.Edges) != 1 {
		t.Fatal("no audit event")
	}
	e.auditEvent = audit.AuditEvents.Edges[0].Node.ID
	return e
}

// network builds the Enna working group with the personas' territory roles
// (the bystander stays in no group), gives everyone a phone, and makes one
// object of each type of the network for the rows that read them.
func (e *matrixEnv) network(t *testing.T) {
	t.Helper()
	g, err := e.net.CreateWorkingGroup(e.admin, network.WorkingGroupInput{Territory: "EN"})
	if err != nil {
		t.Fatal(err)
	}
	e.group, e.nodes["WorkingGroup"] = g.ID, gid("WorkingGroup", g.ID)
	for i, role := range []access.TerritoryRole{access.Member, access.Coordinator, access.Observer} {
		e.addMember(t, personID(t, e.people[1+i].gid), role) // matrixRoles[1:4]
	}
	pa, err := e.net.CreateWorkingGroup(e.admin, network.WorkingGroupInput{Territory: "PA"})
	if err != nil {
		t.Fatal(err)
	}
	e.palermo = pa.ID
	if _, err := e.net.AddMember(e.admin, network.MemberInput{WorkingGroupID: pa.ID, PersonID: personID(t, e.people[6].gid),
		Role: access.Coordinator}); err != nil {
		t.Fatalf("the outsider in Palermo: %v", err)
	}
	for i, p := range append(e.people[1:], e.bystander) {
		phone := fmt.Sprintf("+39 0935 10000%d", i)
		if _, err := e.net.UpdatePerson(e.admin, personID(t, p.gid), network.PersonPatch{Phone: &phone}); err != nil {
			t.Fatalf("phone of %s: %v", p.role, err)
		}
	}

	setup := &persona{role: "setup"}
	mate := e.newPerson(t, setup, true)
	e.groupmate = gid("Person", mate.ID)
	org := e.newOrganization(t, setup)
	aff, err := e.net.AddAffiliation(e.admin, network.AffiliationInput{PersonID: mate.ID, OrganizationID: org.ID, Role: network.Delegate})
	if err != nil {
		t.Fatal(err)
	}
	e.nodes["Organization"], e.nodes["Affiliation"] = gid("Organization", org.ID), gid("Affiliation", aff.ID)
	e.nodes["Membership"] = gid("Membership", e.newMembership(t, setup).ID)
	e.nodes["Practice"] = gid("Practice", e.newPractice(t, setup).ID)
	e.nodes["Municipality"] = gid("Municipality", e.newMunicipality(t, setup).ID)
}

// outcome reads a cell from a response: the codes of its errors, or
// whether the root field (and the row's private field) came back.
func outcome(data json.RawMessage, errs []gqlError, root, field string) string {
	if len(errs) > 0 {
		var codes []string
		for _, e := range errs {
			if !slices.Contains(codes, e.code()) {
				codes = append(codes, e.code())
			}
		}
		return strings.Join(codes, "+")
	}
	isNull := func(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }
	var top map[string]json.RawMessage
	if isNull(data) || json.Unmarshal(data, &top) != nil {
		return "no data"
	}
	if isNull(top[root]) {
		return null
	}
	if field == "" {
		return yes
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(top[root], &obj); err != nil || isNull(obj[field]) || string(obj[field]) == "[]" {
		return hidden
	}
	return yes
}

// run runs row as p and returns the outcome and what the server answered.
// When the row reads what its refusals must leave as it is, a cell that
// did not succeed and changed it anyway is "<outcome>, but wrote", and
// its answer starts with what changed.
func (e *matrixEnv) run(t *testing.T, row matrixRow, p *persona) (got, answer string) {
	t.Helper()
	var req request
	if row.prepare != nil {
		req = row.prepare(t, e, p)
	}
	if row.unchanged == nil {
		return e.send(t, row, p, req)
	}
	before := row.unchanged(t, e)
	got, answer = e.send(t, row, p, req)
	if got != yes {
		if diff := stateDiff(before, row.unchanged(t, e)); diff != "" {
			got, answer = got+", but wrote", "changed: "+diff+"; answer: "+answer
		}
	}
	return got, answer
}

// send makes row's request as p, with what prepare gave, and returns the
// outcome and what the server answered.
func (e *matrixEnv) send(t *testing.T, row matrixRow, p *persona, req request) (got, answer string) {
	t.Helper()
	token := p.token
	if req.token != "" {
		token = req.token
	}
	if p.anonymous() {
		token = "" // anonymous requests carry no Authorization header
	}
	if req.undo != nil {
		defer req.undo(t)
	}
	if strings.HasPrefix(row.op, "Subscription.") {
		return e.subscribe(t, token, row, req)
	}
	if req.upload != nil {
		r := multipartImport(t, e.srv, token, "ORGANIZATIONS", "matrix.csv", req.upload, false)
		return importOutcome(r), string(r.Body)
	}
	if req.get != "" {
		return e.getRoute(t, token, req.get, req.getHolds)
	}
	r := e.post(t, token, row.doc, req.vars)
	return outcome(r.Resp.Data, r.Resp.Errors, row.root(), row.field), string(r.Body)
}

// importOutcome is outcome for importNetwork, whose report must also say
// that the file was written: a report listing problems is no success.
func importOutcome(r httpResult) string {
	got := outcome(r.Resp.Data, r.Resp.Errors, "importNetwork", "")
	if got != yes {
		return got
	}
	var rep importReport
	if err := json.Unmarshal(r.Resp.Data, &rep); err != nil || !rep.ImportNetwork.Ok || rep.ImportNetwork.Created != 1 {
		return "report not ok"
	}
	return yes
}

// subscribe starts row over a graphql-transport-ws websocket whose
// connection_init carries token as authToken (nothing when it is empty),
// and reads the first answer (running req's trigger until it comes, when
// there is one).
func (e *matrixEnv) subscribe(t *testing.T, token string, row matrixRow, req request) (got, answer string) {
	t.Helper()
	c := dialWS(t, e.srv, transportWS, nil)
	defer c.conn.Close()
	c.token = token
	c.init()
	payload, err := json.Marshal(map[string]any{"query": row.doc, "variables": req.vars})
	if err != nil {
		t.Fatal(err)
	}
	c.send(wsMessage{Type: "subscribe", ID: "1", Payload: payload})
	var m wsMessage
	if req.trigger != nil {
		m = c.readDuring(t, req.trigger)
	} else {
		m = c.read()
	}
	var r gqlResponse
	switch m.Type {
	case "next":
		err = json.Unmarshal(m.Payload, &r)
	case "error":
		err = json.Unmarshal(m.Payload, &r.Errors)
	default:
		return "message " + m.Type, string(c.raw)
	}
	if err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	checkErrors(t, r.Errors)
	return outcome(r.Data, r.Errors, row.root(), row.field), string(c.raw)
}

// TestAuthorizationMatrix runs every operation of the schema as each role,
// over HTTP (and the websocket for subscriptions), on both engines, and
// checks each outcome against the rules of package access. It fails when
// the schema has an operation without a row.
func TestAuthorizationMatrix(t *testing.T) {
	t.Run("every operation has a row", func(t *testing.T) {
		ops := schemaOperations()
		covered := map[string]bool{}
		for _, row := range matrixRows {
			covered[row.op] = true
			if !ops[row.op] && !isRoute(row) {
				t.Errorf("the matrix has a row for %s, which the schema no longer has", row.name())
			}
		}
		for _, op := range slices.Sorted(maps.Keys(ops)) {
			if !covered[op] {
				t.Errorf("%s has no row in the authorization matrix (graph/access_test.go): say who may do it", op)
			}
		}
	})
	t.Run("every document mutation checks that its refusals change nothing", func(t *testing.T) {
		for _, row := range documentRows {
			if strings.HasPrefix(row.op, "Mutation.") && row.unchanged == nil {
				t.Errorf("%s does not read the documents before and after its refused cells: give it unchanged: docState", row.name())
			}
		}
	})
	t.Run("every meeting mutation checks that its refusals change nothing", func(t *testing.T) {
		for _, row := range meetingRows {
			if strings.HasPrefix(row.op, "Mutation.") && row.unchanged == nil {
				t.Errorf("%s does not read the meetings before and after its refused cells: give it unchanged: meetingState", row.name())
			}
		}
	})

	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		start := time.Now()
		e := newMatrixEnv(t, db)
		setup := time.Since(start)
		got := make([]cells, len(matrixRows))
		var wrong []string
		for i, row := range matrixRows {
			for j, p := range e.people {
				var answer string
				got[i][j], answer = e.run(t, row, p)
				if got[i][j] != row.want[j] {
					wrong = append(wrong, fmt.Sprintf("%s as %s: want %s, got %s: %.400s",
						row.name(), matrixRoles[j], row.want[j], got[i][j], answer))
				}
			}
		}
		t.Logf("%d rows × %d roles in %v (setup %v)", len(matrixRows), len(matrixRoles), time.Since(start).Round(time.Millisecond), setup.Round(time.Millisecond))
		if len(wrong) > 0 {
			t.Errorf("%d cells of the authorization matrix are wrong (a wrong cell reads *want/got):\n%s\n%s",
				len(wrong), matrixTable(got), strings.Join(wrong, "\n"))
		}
	})
}

// matrixTable prints the matrix, operations down and roles across.
func matrixTable(got []cells) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "operation\t%s\t\n", strings.Join(matrixRoles[:], "\t"))
	for i, row := range matrixRows {
		fmt.Fprintf(w, "%s", row.name())
		for j := range matrixRoles {
			cell := row.want[j]
			if got[i][j] != row.want[j] {
				cell = "*" + row.want[j] + "/" + got[i][j]
			}
			fmt.Fprintf(w, "\t%s", cell)
		}
		fmt.Fprintln(w, "\t")
	}
	_ = w.Flush()
	return b.String()
}
