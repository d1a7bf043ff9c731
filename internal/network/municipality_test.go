package network_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// municipalityNames lists the names of the municipalities f matches.
func (e *env) municipalityNames(f network.MunicipalityFilter) []string {
	e.t.Helper()
	page, err := e.svc.Municipalities(as(e.admin), f, relay.PageArgs{First: ptr(relay.MaxPage)})
	if err != nil {
		e.t.Fatalf("list municipalities %+v: %v", f, err)
	}
	names := []string{}
	for _, m := range page.Items {
		names = append(names, m.Name)
	}
	return names
}

func TestMunicipalities(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		enna, err := e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "en", Name: " Enna ", IstatCode: ptr("86009")})
		if err != nil {
			t.Fatal(err)
		}
		if enna.Name != "Enna" || enna.TerritoryID != e.territories["EN"] || *enna.IstatCode != "086009" {
			t.Errorf("created %+v", enna)
		}
		for _, in := range []network.MunicipalityInput{
			{Territory: "EN", Name: "Piazza Armerina", IstatCode: ptr("086014")},
			{Territory: "EN", Name: "Aidone"},
			{Territory: "SR", Name: "Siracusa", IstatCode: ptr("089017")},
			{Territory: "SR", Name: "Noto"},
		} {
			if _, err := e.svc.CreateMunicipality(ctx, in); err != nil {
				t.Fatalf("create %s: %v", in.Name, err)
			}
		}
		if got := e.municipalityNames(network.MunicipalityFilter{}); !slices.Equal(got, []string{"Aidone", "Enna", "Noto", "Piazza Armerina", "Siracusa"}) {
			t.Errorf("all: %q", got)
		}
		if got := e.municipalityNames(network.MunicipalityFilter{Territory: "EN", Search: "piazza"}); !slices.Equal(got, []string{"Piazza Armerina"}) {
			t.Errorf("EN, piazza: %q", got)
		}
		_, err = e.svc.Municipalities(ctx, network.MunicipalityFilter{Territory: "XX"}, relay.PageArgs{})
		wantField(t, "unknown territory filter", err, "territory")

		e.clock.Advance(time.Hour)
		up, err := e.svc.UpdateMunicipality(ctx, enna.ID, network.MunicipalityPatch{Name: ptr("Enna città"), IstatCode: ptr("")})
		if err != nil || up.Name != "Enna città" || up.IstatCode != nil || !up.UpdatedAt.Equal(e.clock.Now()) {
			t.Errorf("update: %+v, %v", up, err)
		}
		if got, err := e.svc.Municipality(ctx, enna.ID); err != nil || got.Name != "Enna città" || got.NameKey != "enna città" {
			t.Errorf("read back %+v, %v", got, err)
		}
		if _, err := e.svc.ArchiveMunicipality(ctx, enna.ID, true); err != nil {
			t.Fatal(err)
		}
		if got := e.municipalityNames(network.MunicipalityFilter{Territory: "EN"}); !slices.Equal(got, []string{"Aidone", "Piazza Armerina"}) {
			t.Errorf("after archiving: %q", got)
		}
		if got := e.municipalityNames(network.MunicipalityFilter{Territory: "EN", IncludeArchived: true}); len(got) != 3 {
			t.Errorf("with archived: %q", got)
		}
		if m, err := e.svc.ArchiveMunicipality(ctx, enna.ID, false); err != nil || m.ArchivedAt != nil {
			t.Errorf("restore: %+v, %v", m, err)
		}
		_, err = e.svc.Municipality(ctx, enna.ID+100)
		wantKind(t, "missing municipality", err, apperr.NotFound)

		// Pages by name.
		p, err := e.svc.Municipalities(ctx, network.MunicipalityFilter{}, relay.PageArgs{First: ptr(2)})
		if err != nil || len(p.Items) != 2 || p.Items[0].Name != "Aidone" || !p.HasNextPage || p.TotalCount != 5 {
			t.Fatalf("first page: %+v, %v", p, err)
		}
		p, err = e.svc.Municipalities(ctx, network.MunicipalityFilter{}, relay.PageArgs{First: ptr(5), After: &p.Cursors[1]})
		if err != nil || len(p.Items) != 3 || p.Items[0].Name != "Noto" || p.HasNextPage {
			t.Errorf("second page: %+v, %v", p, err)
		}
	})
}

