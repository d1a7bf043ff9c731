package scalars

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// MarshalTime writes the Time scalar as gqlgen's own does: RFC 3339, with
// fractions of a second only when there are any; the zero time is null.
func MarshalTime(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		if t.IsZero() {
			_, err := io.WriteString(w, "null")
			return err
		}
		_, err := io.WriteString(w, strconv.Quote(t.Format(time.RFC3339Nano)))
		return err
	})
}

// UnmarshalTime reads the Time scalar: an RFC 3339 string with its offset.
// Anything else is BAD_USER_INPUT naming the input field it was given in
// (gqlgen's own Time reports a plain error, which the presenter could only
// call INTERNAL).
func UnmarshalTime(ctx context.Context, v any) (time.Time, error) {
	const op = "graph.Time"
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.Invalid(op, inputField(ctx), "a Time is a string in RFC 3339, such as \"2026-03-29T10:00:00+02:00\"")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.Invalid(op, inputField(ctx),
			"%q is not a time; write it in RFC 3339 with its offset, such as \"2026-03-29T10:00:00+02:00\" or \"2026-03-29T08:00:00Z\"", s)
	}
	return t, nil
}

// inputField is the name of the input field being read, from gqlgen's path
// of the argument being unmarshalled; "" outside one.
func inputField(ctx context.Context) string {
	for p := graphql.GetPathContext(ctx); p != nil; p = p.Parent {
		if p.Field != nil {
			return *p.Field
		}
	}
	return ""
}
