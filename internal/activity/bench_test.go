package activity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// benchLines is the size of the log the feed is read from: some years of a
// busy region (every line of the nine territories, all kinds).
const benchLines = 200_000

// BenchmarkFeed times a page of 20 of the feed, as a policy maker, on a log
// of benchLines lines spread over the territories, themes and kinds: the
// newest page of the whole region, a territory's page filtered by theme and
// kind, and a page far down a territory's feed (by cursor), each with
// totalCount counted and without it (the API counts only when the field is
// asked). Each reports p50 and p95.
func BenchmarkFeed(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			ctx := context.Background()
			ref := reference.NewService(db)
			territories, err := ref.Territories(ctx)
			if err != nil {
				b.Fatal(err)
			}
			themes, err := ref.Themes(ctx)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			batch := make([]*activity.Entry, 0, 1000)
			for i := range benchLines {
				th := themes[i%len(themes)].ID
				e := &activity.Entry{At: start.Add(time.Duration(i) * time.Minute), Kind: activity.Kinds[i%len(activity.Kinds)],
					TerritoryID: territories[(i/7)%len(territories)].ID, ThemeID: &th, Title: "Focus group", Count: 1}
				batch = append(batch, e)
				if len(batch) == cap(batch) {
					if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			svc := activity.NewService(db)
			pm := access.WithActor(ctx, &access.Actor{PersonID: 1, SessionID: 1, GlobalRoles: []access.GlobalRole{access.PolicyMaker}})
			twenty := 20
			page := func(f activity.Filter, after *string, noCount bool) *relay.Page[*activity.Entry] {
				p, err := svc.Feed(pm, f, relay.PageArgs{First: &twenty, After: after, NoCount: noCount})
				if err != nil {
					b.Fatal(err)
				}
				return p
			}
			// A cursor 50 pages down EN's feed.
			en := activity.Filter{TerritoryIDs: []int64{territories[0].ID}}
			var deep *string
			for range 50 {
				p := page(en, deep, true)
				deep = &p.Cursors[len(p.Cursors)-1]
			}
			ttk := activity.Filter{TerritoryIDs: en.TerritoryIDs, ThemeIDs: []int64{themes[0].ID},
				Kinds: []activity.Kind{activity.MeetingStatus, activity.Attended}}
			for _, c := range []struct {
				name    string
				f       activity.Filter
				after   *string
				noCount bool
			}{
				{"region", activity.Filter{}, nil, false},
				{"territory-theme-kind", ttk, nil, false},
				{"territory-page-51", en, deep, false},
				{"region-no-count", activity.Filter{}, nil, true},
				{"territory-theme-kind-no-count", ttk, nil, true},
				{"territory-page-51-no-count", en, deep, true},
			} {
				b.Run(c.name, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						t0 := time.Now()
						if p := page(c.f, c.after, c.noCount); len(p.Items) == 0 {
							b.Fatal("an empty page")
						}
						took = append(took, time.Since(t0))
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
				})
			}
		})
	}
}
