package network

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

const (
	maxGroupName        = 300
	maxGroupDescription = 10000
)

// loadGroup reads a working group; NOT_FOUND when missing.
func loadGroup(ctx context.Context, db bun.IDB, op string, id int64) (*WorkingGroup, error) {
	g := new(WorkingGroup)
	if err := db.NewSelect().Model(g).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "no such working group")
		}
		return nil, storage.MapError(op, "working group", err)
	}
	return g, nil
}

// manageGroup loads a working group in tx and checks ManageWorkingGroup on
// its territory (administrators and its coordinators).
func manageGroup(ctx context.Context, tx bun.IDB, op string, id int64) (*WorkingGroup, error) {
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, tx, op, id)
	if err != nil {
		return nil, err
	}
	if err := access.Check(ctx, access.ManageWorkingGroup, access.Resource{TerritoryID: g.TerritoryID}); err != nil {
		return nil, err
	}
	return g, nil
}

// WorkingGroups lists working groups (ReadNetwork), ordered by name, then
// id. Archived ones only with IncludeArchived; an unknown territory code is
// BAD_USER_INPUT.
func (s *Service) WorkingGroups(ctx context.Context, f WorkingGroupFilter, p relay.PageArgs) (*relay.Page[*WorkingGroup], error) {
	const op = "network.WorkingGroups"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*WorkingGroup)(nil))
	if f.Territory != "" {
		tid, err := s.territoryID(ctx, s.db, op, "territory", f.Territory)
		if err != nil {
			return nil, err
		}
		q = q.Where("wg.territory_id = ?", tid)
	}
	q = whereSearch(q, "lower(wg.name)", f.Search)
	if !f.IncludeArchived {
		q = q.Where("wg.archived_at IS NULL")
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{Column: "wg.name", IDColumn: "wg.id"},
		func(g *WorkingGroup) (string, int64) { return g.Name, g.ID })
	if err != nil {
		return nil, storage.MapError(op, "working group", err)
	}
	return page, nil
}

// WorkingGroup returns one working group, archived or not; NOT_FOUND when
// missing.
func (s *Service) WorkingGroup(ctx context.Context, id int64) (*WorkingGroup, error) {
	const op = "network.WorkingGroup"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return loadGroup(ctx, s.db, op, id)
}

// WorkingGroupsOfTerritories gives, per territory id, its working group,
// archived or not (absent when none), in one statement.
func (s *Service) WorkingGroupsOfTerritories(ctx context.Context, territoryIDs []int64) (map[int64]*WorkingGroup, error) {
	const op = "network.WorkingGroupsOfTerritories"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	out := make(map[int64]*WorkingGroup, len(territoryIDs))
	if len(territoryIDs) == 0 {
		return out, nil
	}
	var groups []*WorkingGroup
	if err := s.db.NewSelect().Model(&groups).Where("territory_id IN (?)", bun.In(territoryIDs)).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "working group", err)
	}
	for _, g := range groups {
		out[g.TerritoryID] = g
	}
	return out, nil
}

