package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// sendTimeout bounds one delivery, from dialling to QUIT, so a stuck server
// cannot hold a claimed mail longer than the Deliverer's lease.
const sendTimeout = time.Minute

type tlsMode int

const (
	tlsStartTLS tlsMode = iota // plain connection upgraded by STARTTLS, which the server must offer
	tlsImplicit                // TLS from the first byte (smtps)
	tlsNone                    // no TLS at all (a local relay or a test server)
)

type smtpSender struct {
	addr      string // host:port
	host      string
	tls       tlsMode
	tlsConfig *tls.Config // nil means the system roots and the URL's host; tests replace it
	user      string
	pass      string
	from      *mail.Address
	now       func() time.Time
}

// NewSMTPSender returns a Sender that submits mail to the server of rawURL,
// the value of PIA_SMTP_URL:
//
//	smtp://user:pass@mail.example.org:587?from=pia@example.org    STARTTLS, required
//	smtp://relay.local:25?from=pia@example.org&tls=none            no TLS (local relays only)
//	smtps://user:pass@mail.example.org:465?from=PIA%20<pia@example.org>   implicit TLS
//
// The port defaults to 587 for smtp and 465 for smtps; with a user and a
// password it authenticates with PLAIN. A bad URL gives an error that names
// PIA_SMTP_URL and says what is wrong, with the password hidden.
func NewSMTPSender(rawURL string) (Sender, error) {
	bad := func(u *url.URL, format string, a ...any) error {
		msg := "PIA_SMTP_URL: " + fmt.Sprintf(format, a...)
		// An opaque URL (smtp:user:pass@host) has no password to redact.
		if u != nil && u.Opaque == "" {
			msg += " (got " + u.Redacted() + ")"
		}
		return errors.New(msg)
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, bad(nil, "not a URL; expected smtp://user:pass@host:587?from=address or smtps://...:465")
	}
	s := &smtpSender{now: time.Now}
	var defaultPort string
	switch u.Scheme {
	case "smtp":
		defaultPort = "587"
	case "smtps":
		defaultPort, s.tls = "465", tlsImplicit
	default:
		return nil, bad(u, "the scheme must be smtp or smtps")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, bad(u, "a server host is required, as in smtp://mail.example.org:587")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, bad(u, "a path is not allowed")
	}
	s.host = u.Hostname()
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, bad(u, "the port must be a number from 1 to 65535")
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" || s.pass == "" {
			return nil, bad(u, "give both a user and a password, or neither")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad(u, "the query is not valid")
	}
	for k := range q {
		if k != "from" && k != "tls" {
			return nil, bad(u, "unknown parameter %q; the parameters are from and tls", k)
		}
	}
	switch q.Get("tls") {
	case "", "starttls":
		if s.tls == tlsImplicit && q.Get("tls") != "" {
			return nil, bad(u, "smtps always uses TLS; tls=%s is only for smtp", q.Get("tls"))
		}
	case "none":
		if s.tls == tlsImplicit {
			return nil, bad(u, "smtps always uses TLS; use smtp://...?tls=none for a server without TLS")
		}
		s.tls = tlsNone
	default:
		return nil, bad(u, "tls must be starttls (the default) or none")
	}
	from := q.Get("from")
	if from == "" {
		return nil, bad(u, "the sender address is required, as in ?from=pia@example.org")
	}
	if s.from, err = mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, bad(u, "from=%q is not an email address", from)
	}
	return s, nil
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := compose(s.from, m, s.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := s.send(ctx, m.To, msg); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return s.scrub(fmt.Errorf("send mail via %s: %w", s.addr, err))
	}
	return nil
}

func (s *smtpSender) send(ctx context.Context, to string, msg []byte) error {
	cfg := s.tlsConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	var conn net.Conn
	var err error
	if s.tls == tlsImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: cfg}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	// go-smtp sets a deadline per command and then clears it, so ctx is
	// enforced by closing the connection under it.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var c *smtp.Client
	if s.tls == tlsStartTLS {
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			_ = conn.Close()
			return fmt.Errorf("STARTTLS: %w (for a server without TLS, add tls=none to PIA_SMTP_URL)", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = sendTimeout
	if s.user != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not offer authentication (AUTH), but PIA_SMTP_URL has a user")
		}
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.pass)); err != nil {
			return fmt.Errorf("authenticate as %s: %w", s.user, err)
		}
	}
	if err := c.SendMail(s.from.Address, []string{to}, bytes.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// scrub removes the password from err, in case a server or a library quotes
// what it was sent: the error ends up in the outbox and the logs.
func (s *smtpSender) scrub(err error) error {
	if s.pass == "" {
		return err
	}
	text := err.Error()
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.user + "\x00" + s.pass))
	if !strings.Contains(text, s.pass) && !strings.Contains(text, plain) {
		return err
	}
	text = strings.ReplaceAll(text, plain, "xxxxx")
	return errors.New(strings.ReplaceAll(text, s.pass, "xxxxx"))
}

// compose writes m as an RFC 5322 message: a UTF-8 plain-text body in
// quoted-printable, the subject as MIME encoded-words. With an attachment
// the message is multipart/mixed: the text first, so that every client
// shows it, then the attachment in base64, which survives any relay.
func compose(from *mail.Address, m Message, now time.Time) ([]byte, error) {
	for _, v := range []string{from.String(), m.To, m.Subject, m.AttachmentName, m.AttachmentType} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("a mail header may not contain a line break")
		}
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	// Encoded-words are at most 75 characters; fold between them so that a
	// long accented subject keeps its lines short.
	subject := strings.ReplaceAll(mime.QEncoding.Encode("utf-8", m.Subject), "?= =?", "?=\r\n =?")

	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", subject)
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+rand.Text()+"@"+domain+">")
	header("MIME-Version", "1.0")
	if !m.HasAttachment() {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Body); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}

	// The attachment's header is rebuilt from its parsed parts, so what
	// reaches the wire is well formed whatever the caller wrote, and a
	// non-ASCII file name is encoded as RFC 2231 says.
	mt, params, err := mime.ParseMediaType(m.AttachmentType)
	if err != nil {
		return nil, fmt.Errorf("attachment type %q: %w", m.AttachmentType, err)
	}
	ctype := mime.FormatMediaType(mt, params)
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": m.AttachmentName})
	if ctype == "" || disposition == "" {
		return nil, fmt.Errorf("attachment %q of type %q cannot be written in a header", m.AttachmentName, m.AttachmentType)
	}
	var parts bytes.Buffer
	mw := multipart.NewWriter(&parts)
	// The boundary is 60 characters: folded onto its own line, the header
	// stays within 78.
	header("Content-Type", "multipart/mixed;\r\n "+strings.TrimPrefix(
		mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}), "multipart/mixed; "))
	b.WriteString("\r\n")
	text, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	if err := writeQP(text, m.Body); err != nil {
		return nil, err
	}
	att, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {ctype},
		"Content-Disposition":       {disposition},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	if err := writeBase64(att, []byte(m.Attachment)); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(parts.Bytes())
	return b.Bytes(), nil
}

// writeQP writes text in quoted-printable, with CRLF line ends.
func writeQP(w io.Writer, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	return qp.Close()
}

// writeBase64 writes data in base64 lines of 76 characters, the most RFC
// 2045 allows.
func writeBase64(w io.Writer, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(len(enc), 76)
		if _, err := io.WriteString(w, enc[:n]+"\r\n"); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}
