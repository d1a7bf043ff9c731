package meeting_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// benchEngines runs fn once per engine as a sub-benchmark.
func benchEngines(b *testing.B, fn func(b *testing.B, f *fixture)) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			fn(b, newFixture(b, storagetest.Open(b, engine)))
		})
	}
}

// BenchmarkTerritoryFeed: the public feed of a territory with a year of
// meetings (4 a week: 208 events), encoded whole for each request.
func BenchmarkTerritoryFeed(b *testing.B) {
	benchEngines(b, func(b *testing.B, f *fixture) {
		start := rome(2026, 1, 5, 10, 0)
		for w := range 52 {
			for i, th := range []string{"HEALTH", "EDUCATION", "WORK", "HOUSING"} {
				f.insertMeeting("EN", reference.ThemeCode(th), start.AddDate(0, 0, 7*w+i), nil)
			}
		}
		ctx := f.as(f.stranger)
		b.ResetTimer()
		for b.Loop() {
			feed, err := f.svc.TerritoryFeed(ctx, "EN")
			if err != nil || len(feed) == 0 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPlanRound: planning the four meetings of a round, with the
// conflict checks against a year already planned and the invitations of
// ten invitees each.
func BenchmarkPlanRound(b *testing.B) {
	benchEngines(b, func(b *testing.B, f *fixture) {
		ctx := f.as(f.coord)
		var people []int64
		for range 10 {
			people = append(people, f.actor(fmt.Sprintf("Invitato %d", len(people)), nil).PersonID)
		}
		for _, fg := range f.focus["EN"] {
			if _, err := f.svc.AddInvitees(ctx, fg, people, nil); err != nil {
				b.Fatal(err)
			}
		}
		day := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
		b.ResetTimer()
		for b.Loop() {
			in := meeting.RoundInput{WorkingGroupID: f.groups["EN"],
				Template: meeting.RoundTemplate{StartTime: "10:00", Duration: 2 * time.Hour, Mode: meeting.InPerson, Venue: "Sala"}}
			for i, th := range []string{"HEALTH", "EDUCATION", "WORK", "HOUSING"} {
				in.Meetings = append(in.Meetings, meeting.RoundMeeting{Theme: reference.ThemeCode(th), Date: day.AddDate(0, 0, i)})
			}
			if _, err := f.svc.PlanRound(ctx, in); err != nil {
				b.Fatal(err)
			}
			day = day.AddDate(0, 0, 7)
		}
	})
}

// BenchmarkAnswerInvitation: accepting and declining in turn, on a
// meeting with a capacity and a waiting list of 20.
func BenchmarkAnswerInvitation(b *testing.B) {
	benchEngines(b, func(b *testing.B, f *fixture) {
		coord := f.as(f.coord)
		var people []int64
		for range 30 {
			people = append(people, f.actor(fmt.Sprintf("Invitato %d", len(people)), nil).PersonID)
		}
		fg := f.focus["EN"]["HEALTH"]
		if _, err := f.svc.AddInvitees(coord, fg, people, nil); err != nil {
			b.Fatal(err)
		}
		in := f.input(rome(2027, 1, 4, 10, 0))
		ten := 10
		in.Capacity = &ten
		m := f.create(in)
		invs, err := f.svc.InvitationsOf(coord, []int64{m.ID})
		if err != nil {
			b.Fatal(err)
		}
		for _, inv := range invs[m.ID] {
			if _, err := f.svc.AnswerInvitation(coord, inv.ID, meeting.Accepted, ""); err != nil {
				b.Fatal(err)
			}
		}
		first := invs[m.ID][0].ID
		answers := []meeting.RSVP{meeting.Declined, meeting.Accepted}
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if _, err := f.svc.AnswerInvitation(coord, first, answers[i%2], ""); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
