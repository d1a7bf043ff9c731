package relay

import (
	"slices"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// PageOfSlice is one page of items, which are in ascending id order, as
// Paginate makes from a query: first/after forward, last/before
// backward, the same limits and refusals, cursors of Cursor, and the
// total count of items.
func PageOfSlice[T any](items []T, args PageArgs, id func(T) int64) (*Page[T], error) {
	const op = "relay.PageOfSlice"
	if args.First != nil && args.Last != nil {
		return nil, apperr.Invalid(op, "last", "give first or last, not both")
	}
	n, backward := DefaultPage, false
	switch {
	case args.First != nil:
		n = *args.First
		if n < 0 || n > MaxPage {
			return nil, apperr.Invalid(op, "first", "first is between 0 and %d; got %d", MaxPage, n)
		}
	case args.Last != nil:
		n, backward = *args.Last, true
		if n < 0 || n > MaxPage {
			return nil, apperr.Invalid(op, "last", "last is between 0 and %d; got %d", MaxPage, n)
		}
	case args.Before != nil && args.After == nil:
		backward = true
	}
	lo, hi := 0, len(items) // the items between the cursors: items[lo:hi]
	if args.After != nil {
		after, err := ParseCursor("after", *args.After)
		if err != nil {
			return nil, err
		}
		for lo < hi && id(items[lo]) <= after {
			lo++
		}
	}
	if args.Before != nil {
		before, err := ParseCursor("before", *args.Before)
		if err != nil {
			return nil, err
		}
		for hi > lo && id(items[hi-1]) >= before {
			hi--
		}
	}
	page := &Page[T]{TotalCount: len(items)}
	window := items[lo:hi]
	if backward {
		if len(window) > n {
			window, page.HasPreviousPage = window[len(window)-n:], true
		}
		page.HasNextPage = args.Before != nil
	} else {
		if len(window) > n {
			window, page.HasNextPage = window[:n], true
		}
		page.HasPreviousPage = args.After != nil
	}
	page.Items = slices.Clone(window)
	page.Cursors = make([]string, len(window))
	for i, it := range window {
		page.Cursors[i] = Cursor(id(it))
	}
	return page, nil
}
