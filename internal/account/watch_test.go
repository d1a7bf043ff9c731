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

// The reasons a watch ends with, as the person reads them.
const (
	reasonEnded          = "the session was ended; sign in again"
	reasonExpired        = "the session has expired; sign in again"
	reasonRoles          = "your roles changed; connect again"
	reasonTerritoryRoles = "your roles in the working groups changed; reconnect"
)

// watchHangGuard is how long a test waits for something that must happen
// before it gives up: a guard against hanging, never a measure of speed.
const watchHangGuard = 30 * time.Second

// noRecheck is a RecheckInterval long enough that no recheck comes during
// a test: only an announce on the same Service can end a watch.
func noRecheck(o *account.Options) { o.RecheckInterval = time.Hour }

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

// ended waits for the end and returns the reason of its first call.
func (w *watch) ended(t *testing.T) string {
	t.Helper()
	select {
	case <-w.called:
		return w.reason()
	case <-time.After(watchHangGuard):
		t.Fatalf("the watch did not end within %v", watchHangGuard)
		return ""
	}
}

// count is how many times end has been called so far.
func (w *watch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.reasons)
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

// countedRoles is a role source that counts the lookups of each person, so
// a test can tell that a watch's rechecks have run: a watch's goroutine
// decides on one recheck before it starts the next, and returns once it
// has called end, so a watch that made its n-th lookup decided n-1 times
// to go on.
type countedRoles struct {
	access.RoleSource
	mu      sync.Mutex
	n       map[int64]int
	changed chan struct{} // closed and replaced at every lookup
}

func countRoles(r access.RoleSource) *countedRoles {
	return &countedRoles{RoleSource: r, n: map[int64]int{}, changed: make(chan struct{})}
}

func (c *countedRoles) TerritoryRoles(ctx context.Context, personID int64) (map[int64]access.TerritoryRole, error) {
	roles, err := c.RoleSource.TerritoryRoles(ctx, personID)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[personID]++
	close(c.changed)
	c.changed = make(chan struct{})
	return roles, err
}

// goesOn waits until the watch w of person has run rechecks more lookups
// of the person's roles, and fails if w ends meanwhile: the rechecks
// found nothing to end it for.
func (c *countedRoles) goesOn(t *testing.T, w *watch, person int64, more int) {
	t.Helper()
	c.mu.Lock()
	want := c.n[person] + more
	c.mu.Unlock()
	guard := time.After(watchHangGuard)
	for {
		c.mu.Lock()
		n, changed := c.n[person], c.changed
		c.mu.Unlock()
		if n >= want {
			break
		}
		select {
		case <-changed:
		case <-w.called:
			t.Fatalf("rechecks that found the same roles ended the watch (%q)", w.reason())
		case <-guard:
			t.Fatalf("no recheck within %v", watchHangGuard)
		}
	}
	if n := w.count(); n != 0 {
		t.Fatalf("rechecks that found the same roles ended the watch (%d calls: %q)", n, w.reason())
	}
}

func TestWatchSession(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db, noRecheck)
		u := f.newUser("watched@example.org", "Walter")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		// A revocation on the same Service ends the watch at once, without
		// waiting for a recheck (there is none within the hour).
		revoked := startWatch(ctx, f.svc, u.session)
		if _, err := f.svc.RevokeSession(f.admin.ctx(), u.session.ID); err != nil {
			t.Fatal(err)
		}
		if got := revoked.ended(t); got != reasonEnded {
			t.Errorf("reason %q, want %q", got, reasonEnded)
		}

		// A revocation by another instance on the same database (f.svc
		// here) is found by the watching instance's recheck.
		watcher := newService(t, storagetest.Reopen(t, db), func() account.Options {
			o := baseOptions(f.clock, f.roles, f.logs)
			o.RecheckInterval = 20 * time.Millisecond
			return o
		}())
		second := f.signIn(u.email, u.password)
		w := startWatch(ctx, watcher, second.session)
		if _, err := f.svc.SignOut(second.ctx()); err != nil {
			t.Fatal(err)
		}
		if got := w.ended(t); got != reasonEnded {
			t.Errorf("another instance's revocation: reason %q, want %q", got, reasonEnded)
		}

		// A watch whose ctx ends first stays silent, while a watch of the
		// same session that is still on ends.
		third := f.signIn(u.email, u.password)
		stopped, stop := context.WithCancel(context.Background())
		silent := startWatch(stopped, f.svc, third.session)
		live := startWatch(ctx, f.svc, third.session)
		stop()
		if _, err := f.svc.RevokeSession(f.admin.ctx(), third.session.ID); err != nil {
			t.Fatal(err)
		}
		live.ended(t)

		// Each watch ends once: an announce to the person's watches after
		// the ends reaches a new watch and none of the ended ones.
		fourth := f.signIn(u.email, u.password)
		probe := startWatch(fourth.ctx(), f.svc, fourth.session)
		f.svc.RolesChanged(u.person.ID)
		if got := probe.ended(t); got != reasonTerritoryRoles {
			t.Errorf("the probe's reason %q", got)
		}
		for name, x := range map[string]struct {
			w    *watch
			want int
		}{"revoked": {revoked, 1}, "live": {live, 1}, "cancelled": {silent, 0}} {
			if n := x.w.count(); n != x.want {
				t.Errorf("the %s watch called end %d times (first %q), want %d", name, n, x.w.reason(), x.want)
			}
		}

		// Expiry, on the real clock (the service's timer is real): the watch
		// ends, for expiry, and the session has expired by then.
		wall := newService(t, db, func() account.Options {
			o := baseOptions(f.clock, f.roles, f.logs)
			o.Now, o.SessionTTL, o.RecheckInterval = nil, 300*time.Millisecond, time.Hour
			return o
		}())
		in, err := wall.SignIn(anon(), u.email, u.password)
		if err != nil {
			t.Fatal(err)
		}
		w = startWatch(ctx, wall, in.Session)
		if got := w.ended(t); got != reasonExpired {
			t.Errorf("reason %q, want %q", got, reasonExpired)
		}
		_, _, err = wall.Authenticate(anon(), in.Token)
		wantKind(t, err, apperr.Unauthenticated)
	})
}

