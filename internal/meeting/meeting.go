package meeting

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Limits on what a meeting holds.
const (
	maxTitle        = 300
	maxDescription  = 20_000
	maxAgendaItems  = 50
	maxAgendaItem   = 500
	maxVenue        = 500
	maxURL          = 2000
	maxReason       = 1000
	maxCapacity     = 10_000
	maxLanguages    = 20
	maxDuration     = 12 * time.Hour
	earliestMeeting = 2020
	latestMeeting   = 2100
)

// MeetingInput plans one meeting of a focus group.
type MeetingInput struct {
	FocusGroupID int64
	Title        string
	Description  string
	Agenda       []string
	// StartsAt and EndsAt are instants (any zone; stored in UTC), to the
	// minute: seconds are refused.
	StartsAt, EndsAt time.Time
	Mode             Mode
	Venue            string // required in person and hybrid
	OnlineURL        string // required online and hybrid: http or https
	Capacity         *int   // nil: no limit
	Services         []Offer
	Private          bool
	// FacilitatorID defaults to the focus group's facilitator.
	FacilitatorID *int64
	// OverrideConflicts keeps the meeting despite conflicts; they are
	// recorded with OverrideNote.
	OverrideConflicts bool
	OverrideNote      string
}

// MeetingPatch changes a meeting; nil fields are unchanged. A clear flag
// empties an optional field.
type MeetingPatch struct {
	Title             *string
	Description       *string
	Agenda            *[]string
	StartsAt, EndsAt  *time.Time
	Mode              *Mode
	Venue             *string
	OnlineURL         *string
	Capacity          *int
	ClearCapacity     bool
	Services          *[]Offer
	Private           *bool
	FacilitatorID     *int64
	ClearFacilitator  bool
	OverrideConflicts bool
	OverrideNote      string
}

// ConflictKind says what two overlapping meetings share.
type ConflictKind string

// The conflict kinds.
const (
	SameWorkingGroup ConflictKind = "WORKING_GROUP"
	SameVenue        ConflictKind = "VENUE"
	SameFacilitator  ConflictKind = "FACILITATOR"
)

// Conflict is an overlapping meeting and what it shares with the one
// being planned. MeetingID is 0 for another meeting of the same request
// (a round), named by Index then, and for a private meeting the planner may
// not read, whose Title is PrivateTitle (Index -1).
type Conflict struct {
	Kind      ConflictKind
	MeetingID int64
	Index     int // the position in a round of the meeting it clashes with, from 0; -1 otherwise
	Title     string
	StartsAt  time.Time
	EndsAt    time.Time
}

// ConflictError is the CONFLICT (reason SCHEDULE_CONFLICT) returned when a
// meeting overlaps others and the conflicts were not overridden. Callers
// show Conflicts and may retry with OverrideConflicts.
type ConflictError struct {
	Err       *apperr.Error
	Conflicts []Conflict
}

func (e *ConflictError) Error() string { return e.Err.Error() }

// Unwrap lets errors.As find the apperr.Error, so the presenter maps it.
func (e *ConflictError) Unwrap() error { return e.Err }

// venueKey folds a venue for comparisons: "Via Roma 1,  Enna" and "via
// roma 1, enna" are one place.
func venueKey(v string) string { return strings.ToLower(strings.Join(strings.Fields(v), " ")) }

// draft is a checked meeting, before it is written.
type draft struct {
	m *Meeting
}

// checkTimes checks a meeting's start and end.
func checkTimes(op string, start, end time.Time) (time.Time, time.Time, error) {
	if start.IsZero() {
		return start, end, apperr.Invalid(op, "startsAt", "a meeting needs a start")
	}
	if end.IsZero() {
		return start, end, apperr.Invalid(op, "endsAt", "a meeting needs an end")
	}
	start, end = start.UTC(), end.UTC()
	if start.Second() != 0 || start.Nanosecond() != 0 || end.Second() != 0 || end.Nanosecond() != 0 {
		return start, end, apperr.Invalid(op, "startsAt", "meeting times are to the minute: give no seconds")
	}
	if y := start.In(Rome).Year(); y < earliestMeeting || y > latestMeeting {
		return start, end, apperr.Invalid(op, "startsAt", "a meeting starts between %d and %d", earliestMeeting, latestMeeting)
	}
	if !end.After(start) {
		return start, end, apperr.Invalid(op, "endsAt", "a meeting ends after it starts")
	}
	if end.Sub(start) > maxDuration {
		return start, end, apperr.Invalid(op, "endsAt", "a meeting lasts at most %d hours", int(maxDuration.Hours()))
	}
	return start, end, nil
}

