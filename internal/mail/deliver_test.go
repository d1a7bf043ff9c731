package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDeliverDueSendsThroughSMTP(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		srv := startMailServer(t, func(ms *mailServer, _ *smtp.Server) { ms.user, ms.pass = "pia", secret })
		clk := newClock()
		d := &Deliverer{
			DB: db, Sender: newTestSender(t, "smtp://pia:"+secret+"@"+srv.addr+"?tls=none&from=pia@example.org"),
			Logger: quietLogger(), Now: clk.Now,
		}
		body := "Buongiorno,\nè stata invitata a PIA.\nApra https://pia.example.org/invito?token=x=y per entrare.\n"
		m := Message{To: "lucia.rossi@example.org", Subject: "Invito a PIA – Città di Enna", Body: body}
		mustEnqueue(t, db, clk.Now(), m)

		clk.Advance(time.Second)
		sent, failed, err := d.DeliverDue(ctx)
		if err != nil || sent != 1 || failed != 0 {
			t.Fatalf("DeliverDue = %d sent, %d failed, %v", sent, failed, err)
		}
		got := srv.messages()
		if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != m.To {
			t.Fatalf("received %+v", got)
		}
		msg := parseMail(t, got[0].data)
		var dec mime.WordDecoder
		if subject, _ := dec.DecodeHeader(msg.Header.Get("Subject")); subject != m.Subject {
			t.Errorf("subject = %q, want %q", subject, m.Subject)
		}
		text, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if s := strings.ReplaceAll(string(text), "\r\n", "\n"); s != body {
			t.Errorf("body = %q, want %q", s, body)
		}
		rows := outbox(t, db)
		if rows[0].SentAt == nil || !rows[0].SentAt.Equal(clk.Now()) || rows[0].Attempts != 0 || rows[0].LastError != "" {
			t.Fatalf("row after sending: %+v", rows[0])
		}

		// Sent mail is not sent again.
		clk.Advance(time.Hour)
		if sent, failed, err := d.DeliverDue(ctx); sent+failed != 0 || err != nil {
			t.Fatalf("second pass = %d sent, %d failed, %v", sent, failed, err)
		}
		if n := len(srv.messages()); n != 1 {
			t.Fatalf("the server has %d messages", n)
		}
	})
}

func TestDeliverDueRetriesWithBackoff(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		srv := startMailServer(t, nil)
		srv.failNext(2)
		clk := newClock()
		d := &Deliverer{
			DB: db, Sender: newTestSender(t, "smtp://"+srv.addr+"?tls=none&from=pia@example.org"),
			Logger: quietLogger(), Now: clk.Now,
		}
		mustEnqueue(t, db, clk.Now(), Message{To: "a@example.org", Subject: "Invito", Body: "Benvenuta."})

		pass := func(wantSent, wantFailed int) {
			t.Helper()
			sent, failed, err := d.DeliverDue(ctx)
			if err != nil || sent != wantSent || failed != wantFailed {
				t.Fatalf("at %s DeliverDue = %d sent, %d failed, %v; want %d, %d",
					clk.Now().Format(time.TimeOnly), sent, failed, err, wantSent, wantFailed)
			}
		}
		check := func(attempts int, next time.Time) {
			t.Helper()
			r := outbox(t, db)[0]
			if r.Attempts != attempts || !r.NextAttemptAt.Equal(next) || r.SentAt != nil || r.FailedAt != nil ||
				!strings.Contains(r.LastError, "451") || !strings.Contains(r.LastError, "mailbox busy") {
				t.Fatalf("row = %+v, want %d attempts, next at %s", r, attempts, next)
			}
		}

		pass(0, 1)
		check(1, clk.Now().Add(30*time.Second))
		clk.Advance(30*time.Second - time.Millisecond)
		pass(0, 0) // not yet due
		clk.Advance(time.Millisecond)
		pass(0, 1)
		check(2, clk.Now().Add(time.Minute))
		clk.Advance(time.Minute - time.Millisecond)
		pass(0, 0)
		if n := len(srv.messages()); n != 0 {
			t.Fatalf("delivered %d messages before the third attempt", n)
		}
		clk.Advance(time.Millisecond)
		pass(1, 0)
		r := outbox(t, db)[0]
		if r.SentAt == nil || !r.SentAt.Equal(clk.Now()) || r.Attempts != 2 {
			t.Fatalf("row = %+v, want sent now after 2 failed attempts", r)
		}
		if n := len(srv.messages()); n != 1 {
			t.Fatalf("delivered %d messages, want 1", n)
		}
	})
}

