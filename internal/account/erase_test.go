package account_test

import (
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestExportAccount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		bob := f.newUser("bob@example.org", "Bob")
		second := f.signIn("bob@example.org", bob.password)
		if _, err := f.svc.RevokeSession(bob.ctx(), second.session.ID); err != nil {
			t.Fatal(err)
		}
		f.withGlobal(bob, access.PolicyMaker)

		x, err := f.svc.ExportAccount(bob.ctx(), bob.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.GlobalRoles) != 1 || x.GlobalRoles[0] != access.PolicyMaker {
			t.Errorf("roles %v", x.GlobalRoles)
		}
		if len(x.Sessions) != 2 || x.Sessions[0].RevokedAt != nil || x.Sessions[1].RevokedAt == nil || x.Sessions[0].ClientAddress != testClient.Addr || x.Sessions[0].UserAgent != "test" {
			t.Errorf("sessions %+v", x.Sessions)
		}
		kinds := map[account.AuditKind]bool{}
		for _, ev := range x.AuditEvents {
			kinds[ev.Kind] = true
			if ev.Kind == account.AuditRoleChanged && (ev.ByThemselves || ev.ClientAddress != "") {
				t.Errorf("an administrator's event shows their client address to the person: %+v", ev)
			}
			if ev.Kind == account.AuditSignInSucceeded && (!ev.ByThemselves || ev.ClientAddress != testClient.Addr) {
				t.Errorf("the person's own sign-in: %+v", ev)
			}
		}
		for _, k := range []account.AuditKind{account.AuditInvitationSent, account.AuditInvitationAccepted, account.AuditSignInSucceeded, account.AuditSessionRevoked, account.AuditRoleChanged} {
			if !kinds[k] {
				t.Errorf("no %s event in the export: %v", k, kinds)
			}
		}

		if _, err := f.svc.ExportAccount(f.admin.ctx(), bob.person.ID); err != nil {
			t.Errorf("an administrator exports: %v", err)
		}
		carl := f.newUser("carl@example.org", "Carl")
		_, err = f.svc.ExportAccount(carl.ctx(), bob.person.ID)
		wantKind(t, err, apperr.Forbidden)
		_, err = f.svc.ExportAccount(anon(), bob.person.ID)
		wantKind(t, err, apperr.Unauthenticated)
	})
}

func TestErasePersonAccount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		bob := f.newUser("bob@example.org", "Bob")
		f.withGlobal(bob, access.Admin, access.PolicyMaker)
		if _, err := f.svc.LinkExternalIdentity(f.admin.ctx(), bob.person.ID, "https://id.example.org", "bob-123"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RequestPasswordReset(anon(), "bob@example.org"); err != nil {
			t.Fatal(err)
		}
		carl := f.newUser("carl@example.org", "Carl")

		_, err := f.svc.ErasePerson(carl.ctx(), bob.person.ID)
		wantKind(t, err, apperr.Forbidden)
		_, err = f.svc.ErasePerson(bob.ctx(), bob.person.ID)
		wantKind(t, err, apperr.Conflict)
		if n := count(t, db, "SELECT count(*) FROM sessions WHERE person_id = ? AND revoked_at IS NULL", bob.person.ID); n != 1 {
			t.Errorf("a refused erasure ended sessions: %d open, want 1", n)
		}

		p, err := f.svc.ErasePerson(f.admin.ctx(), bob.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.DisplayName != account.ErasedName(bob.person.ID) || p.Email != nil || p.PasswordHash != nil || p.ErasedAt == nil || p.ArchivedAt == nil || len(p.GlobalRoles) != 0 {
			t.Errorf("erased %+v", p)
		}
		for q, want := range map[string]int{
			"SELECT count(*) FROM person_roles WHERE person_id = ?":                            0,
			"SELECT count(*) FROM sessions WHERE person_id = ? AND revoked_at IS NULL":         0,
			"SELECT count(*) FROM sessions WHERE person_id = ? AND client_addr <> ''":          0,
			"SELECT count(*) FROM sessions WHERE person_id = ?":                                1,
			"SELECT count(*) FROM account_tokens WHERE person_id = ?":                          0,
			"SELECT count(*) FROM external_identities WHERE person_id = ?":                     0,
			"SELECT count(*) FROM audit_events WHERE actor_id = ? AND client_addr <> ''":       0,
			"SELECT count(*) FROM audit_events WHERE person_id = ? AND kind = 'PERSON_ERASED'": 1,
		} {
			if n := count(t, db, q, bob.person.ID); n != want {
				t.Errorf("%s: %d, want %d", q, n, want)
			}
		}
		for _, table := range []string{"people", "audit_events", "account_tokens", "mail_outbox", "sessions"} {
			for _, row := range tableText(t, db, table) {
				if strings.Contains(row, "bob@example.org") || strings.Contains(row, "Bob|") {
					t.Errorf("%s still identifies Bob: %s", table, row)
				}
			}
		}
		if mails := mailsTo(t, db, "carl@example.org"); len(mails) == 0 {
			t.Error("erasing Bob removed someone else's mail")
		}
		_, err = f.svc.SignIn(anon(), "bob@example.org", bob.password)
		wantKind(t, err, apperr.Unauthenticated)
		_, err = f.svc.ErasePerson(f.admin.ctx(), bob.person.ID)
		wantKind(t, err, apperr.Conflict)

		// The last administrator cannot be erased, and the refusal rolls back.
		_, err = f.svc.ErasePerson(as(&access.Actor{PersonID: carl.person.ID, SessionID: carl.session.ID, GlobalRoles: []access.GlobalRole{access.Admin}}), f.admin.person.ID)
		wantKind(t, err, apperr.Conflict)
		if n := count(t, db, "SELECT count(*) FROM sessions WHERE person_id = ? AND revoked_at IS NULL", f.admin.person.ID); n != 1 {
			t.Errorf("the refused erasure of the last administrator ended %d sessions", 1-n)
		}
		if _, _, err := f.svc.Authenticate(anon(), f.admin.token); err != nil {
			t.Errorf("the administrator is signed out: %v", err)
		}
	})
}
