package demo_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// env is the services on a fresh database, wired as piad wires them.
type env struct {
	t        testing.TB
	db       *bun.DB
	deps     demo.Deps
	accounts *account.Service
	network  *network.Service
	coedit   *coedit.Service
	meetings *meeting.Service
	terr     map[string]int64 // territory ids by code
}

func newEnv(t testing.TB, db *bun.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, terr: map[string]int64{}}
	e.network = network.NewService(db, network.Options{GroupCreated: meeting.CreateFocusGroups})
	var err error
	if e.accounts, err = account.NewService(db, account.Options{Roles: e.network, HashSlots: 2}); err != nil {
		t.Fatal(err)
	}
	ref := reference.NewService(db)
	e.coedit = coedit.NewService(db, coedit.Options{People: contacts{db}})
	if err := e.coedit.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.coedit.Close)
	e.meetings = meeting.NewService(db, meeting.Options{Now: func() time.Time { return demoNow }})
	e.deps = demo.Deps{Accounts: e.accounts, Network: e.network, Reference: ref, Coedit: e.coedit, Meetings: e.meetings,
		Now: func() time.Time { return demoNow }}
	ts, err := ref.Territories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		e.terr[x.Code] = x.ID
	}
	return e
}

func (e *env) seed(o demo.Options) *demo.Report {
	e.t.Helper()
	rep, err := demo.Seed(context.Background(), e.deps, o)
	if err != nil {
		e.t.Fatalf("Seed(%+v): %v", o, err)
	}
	return rep
}

// signIn signs in with the demo password and returns the actor's context.
func (e *env) signIn(email string) (*access.Actor, context.Context) {
	e.t.Helper()
	in, err := e.accounts.SignIn(context.Background(), email, demo.Password)
	if err != nil {
		e.t.Fatalf("sign in as %s: %v", email, err)
	}
	return in.Actor, access.WithActor(context.Background(), in.Actor)
}

