package ot

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse decodes and validates a JSON operation and returns it normalized.
//
// It refuses, with an error wrapping ErrInvalid, anything but an array of
// non-zero integers and non-empty strings: other JSON types, fractions and
// exponents (1.5, 1e3), integers beyond ±2147483647, zero, "". A string
// that is not valid UTF-8, raw or through a lone \uD800-style surrogate
// escape, is refused with an error wrapping ErrInvalidUTF (and ErrInvalid).
// The empty array is the no-op on the empty text.
func Parse(data []byte) (Op, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errInvalid("empty input: an operation is a JSON array such as [5, \"abc\", -2, 10]")
	}
	if trimmed[0] != '[' {
		return nil, errInvalid("an operation is a JSON array such as [5, \"abc\", -2, 10], not %s", jsonKind(trimmed))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(trimmed, &raws); err != nil {
		return nil, errInvalid("not valid JSON: %v", err)
	}
	b := newBuilder(len(raws))
	for i, raw := range raws {
		c, err := parseComponent(i, raw)
		if err != nil {
			return nil, err
		}
		b.add(c)
	}
	return b.done(), nil
}

// parseComponent decodes one element of the array.
func parseComponent(i int, raw []byte) (Component, error) {
	switch c := raw[0]; {
	case c == '"':
		s, err := unquote(i, raw)
		if err != nil {
			return Component{}, err
		}
		if s == "" {
			return Component{}, errInvalid("component %d is an empty string: an insert must insert something", i)
		}
		return Component{Insert: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		digits := raw
		if digits[0] == '-' {
			digits = digits[1:]
		}
		for _, d := range digits {
			if d < '0' || d > '9' {
				return Component{}, errInvalid("component %d is %s, not an integer: retains and deletes count whole code points", i, clip(raw))
			}
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n > math.MaxInt32 || n < -math.MaxInt32 {
			return Component{}, errInvalid("component %d is %s, beyond the largest count %d", i, clip(raw), math.MaxInt32)
		}
		switch {
		case n > 0:
			return Component{Retain: int(n)}, nil
		case n < 0:
			return Component{Delete: int(-n)}, nil
		}
		return Component{}, errInvalid("component %d is zero: retain with a positive integer, delete with a negative one", i)
	}
	return Component{}, errInvalid("component %d is %s: use a positive integer (retain), a string (insert) or a negative integer (delete)", i, jsonKind(raw))
}

// jsonKind names the JSON type of a value for error messages.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "something that is not JSON"
}

// clip shortens raw for an error message.
func clip(raw []byte) string {
	const max = 24
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}

// unquote decodes a JSON string token that encoding/json has already found
// well formed. Unlike encoding/json, it refuses invalid UTF-8 and lone
// surrogate escapes instead of turning them into U+FFFD.
func unquote(i int, raw []byte) (string, error) {
	if !utf8.Valid(raw) {
		return "", errUTF("component %d is a string that is not valid UTF-8", i)
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), nil
	}
	out := make([]byte, 0, len(body))
	for j := 0; j < len(body); {
		c := body[j]
		if c != '\\' {
			out = append(out, c)
			j++
			continue
		}
		// encoding/json validated the escapes' syntax.
		e := body[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(body[j:])
			j += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if r < 0xDC00 && j+6 <= len(body) && body[j] == '\\' && body[j+1] == 'u' {
					r2 = hex4(body[j+2:])
				}
				dec := utf16.DecodeRune(r, r2)
				if dec == utf8.RuneError {
					return "", errUTF("component %d contains a lone UTF-16 surrogate escape \\u%04x, which is not a character", i, r)
				}
				j += 6
				r = dec
			}
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out), nil
}

// hex4 decodes four hex digits (already validated by encoding/json).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// MarshalJSON writes op as a JSON array, in normal form: [5, "abc", -2, 10].
// It refuses an invalid op (see Validate). A nil op is [].
func (op Op) MarshalJSON() ([]byte, error) {
	if err := op.Validate(); err != nil {
		return nil, err
	}
	op = Normalize(op)
	size := 2
	for _, c := range op {
		size += len(c.Insert) + 12
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	for i, c := range op {
		if i > 0 {
			out = append(out, ',')
		}
		switch {
		case c.Retain > 0:
			out = strconv.AppendInt(out, int64(c.Retain), 10)
		case c.Delete > 0:
			out = strconv.AppendInt(out, -int64(c.Delete), 10)
		default:
			out = appendQuoted(out, c.Insert)
		}
	}
	return append(out, ']'), nil
}

// appendQuoted appends s as a JSON string, escaping only what JSON requires
// (and U+2028/U+2029, which JavaScript once refused in string literals).
func appendQuoted(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for j := 0; j < len(s); {
		c := s[j]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				j++
				continue
			}
			out = append(out, s[start:j]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			j++
			start = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == '\u2028' || r == '\u2029' {
			out = append(out, s[start:j]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xF])
			j += size
			start = j
			continue
		}
		j += size
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// UnmarshalJSON reads a JSON array (see Parse).
func (op *Op) UnmarshalJSON(data []byte) error {
	o, err := Parse(data)
	if err != nil {
		return err
	}
	*op = o
	return nil
}
