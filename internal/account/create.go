package account

import (
	"context"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// CreateAccountInput is an account an administrator creates directly, with
// a password, instead of inviting the person.
type CreateAccountInput struct {
	Email       string
	DisplayName string
	Language    string // "it" or "en"; default "it"
	Password    string
	GlobalRoles []access.GlobalRole
}

// CreateAccount creates an account with a password and global roles, for
// setups where no mail reaches the person (a local demo, a first
// deployment). Only administrators may: it is ManageGlobalRoles, not
// InvitePerson, because it can grant ADMIN and POLICY_MAKER and sets a
// password the person never chose, which coordinators (who may invite) must
// not be able to do.
//
// A person already in the directory without a password (added or imported
// by the network) gets the account, as when they accept an invitation: the
// display name and language given replace theirs. It returns CONFLICT when
// the address already has an account, or belongs to a person archived or
// erased from the directory; BAD_USER_INPUT for a bad address, name,
// language, password or role.
func (s *Service) CreateAccount(ctx context.Context, in CreateAccountInput) (*Person, error) {
	const op = "account.CreateAccount"
	if err := access.Check(ctx, access.ManageGlobalRoles, access.Resource{}); err != nil {
		return nil, err
	}
	email, name, lang, roles, err := checkAccountInput(op, in)
	if err != nil {
		return nil, err
	}
	if msg := checkPassword(in.Password); msg != "" {
		return nil, apperr.Invalid(op, "password", "%s", msg)
	}
	hash, err := s.hasher.hash(in.Password)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	actor := access.ActorFrom(ctx)
	var id int64
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		p, existed, err := s.accountPerson(ctx, tx, op, email, name, lang, hash)
		if err != nil {
			return err
		}
		id = p.ID
		now := s.now()
		for _, r := range roles {
			row := &personRole{PersonID: p.ID, Role: string(r), GrantedAt: now, GrantedBy: &actor.PersonID}
			if _, err := tx.NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return storage.MapError(op, "role", err)
			}
		}
		return s.audit(ctx, tx, AuditAccountCreated, &p.ID, email, accountDetail(existed, roles))
	})
	if err != nil {
		return nil, err
	}
	return s.Person(ctx, id)
}

// checkAccountInput validates everything but the password.
func checkAccountInput(op string, in CreateAccountInput) (email, name, lang string, roles []access.GlobalRole, err error) {
	if email, err = normalizeEmail(op, "email", in.Email); err != nil {
		return
	}
	if name, err = checkDisplayName(op, in.DisplayName); err != nil {
		return
	}
	lang = "it"
	if in.Language != "" {
		if lang, err = checkLanguage(op, in.Language); err != nil {
			return
		}
	}
	for _, r := range in.GlobalRoles {
		if !r.Valid() {
			return "", "", "", nil, apperr.Invalid(op, "globalRoles", "unknown role %q; use ADMIN or POLICY_MAKER", r)
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return email, name, lang, roles, nil
}

// accountPerson inserts the person of a new account, or gives the password
// to a directory entry without one, and reports whether the person existed.
func (s *Service) accountPerson(ctx context.Context, tx bun.IDB, op, email, name, lang, hash string) (*Person, bool, error) {
	now := s.now()
	p, err := s.personByEmail(ctx, tx, email)
	if err != nil {
		return nil, false, err
	}
	switch {
	case p == nil:
		p = &Person{Email: &email, DisplayName: name, Language: lang, PasswordHash: &hash, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			// A concurrent creation of the same address: unique violation,
			// CONFLICT.
			return nil, false, storage.MapError(op, "person", err)
		}
		return p, false, nil
	case p.PasswordHash != nil:
		return nil, false, apperr.E(apperr.Conflict, op, "%s already has an account", email)
	case p.ArchivedAt != nil || p.ErasedAt != nil:
		return nil, false, apperr.E(apperr.Conflict, op, "%s belongs to a person archived in the directory: restore them first", email)
	}
	p.DisplayName, p.Language, p.PasswordHash, p.UpdatedAt = name, lang, &hash, now
	// The password is set only if nobody set one meanwhile.
	res, err := tx.NewUpdate().Model(p).Column("display_name", "language", "password_hash", "updated_at").
		WherePK().Where("password_hash IS NULL").Exec(ctx)
	if err != nil {
		return nil, false, storage.MapError(op, "person", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, false, apperr.E(apperr.Conflict, op, "%s already has an account", email)
	}
	return p, true, nil
}

// accountDetail says, in the audit log, what CreateAccount did.
func accountDetail(existed bool, roles []access.GlobalRole) string {
	var parts []string
	if existed {
		parts = append(parts, "for a person already in the directory")
	}
	if len(roles) > 0 {
		rs := make([]string, len(roles))
		for i, r := range roles {
			rs[i] = string(r)
		}
		parts = append(parts, "roles "+strings.Join(rs, ", "))
	}
	return strings.Join(parts, "; ")
}
