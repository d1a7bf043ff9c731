package account_test

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

func bareService(t *testing.T, db *bun.DB) (*account.Service, *clock) {
	t.Helper()
	c := newClock()
	return newService(t, db, baseOptions(c, &roleSource{}, &testutil.LogBuffer{})), c
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		svc, _ := bareService(t, db)
		// Outside dev, nothing happens without settings, and bad settings
		// create nothing.
		created, generated, err := svc.EnsureAdmin(anon(), "", "", false)
		if err != nil || created || generated != "" {
			t.Fatalf("EnsureAdmin in production without settings = %v, %q, %v; want nothing", created, generated, err)
		}
		_, _, err = svc.EnsureAdmin(anon(), "root@example.org", "short", false)
		wantKind(t, err, apperr.BadInput)
		_, _, err = svc.EnsureAdmin(anon(), "root@example.org", "", false)
		wantKind(t, err, apperr.BadInput)
		_, _, err = svc.EnsureAdmin(anon(), "not an email", adminPassword, false)
		wantKind(t, err, apperr.BadInput)
		for _, table := range []string{"people", "person_roles", "audit_events"} {
			if n := count(t, db, "SELECT count(*) FROM "+table); n != 0 {
				t.Fatalf("%d rows in %s, want none", n, table)
			}
		}

		created, generated, err = svc.EnsureAdmin(anon(), "Root@Example.ORG", adminPassword, false)
		if err != nil || !created || generated != "" {
			t.Fatalf("EnsureAdmin = %v, %q, %v; want created, nothing generated", created, generated, err)
		}
		in, err := svc.SignIn(anon(), "root@example.org", adminPassword)
		if err != nil {
			t.Fatalf("the administrator cannot sign in: %v", err)
		}
		a, _, err := svc.Authenticate(anon(), in.Token)
		if err != nil || !a.Has(access.Admin) {
			t.Fatalf("Authenticate = %+v, %v; want an ADMIN", a, err)
		}
		page, err := svc.AuditEvents(as(a), account.AuditFilter{Kind: account.AuditAdminCreated}, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 || page.Events[0].PersonID == nil || *page.Events[0].PersonID != a.PersonID {
			t.Fatalf("ADMIN_CREATED events: %+v, want one about the administrator", page.Events)
		}

		// A second start, even with other settings, does nothing.
		created, generated, err = svc.EnsureAdmin(anon(), "other@example.org", "another long password", true)
		if err != nil || created || generated != "" {
			t.Fatalf("second EnsureAdmin = %v, %q, %v; want nothing done", created, generated, err)
		}
		if n := count(t, db, "SELECT count(*) FROM people"); n != 1 {
			t.Fatalf("%d people after the second start, want 1", n)
		}
		if n := count(t, db, "SELECT count(*) FROM audit_events WHERE kind = ?", account.AuditAdminCreated); n != 1 {
			t.Fatalf("%d ADMIN_CREATED events, want 1", n)
		}
	})
}

