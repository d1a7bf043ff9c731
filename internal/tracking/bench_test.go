package tracking_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/tracking"
)

type contacts struct{ db *bun.DB }

func (c contacts) Contacts(ctx context.Context, ids []int64) (map[int64]coedit.Contact, error) {
	var rows []account.Person
	if len(ids) > 0 {
		if err := c.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]coedit.Contact, len(rows))
	for _, r := range rows {
		out[r.ID] = coedit.Contact{Name: r.DisplayName, Language: r.Language}
	}
	return out, nil
}

// BenchmarkRegionalOverview seeds the demo region (its documents with
// their edits and comments, its meetings with registers) plus the
// generated region of scale 1 (2,000 organizations, 10,000 people), then
// times the overview, and one territory's figures (what a live update
// computes), as a policy maker, reporting p50 and p95.
func BenchmarkRegionalOverview(b *testing.B) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			ctx := context.Background()
			net := network.NewService(db, network.Options{GroupCreated: meeting.CreateFocusGroups})
			accounts, err := account.NewService(db, account.Options{Roles: net, HashSlots: 2})
			if err != nil {
				b.Fatal(err)
			}
			docs := coedit.NewService(db, coedit.Options{People: contacts{db}})
			if err := docs.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(docs.Close)
			d := demo.Deps{Accounts: accounts, Network: net, Reference: reference.NewService(db), Coedit: docs,
				Meetings: meeting.NewService(db, meeting.Options{Now: func() time.Time { return now }}), Now: func() time.Time { return now }}
			if _, err := demo.Seed(ctx, d, demo.Options{Demo: true, Scale: 1}); err != nil {
				b.Fatal(err)
			}
			bulk(b, db, now)
			for _, table := range []string{"organizations", "people", "meetings", "meeting_attendance", "meeting_invitations", "sections", "section_ops", "comments"} {
				n, err := db.NewSelect().Table(table).Count(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: %d rows", table, n)
			}
			svc := tracking.NewService(db, tracking.Options{Now: func() time.Time { return now }})
			pctx := access.WithActor(ctx, &access.Actor{PersonID: 1, SessionID: 1, GlobalRoles: []access.GlobalRole{access.PolicyMaker}})
			for _, run := range []struct {
				name string
				fn   func() error
			}{
				{"overview", func() error { _, err := svc.RegionalOverview(pctx); return err }},
				// One territory's figures: what a live update computes.
				{"territory", func() error { _, err := svc.TerritoryFigures(pctx, "EN"); return err }},
			} {
				b.Run(run.name, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						if err := run.fn(); err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
				})
			}
		})
	}
}

// bulk adds, straight into the tables, 40 held meetings per focus group
// with 25 register entries each, and 2,000 operations per section spread
// over 120 days by 50 authors (the snapshots moved past them, as the
// committer would): a region a few years into the project.
func bulk(b *testing.B, db *bun.DB, now time.Time) {
	ctx := context.Background()
	var fgs []meeting.FocusGroup
	var people []int64
	var orgs []int64
	var secs []coedit.Section
	if err := db.NewSelect().Model(&fgs).Scan(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.NewSelect().Table("people").Column("id").Order("id").Limit(500).Scan(ctx, &people); err != nil {
		b.Fatal(err)
	}
	if err := db.NewSelect().Table("organizations").Column("id").Order("id").Limit(200).Scan(ctx, &orgs); err != nil {
		b.Fatal(err)
	}
	if err := db.NewSelect().Model(&secs).Scan(ctx); err != nil {
		b.Fatal(err)
	}
	insert := func(rows any) {
		if _, err := db.NewInsert().Model(rows).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	k := 0
	for _, fg := range fgs {
		var ms []*meeting.Meeting
		for i := range 40 {
			start := now.AddDate(0, 0, -400+i*9).Add(time.Duration(fg.ID%24) * time.Hour)
			ms = append(ms, &meeting.Meeting{FocusGroupID: fg.ID, WorkingGroupID: fg.WorkingGroupID, TerritoryID: fg.TerritoryID,
				ThemeID: fg.ThemeID, Title: "Incontro", Agenda: []string{}, Services: []meeting.Offer{}, StartsAt: start,
				EndsAt: start.Add(2 * time.Hour), Mode: meeting.InPerson, Venue: "Via Roma 1", Status: meeting.Held,
				CreatedAt: start, UpdatedAt: start})
		}
		insert(&ms)
		var as []*meeting.Attendance
		for _, m := range ms {
			for j := range 25 {
				k++
				p, o := people[(k+j*7)%len(people)], orgs[k%len(orgs)]
				as = append(as, &meeting.Attendance{MeetingID: m.ID, PersonID: &p, OrganizationID: &o,
					Mode: meeting.AttendedInPerson, CheckedInAt: m.StartsAt})
			}
		}
		insert(&as)
	}
	for _, s := range secs {
		var ops []*coedit.LoggedOp
		for v := range int64(2000) {
			a := people[(int(v)+int(s.ID))%50]
			ops = append(ops, &coedit.LoggedOp{SectionID: s.ID, Version: s.Version + 1 + v, Op: ot.Op{}, ClientID: "bulk",
				ClientSeq: s.Version + 1 + v, AuthorID: &a, Origin: coedit.OriginEdit,
				CreatedAt: now.Add(-time.Duration(v) * time.Hour)})
			if len(ops) == 1000 {
				insert(&ops)
				ops = nil
			}
		}
		if len(ops) > 0 {
			insert(&ops)
		}
		if _, err := db.NewUpdate().Table("section_snapshots").Set("version = ?", s.Version+2000).Where("section_id = ?", s.ID).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
