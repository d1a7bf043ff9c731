package graph

import (
	"context"

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
)

// fetchNode loads the object behind a global id for Query.node. An id that
// is well formed but names nothing gives null, as the Relay spec expects; a
// malformed one is BAD_USER_INPUT.
func (r *Resolver) fetchNode(ctx context.Context, gid string) (relay.Node, error) {
	typ, id, err := relay.Parse(gid)
	if err != nil {
		return nil, err
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
		var p *account.Person
		p, err = r.Accounts.Person(ctx, id)
		node = p
	case typeSession:
		var sess *account.Session
		sess, err = r.Accounts.Session(ctx, id)
		node = sess
	case typeAuditEvent:
		var ev *account.AuditEvent
		ev, err = r.Accounts.AuditEvent(ctx, id)
		node = ev
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
