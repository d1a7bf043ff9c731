package ot

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Apply applies op to s.
//
// It returns an error wrapping ErrInvalid for an invalid op, ErrInvalidUTF
// when s is not valid UTF-8 and ErrBaseLength when op does not cover
// exactly the code points of s.
func Apply(s string, op Op) (string, error) {
	if err := op.Validate(); err != nil {
		return "", err
	}
	if !utf8.ValidString(s) {
		return "", errUTF("the text is not valid UTF-8")
	}
	if bl, n := op.BaseLen(), utf8.RuneCountInString(s); bl != n {
		return "", errBaseLength(bl, n)
	}
	size := len(s)
	for _, c := range op {
		size += len(c.Insert)
	}
	var b strings.Builder
	b.Grow(size)
	pos := 0
	for _, c := range op {
		switch {
		case c.Retain > 0:
			off := pos + runeOffset(s[pos:], c.Retain)
			b.WriteString(s[pos:off])
			pos = off
		case c.Delete > 0:
			pos += runeOffset(s[pos:], c.Delete)
		default:
			b.WriteString(c.Insert)
		}
	}
	return b.String(), nil
}

// ApplyRunes applies op to text, a slice of code points. It may reuse text's
// backing array (a single insert or delete is done in place, so the cost is a
// memmove, not a rebuild): the caller must use only the returned slice.
//
// An op whose inserts and deletes all sit at one place (retain, inserts and
// deletes, retain) is applied in place; others build a new slice. Errors
// are those of Apply.
func ApplyRunes(text []rune, op Op) ([]rune, error) {
	if err := op.Validate(); err != nil {
		return nil, err
	}
	if bl := op.BaseLen(); bl != len(text) {
		return nil, errBaseLength(bl, len(text))
	}
	// Find the one place the op edits, if there is only one.
	const (
		before = iota
		inside
		after
		many
	)
	state, at, first, last, ins, del := before, 0, 0, 0, 0, 0
	for i, c := range op {
		if c.Retain > 0 {
			if state == before {
				at += c.Retain
			} else if state == inside {
				state = after
			}
			continue
		}
		switch state {
		case before:
			state, first = inside, i
		case after:
			state = many
		}
		if state == many {
			break
		}
		last = i
		ins += utf8.RuneCountInString(c.Insert)
		del += c.Delete
	}
	switch state {
	case before:
		return text, nil
	case inside, after:
		return replaceRunes(text, at, del, op[first:last+1], ins), nil
	}
	out := make([]rune, 0, op.TargetLen())
	pos := 0
	for _, c := range op {
		switch {
		case c.Retain > 0:
			out = append(out, text[pos:pos+c.Retain]...)
			pos += c.Retain
		case c.Delete > 0:
			pos += c.Delete
		default:
			for _, r := range c.Insert {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// replaceRunes replaces text[at:at+del] with the inserts of site (whose
// total length is ins code points), moving the tail once.
func replaceRunes(text []rune, at, del int, site Op, ins int) []rune {
	old := len(text)
	if ins > del {
		text = slices.Grow(text, ins-del)[:old+ins-del]
		copy(text[at+ins:], text[at+del:old])
	} else if ins < del {
		copy(text[at+ins:], text[at+del:])
		clear(text[old-(del-ins):])
		text = text[:old-(del-ins)]
	}
	j := at
	for _, c := range site {
		for _, r := range c.Insert {
			text[j] = r
			j++
		}
	}
	return text
}
