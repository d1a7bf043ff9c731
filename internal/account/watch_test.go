package account_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// watch records the calls of a WatchSession's end.
type watch struct {
	mu      sync.Mutex
	reasons []string
	called  chan struct{}
}

func startWatch(ctx context.Context, svc *account.Service, sess *account.Session) *watch {
	w := &watch{called: make(chan struct{}, 10)}
	svc.WatchSession(ctx, sess, func(reason string) {
		w.mu.Lock()
		w.reasons = append(w.reasons, reason)
		w.mu.Unlock()
		w.called <- struct{}{}
	})
	return w
}

// ended waits up to limit for the end and returns when it came.
func (w *watch) ended(t *testing.T, limit time.Duration) time.Time {
	t.Helper()
	select {
	case <-w.called:
		return time.Now()
	case <-time.After(limit):
		t.Fatalf("the watch did not end within %v", limit)
		return time.Time{}
	}
}

// calls returns how many times end was called, after giving a stray second
// call a moment to come.
func (w *watch) calls(wait time.Duration) int {
	time.Sleep(wait)
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.reasons)
}

func TestWatchSession(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db) // RecheckInterval stays at its default of 30 s
		u := f.newUser("watched@example.org", "Walter")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		// A revocation on the same Service ends the watch at once, without
		// waiting for a recheck.
		w := startWatch(ctx, f.svc, u.session)
		start := time.Now()
		if _, err := f.svc.RevokeSession(f.admin.ctx(), u.session.ID); err != nil {
			t.Fatal(err)
		}
		if took := w.ended(t, 2*time.Second).Sub(start); took > time.Second {
			t.Errorf("the watch ended %v after the revocation", took)
		}
		if n := w.calls(50 * time.Millisecond); n != 1 {
			t.Errorf("end called %d times, want once", n)
		}

		// A revocation by another instance on the same database (f.svc
		// here) is found by the watching instance's recheck.
		watcher := newService(t, storagetest.Reopen(t, db), func() account.Options {
			o := baseOptions(f.clock, f.roles, f.logs)
			o.RecheckInterval = 50 * time.Millisecond
			return o
		}())
		second := f.signIn(u.email, u.password)
		w = startWatch(ctx, watcher, second.session)
		start = time.Now()
		if _, err := f.svc.SignOut(second.ctx()); err != nil {
			t.Fatal(err)
		}
		if took := w.ended(t, 2*time.Second).Sub(start); took > time.Second {
			t.Errorf("the watch ended %v after another instance's revocation", took)
		}

		// A watch whose ctx ends first stays silent.
		third := f.signIn(u.email, u.password)
		stopped, stop := context.WithCancel(context.Background())
		w = startWatch(stopped, f.svc, third.session)
		stop()
		if _, err := f.svc.RevokeSession(f.admin.ctx(), third.session.ID); err != nil {
			t.Fatal(err)
		}
		if n := w.calls(200 * time.Millisecond); n != 0 {
			t.Errorf("a cancelled watch called end %d times", n)
		}

		// Expiry, on the real clock.
		const ttl = 300 * time.Millisecond
		wall := newService(t, db, func() account.Options {
			o := baseOptions(f.clock, f.roles, f.logs)
			o.Now, o.SessionTTL = nil, ttl
			return o
		}())
		in, err := wall.SignIn(anon(), u.email, u.password)
		if err != nil {
			t.Fatal(err)
		}
		w = startWatch(ctx, wall, in.Session)
		at := w.ended(t, ttl+2*time.Second)
		if at.Before(in.Session.ExpiresAt.Add(-10 * time.Millisecond)) {
			t.Errorf("the watch ended at %v, before the session expired at %v", at, in.Session.ExpiresAt)
		}
		if late := at.Sub(in.Session.ExpiresAt); late > time.Second {
			t.Errorf("the watch ended %v after the session expired", late)
		}
		_, _, err = wall.Authenticate(anon(), in.Token)
		wantKind(t, err, apperr.Unauthenticated)
		if n := w.calls(50 * time.Millisecond); n != 1 {
			t.Errorf("end called %d times, want once", n)
		}
	})
}

// A connection keeps the roles it started with, so losing a global role ends
// the person's watched sessions; gaining one does not.
func TestWatchSessionEndsWhenARoleIsLost(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		u := f.newUser("watched.role@example.org", "Rita")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		w := startWatch(ctx, f.svc, u.session)
		f.withGlobal(u, access.PolicyMaker)
		if n := w.calls(100 * time.Millisecond); n != 0 {
			t.Fatalf("gaining a role ended the watch (%d calls)", n)
		}
		f.withGlobal(u) // POLICY_MAKER taken away
		w.ended(t, 2*time.Second)
		w.mu.Lock()
		reason := w.reasons[0]
		w.mu.Unlock()
		if reason != "your roles changed; connect again" {
			t.Errorf("reason %q", reason)
		}
		// The session itself stays open: a new connection gets the new roles.
		a, _, err := f.svc.Authenticate(anon(), u.token)
		if err != nil || a.Has(access.PolicyMaker) {
			t.Errorf("after losing the role: actor %+v, err %v", a, err)
		}
	})
}

