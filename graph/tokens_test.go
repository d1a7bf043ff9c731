package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gqlgraphql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// hugeQuery is about 500 KB of repeated fields: 100,000 tokens.
var hugeQuery = "{" + strings.Repeat("territories { code } ", 25000) + "}"

func TestTokenLimit(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions()) // 5000 tokens, 2 MiB bodies
		r := srv.post(t, mediaGraphQLResponse, hugeQuery, nil)
		wantRefused(t, r, "GRAPHQL_PARSE_FAILED")
		if len(r.Body) > 1024 {
			t.Errorf("a %d-byte answer to a refused query", len(r.Body))
		}
		r = srv.post(t, mediaJSON, hugeQuery, nil)
		if e := onlyError(t, r); r.Status != http.StatusOK || e.code() != "BAD_USER_INPUT" {
			t.Errorf("application/json: status %d, body %s", r.Status, r.Body)
		}

		// Just under the limit, a query runs. (Its fields have distinct
		// aliases: repeated ones take validation seconds at this size; see
		// BenchmarkValidateAtTokenLimit.)
		var shape func(int) string
		for _, s := range tokenShapes {
			if s.name == "distinct-aliases" {
				shape = s.build
			}
		}
		q := underTokens(t, 5000, "", shape)
		var data struct{ Territories []map[string]string }
		srv.query(t, q, nil, &data)
		if len(data.Territories) != 9 || len(data.Territories[0]) < 1600 || data.Territories[0]["a0"] == "" {
			t.Errorf("%d territories, the first with %d fields", len(data.Territories), len(data.Territories[0]))
		}
	})
}

// underTokens returns the largest query build(n) that the parser reads
// within limit tokens, prefixed by prefix.
func underTokens(tb testing.TB, limit int, prefix string, build func(n int) string) string {
	tb.Helper()
	fits := func(n int) bool {
		_, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: prefix + build(n)}, limit)
		return err == nil
	}
	lo, hi := 1, limit
	if !fits(lo) {
		tb.Fatalf("%q does not fit in %d tokens", prefix+build(lo), limit)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return prefix + build(lo)
}

// graphqlRequest is a POST of query as the handler receives it.
func graphqlRequest(tb testing.TB, query string) *http.Request {
	tb.Helper()
	body, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", mediaGraphQLResponse)
	return req
}

// BenchmarkRefuseHugeQuery measures how long the handler takes to refuse a
// 500 KB query over the token limit.
func BenchmarkRefuseHugeQuery(b *testing.B) {
	o := defaultOptions()
	o.Logger = discardLogger()
	h := graph.NewHandler(&graph.Resolver{}, o)
	body, _ := json.Marshal(map[string]string{"query": hugeQuery})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", mediaGraphQLResponse)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// tokenShapes are queries that fill the token budget in the ways that cost
// gqlparser's validation most: OverlappingFieldsCanBeMerged compares every
// pair of fields with the same response name.
var tokenShapes = []struct {
	name  string
	build func(n int) string
}{
	{"repeated-leaf", func(n int) string { return "{ territories { " + strings.Repeat("code ", n) + "} }" }},
	{"repeated-field", func(n int) string { return "{ " + strings.Repeat("territories { code } ", n) + "}" }},
	{"same-alias", func(n int) string { return "{ " + strings.Repeat("a: territories { code } ", n) + "}" }},
	// Up to the repeat limit everywhere: 50 fields of one name, each
	// repeating one field 50 times, then distinct aliases of that block.
	{"repeats-at-the-limit", func(n int) string {
		block := "a: territories { " + strings.Repeat("code ", min(n, 50)) + "} "
		var b strings.Builder
		b.WriteString("{ ")
		for i := 0; i < max(1, n/50); i++ {
			fmt.Fprintf(&b, "x%d: territories { code } ", i)
		}
		b.WriteString(strings.Repeat(block, 50))
		b.WriteString("}")
		return b.String()
	}},
	{"distinct-aliases", func(n int) string {
		var b strings.Builder
		b.WriteString("{ territories { ")
		for i := range n {
			fmt.Fprintf(&b, "a%d: code ", i)
		}
		b.WriteString("} }")
		return b.String()
	}},
}

// BenchmarkValidateAtTokenLimit measures what the server spends on queries
// just under the 5000-token limit (parsing, the repeat check, validation and
// execution), each a new document so the query cache does not answer.
func BenchmarkValidateAtTokenLimit(b *testing.B) {
	benchmarkTokens(b, 5000)
}

func benchmarkTokens(b *testing.B, tokens int) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			o := defaultOptions()
			o.Logger = discardLogger()
			o.MaxTokens = tokens
			o.MaxComplexity = 1 << 30 // measure validation, not the cost refusal
			o.MaxRepeats = 50
			o.MaxFieldPairs = 100_000
			h := graph.NewHandler(newResolver(b, db), o)
			for _, shape := range tokenShapes {
				b.Run(shape.name, func(b *testing.B) {
					// The operation name makes each iteration's document new.
					const name = "query Q1234567 "
					q := underTokens(b, tokens, name, shape.build)
					i := 0
					for b.Loop() {
						i++
						req := graphqlRequest(b, strings.Replace(q, "Q1234567", fmt.Sprintf("Q%07d", i), 1))
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						// Repeated shapes are refused by RepeatLimit, the
						// others run: either way the time is what a
						// client can make the server spend.
						refused := w.Code == http.StatusBadRequest && bytes.Contains(w.Body.Bytes(), []byte(`REPEATED_FIELDS`))
						ran := w.Code == http.StatusOK && !bytes.Contains(w.Body.Bytes(), []byte(`"errors"`))
						if !refused && !ran {
							b.Fatalf("status %d: %.300s", w.Code, w.Body)
						}
					}
				})
			}
		})
	}
}

