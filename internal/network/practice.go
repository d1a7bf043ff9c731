package network

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Limits of a practice's texts: the columns' widths, and for the free texts
// what a description page can reasonably show.
const (
	maxPracticeName    = 300
	maxDescription     = 10000
	maxFundingDetail   = 300
	maxBeneficiaries   = 2000
	maxServices        = 30
	maxService         = 200
	maxOpeningHours    = 500
	maxPracticeAddress = 300
)

// Practices lists practices (ReadNetwork).
func (s *Service) Practices(ctx context.Context, f PracticeFilter, o Sort, p relay.PageArgs) (*relay.Page[*Practice], error) {
	const op = "network.Practices"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	order, err := sortKeyset(op, o, "pr.name_key", "pr.id")
	if err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*Practice)(nil))
	if q, err = s.filterPractices(ctx, op, q, f); err != nil {
		return nil, err
	}
	page, err := relay.Paginate(ctx, q, p, order, func(x *Practice) (string, int64) { return x.NameKey, x.ID })
	if err != nil {
		return nil, storage.MapError(op, "practice", err)
	}
	return page, nil
}

// filterPractices adds f's conditions to q, a select of practices aliased pr.
func (s *Service) filterPractices(ctx context.Context, op string, q *bun.SelectQuery, f PracticeFilter) (*bun.SelectQuery, error) {
	if strings.TrimSpace(f.Territory) != "" {
		t, err := s.territoryID(ctx, s.db, op, "territory", f.Territory)
		if err != nil {
			return nil, err
		}
		q = q.Where("pr.territory_id = ?", t)
	}
	if strings.TrimSpace(string(f.Theme)) != "" {
		th, err := s.themeIDs(ctx, s.db, op, "theme", []reference.ThemeCode{f.Theme})
		if err != nil {
			return nil, err
		}
		q = q.Where("EXISTS (SELECT 1 FROM practice_themes AS pth WHERE pth.practice_id = pr.id AND pth.theme_id = ?)", th[0])
	}
	if f.Funding != "" {
		if !f.Funding.Valid() {
			return nil, apperr.Invalid(op, "funding", "%q is not a funding programme; use one of %s", f.Funding, joinValues(Fundings))
		}
		q = q.Where("pr.funding = ?", f.Funding)
	}
	if f.OrganizationID != 0 {
		q = q.Where("(pr.lead_organization_id = ? OR EXISTS (SELECT 1 FROM practice_partners AS pp WHERE pp.practice_id = pr.id AND pp.organization_id = ?))",
			f.OrganizationID, f.OrganizationID)
	}
	q = whereSearch(q, "pr.name_key", f.Search)
	if !f.IncludeArchived {
		q = q.Where("pr.archived_at IS NULL")
	}
	return q, nil
}

// Practice returns one practice.
func (s *Service) Practice(ctx context.Context, id int64) (*Practice, error) {
	const op = "network.Practice"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return practiceByID(ctx, s.db, op, id)
}

func practiceByID(ctx context.Context, db bun.IDB, op string, id int64) (*Practice, error) {
	pr := new(Practice)
	if err := db.NewSelect().Model(pr).Where("pr.id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "practice", err)
	}
	return pr, nil
}

// PracticesByID loads practices for a batch (dataloader), archived ones
// included, in one statement (ReadNetwork); missing ids are absent from the
// map.
func (s *Service) PracticesByID(ctx context.Context, ids []int64) (map[int64]*Practice, error) {
	const op = "network.PracticesByID"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return rowsByID(ctx, s.db, op, "practice", "pr.id", ids, func(pr *Practice) int64 { return pr.ID })
}

// ThemesOfPractices gives, per practice id, its theme ids (ordered by theme position).
func (s *Service) ThemesOfPractices(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	q := s.db.NewSelect().TableExpr("practice_themes AS pth").
		ColumnExpr("pth.practice_id AS owner, pth.theme_id AS ref").
		Join("JOIN themes AS th ON th.id = pth.theme_id").
		Where("pth.practice_id IN (?)", bun.In(ids)).
		OrderExpr("pth.practice_id, th.position, th.id")
	return s.loadPairs(ctx, "network.ThemesOfPractices", "theme", ids, q)
}

