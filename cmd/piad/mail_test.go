package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpInbox is a real SMTP server on loopback that records every message it
// accepts, for `piad serve` to deliver to through PIA_SMTP_URL.
type smtpInbox struct {
	addr string
	mu   sync.Mutex
	msgs []inboxMail
}

type inboxMail struct {
	to   []string
	data []byte
}

func startSMTPInbox(t *testing.T) *smtpInbox {
	t.Helper()
	in := &smtpInbox{}
	srv := smtp.NewServer(in)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.addr = l.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close(); _ = l.Close(); <-done })
	return in
}

func (in *smtpInbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }

func (in *smtpInbox) received() []inboxMail {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]inboxMail(nil), in.msgs...)
}

// waitFor polls until the inbox holds n messages and returns the nth.
func (in *smtpInbox) waitFor(t *testing.T, n int) inboxMail {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got := in.received(); len(got) >= n {
			return got[n-1]
		}
	}
	t.Fatalf("the SMTP server has %d messages after 5s, want %d", len(in.received()), n)
	return inboxMail{}
}

type inboxSession struct {
	in *smtpInbox
	to []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.msgs = append(s.in.msgs, inboxMail{to: s.to, data: data})
	return nil
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

// readMail decodes m as a mail client would: the envelope recipient, the
// decoded subject and the quoted-printable body.
func readMail(t *testing.T, m inboxMail) (to, subject, body string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, m.data)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	r := msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	hdrTo, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil || len(m.to) != 1 || m.to[0] != hdrTo.Address {
		t.Errorf("envelope recipients %v, To header %q (%v)", m.to, msg.Header.Get("To"), err)
	}
	return strings.Join(m.to, ","), subject, string(b)
}

// mailToken finds, in body, the link under PUBLIC_URL+path and the code
// after label, and checks that they carry the same token.
func mailToken(t *testing.T, body, path, label string) string {
	t.Helper()
	link := regexp.MustCompile(`https://pia\.example\.org` + path + `#([A-Za-z0-9_-]{43})\r?\n`).FindStringSubmatch(body)
	code := regexp.MustCompile(regexp.QuoteMeta(label) + ` ([A-Za-z0-9_-]{43})\r?\n`).FindStringSubmatch(body)
	if link == nil || code == nil || link[1] != code[1] {
		t.Fatalf("no link https://pia.example.org%s#<token> and %q with the same token in:\n%s", path, label, body)
	}
	return code[1]
}

// gqlAs POSTs a query with variables to /graphql, with a bearer token when
// token is not empty, and decodes the answer's data into out.
func gqlAs(t *testing.T, base, token, query string, vars map[string]any, out any) (int, []gqlError) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var r gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("POST /graphql answered %d with a body that is not JSON: %v", resp.StatusCode, err)
	}
	if out != nil && len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("data %s: %v", r.Data, err)
		}
	}
	return resp.StatusCode, r.Errors
}

func errCode(errs []gqlError) any {
	if len(errs) == 0 {
		return nil
	}
	return errs[0].Extensions["code"]
}

type signedIn struct {
	Token   string
	Session struct{ Current bool }
	Person  struct {
		Email, DisplayName, Language string
		GlobalRoles                  []string
	}
}

const signedInFields = `{ token session { current } person { email displayName language globalRoles } }`

