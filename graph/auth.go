package graph

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/wsgorilla"
)

// Authenticator turns a session token into who is asking, and tells a
// long-lived connection when its session ends. *account.Service is one.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*access.Actor, *account.Session, error)
	WatchSession(ctx context.Context, sess *account.Session, end func(reason string))
}

// clientOf is where r comes from: the peer's address, or, when the peer is
// a trusted proxy, the last address it put in X-Forwarded-For.
func clientOf(r *http.Request, trusted []netip.Prefix) access.Client {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr := host
	if peer, err := netip.ParseAddr(host); err == nil && len(trusted) > 0 {
		for _, p := range trusted {
			if p.Contains(peer.Unmap()) {
				// Every X-Forwarded-For line, in order: a proxy may add its
				// own line after the one a client made up.
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				if last := strings.TrimSpace(hops[len(hops)-1]); last != "" {
					if a, err := netip.ParseAddr(last); err == nil {
						addr = a.String()
					}
				}
				break
			}
		}
	}
	return access.Client{Addr: addr, UserAgent: r.UserAgent()}
}

// bearer extracts the token of an Authorization header. present is false
// when there is no header; a header of another scheme is an error.
func bearer(h string) (token string, present bool, err error) {
	if h == "" {
		return "", false, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", true, apperr.E(apperr.Unauthenticated, "graph.bearer", "the Authorization header must be Bearer followed by the token signIn returned")
	}
	return strings.TrimSpace(tok), true, nil
}

// authenticate puts the client and, with a valid Authorization header, the
// actor into the request's context. A header that is malformed or carries
// a token that is not valid refuses the whole request with 401 and
// UNAUTHENTICATED (RFC 6750's invalid_token): a client with a stale token
// learns to sign in again rather than getting anonymous answers.
func authenticate(logger *slog.Logger, auth Authenticator, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := access.WithClient(r.Context(), clientOf(r, trusted))
		if r.Header.Get("Upgrade") == "" {
			// Not on websockets: a connection stays who connection_init said.
			ctx = access.WithSignInCell(ctx)
		}
		token, present, err := bearer(r.Header.Get("Authorization"))
		if err == nil && present {
			var actor *access.Actor
			var sess *account.Session
			actor, sess, err = auth.Authenticate(ctx, token)
			if err == nil {
				ctx = access.WithActor(ctx, actor)
				ctx = withSession(ctx, sess)
			}
		}
		if err != nil {
			if apperr.KindOf(err) == apperr.Internal { // the database is away, say
				logger.ErrorContext(ctx, "authentication failed", "err", err)
				writeError(w, r, http.StatusInternalServerError, apperr.Internal, apperr.InternalMessage)
				return
			}
			_, msg, _ := apperr.Public(err)
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, r, http.StatusUnauthorized, apperr.Unauthenticated, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type sessionKey struct{}

func withSession(ctx context.Context, s *account.Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

func sessionFrom(ctx context.Context) *account.Session {
	s, _ := ctx.Value(sessionKey{}).(*account.Session)
	return s
}

// wsInit authenticates a websocket from the authToken of its
// connection_init payload (or the Authorization header of the upgrade). A
// token that is not valid closes the socket with 4403, as
// graphql-transport-ws says; without one the connection is anonymous. Once
// signed in, the connection closes with 4403 when the session is revoked or
// expires, which ends its subscriptions.
func wsInit(auth Authenticator) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		sess := sessionFrom(ctx)
		token, present := initToken(payload)
		if present {
			actor, s, err := auth.Authenticate(ctx, token)
			if err != nil {
				_, msg, _ := apperr.Public(err)
				ctx = transport.WithWebsocketCloseCode(ctx, wsgorilla.CloseForbidden)
				ctx = transport.AppendCloseReason(ctx, "Forbidden: "+msg)
				return ctx, nil, errors.New(msg)
			}
			ctx, sess = withSession(access.WithActor(ctx, actor), s), s
		}
		if sess == nil {
			return ctx, nil, nil
		}
		ctx, cancel := context.WithCancel(ctx)
		auth.WatchSession(ctx, sess, func(reason string) {
			wsgorilla.CloseWith(ctx, wsgorilla.CloseForbidden, "Forbidden: "+reason)
			cancel()
		})
		return ctx, nil, nil
	}
}

// initToken finds the session token in a connection_init payload: authToken,
// PIA's documented key, or an Authorization entry holding "Bearer <token>",
// which is what GraphiQL sends from its headers editor.
func initToken(payload transport.InitPayload) (token string, present bool) {
	if raw, ok := payload["authToken"]; ok {
		token, _ = raw.(string)
		return token, true
	}
	for _, key := range []string{"Authorization", "authorization"} {
		if raw, ok := payload[key]; ok {
			h, _ := raw.(string)
			token, _, err := bearer(h)
			if err != nil {
				return "", true
			}
			return token, true
		}
	}
	return "", false
}
