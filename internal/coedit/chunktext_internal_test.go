package coedit

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

// chunkTextOp returns a random operation on a text of n code points: a
// few sites, each an insert (sometimes longer than a chunk), a delete
// (sometimes across chunks) or both.
func chunkTextOp(rnd *rand.Rand, n int) ot.Op {
	var op ot.Op
	pos := 0
	for range 1 + rnd.IntN(3) {
		if pos < n {
			skip := rnd.IntN(n - pos + 1)
			if skip > 0 {
				op = append(op, ot.Component{Retain: skip})
				pos += skip
			}
		}
		if rnd.IntN(2) == 0 || pos == n {
			size := 1 + rnd.IntN(8)
			if rnd.IntN(20) == 0 {
				size = chunkMax + rnd.IntN(chunkMax)
			}
			var b strings.Builder
			for range size {
				b.WriteRune([]rune("aèß😀中")[rnd.IntN(5)])
			}
			op = append(op, ot.Component{Insert: b.String()})
		}
		if pos < n && rnd.IntN(2) == 0 {
			d := 1 + rnd.IntN(min(n-pos, 10))
			if rnd.IntN(10) == 0 {
				d = 1 + rnd.IntN(n-pos)
			}
			op = append(op, ot.Component{Delete: d})
			pos += d
		}
	}
	if pos < n {
		op = append(op, ot.Component{Retain: n - pos})
	}
	return ot.Normalize(op)
}

// TestChunkTextMatchesApply applies random operations to a chunkText and
// to a string with ot.Apply: the texts stay the same, and no chunk is
// empty or over chunkMax.
func TestChunkTextMatchesApply(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, start := range []int{0, 10, chunkMax/2 + 3, 3*chunkMax + 17} {
		var b strings.Builder
		for i := range start {
			b.WriteRune(rune('a' + i%26))
		}
		want := b.String()
		var text chunkText
		text.set(want)
		for i := range 300 {
			op := chunkTextOp(rnd, text.len())
			if len(op) == 0 {
				continue
			}
			var err error
			if want, err = ot.Apply(want, op); err != nil {
				t.Fatalf("start %d, op %d: ot.Apply: %v", start, i, err)
			}
			if err := text.apply(op); err != nil {
				t.Fatalf("start %d, op %d: apply: %v", start, i, err)
			}
			if got := text.String(); got != want {
				t.Fatalf("start %d, op %d (%v): text differs", start, i, op)
			}
			sum := 0
			for _, c := range text.chunks {
				if len(c) == 0 || len(c) > chunkMax {
					t.Fatalf("start %d, op %d: a chunk of %d code points", start, i, len(c))
				}
				sum += len(c)
			}
			if sum != text.len() {
				t.Fatalf("start %d, op %d: chunks hold %d code points, len says %d", start, i, sum, text.len())
			}
		}
	}
}

// TestChunkTextRefusesAndKeepsText: an operation that does not cover the
// text, or is invalid, is refused with ot's errors and changes nothing.
func TestChunkTextRefusesAndKeepsText(t *testing.T) {
	var text chunkText
	text.set("ciao")
	for _, c := range []struct {
		op   ot.Op
		want error
	}{
		{ot.Op{{Retain: 3}, {Insert: "x"}}, ot.ErrBaseLength},
		{ot.Op{{Retain: 5}}, ot.ErrBaseLength},
		{ot.Op{{Retain: 2}, {Delete: 0}, {Retain: 2}}, ot.ErrInvalid},
		{ot.Op{{Retain: 2}, {Insert: "\xff"}, {Retain: 2}}, ot.ErrInvalid},
	} {
		if err := text.apply(c.op); !errors.Is(err, c.want) {
			t.Errorf("apply(%v) = %v, want %v", c.op, err, c.want)
		}
		if got := text.String(); got != "ciao" || text.len() != 4 {
			t.Errorf("after apply(%v): %q (%d)", c.op, got, text.len())
		}
	}
}

// BenchmarkSectionTextInsert is one single-character insert at a random
// place of a 1,000,000-character section, as in W2: the chunked text
// against one []rune (ot.ApplyRunes).
//
//	go test ./internal/coedit/ -run '^$' -bench SectionTextInsert
func BenchmarkSectionTextInsert(b *testing.B) {
	const n = 1_000_000
	initial := strings.Repeat("abcdefghij", n/10)
	ops := func(b *testing.B) []ot.Op {
		rnd := rand.New(rand.NewPCG(3, 4))
		out := make([]ot.Op, 4096)
		for i := range out {
			at := rnd.IntN(n + i + 1)
			out[i] = ot.Normalize(ot.Op{{Retain: at}, {Insert: "x"}, {Retain: n + i - at}})
		}
		return out
	}
	b.Run("chunks", func(b *testing.B) {
		all := ops(b)
		var text chunkText
		for i := 0; b.Loop(); i++ {
			if i%len(all) == 0 {
				text.set(initial)
			}
			if err := text.apply(all[i%len(all)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runes", func(b *testing.B) {
		all := ops(b)
		var text []rune
		for i := 0; b.Loop(); i++ {
			if i%len(all) == 0 {
				text = []rune(initial)
			}
			var err error
			if text, err = ot.ApplyRunes(text, all[i%len(all)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
