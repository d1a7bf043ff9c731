package access_test

import (
	"context"
	"testing"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
)

// The people of the matrix. Territory 1 is the one their working-group roles
// are in; person 99 is somebody else.
var (
	anonymous   = access.Anonymous
	member      = &access.Actor{PersonID: 2, SessionID: 12, Territories: map[int64]access.TerritoryRole{1: access.Member}}
	coordinator = &access.Actor{PersonID: 3, SessionID: 13, Territories: map[int64]access.TerritoryRole{1: access.Coordinator}}
	observer    = &access.Actor{PersonID: 4, SessionID: 14, Territories: map[int64]access.TerritoryRole{1: access.Observer}}
	policyMaker = &access.Actor{PersonID: 5, SessionID: 15, GlobalRoles: []access.GlobalRole{access.PolicyMaker}}
	admin       = &access.Actor{PersonID: 6, SessionID: 16, GlobalRoles: []access.GlobalRole{access.Admin}}
)

var actors = []struct {
	name  string
	actor *access.Actor
}{
	{"anonymous", anonymous},
	{"member", member},
	{"coordinator", coordinator},
	{"observer", observer},
	{"policy maker", policyMaker},
	{"admin", admin},
}

// Outcomes, short so that a row of the matrix fits on a line.
const (
	ok    apperr.Kind = ""
	unaut apperr.Kind = apperr.Unauthenticated
	forbd apperr.Kind = apperr.Forbidden
)

// outcomes is one row: what anonymous, member, coordinator, observer, policy
// maker and admin get, in that order.
type outcomes [6]apperr.Kind

