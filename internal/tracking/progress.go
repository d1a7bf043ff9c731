package tracking

import (
	"context"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Progress is where one territory's working group stands.
type Progress struct {
	Territory *reference.Territory
	// GroupID is the territory's working group (not archived), or 0 when
	// it has none: then everything below is empty.
	GroupID     int64
	Composition Composition
	Milestones  Milestones
	// Documents are the group's documents that are not archived, oldest
	// first, each with its status and history.
	Documents []*DocumentProgress
	// LastActivity is the latest of: a section operation, a comment, a
	// change to a meeting, a register entry; nil when there was none.
	LastActivity *time.Time
}

// Composition counts the group's current members.
type Composition struct {
	Members int
	// ByKind and ByLevel count members by the kind and governance level of
	// the organization they sit for; members for no organization are
	// NoOrganization.
	ByKind         []KindCount
	ByLevel        []LevelCount
	ByRole         []RoleCount
	NoOrganization int
}

// LevelCount is how many members sit for organizations of one level.
type LevelCount struct {
	Level network.Level
	Count int
}

// RoleCount is how many members hold one role.
type RoleCount struct {
	Role  access.TerritoryRole
	Count int
}

// Milestones are the dates the group reached each step; nil when not yet.
type Milestones struct {
	GroupFormed      *time.Time // formed_on, or the group's creation
	FirstMeetingHeld *time.Time // the start of the first held meeting
	AllThemesHeld    *time.Time // the first held meeting of the fourth theme to get one
	InReview         *time.Time // first move of a document to IN_REVIEW
	Approved         *time.Time // first move to APPROVED
	Published        *time.Time // first move to PUBLISHED
}

// DocumentProgress is one document's status and its history.
type DocumentProgress struct {
	ID          int64
	Title       string
	Status      coedit.Status
	Transitions []*coedit.Transition // oldest first
}

// TerritoryProgress returns the progress of the territory with code (two
// letters, any case). It returns BAD_USER_INPUT for a malformed code,
// NOT_FOUND for an unknown one, UNAUTHENTICATED for an anonymous caller and
// FORBIDDEN for one without a global role or a territory role.
func (s *Service) TerritoryProgress(ctx context.Context, code string) (*Progress, error) {
	const op = "tracking.TerritoryProgress"
	if err := check(ctx); err != nil {
		return nil, err
	}
	t, err := s.ref.TerritoryByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	p := &Progress{Territory: t}
	var groups []network.WorkingGroup
	err = s.db.NewSelect().Model(&groups).Where("territory_id = ?", t.ID).Where("archived_at IS NULL").
		Order("id").Limit(1).Scan(ctx)
	if err != nil {
		return nil, storage.MapError(op, "working group", err)
	}
	if len(groups) == 0 {
		return p, nil
	}
	group := groups[0]
	p.GroupID = group.ID
	for _, step := range []func(context.Context, *Progress) error{
		s.composition, s.meetingMilestones, s.documents, s.lastActivity,
	} {
		if err := step(ctx, p); err != nil {
			return nil, storage.MapError(op, "figure", err)
		}
	}
	p.Milestones.GroupFormed = utc(&group.CreatedAt)
	if group.FormedOn != nil {
		p.Milestones.GroupFormed = utc(group.FormedOn)
	}
	return p, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Service) composition(ctx context.Context, p *Progress) error {
	var rows []struct {
		Role  access.TerritoryRole `bun:"role"`
		Kind  *network.Kind        `bun:"kind"`
		Level *network.Level       `bun:"level"`
		Count int                  `bun:"n"`
	}
	err := s.db.NewSelect().TableExpr("working_group_members AS wgm").
		Join("LEFT JOIN organizations AS o ON o.id = wgm.organization_id").
		Where("wgm.working_group_id = ?", p.GroupID).Where("wgm.left_at IS NULL").
		ColumnExpr("wgm.role, o.kind, o.level, COUNT(*) AS n").
		GroupExpr("wgm.role, o.kind, o.level").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	kinds, levels, roles := map[network.Kind]int{}, map[network.Level]int{}, map[access.TerritoryRole]int{}
	c := &p.Composition
	for _, r := range rows {
		c.Members += r.Count
		roles[r.Role] += r.Count
		if r.Kind == nil {
			c.NoOrganization += r.Count
			continue
		}
		kinds[*r.Kind] += r.Count
		if r.Level != nil {
			levels[*r.Level] += r.Count
		}
	}
	for _, k := range network.Kinds {
		if kinds[k] > 0 {
			c.ByKind = append(c.ByKind, KindCount{Kind: k, Count: kinds[k]})
		}
	}
	for _, l := range network.Levels {
		if levels[l] > 0 {
			c.ByLevel = append(c.ByLevel, LevelCount{Level: l, Count: levels[l]})
		}
	}
	for _, r := range access.TerritoryRoles {
		if roles[r] > 0 {
			c.ByRole = append(c.ByRole, RoleCount{Role: r, Count: roles[r]})
		}
	}
	return nil
}

func (s *Service) meetingMilestones(ctx context.Context, p *Progress) error {
	var rows []struct {
		ThemeID int64     `bun:"theme_id"`
		First   time.Time `bun:"first"`
	}
	err := s.db.NewSelect().TableExpr("meetings AS m").
		Where("m.territory_id = ?", p.Territory.ID).Where("m.status = 'HELD'").
		ColumnExpr("m.theme_id, MIN(m.starts_at) AS first").
		GroupExpr("m.theme_id").Scan(ctx, &rows)
	if err != nil {
		return err
	}
	var firsts []time.Time
	for _, r := range rows {
		firsts = append(firsts, r.First.UTC())
	}
	if len(firsts) == 0 {
		return nil
	}
	slices.SortFunc(firsts, time.Time.Compare)
	p.Milestones.FirstMeetingHeld = utc(&firsts[0])
	if len(firsts) >= 4 { // the four themes
		p.Milestones.AllThemesHeld = utc(&firsts[len(firsts)-1])
	}
	return nil
}

func (s *Service) documents(ctx context.Context, p *Progress) error {
	var docs []coedit.Document
	err := s.db.NewSelect().Model(&docs).Where("working_group_id = ?", p.GroupID).Where("archived_at IS NULL").
		Order("created_at", "id").Scan(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]*DocumentProgress{}
	var ids []int64
	for _, d := range docs {
		dp := &DocumentProgress{ID: d.ID, Title: d.Title, Status: d.Status}
		p.Documents = append(p.Documents, dp)
		byID[d.ID] = dp
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	var ts []*coedit.Transition
	if err := s.db.NewSelect().Model(&ts).Where("document_id IN (?)", bun.In(ids)).Order("at", "id").Scan(ctx); err != nil {
		return err
	}
	m := &p.Milestones
	for _, t := range ts {
		byID[t.DocumentID].Transitions = append(byID[t.DocumentID].Transitions, t)
		at := t.At.UTC()
		switch t.To {
		case coedit.InReview:
			m.InReview = earliest(m.InReview, at)
		case coedit.Approved:
			m.Approved = earliest(m.Approved, at)
		case coedit.Published:
			m.Published = earliest(m.Published, at)
		}
	}
	return nil
}

func earliest(t *time.Time, at time.Time) *time.Time {
	if t == nil || at.Before(*t) {
		return &at
	}
	return t
}

// lastActivity reads the latest time of each kind of activity in one
// statement.
func (s *Service) lastActivity(ctx context.Context, p *Progress) error {
	var rows []struct {
		At *time.Time `bun:"at"`
	}
	err := s.db.NewRaw(`SELECT MAX(o.created_at) AS at FROM section_ops AS o
			JOIN sections AS s ON s.id = o.section_id JOIN documents AS d ON d.id = s.document_id
			WHERE d.working_group_id = ?0
		UNION ALL SELECT MAX(c.updated_at) FROM comments AS c JOIN documents AS d ON d.id = c.document_id
			WHERE d.working_group_id = ?0
		UNION ALL SELECT MAX(m.updated_at) FROM meetings AS m WHERE m.territory_id = ?1
		UNION ALL SELECT MAX(a.checked_in_at) FROM meeting_attendance AS a JOIN meetings AS m ON m.id = a.meeting_id
			WHERE m.territory_id = ?1`, p.GroupID, p.Territory.ID).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.At != nil && (p.LastActivity == nil || r.At.After(*p.LastActivity)) {
			p.LastActivity = utc(r.At)
		}
	}
	return nil
}
