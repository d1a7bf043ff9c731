// Package throttle limits attempts (sign-ins, invitations, password resets)
// per key, such as an account or a client address. Counters live in the
// database, so the limit holds across connections and server instances, and
// each attempt is counted by one atomic statement, so a burst cannot slip
// through between a check and an increment.
package throttle

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Limit allows Max attempts per Window.
type Limit struct {
	Max    int64
	Window time.Duration
}

// Limiter counts attempts in fixed windows.
type Limiter struct {
	db  bun.IDB
	now func() time.Time
}

// New returns a Limiter on db with the clock now.
func New(db bun.IDB, now func() time.Time) *Limiter { return &Limiter{db: db, now: now} }

// Take counts one attempt against key. It returns RATE_LIMITED, with the
// time to wait in the message, once key has had more than lim.Max attempts
// in its current window; refused attempts count too, so hammering does not
// shorten the wait.
func (l *Limiter) Take(ctx context.Context, key string, lim Limit) error {
	const op = "throttle.Take"
	now := l.now().UnixMilli()
	expired := now - lim.Window.Milliseconds()
	var row struct {
		Count       int64 `bun:"count"`
		WindowStart int64 `bun:"window_start"`
	}
	// One statement: a new key starts at 1; an old window restarts at 1; a
	// current one grows by 1.
	err := l.db.NewRaw(`INSERT INTO throttle (key, window_start, count) VALUES (?, ?, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttle.window_start <= ? THEN 1 ELSE throttle.count + 1 END,
			window_start = CASE WHEN throttle.window_start <= ? THEN excluded.window_start ELSE throttle.window_start END
		RETURNING count, window_start`, key, now, expired, expired).Scan(ctx, &row)
	if err != nil {
		return storage.MapError(op, "throttle", err)
	}
	if row.Count <= lim.Max {
		return nil
	}
	wait := time.Duration(row.WindowStart+lim.Window.Milliseconds()-now) * time.Millisecond
	return apperr.E(apperr.RateLimited, op, "too many attempts; try again in %s", humanWait(wait))
}

// Give takes back one attempt of key, after it succeeded, so that only
// failures use up the limit.
func (l *Limiter) Give(ctx context.Context, key string) error {
	_, err := l.db.NewRaw(`UPDATE throttle SET count = count - 1 WHERE key = ? AND count > 0`, key).Exec(ctx)
	return storage.MapError("throttle.Give", "throttle", err)
}

// Purge removes counters whose window began before the given age, so the
// table does not grow with every address ever seen.
func (l *Limiter) Purge(ctx context.Context, olderThan time.Duration) (int64, error) {
	res, err := l.db.NewRaw(`DELETE FROM throttle WHERE window_start < ?`, l.now().Add(-olderThan).UnixMilli()).Exec(ctx)
	if err != nil {
		return 0, storage.MapError("throttle.Purge", "throttle", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// humanWait rounds up, so that trying again after the time given succeeds.
func humanWait(d time.Duration) string {
	if d < time.Minute {
		return plural(max(int64(math.Ceil(d.Seconds())), 1), "second")
	}
	return plural(int64(math.Ceil(d.Minutes())), "minute")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
