package account_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestAdministration(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		u := f.newUser("ulla@example.org", "Ulla")
		pm := f.withGlobal(f.newUser("pm@example.org", "Pia"), access.PolicyMaker)
		t.Run("external identities", func(t *testing.T) {
			const spid, cie = "https://spid.example.org", "https://cie.example.org"

			id, err := f.svc.LinkExternalIdentity(f.admin.ctx(), u.person.ID, spid, "SUBJECT-1")
			if err != nil {
				t.Fatal(err)
			}
			if id.PersonID != u.person.ID || id.Issuer != spid || id.Subject != "SUBJECT-1" {
				t.Fatalf("linked %+v", id)
			}
			p, err := f.svc.PersonByExternalIdentity(anon(), spid, "SUBJECT-1")
			if err != nil || p.ID != u.person.ID {
				t.Fatalf("PersonByExternalIdentity = %+v, %v", p, err)
			}
			// The same subject at another issuer is another identity.
			if _, err := f.svc.LinkExternalIdentity(f.admin.ctx(), u.person.ID, cie, "SUBJECT-1"); err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.PersonByExternalIdentity(anon(), spid, "SUBJECT-2")
			wantKind(t, err, apperr.NotFound)
			_, err = f.svc.PersonByExternalIdentity(anon(), "https://other.example.org", "SUBJECT-1")
			wantKind(t, err, apperr.NotFound)

			_, err = f.svc.LinkExternalIdentity(f.admin.ctx(), f.admin.person.ID, spid, "SUBJECT-1")
			wantKind(t, err, apperr.Conflict)
			_, err = f.svc.LinkExternalIdentity(u.ctx(), u.person.ID, spid, "SUBJECT-3")
			wantKind(t, err, apperr.Forbidden)
			_, err = f.svc.LinkExternalIdentity(f.admin.ctx(), u.person.ID+1000, spid, "SUBJECT-4")
			wantKind(t, err, apperr.NotFound)
			_, err = f.svc.LinkExternalIdentity(f.admin.ctx(), u.person.ID, " ", "SUBJECT-5")
			wantKind(t, err, apperr.BadInput)
			if n := len(f.auditOf(account.AuditIdentityLinked)); n != 2 {
				t.Fatalf("%d IDENTITY_LINKED events, want 2", n)
			}
		})
		// Racing demotions cannot leave PIA without an administrator.
		t.Run("two administrators demote each other", func(t *testing.T) {
			other := f.withGlobal(u, access.Admin)
			for round := range 20 {
				errs := parallel(2, func(i int) error {
					by, target := f.admin, other
					if i == 1 {
						by, target = other, f.admin
					}
					_, err := f.svc.SetGlobalRoles(by.ctx(), target.email, nil)
					return err
				})
				if n := count(t, db, "SELECT count(*) FROM person_roles WHERE role = 'ADMIN'"); n != 1 {
					t.Fatalf("round %d: %d administrators left (%v), want 1", round, n, errs)
				}
				if k := kinds(errs); k[""] != 1 {
					t.Fatalf("round %d: %v, want one success", round, errs)
				}
				// Put the demoted one back.
				f.reauth(f.admin)
				f.reauth(other)
				by, target := f.admin, other
				if !by.actor.Has(access.Admin) {
					by, target = other, f.admin
				}
				if _, err := f.svc.SetGlobalRoles(by.ctx(), target.email, []access.GlobalRole{access.Admin}); err != nil {
					t.Fatal(err)
				}
				f.reauth(target)
			}
			// Back to one administrator.
			f.reauth(f.admin)
			f.withGlobal(u)
		})
		t.Run("set global roles", func(t *testing.T) {
			roleEvents := func() int {
				page, err := f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{Kind: account.AuditRoleChanged}, 1, 0)
				if err != nil {
					t.Fatal(err)
				}
				return page.TotalCount
			}
			eventsBefore := roleEvents()

			// Administrators only.
			for who, ctx := range map[string]*user{"the person": u, "a policy maker": pm} {
				_, err := f.svc.SetGlobalRoles(ctx.ctx(), u.email, []access.GlobalRole{access.Admin})
				if !apperr.Is(err, apperr.Forbidden) {
					t.Errorf("%s sets roles: %v, want FORBIDDEN", who, err)
				}
			}
			_, err := f.svc.SetGlobalRoles(anon(), u.email, []access.GlobalRole{access.Admin})
			wantKind(t, err, apperr.Unauthenticated)

			// Grant, with an audit event that says what changed.
			p, err := f.svc.SetGlobalRoles(f.admin.ctx(), u.email, []access.GlobalRole{access.PolicyMaker, access.PolicyMaker})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.GlobalRoles) != 1 || p.GlobalRoles[0] != access.PolicyMaker {
				t.Fatalf("roles after the grant: %v", p.GlobalRoles)
			}
			f.reauth(u)
			if !u.actor.Has(access.PolicyMaker) {
				t.Fatal("the next request does not carry the granted role")
			}
			ev := f.auditOf(account.AuditRoleChanged)[0]
			if *ev.ActorID != f.admin.person.ID || *ev.PersonID != u.person.ID || ev.ClientAddr != "192.0.2.1" ||
				!strings.Contains(ev.Detail, "granted") || !strings.Contains(ev.Detail, "POLICY_MAKER") || strings.Contains(ev.Detail, "revoked") {
				t.Fatalf("ROLE_CHANGED %+v: want the administrator granting POLICY_MAKER to Ulla", ev)
			}

			// Exchange one role for another.
			if _, err := f.svc.SetGlobalRoles(f.admin.ctx(), u.email, []access.GlobalRole{access.Admin}); err != nil {
				t.Fatal(err)
			}
			ev = f.auditOf(account.AuditRoleChanged)[0]
			if !strings.Contains(ev.Detail, "granted ADMIN") || !strings.Contains(ev.Detail, "revoked POLICY_MAKER") {
				t.Fatalf("ROLE_CHANGED detail %q: want ADMIN granted and POLICY_MAKER revoked", ev.Detail)
			}
			// No change, no event.
			if _, err := f.svc.SetGlobalRoles(f.admin.ctx(), u.email, []access.GlobalRole{access.Admin}); err != nil {
				t.Fatal(err)
			}
			if n := roleEvents(); n != eventsBefore+2 {
				t.Fatalf("%d ROLE_CHANGED events, want %d", n, eventsBefore+2)
			}
			// Revoke.
			p, err = f.svc.SetGlobalRoles(f.admin.ctx(), u.email, nil)
			if err != nil || len(p.GlobalRoles) != 0 {
				t.Fatalf("after revoking all: %v, %v", p.GlobalRoles, err)
			}
			if ev = f.auditOf(account.AuditRoleChanged)[0]; !strings.Contains(ev.Detail, "revoked ADMIN") {
				t.Fatalf("ROLE_CHANGED detail %q: want ADMIN revoked", ev.Detail)
			}
			f.reauth(u)
			if u.actor.Has(access.Admin) {
				t.Fatal("a revoked role still holds")
			}

			eventsBefore = roleEvents()
			_, err = f.svc.SetGlobalRoles(f.admin.ctx(), u.email, []access.GlobalRole{"OWNER"})
			wantKind(t, err, apperr.BadInput)
			_, err = f.svc.SetGlobalRoles(f.admin.ctx(), "nobody@example.org", []access.GlobalRole{access.PolicyMaker})
			wantKind(t, err, apperr.NotFound)

			// The last administrator stays one, and nothing else changes.
			_, err = f.svc.SetGlobalRoles(f.admin.ctx(), adminEmail, []access.GlobalRole{access.PolicyMaker})
			wantKind(t, err, apperr.Conflict)
			f.reauth(f.admin)
			if !f.admin.actor.Has(access.Admin) || f.admin.actor.Has(access.PolicyMaker) {
				t.Fatalf("after the refused change the administrator has %v", f.admin.actor.GlobalRoles)
			}
			if n := roleEvents(); n != eventsBefore {
				t.Fatalf("refused changes were audited: %d events, want %d", n, eventsBefore)
			}
			// With a second administrator, the first may step down.
			f.withGlobal(u, access.Admin)
			if _, err := f.svc.SetGlobalRoles(f.admin.ctx(), adminEmail, nil); err != nil {
				t.Fatal(err)
			}
			f.reauth(f.admin)
			if f.admin.actor.Has(access.Admin) {
				t.Fatal("the administrator did not step down")
			}
			_, err = f.svc.SetGlobalRoles(u.ctx(), u.email, nil)
			wantKind(t, err, apperr.Conflict)
		})
	})
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		t.Run("read", func(t *testing.T) {
			u := f.newUser("ugo@example.org", "Ugo")
			for range 2 {
				_, err := f.svc.SignIn(from("198.51.100.7"), u.email, "not Ugo's password")
				wantKind(t, err, apperr.Unauthenticated)
			}

			_, err := f.svc.AuditEvents(u.ctx(), account.AuditFilter{}, 10, 0)
			wantKind(t, err, apperr.Forbidden)
			_, err = f.svc.AuditEvents(anon(), account.AuditFilter{}, 10, 0)
			wantKind(t, err, apperr.Unauthenticated)
			for _, first := range []int{0, -1, account.MaxPage + 1} {
				_, err = f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{}, first, 0)
				wantKind(t, err, apperr.BadInput)
			}
			_, err = f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{Kind: "NO_SUCH_KIND"}, 10, 0)
			wantKind(t, err, apperr.BadInput)

			all, err := f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{}, account.MaxPage, 0)
			if err != nil {
				t.Fatal(err)
			}
			// ADMIN_CREATED, the admin's sign-in, the invitation, its acceptance
			// and two failures.
			if all.TotalCount != 6 || len(all.Events) != 6 || all.HasMore {
				t.Fatalf("the whole log: %d events of %d, more %v", len(all.Events), all.TotalCount, all.HasMore)
			}
			for i := 1; i < len(all.Events); i++ {
				if all.Events[i].ID >= all.Events[i-1].ID || all.Events[i].At.After(all.Events[i-1].At) {
					t.Fatalf("not newest first: %d then %d", all.Events[i-1].ID, all.Events[i].ID)
				}
			}
			if all.Events[0].Kind != account.AuditSignInFailed || all.Events[len(all.Events)-1].Kind != account.AuditAdminCreated {
				t.Fatalf("newest %s, oldest %s", all.Events[0].Kind, all.Events[len(all.Events)-1].Kind)
			}
			failed := all.Events[0]
			if failed.ClientAddr != "198.51.100.7" || failed.ActorID != nil || *failed.PersonID != u.person.ID || failed.Email != u.email {
				t.Fatalf("SIGN_IN_FAILED %+v", failed)
			}

			// Pages of 3 walk the same log.
			var walked []int64
			var before int64
			for pages := 0; ; pages++ {
				page, err := f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{}, 3, before)
				if err != nil {
					t.Fatal(err)
				}
				if page.TotalCount != 6 {
					t.Fatalf("TotalCount %d on a page, want 6", page.TotalCount)
				}
				for _, ev := range page.Events {
					walked = append(walked, ev.ID)
				}
				wantMore := len(walked) < 6
				if page.HasMore != wantMore {
					t.Fatalf("page %d: HasMore %v after %d events", pages, page.HasMore, len(walked))
				}
				if !page.HasMore {
					break
				}
				before = page.Events[len(page.Events)-1].ID
			}
			var wantIDs []int64
			for _, ev := range all.Events {
				wantIDs = append(wantIDs, ev.ID)
			}
			if !equal(walked, wantIDs) {
				t.Fatalf("paging gave %v, want %v", walked, wantIDs)
			}

			// Filters.
			page, err := f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{Kind: account.AuditSignInFailed}, 1, 0)
			if err != nil || page.TotalCount != 2 || len(page.Events) != 1 || !page.HasMore {
				t.Fatalf("SIGN_IN_FAILED page: %+v, %v", page, err)
			}
			for _, ev := range page.Events {
				if ev.Kind != account.AuditSignInFailed {
					t.Fatalf("filtered page holds %s", ev.Kind)
				}
			}
			page, err = f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{PersonID: f.admin.person.ID}, 10, 0)
			if err != nil || page.TotalCount != 2 {
				t.Fatalf("events about the administrator: %+v, %v; want ADMIN_CREATED and the sign-in", page, err)
			}

			// One event, and the people an event names.
			if ev, err := f.svc.AuditEvent(f.admin.ctx(), failed.ID); err != nil || ev.ID != failed.ID {
				t.Fatalf("AuditEvent = %+v, %v", ev, err)
			}
			_, err = f.svc.AuditEvent(u.ctx(), failed.ID)
			wantKind(t, err, apperr.NotFound)
			// Events come with the people they name.
			if failed.Person == nil || failed.Person.DisplayName != "Ugo" || failed.Actor != nil {
				t.Fatalf("SIGN_IN_FAILED names %+v and %+v, want Ugo and nobody", failed.Person, failed.Actor)
			}
			invited := all.Events[len(all.Events)-3]
			if invited.Kind != account.AuditInvitationSent || invited.Actor == nil || invited.Actor.ID != f.admin.person.ID {
				t.Fatalf("INVITATION_SENT %+v: want it by the administrator", invited)
			}
		})
		// Every flow that handles a password or a token, then a look for
		// them in every column of the audit log, in the tables that keep
		// hashes (the outbox aside: mails carry their links), and in the logs.
		t.Run("no secrets stored", func(t *testing.T) {
			secrets := []string{adminPassword, f.admin.token}
			invitation := f.invite("sam@example.org")
			in, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: invitation, DisplayName: "Sam", Password: "sam's first password"})
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, invitation, in.Token, "sam's first password")
			_, err = f.svc.SignIn(anon(), "sam@example.org", "sam's wrong password")
			wantKind(t, err, apperr.Unauthenticated)
			_, err = f.svc.SignIn(anon(), "nobody@example.org", "nobody's password")
			wantKind(t, err, apperr.Unauthenticated)
			secrets = append(secrets, "sam's wrong password", "nobody's password")
			if _, err := f.svc.RequestPasswordReset(anon(), "sam@example.org"); err != nil {
				t.Fatal(err)
			}
			reset := tokenIn(t, lastMail(t, db, "sam@example.org"))
			again, err := f.svc.ResetPassword(anon(), account.ResetInput{Token: reset, Password: "sam's second password"})
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, reset, again.Token, "sam's second password")
			sam := f.userFrom(again, "sam's second password")
			if _, err := f.svc.SignOut(sam.ctx()); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.RevokeSession(f.admin.ctx(), in.Session.ID); !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("revoking a session the reset ended: %v", err)
			}
			// The stored hashes are secrets too.
			secrets = append(secrets, column(t, db, "people", "password_hash")...)
			secrets = append(secrets, column(t, db, "sessions", "token_hash")...)
			secrets = append(secrets, column(t, db, "account_tokens", "token_hash")...)

			rows := tableText(t, db, "audit_events")
			if len(rows) < 8 {
				t.Fatalf("only %d audit events", len(rows))
			}
			for _, row := range rows {
				for _, s := range secrets {
					if strings.Contains(row, s) {
						t.Errorf("an audit event holds a secret %q: %s", s, row)
					}
				}
			}
			for _, table := range []string{"sessions", "account_tokens", "people"} {
				for _, row := range tableText(t, db, table) {
					for _, s := range []string{f.admin.token, in.Token, again.Token, invitation, reset, adminPassword, "sam's second password"} {
						if strings.Contains(row, s) {
							t.Errorf("%s holds a token or password in clear: %s", table, row)
						}
					}
				}
			}
			logs := f.logs.String()
			for _, s := range secrets {
				if strings.Contains(logs, s) {
					t.Errorf("the log holds a secret %q", s)
				}
			}
		})
	})
}

