package network

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// liveRef checks that the row of table with id exists and is not archived,
// for an input that points at it: BAD_USER_INPUT naming field otherwise.
func liveRef(ctx context.Context, db bun.IDB, op, field, table, what string, id int64) error {
	var rows []struct {
		ArchivedAt *time.Time `bun:"archived_at"`
	}
	q := shareLocked(db, db.NewSelect().TableExpr(table).Column("archived_at").Where("id = ?", id))
	if err := q.Scan(ctx, &rows); err != nil {
		return storage.MapError(op, what, err)
	}
	if len(rows) == 0 {
		return apperr.Invalid(op, field, "there is no %s with this id", what)
	}
	if rows[0].ArchivedAt != nil {
		return apperr.Invalid(op, field, "the %s is archived; restore it first", what)
	}
	return nil
}

// addAffiliation validates in and ties the person to the organization. An
// archived (or erased) person or an archived organization is BAD_USER_INPUT;
// a current affiliation of the same person and organization is CONFLICT. It
// checks no actor.
//
// checked says that the caller has made sure, in tx, that the person and the
// organization are there and not archived and that no current affiliation
// ties them (the import, which loaded or created them), so that the block
// does not read them again; the foreign keys and the unique index of current
// affiliations remain the backstop. The exported methods pass false, for the
// clear errors.
func (s *Service) addAffiliation(ctx context.Context, tx bun.IDB, in AffiliationInput, checked bool) (*Affiliation, error) {
	const op = "network.AddAffiliation"
	if !in.Role.Valid() {
		return nil, apperr.Invalid(op, "role", "the role is REPRESENTATIVE, DELEGATE or STAFF; got %q", in.Role)
	}
	title, err := optional(op, "title", in.Title, 200)
	if err != nil {
		return nil, err
	}
	if !checked {
		if err := checkAffiliationRefs(ctx, tx, op, in); err != nil {
			return nil, err
		}
	}
	af := &Affiliation{PersonID: in.PersonID, OrganizationID: in.OrganizationID, Role: in.Role, Title: title,
		StartedAt: s.now(), CreatedBy: actorID(ctx)}
	if _, err := tx.NewInsert().Model(af).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "affiliation", err)
	}
	return af, nil
}

// checkAffiliationRefs checks that in's person and organization are there
// and live, and not currently tied.
func checkAffiliationRefs(ctx context.Context, tx bun.IDB, op string, in AffiliationInput) error {
	if err := liveRef(ctx, tx, op, "organizationId", "organizations", "organization", in.OrganizationID); err != nil {
		return err
	}
	if err := liveRef(ctx, tx, op, "personId", "people", "person", in.PersonID); err != nil {
		return err
	}
	n, err := tx.NewSelect().Model((*Affiliation)(nil)).Where("person_id = ?", in.PersonID).
		Where("organization_id = ?", in.OrganizationID).Where("ended_at IS NULL").Count(ctx)
	if err != nil {
		return storage.MapError(op, "affiliation", err)
	}
	if n > 0 {
		return apperr.E(apperr.Conflict, op, "this person is already affiliated with this organization; change or end that affiliation instead")
	}
	return nil
}

// authorizeAffiliationOf loads what authorizeAffiliation needs about the
// organization and the person of an affiliation, and checks it. An unknown
// person is BAD_USER_INPUT naming personId; an unknown organization works
// in no territory here, and addAffiliation names it.
func authorizeAffiliationOf(ctx context.Context, tx bun.IDB, op string, organizationID, personID int64) error {
	orgTerr, err := organizationTerritoryIDs(ctx, tx, op, organizationID)
	if err != nil {
		return err
	}
	// The organization first, so that whoever may not manage it learns
	// nothing about the person.
	if err := access.Check(ctx, access.ManageOrganization, access.Resource{Territories: orgTerr}); err != nil {
		return err
	}
	person, err := inputPersonResource(ctx, tx, op, "personId", personID)
	if err != nil {
		return err
	}
	return authorizeAffiliation(ctx, orgTerr, person)
}

// AddAffiliation ties a person to an organization. The actor needs
// ManageOrganization on the organization's territories and EnrolPerson on
// the person (see authorizeAffiliation). It returns BAD_USER_INPUT for an
// unknown role, a title over 200 characters, or a person or organization
// that is unknown or archived, and CONFLICT when a current affiliation of
// the two is already there.
func (s *Service) AddAffiliation(ctx context.Context, in AffiliationInput) (*Affiliation, error) {
	const op = "network.AddAffiliation"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	var out *Affiliation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := authorizeAffiliationOf(ctx, tx, op, in.OrganizationID, in.PersonID); err != nil {
			return err
		}
		var err error
		out, err = s.addAffiliation(ctx, tx, in, false)
		return err
	})
	return out, err
}

// loadAffiliation reads an affiliation; NOT_FOUND when missing.
func loadAffiliation(ctx context.Context, db bun.IDB, op string, id int64) (*Affiliation, error) {
	af := new(Affiliation)
	if err := db.NewSelect().Model(af).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "no such affiliation")
		}
		return nil, storage.MapError(op, "affiliation", err)
	}
	return af, nil
}

