package network_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// orgInput is a valid organization in territories.
func orgInput(name string, territories ...string) network.OrganizationInput {
	return network.OrganizationInput{Name: name, Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: territories}
}

// mustCreateOrg creates an organization as the administrator.
func (e *env) mustCreateOrg(in network.OrganizationInput) *network.Organization {
	e.t.Helper()
	o, err := e.svc.CreateOrganization(as(e.admin), in)
	if err != nil {
		e.t.Fatalf("create organization %q: %v", in.Name, err)
	}
	return o
}

// wantField fails unless err is BAD_USER_INPUT naming field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.BadInput || ae.Field != field {
		t.Errorf("%s: got %v, want BAD_USER_INPUT on field %q", what, err, field)
	}
}

// orgCounts are the row counts of the organization tables, to show that a
// refused change wrote nothing.
func (e *env) orgCounts() [3]int {
	return [3]int{e.count("organizations"), e.count("organization_territories"), e.count("organization_themes")}
}

func TestOrganizationLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		o, err := e.svc.CreateOrganization(ctx, network.OrganizationInput{
			Name: "  Comune di   Enna ", Kind: network.KindMunicipality, Level: network.LevelMunicipal,
			Territories: []string{"en", "CT"}, Themes: []reference.ThemeCode{"HOUSING", "HEALTH"},
			Website: ptr("www.comune.enna.it"), Email: ptr("Servizi.Sociali@Comune.Enna.it"),
			Phone: ptr("+39 0935 40111"), TaxCode: ptr("IT 00100490860"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Comune di Enna" || o.NameKey != "comune di enna" || o.Kind != network.KindMunicipality || o.Level != network.LevelMunicipal {
			t.Errorf("created %+v", o)
		}
		if *o.Website != "https://www.comune.enna.it" || *o.Email != "servizi.sociali@comune.enna.it" || *o.Phone != "+39 0935 40111" || *o.TaxCode != "00100490860" {
			t.Errorf("contacts %q %q %q %q", *o.Website, *o.Email, *o.Phone, *o.TaxCode)
		}
		if o.CreatedBy == nil || *o.CreatedBy != e.admin.PersonID || o.ArchivedAt != nil {
			t.Errorf("created by %v, archived %v", o.CreatedBy, o.ArchivedAt)
		}

		got, err := e.svc.Organization(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != o.Name || !got.CreatedAt.Equal(o.CreatedAt) || *got.TaxCode != "00100490860" {
			t.Errorf("read back %+v", got)
		}
		// Catania before Enna (by name); health before housing (by position).
		e.wantLinks(o.ID, []int64{e.territories["CT"], e.territories["EN"]}, []int64{e.themes["HEALTH"], e.themes["HOUSING"]})

		e.clock.Advance(time.Hour)
		up, err := e.svc.UpdateOrganization(ctx, o.ID, network.OrganizationPatch{
			Name: ptr("Comune di Enna — Servizi sociali"), Territories: &[]string{"EN"},
			Themes: &[]reference.ThemeCode{"WORK"}, Website: ptr(""), Kind: ptr(network.KindOtherPublicBody),
		})
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Comune di Enna — Servizi sociali" || up.Website != nil || up.Kind != network.KindOtherPublicBody ||
			*up.Email != "servizi.sociali@comune.enna.it" || !up.UpdatedAt.Equal(e.clock.Now()) {
			t.Errorf("updated %+v", up)
		}
		e.wantLinks(o.ID, []int64{e.territories["EN"]}, []int64{e.themes["WORK"]})
		var keys []string
		if err := db.NewSelect().TableExpr("organization_territories").Column("name_key").Where("organization_id = ?", o.ID).Scan(context.Background(), &keys); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keys, []string{"comune di enna — servizi sociali"}) {
			t.Errorf("organization_territories.name_key = %q after the rename", keys)
		}

		// A patch that changes nothing writes nothing.
		e.clock.Advance(time.Hour)
		same, err := e.svc.UpdateOrganization(ctx, o.ID, network.OrganizationPatch{Name: ptr(" Comune di Enna —  Servizi sociali "), Territories: &[]string{"EN"}})
		if err != nil {
			t.Fatal(err)
		}
		if !same.UpdatedAt.Equal(up.UpdatedAt) {
			t.Errorf("a change to nothing moved updatedAt to %v", same.UpdatedAt)
		}

		// An affiliation and a practice refer to it; archiving keeps them.
		pid := e.rawPerson("Maria Rossi")
		if _, err := db.NewInsert().Model(&network.Affiliation{PersonID: pid, OrganizationID: o.ID, Role: network.Representative, StartedAt: e.clock.Now()}).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		pr, err := e.svc.CreatePractice(ctx, network.PracticeInput{Name: "Polo sociale integrato", Territory: "EN", LeadOrganizationID: &o.ID})
		if err != nil {
			t.Fatal(err)
		}

		e.clock.Advance(time.Hour)
		arch, err := e.svc.ArchiveOrganization(ctx, o.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if arch.ArchivedAt == nil || !arch.ArchivedAt.Equal(e.clock.Now()) {
			t.Errorf("archived at %v", arch.ArchivedAt)
		}
		if ids := e.orgNames(network.OrganizationFilter{}); len(ids) != 0 {
			t.Errorf("an archived organization is listed: %v", ids)
		}
		if ids := e.orgNames(network.OrganizationFilter{IncludeArchived: true}); len(ids) != 1 {
			t.Errorf("IncludeArchived lists %v", ids)
		}
		if got, err := e.svc.Organization(ctx, o.ID); err != nil || got.ArchivedAt == nil {
			t.Errorf("an archived organization reads as %v, %v", got, err)
		}
		if n := e.count("affiliations"); n != 1 {
			t.Errorf("%d affiliations after archiving, want 1", n)
		}
		if got, _ := e.svc.Practice(ctx, pr.ID); got.LeadOrganizationID == nil || *got.LeadOrganizationID != o.ID {
			t.Errorf("the practice lost its lead: %+v", got)
		}
		e.wantLinks(o.ID, []int64{e.territories["EN"]}, []int64{e.themes["WORK"]})

		// Archiving again is a no-op.
		e.clock.Advance(time.Hour)
		again, err := e.svc.ArchiveOrganization(ctx, o.ID, true)
		if err != nil || !again.ArchivedAt.Equal(*arch.ArchivedAt) {
			t.Errorf("archiving twice: %v, %v", again, err)
		}

		restored, err := e.svc.ArchiveOrganization(ctx, o.ID, false)
		if err != nil || restored.ArchivedAt != nil {
			t.Fatalf("restore: %v, %v", restored, err)
		}
		if ids := e.orgNames(network.OrganizationFilter{}); len(ids) != 1 {
			t.Errorf("the restored organization is not listed: %v", ids)
		}

		_, err = e.svc.Organization(ctx, o.ID+1000)
		wantKind(t, "missing organization", err, apperr.NotFound)
		_, err = e.svc.UpdateOrganization(ctx, o.ID+1000, network.OrganizationPatch{Name: ptr("x")})
		wantKind(t, "update a missing organization", err, apperr.NotFound)
		_, err = e.svc.ArchiveOrganization(ctx, o.ID+1000, true)
		wantKind(t, "archive a missing organization", err, apperr.NotFound)
	})
}

