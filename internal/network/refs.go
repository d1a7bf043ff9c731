package network

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

// references is the reference data: the 9 territories and the 4 themes,
// with their ids by code. Shared by every caller: read only.
type references struct {
	territories     []*reference.Territory
	themes          []*reference.Theme
	territoryByCode map[string]int64
	themeByCode     map[reference.ThemeCode]int64
}

// refCache holds the reference data of a Service once read. The first
// migration creates it and nothing changes it afterwards, so it is read
// once per Service rather than on each call that resolves a code. A failed
// read is not kept: the next call tries again.
type refCache struct {
	loaded atomic.Pointer[references]
	mu     sync.Mutex // held while reading, so that concurrent first calls read once
}

// references returns the reference data, reading it with db on first use:
// the caller's transaction when there is one, because a pool with a single
// connection would wait forever on a second one.
func (s *Service) references(ctx context.Context, db bun.IDB, op string) (*references, error) {
	if r := s.refs.loaded.Load(); r != nil {
		return r, nil
	}
	s.refs.mu.Lock()
	defer s.refs.mu.Unlock()
	if r := s.refs.loaded.Load(); r != nil {
		return r, nil
	}
	r := &references{territoryByCode: map[string]int64{}, themeByCode: map[reference.ThemeCode]int64{}}
	if err := db.NewSelect().Model(&r.territories).Order("id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "territory", err)
	}
	if err := db.NewSelect().Model(&r.themes).Order("position", "id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "theme", err)
	}
	for _, t := range r.territories {
		r.territoryByCode[t.Code] = t.ID
	}
	for _, t := range r.themes {
		r.themeByCode[t.Code] = t.ID
	}
	s.refs.loaded.Store(r)
	return r, nil
}

// territory is the territory with id; nil when there is none.
func (r *references) territory(id int64) *reference.Territory {
	for _, t := range r.territories {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// territoryID resolves a territory code ("EN", case-insensitive) to its id.
// An unknown code is BAD_USER_INPUT naming field. db reads the reference
// data on first use (see references).
func (s *Service) territoryID(ctx context.Context, db bun.IDB, op, field, code string) (int64, error) {
	ids, err := s.territoryIDs(ctx, db, op, field, []string{code})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// territoryIDs resolves territory codes to ids, in order, without
// duplicates. An unknown code is BAD_USER_INPUT naming field.
func (s *Service) territoryIDs(ctx context.Context, db bun.IDB, op, field string, codes []string) ([]int64, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	refs, err := s.references(ctx, db, op)
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(codes))
	for _, c := range codes {
		id, ok := refs.territoryByCode[strings.ToUpper(strings.TrimSpace(c))]
		if !ok {
			return nil, apperr.Invalid(op, field, "%q is not a territory code; use one of the 9 provinces' codes, such as EN or PA", c)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// themeIDs resolves theme codes to ids, in order, without duplicates. An
// unknown code is BAD_USER_INPUT naming field.
func (s *Service) themeIDs(ctx context.Context, db bun.IDB, op, field string, codes []reference.ThemeCode) ([]int64, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	refs, err := s.references(ctx, db, op)
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(codes))
	for _, c := range codes {
		id, ok := refs.themeByCode[reference.ThemeCode(strings.ToUpper(strings.TrimSpace(string(c))))]
		if !ok {
			return nil, apperr.Invalid(op, field, "%q is not a theme; use HEALTH, EDUCATION, WORK or HOUSING", c)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}
