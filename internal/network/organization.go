package network

import (
	"context"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// maxOrganizationName is the longest organization name, the column's width.
const maxOrganizationName = 300

// Organizations lists organizations (ReadNetwork). Archived ones only with
// f.IncludeArchived. Unknown territory/theme codes, kinds, sectors or levels
// are BAD_USER_INPUT.
func (s *Service) Organizations(ctx context.Context, f OrganizationFilter, o Sort, p relay.PageArgs) (*relay.Page[*Organization], error) {
	const op = "network.Organizations"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	order, err := sortKeyset(op, o, "o.name_key", "o.id")
	if err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*Organization)(nil))
	if q, err = s.filterOrganizations(ctx, op, q, f); err != nil {
		return nil, err
	}
	page, err := relay.Paginate(ctx, q, p, order, func(x *Organization) (string, int64) { return x.NameKey, x.ID })
	if err != nil {
		return nil, storage.MapError(op, "organization", err)
	}
	return page, nil
}

// filterOrganizations adds f's conditions to q, a select of organizations
// aliased o.
func (s *Service) filterOrganizations(ctx context.Context, op string, q *bun.SelectQuery, f OrganizationFilter) (*bun.SelectQuery, error) {
	if strings.TrimSpace(f.Territory) != "" {
		t, err := s.territoryID(ctx, s.db, op, "territory", f.Territory)
		if err != nil {
			return nil, err
		}
		q = q.Where("o.id IN (SELECT ot.organization_id FROM organization_territories AS ot WHERE ot.territory_id = ?)", t)
	}
	if len(f.Kinds) > 0 {
		for _, k := range f.Kinds {
			if !k.Valid() {
				return nil, apperr.Invalid(op, "kinds", "%q is not a kind of organization; use one of %s", k, joinValues(Kinds))
			}
		}
		q = q.Where("o.kind IN (?)", bun.In(f.Kinds))
	}
	if f.Sector != "" {
		if !slices.Contains(Sectors, f.Sector) {
			return nil, apperr.Invalid(op, "sector", "%q is not a sector; use one of %s", f.Sector, joinValues(Sectors))
		}
		q = q.Where("o.kind IN (?)", bun.In(KindsOf(f.Sector)))
	}
	if f.Level != "" {
		if !f.Level.Valid() {
			return nil, apperr.Invalid(op, "level", "%q is not a level; use one of %s", f.Level, joinValues(Levels))
		}
		q = q.Where("o.level = ?", f.Level)
	}
	if strings.TrimSpace(string(f.Theme)) != "" {
		th, err := s.themeIDs(ctx, s.db, op, "theme", []reference.ThemeCode{f.Theme})
		if err != nil {
			return nil, err
		}
		q = q.Where("EXISTS (SELECT 1 FROM organization_themes AS oth WHERE oth.organization_id = o.id AND oth.theme_id = ?)", th[0])
	}
	q = whereSearch(q, "o.name_key", f.Search)
	if !f.IncludeArchived {
		q = q.Where("o.archived_at IS NULL")
	}
	return q, nil
}

// sortKeyset is the keyset of a list sorted by o: the folded name column
// (then the id) or the id alone, which is creation order.
func sortKeyset(op string, o Sort, nameColumn, idColumn string) (relay.Order, error) {
	switch o.Field {
	case "", SortByName:
		return relay.Order{Column: nameColumn, IDColumn: idColumn, Desc: o.Desc}, nil
	case SortByCreated:
		return relay.Order{IDColumn: idColumn, Desc: o.Desc}, nil
	}
	return relay.Order{}, apperr.Invalid(op, "orderBy", "%q is not a sort field; use %s or %s", o.Field, SortByName, SortByCreated)
}

