package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// statementsQuery is a page of organizations with everything a territory's
// overview shows: their territories, themes and practices, the people who
// stand for them with their contacts, those people's other organizations and
// their working groups. A practice's partners are left out: that level
// reaches organizations by a second path at the same depth as the
// affiliates' organizations, and the loaders' peer prefetch does not promise
// one batch for two paths (docs/architecture.md).
const statementsQuery = `query ($n: Int!) { organizations(first: $n) { totalCount edges { node {
	name territories { code } themes { code }
	practices { name }
	affiliations { role person { displayName email phone
		affiliations { organization { name } }
		memberships { role workingGroup { name territory { code } } } } } } } } }`

type statementsPage struct {
	Organizations struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				Name         string
				Territories  []struct{ Code string }
				Themes       []struct{ Code string }
				Practices    []struct{ Name string }
				Affiliations []struct {
					Role   string
					Person *struct {
						DisplayName  string
						Email, Phone *string
						Affiliations []struct{ Organization struct{ Name string } }
						Memberships  []struct {
							Role         string
							WorkingGroup struct{ Name string }
						}
					}
				}
			}
		}
	}
}

// TestOrganizationsStatementCount shows that the related objects of a page
// are read in batches: a page of 50 organizations with their territories,
// themes, affiliates, the affiliates' organizations and working groups runs
// as many SQL statements as a page of 5.
func TestOrganizationsStatementCount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newNetEnv(t, db)
		seedStatementsNetwork(t, e)

		counter := storage.CountStatements(db)
		run := func(n int) (int64, statementsPage) {
			t.Helper()
			var page statementsPage
			counter.Reset()
			e.must(t, e.admin, statementsQuery, vars("n", n), &page)
			return counter.Count(), page
		}
		run(1) // the session's first use, which may note when it was last seen
		small, five := run(5)
		large, fifty := run(50)
		if len(five.Organizations.Edges) != 5 || len(fifty.Organizations.Edges) != 50 || fifty.Organizations.TotalCount != 60 {
			t.Fatalf("pages of %d and %d organizations of %d; want 5 and 50 of 60",
				len(five.Organizations.Edges), len(fifty.Organizations.Edges), fifty.Organizations.TotalCount)
		}
		for _, edge := range fifty.Organizations.Edges {
			o := edge.Node
			if len(o.Territories) == 0 || len(o.Themes) == 0 || len(o.Affiliations) == 0 || len(o.Practices) == 0 {
				t.Fatalf("%s: %+v; want territories, themes, affiliates and practices", o.Name, o)
			}
			p := o.Affiliations[0].Person
			if p == nil || p.Email == nil || p.Phone == nil || len(p.Affiliations) == 0 || len(p.Memberships) != 1 {
				t.Fatalf("%s's affiliate: %+v; want a person with contacts, organizations and a working group", o.Name, p)
			}
		}
		t.Logf("%d statements for 5 organizations, %d for 50", small, large)
		if small != large {
			t.Errorf("%d statements for a page of 5 organizations, %d for 50: related objects are not batched", small, large)
		}
	})
}

// seedStatementsNetwork creates, through the network service, a working
// group in each territory and 60 organizations spread over the territories,
// each with a representative who is a member of the group of the
// organization's first territory (every other representative also works
// for the previous organization) and a practice it leads, with the previous
// organization as partner.
func seedStatementsNetwork(t testing.TB, e *netEnv) {
	t.Helper()
	ctx := access.WithActor(context.Background(), e.actor)
	n := e.r.Network
	territories, err := e.r.Reference.Territories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int64{}
	for _, tr := range territories {
		g, err := n.CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: tr.Code})
		if err != nil {
			t.Fatal(err)
		}
		groups[tr.Code] = g.ID
	}
	themes := []reference.ThemeCode{"HEALTH", "EDUCATION", "WORK", "HOUSING"}
	var previous int64
	for i := range 60 {
		first, second := territories[i%len(territories)].Code, territories[(i+1)%len(territories)].Code
		org, err := n.CreateOrganization(ctx, network.OrganizationInput{
			Name: fmt.Sprintf("Associazione %02d", i), Kind: network.KindAssociation, Level: network.LevelProvincial,
			Territories: []string{first, second}, Themes: []reference.ThemeCode{themes[i%4], themes[(i+1)%4]},
		})
		if err != nil {
			t.Fatal(err)
		}
		email, phone := fmt.Sprintf("persona%02d@example.org", i), fmt.Sprintf("+39 333 00000%02d", i)
		p, err := n.CreatePerson(ctx, network.PersonInput{DisplayName: fmt.Sprintf("Persona %02d", i), Email: &email, Phone: &phone})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org.ID, Role: network.Representative}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			if _, err := n.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: previous, Role: network.Staff}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := n.AddMember(ctx, network.MemberInput{WorkingGroupID: groups[first], PersonID: p.ID, Role: access.Member,
			OrganizationID: &org.ID}); err != nil {
			t.Fatal(err)
		}
		// Every organization leads a practice; the previous one is its partner.
		in := network.PracticeInput{Name: fmt.Sprintf("Sportello %02d", i), Territory: first, LeadOrganizationID: &org.ID}
		if previous != 0 {
			in.PartnerIDs = []int64{previous}
		}
		if _, err := n.CreatePractice(ctx, in); err != nil {
			t.Fatal(err)
		}
		previous = org.ID
	}
}

// BenchmarkOrganizationsPageQuery is the statement test's query through
// HTTP, as a client sees it: a page of 50 organizations with their
// territories, themes, practices and affiliates, and the affiliates'
// contacts, organizations and working groups (19 statements).
func BenchmarkOrganizationsPageQuery(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			e := newNetEnv(b, db)
			seedStatementsNetwork(b, e)
			b.ResetTimer()
			for b.Loop() {
				var page statementsPage
				e.must(b, e.admin, statementsQuery, vars("n", 50), &page)
			}
		})
	}
}
