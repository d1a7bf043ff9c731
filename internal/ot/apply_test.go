package ot_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

func TestApply(t *testing.T) {
	cases := []struct {
		base string
		op   ot.Op
		want string
	}{
		{"", ot.Op{}, ""},
		{"", ot.Op{{Insert: "😀"}}, "😀"},
		{"abc", ot.Op{{Retain: 3}}, "abc"},
		{"abc", ot.Op{{Retain: 1}, {Insert: "X"}, {Delete: 1}, {Retain: 1}}, "aXc"},
		{"a😀b", ot.Op{{Retain: 1}, {Delete: 1}, {Retain: 1}}, "ab"},
		{"e\u0301x", ot.Op{{Retain: 1}, {Delete: 1}, {Retain: 1}}, "ex"},
		{"𝄞😀𝄞", ot.Op{{Delete: 1}, {Retain: 1}, {Insert: "é"}, {Delete: 1}}, "😀é"},
		{"abcdef", ot.Op{{Delete: 1}, {Retain: 2}, {Insert: "X"}, {Retain: 2}, {Delete: 1}}, "bcXde"},
		{"abc", ot.Op{{Delete: 3}, {Insert: "xyz"}}, "xyz"}, // not normalized: still fine
	}
	for _, c := range cases {
		got, err := ot.Apply(c.base, c.op)
		if err != nil || got != c.want {
			t.Errorf("Apply(%q, %s) = %q, %v; want %q", c.base, js(c.op), got, err, c.want)
		}
		r, err := ot.ApplyRunes([]rune(c.base), c.op)
		if err != nil || string(r) != c.want {
			t.Errorf("ApplyRunes(%q, %s) = %q, %v; want %q", c.base, js(c.op), string(r), err, c.want)
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	cases := []struct {
		base string
		op   ot.Op
		want error
		msg  string
	}{
		{"abc", ot.Op{{Retain: 2}}, ot.ErrBaseLength, "covers 2 code points but the text has 3"},
		{"abc", ot.Op{{Retain: 4}}, ot.ErrBaseLength, "covers 4 code points but the text has 3"},
		{"😀", ot.Op{{Retain: 4}}, ot.ErrBaseLength, "covers 4 code points but the text has 1"}, // 4 bytes, 1 code point
		{"abc", ot.Op{}, ot.ErrBaseLength, "covers 0 code points but the text has 3"},
		{"abc", ot.Op{{Retain: 0}, {Retain: 3}}, ot.ErrInvalid, "component 0"},
		{"abc", ot.Op{{Retain: 3}, {Insert: "\xff"}}, ot.ErrInvalidUTF, "not valid UTF-8"},
		{"a\xffc", ot.Op{{Retain: 3}}, ot.ErrInvalidUTF, "text is not valid UTF-8"},
	}
	for _, c := range cases {
		if _, err := ot.Apply(c.base, c.op); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Apply(%q, %#v) = %v, want %v with %q", c.base, c.op, err, c.want, c.msg)
		}
		if strings.Contains(c.msg, "text is not") {
			continue // ApplyRunes takes code points, there is no UTF-8 to check.
		}
		text := []rune(c.base)
		before := string(text)
		if _, err := ot.ApplyRunes(text, c.op); !errors.Is(err, c.want) {
			t.Errorf("ApplyRunes(%q, %#v) = %v, want %v", c.base, c.op, err, c.want)
		}
		if string(text) != before {
			t.Errorf("a refused ApplyRunes changed the text to %q", string(text))
		}
	}
}

// TestApplyRunesInPlace shows a single insert or delete reuses the backing
// array when it has room, instead of building a new text.
func TestApplyRunesInPlace(t *testing.T) {
	text := make([]rune, 0, 64)
	text = append(text, []rune("hello world")...)
	p := &text[:1][0]
	text, err := ot.ApplyRunes(text, ot.Op{{Retain: 5}, {Insert: ", 😀"}, {Retain: 6}})
	if err != nil || string(text) != "hello, 😀 world" || &text[0] != p {
		t.Fatalf("insert: %q, %v, same array %v", string(text), err, &text[0] == p)
	}
	text, err = ot.ApplyRunes(text, ot.Op{{Retain: 5}, {Delete: 3}, {Retain: 6}})
	if err != nil || string(text) != "hello world" || &text[0] != p {
		t.Fatalf("delete: %q, %v", string(text), err)
	}
	text, err = ot.ApplyRunes(text, ot.Op{{Retain: 6}, {Insert: "W"}, {Delete: 1}, {Retain: 4}})
	if err != nil || string(text) != "hello World" || &text[0] != p {
		t.Fatalf("replace: %q, %v", string(text), err)
	}
	text, err = ot.ApplyRunes(text, ot.Op{{Retain: 6}, {Insert: "big"}, {Delete: 5}})
	if err != nil || string(text) != "hello big" || &text[0] != p {
		t.Fatalf("shrinking replace: %q, %v", string(text), err)
	}
	text, err = ot.ApplyRunes(text, ot.Op{{Delete: 1}, {Retain: 5}, {Insert: "x"}, {Retain: 3}})
	if err != nil || string(text) != "ello xbig" {
		t.Fatalf("two places: %q, %v", string(text), err)
	}
}

const benchLen = 1_000_000

func benchText() []rune {
	text := make([]rune, benchLen, benchLen+benchLen/4)
	for i := range text {
		text[i] = rune('a' + i%26)
	}
	return text
}

// BenchmarkApplyRunesInsert1MB inserts one code point in the middle of a
// 1,000,000 code point text: a memmove of the tail.
func BenchmarkApplyRunesInsert1MB(b *testing.B) {
	text := benchText()
	for b.Loop() {
		if len(text) > benchLen+benchLen/8 {
			b.StopTimer()
			text = benchText()
			b.StartTimer()
		}
		mid := len(text) / 2
		var err error
		text, err = ot.ApplyRunes(text, ot.Op{{Retain: mid}, {Insert: "😀"}, {Retain: len(text) - mid}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyRunesDelete1MB deletes one code point in the middle of a
// 1,000,000 code point text.
func BenchmarkApplyRunesDelete1MB(b *testing.B) {
	text := benchText()
	for b.Loop() {
		if len(text) < benchLen-benchLen/8 {
			b.StopTimer()
			text = benchText()
			b.StartTimer()
		}
		mid := len(text) / 2
		var err error
		text, err = ot.ApplyRunes(text, ot.Op{{Retain: mid}, {Delete: 1}, {Retain: len(text) - mid - 1}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyRunesTwoPlaces1MB edits two places, which rebuilds the text.
func BenchmarkApplyRunesTwoPlaces1MB(b *testing.B) {
	text := benchText()
	for b.Loop() {
		var err error
		text, err = ot.ApplyRunes(text, ot.Op{{Delete: 1}, {Retain: benchLen / 2}, {Insert: "x"}, {Retain: benchLen/2 - 1}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyInsert1MB inserts one code point in the middle of a
// 1,000,000 code point string: Apply copies the whole string.
func BenchmarkApplyInsert1MB(b *testing.B) {
	s := string(benchText())
	op := ot.Op{{Retain: benchLen / 2}, {Insert: "😀"}, {Retain: benchLen / 2}}
	for b.Loop() {
		if _, err := ot.Apply(s, op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransform transforms a typical keystroke against another.
func BenchmarkTransform(b *testing.B) {
	a := ot.Op{{Retain: 400_000}, {Insert: "x"}, {Retain: 600_000}}
	c := ot.Op{{Retain: 700_000}, {Delete: 3}, {Retain: 299_997}}
	for b.Loop() {
		if _, _, err := ot.Transform(a, c); err != nil {
			b.Fatal(err)
		}
	}
}
