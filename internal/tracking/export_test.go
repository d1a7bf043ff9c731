package tracking_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/sheet"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// TestExportOverview: the overview downloaded as CSV and as XLSX reads
// back, with the package's reader and with excelize, as the same figures as
// RegionalOverview, row by row, numbers as numbers in the workbook.
func TestExportOverview(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db)
		r.seed()
		ctx := r.as(r.policy)
		ov, err := r.svc.RegionalOverview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []sheet.Format{sheet.CSV, sheet.XLSX} {
			file, err := r.svc.ExportOverview(ctx, format)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := sheet.Read(bytes.NewReader(file), "panoramica."+format.Ext())
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if len(tab.Rows) != len(ov.Cells) || tab.Header[0] != "Territorio" || tab.Header[3] != "Incontri svolti" {
				t.Fatalf("%s: %d rows, header %q", format, len(tab.Rows), tab.Header)
			}
			for i, c := range ov.Cells {
				cells := tab.Rows[i].Cells
				want := map[int]int{2: c.Meetings.Planned, 3: c.Meetings.Held, 4: c.Meetings.Cancelled, 6: c.Attendance.People,
					7: c.Attendance.Guests, 8: c.Attendance.Organizations, 9: c.Attendance.Invited, 10: c.Attendance.Attended,
					11: c.Sections.Count, 12: c.Sections.WithContent, 13: c.Sections.Words, 14: c.Sections.Contributors,
					15: c.Sections.Edits7Days, 16: c.Sections.Edits30Days, 17: c.Comments.Open, 18: c.Comments.Resolved}
				if cells[0] != c.Territory.Name || cells[1] != c.Theme.Label("it") {
					t.Errorf("%s row %d is %q × %q, want %s × %s", format, i+1, cells[0], cells[1], c.Territory.Name, c.Theme.Label("it"))
				}
				for col, n := range want {
					if cells[col] != strconv.Itoa(n) {
						t.Errorf("%s %s × %s, %s: %q, want %d", format, c.Territory.Code, c.Theme.Code, tab.Header[col], cells[col], n)
					}
				}
				if (cells[5] == "") != (c.Meetings.Next == nil) {
					t.Errorf("%s %s × %s: next meeting %q, want %v", format, c.Territory.Code, c.Theme.Code, cells[5], c.Meetings.Next)
				}
			}
			if format == sheet.XLSX {
				wb, err := excelize.OpenReader(bytes.NewReader(file))
				if err != nil {
					t.Fatal(err)
				}
				typ, err := wb.GetCellType(tracking.OverviewSheet, "D2")
				if err != nil || (typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset) {
					t.Errorf("held meetings are stored as %v (%v), want numbers", typ, err)
				}
				_ = wb.Close()
			}
		}
		if _, err := r.svc.ExportOverview(r.as(access.Anonymous), sheet.XLSX); apperr.KindOf(err) != apperr.Unauthenticated {
			t.Errorf("anonymous: %v", err)
		}
	})
}
