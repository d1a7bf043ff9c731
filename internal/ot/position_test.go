package ot_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

func TestTransformPosition(t *testing.T) {
	ins := ot.Op{{Retain: 2}, {Insert: "😀e\u0301"}, {Retain: 3}} // 3 code points at 2
	del := ot.Op{{Retain: 1}, {Delete: 2}, {Retain: 2}}          // deletes [1,3)
	cases := []struct {
		pos   int
		op    ot.Op
		right bool
		want  int
	}{
		{0, ins, false, 0},
		{1, ins, true, 1},
		{2, ins, false, 2}, // insert at pos: stays
		{2, ins, true, 5},  // insert at pos: pushed
		{3, ins, false, 6},
		{5, ins, false, 8},
		{0, del, true, 0},
		{1, del, true, 1},
		{2, del, true, 1}, // inside the deletion: its start
		{3, del, true, 1},
		{4, del, true, 2},
		{5, del, true, 3},
	}
	for _, c := range cases {
		if got := ot.TransformPosition(c.pos, c.op, c.right); got != c.want {
			t.Errorf("TransformPosition(%d, %s, %v) = %d, want %d", c.pos, js(c.op), c.right, got, c.want)
		}
	}
}

func TestTransformRange(t *testing.T) {
	// Base "abcdefgh"; the range is [2,5) "cde".
	r := ot.Range{Start: 2, End: 5}
	cases := []struct {
		name      string
		op        ot.Op
		want      ot.Range
		collapsed bool
	}{
		{"insert before", ot.Op{{Retain: 1}, {Insert: "XY"}, {Retain: 7}}, ot.Range{4, 7}, false},
		{"insert at the start stays outside", ot.Op{{Retain: 2}, {Insert: "XY"}, {Retain: 6}}, ot.Range{4, 7}, false},
		{"insert inside widens", ot.Op{{Retain: 3}, {Insert: "😀"}, {Retain: 5}}, ot.Range{2, 6}, false},
		{"insert at the end stays outside", ot.Op{{Retain: 5}, {Insert: "XY"}, {Retain: 3}}, ot.Range{2, 5}, false},
		{"insert after", ot.Op{{Retain: 6}, {Insert: "XY"}, {Retain: 2}}, ot.Range{2, 5}, false},
		{"delete before", ot.Op{{Delete: 2}, {Retain: 6}}, ot.Range{0, 3}, false},
		{"delete overlapping the start", ot.Op{{Retain: 1}, {Delete: 2}, {Retain: 5}}, ot.Range{1, 3}, false},
		{"delete inside", ot.Op{{Retain: 3}, {Delete: 1}, {Retain: 4}}, ot.Range{2, 4}, false},
		{"delete overlapping the end", ot.Op{{Retain: 4}, {Delete: 3}, {Retain: 1}}, ot.Range{2, 4}, false},
		{"delete exactly the range", ot.Op{{Retain: 2}, {Delete: 3}, {Retain: 3}}, ot.Range{2, 2}, true},
		{"delete around the range", ot.Op{{Retain: 1}, {Delete: 6}, {Retain: 1}}, ot.Range{1, 1}, true},
		// Z replaces c, the range's first code point: once c is gone it sits at
		// the range's start, so it stays outside (as in the normal form).
		{"replace the first, delete the last", ot.Op{{Retain: 2}, {Delete: 1}, {Insert: "Z"}, {Retain: 1}, {Delete: 1}, {Retain: 3}}, ot.Range{3, 4}, false},
		{"replace the range", ot.Op{{Retain: 2}, {Insert: "new"}, {Delete: 3}, {Retain: 3}}, ot.Range{5, 5}, true},
		{"delete everything", ot.Op{{Delete: 8}}, ot.Range{0, 0}, true},
		{"no-op", ot.Op{{Retain: 8}}, ot.Range{2, 5}, false},
	}
	for _, c := range cases {
		got, collapsed := ot.TransformRange(r, c.op)
		if got != c.want || collapsed != c.collapsed {
			t.Errorf("%s: TransformRange(%v, %s) = %v, %v; want %v, %v", c.name, r, js(c.op), got, collapsed, c.want, c.collapsed)
		}
	}
	// A caret: text inserted at it goes after it; it never collapses.
	caret := ot.Range{Start: 2, End: 2}
	if got, collapsed := ot.TransformRange(caret, ot.Op{{Retain: 2}, {Insert: "X"}, {Retain: 6}}); got != caret || collapsed {
		t.Errorf("caret with an insert at it = %v, %v", got, collapsed)
	}
	if got, collapsed := ot.TransformRange(caret, ot.Op{{Retain: 1}, {Delete: 3}, {Retain: 4}}); got != (ot.Range{1, 1}) || collapsed {
		t.Errorf("caret in a deletion = %v, %v", got, collapsed)
	}
}

