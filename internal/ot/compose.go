package ot

import "unicode/utf8"

// Compose returns one operation equivalent to a followed by b.
//
// It returns an error wrapping ErrInvalid for an invalid operation and
// ErrIncompat when b's base length is not a's target length. The result is
// normalized.
func Compose(a, b Op) (Op, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if ta, lb := a.TargetLen(), b.BaseLen(); ta != lb {
		return nil, errIncompat("the first produces %d code points, the second covers %d", ta, lb)
	}
	out := newBuilder(len(a) + len(b))
	ia, ib := newCursor(a), newCursor(b)
	for ia.k != kNone || ib.k != kNone {
		if ia.k == kDelete {
			out.delete(ia.take(-1).Delete)
			continue
		}
		if ib.k == kInsert {
			out.insert(ib.take(-1).Insert)
			continue
		}
		if ia.k == kNone || ib.k == kNone {
			return nil, errIncompat("the operations end at different places")
		}
		n := min(ia.n, ib.n)
		ka, kb := ia.k, ib.k
		ca := ia.take(n)
		ib.take(n)
		switch {
		case ka == kRetain && kb == kRetain:
			out.retain(n)
		case ka == kRetain && kb == kDelete:
			out.delete(n)
		case ka == kInsert && kb == kRetain:
			out.insert(ca.Insert)
		}
		// Insert then delete: the text never existed.
	}
	return out.done(), nil
}

// Invert returns the operation that undoes op, given the text op applied to.
//
// Errors are those of Apply. The result is normalized.
func Invert(op Op, base string) (Op, error) {
	if err := op.Validate(); err != nil {
		return nil, err
	}
	if !utf8.ValidString(base) {
		return nil, errUTF("the text is not valid UTF-8")
	}
	if bl, n := op.BaseLen(), utf8.RuneCountInString(base); bl != n {
		return nil, errBaseLength(bl, n)
	}
	out := newBuilder(len(op))
	pos := 0
	for _, c := range op {
		switch {
		case c.Retain > 0:
			out.retain(c.Retain)
			pos += runeOffset(base[pos:], c.Retain)
		case c.Delete > 0:
			off := pos + runeOffset(base[pos:], c.Delete)
			out.insert(base[pos:off])
			pos = off
		default:
			out.delete(utf8.RuneCountInString(c.Insert))
		}
	}
	return out.done(), nil
}