// CreateWorkingGroup creates the working group of a territory
// (CreateWorkingGroup: administrators). The name defaults to "Gruppo di
// lavoro di <territory name>". A FormedOn at the zero time is no date. It
// returns BAD_USER_INPUT for an unknown territory or bad values (a FormedOn
// outside FirstDate..LastDate among them), and CONFLICT when the territory
// has a group already (archived or not: there is one per territory).
func (s *Service) CreateWorkingGroup(ctx context.Context, in WorkingGroupInput) (*WorkingGroup, error) {
	const op = "network.CreateWorkingGroup"
	if err := access.Check(ctx, access.CreateWorkingGroup, access.Resource{}); err != nil {
		return nil, err
	}
	name, err := cleanText(op, "name", in.Name, maxGroupName, false)
	if err != nil {
		return nil, err
	}
	desc, err := cleanLongText(op, "description", in.Description, maxGroupDescription)
	if err != nil {
		return nil, err
	}
	formed, err := formedOn(op, in.FormedOn)
	if err != nil {
		return nil, err
	}
	var out *WorkingGroup
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		tid, err := s.territoryID(ctx, tx, op, "territory", in.Territory)
		if err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*WorkingGroup)(nil)).Where("territory_id = ?", tid).Count(ctx)
		if err != nil {
			return storage.MapError(op, "working group", err)
		}
		if n > 0 {
			return &apperr.Error{Kind: apperr.Conflict, Op: op, Field: "territory",
				Message: "this territory has its working group already; there is one per territory"}
		}
		if name == "" {
			refs, err := s.references(ctx, tx, op)
			if err != nil {
				return err
			}
			name = "Gruppo di lavoro di " + refs.territory(tid).Name
		}
		now := s.now()
		out = &WorkingGroup{TerritoryID: tid, Name: name, Description: desc, FormedOn: formed, CreatedAt: now, UpdatedAt: now}
		if _, err = tx.NewInsert().Model(out).Exec(ctx); err != nil {
			return storage.MapError(op, "working group", err)
		}
		if err := activity.Record(ctx, tx, now, activity.Entry{Kind: activity.GroupFormed, TerritoryID: tid, Title: name}); err != nil {
			return err
		}
		if s.o.GroupCreated != nil {
			return s.o.GroupCreated(ctx, tx, out.ID, out.TerritoryID, now)
		}
		return nil
	})
	return out, err
}

// UpdateWorkingGroup changes a working group's details (ManageWorkingGroup:
// administrators and the group's coordinators). A FormedOn at the zero time
// clears the date. It returns NOT_FOUND for an unknown group and
// BAD_USER_INPUT for bad values (a FormedOn outside FirstDate..LastDate
// among them).
func (s *Service) UpdateWorkingGroup(ctx context.Context, id int64, p WorkingGroupPatch) (*WorkingGroup, error) {
	const op = "network.UpdateWorkingGroup"
	var out *WorkingGroup
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		g, err := manageGroup(ctx, tx, op, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if g.Name, err = cleanText(op, "name", *p.Name, maxGroupName, true); err != nil {
				return err
			}
		}
		if p.Description != nil {
			if g.Description, err = cleanLongText(op, "description", *p.Description, maxGroupDescription); err != nil {
				return err
			}
		}
		if p.FormedOn != nil {
			if g.FormedOn, err = formedOn(op, p.FormedOn); err != nil {
				return err
			}
		}
		g.UpdatedAt = s.now()
		out = g
		_, err = tx.NewUpdate().Model(g).Column("name", "description", "formed_on", "updated_at").WherePK().Exec(ctx)
		return storage.MapError(op, "working group", err)
	})
	return out, err
}

// formedOn is a group's formation date as given: nil for none or the zero
// time, BAD_USER_INPUT outside FirstDate..LastDate.
func formedOn(op string, t *time.Time) (*time.Time, error) {
	if t == nil || t.IsZero() {
		return nil, nil
	}
	d, err := cleanDate(op, "formedOn", *t)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// ArchiveWorkingGroup archives (archived) or restores a working group
// (ArchiveWorkingGroup: administrators, since archiving takes the
// coordinators' role, with which they could restore it). An archived group
// gives its members no territory role and takes no new members; its
// history stays. Doing it twice changes nothing. It returns NOT_FOUND for an
// unknown group.
func (s *Service) ArchiveWorkingGroup(ctx context.Context, id int64, archived bool) (*WorkingGroup, error) {
	const op = "network.ArchiveWorkingGroup"
	if err := access.Check(ctx, access.ArchiveWorkingGroup, access.Resource{}); err != nil {
		return nil, err
	}
	var out *WorkingGroup
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		g, err := loadGroup(ctx, tx, op, id)
		if err != nil {
			return err
		}
		out = g
		return s.setArchived(ctx, tx, op, "working group", g, &g.ArchivedAt, &g.UpdatedAt, archived)
	})
	if err == nil {
		s.groupRolesChanged(ctx, id)
	}
	return out, err
}

