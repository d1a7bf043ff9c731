package coedit

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/storage"
)

const (
	maxVersionName = 200
	maxNote        = 2000
)

// NameVersion snapshots a document under a name (EditDocument: its
// coordinators and members, administrators; in any status). Every live
// section is kept with its title, theme, position and text at its current
// version, all read at one moment: the document row is locked against
// structural changes meanwhile, and each text is the section's snapshot plus
// its log up to the version the same statement read. It returns NOT_FOUND
// for a document the caller may not read, FORBIDDEN when they may read but
// not edit it, and BAD_USER_INPUT for a name that is empty or longer than
// 200 characters or a note longer than 2,000.
func (s *Service) NameVersion(ctx context.Context, documentID int64, name, note string) (*Version, error) {
	const op = "coedit.NameVersion"
	name, err := featCleanLine(op, "name", name, maxVersionName, true)
	if err != nil {
		return nil, err
	}
	if note, err = featCleanText(op, "note", note, maxNote); err != nil {
		return nil, err
	}
	d, err := s.document(ctx, s.db, documentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.EditDocument, d); err != nil {
		return nil, err
	}
	var out *Version
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := featLockDocument(ctx, tx, op, documentID, "SHARE")
		if err != nil {
			return err
		}
		if out, err = s.freezeVersion(ctx, tx, op, d, NamedVersion, name, note, actorID(ctx)); err != nil {
			return err
		}
		return s.logTx(ctx, tx, activity.Entry{Kind: activity.VersionNamed, VersionID: &out.ID, Title: out.Name}, d)
	})
	if err != nil {
		return nil, err
	}
	s.publishDoc(ctx, DocEvent{Kind: DocVersion, DocumentID: documentID, VersionID: out.ID})
	return out, nil
}

// freezeVersion inserts a version of d, which the caller has locked in tx,
// with its live sections as they are now: their rows are locked (in id
// order, after the document, as the committer locks them) so that every
// text is read at the version the row holds.
func (s *Service) freezeVersion(ctx context.Context, tx bun.IDB, op string, d *Document, kind VersionKind, name, note string, by *int64) (*Version, error) {
	secs, err := featLiveSections(ctx, tx, op, d.ID, true)
	if err != nil {
		return nil, err
	}
	v := &Version{DocumentID: d.ID, Name: name, Note: note, Kind: kind, Title: d.Title, CreatedBy: by, CreatedAt: s.now()}
	if _, err := tx.NewInsert().Model(v).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "version", err)
	}
	if len(secs) == 0 {
		return v, nil
	}
	rows := make([]*VersionSection, len(secs))
	for i, sec := range secs {
		text, err := s.lockedText(ctx, tx, op, sec)
		if err != nil {
			return nil, err
		}
		rows[i] = &VersionSection{VersionID: v.ID, SectionID: sec.ID, Position: sec.Position, Title: sec.Title,
			ThemeID: sec.ThemeID, SectionVersion: sec.Version, Text: text}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, storage.MapError(op, "version", err)
	}
	return v, nil
}

// Versions lists a document's versions, newest first (ReadDocument).
func (s *Service) Versions(ctx context.Context, documentID int64) ([]*Version, error) {
	const op = "coedit.Versions"
	d, err := s.document(ctx, s.db, documentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	var out []*Version
	if err := s.db.NewSelect().Model(&out).Where("document_id = ?", documentID).OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "version", err)
	}
	return out, nil
}

// VersionByID returns a version the caller may read; NOT_FOUND otherwise.
func (s *Service) VersionByID(ctx context.Context, id int64) (*Version, error) {
	v, _, err := s.readableVersion(ctx, "coedit.VersionByID", id)
	return v, err
}

