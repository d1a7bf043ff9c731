package network_test

import (
	"context"
	"encoding/json"
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

// practiceCounts are the row counts of the practice tables.
func (e *env) practiceCounts() [3]int {
	return [3]int{e.count("practices"), e.count("practice_themes"), e.count("practice_partners")}
}

// mustCreatePractice creates a practice as the administrator.
func (e *env) mustCreatePractice(in network.PracticeInput) *network.Practice {
	e.t.Helper()
	pr, err := e.svc.CreatePractice(as(e.admin), in)
	if err != nil {
		e.t.Fatalf("create practice %q: %v", in.Name, err)
	}
	return pr
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestPracticeLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		lead := e.mustCreateOrg(orgInput("Comune di Enna", "EN"))
		nova := e.mustCreateOrg(orgInput("Consorzio Nova", "EN"))
		cpia := e.mustCreateOrg(orgInput("CPIA Enna", "EN"))
		// A time late in the day in Rome is still that day.
		rome := time.FixedZone("CET", 3600)
		services := []string{"  Sportello d'ascolto ", "Mediazione linguistico-culturale — arabo, 中文", "", "Orientamento al lavoro", "Orientamento al lavoro"}
		pr, err := e.svc.CreatePractice(ctx, network.PracticeInput{
			Name: " Polo Sociale  Integrato di Enna ", Description: "Il polo offre\r\nservizi integrati.\n\n\tPer tutti.  ",
			Territory: "en", Themes: []reference.ThemeCode{"WORK", "HEALTH"},
			LeadOrganizationID: &lead.ID, PartnerIDs: []int64{cpia.ID, lead.ID, nova.ID, cpia.ID},
			Funding: network.FundingFAMI, FundingDetail: "FAMI 2014-2020, PROG-2425",
			StartsOn: ptr(time.Date(2022, 3, 1, 23, 30, 0, 0, time.UTC)), EndsOn: ptr(time.Date(2026, 12, 31, 0, 30, 0, 0, rome).UTC().Add(time.Hour)),
			Beneficiaries: "Cittadini di paesi terzi", Services: services,
			OpeningHours: "Lun-Ven 9-13\nMar 15-18", Address: "Via Roma 1, Enna",
			ContactEmail: ptr("Polo@Comune.Enna.it"), ContactPhone: ptr("0935 123456"), Website: ptr("comune.enna.it/polo"),
		})
		if err != nil {
			t.Fatal(err)
		}
		wantServices := []string{"Sportello d'ascolto", "Mediazione linguistico-culturale — arabo, 中文", "Orientamento al lavoro"}
		got, err := e.svc.Practice(ctx, pr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Polo Sociale Integrato di Enna" || got.Description != "Il polo offre\nservizi integrati.\n\n\tPer tutti." ||
			got.TerritoryID != e.territories["EN"] || *got.LeadOrganizationID != lead.ID || got.Funding != network.FundingFAMI ||
			got.FundingDetail != "FAMI 2014-2020, PROG-2425" || got.OpeningHours != "Lun-Ven 9-13\nMar 15-18" ||
			*got.ContactEmail != "polo@comune.enna.it" || *got.Website != "https://comune.enna.it/polo" {
			t.Errorf("read back %+v", got)
		}
		if !got.StartsOn.Equal(day(2022, 3, 1)) || !got.EndsOn.Equal(day(2026, 12, 31)) {
			t.Errorf("period %v – %v", got.StartsOn, got.EndsOn)
		}
		// Services round-trip through the text column, as a JSON array.
		if !slices.Equal(got.Services, wantServices) {
			t.Errorf("services %q, want %q", got.Services, wantServices)
		}
		var raw string
		if err := db.NewSelect().TableExpr("practices").Column("services").Where("id = ?", pr.ID).Scan(context.Background(), &raw); err != nil {
			t.Fatal(err)
		}
		var decoded []string
		if err := json.Unmarshal([]byte(raw), &decoded); err != nil || !slices.Equal(decoded, wantServices) {
			t.Errorf("stored services %q: %v", raw, err)
		}
		// The lead is not its own partner; partners by name.
		e.wantPracticeLinks(pr.ID, []int64{e.themes["HEALTH"], e.themes["WORK"]}, []int64{nova.ID, cpia.ID})

		// Defaults: funding OTHER, no services (an empty array, not null).
		bare := e.mustCreatePractice(network.PracticeInput{Name: "Sportello migranti", Territory: "EN"})
		if bare.Funding != network.FundingOther {
			t.Errorf("default funding %s", bare.Funding)
		}
		if got, _ := e.svc.Practice(ctx, bare.ID); got.Services == nil || len(got.Services) != 0 || got.LeadOrganizationID != nil {
			t.Errorf("a bare practice reads as %+v", got)
		}

		// The new lead was a partner: it stops being one. Dates clear with the zero time.
		e.clock.Advance(time.Hour)
		up, err := e.svc.UpdatePractice(ctx, pr.ID, network.PracticePatch{
			LeadOrganizationID: &nova.ID, EndsOn: &time.Time{}, Services: &[]string{"Casa"}, Funding: ptr(network.FundingAMIF),
			ContactPhone: ptr(""),
		})
		if err != nil {
			t.Fatal(err)
		}
		if *up.LeadOrganizationID != nova.ID || up.EndsOn != nil || !up.StartsOn.Equal(day(2022, 3, 1)) ||
			!slices.Equal(up.Services, []string{"Casa"}) || up.Funding != network.FundingAMIF || up.ContactPhone != nil ||
			!up.UpdatedAt.Equal(e.clock.Now()) || up.Name != "Polo Sociale Integrato di Enna" {
			t.Errorf("updated %+v", up)
		}
		e.wantPracticeLinks(pr.ID, []int64{e.themes["HEALTH"], e.themes["WORK"]}, []int64{cpia.ID})
		up, err = e.svc.UpdatePractice(ctx, pr.ID, network.PracticePatch{LeadOrganizationID: ptr(int64(0)), PartnerIDs: &[]int64{}, Themes: &[]reference.ThemeCode{}})
		if err != nil || up.LeadOrganizationID != nil {
			t.Fatalf("clear the lead: %+v, %v", up, err)
		}
		e.wantPracticeLinks(pr.ID, nil, nil)
		if got, _ := e.svc.Practice(ctx, pr.ID); !slices.Equal(got.Services, []string{"Casa"}) || got.LeadOrganizationID != nil {
			t.Errorf("read back after update %+v", got)
		}

		arch, err := e.svc.ArchivePractice(ctx, pr.ID, true)
		if err != nil || arch.ArchivedAt == nil {
			t.Fatalf("archive: %v, %v", arch, err)
		}
		if names := e.practiceNames(network.PracticeFilter{}); !slices.Equal(names, []string{"Sportello migranti"}) {
			t.Errorf("listed after archiving: %q", names)
		}
		if names := e.practiceNames(network.PracticeFilter{IncludeArchived: true}); len(names) != 2 {
			t.Errorf("listed with archived: %q", names)
		}
		if again, err := e.svc.ArchivePractice(ctx, pr.ID, true); err != nil || !again.ArchivedAt.Equal(*arch.ArchivedAt) {
			t.Errorf("archive twice: %v, %v", again, err)
		}
		if res, err := e.svc.ArchivePractice(ctx, pr.ID, false); err != nil || res.ArchivedAt != nil {
			t.Errorf("restore: %v, %v", res, err)
		}
		_, err = e.svc.Practice(ctx, pr.ID+100)
		wantKind(t, "missing practice", err, apperr.NotFound)
		_, err = e.svc.UpdatePractice(ctx, pr.ID+100, network.PracticePatch{})
		wantKind(t, "update a missing practice", err, apperr.NotFound)
	})
}

