// Package mail sends PIA's email through an outbox table: a feature enqueues
// a message in the same transaction as the change it announces, so a mail is
// sent only for what committed, and a Deliverer sends what is due, retrying
// failures with a growing delay.
package mail

import (
	"context"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Message is one plain-text email, with at most one attachment (a
// meeting's .ics). The attachment is text: the outbox keeps it in a text
// column, and what PIA attaches is generated text.
type Message struct {
	To      string
	Subject string
	Body    string

	// AttachmentName is the file name the recipient sees; a name without
	// an attachment, or the reverse, is refused.
	AttachmentName string
	// AttachmentType is the attachment's media type with its parameters,
	// as in "text/calendar; charset=utf-8; method=PUBLISH".
	AttachmentType string
	Attachment     string
}

// HasAttachment reports whether m carries an attachment.
func (m Message) HasAttachment() bool {
	return m.AttachmentName != "" || m.AttachmentType != "" || m.Attachment != ""
}

// Limits of an attachment. The name and type fit their columns; the size
// keeps a mail far below what servers refuse (commonly 10 MB or more,
// after base64 grows it by a third).
const (
	maxAttachmentName  = 200
	maxAttachmentType  = 200
	maxAttachmentBytes = 1 << 20
)

// queued is a row of the outbox.
type queued struct {
	bun.BaseModel `bun:"table:mail_outbox"`

	ID            int64      `bun:"id,pk,autoincrement"`
	To            string     `bun:"to_addr"`
	Subject       string     `bun:"subject"`
	Body          string     `bun:"body"`
	CreatedAt     time.Time  `bun:"created_at"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	SentAt        *time.Time `bun:"sent_at"`
	FailedAt      *time.Time `bun:"failed_at"`
	LastError     string     `bun:"last_error"`

	AttachmentName string `bun:"attachment_name"`
	AttachmentType string `bun:"attachment_type"`
	Attachment     string `bun:"attachment"`
}

// Enqueue adds m to the outbox through db, which is normally the caller's
// transaction. It returns BAD_USER_INPUT for a message without a valid
// recipient, subject or body, or with an attachment that lacks a name or a
// type, has a name that is not a plain file name (path separators, control
// characters, over 200 characters) or is not UTF-8 text of at most 1 MiB.
func Enqueue(ctx context.Context, db bun.IDB, now time.Time, m Message) error {
	_, err := EnqueueAll(ctx, db, now, []Message{m})
	return err
}

// EnqueueAll is Enqueue for several messages in one statement (a meeting's
// invitations to all its invitees): the valid ones are queued, and the
// refusal of each invalid one (as Enqueue would refuse it) is returned in
// refused, by index, so that one bad address in the directory does not
// hold back the others' mail. err is a failure to queue.
func EnqueueAll(ctx context.Context, db bun.IDB, now time.Time, ms []Message) (refused map[int]error, err error) {
	const op = "mail.Enqueue"
	now = now.UTC()
	rows := make([]*queued, 0, len(ms))
	for i, m := range ms {
		if err := check(op, m); err != nil {
			if refused == nil {
				refused = map[int]error{}
			}
			refused[i] = err
			continue
		}
		rows = append(rows, &queued{To: m.To, Subject: m.Subject, Body: m.Body, CreatedAt: now, NextAttemptAt: now,
			AttachmentName: m.AttachmentName, AttachmentType: m.AttachmentType, Attachment: m.Attachment})
	}
	if len(ms) == 1 && refused != nil {
		return refused, refused[0]
	}
	if len(rows) == 0 {
		return refused, nil
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return refused, storage.MapError(op, "mail", err)
	}
	return refused, nil
}

// check says what is wrong with m, as Enqueue refuses it.
func check(op string, m Message) error {
	if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To || len(m.To) > 254 {
		return apperr.Invalid(op, "to", "%q is not an email address", m.To)
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") || utf8.RuneCountInString(m.Subject) > 300 {
		return apperr.Invalid(op, "subject", "a subject is one line of at most 300 characters")
	}
	if strings.TrimSpace(m.Body) == "" || !utf8.ValidString(m.Body) {
		return apperr.Invalid(op, "body", "a message needs a body in UTF-8")
	}
	if m.HasAttachment() {
		return checkAttachment(op, m)
	}
	return nil
}

// checkAttachment says what is wrong with m's attachment. The name ends up
// in a header and, on the recipient's side, in a file system: a name that
// is a path, or that hides a line break, is refused rather than cleaned.
func checkAttachment(op string, m Message) error {
	name := m.AttachmentName
	if strings.TrimSpace(name) == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxAttachmentName ||
		strings.ContainsAny(name, `/\`) || name == "." || name == ".." ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return apperr.Invalid(op, "attachmentName", "an attachment needs a file name of at most %d characters, without path separators or control characters", maxAttachmentName)
	}
	t := m.AttachmentType
	mt, _, err := mime.ParseMediaType(t)
	typ, sub, _ := strings.Cut(mt, "/")
	if err != nil || typ == "" || sub == "" || typ == "multipart" ||
		len(t) > maxAttachmentType || strings.ContainsAny(t, "\r\n") {
		return apperr.Invalid(op, "attachmentType", "an attachment needs a media type such as text/calendar; charset=utf-8")
	}
	if m.Attachment == "" || len(m.Attachment) > maxAttachmentBytes || !utf8.ValidString(m.Attachment) ||
		strings.ContainsRune(m.Attachment, 0) {
		return apperr.Invalid(op, "attachment", "an attachment is UTF-8 text of 1 to %d bytes", maxAttachmentBytes)
	}
	return nil
}