// addMember validates in and starts a membership period. It returns
// BAD_USER_INPUT for an unknown role, an unknown or archived group or
// person, or an organization the person is not currently affiliated with,
// and CONFLICT when the person is a current member already. It checks no
// actor.
//
// checked says that the caller has made sure, in tx, that the group and the
// person are there and not archived, that the person is currently
// affiliated with in.OrganizationID and not a current member (the import,
// which loaded or created them), so that the block does not read them
// again; the foreign keys and the unique index of current memberships
// remain the backstop. The exported methods pass false, for the clear
// errors.
func (s *Service) addMember(ctx context.Context, tx bun.IDB, g *WorkingGroup, in MemberInput, checked bool) (*Membership, error) {
	const op = "network.AddMember"
	if !in.Role.Valid() {
		return nil, apperr.Invalid(op, "role", "the role is COORDINATOR, MEMBER or OBSERVER; got %q", in.Role)
	}
	if !checked {
		if err := checkMemberRefs(ctx, tx, op, in); err != nil {
			return nil, err
		}
	}
	m := &Membership{WorkingGroupID: in.WorkingGroupID, PersonID: in.PersonID, OrganizationID: in.OrganizationID,
		Role: in.Role, JoinedAt: s.now(), AddedBy: actorID(ctx)}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "membership", err)
	}
	return m, s.logMember(ctx, tx, activity.MemberJoined, g, m)
}

// checkMemberRefs checks that in's group and person are there and live,
// that the person is currently affiliated with in.OrganizationID, and not
// a current member.
func checkMemberRefs(ctx context.Context, tx bun.IDB, op string, in MemberInput) error {
	if err := liveRef(ctx, tx, op, "workingGroupId", "working_groups", "working group", in.WorkingGroupID); err != nil {
		return err
	}
	if err := liveRef(ctx, tx, op, "personId", "people", "person", in.PersonID); err != nil {
		return err
	}
	if in.OrganizationID != nil {
		n, err := tx.NewSelect().Model((*Affiliation)(nil)).Where("person_id = ?", in.PersonID).
			Where("organization_id = ?", *in.OrganizationID).Where("ended_at IS NULL").Count(ctx)
		if err != nil {
			return storage.MapError(op, "affiliation", err)
		}
		if n == 0 {
			return apperr.Invalid(op, "organizationId", "a member takes part on behalf of an organization they are currently affiliated with; add the affiliation first")
		}
	}
	n, err := tx.NewSelect().Model((*Membership)(nil)).Where("working_group_id = ?", in.WorkingGroupID).
		Where("person_id = ?", in.PersonID).Where("left_at IS NULL").Count(ctx)
	if err != nil {
		return storage.MapError(op, "membership", err)
	}
	if n > 0 {
		return apperr.E(apperr.Conflict, op, "this person is a member of the working group already; change their role instead")
	}
	return nil
}

// AddMember adds a person to a working group, on behalf of one of the
// organizations they are currently affiliated with (optional). The actor
// needs ManageWorkingGroup on the group and EnrolPerson on the person (see
// authorizeMembership): a member's contacts are open to the group's
// coordinators. It returns NOT_FOUND for an unknown group, BAD_USER_INPUT
// for an unknown or archived person, an archived group or an organization
// the person is not currently affiliated with, and CONFLICT for a current
// member.
func (s *Service) AddMember(ctx context.Context, in MemberInput) (*Membership, error) {
	const op = "network.AddMember"
	var out *Membership
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The group first, so that whoever may not manage it learns
		// nothing about the person.
		g, err := manageGroup(ctx, tx, op, in.WorkingGroupID)
		if err != nil {
			return err
		}
		person, err := inputPersonResource(ctx, tx, op, "personId", in.PersonID)
		if err != nil {
			return err
		}
		if err := authorizeMembership(ctx, g.TerritoryID, person); err != nil {
			return err
		}
		out, err = s.addMember(ctx, tx, g, in, false)
		return err
	})
	if err == nil {
		s.rolesChanged(out.PersonID)
	}
	return out, err
}

