package meeting_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// The meetings of these tests are inserted directly: planning them is
// another file's subject, and the feeds only read.

// insertMeeting inserts a planned public in-person meeting of the focus
// group of code and theme, starting at start (two hours long); change may
// alter it first.
func (f *fixture) insertMeeting(code string, theme reference.ThemeCode, start time.Time, change func(*meeting.Meeting)) *meeting.Meeting {
	f.t.Helper()
	now := f.clock.Now().UTC()
	m := &meeting.Meeting{
		FocusGroupID: f.focus[code][theme], WorkingGroupID: f.groups[code], TerritoryID: f.terr[code], ThemeID: f.themes[theme],
		Title: "Incontro " + string(theme) + " " + code + " " + start.Format("2006-01-02"), Description: "Discussione.",
		Agenda: []string{"Benvenuto"}, StartsAt: start.UTC(), EndsAt: start.Add(2 * time.Hour).UTC(),
		Mode: meeting.InPerson, Venue: "Municipio", Services: []meeting.Offer{}, Status: meeting.Planned,
		CreatedAt: now, UpdatedAt: now,
	}
	if change != nil {
		change(m)
	}
	if _, err := f.db.NewInsert().Model(m).Exec(context.Background()); err != nil {
		f.t.Fatalf("insert meeting: %v", err)
	}
	return m
}

// invite inserts a's invitation to m with status st.
func (f *fixture) invite(m *meeting.Meeting, a *access.Actor, st meeting.RSVP) {
	f.t.Helper()
	now := f.clock.Now().UTC()
	inv := &meeting.Invitation{MeetingID: m.ID, PersonID: a.PersonID, Status: st, CreatedAt: now, UpdatedAt: now}
	if _, err := f.db.NewInsert().Model(inv).Exec(context.Background()); err != nil {
		f.t.Fatalf("insert invitation: %v", err)
	}
}

// feedEvent is what a feed says of one meeting.
type feedEvent struct {
	UID        string
	Sequence   int
	Start, End time.Time
	Status     string
	Summary    string
}

// parseFeed reads a calendar as a client would, events in feed order.
func parseFeed(t *testing.T, b []byte) (*ical.Calendar, []feedEvent) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, b)
	}
	var out []feedEvent
	for _, ev := range cal.Events() {
		var e feedEvent
		e.UID, _ = ev.Props.Text(ical.PropUID)
		e.Sequence, _ = ev.Props.Get(ical.PropSequence).Int()
		if e.Start, err = ev.DateTimeStart(meeting.Rome); err != nil {
			t.Fatal(err)
		}
		if e.End, err = ev.DateTimeEnd(meeting.Rome); err != nil {
			t.Fatal(err)
		}
		e.Status, _ = ev.Props.Text(ical.PropStatus)
		e.Summary, _ = ev.Props.Text(ical.PropSummary)
		out = append(out, e)
	}
	return cal, out
}

// wantEvents is what a feed must say of the meetings ids, read from the
// database, in order.
func (f *fixture) wantEvents(ids ...int64) []feedEvent {
	f.t.Helper()
	status := map[meeting.Status]string{meeting.Planned: "TENTATIVE", meeting.Postponed: "TENTATIVE",
		meeting.Confirmed: "CONFIRMED", meeting.Held: "CONFIRMED", meeting.Cancelled: "CANCELLED"}
	var out []feedEvent
	for _, id := range ids {
		var m meeting.Meeting
		if err := f.db.NewSelect().Model(&m).Where("id = ?", id).Scan(context.Background()); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, feedEvent{UID: "meeting-" + strconv.FormatInt(id, 10) + "@pia.example", Sequence: m.Sequence,
			Start: m.StartsAt, End: m.EndsAt, Status: status[m.Status], Summary: m.Title})
	}
	return out
}

func sameEvents(t *testing.T, what string, got, want []feedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s has %d events, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.UID != w.UID || g.Sequence != w.Sequence || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) ||
			g.Status != w.Status || g.Summary != w.Summary {
			t.Errorf("%s event %d = %+v, want %+v", what, i, g, w)
		}
	}
}

