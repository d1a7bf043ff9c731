package ot_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

// The invariants below run over random operations from fixed seeds, so a
// failure is reproducible.

const propertyRounds = 3000

func TestPropertyApply(t *testing.T) {
	s := randSource(1)
	for range propertyRounds {
		base := genText(s, 12)
		g := genOp(s, base)
		checkApply(t, base, g)
	}
}

func TestPropertyTransform(t *testing.T) {
	s := randSource(2)
	for range propertyRounds {
		base := genText(s, 12)
		a, b := genOp(s, base), genOp(s, base)
		checkTransform(t, base, a, b)
	}
}

func TestPropertyCompose(t *testing.T) {
	s := randSource(3)
	for range propertyRounds {
		base := genText(s, 12)
		a := genOp(s, base)
		b := genOp(s, a.want)
		c, err := ot.Compose(a.op, b.op)
		if err != nil {
			t.Fatalf("Compose(%s, %s): %v", js(a.op), js(b.op), err)
		}
		if got := mustApply(t, base, c); got != b.want {
			t.Fatalf("apply(%q, compose(%s, %s)=%s) = %q, want %q", base, js(a.op), js(b.op), js(c), got, b.want)
		}
		if !slices.Equal(c, ot.Normalize(c)) {
			t.Fatalf("Compose returned %#v, not normalized", c)
		}
		// Compose and Transform commute: transforming the composition is
		// transforming each part in turn.
		x := genOp(s, base)
		cx, xc, err := ot.Transform(c, x.op)
		if err != nil {
			t.Fatal(err)
		}
		if mustApply(t, b.want, xc) != mustApply(t, x.want, cx) {
			t.Fatalf("transform against a composition diverges")
		}
	}
}

func TestPropertyInvert(t *testing.T) {
	s := randSource(4)
	for range propertyRounds {
		base := genText(s, 12)
		g := genOp(s, base)
		inv, err := ot.Invert(g.op, base)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustApply(t, g.want, inv); got != base {
			t.Fatalf("apply(apply(%q, %s), invert=%s) = %q", base, js(g.op), js(inv), got)
		}
		// An op composed with its inverse gives back the base text.
		c, err := ot.Compose(g.op, inv)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustApply(t, base, c); got != base {
			t.Fatalf("apply(%q, compose(op, invert(op))=%s) = %q", base, js(c), got)
		}
	}
}

func TestPropertyDiff(t *testing.T) {
	s := randSource(5)
	for range propertyRounds {
		a, b := genText(s, 10), genText(s, 10)
		op := ot.Diff(a, b)
		if got := mustApply(t, a, op); got != b {
			t.Fatalf("apply(%q, Diff(%q, %q)=%s) = %q", a, a, b, js(op), got)
		}
		g := genOp(s, a)
		if got := mustApply(t, a, ot.Diff(a, g.want)); got != g.want {
			t.Fatalf("Diff of an edit: %q", got)
		}
	}
}

// checkApply checks one generated operation: Apply and ApplyRunes produce
// the generator's text, normalization and JSON keep its meaning, and every
// base position follows its code point (TransformPosition agrees with Apply).
func checkApply(t *testing.T, base string, g generated) {
	t.Helper()
	got, err := ot.Apply(base, g.op)
	if err != nil || got != g.want {
		t.Fatalf("Apply(%q, %s) = %q, %v; want %q", base, js(g.op), got, err, g.want)
	}
	r, err := ot.ApplyRunes([]rune(base), g.op)
	if err != nil || string(r) != g.want {
		t.Fatalf("ApplyRunes(%q, %s) = %q, %v; want %q", base, js(g.op), string(r), err, g.want)
	}
	n := ot.Normalize(g.op)
	if got := mustApply(t, base, n); got != g.want {
		t.Fatalf("Apply(Normalize) = %q, want %q", got, g.want)
	}
	if g.op.BaseLen() != runeLen(base) || g.op.TargetLen() != runeLen(g.want) {
		t.Fatalf("lengths of %s: %d -> %d", js(g.op), g.op.BaseLen(), g.op.TargetLen())
	}
	data, err := json.Marshal(g.op)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ot.Parse(data)
	if err != nil || !slices.Equal(back, n) {
		t.Fatalf("Parse(Marshal(%#v)) = %#v, %v; want %#v", g.op, back, err, n)
	}
	m := modelOf(g.op, runeLen(base))
	for i := range g.newIdx {
		if g.newIdx[i] >= 0 {
			if p := ot.TransformPosition(i, g.op, true); p != g.newIdx[i] {
				t.Fatalf("TransformPosition(%d, %s, true) = %d, but the code point is at %d in %q", i, js(g.op), p, g.newIdx[i], g.want)
			}
			want := g.newIdx[i] - runeLen(m.gaps[i])
			if p := ot.TransformPosition(i, g.op, false); p != want {
				t.Fatalf("TransformPosition(%d, %s, false) = %d, want %d", i, js(g.op), p, want)
			}
		} else if want := g.delAt[i] - runeLen(m.gaps[i]); ot.TransformPosition(i, g.op, false) != want {
			// Deleted: it lands where the deletion was, before text inserted
			// at its own place.
			t.Fatalf("TransformPosition(%d, %#v, false) of a deleted code point = %d, want %d", i, g.op, ot.TransformPosition(i, g.op, false), want)
		}
	}
	// The end of the text moves to the end of the new text.
	if p := ot.TransformPosition(runeLen(base), g.op, true); p != runeLen(g.want) {
		t.Fatalf("end moves to %d, want %d", p, runeLen(g.want))
	}
	// Ranges keep their surviving code points and collapse when none is left.
	size := len(g.newIdx)
	for s := 0; s < size; s++ {
		for e := s + 1; e <= min(size, s+8); e++ {
			checkRange(t, g, s, e)
		}
		if s+8 < size {
			checkRange(t, g, s, size)
		}
	}
}

