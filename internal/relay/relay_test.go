package relay_test

import (
	"testing"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
)

func TestRoundTrip(t *testing.T) {
	gid := relay.ID("Territory", 4)
	typ, id, err := relay.Parse(gid)
	if err != nil || typ != "Territory" || id != 4 {
		t.Fatalf("Parse(%q) = %q %d %v", gid, typ, id, err)
	}
	if id, err := relay.ParseAs("Territory", gid); err != nil || id != 4 {
		t.Fatalf("ParseAs = %d %v", id, err)
	}
}

func TestBadIDs(t *testing.T) {
	for _, bad := range []string{"", "4", "!!!", relay.ID("Territory", 0), "VGVycml0b3J5", "OjQ"} {
		if _, _, err := relay.Parse(bad); !apperr.Is(err, apperr.BadInput) {
			t.Errorf("Parse(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
	if _, err := relay.ParseAs("Theme", relay.ID("Territory", 4)); !apperr.Is(err, apperr.BadInput) {
		t.Errorf("a territory id taken as a theme: %v", err)
	}
}
