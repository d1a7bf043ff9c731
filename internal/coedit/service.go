// Package coedit is the guideline documents of the working groups and their
// live co-editing: documents and ordered sections, the per-section operation
// log with its group committer and text cache, replay and live streams
// (across instances through PostgreSQL LISTEN/NOTIFY), presence, comments
// anchored to the text, named versions and diffs, the review and exports.
//
// The operation log is the truth. One committer goroutine per Service writes
// every operation: it takes what is queued, locks the rows of the sections
// concerned, catches its in-memory text cache up with anything another
// instance committed, transforms each operation against what was committed
// after the version it was made on, applies it, moves the open comment
// anchors, and commits the batch in one transaction (group commit). Streams
// read what they missed from the log and then follow the in-process hub,
// which the listener feeds with other instances' commits.
//
// Lock order, for every transaction of the package: document rows first,
// then section rows in id order, then comment rows. The committer takes the
// documents FOR SHARE and the sections FOR UPDATE (PostgreSQL; SQLite
// transactions are immediate and so serial).
//

package coedit

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// People reads names, emails and languages for mentions, contributors
	// and exports (network.Service in cmd/piad) and, through ReaderSource,
	// the roles of the people mentioned. Without both, nobody can be
	// mentioned.
	People PeopleSource
	// PublicURL is the address links in mails point to.
	PublicURL string
	// MailQueued is called after a transaction that queued mail commits.
	MailQueued func()
	// SnapshotEvery is how many operations may follow a section's snapshot
	// before the committer writes a new one (default 200).
	SnapshotEvery int
	// MaxInsertRunes caps the code points one operation may insert
	// (default 100,000); MaxSectionRunes caps a section's length (default
	// 2,000,000).
	MaxInsertRunes  int
	MaxSectionRunes int
	// SubscriberBuffer is how many events a subscription may fall behind
	// before it ends with RESUBSCRIBE (default 1,024).
	SubscriberBuffer int
	// PresenceTTL is how long presence lasts without a heartbeat (default
	// 30 s).
	PresenceTTL time.Duration
	// BatchMax caps the operations the committer writes in one transaction
	// (default 512).
	BatchMax int
	// RolesChanged, when set, is called with the people whose territory
	// roles another instance announced changed (AnnounceRolesChanged), so
	// that their connections here end at once rather than at their next
	// session recheck (account.Service.RolesChanged in cmd/piad).
	RolesChanged func(personIDs ...int64)
	// Notes receive, by kind "k", the notifications other features send on
	// the co-editing channel through Broadcast (package meeting's "meeting"
	// events), from other instances of the same scope, payload whole.
	Notes map[string]func(payload []byte)
}

// The defaults of Options.
const (
	DefaultSnapshotEvery    = 200
	DefaultMaxInsertRunes   = 100_000
	DefaultMaxSectionRunes  = 2_000_000
	DefaultSubscriberBuffer = 1024
	DefaultPresenceTTL      = 30 * time.Second
	DefaultBatchMax         = 512
)

// PeopleSource gives what coedit needs to know about people.
type PeopleSource interface {
	// Contacts returns, for each id, the person's display name, email
	// (may be "") and language ("it" or "en"), without authorization checks.
	Contacts(ctx context.Context, ids []int64) (map[int64]Contact, error)
}

// ReaderSource gives people's roles. Options.People should implement it
// too: a comment may mention only people who may read the document (the
// mail quotes it), and without it nobody can be mentioned.
type ReaderSource interface {
	// Readers returns, for each id of a live person, an actor with the
	// person's current global roles and territory roles (PersonID set, no
	// session), without authorization checks. An id missing from the map
	// is someone who may read nothing.
	Readers(ctx context.Context, ids []int64) (map[int64]*access.Actor, error)
}

// Contact is what coedit knows of a person.
type Contact struct {
	Name, Email, Language string
}

// notifyChannel is the PostgreSQL channel of every instance's commits,
// document events and presence.
const notifyChannel = "pia_coedit"

// Service runs documents and their co-editing. Start it before use and Close
// it at shutdown.
type Service struct {
	db *bun.DB
	o  Options
	pg bool
	// instance tells this Service's notifications from other instances'.
	instance string
	// scope is the PostgreSQL database and schema, in every notification:
	// NOTIFY channels are per database, so Services on other schemas of the
	// same database (tests, several deployments) hear each other and must
	// ignore what is not theirs.
	scope string

	cache *textCache
	meta  *metaCache
	hub   *hub
	pres  *presenceStore

	mu      sync.Mutex // guards queue, started, closed
	queue   []*pending
	started bool
	closed  bool
	wake    chan struct{} // a request was queued, or Close was called
	stop    chan struct{} // closed by Close: streams end
	done    chan struct{} // closed when the committer has returned

	ln        *pgdriver.Listener
	lnDone    chan struct{}
	closeOnce sync.Once

	// resyncEvery is how often the listener checks the sections with local
	// subscribers against the database, in case a notification was lost
	// (a reconnection, a full buffer).
	resyncEvery time.Duration

	// maxBehind is how far behind the section an edit's base may be
	// (DefaultMaxVersionsBehind; tests lower it).
	maxBehind int64
	// committerLogRows counts the old operations the committer read from
	// the log to transform an edit (tests check that it leaves that to the
	// submitters).
	committerLogRows atomic.Int64
}

