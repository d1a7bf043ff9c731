package graph

import (
	"context"
	"strings"

	"github.com/pia-sicilia/pia/graph/model"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/relay"
)

// signInPayload answers a sign-in. The rest of the request, the payload's
// fields included, is answered as the person who just signed in.
func signInPayload(ctx context.Context, s *account.SignedIn, err error) (*model.SignInPayload, error) {
	if err != nil {
		return nil, err
	}
	access.Become(ctx, s.Actor)
	return &model.SignInPayload{Token: s.Token, ExpiresAt: s.Session.ExpiresAt, Session: s.Session, Person: s.Person}, nil
}

// languageOf is the service's language code for an optional GraphQL one.
func languageOf(l *model.Language) string {
	if l == nil {
		return ""
	}
	return strings.ToLower(string(*l))
}

func auditQuery(first *int, after *string, kind *model.AuditEventKind, personID *string) (f account.AuditFilter, size int, before int64, err error) {
	size = 20
	if first != nil {
		size = *first
	}
	if after != nil {
		if before, err = relay.ParseCursor("after", *after); err != nil {
			return f, 0, 0, err
		}
	}
	if kind != nil {
		f.Kind = account.AuditKind(*kind)
	}
	if personID != nil {
		if f.PersonID, err = parseID(typePerson, *personID); err != nil {
			return f, 0, 0, err
		}
	}
	return f, size, before, nil
}

func auditConnection(page *account.AuditPage, err error) (*model.AuditEventConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.AuditEventConnection{TotalCount: page.TotalCount, PageInfo: &model.PageInfo{HasNextPage: page.HasMore},
		Edges: make([]*model.AuditEventEdge, len(page.Events))}
	for i, ev := range page.Events {
		c.Edges[i] = &model.AuditEventEdge{Cursor: relay.Cursor(ev.ID), Node: ev}
	}
	if n := len(c.Edges); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &c.Edges[0].Cursor, &c.Edges[n-1].Cursor
	}
	return c, nil
}