// An organizer invites someone by mail; she accepts, forgets her password and
// resets it, each mail going out through a real SMTP server; the audit log
// tells the story.
func TestInvitationAndResetByMail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		inbox := startSMTPInbox(t)
		const adminPass, giulia = "correct horse battery", "giulia.bianchi@example.org"
		base, _, logs := startServer(t, map[string]string{
			"PIA_DATABASE_URL":   databaseURL,
			"PIA_SMTP_URL":       "smtp://" + inbox.addr + "?from=pia@pia.test&tls=none",
			"PIA_ADMIN_EMAIL":    "admin@pia.test",
			"PIA_ADMIN_PASSWORD": adminPass,
			"PIA_PUBLIC_URL":     "https://pia.example.org",
		})
		signIn := func(email, password string) (signedIn, []gqlError) {
			var d struct{ SignIn signedIn }
			_, errs := gqlAs(t, base, "", `mutation($in: SignInInput!) { signIn(input: $in) `+signedInFields+` }`,
				map[string]any{"in": map[string]any{"email": email, "password": password}}, &d)
			return d.SignIn, errs
		}
		admin, errs := signIn("admin@pia.test", adminPass)
		if len(errs) > 0 || admin.Token == "" {
			t.Fatalf("admin signIn: %+v\n%s", errs, logs)
		}

		// 1–2. The invitation, and its mail.
		var inv struct {
			InvitePerson struct{ Email, ExpiresAt string }
		}
		_, errs = gqlAs(t, base, admin.Token, `mutation($in: InvitePersonInput!) { invitePerson(input: $in) { email expiresAt } }`,
			map[string]any{"in": map[string]any{"email": "Giulia.Bianchi@Example.org", "language": "EN"}}, &inv)
		if len(errs) > 0 || inv.InvitePerson.Email != giulia || inv.InvitePerson.ExpiresAt == "" {
			t.Fatalf("invitePerson: %+v %+v", inv, errs)
		}
		to, subject, body := readMail(t, inbox.waitFor(t, 1))
		if to != giulia || !strings.HasPrefix(subject, "Invitation to PIA") {
			t.Errorf("invitation mail to %q with subject %q, want to %s in English", to, subject, giulia)
		}
		code := mailToken(t, body, "/invitation", "Invitation code:")

		// 3. Accepting it signs her in.
		accept := func(token string) (signedIn, []gqlError) {
			var d struct{ AcceptInvitation signedIn }
			_, errs := gqlAs(t, base, "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) `+signedInFields+` }`,
				map[string]any{"in": map[string]any{"token": token, "displayName": "Giulia Bianchi", "password": "old password 1234"}}, &d)
			return d.AcceptInvitation, errs
		}
		her, errs := accept(code)
		if p := her.Person; len(errs) > 0 || her.Token == "" || p.Email != giulia || p.DisplayName != "Giulia Bianchi" ||
			p.Language != "EN" || len(p.GlobalRoles) != 0 || !her.Session.Current {
			t.Fatalf("acceptInvitation: %+v %+v", her, errs)
		}
		var me struct{ Me *struct{ Email string } }
		if _, errs := gqlAs(t, base, her.Token, `{ me { email } }`, nil, &me); len(errs) > 0 || me.Me == nil || me.Me.Email != giulia {
			t.Errorf("me with her token: %+v %+v", me.Me, errs)
		}

		// 4. The code works once; a wrong one never.
		wrong := "A" + code[1:]
		if code[0] == 'A' {
			wrong = "B" + code[1:]
		}
		for name, c := range map[string]string{"reused": code, "wrong": wrong} {
			if again, errs := accept(c); errCode(errs) != "BAD_USER_INPUT" || again.Token != "" {
				t.Errorf("acceptInvitation with a %s code: %+v, want BAD_USER_INPUT", name, errs)
			}
		}

		// 5. A reset: the same answer for a known and an unknown address,
		// one mail, to her.
		requestReset := func(email string) map[string]any {
			var d struct{ RequestPasswordReset map[string]any }
			_, errs := gqlAs(t, base, "", `mutation($in: RequestPasswordResetInput!) { requestPasswordReset(input: $in) { email expiresAt } }`,
				map[string]any{"in": map[string]any{"email": email}}, &d)
			if len(errs) > 0 || d.RequestPasswordReset["email"] != email || d.RequestPasswordReset["expiresAt"] == "" {
				t.Errorf("requestPasswordReset(%s): %v %+v", email, d.RequestPasswordReset, errs)
			}
			return d.RequestPasswordReset
		}
		unknown, known := requestReset("nobody@example.org"), requestReset(giulia)
		if len(unknown) != len(known) {
			t.Errorf("the answers differ in shape: unknown %v, known %v", unknown, known)
		}
		to, subject, body = readMail(t, inbox.waitFor(t, 2))
		if to != giulia || subject != "PIA: choose a new password" {
			t.Errorf("reset mail to %q with subject %q", to, subject)
		}
		var reset struct{ ResetPassword signedIn }
		_, errs = gqlAs(t, base, "", `mutation($in: ResetPasswordInput!) { resetPassword(input: $in) `+signedInFields+` }`,
			map[string]any{"in": map[string]any{"token": mailToken(t, body, "/password-reset", "Reset code:"), "password": "new password 5678"}}, &reset)
		if len(errs) > 0 || reset.ResetPassword.Token == "" || reset.ResetPassword.Person.Email != giulia {
			t.Fatalf("resetPassword: %+v %+v", reset, errs)
		}
		if status, errs := gqlAs(t, base, her.Token, `{ me { email } }`, nil, nil); status != http.StatusUnauthorized || errCode(errs) != "UNAUTHENTICATED" {
			t.Errorf("her token from before the reset: %d %+v, want 401 UNAUTHENTICATED", status, errs)
		}
		if _, errs := signIn(giulia, "old password 1234"); errCode(errs) != "UNAUTHENTICATED" {
			t.Errorf("signIn with the old password: %+v, want UNAUTHENTICATED", errs)
		}
		if again, errs := signIn(giulia, "new password 5678"); len(errs) > 0 || again.Token == "" {
			t.Errorf("signIn with the new password: %+v", errs)
		}

		// 6. The audit log, as the administrator reads it.
		var audit struct {
			AuditEvents struct {
				Edges []struct{ Node struct{ Kind, Email string } }
			}
		}
		if _, errs := gqlAs(t, base, admin.Token, `{ auditEvents(first: 100) { edges { node { kind email } } } }`, nil, &audit); len(errs) > 0 {
			t.Fatalf("auditEvents: %+v", errs)
		}
		var got []string
		for i := len(audit.AuditEvents.Edges) - 1; i >= 0; i-- { // oldest first
			n := audit.AuditEvents.Edges[i].Node
			if strings.HasPrefix(n.Kind, "INVITATION_") || strings.HasPrefix(n.Kind, "PASSWORD_RESET") {
				got = append(got, n.Kind+" "+n.Email)
			}
		}
		want := []string{"INVITATION_SENT " + giulia, "INVITATION_ACCEPTED " + giulia,
			"PASSWORD_RESET_REQUESTED nobody@example.org", "PASSWORD_RESET_REQUESTED " + giulia, "PASSWORD_RESET " + giulia}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		if n := len(inbox.received()); n != 2 {
			t.Errorf("the SMTP server received %d messages, want 2 (the invitation, her reset)", n)
		}
		for _, secret := range []string{code, adminPass, "new password 5678", her.Token} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the logs reveal a token or password")
			}
		}
	})
}

// In production without PIA_SMTP_URL and without a first administrator,
// piad starts and says, as warnings, what is missing.
func TestProdWarnsWhatIsMissing(t *testing.T) {
	_, _, logs := startServer(t, map[string]string{"PIA_ENV": "prod"}) // both are logged before "listening"
	for _, msg := range []string{
		"PIA_SMTP_URL is not set: mail (invitations, password resets) stays queued until it is",
		"PIA has no administrator: set PIA_ADMIN_EMAIL and PIA_ADMIN_PASSWORD and restart",
	} {
		if e, ok := logs.Find(msg); !ok || e["level"] != "WARN" {
			t.Errorf("no warning %q in the logs:\n%s", msg, logs)
		}
	}
}
