package meeting

// The attendance register: the evidence, for the FAMI reports, of who took
// part in each meeting, on whose behalf and how.
//
// Decisions:
//
//   - Coordinators of the territory and administrators keep the register
//     (ManageMeeting); whoever reads the territory's registers reads it and
//     its export (ReadRegister).
//   - An entry is a person of the directory or a guest without an account.
//     A guest is a name and, optionally, the organization they say they
//     represent: an organization of the directory or a free text, not
//     both. Nothing else about a guest is kept.
//   - A person's organization defaults to the one they were invited on
//     behalf of, else to their one current affiliation when they have
//     exactly one; otherwise the entry has none unless given.
//   - The register opens an hour before the start (check-in at the door)
//     and stays open until 30 days after the end, so that paper sheets can
//     be transcribed; then it is closed for good (CONFLICT reason
//     REGISTER_CLOSED), additions and removals alike, so that the evidence
//     does not move after the reports are drawn. Before it opens: CONFLICT
//     reason NOT_STARTED, and a postponed meeting has not taken place
//     either. A cancelled meeting takes no entries (MEETING_CLOSED); the
//     entries it had may still be removed.
//   - CheckedInAt is when the person arrived: the time of recording at the
//     door, or the time the paper sheet gives when it is transcribed later
//     (from an hour before the start to the end, never ahead of now);
//     RecordedBy is who recorded it.
//   - Removing an entry deletes it (a mistaken entry is not evidence); the
//     removal is logged with who did it.
//   - Totals count entries. "Organizations" are the distinct organizations
//     of the directory; a guest's free-text organization is counted in no
//     organization, kind or sector, since free text cannot be told apart
//     reliably. Kinds and sectors count entries, not organizations.
//   - The export is CSV for Italian spreadsheets or an XLSX workbook,
//     written by sheet.Write: a header row in Italian, times in
//     Europe/Rome (real date cells in the workbook), text cells guarded
//     against formulas in the CSV (CSV injection: a guest's name is typed
//     by whoever is at the door).

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/sheet"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Limits and windows of the register.
const (
	maxGuestName         = 200
	maxGuestOrganization = 300
	// checkInOpens is how long before the start the register opens.
	checkInOpens = time.Hour
	// registerOpenFor is how long after the end the register may change.
	registerOpenFor = 30 * 24 * time.Hour
)

// AttendanceModes lists the attendance modes.
var AttendanceModes = []AttendanceMode{AttendedInPerson, AttendedOnline}

// Valid reports whether m is a known attendance mode.
func (m AttendanceMode) Valid() bool { return slices.Contains(AttendanceModes, m) }

// AttendanceInput is one entry of a register: exactly one of PersonID and
// GuestName.
type AttendanceInput struct {
	MeetingID int64
	PersonID  *int64
	GuestName *string
	// GuestOrganization is a guest's organization as they name it, when it
	// is not in the directory.
	GuestOrganization *string
	// OrganizationID is the organization of the directory represented; for
	// a person it defaults as described above.
	OrganizationID *int64
	Mode           AttendanceMode
	// CheckedInAt is when the person arrived, for an entry copied from the
	// paper sheet after the meeting; nil is now. It lies between an hour
	// before the start and the end, and not ahead of now.
	CheckedInAt *time.Time
}

// published tells the territory's subscribers, on this instance and the
// others (as announced does), of a change that queued no mail.
func (s *Service) published(kind EventKind, m *Meeting) {
	ev := Event{Kind: kind, MeetingID: m.ID, TerritoryID: m.TerritoryID}
	s.hub.publish(ev)
	s.broadcast(ev)
}