// PartnersOfPractices gives, per practice id, its partner organization ids (ordered by name).
func (s *Service) PartnersOfPractices(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	q := s.db.NewSelect().TableExpr("practice_partners AS pp").
		ColumnExpr("pp.practice_id AS owner, pp.organization_id AS ref").
		Join("JOIN organizations AS o ON o.id = pp.organization_id").
		Where("pp.practice_id IN (?)", bun.In(ids)).
		OrderExpr("pp.practice_id, o.name_key, o.id")
	return s.loadPairs(ctx, "network.PartnersOfPractices", "organization", ids, q)
}

// PracticesOfOrganizations gives, per organization id, the ids of the practices it leads or
// partners, by name. Archived practices are left out, as from every list.
func (s *Service) PracticesOfOrganizations(ctx context.Context, ids []int64) (map[int64][]int64, error) {
	q := s.db.NewRaw(`SELECT x.owner, x.ref FROM (
		SELECT pr.lead_organization_id AS owner, pr.id AS ref, pr.name_key AS k FROM practices AS pr
		WHERE pr.lead_organization_id IN (?) AND pr.archived_at IS NULL
		UNION
		SELECT pp.organization_id, pr.id, pr.name_key FROM practice_partners AS pp
		JOIN practices AS pr ON pr.id = pp.practice_id
		WHERE pp.organization_id IN (?) AND pr.archived_at IS NULL
	) AS x ORDER BY x.owner, x.k, x.ref`, bun.In(ids), bun.In(ids))
	return s.loadPairs(ctx, "network.PracticesOfOrganizations", "practice", ids, q)
}

