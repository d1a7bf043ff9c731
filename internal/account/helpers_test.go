package account_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// clock is the shared test clock.
type clock = testutil.Clock

func newClock() *clock { return testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) }

// roleSource stands in for the working groups of the network issue.
type roleSource struct {
	mu sync.Mutex
	m  map[int64]map[int64]access.TerritoryRole
}

func (r *roleSource) set(personID, territoryID int64, role access.TerritoryRole) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[int64]map[int64]access.TerritoryRole)
	}
	if r.m[personID] == nil {
		r.m[personID] = make(map[int64]access.TerritoryRole)
	}
	r.m[personID][territoryID] = role
}

func (r *roleSource) clear(personID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, personID)
}

func (r *roleSource) TerritoryRoles(_ context.Context, personID int64) (map[int64]access.TerritoryRole, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.m[personID]), nil
}

var testClient = access.Client{Addr: "192.0.2.1", UserAgent: "test"}

// anon is the context of a request without a session.
func anon() context.Context { return access.WithClient(context.Background(), testClient) }

// from is anon from another client address.
func from(addr string) context.Context {
	return access.WithClient(context.Background(), access.Client{Addr: addr, UserAgent: "test"})
}

// as is the context of a request by a.
func as(a *access.Actor) context.Context { return access.WithActor(anon(), a) }

const (
	adminEmail    = "admin@example.org"
	adminPassword = "admin password of the test"
)

// user is a signed-in person as a client sees them.
type user struct {
	email, password, token string
	person                 *account.Person
	session                *account.Session
	actor                  *access.Actor
}

func (u *user) ctx() context.Context { return as(u.actor) }

// fixture is a Service on a fresh database with a signed-in administrator.
type fixture struct {
	t     *testing.T
	db    *bun.DB
	clock *clock
	roles *roleSource
	logs  *testutil.LogBuffer
	svc   *account.Service
	admin *user
}

func baseOptions(c *clock, r *roleSource, logs *testutil.LogBuffer) account.Options {
	return account.Options{
		Now:       c.Now,
		Roles:     r,
		HashSlots: 2,
		PublicURL: "https://pia.example.org/",
		Logger:    slog.New(slog.NewJSONHandler(logs, nil)),
	}
}

func newService(t *testing.T, db *bun.DB, o account.Options) *account.Service {
	t.Helper()
	svc, err := account.NewService(db, o)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return svc
}

// setup builds a fixture; tweak adjusts the options first.
func setup(t *testing.T, db *bun.DB, tweak ...func(*account.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, clock: newClock(), roles: &roleSource{}, logs: &testutil.LogBuffer{}}
	o := baseOptions(f.clock, f.roles, f.logs)
	for _, fn := range tweak {
		fn(&o)
	}
	f.svc = newService(t, db, o)
	if created, _, err := f.svc.EnsureAdmin(anon(), adminEmail, adminPassword, false); err != nil || !created {
		t.Fatalf("EnsureAdmin: created %v, %v", created, err)
	}
	f.admin = f.signIn(adminEmail, adminPassword)
	return f
}

// signIn signs in and authenticates the token, as the next request would.
func (f *fixture) signIn(email, password string) *user {
	f.t.Helper()
	in, err := f.svc.SignIn(anon(), email, password)
	if err != nil {
		f.t.Fatalf("SignIn(%s): %v", email, err)
	}
	return f.userFrom(in, password)
}

func (f *fixture) userFrom(in *account.SignedIn, password string) *user {
	f.t.Helper()
	u := &user{email: *in.Person.Email, password: password, token: in.Token, person: in.Person, session: in.Session}
	f.reauth(u)
	return u
}

// reauth authenticates u's token again, picking up changed roles.
func (f *fixture) reauth(u *user) {
	f.t.Helper()
	a, sess, err := f.svc.Authenticate(anon(), u.token)
	if err != nil {
		f.t.Fatalf("Authenticate(%s): %v", u.email, err)
	}
	u.actor, u.session = a, sess
}

// invite has the administrator invite email and returns the token mailed.
func (f *fixture) invite(email string) string {
	f.t.Helper()
	inv, err := f.svc.Invite(f.admin.ctx(), account.InviteInput{Email: email})
	if err != nil {
		f.t.Fatalf("Invite(%s): %v", email, err)
	}
	return tokenIn(f.t, lastMail(f.t, f.db, inv.Email))
}