// readableVersion loads a version and its document, and checks that the
// caller may read them.
func (s *Service) readableVersion(ctx context.Context, op string, id int64) (*Version, *Document, error) {
	v := new(Version)
	if err := s.db.NewSelect().Model(v).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, apperr.E(apperr.NotFound, op, "no such version")
		}
		return nil, nil, storage.MapError(op, "version", err)
	}
	d, err := s.document(ctx, s.db, v.DocumentID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, nil, err
	}
	return v, d, nil
}

// VersionSections returns a version's sections in order (ReadDocument).
func (s *Service) VersionSections(ctx context.Context, versionID int64) ([]*VersionSection, error) {
	const op = "coedit.VersionSections"
	if _, _, err := s.readableVersion(ctx, op, versionID); err != nil {
		return nil, err
	}
	return featVersionSections(ctx, s.db, op, versionID)
}

func featVersionSections(ctx context.Context, db bun.IDB, op string, versionID int64) ([]*VersionSection, error) {
	var out []*VersionSection
	if err := db.NewSelect().Model(&out).Where("version_id = ?", versionID).Order("position", "section_id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "version", err)
	}
	return out, nil
}

// Change says how a section differs between two versions.
type Change string

// The changes.
const (
	Added     Change = "ADDED"
	Removed   Change = "REMOVED"
	Changed   Change = "CHANGED"
	Unchanged Change = "UNCHANGED"
)

// HunkKind is what a hunk of a diff does.
type HunkKind string

// The kinds of hunk.
const (
	HunkEqual  HunkKind = "EQUAL"
	HunkInsert HunkKind = "INSERT"
	HunkDelete HunkKind = "DELETE"
)

// Hunk is one piece of a section's diff.
type Hunk struct {
	Kind HunkKind
	Text string
}

// SectionDiff is how one section differs between two versions.
type SectionDiff struct {
	SectionID         int64
	Title             string
	OldTitle          string
	Change            Change
	Hunks             []Hunk
	Inserted, Deleted int // code points
}

// Diff compares version from with version to (nil: the document now), per
// section (ReadDocument). Sections are matched by id: one only in from is
// REMOVED, one only in to ADDED, and one in both CHANGED when its text or
// its title differs, UNCHANGED otherwise. The hunks of a section, read in
// order, spell its old text (EQUAL and DELETE) and its new one (EQUAL and
// INSERT); they come from diffmatchpatch with its semantic cleanup, so they
// follow words rather than scattered characters. The list follows the
// sections of to in order, then the removed ones in from's order. A version
// of another document (or none) is NOT_FOUND.
//
// The cost is bounded, as any reader may ask: the texts compared hold at
// most 4,000,000 code points in all (both sides of each section, an
// unchanged text once; BAD_USER_INPUT with reason DIFF_TOO_LARGE beyond,
// before any diffing: compare versions of a smaller document, or export
// them); each call of diffmatchpatch stops after 100 ms and the request's
// sections after one second in all, after which hunks are coarser (whole
// blocks deleted and inserted) but still spell both texts exactly; a
// section whose changed part exceeds 20,000 characters is diffed by lines
// first, then each replaced block of at most 20,000 characters by
// characters, and one whose changed part spans 20,000 lines or more is
// shown as that part deleted and inserted.
func (s *Service) Diff(ctx context.Context, documentID, from int64, to *int64) ([]*SectionDiff, error) {
	const op = "coedit.Diff"
	d, err := s.document(ctx, s.db, documentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	old, err := s.diffSide(ctx, op, "from", documentID, &from)
	if err != nil {
		return nil, err
	}
	cur, err := s.diffSide(ctx, op, "to", documentID, to)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*VersionSection, len(old))
	for _, o := range old {
		byID[o.SectionID] = o
	}
	if n := featDiffSize(old, cur, byID); n > maxDiffRunes {
		return nil, apperr.E(apperr.BadInput, op, "the two versions hold %d characters to compare; a diff compares at most %d: export the versions instead", n, maxDiffRunes).
			WithReason("DIFF_TOO_LARGE")
	}
	fd := newFeatDiffer()
	out := make([]*SectionDiff, 0, len(cur)+len(old))
	for _, c := range cur {
		o := byID[c.SectionID]
		delete(byID, c.SectionID)
		sd := &SectionDiff{SectionID: c.SectionID, Title: c.Title}
		if o == nil {
			sd.Change = Added
			sd.Hunks = fd.hunks("", c.Text)
		} else {
			sd.OldTitle = o.Title
			sd.Hunks = fd.hunks(o.Text, c.Text)
			sd.Change = Unchanged
			if o.Text != c.Text || o.Title != c.Title {
				sd.Change = Changed
			}
		}
		sd.count()
		out = append(out, sd)
	}
	for _, o := range old {
		if _, gone := byID[o.SectionID]; !gone {
			continue
		}
		sd := &SectionDiff{SectionID: o.SectionID, Title: o.Title, OldTitle: o.Title, Change: Removed, Hunks: fd.hunks(o.Text, "")}
		sd.count()
		out = append(out, sd)
	}
	return out, nil
}

