package meeting

import (
	"bytes"
	"mime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/pia-sicilia/pia/internal/mail"
	"github.com/pia-sicilia/pia/internal/relay"
)

// The calendars are read back with go-ical's decoder, as a client would
// read them; no test compares the encoder's text.

func icalService() *Service { return NewService(nil, Options{PublicURL: "https://pia.example.org/"}) }

// sample is a hybrid meeting with every field set.
func sample() *Meeting {
	capacity := 30
	return &Meeting{
		ID: 42, FocusGroupID: 3, WorkingGroupID: 1, TerritoryID: 5, ThemeID: 1,
		Title:       "Salute: il primo incontro, a Enna",
		Description: "Come si accede ai servizi sanitari?\r\nNe parliamo insieme.",
		Agenda:      []string{"Accoglienza", "Bisogni; priorità, proposte"},
		StartsAt:    time.Date(2026, 4, 15, 15, 0, 0, 0, time.UTC),
		EndsAt:      time.Date(2026, 4, 15, 17, 30, 0, 0, time.UTC),
		Mode:        Hybrid, Venue: "Sala consiliare, Piazza Municipio 1, Enna",
		OnlineURL: "https://meet.example.org/pia-enna?pwd=a1;b2", Capacity: &capacity,
		Services: []Offer{{Kind: CulturalMediation, Languages: []string{"ar", "fr"}}, {Kind: Interpreting, Languages: []string{"ti"}},
			{Kind: Childcare}, {Kind: Accessibility}},
		Status: Confirmed, Sequence: 3,
		CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 123000, time.UTC),
		UpdatedAt: time.Date(2026, 3, 10, 18, 45, 12, 0, time.UTC),
	}
}

// decode encodes ms as c and reads the result back.
func decode(t *testing.T, s *Service, c calendar, ms ...*Meeting) (*ical.Calendar, []byte) {
	t.Helper()
	b, err := s.encodeCalendar(c, ms)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("the calendar does not parse: %v\n%s", err, b)
	}
	return cal, b
}

func text(t *testing.T, props ical.Props, name string) string {
	t.Helper()
	p := props.Get(name)
	if p == nil {
		t.Errorf("no %s", name)
		return ""
	}
	s, err := p.Text()
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return s
}