// joinValues lists an enum's values for an error message.
func joinValues[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Organization returns one organization, archived or not; NOT_FOUND when missing.
func (s *Service) Organization(ctx context.Context, id int64) (*Organization, error) {
	const op = "network.Organization"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return organizationByID(ctx, s.db, op, id)
}

func organizationByID(ctx context.Context, db bun.IDB, op string, id int64) (*Organization, error) {
	o := new(Organization)
	if err := db.NewSelect().Model(o).Where("o.id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "organization", err)
	}
	return o, nil
}

// OrganizationsByID loads organizations for a batch (dataloader); missing ids are absent from the map.
func (s *Service) OrganizationsByID(ctx context.Context, ids []int64) (map[int64]*Organization, error) {
	const op = "network.OrganizationsByID"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return rowsByID(ctx, s.db, op, "organization", "o.id", ids, func(o *Organization) int64 { return o.ID })
}

// rowsByID reads the rows of T whose idColumn (with the model's alias, such
// as "o.id") is one of ids, in one statement (none for no ids), keyed by id.
func rowsByID[T any](ctx context.Context, db bun.IDB, op, what, idColumn string, ids []int64, id func(*T) int64) (map[int64]*T, error) {
	out := make(map[int64]*T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var list []*T
	if err := db.NewSelect().Model(&list).Where("? IN (?)", bun.Ident(idColumn), bun.In(ids)).Scan(ctx); err != nil {
		return nil, storage.MapError(op, what, err)
	}
	for _, x := range list {
		out[id(x)] = x
	}
	return out, nil
}

// idPair is one row of a batch loader: an owner and one id it refers to.
type idPair struct {
	Owner int64 `bun:"owner"`
	Ref   int64 `bun:"ref"`
}

// groupPairs turns loader rows, already in order, into a map.
func groupPairs(rows []idPair) map[int64][]int64 {
	out := map[int64][]int64{}
	for _, r := range rows {
		out[r.Owner] = append(out[r.Owner], r.Ref)
	}
	return out
}

// pairQuery is a loader's statement, built or raw.
type pairQuery interface {
	Scan(ctx context.Context, dest ...any) error
}

// loadPairs runs a loader's one statement, unless there is nothing to load.
func (s *Service) loadPairs(ctx context.Context, op, what string, ids []int64, q pairQuery) (map[int64][]int64, error) {
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return map[int64][]int64{}, nil
	}
	var rows []idPair
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, what, err)
	}
	return groupPairs(rows), nil
}

// TerritoriesOfOrganizations gives, per organization id, its territory ids (ordered by territory name).
func (s *Service) TerritoriesOfOrganizations(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	q := s.db.NewSelect().TableExpr("organization_territories AS ot").
		ColumnExpr("ot.organization_id AS owner, ot.territory_id AS ref").
		Join("JOIN territories AS t ON t.id = ot.territory_id").
		Where("ot.organization_id IN (?)", bun.In(ids)).
		OrderExpr("ot.organization_id, t.name, t.id")
	return s.loadPairs(ctx, "network.TerritoriesOfOrganizations", "territory", ids, q)
}

// ThemesOfOrganizations gives, per organization id, its theme ids (ordered by theme position).
func (s *Service) ThemesOfOrganizations(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	q := s.db.NewSelect().TableExpr("organization_themes AS oth").
		ColumnExpr("oth.organization_id AS owner, oth.theme_id AS ref").
		Join("JOIN themes AS th ON th.id = oth.theme_id").
		Where("oth.organization_id IN (?)", bun.In(ids)).
		OrderExpr("oth.organization_id, th.position, th.id")
	return s.loadPairs(ctx, "network.ThemesOfOrganizations", "theme", ids, q)
}