// featDiffSize is the code points a diff of old with cur compares: both
// texts of each section, an unchanged one once. byID holds old by section.
func featDiffSize(old, cur []*VersionSection, byID map[int64]*VersionSection) int {
	n := 0
	seen := make(map[int64]bool, len(cur))
	for _, c := range cur {
		seen[c.SectionID] = true
		n += utf8.RuneCountInString(c.Text)
		if o := byID[c.SectionID]; o != nil && o.Text != c.Text {
			n += utf8.RuneCountInString(o.Text)
		}
	}
	for _, o := range old {
		if !seen[o.SectionID] {
			n += utf8.RuneCountInString(o.Text)
		}
	}
	return n
}

// count sets Inserted and Deleted from the hunks.
func (sd *SectionDiff) count() {
	for _, h := range sd.Hunks {
		switch h.Kind {
		case HunkInsert:
			sd.Inserted += utf8.RuneCountInString(h.Text)
		case HunkDelete:
			sd.Deleted += utf8.RuneCountInString(h.Text)
		}
	}
}

// diffSide reads one side of a diff: the sections of version *id, which must
// be one of document's (NOT_FOUND otherwise, naming field), or, when id is
// nil, the document's live sections now.
func (s *Service) diffSide(ctx context.Context, op, field string, documentID int64, id *int64) ([]*VersionSection, error) {
	if id == nil {
		return s.currentSections(ctx, op, documentID)
	}
	n, err := s.db.NewSelect().Model((*Version)(nil)).Where("id = ?", *id).Where("document_id = ?", documentID).Count(ctx)
	if err != nil {
		return nil, storage.MapError(op, "version", err)
	}
	if n == 0 {
		return nil, &apperr.Error{Kind: apperr.NotFound, Op: op, Field: field, Message: "this document has no such version"}
	}
	return featVersionSections(ctx, s.db, op, *id)
}

// The bounds of a diff. diffmatchpatch's own search has a deadline, but
// some of its steps (looking for one text inside the other, half matches,
// overlaps in the semantic cleanup) do not watch it and cost the product of
// the lengths on repetitive texts: it is only ever given sequences of at
// most diffPieceRunes characters or diffPieceLines lines.
const (
	// diffTimeout is the most time one call of diffmatchpatch spends (one
	// section, or one block of a long one); past it the diff is coarser,
	// but still exact.
	diffTimeout = 100 * time.Millisecond
	// diffBudget is the most time the sections of one request spend
	// together: past it, each further section gets a coarse diff (common
	// start and end, the rest deleted and inserted), exact too.
	diffBudget = time.Second
	// diffPieceRunes: texts whose changed middle is longer are diffed line
	// by line first (diffmatchpatch's line mode), then each replaced block
	// of lines that is no longer character by character.
	diffPieceRunes = 20_000
	// diffPieceLines: a changed middle of more lines gets a coarse diff.
	diffPieceLines = 20_000
	// maxDiffRunes caps the code points one Diff compares: the texts of
	// both sides of every section (an unchanged one once).
	maxDiffRunes = 4_000_000
)