func dateTime(t *testing.T, props ical.Props, name string) time.Time {
	t.Helper()
	p := props.Get(name)
	if p == nil {
		t.Fatalf("no %s", name)
	}
	v, err := p.DateTime(nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func TestCalendarHasEveryProperty(t *testing.T) {
	s := icalService()
	m := sample()
	cal, raw := decode(t, s, calendar{name: "PIA – Enna", themes: map[int64]string{1: "Salute"}, feed: true}, m)

	for name, want := range map[string]string{
		ical.PropProductID: productID, ical.PropVersion: "2.0", ical.PropCalendarScale: "GREGORIAN",
		ical.PropMethod: "PUBLISH", "X-WR-CALNAME": "PIA – Enna", "X-WR-TIMEZONE": "Europe/Rome", ical.PropName: "PIA – Enna",
	} {
		if got := text(t, cal.Props, name); got != want {
			t.Errorf("calendar %s = %q, want %q", name, got, want)
		}
	}
	if p := cal.Props.Get(ical.PropRefreshInterval); p == nil || p.Params.Get(ical.ParamValue) != "DURATION" {
		t.Errorf("REFRESH-INTERVAL = %+v, want VALUE=DURATION", p)
	} else if d, err := p.Duration(); err != nil || d != time.Hour {
		t.Errorf("REFRESH-INTERVAL = %v (%v), want an hour", d, err)
	}

	var tzs []*ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			tzs = append(tzs, c)
		}
	}
	if len(tzs) != 1 || text(t, tzs[0].Props, ical.PropTimezoneID) != "Europe/Rome" {
		t.Fatalf("VTIMEZONE components: %+v", tzs)
	}
	checkRomeTimezone(t, tzs[0])

	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	for name, want := range map[string]string{
		ical.PropUID:        "meeting-42@pia.example.org",
		ical.PropSummary:    m.Title,
		ical.PropLocation:   m.Venue,
		ical.PropStatus:     "CONFIRMED",
		ical.PropCategories: "Salute",
	} {
		if got := text(t, ev.Props, name); got != want {
			t.Errorf("event %s = %q, want %q", name, got, want)
		}
	}
	if u, err := ev.Props.URI(ical.PropURL); err != nil || u.String() != "https://pia.example.org/meetings/"+relay.ID("Meeting", 42) {
		t.Errorf("URL = %v (%v)", u, err)
	}
	if seq, err := ev.Props.Get(ical.PropSequence).Int(); err != nil || seq != 3 {
		t.Errorf("SEQUENCE = %d (%v), want 3", seq, err)
	}
	for name, want := range map[string]time.Time{
		ical.PropDateTimeStamp: m.UpdatedAt, ical.PropLastModified: m.UpdatedAt,
		ical.PropCreated: m.CreatedAt.Truncate(time.Second),
	} {
		if p := ev.Props.Get(name); p == nil || !strings.HasSuffix(p.Value, "Z") {
			t.Errorf("%s = %+v, want UTC", name, p)
		}
		if got := dateTime(t, ev.Props, name); !got.Equal(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]string{ical.PropDateTimeStart: "20260415T170000", ical.PropDateTimeEnd: "20260415T193000"} {
		p := ev.Props.Get(name)
		if p == nil || p.Params.Get(ical.ParamTimezoneID) != "Europe/Rome" || p.Value != want {
			t.Errorf("%s = %+v, want %s in Europe/Rome", name, p, want)
		}
	}
	if start, _ := ev.DateTimeStart(nil); !start.Equal(m.StartsAt) {
		t.Errorf("start = %v, want %v", start, m.StartsAt)
	}
	if end, _ := ev.DateTimeEnd(nil); !end.Equal(m.EndsAt) {
		t.Errorf("end = %v, want %v", end, m.EndsAt)
	}

	conf := ev.Props.Get(ical.PropConference)
	if conf == nil || conf.Params.Get(ical.ParamValue) != "URI" || conf.Value != m.OnlineURL ||
		strings.Join(conf.Params.Values(ical.ParamFeature), ",") != "AUDIO,VIDEO" {
		t.Errorf("CONFERENCE = %+v", conf)
	}
	if ev.Props.Get(ical.PropClass) != nil {
		t.Errorf("a public meeting has CLASS %+v", ev.Props.Get(ical.PropClass))
	}

	desc := text(t, ev.Props, ical.PropDescription)
	for _, want := range []string{
		"Come si accede ai servizi sanitari?\nNe parliamo insieme.",
		"Ordine del giorno:\n1. Accoglienza\n2. Bisogni; priorità, proposte",
		"Servizi offerti:\n- Mediazione culturale (lingue: ar, fr)\n- Interpretariato (lingue: ti)\n- Spazio bambini\n- Accessibilità",
		"Collegamento online: " + m.OnlineURL,
		"Dettagli: https://pia.example.org/meetings/" + relay.ID("Meeting", 42),
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("DESCRIPTION lacks %q:\n%s", want, desc)
		}
	}
	if strings.Contains(desc, "\r") {
		t.Errorf("DESCRIPTION keeps a carriage return: %q", desc)
	}

	// Lines are folded at 75 octets, never inside a character.
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
		if len(line) > 75 || !utf8.ValidString(line) {
			t.Errorf("line of %d octets (valid UTF-8: %v): %q", len(line), utf8.ValidString(line), line)
		}
	}
}

