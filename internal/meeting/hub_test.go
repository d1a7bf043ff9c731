package meeting_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func next(t *testing.T, ch <-chan meeting.Event) meeting.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return meeting.Event{}
}

// TestSubscribe: a territory's subscribers hear of its meetings created,
// changed and cancelled, in order; another territory's hear nothing; the
// stream ends with its context.
func TestSubscribe(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		// Another instance on the same database, reached through
		// Broadcast as the co-editing channel does in cmd/piad.
		var peer *meeting.Service
		f := newFixture(t, db, func(o *meeting.Options) {
			o.Broadcast = func(_ context.Context, payload []byte) { peer.FromPeer(payload) }
		})
		peer = meeting.NewService(db, meeting.Options{Now: f.clock.Now})
		ctx, cancel := context.WithCancel(f.as(f.member))
		defer cancel()
		en, err := f.svc.Subscribe(ctx, f.terr["EN"])
		if err != nil {
			t.Fatal(err)
		}
		there, err := peer.Subscribe(ctx, f.terr["EN"])
		if err != nil {
			t.Fatal(err)
		}
		pa, err := f.svc.Subscribe(f.as(f.outside), f.terr["PA"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Subscribe(f.as(f.stranger), f.terr["EN"]); apperr.KindOf(err) != apperr.Forbidden {
			t.Errorf("a stranger subscribing to Enna: %v", err)
		}
		m := f.create(f.input(rome(2026, 3, 10, 10, 0)))
		title := "Salute e casa"
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Cancelled, "maltempo"); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []<-chan meeting.Event{en, there} {
			for _, want := range []meeting.EventKind{meeting.MeetingCreated, meeting.MeetingChanged, meeting.MeetingCancelled} {
				if ev := next(t, ch); ev.Kind != want || ev.MeetingID != m.ID || ev.TerritoryID != f.terr["EN"] {
					t.Errorf("event %+v, want %s of meeting %d", ev, want, m.ID)
				}
			}
		}
		select {
		case ev := <-pa:
			t.Errorf("Palermo heard %+v", ev)
		default:
		}
		cancel()
		for range en {
		}
	})
}

// TestSubscribeRegisterAndMinutes: the events of the register and the
// minutes, which queue no mail, reach the other instances too.
func TestSubscribeRegisterAndMinutes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		var peer *meeting.Service
		f := newFixture(t, db, func(o *meeting.Options) {
			o.Broadcast = func(_ context.Context, payload []byte) { peer.FromPeer(payload) }
		})
		peer = meeting.NewService(db, meeting.Options{Now: f.clock.Now})
		m := f.create(f.input(rome(2026, 3, 10, 10, 0)))
		ctx, cancel := context.WithCancel(f.as(f.member))
		defer cancel()
		there, err := peer.Subscribe(ctx, f.terr["EN"])
		if err != nil {
			t.Fatal(err)
		}
		f.at(rome(2026, 3, 10, 10, 30))
		guest := "Ospite"
		a := f.register(meeting.AttendanceInput{MeetingID: m.ID, GuestName: &guest, Mode: meeting.AttendedInPerson})
		if _, err := f.svc.RemoveAttendance(f.as(f.coord), a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Held, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetMinutes(f.as(f.coord), m.ID, meeting.MinutesInput{Body: "Verbale"}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []meeting.EventKind{meeting.AttendanceChanged, meeting.AttendanceChanged, meeting.MeetingChanged, meeting.MinutesChanged} {
			if ev := next(t, there); ev.Kind != want || ev.MeetingID != m.ID {
				t.Errorf("the other instance heard %+v; want %s of meeting %d", ev, want, m.ID)
			}
		}
	})
}

// TestWatch: a watcher hears every territory's events, this instance's and
// those another instance broadcast, with no access of its own, until its
// context ends.
func TestWatch(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		var peer *meeting.Service
		f := newFixture(t, db, func(o *meeting.Options) {
			o.Broadcast = func(_ context.Context, payload []byte) { peer.FromPeer(payload) }
		})
		peer = meeting.NewService(db, meeting.Options{Now: f.clock.Now})
		ctx, cancel := context.WithCancel(context.Background())
		var here, there []meeting.Event
		f.svc.Watch(ctx, func(ev meeting.Event) { here = append(here, ev) })
		peer.Watch(ctx, func(ev meeting.Event) { there = append(there, ev) })
		m := f.create(f.input(rome(2026, 3, 10, 10, 0)))
		title := "Salute e casa"
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		// The watchers ran before the calls returned (FromPeer is called
		// in line here).
		want := []meeting.Event{{Kind: meeting.MeetingCreated, MeetingID: m.ID, TerritoryID: f.terr["EN"]},
			{Kind: meeting.MeetingChanged, MeetingID: m.ID, TerritoryID: f.terr["EN"]}}
		if !reflect.DeepEqual(here, want) || !reflect.DeepEqual(there, want) {
			t.Errorf("watched here %+v, there %+v; want %+v", here, there, want)
		}
		cancel()
		// context.AfterFunc removes the watchers on its own goroutine:
		// wait until an event reaches nobody.
		deadline := time.Now().Add(5 * time.Second)
		for i, n := 0, len(here); ; i, n = i+1, len(here) {
			title := fmt.Sprintf("Titolo %d", i)
			if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{Title: &title}); err != nil {
				t.Fatal(err)
			}
			if len(here) == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the watcher still hears events after its context ended")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
