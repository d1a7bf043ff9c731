package reference_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestTerritoriesAreTheNineProvinces(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		svc := reference.NewService(db)
		ts, err := svc.Territories(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{
			"AG": {"Agrigento", "084"}, "CL": {"Caltanissetta", "085"}, "CT": {"Catania", "287"},
			"EN": {"Enna", "086"}, "ME": {"Messina", "283"}, "PA": {"Palermo", "282"},
			"RG": {"Ragusa", "088"}, "SR": {"Siracusa", "089"}, "TP": {"Trapani", "081"},
		}
		if len(ts) != len(want) {
			t.Fatalf("%d territories, want 9", len(ts))
		}
		for i, tr := range ts {
			w, ok := want[tr.Code]
			if !ok || w[0] != tr.Name || w[1] != tr.IstatCode {
				t.Errorf("territory %+v not expected", tr)
			}
			if i > 0 && ts[i-1].Name >= tr.Name {
				t.Errorf("not ordered by name: %s before %s", ts[i-1].Name, tr.Name)
			}
		}
	})
}

func TestTerritoryByCode(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		svc := reference.NewService(db)
		ctx := context.Background()
		en, err := svc.TerritoryByCode(ctx, "en")
		if err != nil || en.Name != "Enna" {
			t.Fatalf("en -> %+v, %v", en, err)
		}
		byID, err := svc.TerritoryByID(ctx, en.ID)
		if err != nil || byID.Code != "EN" {
			t.Fatalf("by id -> %+v, %v", byID, err)
		}
		if _, err := svc.TerritoryByCode(ctx, "XX"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("XX -> %v, want NOT_FOUND", err)
		}
		for _, bad := range []string{"", "E", "ENN", "E1", "' OR 1=1 --"} {
			if _, err := svc.TerritoryByCode(ctx, bad); !apperr.Is(err, apperr.BadInput) {
				t.Errorf("%q -> %v, want BAD_USER_INPUT", bad, err)
			}
		}
		if _, err := svc.TerritoryByID(ctx, 424242); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown id -> %v, want NOT_FOUND", err)
		}
	})
}

func TestThemes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		svc := reference.NewService(db)
		ths, err := svc.Themes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, th := range ths {
			got += string(th.Code) + ":" + th.Label("it") + "/" + th.Label("en") + " "
		}
		want := "HEALTH:Salute/Health EDUCATION:Istruzione/Education WORK:Lavoro/Work HOUSING:Casa/Housing "
		if got != want {
			t.Fatalf("themes %q, want %q", got, want)
		}
		th, err := svc.ThemeByID(context.Background(), ths[2].ID)
		if err != nil || th.Code != "WORK" {
			t.Fatalf("by id -> %+v %v", th, err)
		}
	})
}
