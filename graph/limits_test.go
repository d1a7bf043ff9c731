package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// introspectionQuery is GraphiQL's, far deeper than any application query.
const introspectionQuery = `
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// wantRefused checks a request refused before execution: 400 with
// application/graphql-response+json, BAD_USER_INPUT and reason.
func wantRefused(t *testing.T, r httpResult, reason string) gqlError {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400; body %s", r.Status, r.Body)
	}
	e := onlyError(t, r)
	if e.code() != "BAD_USER_INPUT" || e.reason() != reason {
		t.Errorf("extensions %v, want code BAD_USER_INPUT and reason %s", e.Extensions, reason)
	}
	return e
}

func TestDepthLimit(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		o := defaultOptions()
		o.MaxDepth = 2
		srv := newServer(t, db, o)
		// Fields of Territory are the deepest this schema goes: level 2.
		for _, q := range []string{
			`{ territories { code } }`,
			`{ territories { ...T } } fragment T on Territory { code }`,
			`{ node(id: "VGVycml0b3J5OjE") { ... on Territory { code } } }`,
		} {
			srv.query(t, q, nil, nil)
		}

		o.MaxDepth = 1
		srv = newServer(t, db, o)
		wantRefused(t, srv.post(t, mediaGraphQLResponse, `{ territories { code } }`, nil), "DEPTH_LIMIT_EXCEEDED")
		wantRefused(t, srv.post(t, mediaGraphQLResponse, `{ themes { ...T } } fragment T on Theme { code }`, nil), "DEPTH_LIMIT_EXCEEDED")
		// With application/json a refusal is 200, as for any request error.
		r := srv.post(t, mediaJSON, `{ territories { code } }`, nil)
		if e := onlyError(t, r); r.Status != http.StatusOK || e.reason() != "DEPTH_LIMIT_EXCEEDED" {
			t.Errorf("application/json: status %d, body %s", r.Status, r.Body)
		}
		srv.query(t, `{ __typename }`, nil, nil)
	})
}

func TestComplexityLimit(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		o := defaultOptions()
		o.MaxComplexity = 4
		srv := newServer(t, db, o)
		// A field costs 1 plus its selections: 1 + 3.
		srv.query(t, `{ territories { code name istatCode } }`, nil, nil)
		// 3 + 2.
		wantRefused(t, srv.post(t, mediaGraphQLResponse, `{ territories { code name } themes { code } }`, nil), "COMPLEXITY_LIMIT_EXCEEDED")
		wantRefused(t, srv.post(t, mediaGraphQLResponse, `{ a: themes { code } b: themes { code } c: themes { code } }`, nil), "COMPLEXITY_LIMIT_EXCEEDED")
	})
}

func TestIntrospection(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		o := defaultOptions()
		o.MaxDepth, o.MaxComplexity = 2, 4

		t.Run("dev", func(t *testing.T) {
			o.Dev = true
			srv := newServer(t, db, o)
			var data struct {
				Schema struct {
					QueryType struct{ Name string }
					Types     []struct{ Name string }
				} `json:"__schema"`
			}
			srv.query(t, introspectionQuery, nil, &data)
			if data.Schema.QueryType.Name != "Query" || len(data.Schema.Types) < 10 {
				t.Errorf("introspection answered %+v", data)
			}
			e := onlyError(t, srv.post(t, mediaGraphQLResponse, `{ territories { cod } }`, nil))
			if !strings.Contains(e.Message, "Did you mean") {
				t.Errorf("in dev the message suggests fields; got %q", e.Message)
			}
		})

		t.Run("prod", func(t *testing.T) {
			o.Dev = false
			srv := newServer(t, db, o)
			for _, q := range []string{
				introspectionQuery,
				`{ __type(name: "Territory") { name } }`,
				`{ themes { code } ... on Query { __schema { queryType { name } } } }`,
				`{ ...Q } fragment Q on Query { __type(name: "Query") { name } }`,
			} {
				wantRefused(t, srv.post(t, mediaGraphQLResponse, q, nil), "INTROSPECTION_DISABLED")
			}
			var data struct {
				Typename string `json:"__typename"`
			}
			srv.query(t, `{ __typename }`, nil, &data)
			if data.Typename != "Query" {
				t.Errorf("__typename %q", data.Typename)
			}
			e := onlyError(t, srv.post(t, mediaGraphQLResponse, `{ territories { cod } }`, nil))
			if e.reason() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(e.Message, "Did you mean") || strings.Contains(e.Message, `"code"`) {
				t.Errorf("in production the message suggests no field; got %q (%v)", e.Message, e.Extensions)
			}
			if logs := srv.Logs.String(); strings.Contains(logs, "level=ERROR") {
				t.Errorf("refusals are not server errors, yet the log has:\n%s", logs)
			}
		})
	})
}

// connectionSchema has connection fields, which PIA's schema does not have yet.
var connectionSchema = gqlparser.MustLoadSchema(&ast.Source{Name: "connections.graphqls", Input: `
	type Query {
		items(first: Int, last: Int): [Item]
		item: Item
	}
	type Item {
		a: Int
		b: Int
		item: Item
		children(first: Int, last: Int): [Item]
	}
