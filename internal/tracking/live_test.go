package tracking_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// liveWait is how long a test waits for an update before it fails: far
// more than any debounce here, so that a slow machine does not fail it.
const liveWait = 20 * time.Second

// live is a tracking service that follows r's meetings and documents.
func (r *region) live(debounce time.Duration) *tracking.Service {
	svc := tracking.NewService(r.db, tracking.Options{Now: r.clock.Now, Meetings: r.meet, Documents: r.docs, Debounce: debounce})
	r.t.Cleanup(svc.Close)
	return svc
}

// watch subscribes to code's figures as the policy maker, until the test
// ends, and returns the first figures with the channel.
func (r *region) watch(svc *tracking.Service, code string) (*tracking.Figures, <-chan *tracking.Figures) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(r.as(r.policy))
	r.t.Cleanup(cancel)
	ch, err := svc.WatchTerritory(ctx, code)
	if err != nil {
		r.t.Fatalf("watch %s: %v", code, err)
	}
	select {
	case f := <-ch:
		return f, ch
	default:
		r.t.Fatalf("watch %s: no figures at once", code)
	}
	return nil, nil
}

// until reads updates from ch until one satisfies ok, and returns it with
// the number of updates read (it included).
func until(t *testing.T, ch <-chan *tracking.Figures, ok func(*tracking.Figures) bool) (*tracking.Figures, int) {
	t.Helper()
	deadline := time.After(liveWait)
	n := 0
	for {
		select {
		case f, open := <-ch:
			if !open {
				t.Fatal("the figures' stream ended")
			}
			n++
			if ok(f) {
				return f, n
			}
		case <-deadline:
			t.Fatalf("no awaited update within %s (%d others)", liveWait, n)
		}
	}
}

func themeCell(t *testing.T, f *tracking.Figures, theme reference.ThemeCode) *tracking.Cell {
	t.Helper()
	for _, c := range f.Cells {
		if c.Theme.Code == theme {
			return c
		}
	}
	t.Fatalf("no %s cell in %s's figures", theme, f.Territory.Code)
	return nil
}

// TestTerritoryFiguresAreTheOverviewsRow: a territory's figures are its
// cells of the regional overview, with as many statements on a larger
// region as on an empty one.
func TestTerritoryFiguresAreTheOverviewsRow(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		counter := storage.CountStatements(db)
		count := func(code string) (int64, *tracking.Figures) {
			counter.Reset()
			f, err := r.svc.TerritoryFigures(r.as(r.policy), code)
			if err != nil {
				t.Fatal(err)
			}
			return counter.Count(), f
		}
		empty, _ := count("EN")
		r.seed()
		small, _ := count("EN")
		edu := reference.ThemeCode("EDUCATION")
		secs := r.document("EN", []*reference.ThemeCode{&edu, &edu}, []string{"uno", "due"})
		for i := range 5 {
			r.edit(r.admin, secs[i%2].ID, strings.Repeat("parola ", i+2))
			r.hold(r.meeting("EN", edu, 1), r.people, r.people[:3], 2)
		}
		larger, en := count("en")
		// The territory, the themes, nine aggregates and the operations
		// after the snapshots (docs/benchmarks.md).
		if small != empty || larger != small || small != 12 {
			t.Errorf("statements: %d on an empty region, %d on a small one, %d on a larger one; want 12 each time", empty, small, larger)
		}
		ov, err := r.svc.RegionalOverview(r.as(r.policy))
		if err != nil {
			t.Fatal(err)
		}
		var row []*tracking.Cell
		for _, c := range ov.Cells {
			if c.Territory.Code == "EN" {
				row = append(row, c)
			}
		}
		if en.Territory.Code != "EN" || len(en.Cells) != 4 || !reflect.DeepEqual(en.Cells, row) {
			t.Errorf("EN's figures %+v; want the overview's row %+v", en.Cells, row)
		}
		if c := themeCell(t, en, edu); c.Meetings.Held != 6 || c.Sections.Count != 2 { // one held by seed, five here
			t.Errorf("EN × EDUCATION: %+v", c)
		}
	})
}

