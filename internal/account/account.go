// Package account holds people's accounts: sign-in and sessions,
// invitations, password resets, global roles, external identities and the
// security audit log. Every method checks the actor in its context with
// package access; none trusts its caller to have done so.
package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/throttle"
)

// Limits are the throttling limits. Sign-in and token limits count failures
// only (a success gives its attempt back); invitation and reset limits count
// every request.
type Limits struct {
	SignInPerAccount throttle.Limit
	SignInPerAddr    throttle.Limit
	InvitePerActor   throttle.Limit
	InvitePerAddr    throttle.Limit
	ResetPerEmail    throttle.Limit
	ResetPerAddr     throttle.Limit
	TokenPerAddr     throttle.Limit // accepting invitations and resets
}

// DefaultLimits follow OWASP's advice: a handful of failures per account
// before a pause, more per address, since a meeting room shares one.
var DefaultLimits = Limits{
	SignInPerAccount: throttle.Limit{Max: 5, Window: 15 * time.Minute},
	SignInPerAddr:    throttle.Limit{Max: 50, Window: 15 * time.Minute},
	InvitePerActor:   throttle.Limit{Max: 100, Window: time.Hour},
	InvitePerAddr:    throttle.Limit{Max: 200, Window: time.Hour},
	ResetPerEmail:    throttle.Limit{Max: 3, Window: time.Hour},
	ResetPerAddr:     throttle.Limit{Max: 20, Window: time.Hour},
	TokenPerAddr:     throttle.Limit{Max: 20, Window: 15 * time.Minute},
}

// Options configure a Service.
type Options struct {
	SessionTTL    time.Duration // default 7 days
	InvitationTTL time.Duration // default 7 days
	ResetTTL      time.Duration // default 1 hour
	// PublicURL is where people reach PIA, for the links in mails.
	PublicURL string
	Limits    *Limits           // default DefaultLimits
	Roles     access.RoleSource // territory roles; nil until working groups exist
	Now       func() time.Time
	Logger    *slog.Logger
	// MailQueued is called after a mail has been committed to the outbox,
	// to wake the deliverer.
	MailQueued func()
	// RecheckInterval is how often a watched session is looked up again, to
	// notice a revocation made by another server instance.
	RecheckInterval time.Duration
	// HashSlots is how many password hashes may run at once (19 MiB each).
	HashSlots int
}

// Service manages accounts.
type Service struct {
	db      *bun.DB
	o       Options
	limits  Limits
	limiter *throttle.Limiter
	hasher  *hasher
	watch   *watchers
	// dummyHash is verified when an email is unknown, so that a sign-in
	// takes as long whether or not the account exists.
	dummyHash string
}

// NewService returns a Service on db.
func NewService(db *bun.DB, o Options) (*Service, error) {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 7 * 24 * time.Hour
	}
	if o.InvitationTTL <= 0 {
		o.InvitationTTL = 7 * 24 * time.Hour
	}
	if o.ResetTTL <= 0 {
		o.ResetTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MailQueued == nil {
		o.MailQueued = func() {}
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = 30 * time.Second
	}
	if o.HashSlots <= 0 {
		o.HashSlots = 4
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	limits := DefaultLimits
	if o.Limits != nil {
		limits = *o.Limits
	}
	s := &Service{db: db, o: o, limits: limits, limiter: throttle.New(db, o.Now), hasher: newHasher(o.HashSlots), watch: newWatchers()}
	var err error
	if s.dummyHash, err = s.hasher.hash(randomPassword()); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// normalizeEmail checks an email address and lower-cases it.
func normalizeEmail(op, field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", apperr.Invalid(op, field, "an email address is required")
	}
	if len(e) > 254 || !utf8.ValidString(e) {
		return "", apperr.Invalid(op, field, "an email address has at most 254 characters")
	}
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", apperr.Invalid(op, field, "%q is not an email address such as name@example.org", email)
	}
	return e, nil
}

func checkDisplayName(op, name string) (string, error) {
	n := strings.Join(strings.Fields(name), " ")
	if n == "" || !utf8.ValidString(n) {
		return "", apperr.Invalid(op, "displayName", "a display name is required")
	}
	if utf8.RuneCountInString(n) > 200 {
		return "", apperr.Invalid(op, "displayName", "a display name has at most 200 characters")
	}
	return n, nil
}

func checkLanguage(op, lang string) (string, error) {
	l := strings.ToLower(lang)
	if l != "it" && l != "en" {
		return "", apperr.Invalid(op, "language", "the language is it or en; got %q", lang)
	}
	return l, nil
}

