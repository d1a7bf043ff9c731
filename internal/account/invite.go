package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	pmail "github.com/pia-sicilia/pia/internal/mail"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Invitation is what an inviter learns: the same for an address that has an
// account and one that has none.
type Invitation struct {
	Email     string
	ExpiresAt time.Time
}

// InviteInput names who to invite and in which language to write to them.
type InviteInput struct {
	Email    string
	Language string // "it" or "en"; default "it"
}

// Invite sends an invitation to join PIA. Administrators and working-group
// coordinators may invite. When the address already has an account, that
// person gets a mail saying so instead, and the inviter gets the same
// answer, so an invitation does not reveal who has an account. It returns
// BAD_USER_INPUT for a bad address or language and RATE_LIMITED when the
// inviter sends too many.
func (s *Service) Invite(ctx context.Context, in InviteInput) (*Invitation, error) {
	const op = "account.Invite"
	if err := access.Check(ctx, access.InvitePerson, access.Resource{}); err != nil {
		return nil, err
	}
	email, err := normalizeEmail(op, "email", in.Email)
	if err != nil {
		return nil, err
	}
	lang := "it"
	if in.Language != "" {
		if lang, err = checkLanguage(op, in.Language); err != nil {
			return nil, err
		}
	}
	a := access.ActorFrom(ctx)
	if err := s.limiter.Take(ctx, fmt.Sprintf("invite:actor:%d", a.PersonID), s.limits.InvitePerActor); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if err := s.limiter.Take(ctx, "invite:addr:"+access.ClientFrom(ctx).Addr, s.limits.InvitePerAddr); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	now := s.now()
	out := &Invitation{Email: email, ExpiresAt: now.Add(s.o.InvitationTTL)}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.personByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		var msg pmail.Message
		var pid *int64
		if p != nil && p.PasswordHash != nil {
			pid = &p.ID
			msg = alreadyMemberMail(p.Language, email, s.o.PublicURL)
		} else {
			if p != nil {
				pid = &p.ID
			}
			token, hash := newToken()
			t := &oneTimeToken{Kind: kindInvitation, TokenHash: hash, Email: email, PersonID: pid, CreatedBy: &a.PersonID,
				Language: lang, CreatedAt: now, ExpiresAt: out.ExpiresAt}
			if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
				return storage.MapError(op, "invitation", err)
			}
			msg = invitationMail(lang, email, s.o.PublicURL, token, out.ExpiresAt)
		}
		if err := pmail.Enqueue(ctx, tx, now, msg); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditInvitationSent, pid, email, "")
	})
	if err != nil {
		return nil, err
	}
	s.o.MailQueued()
	return out, nil
}

// AcceptInput accepts an invitation.
type AcceptInput struct {
	Token       string
	DisplayName string
	Password    string
	Language    string // default: the invitation's
}

// errBadOneTime is the message for an invitation or reset token that is
// malformed, unknown, used or expired.
const errBadOneTime = "this link is not valid, was already used or has expired; ask for a new one"

// consume marks a one-time token of kind used and returns it. Two requests
// racing with the same token cannot both succeed: the update that marks it
// is conditioned on its being unused.
func (s *Service) consume(ctx context.Context, tx bun.IDB, kind, token string) (*oneTimeToken, error) {
	const op = "account.consume"
	t, err := s.lookup(ctx, tx, kind, token)
	if err != nil {
		return nil, err
	}
	res, err := tx.NewUpdate().Model(t).Set("used_at = ?", s.now()).WherePK().Where("used_at IS NULL").Exec(ctx)
	if err != nil {
		return nil, storage.MapError(op, "token", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, apperr.Invalid(op, "token", errBadOneTime)
	}
	return t, nil
}

// lookup finds a usable one-time token of kind: well formed, known, unused
// and unexpired.
func (s *Service) lookup(ctx context.Context, db bun.IDB, kind, token string) (*oneTimeToken, error) {
	const op = "account.lookup"
	if !wellFormedToken(token) {
		return nil, apperr.Invalid(op, "token", errBadOneTime)
	}
	t := new(oneTimeToken)
	err := db.NewSelect().Model(t).Where("token_hash = ?", hashToken(token)).Where("kind = ?", kind).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.Invalid(op, "token", errBadOneTime)
	}
	if err != nil {
		return nil, storage.MapError(op, "token", err)
	}
	if t.UsedAt != nil || !s.now().Before(t.ExpiresAt) {
		return nil, apperr.Invalid(op, "token", errBadOneTime)
	}
	return t, nil
}

// newPassword prepares the password a one-time token sets: it checks the
// password, counts the attempt against the client address, checks the
// token (so a bad code costs no hash), and hashes. The token is consumed
// later, in the caller's transaction; done reports how that went.
func (s *Service) newPassword(ctx context.Context, op, kind, token, password string) (hash string, done func(ok bool), err error) {
	if msg := checkPassword(password); msg != "" {
		return "", nil, apperr.Invalid(op, "password", "%s", msg)
	}
	if done, err = s.tokenAttempt(ctx, op); err != nil {
		return "", nil, err
	}
	if _, err := s.lookup(ctx, s.db, kind, token); err != nil {
		return "", nil, apperr.Wrap(op, err)
	}
	if hash, err = s.hasher.hash(password); err != nil {
		return "", nil, apperr.Wrap(op, err)
	}
	return hash, done, nil
}

// tokenAttempt throttles the use of invitation and reset links per client
// address; a success gives its attempt back.
func (s *Service) tokenAttempt(ctx context.Context, op string) (done func(ok bool), err error) {
	key := "token:addr:" + access.ClientFrom(ctx).Addr
	if err := s.limiter.Take(ctx, key, s.limits.TokenPerAddr); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return func(ok bool) {
		if ok {
			_ = s.limiter.Give(ctx, key)
		}
	}, nil
}

