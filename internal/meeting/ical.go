package meeting

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/pia-sicilia/pia/internal/mail"
	"github.com/pia-sicilia/pia/internal/relay"
)

// Calendars are iCalendar (RFC 5545) built with go-ical's components, so
// that escaping and the property grammar are the library's; this file only
// chooses what goes in them.

// productID names PIA as the producer of its calendars (RFC 5545, 3.7.3).
const productID = "-//PIA Sicilia//PIA//IT"

// CalendarType is the media type of a calendar attached to a mail or
// served by a feed: METHOD:PUBLISH, as in the calendars themselves.
const CalendarType = "text/calendar; charset=utf-8; method=PUBLISH"

// feedRefresh is how often a subscribed client should read a feed again;
// clients that ignore it poll at their own pace.
const feedRefresh = time.Hour

// calendar is one iCalendar document's own properties.
type calendar struct {
	name string // X-WR-CALNAME and NAME: what the client shows for it
	lang string // "en" or Italian: the labels of DESCRIPTION
	// themes holds theme labels by theme id, shown as CATEGORIES; a theme
	// missing from it gets none.
	themes map[int64]string
	// feed marks a subscribed feed, which asks to be read again hourly; a
	// mail attachment or a download is read once.
	feed bool
}

// encodeCalendar writes ms, in order, as one calendar in Europe/Rome.
func (s *Service) encodeCalendar(c calendar, ms []*Meeting) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, productID)
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	cal.Props.SetText(ical.PropName, cleanText(c.name))
	cal.Props.Set(extension("X-WR-CALNAME", cleanText(c.name)))
	cal.Props.Set(extension("X-WR-TIMEZONE", Rome.String()))
	if c.feed {
		// RFC 7986 requires VALUE=DURATION, which go-ical leaves out as the
		// property's default; Outlook reads the older X-PUBLISHED-TTL.
		refresh := ical.NewProp(ical.PropRefreshInterval)
		refresh.SetDuration(feedRefresh)
		refresh.Params.Set(ical.ParamValue, string(ical.ValueDuration))
		cal.Props.Set(refresh)
		ttl := ical.NewProp("X-PUBLISHED-TTL")
		ttl.SetDuration(feedRefresh)
		ttl.Params.Del(ical.ParamValue)
		cal.Props.Set(ttl)
	}
	cal.Children = append(cal.Children, romeTimezone())
	for _, m := range ms {
		ev, err := s.event(c, m)
		if err != nil {
			return nil, err
		}
		cal.Children = append(cal.Children, ev.Component)
	}
	var b bytes.Buffer
	if err := ical.NewEncoder(&folder{w: &b}).Encode(cal); err != nil {
		return nil, fmt.Errorf("meeting: encode calendar: %w", err)
	}
	return b.Bytes(), nil
}

// extension is a non-standard TEXT property, such as X-WR-CALNAME. go-ical
// marks a property it does not know with VALUE=TEXT; the clients that read
// these properties expect them bare.
func extension(name, text string) *ical.Prop {
	p := ical.NewProp(name)
	p.SetText(text)
	p.Params.Del(ical.ParamValue)
	return p
}

// romeTimezone is Europe/Rome's VTIMEZONE with the rules in force since
// 1996 (the EU's): CEST from the last Sunday of March at 02:00, CET from
// the last Sunday of October at 03:00. Clients need it to place TZID times;
// all our meetings are recent, so older rules are left out.
func romeTimezone() *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, Rome.String())
	tz.Props.Set(extension("X-LIC-LOCATION", Rome.String()))
	rule := func(name, tzname string, from, to int, month time.Month, hour int) *ical.Component {
		c := ical.NewComponent(name)
		// The onset is local time in the offset it leaves, without a TZID
		// (RFC 5545, 3.6.5): go-ical writes a floating time once the TZID
		// it adds is removed.
		start := ical.NewProp(ical.PropDateTimeStart)
		start.SetDateTime(time.Date(1970, month, lastSunday(1970, month), hour, 0, 0, 0, time.FixedZone(tzname, from)))
		start.Params.Del(ical.ParamTimezoneID)
		c.Props.Set(start)
		c.Props.Set(utcOffset(ical.PropTimezoneOffsetFrom, from))
		c.Props.Set(utcOffset(ical.PropTimezoneOffsetTo, to))
		c.Props.SetText(ical.PropTimezoneName, tzname)
		c.Props.SetRecurrenceRule(&rrule.ROption{Freq: rrule.YEARLY, Bymonth: []int{int(month)},
			Byweekday: []rrule.Weekday{rrule.SU.Nth(-1)}})
		return c
	}
	const cet, cest = 3600, 7200
	tz.Children = append(tz.Children,
		rule(ical.CompTimezoneDaylight, "CEST", cet, cest, time.March, 2),
		rule(ical.CompTimezoneStandard, "CET", cest, cet, time.October, 3))
	return tz
}

