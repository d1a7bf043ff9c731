// Package apperr is PIA's one error type. Every service returns errors of this
// type for failures a caller can act on; anything else is an internal failure
// whose detail stays in the logs. Kinds are append-only and never change
// meaning, because clients switch on them (they become extensions.code).
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers. Its string is the GraphQL extensions.code.
type Kind string

// The kinds. Append only.
const (
	Unauthenticated Kind = "UNAUTHENTICATED" // no valid session
	Forbidden       Kind = "FORBIDDEN"       // signed in, but not allowed
	NotFound        Kind = "NOT_FOUND"       // no such object (or not visible to the caller)
	BadInput        Kind = "BAD_USER_INPUT"  // the request itself is wrong; the message says how
	Conflict        Kind = "CONFLICT"        // clashes with the current state (a duplicate, a stale version)
	RateLimited     Kind = "RATE_LIMITED"    // too many attempts; try later
	Internal        Kind = "INTERNAL"        // our fault; detail only in the logs
	// Resubscribe ends a subscription that fell behind (its buffer
	// overflowed): subscribe again from the last version applied; nothing
	// is lost, because the log is the truth.
	Resubscribe Kind = "RESUBSCRIBE"
)

// InternalMessage is all a client ever learns about an internal error.
const InternalMessage = "internal error"

// Error is an application error: a kind, the operation that failed, a message
// safe to show to the person who made the request, and an optional cause that
// is never shown to them.
type Error struct {
	Kind    Kind
	Op      string // the failing operation, such as "reference.TerritoryByCode"
	Message string // for the client: what went wrong and what to do about it
	Field   string // the input field at fault, when there is one
	// Reason is a finer, machine-readable cause within the kind (such as
	// BASE_LENGTH_MISMATCH), shown as extensions.reason; empty for most.
	Reason string
	Err    error // the cause, for logs only
}

func (e *Error) Error() string {
	s := string(e.Kind)
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of a kind with a client-facing message.
func E(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a BAD_USER_INPUT error that names the input field at fault.
func Invalid(op, field, format string, args ...any) *Error {
	return &Error{Kind: BadInput, Op: op, Field: field, Message: fmt.Sprintf(format, args...)}
}

// WithReason returns a copy of e carrying a machine-readable reason.
func (e *Error) WithReason(reason string) *Error {
	c := *e
	c.Reason = reason
	return &c
}

// ReasonOf is the reason of the first application error in err's chain, or
// "" when it has none (internal errors never show one).
func ReasonOf(err error) string {
	var ae *Error
	if errors.As(err, &ae) && ae.Kind != Internal {
		return ae.Reason
	}
	return ""
}

// Wrap attaches an operation to err. An application error keeps its kind and
// message; any other error becomes INTERNAL with err as its hidden cause.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		c := *ae
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	return &Error{Kind: Internal, Op: op, Err: err}
}

// KindOf reports the kind of err: the kind of the first application error in
// its chain, or INTERNAL for anything else.
func KindOf(err error) Kind {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return Internal
}

// Is reports whether err is an application error of the given kind.
func Is(err error, kind Kind) bool {
	return err != nil && KindOf(err) == kind
}

// Public returns what a client may be told about err: its kind, its message
// and its field. Internal errors give the fixed InternalMessage.
func Public(err error) (kind Kind, message, field string) {
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind == Internal {
		return Internal, InternalMessage, ""
	}
	msg := ae.Message
	if msg == "" {
		msg = defaultMessages[ae.Kind]
	}
	return ae.Kind, msg, ae.Field
}

var defaultMessages = map[Kind]string{
	Unauthenticated: "sign in first",
	Forbidden:       "you are not allowed to do this",
	NotFound:        "not found",
	BadInput:        "the request is not valid",
	Conflict:        "this conflicts with the current state",
	RateLimited:     "too many attempts; try again later",
	Resubscribe:     "this stream fell behind; subscribe again from the last version you applied",
}
