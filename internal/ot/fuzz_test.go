package ot_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/pia-sicilia/pia/internal/ot"
)

// The fuzz targets build texts and operations from the fuzzer's bytes with
// genText and genOp, which work out the expected text while generating, so
// Apply and Transform are checked against an independent answer.

func FuzzApply(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x05\x08\x09\x0a\x00\x01\x02\x01\x03\x02\x05"))
	f.Add([]byte("\x0c\x08\x09\x08\x09\x07\x01\x01\x02\x08\x06\x02\x03\x01\x04\x00\x01\x01\x01"))
	f.Add([]byte("\x03\x08\x09\x06\x01\x02\x08\x09\x02\x03\x01\x02\x07\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := bytesSource(data)
		base := genText(s, 16)
		g := genOp(s, base)
		checkApply(t, base, g)
		inv, err := ot.Invert(g.op, base)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustApply(t, g.want, inv); got != base {
			t.Fatalf("invert: %q, want %q", got, base)
		}
	})
}

func FuzzTransform(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x06\x00\x01\x02\x03\x04\x05\x01\x08\x00\x02\x09\x03\x00\x01\x08\x00"))
	f.Add([]byte("\x04\x08\x09\x07\x06\x01\x01\x0a\x02\x03\x01\x01\x01\x09\x02\x02\x00\x01\x07"))
	f.Add([]byte("\x02\x08\x08\x02\x01\x01\x02\x08\x00\x01\x01\x01\x08\x02\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := bytesSource(data)
		base := genText(s, 16)
		a := genOp(s, base)
		b := genOp(s, base)
		checkTransform(t, base, a, b)
		// Compose follows: a then b' is b then a'.
		a2, b2, err := ot.Transform(a.op, b.op)
		if err != nil {
			t.Fatal(err)
		}
		x, err := ot.Compose(a.op, b2)
		if err != nil {
			t.Fatal(err)
		}
		y, err := ot.Compose(b.op, a2)
		if err != nil {
			t.Fatal(err)
		}
		if mustApply(t, base, x) != mustApply(t, base, y) {
			t.Fatalf("compose(a, b') and compose(b, a') differ")
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`[]`, `[5,"abc",-2,10]`, `["😀\ud834\udd1e"]`, `["\ud800"]`, "[\"\xff\"]", `[1.5]`, `[0]`,
		`[""]`, `null`, `{"a":1}`, `[1e3]`, `[2147483648]`, `["e\u0301",-1]`, `[-1,"x"]`, `[]A`, `[1] `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := ot.Parse(data)
		ref, verdict := referenceParse(data)
		if err != nil {
			if !errors.Is(err, ot.ErrInvalid) {
				t.Fatalf("Parse(%q) = %v, not wrapping ErrInvalid", data, err)
			}
			if verdict == refValid {
				t.Fatalf("Parse(%q) = %v, but it is a valid operation %#v", data, err, ref)
			}
			return
		}
		switch verdict {
		case refInvalid:
			t.Fatalf("Parse(%q) = %#v, but the reference refuses it", data, op)
		case refValid:
			if !slices.Equal(op, ref) {
				t.Fatalf("Parse(%q) = %#v, reference %#v", data, op, ref)
			}
		}
		if !utf8.Valid(data) {
			t.Fatalf("Parse(%q) accepted invalid UTF-8", data)
		}
		if err := op.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(op, ot.Normalize(op)) {
			t.Fatalf("Parse(%q) = %#v, not normalized", data, op)
		}
		out, err := op.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ot.Parse(out)
		if err != nil || !slices.Equal(back, op) {
			t.Fatalf("round trip of %s: %#v, %v", out, back, err)
		}
		if out2, _ := back.MarshalJSON(); !bytes.Equal(out, out2) {
			t.Fatalf("MarshalJSON is not canonical: %s then %s", out, out2)
		}
	})
}

// What referenceParse says of an input.
const (
	refValid = iota
	refInvalid
	refUnsure // data holds bytes or escapes encoding/json would silently replace
)

// referenceParse decodes an operation with encoding/json alone. It is
// unsure about invalid UTF-8 and surrogate escapes, which encoding/json
// silently replaces with U+FFFD.
func referenceParse(data []byte) (ot.Op, int) {
	if !utf8.Valid(data) || bytes.Contains(bytes.ToLower(data), []byte(`\ud`)) {
		return nil, refUnsure
	}
	if op, ok := referenceDecode(data); ok {
		return op, refValid
	}
	return nil, refInvalid
}

func referenceDecode(data []byte) (ot.Op, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var items []any
	if err := dec.Decode(&items); err != nil || items == nil {
		return nil, false
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, false // trailing data
	}
	var op ot.Op
	for _, it := range items {
		switch v := it.(type) {
		case string:
			if v == "" {
				return nil, false
			}
			op = append(op, ot.Component{Insert: v})
		case json.Number:
			n, err := strconv.ParseInt(string(v), 10, 32)
			if err != nil || n == 0 || n == -1<<31 {
				return nil, false
			}
			if n > 0 {
				op = append(op, ot.Component{Retain: int(n)})
			} else {
				op = append(op, ot.Component{Delete: int(-n)})
			}
		default:
			return nil, false
		}
	}
	return ot.Normalize(op), true
}