// audit records a security event in db (the caller's transaction when the
// event belongs to a change).
func (s *Service) audit(ctx context.Context, db bun.IDB, kind AuditKind, personID *int64, email, detail string) error {
	ev := &AuditEvent{At: s.now(), Kind: kind, PersonID: personID, Email: email,
		ClientAddr: access.ClientFrom(ctx).Addr, Detail: detail}
	if a := access.ActorFrom(ctx); a.SignedIn() {
		ev.ActorID = &a.PersonID
	} else if selfService[kind] {
		ev.ActorID = personID // not signed in yet: the person acts for themselves
	}
	if _, err := db.NewInsert().Model(ev).Exec(ctx); err != nil {
		return storage.MapError("account.audit", "audit event", err)
	}
	return nil
}

// selfService are the events where someone not yet signed in proves who
// they are, and so is the actor.
var selfService = map[AuditKind]bool{AuditSignInSucceeded: true, AuditInvitationAccepted: true, AuditPasswordReset: true}

// auditAlone records an event outside any transaction; a failure is logged,
// not returned, because the refusal it documents must still reach the caller.
func (s *Service) auditAlone(ctx context.Context, kind AuditKind, personID *int64, email, detail string) {
	if err := s.audit(ctx, s.db, kind, personID, email, detail); err != nil {
		s.o.Logger.ErrorContext(ctx, "audit event not recorded", "kind", kind, "err", err)
	}
}

func (s *Service) personByEmail(ctx context.Context, db bun.IDB, email string) (*Person, error) {
	p := new(Person)
	err := db.NewSelect().Model(p).Where("email = ?", email).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, storage.MapError("account.personByEmail", "person", err)
	}
	return p, nil
}

// loadRoles fills the global roles of people.
func (s *Service) loadRoles(ctx context.Context, people ...*Person) error {
	if len(people) == 0 {
		return nil
	}
	ids := make([]int64, len(people))
	byID := make(map[int64]*Person, len(people))
	for i, p := range people {
		ids[i] = p.ID
		byID[p.ID] = p
		p.GlobalRoles = []access.GlobalRole{}
	}
	var rows []personRole
	if err := s.db.NewSelect().Model(&rows).Where("person_id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return storage.MapError("account.loadRoles", "role", err)
	}
	for _, r := range rows {
		byID[r.PersonID].GlobalRoles = append(byID[r.PersonID].GlobalRoles, access.GlobalRole(r.Role))
	}
	for _, p := range people {
		slices.SortFunc(p.GlobalRoles, func(a, b access.GlobalRole) int {
			return slices.Index(access.GlobalRoles, a) - slices.Index(access.GlobalRoles, b)
		})
	}
	return nil
}

// Person returns the person with id, with their global roles. It returns
// NOT_FOUND when there is none or when the actor may not see them, so that
// ids cannot be probed.
func (s *Service) Person(ctx context.Context, id int64) (*Person, error) {
	const op = "account.Person"
	if err := access.Check(ctx, access.ReadPerson, access.Resource{OwnerID: id}); err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			return nil, err
		}
		return nil, apperr.E(apperr.NotFound, op, "no such person")
	}
	p := new(Person)
	if err := s.db.NewSelect().Model(p).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	if err := s.loadRoles(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Me returns the signed-in person, or nil for an anonymous caller.
func (s *Service) Me(ctx context.Context) (*Person, error) {
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil, nil
	}
	return s.Person(ctx, a.PersonID)
}

// ContactEmail returns p's email when the actor may see contacts, else nil.
func (s *Service) ContactEmail(ctx context.Context, p *Person) *string {
	if access.Check(ctx, access.ReadPersonContact, access.Resource{OwnerID: p.ID}) != nil {
		return nil
	}
	return p.Email
}

// ProfileUpdate changes the signed-in person's profile; nil fields stay.
type ProfileUpdate struct {
	DisplayName *string
	Language    *string
}

