package meeting

// The participation report a FAMI-funded project hands in: per territory
// and theme, the meetings held in a period and who took part in them.
//
// Decisions:
//
//   - Only HELD meetings count, by their start: From included, To
//     excluded. A meeting planned, postponed or cancelled has no
//     participation to report, even when its register has entries.
//   - Participants are the distinct people of the directory plus the guest
//     entries: guests have no identity to tell them apart, so a guest who
//     came twice counts twice. People and guests are also given apart.
//   - Organizations are the distinct organizations of the directory
//     represented; a guest's free-text organization counts in none. By kind
//     and by sector count distinct organizations too (each has one kind),
//     so they add up to Organizations, unlike a register's totals, which
//     count entries.
//   - Totals are over the whole report, not sums of the cells: a person who
//     took part in two themes is one participant of the total.
//   - Counts only: no name, address or contact leaves the report, so
//     policy makers may have it for the region.
//   - A fixed number of aggregate statements (seven), whatever the data.

import (
	"bytes"
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/sheet"
	"github.com/pia-sicilia/pia/internal/storage"
)

// ReportFilter chooses what ParticipationReport covers.
type ReportFilter struct {
	// TerritoryID is the territory reported on; 0 is the whole region.
	TerritoryID int64
	// From and To bound the meetings' start: From included, To excluded;
	// nil is unbounded.
	From, To *time.Time
}

// Participation is what the report counts over a set of held meetings.
type Participation struct {
	MeetingsHeld int
	// Entries counts register entries, people and guests.
	Entries int
	// People counts distinct people of the directory; Guests counts guest
	// entries; Participants is their sum.
	People, Guests, Participants int
	// Organizations counts the distinct organizations of the directory
	// represented.
	Organizations int
	// ByKind and BySector count distinct organizations, in display order
	// (network.Kinds, network.Sectors), leaving out those with none.
	ByKind   []KindCount
	BySector []SectorCount
}

// ReportCell is the participation in one territory on one theme.
type ReportCell struct {
	Territory *reference.Territory
	Theme     *reference.Theme
	Participation
}

// ParticipationReport is the report: a cell per territory and theme
// (territories by name, themes in order, every pair listed, zero when
// nothing was held) and the totals over all of them.
type ParticipationReport struct {
	Filter ReportFilter
	Cells  []*ReportCell
	Total  Participation
}

// ParticipationReport counts the held meetings and their participation
// chosen by f, for those who read the registers concerned (ReadRegister in
// the territory; the region for administrators and policy makers).
// Errors: UNAUTHENTICATED without a session, FORBIDDEN for registers the
// actor may not read, NOT_FOUND for an unknown territory, BAD_USER_INPUT
// for a period that ends before it starts.
func (s *Service) ParticipationReport(ctx context.Context, f ReportFilter) (*ParticipationReport, error) {
	const op = "meeting.ParticipationReport"
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	if err := access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: f.TerritoryID}); err != nil {
		return nil, err
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return nil, apperr.Invalid(op, "to", "the period ends before it starts")
	}
	var territories []*reference.Territory
	q := s.db.NewSelect().Model(&territories).Order("name")
	if f.TerritoryID != 0 {
		q = q.Where("id = ?", f.TerritoryID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "territory", err)
	}
	if len(territories) == 0 {
		return nil, &apperr.Error{Kind: apperr.NotFound, Op: op, Field: "territory", Message: "territory not found"}
	}
	var themes []*reference.Theme
	if err := s.db.NewSelect().Model(&themes).Order("position", "id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "theme", err)
	}
	held := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("m.status = ?", Held)
		if f.TerritoryID != 0 {
			q = q.Where("m.territory_id = ?", f.TerritoryID)
		}
		if f.From != nil {
			q = q.Where("m.starts_at >= ?", f.From.UTC())
		}
		if f.To != nil {
			q = q.Where("m.starts_at < ?", f.To.UTC())
		}
		return q
	}
	type key struct{ territory, theme int64 }
	out := &ParticipationReport{Filter: f}
	cells := map[key]*ReportCell{}
	for _, t := range territories {
		for _, th := range themes {
			c := &ReportCell{Territory: t, Theme: th}
			cells[key{t.ID, th.ID}] = c
			out.Cells = append(out.Cells, c)
		}
	}

	var meetings []struct {
		TerritoryID int64 `bun:"territory_id"`
		ThemeID     int64 `bun:"theme_id"`
		N           int   `bun:"n"`
	}
	if err := held(s.db.NewSelect().TableExpr("meetings AS m").ColumnExpr("m.territory_id, m.theme_id, COUNT(*) AS n")).
		GroupExpr("m.territory_id, m.theme_id").Scan(ctx, &meetings); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	for _, r := range meetings {
		if c := cells[key{r.TerritoryID, r.ThemeID}]; c != nil {
			c.MeetingsHeld = r.N
			out.Total.MeetingsHeld += r.N
		}
	}

	type counts struct {
		TerritoryID   int64 `bun:"territory_id"`
		ThemeID       int64 `bun:"theme_id"`
		Entries       int   `bun:"entries"`
		People        int   `bun:"people"`
		Guests        int   `bun:"guests"`
		Organizations int   `bun:"organizations"`
	}
	entries := func(group bool) *bun.SelectQuery {
		q := s.db.NewSelect().Model((*Attendance)(nil)).Join("JOIN meetings AS m ON m.id = ma.meeting_id").
			ColumnExpr("COUNT(*) AS entries, COUNT(DISTINCT ma.person_id) AS people").
			ColumnExpr("COALESCE(SUM(CASE WHEN ma.person_id IS NULL THEN 1 ELSE 0 END), 0) AS guests").
			ColumnExpr("COUNT(DISTINCT ma.organization_id) AS organizations")
		if group {
			q = q.ColumnExpr("m.territory_id, m.theme_id").GroupExpr("m.territory_id, m.theme_id")
		}
		return held(q)
	}
	var byCell []counts
	if err := entries(true).Scan(ctx, &byCell); err != nil {
		return nil, storage.MapError(op, "attendance", err)
	}
	for _, r := range byCell {
		if c := cells[key{r.TerritoryID, r.ThemeID}]; c != nil {
			c.Entries, c.People, c.Guests, c.Organizations = r.Entries, r.People, r.Guests, r.Organizations
		}
	}
	var total counts
	if err := entries(false).Scan(ctx, &total); err != nil {
		return nil, storage.MapError(op, "attendance", err)
	}
	out.Total.Entries, out.Total.People, out.Total.Guests, out.Total.Organizations =
		total.Entries, total.People, total.Guests, total.Organizations

	type kindRow struct {
		TerritoryID int64        `bun:"territory_id"`
		ThemeID     int64        `bun:"theme_id"`
		Kind        network.Kind `bun:"kind"`
		N           int          `bun:"n"`
	}
	kinds := func(group bool) *bun.SelectQuery {
		q := s.db.NewSelect().Model((*Attendance)(nil)).Join("JOIN meetings AS m ON m.id = ma.meeting_id").
			Join("JOIN organizations AS o ON o.id = ma.organization_id").
			ColumnExpr("o.kind, COUNT(DISTINCT ma.organization_id) AS n")
		if group {
			q = q.ColumnExpr("m.territory_id, m.theme_id").GroupExpr("m.territory_id, m.theme_id, o.kind")
		} else {
			q = q.GroupExpr("o.kind")
		}
		return held(q)
	}
	var kindCells, kindTotals []kindRow
	if err := kinds(true).Scan(ctx, &kindCells); err != nil {
		return nil, storage.MapError(op, "organization", err)
	}
	if err := kinds(false).Scan(ctx, &kindTotals); err != nil {
		return nil, storage.MapError(op, "organization", err)
	}
	byKind := map[key]map[network.Kind]int{}
	for _, r := range kindCells {
		k := key{r.TerritoryID, r.ThemeID}
		if byKind[k] == nil {
			byKind[k] = map[network.Kind]int{}
		}
		byKind[k][r.Kind] = r.N
	}
	for k, c := range cells {
		c.fill(byKind[k])
	}
	totalKinds := map[network.Kind]int{}
	for _, r := range kindTotals {
		totalKinds[r.Kind] = r.N
	}
	out.Total.fill(totalKinds)
	return out, nil
}