// CreateOrganization creates an organization (ManageOrganization on its
// territories, and on each alone: see authorizeOrganizationCreate). Same
// name in one of the same territories, or same tax code: CONFLICT.
func (s *Service) CreateOrganization(ctx context.Context, in OrganizationInput) (*Organization, error) {
	const op = "network.CreateOrganization"
	// Signed in first, so that anonymous callers learn nothing about the input.
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	var o *Organization
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ts, err := s.territoryIDs(ctx, tx, op, "territories", in.Territories)
		if err != nil {
			return err
		}
		if err := authorizeOrganizationCreate(ctx, ts); err != nil {
			return err
		}
		o, err = s.createOrganization(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// UpdateOrganization changes an organization (ManageOrganization on its
// current territories and, unless an administrator, on each territory it
// is moved into or out of: see authorizeOrganizationEdit). It returns
// NOT_FOUND for an unknown organization, BAD_USER_INPUT for bad values and
// CONFLICT for a duplicate.
func (s *Service) UpdateOrganization(ctx context.Context, id int64, p OrganizationPatch) (*Organization, error) {
	const op = "network.UpdateOrganization"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	var o *Organization
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		cur, curTs, err := loadOrganization(ctx, tx, op, id)
		if err != nil {
			return err
		}
		var next *[]int64
		if p.Territories != nil {
			ts, err := s.territoryIDs(ctx, tx, op, "territories", *p.Territories)
			if err != nil {
				return err
			}
			next = &ts
		}
		if err := authorizeOrganizationEdit(ctx, curTs, next); err != nil {
			return err
		}
		o, err = s.updateOrganization(ctx, tx, cur, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ArchiveOrganization archives (archived) or restores an organization
// (ManageOrganization on its territories). Archiving keeps its
// affiliations, memberships and practices; it only hides it from lists.
func (s *Service) ArchiveOrganization(ctx context.Context, id int64, archived bool) (*Organization, error) {
	const op = "network.ArchiveOrganization"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	var o *Organization
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		cur, ts, err := loadOrganization(ctx, tx, op, id)
		if err != nil {
			return err
		}
		if err := authorizeOrganizationEdit(ctx, ts, nil); err != nil {
			return err
		}
		o = cur
		// A restored organization cannot clash with another: archived ones
		// count as duplicates, so none was created meanwhile.
		return s.setArchived(ctx, tx, op, "organization", o, &o.ArchivedAt, &o.UpdatedAt, archived)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// loadOrganization reads organization id and the territories it works in;
// NOT_FOUND when missing.
func loadOrganization(ctx context.Context, db bun.IDB, op string, id int64) (*Organization, []int64, error) {
	o, err := organizationByID(ctx, db, op, id)
	if err != nil {
		return nil, nil, err
	}
	ts, err := organizationTerritoryIDs(ctx, db, op, id)
	if err != nil {
		return nil, nil, err
	}
	return o, ts, nil
}

// organizationTerritoryIDs are the territories organization id works in.
func organizationTerritoryIDs(ctx context.Context, db bun.IDB, op string, id int64) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*organizationTerritory)(nil)).Column("territory_id").
		Where("organization_id = ?", id).Order("territory_id").Scan(ctx, &ids)
	return ids, storage.MapError(op, "territory", err)
}

// organizationThemeIDs are the themes organization id works on.
func organizationThemeIDs(ctx context.Context, db bun.IDB, op string, id int64) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*organizationTheme)(nil)).Column("theme_id").
		Where("organization_id = ?", id).Order("theme_id").Scan(ctx, &ids)
	return ids, storage.MapError(op, "theme", err)
}