// CreatePractice creates a practice (ManagePractice on its territory); same name in the territory: CONFLICT.
func (s *Service) CreatePractice(ctx context.Context, in PracticeInput) (*Practice, error) {
	const op = "network.CreatePractice"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	var pr *Practice
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.practiceTerritory(ctx, tx, op, in.Territory)
		if err != nil {
			return err
		}
		if err := access.Check(ctx, access.ManagePractice, access.Resource{TerritoryID: t}); err != nil {
			return err
		}
		pr, err = s.createPractice(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// UpdatePractice changes a practice (ManagePractice on its old and new territory).
func (s *Service) UpdatePractice(ctx context.Context, id int64, p PracticePatch) (*Practice, error) {
	const op = "network.UpdatePractice"
	var pr *Practice
	err := s.inPractice(ctx, op, id, func(tx bun.Tx, cur *Practice) error {
		if p.Territory != nil {
			t, err := s.practiceTerritory(ctx, tx, op, *p.Territory)
			if err != nil {
				return err
			}
			if err := access.Check(ctx, access.ManagePractice, access.Resource{TerritoryID: t}); err != nil {
				return err
			}
		}
		var err error
		pr, err = s.updatePractice(ctx, tx, cur, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// ArchivePractice archives or restores a practice; archiving an archived one
// changes nothing. Its themes and partners stay.
func (s *Service) ArchivePractice(ctx context.Context, id int64, archived bool) (*Practice, error) {
	const op = "network.ArchivePractice"
	var pr *Practice
	err := s.inPractice(ctx, op, id, func(tx bun.Tx, cur *Practice) error {
		pr = cur
		return s.setArchived(ctx, tx, op, "practice", pr, &pr.ArchivedAt, &pr.UpdatedAt, archived)
	})
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// inPractice runs fn in a transaction on practice id, once the actor may
// manage practices of its current territory.
func (s *Service) inPractice(ctx context.Context, op string, id int64, fn func(tx bun.Tx, pr *Practice) error) error {
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return err
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		pr, err := practiceByID(ctx, tx, op, id)
		if err != nil {
			return err
		}
		if err := access.Check(ctx, access.ManagePractice, access.Resource{TerritoryID: pr.TerritoryID}); err != nil {
			return err
		}
		return fn(tx, pr)
	})
}

// practiceTerritory resolves a practice's territory, which is required.
func (s *Service) practiceTerritory(ctx context.Context, db bun.IDB, op, code string) (int64, error) {
	if strings.TrimSpace(code) == "" {
		return 0, apperr.Invalid(op, "territory", "territory is required")
	}
	return s.territoryID(ctx, db, op, "territory", code)
}

// createPractice validates in, refuses a duplicate name in the territory
// and writes the practice with its themes and partners. No authorization,
// no transaction of its own.
func (s *Service) createPractice(ctx context.Context, tx bun.IDB, in PracticeInput) (*Practice, error) {
	const op = "network.CreatePractice"
	now := s.now()
	pr := &Practice{Funding: FundingOther, Services: []string{}, CreatedAt: now, UpdatedAt: now}
	links, err := s.applyPracticePatch(ctx, tx, op, pr, PracticePatch{
		Name: &in.Name, Description: &in.Description, Territory: &in.Territory, Themes: &in.Themes,
		LeadOrganizationID: in.LeadOrganizationID, PartnerIDs: &in.PartnerIDs, Funding: &in.Funding,
		FundingDetail: &in.FundingDetail, StartsOn: in.StartsOn, EndsOn: in.EndsOn, Beneficiaries: &in.Beneficiaries,
		Services: &in.Services, OpeningHours: &in.OpeningHours, Address: &in.Address,
		ContactEmail: in.ContactEmail, ContactPhone: in.ContactPhone, Website: in.Website,
	})
	if err != nil {
		return nil, err
	}
	if err := checkPracticeDuplicate(ctx, tx, op, pr); err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(pr).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "practice", err)
	}
	if err := links.write(ctx, tx, op, pr.ID); err != nil {
		return nil, err
	}
	return pr, nil
}

// updatePractice applies p to pr (as loaded), refusing a duplicate name in
// the territory. No authorization, no transaction of its own.
func (s *Service) updatePractice(ctx context.Context, tx bun.IDB, pr *Practice, p PracticePatch) (*Practice, error) {
	const op = "network.UpdatePractice"
	next := *pr
	links, err := s.applyPracticePatch(ctx, tx, op, &next, p)
	if err != nil {
		return nil, err
	}
	// A new lead that was a partner stops being one.
	if links.partners == nil && next.LeadOrganizationID != nil && !eqPtr(next.LeadOrganizationID, pr.LeadOrganizationID) {
		var cur []int64
		if err := tx.NewSelect().Model((*practicePartner)(nil)).Column("organization_id").
			Where("practice_id = ?", pr.ID).Scan(ctx, &cur); err != nil {
			return nil, storage.MapError(op, "partner", err)
		}
		if slices.Contains(cur, *next.LeadOrganizationID) {
			rest := slices.DeleteFunc(cur, func(id int64) bool { return id == *next.LeadOrganizationID })
			links.partners = &rest
		}
	}
	if next.TerritoryID != pr.TerritoryID || next.NameKey != pr.NameKey {
		if err := checkPracticeDuplicate(ctx, tx, op, &next); err != nil {
			return nil, err
		}
	}
	next.UpdatedAt = s.now()
	if _, err := tx.NewUpdate().Model(&next).ExcludeColumn("id", "created_at", "archived_at").WherePK().Exec(ctx); err != nil {
		return nil, storage.MapError(op, "practice", err)
	}
	if err := links.write(ctx, tx, op, next.ID); err != nil {
		return nil, err
	}
	return &next, nil
}

// practiceLinks are a practice's themes and partners to write; nil leaves
// them as they are.
type practiceLinks struct {
	themes   *[]int64
	partners *[]int64
}

func (l practiceLinks) write(ctx context.Context, tx bun.IDB, op string, id int64) error {
	if l.themes != nil {
		if _, err := tx.NewDelete().Model((*practiceTheme)(nil)).Where("practice_id = ?", id).Exec(ctx); err != nil {
			return storage.MapError(op, "theme", err)
		}
		if len(*l.themes) > 0 {
			rows := make([]practiceTheme, len(*l.themes))
			for i, t := range *l.themes {
				rows[i] = practiceTheme{PracticeID: id, ThemeID: t}
			}
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return storage.MapError(op, "theme", err)
			}
		}
	}
	if l.partners != nil {
		if _, err := tx.NewDelete().Model((*practicePartner)(nil)).Where("practice_id = ?", id).Exec(ctx); err != nil {
			return storage.MapError(op, "partner", err)
		}
		if len(*l.partners) > 0 {
			rows := make([]practicePartner, len(*l.partners))
			for i, o := range *l.partners {
				rows[i] = practicePartner{PracticeID: id, OrganizationID: o}
			}
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return storage.MapError(op, "partner", err)
			}
		}
	}
	return nil
}

// applyPracticePatch validates the fields p gives and sets them on pr. It
// returns the themes and partners to write. The lead and partners must
// exist; a partner equal to the lead is dropped.
func (s *Service) applyPracticePatch(ctx context.Context, tx bun.IDB, op string, pr *Practice, p PracticePatch) (practiceLinks, error) {
	var links practiceLinks
	if err := applyPracticeTexts(op, pr, p); err != nil {
		return links, err
	}
	if p.Territory != nil {
		t, err := s.practiceTerritory(ctx, tx, op, *p.Territory)
		if err != nil {
			return links, err
		}
		pr.TerritoryID = t
	}
	if p.Themes != nil {
		th, err := s.themeIDs(ctx, tx, op, "themes", *p.Themes)
		if err != nil {
			return links, err
		}
		links.themes = &th
	}
	if p.Funding != nil {
		f := Funding(strings.ToUpper(strings.TrimSpace(string(*p.Funding))))
		if f == "" {
			f = FundingOther
		}
		if !f.Valid() {
			return links, apperr.Invalid(op, "funding", "%q is not a funding programme; use one of %s", *p.Funding, joinValues(Fundings))
		}
		pr.Funding = f
	}
	if err := applyPracticeDates(op, pr, p); err != nil {
		return links, err
	}
	if p.LeadOrganizationID != nil {
		pr.LeadOrganizationID = nil
		if *p.LeadOrganizationID != 0 {
			id := *p.LeadOrganizationID
			pr.LeadOrganizationID = &id
		}
	}
	var partners []int64
	if p.PartnerIDs != nil {
		partners = make([]int64, 0, len(*p.PartnerIDs))
		for _, id := range *p.PartnerIDs {
			if !slices.Contains(partners, id) && !eqPtr(&id, pr.LeadOrganizationID) {
				partners = append(partners, id)
			}
		}
		links.partners = &partners
	}
	if err := checkOrganizationsExist(ctx, tx, op, p.LeadOrganizationID != nil, pr.LeadOrganizationID, partners); err != nil {
		return links, err
	}
	return links, nil
}

// applyPracticeTexts checks and sets the texts and contacts p gives.
func applyPracticeTexts(op string, pr *Practice, p PracticePatch) error {
	var err error
	if p.Name != nil {
		if pr.Name, err = cleanText(op, "name", *p.Name, maxPracticeName, true); err != nil {
			return err
		}
		pr.NameKey = NameKey(pr.Name)
	}
	long := []struct {
		field string
		in    *string
		out   *string
		max   int
	}{
		{"description", p.Description, &pr.Description, maxDescription},
		{"beneficiaries", p.Beneficiaries, &pr.Beneficiaries, maxBeneficiaries},
		{"openingHours", p.OpeningHours, &pr.OpeningHours, maxOpeningHours},
	}
	for _, f := range long {
		if f.in != nil {
			if *f.out, err = cleanLongText(op, f.field, *f.in, f.max); err != nil {
				return err
			}
		}
	}
	if p.FundingDetail != nil {
		if pr.FundingDetail, err = cleanText(op, "fundingDetail", *p.FundingDetail, maxFundingDetail, false); err != nil {
			return err
		}
	}
	if p.Address != nil {
		if pr.Address, err = cleanText(op, "address", *p.Address, maxPracticeAddress, false); err != nil {
			return err
		}
	}
	if p.Services != nil {
		if pr.Services, err = cleanServices(op, *p.Services); err != nil {
			return err
		}
	}
	if p.ContactEmail != nil {
		if pr.ContactEmail, err = cleanEmail(op, "contactEmail", p.ContactEmail); err != nil {
			return err
		}
	}
	if p.ContactPhone != nil {
		if pr.ContactPhone, err = cleanPhone(op, "contactPhone", p.ContactPhone); err != nil {
			return err
		}
	}
	if p.Website != nil {
		if pr.Website, err = cleanURL(op, "website", p.Website); err != nil {
			return err
		}
	}
	return nil
}

// cleanServices cleans each service offered, drops empty ones and repeats,
// and refuses more than maxServices.
func cleanServices(op string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		c, err := cleanText(op, "services", s, maxService, false)
		if err != nil {
			return nil, err
		}
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) > maxServices {
		return nil, apperr.Invalid(op, "services", "%d services are listed; the most is %d", len(out), maxServices)
	}
	return out, nil
}

