package meeting

// Invitations, their answers, delegates and the waiting list.
//
// Decisions:
//
//   - Every change of a meeting's invitations runs with the meeting's row
//     locked (loadMeeting with forUpdate): answers to one meeting queue up,
//     so the count of accepted invitations never passes its capacity.
//   - Only ACCEPTED takes a place. TENTATIVE does not: a "maybe" must not
//     keep out someone who is sure, and a tentative person who later
//     accepts takes a place if one is free, or joins the waiting list.
//   - Accepting a full meeting puts the invitation WAITLISTED, with
//     WaitlistedAt the moment of the answer: the list is served by
//     WaitlistedAt, then id. A newcomer also queues when others are waiting
//     already, even if a place is free, so nobody overtakes the list.
//     WaitlistedAt is set exactly while an invitation is WAITLISTED.
//   - A place frees when an accepted person declines or turns tentative,
//     or when the capacity grows (UpdateMeeting calls promote): the first
//     of the list moves up to ACCEPTED and is mailed (mailPromoted). A
//     waitlisted person who declines or turns tentative leaves the list.
//     Lowering the capacity below the accepted count takes nobody's place:
//     new answers queue until enough places free.
//   - The same answer again changes nothing (an accepted person keeps their
//     place, a waitlisted one their position); only a new comment is kept.
//     An answer's comment replaces the previous one.
//   - Answers, invitations and delegations stop when the meeting starts, is
//     held or is cancelled (CONFLICT reason MEETING_CLOSED); a postponed
//     meeting still takes them.
//   - A representative (an invitation on an organization's behalf) may name
//     a delegate currently affiliated with the same organization. The
//     delegate takes the invitation's standing: an accepted place stays
//     taken (the delegate is ACCEPTED at once), a position on the waiting
//     list is kept (WAITLISTED with the same WaitlistedAt), anything else
//     gives a PENDING invitation the delegate answers. The representative's
//     invitation becomes DELEGATED and can no longer be answered (CONFLICT
//     reason DELEGATED). A delegate who already holds a live invitation to
//     the meeting is CONFLICT reason ALREADY_INVITED; one whose own
//     invitation was delegated (handing it back to the representative) gets
//     that invitation again.
//   - InvitationsOf and Invitation show a meeting's invitations to those
//     who read its register (its working group, policy makers,
//     administrators); an invitee sees their own too. RSVPCounts are shown
//     to whoever reads the meeting.

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// maxComment bounds an answer's comment.
const maxComment = 1000

// RSVPs lists the states of an invitation.
var RSVPs = []RSVP{Pending, Accepted, Declined, Tentative, Waitlisted, Delegated}

// Answers lists the answers a person gives; the other states follow from
// them.
var Answers = []RSVP{Accepted, Declined, Tentative}

// Valid reports whether r is a known state.
func (r RSVP) Valid() bool { return slices.Contains(RSVPs, r) }

// Counts are a meeting's invitations by state.
type Counts struct {
	Pending, Accepted, Declined, Tentative, Waitlisted, Delegated int
}

func (c *Counts) add(st RSVP, n int) {
	switch st {
	case Pending:
		c.Pending += n
	case Accepted:
		c.Accepted += n
	case Declined:
		c.Declined += n
	case Tentative:
		c.Tentative += n
	case Waitlisted:
		c.Waitlisted += n
	case Delegated:
		c.Delegated += n
	}
}

// Delegation is the outcome of Delegate: the representative's invitation,
// now DELEGATED, and the delegate's.
type Delegation struct {
	Original *Invitation
	Delegate *Invitation
}

// closedForInvitations is CONFLICT reason MEETING_CLOSED when m's
// invitations may no longer change: it is held, cancelled or started.
func (s *Service) closedForInvitations(op string, m *Meeting) error {
	if m.Status == Held || m.Status == Cancelled {
		return apperr.E(apperr.Conflict, op, "this meeting is %s: its invitations no longer change",
			strings.ToLower(string(m.Status))).WithReason("MEETING_CLOSED")
	}
	if !s.now().Before(m.StartsAt) {
		return apperr.E(apperr.Conflict, op, "this meeting started on %s: its invitations no longer change",
			m.StartsAt.In(Rome).Format("02/01/2006 15:04")).WithReason("MEETING_CLOSED")
	}
	return nil
}

