package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// calendarMaxAge is how long a shared cache may keep a public feed: a
// change reaches subscribers within minutes, and a crowd of clients
// polling one territory costs one read of it per period.
const calendarMaxAge = 5 * time.Minute

// CalendarHandler serves the calendars (RFC 5545) of package meeting, for
// calendar clients that subscribe to an address and cannot sign in:
//
//	GET /calendar/{territoryCode}.ics          a territory's public meetings (EN.ics)
//	GET /calendar/focus-groups/{id}.ics        a focus group's public meetings (its global id)
//	GET /calendar/personal/{token}.ics         a person's meetings, the token from createCalendarFeed
//	GET /meetings/{id}.ics                     one meeting (its global id), with the API's bearer token
//
// internal/server mounts it at /calendar/ and /meetings/{file}. Answers:
//   - 200 with text/calendar; an ETag, so a client polling an unchanged
//     feed gets 304;
//   - a malformed territory code or id: 400 BAD_USER_INPUT;
//   - an unknown territory, focus group or meeting, one the caller may not
//     read, an unknown or revoked personal token, and any path that does
//     not end in .ics: 404 NOT_FOUND;
//   - /meetings/{id}.ics without a token, or with one that is not valid:
//     401 UNAUTHENTICATED, as /graphql.
//
// Errors are JSON, shaped as GraphQL errors with extensions.code.
func CalendarHandler(r *Resolver, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := calendarHandler{log: o.Logger}
	mux := http.NewServeMux()
	mux.Handle("GET /calendar/{file}", h.serve(true, func(ctx context.Context, stem string) ([]byte, error) {
		return r.Meetings.TerritoryFeed(ctx, stem)
	}))
	mux.Handle("GET /calendar/focus-groups/{file}", h.serve(true, func(ctx context.Context, stem string) ([]byte, error) {
		id, err := parseID(typeFocusGroup, stem)
		if err != nil {
			return nil, err
		}
		return r.Meetings.FocusGroupFeed(ctx, id)
	}))
	mux.Handle("GET /calendar/personal/{file}", h.serve(false, func(ctx context.Context, stem string) ([]byte, error) {
		return r.Meetings.PersonalFeed(ctx, stem)
	}))
	var meeting http.Handler = h.serve(false, func(ctx context.Context, stem string) ([]byte, error) {
		id, err := parseID(typeMeeting, stem)
		if err != nil {
			return nil, err
		}
		return r.Meetings.MeetingICS(ctx, id)
	})
	// Only this route reads the bearer token: a feed is the same for
	// everyone, and a client that sends a stale token to a public feed
	// should still get it.
	if o.Auth != nil {
		meeting = authenticate(o.Logger, o.Auth, o.TrustedProxies, meeting)
	}
	mux.Handle("GET /meetings/{file}", meeting)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeError(w, req, http.StatusNotFound, apperr.NotFound, "no such calendar")
	})
	return mux
}

type calendarHandler struct {
	log *slog.Logger
}

// serve answers with what load makes of the route's file name without its
// .ics. A public calendar may be kept by shared caches; a personal one,
// or a meeting read with a session, only by the client.
func (h calendarHandler) serve(public bool, load func(ctx context.Context, stem string) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		stem, ok := strings.CutSuffix(req.PathValue("file"), ".ics")
		if !ok || stem == "" {
			writeError(w, req, http.StatusNotFound, apperr.NotFound, "no such calendar: calendars end in .ics")
			return
		}
		ics, err := load(ctx, stem)
		if err != nil {
			h.writeError(w, req, err)
			return
		}
		hdr := w.Header()
		hdr.Set("Content-Type", "text/calendar; charset=utf-8")
		hdr.Set("X-Content-Type-Options", "nosniff")
		if public {
			hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(calendarMaxAge.Seconds())))
		} else {
			// A private calendar may be kept by the client, never by a
			// shared cache; no-cache makes it ask (and get a 304).
			hdr.Set("Cache-Control", "private, no-cache")
		}
		if strings.HasPrefix(req.URL.Path, "/meetings/") {
			hdr.Set("Content-Disposition", attachment(req.PathValue("file")))
		}
		sum := sha256.Sum256(ics)
		hdr.Set("ETag", `"`+base64.RawURLEncoding.EncodeToString(sum[:18])+`"`)
		// ServeContent answers HEAD, If-None-Match and ranges.
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(ics))
	})
}

// writeError answers a calendar's failure: one the caller may not read is
// as missing as one that does not exist.
func (h calendarHandler) writeError(w http.ResponseWriter, req *http.Request, err error) {
	writeServiceError(w, req, h.log, "calendar", err, "no such calendar", true)
}