// state is a digest of every table the feeds could touch.
func (f *fixture) state() string {
	f.t.Helper()
	var b strings.Builder
	for _, table := range []string{"meetings", "meeting_invitations", "calendar_tokens", "mail_outbox", "focus_groups"} {
		b.WriteString(table + ":" + strconv.Itoa(f.count(table)) + " ")
	}
	revoked, err := f.db.NewSelect().Table("calendar_tokens").Where("revoked_at IS NOT NULL").Count(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return b.String() + "revoked:" + strconv.Itoa(revoked)
}

func TestTerritoryFeed(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)                                                 // the clock says 2026-03-02 09:00Z
		old := f.insertMeeting("EN", "HEALTH", rome(2025, 11, 20, 10, 0), nil) // more than 90 days ago
		recent := f.insertMeeting("EN", "WORK", rome(2025, 12, 10, 10, 0), func(m *meeting.Meeting) {
			m.Status, m.Sequence = meeting.Held, 2
		})
		dst := f.insertMeeting("EN", "HEALTH", rome(2026, 3, 29, 10, 0), func(m *meeting.Meeting) {
			m.Status, m.Sequence = meeting.Confirmed, 1
		})
		cancelled := f.insertMeeting("EN", "HOUSING", rome(2026, 3, 20, 17, 30), func(m *meeting.Meeting) {
			m.Status, m.Sequence, m.CancelReason = meeting.Cancelled, 4, "Sala non disponibile"
		})
		private := f.insertMeeting("EN", "EDUCATION", rome(2026, 3, 25, 9, 0), func(m *meeting.Meeting) { m.Private = true })
		palermo := f.insertMeeting("PA", "HEALTH", rome(2026, 3, 26, 9, 0), nil)
		_, _ = old, private

		for _, ctx := range []context.Context{context.Background(), f.as(f.stranger), f.as(f.coord)} {
			b, err := f.svc.TerritoryFeed(ctx, "EN")
			if err != nil {
				t.Fatal(err)
			}
			cal, got := parseFeed(t, b)
			sameEvents(t, "the EN feed", got, f.wantEvents(recent.ID, cancelled.ID, dst.ID))
			if name, _ := cal.Props.Text("X-WR-CALNAME"); name != "PIA – Enna" {
				t.Errorf("X-WR-CALNAME = %q", name)
			}
		}
		// The window is 90 days before now, on start.
		// The window reaches back 90 days from now, on the start: on 10
		// March at 09:00Z the meeting of 10 December at 09:00Z is just in,
		// a minute later it is out.
		f.clock.Advance(8 * 24 * time.Hour)
		b, err := f.svc.TerritoryFeed(context.Background(), "EN")
		if err != nil {
			t.Fatal(err)
		}
		_, got := parseFeed(t, b)
		sameEvents(t, "the EN feed on 10 March", got, f.wantEvents(recent.ID, cancelled.ID, dst.ID))
		f.clock.Advance(time.Minute)
		if b, err = f.svc.TerritoryFeed(context.Background(), "en"); err != nil {
			t.Fatal(err)
		}
		_, got = parseFeed(t, b)
		sameEvents(t, "the EN feed a minute later, asked in lower case", got, f.wantEvents(cancelled.ID, dst.ID))

		b, err = f.svc.TerritoryFeed(context.Background(), "PA")
		if err != nil {
			t.Fatal(err)
		}
		_, got = parseFeed(t, b)
		sameEvents(t, "the PA feed", got, f.wantEvents(palermo.ID))

		// A territory without a working group has an empty feed.
		b, err = f.svc.TerritoryFeed(context.Background(), "CT")
		if err != nil {
			t.Fatal(err)
		}
		if _, got = parseFeed(t, b); len(got) != 0 {
			t.Errorf("the CT feed has %+v", got)
		}

		before := f.state()
		for code, kind := range map[string]apperr.Kind{
			"": apperr.BadInput, "E": apperr.BadInput, "ENN": apperr.BadInput, "E1": apperr.BadInput, "É": apperr.BadInput,
			"EN.ics": apperr.BadInput, "EN'--": apperr.BadInput, "ZZ": apperr.NotFound, "XX": apperr.NotFound,
		} {
			if _, err := f.svc.TerritoryFeed(context.Background(), code); !apperr.Is(err, kind) {
				t.Errorf("TerritoryFeed(%q) = %v, want %s", code, err, kind)
			}
		}
		if after := f.state(); after != before {
			t.Errorf("refused feeds changed the database: %s, then %s", before, after)
		}
	})
}

