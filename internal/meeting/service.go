// Package meeting holds the four thematic focus groups of each territory's
// working group and their meetings: planning (one at a time or the four of a
// round in one step) with conflict detection, the status of each meeting,
// invitations with answers, delegates and a waiting list, the attendance
// register and its export, minutes, the calendar feeds (RFC 5545) and the
// mail that announces each change. Every method checks the actor in its
// context with package access.
//
// It reads the directory (people, their current affiliations) inside its
// own transactions, so that an invitation and the mail announcing it see one
// state; it writes only its own tables and the mail outbox.
package meeting

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Rome is where meetings take place: times are stored in UTC and shown,
// mailed and put in calendars in this zone.
var Rome = mustRome()

func mustRome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic("meeting: no time zone data for Europe/Rome: import time/tzdata in the binary: " + err.Error())
	}
	return loc
}

// Options configure a Service.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// PublicURL is where PIA is served (links in mail and calendars).
	PublicURL string
	// MailQueued, when set, is told after a commit that queued mail.
	MailQueued func()
	// Broadcast, when set, tells the other instances of PIA (on
	// PostgreSQL) about each event, as a JSON object of kind "meeting":
	// coedit.Service.Broadcast in cmd/piad, whose channel already reaches
	// every instance. Their FromPeer publishes it to their subscribers.
	Broadcast func(ctx context.Context, payload []byte)
}

// Service manages focus groups and meetings.
type Service struct {
	db  *bun.DB
	o   Options
	hub *hub
}

// NewService returns a Service on db.
func NewService(db *bun.DB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, o: o, hub: newHub()}
}

// now is the current time, to the microsecond both engines keep.
func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// mailQueued wakes the mail deliverer.
func (s *Service) mailQueued() {
	if s.o.MailQueued != nil {
		s.o.MailQueued()
	}
}

// actorID is the person acting, for created_by columns; nil when anonymous.
func actorID(ctx context.Context) *int64 {
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil
	}
	id := a.PersonID
	return &id
}

// CreateFocusGroups creates the four focus groups, one per theme, of the
// working group groupID in territoryID, through tx. package network calls it
// in the transaction that creates the group (network.Options.GroupCreated).
func CreateFocusGroups(ctx context.Context, tx bun.IDB, groupID, territoryID int64, now time.Time) error {
	const op = "meeting.CreateFocusGroups"
	var themes []int64
	if err := tx.NewSelect().Table("themes").Column("id").Order("id").Scan(ctx, &themes); err != nil {
		return storage.MapError(op, "theme", err)
	}
	rows := make([]*FocusGroup, 0, len(themes))
	for _, th := range themes {
		rows = append(rows, &FocusGroup{WorkingGroupID: groupID, TerritoryID: territoryID, ThemeID: th, CreatedAt: now, UpdatedAt: now})
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.NewInsert().Model(&rows).Exec(ctx)
	return storage.MapError(op, "focus group", err)
}

// resourceOf is what access rules see of a meeting.
func resourceOf(m *Meeting) access.Resource {
	return access.Resource{TerritoryID: m.TerritoryID, Public: !m.Private}
}

// authorizeMeeting checks action on m. A meeting the actor may not read is
// NOT_FOUND, so ids cannot be probed; one they read but may not act on is
// FORBIDDEN. invitee says that the actor is invited to m, which lets them
// read it even when it is private.
func authorizeMeeting(ctx context.Context, action access.Action, m *Meeting, invitee bool) error {
	r := resourceOf(m)
	if invitee {
		r.OwnerID = access.ActorFrom(ctx).PersonID
	}
	if err := access.Check(ctx, access.ReadMeeting, r); err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			return err
		}
		return apperr.E(apperr.NotFound, string(action), "meeting not found")
	}
	if action == access.ReadMeeting {
		return nil
	}
	return access.Check(ctx, action, r)
}

// isInvited reports whether the actor holds an invitation to meeting id.
func isInvited(ctx context.Context, db bun.IDB, meetingID int64) (bool, error) {
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return false, nil
	}
	n, err := db.NewSelect().Model((*Invitation)(nil)).Where("meeting_id = ?", meetingID).Where("person_id = ?", a.PersonID).Count(ctx)
	if err != nil {
		return false, storage.MapError("meeting.isInvited", "invitation", err)
	}
	return n > 0, nil
}

// loadMeeting reads meeting id and checks action on it (see
// authorizeMeeting). With forUpdate, on PostgreSQL, the row is locked
// until tx ends, so concurrent changes of one meeting queue up.
func loadMeeting(ctx context.Context, db bun.IDB, op string, action access.Action, id int64, forUpdate bool) (*Meeting, error) {
	m := new(Meeting)
	q := db.NewSelect().Model(m).Where("m.id = ?", id)
	if forUpdate && storage.EngineOf(db) == storage.Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		err = storage.MapError(op, "meeting", err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.E(apperr.NotFound, op, "meeting not found")
		}
		return nil, err
	}
	invited := false
	if m.Private {
		var err error
		if invited, err = isInvited(ctx, db, id); err != nil {
			return nil, err
		}
	}
	if err := authorizeMeeting(ctx, action, m, invited); err != nil {
		return nil, err
	}
	return m, nil
}

// logTx writes kind about each of ms to the activity log in tx: the
// meeting's status for MEETING_STATUS_CHANGED, its title unless private.
func (s *Service) logTx(ctx context.Context, tx bun.IDB, kind activity.Kind, ms ...*Meeting) error {
	entries := make([]activity.Entry, len(ms))
	for i, m := range ms {
		id, theme := m.ID, m.ThemeID
		entries[i] = activity.Entry{Kind: kind, TerritoryID: m.TerritoryID, ThemeID: &theme, MeetingID: &id,
			Title: m.Title, Private: m.Private}
		if kind == activity.MeetingStatus {
			entries[i].Status = string(m.Status)
		}
	}
	return activity.Record(ctx, tx, s.now(), entries...)
}