func TestEnsureAdminInDev(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		svc, _ := bareService(t, db)
		created, generated, err := svc.EnsureAdmin(anon(), "", "", true)
		if err != nil || !created || len(generated) < account.MinPasswordLen {
			t.Fatalf("EnsureAdmin in dev = %v, %q, %v; want a generated password", created, generated, err)
		}
		in, err := svc.SignIn(anon(), "admin@pia.localhost", generated)
		if err != nil {
			t.Fatalf("the generated password does not sign in: %v", err)
		}
		if a, _, err := svc.Authenticate(anon(), in.Token); err != nil || !a.Has(access.Admin) {
			t.Fatalf("Authenticate = %+v, %v; want an ADMIN", a, err)
		}
	})
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestPasswords(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)

		// The stored hash: argon2id at OWASP's parameters, in PHC format,
		// with a 16-byte salt and a 32-byte key.
		hash := passwordHash(t, db, adminEmail)
		m := phcRE.FindStringSubmatch(hash)
		if m == nil {
			t.Fatalf("stored hash %q is not a PHC argon2id string with m=19456,t=2,p=1", hash)
		}
		if salt, err := base64.RawStdEncoding.DecodeString(m[1]); err != nil || len(salt) != 16 {
			t.Errorf("salt %q: %d bytes, %v", m[1], len(salt), err)
		}
		if key, err := base64.RawStdEncoding.DecodeString(m[2]); err != nil || len(key) != 32 {
			t.Errorf("key %q: %d bytes, %v", m[2], len(key), err)
		}
		if strings.Contains(hash, adminPassword) {
			t.Error("the hash contains the password")
		}

		accept := func(token, password string) error {
			_, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: "Pat", Password: password})
			return err
		}
		// Refused passwords leave the invitation usable.
		token := f.invite("pat@example.org")
		for name, pw := range map[string]string{
			"11 characters":  strings.Repeat("a", account.MinPasswordLen-1),
			"257 characters": strings.Repeat("é", account.MaxPasswordLen+1),
			"invalid UTF-8":  "twelve chars \xff\xfe here",
			"only spaces":    strings.Repeat(" ", 20),
		} {
			if err := accept(token, pw); !apperr.Is(err, apperr.BadInput) {
				t.Errorf("password of %s: %v, want BAD_USER_INPUT", name, err)
			}
		}
		if n := count(t, db, "SELECT count(*) FROM people"); n != 1 {
			t.Fatalf("%d people after refused passwords, want 1", n)
		}

		// 12, 64 and 256 characters are accepted and sign in; 256 counts
		// characters, not bytes.
		long := strings.Repeat("è", account.MaxPasswordLen-1) + "z"
		for _, c := range []struct{ email, password string }{
			{"pat@example.org", "exactly12chr"},
			{"sixtyfour@example.org", strings.Repeat("0123456789abcdef", 4)},
			{"long@example.org", long},
		} {
			if c.email != "pat@example.org" {
				token = f.invite(c.email)
			}
			if err := accept(token, c.password); err != nil {
				t.Fatalf("a password of %d characters: %v", len([]rune(c.password)), err)
			}
		}
		if _, err := f.svc.SignIn(anon(), "long@example.org", long); err != nil {
			t.Fatalf("sign in with 256 characters: %v", err)
		}
		// Every character counts: no silent truncation.
		_, err := f.svc.SignIn(anon(), "long@example.org", strings.Repeat("è", account.MaxPasswordLen-1)+"y")
		wantKind(t, err, apperr.Unauthenticated)

		for _, h := range column(t, db, "people", "password_hash") {
			if !phcRE.MatchString(h) {
				t.Errorf("stored hash %q is not argon2id at OWASP's parameters", h)
			}
		}
	})
}