func TestTransformRefuses(t *testing.T) {
	_, _, err := ot.Transform(ot.Op{{Retain: 3}}, ot.Op{{Retain: 4}})
	if !errors.Is(err, ot.ErrIncompat) {
		t.Errorf("Transform on different bases = %v", err)
	}
	_, _, err = ot.Transform(ot.Op{{Retain: 0}}, ot.Op{})
	if !errors.Is(err, ot.ErrInvalid) {
		t.Errorf("Transform of an invalid op = %v", err)
	}
	if _, err := ot.Compose(ot.Op{{Retain: 3}, {Insert: "x"}}, ot.Op{{Retain: 3}}); !errors.Is(err, ot.ErrIncompat) {
		t.Errorf("Compose on mismatched lengths = %v", err)
	}
	if _, err := ot.Invert(ot.Op{{Retain: 3}}, "ab"); !errors.Is(err, ot.ErrBaseLength) {
		t.Errorf("Invert on the wrong text = %v", err)
	}
}

func TestComposeInvert(t *testing.T) {
	a := ot.Op{{Retain: 1}, {Insert: "😀😀"}, {Retain: 2}}             // "abc" -> "a😀😀bc"
	b := ot.Op{{Retain: 2}, {Delete: 2}, {Insert: "𝄞"}, {Retain: 1}} // -> "a😀𝄞c"
	c, err := ot.Compose(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ot.Op{{Retain: 1}, {Insert: "😀𝄞"}, {Delete: 1}, {Retain: 1}}); !slices.Equal(c, want) {
		t.Errorf("Compose = %s, want %s", js(c), js(want))
	}
	inv, err := ot.Invert(c, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ot.Op{{Retain: 1}, {Insert: "b"}, {Delete: 2}, {Retain: 1}}); !slices.Equal(inv, want) {
		t.Errorf("Invert = %s, want %s", js(inv), js(want))
	}
}

func TestDiffAndFromEdits(t *testing.T) {
	cases := []struct {
		a, b string
		want ot.Op
	}{
		{"", "", ot.Op{}},
		{"abc", "abc", ot.Op{{Retain: 3}}},
		{"", "😀", ot.Op{{Insert: "😀"}}},
		{"abc", "", ot.Op{{Delete: 3}}},
		{"a😀c", "a𝄞c", ot.Op{{Retain: 1}, {Insert: "𝄞"}, {Delete: 1}, {Retain: 1}}},
		{"aa", "aaa", ot.Op{{Retain: 2}, {Insert: "a"}}},
		{"e\u0301", "e\u0300", ot.Op{{Retain: 1}, {Insert: "\u0300"}, {Delete: 1}}},
		// Same first byte, different code points: no split inside a character.
		{"é", "è", ot.Op{{Insert: "è"}, {Delete: 1}}},
	}
	for _, c := range cases {
		got := ot.Diff(c.a, c.b)
		if !slices.Equal(got, c.want) {
			t.Errorf("Diff(%q, %q) = %s, want %s", c.a, c.b, js(got), js(c.want))
		}
		if s := mustApply(t, c.a, got); s != c.b {
			t.Errorf("apply(Diff(%q, %q)) = %q", c.a, c.b, s)
		}
	}
	op := ot.FromEdits([]ot.Edit{
		{Kind: ot.Equal, Text: "he😀"},
		{Kind: ot.Delete, Text: "llo"},
		{Kind: ot.Insert, Text: "y"},
		{Kind: ot.Insert, Text: ""},
		{Kind: ot.Equal, Text: " w"},
	})
	if want := (ot.Op{{Retain: 3}, {Insert: "y"}, {Delete: 3}, {Retain: 2}}); !slices.Equal(op, want) {
		t.Errorf("FromEdits = %s, want %s", js(op), js(want))
	}
}