// wantLinks checks an organization's territories and themes through the loaders.
// orgState is what a refused update or archiving could change of an
// organization: its name, its territories and whether it is archived.
type orgState struct {
	Name        string
	Territories string
	Archived    bool
}

// orgStateOf re-reads organization id as the administrator.
func (e *env) orgStateOf(id int64) orgState {
	e.t.Helper()
	ctx := as(e.admin)
	o, err := e.svc.Organization(ctx, id)
	if err != nil {
		e.t.Fatalf("read organization %d: %v", id, err)
	}
	ts, err := e.svc.TerritoriesOfOrganizations(ctx, []int64{id})
	if err != nil {
		e.t.Fatal(err)
	}
	return orgState{Name: o.Name, Territories: fmt.Sprint(ts[id]), Archived: o.ArchivedAt != nil}
}

func (e *env) wantLinks(id int64, territories, themes []int64) {
	e.t.Helper()
	ctx := as(e.admin)
	ts, err := e.svc.TerritoriesOfOrganizations(ctx, []int64{id})
	if err != nil {
		e.t.Fatal(err)
	}
	if !slices.Equal(ts[id], territories) {
		e.t.Errorf("territories of %d: %v, want %v", id, ts[id], territories)
	}
	th, err := e.svc.ThemesOfOrganizations(ctx, []int64{id})
	if err != nil {
		e.t.Fatal(err)
	}
	if !slices.Equal(th[id], themes) {
		e.t.Errorf("themes of %d: %v, want %v", id, th[id], themes)
	}
}

// orgNames lists the names of the organizations f matches, by name, as the admin.
func (e *env) orgNames(f network.OrganizationFilter) []string {
	e.t.Helper()
	page, err := e.svc.Organizations(as(e.admin), f, network.Sort{}, relay.PageArgs{First: ptr(relay.MaxPage)})
	if err != nil {
		e.t.Fatalf("list organizations %+v: %v", f, err)
	}
	names := make([]string, len(page.Items))
	for i, o := range page.Items {
		names[i] = o.Name
	}
	return names
}