// checkURL checks an online link: http or https, with a host.
func checkURL(op, field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > maxURL || !utf8.ValidString(s) {
		return "", apperr.Invalid(op, field, "%s is at most %d characters of UTF-8", field, maxURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		return "", apperr.Invalid(op, field, "%s must be an http or https address, such as https://meet.example.org/enna", field)
	}
	return s, nil
}

// checkOffers checks the services offered: known kinds, once each,
// languages as two- or three-letter codes for mediation and interpreting.
func checkOffers(op string, in []Offer) ([]Offer, error) {
	out := make([]Offer, 0, len(in))
	seen := map[ServiceKind]bool{}
	for _, o := range in {
		if !o.Kind.Valid() {
			return nil, apperr.Invalid(op, "services", "unknown service %q; the services are %v", o.Kind, ServiceKinds)
		}
		if seen[o.Kind] {
			return nil, apperr.Invalid(op, "services", "%s is listed twice", o.Kind)
		}
		seen[o.Kind] = true
		langs := []string{}
		if o.Kind == CulturalMediation || o.Kind == Interpreting {
			if len(o.Languages) == 0 {
				return nil, apperr.Invalid(op, "services", "%s needs its languages, such as [\"ar\", \"fr\"]", o.Kind)
			}
			if len(o.Languages) > maxLanguages {
				return nil, apperr.Invalid(op, "services", "%s lists at most %d languages", o.Kind, maxLanguages)
			}
			for _, l := range o.Languages {
				l = strings.ToLower(strings.TrimSpace(l))
				if !isLanguageCode(l) {
					return nil, apperr.Invalid(op, "services", "%q is not a language code (ISO 639, such as ar, fr, ti)", l)
				}
				if !slices.Contains(langs, l) {
					langs = append(langs, l)
				}
			}
		} else if len(o.Languages) > 0 {
			return nil, apperr.Invalid(op, "services", "%s takes no languages", o.Kind)
		}
		out = append(out, Offer{Kind: o.Kind, Languages: langs})
	}
	slices.SortFunc(out, func(a, b Offer) int {
		return slices.Index(ServiceKinds, a.Kind) - slices.Index(ServiceKinds, b.Kind)
	})
	return out, nil
}

func isLanguageCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// checkAgenda cleans the agenda items; empty items are dropped.
func checkAgenda(op string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, it := range in {
		v, err := network.CleanText(op, "agenda", it, maxAgendaItem, false)
		if err != nil {
			return nil, err
		}
		if v != "" {
			out = append(out, v)
		}
	}
	if len(out) > maxAgendaItems {
		return nil, apperr.Invalid(op, "agenda", "an agenda has at most %d items", maxAgendaItems)
	}
	return out, nil
}

// checkPlace checks mode, venue and link together.
func checkPlace(op string, m *Meeting) error {
	if !m.Mode.Valid() {
		return apperr.Invalid(op, "mode", "unknown mode %q; the modes are %v", m.Mode, Modes)
	}
	if (m.Mode == InPerson || m.Mode == Hybrid) && m.Venue == "" {
		return apperr.Invalid(op, "venue", "a meeting %s needs a venue address", strings.ToLower(strings.ReplaceAll(string(m.Mode), "_", " ")))
	}
	if (m.Mode == Online || m.Mode == Hybrid) && m.OnlineURL == "" {
		return apperr.Invalid(op, "onlineUrl", "an %s meeting needs its online link", strings.ToLower(string(m.Mode)))
	}
	if m.Mode == Online {
		m.Venue = "" // nobody goes anywhere: a stale venue would mislead
	}
	if m.Mode == InPerson {
		m.OnlineURL = ""
	}
	return nil
}

func checkCapacity(op string, c *int) error {
	if c != nil && (*c < 1 || *c > maxCapacity) {
		return apperr.Invalid(op, "capacity", "capacity is between 1 and %d people; leave it out for no limit", maxCapacity)
	}
	return nil
}

// checkInput turns in into a meeting of focus group fg, or BAD_USER_INPUT.
func checkInput(op string, fg *FocusGroup, in MeetingInput) (*Meeting, error) {
	title, err := network.CleanText(op, "title", in.Title, maxTitle, true)
	if err != nil {
		return nil, err
	}
	desc, err := network.CleanLongText(op, "description", in.Description, maxDescription)
	if err != nil {
		return nil, err
	}
	agenda, err := checkAgenda(op, in.Agenda)
	if err != nil {
		return nil, err
	}
	start, end, err := checkTimes(op, in.StartsAt, in.EndsAt)
	if err != nil {
		return nil, err
	}
	venue, err := network.CleanText(op, "venue", in.Venue, maxVenue, false)
	if err != nil {
		return nil, err
	}
	link, err := checkURL(op, "onlineUrl", in.OnlineURL)
	if err != nil {
		return nil, err
	}
	if err := checkCapacity(op, in.Capacity); err != nil {
		return nil, err
	}
	offers, err := checkOffers(op, in.Services)
	if err != nil {
		return nil, err
	}
	fac := fg.FacilitatorID
	if in.FacilitatorID != nil {
		fac = in.FacilitatorID
	}
	m := &Meeting{FocusGroupID: fg.ID, WorkingGroupID: fg.WorkingGroupID, TerritoryID: fg.TerritoryID, ThemeID: fg.ThemeID,
		Title: title, Description: desc, Agenda: agenda, StartsAt: start, EndsAt: end, Mode: in.Mode, Venue: venue,
		OnlineURL: link, Capacity: in.Capacity, Services: offers, Private: in.Private, FacilitatorID: fac, Status: Planned}
	if err := checkPlace(op, m); err != nil {
		return nil, err
	}
	return m, nil
}

// loadFocusGroup reads focus group id; NOT_FOUND when missing. With lock,
// on PostgreSQL, the row is locked FOR UPDATE: planning meetings of one
// focus group, and of one working group through its focus groups, queue
// up, so two coordinators cannot both pass the conflict check.
func loadFocusGroup(ctx context.Context, db bun.IDB, op string, id int64) (*FocusGroup, error) {
	fg := new(FocusGroup)
	if err := db.NewSelect().Model(fg).Where("fg.id = ?", id).Scan(ctx); err != nil {
		err = storage.MapError(op, "focus group", err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, &apperr.Error{Kind: apperr.NotFound, Op: op, Field: "focusGroup", Message: "focus group not found"}
		}
		return nil, err
	}
	return fg, nil
}

// scheduleLock is the key of the PostgreSQL advisory lock that planning
// transactions take: "PIASCHED" in ASCII.
const scheduleLock int64 = 0x5049415343484544

// lockGroupSchedule serialises planning (SQLite's write transactions are
// serial already). On PostgreSQL it takes, until the transaction ends,
// the region's schedule lock, so that venue and facilitator conflicts
// across working groups are checked one planning at a time, and then the
// working group's row FOR UPDATE (against its archiving). The advisory lock
// is always taken first, and again by the same transaction at no cost, so
// planners cannot wait for each other in a cycle.
func lockGroupSchedule(ctx context.Context, tx bun.IDB, op string, groupID int64) error {
	if storage.EngineOf(tx) != storage.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", scheduleLock); err != nil {
		return storage.MapError(op, "schedule", err)
	}
	var id int64
	if err := tx.NewSelect().Table("working_groups").Column("id").Where("id = ?", groupID).For("UPDATE").Scan(ctx, &id); err != nil {
		return storage.MapError(op, "working group", err)
	}
	return nil
}

