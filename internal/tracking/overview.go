package tracking

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

type cellKey struct{ territory, theme int64 }

// RegionalOverview returns the 9 territories × 4 themes with their figures.
// It runs a fixed number of aggregate statements whatever the number of
// meetings, registers, sections or operations. It returns UNAUTHENTICATED
// for an anonymous caller and FORBIDDEN for one without a global role or a
// territory role.
func (s *Service) RegionalOverview(ctx context.Context) (*Overview, error) {
	if err := check(ctx); err != nil {
		return nil, err
	}
	territories, err := s.ref.Territories(ctx)
	if err != nil {
		return nil, err
	}
	cells, now, err := s.cells(ctx, territories, 0)
	if err != nil {
		return nil, err
	}
	return &Overview{Cells: cells, At: now}, nil
}

// scope is what one computation of the figures covers: the instant the
// edit windows end at and the next meeting starts from, and the territory
// (0: the whole region).
type scope struct {
	now       time.Time
	territory int64
}

// in narrows q to the scope's territory, whose id is in column.
func (sc scope) in(q *bun.SelectQuery, column string) *bun.SelectQuery {
	if sc.territory == 0 {
		return q
	}
	return q.Where(column+" = ?", sc.territory)
}

// cells computes the cells of territories × every theme, in that order,
// with the steps below: each one aggregate statement (words two), narrowed
// to territory when it is not 0 (then territories holds that one).
func (s *Service) cells(ctx context.Context, territories []*reference.Territory, territory int64) ([]*Cell, time.Time, error) {
	const op = "tracking.cells"
	themes, err := s.ref.Themes(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	sc := scope{now: s.now().UTC(), territory: territory}
	var out []*Cell
	cells := map[cellKey]*Cell{}
	for _, t := range territories {
		for _, th := range themes {
			c := &Cell{Territory: t, Theme: th}
			out = append(out, c)
			cells[cellKey{t.ID, th.ID}] = c
		}
	}
	cell := func(territory, theme int64) *Cell {
		if c := cells[cellKey{territory, theme}]; c != nil {
			return c
		}
		return &Cell{} // a theme or territory added since: ignored
	}
	for _, step := range []func(context.Context, scope, func(int64, int64) *Cell) error{
		s.meetingCounts, s.attendance, s.organizationKinds, s.invited,
		s.sectionCounts, s.contributors, s.edits, s.words, s.comments,
	} {
		if err := step(ctx, sc, cell); err != nil {
			return nil, time.Time{}, storage.MapError(op, "figure", err)
		}
	}
	for _, c := range out {
		c.Attendance.Attended = c.Attendance.People
		c.Attendance.BySector = bySector(c.Attendance.ByKind)
	}
	return out, sc.now, nil
}

func bySector(kinds []KindCount) []SectorCount {
	n := map[network.Sector]int{}
	for _, k := range kinds {
		n[k.Kind.Sector()] += k.Count // an organization has one kind
	}
	var out []SectorCount
	for _, sec := range network.Sectors {
		if n[sec] > 0 {
			out = append(out, SectorCount{Sector: sec, Count: n[sec]})
		}
	}
	return out
}

type groupRow struct {
	TerritoryID int64 `bun:"territory_id"`
	ThemeID     int64 `bun:"theme_id"`
}

func (s *Service) meetingCounts(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Planned   int        `bun:"planned"`
		Held      int        `bun:"held"`
		Cancelled int        `bun:"cancelled"`
		Next      *time.Time `bun:"next"`
	}
	err := sc.in(s.db.NewSelect().TableExpr("meetings AS m"), "m.territory_id").
		ColumnExpr("m.territory_id, m.theme_id").
		ColumnExpr("SUM(CASE WHEN m.status IN ('PLANNED', 'CONFIRMED', 'POSTPONED') THEN 1 ELSE 0 END) AS planned").
		ColumnExpr("SUM(CASE WHEN m.status = 'HELD' THEN 1 ELSE 0 END) AS held").
		ColumnExpr("SUM(CASE WHEN m.status = 'CANCELLED' THEN 1 ELSE 0 END) AS cancelled").
		ColumnExpr("MIN(CASE WHEN m.status <> 'CANCELLED' AND m.starts_at >= ? THEN m.starts_at END) AS next", sc.now).
		GroupExpr("m.territory_id, m.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		c := cell(r.TerritoryID, r.ThemeID)
		c.Meetings = MeetingCounts{Planned: r.Planned, Held: r.Held, Cancelled: r.Cancelled}
		if r.Next != nil {
			t := r.Next.UTC()
			c.Meetings.Next = &t
		}
	}
	return nil
}

