package coedit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// DocumentInput creates a document.
type DocumentInput struct {
	WorkingGroupID int64
	Title          string
	Sections       []SectionInput
}

// SectionInput is a new section.
type SectionInput struct {
	Title   string
	ThemeID *int64
	Body    string
}

// AddSectionInput adds a section to a document at Position (nil: at the end).
type AddSectionInput struct {
	DocumentID       int64
	StructureVersion int
	Position         *int
	SectionInput
}

// DocumentFilter narrows Documents.
type DocumentFilter struct {
	TerritoryID     int64 // 0: all
	Status          Status
	IncludeArchived bool
}

const (
	// maxTitle is the longest document or section title, in characters.
	maxTitle = 300
	// maxSections is the most sections a document may have, removed ones
	// included, so that a document stays one screen of outline.
	maxSections = 500
	// firstStructureVersion is a new document's structure version.
	firstStructureVersion = 1
)

// workingGroup is the little coedit reads of a working group (package
// network owns the table; coedit does not import it, cmd/piad wires them):
// its territory and whether it is archived. Read-only.
type workingGroup struct {
	bun.BaseModel `bun:"table:working_groups,alias:wg"`

	ID          int64      `bun:"id"`
	TerritoryID int64      `bun:"territory_id"`
	ArchivedAt  *time.Time `bun:"archived_at"`
}

// knownStatus reports whether st is a known status.
func knownStatus(st Status) bool {
	return slices.Contains([]Status{Draft, InReview, Approved, Published}, st)
}

// cleanTitle trims a title, collapses its runs of white space and checks it:
// valid UTF-8, 1 to maxTitle characters, no control characters.
func cleanTitle(op, field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", apperr.Invalid(op, field, "the title is not valid UTF-8").WithReason("INVALID_UTF8")
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", apperr.Invalid(op, field, "a title is required")
	}
	if n := utf8.RuneCountInString(s); n > maxTitle {
		return "", apperr.Invalid(op, field, "the title has %d characters; the most is %d", n, maxTitle)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", apperr.Invalid(op, field, "the title contains control characters")
	}
	return s, nil
}

// checkBody checks a section's initial text: valid UTF-8 without NUL (which
// PostgreSQL cannot store), at most MaxSectionRunes code points. It is kept
// exactly as given: clients count positions in it.
func (s *Service) checkBody(op, field, body string) (int, error) {
	if !utf8.ValidString(body) {
		return 0, apperr.Invalid(op, field, "the text is not valid UTF-8").WithReason("INVALID_UTF8")
	}
	if strings.IndexByte(body, 0) >= 0 {
		return 0, apperr.Invalid(op, field, "the text contains a NUL character, which cannot be stored")
	}
	n := utf8.RuneCountInString(body)
	if n > s.o.MaxSectionRunes {
		return 0, apperr.Invalid(op, field, "the text has %d characters; a section holds at most %d", n, s.o.MaxSectionRunes).
			WithReason("SECTION_TOO_LARGE")
	}
	return n, nil
}

// checkThemes returns BAD_USER_INPUT naming the field of the first theme id
// that does not exist, in one statement. fields[i] names ids[i].
func checkThemes(ctx context.Context, db bun.IDB, op string, ids []*int64, fields []string) error {
	var want []int64
	for _, id := range ids {
		if id != nil {
			want = append(want, *id)
		}
	}
	if len(want) == 0 {
		return nil
	}
	var found []int64
	if err := db.NewSelect().Table("themes").Column("id").Where("id IN (?)", bun.In(want)).Scan(ctx, &found); err != nil {
		return storage.MapError(op, "theme", err)
	}
	for i, id := range ids {
		if id != nil && !slices.Contains(found, *id) {
			return apperr.Invalid(op, fields[i], "there is no theme with id %d", *id)
		}
	}
	return nil
}