// checkPerson checks that person id exists and is neither archived nor
// erased: a facilitator or invitee must be someone who can take part.
func checkPeople(ctx context.Context, tx bun.IDB, op, field string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var live []int64
	err := tx.NewSelect().Table("people").Column("id").Where("id IN (?)", bun.In(ids)).
		Where("archived_at IS NULL").Where("erased_at IS NULL").Scan(ctx, &live)
	if err != nil {
		return storage.MapError(op, field, err)
	}
	for _, id := range ids {
		if !slices.Contains(live, id) {
			return apperr.Invalid(op, field, "person %s is unknown or archived", relay.ID("Person", id))
		}
	}
	return nil
}

// conflictsOf finds the meetings overlapping m (not cancelled, not
// postponed, not m itself) that share its working group, its venue or its
// facilitator.
func conflictsOf(ctx context.Context, tx bun.IDB, op string, m *Meeting) ([]Conflict, error) {
	var others []*Meeting
	q := tx.NewSelect().Model(&others).
		Where("m.starts_at < ?", m.EndsAt).Where("m.ends_at > ?", m.StartsAt).
		Where("m.status NOT IN (?)", bun.In([]Status{Cancelled, Postponed})).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("m.working_group_id = ?", m.WorkingGroupID)
			if m.FacilitatorID != nil {
				q = q.WhereOr("m.facilitator_id = ?", *m.FacilitatorID)
			}
			if m.Venue != "" {
				// Venues are compared folded in Go; the SQL narrows to
				// meetings with a venue at the same time.
				q = q.WhereOr("m.venue <> ''")
			}
			return q
		}).OrderExpr("m.starts_at, m.id")
	if m.ID != 0 {
		q = q.Where("m.id <> ?", m.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	var out []Conflict
	for _, o := range others {
		id, title := o.ID, o.Title
		if authorizeMeeting(ctx, access.ReadMeeting, o, false) != nil {
			// A private meeting the planner may not read (another
			// territory's, at the same venue or with the same
			// facilitator): its time explains the clash, its title and
			// id stay hidden.
			id, title = 0, PrivateTitle
		}
		for _, k := range shared(m, o) {
			out = append(out, Conflict{Kind: k, MeetingID: id, Index: -1, Title: title, StartsAt: o.StartsAt, EndsAt: o.EndsAt})
		}
	}
	return out, nil
}

// PrivateTitle names, in a conflict, a meeting the planner may not read.
const PrivateTitle = "a private meeting"

// shared lists what overlapping meetings a and b have in common.
func shared(a, b *Meeting) []ConflictKind {
	var out []ConflictKind
	if a.WorkingGroupID == b.WorkingGroupID {
		out = append(out, SameWorkingGroup)
	}
	if a.Venue != "" && venueKey(a.Venue) == venueKey(b.Venue) {
		out = append(out, SameVenue)
	}
	if a.FacilitatorID != nil && b.FacilitatorID != nil && *a.FacilitatorID == *b.FacilitatorID {
		out = append(out, SameFacilitator)
	}
	return out
}

func overlap(a, b *Meeting) bool { return a.StartsAt.Before(b.EndsAt) && b.StartsAt.Before(a.EndsAt) }

// conflictError is the CONFLICT for cs.
func conflictError(op string, cs []Conflict) error {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		what := map[ConflictKind]string{SameWorkingGroup: "the same working group", SameVenue: "the same venue",
			SameFacilitator: "the same facilitator"}[c.Kind]
		name := fmt.Sprintf("%q", c.Title)
		switch {
		case c.Index >= 0:
			name = fmt.Sprintf("meeting %d of this round", c.Index+1)
		case c.MeetingID == 0:
			name = c.Title
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", name, c.StartsAt.In(Rome).Format("02/01/2006 15:04"), what))
	}
	e := &apperr.Error{Kind: apperr.Conflict, Op: op, Field: "startsAt",
		Message: "this meeting overlaps " + strings.Join(parts, "; ") + "; change it, or override the conflicts"}
	return &ConflictError{Err: e.WithReason("SCHEDULE_CONFLICT"), Conflicts: cs}
}

// overrideNote records conflicts that were overridden, with the note given.
func overrideNote(op string, cs []Conflict, note string) (string, error) {
	note, err := network.CleanText(op, "overrideNote", note, 500, false)
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, len(cs)+1)
	for _, c := range cs {
		switch {
		case c.MeetingID != 0:
			parts = append(parts, fmt.Sprintf("%s with %s", c.Kind, relay.ID("Meeting", c.MeetingID)))
		case c.Index >= 0:
			parts = append(parts, fmt.Sprintf("%s with meeting %d of the round", c.Kind, c.Index+1))
		default:
			parts = append(parts, fmt.Sprintf("%s with %s", c.Kind, c.Title))
		}
	}
	s := "overrode " + strings.Join(parts, ", ")
	if note != "" {
		s += ": " + note
	}
	if utf8.RuneCountInString(s) > maxReason {
		s = string([]rune(s)[:maxReason])
	}
	return s, nil
}

