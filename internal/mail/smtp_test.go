package mail

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pia-sicilia/pia/internal/testutil"
)

const secret = "Sup3r-Segreto"

func TestNewSMTPSenderAcceptsGoodURLs(t *testing.T) {
	cases := []struct {
		raw        string
		addr       string
		tls        tlsMode
		user, from string
	}{
		{"smtp://pia:" + secret + "@mail.example.org:587?from=pia@example.org", "mail.example.org:587", tlsStartTLS, "pia", "pia@example.org"},
		{"smtp://mail.example.org?from=pia@example.org", "mail.example.org:587", tlsStartTLS, "", "pia@example.org"},
		{"smtp://mail.example.org:2525/?from=pia@example.org&tls=starttls", "mail.example.org:2525", tlsStartTLS, "", "pia@example.org"},
		{"smtp://127.0.0.1:1025?from=pia@example.org&tls=none", "127.0.0.1:1025", tlsNone, "", "pia@example.org"},
		{"smtps://pia%40example.org:" + url.QueryEscape(secret+"@/:") + "@mail.example.org?from=" + url.QueryEscape("PIA Città di Enna <pia@example.org>"), "mail.example.org:465", tlsImplicit, "pia@example.org", "pia@example.org"},
		{"smtp://[::1]:25?from=pia@example.org&tls=none", "[::1]:25", tlsNone, "", "pia@example.org"},
	}
	for _, c := range cases {
		s, err := NewSMTPSender(c.raw)
		if err != nil {
			t.Errorf("NewSMTPSender(%q): %v", c.raw, err)
			continue
		}
		got := s.(*smtpSender)
		if got.addr != c.addr || got.tls != c.tls || got.user != c.user || got.from.Address != c.from {
			t.Errorf("NewSMTPSender(%q) = addr %s tls %d user %q from %q", c.raw, got.addr, got.tls, got.user, got.from.Address)
		}
	}
	s, _ := NewSMTPSender("smtps://pia%40example.org:" + url.QueryEscape(secret+"@/:") + "@mail.example.org?from=pia@example.org")
	if got := s.(*smtpSender).pass; got != secret+"@/:" {
		t.Errorf("the password is %q, want it unescaped", got)
	}
}

func TestNewSMTPSenderExplainsBadURLs(t *testing.T) {
	cases := map[string]string{
		"": "scheme must be smtp or smtps",
		"http://pia:" + secret + "@mail.example.org?from=pia@example.org":   "scheme must be smtp or smtps",
		"smtp://pia:" + secret + "@:587?from=pia@example.org":               "host is required",
		"smtp:pia:" + secret + "@mail.example.org":                          "host is required",
		"smtp://pia:" + secret + "@mail.example.org:99999?from=a@b.org":     "port must be a number",
		"smtp://pia:" + secret + "@mail.example.org:abc?from=a@b.org":       "not a URL",
		"smtp://pia:" + secret + " x@mail example.org?from=a@b.org":         "not a URL",
		"smtp://pia:" + secret + "@mail.example.org/inbox?from=a@b.org":     "path is not allowed",
		"smtp://pia:" + secret + "@mail.example.org":                        "sender address is required",
		"smtp://pia:" + secret + "@mail.example.org?from=nobody":            "not an email address",
		"smtp://pia:" + secret + "@mail.example.org?from=a@b.org&tls=yes":   "tls must be starttls",
		"smtps://pia:" + secret + "@mail.example.org?from=a@b.org&tls=none": "smtps always uses TLS",
		"smtp://pia:" + secret + "@mail.example.org?from=a@b.org&form=x":    `unknown parameter "form"`,
		"smtp://pia@mail.example.org?from=a@b.org":                          "both a user and a password",
		"smtp://:" + secret + "@mail.example.org?from=a@b.org":              "both a user and a password",
		"smtp://pia:" + secret + "@mail.example.org?from=a@b.org&tls=%zz":   "query is not valid",
	}
	for raw, want := range cases {
		_, err := NewSMTPSender(raw)
		if err == nil {
			t.Errorf("NewSMTPSender(%q) accepted it", raw)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "PIA_SMTP_URL: ") || !strings.Contains(msg, want) {
			t.Errorf("NewSMTPSender(%q) = %q, want PIA_SMTP_URL and %q", raw, msg, want)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("NewSMTPSender(%q) shows the password: %q", raw, msg)
		}
	}
	// The host is shown, so the operator sees which setting is wrong.
	_, err := NewSMTPSender("smtp://pia:" + secret + "@mail.example.org:99999?from=a@b.org")
	if !strings.Contains(err.Error(), "pia:xxxxx@mail.example.org:99999") {
		t.Errorf("error %q does not show the redacted URL", err)
	}
}

func newTestSender(t *testing.T, raw string) *smtpSender {
	t.Helper()
	s, err := NewSMTPSender(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*smtpSender)
}

