package account

import (
	"context"
	"sync"
	"time"
)

// watchers tells long-lived connections (websockets) that their session has
// ended. A revocation on this instance is announced at once; one made on
// another instance is found by looking the session up again every
// RecheckInterval; expiry is a timer.
type watchers struct {
	mu sync.Mutex
	m  map[int64]map[chan string]struct{}
}

func newWatchers() *watchers { return &watchers{m: make(map[int64]map[chan string]struct{})} }

func (w *watchers) add(id int64) chan string {
	c := make(chan string, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m[id] == nil {
		w.m[id] = make(map[chan string]struct{})
	}
	w.m[id][c] = struct{}{}
	return c
}

func (w *watchers) remove(id int64, c chan string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m[id], c)
	if len(w.m[id]) == 0 {
		delete(w.m, id)
	}
}

// ended tells the watchers of session id that it ended, for reason.
func (w *watchers) ended(id int64, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.m[id] {
		select {
		case c <- reason:
		default:
		}
	}
}

// WatchSession calls end once, with a reason a person can read, when the
// session is revoked or expires, or when the person loses a global role
// (a connection keeps the roles it started with, so it must start again),
// and nothing when ctx ends first. It returns
// at once; the watch runs until one of the two.
func (s *Service) WatchSession(ctx context.Context, sess *Session, end func(reason string)) {
	local := s.watch.add(sess.ID)
	go func() {
		defer s.watch.remove(sess.ID, local)
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
				open, err := s.db.NewSelect().Model((*Session)(nil)).Where("id = ?", sess.ID).Where("revoked_at IS NULL").Exists(ctx)
				if err != nil {
					continue // the database is away; try again next time
				}
				if !open {
					finish(ctx, end, "the session was ended; sign in again")
					return
				}
			}
		}
	}()
}

// finish calls end unless ctx has ended: when the session ends just after
// its watcher was cancelled, select may pick either case, and a cancelled
// watch must stay silent.
func finish(ctx context.Context, end func(string), reason string) {
	if ctx.Err() == nil {
		end(reason)
	}
}
