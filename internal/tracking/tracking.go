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
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
)

// Options configures a Service.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service computes the tracking figures.
type Service struct {
	db  bun.IDB
	now func() time.Time
	ref *reference.Service
}

// NewService returns a Service on db.
func NewService(db bun.IDB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, now: opts.Now, ref: reference.NewService(db)}
}

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
