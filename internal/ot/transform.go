package ot

// Transform takes a and b, concurrent operations on the same base text, and
// returns a2 and b2 such that apply(apply(s, a), b2) == apply(apply(s, b), a2).
// Tie-break: when both insert at the same position, a's insert goes first
// (to the left). The server calls Transform(committed, incoming), so text
// already committed stays left of a concurrent insert at the same place.
//
// Text one side inserts inside a range the other deletes survives. It
// returns an error wrapping ErrInvalid for an invalid operation and
// ErrIncompat when a and b have different base lengths. a2 and b2 are
// normalized.
func Transform(a, b Op) (a2, b2 Op, err error) {
	if err := a.Validate(); err != nil {
		return nil, nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, nil, err
	}
	if la, lb := a.BaseLen(), b.BaseLen(); la != lb {
		return nil, nil, errIncompat("the first covers %d code points, the second %d", la, lb)
	}
	ra, rb := newBuilder(len(a)+len(b)), newBuilder(len(a)+len(b))
	ia, ib := newCursor(a), newCursor(b)
	for ia.k != kNone || ib.k != kNone {
		if ia.k == kInsert {
			n := ia.n
			ra.insert(ia.take(-1).Insert)
			rb.retain(n)
			continue
		}
		if ib.k == kInsert {
			n := ib.n
			ra.retain(n)
			rb.insert(ib.take(-1).Insert)
			continue
		}
		if ia.k == kNone || ib.k == kNone {
			return nil, nil, errIncompat("the operations end at different places")
		}
		n := min(ia.n, ib.n)
		ka, kb := ia.k, ib.k
		ia.take(n)
		ib.take(n)
		switch {
		case ka == kRetain && kb == kRetain:
			ra.retain(n)
			rb.retain(n)
		case ka == kDelete && kb == kRetain:
			ra.delete(n)
		case ka == kRetain && kb == kDelete:
			rb.delete(n)
		}
		// Both delete: the text is gone on both sides.
	}
	return ra.done(), rb.done(), nil
}
