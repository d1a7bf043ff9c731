package network_test

import (
	"context"
	"slices"
	"strconv"
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

// rawOrg inserts an organization working in territories directly, so that
// these tests do not depend on the organization service.
func (e *env) rawOrg(name string, territories ...string) int64 {
	e.t.Helper()
	now := e.clock.Now()
	o := &network.Organization{Name: name, NameKey: network.NameKey(name), Kind: network.KindAssociation,
		Level: network.LevelProvincial, CreatedAt: now, UpdatedAt: now}
	ctx := context.Background()
	if _, err := e.db.NewInsert().Model(o).Exec(ctx); err != nil {
		e.t.Fatalf("insert organization %s: %v", name, err)
	}
	for _, code := range territories {
		row := map[string]any{"organization_id": o.ID, "territory_id": e.territories[code], "name_key": o.NameKey}
		if _, err := e.db.NewInsert().Model(&row).TableExpr("organization_territories").Exec(ctx); err != nil {
			e.t.Fatalf("insert organization territory: %v", err)
		}
	}
	return o.ID
}

// group creates the working group of territory code as the administrator.
func (e *env) group(code string) *network.WorkingGroup {
	e.t.Helper()
	g, err := e.svc.CreateWorkingGroup(as(e.admin), network.WorkingGroupInput{Territory: code})
	if err != nil {
		e.t.Fatalf("create the working group of %s: %v", code, err)
	}
	return g
}

// join adds a person to a group as the administrator.
func (e *env) join(g *network.WorkingGroup, personID int64, role access.TerritoryRole) *network.Membership {
	e.t.Helper()
	m, err := e.svc.AddMember(as(e.admin), network.MemberInput{WorkingGroupID: g.ID, PersonID: personID, Role: role})
	if err != nil {
		e.t.Fatalf("add %d to %s as %s: %v", personID, g.Name, role, err)
	}
	return m
}

// newPerson creates a person as the administrator.
func (e *env) newPerson(name, email string) *network.Person {
	e.t.Helper()
	in := network.PersonInput{DisplayName: name}
	if email != "" {
		in.Email = ptr(email)
	}
	p, err := e.svc.CreatePerson(as(e.admin), in)
	if err != nil {
		e.t.Fatalf("create person %s: %v", name, err)
	}
	return p
}

// names lists the display names of a page.
func names(page *relay.Page[*network.Person]) []string {
	var out []string
	for _, p := range page.Items {
		out = append(out, p.DisplayName)
	}
	return out
}

func TestPersonCreateAndUpdate(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		p, err := e.svc.CreatePerson(ctx, network.PersonInput{DisplayName: "  Maria   Rossi ", Email: ptr("Maria.Rossi@Example.org"), Phone: ptr("+39 0935 123456")})
		if err != nil {
			t.Fatal(err)
		}
		if p.DisplayName != "Maria Rossi" || *p.Email != "maria.rossi@example.org" || *p.Phone != "+39 0935 123456" || p.Language != "it" || p.PasswordHash != nil {
			t.Errorf("created %+v", p)
		}
		before := e.count("people")
		for _, c := range []struct {
			what  string
			in    network.PersonInput
			field string
		}{
			{"no name", network.PersonInput{DisplayName: "  "}, "displayName"},
			{"long name", network.PersonInput{DisplayName: strings.Repeat("a", 201)}, "displayName"},
			{"bad email", network.PersonInput{DisplayName: "X", Email: ptr("not an address")}, "email"},
			{"bad phone", network.PersonInput{DisplayName: "X", Phone: ptr("call me")}, "phone"},
			{"bad language", network.PersonInput{DisplayName: "X", Language: "fr"}, "language"},
		} {
			_, err := e.svc.CreatePerson(ctx, c.in)
			wantField(t, c.what, err, c.field)
		}
		_, err = e.svc.CreatePerson(ctx, network.PersonInput{DisplayName: "Maria Bis", Email: ptr("MARIA.ROSSI@example.org")})
		wantKind(t, "same address, other case", err, apperr.Conflict)
		if n := e.count("people"); n != before {
			t.Errorf("refused creations wrote people: %d, want %d", n, before)
		}
		en, err := e.svc.CreatePerson(ctx, network.PersonInput{DisplayName: "John", Language: "EN"})
		if err != nil || en.Language != "en" || en.Email != nil {
			t.Errorf("english person: %+v, %v", en, err)
		}

		// Updates.
		e.clock.Advance(time.Hour)
		up, err := e.svc.UpdatePerson(ctx, p.ID, network.PersonPatch{DisplayName: ptr("Maria Rossi Bianchi"), Phone: ptr(""), Language: ptr("en")})
		if err != nil {
			t.Fatal(err)
		}
		if up.DisplayName != "Maria Rossi Bianchi" || up.Phone != nil || up.Language != "en" || *up.Email != "maria.rossi@example.org" || !up.UpdatedAt.After(p.UpdatedAt) {
			t.Errorf("updated %+v", up)
		}
		got, err := e.svc.Person(ctx, p.ID)
		if err != nil || got.DisplayName != up.DisplayName || got.Phone != nil || got.Language != "en" {
			t.Errorf("read back %+v, %v", got, err)
		}
		_, err = e.svc.UpdatePerson(ctx, en.ID, network.PersonPatch{Email: ptr("maria.rossi@example.org")})
		wantKind(t, "taking another's address", err, apperr.Conflict)
		_, err = e.svc.UpdatePerson(ctx, p.ID, network.PersonPatch{DisplayName: ptr("")})
		wantField(t, "empty name", err, "displayName")
		_, err = e.svc.UpdatePerson(ctx, 999999, network.PersonPatch{DisplayName: ptr("X")})
		wantKind(t, "unknown person", err, apperr.NotFound)
		if again, _ := e.svc.Person(ctx, p.ID); again.DisplayName != "Maria Rossi Bianchi" {
			t.Errorf("a refused update changed the person: %+v", again)
		}

		// Archiving hides from lists, twice changes nothing, restoring shows.
		a, err := e.svc.ArchivePerson(ctx, p.ID, true)
		if err != nil || a.ArchivedAt == nil {
			t.Fatalf("archive: %+v, %v", a, err)
		}
		if a2, err := e.svc.ArchivePerson(ctx, p.ID, true); err != nil || !a2.ArchivedAt.Equal(*a.ArchivedAt) {
			t.Errorf("archive twice: %+v, %v", a2, err)
		}
		page, err := e.svc.People(ctx, network.PersonFilter{Search: "maria"}, network.Sort{}, relay.PageArgs{})
		if err != nil || page.TotalCount != 0 {
			t.Errorf("archived person listed: %v, %v", names(page), err)
		}
		page, _ = e.svc.People(ctx, network.PersonFilter{Search: "maria", IncludeArchived: true}, network.Sort{}, relay.PageArgs{})
		if page.TotalCount != 1 {
			t.Errorf("archived person not listed with IncludeArchived: %v", names(page))
		}
		if r, err := e.svc.ArchivePerson(ctx, p.ID, false); err != nil || r.ArchivedAt != nil {
			t.Errorf("restore: %+v, %v", r, err)
		}
	})
}

func TestPersonAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		en, pa := e.group("EN"), e.group("PA")
		coordEN := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		coordPA := e.actor("Paolo Coordinatore", map[string]access.TerritoryRole{"PA": access.Coordinator})
		member := e.actor("Mario Membro", map[string]access.TerritoryRole{"EN": access.Member})
		e.join(en, coordEN.PersonID, access.Coordinator)
		e.join(pa, coordPA.PersonID, access.Coordinator)
		e.join(en, member.PersonID, access.Member)
		target := e.newPerson("Teresa", "teresa@example.org")
		e.join(en, target.ID, access.Member)

		_, err := e.svc.CreatePerson(anon(), network.PersonInput{DisplayName: "X"})
		wantKind(t, "anonymous creates", err, apperr.Unauthenticated)
		_, err = e.svc.CreatePerson(as(member), network.PersonInput{DisplayName: "X"})
		wantKind(t, "member creates", err, apperr.Forbidden)
		if _, err := e.svc.CreatePerson(as(coordPA), network.PersonInput{DisplayName: "Nuovo"}); err != nil {
			t.Errorf("a coordinator creates: %v", err)
		}

		_, err = e.svc.UpdatePerson(anon(), target.ID, network.PersonPatch{DisplayName: ptr("X")})
		wantKind(t, "anonymous updates", err, apperr.Unauthenticated)
		_, err = e.svc.UpdatePerson(as(coordPA), target.ID, network.PersonPatch{DisplayName: ptr("X")})
		wantKind(t, "coordinator of another territory updates", err, apperr.Forbidden)
		_, err = e.svc.UpdatePerson(as(member), target.ID, network.PersonPatch{DisplayName: ptr("X")})
		wantKind(t, "member updates", err, apperr.Forbidden)
		_, err = e.svc.ArchivePerson(as(coordPA), target.ID, true)
		wantKind(t, "coordinator of another territory archives", err, apperr.Forbidden)
		if p, err := e.svc.UpdatePerson(as(coordEN), target.ID, network.PersonPatch{Email: ptr("teresa.t@example.org")}); err != nil || *p.Email != "teresa.t@example.org" {
			t.Errorf("the group's coordinator changes the address of a person without an account: %+v, %v", p, err)
		}

		// A person with an account: only administrators change their address.
		hash := "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
		if _, err := db.NewUpdate().Model((*network.Person)(nil)).Set("password_hash = ?", hash).Where("id = ?", target.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.UpdatePerson(as(coordEN), target.ID, network.PersonPatch{Email: ptr("other@example.org")})
		wantKind(t, "coordinator changes an account's address", err, apperr.Forbidden)
		if p, err := e.svc.UpdatePerson(as(coordEN), target.ID, network.PersonPatch{Email: ptr("TERESA.T@example.org"), Phone: ptr("0935 1")}); err != nil || *p.Phone != "0935 1" {
			t.Errorf("coordinator changes the phone of an account, keeping the address: %+v, %v", p, err)
		}
		if p, err := e.svc.UpdatePerson(as(e.admin), target.ID, network.PersonPatch{Email: ptr("other@example.org")}); err != nil || *p.Email != "other@example.org" {
			t.Errorf("administrator changes an account's address: %+v, %v", p, err)
		}
	})
}

