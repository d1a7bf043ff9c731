package meeting_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// snapshot is every row of the meeting tables and the outbox, as text, to
// show that a refused request changed nothing.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var b strings.Builder
	for _, table := range []string{"meetings", "focus_group_invitees", "meeting_invitations", "meeting_attendance",
		"meeting_minutes", "meeting_minutes_sections", "mail_outbox"} {
		var rows []map[string]any
		if err := f.db.NewSelect().Table(table).Scan(context.Background(), &rows); err != nil {
			f.t.Fatalf("snapshot %s: %v", table, err)
		}
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = fmt.Sprint(r)
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s:\n%s\n", table, strings.Join(lines, "\n"))
	}
	return b.String()
}

// unchanged fails the test when the database differs from before.
func (f *fixture) unchanged(before, what string) {
	f.t.Helper()
	if f.snapshot() != before {
		f.t.Errorf("%s changed the database", what)
	}
}

// refused checks that err is of kind with reason (when not empty) and, for
// BAD_USER_INPUT, names field (when not empty).
func refused(t *testing.T, what string, err error, k apperr.Kind, reason, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != k || ae.Reason != reason || (field != "" && ae.Field != field) {
		t.Errorf("%s: %v, want %s %s %s", what, err, k, reason, field)
	}
}

// people inserts n people of the directory in no group.
func (f *fixture) people(n int) []*access.Actor {
	out := make([]*access.Actor, n)
	for i := range out {
		out[i] = f.actor(fmt.Sprintf("Persona %02d", i+1), nil)
	}
	return out
}

// invitedMeeting invites people to Enna's health focus group and plans a
// meeting of it on day d of April 2026, 10:00 in Rome, with capacity (0:
// none); it returns the meeting and each person's invitation.
func (f *fixture) invitedMeeting(d, capacity int, people ...*access.Actor) (*meeting.Meeting, map[int64]*meeting.Invitation) {
	f.t.Helper()
	ids := make([]int64, len(people))
	for i, p := range people {
		ids[i] = p.PersonID
	}
	if _, err := f.svc.AddInvitees(f.as(f.coord), f.focus["EN"]["HEALTH"], ids, nil); err != nil {
		f.t.Fatal(err)
	}
	in := f.input(rome(2026, 4, d, 10, 0))
	if capacity > 0 {
		in.Capacity = &capacity
	}
	m := f.create(in)
	return m, f.invitations(m.ID)
}

