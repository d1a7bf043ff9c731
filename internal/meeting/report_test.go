package meeting_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// reportData is what a test put in the registers, kept to compute the
// report's figures without the service.
type reportData struct {
	meetings []reportMeeting
	kinds    map[int64]network.Kind // organization kinds
}

type reportMeeting struct {
	territory string
	theme     reference.ThemeCode
	start     time.Time
	held      bool
	entries   []meeting.AttendanceInput
}

// fillRegisters plans n meetings in Enna and Palermo over month of 2026,
// registers random entries (people of a pool, guests, organizations) and
// marks most of them held; one in five stays planned with its entries.
func fillRegisters(t *testing.T, f *fixture, month time.Month, n int, seed uint64) *reportData {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 7))
	d := &reportData{kinds: map[int64]network.Kind{f.orgA: network.KindMunicipality, f.orgB: network.KindMigrantCommunityAssociation}}
	for _, k := range []network.Kind{network.KindSocialCooperative, network.KindSchool} {
		d.kinds[f.org(fmt.Sprintf("Organizzazione %s %d", k, seed), k)] = k
	}
	var orgs []int64
	for id := range d.kinds {
		orgs = append(orgs, id)
	}
	var pool []int64
	for i := range 8 {
		pool = append(pool, f.actor(fmt.Sprintf("Persona %d %d", seed, i), nil).PersonID)
	}
	themes := []reference.ThemeCode{"HEALTH", "EDUCATION", "WORK", "HOUSING"}
	var created []*meeting.Meeting
	for i := range n {
		rm := reportMeeting{territory: []string{"EN", "PA"}[rnd.IntN(2)], theme: themes[rnd.IntN(4)],
			start: rome(2026, month, 1+i%28, 8+i/28, 0), held: rnd.IntN(5) != 0}
		in := f.input(rm.start)
		in.FocusGroupID, in.EndsAt = f.focus[rm.territory][rm.theme], rm.start.Add(30*time.Minute)
		m, err := f.svc.CreateMeeting(f.as(f.admin), in)
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, m)
		d.meetings = append(d.meetings, rm)
	}
	f.at(rome(2026, month, 29, 12, 0))
	for i, m := range created {
		rm := &d.meetings[i]
		for _, p := range rnd.Perm(len(pool))[:rnd.IntN(5)] {
			e := meeting.AttendanceInput{MeetingID: m.ID, PersonID: &pool[p], Mode: meeting.AttendedInPerson}
			if rnd.IntN(3) > 0 {
				e.OrganizationID = &orgs[rnd.IntN(len(orgs))]
			}
			rm.entries = append(rm.entries, e)
		}
		for g := range rnd.IntN(3) {
			e := meeting.AttendanceInput{MeetingID: m.ID, GuestName: new(fmt.Sprintf("Ospite %d", g)), Mode: meeting.AttendedInPerson}
			switch rnd.IntN(3) {
			case 0:
				e.OrganizationID = &orgs[rnd.IntN(len(orgs))]
			case 1:
				e.GuestOrganization = new("Comunità senza scheda")
			}
			rm.entries = append(rm.entries, e)
		}
		for _, e := range rm.entries {
			if _, err := f.svc.RegisterAttendance(f.as(f.admin), e); err != nil {
				t.Fatalf("register %+v: %v", e, err)
			}
		}
		if rm.held {
			if _, err := f.svc.ChangeStatus(f.as(f.admin), m.ID, meeting.Held, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

// expected computes the report's figures from the data: the cells by
// territory code and theme, and the total.
func (d *reportData) expected(territory string, from, to time.Time) (map[string]meeting.Participation, meeting.Participation) {
	type acc struct {
		p             meeting.Participation
		people, orgs  map[int64]bool
		orgsByKind    map[network.Kind]map[int64]bool
		orgsBySectors map[network.Sector]map[int64]bool
	}
	newAcc := func() *acc {
		return &acc{people: map[int64]bool{}, orgs: map[int64]bool{}, orgsByKind: map[network.Kind]map[int64]bool{},
			orgsBySectors: map[network.Sector]map[int64]bool{}}
	}
	cells, total := map[string]*acc{}, newAcc()
	for _, m := range d.meetings {
		if !m.held || (territory != "" && m.territory != territory) || m.start.Before(from) || !m.start.Before(to) {
			continue
		}
		k := m.territory + "/" + string(m.theme)
		if cells[k] == nil {
			cells[k] = newAcc()
		}
		for _, a := range []*acc{cells[k], total} {
			a.p.MeetingsHeld++
			for _, e := range m.entries {
				a.p.Entries++
				if e.PersonID != nil {
					a.people[*e.PersonID] = true
				} else {
					a.p.Guests++
				}
				if e.OrganizationID != nil {
					o := *e.OrganizationID
					kind := d.kinds[o]
					a.orgs[o] = true
					if a.orgsByKind[kind] == nil {
						a.orgsByKind[kind] = map[int64]bool{}
					}
					a.orgsByKind[kind][o] = true
					if a.orgsBySectors[kind.Sector()] == nil {
						a.orgsBySectors[kind.Sector()] = map[int64]bool{}
					}
					a.orgsBySectors[kind.Sector()][o] = true
				}
			}
		}
	}
	done := func(a *acc) meeting.Participation {
		p := a.p
		p.People, p.Organizations = len(a.people), len(a.orgs)
		p.Participants = p.People + p.Guests
		for _, k := range network.Kinds {
			if n := len(a.orgsByKind[k]); n > 0 {
				p.ByKind = append(p.ByKind, meeting.KindCount{Kind: k, Count: n})
			}
		}
		for _, s := range network.Sectors {
			if n := len(a.orgsBySectors[s]); n > 0 {
				p.BySector = append(p.BySector, meeting.SectorCount{Sector: s, Count: n})
			}
		}
		return p
	}
	out := map[string]meeting.Participation{}
	for k, a := range cells {
		out[k] = done(a)
	}
	return out, done(total)
}

func sameParticipation(a, b meeting.Participation) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// checkReport compares a report with the figures computed from the data.
func checkReport(t *testing.T, r *meeting.ParticipationReport, d *reportData, territory string, from, to time.Time) {
	t.Helper()
	cells, total := d.expected(territory, from, to)
	wantCells := 9 * 4
	if territory != "" {
		wantCells = 4
	}
	if len(r.Cells) != wantCells {
		t.Fatalf("%d cells, want %d", len(r.Cells), wantCells)
	}
	for _, c := range r.Cells {
		want := cells[c.Territory.Code+"/"+string(c.Theme.Code)]
		if !sameParticipation(c.Participation, want) {
			t.Errorf("%s/%s: %+v\nwant %+v", c.Territory.Code, c.Theme.Code, c.Participation, want)
		}
	}
	if !sameParticipation(r.Total, total) {
		t.Errorf("total: %+v\nwant %+v", r.Total, total)
	}
	if total.MeetingsHeld == 0 || total.Entries == 0 || len(total.ByKind) == 0 {
		t.Errorf("the data tests nothing: %+v", total)
	}
}

// TestParticipationReport: the report's figures are those computed from
// the registers, for the region and a territory, over a period; its
// statements do not grow with the data; access as the registers'.
func TestParticipationReport(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		from, to := rome(2026, 4, 3, 0, 0), rome(2026, 5, 26, 0, 0)
		var statements []int64
		all := &reportData{kinds: map[int64]network.Kind{}}
		for i, n := range []int{8, 60} {
			// The second data set, in May, adds to the first: the report
			// covers both.
			d := fillRegisters(t, f, time.April+time.Month(i), n, uint64(i+1))
			all.meetings = append(all.meetings, d.meetings...)
			maps.Copy(all.kinds, d.kinds)
			counter := storage.CountStatements(db)
			r, err := f.svc.ParticipationReport(f.as(f.policy), meeting.ReportFilter{From: &from, To: &to})
			if err != nil {
				t.Fatal(err)
			}
			statements = append(statements, counter.Count())
			checkReport(t, r, all, "", from, to)
			en, err := f.svc.ParticipationReport(f.as(f.member), meeting.ReportFilter{TerritoryID: f.terr["EN"]})
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, en, all, "EN", time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
		}
		if statements[0] != statements[1] || statements[0] > 7 {
			t.Errorf("statements %v: they grow with the data or are too many", statements)
		}

		for _, c := range []struct {
			who  *access.Actor
			f    meeting.ReportFilter
			want apperr.Kind
		}{
			{f.coord, meeting.ReportFilter{}, apperr.Forbidden},
			{f.member, meeting.ReportFilter{TerritoryID: f.terr["PA"]}, apperr.Forbidden},
			{f.stranger, meeting.ReportFilter{TerritoryID: f.terr["EN"]}, apperr.Forbidden},
			{f.outside, meeting.ReportFilter{TerritoryID: f.terr["PA"]}, ""},
			{f.admin, meeting.ReportFilter{TerritoryID: 999_999}, apperr.NotFound},
			{f.admin, meeting.ReportFilter{From: &to, To: &from}, apperr.BadInput},
		} {
			if _, err := f.svc.ParticipationReport(f.as(c.who), c.f); kind(err) != c.want {
				t.Errorf("%+v as %d: %v, want %s", c.f, c.who.PersonID, err, c.want)
			}
		}
		if _, err := f.svc.ParticipationReport(f.as(&access.Actor{}), meeting.ReportFilter{}); kind(err) != apperr.Unauthenticated {
			t.Errorf("without a session: %v", err)
		}
	})
}