// registerOpen is CONFLICT unless m's register may change now; adding says
// whether an entry is being added (a cancelled meeting takes none).
func (s *Service) registerOpen(op string, m *Meeting, adding bool) error {
	now := s.now()
	if adding && m.Status == Cancelled {
		return apperr.E(apperr.Conflict, op, "this meeting was cancelled: it has no attendance").WithReason("MEETING_CLOSED")
	}
	if adding && m.Status == Postponed {
		return apperr.E(apperr.Conflict, op, "this meeting is postponed: give it its new date, and register attendance when it takes place").
			WithReason("NOT_STARTED")
	}
	if adding && now.Before(m.StartsAt.Add(-checkInOpens)) {
		return apperr.E(apperr.Conflict, op, "this meeting starts on %s: the register opens an hour before",
			m.StartsAt.In(Rome).Format("02/01/2006 15:04")).WithReason("NOT_STARTED")
	}
	if now.After(m.EndsAt.Add(registerOpenFor)) {
		return apperr.E(apperr.Conflict, op, "this meeting ended more than %d days ago: its register is closed",
			int(registerOpenFor.Hours()/24)).WithReason("REGISTER_CLOSED")
	}
	return nil
}

// optionalText cleans an optional one-line text; empty is nil.
func optionalText(op, field string, s *string, max int) (*string, error) {
	if s == nil {
		return nil, nil
	}
	v, err := network.CleanText(op, field, *s, max, false)
	if err != nil || v == "" {
		return nil, err
	}
	return &v, nil
}

// checkAttendance checks what an entry holds by itself.
func checkAttendance(op string, in AttendanceInput) (*Attendance, error) {
	if !in.Mode.Valid() {
		return nil, apperr.Invalid(op, "mode", "say how they took part: one of %v", AttendanceModes)
	}
	name, err := optionalText(op, "guestName", in.GuestName, maxGuestName)
	if err != nil {
		return nil, err
	}
	org, err := optionalText(op, "guestOrganization", in.GuestOrganization, maxGuestOrganization)
	if err != nil {
		return nil, err
	}
	switch {
	case in.PersonID != nil && name != nil:
		return nil, apperr.Invalid(op, "guestName", "register a person of the directory or a guest by name, not both")
	case in.PersonID == nil && name == nil:
		return nil, apperr.Invalid(op, "person", "register a person of the directory, or a guest by name")
	case in.PersonID != nil && org != nil:
		return nil, apperr.Invalid(op, "guestOrganization", "a person of the directory represents an organization of the directory: give organization instead")
	case org != nil && in.OrganizationID != nil:
		return nil, apperr.Invalid(op, "guestOrganization", "give the organization of the directory or its name, not both")
	}
	return &Attendance{MeetingID: in.MeetingID, PersonID: in.PersonID, GuestName: name, GuestOrganization: org,
		OrganizationID: in.OrganizationID, Mode: in.Mode}, nil
}

// defaultOrganization is the organization person represents at meeting
// when none is given: the one of their invitation, else their one current
// affiliation; nil otherwise.
func defaultOrganization(ctx context.Context, tx bun.IDB, op string, meetingID, person int64) (*int64, error) {
	var invited []int64
	if err := tx.NewSelect().Model((*Invitation)(nil)).Column("organization_id").Where("meeting_id = ?", meetingID).
		Where("person_id = ?", person).Where("organization_id IS NOT NULL").Scan(ctx, &invited); err != nil {
		return nil, storage.MapError(op, "invitation", err)
	}
	if len(invited) == 1 {
		return &invited[0], nil
	}
	var orgs []int64
	if err := tx.NewSelect().Table("affiliations").ColumnExpr("DISTINCT organization_id").Where("person_id = ?", person).
		Where("ended_at IS NULL").Scan(ctx, &orgs); err != nil {
		return nil, storage.MapError(op, "affiliation", err)
	}
	if len(orgs) == 1 {
		return &orgs[0], nil
	}
	return nil, nil
}

