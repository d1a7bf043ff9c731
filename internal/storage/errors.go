package storage

import (
	"database/sql"
	"errors"

	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// SQLite extended result codes (sqlite3.h) for constraint failures.
const (
	sqliteConstraintCheck      = 275
	sqliteConstraintForeignKey = 787
	sqliteConstraintNotNull    = 1299
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// Violation is the kind of integrity constraint a statement broke.
type Violation int

const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
	NotNullViolation
	CheckViolation
)

// ViolationOf reads which constraint err broke, on either engine.
func ViolationOf(err error) Violation {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		switch pgErr.Field('C') {
		case "23505":
			return UniqueViolation
		case "23503":
			return ForeignKeyViolation
		case "23502":
			return NotNullViolation
		case "23514":
			return CheckViolation
		}
		return NoViolation
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return UniqueViolation
		case sqliteConstraintForeignKey:
			return ForeignKeyViolation
		case sqliteConstraintNotNull:
			return NotNullViolation
		case sqliteConstraintCheck:
			return CheckViolation
		}
	}
	return NoViolation
}

// MapError turns a database error into an application error, the one place
// where that happens: no rows is NOT_FOUND, a unique violation is CONFLICT, a
// foreign-key, not-null or check violation is BAD_USER_INPUT. Anything else is
// INTERNAL, its detail kept for the logs. what names the object for messages,
// such as "territory".
func MapError(op, what string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return apperr.Wrap(op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &apperr.Error{Kind: apperr.NotFound, Op: op, Message: what + " not found", Err: err}
	}
	switch ViolationOf(err) {
	case UniqueViolation:
		return &apperr.Error{Kind: apperr.Conflict, Op: op, Message: "a " + what + " like this already exists", Err: err}
	case ForeignKeyViolation:
		return &apperr.Error{Kind: apperr.BadInput, Op: op, Message: "the " + what + " refers to something that does not exist, or is still referred to", Err: err}
	case NotNullViolation, CheckViolation:
		return &apperr.Error{Kind: apperr.BadInput, Op: op, Message: "the " + what + " is missing a required value or has one out of range", Err: err}
	}
	return &apperr.Error{Kind: apperr.Internal, Op: op, Err: err}
}
