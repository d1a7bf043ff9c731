package account

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// AccountExport is the account part of a person's data export: what this
// package holds about them besides the person row.
type AccountExport struct {
	GlobalRoles []access.GlobalRole `json:"globalRoles"`
	Sessions    []SessionExport     `json:"sessions"`
	AuditEvents []AuditExport       `json:"auditEvents"`
}

// SessionExport is one session, as the person may see it: never its token
// or hash.
type SessionExport struct {
	CreatedAt     time.Time  `json:"createdAt"`
	LastSeenAt    time.Time  `json:"lastSeenAt"`
	ExpiresAt     time.Time  `json:"expiresAt"`
	RevokedAt     *time.Time `json:"revokedAt,omitempty"`
	ClientAddress string     `json:"clientAddress"`
	UserAgent     string     `json:"userAgent"`
}

// AuditExport is one security event about the person, or naming their
// address. The client address
// is given only for what the person did themselves: on other events it is
// the address of whoever acted (an administrator), which is theirs.
type AuditExport struct {
	At            time.Time `json:"at"`
	Kind          AuditKind `json:"kind"`
	ByThemselves  bool      `json:"byThemselves"`
	Email         string    `json:"email,omitempty"`
	ClientAddress string    `json:"clientAddress,omitempty"`
	Detail        string    `json:"detail,omitempty"`
}

// ExportAccount gives a person's global roles, every session they opened
// and the security events about them or naming their address
// (ExportPersonalData: the person, or an administrator). It returns
// NOT_FOUND for an unknown person.
func (s *Service) ExportAccount(ctx context.Context, personID int64) (*AccountExport, error) {
	const op = "account.ExportAccount"
	if err := access.Check(ctx, access.ExportPersonalData, access.Resource{OwnerID: personID}); err != nil {
		return nil, err
	}
	p := &Person{ID: personID}
	if err := s.db.NewSelect().Model(p).WherePK().Scan(ctx); err != nil {
		return nil, storage.MapError(op, "person", err)
	}
	if err := s.loadRoles(ctx, p); err != nil {
		return nil, err
	}
	out := &AccountExport{GlobalRoles: p.GlobalRoles, Sessions: []SessionExport{}, AuditEvents: []AuditExport{}}
	var sessions []*Session
	if err := s.db.NewSelect().Model(&sessions).Where("person_id = ?", personID).Order("id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "session", err)
	}
	for _, x := range sessions {
		out.Sessions = append(out.Sessions, SessionExport{CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt,
			RevokedAt: x.RevokedAt, ClientAddress: x.ClientAddr, UserAgent: x.UserAgent})
	}
	var events []*AuditEvent
	q := s.db.NewSelect().Model(&events).Where("person_id = ?", personID)
	if p.Email != nil {
		q = q.WhereOr("email = ?", *p.Email) // such as the invitation sent before the account existed
	}
	if err := q.Order("id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "audit event", err)
	}
	for _, ev := range events {
		own := ev.ActorID != nil && *ev.ActorID == personID
		e := AuditExport{At: ev.At, Kind: ev.Kind, ByThemselves: own, Email: ev.Email, Detail: ev.Detail}
		if own {
			e.ClientAddress = ev.ClientAddr
		}
		out.AuditEvents = append(out.AuditEvents, e)
	}
	return out, nil
}

// ErasedName is the display name an erased person is left with.
func ErasedName(id int64) string { return "Persona rimossa " + strconv.FormatInt(id, 10) }

// ErasePerson erases a person's account data in a transaction of its own;
// see ErasePersonTx. network.Service.ErasePerson is the complete erasure,
// which also ends the person's affiliations and memberships: this one is
// for callers without the network.
func (s *Service) ErasePerson(ctx context.Context, personID int64) (*Person, error) {
	var p *Person
	var committed func()
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		p, committed, err = s.ErasePersonTx(ctx, tx, personID)
		return err
	})
	if err != nil {
		return nil, err
	}
	committed()
	return p, nil
}