// checkRomeTimezone checks the VTIMEZONE's two rules.
func checkRomeTimezone(t *testing.T, tz *ical.Component) {
	t.Helper()
	want := map[string]struct{ start, from, to, name, rule string }{
		ical.CompTimezoneDaylight: {"19700329T020000", "+0100", "+0200", "CEST", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"},
		ical.CompTimezoneStandard: {"19701025T030000", "+0200", "+0100", "CET", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"},
	}
	if len(tz.Children) != 2 {
		t.Fatalf("VTIMEZONE has %d rules, want 2", len(tz.Children))
	}
	for _, c := range tz.Children {
		w, ok := want[c.Name]
		if !ok {
			t.Fatalf("VTIMEZONE has a %s", c.Name)
		}
		start := c.Props.Get(ical.PropDateTimeStart)
		if start.Value != w.start || len(start.Params) != 0 ||
			c.Props.Get(ical.PropTimezoneOffsetFrom).Value != w.from || c.Props.Get(ical.PropTimezoneOffsetTo).Value != w.to ||
			text(t, c.Props, ical.PropTimezoneName) != w.name || c.Props.Get(ical.PropRecurrenceRule).Value != w.rule {
			t.Errorf("%s = %+v", c.Name, c.Props)
		}
	}
}

// byVTimezone turns a wall-clock time (read as UTC) in tz into an instant using only the
// VTIMEZONE's rules, as a client without a time zone database would: the
// offset o such that the rules give o at wall-o.
func byVTimezone(t *testing.T, tz *ical.Component, wall time.Time) time.Time {
	t.Helper()
	type onset struct {
		at     time.Time // the instant of the change
		offset time.Duration
	}
	var onsets []onset
	offsets := map[time.Duration]bool{}
	parse := func(v string) time.Duration {
		ts, err := time.Parse("-0700", v)
		if err != nil {
			t.Fatalf("offset %q: %v", v, err)
		}
		_, off := ts.Zone()
		return time.Duration(off) * time.Second
	}
	for _, c := range tz.Children {
		from, to := parse(c.Props.Get(ical.PropTimezoneOffsetFrom).Value), parse(c.Props.Get(ical.PropTimezoneOffsetTo).Value)
		offsets[to] = true
		// Floating times read in UTC keep their wall clock.
		set, err := c.RecurrenceSet(time.UTC)
		if err != nil || set == nil {
			t.Fatalf("%s rule: %v", c.Name, err)
		}
		for _, o := range set.Between(wall.AddDate(-1, 0, 0), wall.AddDate(1, 0, 0), true) {
			onsets = append(onsets, onset{at: o.Add(-from), offset: to})
		}
	}
	var found []time.Time
	for off := range offsets {
		at := wall.Add(-off)
		var last onset
		for _, o := range onsets {
			if !o.at.After(at) && o.at.After(last.at) {
				last = o
			}
		}
		if last.offset == off {
			found = append(found, at)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%v is at %v by the VTIMEZONE, want one instant", wall, found)
	}
	return found[0]
}

// TestCalendarKeepsInstantsAcrossDaylightSaving: on 2026-03-29 Rome moves
// from +01:00 to +02:00 at 02:00; a meeting that morning, and one across
// the change (an hour long though the clock says two), keep their instants
// whether a reader uses its own zone data or the VTIMEZONE.
func TestCalendarKeepsInstantsAcrossDaylightSaving(t *testing.T) {
	cases := []struct {
		name               string
		start, end         time.Time // local
		startUTC, endUTC   time.Time
		startWall, endWall string
	}{
		{"the morning DST starts", time.Date(2026, 3, 29, 10, 0, 0, 0, Rome), time.Date(2026, 3, 29, 12, 0, 0, 0, Rome),
			time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC),
			"20260329T100000", "20260329T120000"},
		{"across the change", time.Date(2026, 3, 29, 1, 30, 0, 0, Rome), time.Date(2026, 3, 29, 3, 30, 0, 0, Rome),
			time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC),
			"20260329T013000", "20260329T033000"},
		{"the morning DST ends", time.Date(2026, 10, 25, 10, 0, 0, 0, Rome), time.Date(2026, 10, 25, 11, 0, 0, 0, Rome),
			time.Date(2026, 10, 25, 9, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 10, 0, 0, 0, time.UTC),
			"20261025T100000", "20261025T110000"},
		{"a winter evening", time.Date(2026, 12, 15, 18, 0, 0, 0, Rome), time.Date(2026, 12, 15, 20, 0, 0, 0, Rome),
			time.Date(2026, 12, 15, 17, 0, 0, 0, time.UTC), time.Date(2026, 12, 15, 19, 0, 0, 0, time.UTC),
			"20261215T180000", "20261215T200000"},
	}
	s := icalService()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.start.Equal(c.startUTC) || !c.end.Equal(c.endUTC) {
				t.Fatalf("the case is wrong: %v-%v is not %v-%v", c.start, c.end, c.startUTC, c.endUTC)
			}
			m := sample()
			// Stored as the database returns them: UTC.
			m.StartsAt, m.EndsAt = c.start.UTC(), c.end.UTC()
			cal, _ := decode(t, s, calendar{name: "x"}, m)
			ev := cal.Events()[0]
			var tz *ical.Component
			for _, ch := range cal.Children {
				if ch.Name == ical.CompTimezone {
					tz = ch
				}
			}
			for _, x := range []struct {
				prop string
				wall string
				utc  time.Time
			}{{ical.PropDateTimeStart, c.startWall, c.startUTC}, {ical.PropDateTimeEnd, c.endWall, c.endUTC}} {
				p := ev.Props.Get(x.prop)
				if p.Value != x.wall || p.Params.Get(ical.ParamTimezoneID) != "Europe/Rome" {
					t.Errorf("%s = %+v, want %s;TZID=Europe/Rome", x.prop, p, x.wall)
				}
				got, err := p.DateTime(Rome)
				if err != nil || !got.Equal(x.utc) {
					t.Errorf("%s read with the zone data = %v (%v), want %v", x.prop, got, err, x.utc)
				}
				wall, err := time.Parse("20060102T150405", p.Value)
				if err != nil {
					t.Fatal(err)
				}
				if got := byVTimezone(t, tz, wall); !got.Equal(x.utc) {
					t.Errorf("%s read with the VTIMEZONE = %v, want %v", x.prop, got, x.utc)
				}
			}
			start, _ := ev.DateTimeStart(Rome)
			end, _ := ev.DateTimeEnd(Rome)
			if d := end.Sub(start); d != c.endUTC.Sub(c.startUTC) {
				t.Errorf("the event lasts %v, want %v", d, c.endUTC.Sub(c.startUTC))
			}
		})
	}
}