func TestFocusGroupFeed(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		a := f.insertMeeting("EN", "HEALTH", rome(2026, 3, 29, 1, 30), func(m *meeting.Meeting) {
			m.EndsAt = rome(2026, 3, 29, 3, 30).UTC() // an hour across the change to summer time
		})
		b := f.insertMeeting("EN", "HEALTH", rome(2026, 3, 12, 18, 0), func(m *meeting.Meeting) { m.Sequence = 3 })
		f.insertMeeting("EN", "HEALTH", rome(2026, 3, 14, 18, 0), func(m *meeting.Meeting) { m.Private = true })
		f.insertMeeting("EN", "WORK", rome(2026, 3, 15, 18, 0), nil)
		f.insertMeeting("PA", "HEALTH", rome(2026, 3, 16, 18, 0), nil)

		feed, err := f.svc.FocusGroupFeed(context.Background(), f.focus["EN"]["HEALTH"])
		if err != nil {
			t.Fatal(err)
		}
		cal, got := parseFeed(t, feed)
		sameEvents(t, "the EN health feed", got, f.wantEvents(b.ID, a.ID))
		if got[1].End.Sub(got[1].Start) != time.Hour || !got[1].Start.Equal(time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)) {
			t.Errorf("the meeting across the change runs %v to %v", got[1].Start, got[1].End)
		}
		if name, _ := cal.Props.Text("X-WR-CALNAME"); name != "PIA – Enna – Salute" {
			t.Errorf("X-WR-CALNAME = %q", name)
		}
		if cat, _ := cal.Events()[0].Props.Text(ical.PropCategories); cat != "Salute" {
			t.Errorf("CATEGORIES = %q", cat)
		}

		before := f.state()
		if _, err := f.svc.FocusGroupFeed(context.Background(), 999999); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an unknown focus group: %v", err)
		}
		if after := f.state(); after != before {
			t.Errorf("a refused feed changed the database: %s, then %s", before, after)
		}
	})
}