func TestOrganizationValidation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		base := e.mustCreateOrg(orgInput("Arci Siracusa", "SR"))
		before := e.orgCounts()
		bad := []struct {
			field string
			edit  func(in *network.OrganizationInput)
		}{
			{"name", func(in *network.OrganizationInput) { in.Name = "   " }},
			{"name", func(in *network.OrganizationInput) { in.Name = strings.Repeat("a", 301) }},
			{"name", func(in *network.OrganizationInput) { in.Name = "Arci\x00" }},
			{"name", func(in *network.OrganizationInput) { in.Name = "bad \xff utf-8" }},
			{"kind", func(in *network.OrganizationInput) { in.Kind = "CLUB" }},
			{"kind", func(in *network.OrganizationInput) { in.Kind = "" }},
			{"level", func(in *network.OrganizationInput) { in.Level = "GALACTIC" }},
			{"level", func(in *network.OrganizationInput) { in.Level = "" }},
			{"territories", func(in *network.OrganizationInput) { in.Territories = []string{"EN", "XX"} }},
			{"themes", func(in *network.OrganizationInput) { in.Themes = []reference.ThemeCode{"SPORT"} }},
			{"website", func(in *network.OrganizationInput) { in.Website = ptr("ftp://example.org") }},
			{"website", func(in *network.OrganizationInput) { in.Website = ptr("not a site") }},
			{"email", func(in *network.OrganizationInput) { in.Email = ptr("nobody at example.org") }},
			{"phone", func(in *network.OrganizationInput) { in.Phone = ptr("call us") }},
			{"taxCode", func(in *network.OrganizationInput) { in.TaxCode = ptr("12345") }},
		}
		for _, c := range bad {
			in := orgInput("Oxfam Italia Intercultura", "EN")
			c.edit(&in)
			_, err := e.svc.CreateOrganization(ctx, in)
			wantField(t, fmt.Sprintf("create with bad %s %+v", c.field, in), err, c.field)
		}
		// The error lists the valid values.
		_, err := e.svc.CreateOrganization(ctx, network.OrganizationInput{Name: "X", Kind: "CLUB", Level: network.LevelMunicipal})
		if err == nil || !strings.Contains(err.Error(), "SOCIAL_COOPERATIVE") {
			t.Errorf("an unknown kind does not list the kinds: %v", err)
		}

		patches := []struct {
			field string
			p     network.OrganizationPatch
		}{
			{"name", network.OrganizationPatch{Name: ptr("")}},
			{"kind", network.OrganizationPatch{Kind: ptr(network.Kind("CLUB"))}},
			{"level", network.OrganizationPatch{Level: ptr(network.Level("X"))}},
			{"territories", network.OrganizationPatch{Territories: &[]string{"ZZ"}}},
			{"themes", network.OrganizationPatch{Themes: &[]reference.ThemeCode{"SPORT"}}},
			{"email", network.OrganizationPatch{Email: ptr("@")}},
			{"taxCode", network.OrganizationPatch{Name: ptr("Arci Siracusa APS"), TaxCode: ptr("ABC")}},
		}
		for _, c := range patches {
			_, err := e.svc.UpdateOrganization(ctx, base.ID, c.p)
			wantField(t, "update with bad "+c.field, err, c.field)
		}
		if got := e.orgCounts(); got != before {
			t.Errorf("refused changes wrote rows: %v, then %v", before, got)
		}
		got, _ := e.svc.Organization(ctx, base.ID)
		if got.Name != "Arci Siracusa" || !got.UpdatedAt.Equal(base.UpdatedAt) {
			t.Errorf("a refused update changed the organization: %+v", got)
		}
		e.wantLinks(base.ID, []int64{e.territories["SR"]}, nil)
	})
}