// AcceptInvitation creates the invited person's account (or completes a
// person known without one) and signs them in. It returns BAD_USER_INPUT
// for a link that is not valid, used or expired, and for a bad name,
// password or language; CONFLICT when the address got an account meanwhile.
func (s *Service) AcceptInvitation(ctx context.Context, in AcceptInput) (*SignedIn, error) {
	const op = "account.AcceptInvitation"
	name, err := checkDisplayName(op, in.DisplayName)
	if err != nil {
		return nil, err
	}
	if in.Language != "" {
		if in.Language, err = checkLanguage(op, in.Language); err != nil {
			return nil, err
		}
	}
	hash, done, err := s.newPassword(ctx, op, kindInvitation, in.Token, in.Password)
	if err != nil {
		return nil, err
	}
	var out *SignedIn
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.consume(ctx, tx, kindInvitation, in.Token)
		if err != nil {
			return err
		}
		lang := in.Language
		if lang == "" {
			lang = t.Language
		}
		now := s.now()
		p, err := s.personByEmail(ctx, tx, t.Email)
		if err != nil {
			return err
		}
		switch {
		case p == nil:
			email := t.Email
			p = &Person{Email: &email, DisplayName: name, Language: lang, PasswordHash: &hash, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
				return storage.MapError(op, "person", err)
			}
		case p.PasswordHash != nil:
			return apperr.E(apperr.Conflict, op, "this address already has an account: sign in, or reset the password")
		default:
			p.DisplayName, p.Language, p.PasswordHash, p.UpdatedAt = name, lang, &hash, now
			if _, err := tx.NewUpdate().Model(p).Column("display_name", "language", "password_hash", "updated_at").WherePK().Exec(ctx); err != nil {
				return storage.MapError(op, "person", err)
			}
		}
		if out, err = s.openSession(ctx, tx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditInvitationAccepted, &p.ID, t.Email, "")
	})
	done(err == nil)
	if err != nil {
		return nil, err
	}
	return s.finishSignIn(ctx, out)
}

// PasswordResetRequest is the answer to a reset request: the same whether or
// not the address has an account.
type PasswordResetRequest struct {
	Email     string
	ExpiresAt time.Time
}

// RequestPasswordReset mails a reset link to the address when it has an
// account, and does nothing otherwise; the answer is the same. It returns
// BAD_USER_INPUT for something that is not an email address and
// RATE_LIMITED after too many requests for the address or from the client.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) (*PasswordResetRequest, error) {
	const op = "account.RequestPasswordReset"
	email, err := normalizeEmail(op, "email", email)
	if err != nil {
		return nil, err
	}
	if err := s.limiter.Take(ctx, "reset:addr:"+access.ClientFrom(ctx).Addr, s.limits.ResetPerAddr); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if err := s.limiter.Take(ctx, "reset:account:"+email, s.limits.ResetPerEmail); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	now := s.now()
	out := &PasswordResetRequest{Email: email, ExpiresAt: now.Add(s.o.ResetTTL)}
	queued := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.personByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if p == nil || p.PasswordHash == nil {
			return s.audit(ctx, tx, AuditPasswordResetRequested, nil, email, "no account")
		}
		token, hash := newToken()
		t := &oneTimeToken{Kind: kindReset, TokenHash: hash, Email: email, PersonID: &p.ID, Language: p.Language,
			CreatedAt: now, ExpiresAt: out.ExpiresAt}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return storage.MapError(op, "reset", err)
		}
		if err := pmail.Enqueue(ctx, tx, now, resetMail(p.Language, email, s.o.PublicURL, token, out.ExpiresAt)); err != nil {
			return err
		}
		queued = true
		return s.audit(ctx, tx, AuditPasswordResetRequested, &p.ID, email, "")
	})
	if err != nil {
		return nil, err
	}
	if queued {
		s.o.MailQueued()
	}
	return out, nil
}

// ResetInput sets a new password with a reset link's token.
type ResetInput struct {
	Token    string
	Password string
}

// ResetPassword sets a new password, ends every session of the person
// (whoever knew the old password is out) and signs them in anew. It returns
// BAD_USER_INPUT for a link that is not valid, used or expired, or a
// password that is too short or too long.
func (s *Service) ResetPassword(ctx context.Context, in ResetInput) (*SignedIn, error) {
	const op = "account.ResetPassword"
	hash, done, err := s.newPassword(ctx, op, kindReset, in.Token, in.Password)
	if err != nil {
		return nil, err
	}
	var out *SignedIn
	var ended []int64
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.consume(ctx, tx, kindReset, in.Token)
		if err != nil {
			return err
		}
		p := new(Person)
		if err := tx.NewSelect().Model(p).Where("id = ?", *t.PersonID).Scan(ctx); err != nil {
			return storage.MapError(op, "person", err)
		}
		p.PasswordHash, p.UpdatedAt = &hash, s.now()
		if _, err := tx.NewUpdate().Model(p).Column("password_hash", "updated_at").WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "person", err)
		}
		if ended, err = s.revokeAll(ctx, tx, p.ID); err != nil {
			return err
		}
		if out, err = s.openSession(ctx, tx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPasswordReset, &p.ID, t.Email, fmt.Sprintf("%d sessions ended", len(ended)))
	})
	done(err == nil)
	if err != nil {
		return nil, err
	}
	for _, id := range ended {
		s.watch.ended(id, reasonEnded)
	}
	return s.finishSignIn(ctx, out)
}
