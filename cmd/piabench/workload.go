package main

import (
	"fmt"
	"strings"
)

// The workloads of ../shared/peers/WORKLOADS.md, ported exactly from the
// reference harness's lib/workload.js so that the numbers compare.

// BaseSeed seeds every position stream and the initial text.
const BaseSeed uint32 = 20240601

// TagBase is the first tag: op tagIndex inserts U+4E00 + tagIndex.
const TagBase = 0x4E00

// TagMax is the number of tags a document has room for (U+4E00..U+9FFF).
const TagMax = 20992

// Workload is one of W1–W3.
type Workload struct {
	Key           string `json:"key"`
	Name          string `json:"name"`
	Docs          int    `json:"docs"`
	ClientsPerDoc int    `json:"clientsPerDoc"`
	OpsPerClient  int    `json:"opsPerClient"`
	InitialLength int    `json:"initialLength"`
}

// Workloads are W1, W2 and W3 as WORKLOADS.md defines them.
var Workloads = []Workload{
	{Key: "W1", Name: "W1 typing storm", Docs: 1, ClientsPerDoc: 20, OpsPerClient: 500},
	{Key: "W2", Name: "W2 large document", Docs: 1, ClientsPerDoc: 1, OpsPerClient: 2000, InitialLength: 1000000},
	{Key: "W3", Name: "W3 many documents", Docs: 200, ClientsPerDoc: 2, OpsPerClient: 50},
}

// workloadByKey finds W1, W2 or W3.
func workloadByKey(key string) (Workload, bool) {
	for _, w := range Workloads {
		if strings.EqualFold(w.Key, key) {
			return w, true
		}
	}
	return Workload{}, false
}

// Mulberry32 is the 32-bit PRNG of the reference harness, returning floats
// in [0,1). Reference values for seed 1: 0.6270739405881613,
// 0.002735721180215478, 0.5274470399599522.
type Mulberry32 struct{ a uint32 }

// NewMulberry32 returns the generator with state seed.
func NewMulberry32(seed uint32) *Mulberry32 { return &Mulberry32{a: seed} }

// Next returns the next float. JavaScript's Math.imul and >>> are uint32
// multiplication and shifts; t + imul(...) wraps the same way once ^= makes
// it an int32 again.
func (m *Mulberry32) Next() float64 {
	m.a += 0x6D2B79F5
	t := m.a
	t = (t ^ (t >> 15)) * (t | 1)
	t ^= t + (t^(t>>7))*(t|61)
	return float64(t^(t>>14)) / 4294967296
}

// ClientSeed is the seed of client c of document d:
// (base + d×65536 + c) mod 2³².
func ClientSeed(doc, client int, base uint32) uint32 {
	return base + uint32(doc)*65536 + uint32(client)
}

// TagIndex is the tag of op k of client c: c×opsPerClient + k.
func TagIndex(client, k, opsPerClient int) (int, error) {
	idx := client*opsPerClient + k
	if idx >= TagMax {
		return 0, fmt.Errorf("tag space exhausted: tag %d of %d", idx, TagMax)
	}
	return idx, nil
}

// TagIndexOf returns the tag index of r, -1 if r is no tag.
func TagIndexOf(r rune) int {
	idx := int(r) - TagBase
	if idx < 0 || idx >= TagMax {
		return -1
	}
	return idx
}

// InitialText is length ASCII characters from "abcdefghijklmnopqrstuvwxyz "
// drawn with mulberry32(base XOR 0x57325732).
func InitialText(length int, base uint32) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz "
	rnd := NewMulberry32(base ^ 0x57325732)
	b := make([]byte, length)
	for i := range b {
		b[i] = alphabet[int(rnd.Next()*27)]
	}
	return string(b)
}

// NextPosition is the next insert's position: floor(u × (L+1)) for the
// client's current local length L.
func NextPosition(rnd *Mulberry32, localLength int) int {
	return int(rnd.Next() * float64(localLength+1))
}
