package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		const password = "a password of the test"

		t.Run("an administrator creates an account that signs in", func(t *testing.T) {
			p, err := f.svc.CreateAccount(f.admin.ctx(), account.CreateAccountInput{
				Email: " Paola.Decisore@Example.org ", DisplayName: "  Paola   Decisore ", Language: "EN",
				Password: password, GlobalRoles: []access.GlobalRole{access.PolicyMaker, access.PolicyMaker},
			})
			if err != nil {
				t.Fatal(err)
			}
			if *p.Email != "paola.decisore@example.org" || p.DisplayName != "Paola Decisore" || p.Language != "en" ||
				len(p.GlobalRoles) != 1 || p.GlobalRoles[0] != access.PolicyMaker {
				t.Fatalf("created %+v (roles %v)", p, p.GlobalRoles)
			}
			u := f.signIn("paola.decisore@example.org", password)
			if u.person.ID != p.ID || !u.actor.Has(access.PolicyMaker) || u.actor.Has(access.Admin) {
				t.Fatalf("signed in as %+v with %+v", u.person, u.actor)
			}
			if h := passwordHash(t, db, "paola.decisore@example.org"); h[:10] != "$argon2id$" {
				t.Errorf("stored hash %q is not argon2id", h)
			}
			ev := f.auditOf(account.AuditAccountCreated)
			if len(ev) != 1 || *ev[0].PersonID != p.ID || *ev[0].ActorID != f.admin.person.ID || ev[0].Detail != "roles POLICY_MAKER" {
				t.Fatalf("audit %+v", ev)
			}
			for _, row := range tableText(t, db, "audit_events") {
				if strings.Contains(row, password) {
					t.Fatalf("the audit log holds the password: %s", row)
				}
			}
		})

		t.Run("without roles, in Italian by default", func(t *testing.T) {
			p, err := f.svc.CreateAccount(f.admin.ctx(), account.CreateAccountInput{
				Email: "mario@example.org", DisplayName: "Mario", Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if p.Language != "it" || len(p.GlobalRoles) != 0 {
				t.Fatalf("created %+v", p)
			}
			f.signIn("mario@example.org", password)
		})

		t.Run("a person of the directory without a password gets the account", func(t *testing.T) {
			now := f.clock.Now()
			email := "imported@example.org"
			dir := &account.Person{Email: &email, DisplayName: "Imported", Language: "it", CreatedAt: now, UpdatedAt: now}
			if _, err := db.NewInsert().Model(dir).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.CreateAccount(f.admin.ctx(), account.CreateAccountInput{
				Email: email, DisplayName: "Ida Imported", Password: password, GlobalRoles: []access.GlobalRole{access.Admin}})
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != dir.ID || p.DisplayName != "Ida Imported" {
				t.Fatalf("got %+v, want the directory entry %d renamed", p, dir.ID)
			}
			if u := f.signIn(email, password); !u.actor.Has(access.Admin) {
				t.Fatalf("actor %+v, want ADMIN", u.actor)
			}
			// Earlier subtests created accounts too: pick this person's.
			var mine []*account.AuditEvent
			for _, e := range f.auditOf(account.AuditAccountCreated) {
				if e.PersonID != nil && *e.PersonID == dir.ID {
					mine = append(mine, e)
				}
			}
			if len(mine) != 1 || mine[0].Kind != account.AuditAccountCreated || mine[0].ActorID == nil ||
				*mine[0].ActorID != f.admin.person.ID || mine[0].Detail != "for a person already in the directory; roles ADMIN" {
				t.Errorf("ACCOUNT_CREATED events for %d: %+v; want one, by the administrator, saying the person was in the directory", dir.ID, mine)
			}
		})

		t.Run("refusals change nothing", func(t *testing.T) {
			archivedEmail := "archived@example.org"
			now := f.clock.Now()
			arch := &account.Person{Email: &archivedEmail, DisplayName: "Archived", Language: "it", CreatedAt: now, UpdatedAt: now, ArchivedAt: &now}
			if _, err := db.NewInsert().Model(arch).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			member := f.withRole(f.newUser("coord@example.org", "Coordinator"), access.Coordinator)
			people, roles := count(t, db, "SELECT count(*) FROM people"), count(t, db, "SELECT count(*) FROM person_roles")
			events := count(t, db, "SELECT count(*) FROM audit_events")
			mario := passwordHash(t, db, "mario@example.org")
			ok := account.CreateAccountInput{Email: "new@example.org", DisplayName: "New", Password: password}
			cases := []struct {
				name string
				ctx  context.Context
				edit func(*account.CreateAccountInput)
				want apperr.Kind
			}{
				{"anonymous", anon(), nil, apperr.Unauthenticated},
				{"a coordinator", member.ctx(), nil, apperr.Forbidden},
				{"an existing account", f.admin.ctx(), func(in *account.CreateAccountInput) { in.Email = "MARIO@example.org" }, apperr.Conflict},
				{"an archived person", f.admin.ctx(), func(in *account.CreateAccountInput) { in.Email = archivedEmail }, apperr.Conflict},
				{"a bad address", f.admin.ctx(), func(in *account.CreateAccountInput) { in.Email = "new.example.org" }, apperr.BadInput},
				{"no name", f.admin.ctx(), func(in *account.CreateAccountInput) { in.DisplayName = "  " }, apperr.BadInput},
				{"a bad language", f.admin.ctx(), func(in *account.CreateAccountInput) { in.Language = "fr" }, apperr.BadInput},
				{"a short password", f.admin.ctx(), func(in *account.CreateAccountInput) { in.Password = "short pw" }, apperr.BadInput},
				{"a blank password", f.admin.ctx(), func(in *account.CreateAccountInput) { in.Password = "                " }, apperr.BadInput},
				{"an unknown role", f.admin.ctx(), func(in *account.CreateAccountInput) { in.GlobalRoles = []access.GlobalRole{"ROOT"} }, apperr.BadInput},
			}
			for _, tc := range cases {
				in := ok
				if tc.edit != nil {
					tc.edit(&in)
				}
				_, err := f.svc.CreateAccount(tc.ctx, in)
				if !apperr.Is(err, tc.want) {
					t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
				}
			}
			if n := count(t, db, "SELECT count(*) FROM people"); n != people {
				t.Errorf("%d people, want %d", n, people)
			}
			if n := count(t, db, "SELECT count(*) FROM person_roles"); n != roles {
				t.Errorf("%d roles, want %d", n, roles)
			}
			if n := count(t, db, "SELECT count(*) FROM audit_events"); n != events {
				t.Errorf("%d audit events, want %d", n, events)
			}
			if h := passwordHash(t, db, "mario@example.org"); h != mario {
				t.Error("the existing account's password changed")
			}
		})

		t.Run("two creations of one address: one wins", func(t *testing.T) {
			errs := parallel(4, func(int) error {
				_, err := f.svc.CreateAccount(f.admin.ctx(), account.CreateAccountInput{
					Email: "race@example.org", DisplayName: "Race", Password: password})
				return err
			})
			if k := kinds(errs); k[""] != 1 || k[apperr.Conflict] != 3 {
				t.Fatalf("%v, want one success and three CONFLICT", errs)
			}
			if n := count(t, db, "SELECT count(*) FROM people WHERE email = 'race@example.org'"); n != 1 {
				t.Fatalf("%d people with the address", n)
			}
		})
	})
}