// newUser invites email, accepts with a password of its own and returns the
// signed-in person.
func (f *fixture) newUser(email, name string) *user {
	f.t.Helper()
	password := "password of " + email
	in, err := f.svc.AcceptInvitation(anon(), account.AcceptInput{Token: f.invite(email), DisplayName: name, Password: password})
	if err != nil {
		f.t.Fatalf("AcceptInvitation(%s): %v", email, err)
	}
	return f.userFrom(in, password)
}

// withRole gives u a role in territory 1 and refreshes their actor.
func (f *fixture) withRole(u *user, role access.TerritoryRole) *user {
	f.t.Helper()
	f.roles.set(u.person.ID, 1, role)
	f.reauth(u)
	return u
}

// withGlobal makes u have exactly roles.
func (f *fixture) withGlobal(u *user, roles ...access.GlobalRole) *user {
	f.t.Helper()
	if _, err := f.svc.SetGlobalRoles(f.admin.ctx(), u.email, roles); err != nil {
		f.t.Fatalf("SetGlobalRoles(%s, %v): %v", u.email, roles, err)
	}
	f.reauth(u)
	return u
}

// auditOf returns the events of kind, newest first.
func (f *fixture) auditOf(kind account.AuditKind) []*account.AuditEvent {
	f.t.Helper()
	page, err := f.svc.AuditEvents(f.admin.ctx(), account.AuditFilter{Kind: kind}, account.MaxPage, 0)
	if err != nil {
		f.t.Fatalf("AuditEvents(%s): %v", kind, err)
	}
	return page.Events
}

// mail is a row of the outbox.
type mail struct {
	Subject string `bun:"subject"`
	Body    string `bun:"body"`
}

// mailsTo lists the mails queued for to, oldest first.
func mailsTo(t *testing.T, db *bun.DB, to string) []mail {
	t.Helper()
	var out []mail
	if err := db.NewSelect().Table("mail_outbox").Column("subject", "body").Where("to_addr = ?", to).Order("id").Scan(context.Background(), &out); err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	return out
}

func lastMail(t *testing.T, db *bun.DB, to string) mail {
	t.Helper()
	m := mailsTo(t, db, to)
	if len(m) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	return m[len(m)-1]
}

// tokenRE finds a link's token, which follows '#'.
var tokenRE = regexp.MustCompile(`#([A-Za-z0-9_-]{43})\b`)

func tokenIn(t *testing.T, m mail) string {
	t.Helper()
	match := tokenRE.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("no token in the mail %q:\n%s", m.Subject, m.Body)
	}
	if !strings.Contains(m.Body, "https://pia.example.org/") {
		t.Errorf("the mail has no link to PIA:\n%s", m.Body)
	}
	return match[1]
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wantKind fails unless err is an application error of kind.
func wantKind(t *testing.T, err error, kind apperr.Kind) {
	t.Helper()
	if !apperr.Is(err, kind) {
		t.Fatalf("got error %v, want %s", err, kind)
	}
}

func count(t *testing.T, db *bun.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// tableText returns every row of table as the text of all its columns, so
// that a test can look for a secret anywhere in it.
func tableText(t *testing.T, db *bun.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		var b strings.Builder
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
			case []byte:
				fmt.Fprintf(&b, "%s=%s|", cols[i], v)
			default:
				fmt.Fprintf(&b, "%s=%v|", cols[i], v)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func passwordHash(t *testing.T, db *bun.DB, email string) string {
	t.Helper()
	var h string
	if err := db.NewRaw("SELECT password_hash FROM people WHERE email = ?", email).Scan(context.Background(), &h); err != nil {
		t.Fatalf("password hash of %s: %v", email, err)
	}
	return h
}

// column returns the text of one column of all rows of table.
func column(t *testing.T, db *bun.DB, table, col string) []string {
	t.Helper()
	var out []string
	if err := db.NewSelect().Table(table).Column(col).Where("? IS NOT NULL", bun.Ident(col)).Scan(context.Background(), &out); err != nil {
		t.Fatalf("read %s.%s: %v", table, col, err)
	}
	return out
}

// parallel runs the calls at once, released together, and returns their
// errors.
func parallel(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = call(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// kinds counts errors by kind; "" counts successes.
func kinds(errs []error) map[apperr.Kind]int {
	out := map[apperr.Kind]int{}
	for _, err := range errs {
		if err == nil {
			out[""]++
			continue
		}
		out[apperr.KindOf(err)]++
	}
	return out
}
