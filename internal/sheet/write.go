package sheet

// Writing: the exports (registers, reports) as files an Italian office opens
// in Excel or LibreOffice without a dialog.
//
// Decisions:
//
//   - CSV is for Italian spreadsheets: UTF-8 with a byte order mark (else
//     Excel reads it as Windows-1252), ";" between cells (Excel in Italian
//     splits on the list separator, and "," is the decimal one), CRLF line
//     ends. Times are written as dd/mm/yyyy hh:mm in Europe/Rome, numbers
//     with a decimal comma.
//   - A CSV text cell that begins with = + - @, a tab or a carriage return
//     gets a leading apostrophe, so that a spreadsheet shows it as text and
//     never runs it as a formula (CSV injection: a guest's name is typed by
//     whoever is at the door). Numbers are not text and are not guarded.
//   - XLSX text cells are stored as strings, which a spreadsheet never runs,
//     so they are written as they are. Numbers are numbers, times are real
//     date cells holding Rome's wall clock (Excel has no time zones), the
//     header row is bold and frozen, and columns are as wide as their
//     contents (within bounds).

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// Format is a file format to write.
type Format string

// The formats Write writes.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// MediaType is the format's Content-Type.
func (f Format) MediaType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Ext is the format's filename extension, with its dot.
func (f Format) Ext() string { return "." + string(f) }

// Rome is the time zone times are written in.
var Rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Sheet is one named sheet to write: its columns and rows. A cell is a
// string, an int, an int64, a float64, a time.Time or nil (empty); a row
// may be shorter than the columns.
type Sheet struct {
	// Name is the sheet's tab in a workbook: at most 31 characters, none of
	// : \ / ? * [ ]. CSV does not show it.
	Name    string
	Columns []Column
	Rows    [][]any
}

// Column is a column's header and width.
type Column struct {
	Name string
	// Width is in characters; 0 fits the header and the cells, within
	// bounds.
	Width float64
}

// The bounds of a fitted column's width, in characters.
const (
	minWidth = 8
	maxWidth = 60
)

// TimeLayout is how CSV writes a time, and how a date cell of a workbook
// shows it, in Europe/Rome.
const (
	TimeLayout   = "02/01/2006 15:04"
	xlsxTimeFmt  = "dd/mm/yyyy hh:mm"
	writeOp      = "sheet.Write"
	maxSheetName = 31
)

// Write writes sheets to w as format: CSV takes one sheet, XLSX one or
// more. An unknown format, a cell of another type, no sheet or more than
// one for CSV, or a bad sheet name are the caller's mistakes and an
// internal error; a failing w is returned.
func Write(w io.Writer, format Format, sheets ...Sheet) error {
	if len(sheets) == 0 {
		return internalf("no sheet to write")
	}
	for _, s := range sheets {
		for i, r := range s.Rows {
			for j, c := range r {
				switch c.(type) {
				case nil, string, int, int64, float64, time.Time:
				default:
					return internalf("sheet %q row %d column %d: a cell of type %T", s.Name, i+1, j+1, c)
				}
			}
		}
	}
	switch format {
	case CSV:
		if len(sheets) != 1 {
			return internalf("CSV holds one sheet, not %d", len(sheets))
		}
		return writeCSV(w, sheets[0])
	case XLSX:
		return writeXLSX(w, sheets)
	}
	return internalf("unknown format %q", format)
}

// SafeText guards a text cell against formulas: one beginning with = + - @,
// a tab or a carriage return gets a leading apostrophe.
func SafeText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func writeCSV(w io.Writer, s Sheet) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return apperr.Wrap(writeOp, err)
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	rec := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		rec[i] = SafeText(c.Name)
	}
	_ = cw.Write(rec)
	for _, r := range s.Rows {
		rec = rec[:0]
		for _, c := range r {
			rec = append(rec, csvCell(c))
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return apperr.Wrap(writeOp, err)
	}
	return nil
}

