package network

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// ExportFormat names the layout of ExportPersonalData's JSON; it changes
// when a field changes meaning or goes away.
const ExportFormat = "pia-personal-data/1"

// personalData is the document ExportPersonalData writes. Internal ids are
// left out: they mean nothing to the person.
type personalData struct {
	Format        string                 `json:"format"`
	ExportedAt    time.Time              `json:"exportedAt"`
	Person        exportedPerson         `json:"person"`
	GlobalRoles   []access.GlobalRole    `json:"globalRoles"`
	Affiliations  []exportedAffiliation  `json:"affiliations"`
	WorkingGroups []exportedWorkingGroup `json:"workingGroups"`
	Account       *account.AccountExport `json:"account"`
}

type exportedPerson struct {
	DisplayName string     `json:"displayName"`
	Email       *string    `json:"email"`
	Phone       *string    `json:"phone"`
	Language    string     `json:"language"`
	HasAccount  bool       `json:"hasAccount"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	ArchivedAt  *time.Time `json:"archivedAt"`
	ErasedAt    *time.Time `json:"erasedAt"`
}

type exportedAffiliation struct {
	Organization string          `json:"organization"`
	Role         AffiliationRole `json:"role"`
	Title        *string         `json:"title"`
	StartedAt    time.Time       `json:"startedAt"`
	EndedAt      *time.Time      `json:"endedAt"`
}

type exportedWorkingGroup struct {
	Name      string           `json:"name"`
	Territory string           `json:"territory"`
	Periods   []exportedPeriod `json:"periods"` // the role history, oldest first
}

type exportedPeriod struct {
	Role         access.TerritoryRole `json:"role"`
	Organization *string              `json:"onBehalfOf"`
	JoinedAt     time.Time            `json:"joinedAt"`
	LeftAt       *time.Time           `json:"leftAt"`
}

// ExportPersonalData returns everything PIA holds about a person as
// indented JSON (ExportPersonalData: the person, or an administrator): the
// person without their password hash, global roles, affiliations with the
// organizations' names, working-group memberships with each period's role,
// and the account part (sessions, security events about them). It returns
// NOT_FOUND for an unknown person.
func (s *Service) ExportPersonalData(ctx context.Context, personID int64) ([]byte, error) {
	const op = "network.ExportPersonalData"
	if err := access.Check(ctx, access.ExportPersonalData, access.Resource{OwnerID: personID}); err != nil {
		return nil, err
	}
	p, err := loadPerson(ctx, s.db, op, personID)
	if err != nil {
		return nil, err
	}
	doc := &personalData{Format: ExportFormat, ExportedAt: s.now(), GlobalRoles: []access.GlobalRole{},
		Person: exportedPerson{DisplayName: p.DisplayName, Email: p.Email, Phone: p.Phone, Language: p.Language,
			HasAccount: p.PasswordHash != nil, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, ArchivedAt: p.ArchivedAt, ErasedAt: p.ErasedAt}}
	if doc.Affiliations, err = s.exportAffiliations(ctx, op, personID); err != nil {
		return nil, err
	}
	if doc.WorkingGroups, err = s.exportGroups(ctx, op, personID); err != nil {
		return nil, err
	}
	if s.o.Accounts != nil {
		if doc.Account, err = s.o.Accounts.ExportAccount(ctx, personID); err != nil {
			return nil, err
		}
		doc.GlobalRoles = doc.Account.GlobalRoles
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return out, nil
}

func (s *Service) exportAffiliations(ctx context.Context, op string, personID int64) ([]exportedAffiliation, error) {
	var rows []struct {
		Affiliation `bun:",extend"`
		OrgName     string `bun:"org_name"`
	}
	err := s.db.NewSelect().Model(&rows).ColumnExpr("af.*").ColumnExpr("o.name AS org_name").
		Join("JOIN organizations AS o ON o.id = af.organization_id").
		Where("af.person_id = ?", personID).Order("af.started_at", "af.id").Scan(ctx)
	if err != nil {
		return nil, storage.MapError(op, "affiliation", err)
	}
	out := []exportedAffiliation{}
	for _, r := range rows {
		out = append(out, exportedAffiliation{Organization: r.OrgName, Role: r.Role, Title: r.Title, StartedAt: r.StartedAt, EndedAt: r.EndedAt})
	}
	return out, nil
}

func (s *Service) exportGroups(ctx context.Context, op string, personID int64) ([]exportedWorkingGroup, error) {
	var rows []struct {
		Membership `bun:",extend"`
		GroupName  string  `bun:"group_name"`
		Territory  string  `bun:"territory_code"`
		OrgName    *string `bun:"org_name"`
	}
	err := s.db.NewSelect().Model(&rows).ColumnExpr("wgm.*").
		ColumnExpr("wg.name AS group_name, t.code AS territory_code, o.name AS org_name").
		Join("JOIN working_groups AS wg ON wg.id = wgm.working_group_id").
		Join("JOIN territories AS t ON t.id = wg.territory_id").
		Join("LEFT JOIN organizations AS o ON o.id = wgm.organization_id").
		Where("wgm.person_id = ?", personID).Order("t.code", "wgm.joined_at", "wgm.id").Scan(ctx)
	if err != nil {
		return nil, storage.MapError(op, "membership", err)
	}
	out := []exportedWorkingGroup{}
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Territory != r.Territory {
			out = append(out, exportedWorkingGroup{Name: r.GroupName, Territory: r.Territory})
		}
		g := &out[len(out)-1]
		g.Periods = append(g.Periods, exportedPeriod{Role: r.Role, Organization: r.OrgName, JoinedAt: r.JoinedAt, LeftAt: r.LeftAt})
	}
	return out, nil
}

// ErasePerson erases a person (ErasePerson: administrators), in one
// transaction: their current affiliations and working-group memberships end
// (so groups no longer list them, while the history and the counts stay),
// and package account pseudonymises the person and removes their account
// data (see account.Service.ErasePersonTx). Their open connections end after
// the commit. It returns NOT_FOUND for an unknown person and CONFLICT for a
// person erased already, for the actor themselves and for the last
// administrator.
func (s *Service) ErasePerson(ctx context.Context, personID int64) (*Person, error) {
	const op = "network.ErasePerson"
	if err := access.Check(ctx, access.ErasePerson, access.Resource{OwnerID: personID}); err != nil {
		return nil, err
	}
	if s.o.Accounts == nil {
		return nil, apperr.Wrap(op, errors.New("network.Options.Accounts is not set: erasure needs the account service"))
	}
	var p *Person
	var committed func()
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if p, committed, err = s.o.Accounts.ErasePersonTx(ctx, tx, personID); err != nil {
			return err
		}
		now, by := s.now(), actorID(ctx)
		if _, err := tx.NewUpdate().Model((*Affiliation)(nil)).Set("ended_at = ?", now).Set("ended_by = ?", by).
			Where("person_id = ?", personID).Where("ended_at IS NULL").Exec(ctx); err != nil {
			return storage.MapError(op, "affiliation", err)
		}
		_, err = tx.NewUpdate().Model((*Membership)(nil)).Set("left_at = ?", now).Set("removed_by = ?", by).
			Where("person_id = ?", personID).Where("left_at IS NULL").Exec(ctx)
		return storage.MapError(op, "membership", err)
	})
	if err != nil {
		return nil, err
	}
	committed()
	return p, nil
}