// fill sets the participants and the counts by kind and sector.
func (p *Participation) fill(kinds map[network.Kind]int) {
	p.Participants = p.People + p.Guests
	sectors := map[network.Sector]int{}
	for _, k := range network.Kinds {
		if n := kinds[k]; n > 0 {
			p.ByKind = append(p.ByKind, KindCount{Kind: k, Count: n})
			sectors[k.Sector()] += n
		}
	}
	for _, sec := range network.Sectors {
		if n := sectors[sec]; n > 0 {
			p.BySector = append(p.BySector, SectorCount{Sector: sec, Count: n})
		}
	}
}

// The report's labels, in Italian.
var (
	reportHeader = []string{"Territorio", "Tema", "Incontri svolti", "Presenze", "Partecipanti", "Persone dell'elenco", "Ospiti",
		"Organizzazioni"}
	kindsHeader = []string{"Territorio", "Tema", "Tipo di organizzazione", "Settore", "Organizzazioni"}
)

// The report's sheets.
const (
	ReportSheet = "Territori e temi"
	KindsSheet  = "Per tipo"
	totalLabel  = "Totale"
)

// ExportParticipationReport writes ParticipationReport (same access and
// errors) as a file: CSV holds the sheet "Territori e temi", a row per
// territory and theme with the organizations by sector as columns, then a
// row of totals; XLSX holds it and the sheet "Per tipo", the organizations
// by kind of each territory and theme, then those of the totals.
func (s *Service) ExportParticipationReport(ctx context.Context, f ReportFilter, format sheet.Format) ([]byte, error) {
	const op = "meeting.ExportParticipationReport"
	r, err := s.ParticipationReport(ctx, f)
	if err != nil {
		return nil, err
	}
	main := sheet.Sheet{Name: ReportSheet}
	for _, h := range reportHeader {
		main.Columns = append(main.Columns, sheet.Column{Name: h})
	}
	for _, sec := range network.Sectors {
		main.Columns = append(main.Columns, sheet.Column{Name: "Organizzazioni: " + sec.Label()})
	}
	kinds := sheet.Sheet{Name: KindsSheet}
	for _, h := range kindsHeader {
		kinds.Columns = append(kinds.Columns, sheet.Column{Name: h})
	}
	add := func(territory, theme string, p *Participation) {
		row := []any{territory, theme, p.MeetingsHeld, p.Entries, p.Participants, p.People, p.Guests, p.Organizations}
		for _, sec := range network.Sectors {
			n := 0
			for _, c := range p.BySector {
				if c.Sector == sec {
					n = c.Count
				}
			}
			row = append(row, n)
		}
		main.Rows = append(main.Rows, row)
		for _, c := range p.ByKind {
			kinds.Rows = append(kinds.Rows, []any{territory, theme, kindLabel(c.Kind), c.Kind.Sector().Label(), c.Count})
		}
	}
	for _, c := range r.Cells {
		add(c.Territory.Name, c.Theme.Label("it"), &c.Participation)
	}
	add(totalLabel, "", &r.Total)
	sheets := []sheet.Sheet{main, kinds}
	if format == sheet.CSV {
		sheets = sheets[:1]
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, format, sheets...); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return b.Bytes(), nil
}
