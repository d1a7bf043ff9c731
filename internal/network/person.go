package network

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// sortedPerson is a person with the key the database sorted them by. Cursors
// carry the key the database computed rather than one computed in Go:
// SQLite's lower() folds ASCII only and PostgreSQL's follows its locale, so a
// key folded in Go would not match the column it is compared with for names
// such as "Èlia", and pages would skip or repeat people.
type sortedPerson struct {
	Person  `bun:",extend"`
	SortKey string `bun:"sort_key,scanonly"`
}

// requireActor refuses anonymous callers before anything is looked up, so
// that they learn nothing about which ids exist.
func requireActor(ctx context.Context, op string) error {
	if !access.ActorFrom(ctx).SignedIn() {
		return apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	return nil
}

func cleanLanguage(op, field, s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l != "it" && l != "en" {
		return "", apperr.Invalid(op, field, "the language is it or en; got %q", s)
	}
	return l, nil
}

// emailFree refuses an address another person (not except) already has.
func emailFree(ctx context.Context, db bun.IDB, op, email string, except int64) error {
	n, err := db.NewSelect().Model((*Person)(nil)).Where("email = ?", email).Where("id <> ?", except).Count(ctx)
	if err != nil {
		return storage.MapError(op, "person", err)
	}
	if n > 0 {
		return &apperr.Error{Kind: apperr.Conflict, Op: op, Field: "email", Message: "another person already has the address " + email}
	}
	return nil
}

// loadPerson reads a person, archived or erased; NOT_FOUND when missing.
func loadPerson(ctx context.Context, db bun.IDB, op string, id int64) (*Person, error) {
	p := new(Person)
	if err := db.NewSelect().Model(p).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "no such person")
		}
		return nil, storage.MapError(op, "person", err)
	}
	return p, nil
}

// createPerson validates in, refuses an address already taken and inserts
// the person. It checks no actor.
func (s *Service) createPerson(ctx context.Context, tx bun.IDB, in PersonInput) (*Person, error) {
	const op = "network.CreatePerson"
	name, err := cleanText(op, "displayName", in.DisplayName, 200, true)
	if err != nil {
		return nil, err
	}
	email, err := cleanEmail(op, "email", in.Email)
	if err != nil {
		return nil, err
	}
	phone, err := cleanPhone(op, "phone", in.Phone)
	if err != nil {
		return nil, err
	}
	lang := "it"
	if in.Language != "" {
		if lang, err = cleanLanguage(op, "language", in.Language); err != nil {
			return nil, err
		}
	}
	if email != nil {
		if err := emailFree(ctx, tx, op, *email, 0); err != nil {
			return nil, err
		}
	}
	now := s.now()
	p := &Person{DisplayName: name, Email: email, Phone: phone, Language: lang, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	return p, nil
}

// updatePerson validates patch and writes what differs from p. It returns p
// itself when nothing changes (the import counts those rows as unchanged),
// and a new value otherwise. It checks no authorization except the one rule
// that depends on the data: only administrators change the address of a
// person who has an account, since it is how they sign in. An erased person
// cannot be edited: CONFLICT.
func (s *Service) updatePerson(ctx context.Context, tx bun.IDB, p *Person, patch PersonPatch) (*Person, error) {
	const op = "network.UpdatePerson"
	if p.ErasedAt != nil {
		return nil, apperr.E(apperr.Conflict, op, "this person was erased and can no longer be edited")
	}
	next := *p
	set := map[string]any{}
	if patch.DisplayName != nil {
		name, err := cleanText(op, "displayName", *patch.DisplayName, 200, true)
		if err != nil {
			return nil, err
		}
		if name != p.DisplayName {
			next.DisplayName, set["display_name"] = name, name
		}
	}
	if patch.Email != nil {
		email, err := cleanEmail(op, "email", patch.Email)
		if err != nil {
			return nil, err
		}
		if !equalPtr(email, p.Email) {
			if p.PasswordHash != nil && !access.ActorFrom(ctx).Has(access.Admin) {
				return nil, &apperr.Error{Kind: apperr.Forbidden, Op: op, Field: "email",
					Message: "only an administrator may change the email of a person who has an account: it is how they sign in"}
			}
			if email != nil {
				if err := emailFree(ctx, tx, op, *email, p.ID); err != nil {
					return nil, err
				}
			}
			next.Email, set["email"] = email, email
		}
	}
	if patch.Phone != nil {
		phone, err := cleanPhone(op, "phone", patch.Phone)
		if err != nil {
			return nil, err
		}
		if !equalPtr(phone, p.Phone) {
			next.Phone, set["phone"] = phone, phone
		}
	}
	if patch.Language != nil {
		lang, err := cleanLanguage(op, "language", *patch.Language)
		if err != nil {
			return nil, err
		}
		if lang != p.Language {
			next.Language, set["language"] = lang, lang
		}
	}
	if len(set) == 0 {
		return p, nil
	}
	next.UpdatedAt = s.now()
	q := tx.NewUpdate().Model((*Person)(nil)).Where("id = ?", p.ID).Set("updated_at = ?", next.UpdatedAt)
	for _, col := range slices.Sorted(maps.Keys(set)) {
		q = q.Set("? = ?", bun.Ident(col), set[col])
	}
	if _, err := q.Exec(ctx); err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	return &next, nil
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// CreatePerson adds a person without an account (CreatePerson:
// administrators and coordinators); they get one when invited. It returns
// BAD_USER_INPUT for a missing or too long name, a bad address, phone or
// language, and CONFLICT for an address another person has.
func (s *Service) CreatePerson(ctx context.Context, in PersonInput) (*Person, error) {
	if err := authorizeCreatePerson(ctx); err != nil {
		return nil, err
	}
	var out *Person
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.createPerson(ctx, tx, in)
		return err
	})
	return out, err
}