func TestOrganizationDuplicates(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		enna := e.mustCreateOrg(orgInput("Caritas Diocesana", "EN", "CL"))
		e.mustCreateOrg(orgInput("Caritas  diocesana", "CT")) // another territory: allowed
		withTax := e.mustCreateOrg(network.OrganizationInput{Name: "Consorzio Nova", Kind: network.KindConsortium,
			Level: network.LevelRegional, Territories: []string{"PA"}, TaxCode: ptr("01234567890")})
		e.mustCreateOrg(network.OrganizationInput{Name: "Ministero dell'Interno", Kind: network.KindMinistry, Level: network.LevelNational})
		e.mustCreateOrg(orgInput("Ministero dell'Interno", "PA")) // in a territory vs in none: allowed
		before := e.orgCounts()

		conflicts := []struct {
			what string
			in   network.OrganizationInput
			says string
		}{
			{"same name, case and spaces aside, in a shared territory", orgInput(" CARITAS   diocesana ", "RG", "CL"), `"Caritas Diocesana" already exists in Caltanissetta`},
			{"same tax code", network.OrganizationInput{Name: "Nova", Kind: network.KindConsortium, Level: network.LevelRegional,
				Territories: []string{"TP"}, TaxCode: ptr("IT01234567890")}, `"Consorzio Nova"`},
			{"same name among organizations tied to no territory", network.OrganizationInput{Name: "ministero dell'interno",
				Kind: network.KindMinistry, Level: network.LevelNational}, "no territory"},
		}
		for _, c := range conflicts {
			_, err := e.svc.CreateOrganization(ctx, c.in)
			wantKind(t, c.what, err, apperr.Conflict)
			if err != nil && !strings.Contains(err.Error(), c.says) {
				t.Errorf("%s: message %q does not say %q", c.what, err, c.says)
			}
		}

		// Moving or renaming into a duplicate is refused too.
		other := e.mustCreateOrg(orgInput("Centro Penc", "PA", "CL"))
		before = e.orgCounts()
		_, err := e.svc.UpdateOrganization(ctx, other.ID, network.OrganizationPatch{Name: ptr("caritas diocesana")})
		wantKind(t, "rename into a duplicate", err, apperr.Conflict)
		_, err = e.svc.UpdateOrganization(ctx, other.ID, network.OrganizationPatch{TaxCode: ptr("01234567890")})
		wantKind(t, "take another's tax code", err, apperr.Conflict)
		moved := e.mustCreateOrg(orgInput("Caritas Diocesana", "AG"))
		_, err = e.svc.UpdateOrganization(ctx, moved.ID, network.OrganizationPatch{Territories: &[]string{"AG", "EN"}})
		wantKind(t, "move into a territory with the same name", err, apperr.Conflict)
		before = e.orgCounts()

		// An organization keeps its own name and tax code when updated.
		if _, err := e.svc.UpdateOrganization(ctx, withTax.ID, network.OrganizationPatch{TaxCode: ptr("01234567890"), Phone: ptr("091 123456")}); err != nil {
			t.Errorf("update keeping the tax code: %v", err)
		}

		// Archived organizations still count, and the message says to restore.
		if _, err := e.svc.ArchiveOrganization(ctx, enna.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.CreateOrganization(ctx, orgInput("Caritas Diocesana", "EN"))
		wantKind(t, "same name as an archived one", err, apperr.Conflict)
		if err != nil && !strings.Contains(err.Error(), "restore it") {
			t.Errorf("the message does not say to restore: %v", err)
		}
		if got := e.orgCounts(); got != before {
			t.Errorf("refused duplicates wrote rows: %v, then %v", before, got)
		}
	})
}

func TestOrganizationAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		coord := as(e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator, "CT": access.Member}))
		member := as(e.actor("Mario Membro", map[string]access.TerritoryRole{"EN": access.Member}))
		policy := as(e.actor("Paola Policy", nil, access.PolicyMaker))
		palermo := e.mustCreateOrg(orgInput("Comune di Palermo", "PA"))
		before := e.orgCounts()
		palermoBefore := e.orgStateOf(palermo.ID)

		_, err := e.svc.CreateOrganization(coord, orgInput("Comune di Catania", "CT"))
		wantKind(t, "coordinator of EN creates in CT where a member", err, apperr.Forbidden)
		_, err = e.svc.CreateOrganization(coord, orgInput("Comune di Palermo 2", "PA"))
		wantKind(t, "coordinator of EN creates in PA", err, apperr.Forbidden)
		_, err = e.svc.CreateOrganization(member, orgInput("Pro Loco", "EN"))
		wantKind(t, "member creates", err, apperr.Forbidden)
		_, err = e.svc.CreateOrganization(policy, orgInput("Pro Loco", "EN"))
		wantKind(t, "policy maker creates", err, apperr.Forbidden)
		_, err = e.svc.CreateOrganization(anon(), orgInput("Pro Loco", "EN"))
		wantKind(t, "anonymous creates", err, apperr.Unauthenticated)
		_, err = e.svc.CreateOrganization(anon(), orgInput("Pro Loco", "XX"))
		wantKind(t, "anonymous with a bad code", err, apperr.Unauthenticated)
		_, err = e.svc.UpdateOrganization(coord, palermo.ID, network.OrganizationPatch{Name: ptr("Città di Palermo")})
		wantKind(t, "coordinator of EN updates a PA organization", err, apperr.Forbidden)
		_, err = e.svc.ArchiveOrganization(coord, palermo.ID, true)
		wantKind(t, "coordinator of EN archives a PA organization", err, apperr.Forbidden)
		_, err = e.svc.UpdateOrganization(policy, palermo.ID, network.OrganizationPatch{Name: ptr("Città di Palermo")})
		wantKind(t, "policy maker updates", err, apperr.Forbidden)
		if got := e.orgCounts(); got != before {
			t.Errorf("refused changes wrote rows: %v, then %v", before, got)
		}
		if got := e.orgStateOf(palermo.ID); got != palermoBefore || got.Name != "Comune di Palermo" || got.Archived {
			t.Errorf("after refused changes Palermo is %+v, was %+v", got, palermoBefore)
		}

		enna, err := e.svc.CreateOrganization(coord, orgInput("Comune di Enna", "EN"))
		if err != nil {
			t.Fatalf("coordinator of EN creates in EN: %v", err)
		}
		ennaOnly := e.orgStateOf(enna.ID)
		if ennaOnly.Territories == "[]" || ennaOnly.Archived {
			t.Fatalf("Comune di Enna as created: %+v; want in EN, not archived", ennaOnly)
		}
		_, err = e.svc.CreateOrganization(coord, orgInput("Rete Sicilia", "EN", "PA"))
		wantKind(t, "coordinator of EN creates in EN and PA", err, apperr.Forbidden)
		if _, err := e.svc.CreateOrganization(coord, network.OrganizationInput{Name: "ANCI", Kind: network.KindOtherPublicBody, Level: network.LevelNational}); err != nil {
			t.Errorf("coordinator creates an organization tied to no territory: %v", err)
		}
		_, err = e.svc.UpdateOrganization(coord, enna.ID, network.OrganizationPatch{Territories: &[]string{"PA"}})
		wantKind(t, "coordinator of EN moves an organization to PA only", err, apperr.Forbidden)
		_, err = e.svc.UpdateOrganization(coord, enna.ID, network.OrganizationPatch{Territories: &[]string{"EN", "PA"}})
		wantKind(t, "coordinator of EN adds PA to an EN organization", err, apperr.Forbidden)
		if got := e.orgStateOf(enna.ID); got != ennaOnly {
			t.Errorf("after refused moves Enna is %+v, want %+v", got, ennaOnly)
		}
		if _, err := e.svc.ArchiveOrganization(coord, enna.ID, true); err != nil {
			t.Errorf("coordinator archives in EN: %v", err)
		}
		_, err = e.svc.UpdateOrganization(member, enna.ID, network.OrganizationPatch{Name: ptr("x")})
		wantKind(t, "member updates", err, apperr.Forbidden)
		ennaOnly.Archived = true
		if got := e.orgStateOf(enna.ID); got != ennaOnly {
			t.Errorf("after the member's refused rename Enna is %+v, want %+v", got, ennaOnly)
		}
		if _, err := e.svc.CreateOrganization(as(e.admin), orgInput("Prefettura di Trapani", "TP")); err != nil {
			t.Errorf("admin creates: %v", err)
		}

		// Everybody signed in reads; nobody else.
		for name, ctx := range map[string]context.Context{"member": member, "policy maker": policy} {
			if _, err := e.svc.Organizations(ctx, network.OrganizationFilter{}, network.Sort{}, relay.PageArgs{}); err != nil {
				t.Errorf("%s lists: %v", name, err)
			}
			if _, err := e.svc.Organization(ctx, palermo.ID); err != nil {
				t.Errorf("%s reads: %v", name, err)
			}
		}
		_, err = e.svc.Organizations(anon(), network.OrganizationFilter{}, network.Sort{}, relay.PageArgs{})
		wantKind(t, "anonymous lists", err, apperr.Unauthenticated)
		_, err = e.svc.Organization(anon(), palermo.ID)
		wantKind(t, "anonymous reads", err, apperr.Unauthenticated)
		_, err = e.svc.OrganizationsByID(anon(), []int64{palermo.ID})
		wantKind(t, "anonymous loads", err, apperr.Unauthenticated)
		_, err = e.svc.TerritoriesOfOrganizations(anon(), []int64{palermo.ID})
		wantKind(t, "anonymous loads territories", err, apperr.Unauthenticated)
	})
}

