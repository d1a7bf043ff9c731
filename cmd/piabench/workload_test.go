package main

import (
	"math"
	"strconv"
	"testing"
)

// The reference outputs of lib/workload.js (node, the reference harness).
func TestMulberry32MatchesTheReference(t *testing.T) {
	rnd := NewMulberry32(1)
	for i, want := range []string{"0.6270739405881613", "0.002735721180215478", "0.5274470399599522"} {
		if got := strconv.FormatFloat(rnd.Next(), 'g', -1, 64); got != want {
			t.Errorf("seed 1, draw %d: %s, want %s", i, got, want)
		}
	}
	// node: W.clientSeed(3, 7) = 20437216; mulberry32 of it: 0.13036434445530176, 0.15970839955843985
	seed := ClientSeed(3, 7, BaseSeed)
	if seed != 20437216 {
		t.Errorf("ClientSeed(3, 7) = %d, want 20437216", seed)
	}
	rnd = NewMulberry32(seed)
	for i, want := range []string{"0.13036434445530176", "0.15970839955843985"} {
		if got := strconv.FormatFloat(rnd.Next(), 'g', -1, 64); got != want {
			t.Errorf("client seed, draw %d: %s, want %s", i, got, want)
		}
	}
	// node: W.clientSeed(199, 1) = 33282266; W.clientSeed(65535, 65535,
	// 4294967295) = 4294967294 (it wraps modulo 2³² as >>> 0 does).
	if got := ClientSeed(199, 1, BaseSeed); got != 33282266 {
		t.Errorf("ClientSeed(199, 1) = %d, want 33282266", got)
	}
	if got := ClientSeed(65535, 65535, math.MaxUint32); got != 4294967294 {
		t.Errorf("ClientSeed(65535, 65535, 2³²-1) = %d, want 4294967294", got)
	}
	// node: W.nextPosition(W.mulberry32(5), 10) = 7
	if got := NextPosition(NewMulberry32(5), 10); got != 7 {
		t.Errorf("NextPosition = %d, want 7", got)
	}
}

func TestInitialTextMatchesTheReference(t *testing.T) {
	// node: JSON.stringify(W.initialText(60))
	if got, want := InitialText(60, BaseSeed), "yuldsjgectwh bakjwabhvqqcqocesklyefhtjzme  xcpfbuubscamefizd"; got != want {
		t.Errorf("InitialText(60) =\n%q, want\n%q", got, want)
	}
	text := InitialText(1000000, BaseSeed)
	// node: h = (Math.imul(h, 31) + charCode) >>> 0 over the whole text = 2906385514; last 10 = "jzlhqzxmxw"
	var h uint32
	for i := 0; i < len(text); i++ {
		h = h*31 + uint32(text[i])
	}
	if len(text) != 1000000 || h != 2906385514 || text[len(text)-10:] != "jzlhqzxmxw" {
		t.Errorf("InitialText(1e6): length %d, hash %d, tail %q", len(text), h, text[len(text)-10:])
	}
}

func TestTags(t *testing.T) {
	// node: W.tagChar(19, 499, 500) = U+750F
	idx, err := TagIndex(19, 499, 500)
	if err != nil || rune(TagBase+idx) != 0x750F || TagIndexOf(0x750F) != idx {
		t.Errorf("TagIndex(19, 499, 500) = %d %v", idx, err)
	}
	if _, err := TagIndex(0, TagMax, 1); err == nil {
		t.Error("a tag beyond U+9FFF was accepted")
	}
	if TagIndexOf('a') != -1 || TagIndexOf(0x9FFF) != TagMax-1 || TagIndexOf(0xA000) != -1 {
		t.Error("TagIndexOf of non-tags")
	}
	for _, w := range Workloads {
		if w.ClientsPerDoc*w.OpsPerClient > TagMax {
			t.Errorf("%s needs more tags than there are", w.Key)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	s := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if got := percentile(s, 50); got != 5 {
		t.Errorf("p50 = %v, want 5", got)
	}
	if got := percentile(s, 99); got != 10 {
		t.Errorf("p99 = %v, want 10", got)
	}
	if got := percentile(s, 10); got != 1 {
		t.Errorf("p10 = %v, want 1", got)
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("p50 of nothing = %v", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
}
