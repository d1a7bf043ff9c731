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
// thematic focus groups held in the last four weeks (with attendance
// registers, a guest or two, and minutes linking the document's section on
// the theme), and a second round planned in the four weeks ahead (with
// invitations, some already answered). The register stays open 30 days
// after a meeting, so the held round is recent enough to be recorded. The coordinator plans them, as in
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
	held, err := d.Meetings.PlanRound(actx, round(first.AddDate(0, 0, -28), true))
	if err != nil {
		return err
	}
	planned, err := d.Meetings.PlanRound(actx, round(first.AddDate(0, 0, 7), false))
	if err != nil {
		return err
	}
	rep.Meetings += len(held) + len(planned)
	sections, err := themeSections(actx, d, g.ID)
	if err != nil {
		return err
	}
	for i, m := range held {
		if _, err := d.Meetings.ChangeStatus(actx, m.ID, meeting.Held, ""); err != nil {
			return err
		}
		rep.MeetingsHeld++
		if err := runMeeting(actx, d, rep, t, m, i, sections[m.ThemeID]); err != nil {
			return err
		}
	}
	// The second round's health meeting is confirmed: its room is booked.
	if _, err := d.Meetings.ChangeStatus(actx, planned[0].ID, meeting.Confirmed, ""); err != nil {
		return err
	}
	return answerInvitations(ctx, d, rep, planned)
}

// runMeeting fills a held meeting's register and minutes: most of the
// invited came (in person, some online), one did not; the theme's first
// meeting also had a guest from a community without an organization in
// the directory.
func runMeeting(ctx context.Context, d Deps, rep *Report, t *reference.Territory, m *meeting.Meeting, n int, sections []int64) error {
	invs, err := d.Meetings.InvitationsOf(ctx, []int64{m.ID})
	if err != nil {
		return err
	}
	present := 0
	for i, inv := range invs[m.ID] {
		if i%5 == 4 {
			continue // absent
		}
		mode := meeting.AttendedInPerson
		if i%4 == 3 {
			mode = meeting.AttendedOnline
		}
		pid := inv.PersonID
		// Copied from the paper sheet: people arrived from ten minutes
		// before the start on.
		at := m.StartsAt.Add(time.Duration(3*i-10) * time.Minute)
		if _, err := d.Meetings.RegisterAttendance(ctx, meeting.AttendanceInput{MeetingID: m.ID, PersonID: &pid, Mode: mode,
			CheckedInAt: &at}); err != nil {
			return err
		}
		rep.Attendance++
		present++
	}
	if n%2 == 0 {
		name, org := guestNames[(int(t.ID)+n)%len(guestNames)], "Comunità "+guestCommunities[(int(t.ID)+n)%len(guestCommunities)]
		at := m.StartsAt.Add(15 * time.Minute)
		if _, err := d.Meetings.RegisterAttendance(ctx, meeting.AttendanceInput{MeetingID: m.ID, GuestName: &name,
			GuestOrganization: &org, Mode: meeting.AttendedInPerson, CheckedInAt: &at}); err != nil {
			return err
		}
		rep.Attendance++
		present++
	}
	body := fmt.Sprintf("## Sintesi\n\nIl focus group ha discusso i punti all'ordine del giorno a partire dalle pratiche "+
		"attive nel territorio di %s. Presenti %d partecipanti.\n\n## Punti emersi\n\n", t.Name, present)
	for _, it := range m.Agenda {
		body += "- **" + it + "**: criticità condivise e proposte da riportare nelle linee guida.\n"
	}
	if _, err := d.Meetings.SetMinutes(ctx, m.ID, meeting.MinutesInput{Body: body, Decisions: []string{
		"Riportare le proposte nella sezione del documento dedicata al tema",
		"Coinvolgere le associazioni delle comunità migranti nel prossimo incontro",
	}, SectionIDs: sections}); err != nil {
		return err
	}
	rep.Minutes++
	return nil
}

var (
	guestNames       = []string{"Fatou Diallo", "Ahmed Benali", "Grace Okafor", "Sami Haddad", "Mariam Touré"}
	guestCommunities = []string{"senegalese", "tunisina", "nigeriana", "siriana", "ivoriana"}
)

// answerInvitations answers, as each invitee, some invitations to the
// planned round: most accept, one in five declines, one in seven is
// unsure, the rest have not answered yet.
func answerInvitations(ctx context.Context, d Deps, rep *Report, planned []*meeting.Meeting) error {
	ids := make([]int64, len(planned))
	for i, m := range planned {
		ids[i] = m.ID
	}
	invs, err := d.Meetings.InvitationsOf(ctx, ids)
	if err != nil {
		return err
	}
	n := 0
	for _, m := range planned {
		for _, inv := range invs[m.ID] {
			n++
			var answer meeting.RSVP
			comment := ""
			switch {
			case n%5 == 0:
				answer, comment = meeting.Declined, "Impegno concomitante: invierò un contributo scritto."
			case n%7 == 0:
				answer = meeting.Tentative
			case n%3 == 0:
				continue // not answered yet
			default:
				answer = meeting.Accepted
			}
			as := access.WithActor(ctx, &access.Actor{PersonID: inv.PersonID, SessionID: access.ActorFrom(ctx).SessionID})
			if _, err := d.Meetings.AnswerInvitation(as, inv.ID, answer, comment); err != nil {
				return err
			}
			rep.Answers++
		}
	}
	return nil
}

// themeSections gives the live sections of the group's first document, by
// theme id, for the minutes to link; none without the co-editing service.
func themeSections(ctx context.Context, d Deps, groupID int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if d.Coedit == nil {
		return out, nil
	}
	docs, err := d.Coedit.DocumentsOfGroups(ctx, []int64{groupID})
	if err != nil || len(docs[groupID]) == 0 {
		return out, err
	}
	doc := docs[groupID][0]
	secs, err := d.Coedit.SectionsOfDocuments(ctx, []int64{doc.ID}, false)
	if err != nil {
		return nil, err
	}
	for _, sec := range secs[doc.ID] {
		if sec.ThemeID != nil {
			out[*sec.ThemeID] = append(out[*sec.ThemeID], sec.ID)
		}
	}
	return out, nil
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
