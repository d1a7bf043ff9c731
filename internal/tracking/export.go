package tracking

import (
	"bytes"
	"context"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/sheet"
)

// OverviewSheet is the name of the overview's sheet in a workbook.
const OverviewSheet = "Territori e temi"

// overviewHeader are the overview's columns before those by sector, in
// Italian like the other exports; docs/indicators.md defines each.
var overviewHeader = []string{"Territorio", "Tema", "Incontri in programma", "Incontri svolti", "Incontri annullati",
	"Prossimo incontro", "Persone presenti", "Ospiti", "Organizzazioni presenti", "Invitati", "Presenti tra gli invitati",
	"Sezioni", "Sezioni con testo", "Parole", "Autori", "Modifiche negli ultimi 7 giorni", "Modifiche negli ultimi 30 giorni",
	"Commenti aperti", "Commenti risolti"}

// ExportOverview is RegionalOverview as a spreadsheet (ReadTracking): one
// row per territory and theme, with the organizations present by sector
// as the last columns, and the next meeting as a date in Rome. It holds
// the overview's aggregates only: no name, email or phone.
func (s *Service) ExportOverview(ctx context.Context, format sheet.Format) ([]byte, error) {
	const op = "tracking.ExportOverview"
	ov, err := s.RegionalOverview(ctx)
	if err != nil {
		return nil, err
	}
	sh := sheet.Sheet{Name: OverviewSheet}
	for _, h := range overviewHeader {
		sh.Columns = append(sh.Columns, sheet.Column{Name: h})
	}
	for _, sec := range network.Sectors {
		sh.Columns = append(sh.Columns, sheet.Column{Name: "Organizzazioni: " + sec.Label()})
	}
	for _, c := range ov.Cells {
		var next any // an empty cell when nothing is planned
		if c.Meetings.Next != nil {
			next = *c.Meetings.Next
		}
		a, sc := c.Attendance, c.Sections
		row := []any{c.Territory.Name, c.Theme.Label("it"), c.Meetings.Planned, c.Meetings.Held, c.Meetings.Cancelled, next,
			a.People, a.Guests, a.Organizations, a.Invited, a.Attended,
			sc.Count, sc.WithContent, sc.Words, sc.Contributors, sc.Edits7Days, sc.Edits30Days,
			c.Comments.Open, c.Comments.Resolved}
		for _, sec := range network.Sectors {
			n := 0
			for _, x := range a.BySector {
				if x.Sector == sec {
					n = x.Count
				}
			}
			row = append(row, n)
		}
		sh.Rows = append(sh.Rows, row)
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, format, sh); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return b.Bytes(), nil
}
