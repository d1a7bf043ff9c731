package network

import (
	"context"
	"slices"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// The authorization of changes that both the exported methods and the
// import make: one helper per kind of change, so that a row of a
// spreadsheet needs exactly what the same change made by hand needs. Each
// returns the error of access.Check; the import puts it on a column.

// personResource is the access.Resource of a person: the territories of
// the working groups they are a current member of, whether they hold a
// global role, and whether they have an account (a password).
func personResource(p *Person, territories []int64, privileged bool) access.Resource {
	return access.Resource{OwnerID: p.ID, Territories: territories, Privileged: privileged, HasAccount: p.PasswordHash != nil}
}

// loadPersonResource reads the rest of p's access.Resource, in two
// statements.
func loadPersonResource(ctx context.Context, db bun.IDB, op string, p *Person) (access.Resource, error) {
	terr, err := groupTerritories(ctx, db, op, []int64{p.ID})
	if err != nil {
		return access.Resource{}, err
	}
	privileged, err := privilegedPeople(ctx, db, op, []int64{p.ID})
	if err != nil {
		return access.Resource{}, err
	}
	return personResource(p, terr[p.ID], privileged[p.ID]), nil
}

// inputPersonResource loads the access.Resource of the person an input
// names (field): BAD_USER_INPUT when there is no such person.
func inputPersonResource(ctx context.Context, db bun.IDB, op, field string, id int64) (access.Resource, error) {
	p, err := loadPerson(ctx, db, op, id)
	if apperr.Is(err, apperr.NotFound) {
		return access.Resource{}, apperr.Invalid(op, field, "there is no person with this id")
	}
	if err != nil {
		return access.Resource{}, err
	}
	return loadPersonResource(ctx, db, op, p)
}

// privilegedPeople says which of ids hold a global role, in one statement.
// The roles are package account's (person_roles); only whether there is
// one matters here.
func privilegedPeople(ctx context.Context, db bun.IDB, op string, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var holders []int64
	if err := db.NewSelect().TableExpr("person_roles").ColumnExpr("DISTINCT person_id").
		Where("person_id IN (?)", bun.In(ids)).Scan(ctx, &holders); err != nil {
		return nil, storage.MapError(op, "role", err)
	}
	for _, id := range holders {
		out[id] = true
	}
	return out, nil
}

// authorizeCreatePerson: CreatePerson.
func authorizeCreatePerson(ctx context.Context) error {
	return access.Check(ctx, access.CreatePerson, access.Resource{})
}

// authorizeUpdatePerson: UpdatePerson on the person (personResource), for
// editing or archiving their directory entry.
func authorizeUpdatePerson(ctx context.Context, person access.Resource) error {
	return access.Check(ctx, access.UpdatePerson, person)
}

// authorizeMembership is what bringing a person into the working group of
// territory needs: ManageWorkingGroup on the group and EnrolPerson on the
// person, each on its own, since a member's contacts are open to the
// group's coordinators.
func authorizeMembership(ctx context.Context, territory int64, person access.Resource) error {
	if err := access.Check(ctx, access.ManageWorkingGroup, access.Resource{TerritoryID: territory}); err != nil {
		return err
	}
	return access.Check(ctx, access.EnrolPerson, person)
}

// authorizeAffiliation is what tying a person to an organization working
// in orgTerritories, or changing or ending that tie, needs:
// ManageOrganization on the organization's territories and EnrolPerson on
// the person, each on its own. The union of the two would let the
// coordinator of either side tie anyone to anything.
func authorizeAffiliation(ctx context.Context, orgTerritories []int64, person access.Resource) error {
	if err := access.Check(ctx, access.ManageOrganization, access.Resource{Territories: orgTerritories}); err != nil {
		return err
	}
	return access.Check(ctx, access.EnrolPerson, person)
}

// authorizeOrganizationCreate is what creating an organization working in
// territories needs: ManageOrganization on them (for an organization tied
// to no territory, any coordinator), and on each of them alone, since
// creating one puts it into each (see authorizeTerritoryChanges).
func authorizeOrganizationCreate(ctx context.Context, territories []int64) error {
	if err := access.Check(ctx, access.ManageOrganization, access.Resource{Territories: territories}); err != nil {
		return err
	}
	return authorizeTerritoryChanges(ctx, nil, territories)
}

// authorizeOrganizationEdit is what changing or archiving an organization
// working in cur needs: ManageOrganization on cur and, when next is not nil
// (the territories it will work in), on each territory added or removed
// alone.
func authorizeOrganizationEdit(ctx context.Context, cur []int64, next *[]int64) error {
	if err := access.Check(ctx, access.ManageOrganization, access.Resource{Territories: cur}); err != nil {
		return err
	}
	if next == nil {
		return nil
	}
	return authorizeTerritoryChanges(ctx, cur, *next)
}

// authorizeTerritoryChanges checks ManageOrganization on each territory in
// one of cur and next but not both, alone: unless an administrator, whoever
// moves an organization into or out of a territory coordinates it.
// "Coordinates one of them" would let a coordinator of one territory of an
// organization take it out of, or put it into, any other.
func authorizeTerritoryChanges(ctx context.Context, cur, next []int64) error {
	for _, list := range [][2][]int64{{cur, next}, {next, cur}} {
		for _, t := range list[0] {
			if slices.Contains(list[1], t) {
				continue
			}
			if err := access.Check(ctx, access.ManageOrganization, access.Resource{Territories: []int64{t}}); err != nil {
				return err
			}
		}
	}
	return nil
}
