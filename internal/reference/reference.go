// Package reference serves PIA's reference data: the 9 Sicilian territories
// and the 4 themes. Both are created by the first migration and present from
// the first start.
package reference

import (
	"context"
	"regexp"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Territory is a Sicilian province (a free municipal consortium or a
// metropolitan city).
type Territory struct {
	bun.BaseModel `bun:"table:territories"`

	ID        int64  `bun:"id,pk,autoincrement"`
	Code      string `bun:"code"`       // two letters, such as "EN"
	Name      string `bun:"name"`       // such as "Enna"
	IstatCode string `bun:"istat_code"` // three digits, such as "086"
}

// ThemeCode is one of HEALTH, EDUCATION, WORK, HOUSING.
type ThemeCode string

// Theme is one of the four themes of the focus groups.
type Theme struct {
	bun.BaseModel `bun:"table:themes"`

	ID       int64     `bun:"id,pk,autoincrement"`
	Code     ThemeCode `bun:"code"`
	Position int       `bun:"position"`
	LabelIt  string    `bun:"label_it"`
	LabelEn  string    `bun:"label_en"`
}

// Label is the theme's label in lang ("it" or "en"); Italian otherwise.
func (t *Theme) Label(lang string) string {
	if strings.EqualFold(lang, "en") {
		return t.LabelEn
	}
	return t.LabelIt
}

// Service reads the reference data.
type Service struct {
	db bun.IDB
}

// NewService returns a Service on db.
func NewService(db bun.IDB) *Service { return &Service{db: db} }

// Territories returns the 9 territories ordered by name.
func (s *Service) Territories(ctx context.Context) ([]*Territory, error) {
	if err := access.Check(ctx, access.ReadReference, access.Resource{}); err != nil {
		return nil, err
	}
	var ts []*Territory
	if err := s.db.NewSelect().Model(&ts).Order("name").Scan(ctx); err != nil {
		return nil, storage.MapError("reference.Territories", "territory", err)
	}
	return ts, nil
}

var territoryCode = regexp.MustCompile(`^[A-Za-z]{2}$`)

// TerritoryByCode finds a territory by its two-letter code, in any case.
// It returns BAD_USER_INPUT for a code that is not two letters and NOT_FOUND
// for an unknown one.
func (s *Service) TerritoryByCode(ctx context.Context, code string) (*Territory, error) {
	if err := access.Check(ctx, access.ReadReference, access.Resource{}); err != nil {
		return nil, err
	}
	const op = "reference.TerritoryByCode"
	if !territoryCode.MatchString(code) {
		return nil, apperr.Invalid(op, "code", "a territory code is two letters, such as EN for Enna; got %q", code)
	}
	t := new(Territory)
	err := s.db.NewSelect().Model(t).Where("code = ?", strings.ToUpper(code)).Scan(ctx)
	if err != nil {
		err = storage.MapError(op, "territory", err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.E(apperr.NotFound, op, "no territory has the code %q", strings.ToUpper(code))
		}
		return nil, err
	}
	return t, nil
}

// TerritoryByID finds a territory by its id; NOT_FOUND when none has it.
func (s *Service) TerritoryByID(ctx context.Context, id int64) (*Territory, error) {
	if err := access.Check(ctx, access.ReadReference, access.Resource{}); err != nil {
		return nil, err
	}
	t := new(Territory)
	if err := s.db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError("reference.TerritoryByID", "territory", err)
	}
	return t, nil
}

// Themes returns the 4 themes in their fixed order.
func (s *Service) Themes(ctx context.Context) ([]*Theme, error) {
	if err := access.Check(ctx, access.ReadReference, access.Resource{}); err != nil {
		return nil, err
	}
	var ts []*Theme
	if err := s.db.NewSelect().Model(&ts).Order("position").Scan(ctx); err != nil {
		return nil, storage.MapError("reference.Themes", "theme", err)
	}
	return ts, nil
}

// ThemeByID finds a theme by its id; NOT_FOUND when none has it.
func (s *Service) ThemeByID(ctx context.Context, id int64) (*Theme, error) {
	if err := access.Check(ctx, access.ReadReference, access.Resource{}); err != nil {
		return nil, err
	}
	t := new(Theme)
	if err := s.db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError("reference.ThemeByID", "theme", err)
	}
	return t, nil
}
