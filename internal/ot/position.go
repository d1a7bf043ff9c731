package ot

import "unicode/utf8"

// Range is a span [Start, End) of code points (a selection, a comment's
// anchor). Start == End is a caret.
type Range struct{ Start, End int }

// TransformPosition moves a position (a cursor, a comment anchor) through op.
// An insert exactly at pos pushes pos right when stickRight, and leaves it
// otherwise. A position inside a deleted range moves to the deletion's start.
//
// A position past the end of op's base text is treated as if the text
// went on: it moves by op's total change in length. op should be
// normalized (as Parse and Transform return it).
func TransformPosition(pos int, op Op, stickRight bool) int {
	res := pos
	i := 0 // index in the base text
	for _, c := range op {
		if i > pos {
			break
		}
		switch {
		case c.Retain > 0:
			i += c.Retain
		case c.Delete > 0:
			end := i + c.Delete
			if end <= pos {
				res -= c.Delete
			} else {
				// pos is deleted: it lands at the deletion's start, which in
				// the base text is now the same place as end.
				res -= pos - i
				pos = end
			}
			i = end
		case c.Insert != "":
			if i < pos || (i == pos && stickRight) {
				res += utf8.RuneCountInString(c.Insert)
			}
		}
	}
	return res
}

// TransformRange moves r through op: text inserted at its edges stays
// outside it, text inserted inside widens it. It reports collapsed when r
// was not empty and all of its text was deleted; the range is then empty,
// at the place of the deletion.
//
// An empty range (a caret) moves like TransformPosition(r.Start, op, false):
// text inserted at it goes after it. op should be normalized.
func TransformRange(r Range, op Op) (out Range, collapsed bool) {
	if r.End <= r.Start {
		p := TransformPosition(r.Start, op, false)
		return Range{p, p}, false
	}
	out.Start = TransformPosition(r.Start, op, true)
	out.End = TransformPosition(r.End, op, false)
	// Count how much of r op deletes.
	deleted, i := 0, 0
	for _, c := range op {
		if i >= r.End {
			break
		}
		switch {
		case c.Retain > 0:
			i += c.Retain
		case c.Delete > 0:
			end := i + c.Delete
			deleted += max(0, min(end, r.End)-max(i, r.Start))
			i = end
		}
	}
	if deleted == r.End-r.Start {
		p := min(out.Start, out.End)
		return Range{p, p}, true
	}
	if out.Start > out.End {
		out.Start = out.End
	}
	return out, false
}