// CreateDocument creates a document of a working group, in DRAFT
// (CreateDocument: coordinators of its territory, administrators), with its
// sections in order, each at version 0 with its body as snapshot. It returns
// UNAUTHENTICATED when nobody is signed in, BAD_USER_INPUT for an unknown
// group, theme or bad values (reason SECTION_TOO_LARGE for a body over
// MaxSectionRunes, INVALID_UTF8), CONFLICT for an archived group and
// FORBIDDEN for someone else.
func (s *Service) CreateDocument(ctx context.Context, in DocumentInput) (*Document, error) {
	const op = "coedit.CreateDocument"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	title, err := cleanTitle(op, "title", in.Title)
	if err != nil {
		return nil, err
	}
	if len(in.Sections) > maxSections {
		return nil, apperr.Invalid(op, "sections", "a document has at most %d sections; got %d", maxSections, len(in.Sections))
	}
	secs := make([]*Section, len(in.Sections))
	themes := make([]*int64, len(in.Sections))
	themeFields := make([]string, len(in.Sections))
	for i, si := range in.Sections {
		t, err := cleanTitle(op, fmt.Sprintf("sections[%d].title", i), si.Title)
		if err != nil {
			return nil, err
		}
		n, err := s.checkBody(op, fmt.Sprintf("sections[%d].body", i), si.Body)
		if err != nil {
			return nil, err
		}
		secs[i] = &Section{Position: i, Title: t, ThemeID: si.ThemeID, Length: n}
		themes[i], themeFields[i] = si.ThemeID, fmt.Sprintf("sections[%d].theme", i)
	}
	var d *Document
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		g := new(workingGroup)
		if err := tx.NewSelect().Model(g).Where("id = ?", in.WorkingGroupID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.Invalid(op, "workingGroupId", "there is no working group with this id")
			}
			return storage.MapError(op, "working group", err)
		}
		if err := access.Check(ctx, access.CreateDocument, access.Resource{TerritoryID: g.TerritoryID}); err != nil {
			return err
		}
		if g.ArchivedAt != nil {
			return &apperr.Error{Kind: apperr.Conflict, Op: op, Field: "workingGroupId",
				Message: "this working group is archived; restore it before writing documents"}
		}
		if err := checkThemes(ctx, tx, op, themes, themeFields); err != nil {
			return err
		}
		now := s.now()
		d = &Document{WorkingGroupID: g.ID, TerritoryID: g.TerritoryID, Title: title, Status: Draft,
			StructureVersion: firstStructureVersion, CreatedAt: now, UpdatedAt: now, CreatedBy: actorID(ctx)}
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			return storage.MapError(op, "document", err)
		}
		if err := s.logTx(ctx, tx, activity.Entry{Kind: activity.DocumentNew}, d); err != nil {
			return err
		}
		if len(secs) == 0 {
			return nil
		}
		for _, sec := range secs {
			sec.DocumentID, sec.CreatedAt, sec.UpdatedAt, sec.CreatedBy = d.ID, now, now, d.CreatedBy
		}
		if _, err := tx.NewInsert().Model(&secs).Exec(ctx); err != nil {
			return storage.MapError(op, "section", err)
		}
		snaps := make([]*SectionSnapshot, len(secs))
		for i, sec := range secs {
			snaps[i] = &SectionSnapshot{SectionID: sec.ID, Text: in.Sections[i].Body}
		}
		_, err := tx.NewInsert().Model(&snaps).Exec(ctx)
		return storage.MapError(op, "section", err)
	})
	if err != nil {
		return nil, err
	}
	// Nobody follows a document that did not exist, but the watchers of
	// its territory (the live tracking figures) count its sections.
	s.publishDoc(ctx, DocEvent{Kind: DocStructure, DocumentID: d.ID})
	return d, nil
}

