package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// TestServeWiresMeetings: piad serve answers the meetings' part of the API,
// with calendar links at its public address.
func TestServeWiresMeetings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		env := coeditEnv(databaseURL)
		env["PIA_PUBLIC_URL"] = "https://pia.example.org"
		base, _, _ := startServer(t, env)
		token, _ := coeditDocument(t, context.Background(), base, "Testo")
		var fgs struct {
			FocusGroups []struct{ ID string }
		}
		if _, errs := gqlAs(t, base, token, `{ focusGroups(territory: "EN", theme: WORK) { id } }`, nil, &fgs); len(errs) > 0 || len(fgs.FocusGroups) != 1 {
			t.Fatalf("focus groups %+v: %v", fgs, errs)
		}
		var created struct {
			CreateMeeting struct {
				Meeting struct{ ID, IcsURL, StartsAtLocal string }
			}
		}
		_, errs := gqlAs(t, base, token, `mutation ($in: CreateMeetingInput!) { createMeeting(input: $in) { meeting { id icsUrl startsAtLocal } } }`,
			map[string]any{"in": map[string]any{"focusGroup": fgs.FocusGroups[0].ID, "title": "Lavoro", "startsAt": "2027-05-03T10:00:00+02:00",
				"endsAt": "2027-05-03T12:00:00+02:00", "mode": "IN_PERSON", "venue": "Sala Cerere, Enna"}}, &created)
		m := created.CreateMeeting.Meeting
		if len(errs) > 0 || m.IcsURL != "https://pia.example.org/meetings/"+m.ID+".ics" || m.StartsAtLocal != "2027-05-03T10:00:00+02:00" {
			t.Errorf("created %+v: %v", m, errs)
		}
	})
}

// TestSendReminders: the loop piad serve runs queues the reminders of
// tomorrow's meetings at once, again at each tick (a meeting planned in
// between is reminded too), logs what it queued, and stops with its
// context.
func TestSendReminders(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		accounts, err := account.NewService(db, account.Options{PublicURL: "https://pia.example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := accounts.EnsureAdmin(ctx, "admin@pia.test", "a long enough password", false); err != nil {
			t.Fatal(err)
		}
		actor, err := accounts.AdminActor(ctx, "admin@pia.test")
		if err != nil {
			t.Fatal(err)
		}
		admin := access.WithActor(ctx, actor)
		net := network.NewService(db, network.Options{Accounts: accounts, GroupCreated: meeting.CreateFocusGroups})
		group, err := net.CreateWorkingGroup(admin, network.WorkingGroupInput{Territory: "EN"})
		if err != nil {
			t.Fatal(err)
		}
		clock := testutil.NewClock(time.Date(2027, 5, 2, 9, 0, 0, 0, time.UTC))
		svc := meeting.NewService(db, meeting.Options{Now: clock.Now, PublicURL: "https://pia.example.org"})
		fgs, err := svc.FocusGroups(admin, meeting.FocusGroupFilter{})
		if err != nil || len(fgs) != 4 || fgs[0].WorkingGroupID != group.ID {
			t.Fatalf("focus groups %v: %v", fgs, err)
		}
		email := "invitata@example.org"
		p, err := net.CreatePerson(admin, network.PersonInput{DisplayName: "Ilaria Invitata", Email: &email})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddInvitees(admin, fgs[0].ID, []int64{p.ID}, nil); err != nil {
			t.Fatal(err)
		}
		// plan plans a meeting of tomorrow in Rome, at hour.
		plan := func(hour int) {
			t.Helper()
			start := time.Date(2027, 5, 3, hour, 0, 0, 0, meeting.Rome)
			if _, err := svc.CreateMeeting(admin, meeting.MeetingInput{FocusGroupID: fgs[0].ID, Title: "Salute", StartsAt: start,
				EndsAt: start.Add(time.Hour), Mode: meeting.InPerson, Venue: "Sala Cerere, Enna"}); err != nil {
				t.Fatal(err)
			}
		}
		// waitReminders waits until n reminders are queued.
		waitReminders := func(n int) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for {
				got, err := db.NewSelect().Table("mail_outbox").Where("subject LIKE ?", "Promemoria%").Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got == n {
					return
				}
				if got > n || time.Now().After(deadline) {
					t.Fatalf("%d reminders queued; want %d", got, n)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		plan(10)
		logs := &testutil.LogBuffer{}
		loopCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			sendReminders(loopCtx, svc, slog.New(slog.NewJSONHandler(logs, nil)), 20*time.Millisecond)
		}()
		waitReminders(1)
		plan(15)
		waitReminders(2)
		stop()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("the loop did not stop with its context")
		}
		if e, ok := logs.Find("meeting reminders queued"); !ok || e["meetings"] != float64(1) {
			t.Errorf("the log says %v %v; want the reminders it queued:\n%s", e, ok, logs)
		}
		if strings.Contains(logs.String(), "failed") {
			t.Errorf("a failure was logged:\n%s", logs)
		}
	})
}