// editPerson loads a person in tx and checks that the actor may edit them
// (UpdatePerson: administrators and, for a person holding no global role,
// the coordinators of the person's groups or, for a person in no group
// and without an account, any coordinator).
func (s *Service) editPerson(ctx context.Context, tx bun.IDB, op string, id int64) (*Person, error) {
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	p, err := loadPerson(ctx, tx, op, id)
	if err != nil {
		return nil, err
	}
	r, err := loadPersonResource(ctx, tx, op, p)
	if err != nil {
		return nil, err
	}
	if err := authorizeUpdatePerson(ctx, r); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePerson changes a directory entry (UpdatePerson, see editPerson). Only
// administrators change the email of a person who has an account (it is how
// they sign in): FORBIDDEN for anyone else. It returns NOT_FOUND for an
// unknown person, BAD_USER_INPUT for bad values, CONFLICT for an address
// another person has or a person who was erased.
func (s *Service) UpdatePerson(ctx context.Context, id int64, p PersonPatch) (*Person, error) {
	const op = "network.UpdatePerson"
	var out *Person
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		cur, err := s.editPerson(ctx, tx, op, id)
		if err != nil {
			return err
		}
		out, err = s.updatePerson(ctx, tx, cur, p)
		return err
	})
	return out, err
}

// ArchivePerson archives (archived) or restores a person (UpdatePerson, see
// editPerson), who then has no territory role and leaves the lists;
// memberships and affiliations stay. Doing it twice changes nothing. An
// erased person stays archived: CONFLICT.
func (s *Service) ArchivePerson(ctx context.Context, id int64, archived bool) (*Person, error) {
	const op = "network.ArchivePerson"
	var out *Person
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.editPerson(ctx, tx, op, id)
		if err != nil {
			return err
		}
		if p.ErasedAt != nil {
			return apperr.E(apperr.Conflict, op, "this person was erased and stays archived")
		}
		out = p
		return s.setArchived(ctx, tx, op, "person", p, &p.ArchivedAt, &p.UpdatedAt, archived)
	})
	if err == nil {
		s.rolesChanged(id)
	}
	return out, err
}