// TestSMTPSenderWritesAReadableMessage reads the message as a mail client
// would: decoded subject, decoded body, the headers a client relies on.
func TestSMTPSenderWritesAReadableMessage(t *testing.T) {
	srv := startMailServer(t, func(ms *mailServer, _ *smtp.Server) { ms.user, ms.pass = "pia", secret })
	from := url.QueryEscape("PIA – Città di Enna <pia@enna.example.org>")
	s := newTestSender(t, "smtp://pia:"+url.QueryEscape(secret)+"@"+srv.addr+"?tls=none&from="+from)
	body := "Buongiorno Lucia,\n\nè stata invitata a PIA: https://pia.example.org/invito?token=a1b2=c3\n" +
		".una riga che comincia con un punto\n" + strings.Repeat("una riga molto lunga ", 10) + "\nA presto.\n"
	m := Message{To: "lucia.rossi@example.org", Subject: "Invito a PIA – Città di Enna", Body: body}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages", len(got))
	}
	r := got[0]
	if r.from != "pia@enna.example.org" || len(r.to) != 1 || r.to[0] != m.To {
		t.Fatalf("envelope from %q to %q", r.from, r.to)
	}
	msg := parseMail(t, r.data)
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("subject = %q (%v), want %q", subject, err, m.Subject)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To = %v (%v)", to, err)
	}
	if f, err := msg.Header.AddressList("From"); err != nil || f[0].Name != "PIA – Città di Enna" || f[0].Address != "pia@enna.example.org" {
		t.Errorf("From = %v (%v)", f, err)
	}
	if d, err := msg.Header.Date(); err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("Date = %v (%v)", d, err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@enna.example.org>") {
		t.Errorf("Message-ID = %q", id)
	}
	if mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type")); err != nil || mt != "text/plain" || params["charset"] != "utf-8" {
		t.Errorf("Content-Type = %q", msg.Header.Get("Content-Type"))
	}
	if msg.Header.Get("MIME-Version") != "1.0" || msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("header %v", msg.Header)
	}
	for _, line := range strings.Split(string(r.data), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	decoded, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(decoded), "\r\n", "\n"); got != body {
		t.Errorf("body = %q\nwant %q", got, body)
	}
}

func TestComposeRefusesLineBreaksInHeaders(t *testing.T) {
	s := newTestSender(t, "smtp://127.0.0.1:1?tls=none&from=pia@example.org")
	for _, m := range []Message{
		{To: "a@example.org\r\nBcc: eve@example.org", Subject: "x", Body: "x"},
		{To: "a@example.org", Subject: "x\nBcc: eve@example.org", Body: "x"},
	} {
		if _, err := compose(s.from, m, time.Now()); err == nil {
			t.Errorf("compose(%q, %q) accepted a line break", m.To, m.Subject)
		}
	}
}

func TestSMTPSenderKeepsThePasswordOutOfErrors(t *testing.T) {
	// The server refuses the password and quotes it in its reply.
	srv := startMailServer(t, func(ms *mailServer, _ *smtp.Server) { ms.user, ms.pass = "pia", "another" })
	s := newTestSender(t, "smtp://pia:"+secret+"@"+srv.addr+"?tls=none&from=pia@example.org")
	err := s.Send(context.Background(), Message{To: "a@example.org", Subject: "x", Body: "x"})
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "535") {
		t.Fatalf("error = %q, want the 535 without the password", err)
	}
}

func TestSMTPSenderUsesTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	m := Message{To: "a@example.org", Subject: "Invito", Body: "Benvenuta."}

	t.Run("STARTTLS", func(t *testing.T) {
		srv := startMailServer(t, func(ms *mailServer, s *smtp.Server) {
			s.TLSConfig = serverTLS
			s.AllowInsecureAuth = false
			ms.user, ms.pass = "pia", secret
		})
		s := newTestSender(t, "smtp://pia:"+secret+"@"+srv.addr+"?from=pia@example.org")
		s.tlsConfig = clientTLS
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if got := srv.messages(); len(got) != 1 || !got[0].tls {
			t.Fatalf("received %+v, want one message over TLS", got)
		}
	})
	t.Run("STARTTLS is required", func(t *testing.T) {
		srv := startMailServer(t, nil)
		s := newTestSender(t, "smtp://"+srv.addr+"?from=pia@example.org")
		err := s.Send(context.Background(), m)
		if err == nil || !strings.Contains(err.Error(), "tls=none") {
			t.Fatalf("err = %v, want a refusal that suggests tls=none", err)
		}
		if got := srv.messages(); len(got) != 0 {
			t.Fatalf("sent without TLS: %+v", got)
		}
	})
	t.Run("implicit TLS", func(t *testing.T) {
		srv := startMailServer(t, func(ms *mailServer, _ *smtp.Server) { ms.implicitTLS = serverTLS })
		s := newTestSender(t, "smtps://"+srv.addr+"?from=pia@example.org")
		s.tlsConfig = clientTLS
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if got := srv.messages(); len(got) != 1 || !got[0].tls {
			t.Fatalf("received %+v, want one message over TLS", got)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := startMailServer(t, func(ms *mailServer, _ *smtp.Server) { ms.implicitTLS = serverTLS })
		s := newTestSender(t, "smtps://"+srv.addr+"?from=pia@example.org")
		if err := s.Send(context.Background(), m); err == nil {
			t.Fatal("sent to a server whose certificate nobody signed")
		}
	})
}

