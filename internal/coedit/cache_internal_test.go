package coedit

import (
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/ot"
)

func TestOpRingKeepsTheRecentOnes(t *testing.T) {
	var r opRing
	for v := int64(1); v <= ringOps+10; v++ {
		r.push(v, ot.Op{{Insert: "x"}})
	}
	if _, ok := r.after(5, 20); ok {
		t.Fatal("the oldest operations should be gone")
	}
	ops, ok := r.after(ringOps, ringOps+10)
	if !ok || len(ops) != 10 {
		t.Fatalf("after: %d %v", len(ops), ok)
	}
	if _, ok := r.after(ringOps, ringOps+11); ok {
		t.Fatal("a version beyond the ring")
	}
	// A version that does not follow starts the ring again.
	r.push(5000, ot.Op{{Insert: "y"}})
	if ops, ok := r.after(4999, 5000); !ok || len(ops) != 1 {
		t.Fatal("restart")
	}
	if _, ok := r.after(ringOps, ringOps+1); ok {
		t.Fatal("old versions after a restart")
	}
}

func TestTextCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newTextCache(3, 100, time.Hour)
	a, b := c.get(1), c.get(2)
	c.get(3)
	c.get(1) // 2 is now the least recently used
	c.get(4)
	if c.len() != 3 || c.get(1) != a {
		t.Fatal("1 was used recently")
	}
	if c.get(2) == b {
		t.Fatal("2 should have been evicted")
	}
	// Too many code points evict too, never the state being resized.
	big := c.get(5)
	c.resize(big, 150)
	if c.len() != 1 || c.get(5) != big {
		t.Fatalf("%d states after a large one", c.len())
	}
	c.drop(big)
	if c.get(5) == big {
		t.Fatal("a dropped state came back")
	}
	// Idle ones go at the sweep.
	idle := newTextCache(10, 100, time.Nanosecond)
	idle.get(1)
	time.Sleep(time.Millisecond)
	idle.sweep()
	if idle.len() != 0 {
		t.Fatal("an idle state stayed")
	}
}
