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
	for _, bad := range []any{"2026-02-30", "2026-2-3", "22/11/2026", "2026-11-22T10:00:00Z", "", 20261122} {
		if _, err := UnmarshalDate(bad); !apperr.Is(err, apperr.BadInput) {
			t.Errorf("%v: %v, want BAD_USER_INPUT", bad, err)
		}
	}
}