func TestPeople(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		var anna *user
		t.Run("email is case-insensitive", func(t *testing.T) {
			inv, err := f.svc.Invite(f.admin.ctx(), account.InviteInput{Email: "  Anna@Example.ORG "})
			if err != nil {
				t.Fatal(err)
			}
			if inv.Email != "anna@example.org" {
				t.Fatalf("invitation to %q, want anna@example.org", inv.Email)
			}
			token := tokenIn(t, lastMail(t, db, "anna@example.org"))
			in, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: "Anna", Password: "anna's password"})
			if err != nil {
				t.Fatal(err)
			}
			if *in.Person.Email != "anna@example.org" {
				t.Fatalf("stored email %q", *in.Person.Email)
			}
			anna = f.signIn("anna@example.org", "anna's password")
			// The same address in other letters is the same account: a second
			// invitation tells her she has one, and carries no token.
			if _, err := f.svc.Invite(f.admin.ctx(), account.InviteInput{Email: "ANNA@example.org"}); err != nil {
				t.Fatal(err)
			}
			if m := lastMail(t, db, "anna@example.org"); tokenRE.MatchString(m.Body) {
				t.Fatalf("a mail to a registered address has a token:\n%s", m.Body)
			}
			if n := count(t, db, "SELECT count(*) FROM people WHERE lower(email) = 'anna@example.org'"); n != 1 {
				t.Fatalf("%d people with Anna's address", n)
			}
			_, err = f.svc.SetGlobalRoles(f.admin.ctx(), "Anna@EXAMPLE.org", []access.GlobalRole{access.PolicyMaker})
			if err != nil {
				t.Fatalf("SetGlobalRoles by a differently cased address: %v", err)
			}
			f.reauth(anna)
		})
		t.Run("person, me and contact", func(t *testing.T) {
			if anna == nil || !anna.actor.Has(access.PolicyMaker) {
				t.Skip("needs Anna, a policy maker")
			}
			m, pm := f.newUser("member@example.org", "Mina Member"), anna

			me, err := f.svc.Me(m.ctx())
			if err != nil || me == nil || me.ID != m.person.ID || me.DisplayName != "Mina Member" {
				t.Fatalf("Me = %+v, %v", me, err)
			}
			if e := f.svc.ContactEmail(m.ctx(), me); e == nil || *e != "member@example.org" {
				t.Errorf("own ContactEmail = %v", e)
			}
			if me, err := f.svc.Me(anon()); me != nil || err != nil {
				t.Errorf("anonymous Me = %+v, %v; want nil, nil", me, err)
			}
			adminMe, err := f.svc.Me(f.admin.ctx())
			if err != nil || len(adminMe.GlobalRoles) != 1 || adminMe.GlobalRoles[0] != access.Admin {
				t.Errorf("admin's Me = %+v, %v; want the ADMIN role", adminMe, err)
			}

			// The administrator sees everyone and their address.
			p, err := f.svc.Person(f.admin.ctx(), m.person.ID)
			if err != nil {
				t.Fatal(err)
			}
			if e := f.svc.ContactEmail(f.admin.ctx(), p); e == nil || *e != "member@example.org" {
				t.Errorf("admin's ContactEmail = %v", e)
			}
			// A policy maker sees the person but not how to reach them.
			p, err = f.svc.Person(pm.ctx(), m.person.ID)
			if err != nil || p.DisplayName != "Mina Member" {
				t.Fatalf("policy maker's Person = %+v, %v", p, err)
			}
			if e := f.svc.ContactEmail(pm.ctx(), p); e != nil {
				t.Errorf("policy maker's ContactEmail = %q, want nil", *e)
			}
			// A member does not see another person, and cannot tell them from
			// nobody.
			_, err = f.svc.Person(m.ctx(), f.admin.person.ID)
			wantKind(t, err, apperr.NotFound)
			_, err = f.svc.Person(f.admin.ctx(), m.person.ID+1000)
			wantKind(t, err, apperr.NotFound)
			_, err = f.svc.Person(anon(), m.person.ID)
			wantKind(t, err, apperr.Unauthenticated)
			if e := f.svc.ContactEmail(anon(), p); e != nil {
				t.Errorf("anonymous ContactEmail = %q", *e)
			}
		})
		t.Run("update profile", func(t *testing.T) {
			u := f.admin
			if u.person.Language != "it" {
				t.Fatalf("default language %q, want it", u.person.Language)
			}
			name, lang := "  Ada   Lovelace ", "EN"
			p, err := f.svc.UpdateProfile(u.ctx(), account.ProfileUpdate{DisplayName: &name, Language: &lang})
			if err != nil {
				t.Fatal(err)
			}
			if p.DisplayName != "Ada Lovelace" || p.Language != "en" {
				t.Fatalf("after the update: %q, %q", p.DisplayName, p.Language)
			}

			// A bad language refuses the whole update.
			newName, bad := "Someone Else", "fr"
			_, err = f.svc.UpdateProfile(u.ctx(), account.ProfileUpdate{DisplayName: &newName, Language: &bad})
			wantKind(t, err, apperr.BadInput)
			empty := "   "
			_, err = f.svc.UpdateProfile(u.ctx(), account.ProfileUpdate{DisplayName: &empty})
			wantKind(t, err, apperr.BadInput)
			_, err = f.svc.UpdateProfile(u.ctx(), account.ProfileUpdate{})
			wantKind(t, err, apperr.BadInput)
			_, err = f.svc.UpdateProfile(anon(), account.ProfileUpdate{DisplayName: &newName})
			wantKind(t, err, apperr.Unauthenticated)

			p, err = f.svc.Me(u.ctx())
			if err != nil || p.DisplayName != "Ada Lovelace" || p.Language != "en" {
				t.Fatalf("after refused updates: %+v, %v; want nothing changed", p, err)
			}
		})
	})
}
