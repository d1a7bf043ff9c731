// Package scalars holds the GraphQL scalars PIA defines beyond gqlgen's
// own, as the marshal and unmarshal functions gqlgen binds them with.
package scalars

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
)

// DateLayout is how a Date is written: ISO 8601's calendar date.
const DateLayout = "2006-01-02"

// MarshalDate writes the Date scalar: t's calendar day as YYYY-MM-DD. Dates
// are stored as midnight UTC, so the day is read in UTC.
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(DateLayout)))
	})
}

// UnmarshalDate reads the Date scalar: a string YYYY-MM-DD naming a real day
// between network.FirstDate and network.LastDate, as midnight UTC. Anything
// else is BAD_USER_INPUT saying how to write it. The bounds keep out year 0,
// which PostgreSQL refuses, and 0001-01-01, Go's zero time, which the
// services read as "clear the date".
func UnmarshalDate(v any) (time.Time, error) {
	const op = "graph.Date"
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.Invalid(op, "", "a Date is a string written YYYY-MM-DD, such as \"2026-11-22\"")
	}
	// time.Parse refuses impossible days (2026-02-30) and anything longer
	// or shorter than the layout.
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, apperr.Invalid(op, "", "%q is not a date; write it YYYY-MM-DD, such as \"2026-11-22\"", s)
	}
	if !network.DateInRange(t) {
		return time.Time{}, apperr.Invalid(op, "", "%q is out of range: a date lies between %s and %s", s, network.FirstDate, network.LastDate)
	}
	return t, nil
}
