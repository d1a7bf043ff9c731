package meeting_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// TestChangeAndCancellationMails: whoever is still invited hears of a
// change and of a cancellation, with its reason, in their language.
func TestChangeAndCancellationMails(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		if _, err := db.NewUpdate().Table("people").Set("language = 'en'").Where("id = ?", f.repB.PersonID).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		fg := f.focus["EN"]["HEALTH"]
		if _, err := f.svc.AddInvitees(f.as(f.coord), fg, []int64{f.member.PersonID}, []int64{f.orgB}); err != nil {
			t.Fatal(err)
		}
		m := f.create(f.input(rome(2026, 3, 10, 10, 0)))
		if n := len(f.mails()); n != 2 {
			t.Fatalf("%d invitation mails, want 2", n)
		}
		venue := "Sala Proserpina, Enna"
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), m.ID, meeting.MeetingPatch{Venue: &venue}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeStatus(f.as(f.coord), m.ID, meeting.Cancelled, "Sciopero dei trasporti"); err != nil {
			t.Fatal(err)
		}
		mails := f.mails()[2:]
		if len(mails) != 4 {
			t.Fatalf("%d mails after the change and the cancellation, want 4", len(mails))
		}
		var it, en []outboxMail
		for _, ml := range mails {
			if strings.HasPrefix(ml.To, "bashir") {
				en = append(en, ml)
			} else {
				it = append(it, ml)
			}
		}
		if len(it) != 2 || len(en) != 2 {
			t.Fatalf("mails to the member %d, to the association %d", len(it), len(en))
		}
		if !strings.HasPrefix(it[0].Subject, "Incontro modificato") || !strings.Contains(it[0].Body, venue) {
			t.Errorf("change mail: %s\n%s", it[0].Subject, it[0].Body)
		}
		if !strings.HasPrefix(en[1].Subject, "Meeting cancelled") || !strings.Contains(en[1].Body, "Sciopero dei trasporti") {
			t.Errorf("cancellation mail: %s\n%s", en[1].Subject, en[1].Body)
		}
		// Each carries the meeting's calendar, at its sequence: the
		// cancellation removes it from the person's calendar.
		uid := fmt.Sprintf("UID:meeting-%d@pia.example", m.ID)
		for i, ml := range []outboxMail{it[0], en[1]} {
			want := []string{"SEQUENCE:1", "STATUS:TENTATIVE"}
			if i == 1 {
				want = []string{"SEQUENCE:2", "STATUS:CANCELLED"}
			}
			if ml.AttachmentName != fmt.Sprintf("meeting-%d.ics", m.ID) || !strings.Contains(ml.Attachment, uid) ||
				!strings.Contains(ml.Attachment, want[0]) || !strings.Contains(ml.Attachment, want[1]) {
				t.Errorf("attachment %q of %q lacks %s, %v:\n%s", ml.AttachmentName, ml.Subject, uid, want, ml.Attachment)
			}
		}
	})
}

// TestReminders: the day before, everyone still invited gets one reminder;
// a second run, or a second instance, sends none.
func TestReminders(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		fg := f.focus["EN"]["HEALTH"]
		if _, err := f.svc.AddInvitees(f.as(f.coord), fg, []int64{f.member.PersonID, f.observer.PersonID}, nil); err != nil {
			t.Fatal(err)
		}
		tomorrow := f.create(f.input(rome(2026, 3, 3, 18, 0)))
		later := f.input(rome(2026, 3, 5, 10, 0))
		f.create(later)
		cancelled := f.create(f.input(rome(2026, 3, 3, 9, 0)))
		if _, err := f.svc.ChangeStatus(f.as(f.coord), cancelled.ID, meeting.Cancelled, "rinviato a data da destinarsi"); err != nil {
			t.Fatal(err)
		}
		before := len(f.mails())
		n, err := f.svc.SendReminders(t.Context())
		if err != nil || n != 1 {
			t.Fatalf("reminded %d meetings (%v), want 1", n, err)
		}
		other := meeting.NewService(db, meeting.Options{Now: f.clock.Now})
		if n, err := other.SendReminders(t.Context()); err != nil || n != 0 {
			t.Errorf("a second instance reminded %d (%v)", n, err)
		}
		mails := f.mails()[before:]
		if len(mails) != 2 {
			t.Fatalf("%d reminders, want 2", len(mails))
		}
		for _, ml := range mails {
			if !strings.HasPrefix(ml.Subject, "Promemoria, domani: ") || !strings.Contains(ml.Body, "martedì 3 marzo 2026, dalle 18:00") {
				t.Errorf("reminder: %s\n%s", ml.Subject, ml.Body)
			}
		}
		// Moving the meeting to another day asks for a new reminder.
		to, end := rome(2026, 3, 4, 18, 0), rome(2026, 3, 4, 20, 0)
		if _, err := f.svc.UpdateMeeting(f.as(f.coord), tomorrow.ID, meeting.MeetingPatch{StartsAt: &to, EndsAt: &end}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(24 * time.Hour)
		if n, err := f.svc.SendReminders(t.Context()); err != nil || n != 1 {
			t.Errorf("after moving it: reminded %d (%v), want 1", n, err)
		}
	})
}
