package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// MaxUploadBytes is the largest multipart request (operations, map and
// files together): a spreadsheet of a few thousand stakeholders is well
// under a megabyte. Uploads are held in memory up to this size, never in
// temporary files. JSON requests keep their own, smaller, limit.
const MaxUploadBytes = 10 << 20

// uploadTransport serves file uploads: gqlgen's multipart transport (the
// GraphQL multipart request specification: an operations part, a map part,
// then the files), with PIA's conventions around it:
//   - a body over MaxUploadBytes is 413, as for JSON bodies (gqlgen answers
//     200 or 422 with a message and no code);
//   - gqlgen's refusals of a malformed request (422, without
//     extensions.code) are 400 with BAD_USER_INPUT, like the JSON
//     transport's.
//
// Multipart is one of the content types a browser may send cross-site
// without a preflight, which matters when a cookie authenticates; PIA
// authenticates with the Authorization header only, which a cross-site form
// cannot set, so such a request runs anonymously and imports nothing.
type uploadTransport struct {
	multipart transport.MultipartForm
}

var _ graphql.Transport = uploadTransport{}

func newUploadTransport() uploadTransport {
	// gqlgen keeps a body in memory when it is smaller than MaxMemory: one
	// byte more, so that a body of exactly MaxUploadBytes stays there too.
	return uploadTransport{transport.MultipartForm{MaxUploadSize: MaxUploadBytes, MaxMemory: MaxUploadBytes + 1}}
}

func (t uploadTransport) Supports(r *http.Request) bool { return t.multipart.Supports(r) }

func (t uploadTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	tooLarge := "the request body is larger than " + strconv.Itoa(MaxUploadBytes) + " bytes"
	if r.ContentLength > MaxUploadBytes {
		writeRequestError(w, mediaJSON, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, MaxUploadBytes)}
	r.Body = body
	rec := &bufferedResponse{ResponseWriter: w, status: http.StatusOK}
	t.multipart.Do(rec, r, exec)

	switch {
	case body.exceeded:
		writeRequestError(w, mediaJSON, http.StatusRequestEntityTooLarge, tooLarge)
	case rec.status == http.StatusUnprocessableEntity:
		writeResponse(w, mediaJSON, http.StatusBadRequest, withCodes(rec.body.Bytes()))
	default:
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	}
}

// withCodes reads a refusal gqlgen wrote and gives each error without a
// code BAD_USER_INPUT: they are all about the request's form.
func withCodes(raw []byte) *graphql.Response {
	resp := &graphql.Response{}
	if err := json.Unmarshal(raw, resp); err != nil || len(resp.Errors) == 0 {
		resp.Errors = gqlerror.List{{Message: "the multipart request could not be read"}}
	}
	resp.Data = nil
	for _, e := range resp.Errors {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		if _, ok := e.Extensions["code"]; !ok {
			e.Extensions["code"] = string(apperr.BadInput)
		}
	}
	return resp
}

// bufferedResponse holds what gqlgen's transport writes, so that Do can
// still change the status and body. Headers go to the real writer.
type bufferedResponse struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// limitedBody notes whether the body limit was reached, which gqlgen's
// transport reports only as a failure to read.
type limitedBody struct {
	io.ReadCloser
	exceeded bool
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		l.exceeded = true
	}
	return n, err
}
