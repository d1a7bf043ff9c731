package meeting

import (
	"context"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// maxInviteesAtOnce bounds one request's list of invitees.
const maxInviteesAtOnce = 500

// FocusGroup returns one focus group (every signed-in person: focus groups
// are the public frame of the co-design); NOT_FOUND when missing.
func (s *Service) FocusGroup(ctx context.Context, id int64) (*FocusGroup, error) {
	const op = "meeting.FocusGroup"
	fg, err := loadFocusGroup(ctx, s.db, op, id)
	if err != nil {
		return nil, err
	}
	if err := authorizeFocusGroup(ctx, op, access.ReadMeeting, fg); err != nil {
		return nil, err
	}
	return fg, nil
}

// FocusGroupsByID loads focus groups for a batch (dataloader), in one
// statement.
func (s *Service) FocusGroupsByID(ctx context.Context, ids []int64) (map[int64]*FocusGroup, error) {
	const op = "meeting.FocusGroupsByID"
	if err := access.Check(ctx, access.ReadMeeting, access.Resource{Public: true}); err != nil {
		return nil, err
	}
	out := map[int64]*FocusGroup{}
	if len(ids) == 0 {
		return out, nil
	}
	var fgs []*FocusGroup
	if err := s.db.NewSelect().Model(&fgs).Where("fg.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "focus group", err)
	}
	for _, fg := range fgs {
		out[fg.ID] = fg
	}
	return out, nil
}

// FocusGroupsOfWorkingGroups gives each working group's focus groups, in
// theme order, in one statement.
func (s *Service) FocusGroupsOfWorkingGroups(ctx context.Context, ids []int64) (map[int64][]*FocusGroup, error) {
	const op = "meeting.FocusGroupsOfWorkingGroups"
	if err := access.Check(ctx, access.ReadMeeting, access.Resource{Public: true}); err != nil {
		return nil, err
	}
	out := map[int64][]*FocusGroup{}
	if len(ids) == 0 {
		return out, nil
	}
	var fgs []*FocusGroup
	if err := s.db.NewSelect().Model(&fgs).Join("JOIN themes AS th ON th.id = fg.theme_id").
		Where("fg.working_group_id IN (?)", bun.In(ids)).OrderExpr("fg.working_group_id, th.position, fg.id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "focus group", err)
	}
	for _, fg := range fgs {
		out[fg.WorkingGroupID] = append(out[fg.WorkingGroupID], fg)
	}
	return out, nil
}

// FocusGroupFilter narrows the list of focus groups; zero fields do not.
type FocusGroupFilter struct {
	TerritoryID int64
	ThemeID     int64
}

// FocusGroups lists focus groups by territory then theme: at most 36, so
// the list is not paged.
func (s *Service) FocusGroups(ctx context.Context, f FocusGroupFilter) ([]*FocusGroup, error) {
	const op = "meeting.FocusGroups"
	if err := access.Check(ctx, access.ReadMeeting, access.Resource{Public: true}); err != nil {
		return nil, err
	}
	var fgs []*FocusGroup
	q := s.db.NewSelect().Model(&fgs).Join("JOIN themes AS th ON th.id = fg.theme_id").
		Join("JOIN territories AS t ON t.id = fg.territory_id").OrderExpr("t.name, th.position, fg.id")
	if f.TerritoryID != 0 {
		q = q.Where("fg.territory_id = ?", f.TerritoryID)
	}
	if f.ThemeID != 0 {
		q = q.Where("fg.theme_id = ?", f.ThemeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "focus group", err)
	}
	return fgs, nil
}

// editFocusGroup reads focus group id in tx for a change (ManageMeeting in
// its territory).
func editFocusGroup(ctx context.Context, tx bun.IDB, op string, id int64) (*FocusGroup, error) {
	fg, err := loadFocusGroup(ctx, tx, op, id)
	if err != nil {
		return nil, err
	}
	if err := authorizeFocusGroup(ctx, op, access.ManageMeeting, fg); err != nil {
		return nil, err
	}
	return fg, nil
}

// SetFacilitator names the facilitator of a focus group, or none with nil
// (ManageMeeting). Meetings planned from then on take them; planned ones
// keep theirs. An unknown or archived person is BAD_USER_INPUT.
func (s *Service) SetFacilitator(ctx context.Context, focusGroupID int64, personID *int64) (*FocusGroup, error) {
	const op = "meeting.SetFacilitator"
	var out *FocusGroup
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		fg, err := editFocusGroup(ctx, tx, op, focusGroupID)
		if err != nil {
			return err
		}
		if personID != nil {
			if err := checkPeople(ctx, tx, op, "facilitator", []int64{*personID}); err != nil {
				return err
			}
		}
		fg.FacilitatorID = personID
		fg.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(fg).Column("facilitator_id", "updated_at").WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "focus group", err)
		}
		out = fg
		return nil
	})
	return out, err
}

// AddInvitees invites people and whole organizations to a focus group
// (ManageMeeting) and returns the invitees it added; those invited already
// are left as they are. The focus group's upcoming meetings (planned,
// confirmed or postponed, not started) invite the new people at once, and
// mail them. Unknown, archived or erased people and organizations are
// BAD_USER_INPUT, and nothing changes.
func (s *Service) AddInvitees(ctx context.Context, focusGroupID int64, people, orgs []int64) ([]*Invitee, error) {
	const op = "meeting.AddInvitees"
	var added []*Invitee
	var changed []*Meeting
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		added, err = s.addInvitees(ctx, tx, op, focusGroupID, people, orgs)
		if err != nil || len(added) == 0 {
			return err
		}
		changed, err = s.inviteUpcoming(ctx, tx, op, focusGroupID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.announced(RSVPChanged, changed)
	}
	return added, nil
}