// Document returns a document the caller may read: NOT_FOUND otherwise.
func (s *Service) Document(ctx context.Context, id int64) (*Document, error) {
	const op = "coedit.Document"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	d, err := s.document(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	return d, nil
}

// readable restricts q, a select of documents (or of rows with a document's
// territory in column), to those the actor in ctx may read
// (access.ReadDocument): everything for administrators and policy makers,
// their territories' for the others. It mirrors the rule in package access,
// so that a list's totalCount counts only what the caller sees.
func readable(ctx context.Context, q *bun.SelectQuery, column string) *bun.SelectQuery {
	a := access.ActorFrom(ctx)
	if a.Has(access.Admin) || a.Has(access.PolicyMaker) {
		return q
	}
	var terr []int64
	for t, r := range a.Territories {
		if r != "" {
			terr = append(terr, t)
		}
	}
	if len(terr) == 0 {
		return q.Where("1 = 0")
	}
	slices.Sort(terr)
	return q.Where(column+" IN (?)", bun.In(terr))
}

// readableSections restricts q, a select of sections aliased "section", to
// the sections of documents the caller may read.
func readableSections(ctx context.Context, db bun.IDB, q *bun.SelectQuery) *bun.SelectQuery {
	a := access.ActorFrom(ctx)
	if a.Has(access.Admin) || a.Has(access.PolicyMaker) {
		return q
	}
	sub := readable(ctx, db.NewSelect().Table("documents").Column("id"), "territory_id")
	return q.Where("section.document_id IN (?)", sub)
}

// Documents lists the documents the caller may read, newest first (by id),
// filtered by territory and status; archived ones only with
// IncludeArchived. An unknown status is BAD_USER_INPUT.
func (s *Service) Documents(ctx context.Context, f DocumentFilter, p relay.PageArgs) (*relay.Page[*Document], error) {
	const op = "coedit.Documents"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	q := readable(ctx, s.db.NewSelect().Model((*Document)(nil)), "document.territory_id")
	if f.TerritoryID != 0 {
		q = q.Where("document.territory_id = ?", f.TerritoryID)
	}
	if f.Status != "" {
		if !knownStatus(f.Status) {
			return nil, apperr.Invalid(op, "status", "%q is not a document status", f.Status)
		}
		q = q.Where("document.status = ?", f.Status)
	}
	if !f.IncludeArchived {
		q = q.Where("document.archived_at IS NULL")
	}
	page, err := relay.Paginate(ctx, q, p, relay.Order{IDColumn: "document.id", Desc: true},
		func(d *Document) (string, int64) { return "", d.ID })
	if err != nil {
		return nil, storage.MapError(op, "document", err)
	}
	return page, nil
}

// DocumentsOfGroups returns the documents of working groups, by group id,
// oldest first, keeping only those the caller may read. One statement.
func (s *Service) DocumentsOfGroups(ctx context.Context, groupIDs []int64) (map[int64][]*Document, error) {
	const op = "coedit.DocumentsOfGroups"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	out := make(map[int64][]*Document, len(groupIDs))
	if len(groupIDs) == 0 {
		return out, nil
	}
	var docs []*Document
	q := s.db.NewSelect().Model(&docs).Where("document.working_group_id IN (?)", bun.In(groupIDs)).Order("document.id")
	if err := readable(ctx, q, "document.territory_id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "document", err)
	}
	for _, d := range docs {
		out[d.WorkingGroupID] = append(out[d.WorkingGroupID], d)
	}
	return out, nil
}

// DocumentsByID returns documents the caller may read, by id; the others
// are absent. One statement.
func (s *Service) DocumentsByID(ctx context.Context, ids []int64) (map[int64]*Document, error) {
	const op = "coedit.DocumentsByID"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	out := make(map[int64]*Document, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var docs []*Document
	q := s.db.NewSelect().Model(&docs).Where("document.id IN (?)", bun.In(ids))
	if err := readable(ctx, q, "document.territory_id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "document", err)
	}
	for _, d := range docs {
		out[d.ID] = d
	}
	return out, nil
}

// editStructure runs fn in a transaction on document id, locked, once the
// caller may edit it (EditDocument), it is in DRAFT (CONFLICT NOT_DRAFT)
// and structureVersion is its current one (CONFLICT STALE_STRUCTURE). fn
// changes the structure; editStructure then bumps the structure version
// and updated_at, and, after the commit, announces a STRUCTURE event.
func (s *Service) editStructure(ctx context.Context, op string, id int64, structureVersion int,
	fn func(ctx context.Context, tx bun.Tx, d *Document, now time.Time) error) (*Document, error) {
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	var d *Document
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if d, err = s.lockDocument(ctx, tx, id); err != nil {
			return apperr.Wrap(op, err)
		}
		if err := s.authorize(ctx, access.EditDocument, d); err != nil {
			return err
		}
		if d.Status != Draft {
			return apperr.E(apperr.Conflict, op, "the document is %s; its structure changes only in DRAFT", d.Status).WithReason("NOT_DRAFT")
		}
		if d.StructureVersion != structureVersion {
			return (&apperr.Error{Kind: apperr.Conflict, Op: op, Field: "structureVersion",
				Message: fmt.Sprintf("the document's structure changed meanwhile (now at version %d, you sent %d); reload it and try again",
					d.StructureVersion, structureVersion)}).WithReason("STALE_STRUCTURE")
		}
		now := s.now()
		if err := fn(ctx, tx, d, now); err != nil {
			return err
		}
		d.StructureVersion++
		d.UpdatedAt = now
		_, err = tx.NewUpdate().Model(d).Column("title", "structure_version", "updated_at").WherePK().Exec(ctx)
		return storage.MapError(op, "document", err)
	})
	if err != nil {
		return nil, err
	}
	s.publishDoc(ctx, DocEvent{Kind: DocStructure, DocumentID: d.ID})
	return d, nil
}