// invitations reads a meeting's invitations by person.
func (f *fixture) invitations(meetingID int64) map[int64]*meeting.Invitation {
	f.t.Helper()
	var invs []*meeting.Invitation
	if err := f.db.NewSelect().Model(&invs).Where("meeting_id = ?", meetingID).Scan(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	out := map[int64]*meeting.Invitation{}
	for _, inv := range invs {
		out[inv.PersonID] = inv
	}
	return out
}

// answer answers as a and fails the test on an error.
func (f *fixture) answer(a *access.Actor, inv *meeting.Invitation, r meeting.RSVP, comment string) *meeting.Invitation {
	f.t.Helper()
	got, err := f.svc.AnswerInvitation(f.as(a), inv.ID, r, comment)
	if err != nil {
		f.t.Fatalf("answer %s as %d: %v", r, a.PersonID, err)
	}
	return got
}

// mailsTo lists the subjects mailed to a, in order.
func (f *fixture) mailsTo(a *access.Actor) []string {
	f.t.Helper()
	var email string
	if err := f.db.NewSelect().Table("people").Column("email").Where("id = ?", a.PersonID).Scan(context.Background(), &email); err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range f.mails() {
		if m.To == email {
			out = append(out, m.Subject)
		}
	}
	return out
}

func (f *fixture) counts(m *meeting.Meeting) meeting.Counts {
	f.t.Helper()
	c, err := f.svc.RSVPCounts(f.as(f.coord), []int64{m.ID})
	if err != nil {
		f.t.Fatal(err)
	}
	return c[m.ID]
}

// TestWaitingList: a meeting of two places fills, then queues in order of
// answer; places freed by a decline, a tentative answer and a larger
// capacity go to the first of the list, who is mailed.
func TestWaitingList(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		p := f.people(7)
		m, inv := f.invitedMeeting(10, 2, p...)
		events, err := f.svc.Subscribe(f.as(f.coord), f.terr["EN"])
		if err != nil {
			t.Fatal(err)
		}
		if got := f.answer(p[0], inv[p[0].PersonID], meeting.Accepted, ""); got.Status != meeting.Accepted || got.RespondedAt == nil {
			t.Errorf("first accept: %+v", got)
		}
		select {
		case ev := <-events:
			if ev.Kind != meeting.RSVPChanged || ev.MeetingID != m.ID {
				t.Errorf("event %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Error("no event for an answer")
		}
		f.answer(p[1], inv[p[1].PersonID], meeting.Accepted, "")
		w := f.answer(p[2], inv[p[2].PersonID], meeting.Accepted, "")
		if w.Status != meeting.Waitlisted || w.WaitlistedAt == nil || !w.WaitlistedAt.Equal(f.clock.Now()) {
			t.Errorf("accepting a full meeting: %+v", w)
		}
		f.clock.Advance(time.Minute)
		f.answer(p[3], inv[p[3].PersonID], meeting.Accepted, "")
		if c := f.counts(m); c != (meeting.Counts{Pending: 3, Accepted: 2, Waitlisted: 2}) {
			t.Errorf("counts %+v", c)
		}
		// Accepting again changes nothing; a new comment is kept.
		before := f.snapshot()
		if again := f.answer(p[0], inv[p[0].PersonID], meeting.Accepted, ""); again.Status != meeting.Accepted {
			t.Errorf("accepting again: %+v", again)
		}
		f.unchanged(before, "accepting again")
		if again := f.answer(p[2], inv[p[2].PersonID], meeting.Accepted, "in attesa"); again.Status != meeting.Waitlisted ||
			!again.WaitlistedAt.Equal(w.WaitlistedAt.UTC()) || again.Comment != "in attesa" {
			t.Errorf("a waitlisted person accepting again keeps their position: %+v", again)
		}
		// A decline frees a place: the first of the list moves up.
		f.clock.Advance(time.Minute)
		if d := f.answer(p[0], inv[p[0].PersonID], meeting.Declined, "  Impegno di lavoro\r\n"); d.Status != meeting.Declined || d.Comment != "Impegno di lavoro" {
			t.Errorf("decline: %+v", d)
		}
		now := f.invitations(m.ID)
		if now[p[2].PersonID].Status != meeting.Accepted || now[p[2].PersonID].WaitlistedAt != nil || now[p[3].PersonID].Status != meeting.Waitlisted {
			t.Errorf("after a decline: %+v, %+v", now[p[2].PersonID], now[p[3].PersonID])
		}
		if s := f.mailsTo(p[2]); len(s) != 2 || !strings.HasPrefix(s[1], "Posto confermato: ") {
			t.Errorf("mails to the promoted person: %q", s)
		}
		// Tentative takes no place: the next one moves up.
		f.answer(p[1], inv[p[1].PersonID], meeting.Tentative, "")
		if st := f.invitations(m.ID)[p[3].PersonID].Status; st != meeting.Accepted {
			t.Errorf("after a tentative answer the next is %s", st)
		}
		// A waitlisted person who declines leaves the list.
		f.answer(p[4], inv[p[4].PersonID], meeting.Accepted, "")
		if d := f.answer(p[4], inv[p[4].PersonID], meeting.Declined, ""); d.Status != meeting.Declined || d.WaitlistedAt != nil {
			t.Errorf("declining from the list: %+v", d)
		}
		// The tentative one accepts: full, so they queue, then a larger
		// capacity takes them in, and no limit takes everyone.
		if q := f.answer(p[1], inv[p[1].PersonID], meeting.Accepted, ""); q.Status != meeting.Waitlisted {
			t.Errorf("tentative accepting a full meeting: %+v", q)
		}
		f.clock.Advance(time.Minute)
		f.answer(p[5], inv[p[5].PersonID], meeting.Accepted, "")
		f.answer(p[6], inv[p[6].PersonID], meeting.Accepted, "")
		three := 3
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{Capacity: &three}); err != nil {
			t.Fatal(err)
		}
		now = f.invitations(m.ID)
		if now[p[1].PersonID].Status != meeting.Accepted || now[p[5].PersonID].Status != meeting.Waitlisted {
			t.Errorf("capacity 3: %s %s", now[p[1].PersonID].Status, now[p[5].PersonID].Status)
		}
		if c := f.counts(m); c != (meeting.Counts{Accepted: 3, Declined: 2, Waitlisted: 2}) {
			t.Errorf("counts %+v", c)
		}
		// Lowering the capacity takes nobody's place.
		one := 1
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{Capacity: &one}); err != nil {
			t.Fatal(err)
		}
		if c := f.counts(m); c.Accepted != 3 {
			t.Errorf("lowering the capacity: %+v", c)
		}
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{ClearCapacity: true}); err != nil {
			t.Fatal(err)
		}
		if c := f.counts(m); c != (meeting.Counts{Accepted: 5, Declined: 2}) {
			t.Errorf("no limit: %+v", c)
		}
		if s := f.mailsTo(p[6]); !slices.ContainsFunc(s, func(s string) bool { return strings.HasPrefix(s, "Posto confermato: ") }) {
			t.Errorf("mails to the last promoted: %q", s)
		}
	})
}