func TestMunicipalityValidationAndDuplicates(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		enna, err := e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "EN", Name: "Enna", IstatCode: ptr("086009")})
		if err != nil {
			t.Fatal(err)
		}
		aidone, err := e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "EN", Name: "Aidone"})
		if err != nil {
			t.Fatal(err)
		}
		// The same name in another territory is another municipality (Calatafimi, say).
		if _, err := e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "TP", Name: "ENNA"}); err != nil {
			t.Errorf("same name elsewhere: %v", err)
		}
		before := e.count("municipalities")
		for _, c := range []struct {
			field string
			in    network.MunicipalityInput
		}{
			{"name", network.MunicipalityInput{Territory: "EN", Name: " "}},
			{"name", network.MunicipalityInput{Territory: "EN", Name: strings.Repeat("x", 201)}},
			{"territory", network.MunicipalityInput{Territory: "", Name: "Troina"}},
			{"territory", network.MunicipalityInput{Territory: "XX", Name: "Troina"}},
			{"istatCode", network.MunicipalityInput{Territory: "EN", Name: "Troina", IstatCode: ptr("86A18")}},
			{"istatCode", network.MunicipalityInput{Territory: "EN", Name: "Troina", IstatCode: ptr("0860180")}},
		} {
			_, err := e.svc.CreateMunicipality(ctx, c.in)
			wantField(t, "bad "+c.field, err, c.field)
		}
		_, err = e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "EN", Name: " enna "})
		wantKind(t, "same name in the territory", err, apperr.Conflict)
		_, err = e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "EN", Name: "Troina", IstatCode: ptr("086009")})
		wantKind(t, "same ISTAT code", err, apperr.Conflict)
		if err != nil && !strings.Contains(err.Error(), `"Enna"`) {
			t.Errorf("the message does not name Enna: %v", err)
		}
		_, err = e.svc.UpdateMunicipality(ctx, aidone.ID, network.MunicipalityPatch{Name: ptr("Enna")})
		wantKind(t, "rename into a duplicate", err, apperr.Conflict)
		_, err = e.svc.UpdateMunicipality(ctx, aidone.ID, network.MunicipalityPatch{IstatCode: ptr("086009")})
		wantKind(t, "take another's ISTAT code", err, apperr.Conflict)
		_, err = e.svc.UpdateMunicipality(ctx, aidone.ID, network.MunicipalityPatch{IstatCode: ptr("x")})
		wantField(t, "update with a bad ISTAT code", err, "istatCode")
		if _, err := e.svc.ArchiveMunicipality(ctx, enna.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.CreateMunicipality(ctx, network.MunicipalityInput{Territory: "EN", Name: "Enna"})
		wantKind(t, "same name as an archived one", err, apperr.Conflict)
		if err != nil && !strings.Contains(err.Error(), "restore it") {
			t.Errorf("message: %v", err)
		}
		if n := e.count("municipalities"); n != before {
			t.Errorf("refused changes wrote rows: %d, then %d", before, n)
		}
		if got, _ := e.svc.Municipality(ctx, aidone.ID); got.Name != "Aidone" || got.IstatCode != nil {
			t.Errorf("a refused update changed %+v", got)
		}
	})
}

func TestMunicipalityAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		m, err := e.svc.CreateMunicipality(as(e.admin), network.MunicipalityInput{Territory: "EN", Name: "Enna"})
		if err != nil {
			t.Fatal(err)
		}
		coord := as(e.actor("Carla", map[string]access.TerritoryRole{"EN": access.Coordinator}))
		policy := as(e.actor("Paola", nil, access.PolicyMaker))
		in := network.MunicipalityInput{Territory: "EN", Name: "Troina"}
		_, err = e.svc.CreateMunicipality(coord, in)
		wantKind(t, "coordinator creates", err, apperr.Forbidden)
		_, err = e.svc.CreateMunicipality(policy, in)
		wantKind(t, "policy maker creates", err, apperr.Forbidden)
		_, err = e.svc.CreateMunicipality(anon(), in)
		wantKind(t, "anonymous creates", err, apperr.Unauthenticated)
		_, err = e.svc.UpdateMunicipality(coord, m.ID, network.MunicipalityPatch{Name: ptr("x")})
		wantKind(t, "coordinator updates", err, apperr.Forbidden)
		_, err = e.svc.ArchiveMunicipality(coord, m.ID, true)
		wantKind(t, "coordinator archives", err, apperr.Forbidden)
		if n := e.count("municipalities"); n != 1 {
			t.Errorf("%d municipalities after refusals", n)
		}
		if _, err := e.svc.Municipalities(coord, network.MunicipalityFilter{}, relay.PageArgs{}); err != nil {
			t.Errorf("coordinator lists: %v", err)
		}
		if _, err := e.svc.Municipality(policy, m.ID); err != nil {
			t.Errorf("policy maker reads: %v", err)
		}
		_, err = e.svc.Municipality(anon(), m.ID)
		wantKind(t, "anonymous reads", err, apperr.Unauthenticated)
	})
}
