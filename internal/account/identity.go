package account

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// ExternalIdentity is an identity from an OpenID Connect provider (SPID and
// CIE, later), linked to a person: the provider's issuer and its stable
// subject for the person.
type ExternalIdentity = externalIdentity

// LinkExternalIdentity links (issuer, subject) to a person. Administrators
// only, until sign-in through OpenID Connect comes. It returns
// BAD_USER_INPUT for an empty issuer or subject, NOT_FOUND for an unknown
// person, and CONFLICT when the identity is linked already.
func (s *Service) LinkExternalIdentity(ctx context.Context, personID int64, issuer, subject string) (*ExternalIdentity, error) {
	const op = "account.LinkExternalIdentity"
	if err := access.Check(ctx, access.LinkExternalIdentity, access.Resource{OwnerID: personID}); err != nil {
		return nil, err
	}
	issuer, subject = strings.TrimSpace(issuer), strings.TrimSpace(subject)
	if issuer == "" || len(issuer) > 500 {
		return nil, apperr.Invalid(op, "issuer", "an issuer is a URL of at most 500 characters")
	}
	if subject == "" || len(subject) > 255 {
		return nil, apperr.Invalid(op, "subject", "a subject has 1 to 255 characters")
	}
	id := &externalIdentity{PersonID: personID, Issuer: issuer, Subject: subject, CreatedAt: s.now()}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if n, err := tx.NewSelect().Model((*Person)(nil)).Where("id = ?", personID).Count(ctx); err != nil || n == 0 {
			if err == nil {
				return apperr.E(apperr.NotFound, op, "no such person")
			}
			return storage.MapError(op, "person", err)
		}
		if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
			return storage.MapError(op, "external identity", err)
		}
		return s.audit(ctx, tx, AuditIdentityLinked, &personID, "", issuer)
	})
	if err != nil {
		return nil, err
	}
	return id, nil
}

// PersonByExternalIdentity finds the person an identity is linked to, for
// the OpenID Connect sign-in to come. It returns NOT_FOUND when none is.
// It checks no actor: it is the step before there is one.
func (s *Service) PersonByExternalIdentity(ctx context.Context, issuer, subject string) (*Person, error) {
	const op = "account.PersonByExternalIdentity"
	p := new(Person)
	err := s.db.NewSelect().Model(p).
		Where("id = (SELECT person_id FROM external_identities WHERE issuer = ? AND subject = ?)", issuer, subject).Scan(ctx)
	if err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	return p, s.loadRoles(ctx, p)
}