// matrix says what each actor gets for each action on somebody else's object
// in territory 1 (others) and on their own (own). The object spans territory
// 1 too: an organization working there, a person in its working group.
// Archiving a working group is for administrators only: it takes its
// coordinators' role, so they could not restore it.
var matrix = map[access.Action]struct{ others, own outcomes }{
	access.ReadReference:        {outcomes{ok, ok, ok, ok, ok, ok}, outcomes{ok, ok, ok, ok, ok, ok}},
	access.ReadServerStatus:     {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ReadPerson:           {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ReadPersonContact:    {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.UpdateOwnProfile:     {outcomes{unaut, forbd, forbd, forbd, forbd, forbd}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ReadSessions:         {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.RevokeSession:        {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.InvitePerson:         {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.ManageGlobalRoles:    {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.ReadAudit:            {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.LinkExternalIdentity: {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.ReadNetwork:          {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.CreatePerson:         {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.UpdatePerson:         {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.EnrolPerson:          {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.ErasePerson:          {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.ExportPersonalData:   {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ManageOrganization:   {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.ManageWorkingGroup:   {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.CreateWorkingGroup:   {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.ArchiveWorkingGroup:  {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.ManagePractice:       {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.ManageMunicipality:   {outcomes{unaut, forbd, forbd, forbd, forbd, ok}, outcomes{unaut, forbd, forbd, forbd, forbd, ok}},
	access.ImportNetwork:        {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	// Guideline documents: the working group reads in any role, policy
	// makers read; members edit; observers comment; coordinators review and
	// create. Who owns the object does not matter.
	access.ReadDocument:    {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.EditDocument:    {outcomes{unaut, ok, ok, forbd, forbd, ok}, outcomes{unaut, ok, ok, forbd, forbd, ok}},
	access.CommentDocument: {outcomes{unaut, ok, ok, ok, forbd, ok}, outcomes{unaut, ok, ok, ok, forbd, ok}},
	access.ReviewDocument:  {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.CreateDocument:  {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	// Meetings: the group reads and answers its own invitations;
	// coordinators manage and may answer for others; policy makers read.
	access.ReadMeeting:        {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ReadRegister:       {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ManageMeeting:      {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, forbd, ok, forbd, forbd, ok}},
	access.AnswerInvitation:   {outcomes{unaut, forbd, ok, forbd, forbd, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
	access.ReadPublicCalendar: {outcomes{ok, ok, ok, ok, ok, ok}, outcomes{ok, ok, ok, ok, ok, ok}},
	access.ManageCalendarFeed: {outcomes{unaut, forbd, forbd, forbd, forbd, forbd}, outcomes{unaut, ok, ok, ok, ok, ok}},

	// Tracking: aggregates for policy makers, administrators and every
	// working group.
	access.ReadTracking: {outcomes{unaut, ok, ok, ok, ok, ok}, outcomes{unaut, ok, ok, ok, ok, ok}},
}

func kindOf(err error) apperr.Kind {
	if err == nil {
		return ok
	}
	return apperr.KindOf(err)
}

// TestAuthorizeMatrix fails when an action gets a rule without a row here,
// so that nobody adds an operation without saying who may take it.
func TestAuthorizeMatrix(t *testing.T) {
	listed := map[access.Action]bool{}
	for _, action := range access.Actions() {
		listed[action] = true
		row, found := matrix[action]
		if !found {
			t.Errorf("action %q has a rule but no row in the matrix", action)
			continue
		}
		for i, a := range actors {
			others := access.Resource{OwnerID: 99, TerritoryID: 1, Territories: []int64{1}}
			if got := kindOf(access.Authorize(a.actor, action, others)); got != row.others[i] {
				t.Errorf("%s, %s on somebody else's: %q, want %q", action, a.name, got, row.others[i])
			}
			own := access.Resource{OwnerID: a.actor.PersonID, TerritoryID: 1, Territories: []int64{1}}
			if got := kindOf(access.Authorize(a.actor, action, own)); got != row.own[i] {
				t.Errorf("%s, %s on their own: %q, want %q", action, a.name, got, row.own[i])
			}
			// Check and Allowed give the same answer for the actor in ctx.
			ctx := access.WithActor(context.Background(), a.actor)
			if got := kindOf(access.Check(ctx, action, others)); got != row.others[i] {
				t.Errorf("Check %s, %s: %q, want %q", action, a.name, got, row.others[i])
			}
			if got := access.Allowed(a.actor, action, others); got != (row.others[i] == ok) {
				t.Errorf("Allowed %s, %s: %v", action, a.name, got)
			}
		}
	}
	for action := range matrix {
		if !listed[action] {
			t.Errorf("the matrix has a row for %q, which has no rule", action)
		}
	}
}

// TestTerritoryRolesStayInTheirTerritory: a role in territory 1 says nothing
// about territory 2, except that an entry tied to no territory is open to
// every coordinator.
func TestTerritoryRolesStayInTheirTerritory(t *testing.T) {
	elsewhere := access.Resource{OwnerID: 99, TerritoryID: 2, Territories: []int64{2}}
	for _, action := range []access.Action{access.ManageOrganization, access.UpdatePerson, access.EnrolPerson, access.ManageWorkingGroup, access.ManagePractice, access.ReadPersonContact} {
		if err := access.Authorize(coordinator, action, elsewhere); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("coordinator of 1, %s in territory 2: %v, want FORBIDDEN", action, err)
		}
	}
	if err := access.Authorize(member, access.ReadPerson, elsewhere); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("member of 1 reading a person of group 2 only: %v, want FORBIDDEN", err)
	}
	// A person in two groups is visible to the members of either.
	both := access.Resource{OwnerID: 99, Territories: []int64{2, 1}}
	if err := access.Authorize(member, access.ReadPerson, both); err != nil {
		t.Errorf("member of 1 reading a person of groups 2 and 1: %v", err)
	}
	nowhere := access.Resource{OwnerID: 99}
	for _, action := range []access.Action{access.ManageOrganization, access.UpdatePerson, access.EnrolPerson} {
		if err := access.Authorize(coordinator, action, nowhere); err != nil {
			t.Errorf("coordinator, %s on an entry tied to no territory: %v", action, err)
		}
		if err := access.Authorize(member, action, nowhere); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("member, %s on an entry tied to no territory: %v, want FORBIDDEN", action, err)
		}
	}
	if err := access.Authorize(coordinator, access.ReadPersonContact, nowhere); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("coordinator reading the contacts of a person in no group: %v, want FORBIDDEN", err)
	}
}

// TestDocumentsStayInTheirTerritory: a role in territory 1 gives nothing on
// the documents of territory 2, nor on a resource naming no territory;
// administrators and (for reading) policy makers hold everywhere.
func TestDocumentsStayInTheirTerritory(t *testing.T) {
	docActions := []access.Action{access.ReadDocument, access.EditDocument, access.CommentDocument, access.ReviewDocument, access.CreateDocument}
	for _, r := range []access.Resource{{TerritoryID: 2}, {}} {
		for _, action := range docActions {
			for _, a := range []*access.Actor{member, coordinator, observer} {
				if err := access.Authorize(a, action, r); !apperr.Is(err, apperr.Forbidden) {
					t.Errorf("%+v, %s on a document of territory %d: %v, want FORBIDDEN", a.Territories, action, r.TerritoryID, err)
				}
			}
			if err := access.Authorize(admin, action, r); err != nil {
				t.Errorf("admin, %s on a document of territory %d: %v", action, r.TerritoryID, err)
			}
			want := apperr.Forbidden
			if action == access.ReadDocument {
				want = ""
			}
			if got := kindOf(access.Authorize(policyMaker, action, r)); got != want {
				t.Errorf("policy maker, %s on a document of territory %d: %q, want %q", action, r.TerritoryID, got, want)
			}
		}
	}
}

// TestPrivilegedPeopleAndAccounts: a coordinator edits or enrols no
// administrator or policy maker, even one in their own group, and edits no
// account holder outside their groups; they may still enrol an account
// holder in no group (how an invited person joins a group).
func TestPrivilegedPeopleAndAccounts(t *testing.T) {
	cases := []struct {
		name          string
		r             access.Resource
		update, enrol apperr.Kind
	}{
		{"a privileged person in no group", access.Resource{OwnerID: 99, Privileged: true}, forbd, forbd},
		{"a privileged person in the coordinator's group", access.Resource{OwnerID: 99, Privileged: true, Territories: []int64{1}}, forbd, forbd},
		{"a privileged account holder in no group", access.Resource{OwnerID: 99, Privileged: true, HasAccount: true}, forbd, forbd},
		{"an account holder in no group", access.Resource{OwnerID: 99, HasAccount: true}, forbd, ok},
		{"an account holder in the coordinator's group", access.Resource{OwnerID: 99, HasAccount: true, Territories: []int64{1}}, ok, ok},
		{"an account holder in another group", access.Resource{OwnerID: 99, HasAccount: true, Territories: []int64{2}}, forbd, forbd},
		{"a person without account in no group", access.Resource{OwnerID: 99}, ok, ok},
	}
	for _, c := range cases {
		if got := kindOf(access.Authorize(coordinator, access.UpdatePerson, c.r)); got != c.update {
			t.Errorf("coordinator updates %s: %q, want %q", c.name, got, c.update)
		}
		if got := kindOf(access.Authorize(coordinator, access.EnrolPerson, c.r)); got != c.enrol {
			t.Errorf("coordinator enrols %s: %q, want %q", c.name, got, c.enrol)
		}
		for _, action := range []access.Action{access.UpdatePerson, access.EnrolPerson} {
			if err := access.Authorize(admin, action, c.r); err != nil {
				t.Errorf("admin, %s on %s: %v", action, c.name, err)
			}
			for _, a := range []*access.Actor{member, observer, policyMaker} {
				if err := access.Authorize(a, action, c.r); !apperr.Is(err, apperr.Forbidden) {
					t.Errorf("%+v, %s on %s: %v, want FORBIDDEN", a, action, c.name, err)
				}
			}
		}
	}
}

func TestDefaultDeny(t *testing.T) {
	for _, a := range actors {
		err := access.Authorize(a.actor, access.Action("person.delete"), access.Resource{OwnerID: a.actor.PersonID})
		if !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("%s on an action without a rule: %v, want FORBIDDEN", a.name, err)
		}
	}
}

func TestNilAndRolesWithoutSessionAreAnonymous(t *testing.T) {
	if err := access.Authorize(nil, access.ReadAudit, access.Resource{}); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("nil actor: %v, want UNAUTHENTICATED", err)
	}
	if err := access.Authorize(nil, access.ReadReference, access.Resource{}); err != nil {
		t.Errorf("nil actor reading reference data: %v", err)
	}
	// Roles do not count without a person behind them.
	ghost := &access.Actor{GlobalRoles: []access.GlobalRole{access.Admin}, Territories: map[int64]access.TerritoryRole{1: access.Coordinator}}
	if err := access.Authorize(ghost, access.ReadAudit, access.Resource{}); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("admin role without a person: %v, want UNAUTHENTICATED", err)
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if a := access.ActorFrom(ctx); a.SignedIn() || a.PersonID != 0 || len(a.GlobalRoles) != 0 {
		t.Errorf("ActorFrom(empty ctx) = %+v, want anonymous", a)
	}
	if a := access.ActorFrom(access.WithActor(ctx, nil)); a.SignedIn() {
		t.Errorf("ActorFrom(WithActor(nil)) = %+v, want anonymous", a)
	}
	if got := access.ActorFrom(access.WithActor(ctx, admin)); got != admin {
		t.Errorf("ActorFrom = %+v, want the admin", got)
	}
	if c := access.ClientFrom(ctx); c != (access.Client{}) {
		t.Errorf("ClientFrom(empty ctx) = %+v, want zero", c)
	}
	want := access.Client{Addr: "192.0.2.1", UserAgent: "test"}
	if c := access.ClientFrom(access.WithClient(ctx, want)); c != want {
		t.Errorf("ClientFrom = %+v, want %+v", c, want)
	}
	if err := access.Check(ctx, access.ReadSessions, access.Resource{OwnerID: 1}); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("Check with an empty ctx: %v, want UNAUTHENTICATED", err)
	}
}

func TestActorHelpers(t *testing.T) {
	if !coordinator.CoordinatesAny() || member.CoordinatesAny() || admin.CoordinatesAny() {
		t.Error("CoordinatesAny wrong")
	}
	if member.RoleIn(1) != access.Member || member.RoleIn(2) != "" || (*access.Actor)(nil).RoleIn(1) != "" {
		t.Error("RoleIn wrong")
	}
	if !admin.Has(access.Admin) || admin.Has(access.PolicyMaker) || (*access.Actor)(nil).Has(access.Admin) {
		t.Error("Has wrong")
	}
	for _, r := range access.GlobalRoles {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	for _, r := range access.TerritoryRoles {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	if access.GlobalRole("OWNER").Valid() || access.TerritoryRole("ADMIN").Valid() {
		t.Error("unknown roles are valid")
	}
}
