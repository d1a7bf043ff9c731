package meeting

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
)

// EventKind says what happened to a meeting.
type EventKind string

// The event kinds.
const (
	MeetingCreated    EventKind = "CREATED"
	MeetingChanged    EventKind = "CHANGED" // details or status, cancellation excepted
	MeetingCancelled  EventKind = "CANCELLED"
	RSVPChanged       EventKind = "RSVP"       // an invitation's answer, the waiting list
	AttendanceChanged EventKind = "ATTENDANCE" // the register
	MinutesChanged    EventKind = "MINUTES"
)

// Event tells the subscribers of a territory that one of its meetings
// changed. It names the meeting; subscribers read it again, so an event
// carries nothing a later read would contradict.
type Event struct {
	Kind        EventKind
	MeetingID   int64
	TerritoryID int64
}

// eventBuffer is how many events a subscriber may fall behind before the
// oldest are dropped: events only say "read this meeting again", so a
// subscriber that missed some gets the latest, coalesced per meeting.
const eventBuffer = 256

// hub fans events out to the subscribers of each territory, in process,
// and to the watchers of every territory.
type hub struct {
	mu       sync.Mutex
	subs     map[int64]map[*subscriber]struct{}
	watchers map[*watcher]struct{}
}

type watcher struct{ fn func(Event) }

type subscriber struct {
	ch chan Event
}

func newHub() *hub {
	return &hub{subs: map[int64]map[*subscriber]struct{}{}, watchers: map[*watcher]struct{}{}}
}

// subscribe registers a subscriber of territory until ctx ends, when its
// channel is closed.
func (h *hub) subscribe(ctx context.Context, territory int64) <-chan Event {
	sub := &subscriber{ch: make(chan Event, eventBuffer)}
	h.mu.Lock()
	if h.subs[territory] == nil {
		h.subs[territory] = map[*subscriber]struct{}{}
	}
	h.subs[territory][sub] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs[territory], sub)
		if len(h.subs[territory]) == 0 {
			delete(h.subs, territory)
		}
		close(sub.ch)
		h.mu.Unlock()
	}()
	return sub.ch
}

// publish sends ev to the subscribers of its territory, and then to every
// watcher. A subscriber whose buffer is full loses its oldest event rather
// than slowing the others.
func (h *hub) publish(ev Event) {
	h.mu.Lock()
	watchers := make([]*watcher, 0, len(h.watchers))
	for w := range h.watchers {
		watchers = append(watchers, w)
	}
	defer func() {
		h.mu.Unlock()
		for _, w := range watchers {
			w.fn(ev)
		}
	}()
	for sub := range h.subs[ev.TerritoryID] {
		for {
			select {
			case sub.ch <- ev:
			default:
				select {
				case <-sub.ch:
				default:
				}
				continue
			}
			break
		}
	}
}

// Subscribe streams the events of territoryID's meetings until ctx ends
// (ReadMeeting in that territory: its working group, policy makers,
// administrators; others get FORBIDDEN). Private meetings' events go only
// to those who may read them, which the caller checks when it reads the
// meeting again.
func (s *Service) Subscribe(ctx context.Context, territoryID int64) (<-chan Event, error) {
	if err := access.Check(ctx, access.ReadRegister, access.Resource{TerritoryID: territoryID}); err != nil {
		return nil, err
	}
	return s.hub.subscribe(ctx, territoryID), nil
}

// Watch calls fn with every event of every territory, this instance's and
// those other instances broadcast (FromPeer), after the change committed,
// until ctx ends. It checks no access: it is for other features of PIA
// (package tracking's live figures learn from it which territory changed),
// which check their own callers. fn runs on the goroutine that published
// the event, the request's or the listener's, so it must return at once:
// note the territory and leave the work to another goroutine.
func (s *Service) Watch(ctx context.Context, fn func(Event)) {
	w := &watcher{fn: fn}
	s.hub.mu.Lock()
	s.hub.watchers[w] = struct{}{}
	s.hub.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.hub.mu.Lock()
		delete(s.hub.watchers, w)
		s.hub.mu.Unlock()
	})
}

// peerNote is an event as it travels to the other instances.
type peerNote struct {
	K string    `json:"k"` // "meeting"
	T EventKind `json:"t"`
	M int64     `json:"m"`
	R int64     `json:"r"`
}

// NoteKind is the kind of the notifications this package broadcasts.
const NoteKind = "meeting"

// broadcast tells the other instances about ev (Options.Broadcast).
func (s *Service) broadcast(ev Event) {
	if s.o.Broadcast == nil {
		return
	}
	payload, err := json.Marshal(peerNote{K: NoteKind, T: ev.Kind, M: ev.MeetingID, R: ev.TerritoryID})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.o.Broadcast(ctx, payload)
}

// FromPeer publishes to this instance's subscribers an event that another
// instance broadcast; a payload that is not one is ignored.
func (s *Service) FromPeer(payload []byte) {
	var n peerNote
	if json.Unmarshal(payload, &n) != nil || n.K != NoteKind || n.M <= 0 || n.R <= 0 {
		return
	}
	s.hub.publish(Event{Kind: n.T, MeetingID: n.M, TerritoryID: n.R})
}
