package graph

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/sheet"
)

// ExportHandler serves a document, or one of its versions, as a file to
// save: GET /documents/{id}/export?format=markdown|html&version={id}, ids
// being the API's global ids, the document's read from the route's
// wildcard named id (internal/server mounts it). It takes the same bearer token as the API and
// answers what exportDocument would, as the file itself:
//   - no token: 401 UNAUTHENTICATED (a token that is not valid too, as on
//     /graphql);
//   - a document or version the caller may not read, or that does not
//     exist: 404 NOT_FOUND, one answer for both so that ids cannot be probed;
//   - a malformed id, format or version: 400 BAD_USER_INPUT;
//   - otherwise 200 with the service's media type and
//     Content-Disposition: attachment.
//
// Errors are JSON, shaped as GraphQL errors with extensions.code.
func ExportHandler(r *Resolver, o Options) http.Handler {
	return signedInHandler(&o, func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		id, format, version, err := exportRequest(req)
		if err == nil {
			var exp *coedit.Export
			exp, err = r.Coedit.ExportDocument(ctx, id, version, format)
			if err == nil {
				writeExport(w, req, exp)
				return
			}
		}
		writeServiceError(w, req, o.Logger, "export", err, "no such document or version", true)
	})
}

// exportRequest reads the document id from the path, and the format
// (markdown when omitted) and version from the query.
func exportRequest(req *http.Request) (id int64, format coedit.Format, version *int64, err error) {
	const op = "graph.export"
	if id, err = parseID(typeDocument, req.PathValue("id")); err != nil {
		return 0, "", nil, err
	}
	q := req.URL.Query()
	switch strings.ToLower(q.Get("format")) {
	case "", "markdown", "md":
		format = coedit.Markdown
	case "html":
		format = coedit.HTML
	default:
		return 0, "", nil, apperr.Invalid(op, "format", "format is markdown or html; got %q", q.Get("format"))
	}
	if v := q.Get("version"); v != "" {
		vid, err := parseID(typeDocumentVersion, v)
		if err != nil {
			return 0, "", nil, err
		}
		version = &vid
	}
	return id, format, version, nil
}

// writeExport sends an export as a download.
func writeExport(w http.ResponseWriter, req *http.Request, exp *coedit.Export) {
	writeDownload(w, req, exp.Filename, exp.MediaType, []byte(exp.Content))
}

// writeDownload sends content as a file named name. Browsers must neither
// show nor cache it: it is as private as what it was made from.
func writeDownload(w http.ResponseWriter, req *http.Request, name, mediaType string, content []byte) {
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Disposition", attachment(name))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		_, _ = w.Write(content)
	}
}

// RegisterHandler serves a meeting's attendance register as a file (the
// service's ExportRegisterAs): GET /meetings/{id}/register.csv as CSV and
// GET /meetings/{id}/register.xlsx as an XLSX workbook, the id being the
// meeting's global id, read from the route's wildcard named id
// (internal/server mounts both). It takes the same bearer token as the API
// and answers:
//   - no token: 401 UNAUTHENTICATED (a token that is not valid too, as on
//     /graphql);
//   - a meeting the caller may not read, or none: 404 NOT_FOUND;
//   - a meeting they read whose register they may not read (someone
//     outside the territory's working group): 403 FORBIDDEN, as the
//     service says, since the meeting is no secret to them;
//   - a malformed id: 400 BAD_USER_INPUT;
//   - otherwise 200, text/csv; charset=utf-8 or the XLSX media type, as the
//     attachment registro-<id>.csv or .xlsx.
//
// Errors are JSON, shaped as GraphQL errors with extensions.code.
func RegisterHandler(r *Resolver, o Options) http.Handler {
	return signedInHandler(&o, func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		format := formatOf(req)
		gid := req.PathValue("id")
		id, err := parseID(typeMeeting, gid)
		if err == nil {
			var file []byte
			if file, err = r.Meetings.ExportRegisterAs(ctx, id, format); err == nil {
				writeDownload(w, req, "registro-"+gid+format.Ext(), format.MediaType(), file)
				return
			}
		}
		writeServiceError(w, req, o.Logger, "register export", err, "no such meeting", false)
	})
}

// formatOf is the format a download's path ends in: XLSX for .xlsx, CSV
// otherwise.
func formatOf(req *http.Request) sheet.Format {
	if strings.HasSuffix(req.URL.Path, ".xlsx") {
		return sheet.XLSX
	}
	return sheet.CSV
}

// attachment is a Content-Disposition for a download named name: a plain
// ASCII filename="..." every client reads, and, for a name that is not
// plain ASCII, filename*= with the name itself (RFC 6266).
func attachment(name string) string {
	plain := strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, name)
	if plain == "" {
		plain = "document"
	}
	v := `attachment; filename="` + plain + `"`
	if plain != name {
		if ext := mime.FormatMediaType("attachment", map[string]string{"filename": name}); ext != "" {
			if _, star, ok := strings.Cut(ext, "; "); ok && strings.HasPrefix(star, "filename*=") {
				v += "; " + star
			}
		}
	}
	return v
}