// TestGlobalRolesOf reads the global roles of a batch of people in one
// statement, whatever the number of ids, as the person loader of the API
// does for people read through package network.
func TestGlobalRolesOf(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		both := f.withGlobal(f.newUser("both@example.org", "Bruno"), access.PolicyMaker, access.Admin)
		pm := f.withGlobal(f.newUser("pm@example.org", "Pia"), access.PolicyMaker)
		none := f.newUser("none@example.org", "Nadia")
		const unknown = 999_999

		counter := storage.CountStatements(db)
		ids := []int64{none.person.ID, both.person.ID, unknown, pm.person.ID, f.admin.person.ID, pm.person.ID}
		got, err := f.svc.GlobalRolesOf(none.ctx(), ids)
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 1 {
			t.Errorf("%d statements for %d ids, want 1", n, len(ids))
		}
		want := map[int64][]access.GlobalRole{
			f.admin.person.ID: {access.Admin},
			both.person.ID:    {access.Admin, access.PolicyMaker}, // in the order of access.GlobalRoles
			pm.person.ID:      {access.PolicyMaker},
			none.person.ID:    {},
			unknown:           {},
		}
		if len(got) != len(want) {
			t.Errorf("%d entries, want %d: %v", len(got), len(want), got)
		}
		for id, w := range want {
			if g, ok := got[id]; !ok || g == nil || !slices.Equal(g, w) {
				t.Errorf("roles of %d: %v (present %v), want %v", id, g, ok, w)
			}
		}
		// The same roles as Person, which reads one person at a time.
		for _, u := range []*user{f.admin, both, pm, none} {
			p, err := f.svc.Person(f.admin.ctx(), u.person.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.GlobalRoles, got[u.person.ID]) {
				t.Errorf("%s: Person says %v, GlobalRolesOf %v", u.email, p.GlobalRoles, got[u.person.ID])
			}
		}

		// Many ids are still one statement.
		many := make([]int64, 0, 1000)
		for i := range int64(1000) {
			many = append(many, i+1)
		}
		counter.Reset()
		got, err = f.svc.GlobalRolesOf(pm.ctx(), many)
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 1 {
			t.Errorf("%d statements for 1000 ids, want 1", n)
		}
		if len(got) != 1000 || !slices.Equal(got[both.person.ID], []access.GlobalRole{access.Admin, access.PolicyMaker}) {
			t.Errorf("1000 ids: %d entries, Bruno has %v", len(got), got[both.person.ID])
		}

		// No ids, no statement; no session, no roles.
		counter.Reset()
		if got, err := f.svc.GlobalRolesOf(none.ctx(), nil); err != nil || len(got) != 0 {
			t.Errorf("no ids: %v, %v", got, err)
		}
		_, err = f.svc.GlobalRolesOf(anon(), ids)
		wantKind(t, err, apperr.Unauthenticated)
		if n := counter.Count(); n != 0 {
			t.Errorf("%d statements for no ids and an anonymous caller, want 0", n)
		}
	})
}
