package network_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// rcRoles is the account service's role source, bound to the network
// service once both exist (as cmd/piad does).
type rcRoles struct{ access.RoleSource }

// rcInstance is one server instance: an account service taking its
// territory roles from a network service that announces role changes to it.
type rcInstance struct {
	accounts *account.Service
	net      *network.Service
}

func rcNewInstance(t *testing.T, db *bun.DB, clock *testutil.Clock, recheck time.Duration) *rcInstance {
	t.Helper()
	roles := &rcRoles{}
	accounts, err := account.NewService(db, account.Options{Now: clock.Now, Roles: roles, HashSlots: 1, RecheckInterval: recheck})
	if err != nil {
		t.Fatal(err)
	}
	net := network.NewService(db, network.Options{Accounts: accounts, Now: clock.Now})
	roles.RoleSource = net
	return &rcInstance{accounts: accounts, net: net}
}

// rcClient is a context with a client address, which signing in needs.
func rcClient() context.Context {
	return access.WithClient(context.Background(), access.Client{Addr: "192.0.2.7", UserAgent: "test"})
}

const rcPassword = "a password long enough"

// rcSignIn opens a session for email and returns it with its actor, as a
// websocket's init finds them.
func rcSignIn(t *testing.T, accounts *account.Service, email string) *account.SignedIn {
	t.Helper()
	in, err := accounts.SignIn(rcClient(), email, rcPassword)
	if err != nil {
		t.Fatalf("SignIn(%s): %v", email, err)
	}
	return in
}

// rcWatch is a watched connection: the reasons its end was called with.
type rcWatch struct {
	accounts *account.Service
	session  int64
	mu       sync.Mutex
	reasons  []string
	called   chan struct{}
}

// rcWatchConn watches in's session on accounts as graph's wsInit does: the
// context holds the actor the connection started as.
func rcWatchConn(ctx context.Context, accounts *account.Service, in *account.SignedIn) *rcWatch {
	w := &rcWatch{accounts: accounts, session: in.Session.ID, called: make(chan struct{}, 4)}
	accounts.WatchSession(access.WithActor(ctx, in.Actor), in.Session, func(reason string) {
		w.mu.Lock()
		w.reasons = append(w.reasons, reason)
		w.mu.Unlock()
		w.called <- struct{}{}
	})
	return w
}

const rcReason = "your roles in the working groups changed; reconnect"

// rcEnded is the reason a connection gets when its session is revoked.
const rcEnded = "the session was ended; sign in again"

// rcHangGuard is how long a test waits for an end that must come: a guard
// against hanging, never a measure of speed.
const rcHangGuard = 30 * time.Second