// RegisterAttendance adds an entry to a meeting's register (ManageMeeting)
// and returns it. Errors: NOT_FOUND for a meeting the actor may not see,
// FORBIDDEN for one they may not manage; BAD_USER_INPUT for a missing or
// unknown mode, a mode the meeting does not have (online needs an online
// or hybrid meeting, in person an in-person or hybrid one), both or
// neither of a person and a guest, an unknown, archived or erased person,
// an unknown organization, texts too long; CONFLICT reason NOT_STARTED
// more than an hour before the start or while postponed, MEETING_CLOSED
// for a cancelled meeting, REGISTER_CLOSED 30 days after the end, and
// ALREADY_REGISTERED for a person who has an entry.
func (s *Service) RegisterAttendance(ctx context.Context, in AttendanceInput) (*Attendance, error) {
	const op = "meeting.RegisterAttendance"
	a, err := checkAttendance(op, in)
	if err != nil {
		return nil, err
	}
	var m *Meeting
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if m, err = loadMeeting(ctx, tx, op, access.ManageMeeting, in.MeetingID, true); err != nil {
			return err
		}
		if err := s.registerOpen(op, m, true); err != nil {
			return err
		}
		if a.Mode == AttendedOnline && m.Mode == InPerson {
			return apperr.Invalid(op, "mode", "this meeting is held in person only: nobody took part online")
		}
		if a.Mode == AttendedInPerson && m.Mode == Online {
			return apperr.Invalid(op, "mode", "this meeting is held online only: nobody took part in person")
		}
		if a.PersonID != nil {
			if err := checkPeople(ctx, tx, op, "person", []int64{*a.PersonID}); err != nil {
				return err
			}
		}
		if a.OrganizationID != nil {
			n, err := tx.NewSelect().Table("organizations").Where("id = ?", *a.OrganizationID).Count(ctx)
			if err != nil {
				return storage.MapError(op, "organization", err)
			}
			if n == 0 {
				return apperr.Invalid(op, "organization", "organization %s is unknown", relay.ID("Organization", *a.OrganizationID))
			}
		} else if a.PersonID != nil {
			if a.OrganizationID, err = defaultOrganization(ctx, tx, op, m.ID, *a.PersonID); err != nil {
				return err
			}
		}
		a.CheckedInAt, a.RecordedBy = s.now(), actorID(ctx)
		if in.CheckedInAt != nil {
			at := in.CheckedInAt.UTC().Truncate(time.Microsecond)
			if at.Before(m.StartsAt.Add(-checkInOpens)) || at.After(m.EndsAt) || at.After(a.CheckedInAt) {
				return apperr.Invalid(op, "checkedInAt", "a check-in time lies between an hour before the start (%s) and the end (%s), and not ahead of now",
					m.StartsAt.Add(-checkInOpens).In(Rome).Format("02/01/2006 15:04"), m.EndsAt.In(Rome).Format("02/01/2006 15:04"))
			}
			a.CheckedInAt = at
		}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			if storage.ViolationOf(err) == storage.UniqueViolation {
				return apperr.E(apperr.Conflict, op, "this person is in the register already").WithReason("ALREADY_REGISTERED")
			}
			return storage.MapError(op, "attendance", err)
		}
		return s.logTx(ctx, tx, activity.Attended, m)
	})
	if err != nil {
		return nil, err
	}
	s.published(AttendanceChanged, m)
	return a, nil
}

// RemoveAttendance deletes a register entry (ManageMeeting), such as one
// made by mistake, and returns it. Errors: NOT_FOUND for an entry the actor
// may not see, FORBIDDEN for one they may not manage, CONFLICT reason
// REGISTER_CLOSED 30 days after the meeting's end.
func (s *Service) RemoveAttendance(ctx context.Context, id int64) (*Attendance, error) {
	const op = "meeting.RemoveAttendance"
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	notFound := apperr.E(apperr.NotFound, op, "attendance not found")
	var out *Attendance
	var m *Meeting
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a := new(Attendance)
		if err := tx.NewSelect().Model(a).Where("ma.id = ?", id).Scan(ctx); err != nil {
			if err = storage.MapError(op, "attendance", err); apperr.Is(err, apperr.NotFound) {
				return notFound
			}
			return err
		}
		var err error
		if m, err = loadMeeting(ctx, tx, op, access.ReadRegister, a.MeetingID, true); err != nil {
			if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
				return notFound
			}
			return err
		}
		if err := access.Check(ctx, access.ManageMeeting, resourceOf(m)); err != nil {
			return err
		}
		if err := s.registerOpen(op, m, false); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(a).WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "attendance", err)
		}
		out = a
		return s.logTx(ctx, tx, activity.Unattended, m)
	})
	if err != nil {
		return nil, err
	}
	s.o.Logger.InfoContext(ctx, "attendance removed", "meeting", out.MeetingID, "attendance", out.ID,
		"person", out.PersonID, "guest", out.GuestName != nil, "by", access.ActorFrom(ctx).PersonID)
	s.published(AttendanceChanged, m)
	return out, nil
}

