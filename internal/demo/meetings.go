package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// The demo's meetings: in every territory, a first round of the four
// thematic focus groups held some weeks ago (with attendance registers and
// minutes), and a second round planned in the weeks ahead (with
// invitations, some already answered). The coordinator plans them, as in
// the working groups; the focus groups invite the organizations of the
// group's members, and the coordinator facilitates (unless they already
// facilitate another territory's, whose meetings are at the same hours: a
// generated region gives some people several groups). Dates are relative to
// the day of the seed, at 10:00 in Rome, a week apart.

// themeAgenda is what each theme's meetings discuss.
var themeAgenda = map[reference.ThemeCode][]string{
	"HEALTH": {"Accesso al Servizio Sanitario Nazionale e iscrizione al medico di base",
		"Mediazione linguistico-culturale negli ospedali e nei consultori", "Salute mentale e vulnerabilità"},
	"EDUCATION": {"Iscrizione scolastica in corso d'anno", "Corsi di italiano L2 nei CPIA",
		"Riconoscimento dei titoli di studio"},
	"WORK": {"Orientamento e bilancio delle competenze nei Centri per l'impiego", "Tirocini e contrasto al caporalato",
		"Accesso alla formazione professionale"},
	"HOUSING": {"Accesso alla casa e garanzie per la locazione", "Residenza anagrafica e fittizia",
		"Seconda accoglienza e housing sociale"},
}

var themeOrder = []reference.ThemeCode{"HEALTH", "EDUCATION", "WORK", "HOUSING"}

// seedMeetings plans and runs the meetings of every working group that
// has none yet, as its coordinator (the administrator where a group has
// no coordinator).
func seedMeetings(ctx context.Context, d Deps, rep *Report, now time.Time) error {
	ts, err := d.Reference.Territories(ctx)
	if err != nil {
		return err
	}
	tids := make([]int64, len(ts))
	for i, t := range ts {
		tids[i] = t.ID
	}
	groups, err := d.Network.WorkingGroupsOfTerritories(ctx, tids)
	if err != nil {
		return err
	}
	gids := make([]int64, 0, len(groups))
	for _, g := range groups {
		gids = append(gids, g.ID)
	}
	members, err := d.Network.MembersOfGroups(ctx, gids, false)
	if err != nil {
		return err
	}
	facilitating := map[int64]bool{} // a person facilitates one territory's meetings: they are at the same hours
	for _, t := range ts {
		g := groups[t.ID]
		if g == nil {
			continue
		}
		one := 1
		have, err := d.Meetings.Meetings(ctx, meeting.MeetingFilter{WorkingGroupID: g.ID}, relay.PageArgs{First: &one})
		if err != nil {
			return err
		}
		if have.TotalCount > 0 {
			continue
		}
		if err := seedGroupMeetings(ctx, d, rep, now, t, g, members[g.ID], facilitating); err != nil {
			return fmt.Errorf("%s: %w", t.Code, err)
		}
	}
	return nil
}

// seedGroupMeetings runs one working group's two rounds.
func seedGroupMeetings(ctx context.Context, d Deps, rep *Report, now time.Time, t *reference.Territory, g *network.WorkingGroup,
	members []*network.Membership, facilitating map[int64]bool) error {
	actx := ctx
	var coordinator int64
	var orgs, people []int64
	for _, m := range members {
		if m.Role == access.Coordinator && coordinator == 0 {
			coordinator = m.PersonID
		}
		people = append(people, m.PersonID)
		if m.OrganizationID != nil && !slices.Contains(orgs, *m.OrganizationID) {
			orgs = append(orgs, *m.OrganizationID)
		}
	}
	if coordinator != 0 {
		actx = access.WithActor(ctx, &access.Actor{PersonID: coordinator, SessionID: access.ActorFrom(ctx).SessionID,
			Territories: map[int64]access.TerritoryRole{t.ID: access.Coordinator}})
	}
	fgs, err := d.Meetings.FocusGroupsOfWorkingGroups(actx, []int64{g.ID})
	if err != nil {
		return err
	}
	for _, fg := range fgs[g.ID] {
		if coordinator != 0 && !facilitating[coordinator] {
			if _, err := d.Meetings.SetFacilitator(actx, fg.ID, &coordinator); err != nil {
				return err
			}
		}
	}
	facilitating[coordinator] = true
	venue := "Sala riunioni del Polo Sociale Integrato, " + capoluogo(t.Code)
	template := meeting.RoundTemplate{
		Description: "Incontro del focus group tematico del gruppo di lavoro di " + t.Name +
			" per il Piano di Inclusione Accogliente: si parte dalle pratiche esistenti per scrivere insieme le linee guida.",
		StartTime: "10:00", Duration: 2*time.Hour + 30*time.Minute, Mode: meeting.Hybrid, Venue: venue,
		OnlineURL: "https://meet.pia.example/" + t.Code, Services: []meeting.Offer{
			{Kind: meeting.CulturalMediation, Languages: []string{"ar", "en", "fr"}}, {Kind: meeting.Accessibility}},
	}
	round := func(first time.Time, invite bool) meeting.RoundInput {
		in := meeting.RoundInput{WorkingGroupID: g.ID, Template: template}
		for i, th := range themeOrder {
			day := first.AddDate(0, 0, 7*i)
			agenda := themeAgenda[th]
			rm := meeting.RoundMeeting{Theme: th, Date: time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC),
				Agenda: &agenda}
			if invite {
				rm.InvitePeople, rm.InviteOrganizations = people, orgs
			}
			in.Meetings = append(in.Meetings, rm)
		}
		return in
	}
	today := now.In(meeting.Rome)
	first := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	held, err := d.Meetings.PlanRound(actx, round(first.AddDate(0, 0, -56), true))
	if err != nil {
		return err
	}
	planned, err := d.Meetings.PlanRound(actx, round(first.AddDate(0, 0, 14), false))
	if err != nil {
		return err
	}
	rep.Meetings += len(held) + len(planned)
	for _, m := range held {
		if _, err := d.Meetings.ChangeStatus(actx, m.ID, meeting.Held, ""); err != nil {
			return err
		}
		rep.MeetingsHeld++
	}
	// The second round's health meeting is confirmed: its room is booked.
	if _, err := d.Meetings.ChangeStatus(actx, planned[0].ID, meeting.Confirmed, ""); err != nil {
		return err
	}
	return nil
}

// capoluogo is the main town of the territory with code.
func capoluogo(code string) string {
	for _, t := range territories {
		if t.Code == code {
			return t.Capoluogo
		}
	}
	return code
}
