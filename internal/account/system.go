package account

import (
	"context"
	"slices"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// AdminActor is the actor of a command-line tool (such as `piad import`):
// the administrator with email, or, when email is "", the administrator
// with the lowest id who is neither archived nor erased. The actor has the
// person's global roles and their territory roles from Options.Roles, and
// SessionID 0: there is no session behind it.
//
// It is for tools run by whoever holds the database, who could write to it
// anyway; it proves nothing about who is asking, so it must never be used to
// answer a request: requests get their actor from Authenticate.
//
// It returns BAD_USER_INPUT for an email that is not an address; NOT_FOUND
// for an address nobody has, or when "" is given and the database has no
// administrator yet (the message says how to get one); FORBIDDEN for a
// person who is not an administrator, or is archived.
func (s *Service) AdminActor(ctx context.Context, email string) (*access.Actor, error) {
	const op = "account.AdminActor"
	p, err := s.adminPerson(ctx, op, email)
	if err != nil {
		return nil, err
	}
	if err := s.loadRoles(ctx, p); err != nil {
		return nil, err
	}
	if !slices.Contains(p.GlobalRoles, access.Admin) {
		return nil, apperr.E(apperr.Forbidden, op, "%s is not an administrator", *p.Email)
	}
	if p.ArchivedAt != nil {
		return nil, apperr.E(apperr.Forbidden, op, "%s is archived in the directory: restore them first, or name another administrator", *p.Email)
	}
	a := &access.Actor{PersonID: p.ID, GlobalRoles: p.GlobalRoles}
	if s.o.Roles != nil {
		if a.Territories, err = s.o.Roles.TerritoryRoles(ctx, p.ID); err != nil {
			return nil, apperr.Wrap(op, err)
		}
	}
	return a, nil
}

// adminPerson finds the person AdminActor acts as.
func (s *Service) adminPerson(ctx context.Context, op, email string) (*Person, error) {
	if email != "" {
		e, err := normalizeEmail(op, "email", email)
		if err != nil {
			return nil, err
		}
		p, err := s.personByEmail(ctx, s.db, e)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, apperr.E(apperr.NotFound, op, "nobody has the address %s", e)
		}
		return p, nil
	}
	var people []*Person
	err := s.db.NewSelect().Model(&people).
		Where("EXISTS (SELECT 1 FROM person_roles AS r WHERE r.person_id = ?TableAlias.id AND r.role = ?)", access.Admin).
		Where("archived_at IS NULL").Where("erased_at IS NULL").Order("id").Limit(1).Scan(ctx)
	if err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	if len(people) == 0 {
		return nil, apperr.E(apperr.NotFound, op, "this database has no administrator yet: start `piad serve` once "+
			"(in dev it creates one), or set PIA_ADMIN_EMAIL and PIA_ADMIN_PASSWORD and start it")
	}
	return people[0], nil
}