// UpdateDocument renames a document (EditDocument, in DRAFT);
// structureVersion must be current (CONFLICT, reason STALE_STRUCTURE,
// otherwise). NOT_FOUND for a document the caller may not read, FORBIDDEN
// for one they may only read, CONFLICT NOT_DRAFT out of DRAFT.
func (s *Service) UpdateDocument(ctx context.Context, id int64, structureVersion int, title string) (*Document, error) {
	const op = "coedit.UpdateDocument"
	title, err := cleanTitle(op, "title", title)
	if err != nil {
		return nil, err
	}
	return s.editStructure(ctx, op, id, structureVersion, func(_ context.Context, _ bun.Tx, d *Document, _ time.Time) error {
		d.Title = title
		return nil
	})
}

// sectionSelect selects sections into model (their texts are
// SectionText's).
func sectionSelect(db bun.IDB, model any) *bun.SelectQuery {
	return db.NewSelect().Model(model)
}

// Section returns a section the caller may read, removed ones included;
// NOT_FOUND otherwise. SectionText gives its text.
func (s *Service) Section(ctx context.Context, id int64) (*Section, error) {
	const op = "coedit.Section"
	if _, err := s.readSection(ctx, op, id); err != nil {
		return nil, err
	}
	sec := new(Section)
	if err := sectionSelect(s.db, sec).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "section not found")
		}
		return nil, storage.MapError(op, "section", err)
	}
	return sec, nil
}

// readSection checks that the caller may read section id (NOT_FOUND
// otherwise) and returns its document and territory.
func (s *Service) readSection(ctx context.Context, op string, id int64) (sectionMeta, error) {
	if err := requireActor(ctx, op); err != nil {
		return sectionMeta{}, err
	}
	m, err := s.sectionMeta(ctx, s.db, id)
	if err != nil {
		return m, apperr.Wrap(op, err)
	}
	if err := s.authorize(ctx, access.ReadDocument, &Document{ID: m.DocumentID, TerritoryID: m.TerritoryID}); err != nil {
		return m, apperr.E(apperr.NotFound, op, "section not found")
	}
	return m, nil
}

// SectionsOfDocuments returns the sections of documents in order, by
// document id: the live ones by position, then (with includeRemoved) the
// removed ones in the order they were removed. Documents the caller may not
// read are absent. One statement.
func (s *Service) SectionsOfDocuments(ctx context.Context, ids []int64, includeRemoved bool) (map[int64][]*Section, error) {
	const op = "coedit.SectionsOfDocuments"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	out := make(map[int64][]*Section, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var secs []*Section
	q := sectionSelect(s.db, &secs).Where("section.document_id IN (?)", bun.In(ids))
	if !includeRemoved {
		q = q.Where("section.removed_at IS NULL")
	}
	q = q.OrderExpr("section.document_id, CASE WHEN section.removed_at IS NULL THEN 0 ELSE 1 END, section.position, section.removed_at, section.id")
	if err := readableSections(ctx, s.db, q).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "section", err)
	}
	for _, sec := range secs {
		out[sec.DocumentID] = append(out[sec.DocumentID], sec)
	}
	return out, nil
}

// SectionsByID returns sections the caller may read, by id, removed ones
// included; the others are absent. One statement.
func (s *Service) SectionsByID(ctx context.Context, ids []int64) (map[int64]*Section, error) {
	const op = "coedit.SectionsByID"
	if err := requireActor(ctx, op); err != nil {
		return nil, err
	}
	out := make(map[int64]*Section, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var secs []*Section
	q := sectionSelect(s.db, &secs).Where("section.id IN (?)", bun.In(ids))
	if err := readableSections(ctx, s.db, q).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "section", err)
	}
	for _, sec := range secs {
		out[sec.ID] = sec
	}
	return out, nil
}