// wantPracticeLinks checks a practice's themes and partners through the loaders.
func (e *env) wantPracticeLinks(id int64, themes, partners []int64) {
	e.t.Helper()
	th, err := e.svc.ThemesOfPractices(as(e.admin), []int64{id})
	if err != nil {
		e.t.Fatal(err)
	}
	pp, err := e.svc.PartnersOfPractices(as(e.admin), []int64{id})
	if err != nil {
		e.t.Fatal(err)
	}
	if !slices.Equal(th[id], themes) || !slices.Equal(pp[id], partners) {
		e.t.Errorf("practice %d: themes %v partners %v, want %v and %v", id, th[id], pp[id], themes, partners)
	}
}

// practiceNames lists the names of the practices f matches, by name.
func (e *env) practiceNames(f network.PracticeFilter) []string {
	e.t.Helper()
	page, err := e.svc.Practices(as(e.admin), f, network.Sort{}, relay.PageArgs{First: ptr(relay.MaxPage)})
	if err != nil {
		e.t.Fatalf("list practices %+v: %v", f, err)
	}
	names := []string{}
	for _, p := range page.Items {
		names = append(names, p.Name)
	}
	return names
}

func TestPracticeValidation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		lead := e.mustCreateOrg(orgInput("Comune di Enna", "EN"))
		base := e.mustCreatePractice(network.PracticeInput{Name: "Polo sociale", Territory: "EN", StartsOn: ptr(day(2023, 1, 1)), PartnerIDs: []int64{lead.ID}})
		before := e.practiceCounts()
		many := make([]string, 31)
		for i := range many {
			many[i] = fmt.Sprintf("servizio %d", i)
		}
		cases := []struct {
			field string
			edit  func(in *network.PracticeInput)
		}{
			{"name", func(in *network.PracticeInput) { in.Name = " " }},
			{"name", func(in *network.PracticeInput) { in.Name = strings.Repeat("x", 301) }},
			{"description", func(in *network.PracticeInput) { in.Description = strings.Repeat("x", 10001) }},
			{"description", func(in *network.PracticeInput) { in.Description = "bell\a" }},
			{"territory", func(in *network.PracticeInput) { in.Territory = "" }},
			{"territory", func(in *network.PracticeInput) { in.Territory = "XX" }},
			{"themes", func(in *network.PracticeInput) { in.Themes = []reference.ThemeCode{"SPORT"} }},
			{"leadOrganizationId", func(in *network.PracticeInput) { in.LeadOrganizationID = ptr(lead.ID + 500) }},
			{"partnerIds", func(in *network.PracticeInput) { in.PartnerIDs = []int64{lead.ID, lead.ID + 501} }},
			{"funding", func(in *network.PracticeInput) { in.Funding = "LOTTERY" }},
			{"fundingDetail", func(in *network.PracticeInput) { in.FundingDetail = strings.Repeat("x", 301) }},
			{"endsOn", func(in *network.PracticeInput) { in.StartsOn, in.EndsOn = ptr(day(2024, 5, 2)), ptr(day(2024, 5, 1)) }},
			{"services", func(in *network.PracticeInput) { in.Services = many }},
			{"services", func(in *network.PracticeInput) { in.Services = []string{strings.Repeat("x", 201)} }},
			{"openingHours", func(in *network.PracticeInput) { in.OpeningHours = strings.Repeat("x", 501) }},
			{"address", func(in *network.PracticeInput) { in.Address = "Via\tRoma\x01" }},
			{"contactEmail", func(in *network.PracticeInput) { in.ContactEmail = ptr("polo@") }},
			{"contactPhone", func(in *network.PracticeInput) { in.ContactPhone = ptr("x") }},
			{"website", func(in *network.PracticeInput) { in.Website = ptr("http://localhost:8080") }},
		}
		for _, c := range cases {
			in := network.PracticeInput{Name: "Sportello", Territory: "EN"}
			c.edit(&in)
			_, err := e.svc.CreatePractice(ctx, in)
			wantField(t, "create with bad "+c.field, err, c.field)
		}
		_, err := e.svc.CreatePractice(ctx, network.PracticeInput{Name: "Sportello", Territory: "EN", PartnerIDs: []int64{lead.ID + 501}})
		if err == nil || !strings.Contains(err.Error(), relay.ID("Organization", lead.ID+501)) {
			t.Errorf("a missing partner is not named: %v", err)
		}
		// Exactly 30 services, empty ones aside, are fine.
		if _, err := e.svc.CreatePractice(ctx, network.PracticeInput{Name: "Trenta", Territory: "EN", Services: append(many[:30:30], "", " ")}); err != nil {
			t.Errorf("30 services: %v", err)
		}
		before[0]++

		patches := []struct {
			field string
			p     network.PracticePatch
		}{
			{"endsOn", network.PracticePatch{EndsOn: ptr(day(2022, 12, 31))}},
			{"territory", network.PracticePatch{Territory: ptr("")}},
			{"leadOrganizationId", network.PracticePatch{LeadOrganizationID: ptr(int64(99999))}},
			{"partnerIds", network.PracticePatch{PartnerIDs: &[]int64{99999}}},
			{"name", network.PracticePatch{Name: ptr("")}},
		}
		for _, c := range patches {
			_, err := e.svc.UpdatePractice(ctx, base.ID, c.p)
			wantField(t, "update with bad "+c.field, err, c.field)
		}
		if got := e.practiceCounts(); got != before {
			t.Errorf("refused changes wrote rows: %v, then %v", before, got)
		}
		got, _ := e.svc.Practice(ctx, base.ID)
		if got.Name != "Polo sociale" || got.EndsOn != nil || !got.UpdatedAt.Equal(base.UpdatedAt) {
			t.Errorf("a refused update changed the practice: %+v", got)
		}
		e.wantPracticeLinks(base.ID, nil, []int64{lead.ID})
	})
}

