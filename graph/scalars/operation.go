package scalars

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/ot"
)

// MarshalOperation writes the Operation scalar: op as its JSON array.
func MarshalOperation(op ot.Op) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(op)
		if err != nil {
			b = []byte("null")
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalOperation reads the Operation scalar: a JSON array of retains
// (positive integers), inserts (strings) and deletes (negative integers).
// Anything else, invalid UTF-8 included, is BAD_USER_INPUT.
func UnmarshalOperation(v any) (ot.Op, error) {
	const op = "graph.Operation"
	b, err := json.Marshal(v)
	if err != nil {
		return nil, apperr.Invalid(op, "operation", "an operation is a JSON array such as [5, \"abc\", -2, 10]")
	}
	o, err := ot.Parse(b)
	if err != nil {
		msg := "an operation is a JSON array of positive integers (retain), strings (insert) and negative integers (delete), such as [5, \"abc\", -2, 10]"
		e := apperr.Invalid(op, "operation", "%s", msg)
		if errors.Is(err, ot.ErrInvalidUTF) {
			return nil, apperr.Invalid(op, "operation", "the operation's text is not valid UTF-8").WithReason("INVALID_UTF8")
		}
		return nil, e.WithReason("INVALID_OPERATION")
	}
	return o, nil
}