// TestOrganizationTerritoryChanges: unless an administrator, whoever moves
// an organization into or out of a territory coordinates that territory,
// whether they create it, update it or import it; the territories left as
// they were need not be theirs.
func TestOrganizationTerritoryChanges(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		coordEN := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		coord := as(coordEN)
		id := func(codes ...string) []int64 {
			var out []int64
			for _, c := range codes {
				out = append(out, e.territories[c])
			}
			slices.Sort(out)
			return out
		}
		enna := e.mustCreateOrg(orgInput("Comune di Enna", "EN"))
		rete := e.mustCreateOrg(network.OrganizationInput{Name: "Rete Sicilia", Kind: network.KindAssociation, Level: network.LevelRegional,
			Territories: []string{"EN", "PA"}, TaxCode: ptr("80012000826")})
		anci := e.mustCreateOrg(network.OrganizationInput{Name: "ANCI", Kind: network.KindOtherPublicBody, Level: network.LevelNational})
		before := e.orgCounts()

		refused := []struct {
			what string
			id   int64
			to   []string
		}{
			{"adds PA to an EN organization", enna.ID, []string{"EN", "PA"}},
			{"removes PA from an EN and PA organization", rete.ID, []string{"EN"}},
			{"swaps PA for CT in an EN and PA organization", rete.ID, []string{"EN", "CT"}},
			{"moves an organization tied to no territory into PA", anci.ID, []string{"PA"}},
		}
		for _, c := range refused {
			_, err := e.svc.UpdateOrganization(coord, c.id, network.OrganizationPatch{Territories: &c.to})
			wantKind(t, "EN's coordinator "+c.what, err, apperr.Forbidden)
		}
		_, err := e.svc.CreateOrganization(coord, orgInput("Rete Sicilia Est", "EN", "CT"))
		wantKind(t, "EN's coordinator creates in EN and CT", err, apperr.Forbidden)
		if got := e.orgCounts(); got != before {
			t.Errorf("refused changes wrote rows: %v, then %v", before, got)
		}
		e.wantLinks(enna.ID, id("EN"), nil)
		e.wantLinks(rete.ID, id("EN", "PA"), nil)
		e.wantLinks(anci.ID, nil, nil)

		// The import's updates follow the same rule, row by row.
		rep, err := e.importText(coord, network.ImportOrganizations, "nome,tipo,livello,territori,codice_fiscale\n"+
			"Rete Sicilia,associazione,regionale,EN,80012000826\n"+
			"Comune di Enna,associazione,provinciale,EN|PA,\n")
		wantErrors(t, rep, err, network.RowError{Row: 2, Column: "territori", Code: apperr.Forbidden},
			network.RowError{Row: 3, Column: "territori", Code: apperr.Forbidden})
		e.wantLinks(enna.ID, id("EN"), nil)
		e.wantLinks(rete.ID, id("EN", "PA"), nil)

		// Changes within EN are the coordinator's, even on an organization
		// that also works in PA, and so is giving ANCI a place in EN.
		if o, err := e.svc.UpdateOrganization(coord, rete.ID, network.OrganizationPatch{Name: ptr("Rete Sicilia ETS"), Territories: &[]string{"PA", "EN"}}); err != nil || o.Name != "Rete Sicilia ETS" {
			t.Errorf("EN's coordinator renames an EN and PA organization: %+v, %v", o, err)
		}
		if _, err := e.svc.UpdateOrganization(coord, anci.ID, network.OrganizationPatch{Territories: &[]string{"EN"}}); err != nil {
			t.Errorf("EN's coordinator moves an organization tied to no territory into EN: %v", err)
		}
		e.wantLinks(anci.ID, id("EN"), nil)
		if _, err := e.svc.UpdateOrganization(as(e.admin), enna.ID, network.OrganizationPatch{Territories: &[]string{"PA", "CT"}}); err != nil {
			t.Errorf("an administrator moves an organization anywhere: %v", err)
		}
		e.wantLinks(enna.ID, id("PA", "CT"), nil)
	})
}