func TestCalendarTokens(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ctx := context.Background()

		// Anonymous callers have no feed of their own.
		if _, err := f.svc.CreateCalendarToken(ctx); !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("anonymous CreateCalendarToken: %v", err)
		}
		if _, err := f.svc.RevokeCalendarTokens(ctx); !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("anonymous RevokeCalendarTokens: %v", err)
		}

		t1, err := f.svc.CreateCalendarToken(f.as(f.repA))
		if err != nil {
			t.Fatal(err)
		}
		t2, err := f.svc.CreateCalendarToken(f.as(f.repA))
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.CreateCalendarToken(f.as(f.repB))
		if err != nil {
			t.Fatal(err)
		}
		if t1 == t2 || len(t1) != 43 {
			t.Fatalf("tokens %q and %q", t1, t2)
		}
		// Only the hashes are stored.
		var hashes []string
		if err := db.NewSelect().Table("calendar_tokens").Column("token_hash").Order("id").Scan(ctx, &hashes); err != nil {
			t.Fatal(err)
		}
		for i, tok := range []string{t1, t2, other} {
			sum := sha256.Sum256([]byte(tok))
			if hashes[i] != hex.EncodeToString(sum[:]) {
				t.Errorf("token %d stored as %q", i, hashes[i])
			}
		}

		// What repA's feed holds: invitations in every state but
		// delegated, private meetings included; the meetings of the
		// focus group and the meeting they facilitate.
		pending := f.insertMeeting("EN", "HEALTH", rome(2026, 3, 10, 10, 0), func(m *meeting.Meeting) { m.Private = true })
		declined := f.insertMeeting("EN", "WORK", rome(2026, 3, 11, 10, 0), nil)
		accepted := f.insertMeeting("PA", "WORK", rome(2026, 3, 12, 10, 0), func(m *meeting.Meeting) {
			m.Status, m.Sequence = meeting.Confirmed, 2
		})
		delegated := f.insertMeeting("EN", "HEALTH", rome(2026, 3, 13, 10, 0), nil)
		notInvited := f.insertMeeting("EN", "HEALTH", rome(2026, 3, 14, 10, 0), nil)
		facilitatedFG := f.insertMeeting("EN", "HOUSING", rome(2026, 3, 15, 10, 0), func(m *meeting.Meeting) { m.Private = true })
		facilitated := f.insertMeeting("PA", "HEALTH", rome(2026, 3, 16, 10, 0), func(m *meeting.Meeting) {
			m.FacilitatorID = &f.repA.PersonID
		})
		tooOld := f.insertMeeting("EN", "WORK", rome(2025, 11, 1, 10, 0), nil)
		f.invite(pending, f.repA, meeting.Pending)
		f.invite(declined, f.repA, meeting.Declined)
		f.invite(accepted, f.repA, meeting.Accepted)
		f.invite(delegated, f.repA, meeting.Delegated)
		f.invite(tooOld, f.repA, meeting.Accepted)
		f.invite(notInvited, f.repB, meeting.Accepted)
		f.invite(delegated, f.staffA, meeting.Accepted)
		if _, err := db.NewUpdate().Table("focus_groups").Set("facilitator_id = ?", f.repA.PersonID).
			Where("id = ?", f.focus["EN"]["HOUSING"]).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		want := f.wantEvents(pending.ID, declined.ID, accepted.ID, facilitatedFG.ID, facilitated.ID)
		for _, tok := range []string{t1, t2} {
			b, err := f.svc.PersonalFeed(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			cal, got := parseFeed(t, b)
			sameEvents(t, "repA's feed", got, want)
			if name, _ := cal.Props.Text("X-WR-CALNAME"); name != "PIA – i miei incontri" {
				t.Errorf("X-WR-CALNAME = %q", name)
			}
			if class, _ := cal.Events()[0].Props.Text(ical.PropClass); class != "PRIVATE" {
				t.Errorf("a private meeting's CLASS = %q", class)
			}
		}
		b, err := f.svc.PersonalFeed(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		_, got := parseFeed(t, b)
		sameEvents(t, "repB's feed", got, f.wantEvents(notInvited.ID))

		// The public feeds leave the private meetings out.
		b, err = f.svc.TerritoryFeed(ctx, "EN")
		if err != nil {
			t.Fatal(err)
		}
		_, got = parseFeed(t, b)
		sameEvents(t, "the EN feed", got, f.wantEvents(declined.ID, delegated.ID, notInvited.ID))

		// A person's language names the feed and its labels.
		if _, err := db.NewUpdate().Table("people").Set("language = ?", "en").Where("id = ?", f.repB.PersonID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if b, err = f.svc.PersonalFeed(ctx, other); err != nil {
			t.Fatal(err)
		}
		cal, _ := parseFeed(t, b)
		name, _ := cal.Props.Text("X-WR-CALNAME")
		desc, _ := cal.Events()[0].Props.Text(ical.PropDescription)
		cat, _ := cal.Events()[0].Props.Text(ical.PropCategories)
		if name != "PIA – my meetings" || !strings.Contains(desc, "Details: ") || cat != "Health" {
			t.Errorf("an English feed: %q, categories %q, description %q", name, cat, desc)
		}

		// Revoking ends every token of the actor, and only theirs.
		before := f.state()
		n, err := f.svc.RevokeCalendarTokens(f.as(f.repA))
		if err != nil || n != 2 {
			t.Fatalf("RevokeCalendarTokens = %d, %v; want 2", n, err)
		}
		if after := f.state(); after == before || !strings.HasSuffix(after, "revoked:2") {
			t.Errorf("after revoking: %s", after)
		}
		if n, err := f.svc.RevokeCalendarTokens(f.as(f.repA)); err != nil || n != 0 {
			t.Fatalf("revoking again = %d, %v; want 0", n, err)
		}
		for _, tok := range []string{t1, t2} {
			if _, err := f.svc.PersonalFeed(ctx, tok); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("a revoked token: %v", err)
			}
		}
		if _, err := f.svc.PersonalFeed(ctx, other); err != nil {
			t.Errorf("another person's token after the revocation: %v", err)
		}
		// A new token works again.
		t3, err := f.svc.CreateCalendarToken(f.as(f.repA))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PersonalFeed(ctx, t3); err != nil {
			t.Errorf("a new token: %v", err)
		}

		// Malformed, unknown and revoked tokens get the same answer.
		var msgs []string
		for _, tok := range []string{"", "abc", t1, strings.Repeat("A", 43), t3[:42] + "!", t3 + "A", strings.ToUpper(t3)} {
			before := f.state()
			_, err := f.svc.PersonalFeed(ctx, tok)
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("PersonalFeed(%q) = %v, want NOT_FOUND", tok, err)
				continue
			}
			msgs = append(msgs, err.Error())
			if after := f.state(); after != before {
				t.Errorf("PersonalFeed(%q) changed the database", tok)
			}
		}
		if len(slices.Compact(msgs)) != 1 {
			t.Errorf("the refusals differ: %q", msgs)
		}
	})
}