// editMembership loads a current membership and its group in tx and checks
// that the actor manages the group. An ended period is history: CONFLICT.
func editMembership(ctx context.Context, tx bun.IDB, op string, id int64) (*Membership, *WorkingGroup, error) {
	if err := requireActor(ctx, op); err != nil {
		return nil, nil, err
	}
	m, err := loadMembership(ctx, tx, op, id)
	if err != nil {
		return nil, nil, err
	}
	g, err := manageGroup(ctx, tx, op, m.WorkingGroupID)
	if err != nil {
		return nil, nil, err
	}
	if m.LeftAt != nil {
		return nil, nil, apperr.E(apperr.Conflict, op, "this membership has ended; it is kept as history")
	}
	return m, g, nil
}

// keepCoordinator refuses, unless the actor is an administrator, to take
// the coordinator role from the last coordinator of m's group: a group
// without one could be managed by administrators only.
func keepCoordinator(ctx context.Context, tx bun.IDB, op string, m *Membership) error {
	if m.Role != access.Coordinator || access.ActorFrom(ctx).Has(access.Admin) {
		return nil
	}
	// Two coordinators removing each other at once would each still see the
	// other. On PostgreSQL lock the coordinators' rows so that such changes
	// take turns; SQLite's BEGIN IMMEDIATE already serializes writers. An
	// archived or erased coordinator holds no role (TerritoryRoles), so
	// does not count.
	q := tx.NewSelect().Model((*Membership)(nil)).ColumnExpr("wgm.id").
		Join("JOIN people AS p ON p.id = wgm.person_id").
		Where("wgm.working_group_id = ?", m.WorkingGroupID).Where("wgm.role = ?", access.Coordinator).
		Where("wgm.left_at IS NULL").Where("p.archived_at IS NULL").Where("p.erased_at IS NULL").OrderExpr("wgm.id")
	if storage.EngineOf(tx) == storage.Postgres {
		q = q.For("UPDATE OF wgm")
	}
	var ids []int64
	if err := q.Scan(ctx, &ids); err != nil {
		return storage.MapError(op, "membership", err)
	}
	if len(ids) == 0 || (len(ids) == 1 && ids[0] == m.ID) {
		return apperr.E(apperr.Conflict, op, "a working group keeps at least one coordinator: make someone else coordinator first")
	}
	return nil
}

// endMembership ends m now, by the actor, unless it has ended meanwhile.
func (s *Service) endMembership(ctx context.Context, tx bun.IDB, op string, m *Membership) error {
	now := s.now()
	m.LeftAt, m.RemovedBy = &now, actorID(ctx)
	res, err := tx.NewUpdate().Model(m).Column("left_at", "removed_by").WherePK().Where("left_at IS NULL").Exec(ctx)
	if err != nil {
		return storage.MapError(op, "membership", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.E(apperr.Conflict, op, "this membership has ended already")
	}
	return nil
}

// ChangeMemberRole ends the current period of a membership and starts one
// with role, in one transaction, and returns the new one; with the same
// role it returns the current one unchanged (ManageWorkingGroup). It returns
// NOT_FOUND for an unknown membership, BAD_USER_INPUT for an unknown role or
// an archived group, and CONFLICT for an ended period or, for anyone but an
// administrator, for demoting the group's last coordinator.
func (s *Service) ChangeMemberRole(ctx context.Context, membershipID int64, role access.TerritoryRole) (*Membership, error) {
	const op = "network.ChangeMemberRole"
	var out *Membership
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, g, err := editMembership(ctx, tx, op, membershipID)
		if err != nil {
			return err
		}
		out, err = s.changeMemberRole(ctx, tx, g, m, role)
		return err
	})
	if err == nil && out.ID != membershipID {
		s.rolesChanged(out.PersonID)
	}
	return out, err
}

