// Package jsontext finds, in a JSON text, what Go's encoding/json would
// silently change: bytes that are not UTF-8, and \u escapes of lone
// surrogates (\ud800 without its pair), which it decodes to U+FFFD without
// an error. The GraphQL transports (HTTP in graph, the websocket in
// internal/wsgorilla) refuse such requests rather than store characters
// nobody typed.
package jsontext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The messages of Problem.
const (
	// MsgNotUTF8 is Problem's message for bytes that are not UTF-8.
	MsgNotUTF8 = "the request is not valid UTF-8: send text as UTF-8"
	// msgLoneSurrogate is Problem's message for a lone surrogate escape.
	msgLoneSurrogate = `the request has a \u escape of a lone surrogate (\u%04x), which is no character: send text as UTF-8`
	// LoneSurrogateHead starts Problem's message for a lone surrogate escape.
	LoneSurrogateHead = `the request has a \u escape of a lone surrogate`
)

// IsProblem tells Problem's messages from other text.
func IsProblem(msg string) bool {
	return msg == MsgNotUTF8 || strings.HasPrefix(msg, LoneSurrogateHead)
}

// Problem reports what in raw, a JSON text, encoding/json would silently
// replace, or "" when nothing. It does not check that raw is valid JSON.
func Problem(raw []byte) string {
	if !utf8.Valid(raw) {
		return MsgNotUTF8
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if i+1 < len(raw) && raw[i+1] == 'u' {
				r, ok := hex4(raw, i+2)
				if ok && IsSurrogate(r) {
					if low, okLow := EscapeAt(raw, i+6); r < 0xdc00 && okLow && low >= 0xdc00 && IsSurrogate(low) {
						i += 11 // a pair: one character
						continue
					}
					return fmt.Sprintf(msgLoneSurrogate, r)
				}
			}
			i++ // the escaped byte
		}
	}
	return ""
}

// EscapeAt reads a \uXXXX escape at b[i:].
func EscapeAt(b []byte, i int) (rune, bool) {
	if i+1 >= len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	return hex4(b, i+2)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	return rune(v), err == nil
}

// IsSurrogate reports whether r is a UTF-16 surrogate code unit.
func IsSurrogate(r rune) bool { return r >= 0xd800 && r <= 0xdfff }