// end waits for the end and returns the reason of its first call.
func (w *rcWatch) end(t *testing.T, what string) string {
	t.Helper()
	select {
	case <-w.called:
	case <-time.After(rcHangGuard):
		t.Fatalf("%s: the connection was not ended within %v", what, rcHangGuard)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reasons[0]
}

// ended waits for the end and checks its reason.
func (w *rcWatch) ended(t *testing.T, what string) {
	t.Helper()
	if got := w.end(t, what); got != rcReason {
		t.Errorf("%s: reason %q", what, got)
	}
}

// stillOpen checks that nothing has ended the connection so far, without
// waiting for a stray end that may or may not come: it revokes the
// connection's session, whose watch is told at once, and checks that the
// first reason the connection got is the revocation's. The announce of a
// role change, had it reached this connection, would have come first: an
// announce is made before the change's call returns, and a watch takes
// its reasons in order.
func (w *rcWatch) stillOpen(t *testing.T, admin context.Context, what string) {
	t.Helper()
	if _, err := w.accounts.RevokeSession(admin, w.session); err != nil {
		t.Fatalf("%s: revoke the session: %v", what, err)
	}
	if got := w.end(t, what); got != rcEnded {
		t.Errorf("%s: the connection ended for %q before its session was revoked", what, got)
	}
}

// A membership change ends the open connections of the person it concerns
// at once on the instance that made it, and at the next recheck on the
// others: a connection keeps the roles it started with, and a removed
// member must not keep reading or editing through it.
func TestMembershipChangesEndOpenConnections(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clock := testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
		here := rcNewInstance(t, db, clock, time.Hour) // only the announce can end a connection in time
		there := rcNewInstance(t, storagetest.Reopen(t, db), clock, 20*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		if _, _, err := here.accounts.EnsureAdmin(rcClient(), "admin@example.org", rcPassword, false); err != nil {
			t.Fatal(err)
		}
		admin := as(rcSignIn(t, here.accounts, "admin@example.org").Actor)
		people := map[string]int64{}
		for _, email := range []string{"mario@example.org", "bruna@example.org"} {
			p, err := here.accounts.CreateAccount(admin, account.CreateAccountInput{Email: email, DisplayName: email, Password: rcPassword})
			if err != nil {
				t.Fatal(err)
			}
			people[email] = p.ID
		}
		g, err := here.net.CreateWorkingGroup(admin, network.WorkingGroupInput{Territory: "EN"})
		if err != nil {
			t.Fatal(err)
		}
		member := map[string]*network.Membership{}
		for email, id := range people {
			if member[email], err = here.net.AddMember(admin, network.MemberInput{WorkingGroupID: g.ID, PersonID: id, Role: access.Member}); err != nil {
				t.Fatal(err)
			}
		}
		mario, bruna := people["mario@example.org"], people["bruna@example.org"]

		// RemoveMember: Mario's connections end, here at once and there at
		// the recheck; Bruna's stays.
		in := rcSignIn(t, here.accounts, "mario@example.org")
		if in.Actor.Territories[g.TerritoryID] != access.Member {
			t.Fatalf("Mario's roles: %v", in.Actor.Territories)
		}
		local, remote := rcWatchConn(ctx, here.accounts, in), rcWatchConn(ctx, there.accounts, in)
		bystander := rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "bruna@example.org"))
		if _, err := here.net.RemoveMember(admin, member["mario@example.org"].ID); err != nil {
			t.Fatal(err)
		}
		local.ended(t, "RemoveMember, same instance")
		remote.ended(t, "RemoveMember, another instance")
		bystander.stillOpen(t, admin, "removing Mario, Bruna's connection")
		// The session itself stays: a new connection has no role in EN.
		a, _, err := here.accounts.Authenticate(rcClient(), in.Token)
		if err != nil || len(a.Territories) != 0 {
			t.Errorf("after the removal: actor %+v, err %v", a, err)
		}

		// AddMember: the new role needs a new connection too.
		w := rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "mario@example.org"))
		m, err := here.net.AddMember(admin, network.MemberInput{WorkingGroupID: g.ID, PersonID: mario, Role: access.Observer})
		if err != nil {
			t.Fatal(err)
		}
		w.ended(t, "AddMember")

		// ChangeMemberRole ends it; the same role again changes nothing and
		// ends nothing.
		w = rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "mario@example.org"))
		if m, err = here.net.ChangeMemberRole(admin, m.ID, access.Coordinator); err != nil {
			t.Fatal(err)
		}
		w.ended(t, "ChangeMemberRole")
		w = rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "mario@example.org"))
		if _, err := here.net.ChangeMemberRole(admin, m.ID, access.Coordinator); err != nil {
			t.Fatal(err)
		}
		w.stillOpen(t, admin, "a role change that changed nothing")

		// A refused change ends nothing.
		w = rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "mario@example.org"))
		if _, err := here.net.RemoveMember(admin, member["mario@example.org"].ID); err == nil {
			t.Fatal("removing an ended membership again succeeded")
		}
		w.stillOpen(t, admin, "a refused removal")

		// ArchiveWorkingGroup: every current member's connections end, and
		// again when it is restored.
		for _, archived := range []bool{true, false} {
			mw := rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "mario@example.org"))
			bw := rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "bruna@example.org"))
			if _, err := here.net.ArchiveWorkingGroup(admin, g.ID, archived); err != nil {
				t.Fatal(err)
			}
			mw.ended(t, "ArchiveWorkingGroup, Mario")
			bw.ended(t, "ArchiveWorkingGroup, Bruna")
		}

		// ArchivePerson: Bruna's connections end, Mario's stays.
		mw := rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "mario@example.org"))
		bw := rcWatchConn(ctx, here.accounts, rcSignIn(t, here.accounts, "bruna@example.org"))
		if _, err := here.net.ArchivePerson(admin, bruna, true); err != nil {
			t.Fatal(err)
		}
		bw.ended(t, "ArchivePerson")
		mw.stillOpen(t, admin, "archiving Bruna, Mario's connection")
	})
}

// An import that changes someone's role in a working group ends their open
// connections at once, as ChangeMemberRole does; a dry run, which writes
// nothing, ends none.
func TestImportRoleChangeEndsOpenConnections(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clock := testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
		here := rcNewInstance(t, db, clock, time.Hour) // only the announce can end a connection in time
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		if _, _, err := here.accounts.EnsureAdmin(rcClient(), "admin@example.org", rcPassword, false); err != nil {
			t.Fatal(err)
		}
		admin := as(rcSignIn(t, here.accounts, "admin@example.org").Actor)
		p, err := here.accounts.CreateAccount(admin, account.CreateAccountInput{Email: "mario@example.org", DisplayName: "Mario Rossi", Password: rcPassword})
		if err != nil {
			t.Fatal(err)
		}
		g, err := here.net.CreateWorkingGroup(admin, network.WorkingGroupInput{Territory: "EN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := here.net.AddMember(admin, network.MemberInput{WorkingGroupID: g.ID, PersonID: p.ID, Role: access.Member}); err != nil {
			t.Fatal(err)
		}
		demote := func(dryRun bool) *network.ImportReport {
			t.Helper()
			rep, err := here.net.Import(admin, network.ImportRequest{Kind: network.ImportPeople, Filename: "people.csv", DryRun: dryRun,
				Data: strings.NewReader("nome,cognome,email,territorio,ruolo_gruppo\nMario,Rossi,mario@example.org,EN,osservatore\n")})
			if err != nil || len(rep.Errors) > 0 || rep.Updated != 1 {
				t.Fatalf("import (dry run %v): %+v, %v", dryRun, rep, err)
			}
			return rep
		}

		in := rcSignIn(t, here.accounts, "mario@example.org")
		if in.Actor.Territories[g.TerritoryID] != access.Member {
			t.Fatalf("Mario's roles: %v", in.Actor.Territories)
		}
		w := rcWatchConn(ctx, here.accounts, in)
		demote(true)
		w.stillOpen(t, admin, "a dry run")

		in = rcSignIn(t, here.accounts, "mario@example.org")
		if in.Actor.Territories[g.TerritoryID] != access.Member {
			t.Fatalf("after the dry run, Mario's roles: %v", in.Actor.Territories)
		}
		w = rcWatchConn(ctx, here.accounts, in)
		demote(false)
		w.ended(t, "an import that demotes")
		a, _, err := here.accounts.Authenticate(rcClient(), in.Token)
		if err != nil || a.Territories[g.TerritoryID] != access.Observer {
			t.Errorf("after the import: actor %+v, err %v", a, err)
		}
	})
}