// lastSunday is the day of month of month's last Sunday in year.
func lastSunday(year int, month time.Month) int {
	last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC)
	return last.Day() - int(last.Weekday())
}

// utcOffset is a UTC-OFFSET property, such as +0100; go-ical has no setter
// for the type, so the value is formatted by the time package.
func utcOffset(name string, seconds int) *ical.Prop {
	p := ical.NewProp(name)
	p.Value = time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", seconds)).Format("-0700")
	return p
}

// eventStatus maps a meeting's status to VEVENT's: a planned or postponed
// meeting may still move, so it is tentative.
var eventStatus = map[Status]ical.EventStatus{
	Planned:   ical.EventTentative,
	Postponed: ical.EventTentative,
	Confirmed: ical.EventConfirmed,
	Held:      ical.EventConfirmed,
	Cancelled: ical.EventCancelled,
}

// event is m as a VEVENT. Its UID stays the same for the meeting's life,
// so a client updates the event (by SEQUENCE) instead of adding another.
func (s *Service) event(c calendar, m *Meeting) (*ical.Event, error) {
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, s.eventUID(m.ID))
	ev.Props.SetDateTime(ical.PropDateTimeStamp, m.UpdatedAt.UTC())
	ev.Props.SetDateTime(ical.PropCreated, m.CreatedAt.UTC())
	ev.Props.SetDateTime(ical.PropLastModified, m.UpdatedAt.UTC())
	ev.Props.SetDateTime(ical.PropDateTimeStart, m.StartsAt.In(Rome))
	ev.Props.SetDateTime(ical.PropDateTimeEnd, m.EndsAt.In(Rome))
	seq := ical.NewProp(ical.PropSequence)
	seq.Value = strconv.Itoa(m.Sequence)
	ev.Props.Set(seq)
	ev.Props.SetText(ical.PropSummary, cleanText(m.Title))
	ev.Props.SetText(ical.PropDescription, cleanText(s.eventDescription(c.lang, m)))
	online := m.OnlineURL != "" && (m.Mode == Online || m.Mode == Hybrid)
	switch {
	case m.Mode != Online && m.Venue != "":
		ev.Props.SetText(ical.PropLocation, cleanText(m.Venue))
	case online:
		ev.Props.SetText(ical.PropLocation, cleanText(m.OnlineURL))
	}
	if u, err := url.Parse(s.meetingURL(m.ID)); err == nil {
		ev.Props.SetURI(ical.PropURL, u)
	}
	if u, err := url.Parse(m.OnlineURL); online && err == nil && u.Scheme != "" {
		// RFC 7986, 5.11: CONFERENCE has no default type, so VALUE=URI is
		// required; go-ical drops it as its table's default.
		conf := ical.NewProp(ical.PropConference)
		conf.SetURI(u)
		conf.Params.Set(ical.ParamValue, string(ical.ValueURI))
		conf.Params.Add(ical.ParamFeature, "AUDIO")
		conf.Params.Add(ical.ParamFeature, "VIDEO")
		conf.Params.Set(ical.ParamLabel, label(c.lang, "online"))
		ev.Props.Set(conf)
	}
	status, ok := eventStatus[m.Status]
	if !ok {
		return nil, fmt.Errorf("meeting: meeting %d has the unknown status %q", m.ID, m.Status)
	}
	ev.SetStatus(status)
	if m.Private {
		// A shared calendar shows a private event as busy time only.
		ev.Props.SetText(ical.PropClass, "PRIVATE")
	}
	if th := c.themes[m.ThemeID]; th != "" {
		ev.Props.SetText(ical.PropCategories, cleanText(th))
	}
	return ev, nil
}

