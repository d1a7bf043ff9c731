package sheet_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/sheet"
)

func readFile(t *testing.T, name string) (*sheet.Table, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sheet.Read(f, name)
}

func mustRead(t *testing.T, name string) *sheet.Table {
	t.Helper()
	tab, err := readFile(t, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return tab
}

// rows gives the table's rows as line → cells, for comparisons.
func rows(tab *sheet.Table) map[int][]string {
	out := map[int][]string{}
	for _, r := range tab.Rows {
		out[r.Line] = r.Cells
	}
	return out
}

func check(t *testing.T, tab *sheet.Table, format string, header []string, want map[int][]string) {
	t.Helper()
	if tab.Format != format {
		t.Errorf("format %q, want %q", tab.Format, format)
	}
	if !reflect.DeepEqual(tab.Header, header) {
		t.Errorf("header %q, want %q", tab.Header, header)
	}
	if got := rows(tab); !reflect.DeepEqual(got, want) {
		t.Errorf("rows (line → cells):\n got %#v\nwant %#v", got, want)
	}
}

func TestUTF8Comma(t *testing.T) {
	check(t, mustRead(t, "utf8_comma.csv"), "CSV (UTF-8, comma)",
		[]string{"nome", "tipo", "territori", "email"},
		map[int][]string{
			2: {"Comune di Enna", "comune", "EN", "protocollo@comune.enna.it"},
			3: {"Arci Siracusa", "associazione", "SR, CT", "info@arcisiracusa.it"},
		})
}

// Excel's "CSV UTF-8": a byte order mark, semicolons, CRLF, and a row of
// empty cells where a line was left blank.
func TestExcelSemicolonBOM(t *testing.T) {
	check(t, mustRead(t, "excel_semicolon_bom.csv"), "CSV (UTF-8, BOM, semicolon)",
		[]string{"nome", "tipo", "territori", "email"},
		map[int][]string{
			2: {"Comune di Enna", "comune", "EN", "protocollo@comune.enna.it"},
			4: {"Arci Siracusa", "associazione", "SR, CT", "info@arcisiracusa.it"},
		})
}

// An Italian Excel's plain "CSV" is Windows-1252: the accents must survive.
func TestWindows1252(t *testing.T) {
	check(t, mustRead(t, "windows1252.csv"), "CSV (Windows-1252, semicolon)",
		[]string{"nome", "tipo", "città"},
		map[int][]string{
			2: {"Società cooperativa Nova", "cooperativa sociale", "Città di Enna"},
			3: {"Associazione Penc", "associazione", "Palermo"},
		})
}

// Quoted values may hold separators, quotes and line breaks; each row keeps
// the line it starts on, so the row after a three-line value is line 5.
func TestQuotedValues(t *testing.T) {
	check(t, mustRead(t, "quoted.csv"), "CSV (UTF-8, comma)",
		[]string{"nome", "note", "email"},
		map[int][]string{
			2: {`Consorzio "Nova"`, "una, due\ntre righe\nfine", "a@b.it"},
			5: {"Secondo", "semplice", "c@d.it"},
			6: {"Terzo ; con punto e virgola", "", ""},
		})
}

func TestEmptyAndHeaderOnly(t *testing.T) {
	_, err := readFile(t, "empty.csv")
	if !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v, want BAD_USER_INPUT saying it is empty", err)
	}
	check(t, mustRead(t, "header_only.csv"), "CSV (UTF-8, semicolon)", []string{"nome", "tipo", "livello"}, map[int][]string{})
	for _, blank := range []string{"\n\n", "  \r\n", ";;;\r\n;;\r\n"} {
		if _, err := sheet.Read(strings.NewReader(blank), "x.csv"); !apperr.Is(err, apperr.BadInput) {
			t.Errorf("%q: %v, want BAD_USER_INPUT", blank, err)
		}
	}
}

// A tab-separated file, UTF-16 with a BOM: Excel's "Unicode text".
func TestUTF16Tab(t *testing.T) {
	text := "nome\ttipo\r\nCittà Aperta\tassociazione\r\n"
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, r := range text {
		b.Write([]byte{byte(r), byte(r >> 8)})
	}
	tab, err := sheet.Read(&b, "lista.txt")
	if err != nil {
		t.Fatal(err)
	}
	check(t, tab, "CSV (UTF-16, tab)", []string{"nome", "tipo"}, map[int][]string{2: {"Città Aperta", "associazione"}})
}

