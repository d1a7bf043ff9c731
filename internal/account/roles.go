package account

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// SetGlobalRoles gives the person with email exactly the listed global
// roles. Only administrators may; the change is audited. It returns
// NOT_FOUND for an unknown address, BAD_USER_INPUT for an unknown role and
// CONFLICT when it would leave PIA without an administrator.
func (s *Service) SetGlobalRoles(ctx context.Context, email string, roles []access.GlobalRole) (*Person, error) {
	const op = "account.SetGlobalRoles"
	if err := access.Check(ctx, access.ManageGlobalRoles, access.Resource{}); err != nil {
		return nil, err
	}
	email, err := normalizeEmail(op, "email", email)
	if err != nil {
		return nil, err
	}
	want := make([]access.GlobalRole, 0, len(roles))
	for _, r := range roles {
		if !r.Valid() {
			return nil, apperr.Invalid(op, "roles", "unknown role %q", r)
		}
		if !slices.Contains(want, r) {
			want = append(want, r)
		}
	}
	actor := access.ActorFrom(ctx)
	var p *Person
	lostRole := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Two administrators demoting each other at once would each still
		// see the other and leave PIA with none. On PostgreSQL, lock the
		// ADMIN rows so such changes take turns; SQLite's BEGIN IMMEDIATE
		// already serializes writers.
		if storage.EngineOf(tx) == storage.Postgres {
			var admins []int64
			if err := tx.NewSelect().Model((*personRole)(nil)).Column("person_id").Where("role = ?", access.Admin).
				Order("person_id").For("UPDATE").Scan(ctx, &admins); err != nil {
				return storage.MapError(op, "role", err)
			}
		}
		if p, err = s.personByEmail(ctx, tx, email); err != nil {
			return err
		}
		if p == nil {
			return apperr.E(apperr.NotFound, op, "nobody has the address %s", email)
		}
		var have []string
		if err := tx.NewSelect().Model((*personRole)(nil)).Column("role").Where("person_id = ?", p.ID).Scan(ctx, &have); err != nil {
			return storage.MapError(op, "role", err)
		}
		var granted, revoked []string
		now := s.now()
		for _, r := range want {
			if !slices.Contains(have, string(r)) {
				granted = append(granted, string(r))
				if _, err := tx.NewInsert().Model(&personRole{PersonID: p.ID, Role: string(r), GrantedAt: now, GrantedBy: &actor.PersonID}).Exec(ctx); err != nil {
					return storage.MapError(op, "role", err)
				}
			}
		}
		for _, r := range have {
			if !slices.Contains(want, access.GlobalRole(r)) {
				revoked = append(revoked, r)
			}
		}
		lostRole = len(revoked) > 0
		if len(revoked) > 0 {
			if _, err := tx.NewDelete().Model((*personRole)(nil)).Where("person_id = ?", p.ID).Where("role IN (?)", bun.In(revoked)).Exec(ctx); err != nil {
				return storage.MapError(op, "role", err)
			}
		}
		if slices.Contains(revoked, string(access.Admin)) {
			n, err := tx.NewSelect().Model((*personRole)(nil)).Where("role = ?", access.Admin).Count(ctx)
			if err != nil {
				return storage.MapError(op, "role", err)
			}
			if n == 0 {
				return apperr.E(apperr.Conflict, op, "PIA needs at least one administrator: make someone else ADMIN first")
			}
		}
		if len(granted) == 0 && len(revoked) == 0 {
			return nil
		}
		var detail []string
		if len(granted) > 0 {
			detail = append(detail, "granted "+strings.Join(granted, ", "))
		}
		if len(revoked) > 0 {
			detail = append(detail, "revoked "+strings.Join(revoked, ", "))
		}
		return s.audit(ctx, tx, AuditRoleChanged, &p.ID, email, strings.Join(detail, "; "))
	})
	if err != nil {
		return nil, err
	}
	if lostRole {
		// Open connections keep the roles they started with: end them.
		var ids []int64
		if err := s.db.NewSelect().Model((*Session)(nil)).Column("id").Where("person_id = ?", p.ID).
			Where("revoked_at IS NULL").Scan(ctx, &ids); err != nil {
			return nil, storage.MapError(op, "session", err)
		}
		for _, id := range ids {
			s.watch.ended(id, "your roles changed; connect again")
		}
	}
	return s.Person(ctx, p.ID)
}

// GlobalRolesOf gives the global roles of each of ids in one statement, for
// the people a batch loader read through package network, which has no
// roles. Every id gets an entry: an empty list for a person without global
// roles, or for an id that names nobody. Roles come in the order of
// access.GlobalRoles.
//
// Who may see each person is the caller's concern: it passes ids of people
// it has already checked with access.ReadPerson, which needs their working
// groups, known to package network and not here. GlobalRolesOf itself
// only requires a signed-in actor (ReadPerson on the actor's own person):
// it returns UNAUTHENTICATED for an anonymous caller.
func (s *Service) GlobalRolesOf(ctx context.Context, ids []int64) (map[int64][]access.GlobalRole, error) {
	const op = "account.GlobalRolesOf"
	if err := access.Check(ctx, access.ReadPerson, access.Resource{OwnerID: access.ActorFrom(ctx).PersonID}); err != nil {
		return nil, err
	}
	out := make(map[int64][]access.GlobalRole, len(ids))
	for _, id := range ids {
		out[id] = []access.GlobalRole{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []personRole
	if err := s.db.NewSelect().Model(&rows).Column("person_id", "role").
		Where("person_id IN (?)", bun.In(slices.Sorted(maps.Keys(out)))).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "role", err)
	}
	for _, r := range rows {
		out[r.PersonID] = append(out[r.PersonID], access.GlobalRole(r.Role))
	}
	for _, roles := range out {
		sortRoles(roles)
	}
	return out, nil
}

// sortRoles puts roles in the order of access.GlobalRoles.
func sortRoles(roles []access.GlobalRole) {
	slices.SortFunc(roles, func(a, b access.GlobalRole) int {
		return slices.Index(access.GlobalRoles, a) - slices.Index(access.GlobalRoles, b)
	})
}