// UpdateProfile changes the actor's own display name or language. It
// returns BAD_USER_INPUT for an empty name or an unknown language.
func (s *Service) UpdateProfile(ctx context.Context, upd ProfileUpdate) (*Person, error) {
	const op = "account.UpdateProfile"
	a := access.ActorFrom(ctx)
	if err := access.Check(ctx, access.UpdateOwnProfile, access.Resource{OwnerID: a.PersonID}); err != nil {
		return nil, err
	}
	if upd.DisplayName == nil && upd.Language == nil {
		return nil, apperr.Invalid(op, "input", "give a displayName or a language to change")
	}
	set := map[string]string{}
	var changed []string
	if upd.DisplayName != nil {
		n, err := checkDisplayName(op, *upd.DisplayName)
		if err != nil {
			return nil, err
		}
		set["display_name"], changed = n, append(changed, "display name")
	}
	if upd.Language != nil {
		l, err := checkLanguage(op, *upd.Language)
		if err != nil {
			return nil, err
		}
		set["language"], changed = l, append(changed, "language")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*Person)(nil)).Where("id = ?", a.PersonID).Set("updated_at = ?", s.now())
		for col, v := range set {
			q = q.Set("? = ?", bun.Ident(col), v)
		}
		if _, err := q.Exec(ctx); err != nil {
			return storage.MapError(op, "person", err)
		}
		return s.audit(ctx, tx, AuditProfileUpdated, &a.PersonID, "", "changed "+strings.Join(changed, " and "))
	})
	if err != nil {
		return nil, err
	}
	return s.Person(ctx, a.PersonID)
}

// HasAdmin reports whether anyone holds ADMIN.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	n, err := s.db.NewSelect().Model((*personRole)(nil)).Where("role = ?", access.Admin).Count(ctx)
	return n > 0, storage.MapError("account.HasAdmin", "role", err)
}

// EnsureAdmin creates the first administrator when there is none. With an
// email and password it uses them (giving ADMIN to an existing person with
// that email). Without them, in dev it creates admin@pia.localhost with a
// generated password, returned so the caller can show it once; elsewhere it
// does nothing and reports created false. Once an administrator exists it
// does nothing.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string, dev bool) (created bool, generated string, err error) {
	const op = "account.EnsureAdmin"
	if has, err := s.HasAdmin(ctx); err != nil || has {
		return false, "", err
	}
	if email == "" && password == "" {
		if !dev {
			return false, "", nil
		}
		email, generated = "admin@pia.localhost", randomPassword()
		password = generated
	}
	if email, err = normalizeEmail(op, "PIA_ADMIN_EMAIL", email); err != nil {
		return false, "", err
	}
	if msg := checkPassword(password); msg != "" {
		return false, "", apperr.Invalid(op, "PIA_ADMIN_PASSWORD", "%s", msg)
	}
	hash, err := s.hasher.hash(password)
	if err != nil {
		return false, "", apperr.Wrap(op, err)
	}
	now := s.now()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.personByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if p == nil {
			p = &Person{Email: &email, DisplayName: "Administrator", Language: "it", PasswordHash: &hash, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
				return storage.MapError(op, "person", err)
			}
		} else if _, err := tx.NewUpdate().Model(p).Set("password_hash = ?", hash).Set("updated_at = ?", now).WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "person", err)
		}
		if _, err := tx.NewInsert().Model(&personRole{PersonID: p.ID, Role: string(access.Admin), GrantedAt: now}).Exec(ctx); err != nil {
			return storage.MapError(op, "role", err)
		}
		return s.audit(ctx, tx, AuditAdminCreated, &p.ID, email, "first administrator, from the server's configuration")
	})
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}

// SignedIn is the result of a sign-in: the token to send with every request
// (shown only here), its session and the person.
type SignedIn struct {
	Token   string
	Session *Session
	Person  *Person
	Actor   *access.Actor // who the token authenticates as
}

const errBadCredentials = "the email or the password is wrong"

// SignIn checks an email and password and opens a session. It returns
// UNAUTHENTICATED with the same message for an unknown email and a wrong
// password, RATE_LIMITED after too many failures for the account or the
// client address, and BAD_USER_INPUT for input that cannot be an email or a
// password.
func (s *Service) SignIn(ctx context.Context, email, password string) (*SignedIn, error) {
	const op = "account.SignIn"
	email, err := normalizeEmail(op, "email", email)
	if err != nil {
		return nil, err
	}
	if password == "" || len(password) > maxPasswordBytes {
		return nil, apperr.Invalid(op, "password", "a password has 1 to %d characters", MaxPasswordLen)
	}
	// Count the attempt first, in one atomic statement each, so a burst of
	// wrong passwords gets no more tries than the limit.
	accountKey, addrKey := "signin:account:"+email, "signin:addr:"+access.ClientFrom(ctx).Addr
	for _, k := range []struct {
		key string
		lim throttle.Limit
	}{{addrKey, s.limits.SignInPerAddr}, {accountKey, s.limits.SignInPerAccount}} {
		if err := s.limiter.Take(ctx, k.key, k.lim); err != nil {
			if apperr.Is(err, apperr.RateLimited) {
				s.auditAlone(ctx, AuditSignInThrottled, nil, email, "")
			}
			return nil, apperr.Wrap(op, err)
		}
	}
	p, err := s.personByEmail(ctx, s.db, email)
	if err != nil {
		return nil, err
	}
	hash := s.dummyHash
	if p != nil && p.PasswordHash != nil {
		hash = *p.PasswordHash
	}
	ok, err := s.hasher.verify(password, hash)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if !ok || p == nil || p.PasswordHash == nil {
		var pid *int64
		if p != nil {
			pid = &p.ID
		}
		s.auditAlone(ctx, AuditSignInFailed, pid, email, "")
		return nil, apperr.E(apperr.Unauthenticated, op, errBadCredentials)
	}
	for _, k := range []string{accountKey, addrKey} {
		if err := s.limiter.Give(ctx, k); err != nil {
			return nil, err
		}
	}
	var out *SignedIn
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.openSession(ctx, tx, p)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditSignInSucceeded, &p.ID, email, "")
	})
	if err != nil {
		return nil, err
	}
	return s.finishSignIn(ctx, out)
}