// A connection keeps the roles it started with, so losing a global role ends
// the person's watched sessions; gaining one does not.
func TestWatchSessionEndsWhenARoleIsLost(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db, noRecheck)
		u := f.newUser("watched.role@example.org", "Rita")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		// Gaining a role leaves the watch on: what ends it next is the
		// revocation that follows, whose reason it gets first.
		w := startWatch(u.ctx(), f.svc, u.session)
		f.withGlobal(u, access.PolicyMaker)
		if _, err := f.svc.RevokeSession(f.admin.ctx(), u.session.ID); err != nil {
			t.Fatal(err)
		}
		if got := w.ended(t); got != reasonEnded {
			t.Errorf("gaining a role ended the watch (reason %q; want the revocation's, %q)", got, reasonEnded)
		}

		second := f.signIn(u.email, u.password) // a POLICY_MAKER
		w = startWatch(ctx, f.svc, second.session)
		f.withGlobal(second) // POLICY_MAKER taken away
		if got := w.ended(t); got != reasonRoles {
			t.Errorf("reason %q, want %q", got, reasonRoles)
		}
		// The session itself stays open: a new connection gets the new roles.
		a, _, err := f.svc.Authenticate(anon(), second.token)
		if err != nil || a.Has(access.PolicyMaker) {
			t.Errorf("after losing the role: actor %+v, err %v", a, err)
		}
	})
}

// The watch of a connection compares the territory roles it started with
// (those of the actor in its context) with the person's at every recheck,
// so that a membership changed on another instance ends it too.
func TestWatchSessionEndsWhenTerritoryRolesChange(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		var counted *countedRoles
		f := setup(t, db, func(o *account.Options) {
			o.RecheckInterval = 20 * time.Millisecond
			counted = countRoles(o.Roles)
			o.Roles = counted
		})
		u := f.withRole(f.newUser("watched.territory@example.org", "Teresa"), access.Member)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		// Rechecks that find the same roles leave the connection open.
		w := startWatch(u.ctx(), f.svc, u.session)
		counted.goesOn(t, w, u.person.ID, 3)
		// The role source changes between two checks: the next one ends it.
		f.roles.set(u.person.ID, 1, access.Observer)
		if got := w.ended(t); got != reasonTerritoryRoles {
			t.Errorf("reason %q", got)
		}

		// What counts is what the connection started with: roles changed
		// after the actor was read and before the watch began end it at
		// the first recheck.
		second := f.signIn(u.email, u.password) // an OBSERVER in territory 1
		f.roles.clear(u.person.ID)
		w2 := startWatch(access.WithActor(ctx, second.actor), f.svc, second.session)
		if got := w2.ended(t); got != reasonTerritoryRoles {
			t.Errorf("reason %q", got)
		}
		// The session stays open: a new connection gets the new roles.
		a, _, err := f.svc.Authenticate(anon(), second.token)
		if err != nil || len(a.Territories) != 0 {
			t.Errorf("after the change: actor %+v, err %v", a, err)
		}

		// A role gained counts too: the connection starts again to get it.
		third := f.signIn(u.email, u.password)
		w3 := startWatch(third.ctx(), f.svc, third.session)
		f.roles.set(u.person.ID, 2, access.Coordinator)
		w3.ended(t)

		// Each ended once, though the roles changed twice after the first
		// ended and once after the second.
		for i, x := range []*watch{w, w2, w3} {
			if n := x.count(); n != 1 {
				t.Errorf("watch %d called end %d times (first %q), want once", i+1, n, x.reason())
			}
		}
	})
}

// A global role taken away on another instance is found by the watching
// instance's recheck, as a revocation is.
func TestWatchSessionRecheckFindsALostGlobalRole(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db)
		u := f.withGlobal(f.newUser("watched.global@example.org", "Gloria"), access.PolicyMaker)
		counted := countRoles(f.roles)
		watcher := newService(t, storagetest.Reopen(t, db), func() account.Options {
			o := baseOptions(f.clock, nil, f.logs)
			o.Roles, o.RecheckInterval = counted, 20*time.Millisecond
			return o
		}())
		w := startWatch(u.ctx(), watcher, u.session)
		counted.goesOn(t, w, u.person.ID, 3)
		f.withGlobal(u) // POLICY_MAKER taken away by f.svc, another instance
		if got := w.ended(t); got != reasonRoles {
			t.Errorf("reason %q", got)
		}
	})
}

// RolesChanged ends at once every watched connection of the person, and
// only theirs.
func TestRolesChangedEndsThePersonsConnections(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := setup(t, db, noRecheck) // only the announce can end them
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
			if got := w.ended(t); got != reasonTerritoryRoles {
				t.Errorf("reason %q", got)
			}
		}
		if n := silent.count(); n != 0 {
			t.Errorf("a cancelled watch called end %d times", n)
		}
		// The bystander's watch is still on: the first reason it gets is
		// that of the revocation that follows.
		if _, err := f.svc.RevokeSession(f.admin.ctx(), other.session.ID); err != nil {
			t.Fatal(err)
		}
		if got := bystander.ended(t); got != reasonEnded {
			t.Errorf("another person's connection ended for %q, before its revocation", got)
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