// Queries that repeat one field past the limit are refused before
// validation, whatever way they repeat it; up to the limit they run.
func TestRepeatedFields(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		srv := newServer(t, db, defaultOptions()) // MaxRepeats 50
		for _, shape := range tokenShapes {
			if shape.name == "distinct-aliases" {
				continue
			}
			q := underTokens(t, 5000, "", shape.build)
			wantRefused(t, srv.post(t, mediaGraphQLResponse, q, nil), "REPEATED_FIELDS")
		}
		refused := []string{
			// Fragments bring their fields into the selection they are spread in.
			"{ territories { ..." + strings.Repeat("F ...", 50) + "F } } fragment F on Territory { code }",
			"{ territories { code " + strings.Repeat("... on Territory { code } ", 50) + "} }",
			// Fragments spreading fragments multiply: 2^40 without the check.
			fanOut(40),
		}
		for _, q := range refused {
			wantRefused(t, srv.post(t, mediaGraphQLResponse, q, nil), "REPEATED_FIELDS")
			// Only accepted documents are remembered: a refusal holds on retry.
			wantRefused(t, srv.post(t, mediaGraphQLResponse, q, nil), "REPEATED_FIELDS")
		}
		var data struct{ Territories []map[string]string }
		srv.query(t, "{ territories { "+strings.Repeat("code ", 50)+"} }", nil, &data)
		if len(data.Territories) != 9 || data.Territories[3]["code"] != "EN" {
			t.Errorf("50 repeats: %v", data.Territories)
		}
	})
}

// fanOut is a document whose fragment F0 reaches `code` 2^n times.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("{ territories { ...F0 } }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Territory { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Territory { code }\n", n)
	return b.String()
}

// BenchmarkReferenceQuery is the cost of the first query a newcomer runs,
// `{ territories { code name } themes { code } }`, through the handler.
func BenchmarkReferenceQuery(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			o := defaultOptions()
			o.Logger = discardLogger()
			h := graph.NewHandler(newResolver(b, db), o)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, graphqlRequest(b, "{ territories { code name } themes { code } }"))
				if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"Trapani"`)) {
					b.Fatalf("status %d: %.300s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkRepeatLimit is what RepeatLimit adds to a request, here for
// GraphiQL's introspection query (1.5 KB): a parse and two walks for a new
// document, a hash and a look-up for one seen before.
func BenchmarkRepeatLimit(b *testing.B) {
	p := &gqlgraphql.RawParams{Query: introspectionQuery}
	for _, bc := range []struct {
		name  string
		cache gqlgraphql.Cache[struct{}]
	}{{"new-document", nil}, {"seen-before", lru.New[struct{}](1000)}} {
		b.Run(bc.name, func(b *testing.B) {
			l := graph.RepeatLimit{Max: 50, MaxPairs: 100_000, MaxTokens: 5000, Accepted: bc.cache}
			b.ReportAllocs()
			for b.Loop() {
				if err := l.MutateOperationParameters(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