// featDiffer diffs texts within a time budget shared by one request.
type featDiffer struct {
	dmp      *diffmatchpatch.DiffMatchPatch
	deadline time.Time
}

func newFeatDiffer() *featDiffer {
	return &featDiffer{dmp: diffmatchpatch.New(), deadline: time.Now().Add(diffBudget)}
}

// diff diffs a with b: an exact diff (its EQUAL and DELETE parts spell a,
// its EQUAL and INSERT parts b), as fine as the bounds allow.
func (fd *featDiffer) diff(a, b string) []diffmatchpatch.Diff {
	if a == b {
		if a == "" {
			return nil
		}
		return []diffmatchpatch.Diff{{Type: diffmatchpatch.DiffEqual, Text: a}}
	}
	ra, rb := []rune(a), []rune(b)
	pre := 0
	for pre < len(ra) && pre < len(rb) && ra[pre] == rb[pre] {
		pre++
	}
	suf := 0
	for suf < len(ra)-pre && suf < len(rb)-pre && ra[len(ra)-1-suf] == rb[len(rb)-1-suf] {
		suf++
	}
	ma, mb := ra[pre:len(ra)-suf], rb[pre:len(rb)-suf]
	var out []diffmatchpatch.Diff
	if pre > 0 {
		out = append(out, diffmatchpatch.Diff{Type: diffmatchpatch.DiffEqual, Text: string(ra[:pre])})
	}
	switch {
	case len(ma) <= diffPieceRunes && len(mb) <= diffPieceRunes:
		out = append(out, fd.chars(ma, mb)...)
	default:
		out = append(out, fd.lines(string(ma), string(mb))...)
	}
	if suf > 0 {
		out = append(out, diffmatchpatch.Diff{Type: diffmatchpatch.DiffEqual, Text: string(ra[len(ra)-suf:])})
	}
	return out
}

// timeout is what remains of the budget for one call, at most diffTimeout,
// and false when nothing does.
func (fd *featDiffer) timeout() (time.Duration, bool) {
	left := time.Until(fd.deadline)
	return min(left, diffTimeout), left > 0
}

// chars diffs two pieces of at most diffPieceRunes character by
// character, with the semantic cleanup (so that hunks follow words).
func (fd *featDiffer) chars(a, b []rune) []diffmatchpatch.Diff {
	t, ok := fd.timeout()
	if !ok || len(a) == 0 || len(b) == 0 {
		return featCoarse(string(a), string(b))
	}
	fd.dmp.DiffTimeout = t
	return fd.dmp.DiffCleanupSemantic(fd.dmp.DiffMainRunes(a, b, false))
}

// lines diffs two long texts line by line (DiffLinesToRunes, DiffMainRunes
// on the lines, DiffCharsToLines), then each replaced block of lines
// character by character when both of its sides are short enough. Texts of
// more than diffPieceLines lines get a coarse diff.
func (fd *featDiffer) lines(a, b string) []diffmatchpatch.Diff {
	t, ok := fd.timeout()
	if !ok || strings.Count(a, "\n") >= diffPieceLines || strings.Count(b, "\n") >= diffPieceLines {
		return featCoarse(a, b)
	}
	fd.dmp.DiffTimeout = t
	la, lb, table := fd.dmp.DiffLinesToRunes(a, b)
	diffs := fd.dmp.DiffCharsToLines(fd.dmp.DiffMainRunes(la, lb, false), table)
	out := make([]diffmatchpatch.Diff, 0, len(diffs))
	var del, ins strings.Builder
	flush := func() {
		d, i := del.String(), ins.String()
		del.Reset()
		ins.Reset()
		switch {
		case d == "" && i == "":
		case d != "" && i != "" && utf8.RuneCountInString(d) <= diffPieceRunes && utf8.RuneCountInString(i) <= diffPieceRunes:
			out = append(out, fd.chars([]rune(d), []rune(i))...)
		default:
			out = append(out, featCoarse(d, i)...)
		}
	}
	for _, x := range diffs {
		switch x.Type {
		case diffmatchpatch.DiffDelete:
			del.WriteString(x.Text)
		case diffmatchpatch.DiffInsert:
			ins.WriteString(x.Text)
		default:
			flush()
			out = append(out, x)
		}
	}
	flush()
	return out
}

