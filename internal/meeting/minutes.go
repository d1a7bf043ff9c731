package meeting

// Minutes: a meeting's record, written after it is held.
//
// Decisions:
//
//   - Only a HELD meeting has minutes (CONFLICT reason NOT_HELD otherwise):
//     notes taken before are drafts kept elsewhere, and minutes of a
//     meeting that may still be postponed or cancelled would record what
//     did not happen. A held meeting's minutes may be corrected at any
//     time; each SetMinutes replaces the whole record (body, decisions,
//     sections), keeping who wrote it last and when.
//   - Decisions are items of text, cleaned like the body; blank ones are
//     dropped, the order is kept.
//   - The sections discussed must be live sections of the territory's own
//     documents; the order of a set is the documents' (document, then the
//     section's position). A section removed later stays linked: the
//     minutes record what was discussed.
//   - The people present are the register: the minutes do not list them.
//   - Minutes are read by whoever reads the meeting (ReadMeeting); a meeting
//     without minutes gives nil, not an error.

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Limits on minutes.
const (
	maxMinutesBody     = 100_000
	maxDecisions       = 100
	maxDecision        = 2_000
	maxMinutesSections = 200
)

// MinutesInput is a meeting's whole record.
type MinutesInput struct {
	Body       string // Markdown
	Decisions  []string
	SectionIDs []int64 // the document sections discussed
}

// checkMinutes cleans what the minutes hold by themselves.
func checkMinutes(op string, in MinutesInput) (MinutesInput, error) {
	var out MinutesInput
	var err error
	if out.Body, err = network.CleanLongText(op, "body", in.Body, maxMinutesBody); err != nil {
		return out, err
	}
	out.Decisions = []string{}
	for _, d := range in.Decisions {
		v, err := network.CleanLongText(op, "decisions", d, maxDecision)
		if err != nil {
			return out, err
		}
		if v != "" {
			out.Decisions = append(out.Decisions, v)
		}
	}
	if len(out.Decisions) > maxDecisions {
		return out, apperr.Invalid(op, "decisions", "minutes record at most %d decisions", maxDecisions)
	}
	out.SectionIDs = uniq(in.SectionIDs)
	if len(out.SectionIDs) > maxMinutesSections {
		return out, apperr.Invalid(op, "sections", "minutes link at most %d sections", maxMinutesSections)
	}
	return out, nil
}

// checkSections checks that ids are live sections of documents of
// territory and returns them in the documents' order.
func checkSections(ctx context.Context, tx bun.IDB, op string, territory int64, ids []int64) ([]int64, error) {
	out := []int64{}
	if len(ids) == 0 {
		return out, nil
	}
	type section struct {
		ID          int64      `bun:"id"`
		TerritoryID int64      `bun:"territory_id"`
		Removed     *time.Time `bun:"removed_at"`
	}
	var secs []section
	if err := tx.NewSelect().TableExpr("sections AS s").ColumnExpr("s.id, d.territory_id, s.removed_at").
		Join("JOIN documents AS d ON d.id = s.document_id").Where("s.id IN (?)", bun.In(ids)).
		OrderExpr("s.document_id, s.position, s.id").Scan(ctx, &secs); err != nil {
		return nil, storage.MapError(op, "section", err)
	}
	for _, id := range ids {
		i := slices.IndexFunc(secs, func(s section) bool { return s.ID == id })
		switch {
		case i < 0 || secs[i].TerritoryID != territory:
			return nil, apperr.Invalid(op, "sections", "%s is not a section of this territory's documents", relay.ID("Section", id))
		case secs[i].Removed != nil:
			return nil, apperr.Invalid(op, "sections", "%s was removed from its document", relay.ID("Section", id))
		}
	}
	for _, s := range secs {
		out = append(out, s.ID)
	}
	return out, nil
}

