package network_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestAffiliationLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		org := e.rawOrg("Oxfam Italia Intercultura", "CT")
		other := e.rawOrg("Consorzio Nova", "EN")
		p := e.newPerson("Maria", "")
		af, err := e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: network.Representative, Title: ptr(" presidente ")})
		if err != nil {
			t.Fatal(err)
		}
		if af.Role != network.Representative || *af.Title != "presidente" || af.EndedAt != nil || *af.CreatedBy != e.admin.PersonID {
			t.Errorf("added %+v", af)
		}
		// One person may stand for several organizations.
		if _, err := e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: other, Role: network.Delegate}); err != nil {
			t.Errorf("a second organization: %v", err)
		}

		before := e.count("affiliations")
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: network.Staff})
		wantKind(t, "a second current affiliation", err, apperr.Conflict)
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: "BOSS"})
		wantField(t, "unknown role", err, "role")
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: network.Staff, Title: ptr(strings.Repeat("t", 201))})
		wantField(t, "long title", err, "title")
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: 999999, Role: network.Staff})
		wantField(t, "unknown organization", err, "organizationId")
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: 999999, OrganizationID: org, Role: network.Staff})
		wantField(t, "unknown person", err, "personId")
		archivedOrg := e.rawOrg("Chiusa", "CT")
		if _, err := db.NewUpdate().Model((*network.Organization)(nil)).Set("archived_at = ?", e.clock.Now()).Where("id = ?", archivedOrg).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: archivedOrg, Role: network.Staff})
		wantField(t, "archived organization", err, "organizationId")
		gone := e.newPerson("Archiviata", "")
		if _, err := e.svc.ArchivePerson(ctx, gone.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: gone.ID, OrganizationID: org, Role: network.Staff})
		wantField(t, "archived person", err, "personId")
		if n := e.count("affiliations"); n != before {
			t.Errorf("refused affiliations wrote rows: %d, want %d", n, before)
		}

		up, err := e.svc.UpdateAffiliation(ctx, af.ID, network.AffiliationPatch{Role: ptr(network.Delegate), Title: ptr("")})
		if err != nil || up.Role != network.Delegate || up.Title != nil {
			t.Errorf("update: %+v, %v", up, err)
		}
		_, err = e.svc.UpdateAffiliation(ctx, af.ID, network.AffiliationPatch{Role: ptr(network.AffiliationRole("x"))})
		wantField(t, "update to an unknown role", err, "role")
		if got, _ := e.svc.Affiliation(ctx, af.ID); got.Role != network.Delegate {
			t.Errorf("a refused update changed the role: %+v", got)
		}

		e.clock.Advance(time.Hour)
		end, err := e.svc.EndAffiliation(ctx, af.ID)
		if err != nil || end.EndedAt == nil || !end.EndedAt.Equal(e.clock.Now()) || *end.EndedBy != e.admin.PersonID {
			t.Errorf("end: %+v, %v", end, err)
		}
		_, err = e.svc.EndAffiliation(ctx, af.ID)
		wantKind(t, "ending twice", err, apperr.Conflict)
		_, err = e.svc.UpdateAffiliation(ctx, af.ID, network.AffiliationPatch{Title: ptr("x")})
		wantKind(t, "updating an ended affiliation", err, apperr.Conflict)
		_, err = e.svc.EndAffiliation(ctx, 999999)
		wantKind(t, "ending an unknown affiliation", err, apperr.NotFound)

		// After the end, the person may be affiliated again; history keeps both.
		again, err := e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: network.Staff})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := e.svc.AffiliationsOfPeople(ctx, []int64{p.ID}, false)
		if err != nil || len(cur[p.ID]) != 2 || cur[p.ID][1].ID != again.ID {
			t.Errorf("current affiliations of the person: %+v, %v", cur[p.ID], err)
		}
		hist, err := e.svc.AffiliationsOfOrganizations(ctx, []int64{org, other, archivedOrg}, true)
		if err != nil || len(hist[org]) != 2 || hist[org][0].ID != af.ID || hist[org][0].EndedAt == nil || len(hist[other]) != 1 || len(hist[archivedOrg]) != 0 {
			t.Errorf("history by organization: %+v, %v", hist, err)
		}
		curOrg, _ := e.svc.AffiliationsOfOrganizations(ctx, []int64{org}, false)
		if len(curOrg[org]) != 1 || curOrg[org][0].ID != again.ID {
			t.Errorf("current by organization: %+v", curOrg[org])
		}
		_, err = e.svc.AffiliationsOfPeople(anon(), []int64{p.ID}, false)
		wantKind(t, "anonymous reads affiliations", err, apperr.Unauthenticated)
	})
}

func TestAffiliationAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		en := e.group("EN")
		coordEN := e.actor("Carla", map[string]access.TerritoryRole{"EN": access.Coordinator})
		coordPA := e.actor("Paolo", map[string]access.TerritoryRole{"PA": access.Coordinator})
		member := e.actor("Mario", map[string]access.TerritoryRole{"EN": access.Member})
		enOrg := e.rawOrg("Comune di Enna", "EN")
		nowhere := e.rawOrg("Ministero")
		enPerson := e.newPerson("Elena", "")
		e.join(en, enPerson.ID, access.Member)
		free := e.newPerson("Franco", "")

		add := func(a *access.Actor, person, org int64) error {
			_, err := e.svc.AddAffiliation(as(a), network.AffiliationInput{PersonID: person, OrganizationID: org, Role: network.Staff})
			return err
		}
		wantKind(t, "anonymous", add(access.Anonymous, enPerson.ID, enOrg), apperr.Unauthenticated)
		wantKind(t, "a member", add(member, free.ID, nowhere), apperr.Forbidden)
		wantKind(t, "PA's coordinator, EN organization and person", add(coordPA, enPerson.ID, enOrg), apperr.Forbidden)
		wantKind(t, "PA's coordinator, EN person", add(coordPA, enPerson.ID, nowhere), apperr.Forbidden)
		if n := e.count("affiliations"); n != 0 {
			t.Errorf("refused affiliations wrote %d rows", n)
		}
		if err := add(coordPA, free.ID, nowhere); err != nil {
			t.Errorf("any coordinator for an entry tied to no territory: %v", err)
		}
		if err := add(coordEN, enPerson.ID, enOrg); err != nil {
			t.Errorf("EN's coordinator: %v", err)
		}
		afs, _ := e.svc.AffiliationsOfPeople(as(e.admin), []int64{enPerson.ID}, false)
		_, err := e.svc.EndAffiliation(as(coordPA), afs[enPerson.ID][0].ID)
		wantKind(t, "PA's coordinator ends an EN affiliation", err, apperr.Forbidden)
		if _, err := e.svc.EndAffiliation(as(coordEN), afs[enPerson.ID][0].ID); err != nil {
			t.Errorf("EN's coordinator ends it: %v", err)
		}
	})
}

// TestAffiliationLoadersBatch shows that the loaders take one statement
// whatever the number of ids.
func TestAffiliationLoadersBatch(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		org := e.rawOrg("Centro Penc", "PA")
		var ids []int64
		for i := range 30 {
			p := e.newPerson("Persona "+string(rune('A'+i)), "")
			ids = append(ids, p.ID)
			if _, err := e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: network.Staff}); err != nil {
				t.Fatal(err)
			}
		}
		counter := storage.CountStatements(db)
		for _, n := range []int{3, 30} {
			counter.Reset()
			got, err := e.svc.AffiliationsOfPeople(ctx, ids[:n], true)
			if err != nil || len(got) != n {
				t.Fatalf("%d people: %d, %v", n, len(got), err)
			}
			if c := counter.Count(); c != 1 {
				t.Errorf("AffiliationsOfPeople for %d people: %d statements, want 1", n, c)
			}
			counter.Reset()
			if _, err := e.svc.GroupTerritoriesOfPeople(ctx, ids[:n]); err != nil {
				t.Fatal(err)
			}
			if c := counter.Count(); c != 1 {
				t.Errorf("GroupTerritoriesOfPeople for %d people: %d statements, want 1", n, c)
			}
		}
	})
}