// CreateMeeting plans a meeting of a focus group (ManageMeeting:
// coordinators of its territory, administrators) and invites the focus
// group's invitees: its people, and each invited organization's current
// representatives. It returns NOT_FOUND for a focus group the actor may not
// see, FORBIDDEN for one they may not manage, BAD_USER_INPUT for bad values
// (the field names which), and a *ConflictError (CONFLICT, reason
// SCHEDULE_CONFLICT) when it overlaps a meeting of the same working group,
// at the same venue or with the same facilitator, unless OverrideConflicts,
// which records the conflicts on the meeting.
func (s *Service) CreateMeeting(ctx context.Context, in MeetingInput) (*Meeting, error) {
	const op = "meeting.CreateMeeting"
	ms, err := s.plan(ctx, op, []MeetingInput{in}, nil)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// authorizeFocusGroup checks action in fg's territory; a focus group the
// actor may not read is NOT_FOUND.
func authorizeFocusGroup(ctx context.Context, op string, action access.Action, fg *FocusGroup) error {
	r := access.Resource{TerritoryID: fg.TerritoryID}
	if err := access.Check(ctx, access.ReadRegister, r); err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			return err
		}
		if action != access.ReadMeeting || access.Check(ctx, access.ReadMeeting, access.Resource{Public: true}) != nil {
			return &apperr.Error{Kind: apperr.NotFound, Op: op, Field: "focusGroup", Message: "focus group not found"}
		}
	}
	if action == access.ReadMeeting || action == access.ReadRegister {
		return nil
	}
	return access.Check(ctx, action, r)
}