// NewService returns a Service on db.
func NewService(db *bun.DB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = DefaultSnapshotEvery
	}
	if o.MaxInsertRunes <= 0 {
		o.MaxInsertRunes = DefaultMaxInsertRunes
	}
	if o.MaxSectionRunes <= 0 {
		o.MaxSectionRunes = DefaultMaxSectionRunes
	}
	if o.SubscriberBuffer <= 0 {
		o.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if o.PresenceTTL <= 0 {
		o.PresenceTTL = DefaultPresenceTTL
	}
	if o.BatchMax <= 0 {
		o.BatchMax = DefaultBatchMax
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	s := &Service{
		db:          db,
		o:           o,
		pg:          db.Dialect().Name() == dialect.PG,
		instance:    hex.EncodeToString(id[:]),
		cache:       newTextCache(defaultCacheSections, defaultCacheRunes, defaultCacheIdle),
		meta:        newMetaCache(),
		wake:        make(chan struct{}, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		resyncEvery: 5 * time.Second,
		maxBehind:   DefaultMaxVersionsBehind,
	}
	s.hub = newHub(s)
	s.pres = newPresenceStore(s)
	return s
}

// Start starts the committer and, on PostgreSQL, the listener that brings
// other instances' commits and presence. It returns when they run: a
// notification sent after Start returns is heard. Starting twice does
// nothing; a closed Service does not start again.
func (s *Service) Start(ctx context.Context) error {
	const op = "coedit.Start"
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if s.closed {
		return apperr.E(apperr.Internal, op, "the co-editing service was closed")
	}
	if s.pg {
		if err := s.db.NewRaw("SELECT current_database() || '.' || current_schema()").Scan(ctx, &s.scope); err != nil {
			return apperr.Wrap(op, err)
		}
		ln := pgdriver.NewListener(s.db)
		if err := ln.Listen(ctx, notifyChannel); err != nil {
			_ = ln.Close()
			return apperr.Wrap(op, err)
		}
		s.ln = ln
		s.lnDone = make(chan struct{})
		// Channel pings the connection and reconnects (and listens again)
		// when it breaks; what is missed meanwhile the periodic resync finds.
		go s.listen(ln.Channel(pgdriver.WithChannelSize(4096)))
	}
	s.started = true
	go s.commitLoop()
	return nil
}

// Close stops accepting operations (INTERNAL), lets the committer write what
// was already queued, stops the listener, ends the streams (their channels
// close) and stops presence. It may be called more than once.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		started := s.started
		s.mu.Unlock()
		s.signal()
		if started {
			<-s.done
		}
		close(s.stop)
		if s.ln != nil {
			_ = s.ln.Close()
			<-s.lnDone
		}
		s.pres.close()
	})
}

// signal wakes the committer.
func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

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

// authorize checks action on d for the actor in ctx. A document the actor
// may not read is NOT_FOUND (so that its existence does not leak); an
// anonymous actor is UNAUTHENTICATED; a readable document the actor may not
// act on this way is FORBIDDEN.
func (s *Service) authorize(ctx context.Context, action access.Action, d *Document) error {
	r := access.Resource{TerritoryID: d.TerritoryID}
	if err := access.Check(ctx, access.ReadDocument, r); err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			return err
		}
		return apperr.E(apperr.NotFound, string(action), "document not found")
	}
	if action == access.ReadDocument {
		return nil
	}
	return access.Check(ctx, action, r)
}

// requireActor returns UNAUTHENTICATED unless someone is signed in.
func requireActor(ctx context.Context, op string) error {
	if !access.ActorFrom(ctx).SignedIn() {
		return apperr.E(apperr.Unauthenticated, op, "sign in first")
	}
	return nil
}

// document reads a document by id through db, without authorization;
// NOT_FOUND when there is none.
func (s *Service) document(ctx context.Context, db bun.IDB, id int64) (*Document, error) {
	const op = "coedit.document"
	d := new(Document)
	if err := db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "document not found")
		}
		return nil, storage.MapError(op, "document", err)
	}
	return d, nil
}

// lockDocument reads a document in tx, locked FOR UPDATE on PostgreSQL
// until tx ends (SQLite transactions are serial already); NOT_FOUND when
// there is none. Structure changes and status changes take it first (see
// the package's lock order).
func (s *Service) lockDocument(ctx context.Context, tx bun.IDB, id int64) (*Document, error) {
	const op = "coedit.lockDocument"
	d := new(Document)
	q := tx.NewSelect().Model(d).Where("id = ?", id)
	if storage.EngineOf(tx) == storage.Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "document not found")
		}
		return nil, storage.MapError(op, "document", err)
	}
	return d, nil
}