// eventUID is meeting id's UID: the host makes it unique across PIA's
// installations, the id within one.
func (s *Service) eventUID(id int64) string {
	host := "localhost"
	if u, err := url.Parse(s.o.PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "meeting-" + strconv.FormatInt(id, 10) + "@" + host
}

// meetingURL is the meeting's page in the web client, by its global id as
// the client's links are.
func (s *Service) meetingURL(id int64) string {
	return strings.TrimRight(s.o.PublicURL, "/") + "/meetings/" + relay.ID("Meeting", id)
}

// labels are the words of a calendar's descriptions, in Italian and
// English.
var labels = map[string][2]string{
	"agenda":                  {"Ordine del giorno", "Agenda"},
	"services":                {"Servizi offerti", "Services offered"},
	"online":                  {"Collegamento online", "Online link"},
	"cancelled":               {"Incontro annullato", "Meeting cancelled"},
	"details":                 {"Dettagli", "Details"},
	"languages":               {"lingue", "languages"},
	string(CulturalMediation): {"Mediazione culturale", "Cultural mediation"},
	string(Interpreting):      {"Interpretariato", "Interpreting"},
	string(Childcare):         {"Spazio bambini", "Childcare"},
	string(Accessibility):     {"Accessibilità", "Accessibility"},
}

// label is key's label in lang; Italian unless lang is "en".
func label(lang, key string) string {
	l, ok := labels[key]
	if !ok {
		return key
	}
	if strings.EqualFold(lang, "en") {
		return l[1]
	}
	return l[0]
}

// eventDescription is the text a calendar shows under the title: clients
// show DESCRIPTION, and few show URL or CONFERENCE, so both are repeated.
func (s *Service) eventDescription(lang string, m *Meeting) string {
	var parts []string
	if m.Status == Cancelled {
		p := label(lang, "cancelled")
		if r := strings.TrimSpace(m.CancelReason); r != "" {
			p += ": " + r
		}
		parts = append(parts, p)
	}
	if d := strings.TrimSpace(m.Description); d != "" {
		parts = append(parts, d)
	}
	if len(m.Agenda) > 0 {
		var b strings.Builder
		b.WriteString(label(lang, "agenda") + ":")
		for i, item := range m.Agenda {
			fmt.Fprintf(&b, "\n%d. %s", i+1, strings.TrimSpace(item))
		}
		parts = append(parts, b.String())
	}
	if len(m.Services) > 0 {
		var b strings.Builder
		b.WriteString(label(lang, "services") + ":")
		for _, o := range m.Services {
			b.WriteString("\n- " + label(lang, string(o.Kind)))
			if len(o.Languages) > 0 {
				b.WriteString(" (" + label(lang, "languages") + ": " + strings.Join(o.Languages, ", ") + ")")
			}
		}
		parts = append(parts, b.String())
	}
	if m.OnlineURL != "" && m.Mode != InPerson {
		parts = append(parts, label(lang, "online")+": "+m.OnlineURL)
	}
	parts = append(parts, label(lang, "details")+": "+s.meetingURL(m.ID))
	return strings.Join(parts, "\n\n")
}

// cleanText makes s a TEXT value go-ical can write: it escapes line feeds
// but refuses carriage returns, and RFC 5545 allows no other control
// characters. Line ends become line feeds; other controls, tabs aside, go.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// attachCalendar attaches m to msg as a one-event calendar, for the mail
// that announces a change of m; lang is the recipient's language.
func (s *Service) attachCalendar(msg *mail.Message, m *Meeting, lang string, themes map[int64]string) error {
	ics, err := s.encodeCalendar(calendar{name: m.Title, lang: lang, themes: themes}, []*Meeting{m})
	if err != nil {
		return err
	}
	msg.AttachmentName = "meeting-" + strconv.FormatInt(m.ID, 10) + ".ics"
	msg.AttachmentType = CalendarType
	msg.Attachment = string(ics)
	return nil
}

// maxLine is the longest content line RFC 5545 (3.1) wants, in octets.
const maxLine = 75

// folder folds the lines written through it at 75 octets, as RFC 5545 asks
// (a line break and a space; readers remove both): go-ical writes each
// property on one line however long, and some clients cut long lines. It
// folds before a character, never inside one.
type folder struct {
	w io.Writer
	n int // octets on the current line
}

func (f *folder) Write(p []byte) (int, error) {
	var out bytes.Buffer
	for _, c := range p {
		switch {
		case c == '\n':
			f.n = 0
		case c == '\r':
		case c < 0x80 || c >= 0xC0: // the first octet of a character
			size := 1
			switch {
			case c >= 0xF0:
				size = 4
			case c >= 0xE0:
				size = 3
			case c >= 0xC0:
				size = 2
			}
			if f.n+size > maxLine {
				out.WriteString("\r\n ")
				f.n = 1
			}
			f.n++
		default: // a continuation octet, counted here
			f.n++
		}
		out.WriteByte(c)
	}
	if _, err := f.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