// plan checks and writes meetings in one transaction: every one, or none.
// Conflicts are looked for against the database and among ins; the
// overrides of each input decide for its own conflicts.
func (s *Service) plan(ctx context.Context, op string, ins []MeetingInput, before func(ctx context.Context, tx bun.Tx) error) ([]*Meeting, error) {
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var out []*Meeting
	var invited map[int64][]*Invitation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if before != nil {
			if err := before(ctx, tx); err != nil {
				return err
			}
		}
		out = make([]*Meeting, 0, len(ins))
		locked := map[int64]bool{}
		for i, in := range ins {
			fg, err := loadFocusGroup(ctx, tx, op, in.FocusGroupID)
			if err != nil {
				return err
			}
			if err := authorizeFocusGroup(ctx, op, access.ManageMeeting, fg); err != nil {
				return err
			}
			if !locked[fg.WorkingGroupID] {
				if err := lockGroupSchedule(ctx, tx, op, fg.WorkingGroupID); err != nil {
					return err
				}
				locked[fg.WorkingGroupID] = true
			}
			m, err := checkInput(op, fg, in)
			if err != nil {
				return indexed(err, len(ins), i)
			}
			if m.FacilitatorID != nil {
				if err := checkPeople(ctx, tx, op, "facilitator", []int64{*m.FacilitatorID}); err != nil {
					return indexed(err, len(ins), i)
				}
			}
			cs, err := conflictsOf(ctx, tx, op, m)
			if err != nil {
				return err
			}
			for j, prev := range out {
				if overlap(m, prev) {
					for _, k := range shared(m, prev) {
						cs = append(cs, Conflict{Kind: k, Index: j, Title: prev.Title, StartsAt: prev.StartsAt, EndsAt: prev.EndsAt})
					}
				}
			}
			if len(cs) > 0 {
				if !in.OverrideConflicts {
					return conflictError(op, cs)
				}
				if m.ConflictNote, err = overrideNote(op, cs, in.OverrideNote); err != nil {
					return err
				}
				m.OverriddenBy = actorID(ctx)
			}
			now := s.now()
			m.CreatedAt, m.UpdatedAt, m.CreatedBy = now, now, actorID(ctx)
			out = append(out, m)
		}
		if _, err := tx.NewInsert().Model(&out).Exec(ctx); err != nil {
			return storage.MapError(op, "meeting", err)
		}
		invited = map[int64][]*Invitation{}
		for _, m := range out {
			invs, err := s.inviteFocusGroup(ctx, tx, op, m)
			if err != nil {
				return err
			}
			invited[m.ID] = invs
		}
		if err := s.logTx(ctx, tx, activity.MeetingNew, out...); err != nil {
			return err
		}
		return s.announceTx(ctx, tx, MeetingCreated, out, invited)
	})
	if err != nil {
		return nil, err
	}
	s.announced(MeetingCreated, out)
	return out, nil
}

// indexed names the meeting of a round an input error is about.
func indexed(err error, n, i int) error {
	if n == 1 {
		return err
	}
	var ae *apperr.Error
	if e, ok := err.(*apperr.Error); ok {
		ae = e
		c := *ae
		c.Message = fmt.Sprintf("meeting %d: %s", i+1, ae.Message)
		return &c
	}
	return err
}