// groupTerritories gives, per person id, the territories of the working
// groups (not archived) the person is a current member of, in one statement.
func groupTerritories(ctx context.Context, db bun.IDB, op string, ids []int64) (map[int64][]int64, error) {
	out := make(map[int64][]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		PersonID    int64 `bun:"person_id"`
		TerritoryID int64 `bun:"territory_id"`
	}
	err := db.NewSelect().TableExpr("working_group_members AS wgm").
		Join("JOIN working_groups AS wg ON wg.id = wgm.working_group_id").
		ColumnExpr("wgm.person_id, wg.territory_id").
		Where("wgm.person_id IN (?)", bun.In(ids)).Where("wgm.left_at IS NULL").Where("wg.archived_at IS NULL").
		OrderExpr("wgm.person_id, wg.territory_id").Scan(ctx, &rows)
	if err != nil {
		return nil, storage.MapError(op, "membership", err)
	}
	for _, r := range rows {
		out[r.PersonID] = append(out[r.PersonID], r.TerritoryID)
	}
	return out, nil
}

// GroupTerritoriesOfPeople gives, per person id, the territory ids of the
// working groups the person is currently a member of (archived groups
// left out), in one statement: the Resource.Territories of ReadPerson and
// ReadPersonContact.
func (s *Service) GroupTerritoriesOfPeople(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	const op = "network.GroupTerritoriesOfPeople"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return groupTerritories(ctx, s.db, op, ids)
}

// Person returns one person, archived or erased, if the actor may see them
// (ReadPerson with the person's working-group territories); NOT_FOUND
// otherwise, so that ids cannot be probed.
func (s *Service) Person(ctx context.Context, id int64) (*Person, error) {
	const op = "network.Person"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	people, _, err := s.visibleByID(ctx, op, []int64{id})
	if err != nil {
		return nil, err
	}
	p, ok := people[id]
	if !ok {
		return nil, apperr.E(apperr.NotFound, op, "no such person")
	}
	return p, nil
}

// PeopleByID loads people for a batch (dataloader), in two statements,
// keeping only those the actor may see: the others are absent from the map.
func (s *Service) PeopleByID(ctx context.Context, ids []int64) (map[int64]*Person, error) {
	people, _, err := s.PeopleAndGroupsByID(ctx, ids)
	return people, err
}

// PeopleAndGroupsByID is PeopleByID that also gives, per person it keeps,
// the territories of their current groups (as GroupTerritoriesOfPeople
// does), which it reads anyway to decide who is visible: a caller about to
// show contacts needs them next. Two statements for any number of ids.
func (s *Service) PeopleAndGroupsByID(ctx context.Context, ids []int64) (map[int64]*Person, map[int64][]int64, error) {
	const op = "network.PeopleByID"
	if err := requireActor(ctx, op); err != nil {
		return nil, nil, err
	}
	return s.visibleByID(ctx, op, ids)
}

func (s *Service) visibleByID(ctx context.Context, op string, ids []int64) (map[int64]*Person, map[int64][]int64, error) {
	out, groups := make(map[int64]*Person, len(ids)), make(map[int64][]int64, len(ids))
	if len(ids) == 0 {
		return out, groups, nil
	}
	var people []*Person
	if err := s.db.NewSelect().Model(&people).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, nil, storage.MapError(op, "person", err)
	}
	terr, err := groupTerritories(ctx, s.db, op, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range people {
		if access.Check(ctx, access.ReadPerson, access.Resource{OwnerID: p.ID, Territories: terr[p.ID]}) == nil {
			out[p.ID], groups[p.ID] = p, terr[p.ID]
		}
	}
	return out, groups, nil
}