// finishSignIn fills what a new session's caller gets back: the person's
// roles and the actor the token stands for.
func (s *Service) finishSignIn(ctx context.Context, in *SignedIn) (*SignedIn, error) {
	if err := s.loadRoles(ctx, in.Person); err != nil {
		return nil, err
	}
	actor, err := s.actorFor(ctx, in.Session)
	if err != nil {
		return nil, err
	}
	in.Actor = actor
	return in, nil
}

func (s *Service) openSession(ctx context.Context, db bun.IDB, p *Person) (*SignedIn, error) {
	token, hash := newToken()
	now := s.now()
	c := access.ClientFrom(ctx)
	sess := &Session{PersonID: p.ID, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(s.o.SessionTTL), LastSeenAt: now,
		ClientAddr: truncate(c.Addr, 64), UserAgent: truncate(c.UserAgent, 300)}
	if _, err := db.NewInsert().Model(sess).Exec(ctx); err != nil {
		return nil, storage.MapError("account.openSession", "session", err)
	}
	return &SignedIn{Token: token, Session: sess, Person: p}, nil
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ErrBadToken is the message for a session token that is malformed,
// unknown, revoked or expired: the four are not told apart.
const ErrBadToken = "the session token is not valid or has expired; sign in again"

// Authenticate turns a session token into its actor and session. It returns
// UNAUTHENTICATED for a token that is malformed, unknown, revoked or expired.
func (s *Service) Authenticate(ctx context.Context, token string) (*access.Actor, *Session, error) {
	const op = "account.Authenticate"
	if !wellFormedToken(token) {
		return nil, nil, apperr.E(apperr.Unauthenticated, op, ErrBadToken)
	}
	sess := new(Session)
	err := s.db.NewSelect().Model(sess).Where("token_hash = ?", hashToken(token)).Where("revoked_at IS NULL").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, apperr.E(apperr.Unauthenticated, op, ErrBadToken)
	}
	if err != nil {
		return nil, nil, storage.MapError(op, "session", err)
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) {
		return nil, nil, apperr.E(apperr.Unauthenticated, op, ErrBadToken)
	}
	actor, err := s.actorFor(ctx, sess)
	if err != nil {
		return nil, nil, err
	}
	// Last seen, to the minute: not a write per request.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		sess.LastSeenAt = now
		if _, err := s.db.NewUpdate().Model(sess).Column("last_seen_at").WherePK().Exec(ctx); err != nil {
			return nil, nil, storage.MapError(op, "session", err)
		}
	}
	return actor, sess, nil
}

func (s *Service) actorFor(ctx context.Context, sess *Session) (*access.Actor, error) {
	p := &Person{ID: sess.PersonID}
	if err := s.loadRoles(ctx, p); err != nil {
		return nil, err
	}
	a := &access.Actor{PersonID: sess.PersonID, SessionID: sess.ID, GlobalRoles: p.GlobalRoles}
	if s.o.Roles != nil {
		roles, err := s.o.Roles.TerritoryRoles(ctx, sess.PersonID)
		if err != nil {
			return nil, apperr.Wrap("account.actorFor", err)
		}
		a.Territories = roles
	}
	return a, nil
}

// SignOut ends the actor's current session. It returns UNAUTHENTICATED for
// an anonymous caller.
func (s *Service) SignOut(ctx context.Context) (*Session, error) {
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, "account.SignOut", "sign in first")
	}
	return s.revoke(ctx, a.SessionID, AuditSignedOut)
}

