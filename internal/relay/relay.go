// Package relay implements the Relay conventions of PIA's API: opaque global
// object ids. They are base64url of "Type:number", so that a client treats
// them as opaque while the server knows the type of any id it gets back.
package relay

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// ID encodes the global id of the object of type typ with database id id.
func ID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

// Parse decodes a global id into its type and database id. A malformed id is
// BAD_USER_INPUT.
func Parse(gid string) (typ string, id int64, err error) {
	raw, decErr := base64.RawURLEncoding.DecodeString(gid)
	if decErr == nil {
		var num string
		var ok bool
		typ, num, ok = strings.Cut(string(raw), ":")
		if ok && typ != "" {
			id, decErr = strconv.ParseInt(num, 10, 64)
			if decErr == nil && id > 0 {
				return typ, id, nil
			}
		}
	}
	return "", 0, apperr.Invalid("relay.Parse", "id", "%q is not a PIA id; use an id the API returned", gid)
}

// ParseAs decodes a global id that must be of type want. An id of another
// type is BAD_USER_INPUT too, so a client cannot mistake one object for another.
func ParseAs(want, gid string) (int64, error) {
	typ, id, err := Parse(gid)
	if err != nil {
		return 0, err
	}
	if typ != want {
		return 0, apperr.Invalid("relay.ParseAs", "id", "this id belongs to a %s, not a %s", typ, want)
	}
	return id, nil
}

// Node is what Query.node returns: any object with a global id. The GraphQL
// executor tells the concrete types apart, so the interface asks for nothing.
type Node interface{}

// Cursor encodes a position in a list ordered by database id as an opaque
// cursor.
func Cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("cursor:" + strconv.FormatInt(id, 10)))
}

// ParseCursor decodes a cursor made by Cursor. A malformed one is
// BAD_USER_INPUT naming field.
func ParseCursor(field, c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if num, ok := strings.CutPrefix(string(raw), "cursor:"); ok {
			if id, err := strconv.ParseInt(num, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, apperr.Invalid("relay.ParseCursor", field, "%q is not a cursor; use a cursor the API returned", c)
}
