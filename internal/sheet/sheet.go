// Package sheet reads the spreadsheets organizers keep their lists in: CSV
// as Excel and other programs save it (UTF-8 with or without a byte order
// mark, Windows-1252 from an Italian Excel, UTF-16 "Unicode text"; comma,
// semicolon or tab separated) and XLSX workbooks. It turns a file into a
// header and rows of text cells, each row with the line number a person
// sees in their editor, so that problems can be reported where they are.
// What the cells mean is the caller's business. It also writes exports
// (Write): CSV for Italian spreadsheets and XLSX workbooks.
package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// The limits on one file: an import runs in one transaction, so a file must
// stay small enough to be written, or refused, in one go.
const (
	MaxBytes = 10 << 20 // 10 MiB
	MaxRows  = 50_000   // data rows, the header not counted
)

// maxUnzipped bounds what an XLSX file may expand to, so that a small zip
// bomb cannot take the server's memory.
const maxUnzipped = 256 << 20

const op = "sheet.Read"

// Table is a file read: its header and its data rows.
type Table struct {
	// Format says how the file was read, for the person who sent it, such
	// as "CSV (UTF-8, semicolon, BOM)" or "XLSX (sheet "Foglio1")".
	Format string
	// Header holds the first row's cells, trimmed; empty header cells at
	// the end are dropped.
	Header []string
	Rows   []Row
}

// Row is one data row. Rows whose cells are all blank are skipped.
type Row struct {
	// Line is where the row starts in the file, 1-based, the header being
	// line 1 (the line of a CSV file, the row number of a sheet).
	Line int
	// Cells are the row's values as written. A CSV row may have fewer or
	// more cells than the header (the caller reports it); a sheet's rows are
	// padded to the header's width, because XLSX does not store trailing
	// empty cells. Empty cells beyond the header are dropped.
	Cells []string
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	zipMagic   = []byte("PK\x03\x04")
	oleMagic   = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls and encrypted workbooks
)

// Read reads a CSV or XLSX file. XLSX is recognised by its content (a zip
// archive) or by filename ending in .xlsx; anything else is read as CSV.
// A file that cannot be read (empty, too large, malformed, an old .xls) is
// BAD_USER_INPUT with a message saying what to do.
func Read(r io.Reader, filename string) (*Table, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, apperr.Invalid(op, "file", "the file could not be read: %v", err)
	}
	if len(data) > MaxBytes {
		return nil, apperr.Invalid(op, "file", "the file is larger than %d MiB: split it into smaller files", MaxBytes>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, apperr.Invalid(op, "file", "the file is empty")
	}
	switch {
	case bytes.HasPrefix(data, oleMagic):
		return nil, apperr.Invalid(op, "file", "this is an old Excel (.xls) or a password-protected workbook: save it as .xlsx or CSV without a password")
	case bytes.HasPrefix(data, zipMagic) || strings.EqualFold(filepath.Ext(filename), ".xlsx"):
		return readXLSX(data)
	}
	return readCSV(data)
}

func readXLSX(data []byte) (*Table, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzipped})
	if err != nil {
		return nil, apperr.Invalid(op, "file", "the file is not a readable XLSX workbook: save it again from Excel as .xlsx, or as CSV")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, apperr.Invalid(op, "file", "the workbook has no sheets")
	}
	name := sheets[0]
	t := &Table{Format: fmt.Sprintf("XLSX (sheet %q)", name)}
	if len(sheets) > 1 {
		t.Format = fmt.Sprintf("XLSX (sheet %q, the first of %d)", name, len(sheets))
	}
	rows, err := f.Rows(name)
	if err != nil {
		return nil, apperr.Invalid(op, "file", "the sheet %q could not be read", name)
	}
	defer rows.Close()
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return nil, apperr.Invalid(op, "file", "row %d of sheet %q could not be read", n, name)
		}
		if err := t.add(n, cells, true); err != nil {
			return nil, err
		}
	}
	if rows.Error() != nil {
		return nil, apperr.Invalid(op, "file", "the sheet %q could not be read", name)
	}
	return t.done()
}