// signedIn answers 401 to a download request without a session, and
// reports whether there was one.
func signedIn(w http.ResponseWriter, req *http.Request) bool {
	if access.ActorFrom(req.Context()).SignedIn() {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="pia"`)
	writeError(w, req, http.StatusUnauthorized, apperr.Unauthenticated,
		"sign in first: send Authorization: Bearer followed by the token signIn returned")
	return false
}

// writeServiceError answers a download route's failure (an export, a
// register, a calendar) with the status of the error's kind and its public
// message, shaped as a GraphQL error; anything internal is logged as the
// failure of what. notFound is NOT_FOUND's message; with hideForbidden,
// FORBIDDEN is answered as NOT_FOUND too, for objects that are secret to
// those who may not use them.
func writeServiceError(w http.ResponseWriter, req *http.Request, log *slog.Logger, what string, err error, notFound string, hideForbidden bool) {
	kind, msg, _ := apperr.Public(err)
	status := http.StatusInternalServerError
	switch kind {
	case apperr.BadInput:
		status = http.StatusBadRequest
	case apperr.NotFound:
		msg, status = notFound, http.StatusNotFound
	case apperr.Forbidden:
		status = http.StatusForbidden
		if hideForbidden {
			kind, msg, status = apperr.NotFound, notFound, http.StatusNotFound
		}
	case apperr.Unauthenticated:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="pia"`)
	case apperr.Conflict:
		status = http.StatusConflict
	case apperr.RateLimited:
		status = http.StatusTooManyRequests
	default:
		// The route, not the path: a personal calendar's path holds its token.
		log.ErrorContext(req.Context(), what+" failed", "err", err, "route", req.Pattern)
	}
	writeError(w, req, status, kind, msg)
}

// ReportHandler serves the participation report as a file (the service's
// ExportParticipationReport): GET /reports/participation.csv and
// GET /reports/participation.xlsx, with the query parameters territory (a
// code such as EN; the region when omitted), from and to (YYYY-MM-DD, days
// in Europe/Rome, both included; unbounded when omitted). It takes the
// same bearer token as the API and answers:
//   - no token: 401 UNAUTHENTICATED (a token that is not valid too);
//   - a territory whose registers the caller may not read, or the region
//     for anyone but administrators and policy makers: 403 FORBIDDEN (the
//     report's existence is no secret);
//   - an unknown territory code, a malformed date, or to before from:
//     400 BAD_USER_INPUT;
//   - otherwise 200 with the file as the attachment
//     partecipazione-<code or "regione">.csv or .xlsx.
//
// It also serves the regional overview (the tracking service's
// ExportOverview) at GET /reports/overview.csv and .xlsx, as
// panoramica-regionale.csv or .xlsx: 401 without a token, 403 for those
// without a role anywhere.
//
// Errors are JSON, shaped as GraphQL errors with extensions.code.
func ReportHandler(r *Resolver, o Options) http.Handler {
	return signedInHandler(&o, func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		format := formatOf(req)
		if strings.HasPrefix(req.URL.Path, "/reports/overview.") {
			file, err := r.Tracking.ExportOverview(ctx, format)
			if err == nil {
				writeDownload(w, req, "panoramica-regionale"+format.Ext(), format.MediaType(), file)
				return
			}
			writeServiceError(w, req, o.Logger, "regional overview", err, "no such report", false)
			return
		}
		f, name, err := r.reportRequest(req)
		if err == nil {
			var file []byte
			if file, err = r.Meetings.ExportParticipationReport(ctx, f, format); err == nil {
				writeDownload(w, req, "partecipazione-"+name+format.Ext(), format.MediaType(), file)
				return
			}
		}
		writeServiceError(w, req, o.Logger, "participation report", err, "no such territory", false)
	})
}

// reportRequest reads the report's filter from the query, and names the
// file after the territory ("regione" for the region).
func (r *Resolver) reportRequest(req *http.Request) (f meeting.ReportFilter, name string, err error) {
	const op = "graph.participationReport"
	q := req.URL.Query()
	day := func(field string) (*time.Time, error) {
		v := q.Get(field)
		if v == "" {
			return nil, nil
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, apperr.Invalid(op, field, "%s is a day written YYYY-MM-DD, such as 2026-04-30; got %q", field, v)
		}
		return &d, nil
	}
	var territory *string
	name = "regione"
	if code := q.Get("territory"); code != "" {
		territory, name = &code, strings.ToUpper(code)
	}
	from, err := day("from")
	if err != nil {
		return f, "", err
	}
	to, err := day("to")
	if err != nil {
		return f, "", err
	}
	f, err = r.reportFilter(req.Context(), territory, from, to)
	return f, name, err
}

// reportFilter maps the report's arguments: a territory code, and the
// first and last days of the period, both included, as calendar days
// (midnight UTC, as the Date scalar gives them) taken in Europe/Rome.
func (r *Resolver) reportFilter(ctx context.Context, territory *string, from, to *time.Time) (f meeting.ReportFilter, err error) {
	const op = "graph.participationReport"
	if f.TerritoryID, err = r.territoryIDOf(ctx, op, "territory", territory); err != nil {
		return f, err
	}
	if from != nil && to != nil && to.Before(*from) {
		return f, apperr.Invalid(op, "to", "the period ends (%s) before it starts (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	inRome := func(d time.Time) *time.Time {
		t := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, meeting.Rome)
		return &t
	}
	if from != nil {
		f.From = inRome(*from)
	}
	if to != nil {
		f.To = inRome(to.AddDate(0, 0, 1)) // the last day is included
	}
	return f, nil
}

// signedInHandler is a download route: the API's bearer token is read
// (authenticate), a request without a session gets 401, and serve answers
// the others. It gives o a logger when it has none, for serve's errors.
func signedInHandler(o *Options, serve http.HandlerFunc) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if signedIn(w, req) {
			serve(w, req)
		}
	})
	if o.Auth != nil {
		h = authenticate(o.Logger, o.Auth, o.TrustedProxies, h)
	}
	return h
}