func checkRange(t *testing.T, g generated, s, e int) {
	t.Helper()
	out, collapsed := ot.TransformRange(ot.Range{Start: s, End: e}, g.op)
	kept := 0
	for i := s; i < e; i++ {
		if j := g.newIdx[i]; j >= 0 {
			kept++
			if j < out.Start || j >= out.End {
				t.Fatalf("TransformRange([%d,%d), %s) = %v leaves out code point %d (now %d)", s, e, js(g.op), out, i, j)
			}
		}
	}
	for i, j := range g.newIdx {
		if (i < s || i >= e) && j >= 0 && j >= out.Start && j < out.End {
			t.Fatalf("TransformRange([%d,%d), %s) = %v takes in code point %d (now %d)", s, e, js(g.op), out, i, j)
		}
	}
	if collapsed != (kept == 0) {
		t.Fatalf("TransformRange([%d,%d), %s) collapsed = %v with %d code points kept", s, e, js(g.op), collapsed, kept)
	}
	if collapsed && out.Start != out.End {
		t.Fatalf("a collapsed range is not empty: %v", out)
	}
	if g.newIdx[s] >= 0 && out.Start != g.newIdx[s] {
		t.Fatalf("TransformRange([%d,%d), %s).Start = %d, want %d (text inserted at the start stays out)", s, e, js(g.op), out.Start, g.newIdx[s])
	}
	if g.newIdx[e-1] >= 0 && out.End != g.newIdx[e-1]+1 {
		t.Fatalf("TransformRange([%d,%d), %s).End = %d, want %d (text inserted at the end stays out)", s, e, js(g.op), out.End, g.newIdx[e-1]+1)
	}
}

// checkTransform checks Transform on a and b as generated and normalized:
// both orders reach the text the model predicts.
func checkTransform(t *testing.T, base string, a, b generated) {
	t.Helper()
	if got := mustApply(t, base, a.op); got != a.want {
		t.Fatalf("generator: Apply(%q, %s) = %q, want %q", base, js(a.op), got, a.want)
	}
	if got := mustApply(t, base, b.op); got != b.want {
		t.Fatalf("generator: Apply(%q, %s) = %q, want %q", base, js(b.op), got, b.want)
	}
	for _, norm := range []bool{false, true} {
		x, y := a.op, b.op
		if norm {
			x, y = ot.Normalize(x), ot.Normalize(y)
		}
		want := merge(base, x, y)
		x2, y2, err := ot.Transform(x, y)
		if err != nil {
			t.Fatalf("Transform(%#v, %#v): %v", x, y, err)
		}
		if got := mustApply(t, a.want, y2); got != want {
			t.Fatalf("base %q a=%s b=%s: apply(apply(s,a), b'=%s) = %q, want %q", base, js(x), js(y), js(y2), got, want)
		}
		if got := mustApply(t, b.want, x2); got != want {
			t.Fatalf("base %q a=%s b=%s: apply(apply(s,b), a'=%s) = %q, want %q", base, js(x), js(y), js(x2), got, want)
		}
		if !slices.Equal(x2, ot.Normalize(x2)) || !slices.Equal(y2, ot.Normalize(y2)) {
			t.Fatalf("Transform results not normalized: %#v %#v", x2, y2)
		}
		// The runes path converges too.
		r, err := ot.ApplyRunes([]rune(a.want), y2)
		if err != nil || string(r) != want {
			t.Fatalf("ApplyRunes path = %q, %v; want %q", string(r), err, want)
		}
	}
}
