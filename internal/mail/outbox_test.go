package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

func TestEnqueueRefusesBadMessages(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ok := Message{To: "ada@example.org", Subject: "Invito a PIA", Body: "Benvenuta."}
		cases := map[string]func(m *Message){
			"address with a name":   func(m *Message) { m.To = "Ada <ada@example.org>" },
			"not an address":        func(m *Message) { m.To = "ada.example.org" },
			"empty address":         func(m *Message) { m.To = "" },
			"line break in address": func(m *Message) { m.To = "ada@example.org\r\nBcc: eve@example.org" },
			"address too long":      func(m *Message) { m.To = strings.Repeat("a", 250) + "@example.org" },
			"CR LF in subject":      func(m *Message) { m.Subject = "Invito\r\nBcc: eve@example.org" },
			"LF in subject":         func(m *Message) { m.Subject = "Invito\na PIA" },
			"blank subject":         func(m *Message) { m.Subject = "  " },
			"subject too long":      func(m *Message) { m.Subject = strings.Repeat("à", 301) },
			"empty body":            func(m *Message) { m.Body = "" },
			"blank body":            func(m *Message) { m.Body = "\n\t \n" },
			"body not in UTF-8":     func(m *Message) { m.Body = "caf\xe9" },
		}
		for name, spoil := range cases {
			m := ok
			spoil(&m)
			err := Enqueue(context.Background(), db, time.Now(), m)
			if !apperr.Is(err, apperr.BadInput) {
				t.Errorf("%s: err = %v, want BAD_USER_INPUT", name, err)
			}
		}
		if rows := outbox(t, db); len(rows) != 0 {
			t.Fatalf("refused messages were stored: %+v", rows)
		}

		rome := time.FixedZone("CET", 3600)
		now := time.Date(2026, 11, 23, 10, 30, 0, 0, rome)
		ok.Subject = strings.Repeat("à", 300)
		mustEnqueue(t, db, now, ok)
		rows := outbox(t, db)
		if len(rows) != 1 {
			t.Fatalf("stored %d rows, want 1", len(rows))
		}
		r := rows[0]
		if r.To != ok.To || r.Subject != ok.Subject || r.Body != ok.Body || r.Attempts != 0 ||
			r.SentAt != nil || r.FailedAt != nil || !r.NextAttemptAt.Equal(now) || !r.CreatedAt.Equal(now) {
			t.Fatalf("stored %+v", r)
		}
	})
}
