package network_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// benchOrgTerritory is a row of organization_territories, written directly
// so that seeding a region takes a few statements.
type benchOrgTerritory struct {
	bun.BaseModel `bun:"table:organization_territories"`

	OrganizationID int64  `bun:"organization_id"`
	TerritoryID    int64  `bun:"territory_id"`
	NameKey        string `bun:"name_key"`
}

// seedRegion writes n organizations spread over the 9 territories (every
// fifth one in a second territory) and returns the territories' ids by code.
func seedRegion(b *testing.B, db *bun.DB, n int) map[string]int64 {
	b.Helper()
	ctx := context.Background()
	ts, err := reference.NewService(db).Territories(ctx)
	if err != nil {
		b.Fatal(err)
	}
	codes := map[string]int64{}
	for _, t := range ts {
		codes[t.Code] = t.ID
	}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	orgs := make([]*network.Organization, n)
	for i := range orgs {
		name := fmt.Sprintf("Organizzazione %04d", (i*7919)%n)
		orgs[i] = &network.Organization{Name: name, NameKey: network.NameKey(name), Kind: network.Kinds[i%len(network.Kinds)],
			Level: network.Levels[i%len(network.Levels)], CreatedAt: now, UpdatedAt: now}
	}
	for start := 0; start < n; start += 500 {
		batch := orgs[start:min(start+500, n)]
		if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var links []benchOrgTerritory
	for i, o := range orgs {
		links = append(links, benchOrgTerritory{OrganizationID: o.ID, TerritoryID: ts[i%len(ts)].ID, NameKey: o.NameKey})
		if i%5 == 0 {
			links = append(links, benchOrgTerritory{OrganizationID: o.ID, TerritoryID: ts[(i+1)%len(ts)].ID, NameKey: o.NameKey})
		}
	}
	for start := 0; start < len(links); start += 500 {
		batch := links[start:min(start+500, len(links))]
		if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return codes
}

// BenchmarkOrganizationsPage lists a page of 50 organizations of one
// territory, by name, out of 2,000: the first page, and a page further on
// (from a cursor).
func BenchmarkOrganizationsPage(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			seedRegion(b, db, 2000)
			svc := network.NewService(db, network.Options{})
			ctx := access.WithActor(context.Background(), &access.Actor{PersonID: 1, SessionID: 1, GlobalRoles: []access.GlobalRole{access.PolicyMaker}})
			f := network.OrganizationFilter{Territory: "EN"}
			first, err := svc.Organizations(ctx, f, network.Sort{}, relay.PageArgs{First: ptr(50)})
			if err != nil || len(first.Items) != 50 || first.TotalCount < 200 {
				b.Fatalf("first page: %d items of %d, %v", len(first.Items), first.TotalCount, err)
			}
			after := first.Cursors[49]
			b.Run("first", func(b *testing.B) {
				for b.Loop() {
					if _, err := svc.Organizations(ctx, f, network.Sort{}, relay.PageArgs{First: ptr(50)}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("after", func(b *testing.B) {
				for b.Loop() {
					if _, err := svc.Organizations(ctx, f, network.Sort{}, relay.PageArgs{First: ptr(50), After: &after}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
