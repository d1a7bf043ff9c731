// Package server is PIA's HTTP server: the routes, the probes, GraphiQL in
// development, and a graceful shutdown that lets requests in flight finish
// and sends every open websocket a close frame.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/pia-sicilia/pia/internal/health"
)

// Options are what the server serves.
type Options struct {
	Logger  *slog.Logger
	GraphQL http.Handler // mounted at /graphql
	// Export serves documents as files at GET /documents/{id}/export (the
	// wildcard named id: graph.ExportHandler); nil leaves the route out.
	Export http.Handler
	// Calendar serves the iCalendar feeds under /calendar/ and one
	// meeting at GET /meetings/{file} (graph.CalendarHandler, which
	// routes within them); nil leaves them out.
	Calendar http.Handler
	// Register serves a meeting's attendance register as CSV at
	// GET /meetings/{id}/register.csv and as XLSX at
	// GET /meetings/{id}/register.xlsx (graph.RegisterHandler); nil leaves
	// the routes out. It sits beside Calendar's /meetings/{file}, which
	// matches one segment only.
	Register http.Handler
	// Reports serves the participation report at
	// GET /reports/participation.csv and .xlsx and the regional overview at
	// GET /reports/overview.csv and .xlsx (graph.ReportHandler); nil
	// leaves the routes out.
	Reports         http.Handler
	Health          *health.Checker
	Dev             bool          // GraphiQL at /
	ShutdownTimeout time.Duration // for requests in flight
}

// Server serves PIA over HTTP.
type Server struct {
	opts Options
	mux  *http.ServeMux

	mu      sync.Mutex
	closing bool
	sockets map[*context.CancelFunc]struct{} // open websockets
	wsDone  sync.WaitGroup
}

// New builds the server and its routes.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: http.NewServeMux(), sockets: map[*context.CancelFunc]struct{}{}}
	s.mux.Handle("/graphql", s.trackWebsockets(opts.GraphQL))
	if opts.Export != nil {
		s.mux.Handle("GET /documents/{id}/export", opts.Export)
	}
	if opts.Calendar != nil {
		s.mux.Handle("GET /calendar/", opts.Calendar)
		s.mux.Handle("GET /meetings/{file}", opts.Calendar)
	}
	if opts.Register != nil {
		s.mux.Handle("GET /meetings/{id}/register.csv", opts.Register)
		s.mux.Handle("GET /meetings/{id}/register.xlsx", opts.Register)
	}
	if opts.Reports != nil {
		s.mux.Handle("GET /reports/participation.csv", opts.Reports)
		s.mux.Handle("GET /reports/participation.xlsx", opts.Reports)
		s.mux.Handle("GET /reports/overview.csv", opts.Reports)
		s.mux.Handle("GET /reports/overview.xlsx", opts.Reports)
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if opts.Dev {
		s.mux.Handle("GET /{$}", playground.Handler("PIA GraphiQL", "/graphql"))
	}
	return s
}

// Handler is the whole HTTP handler, with panic recovery and request logs.
func (s *Server) Handler() http.Handler { return s.logRequests(s.recoverPanics(s.mux)) }

// Serve answers on ln until ctx ends, then shuts down gracefully: it stops
// accepting, closes websockets with a close frame, and waits up to
// ShutdownTimeout for requests in flight.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.opts.Logger.Info("shutting down", "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()

	s.closeWebsockets()
	err := hs.Shutdown(sctx)
	wsClosed := make(chan struct{})
	go func() { s.wsDone.Wait(); close(wsClosed) }()
	select {
	case <-wsClosed:
	case <-sctx.Done():
		s.opts.Logger.Warn("websockets still open after the shutdown timeout")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		s.opts.Logger.Warn("requests still in flight after the shutdown timeout")
		_ = hs.Close()
	}
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return nil
}

// trackWebsockets gives each websocket a context that shutdown cancels:
// http.Server.Shutdown does not know hijacked connections, and gqlgen sends
// the close frame when the request context ends.
func (s *Server) trackWebsockets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		s.sockets[&cancel] = struct{}{}
		s.wsDone.Add(1)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.sockets, &cancel)
			s.mu.Unlock()
			s.wsDone.Done()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) closeWebsockets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for cancel := range s.sockets {
		(*cancel)()
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.opts.Health.Check(r.Context()).Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.opts.Logger.Error("panic in handler", "panic", p, "path", r.URL.Path)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController (and websocket hijacking) reach the
// connection beneath.
func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			// Hijacking needs the original writer; log the websocket's span.
			start := time.Now()
			next.ServeHTTP(w, r)
			s.opts.Logger.Debug("websocket closed", "path", r.URL.Path, "duration", time.Since(start).String())
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.opts.Logger.Debug("request", "method", r.Method, "path", logPath(r.URL.Path), "status", rec.status, "duration", time.Since(start).String())
	})
}

// logPath is path as the request log shows it: a personal calendar's
// token is a credential, so it is left out.
func logPath(path string) string {
	if strings.HasPrefix(path, personalCalendar) {
		return personalCalendar + "…"
	}
	return path
}

const personalCalendar = "/calendar/personal/"
