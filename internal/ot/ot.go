// Package ot is PIA's text-operation engine: pure functions over plain text
// measured in Unicode code points, with no I/O and only the standard library.
//
// An operation (Op) is a sequence of components that walks its whole base
// text: Retain n keeps n code points, Insert s inserts s, Delete n deletes n
// code points. In JSON it is an array such as [5, "abc", -2, 10]: a positive
// integer retains, a string inserts, a negative integer deletes. Lengths and
// positions always count code points, never bytes or UTF-16 units, so "😀"
// is one code point and "e\u0301" (e + combining acute) is two.
//
// Normal form. Normalize (and Parse, Transform, Compose, Invert, Diff,
// FromEdits, which all return normalized operations) produces the one
// canonical spelling of an operation: no zero retain or delete and no empty
// insert; no two adjacent components of the same kind; where an insert and
// a delete touch, the insert comes first ([-2, "x"] becomes ["x", -2]). The
// trailing retain is kept: an operation always covers its whole base text,
// so its base length is checked against the text it is applied to. The
// empty operation [] is the no-op on the empty text only.
//
// Tie-break. Transform(a, b) resolves two inserts at the same position by
// putting a's insert first (to the left of b's). The server calls
// Transform(committed, incoming), so text already committed stays left of a
// concurrent insert at the same place; a client calls Transform(remote,
// pending) and reaches the same text.
//
// Every error the package returns wraps one of ErrInvalid, ErrInvalidUTF
// (which also matches ErrInvalid), ErrBaseLength or ErrIncompat.
package ot

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Component is one step of an operation: exactly one of its fields is set.
// Retain > 0 keeps that many code points, Insert != "" inserts that text,
// Delete > 0 deletes that many code points.
type Component struct {
	Retain int
	Insert string
	Delete int
}

// Op is an operation: a sequence of components that covers its whole base
// text. In JSON it is an array: a positive integer retains, a string
// inserts, a negative integer deletes (MarshalJSON/UnmarshalJSON).
type Op []Component

// Errors, to be matched with errors.Is. Every error the package returns wraps
// one of them.
var (
	ErrInvalid    = errors.New("ot: invalid operation")              // bad JSON shape, zero, empty string, invalid UTF-8
	ErrInvalidUTF = errors.New("ot: invalid UTF-8")                  // an insert or a text that is not valid UTF-8 (also wraps ErrInvalid)
	ErrBaseLength = errors.New("ot: base length does not match")     // the op's base length is not the text's length
	ErrIncompat   = errors.New("ot: operations do not share a base") // Transform/Compose on mismatched lengths
)

// opError is the package's error: a message for people and the sentinel
// errors it matches for programs.
type opError struct {
	msg   string
	kinds []error
}

func (e *opError) Error() string   { return e.msg }
func (e *opError) Unwrap() []error { return e.kinds }

func errInvalid(format string, args ...any) error {
	return &opError{msg: "ot: invalid operation: " + fmt.Sprintf(format, args...), kinds: []error{ErrInvalid}}
}

func errUTF(format string, args ...any) error {
	return &opError{msg: "ot: invalid UTF-8: " + fmt.Sprintf(format, args...), kinds: []error{ErrInvalidUTF, ErrInvalid}}
}

func errBaseLength(opLen, textLen int) error {
	return &opError{
		msg:   fmt.Sprintf("ot: base length does not match: the operation covers %d code points but the text has %d", opLen, textLen),
		kinds: []error{ErrBaseLength},
	}
}

func errIncompat(format string, args ...any) error {
	return &opError{msg: "ot: operations do not share a base: " + fmt.Sprintf(format, args...), kinds: []error{ErrIncompat}}
}

// kind is what a component does.
type kind int8

const (
	kNone kind = iota // invalid or exhausted
	kRetain
	kInsert
	kDelete
)

// kindOf reports what c does; kNone when it does nothing or is ambiguous.
func kindOf(c Component) kind {
	switch {
	case c.Insert != "" && c.Retain == 0 && c.Delete == 0:
		return kInsert
	case c.Retain > 0 && c.Delete == 0 && c.Insert == "":
		return kRetain
	case c.Delete > 0 && c.Retain == 0 && c.Insert == "":
		return kDelete
	}
	return kNone
}

// Validate checks op: no zero or empty component, valid UTF-8 inserts.
func (op Op) Validate() error {
	for i, c := range op {
		set := 0
		if c.Retain != 0 {
			set++
		}
		if c.Insert != "" {
			set++
		}
		if c.Delete != 0 {
			set++
		}
		switch {
		case set == 0:
			return errInvalid("component %d is empty: a retain or delete must not be zero and an insert must not be empty", i)
		case set > 1:
			return errInvalid("component %d sets more than one of Retain, Insert, Delete", i)
		case c.Retain < 0:
			return errInvalid("component %d retains a negative count %d", i, c.Retain)
		case c.Delete < 0:
			return errInvalid("component %d deletes a negative count %d", i, c.Delete)
		case c.Insert != "" && !utf8.ValidString(c.Insert):
			return errUTF("component %d inserts text that is not valid UTF-8", i)
		}
	}
	return nil
}

