package meeting_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// icalJSDir holds the ical.js check: ical.js is the iCalendar parser of
// Mozilla Thunderbird, so what it reads is what a calendar client shows.
// .ci/run installs it (npm ci); without node or the package the test is
// skipped, except under CI, where it fails.
const icalJSDir = "testdata/icaljs"

// icalJSEvent is what read.mjs prints of an event.
type icalJSEvent struct {
	UID      string `json:"uid"`
	Sequence int    `json:"sequence"`
	Status   string `json:"status"`
	Start    string `json:"start"`
	End      string `json:"end"`
	TZID     string `json:"tzid"`
	Summary  string `json:"summary"`
	Location string `json:"location"`
	URL      string `json:"url"`
}

func readWithICALJS(t *testing.T, feed []byte) []icalJSEvent {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(icalJSDir, "node_modules", "ical.js"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must read the feeds with ical.js: %v (run npm ci in internal/meeting/%s)", err, icalJSDir)
		}
		t.Skipf("ical.js is not installed (npm ci in internal/meeting/%s): %v", icalJSDir, err)
	}
	file := filepath.Join(t.TempDir(), "feed.ics")
	if err := os.WriteFile(file, feed, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "read.mjs", file)
	cmd.Dir = icalJSDir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ical.js could not read the feed: %v\n%s\n%s", err, stderr, feed)
	}
	var events []icalJSEvent
	if err := json.Unmarshal(out, &events); err != nil {
		t.Fatalf("read.mjs printed %s: %v", out, err)
	}
	return events
}

// TestFeedOpensInACalendarClient: Thunderbird's parser reads the territory
// feed as the same events as the database holds, at the same instants,
// before, across and after the change to daylight saving time of
// 2026-03-29 in Europe/Rome, a cancellation included.
func TestFeedOpensInACalendarClient(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ms := []*meeting.Meeting{
			f.insertMeeting("EN", "HEALTH", rome(2026, 3, 27, 10, 0), nil),
			// 01:30 to 03:30 on the wall clock is one hour: 02:00 becomes 03:00.
			f.insertMeeting("EN", "EDUCATION", rome(2026, 3, 29, 1, 30), func(m *meeting.Meeting) {
				m.EndsAt = rome(2026, 3, 29, 3, 30).UTC()
			}),
			f.insertMeeting("EN", "WORK", rome(2026, 3, 29, 10, 0), func(m *meeting.Meeting) {
				m.Status, m.CancelReason, m.Sequence = meeting.Cancelled, "Sala inagibile", 2
			}),
			f.insertMeeting("EN", "HOUSING", rome(2026, 10, 26, 10, 0), func(m *meeting.Meeting) {
				m.Mode, m.Venue, m.OnlineURL = meeting.Online, "", "https://meet.example.org/enna"
			}),
		}
		feed, err := f.svc.TerritoryFeed(f.as(f.stranger), "EN")
		if err != nil {
			t.Fatal(err)
		}
		got := readWithICALJS(t, feed)
		if len(got) != len(ms) {
			t.Fatalf("ical.js read %d events, want %d", len(got), len(ms))
		}
		status := map[meeting.Status]string{meeting.Planned: "TENTATIVE", meeting.Cancelled: "CANCELLED"}
		for i, m := range ms {
			e := got[i]
			want := icalJSEvent{UID: fmt.Sprintf("meeting-%d@pia.example", m.ID), Sequence: m.Sequence, Status: status[m.Status],
				Start: m.StartsAt.UTC().Format("2006-01-02T15:04:05.000Z"), End: m.EndsAt.UTC().Format("2006-01-02T15:04:05.000Z"),
				TZID: "Europe/Rome", Summary: m.Title, Location: m.Venue, URL: e.URL}
			if m.Mode == meeting.Online {
				want.Location = m.OnlineURL
			}
			if e != want {
				t.Errorf("event %d:\n got %+v\nwant %+v", i+1, e, want)
			}
		}
		if got[1].Start != "2026-03-29T00:30:00.000Z" || got[1].End != "2026-03-29T01:30:00.000Z" {
			t.Errorf("across the change: %s to %s, want 00:30Z to 01:30Z", got[1].Start, got[1].End)
		}
	})
}
