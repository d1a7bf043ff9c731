package ot

import "unicode/utf8"

// Diff returns the operation that turns text a into text b, built from the
// given common-prefix/suffix and middle, in code points. (For large texts,
// package coedit uses a diff library and FromEdits.)
//
// The result is normalized: [prefix, inserted middle, -deleted middle,
// suffix]. Invalid UTF-8 in a or b counts one code point per bad byte, as
// utf8.RuneCountInString does.
func Diff(a, b string) Op {
	// Common prefix, on whole code points.
	p := 0
	for p < len(a) && p < len(b) {
		_, sa := utf8.DecodeRuneInString(a[p:])
		_, sb := utf8.DecodeRuneInString(b[p:])
		if sa != sb || a[p:p+sa] != b[p:p+sb] {
			break
		}
		p += sa
	}
	// Common suffix, on whole code points, not overlapping the prefix.
	ea, eb := len(a), len(b)
	for ea > p && eb > p {
		_, sa := utf8.DecodeLastRuneInString(a[p:ea])
		_, sb := utf8.DecodeLastRuneInString(b[p:eb])
		if sa != sb || a[ea-sa:ea] != b[eb-sb:eb] {
			break
		}
		ea -= sa
		eb -= sb
	}
	out := newBuilder(4)
	out.retain(utf8.RuneCountInString(a[:p]))
	out.insert(b[p:eb])
	out.delete(utf8.RuneCountInString(a[p:ea]))
	out.retain(utf8.RuneCountInString(a[ea:]))
	return out.done()
}

// Edit is one piece of a diff: Equal, Insert or Delete of Text.
type Edit struct {
	Kind EditKind
	Text string
}

// EditKind says what an Edit does.
type EditKind int

// The kinds of Edit.
const (
	Equal EditKind = iota
	Insert
	Delete
)

// FromEdits turns a diff (a sequence of Equal/Insert/Delete texts, as a
// diff library produces) into an operation. The result is normalized;
// edits of an unknown kind are skipped.
func FromEdits(edits []Edit) Op {
	out := newBuilder(len(edits))
	for _, e := range edits {
		switch e.Kind {
		case Equal:
			out.retain(utf8.RuneCountInString(e.Text))
		case Insert:
			out.insert(e.Text)
		case Delete:
			out.delete(utf8.RuneCountInString(e.Text))
		}
	}
	return out.done()
}
