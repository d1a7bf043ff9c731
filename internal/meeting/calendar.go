package meeting

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

// The calendar feeds: a territory's and a focus group's public meetings for
// anyone, and a person's own meetings behind a token that a calendar client
// keeps in the feed's address (clients cannot sign in).

// FeedWindow is how far back a feed reaches: meetings that started up to
// 90 days ago stay, so a client keeps the last quarter's meetings (and
// sees the cancellation of a recent one) while a feed read every hour
// does not grow with PIA's whole history. A client drops from its copy
// what leaves the feed; the meetings themselves stay in PIA.
const FeedWindow = 90 * 24 * time.Hour

// maxCalendarTokens is how many live tokens a person may hold: one per
// device or client is plenty, and a bound keeps a script from filling the
// table.
const maxCalendarTokens = 20

// TerritoryFeed is the public calendar of territoryCode's meetings (see
// FeedWindow), in any status (a cancelled meeting stays, so clients remove
// it), private ones left out, in order of start. Anyone may read it. It
// returns BAD_USER_INPUT for a code that is not two letters and NOT_FOUND
// for an unknown one.
func (s *Service) TerritoryFeed(ctx context.Context, territoryCode string) ([]byte, error) {
	const op = "meeting.TerritoryFeed"
	if err := access.Check(ctx, access.ReadPublicCalendar, access.Resource{}); err != nil {
		return nil, err
	}
	ref := reference.NewService(s.db)
	t, err := ref.TerritoryByCode(ctx, territoryCode)
	if err != nil {
		return nil, err
	}
	ms, err := s.feedMeetings(ctx, op, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("m.territory_id = ?", t.ID).Where("m.private = ?", false)
	})
	if err != nil {
		return nil, err
	}
	themes, err := themeLabels(ctx, ref, "it")
	if err != nil {
		return nil, err
	}
	return s.encodeCalendar(calendar{name: "PIA – " + t.Name, themes: themes, feed: true}, ms)
}

// FocusGroupFeed is the public calendar of one focus group's meetings, as
// TerritoryFeed has them. Anyone may read it; an unknown focus group is
// NOT_FOUND.
func (s *Service) FocusGroupFeed(ctx context.Context, focusGroupID int64) ([]byte, error) {
	const op = "meeting.FocusGroupFeed"
	if err := access.Check(ctx, access.ReadPublicCalendar, access.Resource{}); err != nil {
		return nil, err
	}
	fg := new(FocusGroup)
	if err := s.db.NewSelect().Model(fg).Where("fg.id = ?", focusGroupID).Scan(ctx); err != nil {
		err = storage.MapError(op, "focus group", err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.E(apperr.NotFound, op, "focus group not found")
		}
		return nil, err
	}
	ms, err := s.feedMeetings(ctx, op, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("m.focus_group_id = ?", fg.ID).Where("m.private = ?", false)
	})
	if err != nil {
		return nil, err
	}
	ref := reference.NewService(s.db)
	t, err := ref.TerritoryByID(ctx, fg.TerritoryID)
	if err != nil {
		return nil, err
	}
	themes, err := themeLabels(ctx, ref, "it")
	if err != nil {
		return nil, err
	}
	return s.encodeCalendar(calendar{name: "PIA – " + t.Name + " – " + themes[fg.ThemeID], themes: themes, feed: true}, ms)
}

// CreateCalendarToken makes a new token for the actor's personal feed
// (PersonalFeed) and returns it; only its SHA-256 is kept, so it cannot be
// shown again. A person may hold several, one per client, up to 20 live
// ones. It returns UNAUTHENTICATED without a session and CONFLICT reason
// TOO_MANY_FEEDS when the actor already holds 20.
func (s *Service) CreateCalendarToken(ctx context.Context) (string, error) {
	const op = "meeting.CreateCalendarToken"
	a := access.ActorFrom(ctx)
	if err := access.Check(ctx, access.ManageCalendarFeed, access.Resource{OwnerID: a.PersonID}); err != nil {
		return "", err
	}
	token, hash := newFeedToken()
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*calendarToken)(nil)).
			Where("person_id = ?", a.PersonID).Where("revoked_at IS NULL").Count(ctx)
		if err != nil {
			return storage.MapError(op, "calendar token", err)
		}
		if n >= maxCalendarTokens {
			return apperr.E(apperr.Conflict, op, "you hold %d calendar links already; revoke them to make a new one", n).
				WithReason("TOO_MANY_FEEDS")
		}
		_, err = tx.NewInsert().Model(&calendarToken{PersonID: a.PersonID, TokenHash: hash, CreatedAt: s.now()}).Exec(ctx)
		return storage.MapError(op, "calendar token", err)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeCalendarTokens revokes every live token of the actor's personal