// TestUpdatePersonPrivilegedAndAccounts: a coordinator renames or archives
// no administrator or policy maker (even one in their own group) and no
// account holder outside their groups; a person without an account in no
// group stays open to every coordinator, and administrators edit anyone.
func TestUpdatePersonPrivilegedAndAccounts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		en := e.group("EN")
		coordEN := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		e.join(en, coordEN.PersonID, access.Coordinator)
		admin := e.newPerson("Ada Amministratrice", "ada@example.org")
		e.grant(admin.ID, access.Admin)
		e.giveAccount(admin.ID)
		policy := e.newPerson("Paola Policy", "")
		e.grant(policy.ID, access.PolicyMaker)
		adminInGroup := e.newPerson("Alberto Amministratore", "")
		e.grant(adminInGroup.ID, access.Admin)
		e.join(en, adminInGroup.ID, access.Member)
		account := e.newPerson("Invitata", "invitata@example.org")
		e.giveAccount(account.ID)
		accountInGroup := e.newPerson("Iscritta", "iscritta@example.org")
		e.giveAccount(accountInGroup.ID)
		e.join(en, accountInGroup.ID, access.Member)
		free := e.newPerson("Libera", "")

		for _, p := range []*network.Person{admin, policy, adminInGroup, account} {
			_, err := e.svc.UpdatePerson(as(coordEN), p.ID, network.PersonPatch{DisplayName: ptr("Rinominata")})
			wantKind(t, "EN's coordinator renames "+p.DisplayName, err, apperr.Forbidden)
			_, err = e.svc.ArchivePerson(as(coordEN), p.ID, true)
			wantKind(t, "EN's coordinator archives "+p.DisplayName, err, apperr.Forbidden)
			if got, err := e.svc.Person(as(e.admin), p.ID); err != nil || got.DisplayName != p.DisplayName || got.ArchivedAt != nil {
				t.Errorf("after refused changes %s is %+v, %v", p.DisplayName, got, err)
			}
		}
		for _, p := range []*network.Person{accountInGroup, free} {
			if got, err := e.svc.UpdatePerson(as(coordEN), p.ID, network.PersonPatch{Phone: ptr("0935 12345")}); err != nil || *got.Phone != "0935 12345" {
				t.Errorf("EN's coordinator edits %s: %+v, %v", p.DisplayName, got, err)
			}
		}
		for _, p := range []*network.Person{admin, policy, adminInGroup, account} {
			if got, err := e.svc.UpdatePerson(as(e.admin), p.ID, network.PersonPatch{Phone: ptr("0935 54321")}); err != nil || *got.Phone != "0935 54321" {
				t.Errorf("an administrator edits %s: %+v, %v", p.DisplayName, got, err)
			}
		}
	})
}