// heldRegisters is the register entries of held meetings in sc, with the
// meeting's territory and theme.
func (s *Service) heldRegisters(sc scope) *bun.SelectQuery {
	return sc.in(s.db.NewSelect().TableExpr("meeting_attendance AS a").
		Join("JOIN meetings AS m ON m.id = a.meeting_id").
		Where("m.status = 'HELD'"), "m.territory_id")
}

func (s *Service) attendance(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		People        int `bun:"people"`
		Guests        int `bun:"guests"`
		Organizations int `bun:"organizations"`
	}
	err := s.heldRegisters(sc).
		ColumnExpr("m.territory_id, m.theme_id").
		ColumnExpr("COUNT(DISTINCT a.person_id) AS people").
		ColumnExpr("SUM(CASE WHEN a.person_id IS NULL THEN 1 ELSE 0 END) AS guests").
		ColumnExpr("COUNT(DISTINCT a.organization_id) AS organizations").
		GroupExpr("m.territory_id, m.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		a := &cell(r.TerritoryID, r.ThemeID).Attendance
		a.People, a.Guests, a.Organizations = r.People, r.Guests, r.Organizations
	}
	return nil
}

func (s *Service) organizationKinds(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Kind  network.Kind `bun:"kind"`
		Count int          `bun:"n"`
	}
	err := s.heldRegisters(sc).
		Join("JOIN organizations AS o ON o.id = a.organization_id").
		ColumnExpr("m.territory_id, m.theme_id, o.kind").
		ColumnExpr("COUNT(DISTINCT o.id) AS n").
		GroupExpr("m.territory_id, m.theme_id, o.kind").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	order := map[network.Kind]int{}
	for i, k := range network.Kinds {
		order[k] = i
	}
	for _, r := range rows {
		a := &cell(r.TerritoryID, r.ThemeID).Attendance
		a.ByKind = append(a.ByKind, KindCount{Kind: r.Kind, Count: r.Count})
	}
	for _, r := range rows {
		slices.SortFunc(cell(r.TerritoryID, r.ThemeID).Attendance.ByKind, func(a, b KindCount) int {
			return order[a.Kind] - order[b.Kind]
		})
	}
	return nil
}

func (s *Service) invited(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Invited int `bun:"invited"`
	}
	err := sc.in(s.db.NewSelect().TableExpr("meeting_invitations AS i"), "m.territory_id").
		Join("JOIN meetings AS m ON m.id = i.meeting_id").
		Where("m.status = 'HELD'").Where("i.status <> 'DELEGATED'").
		ColumnExpr("m.territory_id, m.theme_id").
		ColumnExpr("COUNT(DISTINCT i.person_id) AS invited").
		GroupExpr("m.territory_id, m.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		cell(r.TerritoryID, r.ThemeID).Attendance.Invited = r.Invited
	}
	return nil
}

// themedSections is the live sections with a theme of documents that are
// not archived, in sc, with the document's territory.
// table is sections AS s, or a table (or a subquery, with its args) joined
// to s by its section_id.
func (s *Service) themedSections(sc scope, table string, args ...any) *bun.SelectQuery {
	q := s.db.NewSelect().TableExpr(table, args...)
	if alias := table[strings.LastIndex(table, " ")+1:]; alias != "s" {
		q = q.Join("JOIN sections AS s ON s.id = " + alias + ".section_id")
	}
	return sc.in(q.Join("JOIN documents AS d ON d.id = s.document_id").
		Where("s.removed_at IS NULL").Where("s.theme_id IS NOT NULL").Where("d.archived_at IS NULL"), "d.territory_id")
}

func (s *Service) sectionCounts(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Count       int `bun:"n"`
		WithContent int `bun:"with_content"`
	}
	err := s.themedSections(sc, "sections AS s").
		ColumnExpr("d.territory_id, s.theme_id").
		ColumnExpr("COUNT(*) AS n").
		ColumnExpr("SUM(CASE WHEN s.length > 0 THEN 1 ELSE 0 END) AS with_content").
		GroupExpr("d.territory_id, s.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		sec := &cell(r.TerritoryID, r.ThemeID).Sections
		sec.Count, sec.WithContent = r.Count, r.WithContent
	}
	return nil
}