// addInvitees is AddInvitees' check and insert, in tx.
func (s *Service) addInvitees(ctx context.Context, tx bun.IDB, op string, focusGroupID int64, people, orgs []int64) ([]*Invitee, error) {
	if len(people)+len(orgs) > maxInviteesAtOnce {
		return nil, apperr.Invalid(op, "invitees", "invite at most %d people and organizations at once", maxInviteesAtOnce)
	}
	fg, err := editFocusGroup(ctx, tx, op, focusGroupID)
	if err != nil {
		return nil, err
	}
	people, orgs = uniq(people), uniq(orgs)
	if err := checkPeople(ctx, tx, op, "people", people); err != nil {
		return nil, err
	}
	if len(orgs) > 0 {
		var live []int64
		if err := tx.NewSelect().Table("organizations").Column("id").Where("id IN (?)", bun.In(orgs)).
			Where("archived_at IS NULL").Scan(ctx, &live); err != nil {
			return nil, storage.MapError(op, "organization", err)
		}
		for _, o := range orgs {
			if !slices.Contains(live, o) {
				return nil, apperr.Invalid(op, "organizations", "organization %s is unknown or archived", relay.ID("Organization", o))
			}
		}
	}
	var have []*Invitee
	if err := tx.NewSelect().Model(&have).Where("fgi.focus_group_id = ?", fg.ID).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "invitee", err)
	}
	now := s.now()
	var add []*Invitee
	for _, p := range people {
		if !slices.ContainsFunc(have, func(iv *Invitee) bool { return iv.PersonID != nil && *iv.PersonID == p }) {
			add = append(add, &Invitee{FocusGroupID: fg.ID, PersonID: &p, AddedAt: now, AddedBy: actorID(ctx)})
		}
	}
	for _, o := range orgs {
		if !slices.ContainsFunc(have, func(iv *Invitee) bool { return iv.OrganizationID != nil && *iv.OrganizationID == o }) {
			add = append(add, &Invitee{FocusGroupID: fg.ID, OrganizationID: &o, AddedAt: now, AddedBy: actorID(ctx)})
		}
	}
	if len(add) == 0 {
		return nil, nil
	}
	if _, err := tx.NewInsert().Model(&add).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "invitee", err)
	}
	return add, nil
}

// inviteUpcoming invites the focus group's invitees to its meetings that
// have not started and are not closed, mails the new invitees, and returns
// the meetings that gained invitations.
func (s *Service) inviteUpcoming(ctx context.Context, tx bun.IDB, op string, focusGroupID int64) ([]*Meeting, error) {
	var ms []*Meeting
	if err := tx.NewSelect().Model(&ms).Where("m.focus_group_id = ?", focusGroupID).Where("m.starts_at > ?", s.now()).
		Where("m.status IN (?)", bun.In([]Status{Planned, Confirmed, Postponed})).Order("m.id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	var changed []*Meeting
	for _, m := range ms {
		invs, err := s.inviteFocusGroup(ctx, tx, op, m)
		if err != nil {
			return nil, err
		}
		if len(invs) == 0 {
			continue
		}
		changed = append(changed, m)
		ids := make([]int64, len(invs))
		for i, inv := range invs {
			ids[i] = inv.PersonID
		}
		if err := s.mailPeople(ctx, tx, op, mailInvitation, m, ids); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

func uniq(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// RemoveInvitee takes an invitee off a focus group's list (ManageMeeting).
// Invitations already sent stay: the person was told, and their answer is
// part of the record. NOT_FOUND when there is no such invitee.
func (s *Service) RemoveInvitee(ctx context.Context, inviteeID int64) (*Invitee, error) {
	const op = "meeting.RemoveInvitee"
	var out *Invitee
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		iv := new(Invitee)
		if err := tx.NewSelect().Model(iv).Where("fgi.id = ?", inviteeID).Scan(ctx); err != nil {
			err = storage.MapError(op, "invitee", err)
			if apperr.Is(err, apperr.NotFound) {
				return apperr.E(apperr.NotFound, op, "invitee not found")
			}
			return err
		}
		if _, err := editFocusGroup(ctx, tx, op, iv.FocusGroupID); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(iv).WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "invitee", err)
		}
		out = iv
		return nil
	})
	return out, err
}

// InviteesOf gives the invitees of focus groups, oldest first, in one
// statement (ReadRegister in each focus group's territory; the others are
// left out).
func (s *Service) InviteesOf(ctx context.Context, focusGroupIDs []int64) (map[int64][]*Invitee, error) {
	const op = "meeting.InviteesOf"
	out := map[int64][]*Invitee{}
	if len(focusGroupIDs) == 0 {
		return out, nil
	}
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var rows []struct {
		Invitee
		TerritoryID int64 `bun:"territory_id"`
	}
	if err := s.db.NewSelect().Model((*Invitee)(nil)).ColumnExpr("fgi.*, fg.territory_id").
		Join("JOIN focus_groups AS fg ON fg.id = fgi.focus_group_id").
		Where("fgi.focus_group_id IN (?)", bun.In(focusGroupIDs)).Order("fgi.id").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "invitee", err)
	}
	for i := range rows {
		if access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: rows[i].TerritoryID}) != nil {
			continue
		}
		iv := rows[i].Invitee
		out[iv.FocusGroupID] = append(out[iv.FocusGroupID], &iv)
	}
	return out, nil
}

// civilDate is a date's year, month and day, as the Date scalar gives it
// (midnight UTC).
func civilDate(d time.Time) (int, time.Month, int) { return d.UTC().Date() }