// registerOf reads a meeting's entries by check-in, then id.
func registerOf(ctx context.Context, db bun.IDB, op string, meetingID int64) ([]*Attendance, error) {
	var out []*Attendance
	if err := db.NewSelect().Model(&out).Where("ma.meeting_id = ?", meetingID).OrderExpr("ma.checked_in_at, ma.id").
		Scan(ctx); err != nil {
		return nil, storage.MapError(op, "attendance", err)
	}
	return out, nil
}

// Register returns a meeting's register by check-in, then id
// (ReadRegister). NOT_FOUND for a meeting the actor may not see, FORBIDDEN
// for one whose register they may not read.
func (s *Service) Register(ctx context.Context, meetingID int64) ([]*Attendance, error) {
	const op = "meeting.Register"
	m, err := loadMeeting(ctx, s.db, op, access.ReadRegister, meetingID, false)
	if err != nil {
		return nil, err
	}
	return registerOf(ctx, s.db, op, m.ID)
}

// ReadsRegister reports whether the actor may read m's register (and so
// its export): for a link to show only to them, without another read.
func (s *Service) ReadsRegister(ctx context.Context, m *Meeting) bool {
	return access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: m.TerritoryID}) == nil
}

// AttendanceOf gives the registers of meetings, each by check-in then id,
// in one statement, for loaders; meetings whose register the actor may not
// read are left out.
func (s *Service) AttendanceOf(ctx context.Context, meetingIDs []int64) (map[int64][]*Attendance, error) {
	const op = "meeting.AttendanceOf"
	out := map[int64][]*Attendance{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var rows []struct {
		Attendance
		TerritoryID int64 `bun:"territory_id"`
	}
	if err := s.db.NewSelect().Model((*Attendance)(nil)).ColumnExpr("ma.*, m.territory_id").
		Join("JOIN meetings AS m ON m.id = ma.meeting_id").Where("ma.meeting_id IN (?)", bun.In(meetingIDs)).
		OrderExpr("ma.meeting_id, ma.checked_in_at, ma.id").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "attendance", err)
	}
	for i := range rows {
		if access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: rows[i].TerritoryID}) != nil {
			continue
		}
		a := &rows[i].Attendance
		out[a.MeetingID] = append(out[a.MeetingID], a)
	}
	return out, nil
}

// KindCount is how many entries represent organizations of one kind.
type KindCount struct {
	Kind  network.Kind
	Count int
}

// SectorCount is how many entries represent organizations of one sector.
type SectorCount struct {
	Sector network.Sector
	Count  int
}

// Totals sum up one meeting's register.
type Totals struct {
	MeetingID int64
	Total     int // entries, people and guests
	InPerson  int
	Online    int
	Guests    int // entries without an account
	// Organizations counts the distinct organizations of the directory
	// represented.
	Organizations int
	// ByKind and BySector count entries by their organization's kind and
	// sector, in display order (network.Kinds, network.Sectors), leaving
	// out those without entries.
	ByKind   []KindCount
	BySector []SectorCount
}

