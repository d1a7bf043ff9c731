package health_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/health"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// clock is a fake clock that moves one second forward at every reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func TestCheckOnAnOpenDatabase(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		rome := time.FixedZone("CET", 3600)
		c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, rome)}
		st := health.NewChecker(db, "v1.2.3", c.now).Check(context.Background())
		if !st.Ready {
			t.Error("Ready = false on an open database")
		}
		if st.Version != "v1.2.3" {
			t.Errorf("Version = %q, want the one passed in", st.Version)
		}
		want := time.Date(2026, 11, 22, 9, 0, 1, 0, time.UTC)
		if !st.Time.Equal(want) || st.Time.Location() != time.UTC {
			t.Errorf("Time = %v, want the injected clock's reading in UTC (%v)", st.Time, want)
		}
	})
}

func TestCheckOnAClosedDatabase(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st := health.NewChecker(db, "v1", time.Now).Check(context.Background())
	if st.Ready {
		t.Fatal("Ready = true on a closed database")
	}
	if st.Version != "v1" || st.Time.IsZero() {
		t.Fatalf("a failed check still tells the version and the time: %+v", st)
	}
}

func TestCheckWithACancelledContext(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if health.NewChecker(db, "v1", time.Now).Check(ctx).Ready {
		t.Fatal("a check that could not ask the database says ready")
	}
}

func receive(t *testing.T, ch <-chan health.Status, within time.Duration) health.Status {
	t.Helper()
	select {
	case st, ok := <-ch:
		if !ok {
			t.Fatal("channel closed early")
		}
		return st
	case <-time.After(within):
		t.Fatalf("no status within %v", within)
	}
	return health.Status{}
}

func waitClosed(t *testing.T, ch <-chan health.Status, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("channel still open %v after cancel", within)
		}
	}
}

func TestWatchSendsAtOnce(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// With an hour between looks, only the first one can arrive.
	ch := health.NewChecker(db, "v1", time.Now).Watch(ctx, time.Hour)
	st := receive(t, ch, 2*time.Second)
	if !st.Ready || st.Version != "v1" {
		t.Fatalf("first status %+v", st)
	}
	select {
	case st := <-ch:
		t.Fatalf("a second status before the interval: %+v", st)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	waitClosed(t, ch, 2*time.Second)
}

func TestWatchSendsEveryInterval(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const interval = 20 * time.Millisecond
	ch := health.NewChecker(db, "v1", c.now).Watch(ctx, interval)
	start := time.Now()
	var prev time.Time
	for i := range 5 {
		st := receive(t, ch, 2*time.Second)
		if !st.Ready {
			t.Fatalf("status %d not ready", i)
		}
		if !st.Time.After(prev) {
			t.Fatalf("status %d at %v, not after the previous %v: each status is a new look", i, st.Time, prev)
		}
		prev = st.Time
	}
	// Five looks are the first one and four intervals.
	if elapsed := time.Since(start); elapsed < 4*interval-5*time.Millisecond {
		t.Fatalf("5 statuses in %v: faster than one per %v", elapsed, interval)
	}
	cancel()
	waitClosed(t, ch, 2*time.Second)
}

// A watch that ends must not report the database as unreachable because its
// own context ended: a subscriber would see a false "not ready".
func TestWatchEndsWithoutAFalseNotReady(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	checker := health.NewChecker(db, "v1", time.Now)
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		ch := checker.Watch(ctx, time.Millisecond)
		receive(t, ch, 2*time.Second)
		time.Sleep(time.Duration(i%4) * time.Millisecond)
		cancel()
		for st := range ch {
			if !st.Ready {
				t.Fatalf("round %d: a status with Ready false after cancel, on a database that answers", i)
			}
		}
	}
}

// The channel holds one status: a reader that does not read does not hold
// the watcher up, and the watcher still stops when asked.
func TestWatchDoesNotBlockOnASlowReader(t *testing.T) {
	db := storagetest.OpenEmpty(t, storage.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	ch := health.NewChecker(db, "v1", time.Now).Watch(ctx, time.Millisecond)
	time.Sleep(30 * time.Millisecond) // many looks, none read
	cancel()
	n := 0
	deadline := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				if n > 1 {
					t.Fatalf("%d statuses buffered, want at most 1", n)
				}
				return
			}
			n++
		case <-deadline:
			t.Fatal("watcher did not stop")
		}
	}
}
