package network

import (
	"context"
	"regexp"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// maxMunicipalityName is the longest municipality name, the column's width.
const maxMunicipalityName = 200

var istatCodePattern = regexp.MustCompile(`^[0-9]{6}$`)

// Municipalities lists municipalities (ReadNetwork), ordered by name.
func (s *Service) Municipalities(ctx context.Context, f MunicipalityFilter, p relay.PageArgs) (*relay.Page[*Municipality], error) {
	const op = "network.Municipalities"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*Municipality)(nil))
	if strings.TrimSpace(f.Territory) != "" {
		t, err := s.territoryID(ctx, s.db, op, "territory", f.Territory)
		if err != nil {
			return nil, err
		}
		q = q.Where("m.territory_id = ?", t)
	}
	q = whereSearch(q, "m.name_key", f.Search)
	if !f.IncludeArchived {
		q = q.Where("m.archived_at IS NULL")
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{Column: "m.name_key", IDColumn: "m.id"},
		func(m *Municipality) (string, int64) { return m.NameKey, m.ID })
	if err != nil {
		return nil, storage.MapError(op, "municipality", err)
	}
	return page, nil
}

// Municipality returns one municipality, archived or not; NOT_FOUND when missing.
func (s *Service) Municipality(ctx context.Context, id int64) (*Municipality, error) {
	const op = "network.Municipality"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	return municipalityByID(ctx, s.db, op, id)
}

func municipalityByID(ctx context.Context, db bun.IDB, op string, id int64) (*Municipality, error) {
	m := new(Municipality)
	if err := db.NewSelect().Model(m).Where("m.id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "municipality", err)
	}
	return m, nil
}

