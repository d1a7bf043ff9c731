package scalars

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pia-sicilia/pia/internal/apperr"
)

func TestTime(t *testing.T) {
	ctx := graphql.WithPathContext(context.Background(), graphql.NewPathWithField("input"))
	ctx = graphql.WithPathContext(ctx, graphql.NewPathWithField("startsAt"))
	got, err := UnmarshalTime(ctx, "2026-03-29T10:00:00+02:00")
	if err != nil || !got.Equal(time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-03-29T10:00:00+02:00: %v, %v", got, err)
	}
	for _, bad := range []any{"2026-03-29 10:00", "2026-03-29", "2026-13-01T10:00:00Z", "", 1774771200, nil} {
		_, err := UnmarshalTime(ctx, bad)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.BadInput || ae.Field != "startsAt" {
			t.Errorf("%v: %v, want BAD_USER_INPUT on startsAt", bad, err)
		}
	}
	// Output is gqlgen's: RFC 3339, fractions only when there are any, the zero time null.
	for in, want := range map[time.Time]string{
		time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC):           `"2026-03-29T08:00:00Z"`,
		time.Date(2026, 3, 29, 8, 0, 0, 500_000_000, time.UTC): `"2026-03-29T08:00:00.5Z"`,
		{}: `null`,
	} {
		var b bytes.Buffer
		if err := MarshalTime(in).MarshalGQLContext(context.Background(), &b); err != nil || b.String() != want {
			t.Errorf("marshal %v: %s %v, want %s", in, b.String(), err, want)
		}
	}
}