// TestAffiliationChecksOrganizationAndPersonApart: tying a person to an
// organization needs the organization (ManageOrganization on its
// territories) and the person (EnrolPerson) each on their own, not the
// union of their territories: EN's coordinator may not tie a PA member to
// an EN organization, nor an EN member to a PA organization, nor an
// administrator to anything.
func TestAffiliationChecksOrganizationAndPersonApart(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		en, pa := e.group("EN"), e.group("PA")
		coordEN := e.actor("Carla", map[string]access.TerritoryRole{"EN": access.Coordinator})
		e.join(en, coordEN.PersonID, access.Coordinator)
		enOrg, paOrg, nowhere := e.rawOrg("Comune di Enna", "EN"), e.rawOrg("Comune di Palermo", "PA"), e.rawOrg("Ministero")
		enPerson, paPerson := e.newPerson("Elena", "elena@example.org"), e.newPerson("Pietro", "pietro@example.org")
		e.join(en, enPerson.ID, access.Member)
		e.join(pa, paPerson.ID, access.Member)
		admin := e.newPerson("Ada Amministratrice", "ada@example.org")
		e.grant(admin.ID, access.Admin)
		adminInEN := e.newPerson("Alberto Amministratore", "alberto@example.org")
		e.grant(adminInEN.ID, access.Admin)
		e.join(en, adminInEN.ID, access.Member)

		add := func(a *access.Actor, person, org int64) error {
			_, err := e.svc.AddAffiliation(as(a), network.AffiliationInput{PersonID: person, OrganizationID: org, Role: network.Staff})
			return err
		}
		refused := []struct {
			what        string
			person, org int64
		}{
			{"a PA member to an EN organization", paPerson.ID, enOrg},
			{"a PA member to an organization tied to no territory", paPerson.ID, nowhere},
			{"an EN member to a PA organization", enPerson.ID, paOrg},
			{"an administrator to an EN organization", admin.ID, enOrg},
			{"an administrator in EN's group to an EN organization", adminInEN.ID, enOrg},
		}
		for _, c := range refused {
			wantKind(t, "EN's coordinator ties "+c.what, add(coordEN, c.person, c.org), apperr.Forbidden)
		}
		if n := e.count("affiliations"); n != 0 {
			t.Errorf("refused affiliations wrote %d rows", n)
		}

		// The same ties, made by an administrator, stay out of the
		// coordinator's reach.
		for _, c := range refused {
			if err := add(e.admin, c.person, c.org); err != nil {
				t.Fatalf("an administrator ties %s: %v", c.what, err)
			}
		}
		afs, err := e.svc.AffiliationsOfPeople(ctx, []int64{paPerson.ID, enPerson.ID, admin.ID, adminInEN.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, list := range afs {
			for _, af := range list {
				_, err := e.svc.UpdateAffiliation(as(coordEN), af.ID, network.AffiliationPatch{Title: ptr("presidente")})
				wantKind(t, "EN's coordinator changes an affiliation they could not make", err, apperr.Forbidden)
				_, err = e.svc.EndAffiliation(as(coordEN), af.ID)
				wantKind(t, "EN's coordinator ends an affiliation they could not make", err, apperr.Forbidden)
				if got, _ := e.svc.Affiliation(ctx, af.ID); got.Title != nil || got.EndedAt != nil {
					t.Errorf("a refused change changed %+v", got)
				}
			}
		}

		// An EN member and an EN organization, or a person in no group:
		// EN's coordinator's.
		if err := add(coordEN, enPerson.ID, enOrg); err != nil {
			t.Errorf("EN's coordinator ties an EN member to an EN organization: %v", err)
		}
		free := e.newPerson("Libera", "")
		if err := add(coordEN, free.ID, enOrg); err != nil {
			t.Errorf("EN's coordinator ties a person in no group to an EN organization: %v", err)
		}
	})
}
