package account_test

import (
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestInvitations(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		p := f.newUser("p@example.org", "P")
		t.Run("who may invite", func(t *testing.T) {
			// One person takes every role in turn; territory roles come from
			// the role source, as working groups will give them.
			guests := 0
			try := func(who string, a *access.Actor, want apperr.Kind) {
				t.Helper()
				guests++
				email := "guest" + itoa(int64(guests)) + "@example.org"
				_, err := f.svc.Invite(as(a), account.InviteInput{Email: email})
				if want == "" && err != nil {
					t.Errorf("%s invites: %v, want success", who, err)
				}
				if want != "" && !apperr.Is(err, want) {
					t.Errorf("%s invites: %v, want %s", who, err, want)
				}
				if sent := len(mailsTo(t, db, email)); (want == "") != (sent == 1) {
					t.Errorf("%s invites: %d mails to the guest", who, sent)
				}
			}
			try("anonymous", access.Anonymous, apperr.Unauthenticated)
			try("a member", f.withRole(p, access.Member).actor, apperr.Forbidden)
			try("an observer", f.withRole(p, access.Observer).actor, apperr.Forbidden)
			f.roles.clear(p.person.ID)
			try("a policy maker", f.withGlobal(p, access.PolicyMaker).actor, apperr.Forbidden)
			f.withGlobal(p)
			try("a coordinator", f.withRole(p, access.Coordinator).actor, "")
			try("an administrator", f.admin.actor, "")
			// The coordinator's invitation was recorded as theirs.
			events := f.auditOf(account.AuditInvitationSent)
			if len(events) != 3 || events[1].ActorID == nil || *events[1].ActorID != p.person.ID {
				t.Fatalf("INVITATION_SENT events: %+v, want the coordinator's among them", events)
			}
		})
		t.Run("concurrent acceptance", func(t *testing.T) {
			token := f.invite("twice@example.org")
			errs := parallel(2, func(i int) error {
				_, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: "Twice", Password: "password number " + itoa(int64(i))})
				return err
			})
			if k := kinds(errs); k[""] != 1 || k[apperr.BadInput] != 1 {
				t.Fatalf("two acceptances of one invitation: %v, want one success and one BAD_USER_INPUT", errs)
			}
			if n := count(t, db, "SELECT count(*) FROM people WHERE email = 'twice@example.org'"); n != 1 {
				t.Fatalf("%d accounts, want 1", n)
			}
			if n := count(t, db, "SELECT count(*) FROM sessions WHERE person_id = (SELECT id FROM people WHERE email = 'twice@example.org')"); n != 1 {
				t.Fatalf("%d sessions opened, want 1", n)
			}
		})
		t.Run("accept once", func(t *testing.T) {
			known := p

			// Known and unknown addresses get the same answer.
			invKnown, err := f.svc.Invite(f.admin.ctx(), account.InviteInput{Email: known.email, Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			invNew, err := f.svc.Invite(f.admin.ctx(), account.InviteInput{Email: "New@Example.org", Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if invKnown.Email != known.email || invNew.Email != "new@example.org" || !invKnown.ExpiresAt.Equal(invNew.ExpiresAt) {
				t.Fatalf("answers differ: %+v and %+v", invKnown, invNew)
			}
			if want := f.clock.Now().Add(7 * 24 * time.Hour); !invNew.ExpiresAt.Equal(want) {
				t.Errorf("the invitation expires at %v, want %v", invNew.ExpiresAt, want)
			}
			// The registered address hears that it has an account, with no token.
			if m := lastMail(t, db, known.email); tokenRE.MatchString(m.Body) {
				t.Fatalf("the mail to a registered address carries a token:\n%s", m.Body)
			}
			token := tokenIn(t, lastMail(t, db, "new@example.org"))

			_, err = f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: "", Password: "new person's password"})
			wantKind(t, err, apperr.BadInput)
			_, err = f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: "Nina", Password: "new person's password", Language: "de"})
			wantKind(t, err, apperr.BadInput)

			in, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: " Nina  Nuova ", Password: "new person's password"})
			if err != nil {
				t.Fatal(err)
			}
			if in.Person.DisplayName != "Nina Nuova" || in.Person.Language != "en" || *in.Person.Email != "new@example.org" {
				t.Fatalf("accepted as %+v, want Nina Nuova in English", in.Person)
			}
			// Accepting signs in.
			nina := f.userFrom(in, "new person's password")
			if me, err := f.svc.Me(nina.ctx()); err != nil || me.ID != in.Person.ID || len(me.GlobalRoles) != 0 {
				t.Fatalf("Me = %+v, %v", me, err)
			}

			// Once only; the second use changes nothing.
			before, hash := count(t, db, "SELECT count(*) FROM people"), passwordHash(t, db, "new@example.org")
			_, err = f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: token, DisplayName: "Mallory", Password: "mallory's password"})
			wantKind(t, err, apperr.BadInput)
			if after := count(t, db, "SELECT count(*) FROM people"); after != before {
				t.Fatalf("%d people after a reused invitation, want %d", after, before)
			}
			if p, _ := f.svc.Person(f.admin.ctx(), in.Person.ID); p.DisplayName != "Nina Nuova" {
				t.Fatalf("a reused invitation renamed her to %q", p.DisplayName)
			}
			if passwordHash(t, db, "new@example.org") != hash {
				t.Fatal("a reused invitation changed the password")
			}

			// Audited with the actor and the client address.
			sent := 0
			for _, ev := range f.auditOf(account.AuditInvitationSent) {
				if ev.Email != known.email && ev.Email != "new@example.org" {
					continue
				}
				sent++
				if ev.ActorID == nil || *ev.ActorID != f.admin.person.ID || ev.ClientAddr != "192.0.2.1" {
					t.Errorf("INVITATION_SENT %+v: want the administrator at 192.0.2.1", ev)
				}
			}
			if sent != 3 {
				t.Fatalf("%d INVITATION_SENT events to Known and New, want 3", sent)
			}
			accepted := f.auditOf(account.AuditInvitationAccepted)
			if len(accepted) != 3 || accepted[0].PersonID == nil || *accepted[0].PersonID != in.Person.ID ||
				accepted[0].ClientAddr != "192.0.2.1" || accepted[0].Email != "new@example.org" {
				t.Fatalf("INVITATION_ACCEPTED events: %+v", accepted)
			}

			// Expired invitations are refused.
			late := f.invite("late@example.org")
			f.clock.Advance(7 * 24 * time.Hour)
			_, err = f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: late, DisplayName: "Late", Password: "late person's password"})
			wantKind(t, err, apperr.BadInput)
			if n := count(t, db, "SELECT count(*) FROM people WHERE email = 'late@example.org'"); n != 0 {
				t.Fatal("an expired invitation created an account")
			}
			// An invitation is not a reset link, nor the other way round.
			reset := f.invite("other-kind@example.org")
			_, err = f.svc.ResetPassword(anon(), account.ResetInput{Token: reset, Password: "whatever password"})
			wantKind(t, err, apperr.BadInput)
		})
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		t.Run("reset", func(t *testing.T) {
			u := f.newUser("forgetful@example.org", "Forgetful")
			second := f.signIn(u.email, u.password)
			mailsBefore := len(mailsTo(t, db, u.email))

			// The same answer, known or not; only the known address gets a mail.
			known, err := f.svc.RequestPasswordReset(anon(), "Forgetful@example.org")
			if err != nil {
				t.Fatal(err)
			}
			unknown, err := f.svc.RequestPasswordReset(anon(), "nobody@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if known.Email != u.email || unknown.Email != "nobody@example.org" || !known.ExpiresAt.Equal(unknown.ExpiresAt) {
				t.Fatalf("answers differ: %+v and %+v", known, unknown)
			}
			if n := len(mailsTo(t, db, "nobody@example.org")); n != 0 {
				t.Fatalf("%d mails to an unknown address", n)
			}
			mails := mailsTo(t, db, u.email)
			if len(mails) != mailsBefore+1 {
				t.Fatalf("%d new mails to the known address, want 1", len(mails)-mailsBefore)
			}
			token := tokenIn(t, mails[len(mails)-1])

			// A watched session ends with the reset.
			ended := make(chan string, 1)
			f.svc.WatchSession(anon(), second.session, func(reason string) { ended <- reason })

			const newPassword = "a brand new password"
			_, err = f.svc.ResetPassword(anon(), account.ResetInput{Token: token, Password: "short"})
			wantKind(t, err, apperr.BadInput)
			in, err := f.svc.ResetPassword(anon(), account.ResetInput{Token: token, Password: newPassword})
			if err != nil {
				t.Fatal(err)
			}
			if in.Person.ID != u.person.ID {
				t.Fatalf("reset signed in as %+v", in.Person)
			}
			if _, _, err := f.svc.Authenticate(anon(), in.Token); err != nil {
				t.Fatalf("the session the reset opened: %v", err)
			}
			for _, old := range []*user{u, second} {
				_, _, err := f.svc.Authenticate(anon(), old.token)
				wantKind(t, err, apperr.Unauthenticated)
			}
			select {
			case <-ended:
			case <-time.After(2 * time.Second):
				t.Error("the watched session did not end with the reset")
			}
			_, err = f.svc.SignIn(anon(), u.email, u.password)
			wantKind(t, err, apperr.Unauthenticated)
			if _, err := f.svc.SignIn(anon(), u.email, newPassword); err != nil {
				t.Fatalf("the new password: %v", err)
			}
			// Once only.
			hash := passwordHash(t, db, u.email)
			_, err = f.svc.ResetPassword(anon(), account.ResetInput{Token: token, Password: "yet another password"})
			wantKind(t, err, apperr.BadInput)
			if passwordHash(t, db, u.email) != hash {
				t.Fatal("a reused reset link changed the password")
			}
			if ev := f.auditOf(account.AuditPasswordReset); len(ev) != 1 || *ev[0].PersonID != u.person.ID {
				t.Fatalf("PASSWORD_RESET events: %+v", ev)
			}

			// Expired links are refused.
			if _, err := f.svc.RequestPasswordReset(anon(), u.email); err != nil {
				t.Fatal(err)
			}
			late := tokenIn(t, lastMail(t, db, u.email))
			f.clock.Advance(time.Hour)
			_, err = f.svc.ResetPassword(anon(), account.ResetInput{Token: late, Password: "too late password"})
			wantKind(t, err, apperr.BadInput)
		})
		t.Run("limit per email", func(t *testing.T) {
			lim := account.DefaultLimits.ResetPerEmail
			// Known and unknown addresses are limited alike, so the limit does
			// not tell them apart either.
			for _, email := range []string{adminEmail, "nobody-else@example.org"} {
				for i := range lim.Max {
					if _, err := f.svc.RequestPasswordReset(anon(), email); err != nil {
						t.Fatalf("request %d for %s: %v", i+1, email, err)
					}
				}
				_, err := f.svc.RequestPasswordReset(anon(), email)
				wantKind(t, err, apperr.RateLimited)
			}
			if n := len(mailsTo(t, db, adminEmail)); n != int(lim.Max) {
				t.Fatalf("%d reset mails, want %d", n, lim.Max)
			}
			// Another address is not affected, and the window passes.
			if _, err := f.svc.RequestPasswordReset(anon(), "someone@example.org"); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(lim.Window)
			if _, err := f.svc.RequestPasswordReset(anon(), adminEmail); err != nil {
				t.Fatalf("after the window: %v", err)
			}
			_, err := f.svc.RequestPasswordReset(anon(), "not an address")
			wantKind(t, err, apperr.BadInput)
		})
	})
}
