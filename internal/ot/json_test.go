package ot_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		in   string
		want ot.Op
		out  string // canonical JSON
	}{
		{`[]`, ot.Op{}, `[]`},
		{` [5, "abc", -2, 10] `, ot.Op{{Retain: 5}, {Insert: "abc"}, {Delete: 2}, {Retain: 10}}, `[5,"abc",-2,10]`},
		{`[1,2,"a","b",-1,-2]`, ot.Op{{Retain: 3}, {Insert: "ab"}, {Delete: 3}}, `[3,"ab",-3]`},
		{`[-2,"x",3]`, ot.Op{{Insert: "x"}, {Delete: 2}, {Retain: 3}}, `["x",-2,3]`},
		{`[-1,"x",-1,"y"]`, ot.Op{{Insert: "xy"}, {Delete: 2}}, `["xy",-2]`},
		{`["😀\ud834\udd1e"]`, ot.Op{{Insert: "😀𝄞"}}, `["😀𝄞"]`},
		{`["e\u0301"]`, ot.Op{{Insert: "e\u0301"}}, "[\"e\u0301\"]"},
		{`["\"\\\/\b\f\n\r\t\u0000"]`, ot.Op{{Insert: "\"\\/\b\f\n\r\t\x00"}}, `["\"\\/\u0008\u000c\n\r\t\u0000"]`},
		{`["<&>\u2028"]`, ot.Op{{Insert: "<&>\u2028"}}, `["<&>\u2028"]`},
		{`[2147483647]`, ot.Op{{Retain: 2147483647}}, `[2147483647]`},
		{`[-2147483647]`, ot.Op{{Delete: 2147483647}}, `[-2147483647]`},
	}
	for _, c := range cases {
		op, err := ot.Parse([]byte(c.in))
		if err != nil {
			t.Errorf("Parse(%s): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(op, c.want) {
			t.Errorf("Parse(%s) = %#v, want %#v", c.in, op, c.want)
		}
		// MarshalJSON's own bytes (json.Marshal would add HTML escapes).
		out, err := op.MarshalJSON()
		if err != nil || string(out) != c.out {
			t.Errorf("Marshal(Parse(%s)) = %s, %v; want %s", c.in, out, err, c.out)
		}
		var back ot.Op
		if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, op) {
			t.Errorf("round trip of %s = %#v, %v", out, back, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	cases := []struct {
		in   string
		utf8 bool // the error must also wrap ErrInvalidUTF
		msg  string
	}{
		{``, false, "empty input"},
		{`   `, false, "empty input"},
		{`null`, false, "not null"},
		{`{}`, false, "not an object"},
		{`"abc"`, false, "not a string"},
		{`5`, false, "not a number"},
		{`true`, false, "not a boolean"},
		{`[`, false, "not valid JSON"},
		{`[1,]`, false, "not valid JSON"},
		{`[1] [2]`, false, "not valid JSON"},
		{`[1.5]`, false, "not an integer"},
		{`[1.0]`, false, "not an integer"},
		{`[1e3]`, false, "not an integer"},
		{`[1e400]`, false, "not an integer"},
		{`[-2.5]`, false, "not an integer"},
		{`[2147483648]`, false, "beyond the largest count"},
		{`[-2147483648]`, false, "beyond the largest count"},
		{`[99999999999999999999999]`, false, "beyond the largest count"},
		{`[0]`, false, "is zero"},
		{`[-0]`, false, "is zero"},
		{`[1,0,2]`, false, "component 1 is zero"},
		{`[""]`, false, "empty string"},
		{`[1,""]`, false, "empty string"},
		{`[null]`, false, "null"},
		{`[true]`, false, "a boolean"},
		{`[{"i":"x"}]`, false, "an object"},
		{`[[1]]`, false, "an array"},
		{"[\"a\xffb\"]", true, "not valid UTF-8"},
		{"[\"\xc3\"]", true, "not valid UTF-8"},
		{"[\"\xed\xa0\x80\"]", true, "not valid UTF-8"}, // a surrogate encoded in UTF-8
		{`["\ud800"]`, true, "lone UTF-16 surrogate"},
		{`["\udc00x"]`, true, "lone UTF-16 surrogate"},
		{`["\ud800\u0041"]`, true, "lone UTF-16 surrogate"},
		{`["a\ud83d"]`, true, "lone UTF-16 surrogate"},
	}
	for _, c := range cases {
		op, err := ot.Parse([]byte(c.in))
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", c.in, op)
			continue
		}
		if !errors.Is(err, ot.ErrInvalid) {
			t.Errorf("Parse(%q) = %v, which does not wrap ErrInvalid", c.in, err)
		}
		if errors.Is(err, ot.ErrInvalidUTF) != c.utf8 {
			t.Errorf("Parse(%q) = %v: wraps ErrInvalidUTF = %v, want %v", c.in, err, !c.utf8, c.utf8)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%q) = %q, want a message with %q", c.in, err, c.msg)
		}
		if op != nil {
			t.Errorf("Parse(%q) returned an op with its error", c.in)
		}
		// UnmarshalJSON refuses the same way and leaves the target alone.
		target := ot.Op{{Retain: 7}}
		if err := target.UnmarshalJSON([]byte(c.in)); !errors.Is(err, ot.ErrInvalid) || len(target) != 1 || target[0].Retain != 7 {
			t.Errorf("UnmarshalJSON(%q) = %v, target %v", c.in, err, target)
		}
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	for _, op := range []ot.Op{
		{{Retain: 0}},
		{{Retain: -1}},
		{{Delete: -1}},
		{{Retain: 1, Insert: "x"}},
		{{Insert: "\xff"}},
	} {
		if _, err := op.MarshalJSON(); !errors.Is(err, ot.ErrInvalid) {
			t.Errorf("MarshalJSON(%#v) = %v, want ErrInvalid", op, err)
		}
	}
	if b, err := json.Marshal(ot.Op(nil)); err != nil || string(b) != "[]" {
		t.Errorf("Marshal(nil) = %s, %v", b, err)
	}
	// Marshal writes the normal form.
	if b, _ := json.Marshal(ot.Op{{Retain: 1}, {Retain: 1}, {Delete: 1}, {Insert: "x"}}); string(b) != `[2,"x",-1]` {
		t.Errorf("Marshal = %s", b)
	}
}

func TestValidateAndLengths(t *testing.T) {
	op := ot.Op{{Retain: 2}, {Insert: "😀e\u0301"}, {Delete: 3}, {Retain: 1}}
	if err := op.Validate(); err != nil {
		t.Fatal(err)
	}
	if op.BaseLen() != 6 || op.TargetLen() != 6 || op.InsertedRunes() != 3 || op.IsNoop() {
		t.Errorf("lengths: base %d target %d inserted %d noop %v", op.BaseLen(), op.TargetLen(), op.InsertedRunes(), op.IsNoop())
	}
	if !(ot.Op{{Retain: 4}}).IsNoop() || !(ot.Op{}).IsNoop() {
		t.Error("a retain-only op is a no-op")
	}
	err := ot.Op{{Insert: "a\xffb"}}.Validate()
	if !errors.Is(err, ot.ErrInvalidUTF) || !errors.Is(err, ot.ErrInvalid) {
		t.Errorf("Validate(bad UTF-8) = %v", err)
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want ot.Op }{
		{nil, nil},
		{ot.Op{{Retain: 0}, {Insert: ""}, {Delete: 0}}, ot.Op{}},
		{ot.Op{{Retain: 1}, {Retain: 2}}, ot.Op{{Retain: 3}}},
		{ot.Op{{Delete: 1}, {Insert: "a"}, {Delete: 1}, {Insert: "b"}, {Retain: 1}}, ot.Op{{Insert: "ab"}, {Delete: 2}, {Retain: 1}}},
		{ot.Op{{Retain: 1}, {Insert: "a"}, {Delete: 1}, {Retain: 2}}, ot.Op{{Retain: 1}, {Insert: "a"}, {Delete: 1}, {Retain: 2}}},
	}
	for _, c := range cases {
		in := append(ot.Op(nil), c.in...)
		got := ot.Normalize(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Normalize(%#v) = %#v, want %#v", c.in, got, c.want)
		}
		if !reflect.DeepEqual(in, c.in) {
			t.Errorf("Normalize modified its argument")
		}
	}
}

// TestParseManyPieces parses an operation of many small inserts and
// deletes, which Parse glues together (in linear time).
func TestParseManyPieces(t *testing.T) {
	const n = 100_000
	var b strings.Builder
	b.WriteString("[3")
	for range n {
		b.WriteString(`,"😀",-1`)
	}
	b.WriteString(",2]")
	op, err := ot.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(op) != 4 || op[1].Insert != strings.Repeat("😀", n) || op[2].Delete != n || op.BaseLen() != n+5 {
		t.Fatalf("Parse gave %d components, base length %d", len(op), op.BaseLen())
	}
}

func BenchmarkParseManyPieces(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 100_000 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`"ab"`)
	}
	sb.WriteString("]")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ot.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