// counts are the rows of the network's tables.
func (e *env) counts() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"organizations", "people", "person_roles", "affiliations", "working_groups",
		"working_group_members", "practices", "practice_partners", "municipalities",
		"documents", "sections", "section_ops", "comments", "document_versions"} {
		n, err := e.db.NewSelect().TableExpr(table).Count(context.Background())
		if err != nil {
			e.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func first(n int) relay.PageArgs { return relay.PageArgs{First: &n} }

func TestDemo(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		rep := e.seed(demo.Options{Demo: true})
		if rep.AlreadySeeded || rep.WorkingGroups != 9 || rep.Organizations < 50 || rep.Practices < 10 ||
			rep.Municipalities < 50 || rep.People < 40 || rep.Memberships < 40 {
			t.Fatalf("report %+v", rep)
		}
		if got := e.counts(); got["organizations"] != rep.Organizations || got["working_group_members"] != rep.Memberships ||
			got["people"] != rep.People+1 { // and the administrator
			t.Fatalf("tables %v, report %+v", got, rep)
		}
		if rep.Documents != 9 || rep.Versions != 9 || rep.Edits < 9*5*2 || rep.Comments < 9*4 {
			t.Fatalf("documents in the report %+v", rep)
		}
		if got := e.counts(); got["documents"] != rep.Documents || got["section_ops"] != rep.Edits ||
			got["comments"] != rep.Comments || got["document_versions"] != rep.Versions {
			t.Fatalf("tables %v, report %+v", got, rep)
		}

		t.Run("every territory has its draft guideline document", func(t *testing.T) { e.checkDocuments(t) })
		t.Run("every territory has its focus groups and meetings", func(t *testing.T) { e.checkMeetings(t, rep) })

		t.Run("the Enna coordinator browses the Enna working group", func(t *testing.T) {
			actor, ctx := e.signIn("coordinatore.enna@pia.demo")
			if actor.RoleIn(e.terr["EN"]) != access.Coordinator {
				t.Fatalf("the coordinator's actor %+v", actor)
			}
			groups, err := e.network.WorkingGroupsOfTerritories(ctx, []int64{e.terr["EN"]})
			if err != nil {
				t.Fatal(err)
			}
			g := groups[e.terr["EN"]]
			if g == nil || g.Name == "" {
				t.Fatalf("no Enna working group: %v", groups)
			}
			members, err := e.network.MembersOfGroups(ctx, []int64{g.ID}, false)
			if err != nil {
				t.Fatal(err)
			}
			roles := map[access.TerritoryRole]int{}
			var personIDs, orgIDs []int64
			for _, m := range members[g.ID] {
				roles[m.Role]++
				personIDs = append(personIDs, m.PersonID)
				if m.OrganizationID == nil {
					t.Errorf("membership %+v is on behalf of no organization", m)
					continue
				}
				orgIDs = append(orgIDs, *m.OrganizationID)
			}
			if roles[access.Coordinator] != 1 || roles[access.Member] < 4 || roles[access.Observer] < 2 {
				t.Fatalf("roles in the Enna group: %v", roles)
			}
			if !slices.Contains(personIDs, actor.PersonID) {
				t.Errorf("the coordinator is not among the members")
			}
			people, err := e.network.PeopleByID(ctx, personIDs)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, id := range personIDs {
				p := people[id]
				if p == nil {
					t.Fatalf("the coordinator cannot see member %d", id)
				}
				names = append(names, p.DisplayName)
				if c := e.network.ContactsOf(ctx, p, []int64{e.terr["EN"]}); c == nil || c.Email == nil {
					t.Errorf("the coordinator does not see %s's email", p.DisplayName)
				}
			}
			for _, want := range []string{"Giulia Ferrante", "Karim Mansouri", "Elena Russo"} {
				if !slices.Contains(names, want) {
					t.Errorf("members %v lack %s", names, want)
				}
			}
			orgs, err := e.network.OrganizationsByID(ctx, orgIDs)
			if err != nil {
				t.Fatal(err)
			}
			var orgNames []string
			for _, o := range orgs {
				orgNames = append(orgNames, o.Name)
			}
			for _, want := range []string{"Comune di Enna", "Iblea Servizi Territoriali Onlus", "ANCI Sicilia", "Global Service scs"} {
				if !slices.Contains(orgNames, want) {
					t.Errorf("the members' organizations %v lack %s", orgNames, want)
				}
			}
		})

		t.Run("one account per role", func(t *testing.T) {
			admin, adminCtx := e.signIn(demo.AdminEmail)
			if me, err := e.accounts.Me(adminCtx); err != nil || me.DisplayName != "Amministratore demo" {
				t.Errorf("the demo administrator: %+v, %v", me, err)
			}
			member, _ := e.signIn("membro.enna@pia.demo")
			observer, _ := e.signIn("osservatore.enna@pia.demo")
			pm, pmCtx := e.signIn("decisore@pia.demo")
			if !admin.Has(access.Admin) || member.RoleIn(e.terr["EN"]) != access.Member ||
				observer.RoleIn(e.terr["EN"]) != access.Observer || !pm.Has(access.PolicyMaker) || pm.Has(access.Admin) {
				t.Fatalf("actors: admin %+v, member %+v, observer %+v, policy maker %+v", admin, member, observer, pm)
			}
			// The policy maker sees the network but no private contact.
			page, err := e.network.People(pmCtx, network.PersonFilter{Territory: "EN"}, network.Sort{}, first(50))
			if err != nil || page.TotalCount < 7 {
				t.Fatalf("People as the policy maker: %v, %v", page, err)
			}
			for _, p := range page.Items {
				if c := e.network.ContactsOf(pmCtx, p, []int64{e.terr["EN"]}); c != nil {
					t.Errorf("the policy maker sees %s's contacts %+v", p.DisplayName, c)
				}
			}
		})

		t.Run("every territory has its group, coordinator, municipalities and hub", func(t *testing.T) {
			_, ctx := e.signIn("decisore@pia.demo")
			ids := make([]int64, 0, 9)
			for _, id := range e.terr {
				ids = append(ids, id)
			}
			groups, err := e.network.WorkingGroupsOfTerritories(ctx, ids)
			if err != nil || len(groups) != 9 {
				t.Fatalf("%d groups, %v", len(groups), err)
			}
			var gids []int64
			for _, g := range groups {
				gids = append(gids, g.ID)
			}
			members, err := e.network.MembersOfGroups(ctx, gids, false)
			if err != nil {
				t.Fatal(err)
			}
			for code, tid := range e.terr {
				coordinators := 0
				for _, m := range members[groups[tid].ID] {
					if m.Role == access.Coordinator {
						coordinators++
					}
				}
				if coordinators != 1 || len(members[groups[tid].ID]) < 4 {
					t.Errorf("%s: %d members, %d coordinators", code, len(members[groups[tid].ID]), coordinators)
				}
				munis, err := e.network.Municipalities(ctx, network.MunicipalityFilter{Territory: code}, first(50))
				if err != nil || munis.TotalCount < 5 {
					t.Errorf("%s: municipalities %v, %v", code, munis, err)
				}
				hubs, err := e.network.Practices(ctx, network.PracticeFilter{Territory: code, Search: "Polo Sociale Integrato"}, network.Sort{}, first(10))
				if err != nil || hubs.TotalCount != 1 {
					t.Errorf("%s: hubs %v, %v", code, hubs, err)
				}
			}
			enna, err := e.network.Municipalities(ctx, network.MunicipalityFilter{Territory: "EN", Search: "Enna"}, first(5))
			if err != nil || enna.TotalCount != 1 || *enna.Items[0].IstatCode != "086009" {
				t.Errorf("Enna: %+v, %v", enna, err)
			}
		})

		t.Run("the Siracusa hub as the article describes it", func(t *testing.T) {
			_, ctx := e.signIn("decisore@pia.demo")
			page, err := e.network.Practices(ctx, network.PracticeFilter{Territory: "SR", Search: "Polo Sociale Integrato"}, network.Sort{}, first(5))
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("%v, %v", page, err)
			}
			hub := page.Items[0]
			if hub.Funding != network.FundingAMIF || hub.OpeningHours == "" || len(hub.Services) != 5 ||
				hub.Address != "Comune dei Popoli, Siracusa" || hub.ContactEmail != nil || hub.ContactPhone != nil {
				t.Errorf("hub %+v", hub)
			}
			partners, err := e.network.PartnersOfPractices(ctx, []int64{hub.ID})
			if err != nil {
				t.Fatal(err)
			}
			orgs, err := e.network.OrganizationsByID(ctx, partners[hub.ID])
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range orgs {
				names = append(names, o.Name)
			}
			for _, want := range []string{"CPIA Siracusa", "Oxfam Italia Intercultura", "Arci Siracusa", "AccoglieRete", "Fondazione Siamo Mediterraneo"} {
				if !slices.Contains(names, want) {
					t.Errorf("partners %v lack %s", names, want)
				}
			}
		})

		t.Run("a second seed creates nothing", func(t *testing.T) {
			before := e.counts()
			again := e.seed(demo.Options{Demo: true})
			if !again.AlreadySeeded || again.Organizations != 0 || again.People != 0 || again.Documents != 0 || again.Edits != 0 {
				t.Fatalf("second report %+v", again)
			}
			if after := e.counts(); !maps.Equal(before, after) {
				t.Fatalf("tables before %v, after %v", before, after)
			}
		})
	})
}

