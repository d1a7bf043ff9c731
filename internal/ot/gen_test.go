package ot_test

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/pia-sicilia/pia/internal/ot"
)

// alphabet is what generated texts and inserts are made of: ASCII, a line
// break, precomposed and combining accents, astral-plane characters (one
// code point, two UTF-16 units, four UTF-8 bytes) and a CJK character.
var alphabet = []string{"a", "b", "c", " ", "\n", "é", "e\u0301", "\u0301", "😀", "𝄞", "中", "x"}

// source hands out small choices, from fuzzer bytes or from a seeded
// random generator. Once the bytes run out every choice is 0, which the
// generators treat as "retain one and go on", so they always end.
type source struct {
	data []byte
	i    int
	r    *rand.Rand
}

func bytesSource(data []byte) *source { return &source{data: data} }

func randSource(seed uint64) *source {
	return &source{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *source) intn(n int) int {
	if s.r != nil {
		return s.r.IntN(n)
	}
	if s.i >= len(s.data) {
		return 0
	}
	b := s.data[s.i]
	s.i++
	return int(b) % n
}

// genText builds a text of up to max pieces of the alphabet.
func genText(s *source, max int) string {
	var b strings.Builder
	for n := s.intn(max + 1); n > 0; n-- {
		b.WriteString(alphabet[s.intn(len(alphabet))])
	}
	return b.String()
}

// genInsert builds a non-empty insert.
func genInsert(s *source) string {
	var b strings.Builder
	for n := 1 + s.intn(3); n > 0; n-- {
		b.WriteString(alphabet[s.intn(len(alphabet))])
	}
	return b.String()
}

// generated is an operation together with what it must do, worked out
// while generating it, without Apply.
type generated struct {
	op     ot.Op
	want   string // the text op produces
	newIdx []int  // for each base code point: its index in want, or -1 if deleted
	delAt  []int  // for each deleted base code point: len(want) when it was deleted
}

// genOp builds an operation over base (not necessarily normalized: it may
// put an insert after a delete or two retains in a row) and the text it
// must produce, by walking base and writing what it keeps and inserts.
func genOp(s *source, base string) generated {
	runes := []rune(base)
	g := generated{newIdx: make([]int, len(runes)), delAt: make([]int, len(runes))}
	var want []rune
	i := 0
	for i < len(runes) {
		switch s.intn(4) {
		case 0, 3: // retain
			k := min(1+s.intn(4), len(runes)-i)
			for j := i; j < i+k; j++ {
				g.newIdx[j] = len(want)
				want = append(want, runes[j])
			}
			g.op = append(g.op, ot.Component{Retain: k})
			i += k
		case 1: // insert
			ins := genInsert(s)
			want = append(want, []rune(ins)...)
			g.op = append(g.op, ot.Component{Insert: ins})
		case 2: // delete
			k := min(1+s.intn(4), len(runes)-i)
			for j := i; j < i+k; j++ {
				g.newIdx[j] = -1
				g.delAt[j] = len(want)
			}
			g.op = append(g.op, ot.Component{Delete: k})
			i += k
		}
	}
	if s.intn(3) == 1 {
		ins := genInsert(s)
		want = append(want, []rune(ins)...)
		g.op = append(g.op, ot.Component{Insert: ins})
	}
	g.want = string(want)
	return g
}

// model is what an operation does to each place of its base text: the
// text it inserts in each gap (gap g is just before code point g) and
// whether it deletes each code point.
type model struct {
	gaps    []string
	deleted []bool
}

func modelOf(op ot.Op, n int) model {
	m := model{gaps: make([]string, n+1), deleted: make([]bool, n)}
	i := 0
	for _, c := range op {
		switch {
		case c.Retain > 0:
			i += c.Retain
		case c.Delete > 0:
			for j := i; j < i+c.Delete; j++ {
				m.deleted[j] = true
			}
			i += c.Delete
		default:
			m.gaps[i] += c.Insert
		}
	}
	return m
}

// merge is the text concurrent a and b must converge to, worked out from
// their models: in each gap a's insert then b's (the tie-break), and a
// base code point survives when neither deletes it.
func merge(base string, a, b ot.Op) string {
	runes := []rune(base)
	ma, mb := modelOf(a, len(runes)), modelOf(b, len(runes))
	var out strings.Builder
	for g := 0; g <= len(runes); g++ {
		out.WriteString(ma.gaps[g])
		out.WriteString(mb.gaps[g])
		if g < len(runes) && !ma.deleted[g] && !mb.deleted[g] {
			out.WriteRune(runes[g])
		}
	}
	return out.String()
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