// createOrganization validates in, refuses duplicates and writes the
// organization with its territories and themes. No authorization, no
// transaction of its own: the caller brings both.
func (s *Service) createOrganization(ctx context.Context, tx bun.IDB, in OrganizationInput) (*Organization, error) {
	const op = "network.CreateOrganization"
	name, err := cleanText(op, "name", in.Name, maxOrganizationName, true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	o := &Organization{Name: name, NameKey: NameKey(name), CreatedAt: now, UpdatedAt: now, CreatedBy: actorID(ctx)}
	if o.Kind, err = checkKind(op, in.Kind); err != nil {
		return nil, err
	}
	if o.Level, err = checkLevel(op, in.Level); err != nil {
		return nil, err
	}
	if err := cleanOrganizationContacts(op, o, in.Website, in.Email, in.Phone, in.TaxCode); err != nil {
		return nil, err
	}
	ts, err := s.territoryIDs(ctx, tx, op, "territories", in.Territories)
	if err != nil {
		return nil, err
	}
	th, err := s.themeIDs(ctx, tx, op, "themes", in.Themes)
	if err != nil {
		return nil, err
	}
	if err := checkOrganizationDuplicates(ctx, tx, op, o, ts); err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(o).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "organization", err)
	}
	if err := writeOrganizationLinks(ctx, tx, op, o, ts, th, false); err != nil {
		return nil, err
	}
	return o, nil
}

// updateOrganization applies p to o (as loaded), refusing duplicates. A
// patch that changes nothing writes nothing and leaves UpdatedAt alone. No
// authorization, no transaction of its own.
func (s *Service) updateOrganization(ctx context.Context, tx bun.IDB, o *Organization, p OrganizationPatch) (*Organization, error) {
	const op = "network.UpdateOrganization"
	next := *o
	if p.Name != nil {
		name, err := cleanText(op, "name", *p.Name, maxOrganizationName, true)
		if err != nil {
			return nil, err
		}
		next.Name, next.NameKey = name, NameKey(name)
	}
	var err error
	if p.Kind != nil {
		if next.Kind, err = checkKind(op, *p.Kind); err != nil {
			return nil, err
		}
	}
	if p.Level != nil {
		if next.Level, err = checkLevel(op, *p.Level); err != nil {
			return nil, err
		}
	}
	if err := patchOrganizationContacts(op, &next, p); err != nil {
		return nil, err
	}
	oldTs, err := organizationTerritoryIDs(ctx, tx, op, o.ID)
	if err != nil {
		return nil, err
	}
	ts := oldTs
	if p.Territories != nil {
		if ts, err = s.territoryIDs(ctx, tx, op, "territories", *p.Territories); err != nil {
			return nil, err
		}
		slices.Sort(ts)
	}
	oldTh, err := organizationThemeIDs(ctx, tx, op, o.ID)
	if err != nil {
		return nil, err
	}
	th := oldTh
	if p.Themes != nil {
		if th, err = s.themeIDs(ctx, tx, op, "themes", *p.Themes); err != nil {
			return nil, err
		}
		slices.Sort(th)
	}
	territoriesChanged := !slices.Equal(ts, oldTs) || next.NameKey != o.NameKey
	themesChanged := !slices.Equal(th, oldTh)
	if !territoriesChanged && !themesChanged && sameOrganization(&next, o) {
		return o, nil
	}
	if err := checkOrganizationDuplicates(ctx, tx, op, &next, ts); err != nil {
		return nil, err
	}
	next.UpdatedAt = s.now()
	if _, err := tx.NewUpdate().Model(&next).
		Column("name", "name_key", "kind", "level", "website", "email", "phone", "tax_code", "updated_at").WherePK().Exec(ctx); err != nil {
		return nil, storage.MapError(op, "organization", err)
	}
	if territoriesChanged {
		if err := writeOrganizationLinks(ctx, tx, op, &next, ts, nil, true); err != nil {
			return nil, err
		}
	}
	if themesChanged {
		if err := replaceOrganizationThemes(ctx, tx, op, next.ID, th); err != nil {
			return nil, err
		}
	}
	return &next, nil
}

// sameOrganization reports whether a and b have the same stored fields.
func sameOrganization(a, b *Organization) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Level == b.Level && eqPtr(a.Website, b.Website) &&
		eqPtr(a.Email, b.Email) && eqPtr(a.Phone, b.Phone) && eqPtr(a.TaxCode, b.TaxCode)
}