// SetMinutes writes a held meeting's minutes, replacing any before
// (ManageMeeting), and returns them. Errors: NOT_FOUND for a meeting the
// actor may not see, FORBIDDEN for one they may not manage; BAD_USER_INPUT
// for a body over 100,000 characters (field "body"), over 100 decisions or
// one over 2,000 characters ("decisions"), a section that is unknown,
// removed or of another territory's documents ("sections"); CONFLICT
// reason NOT_HELD unless the meeting is HELD.
func (s *Service) SetMinutes(ctx context.Context, meetingID int64, in MinutesInput) (*Minutes, error) {
	const op = "meeting.SetMinutes"
	in, err := checkMinutes(op, in)
	if err != nil {
		return nil, err
	}
	var out *Minutes
	var m *Meeting
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if m, err = loadMeeting(ctx, tx, op, access.ManageMeeting, meetingID, true); err != nil {
			return err
		}
		if m.Status != Held {
			return apperr.E(apperr.Conflict, op, "this meeting is %s: minutes are written once it is held",
				strings.ToLower(string(m.Status))).WithReason("NOT_HELD")
		}
		sections, err := checkSections(ctx, tx, op, m.TerritoryID, in.SectionIDs)
		if err != nil {
			return err
		}
		out = &Minutes{MeetingID: m.ID, Body: in.Body, Decisions: in.Decisions, UpdatedAt: s.now(), UpdatedBy: actorID(ctx),
			SectionIDs: sections}
		if _, err := tx.NewInsert().Model(out).On("CONFLICT (meeting_id) DO UPDATE").Set("body = EXCLUDED.body").
			Set("decisions = EXCLUDED.decisions").Set("updated_at = EXCLUDED.updated_at").Set("updated_by = EXCLUDED.updated_by").
			Exec(ctx); err != nil {
			return storage.MapError(op, "minutes", err)
		}
		if _, err := tx.NewDelete().Model((*minutesSection)(nil)).Where("meeting_id = ?", m.ID).Exec(ctx); err != nil {
			return storage.MapError(op, "minutes", err)
		}
		if err := s.logTx(ctx, tx, activity.MinutesSet, m); err != nil {
			return err
		}
		if len(sections) == 0 {
			return nil
		}
		rows := make([]*minutesSection, len(sections))
		for i, id := range sections {
			rows[i] = &minutesSection{MeetingID: m.ID, SectionID: id}
		}
		_, err = tx.NewInsert().Model(&rows).Exec(ctx)
		return storage.MapError(op, "minutes", err)
	})
	if err != nil {
		return nil, err
	}
	s.published(MinutesChanged, m)
	return out, nil
}

// sectionsOf reads the sections linked to the minutes of meetings, in the
// documents' order.
func sectionsOf(ctx context.Context, db bun.IDB, op string, meetingIDs []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	var rows []minutesSection
	if err := db.NewSelect().Model(&rows).Join("JOIN sections AS s ON s.id = mms.section_id").
		Where("mms.meeting_id IN (?)", bun.In(meetingIDs)).OrderExpr("mms.meeting_id, s.document_id, s.position, s.id").
		Scan(ctx); err != nil {
		return nil, storage.MapError(op, "minutes", err)
	}
	for _, r := range rows {
		out[r.MeetingID] = append(out[r.MeetingID], r.SectionID)
	}
	return out, nil
}

// Minutes returns a meeting's minutes with their sections, or nil when
// none are written (ReadMeeting; NOT_FOUND for a meeting the actor may not
// read).
func (s *Service) Minutes(ctx context.Context, meetingID int64) (*Minutes, error) {
	const op = "meeting.Minutes"
	m, err := loadMeeting(ctx, s.db, op, access.ReadMeeting, meetingID, false)
	if err != nil {
		return nil, err
	}
	mm := new(Minutes)
	if err := s.db.NewSelect().Model(mm).Where("mm.meeting_id = ?", m.ID).Scan(ctx); err != nil {
		if err = storage.MapError(op, "minutes", err); apperr.Is(err, apperr.NotFound) {
			return nil, nil
		}
		return nil, err
	}
	secs, err := sectionsOf(ctx, s.db, op, []int64{m.ID})
	if err != nil {
		return nil, err
	}
	mm.SectionIDs = secs[m.ID]
	if mm.SectionIDs == nil {
		mm.SectionIDs = []int64{}
	}
	return mm, nil
}

// MinutesOf gives the minutes of meetings, with their sections, in two
// statements, for loaders: those of meetings the actor reads; meetings
// without minutes have no entry.
func (s *Service) MinutesOf(ctx context.Context, meetingIDs []int64) (map[int64]*Minutes, error) {
	const op = "meeting.MinutesOf"
	out := map[int64]*Minutes{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var rows []struct {
		Minutes
		TerritoryID int64 `bun:"territory_id"`
		Private     bool  `bun:"private"`
		Invited     int   `bun:"invited"` // the actor's invitations to the meeting
	}
	if err := s.db.NewSelect().Model((*Minutes)(nil)).ColumnExpr("mm.*, m.territory_id, m.private").
		ColumnExpr("(SELECT COUNT(*) FROM meeting_invitations AS mi WHERE mi.meeting_id = mm.meeting_id AND mi.person_id = ?) AS invited",
			a.PersonID).
		Join("JOIN meetings AS m ON m.id = mm.meeting_id").Where("mm.meeting_id IN (?)", bun.In(meetingIDs)).
		Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "minutes", err)
	}
	var ids []int64
	for i := range rows {
		r := &rows[i]
		if authorizeMeeting(ctx, access.ReadMeeting, &Meeting{TerritoryID: r.TerritoryID, Private: r.Private}, r.Invited > 0) != nil {
			continue
		}
		out[r.MeetingID] = &r.Minutes
		ids = append(ids, r.MeetingID)
	}
	secs, err := sectionsOf(ctx, s.db, op, ids)
	if err != nil {
		return nil, err
	}
	for id, mm := range out {
		mm.SectionIDs = secs[id]
		if mm.SectionIDs == nil {
			mm.SectionIDs = []int64{}
		}
	}
	return out, nil
}
