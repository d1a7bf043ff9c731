// Package network holds the stakeholder network of the co-design: the
// organizations taking part and the people who stand for them, each
// territory's working group with its membership history, the existing
// practices the guidelines start from, and the municipalities. Every method
// checks the actor in its context with package access.
//
// The people table is shared with package account, which owns credentials
// and sessions; this package owns the directory fields (phone, archiving)
// and everything that ties a person to the network. Working-group
// memberships are the territory roles of package access: Service is the
// access.RoleSource that account.Service uses.
package network

import (
	"context"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Options configure a Service.
type Options struct {
	// Accounts is asked for a person's account data when the person exports
	// their own data.
	Accounts *account.Service
	Now      func() time.Time
	Logger   *slog.Logger
	// RolesChanged, when set, is told after each commit that changed
	// people's territory roles (a membership added, changed or ended, a
	// group or person archived or restored, an import), instead of
	// Accounts.RolesChanged: cmd/piad ends their connections here and
	// announces the change to the other instances. Without it,
	// Accounts.RolesChanged is told (this instance only).
	RolesChanged func(personIDs ...int64)
	// GroupCreated, when set, runs in the transaction that creates a
	// working group, after its row is written: package meeting creates the
	// group's four focus groups there (meeting.CreateFocusGroups), so a
	// group never exists without them.
	GroupCreated func(ctx context.Context, tx bun.IDB, groupID, territoryID int64, now time.Time) error
}

// Service manages the network.
type Service struct {
	db   *bun.DB
	o    Options
	refs refCache // the territories and themes, read once (refs.go)
}

// NewService returns a Service on db.
func NewService(db *bun.DB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, o: o}
}

var _ access.RoleSource = (*Service)(nil)

// now is the current time, to the microsecond both engines keep.
func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// actorID is the person acting, for created_by columns; nil when anonymous.
func actorID(ctx context.Context) *int64 {
	a := access.ActorFrom(ctx)
	if !a.SignedIn() {
		return nil
	}
	id := a.PersonID
	return &id
}

