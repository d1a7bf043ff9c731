package graph

import (
	"context"
	"errors"

	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// Global id types. A feature adds its types here and to fetchNode.
const (
	typeTerritory  = "Territory"
	typeTheme      = "Theme"
	typePerson     = "Person"
	typeSession    = "Session"
	typeAuditEvent = "AuditEvent"

	typeOrganization = "Organization"
	typeAffiliation  = "Affiliation"
	typeWorkingGroup = "WorkingGroup"
	typeMembership   = "Membership"
	typePractice     = "Practice"
	typeMunicipality = "Municipality"

	typeDocument        = "Document"
	typeSection         = "Section"
	typeComment         = "Comment"
	typeDocumentVersion = "DocumentVersion"

	typeFocusGroup        = "FocusGroup"
	typeFocusGroupInvitee = "FocusGroupInvitee" // not a Node: no service reads one alone
	typeMeeting           = "Meeting"
	typeInvitation        = "Invitation"
	typeAttendanceEntry   = "AttendanceEntry" // not a Node: no service reads one alone
)

// parseID decodes a global id that must be of type typ. A malformed id is
// BAD_USER_INPUT with reason INVALID_ID, an id of another type with reason
// WRONG_ID_TYPE, so that a client cannot mistake one object for another.
func parseID(typ, gid string) (int64, error) {
	got, id, err := relay.Parse(gid)
	if err != nil {
		return 0, withReason(err, "INVALID_ID")
	}
	if got != typ {
		return 0, apperr.Invalid("graph.id", "id", "this id belongs to a %s, not a %s", got, typ).WithReason("WRONG_ID_TYPE")
	}
	return id, nil
}

// withReason gives an application error a reason.
func withReason(err error, reason string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.WithReason(reason)
	}
	return err
}

// fetchNode loads the object behind a global id for Query.node. An id that
// is well formed but names nothing gives null, as the Relay spec expects; a
// malformed one is BAD_USER_INPUT.
func (r *Resolver) fetchNode(ctx context.Context, gid string) (relay.Node, error) {
	typ, id, err := relay.Parse(gid)
	if err != nil {
		return nil, withReason(err, "INVALID_ID")
	}
	var node relay.Node
	switch typ {
	case typeTerritory:
		var t *reference.Territory
		t, err = r.Reference.TerritoryByID(ctx, id)
		node = t
	case typeTheme:
		var t *reference.Theme
		t, err = r.Reference.ThemeByID(ctx, id)
		node = t
	case typePerson:
		// The network's read: working-group members and coordinators see
		// people too, not only themselves.
		var p *account.Person
		p, err = r.Network.Person(ctx, id)
		node = p
	case typeSession:
		var sess *account.Session
		sess, err = r.Accounts.Session(ctx, id)
		node = sess
	case typeAuditEvent:
		var ev *account.AuditEvent
		ev, err = r.Accounts.AuditEvent(ctx, id)
		node = ev
	case typeOrganization, typeAffiliation, typeWorkingGroup, typeMembership, typePractice, typeMunicipality:
		node, err = r.fetchNetworkNode(ctx, typ, id)
	case typeDocument, typeSection, typeComment, typeDocumentVersion:
		node, err = r.fetchCoeditNode(ctx, typ, id)
	case typeFocusGroup, typeMeeting, typeInvitation:
		node, err = r.fetchMeetingNode(ctx, typ, id)
	default:
		return nil, nil
	}
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return node, nil
}

// fetchNetworkNode loads an object of the stakeholder network. Each case
// keeps the concrete type, so that a missing object is a nil interface and
// not a typed nil.
func (r *Resolver) fetchNetworkNode(ctx context.Context, typ string, id int64) (relay.Node, error) {
	n := r.Network
	switch typ {
	case typeOrganization:
		return nodeOf(n.Organization(ctx, id))
	case typeAffiliation:
		return nodeOf(n.Affiliation(ctx, id))
	case typeWorkingGroup:
		return nodeOf(n.WorkingGroup(ctx, id))
	case typeMembership:
		return nodeOf(n.Membership(ctx, id))
	case typePractice:
		return nodeOf(n.Practice(ctx, id))
	case typeMunicipality:
		return nodeOf(n.Municipality(ctx, id))
	}
	return nil, nil
}

func nodeOf[T any](v *T, err error) (relay.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}
