package sheet_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/sheet"
)

// FuzzRead: whatever bytes a person uploads, Read answers a table or a
// BAD_USER_INPUT error, never a panic or another kind of error, and what it
// returns is valid UTF-8 with rows in file order. The seeds are the test
// files; `go test -fuzz FuzzRead ./internal/sheet/` explores further.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("nome;tipo\n\"a;b\";\"c\nd\"\n"))
	f.Add([]byte("\xff\xfea\x00,\x00b\x00\n\x00"))
	f.Add([]byte("PK\x03\x04 not really a workbook"))
	// A real workbook, so that mutations reach the XLSX reader past the
	// zip signature.
	f.Add(fuzzWorkbook(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := sheet.Read(bytes.NewReader(data), "upload.csv")
		if err != nil {
			if !apperr.Is(err, apperr.BadInput) {
				t.Fatalf("error of kind %s: %v", apperr.KindOf(err), err)
			}
			return
		}
		last := 1
		for _, h := range tab.Header {
			if !utf8.ValidString(h) {
				t.Fatalf("header %q is not UTF-8", h)
			}
		}
		for _, r := range tab.Rows {
			if r.Line <= last {
				t.Fatalf("row at line %d after line %d", r.Line, last)
			}
			last = r.Line
			for _, c := range r.Cells {
				if !utf8.ValidString(c) {
					t.Fatalf("cell %q at line %d is not UTF-8", c, r.Line)
				}
			}
		}
	})
}

// fuzzWorkbook is a small valid XLSX: a header, two rows with text, a number
// and an empty cell, and a second sheet that Read ignores.
func fuzzWorkbook(f *testing.F) []byte {
	f.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	if err := wb.SetSheetName("Sheet1", "Organizzazioni"); err != nil {
		f.Fatal(err)
	}
	for ref, v := range map[string]any{"A1": "nome", "B1": "tipo", "C1": "territori",
		"A2": "Comune di Enna", "B2": "comune", "C2": "EN", "A3": "Città di Noto", "B3": 42} {
		if err := wb.SetCellValue("Organizzazioni", ref, v); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := wb.NewSheet("Note"); err != nil {
		f.Fatal(err)
	}
	buf, err := wb.WriteToBuffer()
	if err != nil {
		f.Fatal(err)
	}
	// The seed must be a table, or the fuzzer starts from a refusal.
	if _, err := sheet.Read(bytes.NewReader(buf.Bytes()), "upload.xlsx"); err != nil {
		f.Fatalf("the workbook seed is not read: %v", err)
	}
	return buf.Bytes()
}