// RegisterTotals sums up the registers of meetings whose register the
// actor reads, in two statements whatever their number; every such meeting
// has an entry, zero when its register is empty.
func (s *Service) RegisterTotals(ctx context.Context, meetingIDs []int64) (map[int64]*Totals, error) {
	const op = "meeting.RegisterTotals"
	out := map[int64]*Totals{}
	if len(meetingIDs) == 0 {
		return out, nil
	}
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	var ms []struct {
		ID          int64 `bun:"id"`
		TerritoryID int64 `bun:"territory_id"`
	}
	if err := s.db.NewSelect().Model((*Meeting)(nil)).Column("id", "territory_id").Where("id IN (?)", bun.In(meetingIDs)).
		Scan(ctx, &ms); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	var readable []int64
	for _, m := range ms {
		if access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: m.TerritoryID}) == nil {
			readable = append(readable, m.ID)
			out[m.ID] = &Totals{MeetingID: m.ID}
		}
	}
	if len(readable) == 0 {
		return out, nil
	}
	var rows []struct {
		MeetingID      int64          `bun:"meeting_id"`
		Mode           AttendanceMode `bun:"mode"`
		Guest          int            `bun:"guest"`
		OrganizationID *int64         `bun:"organization_id"`
		Kind           *network.Kind  `bun:"kind"`
		N              int            `bun:"n"`
	}
	const guest = "CASE WHEN ma.person_id IS NULL THEN 1 ELSE 0 END"
	if err := s.db.NewSelect().Model((*Attendance)(nil)).
		ColumnExpr("ma.meeting_id, ma.mode, "+guest+" AS guest, ma.organization_id, o.kind, COUNT(*) AS n").
		Join("LEFT JOIN organizations AS o ON o.id = ma.organization_id").Where("ma.meeting_id IN (?)", bun.In(readable)).
		GroupExpr("ma.meeting_id, ma.mode, "+guest+", ma.organization_id, o.kind").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "attendance", err)
	}
	kinds := map[int64]map[network.Kind]int{}
	orgs := map[int64]map[int64]bool{}
	for _, r := range rows {
		t := out[r.MeetingID]
		t.Total += r.N
		if r.Mode == AttendedOnline {
			t.Online += r.N
		} else {
			t.InPerson += r.N
		}
		t.Guests += r.Guest * r.N
		if r.OrganizationID != nil {
			if orgs[r.MeetingID] == nil {
				orgs[r.MeetingID], kinds[r.MeetingID] = map[int64]bool{}, map[network.Kind]int{}
			}
			orgs[r.MeetingID][*r.OrganizationID] = true
			if r.Kind != nil {
				kinds[r.MeetingID][*r.Kind] += r.N
			}
		}
	}
	for id, t := range out {
		t.Organizations = len(orgs[id])
		sectors := map[network.Sector]int{}
		for _, k := range network.Kinds {
			if n := kinds[id][k]; n > 0 {
				t.ByKind = append(t.ByKind, KindCount{Kind: k, Count: n})
				sectors[k.Sector()] += n
			}
		}
		for _, sec := range network.Sectors {
			if n := sectors[sec]; n > 0 {
				t.BySector = append(t.BySector, SectorCount{Sector: sec, Count: n})
			}
		}
	}
	return out, nil
}

// TotalsFilter chooses the meetings TotalsByTheme sums up. Zero fields do
// not filter: no territory and no working group is the whole region, for
// those who read every register (policy makers, administrators).
type TotalsFilter struct {
	TerritoryID    int64
	WorkingGroupID int64
	// From and To bound the meetings' start: From included, To excluded.
	From, To *time.Time
}

// ThemeTotals sum up the held meetings of one theme.
type ThemeTotals struct {
	ThemeID      int64
	MeetingsHeld int
	// Entries counts register entries, people and guests, over the
	// meetings.
	Entries int
	// People counts the distinct people of the directory who attended one
	// of the meetings or more; guests, who cannot be told apart, count in
	// Entries and Guests only.
	People int
	Guests int
	// Organizations counts the distinct organizations of the directory
	// represented.
	Organizations int
}