// TestBadAnswers: bad answers, comments, closed meetings and delegated
// invitations are refused and change nothing.
func TestBadAnswers(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		p := f.people(2)
		m, inv := f.invitedMeeting(10, 0, p...)
		org := f.orgA
		rep, err := f.svc.InvitePerson(f.as(f.coord), m.ID, f.repA.PersonID, &org)
		if err != nil {
			t.Fatal(err)
		}
		before := f.snapshot()
		for _, r := range []meeting.RSVP{meeting.Pending, meeting.Waitlisted, meeting.Delegated, "MAYBE", ""} {
			_, err := f.svc.AnswerInvitation(f.as(p[0]), inv[p[0].PersonID].ID, r, "")
			refused(t, "answer "+string(r), err, apperr.BadInput, "", "answer")
		}
		_, err = f.svc.AnswerInvitation(f.as(p[0]), inv[p[0].PersonID].ID, meeting.Accepted, strings.Repeat("a", 1001))
		refused(t, "a long comment", err, apperr.BadInput, "", "comment")
		_, err = f.svc.AnswerInvitation(f.as(p[0]), inv[p[0].PersonID].ID, meeting.Accepted, "a\x00b")
		refused(t, "a comment with NUL", err, apperr.BadInput, "", "comment")
		_, err = f.svc.AnswerInvitation(f.as(p[0]), 999_999, meeting.Accepted, "")
		refused(t, "unknown invitation", err, apperr.NotFound, "", "")
		// Only the invitee, the territory's coordinators and admins answer.
		for _, c := range []struct {
			who  string
			a    *access.Actor
			want apperr.Kind
		}{
			{"anonymous", access.Anonymous, apperr.Unauthenticated},
			{"another invitee", p[1], apperr.NotFound},
			{"a stranger", f.stranger, apperr.NotFound},
			{"another territory's coordinator", f.outside, apperr.NotFound},
			{"a member, who reads the register", f.member, apperr.Forbidden},
			{"a policy maker", f.policy, apperr.Forbidden},
		} {
			_, err := f.svc.AnswerInvitation(f.as(c.a), inv[p[0].PersonID].ID, meeting.Accepted, "")
			refused(t, c.who, err, c.want, "", "")
		}
		f.unchanged(before, "refused answers")
		if got := f.answer(f.coord, inv[p[0].PersonID], meeting.Accepted, "al telefono"); got.Status != meeting.Accepted {
			t.Errorf("a coordinator answering for the invitee: %+v", got)
		}
		f.answer(f.admin, inv[p[1].PersonID], meeting.Declined, "")
		// A delegated invitation is the delegate's to answer.
		if _, err := f.svc.Delegate(f.as(f.repA), rep.ID, f.staffA.PersonID); err != nil {
			t.Fatal(err)
		}
		before = f.snapshot()
		_, err = f.svc.AnswerInvitation(f.as(f.repA), rep.ID, meeting.Accepted, "")
		refused(t, "answering a delegated invitation", err, apperr.Conflict, "DELEGATED", "")
		f.unchanged(before, "answering a delegated invitation")
		// Started, held, cancelled: closed.
		f.clock.Advance(m.StartsAt.Sub(f.clock.Now()))
		before = f.snapshot()
		_, err = f.svc.AnswerInvitation(f.as(p[0]), inv[p[0].PersonID].ID, meeting.Declined, "")
		refused(t, "answering once the meeting started", err, apperr.Conflict, "MEETING_CLOSED", "")
		f.unchanged(before, "answering a started meeting")
		later, linv := f.invitedMeeting(20, 0)
		lrep, err := f.svc.InvitePerson(f.as(f.coord), later.ID, f.repA.PersonID, &org)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), later.ID, meeting.Cancelled, "maltempo"); err != nil {
			t.Fatal(err)
		}
		before = f.snapshot()
		_, err = f.svc.AnswerInvitation(f.as(p[0]), linv[p[0].PersonID].ID, meeting.Accepted, "")
		refused(t, "answering a cancelled meeting", err, apperr.Conflict, "MEETING_CLOSED", "")
		_, err = f.svc.Delegate(f.as(f.repA), lrep.ID, f.staffA.PersonID)
		refused(t, "delegating for a cancelled meeting", err, apperr.Conflict, "MEETING_CLOSED", "")
		_, err = f.svc.InvitePerson(f.as(f.coord), later.ID, f.stranger.PersonID, nil)
		refused(t, "inviting to a cancelled meeting", err, apperr.Conflict, "MEETING_CLOSED", "")
		f.unchanged(before, "refusals on a cancelled meeting")
	})
}