// changeMemberRole ends m, a current membership period as loaded, and
// starts one with role, returning the new period; with the same role it
// returns m and writes nothing. It returns BAD_USER_INPUT for an unknown
// role or an archived group, and CONFLICT for an ended period or, unless the
// actor is an administrator, for demoting the group's last coordinator: the
// rule and its lock live here so that no caller can skip them. It checks no
// other permission.
func (s *Service) changeMemberRole(ctx context.Context, tx bun.IDB, g *WorkingGroup, m *Membership, role access.TerritoryRole) (*Membership, error) {
	const op = "network.ChangeMemberRole"
	if !role.Valid() {
		return nil, apperr.Invalid(op, "role", "the role is COORDINATOR, MEMBER or OBSERVER; got %q", role)
	}
	if m.LeftAt != nil {
		return nil, apperr.E(apperr.Conflict, op, "this membership has ended; it is kept as history")
	}
	if m.Role == role {
		return m, nil
	}
	if err := liveRef(ctx, tx, op, "membershipId", "working_groups", "working group", m.WorkingGroupID); err != nil {
		return nil, err
	}
	if err := keepCoordinator(ctx, tx, op, m); err != nil {
		return nil, err
	}
	ended := *m
	if err := s.endMembership(ctx, tx, op, &ended); err != nil {
		return nil, err
	}
	out := &Membership{WorkingGroupID: m.WorkingGroupID, PersonID: m.PersonID, OrganizationID: m.OrganizationID,
		Role: role, JoinedAt: *ended.LeftAt, AddedBy: actorID(ctx)}
	if _, err := tx.NewInsert().Model(out).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "membership", err)
	}
	return out, s.logMember(ctx, tx, activity.MemberRole, g, out)
}

// RemoveMember ends a current membership (ManageWorkingGroup); the row
// stays as history and the person's past contributions stay theirs. It
// returns NOT_FOUND for an unknown membership and CONFLICT for one already
// ended or, for anyone but an administrator, for the group's last
// coordinator.
func (s *Service) RemoveMember(ctx context.Context, membershipID int64) (*Membership, error) {
	const op = "network.RemoveMember"
	var out *Membership
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, g, err := editMembership(ctx, tx, op, membershipID)
		if err != nil {
			return err
		}
		if err := keepCoordinator(ctx, tx, op, m); err != nil {
			return err
		}
		if err := s.endMembership(ctx, tx, op, m); err != nil {
			return err
		}
		out = m
		return s.logMember(ctx, tx, activity.MemberLeft, g, m)
	})
	if err == nil {
		s.rolesChanged(out.PersonID)
	}
	return out, err
}

// rolesChanged tells Options.RolesChanged, or else package account, after
// the commit, that these people's territory roles changed: their open
// connections keep the roles they started with, so they start again.
func (s *Service) rolesChanged(personIDs ...int64) {
	switch {
	case len(personIDs) == 0:
	case s.o.RolesChanged != nil:
		s.o.RolesChanged(personIDs...)
	case s.o.Accounts != nil:
		s.o.Accounts.RolesChanged(personIDs...)
	}
}

// groupRolesChanged is rolesChanged for the current members of working
// group id, after it was archived or restored. A failed read is logged:
// their connections then end at their next recheck.
func (s *Service) groupRolesChanged(ctx context.Context, id int64) {
	if s.o.RolesChanged == nil && s.o.Accounts == nil {
		return
	}
	var ids []int64
	if err := s.db.NewSelect().Model((*Membership)(nil)).Column("person_id").Where("working_group_id = ?", id).
		Where("left_at IS NULL").Scan(ctx, &ids); err != nil {
		s.o.Logger.ErrorContext(ctx, "reading the members whose roles changed", "group", id, "err", err)
		return
	}
	s.rolesChanged(ids...)
}

// loadMembership reads a membership period; NOT_FOUND when missing.
func loadMembership(ctx context.Context, db bun.IDB, op string, id int64) (*Membership, error) {
	m := new(Membership)
	if err := db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "no such membership")
		}
		return nil, storage.MapError(op, "membership", err)
	}
	return m, nil
}

