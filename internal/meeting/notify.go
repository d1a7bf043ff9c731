package meeting

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/mail"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

// What mail announces. Each goes to the people concerned in their
// language, in the transaction of the change, so only what committed is
// sent.
type mailKind string

const (
	mailInvitation   mailKind = "invitation"
	mailChanged      mailKind = "changed"
	mailCancelled    mailKind = "cancelled"
	mailReminder     mailKind = "reminder"
	mailPromoted     mailKind = "promoted"  // moved up from the waiting list
	mailDelegated    mailKind = "delegated" // named a delegate by their representative
	mailInvitedAlone mailKind = "invited"   // invited to one meeting, not through its focus group
)

// recipient is a person mail goes to.
type recipient struct {
	ID          int64   `bun:"id"`
	DisplayName string  `bun:"display_name"`
	Email       *string `bun:"email"`
	Language    string  `bun:"language"`
}

// recipients reads the people of ids who can receive mail: with an email,
// neither archived nor erased.
func recipients(ctx context.Context, tx bun.IDB, op string, ids []int64) ([]recipient, error) {
	var out []recipient
	if len(ids) == 0 {
		return out, nil
	}
	err := tx.NewSelect().Table("people").Column("id", "display_name", "email", "language").
		Where("id IN (?)", bun.In(ids)).Where("email IS NOT NULL").Where("archived_at IS NULL").Where("erased_at IS NULL").
		Order("id").Scan(ctx, &out)
	if err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	return out, nil
}

// mailLabels are the names a mail shows for a meeting.
type mailLabels struct {
	territory string
	theme     *reference.Theme
}

func meetingLabels(ctx context.Context, tx bun.IDB, op string, m *Meeting) (mailLabels, error) {
	var l mailLabels
	var t reference.Territory
	if err := tx.NewSelect().Model(&t).Where("id = ?", m.TerritoryID).Scan(ctx); err != nil {
		return l, storage.MapError(op, "territory", err)
	}
	l.territory = t.Name
	l.theme = new(reference.Theme)
	if err := tx.NewSelect().Model(l.theme).Where("id = ?", m.ThemeID).Scan(ctx); err != nil {
		return l, storage.MapError(op, "theme", err)
	}
	return l, nil
}

// announceTx queues the mail of an event in tx: invitations to the new
// invitees of created meetings (invited, by meeting), and the change or
// cancellation to everyone still invited to changed ones.
func (s *Service) announceTx(ctx context.Context, tx bun.IDB, kind EventKind, ms []*Meeting, invited map[int64][]*Invitation) error {
	const op = "meeting.announce"
	for _, m := range ms {
		var what mailKind
		var people []int64
		switch kind {
		case MeetingCreated:
			what = mailInvitation
			for _, inv := range invited[m.ID] {
				people = append(people, inv.PersonID)
			}
		case MeetingChanged, MeetingCancelled:
			what = mailChanged
			if kind == MeetingCancelled {
				what = mailCancelled
			}
			ids, err := stillInvited(ctx, tx, op, m.ID)
			if err != nil {
				return err
			}
			people = ids
		default:
			continue
		}
		if err := s.mailPeople(ctx, tx, op, what, m, people); err != nil {
			return err
		}
	}
	return nil
}

// stillInvited lists the people whose invitation to meeting still stands:
// every answer but declined and delegated.
func stillInvited(ctx context.Context, tx bun.IDB, op string, meetingID int64) ([]int64, error) {
	var ids []int64
	err := tx.NewSelect().Model((*Invitation)(nil)).Column("person_id").Where("meeting_id = ?", meetingID).
		Where("status NOT IN (?)", bun.In([]RSVP{Declined, Delegated})).Order("id").Scan(ctx, &ids)
	if err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	return ids, nil
}