// eqPtr reports whether two optional values are both absent or equal.
func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// checkKind checks a kind, upper-casing it (spreadsheets say "association").
func checkKind(op string, k Kind) (Kind, error) {
	k = Kind(strings.ToUpper(strings.TrimSpace(string(k))))
	if !k.Valid() {
		if k == "" {
			return "", apperr.Invalid(op, "kind", "kind is required; use one of %s", joinValues(Kinds))
		}
		return "", apperr.Invalid(op, "kind", "%q is not a kind of organization; use one of %s", k, joinValues(Kinds))
	}
	return k, nil
}

// checkLevel checks a level, upper-casing it.
func checkLevel(op string, l Level) (Level, error) {
	l = Level(strings.ToUpper(strings.TrimSpace(string(l))))
	if !l.Valid() {
		if l == "" {
			return "", apperr.Invalid(op, "level", "level is required; use one of %s", joinValues(Levels))
		}
		return "", apperr.Invalid(op, "level", "%q is not a level; use one of %s", l, joinValues(Levels))
	}
	return l, nil
}

// cleanOrganizationContacts checks and sets o's website, email, phone and tax code.
func cleanOrganizationContacts(op string, o *Organization, website, email, phone, taxCode *string) error {
	var err error
	if o.Website, err = cleanURL(op, "website", website); err != nil {
		return err
	}
	if o.Email, err = cleanEmail(op, "email", email); err != nil {
		return err
	}
	if o.Phone, err = cleanPhone(op, "phone", phone); err != nil {
		return err
	}
	o.TaxCode, err = cleanTaxCode(op, "taxCode", taxCode)
	return err
}

// patchOrganizationContacts applies the contact fields p gives to o; an
// empty string clears one.
func patchOrganizationContacts(op string, o *Organization, p OrganizationPatch) error {
	var err error
	if p.Website != nil {
		if o.Website, err = cleanURL(op, "website", p.Website); err != nil {
			return err
		}
	}
	if p.Email != nil {
		if o.Email, err = cleanEmail(op, "email", p.Email); err != nil {
			return err
		}
	}
	if p.Phone != nil {
		if o.Phone, err = cleanPhone(op, "phone", p.Phone); err != nil {
			return err
		}
	}
	if p.TaxCode != nil {
		if o.TaxCode, err = cleanTaxCode(op, "taxCode", p.TaxCode); err != nil {
			return err
		}
	}
	return nil
}

// clashRow is an existing entry that a new or changed one
// would duplicate, with the territory they share.
type clashRow struct {
	ID            int64   `bun:"id"`
	Name          string  `bun:"name"`
	Archived      bool    `bun:"archived"`
	TerritoryName *string `bun:"territory_name"`
}

func (c *clashRow) restoreHint() string {
	if c.Archived {
		return "; it is archived: restore it instead"
	}
	return ""
}

// checkOrganizationDuplicates refuses, as CONFLICT naming the existing
// organization, o's name in one of territories (or, with none, among
// organizations working in no territory), and o's tax code. Archived
// organizations count: they can be restored. The unique indexes are the
// backstop under concurrent writes; this gives the clear message.
func checkOrganizationDuplicates(ctx context.Context, tx bun.IDB, op string, o *Organization, territories []int64) error {
	if err := lockName(ctx, tx, op, "organization", o.NameKey); err != nil {
		return err
	}
	var clash []clashRow
	q := tx.NewSelect().TableExpr("organizations AS o").
		ColumnExpr("o.id, o.name, o.archived_at IS NOT NULL AS archived").
		Where("o.name_key = ?", o.NameKey).Where("o.id <> ?", o.ID).Limit(1)
	if len(territories) > 0 {
		q = q.ColumnExpr("t.name AS territory_name").
			Join("JOIN organization_territories AS ot ON ot.organization_id = o.id").
			Join("JOIN territories AS t ON t.id = ot.territory_id").
			Where("ot.territory_id IN (?)", bun.In(territories)).OrderExpr("t.name")
	} else {
		q = q.Where("NOT EXISTS (SELECT 1 FROM organization_territories AS ot WHERE ot.organization_id = o.id)")
	}
	if err := q.Scan(ctx, &clash); err != nil {
		return storage.MapError(op, "organization", err)
	}
	if len(clash) > 0 {
		c := clash[0]
		where := "among the organizations tied to no territory"
		if c.TerritoryName != nil {
			where = "in " + *c.TerritoryName
		}
		return apperr.E(apperr.Conflict, op, "an organization named %q already exists %s%s", c.Name, where, c.restoreHint())
	}
	if o.TaxCode == nil {
		return nil
	}
	if err := tx.NewSelect().TableExpr("organizations AS o").
		ColumnExpr("o.id, o.name, o.archived_at IS NOT NULL AS archived").
		Where("o.tax_code = ?", *o.TaxCode).Where("o.id <> ?", o.ID).Limit(1).Scan(ctx, &clash); err != nil {
		return storage.MapError(op, "organization", err)
	}
	if len(clash) > 0 {
		return apperr.E(apperr.Conflict, op, "the tax code %s is already that of %q%s", *o.TaxCode, clash[0].Name, clash[0].restoreHint())
	}
	return nil
}

