package coedit

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// The listener: on PostgreSQL every instance LISTENs on notifyChannel.
// Payloads are JSON objects with a kind "k", the sender's instance "i" and
// scope "n" (see Service.scope):
//
//	{"k":"edit","s":section,"d":document,"f":first,"v":last,...}  versions f..v committed
//	{"k":"doc","d":document,"t":kind,"c":comment,"x":version,...} a DocEvent but EDIT
//	{"k":"presence",...}                                          presenceStore.fromPeer's
//	{"k":"roles","p":[person,...]}                                these people's roles changed
//	{"k":<another>,...}                                           Options.Notes[k]'s (see Broadcast)
//
// A notification from this instance, or from another scope, is ignored.
// An edit notification for a section someone here follows is read back
// from the log (the log is the truth; the payload only says where to
// look) and published to the hub. Notifications lost while the connection
// was down (pgdriver's Listener reconnects and listens again by itself)
// are made up by the resync: every resyncEvery, the versions of the
// sections followed here are compared with what was published.
// The text cache needs no notice: every use compares it with
// sections.version and reads what it misses from the log.

// listen handles notifications until the listener closes.
func (s *Service) listen(ch <-chan pgdriver.Notification) {
	defer close(s.lnDone)
	tick := time.NewTicker(s.resyncEvery)
	defer tick.Stop()
	for {
		select {
		case n, ok := <-ch:
			if !ok {
				return
			}
			if n.Channel == notifyChannel {
				s.handleNotification([]byte(n.Payload))
			}
		case <-tick.C:
			s.resync()
		}
	}
}

// handleNotification dispatches one payload.
func (s *Service) handleNotification(payload []byte) {
	var head struct {
		K string `json:"k"`
		I string `json:"i"`
		N string `json:"n"`
	}
	if json.Unmarshal(payload, &head) != nil || head.I == s.instance || head.N != s.scope {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch head.K {
	case "edit":
		var n editNote
		if json.Unmarshal(payload, &n) != nil || n.S <= 0 || n.V <= 0 {
			return
		}
		s.hub.publishRange(ctx, n.S, n.D, n.F, n.V)
	case "doc":
		var n docNote
		if json.Unmarshal(payload, &n) != nil || n.D <= 0 || DocEventKind(n.T) == DocEdit {
			return
		}
		s.hub.publishDoc(DocEvent{Kind: DocEventKind(n.T), DocumentID: n.D, CommentID: n.C, VersionID: n.X})
	case "presence":
		s.pres.fromPeer(payload)
	case "roles":
		var n rolesNote
		if s.o.RolesChanged == nil || json.Unmarshal(payload, &n) != nil || len(n.P) == 0 {
			return
		}
		s.o.RolesChanged(n.P...)
	default:
		if h := s.o.Notes[head.K]; h != nil {
			h(payload)
		}
	}
}

// resync publishes what the sections followed here committed and no
// notification announced.
func (s *Service) resync() {
	secs, docs := s.hub.subscribed()
	if len(secs)+len(docs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := sectionVersions(ctx, s.db, secs, docs)
	if err != nil {
		s.o.Logger.Warn("coedit: resync", "err", err)
		return
	}
	for _, r := range rows {
		if r.Version > 0 {
			s.hub.publishRange(ctx, r.ID, r.DocumentID, r.Version, r.Version)
		}
	}
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
