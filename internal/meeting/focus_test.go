package meeting_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// TestFocusGroupsCreatedWithTheGroup: every working group has its four
// focus groups, one per theme, from the moment it exists.
func TestFocusGroupsCreatedWithTheGroup(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		for _, code := range []string{"EN", "PA"} {
			if len(f.focus[code]) != 4 {
				t.Fatalf("%s has %d focus groups, want 4: %v", code, len(f.focus[code]), f.focus[code])
			}
			for _, th := range []reference.ThemeCode{"HEALTH", "EDUCATION", "WORK", "HOUSING"} {
				if f.focus[code][th] == 0 {
					t.Errorf("%s has no %s focus group", code, th)
				}
			}
		}
		if n := f.count("focus_groups"); n != 8 {
			t.Errorf("%d focus groups in the database, want 8", n)
		}
		// A third group gets its four in the same transaction.
		if _, err := f.net.CreateWorkingGroup(f.as(f.admin), network.WorkingGroupInput{Territory: "CT"}); err != nil {
			t.Fatal(err)
		}
		if n := f.count("focus_groups"); n != 12 {
			t.Errorf("%d focus groups after a third group, want 12", n)
		}
	})
}