func TestDeliverDueGivesUpAfterMaxAttempts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		var logs testutil.LogBuffer
		clk := newClock()
		calls := 0
		// A long error of accented text: the stored one is cut to 500
		// characters, on a character boundary.
		long := strings.Repeat("è", 2000)
		d := &Deliverer{
			DB: db, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Now: clk.Now, MaxAttempts: 3,
			Sender: funcSender(func(context.Context, Message) error {
				calls++
				return fmt.Errorf("%w: %s", errRefused, long)
			}),
		}
		mustEnqueue(t, db, clk.Now(), Message{To: "a@example.org", Subject: "Invito", Body: "Benvenuta."})
		for i := 1; i <= 3; i++ {
			if sent, failed, err := d.DeliverDue(ctx); err != nil || sent != 0 || failed != 1 {
				t.Fatalf("pass %d = %d sent, %d failed, %v", i, sent, failed, err)
			}
			clk.Advance(time.Hour)
		}
		r := outbox(t, db)[0]
		if r.FailedAt == nil || r.SentAt != nil || r.Attempts != 3 {
			t.Fatalf("row = %+v, want failed after 3 attempts", r)
		}
		if n := len([]rune(r.LastError)); n != 500 || !strings.HasPrefix(r.LastError, "refused: èèè") {
			t.Fatalf("last_error has %d characters: %.40q", n, r.LastError)
		}
		if e, ok := logs.Find("mail given up"); !ok || e["level"] != "ERROR" || e["attempts"] != float64(3) {
			t.Fatalf("no error logged: %s", logs.String()[:min(len(logs.String()), 500)])
		}

		clk.Advance(30 * 24 * time.Hour)
		if sent, failed, err := d.DeliverDue(ctx); err != nil || sent+failed != 0 || calls != 3 {
			t.Fatalf("a failed mail was tried again: %d sent, %d failed, %d calls, %v", sent, failed, calls, err)
		}
	})
}

// TestDeliverDueComparesTimes checks, on both engines, that due means
// next_attempt_at <= now to the microsecond, across whole and fractional
// seconds and time zones, and that the most overdue mail goes first.
func TestDeliverDueComparesTimes(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		base := time.Date(2026, 11, 23, 9, 59, 59, 0, time.UTC)
		rome := time.FixedZone("CET", 3600)
		// Enqueued out of order; the name says when each is due.
		due := map[string]time.Time{
			"d-1.25s": base.Add(1250 * time.Millisecond),
			"a-0s":    base,
			"c-1s":    base.Add(time.Second).In(rome),
			"b-0.5s":  base.Add(500 * time.Millisecond),
			"e-late":  base.Add(1250*time.Millisecond + time.Microsecond),
			"f-later": base.Add(10 * time.Second).In(rome),
		}
		for _, name := range []string{"d-1.25s", "a-0s", "f-later", "c-1s", "e-late", "b-0.5s"} {
			mustEnqueue(t, db, due[name], Message{To: "a@example.org", Subject: name, Body: "x"})
		}
		var order []string
		d := &Deliverer{
			DB: db, Logger: quietLogger(),
			Now: func() time.Time { return base.Add(1250 * time.Millisecond).In(rome) },
			Sender: funcSender(func(_ context.Context, m Message) error {
				order = append(order, m.Subject)
				return nil
			}),
		}
		if _, _, err := d.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(order, " "); got != "a-0s b-0.5s c-1s d-1.25s" {
			t.Fatalf("sent %q, want a-0s b-0.5s c-1s d-1.25s", got)
		}
	})
}

