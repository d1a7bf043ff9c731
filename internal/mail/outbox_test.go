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

// calendar is an attachment as package meeting makes them.
var calendar = Message{To: "ada@example.org", Subject: "Incontro a Enna", Body: "In allegato l'invito.",
	AttachmentName: "incontro-12.ics", AttachmentType: "text/calendar; charset=utf-8; method=PUBLISH",
	Attachment: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//PIA//IT\r\nSUMMARY:Città\r\nEND:VCALENDAR\r\n"}

func TestEnqueueKeepsAnAttachment(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		cases := map[string]func(m *Message){
			"name without attachment":  func(m *Message) { m.Attachment, m.AttachmentType = "", "" },
			"attachment without name":  func(m *Message) { m.AttachmentName = "" },
			"attachment without type":  func(m *Message) { m.AttachmentType = "" },
			"blank name":               func(m *Message) { m.AttachmentName = "  " },
			"name with a slash":        func(m *Message) { m.AttachmentName = "../etc/passwd" },
			"name with a backslash":    func(m *Message) { m.AttachmentName = `C:\invito.ics` },
			"name with a line break":   func(m *Message) { m.AttachmentName = "invito.ics\r\nBcc: eve@example.org" },
			"name with a NUL":          func(m *Message) { m.AttachmentName = "invito\x00.ics" },
			"name with a tab":          func(m *Message) { m.AttachmentName = "invito\t.ics" },
			"name too long":            func(m *Message) { m.AttachmentName = strings.Repeat("à", 197) + ".ics" },
			"dot dot":                  func(m *Message) { m.AttachmentName = ".." },
			"name not in UTF-8":        func(m *Message) { m.AttachmentName = "caf\xe9.ics" },
			"type not a media type":    func(m *Message) { m.AttachmentType = "calendar" },
			"type with a line break":   func(m *Message) { m.AttachmentType = "text/calendar\r\nBcc: eve@example.org" },
			"multipart type":           func(m *Message) { m.AttachmentType = "multipart/mixed; boundary=x" },
			"type too long":            func(m *Message) { m.AttachmentType = "text/calendar; x=" + strings.Repeat("a", 200) },
			"attachment not in UTF-8":  func(m *Message) { m.Attachment = "caf\xe9" },
			"attachment with a NUL":    func(m *Message) { m.Attachment = "a\x00b" },
			"attachment over 1 MiB":    func(m *Message) { m.Attachment = strings.Repeat("a", 1<<20+1) },
			"type without attachment":  func(m *Message) { m.AttachmentName, m.Attachment = "", "" },
			"name and type, no text":   func(m *Message) { m.Attachment = "" },
			"recipient still required": func(m *Message) { m.To = "" },
		}
		for name, spoil := range cases {
			m := calendar
			spoil(&m)
			if err := Enqueue(context.Background(), db, time.Now(), m); !apperr.Is(err, apperr.BadInput) {
				t.Errorf("%s: err = %v, want BAD_USER_INPUT", name, err)
			}
		}
		if rows := outbox(t, db); len(rows) != 0 {
			t.Fatalf("refused messages were stored: %+v", rows)
		}

		now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
		accented := calendar
		accented.AttachmentName = strings.Repeat("à", 196) + ".ics" // 200 characters, 396 bytes
		for _, m := range []Message{calendar, accented} {
			mustEnqueue(t, db, now, m)
		}
		mustEnqueue(t, db, now, Message{To: "bo@example.org", Subject: "Senza allegato", Body: "Testo."})
		rows := outbox(t, db)
		if len(rows) != 3 {
			t.Fatalf("stored %d rows, want 3", len(rows))
		}
		for i, m := range []Message{calendar, accented} {
			r := rows[i]
			if r.AttachmentName != m.AttachmentName || r.AttachmentType != m.AttachmentType || r.Attachment != m.Attachment {
				t.Errorf("row %d: attachment %q %q %q, want %q %q %q", i, r.AttachmentName, r.AttachmentType, r.Attachment,
					m.AttachmentName, m.AttachmentType, m.Attachment)
			}
		}
		if r := rows[2]; r.AttachmentName != "" || r.AttachmentType != "" || r.Attachment != "" {
			t.Errorf("a mail without attachment stored %+v", r)
		}
	})
}

// TestEnqueueAllQueuesTheGoodOnes: a batch queues every valid message in
// one statement and names the invalid ones by index, storing nothing of
// them.
func TestEnqueueAllQueuesTheGoodOnes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		bad := calendar
		bad.To = "not an address"
		second := calendar
		second.To = "bea@example.org"
		refused, err := EnqueueAll(context.Background(), db, time.Now(), []Message{calendar, bad, second})
		if err != nil {
			t.Fatal(err)
		}
		if len(refused) != 1 || !apperr.Is(refused[1], apperr.BadInput) {
			t.Errorf("refused %v, want the second message", refused)
		}
		rows := outbox(t, db)
		if len(rows) != 2 || rows[0].To != calendar.To || rows[1].To != second.To || rows[1].Attachment != calendar.Attachment {
			t.Fatalf("stored %+v", rows)
		}
		if refused, err := EnqueueAll(context.Background(), db, time.Now(), []Message{bad}); !apperr.Is(err, apperr.BadInput) || len(refused) != 1 {
			t.Errorf("a batch of one bad message: %v %v", refused, err)
		}
		if rows := outbox(t, db); len(rows) != 2 {
			t.Errorf("%d rows after refusals, want 2", len(rows))
		}
	})
}
