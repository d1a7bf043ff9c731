package throttle

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// clock is the shared test clock.
type clock = testutil.Clock

func newClock() *clock { return testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) }

var signIn = Limit{Max: 3, Window: 15 * time.Minute}

func mustTake(t *testing.T, l *Limiter, key string, lim Limit) {
	t.Helper()
	if err := l.Take(context.Background(), key, lim); err != nil {
		t.Fatalf("Take(%q): %v, want success", key, err)
	}
}

// mustRefuse checks that Take is refused and that it tells how long to wait.
func mustRefuse(t *testing.T, l *Limiter, key string, lim Limit, wantMessage string) {
	t.Helper()
	err := l.Take(context.Background(), key, lim)
	if !apperr.Is(err, apperr.RateLimited) {
		t.Fatalf("Take(%q): %v, want RATE_LIMITED", key, err)
	}
	if _, msg, _ := apperr.Public(err); msg != wantMessage {
		t.Fatalf("Take(%q) message %q, want %q", key, msg, wantMessage)
	}
}

func count(t *testing.T, db bun.IDB, key string) int64 {
	t.Helper()
	var n int64
	err := db.NewSelect().Table("throttle").Column("count").Where("key = ?", key).Scan(context.Background(), &n)
	if err != nil {
		t.Fatalf("read count of %q: %v", key, err)
	}
	return n
}

func TestTakeLimitsPerWindow(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		clk := newClock()
		l := New(db, clk.Now)
		const key = "signin:account:1"

		for range signIn.Max {
			mustTake(t, l, key, signIn)
		}
		mustRefuse(t, l, key, signIn, "too many attempts; try again in 15 minutes")

		clk.Advance(14 * time.Minute)
		mustRefuse(t, l, key, signIn, "too many attempts; try again in 1 minute")
		clk.Advance(59 * time.Second)
		mustRefuse(t, l, key, signIn, "too many attempts; try again in 1 second")
		clk.Advance(500 * time.Millisecond)
		mustRefuse(t, l, key, signIn, "too many attempts; try again in 1 second")

		// The window has passed: a fresh count, not the refused attempts carried over.
		clk.Advance(500 * time.Millisecond)
		for range signIn.Max {
			mustTake(t, l, key, signIn)
		}
		mustRefuse(t, l, key, signIn, "too many attempts; try again in 15 minutes")
	})
}

func TestKeysAreIndependent(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		l := New(db, newClock().Now)
		for range signIn.Max {
			mustTake(t, l, "signin:account:A", signIn)
		}
		mustRefuse(t, l, "signin:account:A", signIn, "too many attempts; try again in 15 minutes")
		for range signIn.Max {
			mustTake(t, l, "signin:account:B", signIn)
		}
		mustRefuse(t, l, "signin:account:B", signIn, "too many attempts; try again in 15 minutes")
	})
}

func TestGiveCountsOnlyFailures(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		l := New(db, newClock().Now)
		const key = "signin:account:1"

		// Successes given back never use up the limit.
		for range 10 {
			mustTake(t, l, key, signIn)
			if err := l.Give(ctx, key); err != nil {
				t.Fatalf("Give: %v", err)
			}
		}
		if n := count(t, db, key); n != 0 {
			t.Fatalf("count after successes = %d, want 0", n)
		}

		// Giving back more than was taken does not buy extra attempts.
		for range 5 {
			if err := l.Give(ctx, key); err != nil {
				t.Fatalf("Give: %v", err)
			}
		}
		if n := count(t, db, key); n != 0 {
			t.Fatalf("count after surplus Give = %d, want 0", n)
		}
		for range signIn.Max {
			mustTake(t, l, key, signIn)
		}
		mustRefuse(t, l, key, signIn, "too many attempts; try again in 15 minutes")

		// A key never seen is not an error.
		if err := l.Give(ctx, "signin:account:unknown"); err != nil {
			t.Fatalf("Give on an unknown key: %v", err)
		}
	})
}

// TestBurst fires many attempts at one key at once, from two connection pools
// as two server instances would; the atomic upsert must let exactly Max through.
func TestBurst(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		const workers = 100
		lim := Limit{Max: 5, Window: 15 * time.Minute}
		clk := newClock()
		limiters := []*Limiter{New(db, clk.Now), New(storagetest.Reopen(t, db), clk.Now)}

		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			mu      sync.Mutex
			ok      int
			limited int
			others  []error
		)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := limiters[i%len(limiters)].Take(context.Background(), "signin:addr:192.0.2.1", lim)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case apperr.Is(err, apperr.RateLimited):
					limited++
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()

		for _, err := range others {
			t.Errorf("unexpected error: %v", err)
		}
		if ok != int(lim.Max) || limited != workers-int(lim.Max) {
			t.Fatalf("%d allowed and %d limited, want %d and %d", ok, limited, lim.Max, workers-int(lim.Max))
		}
		if n := count(t, db, "signin:addr:192.0.2.1"); n != workers {
			t.Fatalf("count = %d, want %d (refused attempts count too)", n, workers)
		}
	})
}

func TestPurge(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clk := newClock()
		l := New(db, clk.Now)

		mustTake(t, l, "old", signIn)
		clk.Advance(2 * time.Hour)
		mustTake(t, l, "current", signIn)
		clk.Advance(time.Minute)

		n, err := l.Purge(ctx, time.Hour)
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n != 1 {
			t.Fatalf("Purge removed %d counters, want 1", n)
		}
		var keys []string
		if err := db.NewSelect().Table("throttle").Column("key").OrderExpr("key").Scan(ctx, &keys); err != nil {
			t.Fatalf("list counters: %v", err)
		}
		if len(keys) != 1 || keys[0] != "current" {
			t.Fatalf("counters after Purge = %q, want [current]", keys)
		}
		if c := count(t, db, "current"); c != 1 {
			t.Fatalf("count of the kept counter = %d, want 1", c)
		}
	})
}

func TestHumanWait(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1 second"},
		{time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{time.Minute, "1 minute"},
		{time.Minute + time.Second, "2 minutes"},
		{15 * time.Minute, "15 minutes"},
	} {
		if got := humanWait(tc.d); got != tc.want {
			t.Errorf("humanWait(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