// ErasePersonTx erases a person within tx, the caller's transaction
// (ErasePerson: administrators): the identifying fields are pseudonymised
// (display name ErasedName, no email, phone or password; erased and
// archived), global roles are removed, every session is revoked and its
// client address and user agent blanked, one-time tokens and external
// identities are deleted, audit events lose the address and the client
// addresses that were the person's, and mails to the old address leave the
// outbox. The rows that count the person stay. A PERSON_ERASED event with
// no identifying detail is recorded.
//
// The caller calls committed after tx commits: it ends the person's open
// connections (websockets), which must not happen for an erasure that rolls
// back.
//
// It returns NOT_FOUND for an unknown person, and CONFLICT for a person
// already erased, for the actor themselves, and for the last administrator.
func (s *Service) ErasePersonTx(ctx context.Context, tx bun.Tx, personID int64) (p *Person, committed func(), err error) {
	const op = "account.ErasePerson"
	if err := access.Check(ctx, access.ErasePerson, access.Resource{OwnerID: personID}); err != nil {
		return nil, nil, err
	}
	if access.ActorFrom(ctx).PersonID == personID {
		return nil, nil, apperr.E(apperr.Conflict, op, "you cannot erase yourself; ask another administrator")
	}
	// As in SetGlobalRoles: lock the ADMIN rows on PostgreSQL, so that two
	// administrators erasing each other take turns.
	if storage.EngineOf(tx) == storage.Postgres {
		var admins []int64
		if err := tx.NewSelect().Model((*personRole)(nil)).Column("person_id").Where("role = ?", access.Admin).
			Order("person_id").For("UPDATE").Scan(ctx, &admins); err != nil {
			return nil, nil, storage.MapError(op, "role", err)
		}
	}
	p = &Person{ID: personID}
	if err := tx.NewSelect().Model(p).WherePK().Scan(ctx); err != nil {
		return nil, nil, storage.MapError(op, "person", err)
	}
	if p.ErasedAt != nil {
		return nil, nil, apperr.E(apperr.Conflict, op, "this person has been erased already")
	}
	roles, err := s.removeRoles(ctx, tx, op, personID)
	if err != nil {
		return nil, nil, err
	}
	ended, err := s.revokeAll(ctx, tx, personID)
	if err != nil {
		return nil, nil, err
	}
	if err := forget(ctx, tx, op, personID, p.Email); err != nil {
		return nil, nil, err
	}
	now := s.now()
	p.DisplayName, p.Email, p.Phone, p.PasswordHash = ErasedName(personID), nil, nil, nil
	p.ErasedAt, p.UpdatedAt, p.GlobalRoles = &now, now, []access.GlobalRole{}
	if p.ArchivedAt == nil {
		p.ArchivedAt = &now
	}
	if _, err := tx.NewUpdate().Model(p).
		Column("display_name", "email", "phone", "password_hash", "erased_at", "archived_at", "updated_at").WherePK().Exec(ctx); err != nil {
		return nil, nil, storage.MapError(op, "person", err)
	}
	detail := fmt.Sprintf("%d sessions ended, %d global roles removed", len(ended), roles)
	if err := s.audit(ctx, tx, AuditPersonErased, &personID, "", detail); err != nil {
		return nil, nil, err
	}
	committed = func() {
		for _, id := range ended {
			s.watch.ended(id, "this account was erased")
		}
	}
	return p, committed, nil
}

// removeRoles deletes a person's global roles and refuses to leave PIA
// without an administrator. It returns how many roles were removed.
func (s *Service) removeRoles(ctx context.Context, tx bun.Tx, op string, personID int64) (int, error) {
	var had []string
	if err := tx.NewSelect().Model((*personRole)(nil)).Column("role").Where("person_id = ?", personID).Scan(ctx, &had); err != nil {
		return 0, storage.MapError(op, "role", err)
	}
	if len(had) == 0 {
		return 0, nil
	}
	if _, err := tx.NewDelete().Model((*personRole)(nil)).Where("person_id = ?", personID).Exec(ctx); err != nil {
		return 0, storage.MapError(op, "role", err)
	}
	n, err := tx.NewSelect().Model((*personRole)(nil)).Where("role = ?", access.Admin).Count(ctx)
	if err != nil {
		return 0, storage.MapError(op, "role", err)
	}
	if n == 0 {
		return 0, apperr.E(apperr.Conflict, op, "PIA needs at least one administrator: make someone else ADMIN first")
	}
	return len(had), nil
}

// forget removes what identifies the person outside the people row: their
// sessions' client addresses and user agents, one-time tokens (also those
// sent to their address before they had an account), external identities,
// the address and their own client addresses in the audit log, and mails to
// the address.
func forget(ctx context.Context, tx bun.Tx, op string, personID int64, email *string) error {
	type step struct {
		what string
		q    interface {
			Exec(context.Context, ...any) (sql.Result, error)
		}
	}
	steps := []step{
		{"session", tx.NewUpdate().Model((*Session)(nil)).Set("client_addr = ''").Set("user_agent = ''").Where("person_id = ?", personID)},
		{"token", tx.NewDelete().Model((*oneTimeToken)(nil)).Where("person_id = ?", personID)},
		{"external identity", tx.NewDelete().Model((*externalIdentity)(nil)).Where("person_id = ?", personID)},
		{"audit event", tx.NewUpdate().Model((*AuditEvent)(nil)).Set("email = ''").Where("person_id = ?", personID)},
		{"audit event", tx.NewUpdate().Model((*AuditEvent)(nil)).Set("client_addr = ''").Where("actor_id = ?", personID)},
	}
	if email != nil {
		steps = append(steps, []step{
			{"token", tx.NewDelete().Model((*oneTimeToken)(nil)).Where("email = ?", *email)},
			{"audit event", tx.NewUpdate().Model((*AuditEvent)(nil)).Set("email = ''").Where("email = ?", *email)},
			{"mail", tx.NewDelete().TableExpr("mail_outbox").Where("to_addr = ?", *email)},
		}...)
	}
	for _, st := range steps {
		if _, err := st.q.Exec(ctx); err != nil {
			return storage.MapError(op, st.what, err)
		}
	}
	return nil
}