// TestDeliverersShareTheOutbox runs several Deliverers, each with its own
// connection pool as separate server instances would have, over the same
// outbox at the same time: each mail reaches the server exactly once.
func TestDeliverersShareTheOutbox(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		const mails, instances = 120, 4
		srv := startMailServer(t, nil)
		clk := newClock()
		for i := range mails {
			mustEnqueue(t, db, clk.Now(), Message{To: fmt.Sprintf("p%03d@example.org", i), Subject: "Invito", Body: "Benvenuta."})
		}
		clk.Advance(time.Second)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for i := range instances {
			pool := db
			if i > 0 {
				pool = storagetest.Reopen(t, db)
			}
			d := &Deliverer{
				DB: pool, Logger: quietLogger(), Now: clk.Now,
				Sender: newTestSender(t, "smtp://"+srv.addr+"?tls=none&from=pia@example.org"),
			}
			wg.Go(func() {
				sent, failed, err := d.DeliverDue(context.Background())
				if err != nil || failed != 0 {
					t.Errorf("instance %d: %d sent, %d failed, %v", i, sent, failed, err)
				}
				mu.Lock()
				total += sent
				mu.Unlock()
			})
		}
		wg.Wait()
		count := make(map[string]int)
		for _, r := range srv.messages() {
			count[r.to[0]]++
		}
		for i := range mails {
			if to := fmt.Sprintf("p%03d@example.org", i); count[to] != 1 {
				t.Errorf("%s received %d copies", to, count[to])
			}
		}
		if total != mails {
			t.Errorf("the instances report %d sent, want %d", total, mails)
		}
		for _, r := range outbox(t, db) {
			if r.SentAt == nil {
				t.Errorf("mail %d not marked sent", r.ID)
			}
		}
	})
}

func TestRunDeliversOnWakeAndStops(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		got := make(chan Message, 10)
		d := &Deliverer{
			DB: db, Logger: quietLogger(), Interval: time.Hour,
			Sender: funcSender(func(_ context.Context, m Message) error {
				got <- m
				return nil
			}),
		}
		d.Wake()
		d.Wake() // never blocks, Run or not
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()

		// With an hour between passes, only Wake makes this mail go out.
		time.Sleep(20 * time.Millisecond)
		mustEnqueue(t, db, time.Now(), Message{To: "a@example.org", Subject: "Invito", Body: "Benvenuta."})
		d.Wake()
		select {
		case m := <-got:
			if m.To != "a@example.org" {
				t.Fatalf("sent %+v", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Wake did not start a pass")
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop when its context ended")
		}
	})
}

func TestRunPollsEveryInterval(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		got := make(chan Message, 10)
		d := &Deliverer{
			DB: db, Logger: quietLogger(), Interval: 10 * time.Millisecond,
			Sender: funcSender(func(_ context.Context, m Message) error {
				got <- m
				return nil
			}),
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		defer func() {
			cancel()
			<-done
		}()
		mustEnqueue(t, db, time.Now(), Message{To: "a@example.org", Subject: "Invito", Body: "Benvenuta."})
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("no pass within the interval")
		}
	})
}

func TestRunNeedsADatabaseAndASender(t *testing.T) {
	if err := (&Deliverer{}).Run(context.Background()); err == nil {
		t.Fatal("Run started without a DB and a Sender")
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute,
		7: 32 * time.Minute, 8: time.Hour, 9: time.Hour, 1000: time.Hour,
	}
	for attempt, w := range want {
		if got := DefaultBackoff(attempt); got != w {
			t.Errorf("DefaultBackoff(%d) = %s, want %s", attempt, got, w)
		}
	}
}

func TestDeliverDuePassesTheAttachmentOn(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clk := newClock()
		var got []Message
		d := &Deliverer{DB: db, Logger: quietLogger(), Now: clk.Now,
			Sender: funcSender(func(_ context.Context, m Message) error {
				got = append(got, m)
				return nil
			})}
		plain := Message{To: "bo@example.org", Subject: "Senza allegato", Body: "Testo."}
		mustEnqueue(t, db, clk.Now(), calendar)
		mustEnqueue(t, db, clk.Now(), plain)
		if sent, _, err := d.DeliverDue(context.Background()); err != nil || sent != 2 {
			t.Fatalf("DeliverDue = %d sent, %v", sent, err)
		}
		if len(got) != 2 || got[0] != calendar || got[1] != plain {
			t.Fatalf("sent %+v\nwant %+v and %+v", got, calendar, plain)
		}
	})
}