// inviteFocusGroup invites m's focus group's invitees who are not invited
// yet to m, and returns the new invitations: each invited
// person, and each invited organization's current representatives (or,
// when it has none, its delegates), on the organization's behalf. A person
// both invited by name and as a representative is invited once, on the
// organization's behalf. Archived and erased people are left out.
func (s *Service) inviteFocusGroup(ctx context.Context, tx bun.IDB, op string, m *Meeting) ([]*Invitation, error) {
	var invitees []*Invitee
	if err := tx.NewSelect().Model(&invitees).Where("fgi.focus_group_id = ?", m.FocusGroupID).Order("fgi.id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "invitee", err)
	}
	byPerson := map[int64]*Invitation{}
	var order []int64
	add := func(person int64, org *int64) {
		if inv, ok := byPerson[person]; ok {
			if inv.OrganizationID == nil {
				inv.OrganizationID = org
			}
			return
		}
		byPerson[person] = &Invitation{MeetingID: m.ID, PersonID: person, OrganizationID: org}
		order = append(order, person)
	}
	var orgs []int64
	for _, iv := range invitees {
		if iv.OrganizationID != nil {
			orgs = append(orgs, *iv.OrganizationID)
		}
	}
	reps, err := representatives(ctx, tx, op, orgs)
	if err != nil {
		return nil, err
	}
	for _, iv := range invitees {
		if iv.PersonID != nil {
			add(*iv.PersonID, nil)
		}
	}
	for _, org := range orgs {
		for _, p := range reps[org] {
			add(p, &org)
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	var live, already []int64
	if err := tx.NewSelect().Table("people").Column("id").Where("id IN (?)", bun.In(order)).
		Where("archived_at IS NULL").Where("erased_at IS NULL").Scan(ctx, &live); err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	if err := tx.NewSelect().Model((*Invitation)(nil)).Column("person_id").Where("meeting_id = ?", m.ID).
		Scan(ctx, &already); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	now := s.now()
	out := make([]*Invitation, 0, len(order))
	for _, p := range order {
		if !slices.Contains(live, p) || slices.Contains(already, p) {
			continue
		}
		inv := byPerson[p]
		inv.Status, inv.CreatedAt, inv.UpdatedAt, inv.InvitedBy = Pending, now, now, actorID(ctx)
		out = append(out, inv)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if _, err := tx.NewInsert().Model(&out).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	return out, nil
}

// representatives gives, per organization, the people who currently
// represent it: its REPRESENTATIVE affiliations, or its DELEGATE ones when
// it has no representative.
func representatives(ctx context.Context, tx bun.IDB, op string, orgs []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(orgs) == 0 {
		return out, nil
	}
	var rows []struct {
		OrganizationID int64                   `bun:"organization_id"`
		PersonID       int64                   `bun:"person_id"`
		Role           network.AffiliationRole `bun:"role"`
	}
	err := tx.NewSelect().Table("affiliations").Column("organization_id", "person_id", "role").
		Where("organization_id IN (?)", bun.In(orgs)).Where("ended_at IS NULL").
		Where("role IN (?)", bun.In([]network.AffiliationRole{network.Representative, network.Delegate})).
		Order("organization_id", "id").Scan(ctx, &rows)
	if err != nil {
		return nil, storage.MapError(op, "affiliation", err)
	}
	reps, dels := map[int64][]int64{}, map[int64][]int64{}
	for _, r := range rows {
		if r.Role == network.Representative {
			reps[r.OrganizationID] = append(reps[r.OrganizationID], r.PersonID)
		} else {
			dels[r.OrganizationID] = append(dels[r.OrganizationID], r.PersonID)
		}
	}
	for _, o := range orgs {
		if len(reps[o]) > 0 {
			out[o] = reps[o]
		} else {
			out[o] = dels[o]
		}
	}
	return out, nil
}

// UpdateMeeting changes a meeting (ManageMeeting). A held or cancelled
// meeting is closed: CONFLICT reason MEETING_CLOSED. New times, a new venue
// or facilitator are checked for conflicts as in CreateMeeting. A postponed
// meeting given new times is PLANNED again. Every change that calendars
// show raises the meeting's sequence and is mailed to its invitees.
func (s *Service) UpdateMeeting(ctx context.Context, id int64, p MeetingPatch) (*Meeting, error) {
	const op = "meeting.UpdateMeeting"
	var out *Meeting
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := loadMeeting(ctx, tx, op, access.ManageMeeting, id, true)
		if err != nil {
			return err
		}
		if err := lockGroupSchedule(ctx, tx, op, m.WorkingGroupID); err != nil {
			return err
		}
		if m.Status == Held || m.Status == Cancelled {
			return apperr.E(apperr.Conflict, op, "this meeting is %s and can no longer change", strings.ToLower(string(m.Status))).WithReason("MEETING_CLOSED")
		}
		before := *m
		if err := applyPatch(op, m, p); err != nil {
			return err
		}
		if m.FacilitatorID != nil && (before.FacilitatorID == nil || *before.FacilitatorID != *m.FacilitatorID) {
			if err := checkPeople(ctx, tx, op, "facilitator", []int64{*m.FacilitatorID}); err != nil {
				return err
			}
		}
		moved := !m.StartsAt.Equal(before.StartsAt) || !m.EndsAt.Equal(before.EndsAt)
		if m.Status == Postponed && moved {
			m.Status = Planned
		}
		if moved || venueKey(m.Venue) != venueKey(before.Venue) || !equalID(m.FacilitatorID, before.FacilitatorID) || m.Status != before.Status {
			cs, err := conflictsOf(ctx, tx, op, m)
			if err != nil {
				return err
			}
			if len(cs) > 0 {
				if !p.OverrideConflicts {
					return conflictError(op, cs)
				}
				if m.ConflictNote, err = overrideNote(op, cs, p.OverrideNote); err != nil {
					return err
				}
				m.OverriddenBy = actorID(ctx)
			}
		}
		if sameMeeting(&before, m) {
			out = m
			return nil
		}
		m.Sequence++
		m.UpdatedAt = s.now()
		if moved {
			m.ReminderSentAt = nil // a new date deserves its own reminder
		}
		if _, err := tx.NewUpdate().Model(m).WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "meeting", err)
		}
		if capacityGrew(before.Capacity, m.Capacity) {
			if _, err := s.promote(ctx, tx, m); err != nil { // the waiting list moves up (invitation.go)
				return err
			}
		}
		out = m
		if err := s.logTx(ctx, tx, activity.MeetingEdit, m); err != nil {
			return err
		}
		return s.announceTx(ctx, tx, MeetingChanged, []*Meeting{m}, nil)
	})
	if err != nil {
		return nil, err
	}
	s.announced(MeetingChanged, []*Meeting{out})
	return out, nil
}

func equalID(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// sameMeeting reports whether nothing a person would notice changed.
func sameMeeting(a, b *Meeting) bool {
	return a.Title == b.Title && a.Description == b.Description && slices.Equal(a.Agenda, b.Agenda) &&
		a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) && a.Mode == b.Mode && a.Venue == b.Venue &&
		a.OnlineURL == b.OnlineURL && equalInt(a.Capacity, b.Capacity) && slices.EqualFunc(a.Services, b.Services, func(x, y Offer) bool {
		return x.Kind == y.Kind && slices.Equal(x.Languages, y.Languages)
	}) && a.Private == b.Private && equalID(a.FacilitatorID, b.FacilitatorID) && a.Status == b.Status
}