// authorizeInvitation checks action on inv, of a meeting in territory. An
// invitation the actor may not see (not theirs, and not of a register they
// read) is NOT_FOUND; one they see but may not act on is FORBIDDEN.
func authorizeInvitation(ctx context.Context, op string, action access.Action, inv *Invitation, territory int64) error {
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	if inv.PersonID != a.PersonID && access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: territory}) != nil {
		return apperr.E(apperr.NotFound, op, "invitation not found")
	}
	if action == access.ReadRegister {
		return nil
	}
	return access.Check(ctx, action, access.Resource{OwnerID: inv.PersonID, TerritoryID: territory})
}

// editInvitation reads invitation id for a change (action), with its
// meeting locked until tx ends; the invitation is read after the lock, so
// it is the state every concurrent change waits for.
func editInvitation(ctx context.Context, tx bun.IDB, op string, action access.Action, id int64) (*Invitation, *Meeting, error) {
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	notFound := apperr.E(apperr.NotFound, op, "invitation not found")
	var meetingID int64
	if err := tx.NewSelect().Model((*Invitation)(nil)).Column("meeting_id").Where("id = ?", id).Scan(ctx, &meetingID); err != nil {
		if err = storage.MapError(op, "invitation", err); apperr.Is(err, apperr.NotFound) {
			return nil, nil, notFound
		}
		return nil, nil, err
	}
	m, err := loadMeeting(ctx, tx, op, access.ReadMeeting, meetingID, true)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil, notFound
		}
		return nil, nil, err
	}
	inv := new(Invitation)
	if err := tx.NewSelect().Model(inv).Where("mi.id = ?", id).Scan(ctx); err != nil {
		return nil, nil, storage.MapError(op, "invitation", err)
	}
	if err := authorizeInvitation(ctx, op, action, inv, m.TerritoryID); err != nil {
		return nil, nil, err
	}
	return inv, m, nil
}

