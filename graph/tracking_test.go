package graph_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// TestTrackingOverGraphQL: the overview has its 36 cells with their
// territory and theme, and a territory's code is checked as the service
// checks it. The figures themselves are package tracking's tests.
func TestTrackingOverGraphQL(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		srv := newServer(t, db, defaultOptions())
		admin := srv.adminToken(t)
		var ov struct {
			RegionalOverview struct {
				Cells []struct {
					Territory struct{ Code string }
					Theme     struct{ Code string }
					Meetings  struct{ Held int }
				}
			}
		}
		authQuery(t, srv, admin, `{ regionalOverview { cells { territory { code } theme { code } meetings { held } } } }`, nil, &ov)
		seen := map[string]bool{}
		for _, c := range ov.RegionalOverview.Cells {
			seen[c.Territory.Code+"/"+c.Theme.Code] = true
		}
		if len(ov.RegionalOverview.Cells) != 36 || len(seen) != 36 {
			t.Errorf("%d cells, %d distinct, want 36", len(ov.RegionalOverview.Cells), len(seen))
		}
		var p struct {
			TerritoryProgress struct {
				Territory struct{ Code string }
				HasGroup  bool
			}
		}
		authQuery(t, srv, admin, `{ territoryProgress(territory: "en") { territory { code } hasGroup } }`, nil, &p)
		if p.TerritoryProgress.Territory.Code != "EN" || p.TerritoryProgress.HasGroup {
			t.Errorf("progress of EN with no working group: %+v", p.TerritoryProgress)
		}
		for code, want := range map[string]string{"E1": "BAD_USER_INPUT", "ZZ": "NOT_FOUND"} {
			r := authPost(t, srv, authBearer(admin), `query ($t: String!) { territoryProgress(territory: $t) { hasGroup } }`, map[string]any{"t": code})
			if got := onlyError(t, r).code(); got != want {
				t.Errorf("territoryProgress(%q): %s, want %s", code, got, want)
			}
		}
		r := authPost(t, srv, nil, `{ regionalOverview { at } }`, nil)
		if got := onlyError(t, r).code(); got != "UNAUTHENTICATED" {
			t.Errorf("anonymous overview: %s", got)
		}
	})
}
