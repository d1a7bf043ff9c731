package demo

import (
	"reflect"
	"testing"

	"github.com/pia-sicilia/pia/internal/network"
)

// The same seed gives the same region; another seed another one.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b, c := generate(0.1, 7), generate(0.1, 7), generate(0.1, 8)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two regions from one seed differ")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("two seeds gave one region")
	}
}

func TestGeneratedRegion(t *testing.T) {
	reg := generate(1, 1)
	if len(reg.Orgs) != 2000 || len(reg.People) != 10000 {
		t.Fatalf("%d organizations, %d people", len(reg.Orgs), len(reg.People))
	}
	kinds := map[network.Kind]int{}
	names := map[string]bool{}
	for _, o := range reg.Orgs {
		kinds[o.Kind]++
		if names[network.NameKey(o.Name)] {
			t.Fatalf("two organizations named %q", o.Name)
		}
		names[network.NameKey(o.Name)] = true
	}
	// Many associations and cooperatives, some of every other kind asked
	// for.
	if kinds[network.KindAssociation] < 400 || kinds[network.KindSocialCooperative] < 200 {
		t.Errorf("kinds %v", kinds)
	}
	for _, k := range []network.Kind{network.KindMunicipality, network.KindSchool, network.KindMigrantCommunityAssociation, network.KindCompany} {
		if kinds[k] == 0 {
			t.Errorf("no %s among %v", k, kinds)
		}
	}
	for _, o := range append(namedOrganizations(), provincialOrganizations()...) {
		if names[network.NameKey(o.Name)] {
			t.Errorf("the generated region reuses the demo's %q", o.Name)
		}
	}
	emails := map[string]bool{}
	for _, p := range reg.People {
		if emails[p.Email] {
			t.Fatalf("two people with %s", p.Email)
		}
		emails[p.Email] = true
	}
	perTerritory := map[string]int{}
	for _, m := range reg.Members {
		perTerritory[m.Territory]++
	}
	for _, tr := range territories {
		if perTerritory[tr.Code] != 300 {
			t.Errorf("%s: %d members, want 300", tr.Code, perTerritory[tr.Code])
		}
	}
}