// Membership returns one membership period, current or ended; NOT_FOUND
// when missing.
func (s *Service) Membership(ctx context.Context, id int64) (*Membership, error) {
	const op = "network.Membership"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return loadMembership(ctx, s.db, op, id)
}

// MembersOfGroups gives, per working group id, its memberships in one
// statement: the current ones ordered by role (coordinators first) then
// join time, or with history every period in the order they began, each
// with who added and who removed the person and when.
func (s *Service) MembersOfGroups(ctx context.Context, ids []int64, history bool) (map[int64][]*Membership, error) {
	return s.membershipsBy(ctx, "network.MembersOfGroups", "working_group_id", ids, history, func(m *Membership) int64 { return m.WorkingGroupID })
}

// MembershipsOfPeople gives, per person id, their working-group memberships
// in one statement, ordered as MembersOfGroups orders them.
func (s *Service) MembershipsOfPeople(ctx context.Context, ids []int64, history bool) (map[int64][]*Membership, error) {
	return s.membershipsBy(ctx, "network.MembershipsOfPeople", "person_id", ids, history, func(m *Membership) int64 { return m.PersonID })
}

func (s *Service) membershipsBy(ctx context.Context, op, col string, ids []int64, history bool, key func(*Membership) int64) (map[int64][]*Membership, error) {
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	out := make(map[int64][]*Membership, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []*Membership
	q := s.db.NewSelect().Model(&rows).Where("? IN (?)", bun.Ident(col), bun.In(ids)).Order("joined_at", "id")
	if !history {
		q = q.Where("left_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "membership", err)
	}
	if !history {
		// By role, in Go: the engines would need a CASE to order an enum.
		slices.SortStableFunc(rows, func(a, b *Membership) int {
			return cmp.Compare(slices.Index(access.TerritoryRoles, a.Role), slices.Index(access.TerritoryRoles, b.Role))
		})
	}
	for _, m := range rows {
		out[key(m)] = append(out[key(m)], m)
	}
	return out, nil
}

// TerritoryRoles is access.RoleSource: the person's role in each working
// group they are a current member of. Archived groups give no role, and an
// archived (or erased) person has none. It checks no actor: it is how an
// actor gets their roles.
func (s *Service) TerritoryRoles(ctx context.Context, personID int64) (map[int64]access.TerritoryRole, error) {
	const op = "network.TerritoryRoles"
	var rows []struct {
		TerritoryID int64                `bun:"territory_id"`
		Role        access.TerritoryRole `bun:"role"`
	}
	err := s.db.NewSelect().TableExpr("working_group_members AS wgm").
		Join("JOIN working_groups AS wg ON wg.id = wgm.working_group_id").
		Join("JOIN people AS p ON p.id = wgm.person_id").
		ColumnExpr("wg.territory_id, wgm.role").
		Where("wgm.person_id = ?", personID).Where("wgm.left_at IS NULL").
		Where("wg.archived_at IS NULL").Where("p.archived_at IS NULL").Scan(ctx, &rows)
	if err != nil {
		return nil, storage.MapError(op, "membership", err)
	}
	out := make(map[int64]access.TerritoryRole, len(rows))
	for _, r := range rows {
		out[r.TerritoryID] = r.Role
	}
	return out, nil
}

// logMember writes kind about m, a membership of g, to the activity log in
// tx: the member, the role (joined and changed), g's territory and name.
func (s *Service) logMember(ctx context.Context, tx bun.IDB, kind activity.Kind, g *WorkingGroup, m *Membership) error {
	person := m.PersonID
	e := activity.Entry{Kind: kind, TerritoryID: g.TerritoryID, PersonID: &person, Title: g.Name}
	if kind != activity.MemberLeft {
		e.Status = string(m.Role)
	}
	return activity.Record(ctx, tx, s.now(), e)
}
