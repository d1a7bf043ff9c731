package sheet_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

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
