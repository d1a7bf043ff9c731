// Package mail sends PIA's email through an outbox table: a feature enqueues
// a message in the same transaction as the change it announces, so a mail is
// sent only for what committed, and a Deliverer sends what is due, retrying
// failures with a growing delay.
package mail

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	Body    string
}

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
}

// Enqueue adds m to the outbox through db, which is normally the caller's
// transaction. It returns BAD_USER_INPUT for a message without a valid
// recipient, subject or body.
func Enqueue(ctx context.Context, db bun.IDB, now time.Time, m Message) error {
	const op = "mail.Enqueue"
	if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To || len(m.To) > 254 {
		return apperr.Invalid(op, "to", "%q is not an email address", m.To)
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") || utf8.RuneCountInString(m.Subject) > 300 {
		return apperr.Invalid(op, "subject", "a subject is one line of at most 300 characters")
	}
	if strings.TrimSpace(m.Body) == "" || !utf8.ValidString(m.Body) {
		return apperr.Invalid(op, "body", "a message needs a body in UTF-8")
	}
	now = now.UTC()
	q := &queued{To: m.To, Subject: m.Subject, Body: m.Body, CreatedAt: now, NextAttemptAt: now}
	if _, err := db.NewInsert().Model(q).Exec(ctx); err != nil {
		return storage.MapError(op, "mail", err)
	}
	return nil
}