func TestPracticeDuplicates(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		enna := e.mustCreatePractice(network.PracticeInput{Name: "Polo Sociale Integrato", Territory: "EN"})
		e.mustCreatePractice(network.PracticeInput{Name: "Polo sociale integrato", Territory: "SR"}) // another territory
		before := e.practiceCounts()
		_, err := e.svc.CreatePractice(ctx, network.PracticeInput{Name: "  polo SOCIALE   integrato", Territory: "EN"})
		wantKind(t, "same name in the territory", err, apperr.Conflict)
		if err != nil && !strings.Contains(err.Error(), `"Polo Sociale Integrato" already exists in Enna`) {
			t.Errorf("message: %v", err)
		}
		other := e.mustCreatePractice(network.PracticeInput{Name: "Sportello", Territory: "EN"})
		before[0]++
		_, err = e.svc.UpdatePractice(ctx, other.ID, network.PracticePatch{Name: ptr("polo sociale integrato")})
		wantKind(t, "rename into a duplicate", err, apperr.Conflict)
		sr := e.mustCreatePractice(network.PracticeInput{Name: "Sportello", Territory: "SR"})
		before[0]++
		_, err = e.svc.UpdatePractice(ctx, sr.ID, network.PracticePatch{Territory: ptr("EN")})
		wantKind(t, "move into a duplicate", err, apperr.Conflict)
		if _, err := e.svc.ArchivePractice(ctx, enna.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.CreatePractice(ctx, network.PracticeInput{Name: "Polo Sociale Integrato", Territory: "EN"})
		wantKind(t, "same name as an archived one", err, apperr.Conflict)
		if err != nil && !strings.Contains(err.Error(), "restore it") {
			t.Errorf("message: %v", err)
		}
		if got := e.practiceCounts(); got != before {
			t.Errorf("refused duplicates wrote rows: %v, then %v", before, got)
		}
	})
}

func TestPracticeAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		coord := as(e.actor("Carla", map[string]access.TerritoryRole{"EN": access.Coordinator, "PA": access.Observer}))
		member := as(e.actor("Mario", map[string]access.TerritoryRole{"EN": access.Member}))
		policy := as(e.actor("Paola", nil, access.PolicyMaker))
		palermo := e.mustCreatePractice(network.PracticeInput{Name: "Centro Penc", Territory: "PA"})
		before := e.practiceCounts()
		reread := func() (name string, territory int64, archived bool) {
			t.Helper()
			pr, err := e.svc.Practice(as(e.admin), palermo.ID)
			if err != nil {
				t.Fatalf("read the practice: %v", err)
			}
			return pr.Name, pr.TerritoryID, pr.ArchivedAt != nil
		}
		in := network.PracticeInput{Name: "Sportello", Territory: "EN"}
		_, err := e.svc.CreatePractice(coord, network.PracticeInput{Name: "Sportello", Territory: "PA"})
		wantKind(t, "coordinator of EN creates in PA", err, apperr.Forbidden)
		_, err = e.svc.CreatePractice(member, in)
		wantKind(t, "member creates", err, apperr.Forbidden)
		_, err = e.svc.CreatePractice(policy, in)
		wantKind(t, "policy maker creates", err, apperr.Forbidden)
		_, err = e.svc.CreatePractice(anon(), in)
		wantKind(t, "anonymous creates", err, apperr.Unauthenticated)
		_, err = e.svc.UpdatePractice(coord, palermo.ID, network.PracticePatch{Name: ptr("x")})
		wantKind(t, "coordinator of EN updates in PA", err, apperr.Forbidden)
		_, err = e.svc.ArchivePractice(coord, palermo.ID, true)
		wantKind(t, "coordinator of EN archives in PA", err, apperr.Forbidden)
		if got := e.practiceCounts(); got != before {
			t.Errorf("refused changes wrote rows: %v, then %v", before, got)
		}
		if name, territory, archived := reread(); name != "Centro Penc" || territory != palermo.TerritoryID || archived {
			t.Errorf("after refused changes the practice is %q in %d, archived %v; want Centro Penc in %d, not archived",
				name, territory, archived, palermo.TerritoryID)
		}
		mine, err := e.svc.CreatePractice(coord, in)
		if err != nil {
			t.Fatalf("coordinator of EN creates in EN: %v", err)
		}
		_, err = e.svc.UpdatePractice(coord, mine.ID, network.PracticePatch{Territory: ptr("PA")})
		wantKind(t, "coordinator of EN moves a practice to PA", err, apperr.Forbidden)
		if _, err := e.svc.UpdatePractice(coord, mine.ID, network.PracticePatch{Description: ptr("Aperto a tutti")}); err != nil {
			t.Errorf("coordinator updates in EN: %v", err)
		}
		if _, err := e.svc.UpdatePractice(as(e.admin), mine.ID, network.PracticePatch{Territory: ptr("PA")}); err != nil {
			t.Errorf("admin moves: %v", err)
		}
		if _, err := e.svc.Practices(policy, network.PracticeFilter{}, network.Sort{}, relay.PageArgs{}); err != nil {
			t.Errorf("policy maker lists: %v", err)
		}
		_, err = e.svc.Practices(anon(), network.PracticeFilter{}, network.Sort{}, relay.PageArgs{})
		wantKind(t, "anonymous lists", err, apperr.Unauthenticated)
		_, err = e.svc.PracticesOfOrganizations(anon(), []int64{1})
		wantKind(t, "anonymous loads", err, apperr.Unauthenticated)
		_, err = e.svc.PracticesByID(anon(), []int64{palermo.ID})
		wantKind(t, "anonymous loads by id", err, apperr.Unauthenticated)
	})
}