// ContactsOf returns p's private contacts when the actor may read them
// (ReadPersonContact: the person, administrators and the coordinators of
// territories, the person's group territories), or nil.
func (s *Service) ContactsOf(ctx context.Context, p *Person, territories []int64) *Contacts {
	if p == nil || access.Check(ctx, access.ReadPersonContact, access.Resource{OwnerID: p.ID, Territories: territories}) != nil {
		return nil
	}
	return &Contacts{Email: p.Email, Phone: p.Phone}
}

// Contacts are a person's private contacts.
type Contacts struct {
	Email *string
	Phone *string
}

// People lists the people the actor may see (ReadPerson), in SQL so that
// totalCount counts only them: administrators, policy makers and
// coordinators see everyone; anyone else sees themselves and the current
// members of the working groups they belong to. Archived and erased people
// (pseudonymised) are listed only with IncludeArchived. Sorting by name
// folds case as the database does (SQLite's lower() folds ASCII only).
func (s *Service) People(ctx context.Context, f PersonFilter, o Sort, p relay.PageArgs) (*relay.Page[*Person], error) {
	const op = "network.People"
	a := access.ActorFrom(ctx)
	if err := access.Check(ctx, access.ReadPerson, access.Resource{OwnerID: a.PersonID}); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*sortedPerson)(nil)).ColumnExpr("person.*").ColumnExpr("lower(person.display_name) AS sort_key")
	q = visiblePeople(q, a)
	if f.Territory != "" {
		tid, err := s.territoryID(ctx, s.db, op, "territory", f.Territory)
		if err != nil {
			return nil, err
		}
		q = q.Where(`EXISTS (SELECT 1 FROM working_group_members AS fm JOIN working_groups AS fg ON fg.id = fm.working_group_id
			WHERE fm.person_id = person.id AND fm.left_at IS NULL AND fg.territory_id = ?)`, tid)
	}
	if f.OrganizationID != 0 {
		q = q.Where(`EXISTS (SELECT 1 FROM affiliations AS fa WHERE fa.person_id = person.id AND fa.ended_at IS NULL AND fa.organization_id = ?)`, f.OrganizationID)
	}
	q = whereSearch(q, "lower(person.display_name)", f.Search)
	if !f.IncludeArchived {
		q = q.Where("person.archived_at IS NULL")
	}
	order := relay.Order{Column: "lower(person.display_name)", IDColumn: "person.id", Desc: o.Desc}
	switch o.Field {
	case "", SortByName:
	case SortByCreated:
		order.Column = ""
	default:
		return nil, apperr.Invalid(op, "orderBy", "people are ordered by NAME or CREATED_AT; got %q", o.Field)
	}
	page, err := relay.Paginate(ctx, q, p, order, func(r *sortedPerson) (string, int64) { return r.SortKey, r.ID })
	if err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	out := &relay.Page[*Person]{Cursors: page.Cursors, HasNextPage: page.HasNextPage,
		HasPreviousPage: page.HasPreviousPage, TotalCount: page.TotalCount, Items: make([]*Person, len(page.Items))}
	for i, r := range page.Items {
		out.Items[i] = &r.Person
	}
	return out, nil
}

// visiblePeople narrows q to the people a may see: the rule of
// access.ReadPerson, in SQL.
func visiblePeople(q *bun.SelectQuery, a *access.Actor) *bun.SelectQuery {
	if a.Has(access.Admin) || a.Has(access.PolicyMaker) || a.CoordinatesAny() {
		return q
	}
	terr := slices.Sorted(maps.Keys(a.Territories))
	if len(terr) == 0 {
		return q.Where("person.id = ?", a.PersonID)
	}
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("person.id = ?", a.PersonID).
			WhereOr(`person.id IN (SELECT vm.person_id FROM working_group_members AS vm JOIN working_groups AS vg ON vg.id = vm.working_group_id
				WHERE vm.left_at IS NULL AND vg.archived_at IS NULL AND vg.territory_id IN (?))`, bun.In(terr))
	})
}
