package meeting

import (
	"context"
	"sync"

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

// hub fans events out to the subscribers of each territory, in process.
type hub struct {
	mu   sync.Mutex
	subs map[int64]map[*subscriber]struct{}
}

type subscriber struct {
	ch chan Event
}

func newHub() *hub { return &hub{subs: map[int64]map[*subscriber]struct{}{}} }

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

// publish sends ev to the subscribers of its territory. A subscriber whose
// buffer is full loses its oldest event rather than slowing the others.
func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
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