// featCoarse is the diff that deletes a and inserts b.
func featCoarse(a, b string) []diffmatchpatch.Diff {
	var out []diffmatchpatch.Diff
	if a != "" {
		out = append(out, diffmatchpatch.Diff{Type: diffmatchpatch.DiffDelete, Text: a})
	}
	if b != "" {
		out = append(out, diffmatchpatch.Diff{Type: diffmatchpatch.DiffInsert, Text: b})
	}
	return out
}

func (fd *featDiffer) hunks(a, b string) []Hunk {
	diffs := fd.diff(a, b)
	out := make([]Hunk, 0, len(diffs))
	for _, x := range diffs {
		if x.Text == "" {
			continue
		}
		k := HunkEqual
		switch x.Type {
		case diffmatchpatch.DiffInsert:
			k = HunkInsert
		case diffmatchpatch.DiffDelete:
			k = HunkDelete
		}
		out = append(out, Hunk{Kind: k, Text: x.Text})
	}
	return out
}

// op is the operation that turns a into b.
func (fd *featDiffer) op(a, b string) ot.Op {
	diffs := fd.diff(a, b)
	edits := make([]ot.Edit, 0, len(diffs))
	for _, x := range diffs {
		if x.Text == "" {
			continue
		}
		k := ot.Equal
		switch x.Type {
		case diffmatchpatch.DiffInsert:
			k = ot.Insert
		case diffmatchpatch.DiffDelete:
			k = ot.Delete
		}
		edits = append(edits, ot.Edit{Kind: k, Text: x.Text})
	}
	return ot.FromEdits(edits)
}

// RestoreVersion brings a document's text back to a version, as new
// operations: history is never rewritten (EditDocument, in DRAFT; CONFLICT
// with reason NOT_DRAFT otherwise). Each section of the version that is live
// now gets one operation of origin RESTORE that turns its current text into
// the version's; sections whose text is already the version's get none.
// Only text is restored, not structure: sections removed since the version
// stay removed (undo the removal first to restore them), sections added
// since stay, and titles and order stay as they are. An operation is
// submitted as client "restore:<versionID>" with the section's current
// version as its sequence number, so a retried restore is not applied twice;
// an edit committed meanwhile is merged with it like any concurrent edit.
// Sections are restored one by one: a failure part-way (a section's
// operation refused, such as OPERATION_TOO_LARGE) leaves those before it
// restored, and calling again finishes the rest. The operations come from
// the diffs Diff makes, within the same time bounds (but no cap on the
// size: restoring is for editors): a diff cut short is coarser but still
// exact, so the section gets exactly the version's text, though a coarse
// operation inserts more and may be refused as OPERATION_TOO_LARGE where a
// finer one would not.
func (s *Service) RestoreVersion(ctx context.Context, versionID int64) (*Document, error) {
	const op = "coedit.RestoreVersion"
	v, d, err := s.readableVersion(ctx, op, versionID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.EditDocument, d); err != nil {
		return nil, err
	}
	if d.Status != Draft {
		return nil, apperr.E(apperr.Conflict, op, "the document is %s: only a draft can be restored; move it back to DRAFT first", d.Status).WithReason("NOT_DRAFT")
	}
	want, err := featVersionSections(ctx, s.db, op, v.ID)
	if err != nil {
		return nil, err
	}
	live, err := s.currentSections(ctx, op, d.ID)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*VersionSection, len(live))
	for _, sec := range live {
		byID[sec.SectionID] = sec
	}
	author := actorID(ctx)
	clientID := "restore:" + strconv.FormatInt(v.ID, 10)
	// Every diff first, so that waiting for commits takes nothing from the
	// diffs' time budget.
	fd := newFeatDiffer()
	var ins []EditInput
	for _, w := range want {
		cur := byID[w.SectionID]
		if cur == nil || cur.Text == w.Text {
			continue
		}
		ins = append(ins, EditInput{SectionID: cur.SectionID, BaseVersion: cur.SectionVersion, Op: fd.op(cur.Text, w.Text),
			ClientID: clientID, ClientSeq: cur.SectionVersion})
	}
	for _, in := range ins {
		if _, err := s.submit(ctx, submitRequest{EditInput: in, AuthorID: author, Origin: OriginRestore}); err != nil {
			return nil, apperr.Wrap(op, err)
		}
	}
	if len(ins) > 0 {
		// The edits were committed by the committer, batch by batch: the
		// line that tells of them follows the last one.
		if err := s.logTx(ctx, s.db, activity.Entry{Kind: activity.VersionBack, VersionID: &v.ID, Title: v.Name}, d); err != nil {
			return nil, err
		}
	}
	return s.document(ctx, s.db, d.ID)
}

