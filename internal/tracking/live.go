package tracking

// The live figures: a territory's four cells, pushed when its meetings,
// their registers and invitations, or its documents change.
//
// Decisions:
//   - Where changes come from. The meeting and co-editing hubs, which already
//     carry every change of this instance and, on PostgreSQL, of the others
//     (the listener on the co-editing channel): meeting.Service.Watch and
//     coedit.Service.Watch, which check no access and name the territory.
//     There is no second notification mechanism, and no polling.
//   - One feed per territory with subscribers, shared by all of them. A
//     change marks it; the first mark arms a timer (Options.Debounce, 1 s by
//     default) and further marks coalesce; when the timer fires the mark is
//     cleared, the figures are computed once and handed to every subscriber.
//     A mark that comes during the computation arms the next timer, so no
//     change is left out, and two computations of a territory's feed start
//     at least Debounce apart: a storm of edits costs a computation per
//     Debounce however many edits it has, and its last update shows them
//     all.
//   - A subscriber gets the current figures at once, computed for it on its
//     own request (so that its errors are its own), then each update. Every
//     computation is numbered when it starts; a subscriber is handed figures
//     only newer than those it holds, and a subscriber that reads slowly
//     finds only the latest figures waiting (one slot, replaced), never a
//     queue: the figures are a state, not a log.
//   - A feed exists while its territory has subscribers; changes of other
//     territories cost a map lookup. Computing needs no caller (access is
//     checked when subscribing; a websocket whose person loses their roles is
//     closed by the account service).
//   - A computation that fails is logged; subscribers keep the figures they
//     have, and the next change tries again.
//   - What is not followed: organizations and memberships (the
//     organizations' kinds in a register come from the directory) and time
//     passing (the edit windows and the next meeting move at the next
//     update). A new document is a STRUCTURE event of its own.

import (
	"context"
	"sync"
	"time"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/reference"
)

// Figures are one territory's cells, one per theme by position, as the
// regional overview has them.
type Figures struct {
	Territory *reference.Territory
	Cells     []*Cell
	// At is when the figures were computed; the edit windows end there.
	At time.Time
}