func TestPeopleVisibility(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		en, pa := e.group("EN"), e.group("PA")
		memberEN := e.actor("Elena Membro EN", map[string]access.TerritoryRole{"EN": access.Member})
		coordEN := e.actor("Carla Coordinatrice EN", map[string]access.TerritoryRole{"EN": access.Coordinator})
		policy := e.actor("Piero Policy", nil, access.PolicyMaker)
		loner := e.actor("Luca Solo", nil)
		e.join(en, memberEN.PersonID, access.Member)
		e.join(en, coordEN.PersonID, access.Coordinator)
		otherEN := e.newPerson("Olga EN", "olga@example.org")
		e.join(en, otherEN.ID, access.Observer)
		paOnly := e.newPerson("Pina PA", "pina@example.org")
		e.join(pa, paOnly.ID, access.Member)
		nobody := e.newPerson("Nessuno", "")
		all := []int64{e.admin.PersonID, memberEN.PersonID, coordEN.PersonID, policy.PersonID, loner.PersonID, otherEN.ID, paOnly.ID, nobody.ID}

		visible := func(a *access.Actor) []int64 {
			t.Helper()
			page, err := e.svc.People(as(a), network.PersonFilter{}, network.Sort{Field: network.SortByCreated}, relay.PageArgs{First: ptr(100)})
			if err != nil {
				t.Fatalf("People: %v", err)
			}
			var ids []int64
			for _, p := range page.Items {
				ids = append(ids, p.ID)
			}
			if page.TotalCount != len(ids) {
				t.Errorf("totalCount %d for %d people listed", page.TotalCount, len(ids))
			}
			return ids
		}
		for _, c := range []struct {
			name string
			a    *access.Actor
			want []int64
		}{
			{"admin", e.admin, all},
			{"policy maker", policy, all},
			{"coordinator", coordEN, all},
			{"member of EN", memberEN, []int64{memberEN.PersonID, coordEN.PersonID, otherEN.ID}},
			{"in no group", loner, []int64{loner.PersonID}},
		} {
			got := visible(c.a)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s sees %v, want %v", c.name, got, c.want)
			}
			// The list and the single lookups agree with the rule.
			byID, err := e.svc.PeopleByID(as(c.a), all)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range all {
				_, err := e.svc.Person(as(c.a), id)
				inList := slices.Contains(got, id)
				if inList != (err == nil) || inList != (byID[id] != nil) {
					t.Errorf("%s and person %d: in list %v, Person %v, PeopleByID %v", c.name, id, inList, err, byID[id] != nil)
				}
				if err != nil {
					wantKind(t, "invisible person", err, apperr.NotFound)
				}
			}
		}
		_, err := e.svc.Person(anon(), otherEN.ID)
		wantKind(t, "anonymous reads a person", err, apperr.Unauthenticated)
		_, err = e.svc.People(anon(), network.PersonFilter{}, network.Sort{}, relay.PageArgs{})
		wantKind(t, "anonymous lists people", err, apperr.Unauthenticated)

		// Contacts.
		terr, err := e.svc.GroupTerritoriesOfPeople(as(e.admin), []int64{otherEN.ID, paOnly.ID, nobody.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(terr[otherEN.ID], []int64{e.territories["EN"]}) || !slices.Equal(terr[paOnly.ID], []int64{e.territories["PA"]}) || terr[nobody.ID] != nil {
			t.Errorf("group territories %v", terr)
		}
		contact := func(a *access.Actor, p *network.Person) *network.Contacts {
			return e.svc.ContactsOf(as(a), p, terr[p.ID])
		}
		if c := contact(policy, otherEN); c != nil {
			t.Errorf("a policy maker reads contacts: %+v", c)
		}
		if c := contact(coordEN, otherEN); c == nil || *c.Email != "olga@example.org" {
			t.Errorf("EN's coordinator reads an EN member's contacts: %+v", c)
		}
		if c := contact(coordEN, paOnly); c != nil {
			t.Errorf("EN's coordinator reads a PA member's contacts: %+v", c)
		}
		if c := contact(memberEN, otherEN); c != nil {
			t.Errorf("a member reads another member's contacts: %+v", c)
		}
		if c := contact(e.admin, paOnly); c == nil || *c.Email != "pina@example.org" {
			t.Errorf("the administrator reads contacts: %+v", c)
		}
		self := &access.Actor{PersonID: paOnly.ID, SessionID: 1}
		if c := contact(self, paOnly); c == nil || *c.Email != "pina@example.org" {
			t.Errorf("a person reads their own contacts: %+v", c)
		}
	})
}

