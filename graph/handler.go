package graph

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/pia-sicilia/pia/internal/wsgorilla"
)

// Options are the protections and settings of the GraphQL endpoint.
type Options struct {
	Logger *slog.Logger
	// Introspection and field suggestions are on only in development.
	Dev bool

	MaxBodyBytes    int64 // HTTP bodies and websocket messages
	MaxDepth        int
	MaxComplexity   int
	MaxTokens       int // parser token limit
	MaxRepeats      int // how often one response name may appear in a selection set
	MaxFieldPairs   int // how many field comparisons validating a document may need
	DefaultPageSize int // what a connection without first/last is priced at

	AllowedOrigins []string      // for websockets, beside the server's own host
	WSInitTimeout  time.Duration // how long a websocket may wait before connection_init
	WSPingInterval time.Duration // graphql-transport-ws ping, and graphql-ws keep-alive
	// Auth authenticates requests and websockets; nil serves everyone
	// anonymously.
	Auth Authenticator
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
}

// NewHandler returns the /graphql handler: POST and GET per the
// GraphQL-over-HTTP specification, and subscriptions on the same path over
// websocket (graphql-transport-ws and the legacy graphql-ws).
func NewHandler(r *Resolver, o Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))

	var initFunc transport.WebsocketInitFunc
	if o.Auth != nil {
		initFunc = wsInit(o.Auth)
	}
	readLimit := o.MaxBodyBytes
	ws := wsgorilla.Implementation{AllowedOrigins: o.AllowedOrigins, LegacyPingInterval: o.WSPingInterval}
	srv.AddTransport(transport.Websocket{
		Implementation:        ws,
		InitFunc:              initFunc,
		InitTimeout:           o.WSInitTimeout,
		KeepAlivePingInterval: o.WSPingInterval,
		PingPongInterval:      o.WSPingInterval,
		PayloadReadLimit:      &readLimit,
	})
	// Before HTTPTransport, which takes every other request (and refuses
	// anything but JSON with 415).
	srv.AddTransport(newUploadTransport())
	srv.AddTransport(HTTPTransport{MaxBodyBytes: o.MaxBodyBytes})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(o.MaxTokens)
	srv.SetDisableSuggestion(!o.Dev)
	if o.Dev {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	srv.Use(TextCheck{})
	if o.MaxRepeats > 0 {
		srv.Use(RepeatLimit{Max: o.MaxRepeats, MaxPairs: o.MaxFieldPairs, MaxTokens: o.MaxTokens,
			Accepted: lru.New[struct{}](1000)})
	}
	srv.Use(Limits{MaxDepth: o.MaxDepth, MaxComplexity: o.MaxComplexity, DefaultPageSize: o.DefaultPageSize})
	srv.Use(Dataloaders{Resolver: r})
	srv.Use(StreamErrors{})
	srv.SetErrorPresenter(ErrorPresenter(o.Logger))
	srv.SetRecoverFunc(RecoverFunc(o.Logger))
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Refused here rather than in the upgrade, where gorilla writes its
		// 403 and gqlgen then writes a 400 over it.
		if r.Header.Get("Upgrade") != "" && !ws.CheckOrigin(r) {
			o.Logger.WarnContext(r.Context(), "websocket refused: origin not allowed", "origin", r.Header.Get("Origin"), "host", r.Host)
			writeRequestError(w, mediaJSON, http.StatusForbidden,
				"websockets from the origin "+r.Header.Get("Origin")+" are not allowed here (see PIA_ALLOWED_ORIGINS)")
			return
		}
		if r.Header.Get("Upgrade") != "" {
			r = r.WithContext(withWebsocket(wsgorilla.WithCloseSlot(r.Context())))
		}
		srv.ServeHTTP(w, r)
	})
	if o.Auth != nil {
		h = authenticate(o.Logger, o.Auth, o.TrustedProxies, h)
	}
	return h
}