// TestWebsiteLengthCountsTheScheme: a bare host gets https:// in front, and
// the address stored is the one whose length counts (the column holds 500
// characters).
func TestWebsiteLengthCountsTheScheme(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		long := strings.Repeat("a", 490) + ".org" // 494 characters; 502 with https://
		in := orgInput("Associazione Lunga", "EN")
		in.Website = &long
		_, err := e.svc.CreateOrganization(ctx, in)
		wantField(t, "a 494-character host", err, "website")
		if n := e.count("organizations"); n != 0 {
			t.Errorf("a refused website wrote %d organizations", n)
		}
		fits := strings.Repeat("a", 488) + ".org" // 500 characters with https://
		in.Website = &fits
		o, err := e.svc.CreateOrganization(ctx, in)
		if err != nil || *o.Website != "https://"+fits {
			t.Fatalf("a 500-character address: %v", err)
		}
		_, err = e.svc.UpdateOrganization(ctx, o.ID, network.OrganizationPatch{Website: ptr("a" + long)})
		wantField(t, "update to a long host", err, "website")
		if got, _ := e.svc.Organization(ctx, o.ID); *got.Website != "https://"+fits {
			t.Errorf("a refused website was stored: %s", *got.Website)
		}
		rep, err := e.importText(ctx, network.ImportOrganizations, "nome,tipo,livello,sito\nAssociazione Lunghissima,associazione,provinciale,"+long+"\n")
		wantErrors(t, rep, err, network.RowError{Row: 2, Column: "sito", Code: apperr.BadInput})
	})
}

