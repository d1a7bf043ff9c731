package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

const referenceQuery = `{ territories { code name istatCode } themes { code labelIt labelEn } }`

// checkReference checks the 9 territories and the 4 themes.
func checkReference(t *testing.T, r httpResult) {
	t.Helper()
	var data struct {
		Territories []struct{ Code, Name, IstatCode string }
		Themes      []struct{ Code, LabelIt, LabelEn string }
	}
	if err := json.Unmarshal(r.Resp.Data, &data); err != nil {
		t.Fatalf("data %s: %v", r.Resp.Data, err)
	}
	var got []string
	for _, tr := range data.Territories {
		got = append(got, tr.Code)
	}
	slices.Sort(got)
	if want := []string{"AG", "CL", "CT", "EN", "ME", "PA", "RG", "SR", "TP"}; !slices.Equal(got, want) {
		t.Errorf("territory codes %v, want %v", got, want)
	}
	var themes []string
	for _, th := range data.Themes {
		themes = append(themes, th.Code)
	}
	if want := []string{"HEALTH", "EDUCATION", "WORK", "HOUSING"}; !slices.Equal(themes, want) {
		t.Errorf("themes %v, want %v", themes, want)
	}
}

// TestGraphQLOverHTTP checks the GraphQL-over-HTTP specification as a client
// sees it: status codes, Content-Type, Allow and the errors' codes.
func TestGraphQLOverHTTP(t *testing.T) {
	const maxBody = 1024
	jsonQuery := func(q string) string {
		b, _ := json.Marshal(map[string]string{"query": q})
		return string(b)
	}
	tooLarge := `{"query": "{ territories { code } }", "variables": {"pad": "` + strings.Repeat("x", 4*maxBody) + `"}}`

	tests := []struct {
		name        string
		method      string
		params      url.Values // the URL's query string
		contentType string
		accept      string // "" sends no Accept header
		body        string
		chunked     bool // send the body without Content-Length

		wantStatus int
		wantMedia  string
		wantAllow  string
		wantCode   string // of the one error; "" means no error
		wantReason string
		check      func(t *testing.T, r httpResult)
	}{
		{
			name: "POST query", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery(referenceQuery),
			wantStatus: 200, wantMedia: mediaGraphQLResponse, check: checkReference,
		},
		{
			name: "POST with charset", method: "POST", contentType: "application/json; charset=utf-8", accept: mediaJSON,
			body:       jsonQuery(referenceQuery),
			wantStatus: 200, wantMedia: mediaJSON, check: checkReference,
		},
		{
			name: "POST with variables and operationName", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `{"query": "query A { themes { code } } query B($c: String!) { territory(code: $c) { name } }", "operationName": "B", "variables": {"c": "en"}}`,
			wantStatus: 200, wantMedia: mediaGraphQLResponse,
			check: func(t *testing.T, r httpResult) {
				if got := string(r.Resp.Data); got != `{"territory":{"name":"Enna"}}` {
					t.Errorf("data %s", got)
				}
			},
		},

		// Accept negotiation.
		{
			name: "Accept application/json", method: "POST", contentType: "application/json", accept: mediaJSON,
			body: jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaJSON, check: checkReference,
		},
		{
			name: "Accept */*", method: "POST", contentType: "application/json", accept: "*/*",
			body: jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaGraphQLResponse,
		},
		{
			name: "Accept application/*", method: "POST", contentType: "application/json", accept: "application/*",
			body: jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaGraphQLResponse,
		},
		{
			name: "Accept both, equal q", method: "POST", contentType: "application/json",
			accept: "application/json, application/graphql-response+json",
			body:   jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaGraphQLResponse,
		},
		{
			name: "Accept q-values prefer application/json", method: "POST", contentType: "application/json",
			accept: "application/graphql-response+json;q=0.5, application/json;q=0.9",
			body:   jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaJSON,
		},
		{
			name: "Accept q-values prefer graphql-response+json", method: "POST", contentType: "application/json",
			accept: "application/json;q=0.1, text/html, application/graphql-response+json;q=0.8",
			body:   jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaGraphQLResponse,
		},
		{
			name: "Accept */* below application/json", method: "POST", contentType: "application/json",
			accept: "*/*;q=0.1, application/json",
			body:   jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaJSON,
		},
		{
			// Past the spec's legacy watershed (2025-01-01).
			name: "no Accept means application/graphql-response+json", method: "POST", contentType: "application/json",
			body: jsonQuery(referenceQuery), wantStatus: 200, wantMedia: mediaGraphQLResponse, check: checkReference,
		},
		{
			name: "no Accept and a validation error is 400", method: "POST", contentType: "application/json",
			body:       jsonQuery("{ nope }"),
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "only text/html is 406", method: "POST", contentType: "application/json", accept: "text/html",
			body:       jsonQuery(referenceQuery),
			wantStatus: 406, wantMedia: mediaJSON, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "q=0 refuses", method: "POST", contentType: "application/json", accept: "text/html, application/json;q=0",
			body:       jsonQuery(referenceQuery),
			wantStatus: 406, wantMedia: mediaJSON, wantCode: "BAD_USER_INPUT",
		},

		// Request bodies.
		{
			name: "text/plain is 415", method: "POST", contentType: "text/plain", accept: mediaGraphQLResponse,
			body:       jsonQuery(referenceQuery),
			wantStatus: 415, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "no Content-Type is 415", method: "POST", accept: mediaGraphQLResponse,
			body:       jsonQuery(referenceQuery),
			wantStatus: 415, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "charset other than utf-8 is 415", method: "POST", contentType: "application/json; charset=latin1", accept: mediaGraphQLResponse,
			body:       jsonQuery(referenceQuery),
			wantStatus: 415, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "malformed JSON is 400 and not echoed", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `{"query": "{ territories { code } }", SECRET-BODY-TEXT`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
			check: func(t *testing.T, r httpResult) {
				if strings.Contains(string(r.Body), "SECRET") {
					t.Errorf("the answer echoes the body: %s", r.Body)
				}
			},
		},
		{
			name: "malformed JSON with application/json is 400 too", method: "POST", contentType: "application/json", accept: mediaJSON,
			body:       `{"query": `,
			wantStatus: 400, wantMedia: mediaJSON, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "a JSON array is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `[{"query": "{ themes { code } }"}]`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "trailing data is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery("{ themes { code } }") + ` {"query": "x"}`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "missing query is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `{"variables": {}}`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "empty query is 400", method: "POST", contentType: "application/json", accept: mediaJSON,
			body:       `{"query": ""}`,
			wantStatus: 400, wantMedia: mediaJSON, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "query not a string is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `{"query": 42}`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "variables not an object is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `{"query": "{ themes { code } }", "variables": [1]}`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "oversized body with Content-Length is 413", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       tooLarge,
			wantStatus: 413, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "oversized chunked body is 413", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body: tooLarge, chunked: true,
			wantStatus: 413, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "small chunked body is served", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body: jsonQuery(referenceQuery), chunked: true,
			wantStatus: 200, wantMedia: mediaGraphQLResponse, check: checkReference,
		},

		// GET.
		{
			name: "GET query", method: "GET", params: url.Values{"query": {referenceQuery}}, accept: mediaGraphQLResponse,
			wantStatus: 200, wantMedia: mediaGraphQLResponse, check: checkReference,
		},
		{
			name: "GET query with variables", method: "GET", accept: mediaJSON,
			params: url.Values{
				"query":     {`query ($c: String!) { territory(code: $c) { name } }`},
				"variables": {`{"c": "PA"}`},
			},
			wantStatus: 200, wantMedia: mediaJSON,
			check: func(t *testing.T, r httpResult) {
				if got := string(r.Resp.Data); got != `{"territory":{"name":"Palermo"}}` {
					t.Errorf("data %s", got)
				}
			},
		},
		{
			name: "GET without query is 400", method: "GET", accept: mediaGraphQLResponse,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		{
			name: "GET with malformed variables is 400", method: "GET", accept: mediaGraphQLResponse,
			params:     url.Values{"query": {"{ themes { code } }"}, "variables": {"{nope"}},
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
		// The schema has no Mutation type yet, so a mutation fails validation
		// before the method is looked at. TestGETMutationIs405 checks the 405
		// on a schema that has mutations.
		{
			name: "GET mutation without a Mutation type fails validation", method: "GET", accept: mediaGraphQLResponse,
			params:     url.Values{"query": {"mutation { x }"}},
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "GET subscription is 405", method: "GET", accept: mediaGraphQLResponse,
			params:     url.Values{"query": {"subscription { serverStatus { version } }"}},
			wantStatus: 405, wantMedia: mediaGraphQLResponse, wantAllow: "POST", wantCode: "BAD_USER_INPUT",
		},

		// Other methods.
		{
			name: "PUT is 405", method: "PUT", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery(referenceQuery),
			wantStatus: 405, wantMedia: mediaGraphQLResponse, wantAllow: "GET, POST", wantCode: "BAD_USER_INPUT",
		},
		{
			name: "DELETE is 405", method: "DELETE",
			wantStatus: 405, wantMedia: mediaGraphQLResponse, wantAllow: "GET, POST", wantCode: "BAD_USER_INPUT",
		},

		// Errors before execution: 400 with graphql-response+json, 200 with application/json.
		{
			name: "validation error with graphql-response+json is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery("{ territories { nope } }"),
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
			check: func(t *testing.T, r httpResult) {
				if r.Resp.Data != nil {
					t.Errorf("data %s; a request that fails validation has no data entry", r.Resp.Data)
				}
			},
		},
		{
			name: "validation error with application/json is 200", method: "POST", contentType: "application/json", accept: mediaJSON,
			body:       jsonQuery("{ territories { nope } }"),
			wantStatus: 200, wantMedia: mediaJSON, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "GET validation error is 400", method: "GET", accept: mediaGraphQLResponse,
			params:     url.Values{"query": {"{ nope }"}},
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "parse error is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery("{ territories { code }"),
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_PARSE_FAILED",
		},
		{
			name: "missing variable is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery("query ($c: String!) { territory(code: $c) { name } }"),
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "unknown operationName is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       `{"query": "query A { themes { code } }", "operationName": "B"}`,
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT", wantReason: "GRAPHQL_VALIDATION_FAILED",
		},
		{
			name: "subscription over POST is 400", method: "POST", contentType: "application/json", accept: mediaGraphQLResponse,
			body:       jsonQuery("subscription { serverStatus(intervalSeconds: 1) { version } }"),
			wantStatus: 400, wantMedia: mediaGraphQLResponse, wantCode: "BAD_USER_INPUT",
		},
	}

	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		o := defaultOptions()
		o.MaxBodyBytes = maxBody
		srv := newServer(t, db, o)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := srv.URL
				if tt.params != nil {
					u += "?" + tt.params.Encode()
				}
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
					if tt.chunked {
						body = struct{ io.Reader }{body} // hides the length from the client
					}
				}
				req, err := http.NewRequest(tt.method, u, body)
				if err != nil {
					t.Fatal(err)
				}
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				if tt.accept != "" {
					req.Header.Set("Accept", tt.accept)
				}
				r := do(t, req)
				if tt.chunked {
					if got := srv.lastLength.Load(); got != -1 {
						t.Fatalf("the server got Content-Length %d; want a chunked body", got)
					}
				}

				if r.Status != tt.wantStatus {
					t.Errorf("status %d, want %d; body %s", r.Status, tt.wantStatus, r.Body)
				}
				if r.media() != tt.wantMedia {
					t.Errorf("Content-Type %q, want %s", r.Header.Get("Content-Type"), tt.wantMedia)
				}
				if got := r.Header.Get("Allow"); got != tt.wantAllow {
					t.Errorf("Allow %q, want %q", got, tt.wantAllow)
				}
				if tt.wantCode == "" {
					if len(r.Resp.Errors) > 0 {
						t.Errorf("errors: %s", r.Body)
					}
				} else {
					e := onlyError(t, r)
					if e.code() != tt.wantCode {
						t.Errorf("extensions.code %q, want %s", e.code(), tt.wantCode)
					}
					if e.reason() != tt.wantReason {
						t.Errorf("extensions.reason %q, want %q", e.reason(), tt.wantReason)
					}
					if e.Message == "" {
						t.Error("the error has no message")
					}
				}
				if tt.check != nil {
					tt.check(t, r)
				}
			})
		}
	})
}