// countsOf counts the invitations of meetings by state, in one statement.
func countsOf(ctx context.Context, db bun.IDB, op string, meetingIDs []int64) (map[int64]Counts, error) {
	var rows []struct {
		MeetingID int64 `bun:"meeting_id"`
		Status    RSVP  `bun:"status"`
		N         int   `bun:"n"`
	}
	out := map[int64]Counts{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	if err := db.NewSelect().Model((*Invitation)(nil)).ColumnExpr("mi.meeting_id, mi.status, COUNT(*) AS n").
		Where("mi.meeting_id IN (?)", bun.In(meetingIDs)).GroupExpr("mi.meeting_id, mi.status").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	for _, r := range rows {
		c := out[r.MeetingID]
		c.add(r.Status, r.N)
		out[r.MeetingID] = c
	}
	return out, nil
}

// capacityGrew reports whether a meeting's capacity went from before to
// after and so may make room: a larger number, or no limit.
func capacityGrew(before, after *int) bool {
	return before != nil && (after == nil || *after > *before)
}

// promote moves the first of m's waiting list up into the free places (all
// of it when m has no limit), mails them, and returns their invitations.
// It runs in the transaction that freed the places, with m locked. A
// meeting closed for invitations promotes nobody.
func (s *Service) promote(ctx context.Context, tx bun.IDB, m *Meeting) ([]*Invitation, error) {
	const op = "meeting.promote"
	if s.closedForInvitations(op, m) != nil {
		return nil, nil
	}
	c, err := countsOf(ctx, tx, op, []int64{m.ID})
	if err != nil {
		return nil, err
	}
	n := c[m.ID]
	if n.Waitlisted == 0 {
		return nil, nil
	}
	var queue []*Invitation
	q := tx.NewSelect().Model(&queue).Where("mi.meeting_id = ?", m.ID).Where("mi.status = ?", Waitlisted).
		OrderExpr("mi.waitlisted_at, mi.id")
	if m.Capacity != nil {
		room := *m.Capacity - n.Accepted
		if room <= 0 {
			return nil, nil
		}
		q = q.Limit(room)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	if len(queue) == 0 {
		return nil, nil
	}
	now := s.now()
	ids := make([]int64, len(queue))
	people := make([]int64, len(queue))
	for i, inv := range queue {
		ids[i], people[i] = inv.ID, inv.PersonID
		inv.Status, inv.WaitlistedAt, inv.UpdatedAt = Accepted, nil, now
	}
	if _, err := tx.NewUpdate().Model((*Invitation)(nil)).Set("status = ?", Accepted).Set("waitlisted_at = NULL").
		Set("updated_at = ?", now).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	if err := s.mailPeople(ctx, tx, op, mailPromoted, m, people); err != nil {
		return nil, err
	}
	return queue, nil
}

// AnswerInvitation records an answer (ACCEPTED, DECLINED or TENTATIVE) with
// an optional comment, by the invitee or, for them, a coordinator of the
// meeting's territory or an administrator (AnswerInvitation). It returns
// the invitation as it stands: WAITLISTED when the meeting was full, in the
// order of the waiting list. A declined or tentative place goes to the
// first of the waiting list. Errors: BAD_USER_INPUT for another answer or
// a comment over 1,000 characters; NOT_FOUND for an invitation the actor
// may not see, FORBIDDEN for one they may not answer; CONFLICT reason
// DELEGATED when the invitation was handed to a delegate, MEETING_CLOSED
// when the meeting started, was held or cancelled.
func (s *Service) AnswerInvitation(ctx context.Context, invitationID int64, answer RSVP, comment string) (*Invitation, error) {
	const op = "meeting.AnswerInvitation"
	if !slices.Contains(Answers, answer) {
		return nil, apperr.Invalid(op, "answer", "an answer is one of %v; got %q", Answers, answer)
	}
	comment, err := network.CleanLongText(op, "comment", comment, maxComment)
	if err != nil {
		return nil, err
	}
	var out *Invitation
	var m *Meeting
	changed := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		inv, mt, err := editInvitation(ctx, tx, op, access.AnswerInvitation, invitationID)
		if err != nil {
			return err
		}
		m = mt
		if err := s.closedForInvitations(op, m); err != nil {
			return err
		}
		if inv.Status == Delegated {
			return apperr.E(apperr.Conflict, op, "this invitation was handed to a delegate, who answers it").WithReason("DELEGATED")
		}
		now := s.now()
		next := answer
		if answer == Accepted && inv.Status != Accepted && inv.Status != Waitlisted {
			c, err := countsOf(ctx, tx, op, []int64{m.ID})
			if err != nil {
				return err
			}
			if n := c[m.ID]; m.Capacity != nil && (n.Accepted >= *m.Capacity || n.Waitlisted > 0) {
				next = Waitlisted
				inv.WaitlistedAt = &now
			}
		} else if answer == Accepted {
			next = inv.Status // accepted again: the place, or the position in the list, stays
		}
		if next == inv.Status && comment == inv.Comment {
			out = inv
			return nil
		}
		freed := inv.Status == Accepted && next != Accepted
		if next != Waitlisted {
			inv.WaitlistedAt = nil
		}
		inv.Status, inv.Comment, inv.RespondedAt, inv.UpdatedAt = next, comment, &now, now
		if _, err := tx.NewUpdate().Model(inv).Column("status", "comment", "waitlisted_at", "responded_at", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "invitation", err)
		}
		out, changed = inv, true
		if !freed && next != Waitlisted {
			return nil
		}
		promoted, err := s.promote(ctx, tx, m)
		for _, p := range promoted {
			if p.ID == inv.ID {
				out = p // a place was free after all, and nobody waited before them
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.announced(RSVPChanged, []*Meeting{m})
	}
	return out, nil
}

// checkAffiliated is BAD_USER_INPUT naming field unless person is
// currently affiliated, in any role, with organization org.
func checkAffiliated(ctx context.Context, tx bun.IDB, op, field string, person, org int64) error {
	n, err := tx.NewSelect().Table("affiliations").Where("person_id = ?", person).Where("organization_id = ?", org).
		Where("ended_at IS NULL").Count(ctx)
	if err != nil {
		return storage.MapError(op, "affiliation", err)
	}
	if n == 0 {
		return apperr.Invalid(op, field, "person %s is not currently affiliated with organization %s",
			relay.ID("Person", person), relay.ID("Organization", org))
	}
	return nil
}

func alreadyInvited(op string) error {
	return apperr.E(apperr.Conflict, op, "this person is invited to this meeting already").WithReason("ALREADY_INVITED")
}

// InvitePerson invites one more person to one meeting, not through its
// focus group (ManageMeeting), on behalf of organizationID when given, and
// mails them. Errors: NOT_FOUND for a meeting the actor may not see,
// FORBIDDEN for one they may not manage; BAD_USER_INPUT for an unknown,
// archived or erased person (field "person") or an organization the person
// is not currently affiliated with (field "organization"); CONFLICT reason
// ALREADY_INVITED when they hold an invitation to the meeting, and
// MEETING_CLOSED when it started, was held or cancelled.
func (s *Service) InvitePerson(ctx context.Context, meetingID, personID int64, organizationID *int64) (*Invitation, error) {
	const op = "meeting.InvitePerson"
	var out *Invitation
	var m *Meeting
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if m, err = loadMeeting(ctx, tx, op, access.ManageMeeting, meetingID, true); err != nil {
			return err
		}
		if err := s.closedForInvitations(op, m); err != nil {
			return err
		}
		if err := checkPeople(ctx, tx, op, "person", []int64{personID}); err != nil {
			return err
		}
		if organizationID != nil {
			if err := checkAffiliated(ctx, tx, op, "organization", personID, *organizationID); err != nil {
				return err
			}
		}
		n, err := tx.NewSelect().Model((*Invitation)(nil)).Where("meeting_id = ?", m.ID).Where("person_id = ?", personID).Count(ctx)
		if err != nil {
			return storage.MapError(op, "invitation", err)
		}
		if n > 0 {
			return alreadyInvited(op)
		}
		now := s.now()
		out = &Invitation{MeetingID: m.ID, PersonID: personID, OrganizationID: organizationID, Status: Pending,
			CreatedAt: now, UpdatedAt: now, InvitedBy: actorID(ctx)}
		if _, err := tx.NewInsert().Model(out).Exec(ctx); err != nil {
			if storage.ViolationOf(err) == storage.UniqueViolation {
				return alreadyInvited(op)
			}
			return storage.MapError(op, "invitation", err)
		}
		return s.mailPeople(ctx, tx, op, mailInvitedAlone, m, []int64{personID})
	})
	if err != nil {
		return nil, err
	}
	s.announced(RSVPChanged, []*Meeting{m})
	return out, nil
}