func TestOrganizationFilters(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for _, in := range []network.OrganizationInput{
			{Name: "Comune di Enna", Kind: network.KindMunicipality, Level: network.LevelMunicipal, Territories: []string{"EN"}, Themes: []reference.ThemeCode{"HOUSING"}},
			{Name: "Comune di Siracusa", Kind: network.KindMunicipality, Level: network.LevelMunicipal, Territories: []string{"SR"}},
			{Name: "Arci Siracusa", Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{"SR"}, Themes: []reference.ThemeCode{"WORK", "HOUSING"}},
			{Name: "Consorzio Nova", Kind: network.KindConsortium, Level: network.LevelRegional, Territories: []string{"EN", "CL"}},
			{Name: "Confcooperative", Kind: network.KindTradeAssociation, Level: network.LevelRegional},
			{Name: "Comunità ivoriana di Enna", Kind: network.KindMigrantCommunityAssociation, Level: network.LevelMunicipal, Territories: []string{"EN"}},
			{Name: "Oxfam 100%_Intercultura", Kind: network.KindNGO, Level: network.LevelNational, Territories: []string{"AG"}},
		} {
			e.mustCreateOrg(in)
		}
		old := e.mustCreateOrg(orgInput("Vecchia associazione di Enna", "EN"))
		if _, err := e.svc.ArchiveOrganization(as(e.admin), old.ID, true); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			f    network.OrganizationFilter
			want []string
		}{
			{network.OrganizationFilter{}, []string{"Arci Siracusa", "Comune di Enna", "Comune di Siracusa", "Comunità ivoriana di Enna", "Confcooperative", "Consorzio Nova", "Oxfam 100%_Intercultura"}},
			{network.OrganizationFilter{Territory: "en"}, []string{"Comune di Enna", "Comunità ivoriana di Enna", "Consorzio Nova"}},
			{network.OrganizationFilter{Territory: "EN", IncludeArchived: true}, []string{"Comune di Enna", "Comunità ivoriana di Enna", "Consorzio Nova", "Vecchia associazione di Enna"}},
			{network.OrganizationFilter{Kinds: []network.Kind{network.KindMunicipality, network.KindNGO}}, []string{"Comune di Enna", "Comune di Siracusa", "Oxfam 100%_Intercultura"}},
			{network.OrganizationFilter{Sector: network.SectorThirdSector}, []string{"Arci Siracusa", "Consorzio Nova", "Oxfam 100%_Intercultura"}},
			{network.OrganizationFilter{Sector: network.SectorPrivate}, []string{"Confcooperative"}},
			{network.OrganizationFilter{Sector: network.SectorMigrantCommunity}, []string{"Comunità ivoriana di Enna"}},
			{network.OrganizationFilter{Level: network.LevelRegional}, []string{"Confcooperative", "Consorzio Nova"}},
			{network.OrganizationFilter{Theme: "housing"}, []string{"Arci Siracusa", "Comune di Enna"}},
			{network.OrganizationFilter{Search: "comune ENNA"}, []string{"Comune di Enna"}},
			{network.OrganizationFilter{Search: "enna"}, []string{"Comune di Enna", "Comunità ivoriana di Enna"}},
			{network.OrganizationFilter{Search: "ivoriana"}, []string{"Comunità ivoriana di Enna"}},
			{network.OrganizationFilter{Search: "100%_"}, []string{"Oxfam 100%_Intercultura"}},
			{network.OrganizationFilter{Search: "_"}, []string{"Oxfam 100%_Intercultura"}},
			{network.OrganizationFilter{Territory: "SR", Kinds: []network.Kind{network.KindMunicipality}}, []string{"Comune di Siracusa"}},
			{network.OrganizationFilter{Territory: "PA"}, []string{}},
		}
		for _, c := range cases {
			if got := e.orgNames(c.f); !slices.Equal(got, c.want) {
				t.Errorf("filter %+v: %q, want %q", c.f, got, c.want)
			}
		}
		bad := []struct {
			field string
			f     network.OrganizationFilter
		}{
			{"territory", network.OrganizationFilter{Territory: "XX"}},
			{"kinds", network.OrganizationFilter{Kinds: []network.Kind{"CLUB"}}},
			{"sector", network.OrganizationFilter{Sector: "SPACE"}},
			{"level", network.OrganizationFilter{Level: "GALACTIC"}},
			{"theme", network.OrganizationFilter{Theme: "SPORT"}},
		}
		for _, c := range bad {
			_, err := e.svc.Organizations(as(e.admin), c.f, network.Sort{}, relay.PageArgs{})
			wantField(t, "filter "+c.field, err, c.field)
		}
		_, err := e.svc.Organizations(as(e.admin), network.OrganizationFilter{}, network.Sort{Field: "COLOUR"}, relay.PageArgs{})
		wantField(t, "unknown sort", err, "orderBy")
	})
}

func TestOrganizationPagination(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		var byName, byCreation []string
		for i := range 23 {
			// Names out of creation order, with case differences.
			name := fmt.Sprintf("Associazione %02d", (i*7)%23)
			if i%3 == 0 {
				name = strings.ToUpper(name)
			}
			e.mustCreateOrg(orgInput(name, "EN"))
			byCreation = append(byCreation, name)
		}
		e.mustCreateOrg(orgInput("Elsewhere", "PA"))
		byName = slices.Clone(byCreation)
		slices.SortFunc(byName, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		f := network.OrganizationFilter{Territory: "EN"}

		walk := func(o network.Sort, backward bool) []string {
			var out []string
			var cursor *string
			for range 10 {
				args := relay.PageArgs{First: ptr(5), After: cursor}
				if backward {
					args = relay.PageArgs{Last: ptr(5), Before: cursor}
				}
				page, err := e.svc.Organizations(as(e.admin), f, o, args)
				if err != nil {
					t.Fatal(err)
				}
				if page.TotalCount != 23 {
					t.Errorf("totalCount %d, want 23", page.TotalCount)
				}
				var names []string
				for _, x := range page.Items {
					names = append(names, x.Name)
				}
				more := page.HasNextPage
				if backward {
					slices.Reverse(names)
					out = append(out, names...)
					more = page.HasPreviousPage
					if len(page.Cursors) > 0 {
						cursor = &page.Cursors[0]
					}
				} else {
					out = append(out, names...)
					if len(page.Cursors) > 0 {
						cursor = &page.Cursors[len(page.Cursors)-1]
					}
				}
				if !more {
					return out
				}
			}
			t.Fatal("pagination does not end")
			return nil
		}
		reversed := func(s []string) []string { s = slices.Clone(s); slices.Reverse(s); return s }
		if got := walk(network.Sort{}, false); !slices.Equal(got, byName) {
			t.Errorf("forward by name:\n%q\nwant\n%q", got, byName)
		}
		if got := walk(network.Sort{}, true); !slices.Equal(got, reversed(byName)) {
			t.Errorf("backward by name:\n%q", got)
		}
		if got := walk(network.Sort{Desc: true}, false); !slices.Equal(got, reversed(byName)) {
			t.Errorf("forward by name, descending:\n%q", got)
		}
		if got := walk(network.Sort{Field: network.SortByCreated}, false); !slices.Equal(got, byCreation) {
			t.Errorf("forward by creation:\n%q", got)
		}
		if got := walk(network.Sort{Field: network.SortByCreated, Desc: true}, true); !slices.Equal(got, byCreation) {
			t.Errorf("backward by creation, descending:\n%q", got)
		}
	})
}