func readCSV(data []byte) (*Table, error) {
	encoding, data, err := decode(data)
	if err != nil {
		return nil, err
	}
	sep := sniff(data)
	t := &Table{Format: "CSV (" + encoding + ", " + separatorNames[sep] + ")"}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if err := t.add(line, rec, false); err != nil {
			return nil, err
		}
	}
	return t.done()
}

// decode turns the file into UTF-8 without a byte order mark and names the
// encoding it was in. Bytes that are not UTF-8 are taken as Windows-1252,
// which is what Excel in Italian writes for "CSV (delimitato da separatore
// di elenco)": every byte is a character there, so this cannot fail, and the
// accents of "Città" come out right.
func decode(data []byte) (string, []byte, error) {
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		data = data[len(bomUTF8):]
		if !utf8.Valid(data) {
			return "", nil, apperr.Invalid(op, "file", "the file says it is UTF-8 but is not: save it again as \"CSV UTF-8\"")
		}
		return "UTF-8, BOM", data, nil
	case bytes.HasPrefix(data, bomUTF16LE), bytes.HasPrefix(data, bomUTF16BE):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Bytes(data)
		if err != nil {
			return "", nil, apperr.Invalid(op, "file", "the file is not valid UTF-16 text: save it again as \"CSV UTF-8\"")
		}
		return "UTF-16", out, nil
	case utf8.Valid(data):
		return "UTF-8", data, nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", nil, apperr.Invalid(op, "file", "the file's text encoding is not recognised: save it again as \"CSV UTF-8\"")
	}
	return "Windows-1252", out, nil
}

var separatorNames = map[rune]string{';': "semicolon", ',': "comma", '\t': "tab"}

// sniff picks the separator that occurs most often, outside quotes, in the
// header line: Excel uses ';' where the decimal separator is ',' (Italy),
// ',' elsewhere, and tabs for "Unicode text". A one-column file has none;
// the comma is as good as any then.
func sniff(data []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, b := range data { // the separators and quotes are ASCII
		r := rune(b)
		if r == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if r == '\n' || r == '\r' {
			if counts[';']+counts[',']+counts['\t'] > 0 {
				break
			}
			continue // blank lines before the header
		}
		if _, ok := separatorNames[r]; ok {
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// csvError explains a CSV syntax error with its line.
func csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return apperr.Invalid(op, "file", "the file could not be read as CSV: %v", err)
	}
	what := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		what = `a quote (") inside a value that does not start with one; write it as "" inside a quoted value`
	case errors.Is(pe.Err, csv.ErrQuote):
		what = "a quoted value is not closed, or its closing quote is followed by other characters"
	}
	return apperr.Invalid(op, "file", "line %d: the file is not valid CSV: %s", pe.StartLine, what)
}

// add appends a record read at line: the header first, then the data rows.
// Blank records are skipped.
func (t *Table) add(line int, cells []string, pad bool) error {
	if blank(cells) {
		return nil
	}
	if t.Header == nil {
		t.Header = header(cells)
		return nil
	}
	if len(t.Rows) == MaxRows {
		return apperr.Invalid(op, "file", "the file has more than %d rows: split it into smaller files", MaxRows)
	}
	// Empty cells beyond the header are how spreadsheets end rows; they are
	// not data.
	for len(cells) > len(t.Header) && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	for pad && len(cells) < len(t.Header) {
		cells = append(cells, "")
	}
	t.Rows = append(t.Rows, Row{Line: line, Cells: cells})
	return nil
}

func (t *Table) done() (*Table, error) {
	if len(t.Header) == 0 {
		return nil, apperr.Invalid(op, "file", "the file is empty")
	}
	return t, nil
}

// header trims the header's cells (a stray byte order mark included) and
// drops the empty ones at the end, which Excel writes for formatted but
// empty columns.
func header(cells []string) []string {
	h := make([]string, len(cells))
	for i, c := range cells {
		h[i] = strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF"))
	}
	for len(h) > 0 && h[len(h)-1] == "" {
		h = h[:len(h)-1]
	}
	return h
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
