package account_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		in, err := f.svc.SignIn(anon(), adminEmail, adminPassword)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Token) != 43 {
			t.Fatalf("token %q has %d characters, want 43 (256 bits in base64url)", in.Token, len(in.Token))
		}
		if in.Token == f.admin.token {
			t.Fatal("two sign-ins got the same token")
		}
		if in.Person.ID != f.admin.person.ID || len(in.Person.GlobalRoles) != 1 || in.Person.GlobalRoles[0] != access.Admin {
			t.Fatalf("signed in as %+v", in.Person)
		}
		if !in.Session.ExpiresAt.Equal(f.clock.Now().Add(7 * 24 * time.Hour)) {
			t.Errorf("session expires at %v, want in 7 days", in.Session.ExpiresAt)
		}

		// The session row holds the SHA-256 of the token, and the token
		// itself nowhere.
		if n := count(t, db, "SELECT count(*) FROM sessions WHERE id = ? AND token_hash = ?", in.Session.ID, sha256Hex(in.Token)); n != 1 {
			t.Fatal("the session row does not hold the SHA-256 hex of the token")
		}
		for _, row := range tableText(t, db, "sessions") {
			for _, tok := range []string{in.Token, f.admin.token} {
				if strings.Contains(row, tok) {
					t.Fatalf("a token is stored in clear: %s", row)
				}
			}
		}
		var addr, agent string
		if err := db.NewRaw("SELECT client_addr, user_agent FROM sessions WHERE id = ?", in.Session.ID).Scan(anon(), &addr, &agent); err != nil || addr != "192.0.2.1" || agent != "test" {
			t.Errorf("session client %q, %q, %v", addr, agent, err)
		}

		// Authenticate gives the actor, with their global roles.
		a, sess, err := f.svc.Authenticate(anon(), in.Token)
		if err != nil {
			t.Fatal(err)
		}
		if a.PersonID != f.admin.person.ID || a.SessionID != in.Session.ID || sess.ID != in.Session.ID || !a.Has(access.Admin) {
			t.Fatalf("Authenticate = %+v, session %d", a, sess.ID)
		}

		// An unknown email and a wrong password are told apart by nothing.
		_, errUnknown := f.svc.SignIn(anon(), "nobody@example.org", adminPassword)
		_, errWrong := f.svc.SignIn(anon(), adminEmail, "not the admin password")
		wantKind(t, errUnknown, apperr.Unauthenticated)
		wantKind(t, errWrong, apperr.Unauthenticated)
		_, msgUnknown, _ := apperr.Public(errUnknown)
		_, msgWrong, _ := apperr.Public(errWrong)
		if msgUnknown != msgWrong {
			t.Errorf("unknown email says %q, wrong password says %q", msgUnknown, msgWrong)
		}
		_, err = f.svc.SignIn(anon(), "not an email", adminPassword)
		wantKind(t, err, apperr.BadInput)
		_, err = f.svc.SignIn(anon(), adminEmail, "")
		wantKind(t, err, apperr.BadInput)

		// Tokens that are not a session's.
		for _, tok := range []string{"", "garbage", strings.Repeat("!", 43), strings.Repeat("A", 43), in.Token + "A", " " + in.Token[1:], in.Token[:42]} {
			_, _, err := f.svc.Authenticate(anon(), tok)
			wantKind(t, err, apperr.Unauthenticated)
		}
		// The hash does not stand in for the token.
		_, _, err = f.svc.Authenticate(anon(), sha256Hex(in.Token))
		wantKind(t, err, apperr.Unauthenticated)

		// SignOut revokes the current session and no other.
		if _, err := f.svc.SignOut(as(a)); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.Authenticate(anon(), in.Token)
		wantKind(t, err, apperr.Unauthenticated)
		f.reauth(f.admin)
		_, err = f.svc.SignOut(as(a))
		wantKind(t, err, apperr.Conflict)
		_, err = f.svc.SignOut(anon())
		wantKind(t, err, apperr.Unauthenticated)

		// Expiry: a moment before the TTL the token works, at the TTL it
		// does not.
		f.clock.Advance(7*24*time.Hour - time.Second)
		f.reauth(f.admin)
		f.clock.Advance(time.Second)
		_, _, err = f.svc.Authenticate(anon(), f.admin.token)
		wantKind(t, err, apperr.Unauthenticated)
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		m := f.newUser("member@example.org", "Mina")
		other := f.newUser("other@example.org", "Otto")
		second := f.signIn(m.email, m.password)
		f.clock.Advance(time.Minute)
		third := f.signIn(m.email, m.password)

		list, err := f.svc.Sessions(m.ctx(), m.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{third.session.ID, second.session.ID, m.session.ID}
		if got := sessionIDs(list); !equal(got, want) {
			t.Fatalf("Sessions = %v, want %v (newest first)", got, want)
		}
		// Revoking one's own other session.
		if _, err := f.svc.RevokeSession(m.ctx(), second.session.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.Authenticate(anon(), second.token)
		wantKind(t, err, apperr.Unauthenticated)
		_, err = f.svc.RevokeSession(m.ctx(), second.session.ID)
		wantKind(t, err, apperr.Conflict)
		list, _ = f.svc.Sessions(m.ctx(), m.person.ID)
		if got := sessionIDs(list); !equal(got, []int64{third.session.ID, m.session.ID}) {
			t.Fatalf("Sessions after a revocation = %v", got)
		}

		// Somebody else neither lists nor revokes them, nor learns they exist.
		_, err = f.svc.Sessions(other.ctx(), m.person.ID)
		wantKind(t, err, apperr.Forbidden)
		_, err = f.svc.RevokeSession(other.ctx(), third.session.ID)
		wantKind(t, err, apperr.NotFound)
		_, err = f.svc.RevokeSession(other.ctx(), third.session.ID+1000)
		wantKind(t, err, apperr.NotFound)
		_, err = f.svc.RevokeSession(anon(), third.session.ID)
		wantKind(t, err, apperr.Unauthenticated)
		_, err = f.svc.Sessions(anon(), m.person.ID)
		wantKind(t, err, apperr.Unauthenticated)
		f.reauth(third)

		// The administrator lists and revokes anyone's, once.
		if list, err := f.svc.Sessions(f.admin.ctx(), m.person.ID); err != nil || len(list) != 2 {
			t.Fatalf("admin's Sessions = %d, %v", len(list), err)
		}
		if _, err := f.svc.RevokeSession(f.admin.ctx(), third.session.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.Authenticate(anon(), third.token)
		wantKind(t, err, apperr.Unauthenticated)
		_, err = f.svc.RevokeSession(f.admin.ctx(), third.session.ID)
		wantKind(t, err, apperr.Conflict)

		// Racing revocations: one wins, the others find it ended, and the
		// log has one event.
		errs := parallel(4, func(int) error {
			_, err := f.svc.RevokeSession(f.admin.ctx(), m.session.ID)
			return err
		})
		if k := kinds(errs); k[""] != 1 || k[apperr.Conflict] != 3 {
			t.Fatalf("4 concurrent revocations: %v, want 1 success and 3 CONFLICT", k)
		}
		// Three of Mina's sessions were revoked: by her, by the
		// administrator, and in the race.
		if n := count(t, db, "SELECT count(*) FROM audit_events WHERE kind = ? AND person_id = ?", account.AuditSessionRevoked, m.person.ID); n != 3 {
			t.Fatalf("%d SESSION_REVOKED events about Mina, want 3", n)
		}

		// Expired sessions are not listed, and cannot be revoked.
		f.clock.Advance(7 * 24 * time.Hour)
		if list, err := f.svc.Sessions(other.ctx(), other.person.ID); err != nil || len(list) != 0 {
			t.Fatalf("Sessions after expiry = %v, %v; want none", sessionIDs(list), err)
		}
		_, err = f.svc.RevokeSession(other.ctx(), other.session.ID)
		wantKind(t, err, apperr.Conflict)
	})
}

