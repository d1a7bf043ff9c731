package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/testutil"
)

// mailServer is a real SMTP server on 127.0.0.1 that records what it
// accepts. failures makes the next DATA commands fail with a 451.
type mailServer struct {
	addr string
	user string // when set, AUTH PLAIN with user and pass is required
	pass string
	// implicitTLS, when set, makes the server speak TLS from the first byte.
	implicitTLS *tls.Config

	mu       sync.Mutex
	received []received
	failures int
}

type received struct {
	tls  bool
	from string
	to   []string
	data []byte
}

// startMailServer starts a server without TLS; configure may set its
// credentials or TLS before it serves.
func startMailServer(t *testing.T, configure func(*mailServer, *smtp.Server)) *mailServer {
	t.Helper()
	ms := &mailServer{}
	srv := smtp.NewServer(ms)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if configure != nil {
		configure(ms, srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	if ms.implicitTLS != nil {
		l = tls.NewListener(l, ms.implicitTLS)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close misses a listener that Serve has not registered yet.
		_ = l.Close()
		<-done
	})
	return ms
}

func (ms *mailServer) failNext(n int) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.failures = n
}

func (ms *mailServer) messages() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.received...)
}

func (ms *mailServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: ms, conn: c}, nil
}

type session struct {
	server *mailServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.server.user || pass != s.server.pass {
			// A careless server quoting the password back: the sender
			// must keep it out of its errors.
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials " + pass}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	if s.server.failures > 0 {
		s.server.failures--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox busy, try later"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.server.received = append(s.server.received, received{tls: isTLS, from: s.from, to: s.to, data: data})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// clock is the shared test clock.
type clock = testutil.Clock

func newClock() *clock { return testutil.NewClock(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)) }

// funcSender adapts a function to Sender.
type funcSender func(ctx context.Context, m Message) error

func (f funcSender) Send(ctx context.Context, m Message) error { return f(ctx, m) }

var errRefused = errors.New("refused")

// outbox reads every row of the outbox, in id order.
func outbox(t *testing.T, db bun.IDB) []queued {
	t.Helper()
	var rows []queued
	if err := db.NewSelect().Model(&rows).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

func mustEnqueue(t *testing.T, db bun.IDB, now time.Time, m Message) {
	t.Helper()
	if err := Enqueue(context.Background(), db, now, m); err != nil {
		t.Fatalf("Enqueue(%+v): %v", m, err)
	}
}

// parseMail reads a received message as a mail client would.
func parseMail(t *testing.T, data []byte) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, data)
	}
	return msg
}

// selfSigned returns a server certificate for 127.0.0.1 and a client
// configuration that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return server, client
}