// Sessions lists a person's open sessions, newest first. Only the person
// and administrators may list them.
func (s *Service) Sessions(ctx context.Context, personID int64) ([]*Session, error) {
	const op = "account.Sessions"
	if err := access.Check(ctx, access.ReadSessions, access.Resource{OwnerID: personID}); err != nil {
		return nil, err
	}
	var out []*Session
	err := s.db.NewSelect().Model(&out).Where("person_id = ?", personID).Where("revoked_at IS NULL").
		Where("expires_at > ?", s.now()).Order("id DESC").Scan(ctx)
	if err != nil {
		return nil, storage.MapError(op, "session", err)
	}
	return out, nil
}

// Session returns a session the actor may see, or NOT_FOUND.
func (s *Service) Session(ctx context.Context, id int64) (*Session, error) {
	const op = "account.Session"
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	sess := new(Session)
	if err := s.db.NewSelect().Model(sess).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "session", err)
	}
	if access.Check(ctx, access.ReadSessions, access.Resource{OwnerID: sess.PersonID}) != nil {
		return nil, apperr.E(apperr.NotFound, op, "no such session")
	}
	return sess, nil
}

// RevokeSession ends a session of the actor's own, or anyone's for an
// administrator. It returns NOT_FOUND for a session the actor may not see
// and CONFLICT for one already ended.
func (s *Service) RevokeSession(ctx context.Context, id int64) (*Session, error) {
	sess, err := s.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := access.Check(ctx, access.RevokeSession, access.Resource{OwnerID: sess.PersonID}); err != nil {
		return nil, err
	}
	return s.revoke(ctx, id, AuditSessionRevoked)
}

func (s *Service) revoke(ctx context.Context, id int64, kind AuditKind) (*Session, error) {
	const op = "account.revoke"
	sess := new(Session)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(sess).Where("id = ?", id).Scan(ctx); err != nil {
			return storage.MapError(op, "session", err)
		}
		if sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
			return apperr.E(apperr.Conflict, op, "this session has already ended")
		}
		now := s.now()
		sess.RevokedAt = &now
		res, err := tx.NewUpdate().Model(sess).Column("revoked_at").WherePK().Where("revoked_at IS NULL").Exec(ctx)
		if err != nil {
			return storage.MapError(op, "session", err)
		}
		// A concurrent revocation may have won since the select (PostgreSQL
		// re-checks the condition after waiting for its lock): only one
		// succeeds and is audited.
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.E(apperr.Conflict, op, "this session has already ended")
		}
		return s.audit(ctx, tx, kind, &sess.PersonID, "", fmt.Sprintf("session %d", sess.ID))
	})
	if err != nil {
		return nil, err
	}
	s.watch.ended(sess.ID, reasonEnded)
	return sess, nil
}

// reasonEnded is what a watched connection is told when its session ends.
const reasonEnded = "the session was ended; sign in again"

// revokeAll ends every open session of a person (after a password reset).
func (s *Service) revokeAll(ctx context.Context, tx bun.IDB, personID int64) ([]int64, error) {
	var ids []int64
	now := s.now()
	err := tx.NewSelect().Model((*Session)(nil)).Column("id").Where("person_id = ?", personID).
		Where("revoked_at IS NULL").Scan(ctx, &ids)
	if err != nil {
		return nil, storage.MapError("account.revokeAll", "session", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	_, err = tx.NewUpdate().Model((*Session)(nil)).Set("revoked_at = ?", now).Where("id IN (?)", bun.In(ids)).Exec(ctx)
	return ids, storage.MapError("account.revokeAll", "session", err)
}

// Maintain removes what no longer serves: throttle counters whose window
// closed a day ago (the longest window is an hour), and invitation and reset
// tokens that expired or were used more than 30 days ago. Sessions and the
// audit log are kept. serve runs it every hour.
func (s *Service) Maintain(ctx context.Context) error {
	const op = "account.Maintain"
	if _, err := s.limiter.Purge(ctx, 24*time.Hour); err != nil {
		return apperr.Wrap(op, err)
	}
	cutoff := s.now().Add(-30 * 24 * time.Hour)
	_, err := s.db.NewDelete().Model((*oneTimeToken)(nil)).
		WhereGroup(" AND ", func(q *bun.DeleteQuery) *bun.DeleteQuery {
			return q.Where("expires_at < ?", cutoff).WhereOr("used_at < ?", cutoff)
		}).Exec(ctx)
	return storage.MapError(op, "token", err)
}
