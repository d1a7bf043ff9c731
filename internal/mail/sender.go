package mail

import (
	"context"
	"log/slog"
)

// Sender hands one message to whatever carries it. An error means the
// message may not have gone out, so the Deliverer tries again later; its text
// is stored in the outbox and logged, so it must never contain a secret.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// NewLogSender returns a Sender that sends nothing and logs every message,
// body included, at info level. It is for development without a mail server:
// a newcomer's invitation link is read from the log.
func NewLogSender(logger *slog.Logger) Sender { return logSender{logger: logger} }

type logSender struct{ logger *slog.Logger }

// Send logs the attachment's name and type only: a calendar's text would
// drown the body that a developer reads the log for.
func (s logSender) Send(ctx context.Context, m Message) error {
	attrs := []any{"to", m.To, "subject", m.Subject, "body", m.Body}
	if m.HasAttachment() {
		attrs = append(attrs, "attachment", m.AttachmentName, "attachment_type", m.AttachmentType, "attachment_bytes", len(m.Attachment))
	}
	s.logger.InfoContext(ctx, "mail logged, not sent", attrs...)
	return nil
}
