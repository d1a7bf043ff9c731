package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/config"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Two instances on one PostgreSQL database, wired as piad serve wires them:
// when instance A removes Carla from her working group, her watched
// connection on instance B ends at once too (A announces it on the
// co-editing channel), not at B's session recheck, which is an hour here.
func TestRolesChangeEndsConnectionsOnEveryInstance(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		if databaseURL == "" {
			t.Skip("SQLite is one process: several instances need PostgreSQL")
		}
		// A hang guard only: without the announcement, B would wait for its
		// hourly recheck.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		logger := slog.New(slog.DiscardHandler)
		cfg := config.Config{DatabaseURL: databaseURL, PublicURL: "http://pia.test"}
		instance := func(migrate bool) *services {
			t.Helper()
			db, err := storage.Open(ctx, storage.Options{URL: databaseURL})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			if migrate {
				if _, err := storage.MigrateUp(ctx, db); err != nil {
					t.Fatal(err)
				}
			}
			svcs, err := buildServices(db, account.Options{PublicURL: cfg.PublicURL, Logger: logger, RecheckInterval: time.Hour}, logger)
			if err != nil {
				t.Fatal(err)
			}
			docs := newCoedit(db, cfg, logger, svcs, nil, nil)
			if err := docs.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(docs.Close)
			return svcs
		}
		a := instance(true)
		b := instance(false)

		// On A: Carla has an account and coordinates Enna's group.
		if _, _, err := a.accounts.EnsureAdmin(ctx, "admin@pia.test", "a long enough password", false); err != nil {
			t.Fatal(err)
		}
		actor, err := a.accounts.AdminActor(ctx, "admin@pia.test")
		if err != nil {
			t.Fatal(err)
		}
		admin := access.WithActor(ctx, actor)
		const email, password = "carla@pia.test", "Carla's long enough password"
		carla, err := a.accounts.CreateAccount(admin, account.CreateAccountInput{Email: email, DisplayName: "Carla Rossi", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		group, err := a.network.CreateWorkingGroup(admin, network.WorkingGroupInput{Territory: "EN"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := a.network.AddMember(admin, network.MemberInput{WorkingGroupID: group.ID, PersonID: carla.ID, Role: access.Coordinator})
		if err != nil {
			t.Fatal(err)
		}

		// Carla signs in on each instance and keeps a connection open there.
		watch := func(svcs *services) <-chan string {
			t.Helper()
			in, err := svcs.accounts.SignIn(ctx, email, password)
			if err != nil {
				t.Fatal(err)
			}
			if in.Actor.Territories[group.TerritoryID] != access.Coordinator {
				t.Fatalf("Carla's roles at sign-in: %+v", in.Actor.Territories)
			}
			ended := make(chan string, 1)
			svcs.accounts.WatchSession(access.WithActor(ctx, in.Actor), in.Session, func(reason string) { ended <- reason })
			return ended
		}
		onA, onB := watch(a), watch(b)

		if _, err := a.network.RemoveMember(admin, m.ID); err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			name  string
			ended <-chan string
		}{{"A", onA}, {"B", onB}} {
			select {
			case reason := <-w.ended:
				if !strings.Contains(reason, "roles") {
					t.Errorf("Carla's connection on %s ended with %q; want her roles changed", w.name, reason)
				}
			case <-ctx.Done():
				t.Fatalf("Carla's connection on %s is still open after her removal from the group", w.name)
			}
		}
	})
}