func equalInt(a, b *int) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// applyPatch checks p and applies it to m.
func applyPatch(op string, m *Meeting, p MeetingPatch) error {
	var err error
	if p.Title != nil {
		if m.Title, err = network.CleanText(op, "title", *p.Title, maxTitle, true); err != nil {
			return err
		}
	}
	if p.Description != nil {
		if m.Description, err = network.CleanLongText(op, "description", *p.Description, maxDescription); err != nil {
			return err
		}
	}
	if p.Agenda != nil {
		if m.Agenda, err = checkAgenda(op, *p.Agenda); err != nil {
			return err
		}
	}
	start, end := m.StartsAt, m.EndsAt
	if p.StartsAt != nil {
		start = *p.StartsAt
	}
	if p.EndsAt != nil {
		end = *p.EndsAt
	}
	if p.StartsAt != nil || p.EndsAt != nil {
		if m.StartsAt, m.EndsAt, err = checkTimes(op, start, end); err != nil {
			return err
		}
	}
	if p.Mode != nil {
		m.Mode = *p.Mode
	}
	if p.Venue != nil {
		if m.Venue, err = network.CleanText(op, "venue", *p.Venue, maxVenue, false); err != nil {
			return err
		}
	}
	if p.OnlineURL != nil {
		if m.OnlineURL, err = checkURL(op, "onlineUrl", *p.OnlineURL); err != nil {
			return err
		}
	}
	if err := checkPlace(op, m); err != nil {
		return err
	}
	if p.ClearCapacity {
		m.Capacity = nil
	} else if p.Capacity != nil {
		if err := checkCapacity(op, p.Capacity); err != nil {
			return err
		}
		c := *p.Capacity
		m.Capacity = &c
	}
	if p.Services != nil {
		if m.Services, err = checkOffers(op, *p.Services); err != nil {
			return err
		}
	}
	if p.Private != nil {
		m.Private = *p.Private
	}
	if p.ClearFacilitator {
		m.FacilitatorID = nil
	} else if p.FacilitatorID != nil {
		f := *p.FacilitatorID
		m.FacilitatorID = &f
	}
	return nil
}

// transitions lists where each status may go. HELD and CANCELLED end a
// meeting; a postponed one is planned again with new times (UpdateMeeting)
// or by this transition.
var transitions = map[Status][]Status{
	Planned:   {Confirmed, Held, Postponed, Cancelled},
	Confirmed: {Planned, Held, Postponed, Cancelled},
	Postponed: {Planned, Confirmed, Cancelled},
}

// ChangeStatus moves a meeting to status (ManageMeeting). A move that the
// state machine does not allow is CONFLICT reason BAD_TRANSITION; HELD
// before the meeting starts is CONFLICT reason NOT_STARTED; CANCELLED
// needs a reason (BAD_USER_INPUT otherwise), kept and mailed to the
// invitees with the calendar's cancellation.
func (s *Service) ChangeStatus(ctx context.Context, id int64, status Status, reason string) (*Meeting, error) {
	const op = "meeting.ChangeStatus"
	if !status.Valid() {
		return nil, apperr.Invalid(op, "status", "unknown status %q; the statuses are %v", status, Statuses)
	}
	reason, err := network.CleanText(op, "reason", reason, maxReason, status == Cancelled)
	if err != nil {
		if status == Cancelled && apperr.Is(err, apperr.BadInput) && strings.TrimSpace(reason) == "" {
			return nil, apperr.Invalid(op, "reason", "cancelling a meeting needs a reason, which invitees will read")
		}
		return nil, err
	}
	var out *Meeting
	kind := MeetingChanged
	if status == Cancelled {
		kind = MeetingCancelled
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := loadMeeting(ctx, tx, op, access.ManageMeeting, id, true)
		if err != nil {
			return err
		}
		if !slices.Contains(transitions[m.Status], status) {
			return apperr.E(apperr.Conflict, op, "a %s meeting cannot become %s", m.Status, status).WithReason("BAD_TRANSITION")
		}
		if status == Held && s.now().Before(m.StartsAt) {
			return apperr.E(apperr.Conflict, op, "this meeting starts on %s: it cannot be held before it starts",
				m.StartsAt.In(Rome).Format("02/01/2006 15:04")).WithReason("NOT_STARTED")
		}
		if status == Planned || status == Confirmed {
			// Coming back from POSTPONED puts the meeting in the calendar
			// again: it must not clash with what was planned meanwhile.
			if m.Status == Postponed {
				if err := lockGroupSchedule(ctx, tx, op, m.WorkingGroupID); err != nil {
					return err
				}
				probe := *m
				probe.Status = status
				cs, err := conflictsOf(ctx, tx, op, &probe)
				if err != nil {
					return err
				}
				if len(cs) > 0 {
					return conflictError(op, cs)
				}
			}
		}
		m.Status = status
		if status == Cancelled {
			m.CancelReason = reason
		}
		m.Sequence++
		m.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(m).Column("status", "cancel_reason", "sequence", "updated_at").WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "meeting", err)
		}
		out = m
		if err := s.logTx(ctx, tx, activity.MeetingStatus, m); err != nil {
			return err
		}
		return s.announceTx(ctx, tx, kind, []*Meeting{m}, nil)
	})
	if err != nil {
		return nil, err
	}
	s.announced(kind, []*Meeting{out})
	return out, nil
}