// lockSection reads a section in tx, locked FOR
// UPDATE on PostgreSQL until tx ends, so that no operation commits on it
// meanwhile: its Version is the text's version until tx ends. NOT_FOUND when
// there is none. A caller that also locks the document locks it first.
func (s *Service) lockSection(ctx context.Context, tx bun.IDB, id int64) (*Section, error) {
	const op = "coedit.lockSection"
	sec := new(Section)
	q := tx.NewSelect().Model(sec).Where("id = ?", id)
	if storage.EngineOf(tx) == storage.Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.E(apperr.NotFound, op, "section not found")
		}
		return nil, storage.MapError(op, "section", err)
	}
	return sec, nil
}

// broadcast sends payload, a JSON object with a "k" kind field (such as
// {"k":"presence",...}), to the other instances on PostgreSQL, where the
// listener hands it to the matching handler (presence: presenceStore.fromPeer,
// which receives it with two more fields, "i" and "n", the sender's instance
// and scope). On SQLite it does nothing. The payload must stay under 7,900
// bytes; a failure is logged, not returned: peers' state is best effort.
func (s *Service) broadcast(ctx context.Context, payload []byte) {
	if !s.pg {
		return
	}
	msg, err := s.envelope(payload)
	if err != nil {
		s.o.Logger.Error("coedit: broadcast", "err", err)
		return
	}
	if _, err := s.db.ExecContext(ctx, "SELECT pg_notify(?, ?)", notifyChannel, string(msg)); err != nil {
		s.o.Logger.Error("coedit: broadcast", "err", err)
	}
}

// Broadcast sends payload, a JSON object with a kind "k" that Options.Notes
// of the other instances handle, on the co-editing channel: one LISTEN
// connection per instance serves every feature. On SQLite it does nothing;
// a failure is logged.
func (s *Service) Broadcast(ctx context.Context, payload []byte) { s.broadcast(ctx, payload) }

// maxRolesPerNote is how many person ids one roles notification carries:
// with ids up to 19 digits it stays under maxPayload.
const maxRolesPerNote = 300

// rolesNote is the payload of a roles notification.
type rolesNote struct {
	K string  `json:"k"`
	P []int64 `json:"p"`
}

// AnnounceRolesChanged tells the other instances on PostgreSQL that the
// territory roles of personIDs changed, so that each calls its
// Options.RolesChanged with them and ends their connections at once. It
// does not call this instance's: the caller tells its own. On SQLite, or
// with no ids, it does nothing; a failure is logged, and the other
// instances then notice at their next session recheck.
func (s *Service) AnnounceRolesChanged(ctx context.Context, personIDs ...int64) {
	for len(personIDs) > 0 {
		n := min(len(personIDs), maxRolesPerNote)
		payload, err := json.Marshal(rolesNote{K: "roles", P: personIDs[:n]})
		if err == nil {
			s.broadcast(ctx, payload)
		}
		personIDs = personIDs[n:]
	}
}

// maxPayload is the most bytes a notification may carry (PostgreSQL's
// limit is 8,000).
const maxPayload = 7900

// envelope adds this instance's id and scope to payload, a JSON object.
func (s *Service) envelope(payload []byte) ([]byte, error) {
	payload = bytes.TrimSpace(payload)
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, errors.New("coedit: a broadcast payload must be a JSON object")
	}
	if _, ok := probe["k"]; !ok {
		return nil, errors.New(`coedit: a broadcast payload needs a "k" field`)
	}
	head, _ := json.Marshal(struct {
		I string `json:"i"`
		N string `json:"n"`
	}{s.instance, s.scope})
	out := make([]byte, 0, len(head)+len(payload))
	out = append(out, head[:len(head)-1]...) // without its closing brace
	rest := payload[1:]
	if len(probe) > 0 {
		out = append(out, ',')
	}
	out = append(out, rest...)
	if len(out) > maxPayload {
		return nil, errors.New("coedit: a broadcast payload is too large")
	}
	return out, nil
}

// logTx writes e about d to the activity log in tx, with d's territory and
// id, and d's title unless e has one.
func (s *Service) logTx(ctx context.Context, tx bun.IDB, e activity.Entry, d *Document) error {
	id := d.ID
	e.TerritoryID, e.DocumentID = d.TerritoryID, &id
	if e.Title == "" {
		e.Title = d.Title
	}
	return activity.Record(ctx, tx, s.now(), e)
}

// logThreadTx writes kind about thread, a thread of d, to the activity log
// in tx, with its section's theme.
func (s *Service) logThreadTx(ctx context.Context, tx bun.IDB, op string, kind activity.Kind, thread *Comment, d *Document) error {
	sec := new(Section)
	if err := tx.NewSelect().Model(sec).Column("theme_id").Where("id = ?", thread.SectionID).Scan(ctx); err != nil {
		return storage.MapError(op, "section", err)
	}
	e := activity.Entry{Kind: kind, SectionID: &thread.SectionID, ThemeID: sec.ThemeID, CommentID: &thread.ID}
	return s.logTx(ctx, tx, e, d)
}
