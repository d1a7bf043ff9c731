package jsontext_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/jsontext"
)

// TestProblem: what encoding/json would turn into U+FFFD is found, and
// nothing else is.
func TestProblem(t *testing.T) {
	for _, c := range []struct {
		raw     string
		problem bool
	}{
		{`{"a": "ciao"}`, false},
		{`{"a": "\ud83d\ude00"}`, false}, // a pair: one character
		{`{"a": "\\ud800"}`, false},      // an escaped backslash, then text
		{`{"\u00e8": "\u0041"}`, false},
		{`["😀", "è"]`, false},
		{`{"a": "\ud800"}`, true},
		{`{"a": "\udc00"}`, true},
		{`{"a": "\ud800\u0041"}`, true},
		{`{"a": "\udc00\ud800"}`, true},
		{`{"a": "x\ud83d"}`, true},
		{"{\"a\": \"\xff\"}", true},
		{"{\"a\": \"\xed\xa0\x80\"}", true}, // a surrogate encoded in UTF-8
	} {
		msg := jsontext.Problem([]byte(c.raw))
		if (msg != "") != c.problem {
			t.Errorf("%q: got %q", c.raw, msg)
			continue
		}
		if msg != "" && !jsontext.IsProblem(msg) {
			t.Errorf("%q: IsProblem(%q) is false", c.raw, msg)
		}
		// Where Problem finds nothing, encoding/json changes nothing.
		var v any
		if msg == "" && json.Unmarshal([]byte(c.raw), &v) == nil {
			if b, _ := json.Marshal(v); strings.ContainsRune(string(b), '\uFFFD') {
				t.Errorf("%q decodes with U+FFFD", c.raw)
			}
		}
	}
	if jsontext.IsProblem("something else") {
		t.Error("IsProblem of another message")
	}
}