// feed and returns how many there were: the feed's addresses stop working
// in every client at once. It returns UNAUTHENTICATED without a session.
func (s *Service) RevokeCalendarTokens(ctx context.Context) (int, error) {
	const op = "meeting.RevokeCalendarTokens"
	a := access.ActorFrom(ctx)
	if err := access.Check(ctx, access.ManageCalendarFeed, access.Resource{OwnerID: a.PersonID}); err != nil {
		return 0, err
	}
	res, err := s.db.NewUpdate().Model((*calendarToken)(nil)).Set("revoked_at = ?", s.now()).
		Where("person_id = ?", a.PersonID).Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return 0, storage.MapError(op, "calendar token", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, storage.MapError(op, "calendar token", err)
	}
	return int(n), nil
}

// PersonalFeed is the calendar of the person whose token this is: the
// meetings they are invited to (unless they handed the invitation to a
// delegate) and those of the focus groups and meetings they facilitate,
// private ones included, over FeedWindow, in their language. The token is
// the credential, so no actor is needed. A malformed, unknown or revoked
// token, and the token of an archived or erased person, are all NOT_FOUND
// with the same message, so a token cannot be probed.
func (s *Service) PersonalFeed(ctx context.Context, token string) ([]byte, error) {
	const op = "meeting.PersonalFeed"
	notFound := apperr.E(apperr.NotFound, op, "calendar not found")
	if !wellFormedFeedToken(token) {
		return nil, notFound
	}
	var p struct {
		ID       int64  `bun:"id"`
		Language string `bun:"language"`
	}
	err := s.db.NewSelect().Table("calendar_tokens").ColumnExpr("p.id, p.language").
		Join("JOIN people AS p ON p.id = calendar_tokens.person_id").
		Where("calendar_tokens.token_hash = ?", hashFeedToken(token)).Where("calendar_tokens.revoked_at IS NULL").
		Where("p.archived_at IS NULL").Where("p.erased_at IS NULL").
		Scan(ctx, &p)
	if err != nil {
		if err = storage.MapError(op, "calendar token", err); apperr.Is(err, apperr.NotFound) {
			return nil, notFound
		}
		return nil, err
	}
	ms, err := s.feedMeetings(ctx, op, func(q *bun.SelectQuery) *bun.SelectQuery {
		invited := s.db.NewSelect().Model((*Invitation)(nil)).Column("meeting_id").
			Where("person_id = ?", p.ID).Where("status <> ?", Delegated)
		facilitated := s.db.NewSelect().Model((*FocusGroup)(nil)).Column("id").Where("facilitator_id = ?", p.ID)
		return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("m.id IN (?)", invited).
				WhereOr("m.focus_group_id IN (?)", facilitated).
				WhereOr("m.facilitator_id = ?", p.ID)
		})
	})
	if err != nil {
		return nil, err
	}
	themes, err := themeLabels(ctx, reference.NewService(s.db), p.Language)
	if err != nil {
		return nil, err
	}
	name := "PIA – i miei incontri"
	if p.Language == "en" {
		name = "PIA – my meetings"
	}
	return s.encodeCalendar(calendar{name: name, lang: p.Language, themes: themes, feed: true}, ms)
}

// MeetingICS is meeting meetingID alone as a calendar, to download or
// import once. It is for whoever may read the meeting (ReadMeeting): an
// unknown meeting, or one the actor may not read, is NOT_FOUND; without a
// session it is UNAUTHENTICATED.
func (s *Service) MeetingICS(ctx context.Context, meetingID int64) ([]byte, error) {
	const op = "meeting.MeetingICS"
	m, err := loadMeeting(ctx, s.db, op, access.ReadMeeting, meetingID, false)
	if err != nil {
		return nil, err
	}
	themes, err := themeLabels(ctx, reference.NewService(s.db), "it")
	if err != nil {
		return nil, err
	}
	return s.encodeCalendar(calendar{name: m.Title, themes: themes}, []*Meeting{m})
}

// feedMeetings reads the meetings filter selects that started within
// FeedWindow, in order of start.
func (s *Service) feedMeetings(ctx context.Context, op string, filter func(*bun.SelectQuery) *bun.SelectQuery) ([]*Meeting, error) {
	var ms []*Meeting
	q := s.db.NewSelect().Model(&ms).Where("m.starts_at >= ?", s.now().Add(-FeedWindow))
	if err := filter(q).Order("m.starts_at", "m.id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "meeting", err)
	}
	return ms, nil
}

// themeLabels are the themes' labels in lang, by theme id.
func themeLabels(ctx context.Context, ref *reference.Service, lang string) (map[int64]string, error) {
	ths, err := ref.Themes(ctx)
	if err != nil {
		return nil, err
	}
	labels := make(map[int64]string, len(ths))
	for _, th := range ths {
		labels[th.ID] = th.Label(lang)
	}
	return labels, nil
}

// Feed tokens are made as sessions' are (package account): 256 random
// bits in base64url, kept only as their SHA-256, looked up by it.
const feedTokenLen = 43 // base64url of 32 bytes, unpadded

func newFeedToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashFeedToken(token)
}

func hashFeedToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormedFeedToken reports whether s could be a token, before any
// lookup.
func wellFormedFeedToken(s string) bool {
	if len(s) != feedTokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