// mailPeople queues mail of kind about m to people, with the meeting's
// calendar attached, in one statement. A bad address in the directory does
// not stop the change: it is logged.
func (s *Service) mailPeople(ctx context.Context, tx bun.IDB, op string, what mailKind, m *Meeting, people []int64) error {
	if len(people) == 0 {
		return nil
	}
	if what != mailReminder && !m.StartsAt.After(s.now()) {
		// A meeting recorded after the fact, or changed once under way
		// (held, its register filled): nobody needs a mail about it.
		return nil
	}
	rs, err := recipients(ctx, tx, op, people)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	l, err := meetingLabels(ctx, tx, op, m)
	if err != nil {
		return err
	}
	msgs := make([]mail.Message, len(rs))
	ics := map[string]mail.Message{} // the calendar in each language, encoded once
	for i, r := range rs {
		msg := s.meetingMail(what, r, m, l)
		// The meeting's calendar goes with every mail, the cancellation
		// too (STATUS:CANCELLED removes it from the person's calendar).
		att, ok := ics[r.Language]
		if !ok {
			if err := s.attachCalendar(&att, m, r.Language, map[int64]string{m.ThemeID: l.theme.Label(r.Language)}); err != nil {
				return apperr.Wrap(op, err)
			}
			ics[r.Language] = att
		}
		msg.AttachmentName, msg.AttachmentType, msg.Attachment = att.AttachmentName, att.AttachmentType, att.Attachment
		msgs[i] = msg
	}
	refused, err := mail.EnqueueAll(ctx, tx, s.now(), msgs)
	for i, rerr := range refused {
		// A bad address in the directory does not stop the change.
		s.o.Logger.WarnContext(ctx, "meeting mail not queued", "person", rs[i].ID, "err", rerr)
	}
	if err != nil {
		return apperr.Wrap(op, err)
	}
	return nil
}

// announced runs after a commit: the territory's subscribers hear of it,
// here and on the other instances, and the deliverer of queued mail.
func (s *Service) announced(kind EventKind, ms []*Meeting) {
	for _, m := range ms {
		ev := Event{Kind: kind, MeetingID: m.ID, TerritoryID: m.TerritoryID}
		s.hub.publish(ev)
		s.broadcast(ev)
	}
	s.mailQueued()
}

// whenText is a meeting's time in Rome, in lang.
func whenText(m *Meeting, lang string) string {
	start, end := m.StartsAt.In(Rome), m.EndsAt.In(Rome)
	if lang == "en" {
		return fmt.Sprintf("%s, %s to %s (Rome time)", start.Format("Monday 2 January 2006"), start.Format("15:04"), end.Format("15:04"))
	}
	return fmt.Sprintf("%s %d %s %d, dalle %s alle %s", giorni[start.Weekday()], start.Day(), mesi[start.Month()-1], start.Year(),
		start.Format("15:04"), end.Format("15:04"))
}

var (
	giorni = [...]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	mesi   = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
		"ottobre", "novembre", "dicembre"}
)

