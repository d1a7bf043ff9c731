package coedit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// fixture is a started coedit Service on a fresh database, with the working
// groups of Enna (EN) and Palermo (PA) and people in every role. Tests of
// every file of the package share it.
type fixture struct {
	t      *testing.T
	db     *bun.DB
	clock  *testutil.Clock
	svc    *coedit.Service
	net    *network.Service
	groups map[string]int64 // working group id by territory code
	terr   map[string]int64 // territory id by code
	themes map[reference.ThemeCode]int64
	// roles holds every actor the fixture made, by person: their roles are
	// known here only (there are no memberships in the database), and
	// people gives them to the service as Readers.
	roles map[int64]*access.Actor

	admin, policy                    *access.Actor
	coord, member, observer, outside *access.Actor // roles in EN; outside coordinates PA
}

// people reads contacts straight from the people table, as the network
// service does in cmd/piad, and roles from the fixture's actors.
type people struct {
	db    *bun.DB
	roles map[int64]*access.Actor
}

// Readers returns the fixture's actors of ids: a person inserted otherwise
// has no role.
func (p people) Readers(_ context.Context, ids []int64) (map[int64]*access.Actor, error) {
	out := map[int64]*access.Actor{}
	for _, id := range ids {
		if a := p.roles[id]; a != nil {
			out[id] = &access.Actor{PersonID: id, GlobalRoles: a.GlobalRoles, Territories: a.Territories}
		}
	}
	return out, nil
}

func (p people) Contacts(ctx context.Context, ids []int64) (map[int64]coedit.Contact, error) {
	var rows []account.Person
	if len(ids) > 0 {
		if err := p.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]coedit.Contact, len(rows))
	for _, r := range rows {
		c := coedit.Contact{Name: r.DisplayName, Language: r.Language}
		if r.Email != nil {
			c.Email = *r.Email
		}
		out[r.ID] = c
	}
	return out, nil
}

// newFixture builds the fixture with opts (Now and People are filled in).
func newFixture(t *testing.T, db *bun.DB, opts ...func(*coedit.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, clock: testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)),
		groups: map[string]int64{}, terr: map[string]int64{}, themes: map[reference.ThemeCode]int64{}, roles: map[int64]*access.Actor{}}
	ctx := context.Background()
	ref := reference.NewService(db)
	ts, err := ref.Territories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		f.terr[x.Code] = x.ID
	}
	th, err := ref.Themes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range th {
		f.themes[x.Code] = x.ID
	}
	f.admin = f.actor("Ada Admin", nil, access.Admin)
	f.policy = f.actor("Paolo Policy", nil, access.PolicyMaker)
	f.coord = f.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
	f.member = f.actor("Mario Membro", map[string]access.TerritoryRole{"EN": access.Member})
	f.observer = f.actor("Olga Osservatrice", map[string]access.TerritoryRole{"EN": access.Observer})
	f.outside = f.actor("Pietro Palermo", map[string]access.TerritoryRole{"PA": access.Coordinator})
	f.net = network.NewService(db, network.Options{Now: f.clock.Now})
	for _, code := range []string{"EN", "PA"} {
		g, err := f.net.CreateWorkingGroup(f.as(f.admin), network.WorkingGroupInput{Territory: code})
		if err != nil {
			t.Fatal(err)
		}
		f.groups[code] = g.ID
	}
	o := coedit.Options{Now: f.clock.Now, People: people{db, f.roles}, PublicURL: "https://pia.example"}
	for _, fn := range opts {
		fn(&o)
	}
	f.svc = coedit.NewService(db, o)
	if err := f.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.svc.Close)
	return f
}

// actor inserts a person (with an email, language it) and returns them as a
// signed-in actor with roles by territory code.
func (f *fixture) actor(name string, roles map[string]access.TerritoryRole, global ...access.GlobalRole) *access.Actor {
	f.t.Helper()
	now := f.clock.Now()
	email := strings.ReplaceAll(name, " ", ".") + "@example.org"
	p := &account.Person{DisplayName: name, Email: &email, Language: "it", CreatedAt: now, UpdatedAt: now}
	if _, err := f.db.NewInsert().Model(p).Exec(context.Background()); err != nil {
		f.t.Fatalf("insert person %s: %v", name, err)
	}
	a := &access.Actor{PersonID: p.ID, SessionID: 1, GlobalRoles: global, Territories: map[int64]access.TerritoryRole{}}
	for code, r := range roles {
		a.Territories[f.terr[code]] = r
	}
	f.roles[p.ID] = a
	return a
}

// as is the context of a request by a.
func (f *fixture) as(a *access.Actor) context.Context {
	return access.WithActor(context.Background(), a)
}

// doc creates, as the EN coordinator, a draft document of the EN group with
// sections of the given bodies (titles "Sezione 1", ...).
func (f *fixture) doc(bodies ...string) (*coedit.Document, []*coedit.Section) {
	f.t.Helper()
	in := coedit.DocumentInput{WorkingGroupID: f.groups["EN"], Title: "Linee guida Enna"}
	for i, b := range bodies {
		in.Sections = append(in.Sections, coedit.SectionInput{Title: "Sezione " + string(rune('1'+i)), Body: b})
	}
	d, err := f.svc.CreateDocument(f.as(f.coord), in)
	if err != nil {
		f.t.Fatalf("create document: %v", err)
	}
	secs, err := f.svc.SectionsOfDocuments(f.as(f.coord), []int64{d.ID}, false)
	if err != nil {
		f.t.Fatalf("sections: %v", err)
	}
	return d, secs[d.ID]
}