// Rows that do not match the header are kept as they are (the caller names
// them); empty cells past the header, as Excel writes them, are dropped.
func TestRaggedRows(t *testing.T) {
	tab, err := sheet.Read(strings.NewReader("a;b;c;;\r\n1;2\r\n1;2;3;4\r\n1;2;3;;\r\n"), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	check(t, tab, "CSV (UTF-8, semicolon)", []string{"a", "b", "c"},
		map[int][]string{2: {"1", "2"}, 3: {"1", "2", "3", "4"}, 4: {"1", "2", "3"}})
}

func TestMalformedCSV(t *testing.T) {
	_, err := sheet.Read(strings.NewReader("nome,tipo\nok,associazione\nCentro \"Penc\" x,associazione\n"), "x.csv")
	if !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bare quote: %v, want BAD_USER_INPUT naming line 3", err)
	}
	_, err = sheet.Read(strings.NewReader("nome,tipo\n\"not closed,associazione\n"), "x.csv")
	if !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("open quote: %v, want BAD_USER_INPUT naming line 2", err)
	}
}

// writeXLSX builds a workbook whose first sheet holds cells (by reference,
// such as "A1"), and a second sheet that must be ignored.
func writeXLSX(t *testing.T, cells map[string]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Organizzazioni"); err != nil {
		t.Fatal(err)
	}
	for ref, v := range cells {
		if err := f.SetCellValue("Organizzazioni", ref, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.NewSheet("Note"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Note", "A1", "not data"); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSX(t *testing.T) {
	data := writeXLSX(t, map[string]any{
		"A1": "Nome", "B1": "Tipo", "C1": "Partita IVA", "D1": "Territori",
		"A2": "Società cooperativa Nova", "B2": "cooperativa sociale", "C2": "01234567890", "D2": "EN",
		// row 3 left empty
		"A4": "Comune di Enna", "B4": "comune", // C4, D4 empty: padded
		"A5": "Numero", "B5": "associazione", "C5": 12345678901,
	})
	want := map[int][]string{
		2: {"Società cooperativa Nova", "cooperativa sociale", "01234567890", "EN"},
		4: {"Comune di Enna", "comune", "", ""},
		5: {"Numero", "associazione", "12345678901", ""},
	}
	header := []string{"Nome", "Tipo", "Partita IVA", "Territori"}
	// Recognised by content whatever the name, and by name.
	for _, name := range []string{"organizzazioni.xlsx", "upload", "lista.csv"} {
		tab, err := sheet.Read(bytes.NewReader(data), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check(t, tab, `XLSX (sheet "Organizzazioni", the first of 2)`, header, want)
	}
	// A file named .xlsx that is not one.
	if _, err := sheet.Read(strings.NewReader("nome\nx\n"), "lista.xlsx"); !apperr.Is(err, apperr.BadInput) {
		t.Errorf("text named .xlsx: %v, want BAD_USER_INPUT", err)
	}
	// An old .xls (an OLE compound file).
	xls := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...)
	if _, err := sheet.Read(bytes.NewReader(xls), "lista.xls"); !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), ".xlsx") {
		t.Errorf(".xls: %v, want BAD_USER_INPUT asking for .xlsx", err)
	}
}

func TestLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), sheet.MaxBytes+1)
	if _, err := sheet.Read(bytes.NewReader(big), "big.csv"); !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), "10 MiB") {
		t.Errorf("11 MiB file: %v, want BAD_USER_INPUT naming the limit", err)
	}
	var b strings.Builder
	b.WriteString("nome\n")
	for range sheet.MaxRows {
		b.WriteString("x\n")
	}
	if tab, err := sheet.Read(strings.NewReader(b.String()), "ok.csv"); err != nil || len(tab.Rows) != sheet.MaxRows {
		t.Fatalf("%d rows: %v", sheet.MaxRows, err)
	}
	b.WriteString("x\n")
	if _, err := sheet.Read(strings.NewReader(b.String()), "many.csv"); !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), "50000") {
		t.Errorf("%d rows: %v, want BAD_USER_INPUT naming the limit", sheet.MaxRows+1, err)
	}
}