func TestPeopleFiltersAndPages(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		en := e.group("EN")
		org := e.rawOrg("Arci Siracusa", "SR")
		for _, n := range []string{"bruno", "Èlia Greco", "Ada Lovelace", "élise", "Carlo", "ada byron", "Zoe", "Ömer", "Bianca"} {
			p := e.newPerson(n, "")
			if strings.HasPrefix(strings.ToLower(n), "ada") {
				e.join(en, p.ID, access.Member)
			}
			if n == "Carlo" || n == "Zoe" {
				if _, err := e.svc.AddAffiliation(ctx, network.AffiliationInput{PersonID: p.ID, OrganizationID: org, Role: network.Staff}); err != nil {
					t.Fatal(err)
				}
			}
		}
		list := func(f network.PersonFilter, o network.Sort) []string {
			t.Helper()
			page, err := e.svc.People(ctx, f, o, relay.PageArgs{First: ptr(100)})
			if err != nil {
				t.Fatalf("People(%+v): %v", f, err)
			}
			return names(page)
		}
		if got := list(network.PersonFilter{Territory: "en"}, network.Sort{}); !slices.Equal(got, []string{"ada byron", "Ada Lovelace"}) {
			t.Errorf("EN's members: %v", got)
		}
		if got := list(network.PersonFilter{OrganizationID: org}, network.Sort{}); !slices.Equal(got, []string{"Carlo", "Zoe"}) {
			t.Errorf("the organization's people: %v", got)
		}
		if got := list(network.PersonFilter{Search: "ADA love"}, network.Sort{}); !slices.Equal(got, []string{"Ada Lovelace"}) {
			t.Errorf("search: %v", got)
		}
		_, err := e.svc.People(ctx, network.PersonFilter{Territory: "XX"}, network.Sort{}, relay.PageArgs{})
		wantField(t, "unknown territory", err, "territory")

		// Every order, paged by 2 forward and backward, gives the whole list
		// once, in the order of the one-page list.
		for _, o := range []network.Sort{{}, {Desc: true}, {Field: network.SortByCreated}, {Field: network.SortByCreated, Desc: true}} {
			full := list(network.PersonFilter{}, o)
			if len(full) != 10 {
				t.Fatalf("%+v: %d people, want 10", o, len(full))
			}
			var fwd []string
			args := relay.PageArgs{First: ptr(2)}
			for {
				page, err := e.svc.People(ctx, network.PersonFilter{}, o, args)
				if err != nil {
					t.Fatal(err)
				}
				fwd = append(fwd, names(page)...)
				if !page.HasNextPage {
					break
				}
				args.After = &page.Cursors[len(page.Cursors)-1]
			}
			var back []string
			args = relay.PageArgs{Last: ptr(3)}
			for {
				page, err := e.svc.People(ctx, network.PersonFilter{}, o, args)
				if err != nil {
					t.Fatal(err)
				}
				back = append(names(page), back...)
				if !page.HasPreviousPage {
					break
				}
				args.Before = &page.Cursors[0]
			}
			if !slices.Equal(fwd, full) || !slices.Equal(back, full) {
				t.Errorf("%+v:\n full %v\n forward %v\n backward %v", o, full, fwd, back)
			}
		}
		byName := list(network.PersonFilter{}, network.Sort{})
		if !slices.Equal(byName[:6], []string{"Ada Admin", "ada byron", "Ada Lovelace", "Bianca", "bruno", "Carlo"}) {
			t.Errorf("by name, case folded: %v", byName)
		}
	})
}