func TestCalendarStatusFollowsTheMeeting(t *testing.T) {
	s := icalService()
	want := map[Status]string{Planned: "TENTATIVE", Postponed: "TENTATIVE", Confirmed: "CONFIRMED", Held: "CONFIRMED", Cancelled: "CANCELLED"}
	for _, st := range Statuses {
		m := sample()
		m.Status, m.Sequence = st, 7
		m.CancelReason = "La sala non è disponibile."
		cal, _ := decode(t, s, calendar{name: "x"}, m)
		ev := cal.Events()[0]
		got, err := ev.Status()
		if err != nil || string(got) != want[st] {
			t.Errorf("%s: STATUS = %q (%v), want %s", st, got, err, want[st])
		}
		if seq, _ := ev.Props.Get(ical.PropSequence).Int(); seq != 7 {
			t.Errorf("%s: SEQUENCE = %d, want 7", st, seq)
		}
		// The UID does not change with the meeting, so clients update it.
		if uid := text(t, ev.Props, ical.PropUID); uid != "meeting-42@pia.example.org" {
			t.Errorf("%s: UID = %q", st, uid)
		}
		desc := text(t, ev.Props, ical.PropDescription)
		if cancelled := strings.HasPrefix(desc, "Incontro annullato: La sala non è disponibile.\n\n"); cancelled != (st == Cancelled) {
			t.Errorf("%s: DESCRIPTION = %q", st, desc)
		}
	}
	m := sample()
	m.Status = "ADJOURNED"
	if _, err := s.encodeCalendar(calendar{name: "x"}, []*Meeting{m}); err == nil {
		t.Error("encoded an unknown status")
	}
}

func TestCalendarPlacesEachMode(t *testing.T) {
	s := icalService()

	online := sample()
	online.Mode, online.Venue = Online, ""
	ev := decodeOne(t, s, online)
	if loc := text(t, ev.Props, ical.PropLocation); loc != online.OnlineURL {
		t.Errorf("online LOCATION = %q, want the link", loc)
	}
	if c := ev.Props.Get(ical.PropConference); c == nil || c.Value != online.OnlineURL {
		t.Errorf("online CONFERENCE = %+v", c)
	}

	inPerson := sample()
	inPerson.Mode, inPerson.OnlineURL = InPerson, ""
	inPerson.Services, inPerson.Agenda, inPerson.Description = nil, nil, ""
	ev = decodeOne(t, s, inPerson)
	if loc := text(t, ev.Props, ical.PropLocation); loc != inPerson.Venue {
		t.Errorf("in-person LOCATION = %q", loc)
	}
	if c := ev.Props.Get(ical.PropConference); c != nil {
		t.Errorf("in-person CONFERENCE = %+v", c)
	}
	desc := text(t, ev.Props, ical.PropDescription)
	if desc != "Dettagli: https://pia.example.org/meetings/"+relay.ID("Meeting", 42) {
		t.Errorf("a bare meeting's DESCRIPTION = %q", desc)
	}

	private := sample()
	private.Private = true
	if class := text(t, decodeOne(t, s, private).Props, ical.PropClass); class != "PRIVATE" {
		t.Errorf("a private meeting's CLASS = %q", class)
	}
}

func decodeOne(t *testing.T, s *Service, m *Meeting) ical.Event {
	t.Helper()
	cal, _ := decode(t, s, calendar{name: "x"}, m)
	if evs := cal.Events(); len(evs) == 1 {
		return evs[0]
	}
	t.Fatalf("not one event")
	return ical.Event{}
}