func TestPracticeFiltersAndLoaders(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		a := e.mustCreateOrg(orgInput("Comune di Siracusa", "SR"))
		b := e.mustCreateOrg(orgInput("Arci Siracusa", "SR"))
		c := e.mustCreateOrg(orgInput("Oxfam Italia", "SR"))
		p1 := e.mustCreatePractice(network.PracticeInput{Name: "Polo sociale integrato", Territory: "SR", Funding: network.FundingFAMI,
			Themes: []reference.ThemeCode{"HOUSING", "HEALTH"}, LeadOrganizationID: &a.ID, PartnerIDs: []int64{c.ID, b.ID}})
		p2 := e.mustCreatePractice(network.PracticeInput{Name: "Accoglierete", Territory: "SR", Funding: network.FundingPrivate,
			Themes: []reference.ThemeCode{"EDUCATION"}, LeadOrganizationID: &b.ID})
		p3 := e.mustCreatePractice(network.PracticeInput{Name: "Casa comune", Territory: "EN", PartnerIDs: []int64{a.ID}})
		p4 := e.mustCreatePractice(network.PracticeInput{Name: "Vecchio sportello", Territory: "SR", LeadOrganizationID: &a.ID})
		if _, err := e.svc.ArchivePractice(as(e.admin), p4.ID, true); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			f    network.PracticeFilter
			want []string
		}{
			{network.PracticeFilter{}, []string{"Accoglierete", "Casa comune", "Polo sociale integrato"}},
			{network.PracticeFilter{Territory: "SR"}, []string{"Accoglierete", "Polo sociale integrato"}},
			{network.PracticeFilter{Territory: "SR", IncludeArchived: true}, []string{"Accoglierete", "Polo sociale integrato", "Vecchio sportello"}},
			{network.PracticeFilter{Theme: "HEALTH"}, []string{"Polo sociale integrato"}},
			{network.PracticeFilter{Funding: network.FundingOther}, []string{"Casa comune"}},
			{network.PracticeFilter{OrganizationID: a.ID}, []string{"Casa comune", "Polo sociale integrato"}},
			{network.PracticeFilter{OrganizationID: b.ID}, []string{"Accoglierete", "Polo sociale integrato"}},
			{network.PracticeFilter{Search: "CASA"}, []string{"Casa comune"}},
		}
		for _, x := range cases {
			if got := e.practiceNames(x.f); !slices.Equal(got, x.want) {
				t.Errorf("filter %+v: %q, want %q", x.f, got, x.want)
			}
		}
		for field, f := range map[string]network.PracticeFilter{
			"territory": {Territory: "XX"}, "theme": {Theme: "SPORT"}, "funding": {Funding: "LOTTERY"},
		} {
			_, err := e.svc.Practices(as(e.admin), f, network.Sort{}, relay.PageArgs{})
			wantField(t, "filter "+field, err, field)
		}
		page, err := e.svc.Practices(as(e.admin), network.PracticeFilter{}, network.Sort{Field: network.SortByCreated, Desc: true}, relay.PageArgs{First: ptr(2)})
		if err != nil || len(page.Items) != 2 || page.Items[0].ID != p3.ID || page.Items[1].ID != p2.ID || !page.HasNextPage || page.TotalCount != 3 {
			t.Errorf("newest first: %+v, %v", page, err)
		}

		ctx := as(e.actor("Mario", nil, access.PolicyMaker))
		counter := storage.CountStatements(db)
		byOrg, err := e.svc.PracticesOfOrganizations(ctx, []int64{a.ID, b.ID, c.ID, 99999})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64][]int64{a.ID: {p3.ID, p1.ID}, b.ID: {p2.ID, p1.ID}, c.ID: {p1.ID}}
		for id, w := range want {
			if !slices.Equal(byOrg[id], w) {
				t.Errorf("practices of %d: %v, want %v", id, byOrg[id], w)
			}
		}
		themes, err := e.svc.ThemesOfPractices(ctx, []int64{p1.ID, p2.ID, p3.ID})
		if err != nil {
			t.Fatal(err)
		}
		partners, err := e.svc.PartnersOfPractices(ctx, []int64{p1.ID, p2.ID, p3.ID})
		if err != nil {
			t.Fatal(err)
		}
		// Archived practices load by id: a link may still name one.
		byID, err := e.svc.PracticesByID(ctx, []int64{p4.ID, p1.ID, 99999, p3.ID, p2.ID})
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 4 {
			t.Errorf("%d statements for four loaders, want 4", n)
		}
		if len(byID) != 4 || byID[99999] != nil {
			t.Errorf("practices by id: %d, want 4 (the unknown id absent)", len(byID))
		}
		for _, want := range []*network.Practice{p1, p2, p3, p4} {
			got := byID[want.ID]
			if got == nil || got.Name != want.Name || got.TerritoryID != want.TerritoryID || got.Funding != want.Funding ||
				!eqIDPtr(got.LeadOrganizationID, want.LeadOrganizationID) || got.Services == nil {
				t.Errorf("practice %d by id: %+v, want %+v", want.ID, got, want)
			}
		}
		if byID[p4.ID] == nil || byID[p4.ID].ArchivedAt == nil {
			t.Errorf("the archived practice by id: %+v, want it archived", byID[p4.ID])
		}
		counter.Reset()
		if got, err := e.svc.PracticesByID(ctx, nil); err != nil || len(got) != 0 || counter.Count() != 0 {
			t.Errorf("no ids: %v, %v, %d statements; want nothing read", got, err, counter.Count())
		}
		if !slices.Equal(themes[p1.ID], []int64{e.themes["HEALTH"], e.themes["HOUSING"]}) || !slices.Equal(themes[p2.ID], []int64{e.themes["EDUCATION"]}) || themes[p3.ID] != nil {
			t.Errorf("themes %v", themes)
		}
		if !slices.Equal(partners[p1.ID], []int64{b.ID, c.ID}) || partners[p2.ID] != nil || !slices.Equal(partners[p3.ID], []int64{a.ID}) {
			t.Errorf("partners %v", partners)
		}
	})
}

