package graph

import (
	"context"
	"time"

	"github.com/pia-sicilia/pia/graph/model"
	"github.com/pia-sicilia/pia/internal/health"
)

func serverStatus(s health.Status) *model.ServerStatus {
	return &model.ServerStatus{Version: s.Version, Ready: s.Ready, Time: s.Time.Format(time.RFC3339)}
}

// mapChan turns a service's event channel into a subscription's, closing
// when either the source closes or the subscription ends.
func mapChan[S, T any](ctx context.Context, in <-chan S, f func(S) T) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- f(v):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
