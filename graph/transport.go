package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// Media types of the GraphQL-over-HTTP specification.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

// HTTPTransport serves GraphQL over HTTP as the GraphQL-over-HTTP
// specification says, where gqlgen's GET and POST transports differ from it:
//   - the response media type is negotiated from Accept, q-values included;
//     none acceptable is 406;
//   - POST takes application/json only (415 otherwise); a body over the
//     limit is 413; malformed JSON or parameters are 400;
//   - GET runs queries only: a mutation is 405 with Allow: POST;
//   - other methods are 405 with Allow: GET, POST;
//   - a request that fails before execution (parse, validation, limits) is
//     400 with application/graphql-response+json and 200 with
//     application/json; once execution starts the status is 200.
//
// Subscriptions need the websocket transport and are refused here.
type HTTPTransport struct {
	MaxBodyBytes int64
}

var _ graphql.Transport = HTTPTransport{}

// Supports takes every request that is not a websocket upgrade, so that
// wrong methods and media types get the specification's status codes.
func (HTTPTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

func (t HTTPTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeRequestError(w, mediaJSON, http.StatusNotAcceptable,
			"none of the media types in Accept is served; accept application/graphql-response+json or application/json")
		return
	}

	var params *graphql.RawParams
	start := graphql.Now()
	switch r.Method {
	case http.MethodGet:
		p, msg := paramsFromQuery(r)
		if msg != "" {
			writeRequestError(w, media, http.StatusBadRequest, msg)
			return
		}
		params = p
	case http.MethodPost:
		ct, ctParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || ct != mediaJSON || (ctParams["charset"] != "" && !strings.EqualFold(ctParams["charset"], "utf-8")) {
			writeRequestError(w, media, http.StatusUnsupportedMediaType,
				"send the request as Content-Type: application/json")
			return
		}
		p, status, msg := t.paramsFromBody(w, r)
		if msg != "" {
			writeRequestError(w, media, status, msg)
			return
		}
		params = p
	default:
		w.Header().Set("Allow", "GET, POST")
		writeRequestError(w, media, http.StatusMethodNotAllowed, "use GET for queries or POST for any operation")
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeResponse(w, media, status, exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		return
	}
	switch op := rc.Operation.Operation; {
	case r.Method == http.MethodGet && op != ast.Query:
		w.Header().Set("Allow", "POST")
		writeRequestError(w, media, http.StatusMethodNotAllowed, "a GET request can only run a query; send a "+string(op)+" with POST")
		return
	case op == ast.Subscription:
		writeRequestError(w, media, http.StatusBadRequest, "subscriptions run over the websocket on this same path (graphql-transport-ws)")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, media, http.StatusOK, responses(ctx))
}

// paramsFromQuery reads GET parameters: query, operationName, and variables
// and extensions as JSON.
func paramsFromQuery(r *http.Request) (*graphql.RawParams, string) {
	q := r.URL.Query()
	// The URL's %XX escapes may make any bytes; the JSON parameters may
	// escape lone surrogates (see jsonTextProblem).
	for _, k := range []string{"query", "operationName"} {
		if !utf8.ValidString(q.Get(k)) {
			return nil, msgNotUTF8
		}
	}
	for _, k := range []string{"variables", "extensions"} {
		if msg := jsonTextProblem([]byte(q.Get(k))); msg != "" {
			return nil, msg
		}
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if p.Query == "" {
		return nil, "the request has no query parameter"
	}
	if v := q.Get("variables"); v != "" {
		if err := decodeJSON([]byte(v), &p.Variables); err != nil {
			return nil, "the variables parameter is not a JSON object"
		}
	}
	if v := q.Get("extensions"); v != "" {
		if err := decodeJSON([]byte(v), &p.Extensions); err != nil {
			return nil, "the extensions parameter is not a JSON object"
		}
	}
	return p, ""
}

// paramsFromBody reads a POST body within the size limit.
func (t HTTPTransport) paramsFromBody(w http.ResponseWriter, r *http.Request) (*graphql.RawParams, int, string) {
	tooLarge := "the request body is larger than " + strconv.FormatInt(t.MaxBodyBytes, 10) + " bytes"
	if t.MaxBodyBytes > 0 && r.ContentLength > t.MaxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body := r.Body
	if t.MaxBodyBytes > 0 {
		body = http.MaxBytesReader(w, r.Body, t.MaxBodyBytes)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, http.StatusBadRequest, "the request body could not be read"
	}
	if msg := jsonTextProblem(raw); msg != "" {
		return nil, http.StatusBadRequest, msg
	}
	var fields struct {
		Query         *string         `json:"query"`
		OperationName *string         `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if err := decodeJSON(raw, &fields); err != nil {
		return nil, http.StatusBadRequest, "the request body is not valid JSON: " + jsonProblem(err)
	}
	if fields.Query == nil || *fields.Query == "" {
		return nil, http.StatusBadRequest, "the request has no query: send {\"query\": \"...\"}"
	}
	p := &graphql.RawParams{Query: *fields.Query}
	if fields.OperationName != nil {
		p.OperationName = *fields.OperationName
	}
	if len(fields.Variables) > 0 && string(fields.Variables) != "null" {
		if err := decodeJSON(fields.Variables, &p.Variables); err != nil {
			return nil, http.StatusBadRequest, "variables must be a JSON object"
		}
	}
	if len(fields.Extensions) > 0 && string(fields.Extensions) != "null" {
		if err := decodeJSON(fields.Extensions, &p.Extensions); err != nil {
			return nil, http.StatusBadRequest, "extensions must be a JSON object"
		}
	}
	return p, 0, ""
}

func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// jsonProblem says what is wrong with a body without echoing it back.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return typ.Field + " has the wrong type"
		}
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too early"
	}
	return "it has data after the JSON object"
}

// writeRequestError answers a request that could not be run at all, with a
// GraphQL error carrying BAD_USER_INPUT (and reason INVALID_UTF8 when the
// refusal is about text that is not UTF-8).
func writeRequestError(w http.ResponseWriter, media string, status int, msg string) {
	writeCodedError(w, media, status, apperr.BadInput, msg)
}

func writeCodedError(w http.ResponseWriter, media string, status int, kind apperr.Kind, msg string) {
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(kind)}}
	if kind == apperr.BadInput && isTextProblem(msg) {
		err.Extensions["reason"] = "INVALID_UTF8"
	}
	resp := &graphql.Response{Errors: gqlerror.List{err}}
	writeResponse(w, media, status, resp)
}

// writeError refuses r before it reaches the executor, in the media type
// its Accept asks for (application/json when none fits).
func writeError(w http.ResponseWriter, r *http.Request, status int, kind apperr.Kind, msg string) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		media = mediaJSON
	}
	writeCodedError(w, media, status, kind, msg)
}

func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response) {
	var b []byte
	var err error
	if resp != nil && resp.Data == nil {
		// A request error: the response has no data entry at all, which is
		// how the specification tells it from a failed execution (data null).
		b, err = json.Marshal(struct {
			Errors     gqlerror.List  `json:"errors"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	} else {
		b, err = json.Marshal(resp)
	}
	if err != nil {
		media, status = mediaJSON, http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// negotiate picks the response media type from an Accept header. An absent
// header means application/graphql-response+json, as the specification asks
// from its legacy watershed (2025-01-01) on; among equal q-values
// application/graphql-response+json wins, and so it does for */*.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaGraphQLResponse, true
	}
	type choice struct {
		media string
		q     float64
		rank  int
	}
	var choices []choice
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		if q <= 0 {
			continue
		}
		switch mt {
		case mediaGraphQLResponse, "application/*", "*/*":
			choices = append(choices, choice{mediaGraphQLResponse, q, 0})
		case mediaJSON:
			choices = append(choices, choice{mediaJSON, q, 1})
		}
	}
	if len(choices) == 0 {
		return "", false
	}
	sort.SliceStable(choices, func(i, j int) bool {
		if choices[i].q != choices[j].q {
			return choices[i].q > choices[j].q
		}
		return choices[i].rank < choices[j].rank
	})
	return choices[0].media, true
}