// applyPracticeDates sets the period p gives (a zero time clears a date),
// and refuses a date outside FirstDate..LastDate and a period that ends
// before it starts.
func applyPracticeDates(op string, pr *Practice, p PracticePatch) error {
	set := func(field string, dst **time.Time, v *time.Time) error {
		if v == nil {
			return nil
		}
		if v.IsZero() {
			*dst = nil
			return nil
		}
		d, err := cleanDate(op, field, *v)
		if err != nil {
			return err
		}
		*dst = &d
		return nil
	}
	if err := set("startsOn", &pr.StartsOn, p.StartsOn); err != nil {
		return err
	}
	if err := set("endsOn", &pr.EndsOn, p.EndsOn); err != nil {
		return err
	}
	if pr.StartsOn != nil && pr.EndsOn != nil && pr.EndsOn.Before(*pr.StartsOn) {
		return apperr.Invalid(op, "endsOn", "the practice ends on %s, before it starts on %s",
			pr.EndsOn.Format(time.DateOnly), pr.StartsOn.Format(time.DateOnly))
	}
	return nil
}

// checkOrganizationsExist refuses a lead (when checkLead) or partners that
// are not organizations, naming the first missing id. Archived
// organizations exist: a practice may keep or name one.
func checkOrganizationsExist(ctx context.Context, tx bun.IDB, op string, checkLead bool, lead *int64, partners []int64) error {
	ids := slices.Clone(partners)
	if checkLead && lead != nil {
		ids = append(ids, *lead)
	}
	if len(ids) == 0 {
		return nil
	}
	var found []int64
	if err := tx.NewSelect().Model((*Organization)(nil)).Column("o.id").Where("o.id IN (?)", bun.In(ids)).Scan(ctx, &found); err != nil {
		return storage.MapError(op, "organization", err)
	}
	if checkLead && lead != nil && !slices.Contains(found, *lead) {
		return apperr.Invalid(op, "leadOrganizationId", "no organization has the id %s", relay.ID("Organization", *lead))
	}
	for _, id := range partners {
		if !slices.Contains(found, id) {
			return apperr.Invalid(op, "partnerIds", "no organization has the id %s", relay.ID("Organization", id))
		}
	}
	return nil
}

// checkPracticeDuplicate refuses, as CONFLICT naming the existing one, a
// practice with pr's name in pr's territory, archived ones included.
func checkPracticeDuplicate(ctx context.Context, tx bun.IDB, op string, pr *Practice) error {
	var clash []clashRow
	if err := tx.NewSelect().TableExpr("practices AS pr").
		ColumnExpr("pr.id, pr.name, pr.archived_at IS NOT NULL AS archived, t.name AS territory_name").
		Join("JOIN territories AS t ON t.id = pr.territory_id").
		Where("pr.territory_id = ?", pr.TerritoryID).Where("pr.name_key = ?", pr.NameKey).Where("pr.id <> ?", pr.ID).
		Limit(1).Scan(ctx, &clash); err != nil {
		return storage.MapError(op, "practice", err)
	}
	if len(clash) > 0 {
		c := clash[0]
		return apperr.E(apperr.Conflict, op, "a practice named %q already exists in %s%s", c.Name, *c.TerritoryName, c.restoreHint())
	}
	return nil
}
