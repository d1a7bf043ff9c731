package mail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/storage"
)

const (
	batchSize = 50
	// lease is how long a claimed mail stays invisible to other Deliverers;
	// it outlasts sendTimeout, so a mail is sent twice only when a server
	// instance dies between sending it and recording that it did.
	lease       = 5 * time.Minute
	maxErrorLen = 500 // the width of mail_outbox.last_error
	minBackoff  = time.Second
)

// Deliverer sends the outbox's due mail through Sender. Several Deliverers,
// one per server instance, may share a database: each mail is claimed before
// it is sent, so only one of them sends it. The zero values of the optional
// fields mean their defaults.
type Deliverer struct {
	DB     bun.IDB
	Sender Sender
	Logger *slog.Logger // default slog.Default()
	Now    func() time.Time
	// Interval is the time between passes of Run; default 5s.
	Interval time.Duration
	// MaxAttempts is how many failed sends make a mail failed for good; default 8.
	MaxAttempts int
	// Backoff is the wait after the attempt-th failure; default
	// DefaultBackoff. Waits under a second count as a second.
	Backoff func(attempt int) time.Duration

	wakeOnce sync.Once
	wake     chan struct{}
}

// DefaultBackoff waits 30s after the first failure and doubles the wait
// after each further one, up to an hour.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Wake asks Run for a pass now, as after enqueueing a mail; it never blocks.
func (d *Deliverer) Wake() {
	select {
	case d.wakeChan() <- struct{}{}:
	default: // a pass is already pending
	}
}

func (d *Deliverer) wakeChan() chan struct{} {
	d.wakeOnce.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

// Run makes a pass over the outbox every Interval and whenever Wake is
// called, until ctx ends; then it returns nil. A failed pass is logged and
// the next one tried. It returns an error only when DB or Sender is missing.
func (d *Deliverer) Run(ctx context.Context) error {
	if d.DB == nil || d.Sender == nil {
		return errors.New("mail.Deliverer: DB and Sender are required")
	}
	interval := d.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	wake := d.wakeChan()
	for {
		if _, _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.logger().ErrorContext(ctx, "mail delivery pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-wake:
		}
	}
}

// DeliverDue makes one pass over the mail that is due, longest due first,
// and tries to send each once. sent and failed count this pass's successful
// and failed sends. err is a database error (INTERNAL) or ctx's error; a
// failed send is not an error of the pass, it is recorded on the mail.
func (d *Deliverer) DeliverDue(ctx context.Context) (sent, failed int, err error) {
	const op = "mail.DeliverDue"
	if d.DB == nil || d.Sender == nil {
		return 0, 0, errors.New("mail.Deliverer: DB and Sender are required")
	}
	now := d.now()
	// seen stops a pass from taking a mail twice, should one come due again
	// within it (a claim given back by an instance shutting down).
	seen := make(map[int64]bool)
	for {
		var batch []queued
		err := d.DB.NewSelect().Model(&batch).
			Where("sent_at IS NULL").Where("failed_at IS NULL").Where("next_attempt_at <= ?", now).
			OrderExpr("next_attempt_at, id").Limit(batchSize).Scan(ctx)
		if err != nil {
			return sent, failed, storage.MapError(op, "mail", err)
		}
		fresh := 0
		for i := range batch {
			q := &batch[i]
			if seen[q.ID] {
				continue
			}
			seen[q.ID] = true
			fresh++
			ok, tried, err := d.deliver(ctx, q, now)
			switch {
			case ok:
				sent++
			case tried:
				failed++
			}
			if err != nil {
				return sent, failed, storage.MapError(op, "mail", err)
			}
		}
		if len(batch) < batchSize || fresh == 0 {
			return sent, failed, nil
		}
	}
}

// deliver claims q, sends it and records the outcome. ok means it was sent;
// tried means a send was attempted and failed.
func (d *Deliverer) deliver(ctx context.Context, q *queued, now time.Time) (ok, tried bool, err error) {
	// The claim moves next_attempt_at past the lease, on the condition that
	// nobody moved it first: of two Deliverers only one updates the row.
	leaseUntil := now.Add(lease)
	res, err := d.DB.NewUpdate().Model((*queued)(nil)).
		Set("next_attempt_at = ?", leaseUntil).
		Where("id = ?", q.ID).Where("next_attempt_at = ?", q.NextAttemptAt.UTC()).
		Where("sent_at IS NULL").Where("failed_at IS NULL").
		Exec(ctx)
	if err != nil {
		return false, false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, false, nil // another Deliverer has it
	}

	sendErr := d.Sender.Send(ctx, Message{To: q.To, Subject: q.Subject, Body: q.Body,
		AttachmentName: q.AttachmentName, AttachmentType: q.AttachmentType, Attachment: q.Attachment})
	// The outcome is recorded even if ctx ended meanwhile: a mail that went
	// out must not go out again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	log := d.logger().With("mail_id", q.ID)
	t := d.now()
	if sendErr == nil {
		_, err := d.DB.NewUpdate().Model((*queued)(nil)).Set("sent_at = ?", t).Where("id = ?", q.ID).Exec(rctx)
		log.DebugContext(ctx, "mail sent")
		return true, false, err
	}
	if ctx.Err() != nil {
		// Shutting down: give the mail back instead of counting an attempt
		// that was cut short.
		_, err := d.DB.NewUpdate().Model((*queued)(nil)).
			Set("next_attempt_at = ?", q.NextAttemptAt.UTC()).
			Where("id = ?", q.ID).Where("next_attempt_at = ?", leaseUntil).
			Exec(rctx)
		return false, false, errors.Join(ctx.Err(), err)
	}

	attempts := q.Attempts + 1
	upd := d.DB.NewUpdate().Model((*queued)(nil)).
		Set("attempts = ?", attempts).
		Set("last_error = ?", truncate(sendErr.Error(), maxErrorLen))
	maxAttempts := d.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 8
	}
	if attempts >= maxAttempts {
		upd = upd.Set("failed_at = ?", t)
		log.ErrorContext(ctx, "mail given up", "attempts", attempts, "error", sendErr)
	} else {
		backoff := DefaultBackoff
		if d.Backoff != nil {
			backoff = d.Backoff
		}
		next := t.Add(max(backoff(attempts), minBackoff))
		upd = upd.Set("next_attempt_at = ?", next)
		log.WarnContext(ctx, "mail not sent; will retry", "attempts", attempts, "retry_at", next, "error", sendErr)
	}
	_, err = upd.Where("id = ?", q.ID).Where("next_attempt_at = ?", leaseUntil).Exec(rctx)
	return false, true, err
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// truncate cuts s to at most n characters, on a character boundary; a
// server's reply may be anything, and PostgreSQL takes only UTF-8.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