func TestSMTPSenderStopsWithTheContext(t *testing.T) {
	srv := startMailServer(t, nil)
	s := newTestSender(t, "smtp://"+srv.addr+"?tls=none&from=pia@example.org")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, Message{To: "a@example.org", Subject: "x", Body: "x"}); err == nil {
		t.Fatal("sent with a cancelled context")
	}
}

func TestLogSenderLogsTheWholeMessage(t *testing.T) {
	var buf testutil.LogBuffer
	s := NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := Message{To: "lucia@example.org", Subject: "Invito a PIA – Città di Enna", Body: "Apra https://pia.example.org/invito?token=abc per entrare."}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	e, ok := buf.Find("mail logged, not sent")
	if !ok {
		t.Fatalf("nothing logged: %s", buf.String())
	}
	if e["level"] != "INFO" || e["to"] != m.To || e["subject"] != m.Subject || e["body"] != m.Body {
		t.Fatalf("logged %v", e)
	}
}

// TestSMTPSenderAttachesAFile reads the attachment back as a mail client
// would: the text first, then the file, byte for byte.
func TestSMTPSenderAttachesAFile(t *testing.T) {
	srv := startMailServer(t, nil)
	s := newTestSender(t, "smtp://"+srv.addr+"?tls=none&from=pia@example.org")
	body := "Buongiorno,\n\nl'incontro è confermato: in allegato l'invito per il calendario.\n"
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//PIA//IT\r\nBEGIN:VEVENT\r\nSUMMARY:Salute – Città di Enna\r\n" +
		"DESCRIPTION:" + strings.Repeat("una riga molto lunga ", 10) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	m := Message{To: "lucia.rossi@example.org", Subject: "Incontro confermato", Body: body,
		AttachmentName: "incontro à Enna.ics", AttachmentType: "text/calendar; charset=utf-8; method=PUBLISH", Attachment: ics}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages", len(got))
	}
	for _, line := range strings.Split(string(got[0].data), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	msg := parseMail(t, got[0].data)
	if msg.Header.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", msg.Header.Get("MIME-Version"))
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		t.Fatalf("Content-Type = %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])

	// NextPart decodes quoted-printable, as clients do.
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if mt, params, _ := mime.ParseMediaType(text.Header.Get("Content-Type")); mt != "text/plain" || params["charset"] != "utf-8" {
		t.Errorf("text part Content-Type = %q", text.Header.Get("Content-Type"))
	}
	if b, err := io.ReadAll(text); err != nil || strings.ReplaceAll(string(b), "\r\n", "\n") != body {
		t.Errorf("text = %q (%v), want %q", b, err, body)
	}

	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if att.FileName() != m.AttachmentName {
		t.Errorf("file name = %q, want %q", att.FileName(), m.AttachmentName)
	}
	if d, _, _ := mime.ParseMediaType(att.Header.Get("Content-Disposition")); d != "attachment" {
		t.Errorf("Content-Disposition = %q", att.Header.Get("Content-Disposition"))
	}
	mt, params, err = mime.ParseMediaType(att.Header.Get("Content-Type"))
	if err != nil || mt != "text/calendar" || params["charset"] != "utf-8" || params["method"] != "PUBLISH" {
		t.Errorf("attachment Content-Type = %q (%v)", att.Header.Get("Content-Type"), err)
	}
	if cte := att.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
		t.Errorf("attachment Content-Transfer-Encoding = %q", cte)
	}
	raw, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, att))
	if err != nil || string(raw) != ics {
		t.Errorf("attachment = %q (%v)\nwant %q", raw, err, ics)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("a third part: %v", err)
	}
}

func TestLogSenderNamesTheAttachment(t *testing.T) {
	var buf testutil.LogBuffer
	s := NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := Message{To: "lucia@example.org", Subject: "Incontro", Body: "In allegato.", AttachmentName: "incontro-3.ics",
		AttachmentType: "text/calendar; charset=utf-8", Attachment: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	e, ok := buf.Find("mail logged, not sent")
	if !ok || e["attachment"] != m.AttachmentName || e["body"] != m.Body {
		t.Fatalf("logged %v", e)
	}
	if strings.Contains(buf.String(), "VCALENDAR") {
		t.Errorf("the attachment's text was logged: %s", buf.String())
	}
}