// BenchmarkPeople lists a page of 20 people out of 2,000 in 9 working
// groups, as a member (visibility in SQL) and as an administrator.
func BenchmarkPeople(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			ctx := context.Background()
			now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			var groups []*network.WorkingGroup
			if _, err := db.ExecContext(ctx, `INSERT INTO working_groups (territory_id, name, description, created_at, updated_at)
				SELECT id, 'Gruppo di lavoro di ' || name, '', ?, ? FROM territories`, now, now); err != nil {
				b.Fatal(err)
			}
			if err := db.NewSelect().Model(&groups).Order("id").Scan(ctx); err != nil {
				b.Fatal(err)
			}
			people := make([]*network.Person, 2000)
			for i := range people {
				people[i] = &network.Person{DisplayName: "Persona " + strconv.Itoa(i*7919%2000), Language: "it", CreatedAt: now, UpdatedAt: now}
			}
			if _, err := db.NewInsert().Model(&people).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			members := make([]*network.Membership, len(people))
			for i, p := range people {
				members[i] = &network.Membership{WorkingGroupID: groups[i%len(groups)].ID, PersonID: p.ID, Role: access.Member, JoinedAt: now}
			}
			if _, err := db.NewInsert().Model(&members).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			svc := network.NewService(db, network.Options{})
			member := &access.Actor{PersonID: people[0].ID, SessionID: 1, Territories: map[int64]access.TerritoryRole{groups[0].TerritoryID: access.Member}}
			admin := &access.Actor{PersonID: people[1].ID, SessionID: 1, GlobalRoles: []access.GlobalRole{access.Admin}}
			for _, c := range []struct {
				name  string
				actor *access.Actor
			}{{"member", member}, {"admin", admin}} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						page, err := svc.People(as(c.actor), network.PersonFilter{}, network.Sort{}, relay.PageArgs{First: ptr(20)})
						if err != nil || len(page.Items) != 20 {
							b.Fatalf("%d, %v", len(page.Items), err)
						}
					}
				})
			}
		})
	}
}

// TestListsRefuseCursorsOfAnotherOrder: a cursor from the people ordered by
// creation, given to the people ordered by name, would restart the list;
// it is BAD_USER_INPUT on after (or before), as for organizations.
func TestListsRefuseCursorsOfAnotherOrder(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		for _, n := range []string{"Zoe", "Anna", "Marco"} {
			e.newPerson(n, "")
			e.mustCreateOrg(orgInput("Associazione "+n, "EN"))
		}
		byCreation := network.Sort{Field: network.SortByCreated}
		people, err := e.svc.People(ctx, network.PersonFilter{}, byCreation, relay.PageArgs{First: ptr(2)})
		if err != nil {
			t.Fatal(err)
		}
		cursor := people.Cursors[1]
		_, err = e.svc.People(ctx, network.PersonFilter{}, network.Sort{}, relay.PageArgs{First: ptr(2), After: &cursor})
		wantField(t, "people by name after a cursor by creation", err, "after")
		_, err = e.svc.People(ctx, network.PersonFilter{}, network.Sort{Field: network.SortByCreated, Desc: true}, relay.PageArgs{Last: ptr(2), Before: &cursor})
		wantField(t, "people by creation, descending, before a cursor ascending", err, "before")
		if next, err := e.svc.People(ctx, network.PersonFilter{}, byCreation, relay.PageArgs{First: ptr(2), After: &cursor}); err != nil || len(next.Items) != 2 {
			t.Errorf("the cursor in its own order: %v", err)
		}
		orgs, err := e.svc.Organizations(ctx, network.OrganizationFilter{}, network.Sort{}, relay.PageArgs{First: ptr(2)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Organizations(ctx, network.OrganizationFilter{}, byCreation, relay.PageArgs{After: &orgs.Cursors[0]})
		wantField(t, "organizations by creation after a cursor by name", err, "after")
	})
}
