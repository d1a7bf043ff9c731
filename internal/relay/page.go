package relay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// MaxPage is the most items one page of a connection holds.
const MaxPage = 100

// DefaultPage is the page size when neither first nor last is given.
const DefaultPage = 20

// PageArgs are a Relay connection's arguments: first/after pages forward,
// last/before pages backward.
type PageArgs struct {
	First  *int
	After  *string
	Last   *int
	Before *string
	// NoCount skips counting every matching row, when the caller does not
	// want Page.TotalCount (it is then 0): one statement instead of two.
	NoCount bool
}

// Order is a keyset: the rows are ordered by Column (a string column, such
// as "o.name_key"), then by IDColumn, which makes the order total. An empty
// Column orders by IDColumn alone. Desc reverses both.
type Order struct {
	Column   string
	IDColumn string
	Desc     bool
}

// Page is one page of a connection.
type Page[T any] struct {
	Items           []T
	Cursors         []string
	HasNextPage     bool
	HasPreviousPage bool
	TotalCount      int
}

// keyCursor is a position in a keyset: the sort value and the id, and the
// order they are a position in (Order.tag), so that a cursor of one order
// is not read as a position in another, where it would restart the list or
// skip rows.
type keyCursor struct {
	K string `json:"k,omitempty"`
	I int64  `json:"i"`
	O string `json:"o"`
}

func encodeKey(c keyCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(append([]byte("key:"), b...))
}

// decodeKey reads a cursor of the order o, given as the argument field.
func decodeKey(field, s string, o Order) (keyCursor, error) {
	const op = "relay.Paginate"
	var c keyCursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) <= 4 || string(raw[:4]) != "key:" || json.Unmarshal(raw[4:], &c) != nil || c.I <= 0 {
		return c, apperr.Invalid(op, field, "%q is not a cursor of this list; use a cursor the API returned", s)
	}
	if c.O != o.tag() {
		return c, apperr.Invalid(op, field, "%q is a cursor of this list in another order; use a cursor of the same order, or start from the first page", s)
	}
	return c, nil
}

// tag names the order in cursors: a short digest of its columns and
// direction, so that cursors stay short and do not spell out SQL.
func (o Order) tag() string {
	h := fnv.New32a()
	_, _ = fmt.Fprintf(h, "%s\x00%s\x00%t", o.Column, o.IDColumn, o.Desc)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// Paginate runs q, a select of T filtered but neither ordered nor limited,
// for one page described by args in the order o, and counts all matching
// rows. key gives an item's sort value and id, for its cursor. It runs two
// statements whatever the page size. Arguments out of range are
// BAD_USER_INPUT: first and last between 0 and MaxPage, not both, and cursors
// made by this order (its columns and direction, which cursors carry).
func Paginate[T any](ctx context.Context, q *bun.SelectQuery, args PageArgs, o Order, key func(T) (string, int64)) (*Page[T], error) {
	const op = "relay.Paginate"
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
	var after, before *keyCursor
	if args.After != nil {
		c, err := decodeKey("after", *args.After, o)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	if args.Before != nil {
		c, err := decodeKey("before", *args.Before, o)
		if err != nil {
			return nil, err
		}
		before = &c
	}

	page := &Page[T]{}
	if !args.NoCount {
		total, err := q.Clone().Count(ctx)
		if err != nil {
			return nil, err
		}
		page.TotalCount = total
	}
	if after != nil {
		q = q.Where(o.beyond(false), o.args(*after)...)
	}
	if before != nil {
		q = q.Where(o.beyond(true), o.args(*before)...)
	}
	desc := o.Desc != backward
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if o.Column != "" {
		q = q.OrderExpr(o.Column + dir)
	}
	q = q.OrderExpr(o.IDColumn + dir)
	if n == 0 {
		return page, nil
	}
	var items []T
	if err := q.Limit(n+1).Scan(ctx, &items); err != nil {
		return nil, err
	}
	more := len(items) > n
	if more {
		items = items[:n]
	}
	if backward {
		slices.Reverse(items)
		page.HasPreviousPage, page.HasNextPage = more, before != nil
	} else {
		page.HasNextPage, page.HasPreviousPage = more, after != nil
	}
	page.Items = items
	page.Cursors = make([]string, len(items))
	tag := o.tag()
	for i, it := range items {
		k, id := key(it)
		if o.Column == "" {
			k = ""
		}
		page.Cursors[i] = encodeKey(keyCursor{K: k, I: id, O: tag})
	}
	return page, nil
}

// beyond is the condition for rows past a cursor: after it in the order, or
// before it when reverse.
func (o Order) beyond(reverse bool) string {
	cmp := ">"
	if o.Desc != reverse {
		cmp = "<"
	}
	if o.Column == "" {
		return o.IDColumn + " " + cmp + " ?"
	}
	return "(" + o.Column + " " + cmp + " ? OR (" + o.Column + " = ? AND " + o.IDColumn + " " + cmp + " ?))"
}

func (o Order) args(c keyCursor) []any {
	if o.Column == "" {
		return []any{c.I}
	}
	return []any{c.K, c.K, c.I}
}