func TestOrganizationLoaders(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		var ids []int64
		for i := range 30 {
			o := e.mustCreateOrg(network.OrganizationInput{Name: fmt.Sprintf("Org %d", i), Kind: network.KindNGO, Level: network.LevelNational,
				Territories: []string{"SR", "AG"}[:1+i%2], Themes: []reference.ThemeCode{"WORK", "HEALTH"}[:1+i%2]})
			ids = append(ids, o.ID)
		}
		archived := ids[3]
		if _, err := e.svc.ArchiveOrganization(as(e.admin), archived, true); err != nil {
			t.Fatal(err)
		}
		member := as(e.actor("Mario", map[string]access.TerritoryRole{"SR": access.Member}))
		counter := storage.CountStatements(db)
		for _, n := range []int{1, 5, 30} {
			batch := append(slices.Clone(ids[:n]), 999999)
			counter.Reset()
			orgs, err := e.svc.OrganizationsByID(member, batch)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := e.svc.TerritoriesOfOrganizations(member, batch)
			if err != nil {
				t.Fatal(err)
			}
			th, err := e.svc.ThemesOfOrganizations(member, batch)
			if err != nil {
				t.Fatal(err)
			}
			if c := counter.Count(); c != 3 {
				t.Errorf("%d statements for three loaders of %d ids, want 3", c, n+1)
			}
			if len(orgs) != n || orgs[999999] != nil {
				t.Errorf("loaded %d organizations for %d ids", len(orgs), n)
			}
			for i, id := range ids[:n] {
				if orgs[id] == nil || orgs[id].Name != fmt.Sprintf("Org %d", i) {
					t.Errorf("organization %d loaded as %+v", id, orgs[id])
				}
				wantT := []int64{e.territories["SR"]}
				wantTh := []int64{e.themes["WORK"]}
				if i%2 == 1 {
					wantT = []int64{e.territories["AG"], e.territories["SR"]} // Agrigento before Siracusa
					wantTh = []int64{e.themes["HEALTH"], e.themes["WORK"]}
				}
				if !slices.Equal(ts[id], wantT) || !slices.Equal(th[id], wantTh) {
					t.Errorf("organization %d: territories %v themes %v", id, ts[id], th[id])
				}
			}
		}
		if n := len(ids); n > 3 {
			orgs, _ := e.svc.OrganizationsByID(member, []int64{archived})
			if orgs[archived] == nil || orgs[archived].ArchivedAt == nil {
				t.Errorf("an archived organization does not load: %v", orgs)
			}
		}
		counter.Reset()
		if got, err := e.svc.OrganizationsByID(member, nil); err != nil || len(got) != 0 || counter.Count() != 0 {
			t.Errorf("empty batch: %v, %v, %d statements", got, err, counter.Count())
		}
	})
}

// Requests creating the same organization at once: exactly one wins, the
// others get CONFLICT, on both engines, with or without territories.
func TestOrganizationConcurrentDuplicates(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for _, territories := range [][]string{nil, {"EN", "PA"}} {
			const n = 8
			errs := make(chan error, n)
			for i := range n {
				go func() {
					in := orgInput(fmt.Sprintf("ANCI  Sicilia%s", strings.Repeat(" ", i)), territories...)
					_, err := e.svc.CreateOrganization(as(e.admin), in)
					errs <- err
				}()
			}
			created := 0
			for range n {
				err := <-errs
				switch {
				case err == nil:
					created++
				case !apperr.Is(err, apperr.Conflict):
					t.Errorf("territories %v: %v", territories, err)
				}
			}
			if created != 1 {
				t.Errorf("territories %v: %d created at once, want 1", territories, created)
			}
		}
		if got := e.orgNames(network.OrganizationFilter{}); !slices.Equal(got, []string{"ANCI Sicilia", "ANCI Sicilia"}) {
			t.Errorf("organizations %q", got)
		}
	})
}