func csvCell(c any) string {
	switch v := c.(type) {
	case string:
		return SafeText(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
	case time.Time:
		return v.In(Rome).Format(TimeLayout)
	}
	return ""
}

// wallClock is t's Rome wall clock as a UTC time, which is what a
// workbook's date cell holds.
func wallClock(t time.Time) time.Time {
	r := t.In(Rome)
	return time.Date(r.Year(), r.Month(), r.Day(), r.Hour(), r.Minute(), r.Second(), r.Nanosecond(), time.UTC)
}

func writeXLSX(w io.Writer, sheets []Sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	fail := func(err error) error { return apperr.Wrap(writeOp, err) }
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fail(err)
	}
	timeFmt := xlsxTimeFmt
	dates, err := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt})
	if err != nil {
		return fail(err)
	}
	first := f.GetSheetName(0)
	for i, s := range sheets {
		if s.Name == "" || utf8.RuneCountInString(s.Name) > maxSheetName || strings.ContainsAny(s.Name, `:\/?*[]`) {
			return internalf("a sheet cannot be named %q", s.Name)
		}
		if i == 0 {
			err = f.SetSheetName(first, s.Name)
		} else {
			_, err = f.NewSheet(s.Name)
		}
		if err != nil {
			return fail(err)
		}
		if err := writeSheet(f, s, bold, dates); err != nil {
			return fail(err)
		}
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fail(err)
	}
	return nil
}

func writeSheet(f *excelize.File, s Sheet, bold, dates int) error {
	widths := make([]int, len(s.Columns))
	fit := func(i, n int) {
		if i < len(widths) && n > widths[i] {
			widths[i] = n
		}
	}
	for i, c := range s.Columns {
		cell, err := excelize.CoordinatesToCellName(i+1, 1)
		if err != nil {
			return err
		}
		if err := f.SetCellStr(s.Name, cell, c.Name); err != nil {
			return err
		}
		fit(i, utf8.RuneCountInString(c.Name)+2) // bold is wider
	}
	for r, row := range s.Rows {
		for i, c := range row {
			cell, err := excelize.CoordinatesToCellName(i+1, r+2)
			if err != nil {
				return err
			}
			switch v := c.(type) {
			case string:
				err = f.SetCellStr(s.Name, cell, v)
				fit(i, utf8.RuneCountInString(v))
			case int:
				err = f.SetCellInt(s.Name, cell, int64(v))
				fit(i, len(strconv.Itoa(v)))
			case int64:
				err = f.SetCellInt(s.Name, cell, v)
				fit(i, len(strconv.FormatInt(v, 10)))
			case float64:
				err = f.SetCellFloat(s.Name, cell, v, -1, 64)
				fit(i, len(strconv.FormatFloat(v, 'f', -1, 64)))
			case time.Time:
				if err = f.SetCellValue(s.Name, cell, wallClock(v)); err == nil {
					err = f.SetCellStyle(s.Name, cell, cell, dates)
				}
				fit(i, len(TimeLayout))
			}
			if err != nil {
				return err
			}
		}
	}
	if len(s.Columns) == 0 {
		return nil
	}
	last, err := excelize.ColumnNumberToName(len(s.Columns))
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(s.Name, "A1", last+"1", bold); err != nil {
		return err
	}
	for i, c := range s.Columns {
		name, _ := excelize.ColumnNumberToName(i + 1)
		width := c.Width
		if width == 0 {
			width = float64(min(max(widths[i]+1, minWidth), maxWidth))
		}
		if err := f.SetColWidth(s.Name, name, name, width); err != nil {
			return err
		}
	}
	return f.SetPanes(s.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}})
}

// internalf is a mistake of the caller's: an internal error, logged and
// never shown.
func internalf(format string, args ...any) error {
	return apperr.Wrap(writeOp, fmt.Errorf(format, args...))
}
