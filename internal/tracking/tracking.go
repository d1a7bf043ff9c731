// Package tracking computes the figures policy makers follow: the regional
// overview (the 9 territories × 4 themes) and each territory's progress.
//
// It reads the tables of packages meeting, coedit and network directly,
// with aggregate statements grouped by territory and theme, instead of
// going through their services: those answer per object, and the overview
// must cost a fixed number of statements whatever the region's size. It
// writes nothing. docs/indicators.md defines every figure.
package tracking

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
)

// Options configures a Service.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger reports the live figures' failures; discarded when nil.
	Logger *slog.Logger
	// Meetings and Documents tell the live figures (WatchTerritory) that
	// a territory changed: meeting.Service and coedit.Service in cmd/piad.
	// Either may be nil: its changes are then not followed.
	Meetings  MeetingFeed
	Documents DocumentFeed
	// Debounce is how long the live figures of a territory wait after a
	// change before they are computed again (DefaultDebounce when 0 or
	// less): a storm of edits costs one computation per Debounce.
	Debounce time.Duration
}

// DefaultDebounce is Options.Debounce's default.
const DefaultDebounce = time.Second

// MeetingFeed is the watch of every territory's meetings that
// meeting.Service offers.
type MeetingFeed interface {
	Watch(ctx context.Context, fn func(meeting.Event))
}

// DocumentFeed is the watch of every document that coedit.Service offers.
type DocumentFeed interface {
	Watch(ctx context.Context, fn func(coedit.DocChange))
}

// Service computes the tracking figures. Close it at shutdown: it ends the
// live figures' subscriptions.
type Service struct {
	db     bun.IDB
	now    func() time.Time
	ref    *reference.Service
	logger *slog.Logger
	live   *live
}

// NewService returns a Service on db. It starts following o.Meetings and
// o.Documents (until Close).
func NewService(db bun.IDB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	s := &Service{db: db, now: o.Now, ref: reference.NewService(db), logger: o.Logger}
	s.live = newLive(s, o)
	return s
}

// Close ends the live figures: every subscription's channel closes, the
// service stops following meetings and documents, and Close returns when
// no computation runs any more. The other methods go on working.
func (s *Service) Close() { s.live.close() }

// Overview is the regional overview: one cell per territory and theme.
type Overview struct {
	// Cells are ordered by territory (by name, as reference.Territories)
	// then theme (by position): 36 in the region.
	Cells []*Cell
	// At is when the figures were computed; the edit windows end there.
	At time.Time
}

// Cell is one territory's figures on one theme.
type Cell struct {
	Territory *reference.Territory
	Theme     *reference.Theme

	Meetings   MeetingCounts
	Attendance Attendance
	Sections   Sections
	Comments   Comments
}

// MeetingCounts counts the focus group's meetings by where they stand.
type MeetingCounts struct {
	Planned   int        // PLANNED, CONFIRMED or POSTPONED
	Held      int        // HELD
	Cancelled int        // CANCELLED
	Next      *time.Time // the earliest start from now on of a meeting not cancelled
}

// Attendance sums up the registers of the cell's held meetings.
type Attendance struct {
	People        int // distinct people of the directory in the registers
	Guests        int // register entries of guests (not in the directory)
	Organizations int // distinct organizations of the directory represented
	ByKind        []KindCount
	BySector      []SectorCount
	Invited       int // distinct people invited (delegated invitations left out)
	Attended      int // distinct people of the directory in the registers (= People)
}

// KindCount is how many distinct organizations of one kind.
type KindCount struct {
	Kind  network.Kind
	Count int
}

// SectorCount is how many distinct organizations of one sector.
type SectorCount struct {
	Sector network.Sector
	Count  int
}

// Sections sums up the live sections on the cell's theme of the
// territory's documents that are not archived.
type Sections struct {
	Count        int
	WithContent  int // length > 0
	Words        int // words of the current texts (strings.Fields)
	Contributors int // distinct authors of the sections' operations
	Edits7Days   int // operations in the last 7 days
	Edits30Days  int // operations in the last 30 days
}

// Comments counts the threads on those sections.
type Comments struct {
	Open     int
	Resolved int
}

// check authorizes reading the tracking figures.
func check(ctx context.Context) error {
	return access.Check(ctx, access.ReadTracking, access.Resource{})
}