// Normalize merges adjacent components of the same kind and puts an insert
// before a delete at the same position. It keeps a trailing retain: an
// operation always covers its whole base text. It drops zero and empty
// components. An op already in normal form is returned as is; otherwise
// op is not modified and a new Op is returned.
func Normalize(op Op) Op {
	if isNormal(op) {
		return op
	}
	b := newBuilder(len(op))
	for _, c := range op {
		b.add(c)
	}
	return b.done()
}

// isNormal reports whether op is already in normal form.
func isNormal(op Op) bool {
	prev := kNone
	for _, c := range op {
		k := kindOf(c)
		if k == kNone || k == prev || (prev == kDelete && k == kInsert) {
			return false
		}
		prev = k
	}
	return true
}

// BaseLen is the length in code points of the text op applies to.
func (op Op) BaseLen() int {
	n := 0
	for _, c := range op {
		n += c.Retain + c.Delete
	}
	return n
}

// TargetLen is the length in code points of the text op produces.
func (op Op) TargetLen() int {
	n := 0
	for _, c := range op {
		n += c.Retain + utf8.RuneCountInString(c.Insert)
	}
	return n
}

// InsertedRunes counts the code points op inserts (for size limits).
func (op Op) InsertedRunes() int {
	n := 0
	for _, c := range op {
		n += utf8.RuneCountInString(c.Insert)
	}
	return n
}

// IsNoop reports whether op changes nothing (only retains).
func (op Op) IsNoop() bool {
	for _, c := range op {
		if c.Insert != "" || c.Delete != 0 {
			return false
		}
	}
	return true
}

// builder appends components keeping the result in normal form. Inserts
// and deletes at the same place are held until a retain or done, so that
// gluing many small inserts costs linear time, not quadratic.
type builder struct {
	op   Op
	nIns int    // number of insert pieces held
	ins  string // the held insert when nIns == 1
	buf  []byte // the held inserts when nIns > 1
	del  int    // the held delete
}

func newBuilder(capacity int) *builder { return &builder{op: make(Op, 0, capacity)} }

func (b *builder) add(c Component) {
	switch kindOf(c) {
	case kRetain:
		b.retain(c.Retain)
	case kInsert:
		b.insert(c.Insert)
	case kDelete:
		b.delete(c.Delete)
	}
}

func (b *builder) retain(n int) {
	if n <= 0 {
		return
	}
	b.flush()
	if k := len(b.op) - 1; k >= 0 && kindOf(b.op[k]) == kRetain {
		b.op[k].Retain += n
		return
	}
	b.op = append(b.op, Component{Retain: n})
}

func (b *builder) delete(n int) {
	if n > 0 {
		b.del += n
	}
}

func (b *builder) insert(s string) {
	if s == "" {
		return
	}
	switch b.nIns {
	case 0:
		b.ins = s
	case 1:
		b.buf = append(append(b.buf[:0], b.ins...), s...)
		b.ins = ""
	default:
		b.buf = append(b.buf, s...)
	}
	b.nIns++
}

// flush writes the held insert, then the held delete.
func (b *builder) flush() {
	switch {
	case b.nIns == 1:
		b.op = append(b.op, Component{Insert: b.ins})
	case b.nIns > 1:
		b.op = append(b.op, Component{Insert: string(b.buf)})
	}
	if b.del > 0 {
		b.op = append(b.op, Component{Delete: b.del})
	}
	b.nIns, b.ins, b.buf, b.del = 0, "", b.buf[:0], 0
}

// done returns the operation built.
func (b *builder) done() Op {
	b.flush()
	return b.op
}

// runeOffset returns the byte offset in s after n code points (len(s) if s
// is shorter).
func runeOffset(s string, n int) int {
	off := 0
	for i := 0; i < n && off < len(s); i++ {
		if s[off] < utf8.RuneSelf {
			off++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// cursor walks an operation component by component, handing out pieces.
type cursor struct {
	op  Op
	i   int
	cur Component // what is left of op[i]
	n   int       // length of cur in code points
	k   kind
}

func newCursor(op Op) *cursor {
	c := &cursor{op: op, i: -1}
	c.next()
	return c
}

func (c *cursor) next() {
	for c.i++; c.i < len(c.op); c.i++ {
		comp := c.op[c.i]
		c.k = kindOf(comp)
		if c.k == kNone {
			continue
		}
		c.cur = comp
		switch c.k {
		case kRetain:
			c.n = comp.Retain
		case kDelete:
			c.n = comp.Delete
		case kInsert:
			c.n = utf8.RuneCountInString(comp.Insert)
		}
		return
	}
	c.k, c.n, c.cur = kNone, 0, Component{}
}

// take returns the next n code points of the current component (all of it
// when n < 0 or n >= its length) and moves on.
func (c *cursor) take(n int) Component {
	if n < 0 || n >= c.n {
		out := c.cur
		c.next()
		return out
	}
	c.n -= n
	switch c.k {
	case kRetain:
		c.cur.Retain -= n
		return Component{Retain: n}
	case kDelete:
		c.cur.Delete -= n
		return Component{Delete: n}
	default:
		off := runeOffset(c.cur.Insert, n)
		out := c.cur.Insert[:off]
		c.cur.Insert = c.cur.Insert[off:]
		return Component{Insert: out}
	}
}