// Delegate hands an invitation on an organization's behalf to delegateID,
// who is currently affiliated with the same organization (by the invitee,
// or a coordinator of the territory or an administrator: AnswerInvitation).
// The delegate takes the invitation's standing (see the decisions above)
// and is mailed. Errors: NOT_FOUND and FORBIDDEN as AnswerInvitation;
// BAD_USER_INPUT (field "delegate") for the invitee themselves, an unknown,
// archived or erased person, or one not affiliated with the organization;
// CONFLICT reason PERSONAL_INVITATION for an invitation on nobody's behalf,
// DELEGATED when it was delegated already, ALREADY_INVITED when the
// delegate holds an invitation to the meeting, MEETING_CLOSED when the
// meeting started, was held or cancelled.
func (s *Service) Delegate(ctx context.Context, invitationID, delegateID int64) (*Delegation, error) {
	const op = "meeting.Delegate"
	var out *Delegation
	var m *Meeting
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		inv, mt, err := editInvitation(ctx, tx, op, access.AnswerInvitation, invitationID)
		if err != nil {
			return err
		}
		m = mt
		if err := s.closedForInvitations(op, m); err != nil {
			return err
		}
		if inv.Status == Delegated {
			return apperr.E(apperr.Conflict, op, "this invitation was handed to a delegate already").WithReason("DELEGATED")
		}
		if inv.OrganizationID == nil {
			return apperr.E(apperr.Conflict, op, "this invitation is personal, not on an organization's behalf: it cannot be delegated").
				WithReason("PERSONAL_INVITATION")
		}
		if delegateID == inv.PersonID {
			return apperr.Invalid(op, "delegate", "name someone other than the invitee as delegate")
		}
		if err := checkPeople(ctx, tx, op, "delegate", []int64{delegateID}); err != nil {
			return err
		}
		if err := checkAffiliated(ctx, tx, op, "delegate", delegateID, *inv.OrganizationID); err != nil {
			return err
		}
		var held []*Invitation
		if err := tx.NewSelect().Model(&held).Where("mi.meeting_id = ?", m.ID).Where("mi.person_id = ?", delegateID).
			Scan(ctx); err != nil {
			return storage.MapError(op, "invitation", err)
		}
		if len(held) > 0 && held[0].Status != Delegated {
			return alreadyInvited(op)
		}
		now := s.now()
		d := &Invitation{MeetingID: m.ID, PersonID: delegateID, CreatedAt: now}
		if len(held) > 0 {
			d = held[0]
		}
		// A handed-back invitation starts afresh: its old answer and
		// comment no longer stand.
		d.OrganizationID, d.DelegatedToID, d.RespondedAt, d.WaitlistedAt, d.Comment = inv.OrganizationID, nil, nil, nil, ""
		d.Status, d.UpdatedAt, d.InvitedBy = Pending, now, actorID(ctx)
		switch inv.Status {
		case Accepted:
			d.Status = Accepted
		case Waitlisted:
			d.Status, d.WaitlistedAt = Waitlisted, inv.WaitlistedAt
		}
		inv.Status, inv.DelegatedToID, inv.WaitlistedAt, inv.RespondedAt, inv.UpdatedAt = Delegated, &delegateID, nil, &now, now
		if _, err := tx.NewUpdate().Model(inv).Column("status", "delegated_to_id", "waitlisted_at", "responded_at", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "invitation", err)
		}
		if d.ID == 0 {
			_, err = tx.NewInsert().Model(d).Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(d).WherePK().Exec(ctx)
		}
		if err != nil {
			if storage.ViolationOf(err) == storage.UniqueViolation {
				return alreadyInvited(op)
			}
			return storage.MapError(op, "invitation", err)
		}
		out = &Delegation{Original: inv, Delegate: d}
		return s.mailPeople(ctx, tx, op, mailDelegated, m, []int64{delegateID})
	})
	if err != nil {
		return nil, err
	}
	s.announced(RSVPChanged, []*Meeting{m})
	return out, nil
}

