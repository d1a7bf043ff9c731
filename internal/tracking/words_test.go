package tracking_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// afterSnapshots runs fn once, right after the overview has read the
// sections' snapshots and before it reads the operations after them.
type afterSnapshots struct {
	once sync.Once
	fn   func()
}

func (h *afterSnapshots) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (h *afterSnapshots) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "section_snapshots AS sn") {
		h.once.Do(h.fn)
	}
}

// TestWordsWhileEditing: a section edited while the overview is computed,
// its snapshot moved on by the committer between the overview's read of
// the snapshots and its read of the operations after them, still counts
// the words of one of its texts: the overview does not fail, nor apply the
// operations after the new snapshot to the old one's text.
func TestWordsWhileEditing(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		r := newRegion(t, db) // the co-editing service snapshots every 2 operations
		health := reference.ThemeCode("HEALTH")
		sec := r.document("EN", []*reference.ThemeCode{&health}, []string{"Accesso ai servizi"})[0]
		r.edit(r.coord, sec.ID, "Accesso ai servizi sanitari")
		r.edit(r.coord, sec.ID, "Accesso ai servizi sanitari di base") // snapshot at version 2
		r.edit(r.coord, sec.ID, "Accesso ai servizi sanitari di base per tutti")
		db.AddQueryHook(&afterSnapshots{fn: func() {
			// Three more: the snapshot moves on, to a text of 13 words.
			r.edit(r.coord, sec.ID, "Accesso ai servizi sanitari di base per tutte le persone")
			r.edit(r.coord, sec.ID, "Accesso ai servizi sanitari di base per tutte le persone arrivate")
			r.edit(r.coord, sec.ID, "Accesso ai servizi sanitari e sociali di base per tutte le persone arrivate")
		}})
		ov, err := r.svc.RegionalOverview(r.as(r.policy))
		if err != nil {
			t.Fatalf("the overview while the section is edited: %v", err)
		}
		for _, c := range ov.Cells {
			if c.Territory.Code == "EN" && c.Theme.Code == health {
				// 8 words when the snapshots were read, 13 once the edits
				// are in; anything else mixes two versions.
				if w := c.Sections.Words; w != 8 && w != 13 {
					t.Errorf("EN × HEALTH: %d words, want 8 or 13", w)
				}
			}
		}
	})
}