// A database with an administrator of its own (one that a first start
// created): the seed creates the demo administrator as that administrator.
func TestDemoOnADatabaseWithAnAdministrator(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		const email, password = "owner@example.org", "the owner's own password"
		if _, _, err := e.accounts.EnsureAdmin(context.Background(), email, password, false); err != nil {
			t.Fatal(err)
		}
		rep := e.seed(demo.Options{Demo: true})
		if rep.AlreadySeeded || rep.WorkingGroups != 9 {
			t.Fatalf("report %+v", rep)
		}
		if admin, _ := e.signIn(demo.AdminEmail); !admin.Has(access.Admin) {
			t.Fatalf("the demo administrator %+v", admin)
		}
		// The owner is still an administrator, with their own password.
		owner, err := e.accounts.SignIn(context.Background(), email, password)
		if err != nil || !owner.Actor.Has(access.Admin) {
			t.Fatalf("the owner signing in: %+v, %v", owner, err)
		}
	})
}

func TestSeedNeedsSomethingToDo(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		before := e.counts()
		if _, err := demo.Seed(context.Background(), e.deps, demo.Options{}); !apperr.Is(err, apperr.BadInput) {
			t.Fatalf("Seed with no options: %v, want BAD_USER_INPUT", err)
		}
		if after := e.counts(); !maps.Equal(before, after) {
			t.Fatalf("%v → %v", before, after)
		}
	})
}
