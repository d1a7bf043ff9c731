package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/internal/jsontext"
)

// Text that would not reach the resolvers as the client sent it is refused
// rather than changed. Go's encoding/json decodes bytes that are not UTF-8,
// and \u escapes of lone surrogates (\ud800 without its pair), to U+FFFD
// without an error, and gqlparser decodes every \u escape of a surrogate in
// a GraphQL string, pairs included, to U+FFFD: an edit of a document would
// then store characters nobody typed. Refusals carry reason INVALID_UTF8
// (lone surrogates, bytes that are not UTF-8) or SURROGATE_ESCAPE (a pair
// escaped in a GraphQL string, which a client can send as it is or in a
// variable).

// msgNotUTF8 is the refusal of a request that is not UTF-8.
const msgNotUTF8 = jsontext.MsgNotUTF8

// isTextProblem tells jsonTextProblem's messages from other refusals:
// writeCodedError gives them reason INVALID_UTF8.
func isTextProblem(msg string) bool { return jsontext.IsProblem(msg) }

// jsonTextProblem reports what in raw, a JSON text, encoding/json would
// silently replace, or "" when nothing. The websocket transport
// (internal/wsgorilla) makes the same check of its messages.
func jsonTextProblem(raw []byte) string { return jsontext.Problem(raw) }

// queryTextProblem reports a \u escape of a surrogate in the strings of a
// GraphQL document, and its reason, or "" when there is none. Comments and
// block strings (which take no escapes) are skipped.
func queryTextProblem(q string) (msg, reason string) {
	for i := 0; i < len(q); i++ {
		switch {
		case q[i] == '#':
			for i < len(q) && q[i] != '\n' && q[i] != '\r' {
				i++
			}
		case q[i] == '"' && i+2 < len(q) && q[i+1] == '"' && q[i+2] == '"':
			for i += 3; i < len(q); i++ {
				if q[i] == '\\' && i+3 < len(q) && q[i+1:i+4] == `"""` {
					i += 3
				} else if i+2 < len(q) && q[i:i+3] == `"""` {
					i += 2
					break
				}
			}
		case q[i] == '"':
			for i++; i < len(q) && q[i] != '"' && q[i] != '\n'; i++ {
				if q[i] != '\\' {
					continue
				}
				if r, ok := escapeAt([]byte(q), i); ok && isSurrogate(r) {
					if low, okLow := escapeAt([]byte(q), i+6); r < 0xdc00 && okLow && low >= 0xdc00 && isSurrogate(low) {
						return fmt.Sprintf(`the query escapes a character as a surrogate pair (\u%04x\u%04x), which this server cannot read: write the character itself, or pass the text in a variable`, r, low), "SURROGATE_ESCAPE"
					}
					return fmt.Sprintf(`the query has a \u escape of a lone surrogate (\u%04x), which is no character`, r), "INVALID_UTF8"
				}
				i++ // the escaped character
			}
		}
	}
	return "", ""
}

func escapeAt(b []byte, i int) (rune, bool) { return jsontext.EscapeAt(b, i) }

func isSurrogate(r rune) bool { return jsontext.IsSurrogate(r) }

// TextCheck is the gqlgen extension that refuses a GraphQL document with
// \u escapes of surrogates, on every transport, before it is parsed.
type TextCheck struct{}

var (
	_ graphql.HandlerExtension          = TextCheck{}
	_ graphql.OperationParameterMutator = TextCheck{}
)

func (TextCheck) ExtensionName() string                          { return "PIATextCheck" }
func (TextCheck) Validate(schema graphql.ExecutableSchema) error { return nil }

func (TextCheck) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if msg, reason := queryTextProblem(p.Query); msg != "" {
		return limitError(msg, reason)
	}
	return nil
}