// TestLiveFiguresDebounceAStorm: hundreds of edits to a territory's
// document reach a subscriber as a few updates, at most one per debounce
// interval, the last of which counts them all.
func TestLiveFiguresDebounceAStorm(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		health := reference.ThemeCode("HEALTH")
		secs := r.document("EN", []*reference.ThemeCode{&health}, []string{"Salute"})
		const debounce = 100 * time.Millisecond
		svc := r.live(debounce)
		first, ch := r.watch(svc, "EN")
		base := themeCell(t, first, health).Sections.Edits30Days
		text, v, err := r.docs.SectionText(r.as(r.admin), secs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		const edits = 300
		start := time.Now()
		ctx := r.as(r.coord)
		for i := range edits {
			next := text + fmt.Sprintf(" %d", i)
			e, err := r.docs.EditSection(ctx, coedit.EditInput{SectionID: secs[0].ID, BaseVersion: v, Op: ot.Diff(text, next),
				ClientID: "storm", ClientSeq: int64(i + 1)})
			if err != nil {
				t.Fatalf("edit %d: %v", i, err)
			}
			text, v = next, e.Version
		}
		last, updates := until(t, ch, func(f *tracking.Figures) bool {
			return themeCell(t, f, health).Sections.Edits30Days == base+edits
		})
		elapsed := time.Since(start)
		// Each computation starts a whole interval after the change that
		// armed it, which came after the one before started: within
		// elapsed, at most elapsed/debounce of them.
		if limit := int(elapsed / debounce); updates > limit || updates >= edits {
			t.Errorf("%d updates for %d edits in %s; want at most %d (one per %s)", updates, edits, elapsed, limit, debounce)
		}
		marks, computed := svc.LiveCounts(r.terr["EN"])
		t.Logf("%d edits in %s: %d changes heard, %d computations, %d updates", edits, elapsed.Round(time.Millisecond), marks, computed, updates)
		if c := themeCell(t, last, health); c.Sections.Contributors != 1 || c.Sections.Words != 1+edits {
			t.Errorf("after the storm: %+v", c.Sections)
		}
		// Another subscriber joins the same feed: it gets the figures at
		// once, as they are.
		joined, _ := r.watch(svc, "EN")
		if !reflect.DeepEqual(joined.Cells, last.Cells) {
			t.Errorf("a new subscriber got %+v; want %+v", joined.Cells, last.Cells)
		}
	})
}

// TestLiveFiguresFollowAMeetingClosed: marking a meeting held with its
// register moves its cell's held meetings and people.
func TestLiveFiguresFollowAMeetingClosed(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		health := reference.ThemeCode("HEALTH")
		m := r.meeting("EN", health, 1)
		svc := r.live(50 * time.Millisecond)
		first, ch := r.watch(svc, "EN")
		before := themeCell(t, first, health)
		if before.Meetings.Planned != 1 || before.Meetings.Held != 0 || before.Attendance.People != 0 {
			t.Fatalf("before: %+v", before)
		}
		r.hold(m, []int64{r.people[0]}, []int64{r.people[0]}, 0)
		f, _ := until(t, ch, func(f *tracking.Figures) bool {
			c := themeCell(t, f, health)
			return c.Meetings.Held == 1 && c.Attendance.People == 1
		})
		if c := themeCell(t, f, health); c.Meetings.Planned != 0 || c.Attendance.Invited != 1 || c.Attendance.Organizations != 1 {
			t.Errorf("after: %+v", c)
		}
	})
}

// TestLiveFiguresFollowANewDocument: a document created in the territory
// moves its cells at once, without waiting for an edit.
func TestLiveFiguresFollowANewDocument(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		housing := reference.ThemeCode("HOUSING")
		svc := r.live(50 * time.Millisecond)
		first, ch := r.watch(svc, "EN")
		if c := themeCell(t, first, housing); c.Sections.Count != 0 {
			t.Fatalf("before: %+v", c.Sections)
		}
		r.document("EN", []*reference.ThemeCode{&housing, &housing}, []string{"Casa e affitti", ""})
		f, _ := until(t, ch, func(f *tracking.Figures) bool { return themeCell(t, f, housing).Sections.Count == 2 })
		if c := themeCell(t, f, housing); c.Sections.WithContent != 1 || c.Sections.Words != 3 {
			t.Errorf("after: %+v", c.Sections)
		}
	})
}

// TestLiveFiguresIgnoreOtherTerritories: Palermo's changes do not reach
// Enna's feed; Enna's own do.
func TestLiveFiguresIgnoreOtherTerritories(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		edu := reference.ThemeCode("EDUCATION")
		paSecs := r.document("PA", []*reference.ThemeCode{&edu}, []string{"Scuola"})
		svc := r.live(50 * time.Millisecond)
		_, en := r.watch(svc, "EN")
		_, pa := r.watch(svc, "PA")
		// The hubs call the watchers before the change's call returns.
		r.meeting("PA", edu, 2)
		r.edit(r.admin, paSecs[0].ID, "Scuola e lingua")
		r.comment(paSecs[0].ID, true)
		if marks, computed := svc.LiveCounts(r.terr["EN"]); marks != 0 || computed != 0 {
			t.Errorf("Enna's feed heard %d changes and computed %d times from Palermo's", marks, computed)
		}
		if marks, _ := svc.LiveCounts(r.terr["PA"]); marks < 3 {
			t.Errorf("Palermo's feed heard %d changes; want at least 3", marks)
		}
		until(t, pa, func(f *tracking.Figures) bool {
			c := themeCell(t, f, edu)
			return c.Meetings.Planned == 1 && c.Comments.Resolved == 1 && c.Sections.Edits30Days == 1
		})
		select {
		case f := <-en:
			t.Errorf("Enna got an update: %+v", f)
		default:
		}
		r.meeting("EN", edu, 3)
		f, n := until(t, en, func(*tracking.Figures) bool { return true })
		if c := themeCell(t, f, edu); n != 1 || c.Meetings.Planned != 1 {
			t.Errorf("Enna's first update %+v", c.Meetings)
		}
	})
}