// NameKey folds a name for duplicate checks and ordering: lower case, single
// spaces, no spaces at the ends. "Comune di  Enna" and "comune di enna" are
// the same organization.
func NameKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// cleanText trims s, collapses runs of white space, and checks that it is
// valid UTF-8 without control characters and at most max characters long.
// Empty is refused when required.
func cleanText(op, field, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", apperr.Invalid(op, field, "%s is not valid UTF-8", field)
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

// cleanLongText checks a multi-line text (a description): valid UTF-8, at
// most max characters, no control characters other than line breaks and
// tabs. Line breaks are kept; the ends are trimmed.
func cleanLongText(op, field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", apperr.Invalid(op, field, "%s is not valid UTF-8", field)
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

// optional turns an optional text into nil when empty, after cleanText.
func optional(op, field string, s *string, max int) (*string, error) {
	if s == nil {
		return nil, nil
	}
	v, err := cleanText(op, field, *s, max, false)
	if err != nil || v == "" {
		return nil, err
	}
	return &v, nil
}

// cleanEmail checks an optional email address and lower-cases it.
func cleanEmail(op, field string, s *string) (*string, error) {
	v, err := optional(op, field, s, 254)
	if err != nil || v == nil {
		return nil, err
	}
	a, perr := mail.ParseAddress(*v)
	if perr != nil || a.Address != *v || !strings.Contains(a.Address, "@") {
		return nil, apperr.Invalid(op, field, "%q is not an email address", *v)
	}
	e := strings.ToLower(a.Address)
	return &e, nil
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ./-]{3,38}$`)

// cleanPhone checks an optional phone number: digits, spaces, dots, dashes
// and slashes, with an optional leading +.
func cleanPhone(op, field string, s *string) (*string, error) {
	v, err := optional(op, field, s, 40)
	if err != nil || v == nil {
		return nil, err
	}
	if !phonePattern.MatchString(*v) {
		return nil, apperr.Invalid(op, field, "%q is not a phone number; use digits, spaces and an optional leading +", *v)
	}
	return v, nil
}

// cleanURL checks an optional web address: http or https with a host. A
// bare host name ("www.example.org") gets https:// in front.
// The address stored, scheme included, is at most maxURL characters: the
// column's width.
func cleanURL(op, field string, s *string) (*string, error) {
	v, err := optional(op, field, s, maxURL)
	if err != nil || v == nil {
		return nil, err
	}
	raw := *v
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, perr := url.Parse(raw)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" ||
		strings.ContainsAny(u.Host, " ") || !strings.Contains(u.Host, ".") {
		return nil, apperr.Invalid(op, field, "%q is not a web address", *v)
	}
	if n := utf8.RuneCountInString(raw); n > maxURL {
		return nil, apperr.Invalid(op, field, "the web address %s has %d characters; the most is %d", raw, n, maxURL)
	}
	return &raw, nil
}

// maxURL is the longest web address stored, the columns' width.
const maxURL = 500

var (
	partitaIVA     = regexp.MustCompile(`^[0-9]{11}$`)
	codiceFiscale  = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)
	taxCodeSpacers = strings.NewReplacer(" ", "", "-", "", ".", "")
)

// cleanTaxCode checks an optional Italian tax code: a partita IVA or an
// organization's codice fiscale (11 digits) or a person's codice fiscale (16
// characters, as some associations have). Spaces are dropped, letters
// upper-cased, and an "IT" prefix removed.
func cleanTaxCode(op, field string, s *string) (*string, error) {
	v, err := optional(op, field, s, 20)
	if err != nil || v == nil {
		return nil, err
	}
	c := strings.ToUpper(taxCodeSpacers.Replace(*v))
	if len(c) == 13 && strings.HasPrefix(c, "IT") {
		c = c[2:]
	}
	if !partitaIVA.MatchString(c) && !codiceFiscale.MatchString(c) {
		return nil, apperr.Invalid(op, field, "%q is not an Italian tax code (11 digits, or 16 characters)", *v)
	}
	return &c, nil
}

// setArchived archives (archived) or restores row, whose archived_at and
// updated_at fields are at and updated, writing both columns; a row already
// so is left alone. what names the row for errors.
func (s *Service) setArchived(ctx context.Context, tx bun.IDB, op, what string, row any, at **time.Time, updated *time.Time, archived bool) error {
	if (*at != nil) == archived {
		return nil
	}
	now := s.now()
	*updated, *at = now, nil
	if archived {
		*at = &now
	}
	_, err := tx.NewUpdate().Model(row).Column("archived_at", "updated_at").WherePK().Exec(ctx)
	return storage.MapError(op, what, err)
}

// shareLocked adds FOR SHARE to q on PostgreSQL: the rows read stay locked
// to the end of the transaction, so that archiving one of them meanwhile
// waits and nothing is tied to what was just archived. SQLite runs one
// writer at a time, so needs no lock.
func shareLocked(db bun.IDB, q *bun.SelectQuery) *bun.SelectQuery {
	if storage.EngineOf(db) == storage.Postgres {
		return q.For("SHARE")
	}
	return q
}

// dateOnly is t as a date: midnight UTC of its day.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// FirstDate and LastDate bound the dates the network keeps (a group's
// formation, a practice's period), written as the Date scalar writes them;
// the scalar checks them too. PostgreSQL refuses year 0, and 0001-01-01 is
// Go's zero time, which patches read as "clear": no such date may reach
// the database.
const (
	FirstDate = "1900-01-01"
	LastDate  = "2100-12-31"
)

var firstDate, lastDate = mustDate(FirstDate), mustDate(LastDate)

func mustDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// DateInRange reports whether the day of t (see dateOnly) lies between
// FirstDate and LastDate.
func DateInRange(t time.Time) bool {
	d := dateOnly(t)
	return !d.Before(firstDate) && !d.After(lastDate)
}

// cleanDate is t as a date (dateOnly), or BAD_USER_INPUT naming field when
// that day is not between FirstDate and LastDate.
func cleanDate(op, field string, t time.Time) (time.Time, error) {
	if !DateInRange(t) {
		return time.Time{}, apperr.Invalid(op, field, "%s is %s; a date lies between %s and %s", field,
			dateOnly(t).Format(time.DateOnly), FirstDate, LastDate)
	}
	return dateOnly(t), nil
}

// likePattern escapes a search text for LIKE ... ESCAPE '\': every word must
// appear, so "comune enna" finds "Comune di Enna".
func likePatterns(search string) []string {
	var out []string
	for _, w := range strings.Fields(strings.ToLower(search)) {
		w = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(w)
		out = append(out, "%"+w+"%")
	}
	return out
}

// whereSearch adds one LIKE condition per word of search on the lower-cased
// expression expr (a column already folded, such as name_key, or
// lower(display_name)).
func whereSearch(q *bun.SelectQuery, expr, search string) *bun.SelectQuery {
	for _, p := range likePatterns(search) {
		q = q.Where(expr+` LIKE ? ESCAPE '\'`, p)
	}
	return q
}

// CleanText is cleanText for other features' one-line fields (a meeting's
// title, a venue), so that every text of PIA is checked the same way.
func CleanText(op, field, s string, max int, required bool) (string, error) {
	return cleanText(op, field, s, max, required)
}

// CleanLongText is cleanLongText for other features' multi-line fields (a
// meeting's description, its minutes).
func CleanLongText(op, field, s string, max int) (string, error) {
	return cleanLongText(op, field, s, max)
}