// CreateMunicipality creates a municipality (ManageMunicipality: administrators).
// The same name in the territory, or the same ISTAT code: CONFLICT.
func (s *Service) CreateMunicipality(ctx context.Context, in MunicipalityInput) (*Municipality, error) {
	const op = "network.CreateMunicipality"
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	var m *Municipality
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.municipalityTerritory(ctx, tx, op, in.Territory)
		if err != nil {
			return err
		}
		if err := access.Check(ctx, access.ManageMunicipality, access.Resource{TerritoryID: t}); err != nil {
			return err
		}
		m, err = s.createMunicipality(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpdateMunicipality changes a municipality (ManageMunicipality on its old and new territory).
func (s *Service) UpdateMunicipality(ctx context.Context, id int64, p MunicipalityPatch) (*Municipality, error) {
	const op = "network.UpdateMunicipality"
	var m *Municipality
	err := s.inMunicipality(ctx, op, id, func(tx bun.Tx, cur *Municipality) error {
		if p.Territory != nil {
			t, err := s.municipalityTerritory(ctx, tx, op, *p.Territory)
			if err != nil {
				return err
			}
			if err := access.Check(ctx, access.ManageMunicipality, access.Resource{TerritoryID: t}); err != nil {
				return err
			}
		}
		var err error
		m, err = s.updateMunicipality(ctx, tx, cur, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ArchiveMunicipality archives or restores a municipality; archiving an
// archived one changes nothing.
func (s *Service) ArchiveMunicipality(ctx context.Context, id int64, archived bool) (*Municipality, error) {
	const op = "network.ArchiveMunicipality"
	var m *Municipality
	err := s.inMunicipality(ctx, op, id, func(tx bun.Tx, cur *Municipality) error {
		m = cur
		return s.setArchived(ctx, tx, op, "municipality", m, &m.ArchivedAt, &m.UpdatedAt, archived)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// inMunicipality runs fn in a transaction on municipality id, once the actor
// may manage the municipalities of its current territory.
func (s *Service) inMunicipality(ctx context.Context, op string, id int64, fn func(tx bun.Tx, m *Municipality) error) error {
	if err := access.Check(ctx, access.ReadNetwork, access.Resource{}); err != nil {
		return err
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := municipalityByID(ctx, tx, op, id)
		if err != nil {
			return err
		}
		if err := access.Check(ctx, access.ManageMunicipality, access.Resource{TerritoryID: m.TerritoryID}); err != nil {
			return err
		}
		return fn(tx, m)
	})
}

// municipalityTerritory resolves a municipality's territory, which is required.
func (s *Service) municipalityTerritory(ctx context.Context, db bun.IDB, op, code string) (int64, error) {
	if strings.TrimSpace(code) == "" {
		return 0, apperr.Invalid(op, "territory", "territory is required")
	}
	return s.territoryID(ctx, db, op, "territory", code)
}

// cleanIstatCode checks an optional ISTAT municipality code: six digits.
// Spreadsheets drop the leading zero of codes such as 086009, so five digits
// get it back.
func cleanIstatCode(op string, s *string) (*string, error) {
	v, err := optional(op, "istatCode", s, 20)
	if err != nil || v == nil {
		return nil, err
	}
	c := strings.ReplaceAll(*v, " ", "")
	if len(c) == 5 {
		c = "0" + c
	}
	if !istatCodePattern.MatchString(c) {
		return nil, apperr.Invalid(op, "istatCode", "%q is not an ISTAT municipality code (six digits, such as 086009)", *v)
	}
	return &c, nil
}

// createMunicipality validates in, refuses duplicates and writes the
// municipality. No authorization, no transaction of its own.
func (s *Service) createMunicipality(ctx context.Context, tx bun.IDB, in MunicipalityInput) (*Municipality, error) {
	const op = "network.CreateMunicipality"
	now := s.now()
	m := &Municipality{CreatedAt: now, UpdatedAt: now}
	if err := s.applyMunicipalityPatch(ctx, tx, op, m, MunicipalityPatch{Territory: &in.Territory, Name: &in.Name, IstatCode: in.IstatCode}); err != nil {
		return nil, err
	}
	if err := checkMunicipalityDuplicates(ctx, tx, op, m); err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "municipality", err)
	}
	return m, nil
}

// updateMunicipality applies p to m (as loaded), refusing duplicates. A patch
// that changes nothing writes nothing. No authorization, no transaction of
// its own.
func (s *Service) updateMunicipality(ctx context.Context, tx bun.IDB, m *Municipality, p MunicipalityPatch) (*Municipality, error) {
	const op = "network.UpdateMunicipality"
	next := *m
	if err := s.applyMunicipalityPatch(ctx, tx, op, &next, p); err != nil {
		return nil, err
	}
	if next.Name == m.Name && next.TerritoryID == m.TerritoryID && eqPtr(next.IstatCode, m.IstatCode) {
		return m, nil
	}
	if err := checkMunicipalityDuplicates(ctx, tx, op, &next); err != nil {
		return nil, err
	}
	next.UpdatedAt = s.now()
	if _, err := tx.NewUpdate().Model(&next).Column("territory_id", "name", "name_key", "istat_code", "updated_at").WherePK().Exec(ctx); err != nil {
		return nil, storage.MapError(op, "municipality", err)
	}
	return &next, nil
}

// applyMunicipalityPatch validates the fields p gives and sets them on m.
func (s *Service) applyMunicipalityPatch(ctx context.Context, tx bun.IDB, op string, m *Municipality, p MunicipalityPatch) error {
	var err error
	if p.Name != nil {
		if m.Name, err = cleanText(op, "name", *p.Name, maxMunicipalityName, true); err != nil {
			return err
		}
		m.NameKey = NameKey(m.Name)
	}
	if p.Territory != nil {
		if m.TerritoryID, err = s.municipalityTerritory(ctx, tx, op, *p.Territory); err != nil {
			return err
		}
	}
	if p.IstatCode != nil {
		if m.IstatCode, err = cleanIstatCode(op, p.IstatCode); err != nil {
			return err
		}
	}
	return nil
}

// checkMunicipalityDuplicates refuses, as CONFLICT naming the existing one, a
// municipality with m's name in m's territory or with m's ISTAT code,
// archived ones included. The unique indexes are the backstop.
func checkMunicipalityDuplicates(ctx context.Context, tx bun.IDB, op string, m *Municipality) error {
	var clash []clashRow
	if err := tx.NewSelect().TableExpr("municipalities AS m").
		ColumnExpr("m.id, m.name, m.archived_at IS NOT NULL AS archived, t.name AS territory_name").
		Join("JOIN territories AS t ON t.id = m.territory_id").
		Where("m.territory_id = ?", m.TerritoryID).Where("m.name_key = ?", m.NameKey).Where("m.id <> ?", m.ID).
		Limit(1).Scan(ctx, &clash); err != nil {
		return storage.MapError(op, "municipality", err)
	}
	if len(clash) > 0 {
		c := clash[0]
		return apperr.E(apperr.Conflict, op, "a municipality named %q already exists in %s%s", c.Name, *c.TerritoryName, c.restoreHint())
	}
	if m.IstatCode == nil {
		return nil
	}
	if err := tx.NewSelect().TableExpr("municipalities AS m").
		ColumnExpr("m.id, m.name, m.archived_at IS NOT NULL AS archived").
		Where("m.istat_code = ?", *m.IstatCode).Where("m.id <> ?", m.ID).
		Limit(1).Scan(ctx, &clash); err != nil {
		return storage.MapError(op, "municipality", err)
	}
	if len(clash) > 0 {
		return apperr.E(apperr.Conflict, op, "the ISTAT code %s is already that of %q%s", *m.IstatCode, clash[0].Name, clash[0].restoreHint())
	}
	return nil
}