// lockName makes transactions that check and write the same name of a kind
// take turns until they end, on PostgreSQL, where organizations tied to no
// territory have no unique index to catch a race. SQLite's BEGIN IMMEDIATE
// already serializes writers.
func lockName(ctx context.Context, tx bun.IDB, op, kind, key string) error {
	if storage.EngineOf(tx) != storage.Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "pia.network."+kind+":"+key)
	return storage.MapError(op, kind, err)
}

// writeOrganizationLinks writes o's territory rows (replacing the old ones
// when replace) and, on creation, its themes.
func writeOrganizationLinks(ctx context.Context, tx bun.IDB, op string, o *Organization, territories, themes []int64, replace bool) error {
	if replace {
		if _, err := tx.NewDelete().Model((*organizationTerritory)(nil)).Where("organization_id = ?", o.ID).Exec(ctx); err != nil {
			return storage.MapError(op, "territory", err)
		}
	}
	if len(territories) > 0 {
		rows := make([]organizationTerritory, len(territories))
		for i, t := range territories {
			rows[i] = organizationTerritory{OrganizationID: o.ID, TerritoryID: t, NameKey: o.NameKey}
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return conflictAsDuplicate(op, o.Name, storage.MapError(op, "organization", err))
		}
	}
	if replace {
		return nil
	}
	return insertOrganizationThemes(ctx, tx, op, o.ID, themes)
}

// conflictAsDuplicate rewords the unique index's CONFLICT, met only when
// another request wrote the same name meanwhile.
func conflictAsDuplicate(op, name string, err error) error {
	if apperr.Is(err, apperr.Conflict) {
		return apperr.E(apperr.Conflict, op, "an organization named %q was just created in one of these territories", name)
	}
	return err
}

// replaceOrganizationThemes makes themes the organization's themes.
func replaceOrganizationThemes(ctx context.Context, tx bun.IDB, op string, id int64, themes []int64) error {
	if _, err := tx.NewDelete().Model((*organizationTheme)(nil)).Where("organization_id = ?", id).Exec(ctx); err != nil {
		return storage.MapError(op, "theme", err)
	}
	return insertOrganizationThemes(ctx, tx, op, id, themes)
}

// insertOrganizationThemes adds themes to an organization that has none of
// them, such as a new one.
func insertOrganizationThemes(ctx context.Context, tx bun.IDB, op string, id int64, themes []int64) error {
	if len(themes) == 0 {
		return nil
	}
	rows := make([]organizationTheme, len(themes))
	for i, t := range themes {
		rows[i] = organizationTheme{OrganizationID: id, ThemeID: t}
	}
	_, err := tx.NewInsert().Model(&rows).Exec(ctx)
	return storage.MapError(op, "theme", err)
}