// TestConcurrentAccepts: many people accepting at once fill the places
// exactly, the rest queue.
func TestConcurrentAccepts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		var woken atomic.Int64 // the fixture's counter is not for concurrent use
		f := newFixture(t, db, func(o *meeting.Options) { o.MailQueued = func() { woken.Add(1) } })
		p := f.people(12)
		m, inv := f.invitedMeeting(10, 3, p...)
		var wg sync.WaitGroup
		errs := make(chan error, len(p))
		for _, a := range p {
			wg.Go(func() {
				_, err := f.svc.AnswerInvitation(f.as(a), inv[a.PersonID].ID, meeting.Accepted, "")
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if c := f.counts(m); c != (meeting.Counts{Accepted: 3, Waitlisted: 9}) {
			t.Errorf("counts after concurrent accepts: %+v", c)
		}
		// Concurrent declines of the accepted promote one each.
		var accepted []*access.Actor
		for _, a := range p {
			if f.invitations(m.ID)[a.PersonID].Status == meeting.Accepted {
				accepted = append(accepted, a)
			}
		}
		for _, a := range accepted {
			wg.Go(func() {
				if _, err := f.svc.AnswerInvitation(f.as(a), inv[a.PersonID].ID, meeting.Declined, ""); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if c := f.counts(m); c != (meeting.Counts{Accepted: 3, Declined: 3, Waitlisted: 6}) {
			t.Errorf("counts after concurrent declines: %+v", c)
		}
	})
}

func TestInvitePerson(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		m, _ := f.invitedMeeting(10, 0, f.member)
		got, err := f.svc.InvitePerson(f.as(f.coord), m.ID, f.stranger.PersonID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != meeting.Pending || got.OrganizationID != nil || got.InvitedBy == nil || *got.InvitedBy != f.coord.PersonID {
			t.Errorf("invited: %+v", got)
		}
		if s := f.mailsTo(f.stranger); len(s) != 1 || !strings.HasPrefix(s[0], "Invito: ") {
			t.Errorf("mails: %q", s)
		}
		// The focus group's list is not touched: the stranger is invited
		// to this meeting alone.
		if n := f.count("focus_group_invitees"); n != 1 {
			t.Errorf("%d focus group invitees", n)
		}
		org := f.orgA
		staff, err := f.svc.InvitePerson(f.as(f.admin), m.ID, f.staffA.PersonID, &org)
		if err != nil || staff.OrganizationID == nil || *staff.OrganizationID != f.orgA {
			t.Fatalf("on behalf of the municipality: %+v %v", staff, err)
		}
		before := f.snapshot()
		_, err = f.svc.InvitePerson(f.as(f.coord), m.ID, f.repB.PersonID, &org)
		refused(t, "an organization the person is not affiliated with", err, apperr.BadInput, "", "organization")
		ghost := int64(999_999)
		_, err = f.svc.InvitePerson(f.as(f.coord), m.ID, f.repA.PersonID, &ghost)
		refused(t, "an unknown organization", err, apperr.BadInput, "", "organization")
		_, err = f.svc.InvitePerson(f.as(f.coord), m.ID, ghost, nil)
		refused(t, "an unknown person", err, apperr.BadInput, "", "person")
		_, err = f.svc.InvitePerson(f.as(f.coord), m.ID, f.member.PersonID, nil)
		refused(t, "invited through the focus group", err, apperr.Conflict, "ALREADY_INVITED", "")
		_, err = f.svc.InvitePerson(f.as(f.coord), m.ID, f.stranger.PersonID, nil)
		refused(t, "invited already", err, apperr.Conflict, "ALREADY_INVITED", "")
		_, err = f.svc.InvitePerson(f.as(f.member), m.ID, f.repA.PersonID, nil)
		refused(t, "a member inviting", err, apperr.Forbidden, "", "")
		_, err = f.svc.InvitePerson(f.as(f.outside), m.ID, f.repA.PersonID, nil)
		refused(t, "another territory's coordinator inviting", err, apperr.Forbidden, "", "")
		_, err = f.svc.InvitePerson(f.as(f.coord), 999_999, f.repA.PersonID, nil)
		refused(t, "an unknown meeting", err, apperr.NotFound, "", "")
		f.clock.Advance(m.StartsAt.Sub(f.clock.Now()) + time.Minute)
		_, err = f.svc.InvitePerson(f.as(f.coord), m.ID, f.repA.PersonID, nil)
		refused(t, "a meeting under way", err, apperr.Conflict, "MEETING_CLOSED", "")
		f.unchanged(before, "refused invitations")
	})
}

func TestDelegate(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		// The municipality is invited as an organization: its
		// representative holds the invitation on its behalf.
		if _, err := f.svc.AddInvitees(f.as(f.coord), f.focus["EN"]["HEALTH"], []int64{f.member.PersonID}, []int64{f.orgA, f.orgB}); err != nil {
			t.Fatal(err)
		}
		one := 1
		in := f.input(rome(2026, 4, 10, 10, 0))
		in.Capacity = &one
		m := f.create(in)
		inv := f.invitations(m.ID)
		rep := inv[f.repA.PersonID]
		if rep == nil || rep.OrganizationID == nil || *rep.OrganizationID != f.orgA {
			t.Fatalf("the representative's invitation: %+v", rep)
		}
		f.answer(f.repA, rep, meeting.Accepted, "")
		before := f.snapshot()
		ghost := int64(999_999)
		for _, c := range []struct {
			what     string
			as       *access.Actor
			inv      *meeting.Invitation
			delegate int64
			kind     apperr.Kind
			reason   string
		}{
			{"a person of another organization", f.repA, rep, f.repB.PersonID, apperr.BadInput, ""},
			{"an unknown person", f.repA, rep, ghost, apperr.BadInput, ""},
			{"themselves", f.repA, rep, f.repA.PersonID, apperr.BadInput, ""},
			{"a personal invitation", f.member, inv[f.member.PersonID], f.staffA.PersonID, apperr.Conflict, "PERSONAL_INVITATION"},
			{"someone else's invitation", f.repB, rep, f.staffA.PersonID, apperr.NotFound, ""},
			{"a member for the invitee", f.member, rep, f.staffA.PersonID, apperr.Forbidden, ""},
		} {
			_, err := f.svc.Delegate(f.as(c.as), c.inv.ID, c.delegate)
			field := ""
			if c.kind == apperr.BadInput {
				field = "delegate"
			}
			refused(t, c.what, err, c.kind, c.reason, field)
		}
		f.unchanged(before, "refused delegations")

		// Delegated, the accepted place stays taken: the delegate holds it.
		d, err := f.svc.Delegate(f.as(f.repA), rep.ID, f.staffA.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Original.Status != meeting.Delegated || d.Original.DelegatedToID == nil || *d.Original.DelegatedToID != f.staffA.PersonID {
			t.Errorf("original: %+v", d.Original)
		}
		if d.Delegate.Status != meeting.Accepted || d.Delegate.PersonID != f.staffA.PersonID || *d.Delegate.OrganizationID != f.orgA {
			t.Errorf("delegate: %+v", d.Delegate)
		}
		if c := f.counts(m); c != (meeting.Counts{Pending: 2, Accepted: 1, Delegated: 1}) {
			t.Errorf("counts %+v", c)
		}
		if s := f.mailsTo(f.staffA); len(s) != 1 || !strings.HasPrefix(s[0], "Delega: ") {
			t.Errorf("mails to the delegate: %q", s)
		}
		before = f.snapshot()
		_, err = f.svc.Delegate(f.as(f.repA), rep.ID, f.staffA.PersonID)
		refused(t, "delegating twice", err, apperr.Conflict, "DELEGATED", "")
		// The member, now also on the municipality's staff, holds a
		// personal invitation already.
		f.affiliate(f.member, f.orgA, network.Staff)
		_, err = f.svc.Delegate(f.as(f.staffA), d.Delegate.ID, f.member.PersonID)
		refused(t, "a delegate invited already", err, apperr.Conflict, "ALREADY_INVITED", "")
		f.unchanged(before, "refused delegations")
		// Handing it back gives the representative their invitation again.
		back, err := f.svc.Delegate(f.as(f.coord), d.Delegate.ID, f.repA.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		if back.Delegate.ID != rep.ID || back.Delegate.Status != meeting.Accepted || back.Delegate.DelegatedToID != nil {
			t.Errorf("handed back: %+v", back.Delegate)
		}
		if c := f.counts(m); c != (meeting.Counts{Pending: 2, Accepted: 1, Delegated: 1}) {
			t.Errorf("counts after handing back %+v", c)
		}

		// A place on the waiting list is kept.
		q := f.answer(f.repB, inv[f.repB.PersonID], meeting.Accepted, "")
		if q.Status != meeting.Waitlisted {
			t.Fatalf("the association's representative: %+v", q)
		}
		other := f.actor("Olu Ponti", nil)
		f.affiliate(other, f.orgB, network.Delegate)
		f.clock.Advance(time.Hour)
		d, err = f.svc.Delegate(f.as(f.repB), q.ID, other.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Delegate.Status != meeting.Waitlisted || !d.Delegate.WaitlistedAt.Equal(*q.WaitlistedAt) {
			t.Errorf("a waitlisted delegate: %+v, want in the place of %v", d.Delegate, q.WaitlistedAt)
		}
		// The delegate moves up from the list as the representative would.
		f.answer(f.repA, rep, meeting.Declined, "")
		if st := f.invitations(m.ID)[other.PersonID].Status; st != meeting.Accepted {
			t.Errorf("the delegate on the list moved up: %s", st)
		}
	})
}

// TestInvitationReads: who sees which invitations, in how many statements.
func TestInvitationReads(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		p := f.people(3)
		m1, inv1 := f.invitedMeeting(10, 0, p[0], p[1])
		priv := f.input(rome(2026, 4, 11, 10, 0))
		priv.Private = true
		m2 := f.create(priv)
		if _, err := f.svc.InvitePerson(f.as(f.coord), m2.ID, p[2].PersonID, nil); err != nil {
			t.Fatal(err)
		}
		f.answer(p[0], inv1[p[0].PersonID], meeting.Accepted, "")
		ids := []int64{m1.ID, m2.ID}
		counter := storage.CountStatements(db)
		all, err := f.svc.InvitationsOf(f.as(f.member), ids)
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 1 {
			t.Errorf("InvitationsOf ran %d statements, want 1", n)
		}
		if len(all[m1.ID]) != 2 || len(all[m2.ID]) != 3 {
			t.Errorf("the register's readers see %d and %d invitations", len(all[m1.ID]), len(all[m2.ID]))
		}
		mine, err := f.svc.InvitationsOf(f.as(p[0]), ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine[m1.ID]) != 1 || mine[m1.ID][0].PersonID != p[0].PersonID || len(mine[m2.ID]) != 1 {
			t.Errorf("an invitee sees %v", mine)
		}
		if none, _ := f.svc.InvitationsOf(f.as(f.outside), ids); len(none) != 0 {
			t.Errorf("another territory sees %v", none)
		}
		if _, err := f.svc.Invitation(f.as(p[1]), inv1[p[0].PersonID].ID); kind(err) != apperr.NotFound {
			t.Errorf("another invitee's invitation: %v", err)
		}
		if got, err := f.svc.Invitation(f.as(f.policy), inv1[p[0].PersonID].ID); err != nil || got.Status != meeting.Accepted {
			t.Errorf("a policy maker reads it: %+v %v", got, err)
		}
		// Counts: whoever reads the meeting; a private one's invitee too.
		counter.Reset()
		c, err := f.svc.RSVPCounts(f.as(p[2]), ids)
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.Count(); n != 1 {
			t.Errorf("RSVPCounts ran %d statements, want 1", n)
		}
		if c[m1.ID] != (meeting.Counts{Pending: 1, Accepted: 1}) || c[m2.ID].Pending != 3 {
			t.Errorf("counts %+v", c)
		}
		c, _ = f.svc.RSVPCounts(f.as(f.stranger), ids)
		if _, ok := c[m2.ID]; ok || c[m1.ID].Accepted != 1 {
			t.Errorf("a stranger's counts %+v: the private meeting is left out", c)
		}
		// MyInvitations: by start, paged, upcoming only by default.
		one := 1
		page, err := f.svc.MyInvitations(f.as(p[0]), meeting.MyInvitationsFilter{}, relay.PageArgs{First: &one})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 2 || len(page.Items) != 1 || page.Items[0].MeetingID != m1.ID || !page.HasNextPage {
			t.Fatalf("first page %+v", page)
		}
		page, err = f.svc.MyInvitations(f.as(p[0]), meeting.MyInvitationsFilter{}, relay.PageArgs{First: &one, After: &page.Cursors[0]})
		if err != nil || len(page.Items) != 1 || page.Items[0].MeetingID != m2.ID || page.HasNextPage {
			t.Fatalf("second page %+v %v", page, err)
		}
		page, _ = f.svc.MyInvitations(f.as(p[0]), meeting.MyInvitationsFilter{Statuses: []meeting.RSVP{meeting.Accepted}}, relay.PageArgs{})
		if page.TotalCount != 1 {
			t.Errorf("accepted only: %d", page.TotalCount)
		}
		if _, err := f.svc.MyInvitations(f.as(p[0]), meeting.MyInvitationsFilter{Statuses: []meeting.RSVP{"LOST"}}, relay.PageArgs{}); kind(err) != apperr.BadInput {
			t.Errorf("an unknown state: %v", err)
		}
		f.clock.Advance(m1.EndsAt.Sub(f.clock.Now()))
		page, _ = f.svc.MyInvitations(f.as(p[0]), meeting.MyInvitationsFilter{}, relay.PageArgs{})
		if page.TotalCount != 1 || page.Items[0].MeetingID != m2.ID {
			t.Errorf("after the first meeting ended: %+v", page)
		}
		page, _ = f.svc.MyInvitations(f.as(p[0]), meeting.MyInvitationsFilter{Past: true}, relay.PageArgs{})
		if page.TotalCount != 2 {
			t.Errorf("with the past: %d", page.TotalCount)
		}
		if _, err := f.svc.MyInvitations(f.as(access.Anonymous), meeting.MyInvitationsFilter{}, relay.PageArgs{}); kind(err) != apperr.Unauthenticated {
			t.Errorf("anonymous: %v", err)
		}
	})
}
