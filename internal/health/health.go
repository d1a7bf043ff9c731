// Package health answers whether the server can do its work: /readyz and
// Subscription.serverStatus both ask it.
package health

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Status is one look at the server.
type Status struct {
	Version string
	Ready   bool // the database answered
	Time    time.Time
}

// Checker looks at the server.
type Checker struct {
	db      *bun.DB
	version string
	now     func() time.Time
	timeout time.Duration
}

// NewChecker returns a Checker that pings db; now is the clock.
func NewChecker(db *bun.DB, version string, now func() time.Time) *Checker {
	return &Checker{db: db, version: version, now: now, timeout: 2 * time.Second}
}

// Check pings the database, waiting at most two seconds.
func (c *Checker) Check(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := c.db.PingContext(ctx)
	return Status{Version: c.version, Ready: err == nil, Time: c.now().UTC()}
}

// Watch sends a Status at once and then every interval until ctx ends, when
// it closes the channel. A reader that falls behind misses looks, never
// blocks the watcher: the channel holds one.
func (c *Checker) Watch(ctx context.Context, interval time.Duration) <-chan Status {
	ch := make(chan Status, 1)
	go func() {
		defer close(ch)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			st := c.Check(ctx)
			if ctx.Err() != nil {
				// A ping cut short by the end of ctx says nothing about the
				// database: send no false "not ready".
				return
			}
			select {
			case ch <- st:
			default: // the previous look is still unread
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ch
}