// eqIDPtr reports whether two optional ids are both absent or equal.
func eqIDPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// TestPracticeDates: a period outside 1900–2100 is BAD_USER_INPUT naming
// the date (PostgreSQL refuses year 0; 0001-01-01 is the zero time, which a
// patch reads as "clear"), on creation and on update, and changes nothing.
func TestPracticeDates(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		pr := e.mustCreatePractice(network.PracticeInput{Name: "Polo sociale", Territory: "EN", StartsOn: ptr(day(2023, 1, 1))})
		before := e.practiceCounts()
		bad := []time.Time{day(0, 1, 1), time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600)), day(1899, 12, 31), day(2101, 1, 1), day(9999, 12, 31)}
		for _, d := range bad {
			_, err := e.svc.CreatePractice(ctx, network.PracticeInput{Name: "Sportello " + d.String(), Territory: "EN", StartsOn: &d})
			wantField(t, "create, starting "+d.String(), err, "startsOn")
			_, err = e.svc.CreatePractice(ctx, network.PracticeInput{Name: "Sportello " + d.String(), Territory: "EN", EndsOn: &d})
			wantField(t, "create, ending "+d.String(), err, "endsOn")
			_, err = e.svc.UpdatePractice(ctx, pr.ID, network.PracticePatch{StartsOn: &d})
			wantField(t, "update, starting "+d.String(), err, "startsOn")
			_, err = e.svc.UpdatePractice(ctx, pr.ID, network.PracticePatch{EndsOn: &d})
			wantField(t, "update, ending "+d.String(), err, "endsOn")
		}
		if got := e.practiceCounts(); got != before {
			t.Errorf("refused dates wrote rows: %v, then %v", before, got)
		}
		if got, _ := e.svc.Practice(ctx, pr.ID); !got.StartsOn.Equal(day(2023, 1, 1)) || got.EndsOn != nil {
			t.Errorf("refused dates changed the period: %v – %v", got.StartsOn, got.EndsOn)
		}
		up, err := e.svc.UpdatePractice(ctx, pr.ID, network.PracticePatch{StartsOn: ptr(day(1900, 1, 1)), EndsOn: ptr(day(2100, 12, 31))})
		if err != nil || !up.StartsOn.Equal(day(1900, 1, 1)) || !up.EndsOn.Equal(day(2100, 12, 31)) {
			t.Errorf("the widest period: %+v, %v", up, err)
		}
	})
}