// Helpers the features (comments, versions, review, export) share.

// featLockDocument reads a document in tx, on PostgreSQL locked in mode
// ("SHARE" or "UPDATE") to the end of tx. SQLite's transactions are
// immediate, so one writer runs at a time there. Locks are taken document
// first, then sections: the same order everywhere, so no two transactions
// wait for each other.
func featLockDocument(ctx context.Context, tx bun.IDB, op string, id int64, mode string) (*Document, error) {
	d := new(Document)
	q := tx.NewSelect().Model(d).Where("id = ?", id)
	if storage.EngineOf(tx) == storage.Postgres {
		q = q.For(mode)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "no such document")
		}
		return nil, storage.MapError(op, "document", err)
	}
	return d, nil
}

// featLiveSections reads a document's live sections in order. With lock, on PostgreSQL, their rows stay locked
// FOR UPDATE to the end of the caller's transaction, taken in id order as
// the committer takes them; SQLite's transactions are serial already.
func featLiveSections(ctx context.Context, db bun.IDB, op string, documentID int64, lock bool) ([]*Section, error) {
	var secs []*Section
	q := db.NewSelect().Model(&secs).Where("document_id = ?", documentID).Where("removed_at IS NULL")
	if lock && storage.EngineOf(db) == storage.Postgres {
		q = q.Order("id").For("UPDATE")
	} else {
		q = q.Order("position", "id")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "section", err)
	}
	slices.SortFunc(secs, func(a, b *Section) int { return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID)) })
	return secs, nil
}

// currentSections is a document's live sections now, with their texts from
// the cache, each at the version it gives.
func (s *Service) currentSections(ctx context.Context, op string, documentID int64) ([]*VersionSection, error) {
	secs, err := featLiveSections(ctx, s.db, op, documentID, false)
	if err != nil {
		return nil, err
	}
	out := make([]*VersionSection, len(secs))
	for i, sec := range secs {
		text, v, err := s.textAt(ctx, sec.ID)
		if err != nil {
			return nil, apperr.Wrap(op, err)
		}
		out[i] = &VersionSection{SectionID: sec.ID, Position: sec.Position, Title: sec.Title, ThemeID: sec.ThemeID,
			SectionVersion: v, Text: text}
	}
	return out, nil
}

// lockedText is the text of sec, whose row the caller's transaction tx has
// locked, at sec.Version: the cached text when the cache holds that version
// and is free at once (it normally is: no operation commits on a locked
// section), else the snapshot and log read through tx. It never uses the
// pool (s.db) nor waits for a lock: the caller holds a connection and the
// section's lock, which others may be waiting for while holding the rest of
// the pool.
func (s *Service) lockedText(ctx context.Context, tx bun.IDB, op string, sec *Section) (string, error) {
	if text, ok := s.cachedText(sec.ID, sec.Version); ok {
		return text, nil
	}
	runes, err := featSectionText(ctx, tx, op, sec)
	return string(runes), err
}