// editAffiliation loads a current affiliation in tx and checks that the
// actor may change it, as AddAffiliation checks. An ended affiliation is
// history: CONFLICT.
func (s *Service) editAffiliation(ctx context.Context, tx bun.IDB, op string, id int64) (*Affiliation, error) {
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	af, err := loadAffiliation(ctx, tx, op, id)
	if err != nil {
		return nil, err
	}
	if err := authorizeAffiliationOf(ctx, tx, op, af.OrganizationID, af.PersonID); err != nil {
		return nil, err
	}
	if af.EndedAt != nil {
		return nil, apperr.E(apperr.Conflict, op, "this affiliation has ended; it is kept as history")
	}
	return af, nil
}

// Affiliation returns one affiliation, current or ended; NOT_FOUND when
// missing.
func (s *Service) Affiliation(ctx context.Context, id int64) (*Affiliation, error) {
	const op = "network.Affiliation"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return loadAffiliation(ctx, s.db, op, id)
}

// UpdateAffiliation changes a current affiliation's role or title
// (ManageOrganization and EnrolPerson, see editAffiliation). It returns
// NOT_FOUND for an unknown affiliation, BAD_USER_INPUT for bad values and
// CONFLICT for one that has ended.
func (s *Service) UpdateAffiliation(ctx context.Context, id int64, p AffiliationPatch) (*Affiliation, error) {
	const op = "network.UpdateAffiliation"
	var out *Affiliation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		af, err := s.editAffiliation(ctx, tx, op, id)
		if err != nil {
			return err
		}
		out, err = s.updateAffiliation(ctx, tx, af, p)
		return err
	})
	return out, err
}

// updateAffiliation applies p to af, a current affiliation as loaded, and
// returns the result; af itself is left as it was. A patch that changes
// nothing writes nothing. It returns BAD_USER_INPUT for an unknown role or a
// title over 200 characters, and CONFLICT when the affiliation has ended
// (meanwhile, too). It checks no actor.
func (s *Service) updateAffiliation(ctx context.Context, tx bun.IDB, af *Affiliation, p AffiliationPatch) (*Affiliation, error) {
	const op = "network.UpdateAffiliation"
	next := *af
	if p.Role != nil {
		if !p.Role.Valid() {
			return nil, apperr.Invalid(op, "role", "the role is REPRESENTATIVE, DELEGATE or STAFF; got %q", *p.Role)
		}
		next.Role = *p.Role
	}
	if p.Title != nil {
		var err error
		if next.Title, err = optional(op, "title", p.Title, 200); err != nil {
			return nil, err
		}
	}
	if af.EndedAt != nil {
		return nil, apperr.E(apperr.Conflict, op, "this affiliation has ended; it is kept as history")
	}
	if next.Role == af.Role && equalPtr(next.Title, af.Title) {
		return af, nil
	}
	// Conditioned on its being current, so that a change racing an end
	// does not rewrite history.
	res, err := tx.NewUpdate().Model(&next).Column("role", "title").WherePK().Where("ended_at IS NULL").Exec(ctx)
	if err != nil {
		return nil, storage.MapError(op, "affiliation", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, apperr.E(apperr.Conflict, op, "this affiliation has ended; it is kept as history")
	}
	return &next, nil
}

// EndAffiliation ends a current affiliation (ManageOrganization and
// EnrolPerson, see editAffiliation); the row
// stays as history, with who ended it and when. It returns NOT_FOUND for an
// unknown affiliation and CONFLICT for one already ended.
func (s *Service) EndAffiliation(ctx context.Context, id int64) (*Affiliation, error) {
	const op = "network.EndAffiliation"
	var out *Affiliation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		af, err := s.editAffiliation(ctx, tx, op, id)
		if err != nil {
			return err
		}
		now := s.now()
		af.EndedAt, af.EndedBy = &now, actorID(ctx)
		// Conditioned on its being current, so that of two racing ends only
		// one succeeds.
		res, err := tx.NewUpdate().Model(af).Column("ended_at", "ended_by").WherePK().Where("ended_at IS NULL").Exec(ctx)
		if err != nil {
			return storage.MapError(op, "affiliation", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.E(apperr.Conflict, op, "this affiliation has ended already")
		}
		out = af
		return nil
	})
	return out, err
}

// AffiliationsOfPeople gives, per person id, their affiliations in the order
// they started (current only unless history), in one statement.
func (s *Service) AffiliationsOfPeople(ctx context.Context, ids []int64, history bool) (map[int64][]*Affiliation, error) {
	return s.affiliationsBy(ctx, "network.AffiliationsOfPeople", "person_id", ids, history, func(a *Affiliation) int64 { return a.PersonID })
}

// AffiliationsOfOrganizations gives, per organization id, its affiliations
// in the order they started (current only unless history), in one
// statement.
func (s *Service) AffiliationsOfOrganizations(ctx context.Context, ids []int64, history bool) (map[int64][]*Affiliation, error) {
	return s.affiliationsBy(ctx, "network.AffiliationsOfOrganizations", "organization_id", ids, history, func(a *Affiliation) int64 { return a.OrganizationID })
}

func (s *Service) affiliationsBy(ctx context.Context, op, col string, ids []int64, history bool, key func(*Affiliation) int64) (map[int64][]*Affiliation, error) {
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	out := make(map[int64][]*Affiliation, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []*Affiliation
	q := s.db.NewSelect().Model(&rows).Where("? IN (?)", bun.Ident(col), bun.In(ids)).Order("started_at", "id")
	if !history {
		q = q.Where("ended_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "affiliation", err)
	}
	for _, a := range rows {
		out[key(a)] = append(out[key(a)], a)
	}
	return out, nil
}
