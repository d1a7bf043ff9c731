package account

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
)

// The reasons a watched connection is told when its roles changed: it
// keeps the roles it started with, so it must start again to get the new
// ones.
const (
	reasonRoles          = "your roles changed; connect again"
	reasonTerritoryRoles = "your roles in the working groups changed; reconnect"
)

// watchers tells long-lived connections (websockets) that their session has
// ended or their roles changed. A revocation or a role change on this
// instance is announced at once; one made on another instance is found by
// looking the session and the roles up again every RecheckInterval; expiry
// is a timer.
type watchers struct {
	mu       sync.Mutex
	sessions map[int64]map[chan string]struct{} // by session id
	people   map[int64]map[chan string]struct{} // by person id
}

func newWatchers() *watchers {
	return &watchers{sessions: make(map[int64]map[chan string]struct{}), people: make(map[int64]map[chan string]struct{})}
}

func (w *watchers) add(sess *Session) chan string {
	c := make(chan string, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	join(w.sessions, sess.ID, c)
	join(w.people, sess.PersonID, c)
	return c
}

func (w *watchers) remove(sess *Session, c chan string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	leave(w.sessions, sess.ID, c)
	leave(w.people, sess.PersonID, c)
}

func join(m map[int64]map[chan string]struct{}, id int64, c chan string) {
	if m[id] == nil {
		m[id] = make(map[chan string]struct{})
	}
	m[id][c] = struct{}{}
}

func leave(m map[int64]map[chan string]struct{}, id int64, c chan string) {
	delete(m[id], c)
	if len(m[id]) == 0 {
		delete(m, id)
	}
}

// ended tells the watchers of session id that it ended, for reason.
func (w *watchers) ended(id int64, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tell(w.sessions[id], reason)
}

// personEnded tells the watchers of every session of person id to end, for
// reason.
func (w *watchers) personEnded(id int64, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tell(w.people[id], reason)
}

// tell sends reason to each watcher that has not been told yet: the first
// reason wins, and telling never blocks.
func tell(cs map[chan string]struct{}, reason string) {
	for c := range cs {
		select {
		case c <- reason:
		default:
		}
	}
}

// RolesChanged ends at once, on this instance, the watched connections of
// each of personIDs, whose territory roles have just changed (package
// network calls it after committing a membership change): they keep the
// roles they started with, so they must start again. Other instances find
// the change at their next recheck. It touches no database.
func (s *Service) RolesChanged(personIDs ...int64) {
	for _, id := range personIDs {
		s.watch.personEnded(id, reasonTerritoryRoles)
	}
}

// WatchSession calls end once, with a reason a person can read, when the
// session is revoked or expires, when the person loses a global role, or
// when their territory roles change (a connection keeps the roles it
// started with, so it must start again), and nothing when ctx ends first.
// It returns at once; the watch runs until one of the two.
//
// The roles the connection started with are those of the actor in ctx
// when it is the session's (as a websocket's init puts it there); without
// one, the watch reads them as it starts.
func (s *Service) WatchSession(ctx context.Context, sess *Session, end func(reason string)) {
	local := s.watch.add(sess)
	var start *access.Actor
	if a := access.ActorFrom(ctx); a.SignedIn() && a.SessionID == sess.ID {
		start = a
	}
	go func() {
		defer s.watch.remove(sess, local)
		if start == nil {
			start, _ = s.actorFor(ctx, sess) // on an error, the first recheck that reads them sets them
		}
		expiry := time.NewTimer(sess.ExpiresAt.Sub(s.now()))
		defer expiry.Stop()
		recheck := time.NewTicker(s.o.RecheckInterval)
		defer recheck.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case reason := <-local:
				finish(ctx, end, reason)
				return
			case <-expiry.C:
				finish(ctx, end, "the session has expired; sign in again")
				return
			case <-recheck.C:
				reason, err := s.recheck(ctx, sess, &start)
				if err != nil {
					continue // the database is away; try again next time
				}
				if reason != "" {
					finish(ctx, end, reason)
					return
				}
			}
		}
	}()
}

// recheck looks sess and its person's roles up again, to notice what
// another instance changed. It returns why the connection must end, or ""
// when it may go on. *start is the actor the connection started as; when
// nil, what recheck reads becomes it.
func (s *Service) recheck(ctx context.Context, sess *Session, start **access.Actor) (string, error) {
	open, err := s.db.NewSelect().Model((*Session)(nil)).Where("id = ?", sess.ID).Where("revoked_at IS NULL").Exists(ctx)
	if err != nil {
		return "", err
	}
	if !open {
		return reasonEnded, nil
	}
	now, err := s.actorFor(ctx, sess)
	if err != nil {
		return "", err
	}
	if *start == nil {
		*start = now
		return "", nil
	}
	return s.rolesChange(*start, now), nil
}

// rolesChange says why a connection that started as was must end now that
// the person is now: a global role lost (one gained can wait for the next
// connection, as SetGlobalRoles does), or territory roles that differ in
// any way; "" when neither.
func (s *Service) rolesChange(was, now *access.Actor) string {
	for _, r := range was.GlobalRoles {
		if !now.Has(r) {
			return reasonRoles
		}
	}
	if s.o.Roles != nil && !maps.Equal(was.Territories, now.Territories) {
		return reasonTerritoryRoles
	}
	return ""
}

// finish calls end unless ctx has ended: when the session ends just after
// its watcher was cancelled, select may pick either case, and a cancelled
// watch must stay silent.
func finish(ctx context.Context, end func(string), reason string) {
	if ctx.Err() == nil {
		end(reason)
	}
}
