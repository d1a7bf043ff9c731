package meeting_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// fixture is a meeting Service on a fresh database, with the working
// groups of Enna (EN) and Palermo (PA), their focus groups (created with
// the groups, as in production), people in every role and two
// organizations of Enna with their representatives. Tests of every file of
// the package share it.
type fixture struct {
	t      testing.TB
	db     *bun.DB
	clock  *testutil.Clock
	svc    *meeting.Service
	net    *network.Service
	groups map[string]int64 // working group id by territory code
	terr   map[string]int64 // territory id by code
	themes map[reference.ThemeCode]int64
	// focus holds the focus group ids by territory code and theme.
	focus map[string]map[reference.ThemeCode]int64

	admin, policy                    *access.Actor
	coord, member, observer, outside *access.Actor // roles in EN; outside coordinates PA
	stranger                         *access.Actor // signed in, in no group

	// Two organizations of Enna: the municipality, represented by repA
	// with staffA on its staff, and an association represented by repB.
	orgA, orgB         int64
	repA, staffA, repB *access.Actor
	queued             int // MailQueued calls
	publicURL          string
}

// newFixture builds the fixture; opts may change the service's options.
func newFixture(t testing.TB, db *bun.DB, opts ...func(*meeting.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, clock: testutil.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		groups: map[string]int64{}, terr: map[string]int64{}, themes: map[reference.ThemeCode]int64{},
		focus: map[string]map[reference.ThemeCode]int64{}, publicURL: "https://pia.example"}
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
	f.stranger = f.actor("Sara Sconosciuta", nil)
	f.net = network.NewService(db, network.Options{Now: f.clock.Now, GroupCreated: meeting.CreateFocusGroups})
	for _, code := range []string{"EN", "PA"} {
		g, err := f.net.CreateWorkingGroup(f.as(f.admin), network.WorkingGroupInput{Territory: code})
		if err != nil {
			t.Fatal(err)
		}
		f.groups[code] = g.ID
	}
	var fgs []meeting.FocusGroup
	if err := db.NewSelect().Model(&fgs).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, fg := range fgs {
		for code, id := range f.terr {
			if id == fg.TerritoryID {
				if f.focus[code] == nil {
					f.focus[code] = map[reference.ThemeCode]int64{}
				}
				for tc, tid := range f.themes {
					if tid == fg.ThemeID {
						f.focus[code][tc] = fg.ID
					}
				}
			}
		}
	}
	f.orgA = f.org("Comune di Enna", network.KindMunicipality)
	f.orgB = f.org("Associazione Ponti", network.KindMigrantCommunityAssociation)
	f.repA = f.actor("Rita Rappresentante", nil)
	f.staffA = f.actor("Stefano Staff", nil)
	f.repB = f.actor("Bashir Ponti", nil)
	f.affiliate(f.repA, f.orgA, network.Representative)
	f.affiliate(f.staffA, f.orgA, network.Staff)
	f.affiliate(f.repB, f.orgB, network.Representative)
	o := meeting.Options{Now: f.clock.Now, PublicURL: f.publicURL, MailQueued: func() { f.queued++ }}
	for _, fn := range opts {
		fn(&o)
	}
	f.svc = meeting.NewService(db, o)
	return f
}

// actor inserts a person (with an email, language it) and returns them as a
// signed-in actor with roles by territory code.
func (f *fixture) actor(name string, roles map[string]access.TerritoryRole, global ...access.GlobalRole) *access.Actor {
	f.t.Helper()
	now := f.clock.Now()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	p := &account.Person{DisplayName: name, Email: &email, Language: "it", CreatedAt: now, UpdatedAt: now}
	if _, err := f.db.NewInsert().Model(p).Exec(context.Background()); err != nil {
		f.t.Fatalf("insert person %s: %v", name, err)
	}
	a := &access.Actor{PersonID: p.ID, SessionID: 1, GlobalRoles: global, Territories: map[int64]access.TerritoryRole{}}
	for code, r := range roles {
		a.Territories[f.terr[code]] = r
	}
	return a
}

// org creates an organization of Enna, as the administrator.
func (f *fixture) org(name string, kind network.Kind) int64 {
	f.t.Helper()
	o, err := f.net.CreateOrganization(f.as(f.admin), network.OrganizationInput{Name: name, Kind: kind,
		Level: network.LevelMunicipal, Territories: []string{"EN"}})
	if err != nil {
		f.t.Fatalf("create organization %s: %v", name, err)
	}
	return o.ID
}

// affiliate ties a to organization org in role r, as the administrator.
func (f *fixture) affiliate(a *access.Actor, org int64, r network.AffiliationRole) {
	f.t.Helper()
	if _, err := f.net.AddAffiliation(f.as(f.admin), network.AffiliationInput{PersonID: a.PersonID, OrganizationID: org, Role: r}); err != nil {
		f.t.Fatalf("affiliate: %v", err)
	}
}

// as is the context of a request by a.
func (f *fixture) as(a *access.Actor) context.Context {
	return access.WithActor(context.Background(), a)
}

// rome is a wall-clock time in Europe/Rome.
func rome(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, meeting.Rome)
}

// mails returns the outbox's messages, oldest first.
func (f *fixture) mails() []outboxMail {
	f.t.Helper()
	var out []outboxMail
	if err := f.db.NewSelect().Table("mail_outbox").Column("to_addr", "subject", "body", "attachment_name", "attachment").
		Order("id").Scan(context.Background(), &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

type outboxMail struct {
	To             string `bun:"to_addr"`
	Subject        string `bun:"subject"`
	Body           string `bun:"body"`
	AttachmentName string `bun:"attachment_name"`
	Attachment     string `bun:"attachment"`
}

// count counts the rows of table.
func (f *fixture) count(table string) int {
	f.t.Helper()
	n, err := f.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}