`})

// limitsError runs l on query as gqlgen does: parsed and validated against
// connectionSchema, variables coerced from JSON.
func limitsError(t *testing.T, l graph.Limits, query, vars string) *graphqlError {
	t.Helper()
	return measure(l, operation(t, query, vars))
}

// operation is the operation context gqlgen builds for query and vars.
func operation(t *testing.T, query, vars string) *graphql.OperationContext {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(connectionSchema, query)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", query, errs)
	}
	op := doc.Operations[0]
	raw := map[string]any{}
	if vars != "" {
		dec := json.NewDecoder(strings.NewReader(vars))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
	}
	coerced, err := validator.VariableValues(connectionSchema, op, raw)
	if err != nil {
		t.Fatalf("variables %s: %v", vars, err)
	}
	return &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: op, Variables: coerced}
}

// measure runs l on rc; nil means the operation is within the limits.
func measure(l graph.Limits, rc *graphql.OperationContext) *graphqlError {
	gerr := l.MutateOperationContext(context.Background(), rc)
	if gerr == nil {
		return nil
	}
	code, _ := gerr.Extensions["code"].(string)
	reason, _ := gerr.Extensions["reason"].(string)
	return &graphqlError{code: code, reason: reason, message: gerr.Message}
}

type graphqlError struct{ code, reason, message string }

func (e *graphqlError) String() string {
	if e == nil {
		return "accepted"
	}
	return e.code + "/" + e.reason + ": " + e.message
}

// checkCost checks that query costs exactly want: it passes a limit of want
// and is refused at want-1.
func checkCost(t *testing.T, query, vars string, want int) {
	t.Helper()
	if err := limitsError(t, graph.Limits{MaxComplexity: want, DefaultPageSize: 20}, query, vars); err != nil {
		t.Errorf("%s: refused at the limit %d: %s", query, want, err.message)
	}
	err := limitsError(t, graph.Limits{MaxComplexity: want - 1, DefaultPageSize: 20}, query, vars)
	if err == nil || err.code != "GRAPHQL_VALIDATION_FAILED" || err.reason != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("%s: not refused at the limit %d (%v); want a cost of %d", query, want-1, err, want)
	}
}

// checkDepth checks that query is exactly want levels deep.
func checkDepth(t *testing.T, query string, want int) {
	t.Helper()
	if err := limitsError(t, graph.Limits{MaxDepth: want}, query, ""); err != nil {
		t.Errorf("%s: refused at depth %d: %s", query, want, err.message)
	}
	err := limitsError(t, graph.Limits{MaxDepth: want - 1}, query, "")
	if err == nil || err.code != "GRAPHQL_VALIDATION_FAILED" || err.reason != "DEPTH_LIMIT_EXCEEDED" {
		t.Errorf("%s: not refused at depth %d (%v); want a depth of %d", query, want-1, err, want)
	}
}

func TestLimitsPricesConnections(t *testing.T) {
	tests := []struct {
		name, query, vars string
		cost              int
	}{
		{"plain fields", `{ item { a b item { a } } }`, "", 5},
		{"first", `{ items(first: 50) { a b } }`, "", 1 + 50*2},
		{"last", `{ items(last: 7) { a } }`, "", 1 + 7},
		{"the larger of first and last", `{ items(first: 3, last: 9) { a } }`, "", 1 + 9},
		{"default page size", `{ items { a b } }`, "", 1 + 20*2},
		{"nested connections multiply", `{ items(first: 10) { a children(first: 5) { a b } } }`, "", 1 + 10*(1+(1+5*2))},
		{"connection inside a plain field", `{ item { children(first: 4) { a } } }`, "", 1 + (1 + 4)},
		{"variables", `query ($n: Int) { items(first: $n) { a b } }`, `{"n": 30}`, 1 + 30*2},
		{"null variable means default", `query ($n: Int) { items(first: $n) { a b } }`, `{"n": null}`, 1 + 20*2},
		{"absent variable means default", `query ($n: Int) { items(last: $n) { a } }`, ``, 1 + 20},
		{"variable with a default", `query ($n: Int = 3) { items(first: $n) { a } }`, ``, 1 + 3},
		{"fragments", `{ items(first: 2) { ...F ... on Item { b } } } fragment F on Item { a children(first: 3) { a } }`, "", 1 + 2*(1+(1+3)+1)},
		{"introspection is free", `{ __schema { types { name } } items(first: 2) { a __typename } }`, "", 1 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCost(t, tt.query, tt.vars, tt.cost) })
	}
}

func TestLimitsDepth(t *testing.T) {
	checkDepth(t, `{ item { a } }`, 2)
	checkDepth(t, `{ item { item { item { a } } } }`, 4)
	checkDepth(t, `{ items(first: 1) { children(first: 1) { b } } }`, 3)
	checkDepth(t, `{ item { ...F } } fragment F on Item { item { ... on Item { item { a } } } }`, 4)
	checkDepth(t, `{ a: item { a } b: item { item { a } } }`, 3)
}

// TestLimitsAbsurdPages checks that page sizes that would overflow an int
// saturate instead of wrapping around to a cost under the limit.
func TestLimitsAbsurdPages(t *testing.T) {
	l := graph.Limits{MaxComplexity: 5000, DefaultPageSize: 20}
	for _, tt := range []struct{ query, vars string }{
		{`{ items(first: 2147483647) { a b } }`, ""},
		{`{ items(first: 2147483647) { children(first: 2147483647) { children(first: 2147483647) { a b } } } }`, ""},
		{`query ($n: Int) { items(first: $n) { a b } }`, `{"n": 9223372036854775807}`},
		{`query ($n: Int) { items(first: $n) { children(first: $n) { a b } } }`, `{"n": 4294967296}`},
	} {
		if err := limitsError(t, l, tt.query, tt.vars); err == nil || err.reason != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("%s %s: %v; want COMPLEXITY_LIMIT_EXCEEDED", tt.query, tt.vars, err)
		}
	}
}

// TestLimitsFragmentFanOut checks that a fragment spread twice at each of 30
// levels, which a client writes in a few hundred bytes, is priced without
// walking its 2^30 expansions.
func TestLimitsFragmentFanOut(t *testing.T) {
	const levels = 30
	var b strings.Builder
	b.WriteString("{ item { ...F0 } }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Item { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Item { a }\n", levels)

	rc := operation(t, b.String(), "")
	done := make(chan *graphqlError, 1)
	go func() { done <- measure(graph.Limits{MaxDepth: 12, MaxComplexity: 5000}, rc) }()
	select {
	case err := <-done:
		if err == nil || err.reason != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("%v; want COMPLEXITY_LIMIT_EXCEEDED", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("pricing a fragment fan-out takes more than 2s")
	}
}