// meetingMail is the mail of kind what about m to r.
func (s *Service) meetingMail(what mailKind, r recipient, m *Meeting, l mailLabels) mail.Message {
	en := r.Language == "en"
	theme := l.theme.Label(r.Language)
	var subject, intro string
	switch what {
	case mailInvitation, mailInvitedAlone:
		subject, intro = "Invito: "+m.Title, "è invitata/o all'incontro del focus group «"+theme+"» di "+l.territory+"."
		if en {
			subject, intro = "Invitation: "+m.Title, "you are invited to the meeting of the "+theme+" focus group of "+l.territory+"."
		}
	case mailChanged:
		subject, intro = "Incontro modificato: "+m.Title, "l'incontro a cui è invitata/o è cambiato. Ecco i dettagli aggiornati."
		if en {
			subject, intro = "Meeting changed: "+m.Title, "the meeting you are invited to has changed. Here are the new details."
		}
	case mailCancelled:
		subject, intro = "Incontro annullato: "+m.Title, "l'incontro è annullato. Motivo: "+m.CancelReason
		if en {
			subject, intro = "Meeting cancelled: "+m.Title, "the meeting is cancelled. Reason: "+m.CancelReason
		}
	case mailReminder:
		subject, intro = "Promemoria, domani: "+m.Title, "le ricordiamo l'incontro di domani."
		if en {
			subject, intro = "Reminder, tomorrow: "+m.Title, "a reminder of tomorrow's meeting."
		}
	case mailPromoted:
		subject, intro = "Posto confermato: "+m.Title, "si è liberato un posto: la sua partecipazione è confermata."
		if en {
			subject, intro = "Your place is confirmed: "+m.Title, "a place became free: your attendance is confirmed."
		}
	case mailDelegated:
		subject, intro = "Delega: "+m.Title, "è stata/o delegata/o a partecipare all'incontro per conto della sua organizzazione."
		if en {
			subject, intro = "Delegation: "+m.Title, "you were named to attend the meeting on behalf of your organization."
		}
	}
	var b strings.Builder
	if en {
		fmt.Fprintf(&b, "Hello %s,\n\n%s\n\n%s\nWhen: %s\n", r.DisplayName, intro, m.Title, whenText(m, "en"))
		if m.Venue != "" {
			fmt.Fprintf(&b, "Where: %s\n", m.Venue)
		}
		if m.OnlineURL != "" {
			fmt.Fprintf(&b, "Online: %s\n", m.OnlineURL)
		}
		if what != mailCancelled {
			fmt.Fprintf(&b, "\nTo answer and see the agenda, open:\n%s\n\nThe attached file adds the meeting to your calendar.\n", s.meetingURL(m.ID))
		}
	} else {
		fmt.Fprintf(&b, "Buongiorno %s,\n\n%s\n\n%s\nQuando: %s\n", r.DisplayName, intro, m.Title, whenText(m, "it"))
		if m.Venue != "" {
			fmt.Fprintf(&b, "Dove: %s\n", m.Venue)
		}
		if m.OnlineURL != "" {
			fmt.Fprintf(&b, "Online: %s\n", m.OnlineURL)
		}
		if what != mailCancelled {
			fmt.Fprintf(&b, "\nPer rispondere e leggere l'ordine del giorno apra:\n%s\n\nIl file allegato aggiunge l'incontro al suo calendario.\n", s.meetingURL(m.ID))
		}
	}
	if len(m.Agenda) > 0 && what != mailCancelled {
		if en {
			b.WriteString("\nAgenda:\n")
		} else {
			b.WriteString("\nOrdine del giorno:\n")
		}
		for i, it := range m.Agenda {
			fmt.Fprintf(&b, "%d. %s\n", i+1, it)
		}
	}
	subject = cutRunes(strings.Join(strings.Fields(subject), " "), 300)
	return mail.Message{To: *r.Email, Subject: subject, Body: b.String()}
}

func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// SendReminders queues, once per meeting, a reminder to the people still
// invited to the meetings that take place tomorrow in Rome (planned or
// confirmed), and reports how many meetings it reminded. piad serve runs it
// every few minutes; several instances may: each meeting is claimed by a
// conditional update before its mail is queued, in one transaction.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	const op = "meeting.SendReminders"
	now := s.now().In(Rome)
	from := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, Rome)
	to := time.Date(now.Year(), now.Month(), now.Day()+2, 0, 0, 0, 0, Rome)
	var due []*Meeting
	if err := s.db.NewSelect().Model(&due).Where("m.starts_at >= ?", from.UTC()).Where("m.starts_at < ?", to.UTC()).
		Where("m.status IN (?)", bun.In([]Status{Planned, Confirmed})).Where("m.reminder_sent_at IS NULL").
		Order("m.id").Scan(ctx); err != nil {
		return 0, storage.MapError(op, "meeting", err)
	}
	sent := 0
	for _, m := range due {
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.NewUpdate().Model((*Meeting)(nil)).Set("reminder_sent_at = ?", s.now()).
				Where("id = ?", m.ID).Where("reminder_sent_at IS NULL").Where("status IN (?)", bun.In([]Status{Planned, Confirmed})).Exec(ctx)
			if err != nil {
				return storage.MapError(op, "meeting", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another instance took it, or it changed
			}
			people, err := stillInvited(ctx, tx, op, m.ID)
			if err != nil {
				return err
			}
			sent++
			return s.mailPeople(ctx, tx, op, mailReminder, m, people)
		})
		if err != nil {
			return sent, err
		}
	}
	if sent > 0 {
		s.mailQueued()
	}
	return sent, nil
}
