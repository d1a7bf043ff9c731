package sheet_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/sheet"
)

// sample is two sheets with every kind of cell, formulas in disguise
// included.
func sample() []sheet.Sheet {
	at := time.Date(2026, 4, 10, 7, 47, 0, 0, time.UTC) // 09:47 in Rome (summer time)
	winter := time.Date(2026, 1, 15, 16, 5, 0, 0, time.UTC)
	return []sheet.Sheet{
		{Name: "Registro", Columns: []sheet.Column{{Name: "Nome"}, {Name: "Presenze"}, {Name: "Quota"}, {Name: "Ora", Width: 20}},
			Rows: [][]any{
				{"Città di Enna; \"sì\"", 3, 0.5, at},
				{`=HYPERLINK("http://x.example")`, int64(-2), 12.25, winter},
				{"+39 091", 0, nil, nil},
				{"@SUM(A1)", 7},
			}},
		{Name: "Per tipo", Columns: []sheet.Column{{Name: "Tipo"}, {Name: "Organizzazioni"}},
			Rows: [][]any{{"Comune", 2}, {"Associazione", 1}}},
	}
}

// TestWriteCSV: the CSV is for Italian spreadsheets and parses back cell
// by cell, formulas guarded.
func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := sheet.Write(&b, sheet.CSV, sample()[0]); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Errorf("no BOM or CRLF: %q", data)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.Comma, r.FieldsPerRecord = ';', -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Nome", "Presenze", "Quota", "Ora"},
		{"Città di Enna; \"sì\"", "3", "0,5", "10/04/2026 09:47"},
		{`'=HYPERLINK("http://x.example")`, "-2", "12,25", "15/01/2026 17:05"},
		{"'+39 091", "0", "", ""},
		{"'@SUM(A1)", "7"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows: %q", len(rows), rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, rows[i], want[i])
		}
	}
	// The package's own reader takes it back too.
	tab, err := sheet.Read(bytes.NewReader(data), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if tab.Format != "CSV (UTF-8, BOM, semicolon)" || len(tab.Rows) != 4 || tab.Rows[0].Cells[0] != want[1][0] {
		t.Errorf("read back: %+v", tab)
	}
	if err := sheet.Write(&b, sheet.CSV, sample()...); err == nil {
		t.Error("two sheets as CSV")
	}
	if err := sheet.Write(&b, sheet.CSV, sheet.Sheet{Name: "x", Rows: [][]any{{true}}}); err == nil {
		t.Error("a bool cell")
	}
}

// TestWriteXLSX: the workbook read back with excelize has the sheets, the
// cells with their types (numbers as numbers, times as dates in Rome), the
// header bold and frozen, and the widths.
func TestWriteXLSX(t *testing.T) {
	var b bytes.Buffer
	in := sample()
	if err := sheet.Write(&b, sheet.XLSX, in...); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, "|") != "Registro|Per tipo" {
		t.Fatalf("sheets %q", got)
	}
	for _, s := range in {
		for j, c := range s.Columns {
			cell, _ := excelize.CoordinatesToCellName(j+1, 1)
			if v, _ := f.GetCellValue(s.Name, cell); v != c.Name {
				t.Errorf("%s!%s = %q, want %q", s.Name, cell, v, c.Name)
			}
			style, _ := f.GetCellStyle(s.Name, cell)
			st, err := f.GetStyle(style)
			if err != nil || st.Font == nil || !st.Font.Bold {
				t.Errorf("%s!%s is not bold", s.Name, cell)
			}
		}
		for i, row := range s.Rows {
			for j, c := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
				typ, _ := f.GetCellType(s.Name, cell)
				raw, _ := f.GetCellValue(s.Name, cell, excelize.Options{RawCellValue: true})
				switch v := c.(type) {
				case nil:
					if raw != "" {
						t.Errorf("%s!%s = %q, want empty", s.Name, cell, raw)
					}
				case string:
					if raw != v || typ == excelize.CellTypeFormula {
						t.Errorf("%s!%s = %q (%v), want the text %q", s.Name, cell, raw, typ, v)
					}
				case int, int64, float64:
					want := sheetNumber(v)
					if raw != want || (typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset) {
						t.Errorf("%s!%s = %q (%v), want the number %s", s.Name, cell, raw, typ, want)
					}
				case time.Time:
					serial, err := strconv.ParseFloat(raw, 64)
					if err != nil {
						t.Fatalf("%s!%s = %q, not a serial date", s.Name, cell, raw)
					}
					got, err := excelize.ExcelDateToTime(serial, false)
					r := v.In(sheet.Rome)
					if err != nil || got.Format("2006-01-02 15:04") != r.Format("2006-01-02 15:04") {
						t.Errorf("%s!%s = %v, want %v", s.Name, cell, got, r)
					}
					if shown, _ := f.GetCellValue(s.Name, cell); shown != r.Format("02/01/2006 15:04") {
						t.Errorf("%s!%s shows %q", s.Name, cell, shown)
					}
				}
			}
		}
		panes, err := f.GetPanes(s.Name)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: panes %+v", s.Name, panes)
		}
	}
	if w, _ := f.GetColWidth("Registro", "D"); w != 20 {
		t.Errorf("a given width: %v", w)
	}
	if w, _ := f.GetColWidth("Registro", "A"); w < float64(len(`=HYPERLINK("http://x.example")`)) {
		t.Errorf("a fitted width: %v", w)
	}
	// The package's own reader takes the first sheet back.
	tab, err := sheet.Read(bytes.NewReader(b.Bytes()), "x.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tab.Header, "|") != "Nome|Presenze|Quota|Ora" || len(tab.Rows) != 4 ||
		tab.Rows[1].Cells[0] != `=HYPERLINK("http://x.example")` || tab.Rows[0].Cells[1] != "3" || tab.Rows[0].Cells[3] != "10/04/2026 09:47" {
		t.Errorf("read back: %+v", tab)
	}
}

func sheetNumber(v any) string {
	switch n := v.(type) {
	case int:
		return strconv.Itoa(n)
	case int64:
		return strconv.FormatInt(n, 10)
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return ""
}