// cachedText is the cached text of a section at version, when the cache
// holds it at that version and nobody holds its state (TryLock): it touches
// no database and waits for nothing. The committer changes a state only
// while it holds the section's row lock, so under that lock a state at the
// row's version holds the text of that version.
func (s *Service) cachedText(sectionID, version int64) (string, bool) {
	st := s.cache.get(sectionID)
	if !st.mu.TryLock() {
		return "", false
	}
	defer st.mu.Unlock()
	if st.dead || !st.loaded || st.version != version {
		return "", false
	}
	return st.text.String(), true
}

// featSectionText is sec's text at sec.Version: its snapshot with the log's
// operations after the snapshot applied. Committed log rows never change and
// the snapshot is replaced only by the committer under the section's row
// lock, which the caller holds in db (lockedText), so the text is exactly
// the one at sec.Version, without the cache; it costs the text's length,
// though, where the cache costs nothing.
func featSectionText(ctx context.Context, db bun.IDB, op string, sec *Section) ([]rune, error) {
	snap := new(SectionSnapshot)
	if err := db.NewSelect().Model(snap).Where("section_id = ?", sec.ID).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "section", err)
	}
	if snap.Version > sec.Version {
		return nil, apperr.Wrap(op, fmt.Errorf("the snapshot of section %d is at version %d, past %d", sec.ID, snap.Version, sec.Version))
	}
	text := []rune(snap.Text)
	if sec.Version == snap.Version {
		return text, nil
	}
	ops, err := featLoggedOps(ctx, db, op, sec.ID, snap.Version, sec.Version)
	if err != nil {
		return nil, err
	}
	if int64(len(ops)) != sec.Version-snap.Version {
		return nil, apperr.Wrap(op, errors.New("the log of section "+strconv.FormatInt(sec.ID, 10)+" has a gap"))
	}
	for _, o := range ops {
		if text, err = ot.ApplyRunes(text, o); err != nil {
			return nil, apperr.Wrap(op, err)
		}
	}
	return text, nil
}

// featLoggedOps reads the operations of a section's log with from < version
// <= to, in order.
func featLoggedOps(ctx context.Context, db bun.IDB, op string, sectionID, from, to int64) ([]ot.Op, error) {
	var rows []*LoggedOp
	if err := db.NewSelect().Model(&rows).Where("section_id = ?", sectionID).Where("version > ?", from).
		Where("version <= ?", to).Order("version").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "operation", err)
	}
	out := make([]ot.Op, len(rows))
	for i, r := range rows {
		out[i] = r.Op
	}
	return out, nil
}

// featCleanLine checks a one-line text (a name): valid UTF-8, white space
// collapsed, no control characters, at most max characters, and not empty
// when required.
func featCleanLine(op, field, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", apperr.Invalid(op, field, "%s is not valid UTF-8", field).WithReason("INVALID_UTF8")
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" && required {
		return "", apperr.Invalid(op, field, "%s is required", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", apperr.Invalid(op, field, "%s has %d characters; the most is %d", field, n, max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", apperr.Invalid(op, field, "%s contains control characters", field)
	}
	return s, nil
}

// featCleanText checks a multi-line text (a note, a comment): valid UTF-8,
// the ends trimmed, at most max characters, no control characters but line
// breaks and tabs.
func featCleanText(op, field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", apperr.Invalid(op, field, "%s is not valid UTF-8", field).WithReason("INVALID_UTF8")
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if n := utf8.RuneCountInString(s); n > max {
		return "", apperr.Invalid(op, field, "%s has %d characters; the most is %d", field, n, max)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		return "", apperr.Invalid(op, field, "%s contains control characters", field)
	}
	return s, nil
}