// reason returns the reason of the first call of end.
func (w *watch) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.reasons) == 0 {
		return ""
	}
	return w.reasons[0]
}

// The watch of a connection compares the territory roles it started with
// (those of the actor in its context) with the person's at every recheck,
// so that a membership changed on another instance ends it too.
func TestWatchSessionEndsWhenTerritoryRolesChange(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db, func(o *account.Options) { o.RecheckInterval = 20 * time.Millisecond })
		u := f.withRole(f.newUser("watched.territory@example.org", "Teresa"), access.Member)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		// Rechecks that find the same roles leave the connection open.
		w := startWatch(u.ctx(), f.svc, u.session)
		if n := w.calls(200 * time.Millisecond); n != 0 {
			t.Fatalf("unchanged roles ended the watch (%d calls: %q)", n, w.reason())
		}
		// The role source changes between two checks: the next one ends it.
		f.roles.set(u.person.ID, 1, access.Observer)
		w.ended(t, 2*time.Second)
		if got := w.reason(); got != "your roles in the working groups changed; reconnect" {
			t.Errorf("reason %q", got)
		}
		if n := w.calls(50 * time.Millisecond); n != 1 {
			t.Errorf("end called %d times, want once", n)
		}

		// What counts is what the connection started with: roles changed
		// after the actor was read and before the watch began end it at
		// the first recheck.
		second := f.signIn(u.email, u.password) // an OBSERVER in territory 1
		f.roles.clear(u.person.ID)
		w = startWatch(access.WithActor(ctx, second.actor), f.svc, second.session)
		w.ended(t, 2*time.Second)
		if got := w.reason(); got != "your roles in the working groups changed; reconnect" {
			t.Errorf("reason %q", got)
		}
		// The session stays open: a new connection gets the new roles.
		a, _, err := f.svc.Authenticate(anon(), second.token)
		if err != nil || len(a.Territories) != 0 {
			t.Errorf("after the change: actor %+v, err %v", a, err)
		}

		// A role gained counts too: the connection starts again to get it.
		third := f.signIn(u.email, u.password)
		w = startWatch(third.ctx(), f.svc, third.session)
		f.roles.set(u.person.ID, 2, access.Coordinator)
		w.ended(t, 2*time.Second)
	})
}

// A global role taken away on another instance is found by the watching
// instance's recheck, as a revocation is.
func TestWatchSessionRecheckFindsALostGlobalRole(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		u := f.withGlobal(f.newUser("watched.global@example.org", "Gloria"), access.PolicyMaker)
		watcher := newService(t, storagetest.Reopen(t, db), func() account.Options {
			o := baseOptions(f.clock, f.roles, f.logs)
			o.RecheckInterval = 20 * time.Millisecond
			return o
		}())
		w := startWatch(u.ctx(), watcher, u.session)
		if n := w.calls(100 * time.Millisecond); n != 0 {
			t.Fatalf("unchanged roles ended the watch (%d calls: %q)", n, w.reason())
		}
		f.withGlobal(u) // POLICY_MAKER taken away by f.svc, another instance
		w.ended(t, 2*time.Second)
		if got := w.reason(); got != "your roles changed; connect again" {
			t.Errorf("reason %q", got)
		}
	})
}

// RolesChanged ends at once every watched connection of the person, and
// only theirs.
func TestRolesChangedEndsThePersonsConnections(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db) // RecheckInterval stays at 30 s: only the announce can end them
		u := f.withRole(f.newUser("announced@example.org", "Anna"), access.Coordinator)
		other := f.withRole(f.newUser("bystander@example.org", "Bruno"), access.Member)
		second := f.signIn(u.email, u.password)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		first := startWatch(u.ctx(), f.svc, u.session)
		again := startWatch(second.ctx(), f.svc, second.session)
		bystander := startWatch(other.ctx(), f.svc, other.session)
		cancelled, stop := context.WithCancel(ctx)
		silent := startWatch(access.WithActor(cancelled, u.actor), f.svc, u.session)
		stop()

		f.roles.clear(u.person.ID)
		f.svc.RolesChanged(u.person.ID)
		for _, w := range []*watch{first, again} {
			w.ended(t, 2*time.Second)
			if got := w.reason(); got != "your roles in the working groups changed; reconnect" {
				t.Errorf("reason %q", got)
			}
		}
		if n := bystander.calls(100 * time.Millisecond); n != 0 {
			t.Errorf("another person's connection ended (%q)", bystander.reason())
		}
		if n := silent.calls(0); n != 0 {
			t.Errorf("a cancelled watch called end %d times", n)
		}
		// Sessions stay open.
		for _, x := range []*user{u, second} {
			if _, _, err := f.svc.Authenticate(anon(), x.token); err != nil {
				t.Errorf("the session ended: %v", err)
			}
		}
		// Nobody watched: nothing to do.
		f.svc.RolesChanged(999999)
	})
}