// Invitation returns one invitation: the actor's own, or one of a meeting
// whose register they read; NOT_FOUND otherwise.
func (s *Service) Invitation(ctx context.Context, id int64) (*Invitation, error) {
	const op = "meeting.Invitation"
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var row struct {
		Invitation
		TerritoryID int64 `bun:"territory_id"`
	}
	if err := s.db.NewSelect().Model((*Invitation)(nil)).ColumnExpr("mi.*, m.territory_id").
		Join("JOIN meetings AS m ON m.id = mi.meeting_id").Where("mi.id = ?", id).Scan(ctx, &row); err != nil {
		if err = storage.MapError(op, "invitation", err); apperr.Is(err, apperr.NotFound) {
			return nil, apperr.E(apperr.NotFound, op, "invitation not found")
		}
		return nil, err
	}
	if err := authorizeInvitation(ctx, op, access.ReadRegister, &row.Invitation, row.TerritoryID); err != nil {
		return nil, err
	}
	return &row.Invitation, nil
}

// InvitationsOf gives the invitations of meetings, in the order they were
// made, in one statement, for loaders: all of a meeting's to those who
// read its register, and to anyone else their own.
func (s *Service) InvitationsOf(ctx context.Context, meetingIDs []int64) (map[int64][]*Invitation, error) {
	const op = "meeting.InvitationsOf"
	out := map[int64][]*Invitation{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var rows []struct {
		Invitation
		TerritoryID int64 `bun:"territory_id"`
	}
	if err := s.db.NewSelect().Model((*Invitation)(nil)).ColumnExpr("mi.*, m.territory_id").
		Join("JOIN meetings AS m ON m.id = mi.meeting_id").Where("mi.meeting_id IN (?)", bun.In(meetingIDs)).
		Order("mi.id").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	for i := range rows {
		inv := &rows[i].Invitation
		if authorizeInvitation(ctx, op, access.ReadRegister, inv, rows[i].TerritoryID) == nil {
			out[inv.MeetingID] = append(out[inv.MeetingID], inv)
		}
	}
	return out, nil
}

// MyInvitationsFilter narrows the actor's own invitations.
type MyInvitationsFilter struct {
	// Statuses keeps these states only; empty keeps all. Unknown ones are
	// BAD_USER_INPUT.
	Statuses []RSVP
	// Past includes meetings that have ended; by default only those still
	// to come or under way are listed (cancelled ones included, so that
	// the cancellation shows).
	Past bool
}

// myInvitation is an invitation with its meeting's start, the list's
// order.
type myInvitation struct {
	Invitation
	StartsAt time.Time `bun:"meeting_starts_at"`
}

// MyInvitations lists the actor's own invitations by their meeting's start,
// then id, in pages (every signed-in person).
func (s *Service) MyInvitations(ctx context.Context, f MyInvitationsFilter, p relay.PageArgs) (*relay.Page[*Invitation], error) {
	const op = "meeting.MyInvitations"
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	q := s.db.NewSelect().Model((*Invitation)(nil)).ColumnExpr("mi.*, m.starts_at AS meeting_starts_at").
		Join("JOIN meetings AS m ON m.id = mi.meeting_id").Where("mi.person_id = ?", a.PersonID)
	if len(f.Statuses) > 0 {
		for _, st := range f.Statuses {
			if !st.Valid() {
				return nil, apperr.Invalid(op, "status", "unknown state %q; the states are %v", st, RSVPs)
			}
		}
		q = q.Where("mi.status IN (?)", bun.In(f.Statuses))
	}
	if !f.Past {
		q = q.Where("m.ends_at > ?", s.now())
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{Column: "m.starts_at", IDColumn: "mi.id"},
		func(r *myInvitation) (string, int64) { return timeKey(r.StartsAt), r.ID })
	if err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	out := &relay.Page[*Invitation]{Cursors: page.Cursors, HasNextPage: page.HasNextPage,
		HasPreviousPage: page.HasPreviousPage, TotalCount: page.TotalCount, Items: make([]*Invitation, len(page.Items))}
	for i, r := range page.Items {
		out.Items[i] = &r.Invitation
	}
	return out, nil
}

// RSVPCounts counts the invitations of meetings by state, in one
// statement, for the meetings the actor reads. A meeting without
// invitations, or that the actor may not read, has no entry: read it as
// zero.
func (s *Service) RSVPCounts(ctx context.Context, meetingIDs []int64) (map[int64]Counts, error) {
	const op = "meeting.RSVPCounts"
	out := map[int64]Counts{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var rows []struct {
		MeetingID   int64 `bun:"meeting_id"`
		TerritoryID int64 `bun:"territory_id"`
		Private     bool  `bun:"private"`
		Status      RSVP  `bun:"status"`
		N           int   `bun:"n"`
		Mine        int   `bun:"mine"` // the actor's own invitations among them
	}
	if err := s.db.NewSelect().Model((*Invitation)(nil)).
		ColumnExpr("mi.meeting_id, m.territory_id, m.private, mi.status, COUNT(*) AS n").
		ColumnExpr("SUM(CASE WHEN mi.person_id = ? THEN 1 ELSE 0 END) AS mine", a.PersonID).
		Join("JOIN meetings AS m ON m.id = mi.meeting_id").Where("mi.meeting_id IN (?)", bun.In(meetingIDs)).
		GroupExpr("mi.meeting_id, m.territory_id, m.private, mi.status").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	invited := map[int64]bool{}
	for _, r := range rows {
		if r.Mine > 0 {
			invited[r.MeetingID] = true
		}
	}
	for _, r := range rows {
		if authorizeMeeting(ctx, access.ReadMeeting, &Meeting{TerritoryID: r.TerritoryID, Private: r.Private}, invited[r.MeetingID]) != nil {
			continue
		}
		c := out[r.MeetingID]
		c.add(r.Status, r.N)
		out[r.MeetingID] = c
	}
	return out, nil
}