// TotalsByTheme sums up the HELD meetings chosen by f theme by theme, in
// theme order, every theme listed (zero when it has none), for those who
// read the registers concerned (ReadRegister in the territory, or
// everywhere for the region). Errors: NOT_FOUND for an unknown working
// group, FORBIDDEN for registers the actor may not read.
func (s *Service) TotalsByTheme(ctx context.Context, f TotalsFilter) ([]*ThemeTotals, error) {
	const op = "meeting.TotalsByTheme"
	if !access.ActorFrom(ctx).SignedIn() {
		return nil, apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	territory := f.TerritoryID
	if f.WorkingGroupID != 0 {
		var t int64
		if err := s.db.NewSelect().Table("working_groups").Column("territory_id").Where("id = ?", f.WorkingGroupID).
			Scan(ctx, &t); err != nil {
			if err = storage.MapError(op, "working group", err); apperr.Is(err, apperr.NotFound) {
				return nil, &apperr.Error{Kind: apperr.NotFound, Op: op, Field: "workingGroup", Message: "working group not found"}
			}
			return nil, err
		}
		if territory != 0 && territory != t {
			return nil, apperr.Invalid(op, "territory", "the working group is of another territory")
		}
		territory = t
	}
	if err := access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: territory}); err != nil {
		return nil, err
	}
	held := func(q *bun.SelectQuery, on bool) *bun.SelectQuery {
		where := q.Where
		if on {
			where = q.JoinOn
		}
		q = where("m.status = ?", Held)
		if territory != 0 {
			q = where("m.territory_id = ?", territory)
		}
		if f.From != nil {
			q = where("m.starts_at >= ?", f.From.UTC())
		}
		if f.To != nil {
			q = where("m.starts_at < ?", f.To.UTC())
		}
		return q
	}
	var out []*ThemeTotals
	q := s.db.NewSelect().TableExpr("themes AS th").ColumnExpr("th.id AS theme_id, COUNT(m.id) AS meetings_held").
		Join("LEFT JOIN meetings AS m").JoinOn("m.theme_id = th.id")
	if err := held(q, true).GroupExpr("th.id, th.position").OrderExpr("th.position, th.id").Scan(ctx, &out); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	var rows []struct {
		ThemeID       int64 `bun:"theme_id"`
		Entries       int   `bun:"entries"`
		People        int   `bun:"people"`
		Guests        int   `bun:"guests"`
		Organizations int   `bun:"organizations"`
	}
	q = s.db.NewSelect().Model((*Attendance)(nil)).Join("JOIN meetings AS m ON m.id = ma.meeting_id").
		ColumnExpr("m.theme_id, COUNT(*) AS entries, COUNT(DISTINCT ma.person_id) AS people").
		ColumnExpr("SUM(CASE WHEN ma.person_id IS NULL THEN 1 ELSE 0 END) AS guests").
		ColumnExpr("COUNT(DISTINCT ma.organization_id) AS organizations")
	if err := held(q, false).GroupExpr("m.theme_id").Scan(ctx, &rows); err != nil {
		return nil, storage.MapError(op, "attendance", err)
	}
	for _, r := range rows {
		for _, t := range out {
			if t.ThemeID == r.ThemeID {
				t.Entries, t.People, t.Guests, t.Organizations = r.Entries, r.People, r.Guests, r.Organizations
			}
		}
	}
	return out, nil
}

// The export's labels, in Italian.
var (
	registerHeader = []string{"Nome", "Ospite", "Organizzazione", "Tipo di organizzazione", "Modalità",
		"Ora di registrazione (Europe/Rome)", "Registrato da"}
	modeLabels = map[AttendanceMode]string{AttendedInPerson: "In presenza", AttendedOnline: "Online"}
	kindLabels = map[network.Kind]string{
		network.KindMinistry: "Ministero", network.KindRegion: "Regione", network.KindMunicipality: "Comune",
		network.KindHealthAuthority: "Azienda sanitaria", network.KindSchool: "Scuola",
		network.KindCPIA: "CPIA (istruzione degli adulti)", network.KindEmploymentCentre: "Centro per l'impiego",
		network.KindPrefecture: "Prefettura", network.KindUniversity: "Università",
		network.KindOtherPublicBody: "Altro ente pubblico", network.KindAssociation: "Associazione",
		network.KindSocialCooperative: "Cooperativa sociale", network.KindConsortium: "Consorzio",
		network.KindFoundation: "Fondazione", network.KindNGO: "ONG",
		network.KindVolunteerOrganization: "Organizzazione di volontariato", network.KindCompany: "Impresa",
		network.KindTradeAssociation: "Associazione di categoria", network.KindUnion: "Sindacato",
		network.KindMigrantCommunityAssociation: "Associazione di comunità migranti",
	}
)

