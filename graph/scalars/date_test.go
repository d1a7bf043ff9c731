package scalars

import (
	"bytes"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/apperr"
)

func TestDate(t *testing.T) {
	got, err := UnmarshalDate("2026-11-22")
	if err != nil || !got.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-11-22: %v, %v", got, err)
	}
	var b bytes.Buffer
	MarshalDate(time.Date(2026, 2, 3, 23, 30, 0, 0, time.UTC)).MarshalGQL(&b)
	if b.String() != `"2026-02-03"` {
		t.Errorf("marshal: %s", b.String())
	}
	// Years outside 1900–2100 too: PostgreSQL refuses year 0, and
	// 0001-01-01 is Go's zero time, which the service reads as "clear".
	for _, bad := range []any{"2026-02-30", "2026-2-3", "22/11/2026", "2026-11-22T10:00:00Z", "", 20261122,
		"0000-01-01", "0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"} {
		if _, err := UnmarshalDate(bad); !apperr.Is(err, apperr.BadInput) {
			t.Errorf("%v: %v, want BAD_USER_INPUT", bad, err)
		}
	}
	for _, s := range []string{"1900-01-01", "2100-12-31"} {
		if got, err := UnmarshalDate(s); err != nil || got.Format(DateLayout) != s {
			t.Errorf("%s: %v, %v", s, got, err)
		}
	}
}
