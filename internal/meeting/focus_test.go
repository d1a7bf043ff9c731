package meeting_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// TestFocusGroupsCreatedWithTheGroup: every working group has its four
// focus groups, one per theme, from the moment it exists.
func TestFocusGroupsCreatedWithTheGroup(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		for _, code := range []string{"EN", "PA"} {
			if len(f.focus[code]) != 4 {
				t.Fatalf("%s has %d focus groups, want 4: %v", code, len(f.focus[code]), f.focus[code])
			}
			for _, th := range []reference.ThemeCode{"HEALTH", "EDUCATION", "WORK", "HOUSING"} {
				if f.focus[code][th] == 0 {
					t.Errorf("%s has no %s focus group", code, th)
				}
			}
		}
		if n := f.count("focus_groups"); n != 8 {
			t.Errorf("%d focus groups in the database, want 8", n)
		}
		// A third group gets its four in the same transaction.
		if _, err := f.net.CreateWorkingGroup(f.as(f.admin), network.WorkingGroupInput{Territory: "CT"}); err != nil {
			t.Fatal(err)
		}
		if n := f.count("focus_groups"); n != 12 {
			t.Errorf("%d focus groups after a third group, want 12", n)
		}
	})
}

func TestFocusGroupInvitees(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		fg := f.focus["EN"]["HOUSING"]
		// A meeting already planned, and one already held.
		in := f.input(rome(2026, 3, 20, 10, 0))
		in.FocusGroupID = fg
		upcoming := f.create(in)
		past := f.input(rome(2026, 3, 1, 10, 0))
		past.FocusGroupID = fg
		held := f.create(past)
		if _, err := f.svc.ChangeStatus(f.as(f.coord), held.ID, meeting.Held, ""); err != nil {
			t.Fatal(err)
		}

		added, err := f.svc.AddInvitees(f.as(f.coord), fg, []int64{f.member.PersonID, f.member.PersonID}, []int64{f.orgA})
		if err != nil {
			t.Fatal(err)
		}
		if len(added) != 2 {
			t.Fatalf("added %d invitees, want 2 (the person once, the organization)", len(added))
		}
		// Again: nothing new.
		if again, err := f.svc.AddInvitees(f.as(f.coord), fg, []int64{f.member.PersonID}, nil); err != nil || len(again) != 0 {
			t.Errorf("adding them again: %d %v", len(again), err)
		}
		// The upcoming meeting invites the member and the municipality's
		// representative, the held one nobody.
		invs, err := f.invitationsOf(upcoming.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != 2 || invs[0].PersonID != f.member.PersonID || invs[1].PersonID != f.repA.PersonID ||
			invs[1].OrganizationID == nil || *invs[1].OrganizationID != f.orgA {
			t.Errorf("invitations of the upcoming meeting: %+v", invs)
		}
		if held, _ := f.invitationsOf(held.ID); len(held) != 0 {
			t.Errorf("the held meeting got %d invitations", len(held))
		}
		if n := len(f.mails()); n != 2 {
			t.Errorf("%d invitation mails, want 2", n)
		}
		lists, err := f.svc.InviteesOf(f.as(f.observer), []int64{fg})
		if err != nil || len(lists[fg]) != 2 {
			t.Errorf("invitees read by an observer: %v %v", lists, err)
		}
		if lists, _ := f.svc.InviteesOf(f.as(f.stranger), []int64{fg}); len(lists[fg]) != 0 {
			t.Errorf("a stranger reads the invitees: %v", lists)
		}
		// Bad ids change nothing.
		before := f.count("focus_group_invitees")
		for _, c := range []struct {
			people, orgs []int64
		}{{[]int64{999_999}, nil}, {nil, []int64{999_999}}, {[]int64{f.repB.PersonID}, []int64{999_999}}} {
			if _, err := f.svc.AddInvitees(f.as(f.coord), fg, c.people, c.orgs); kind(err) != apperr.BadInput {
				t.Errorf("unknown ids %v %v: %v", c.people, c.orgs, err)
			}
		}
		if _, err := f.svc.AddInvitees(f.as(f.member), fg, []int64{f.repB.PersonID}, nil); kind(err) != apperr.Forbidden {
			t.Errorf("a member inviting: %v", err)
		}
		if _, err := f.svc.AddInvitees(f.as(f.outside), fg, []int64{f.repB.PersonID}, nil); kind(err) != apperr.NotFound {
			t.Errorf("another territory's coordinator inviting: %v", err)
		}
		if n := f.count("focus_group_invitees"); n != before {
			t.Errorf("refused requests left %d invitees, want %d", n, before)
		}
		// Removing an invitee keeps the invitations sent.
		if _, err := f.svc.RemoveInvitee(f.as(f.coord), added[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RemoveInvitee(f.as(f.coord), added[0].ID); kind(err) != apperr.NotFound {
			t.Errorf("removing twice: %v", err)
		}
		if invs, _ := f.invitationsOf(upcoming.ID); len(invs) != 2 {
			t.Errorf("%d invitations after removing an invitee, want 2", len(invs))
		}
	})
}

func TestFacilitator(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		fg := f.focus["EN"]["WORK"]
		fac := f.member.PersonID
		got, err := f.svc.SetFacilitator(f.as(f.coord), fg, &fac)
		if err != nil || got.FacilitatorID == nil || *got.FacilitatorID != fac {
			t.Fatalf("set facilitator: %+v %v", got, err)
		}
		in := f.input(rome(2026, 3, 20, 10, 0))
		in.FocusGroupID = fg
		if m := f.create(in); m.FacilitatorID == nil || *m.FacilitatorID != fac {
			t.Errorf("a new meeting takes the focus group's facilitator: %v", m.FacilitatorID)
		}
		ghost := int64(999_999)
		if _, err := f.svc.SetFacilitator(f.as(f.coord), fg, &ghost); kind(err) != apperr.BadInput {
			t.Errorf("unknown facilitator: %v", err)
		}
		if _, err := f.svc.SetFacilitator(f.as(f.policy), fg, nil); kind(err) != apperr.Forbidden {
			t.Errorf("policy maker: %v", err)
		}
		read, err := f.svc.FocusGroup(f.as(f.stranger), fg)
		if err != nil || read.FacilitatorID == nil || *read.FacilitatorID != fac {
			t.Errorf("after refusals: %+v %v", read, err)
		}
		all, err := f.svc.FocusGroups(f.as(f.policy), meeting.FocusGroupFilter{})
		if err != nil || len(all) != 8 {
			t.Errorf("focus groups: %d %v", len(all), err)
		}
		of, err := f.svc.FocusGroupsOfWorkingGroups(f.as(f.member), []int64{f.groups["EN"]})
		if err != nil || len(of[f.groups["EN"]]) != 4 || of[f.groups["EN"]][0].ThemeID != f.themes["HEALTH"] {
			t.Errorf("focus groups of Enna: %v %v", of, err)
		}
		if _, err := f.svc.FocusGroups(f.as(access.Anonymous), meeting.FocusGroupFilter{}); kind(err) != apperr.Unauthenticated {
			t.Errorf("anonymous: %v", err)
		}
	})
}

// invitationsOf reads a meeting's invitations straight from the table.
func (f *fixture) invitationsOf(meetingID int64) ([]meeting.Invitation, error) {
	var out []meeting.Invitation
	err := f.db.NewSelect().Model(&out).Where("meeting_id = ?", meetingID).Order("mi.id").Scan(context.Background())
	return out, err
}