func TestCalendarInEnglish(t *testing.T) {
	ev := func() ical.Event {
		cal, _ := decode(t, icalService(), calendar{name: "x", lang: "en"}, sample())
		return cal.Events()[0]
	}()
	desc := text(t, ev.Props, ical.PropDescription)
	for _, want := range []string{"Agenda:\n1. Accoglienza", "Services offered:\n- Cultural mediation (languages: ar, fr)",
		"- Childcare", "Online link: ", "Details: "} {
		if !strings.Contains(desc, want) {
			t.Errorf("DESCRIPTION lacks %q:\n%s", want, desc)
		}
	}
}

// TestCalendarTextSurvives: whatever a title or description holds comes
// back the same, line ends as line feeds and without control characters.
func TestCalendarTextSurvives(t *testing.T) {
	s := icalService()
	m := sample()
	m.Title = strings.Repeat("Città, perché; à\\b 😀 ", 12) + "\x00\x1bfine\r\n"
	m.Venue = "Via \"Roma\", 1\nEnna"
	cal, raw := decode(t, s, calendar{name: "Calendario: «PIA»; Enna, Sicilia"}, m)
	ev := cal.Events()[0]
	if got, want := text(t, ev.Props, ical.PropSummary), strings.Repeat("Città, perché; à\\b 😀 ", 12)+"fine\n"; got != want {
		t.Errorf("SUMMARY = %q\nwant %q", got, want)
	}
	if got := text(t, ev.Props, ical.PropLocation); got != m.Venue {
		t.Errorf("LOCATION = %q", got)
	}
	if got := text(t, cal.Props, "X-WR-CALNAME"); got != "Calendario: «PIA»; Enna, Sicilia" {
		t.Errorf("X-WR-CALNAME = %q", got)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 75 || !utf8.ValidString(line) {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
	}
}

func TestCalendarOfSeveralMeetings(t *testing.T) {
	s := icalService()
	var ms []*Meeting
	for i := range 3 {
		m := sample()
		m.ID = int64(10 + i)
		m.StartsAt = m.StartsAt.AddDate(0, 0, 7*i)
		m.EndsAt = m.EndsAt.AddDate(0, 0, 7*i)
		ms = append(ms, m)
	}
	cal, _ := decode(t, s, calendar{name: "x"}, ms...)
	evs := cal.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	for i, ev := range evs {
		if uid := text(t, ev.Props, ical.PropUID); uid != "meeting-"+strconv.Itoa(10+i)+"@pia.example.org" {
			t.Errorf("event %d UID = %q", i, uid)
		}
	}
	// A calendar without meetings is still a calendar: its time zone.
	cal, _ = decode(t, s, calendar{name: "vuoto"})
	if len(cal.Events()) != 0 || len(cal.Children) != 1 {
		t.Errorf("empty calendar: %+v", cal.Children)
	}
}

func TestAttachCalendar(t *testing.T) {
	s := icalService()
	m := sample()
	msg := mail.Message{To: "ada@example.org", Subject: "Incontro confermato", Body: "In allegato."}
	if err := s.attachCalendar(&msg, m, "it", nil); err != nil {
		t.Fatal(err)
	}
	if msg.AttachmentName != "meeting-42.ics" {
		t.Errorf("name %q", msg.AttachmentName)
	}
	if mt, params, err := mime.ParseMediaType(msg.AttachmentType); err != nil || mt != "text/calendar" ||
		params["charset"] != "utf-8" || params["method"] != "PUBLISH" {
		t.Errorf("type %q", msg.AttachmentType)
	}
	cal, err := ical.NewDecoder(strings.NewReader(msg.Attachment)).Decode()
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("attachment: %v", err)
	}
	if cal.Props.Get(ical.PropRefreshInterval) != nil {
		t.Error("an attachment asks to be refreshed")
	}
	if got := text(t, cal.Props, "X-WR-CALNAME"); got != m.Title {
		t.Errorf("X-WR-CALNAME = %q", got)
	}
}

func TestEventUIDWithoutAPublicURL(t *testing.T) {
	if uid := NewService(nil, Options{}).eventUID(9); uid != "meeting-9@localhost" {
		t.Errorf("UID = %q", uid)
	}
	if uid := NewService(nil, Options{PublicURL: "https://pia.regione.sicilia.it:8443/pia"}).eventUID(9); uid != "meeting-9@pia.regione.sicilia.it" {
		t.Errorf("UID = %q", uid)
	}
}