// TerritoryFigures returns the figures of the territory with code (two
// letters, any case): its row of the regional overview, computed with the
// same statements narrowed to it. It returns BAD_USER_INPUT for a
// malformed code, NOT_FOUND for an unknown one, UNAUTHENTICATED for an
// anonymous caller and FORBIDDEN for one without a global role or a
// territory role.
func (s *Service) TerritoryFigures(ctx context.Context, code string) (*Figures, error) {
	t, err := s.territory(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.figures(ctx, t)
}

// territory checks ReadTracking and finds the territory of code.
func (s *Service) territory(ctx context.Context, code string) (*reference.Territory, error) {
	if err := check(ctx); err != nil {
		return nil, err
	}
	return s.ref.TerritoryByCode(ctx, code)
}

// figures computes t's cells, without authorization.
func (s *Service) figures(ctx context.Context, t *reference.Territory) (*Figures, error) {
	cells, at, err := s.cells(ctx, []*reference.Territory{t}, t.ID)
	if err != nil {
		return nil, err
	}
	return &Figures{Territory: t, Cells: cells, At: at}, nil
}

// WatchTerritory sends the figures of the territory with code at once, and
// then again, at most once per Options.Debounce, after its meetings (their
// details, status, invitations, registers, minutes) or its documents
// (edits, structure, status, comments, versions) change, on this instance
// or another. A reader that falls behind finds only the latest figures.
// The channel closes when ctx ends or the service closes. Errors are
// TerritoryFigures's, and INTERNAL once the service is closed.
func (s *Service) WatchTerritory(ctx context.Context, code string) (<-chan *Figures, error) {
	const op = "tracking.WatchTerritory"
	t, err := s.territory(ctx, code)
	if err != nil {
		return nil, err
	}
	l := s.live
	sub := &follower{ch: make(chan *Figures, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, apperr.E(apperr.Internal, op, "the tracking service was closed")
	}
	f := l.feeds[t.ID]
	if f == nil {
		f = &feed{territory: t, wake: make(chan struct{}, 1), done: make(chan struct{}), subs: map[*follower]struct{}{}}
		l.feeds[t.ID] = f
		l.wg.Add(1)
		go l.run(f)
	}
	f.subs[sub] = struct{}{}
	seq := f.started()
	l.mu.Unlock()
	// Registered first, computed then: a change after this point reaches
	// the subscriber through the feed.
	figs, err := s.figures(ctx, t)
	if err != nil {
		l.leave(f, sub)
		return nil, err
	}
	l.offer(f, seq, figs, sub)
	context.AfterFunc(ctx, func() { l.leave(f, sub) })
	return sub.ch, nil
}

// live holds the feeds of the territories with subscribers.
type live struct {
	s        *Service
	debounce time.Duration
	ctx      context.Context // ends at close: the watches, the computations
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the feeds' goroutines

	mu     sync.Mutex // guards everything below, and the feeds' and followers' fields
	closed bool
	feeds  map[int64]*feed
	// marks and computed count, per territory, the changes that reached a
	// feed and the computations of feeds (tests).
	marks    map[int64]int
	computed map[int64]int
}

// feed is one territory's live figures.
type feed struct {
	territory *reference.Territory
	wake      chan struct{} // holds a mark: a change since the last computation started
	done      chan struct{} // closed when the feed ends
	subs      map[*follower]struct{}
	seq       int64 // the number of the last computation started
}

// started numbers a computation that starts now. Called with live.mu held.
func (f *feed) started() int64 {
	f.seq++
	return f.seq
}

// follower is one subscriber: a slot holding the latest figures it has not
// read.
type follower struct {
	ch     chan *Figures
	seq    int64 // the computation whose figures it was handed last
	closed bool
}

func newLive(s *Service, o Options) *live {
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{s: s, debounce: o.Debounce, ctx: ctx, cancel: cancel,
		feeds: map[int64]*feed{}, marks: map[int64]int{}, computed: map[int64]int{}}
	if o.Meetings != nil {
		o.Meetings.Watch(ctx, func(ev meeting.Event) { l.mark(ev.TerritoryID) })
	}
	if o.Documents != nil {
		o.Documents.Watch(ctx, func(c coedit.DocChange) { l.mark(c.TerritoryID) })
	}
	return l
}

// mark notes a change of territory, when someone follows it. It never
// waits: the hubs call it on their own goroutines.
func (l *live) mark(territory int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.feeds[territory]
	if f == nil {
		return
	}
	l.marks[territory]++
	select {
	case f.wake <- struct{}{}:
	default: // marked already
	}
}

// run computes f's figures after each change, debounced, until f ends.
func (l *live) run(f *feed) {
	defer l.wg.Done()
	for {
		select {
		case <-f.done:
			return
		case <-f.wake:
		}
		timer := time.NewTimer(l.debounce)
		select {
		case <-f.done:
			timer.Stop()
			return
		case <-timer.C:
		}
		// The changes so far are all committed: this computation sees
		// them. Those from now on mark the feed again.
		select {
		case <-f.wake:
		default:
		}
		l.mu.Lock()
		seq := f.started()
		l.computed[f.territory.ID]++
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(l.ctx, 30*time.Second)
		figs, err := l.s.figures(ctx, f.territory)
		cancel()
		if err != nil {
			if l.ctx.Err() == nil {
				l.s.logger.Error("tracking: the live figures of a territory", "territory", f.territory.Code, "err", err)
			}
			continue
		}
		l.offer(f, seq, figs, nil)
	}
}

// offer hands figs, of computation seq, to only, or to all of f's
// subscribers when only is nil, replacing figures they have not read;
// those that hold newer figures keep them.
func (l *live) offer(f *feed, seq int64, figs *Figures, only *follower) {
	l.mu.Lock()
	defer l.mu.Unlock()
	give := func(sub *follower) {
		if sub.closed || seq <= sub.seq {
			return
		}
		select {
		case <-sub.ch: // unread, and older
		default:
		}
		sub.ch <- figs // the slot is empty, and only offer fills it
		sub.seq = seq
	}
	if only != nil {
		give(only)
		return
	}
	for sub := range f.subs {
		give(sub)
	}
}

// leave ends sub's subscription, and f with its last one.
func (l *live) leave(f *feed, sub *follower) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sub.closed {
		return
	}
	sub.closed = true
	close(sub.ch)
	delete(f.subs, sub)
	if len(f.subs) == 0 && l.feeds[f.territory.ID] == f {
		delete(l.feeds, f.territory.ID)
		close(f.done)
	}
}

// close ends every subscription and feed, stops the watches, and waits for
// the feeds' goroutines.
func (l *live) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	for id, f := range l.feeds {
		for sub := range f.subs {
			sub.closed = true
			close(sub.ch)
		}
		f.subs = nil
		close(f.done)
		delete(l.feeds, id)
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
}