func sessionIDs(list []*account.Session) []int64 {
	var ids []int64
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSignInLimits runs with a small per-address limit, so that the burst
// comes from 100 addresses and shows the per-account limit alone.
func TestSignInLimits(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		limits := account.DefaultLimits
		limits.SignInPerAddr.Max = 3
		f := setup(t, db, func(o *account.Options) { o.Limits = &limits })
		lim := limits.SignInPerAccount

		t.Run("burst of wrong passwords", func(t *testing.T) {
			u := f.newUser("target@example.org", "Target")
			errs := parallel(100, func(i int) error {
				_, err := f.svc.SignIn(from(fmt.Sprintf("203.0.113.%d", i)), u.email, fmt.Sprintf("wrong password number %d", i))
				return err
			})
			k := kinds(errs)
			if k[apperr.Unauthenticated] != int(lim.Max) || k[apperr.RateLimited] != 100-int(lim.Max) {
				t.Fatalf("a burst of 100 wrong passwords: %v, want %d UNAUTHENTICATED and the rest RATE_LIMITED", k, lim.Max)
			}
			if n := len(f.auditOf(account.AuditSignInFailed)); n != int(lim.Max) {
				t.Errorf("%d SIGN_IN_FAILED events, want %d", n, lim.Max)
			}
			if n := len(f.auditOf(account.AuditSignInThrottled)); n != 100-int(lim.Max) {
				t.Errorf("%d SIGN_IN_THROTTLED events, want %d", n, 100-lim.Max)
			}

			// Now even the right password, from anywhere, waits for the
			// window to pass.
			_, err := f.svc.SignIn(from("198.51.100.1"), u.email, u.password)
			wantKind(t, err, apperr.RateLimited)
			f.clock.Advance(lim.Window - time.Second)
			_, err = f.svc.SignIn(from("198.51.100.2"), u.email, u.password)
			wantKind(t, err, apperr.RateLimited)
			f.clock.Advance(time.Second)

			// A success gives its attempt back: more successes in a row
			// than either limit allows attempts.
			for i := range lim.Max + 1 {
				if _, err := f.svc.SignIn(anon(), u.email, u.password); err != nil {
					t.Fatalf("sign-in %d in a row after the window: %v", i+1, err)
				}
			}
		})

		t.Run("per address, across accounts", func(t *testing.T) {
			here := from("198.51.100.20")
			for _, email := range []string{"a@example.org", "b@example.org", adminEmail} {
				_, err := f.svc.SignIn(here, email, "a wrong password")
				wantKind(t, err, apperr.Unauthenticated)
			}
			// A fourth account from the same address, with the right password.
			_, err := f.svc.SignIn(here, adminEmail, adminPassword)
			wantKind(t, err, apperr.RateLimited)
			_, err = f.svc.SignIn(here, "c@example.org", "a wrong password")
			wantKind(t, err, apperr.RateLimited)
			// Another address is not affected.
			if _, err := f.svc.SignIn(from("198.51.100.21"), adminEmail, adminPassword); err != nil {
				t.Fatalf("from another address: %v", err)
			}
			f.clock.Advance(limits.SignInPerAddr.Window)
			if _, err := f.svc.SignIn(here, adminEmail, adminPassword); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestMaintain(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		code := f.invite("old.invite@example.org")
		if _, err := f.svc.SignIn(anon(), "nobody@example.org", "wrong password here"); err == nil {
			t.Fatal("a wrong sign-in succeeded")
		}
		count := func(table string) int {
			n, err := db.NewSelect().Table(table).Count(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		throttled, tokens := count("throttle"), count("account_tokens")
		if throttled == 0 || tokens == 0 {
			t.Fatalf("nothing to maintain: %d counters, %d tokens", throttled, tokens)
		}
		if err := f.svc.Maintain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if count("throttle") != throttled || count("account_tokens") != tokens {
			t.Fatal("Maintain removed current counters or tokens")
		}
		f.clock.Advance(38 * 24 * time.Hour) // the invitation expired 31 days ago
		if err := f.svc.Maintain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count("throttle"); n != 0 {
			t.Errorf("%d stale throttle counters left", n)
		}
		if n := count("account_tokens"); n != tokens-1 {
			t.Errorf("%d tokens left, want %d", n, tokens-1)
		}
		_, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: code, DisplayName: "Late", Password: "a long enough password"})
		wantKind(t, err, apperr.BadInput)
	})
}