// TestLiveFiguresAccessAndEnd: WatchTerritory refuses as TerritoryProgress
// does; a subscription ends with its context, and all of them with Close.
func TestLiveFiguresAccessAndEnd(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		svc := r.live(50 * time.Millisecond)
		for _, tc := range []struct {
			name string
			ctx  context.Context
			code string
			want apperr.Kind
		}{
			{"anonymous", context.Background(), "EN", apperr.Unauthenticated},
			{"stranger", r.as(r.stranger), "EN", apperr.Forbidden},
			{"malformed code", r.as(r.policy), "E1", apperr.BadInput},
			{"unknown code", r.as(r.policy), "ZZ", apperr.NotFound},
			{"another territory's coordinator", r.as(r.coord), "pa", ""},
			{"admin", r.as(r.admin), "EN", ""},
		} {
			ctx, cancel := context.WithCancel(tc.ctx)
			ch, err := svc.WatchTerritory(ctx, tc.code)
			if got := apperr.KindOf(err); err != nil && got != tc.want || err == nil && tc.want != "" {
				t.Errorf("%s: WatchTerritory %v, want %q", tc.name, err, tc.want)
			}
			if _, err := svc.TerritoryFigures(tc.ctx, tc.code); apperr.KindOf(err) != tc.want && (err != nil || tc.want != "") {
				t.Errorf("%s: TerritoryFigures %v, want %q", tc.name, err, tc.want)
			}
			cancel()
			if err == nil {
				for range ch { // the figures sent at once, then the end
				}
			}
		}
		// With no subscriber left, Enna's feed is gone: its changes are
		// not even noted.
		r.meeting("EN", "WORK", 2)
		if marks, _ := svc.LiveCounts(r.terr["EN"]); marks != 0 {
			t.Errorf("a feed without subscribers heard %d changes", marks)
		}
		_, ch := r.watch(svc, "EN")
		svc.Close()
		select {
		case _, open := <-ch:
			if open {
				t.Error("figures after Close")
			}
		case <-time.After(liveWait):
			t.Fatal("Close did not end the subscription")
		}
		if _, err := svc.WatchTerritory(r.as(r.policy), "EN"); apperr.KindOf(err) != apperr.Internal {
			t.Errorf("watching after Close: %v", err)
		}
	})
}

// TestLiveFiguresAcrossInstances: on PostgreSQL, a meeting closed and an
// edit made on one instance reach a subscriber of another.
func TestLiveFiguresAcrossInstances(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		if storage.EngineOf(db) != storage.Postgres {
			t.Skip("instances hear each other through PostgreSQL LISTEN/NOTIFY; one SQLite file serves one instance")
		}
		r := newRegion(t, db)
		// Instance A is the region's services, its meetings broadcast on
		// the co-editing channel as in cmd/piad.
		r.meet = meeting.NewService(db, meeting.Options{Now: r.clock.Now, PublicURL: "https://pia.example", Broadcast: r.docs.Broadcast})
		health := reference.ThemeCode("HEALTH")
		secs := r.document("EN", []*reference.ThemeCode{&health}, []string{"Salute"})
		m := r.meeting("EN", health, 1)
		// Instance B: its own services on its own connections.
		dbB := storagetest.Reopen(t, db)
		meetB := meeting.NewService(dbB, meeting.Options{Now: r.clock.Now})
		docsB := coedit.NewService(dbB, coedit.Options{Now: r.clock.Now, Notes: map[string]func([]byte){meeting.NoteKind: meetB.FromPeer}})
		if err := docsB.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(docsB.Close)
		svcB := tracking.NewService(dbB, tracking.Options{Now: r.clock.Now, Meetings: meetB, Documents: docsB, Debounce: 50 * time.Millisecond})
		t.Cleanup(svcB.Close)
		_, ch := r.watch(svcB, "EN")
		r.hold(m, []int64{r.people[0]}, []int64{r.people[0]}, 0)
		until(t, ch, func(f *tracking.Figures) bool {
			c := themeCell(t, f, health)
			return c.Meetings.Held == 1 && c.Attendance.People == 1
		})
		r.edit(r.coord, secs[0].ID, "Salute per tutti")
		until(t, ch, func(f *tracking.Figures) bool { return themeCell(t, f, health).Sections.Edits30Days == 1 })
	})
}