// TestGETMutationIs405 checks that a GET never runs a mutation. PIA's schema
// has no Mutation type yet, so the transport is served here on a small schema
// that has one.
func TestGETMutationIs405(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { x: Int }
		type Mutation { x: Int }
	`})
	var executed []string
	es := &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			executed = append(executed, string(graphql.GetOperationContext(ctx).Operation.Operation))
			return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{"x":1}`)})
		},
	}
	h := handler.New(es)
	h.AddTransport(graph.HTTPTransport{MaxBodyBytes: 1024})
	hs := httptest.NewServer(h)
	defer hs.Close()

	get := func(query string) httpResult {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"?"+url.Values{"query": {query}}.Encode(), nil)
		req.Header.Set("Accept", mediaGraphQLResponse)
		return do(t, req)
	}

	r := get("mutation { x }")
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET mutation: status %d, Allow %q; want 405 with Allow: POST", r.Status, r.Header.Get("Allow"))
	}
	if e := onlyError(t, r); e.code() != "BAD_USER_INPUT" {
		t.Errorf("extensions.code %q", e.code())
	}
	if len(executed) > 0 {
		t.Errorf("the GET ran a %s", executed[0])
	}

	// The same document with operationName choosing the query may run.
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"?"+url.Values{"query": {"query Q { x } mutation M { x }"}, "operationName": {"Q"}}.Encode(), nil)
	if r := do(t, req); r.Status != http.StatusOK || string(r.Resp.Data) != `{"x":1}` {
		t.Errorf("GET query Q: status %d, body %s", r.Status, r.Body)
	}
	req, _ = http.NewRequest(http.MethodGet, hs.URL+"?"+url.Values{"query": {"query Q { x } mutation M { x }"}, "operationName": {"M"}}.Encode(), nil)
	if r := do(t, req); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET mutation M: status %d, body %s", r.Status, r.Body)
	}

	// POST runs the mutation.
	req, _ = http.NewRequest(http.MethodPost, hs.URL, strings.NewReader(`{"query": "mutation { x }"}`))
	req.Header.Set("Content-Type", "application/json")
	if r := do(t, req); r.Status != http.StatusOK || string(r.Resp.Data) != `{"x":1}` {
		t.Errorf("POST mutation: status %d, body %s", r.Status, r.Body)
	}
	if want := []string{"query", "mutation"}; !slices.Equal(executed, want) {
		t.Errorf("executed %v, want %v", executed, want)
	}
}