// contributors counts the distinct authors of each cell's operations. The
// log is first reduced to its distinct (section, author) pairs, a few per
// section, before the join and the per-cell COUNT(DISTINCT): counting
// distinct authors over the joined log sorted the whole log
// (docs/benchmarks.md § Tracking).
func (s *Service) contributors(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Contributors int `bun:"contributors"`
	}
	err := s.themedSections(sc, "(SELECT DISTINCT section_id, author_id FROM section_ops) AS o").
		ColumnExpr("d.territory_id, s.theme_id").
		ColumnExpr("COUNT(DISTINCT o.author_id) AS contributors").
		GroupExpr("d.territory_id, s.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		cell(r.TerritoryID, r.ThemeID).Sections.Contributors = r.Contributors
	}
	return nil
}

// edits counts the operations of the last 30 days, through the index on
// section_ops(created_at): the window, not the whole log, is read, and
// counted per section before the join with the sections and documents.
func (s *Service) edits(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Week  int `bun:"week"`
		Month int `bun:"month"`
	}
	err := s.themedSections(sc, "(SELECT section_id, SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END) AS week, COUNT(*) AS month "+
		"FROM section_ops WHERE created_at > ? GROUP BY section_id) AS o", sc.now.AddDate(0, 0, -7), sc.now.AddDate(0, 0, -30)).
		ColumnExpr("d.territory_id, s.theme_id").
		ColumnExpr("SUM(o.week) AS week, SUM(o.month) AS month").
		GroupExpr("d.territory_id, s.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		sec := &cell(r.TerritoryID, r.ThemeID).Sections
		sec.Edits7Days, sec.Edits30Days = r.Week, r.Month
	}
	return nil
}

// words counts the words of the sections' current texts: each snapshot
// (one statement for all sections) plus the operations after it (one
// more), applied in Go. A snapshot is followed by at most
// coedit.Options.SnapshotEvery operations, so the second read is bounded by
// the number of sections, not by the log's length.
//
// The second statement asks for the operations after the versions the
// first one read, as one range of the log's primary key per section: the
// committer may move a snapshot between the two statements, and the
// operations after the new one do not apply to the text read. The ranges
// also let PostgreSQL read them through the index, where a join on
// version > snapshot version read the whole log.
func (s *Service) words(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var snaps []struct {
		groupRow
		SectionID int64  `bun:"section_id"`
		Version   int64  `bun:"version"`
		Text      string `bun:"text"`
	}
	err := s.themedSections(sc, "section_snapshots AS sn").
		ColumnExpr("d.territory_id, s.theme_id, sn.section_id, sn.version, sn.text").
		Scan(ctx, &snaps)
	if err != nil {
		return err
	}
	var ops []struct {
		SectionID int64 `bun:"section_id"`
		Op        ot.Op `bun:"op"`
	}
	q := s.db.NewSelect().TableExpr("section_ops AS o").ColumnExpr("o.section_id, o.op").OrderExpr("o.section_id, o.version")
	if len(snaps) == 0 {
		q = q.Where("1 = 0") // still one statement: the count stays fixed
	}
	for _, sn := range snaps {
		q = q.WhereOr("(o.section_id = ? AND o.version > ?)", sn.SectionID, sn.Version)
	}
	if err := q.Scan(ctx, &ops); err != nil {
		return err
	}
	after := map[int64][]ot.Op{}
	for _, o := range ops {
		after[o.SectionID] = append(after[o.SectionID], o.Op)
	}
	for _, sn := range snaps {
		text := sn.Text
		for _, o := range after[sn.SectionID] {
			if text, err = ot.Apply(text, o); err != nil {
				return err
			}
		}
		cell(sn.TerritoryID, sn.ThemeID).Sections.Words += len(strings.Fields(text))
	}
	return nil
}

func (s *Service) comments(ctx context.Context, sc scope, cell func(int64, int64) *Cell) error {
	var rows []struct {
		groupRow
		Open     int `bun:"open"`
		Resolved int `bun:"resolved"`
	}
	err := s.themedSections(sc, "comments AS c").
		Where("c.parent_id IS NULL").
		ColumnExpr("d.territory_id, s.theme_id").
		ColumnExpr("SUM(CASE WHEN c.resolved_at IS NULL THEN 1 ELSE 0 END) AS open").
		ColumnExpr("SUM(CASE WHEN c.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved").
		GroupExpr("d.territory_id, s.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		cm := &cell(r.TerritoryID, r.ThemeID).Comments
		cm.Open, cm.Resolved = r.Open, r.Resolved
	}
	return nil
}