// TestPersonalFeedEndsWithThePerson: an archived or erased person's feed
// is gone, whatever tokens they made.
func TestPersonalFeedEndsWithThePerson(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for _, col := range []string{"archived_at", "erased_at"} {
			a := f.actor("Persona "+col, nil)
			tok, err := f.svc.CreateCalendarToken(f.as(a))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.PersonalFeed(ctx, tok); err != nil {
				t.Fatalf("before %s: %v", col, err)
			}
			if _, err := db.NewUpdate().Table("people").Set(col+" = ?", f.clock.Now()).Where("id = ?", a.PersonID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.PersonalFeed(ctx, tok); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("after %s: %v, want NOT_FOUND", col, err)
			}
		}
	})
}

func TestCalendarTokensAreBounded(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		for range 20 {
			if _, err := f.svc.CreateCalendarToken(f.as(f.member)); err != nil {
				t.Fatal(err)
			}
		}
		before := f.state()
		if _, err := f.svc.CreateCalendarToken(f.as(f.member)); !apperr.Is(err, apperr.Conflict) || apperr.ReasonOf(err) != "TOO_MANY_FEEDS" {
			t.Fatalf("a 21st token: %v, want CONFLICT TOO_MANY_FEEDS", err)
		}
		if after := f.state(); after != before {
			t.Errorf("a refused token changed the database: %s, then %s", before, after)
		}
		if _, err := f.svc.RevokeCalendarTokens(f.as(f.member)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateCalendarToken(f.as(f.member)); err != nil {
			t.Errorf("a token after revoking: %v", err)
		}
	})
}

func TestMeetingICS(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		public := f.insertMeeting("EN", "WORK", rome(2026, 3, 29, 10, 0), func(m *meeting.Meeting) {
			m.Mode, m.OnlineURL, m.Sequence = meeting.Hybrid, "https://meet.example.org/pia", 5
		})
		private := f.insertMeeting("EN", "HEALTH", rome(2026, 4, 2, 10, 0), func(m *meeting.Meeting) { m.Private = true })
		f.invite(private, f.repB, meeting.Pending)

		for _, a := range []*access.Actor{f.stranger, f.member, f.outside, f.admin} {
			b, err := f.svc.MeetingICS(f.as(a), public.ID)
			if err != nil {
				t.Fatalf("actor %d: %v", a.PersonID, err)
			}
			cal, got := parseFeed(t, b)
			sameEvents(t, "the meeting's calendar", got, f.wantEvents(public.ID))
			if conf := cal.Events()[0].Props.Get(ical.PropConference); conf == nil || conf.Value != "https://meet.example.org/pia" {
				t.Errorf("CONFERENCE = %+v", conf)
			}
			if cal.Props.Get(ical.PropRefreshInterval) != nil {
				t.Error("a single meeting asks to be refreshed")
			}
		}
		for _, a := range []*access.Actor{f.member, f.observer, f.repB, f.policy} {
			b, err := f.svc.MeetingICS(f.as(a), private.ID)
			if err != nil {
				t.Fatalf("actor %d reads the private meeting: %v", a.PersonID, err)
			}
			_, got := parseFeed(t, b)
			sameEvents(t, "the private meeting's calendar", got, f.wantEvents(private.ID))
		}
		before := f.state()
		for _, a := range []*access.Actor{f.stranger, f.outside, f.repA} {
			if _, err := f.svc.MeetingICS(f.as(a), private.ID); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("actor %d reads a private meeting: %v", a.PersonID, err)
			}
		}
		if _, err := f.svc.MeetingICS(f.as(f.admin), 999999); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an unknown meeting: %v", err)
		}
		if _, err := f.svc.MeetingICS(ctx, public.ID); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("anonymous: %v", err)
		}
		if after := f.state(); after != before {
			t.Errorf("refusals changed the database: %s, then %s", before, after)
		}
	})
}
