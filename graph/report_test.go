package graph_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// reportRows is the participation report as its files must hold it: the
// header, a row per territory and theme, and the totals (the sheet
// "Territori e temi"); and the organizations by kind (the sheet "Per
// tipo").
func reportRows(r *meeting.ParticipationReport) (main, kinds [][]string) {
	main = [][]string{{"Territorio", "Tema", "Incontri svolti", "Presenze", "Partecipanti", "Persone dell'elenco", "Ospiti",
		"Organizzazioni", "Organizzazioni: Pubblico", "Organizzazioni: Terzo settore", "Organizzazioni: Privato",
		"Organizzazioni: Comunità migranti"}}
	kinds = [][]string{{"Territorio", "Tema", "Tipo di organizzazione", "Settore", "Organizzazioni"}}
	kindNames := map[network.Kind][2]string{network.KindAssociation: {"Associazione", "Terzo settore"},
		network.KindMunicipality: {"Comune", "Pubblico"}}
	add := func(territory, theme string, p meeting.Participation) {
		row := []string{territory, theme}
		for _, n := range []int{p.MeetingsHeld, p.Entries, p.Participants, p.People, p.Guests, p.Organizations} {
			row = append(row, strconv.Itoa(n))
		}
		for _, s := range network.Sectors {
			n := 0
			for _, c := range p.BySector {
				if c.Sector == s {
					n = c.Count
				}
			}
			row = append(row, strconv.Itoa(n))
		}
		main = append(main, row)
		for _, c := range p.ByKind {
			kinds = append(kinds, []string{territory, theme, kindNames[c.Kind][0], kindNames[c.Kind][1], strconv.Itoa(c.Count)})
		}
	}
	for _, c := range r.Cells {
		add(c.Territory.Name, c.Theme.LabelIt, c.Participation)
	}
	add("Totale", "", r.Total)
	return main, kinds
}