// kindLabel is an organization kind's Italian name, as the export writes it.
func kindLabel(k network.Kind) string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// modeLabel is an attendance mode's Italian name, as the export writes it.
func modeLabel(m AttendanceMode) string { return modeLabels[m] }

// ExportRegister writes a meeting's register as CSV, one row per entry in
// the order of Register (ReadRegister; errors as Register).
func (s *Service) ExportRegister(ctx context.Context, meetingID int64) ([]byte, error) {
	return s.ExportRegisterAs(ctx, meetingID, sheet.CSV)
}

// ExportRegisterAs writes a meeting's register as a CSV file or an XLSX
// workbook (one sheet, "Registro"), one row per entry in the order of
// Register (ReadRegister; errors as Register).
func (s *Service) ExportRegisterAs(ctx context.Context, meetingID int64, format sheet.Format) ([]byte, error) {
	const op = "meeting.ExportRegister"
	m, err := loadMeeting(ctx, s.db, op, access.ReadRegister, meetingID, false)
	if err != nil {
		return nil, err
	}
	entries, err := registerOf(ctx, s.db, op, m.ID)
	if err != nil {
		return nil, err
	}
	var people, orgs []int64
	for _, a := range entries {
		if a.PersonID != nil {
			people = append(people, *a.PersonID)
		}
		if a.RecordedBy != nil {
			people = append(people, *a.RecordedBy)
		}
		if a.OrganizationID != nil {
			orgs = append(orgs, *a.OrganizationID)
		}
	}
	names := map[int64]string{}
	if len(people) > 0 {
		var rows []struct {
			ID   int64  `bun:"id"`
			Name string `bun:"display_name"`
		}
		if err := s.db.NewSelect().Table("people").Column("id", "display_name").Where("id IN (?)", bun.In(uniq(people))).
			Scan(ctx, &rows); err != nil {
			return nil, storage.MapError(op, "person", err)
		}
		for _, r := range rows {
			names[r.ID] = r.Name
		}
	}
	type org struct {
		Name string       `bun:"name"`
		Kind network.Kind `bun:"kind"`
	}
	byID := map[int64]org{}
	if len(orgs) > 0 {
		var rows []struct {
			ID int64 `bun:"id"`
			org
		}
		if err := s.db.NewSelect().Table("organizations").Column("id", "name", "kind").Where("id IN (?)", bun.In(uniq(orgs))).
			Scan(ctx, &rows); err != nil {
			return nil, storage.MapError(op, "organization", err)
		}
		for _, r := range rows {
			byID[r.ID] = r.org
		}
	}
	out := sheet.Sheet{Name: "Registro"}
	for _, h := range registerHeader {
		out.Columns = append(out.Columns, sheet.Column{Name: h})
	}
	for _, a := range entries {
		name, guest, orgName, kind, by := "", "no", "", "", ""
		if a.PersonID != nil {
			name = names[*a.PersonID]
		} else if a.GuestName != nil {
			name, guest = *a.GuestName, "sì"
		}
		if a.OrganizationID != nil {
			o := byID[*a.OrganizationID]
			orgName, kind = o.Name, kindLabel(o.Kind)
		} else if a.GuestOrganization != nil {
			orgName = *a.GuestOrganization
		}
		if a.RecordedBy != nil {
			by = names[*a.RecordedBy]
		}
		out.Rows = append(out.Rows, []any{name, guest, orgName, kind, modeLabel(a.Mode), a.CheckedInAt, by})
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, format, out); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	return b.Bytes(), nil
}