// SectionText returns a section's current text and its version, for a
// section the caller may read (NOT_FOUND otherwise).
func (s *Service) SectionText(ctx context.Context, id int64) (string, int64, error) {
	const op = "coedit.SectionText"
	if _, err := s.readSection(ctx, op, id); err != nil {
		return "", 0, err
	}
	text, v, err := s.textAt(ctx, id)
	return text, v, apperr.Wrap(op, err)
}

// renumber writes positions 0..n-1 to the sections of order, in one
// statement, for the rows whose position changes (old holds the positions
// as read, by id; absent means changed).
func renumber(ctx context.Context, tx bun.IDB, op string, order []int64, old map[int64]int) error {
	var b strings.Builder
	var args []any
	var ids []int64
	b.WriteString("UPDATE sections SET position = CASE id")
	for i, id := range order {
		if p, ok := old[id]; id == 0 || (ok && p == i) {
			continue
		}
		b.WriteString(" WHEN ? THEN ?")
		args = append(args, id, i)
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	b.WriteString(" ELSE position END WHERE id IN (?)")
	args = append(args, bun.In(ids))
	_, err := tx.NewRaw(b.String(), args...).Exec(ctx)
	return storage.MapError(op, "section", err)
}

// positions reads the current positions of a document's live sections.
func positions(ctx context.Context, tx bun.IDB, op string, docID int64) ([]int64, map[int64]int, error) {
	var rows []struct {
		ID       int64 `bun:"id"`
		Position int   `bun:"position"`
	}
	err := tx.NewSelect().Table("sections").Column("id", "position").Where("document_id = ?", docID).
		Where("removed_at IS NULL").Order("position", "id").Scan(ctx, &rows)
	if err != nil {
		return nil, nil, storage.MapError(op, "section", err)
	}
	order := make([]int64, len(rows))
	old := make(map[int64]int, len(rows))
	for i, r := range rows {
		order[i], old[r.ID] = r.ID, r.Position
	}
	return order, old, nil
}

// AddSection adds a section to a document at a position among its live
// sections (nil: at the end), with its body as the snapshot at version 0
// (EditDocument, in DRAFT, at the current structure version). A position
// outside 0..n is BAD_USER_INPUT; see UpdateDocument for the other errors.
func (s *Service) AddSection(ctx context.Context, in AddSectionInput) (*Section, error) {
	const op = "coedit.AddSection"
	title, err := cleanTitle(op, "title", in.Title)
	if err != nil {
		return nil, err
	}
	n, err := s.checkBody(op, "body", in.Body)
	if err != nil {
		return nil, err
	}
	sec := &Section{Title: title, ThemeID: in.ThemeID, Length: n, CreatedBy: actorID(ctx)}
	_, err = s.editStructure(ctx, op, in.DocumentID, in.StructureVersion, func(ctx context.Context, tx bun.Tx, d *Document, now time.Time) error {
		if err := checkThemes(ctx, tx, op, []*int64{in.ThemeID}, []string{"theme"}); err != nil {
			return err
		}
		total, err := tx.NewSelect().Table("sections").Where("document_id = ?", d.ID).Count(ctx)
		if err != nil {
			return storage.MapError(op, "section", err)
		}
		if total >= maxSections {
			return apperr.E(apperr.Conflict, op, "a document has at most %d sections, removed ones included", maxSections)
		}
		order, old, err := positions(ctx, tx, op, d.ID)
		if err != nil {
			return err
		}
		pos := len(order)
		if in.Position != nil {
			if *in.Position < 0 || *in.Position > len(order) {
				return apperr.Invalid(op, "position", "a position is between 0 and %d; got %d", len(order), *in.Position)
			}
			pos = *in.Position
		}
		sec.DocumentID, sec.Position, sec.CreatedAt, sec.UpdatedAt = d.ID, pos, now, now
		// Make room (0 holds the new section's place).
		if err := renumber(ctx, tx, op, slices.Insert(order, pos, 0), old); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(sec).Exec(ctx); err != nil {
			return storage.MapError(op, "section", err)
		}
		_, err = tx.NewInsert().Model(&SectionSnapshot{SectionID: sec.ID, Text: in.Body}).Exec(ctx)
		return storage.MapError(op, "section", err)
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// structuralSection loads section id of document d in tx, or NOT_FOUND
// (BAD_USER_INPUT never: the id came from the caller's own listing).
func structuralSection(ctx context.Context, tx bun.IDB, op string, id int64) (*Section, error) {
	sec := new(Section)
	if err := sectionSelect(tx, sec).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "section not found")
		}
		return nil, storage.MapError(op, "section", err)
	}
	return sec, nil
}

// sectionDocument is the document of section id, for structural changes;
// NOT_FOUND when the caller may not read it.
func (s *Service) sectionDocument(ctx context.Context, op string, id int64) (int64, error) {
	m, err := s.readSection(ctx, op, id)
	return m.DocumentID, err
}

// UpdateSection renames a section and sets its theme (nil: none)
// (EditDocument, in DRAFT, at the current structure version). A removed
// section is CONFLICT; an unknown theme BAD_USER_INPUT; see UpdateDocument
// for the other errors.
func (s *Service) UpdateSection(ctx context.Context, id int64, structureVersion int, title string, themeID *int64) (*Section, error) {
	const op = "coedit.UpdateSection"
	title, err := cleanTitle(op, "title", title)
	if err != nil {
		return nil, err
	}
	docID, err := s.sectionDocument(ctx, op, id)
	if err != nil {
		return nil, err
	}
	var sec *Section
	_, err = s.editStructure(ctx, op, docID, structureVersion, func(ctx context.Context, tx bun.Tx, d *Document, now time.Time) error {
		if err := checkThemes(ctx, tx, op, []*int64{themeID}, []string{"theme"}); err != nil {
			return err
		}
		if sec, err = structuralSection(ctx, tx, op, id); err != nil {
			return err
		}
		if sec.Removed != nil {
			return apperr.E(apperr.Conflict, op, "this section was removed; it cannot change")
		}
		sec.Title, sec.ThemeID, sec.UpdatedAt = title, themeID, now
		_, err := tx.NewUpdate().Model(sec).Column("title", "theme_id", "updated_at").WherePK().Exec(ctx)
		return storage.MapError(op, "section", err)
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// MoveSection moves a live section to position among the live sections
// (0..n-1, BAD_USER_INPUT otherwise) and returns the document
// (EditDocument, in DRAFT, at the current structure version). A removed
// section is CONFLICT.
func (s *Service) MoveSection(ctx context.Context, id int64, structureVersion int, position int) (*Document, error) {
	const op = "coedit.MoveSection"
	docID, err := s.sectionDocument(ctx, op, id)
	if err != nil {
		return nil, err
	}
	return s.editStructure(ctx, op, docID, structureVersion, func(ctx context.Context, tx bun.Tx, d *Document, now time.Time) error {
		order, old, err := positions(ctx, tx, op, d.ID)
		if err != nil {
			return err
		}
		i := slices.Index(order, id)
		if i < 0 {
			return apperr.E(apperr.Conflict, op, "this section was removed; it cannot move")
		}
		if position < 0 || position >= len(order) {
			return apperr.Invalid(op, "position", "a position is between 0 and %d; got %d", len(order)-1, position)
		}
		order = slices.Insert(slices.Delete(order, i, i+1), position, id)
		return renumber(ctx, tx, op, order, old)
	})
}

// RemoveSection removes a live section and returns the document
// (EditDocument, in DRAFT, at the current structure version). The section
// keeps its log, comments and last position; the live ones close up. A
// section removed already is CONFLICT.
func (s *Service) RemoveSection(ctx context.Context, id int64, structureVersion int) (*Document, error) {
	const op = "coedit.RemoveSection"
	docID, err := s.sectionDocument(ctx, op, id)
	if err != nil {
		return nil, err
	}
	return s.editStructure(ctx, op, docID, structureVersion, func(ctx context.Context, tx bun.Tx, d *Document, now time.Time) error {
		order, old, err := positions(ctx, tx, op, d.ID)
		if err != nil {
			return err
		}
		i := slices.Index(order, id)
		if i < 0 {
			return apperr.E(apperr.Conflict, op, "this section was removed already")
		}
		if _, err := tx.NewUpdate().Table("sections").Set("removed_at = ?", now).Set("removed_by = ?", actorID(ctx)).
			Set("updated_at = ?", now).Where("id = ?", id).Exec(ctx); err != nil {
			return storage.MapError(op, "section", err)
		}
		return renumber(ctx, tx, op, slices.Delete(order, i, i+1), old)
	})
}