// TestParticipationReportDownload: the report downloaded over HTTP, as CSV
// and as XLSX, parses back to the figures of ParticipationReport; the
// territory and the period come from the query, bad ones are 400, and the
// region is for policy makers and administrators only.
func TestParticipationReportDownload(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clock := testutil.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		e := newMeetEnvAt(t, db, clock)
		ctx := access.WithActor(context.Background(), e.actor)
		ponti, err := e.r.Network.CreateOrganization(ctx, network.OrganizationInput{Name: "Associazione Ponti",
			Kind: network.KindAssociation, Level: network.LevelProvincial, Territories: []string{"EN"}})
		if err != nil {
			t.Fatal(err)
		}
		comune, err := e.r.Network.CreateOrganization(ctx, network.OrganizationInput{Name: "Comune di Enna",
			Kind: network.KindMunicipality, Level: network.LevelMunicipal, Territories: []string{"EN"}})
		if err != nil {
			t.Fatal(err)
		}
		member := personID(t, e.meID(t, e.member))
		rome := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, meeting.Rome) }
		// Three held meetings in Enna, on the 3rd and the 30th of April and
		// the 1st of May.
		var ids []int64
		for i, c := range []struct {
			theme string
			at    time.Time
		}{{"HEALTH", rome(4, 3)}, {"WORK", rome(4, 30)}, {"HEALTH", rome(5, 1)}} {
			fg, err := relay.ParseAs("FocusGroup", e.focus[c.theme])
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.r.Meetings.CreateMeeting(ctx, meeting.MeetingInput{FocusGroupID: fg, Title: fmt.Sprintf("Incontro %d", i),
				StartsAt: c.at, EndsAt: c.at.Add(time.Hour), Mode: meeting.InPerson, Venue: "Sala Cerere"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		advanceTo(clock, rome(5, 2))
		entries := []meeting.AttendanceInput{
			{MeetingID: ids[0], PersonID: &member, OrganizationID: &comune.ID},
			{MeetingID: ids[0], GuestName: new("=Amina"), OrganizationID: &ponti.ID},
			{MeetingID: ids[0], GuestName: new("Yusuf"), GuestOrganization: new("Comunità eritrea")},
			{MeetingID: ids[1], PersonID: &member},
			{MeetingID: ids[1], GuestName: new("Amina"), OrganizationID: &ponti.ID},
			{MeetingID: ids[2], PersonID: &member, OrganizationID: &ponti.ID},
		}
		for _, in := range entries {
			in.Mode = meeting.AttendedInPerson
			if _, err := e.r.Meetings.RegisterAttendance(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			if _, err := e.r.Meetings.ChangeStatus(ctx, id, meeting.Held, ""); err != nil {
				t.Fatal(err)
			}
		}

		for _, c := range []struct {
			query  string
			filter meeting.ReportFilter
			name   string
			token  string
		}{
			{"territory=en&from=2026-04-03&to=2026-04-30", meeting.ReportFilter{}, "partecipazione-EN", e.member},
			{"", meeting.ReportFilter{}, "partecipazione-regione", e.admin},
		} {
			f := c.filter
			if c.query != "" {
				en, err := e.r.Reference.TerritoryByCode(ctx, "EN")
				if err != nil {
					t.Fatal(err)
				}
				from, to := time.Date(2026, 4, 3, 0, 0, 0, 0, meeting.Rome), time.Date(2026, 5, 1, 0, 0, 0, 0, meeting.Rome)
				f = meeting.ReportFilter{TerritoryID: en.ID, From: &from, To: &to}
			}
			report, err := e.r.Meetings.ParticipationReport(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			wantMain, wantKinds := reportRows(report)
			if c.query != "" && (report.Total.MeetingsHeld != 2 || report.Total.Participants != 4 || report.Total.Organizations != 2) {
				t.Errorf("Enna from the 3rd to the 30th of April: %+v", report.Total)
			}

			// The API gives the same figures.
			var gql struct {
				ParticipationReport struct {
					Cells []struct {
						Territory, Theme                                                   struct{ Code string }
						MeetingsHeld, Entries, Participants, People, Guests, Organizations int
						ByKind                                                             []struct {
							Kind  string
							Count int
						}
					}
					Total struct {
						MeetingsHeld, Entries, Participants, People, Guests, Organizations int
						BySector                                                           []struct {
							Sector string
							Count  int
						}
					}
				}
			}
			args := vars()
			if c.query != "" {
				args = vars("t", "EN", "from", "2026-04-03", "to", "2026-04-30")
			}
			e.must(t, c.token, `query ($t: String, $from: Date, $to: Date) { participationReport(territory: $t, from: $from, to: $to) {
				cells { territory { code } theme { code } meetingsHeld entries participants people guests organizations byKind { kind count } }
				total { meetingsHeld entries participants people guests organizations bySector { sector count } } } }`, args, &gql)
			got := gql.ParticipationReport
			if len(got.Cells) != len(report.Cells) {
				t.Fatalf("%d cells, want %d", len(got.Cells), len(report.Cells))
			}
			for i, c := range report.Cells {
				g := got.Cells[i]
				if g.Territory.Code != c.Territory.Code || g.Theme.Code != string(c.Theme.Code) || g.MeetingsHeld != c.MeetingsHeld ||
					g.Entries != c.Entries || g.Participants != c.Participants || g.People != c.People || g.Guests != c.Guests ||
					g.Organizations != c.Organizations || len(g.ByKind) != len(c.ByKind) {
					t.Errorf("cell %d: %+v, want %+v", i, g, c)
				}
			}
			if tt := got.Total; tt.MeetingsHeld != report.Total.MeetingsHeld || tt.Participants != report.Total.Participants ||
				tt.Organizations != report.Total.Organizations || len(tt.BySector) != len(report.Total.BySector) {
				t.Errorf("total %+v, want %+v", tt, report.Total)
			}

			res, body := download(t, e.srv.Base+"/reports/participation.csv?"+c.query, c.token)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				res.Header.Get("Content-Disposition") != `attachment; filename="`+c.name+`.csv"` {
				t.Fatalf("GET the CSV: %d %v %s", res.StatusCode, res.Header, body)
			}
			cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
			cr.Comma = ';'
			rows, err := cr.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", wantMain) {
				t.Errorf("the CSV:\n%q\nwant\n%q", rows, wantMain)
			}

			res, body = download(t, e.srv.Base+"/reports/participation.xlsx?"+c.query, c.token)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
				res.Header.Get("Content-Disposition") != `attachment; filename="`+c.name+`.xlsx"` {
				t.Fatalf("GET the XLSX: %d %v", res.StatusCode, res.Header)
			}
			wb, err := excelize.OpenReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := wb.GetSheetList(); strings.Join(got, "|") != "Territori e temi|Per tipo" {
				t.Errorf("sheets %q", got)
			}
			for name, want := range map[string][][]string{"Territori e temi": wantMain, "Per tipo": wantKinds} {
				rows, err := wb.GetRows(name)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) {
					t.Errorf("the sheet %s:\n%q\nwant\n%q", name, rows, want)
				}
			}
			if typ, _ := wb.GetCellType("Territori e temi", "C2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Error("a count is text in the workbook")
			}
			_ = wb.Close()
		}

		for _, c := range []struct {
			query, token string
			status       int
		}{
			{"", e.member, http.StatusForbidden},
			{"territory=PA", e.member, http.StatusForbidden},
			{"territory=EN", "", http.StatusUnauthorized},
			{"territory=ZZ", e.admin, http.StatusBadRequest},
			{"from=2026-13-01", e.admin, http.StatusBadRequest},
			{"from=01/03/2026", e.admin, http.StatusBadRequest},
			{"from=2026-05-01&to=2026-04-30", e.admin, http.StatusBadRequest},
			{"territory=EN&from=2026-04-30&to=2026-04-30", e.coordinator, http.StatusOK},
		} {
			for _, ext := range []string{".csv", ".xlsx"} {
				res, body := download(t, e.srv.Base+"/reports/participation"+ext+"?"+c.query, c.token)
				if res.StatusCode != c.status {
					t.Errorf("GET %s?%s: %d %s; want %d", ext, c.query, res.StatusCode, body, c.status)
				}
				if c.status == http.StatusBadRequest && !strings.Contains(body, "BAD_USER_INPUT") {
					t.Errorf("GET %s?%s: %s", ext, c.query, body)
				}
			}
		}
	})
}