// Meeting returns one meeting the actor may read; NOT_FOUND otherwise.
func (s *Service) Meeting(ctx context.Context, id int64) (*Meeting, error) {
	return loadMeeting(ctx, s.db, "meeting.Meeting", access.ReadMeeting, id, false)
}

// MeetingsByID loads meetings for a batch (dataloader), in at most two
// statements, keeping only those the actor may read.
func (s *Service) MeetingsByID(ctx context.Context, ids []int64) (map[int64]*Meeting, error) {
	const op = "meeting.MeetingsByID"
	out := map[int64]*Meeting{}
	if len(ids) == 0 {
		return out, nil
	}
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var ms []*Meeting
	if err := s.db.NewSelect().Model(&ms).Where("m.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	invited, err := s.invitedAmong(ctx, op, ms)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if authorizeMeeting(ctx, access.ReadMeeting, m, invited[m.ID]) == nil {
			out[m.ID] = m
		}
	}
	return out, nil
}

// invitedAmong tells, for the private ones of ms, whether the actor is
// invited: one statement, none when no meeting is private.
func (s *Service) invitedAmong(ctx context.Context, op string, ms []*Meeting) (map[int64]bool, error) {
	out := map[int64]bool{}
	var private []int64
	for _, m := range ms {
		if m.Private {
			private = append(private, m.ID)
		}
	}
	a := access.ActorFrom(ctx)
	if len(private) == 0 || !a.SignedIn() {
		return out, nil
	}
	var ids []int64
	if err := s.db.NewSelect().Model((*Invitation)(nil)).Column("meeting_id").Where("meeting_id IN (?)", bun.In(private)).
		Where("person_id = ?", a.PersonID).Scan(ctx, &ids); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// MeetingFilter narrows a list of meetings. Zero fields do not filter.
type MeetingFilter struct {
	TerritoryID    int64
	WorkingGroupID int64
	FocusGroupID   int64
	ThemeID        int64
	Statuses       []Status
	From, To       *time.Time // meetings ending after From, starting before To
}

// timeKey is a start time as both engines compare it in the keyset: the
// text bun writes for a time.
func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999-07:00") }

// Meetings lists the meetings the actor may read, by start time then id
// (signed-in people; private meetings only where they may read them).
// Unknown statuses are BAD_USER_INPUT.
func (s *Service) Meetings(ctx context.Context, f MeetingFilter, p relay.PageArgs) (*relay.Page[*Meeting], error) {
	const op = "meeting.Meetings"
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	q := s.db.NewSelect().Model((*Meeting)(nil))
	if f.TerritoryID != 0 {
		q = q.Where("m.territory_id = ?", f.TerritoryID)
	}
	if f.WorkingGroupID != 0 {
		q = q.Where("m.working_group_id = ?", f.WorkingGroupID)
	}
	if f.FocusGroupID != 0 {
		q = q.Where("m.focus_group_id = ?", f.FocusGroupID)
	}
	if f.ThemeID != 0 {
		q = q.Where("m.theme_id = ?", f.ThemeID)
	}
	if len(f.Statuses) > 0 {
		for _, st := range f.Statuses {
			if !st.Valid() {
				return nil, apperr.Invalid(op, "status", "unknown status %q; the statuses are %v", st, Statuses)
			}
		}
		q = q.Where("m.status IN (?)", bun.In(f.Statuses))
	}
	if f.From != nil {
		q = q.Where("m.ends_at > ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("m.starts_at < ?", f.To.UTC())
	}
	// Private meetings: only those of the actor's territories, or to which
	// they are invited, unless they read everything.
	if !a.Has(access.Admin) && !a.Has(access.PolicyMaker) {
		var mine []int64
		for t := range a.Territories {
			mine = append(mine, t)
		}
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("m.private = ?", false).
				WhereOr("m.id IN (SELECT meeting_id FROM meeting_invitations WHERE person_id = ?)", a.PersonID)
			if len(mine) > 0 {
				q = q.WhereOr("m.territory_id IN (?)", bun.In(mine))
			}
			return q
		})
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{Column: "m.starts_at", IDColumn: "m.id"},
		func(m *Meeting) (string, int64) { return timeKey(m.StartsAt), m.ID })
	if err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	return page, nil
}
