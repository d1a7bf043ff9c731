package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/health"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/server"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
	"github.com/pia-sicilia/pia/internal/throttle"
)

const (
	authSignInMutation = `mutation($email: String!, $password: String!) {
		signIn(input: {email: $email, password: $password}) { token session { id } } }`
	authStatus = `subscription { serverStatus(intervalSeconds: 60) { ready } }`
	// authForbidden is the close code of a websocket whose token is not valid.
	authForbidden = 4403
)

// authResolver is newResolver with account options of the test's own:
// territory roles still come from the network's working groups, unless o
// names another source.
func authResolver(t testing.TB, db *bun.DB, o account.Options) *graph.Resolver {
	t.Helper()
	roles := &lateRoles{}
	if o.Roles == nil {
		o.Roles = roles
	}
	accounts, err := account.NewService(db, o)
	if err != nil {
		t.Fatal(err)
	}
	net := network.NewService(db, network.Options{Accounts: accounts, Now: o.Now, GroupCreated: meeting.CreateFocusGroups})
	roles.RoleSource = net
	return &graph.Resolver{Reference: reference.NewService(db), Health: health.NewChecker(db, "test", time.Now),
		Accounts: accounts, Network: net, Meetings: meeting.NewService(db, meeting.Options{Now: o.Now, PublicURL: "http://pia.test"}),
		PublicURL: "http://pia.test"}
}

// authService is an account.Service beside the server's, on db.
func authService(t testing.TB, db *bun.DB, o account.Options) *account.Service {
	t.Helper()
	return authResolver(t, db, o).Accounts
}

// authLocal is the context of a request from this machine.
func authLocal() context.Context {
	return access.WithClient(context.Background(), access.Client{Addr: "127.0.0.1"})
}

// authServiceSignIn signs the administrator in through svc directly.
func authServiceSignIn(t testing.TB, svc *account.Service) *account.SignedIn {
	t.Helper()
	in, err := svc.SignIn(authLocal(), adminEmail, adminPassword)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return in
}

func authBearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// authPost POSTs a GraphQL request to srv with the extra headers h.
func authPost(t testing.TB, srv *testServer, h http.Header, query string, vars map[string]any) httpResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", mediaGraphQLResponse)
	for k, v := range h {
		req.Header[k] = v
	}
	return do(t, req)
}

// authQuery runs query as the holder of token ("" for nobody), fails on any
// error, and decodes the data into out unless it is nil.
func authQuery(t testing.TB, srv *testServer, token, query string, vars map[string]any, out any) httpResult {
	t.Helper()
	var h http.Header
	if token != "" {
		h = authBearer(token)
	}
	r := authPost(t, srv, h, query, vars)
	if r.Status != http.StatusOK || len(r.Resp.Errors) > 0 {
		t.Fatalf("%s: status %d, body %s", query, r.Status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Resp.Data, out); err != nil {
			t.Fatalf("data %s: %v", r.Resp.Data, err)
		}
	}
	return r
}

// authSignIn signs in through GraphQL and returns the token and the
// session's id.
func authSignIn(t testing.TB, srv *testServer, email, password string) (token, sessionID string) {
	t.Helper()
	var data struct {
		SignIn struct {
			Token   string
			Session struct{ ID string }
		}
	}
	authQuery(t, srv, "", authSignInMutation, map[string]any{"email": email, "password": password}, &data)
	return data.SignIn.Token, data.SignIn.Session.ID
}

// authRefused checks the answer to a request whose credentials are not
// valid: 401, RFC 6750's invalid_token, one UNAUTHENTICATED and no data.
func authRefused(t testing.TB, what string, r httpResult) {
	t.Helper()
	var top map[string]json.RawMessage
	_ = json.Unmarshal(r.Body, &top)
	_, hasData := top["data"]
	if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` ||
		hasData || len(r.Resp.Errors) != 1 || r.Resp.Errors[0].code() != "UNAUTHENTICATED" {
		t.Errorf("%s: status %d, WWW-Authenticate %q, body %s; want 401, invalid_token, UNAUTHENTICATED and no data",
			what, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
	}
}

func TestAuthHTTP(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		srv := newServer(t, db, defaultOptions())
		admin := srv.adminToken(t)

		var anon struct {
			Me          *struct{ ID string }
			Territories []struct{ Code string }
		}
		authQuery(t, srv, "", `{ me { id } territories { code } }`, nil, &anon)
		if anon.Me != nil || len(anon.Territories) != 9 {
			t.Errorf("anonymous: me %v, %d territories", anon.Me, len(anon.Territories))
		}
		for _, h := range []http.Header{authBearer(admin), {"Authorization": {"bearer  " + admin}}} {
			r := authPost(t, srv, h, `{ me { email displayName } }`, nil)
			if r.Status != http.StatusOK || string(r.Resp.Data) != `{"me":{"email":"`+adminEmail+`","displayName":"Administrator"}}` {
				t.Errorf("Authorization %.8q…: status %d, body %s", h.Get("Authorization"), r.Status, r.Body)
			}
		}

		signedOut, _ := authSignIn(t, srv, adminEmail, adminPassword)
		authQuery(t, srv, signedOut, `mutation { signOut { session { id } } }`, nil, nil)
		revoked, revokedID := authSignIn(t, srv, adminEmail, adminPassword)
		authQuery(t, srv, admin, `mutation($id: ID!) { revokeSession(id: $id) { session { id } } }`, map[string]any{"id": revokedID}, nil)
		// A service whose clock is eight days behind opens sessions that the
		// real clock finds expired (the TTL is seven days).
		past := authService(t, db, account.Options{Now: func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }})
		expired := authServiceSignIn(t, past).Token

		// Each refused request carries a mutation that would change something
		// if it ran anonymously or as the token's owner.
		const state = `{ me { displayName sessions { id } } auditEvents(first: 1) { totalCount } }`
		before := authQuery(t, srv, admin, state, nil, nil).Resp.Data
		for what, h := range map[string]string{
			"garbage":              "Bearer garbage",
			"unknown token":        "Bearer " + strings.Repeat("A", 43),
			"another scheme":       "Basic x",
			"Bearer alone":         "Bearer",
			"Bearer and a space":   "Bearer ",
			"signed out":           "Bearer " + signedOut,
			"revoked by another":   "Bearer " + revoked,
			"expired":              "Bearer " + expired,
			"token without Bearer": admin,
		} {
			r := authPost(t, srv, http.Header{"Authorization": {h}}, `mutation($email: String!, $password: String!) {
				updateMe(input: {displayName: "Changed"}) { id }
				signIn(input: {email: $email, password: $password}) { token } }`,
				map[string]any{"email": adminEmail, "password": adminPassword})
			authRefused(t, what, r)
		}
		if after := authQuery(t, srv, admin, state, nil, nil).Resp.Data; string(after) != string(before) {
			t.Errorf("refused requests changed something: before %s, after %s", before, after)
		}
	})
}

// authSubscribed opens a websocket to s as token, with serverStatus running.
func authSubscribed(t *testing.T, s *testServer, proto, token string) *wsClient {
	t.Helper()
	c := dialWS(t, s, proto, nil)
	c.token = token
	c.init()
	c.subscribe("1", authStatus)
	if r := c.result("1"); string(r.Data) != `{"serverStatus":{"ready":true}}` {
		t.Fatalf("serverStatus: %s", c.raw)
	}
	return c
}

// authClosed waits for the server to close c with 4403 within d and says
// how long that took.
func authClosed(t *testing.T, c *wsClient, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if code := c.closed(d + time.Second); code != authForbidden {
		t.Errorf("closed with %d, want %d", code, authForbidden)
	}
	took := time.Since(start)
	if took > d {
		t.Errorf("closed after %v, want within %v", took, d)
	}
	return took
}

func TestAuthWebsocket(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		// srv rechecks sessions only every minute: what closes its sockets
		// promptly is the service's own notice. polled, another instance on
		// the same database, must notice a revocation by looking.
		const recheck = 50 * time.Millisecond
		srv := serveResolver(t, authResolver(t, db, account.Options{RecheckInterval: time.Minute}), defaultOptions())
		polled := serveResolver(t, authResolver(t, db, account.Options{RecheckInterval: recheck}), defaultOptions())
		admin := srv.adminToken(t)
		short := authService(t, db, account.Options{SessionTTL: 1500 * time.Millisecond})
		past := authService(t, db, account.Options{Now: func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }})
		// A second instance, with a connection pool of its own.
		remote := authService(t, storagetest.Reopen(t, db), account.Options{})

		signedOut, _ := authSignIn(t, srv, adminEmail, adminPassword)
		authQuery(t, srv, signedOut, `mutation { signOut { session { id } } }`, nil, nil)
		revoked, revokedID := authSignIn(t, srv, adminEmail, adminPassword)
		authQuery(t, srv, admin, `mutation($id: ID!) { revokeSession(id: $id) { session { id } } }`, map[string]any{"id": revokedID}, nil)
		expired := authServiceSignIn(t, past).Token

		// A bad Authorization header on the upgrade is refused like any request.
		if conn, res, err := dialer(transportWS).Dial(srv.WS, authBearer("garbage")); err == nil {
			_ = conn.Close()
			t.Error("an upgrade with a bad token was accepted")
		} else if res == nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("upgrade with a bad token: %v, %v; want HTTP 401", err, res)
		}

		for _, proto := range protocols {
			t.Run(proto, func(t *testing.T) {
				t.Parallel()
				for what, payload := range map[string]string{
					"garbage":         `{"authToken":"garbage"}`,
					"empty":           `{"authToken":""}`,
					"not a string":    `{"authToken":42}`,
					"signed out":      `{"authToken":"` + signedOut + `"}`,
					"revoked":         `{"authToken":"` + revoked + `"}`,
					"expired":         `{"authToken":"` + expired + `"}`,
					"unknown, padded": `{"authToken":"` + strings.Repeat("A", 43) + `"}`,
					"Authorization":   `{"Authorization":"Bearer ` + revoked + `"}`,
					"Basic":           `{"Authorization":"Basic x"}`,
				} {
					c := dialWS(t, srv, proto, nil)
					c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(payload)})
					if code := c.closed(2 * time.Second); code != authForbidden {
						t.Errorf("%s authToken: closed with %d, want %d", what, code, authForbidden)
					}
				}

				c := dialWS(t, srv, proto, nil)
				c.token = ""
				c.init()
				c.subscribe("1", authStatus)
				if errs := messageErrors(t, c.read()); len(errs) != 1 || errs[0].code() != "UNAUTHENTICATED" {
					t.Errorf("anonymous serverStatus: %s", c.raw)
				}

				authSubscribed(t, srv, proto, admin)

				t.Run("revokeSession from another session", func(t *testing.T) {
					t.Parallel()
					token, id := authSignIn(t, srv, adminEmail, adminPassword)
					c := authSubscribed(t, srv, proto, token)
					authQuery(t, srv, admin, `mutation($id: ID!) { revokeSession(id: $id) { session { id } } }`, map[string]any{"id": id}, nil)
					authClosed(t, c, time.Second)
				})
				t.Run("signOut with the same token", func(t *testing.T) {
					t.Parallel()
					token, _ := authSignIn(t, srv, adminEmail, adminPassword)
					c := authSubscribed(t, srv, proto, token)
					authQuery(t, srv, token, `mutation { signOut { session { id } } }`, nil, nil)
					authClosed(t, c, time.Second)
				})
				t.Run("expiry", func(t *testing.T) {
					t.Parallel()
					in := authServiceSignIn(t, short)
					c := authSubscribed(t, srv, proto, in.Token)
					authClosed(t, c, time.Until(in.Session.ExpiresAt)+time.Second)
					if early := time.Until(in.Session.ExpiresAt); early > 50*time.Millisecond {
						t.Errorf("closed %v before the session expired", early)
					}
					authRefused(t, "expired token", authPost(t, srv, authBearer(in.Token), `{ me { id } }`, nil))
				})
				t.Run("revoked by another instance", func(t *testing.T) {
					t.Parallel()
					in := authServiceSignIn(t, remote)
					c := authSubscribed(t, polled, proto, in.Token)
					actor, _, err := remote.Authenticate(authLocal(), in.Token)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := remote.SignOut(access.WithActor(authLocal(), actor)); err != nil {
						t.Fatal(err)
					}
					took := authClosed(t, c, 20*recheck)
					t.Logf("closed %v after the other instance's revocation (recheck every %v)", took, recheck)
				})
			})
		}
	})
}

// authCode POSTs a GraphQL request and returns the extensions.code of its
// only error, "" when it has none, or what went wrong. Unlike do, it may run
// on any goroutine.
func authCode(url, query string, vars map[string]any) string {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	var r gqlResponse
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return err.Error()
	}
	switch len(r.Errors) {
	case 0:
		return ""
	case 1:
		return r.Errors[0].code()
	}
	return fmt.Sprintf("%d errors", len(r.Errors))
}

func TestAuthSignInBurst(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		limits := account.DefaultLimits
		limits.SignInPerAccount = throttle.Limit{Max: 3, Window: time.Hour}
		limits.SignInPerAddr = throttle.Limit{Max: 1000, Window: time.Hour} // not the one tested
		srv := serveResolver(t, authResolver(t, db, account.Options{Limits: &limits}), defaultOptions())
		admin := srv.adminToken(t)

		const n = 100
		wrong := map[string]any{"email": adminEmail, "password": "not the password"}
		got := make([]string, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i] = authCode(srv.URL, authSignInMutation, wrong)
			}()
		}
		close(start)
		wg.Wait()
		count := map[string]int{}
		for _, code := range got {
			count[code]++
		}
		if count["UNAUTHENTICATED"] != int(limits.SignInPerAccount.Max) || count["RATE_LIMITED"] != n-int(limits.SignInPerAccount.Max) {
			t.Errorf("%d wrong passwords at once got %v; want %d UNAUTHENTICATED and the rest RATE_LIMITED",
				n, count, limits.SignInPerAccount.Max)
		}

		right := map[string]any{"email": adminEmail, "password": adminPassword}
		if code := authCode(srv.URL, authSignInMutation, right); code != "RATE_LIMITED" {
			t.Errorf("the right password after the burst: %q, want RATE_LIMITED", code)
		}
		// The limit is the account's: another email from the same address is heard.
		if code := authCode(srv.URL, authSignInMutation, map[string]any{"email": "nobody@pia.test", "password": "not the password"}); code != "UNAUTHENTICATED" {
			t.Errorf("another account after the burst: %q, want UNAUTHENTICATED", code)
		}
		var data struct{ Failed, Throttled struct{ TotalCount int } }
		authQuery(t, srv, admin, `{ failed: auditEvents(kind: SIGN_IN_FAILED) { totalCount }
			throttled: auditEvents(kind: SIGN_IN_THROTTLED) { totalCount } }`, nil, &data)
		if data.Failed.TotalCount != 4 || data.Throttled.TotalCount != n-3+1 {
			t.Errorf("audit: %d failed, %d throttled; want 4 and %d", data.Failed.TotalCount, data.Throttled.TotalCount, n-3+1)
		}
	})
}

// authMailCode is the one-time code of the last mail to to, read from the
// outbox as its recipient would read it.
func authMailCode(t testing.TB, db *bun.DB, to string) string {
	t.Helper()
	var body string
	err := db.NewSelect().Table("mail_outbox").Column("body").Where("to_addr = ?", to).
		OrderExpr("id DESC").Limit(1).Scan(context.Background(), &body)
	if err != nil {
		t.Fatalf("mail to %s: %v", to, err)
	}
	m := regexp.MustCompile(`#([A-Za-z0-9_-]{43})\b`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code in the mail to %s: %s", to, body)
	}
	return m[1]
}

func TestAuthSecretsDoNotLeak(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		logs := &testutil.LogBuffer{}
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		r := authResolver(t, db, account.Options{Logger: logger, PublicURL: "http://pia.test"})
		o := defaultOptions()
		o.Logger, o.Auth, o.MaxComplexity = logger, r.Accounts, 1_000_000
		// The server as piad serves it, request log included. No mail
		// deliverer runs here: in dev the log sender deliberately logs
		// invitation and reset mails, codes included (the log is then the
		// mail), so the log checked here must not contain those codes.
		hs := httptest.NewServer(server.New(server.Options{Logger: logger, GraphQL: graph.NewHandler(r, o), Health: r.Health}).Handler())
		t.Cleanup(hs.Close)
		srv := &testServer{URL: hs.URL + "/graphql", WS: "ws" + strings.TrimPrefix(hs.URL, "http") + "/graphql", accounts: r.Accounts}

		type answer struct{ body, own string } // own: the token the answer may show
		var answers []answer
		call := func(token, own, query string, vars map[string]any) httpResult {
			t.Helper()
			var h http.Header
			if token != "" {
				h = authBearer(token)
			}
			res := authPost(t, srv, h, query, vars)
			answers = append(answers, answer{string(res.Body), own})
			return res
		}
		const person = `id displayName email language globalRoles createdAt`
		const session = `id createdAt expiresAt lastSeenAt clientAddress userAgent current`
		const signedIn = `{ token expiresAt session { ` + session + ` } person { ` + person + ` } }`
		tokenOf := func(res httpResult, field string) string {
			t.Helper()
			var data map[string]struct{ Token string }
			if err := json.Unmarshal(res.Resp.Data, &data); err != nil || data[field].Token == "" {
				t.Fatalf("%s: %s", field, res.Body)
			}
			answers[len(answers)-1].own = data[field].Token
			return data[field].Token
		}

		const (
			wrongPassword = "wrong-password-7f3a9c"
			newPassword   = "invitee-password-2b8e41"
			resetPassword = "reset-password-c04d77"
			inviteeEmail  = "invitee@pia.test"
		)
		first := srv.adminToken(t)
		admin := tokenOf(call("", "", `mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) `+signedIn+` }`,
			map[string]any{"e": adminEmail, "p": adminPassword}), "signIn")
		if res := call("", "", authSignInMutation, map[string]any{"email": adminEmail, "password": wrongPassword}); onlyError(t, res).code() != "UNAUTHENTICATED" {
			t.Errorf("wrong password: %s", res.Body)
		}
		authRefused(t, "bad token", call(strings.Repeat("x", 43), "", `{ me { id } }`, nil))
		call(admin, "", `mutation { invitePerson(input: {email: "`+inviteeEmail+`"}) { email expiresAt } }`, nil)
		inviteCode := authMailCode(t, db, inviteeEmail)
		invitee := tokenOf(call("", "", `mutation($t: String!, $p: String!) {
			acceptInvitation(input: {token: $t, displayName: "Invitee", password: $p}) `+signedIn+` }`,
			map[string]any{"t": inviteCode, "p": newPassword}), "acceptInvitation")
		call("", "", `mutation { requestPasswordReset(input: {email: "`+inviteeEmail+`"}) { email expiresAt } }`, nil)
		resetCode := authMailCode(t, db, inviteeEmail)
		reset := tokenOf(call("", "", `mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, password: $p}) `+signedIn+` }`,
			map[string]any{"t": resetCode, "p": resetPassword}), "resetPassword")
		call(reset, "", `mutation { signOut { session { `+session+` } } }`, nil)
		authRefused(t, "signed out", call(reset, "", `{ me { id } }`, nil))
		authRefused(t, "ended by the reset", call(invitee, "", `{ me { id } }`, nil))
		c := dialWS(t, srv, transportWS, nil)
		c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"authToken":"` + invitee + `"}`)})
		if code := c.closed(2 * time.Second); code != authForbidden {
			t.Errorf("websocket with an ended session: closed with %d", code)
		}
		call(admin, "", `{ me { `+person+` sessions { `+session+` } } }`, nil)
		audit := call(admin, "", `{ auditEvents(first: 100) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			edges { cursor node { id at kind email clientAddress detail
				actor { `+person+` sessions { `+session+` } } person { `+person+` sessions { `+session+` } } } } } }`, nil)
		for _, kind := range []string{"ADMIN_CREATED", "SIGN_IN_SUCCEEDED", "SIGN_IN_FAILED", "INVITATION_SENT", "INVITATION_ACCEPTED",
			"PASSWORD_RESET_REQUESTED", "PASSWORD_RESET", "SIGNED_OUT"} {
			if !strings.Contains(string(audit.Body), `"kind":"`+kind+`"`) {
				t.Errorf("the audit log has no %s: %s", kind, audit.Body)
			}
		}

		secrets := map[string]string{"the administrator's password": adminPassword, "the wrong password": wrongPassword,
			"the invitee's password": newPassword, "the new password": resetPassword, "an argon2 hash": "$argon2id$"}
		for name, tok := range map[string]string{"the invitation code": inviteCode, "the reset code": resetCode,
			"the first session token": first, "the administrator's token": admin, "the invitee's token": invitee,
			"the token after the reset": reset} {
			sum := sha256.Sum256([]byte(tok))
			secrets[name], secrets["the SHA-256 of "+name] = tok, hex.EncodeToString(sum[:])
		}
		leaks := func(where, text string) {
			t.Helper()
			for name, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s contains %s: %s", where, name, text)
				}
			}
		}
		for i, a := range answers {
			body := a.body
			if a.own != "" {
				if strings.Count(body, a.own) != 1 {
					t.Errorf("answer %d shows its own token %d times: %s", i, strings.Count(body, a.own), body)
				}
				body = strings.Replace(body, a.own, "", 1)
			}
			leaks(fmt.Sprintf("answer %d", i), body)
		}
		leaks("the audit log", string(audit.Body))
		log := logs.String()
		if !strings.Contains(log, `"msg":"request"`) {
			t.Fatalf("the request log is missing; the check would prove nothing:\n%s", log)
		}
		leaks("the log", log)
	})
}

func TestAuthClientAddress(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		r := newResolver(t, db)
		plain := serveResolver(t, r, defaultOptions())
		o := defaultOptions()
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		elsewhere := serveResolver(t, r, o) // trusts proxies, but not this peer
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		proxied := serveResolver(t, r, o)
		admin := plain.adminToken(t)

		cases := []struct {
			srv  *testServer
			xff  []string
			want string
		}{
			{plain, nil, "127.0.0.1"},
			{plain, []string{"203.0.113.7"}, "127.0.0.1"},
			{elsewhere, []string{"203.0.113.7"}, "127.0.0.1"},
			{proxied, nil, "127.0.0.1"},
			{proxied, []string{"203.0.113.7"}, "203.0.113.7"},
			{proxied, []string{"198.51.100.1, 203.0.113.8"}, "203.0.113.8"},
			{proxied, []string{" 2001:db8::1 "}, "2001:db8::1"},
			{proxied, []string{"not an address"}, "127.0.0.1"},
			// Two header lines are one list (RFC 9110, 5.3): a proxy that
			// adds its own line after the client's names the client last.
			{proxied, []string{"198.51.100.66", "203.0.113.9"}, "203.0.113.9"},
		}
		for i, c := range cases {
			email := fmt.Sprintf("nobody%d@pia.test", i)
			res := authPost(t, c.srv, http.Header{"X-Forwarded-For": c.xff}, authSignInMutation,
				map[string]any{"email": email, "password": "not the password"})
			if e := onlyError(t, res); e.code() != "UNAUTHENTICATED" {
				t.Errorf("case %d: %s", i, res.Body)
			}
		}
		var data struct {
			AuditEvents struct {
				Edges []struct {
					Node struct{ Kind, Email, ClientAddress string }
				}
			}
		}
		authQuery(t, plain, admin, `{ auditEvents(first: 100, kind: SIGN_IN_FAILED) { edges { node { kind email clientAddress } } } }`, nil, &data)
		got := map[string]string{}
		for _, e := range data.AuditEvents.Edges {
			got[e.Node.Email] = e.Node.ClientAddress
		}
		for i, c := range cases {
			email := fmt.Sprintf("nobody%d@pia.test", i)
			if got[email] != c.want {
				t.Errorf("X-Forwarded-For %q through %s: recorded %q, want %q", c.xff,
					map[*testServer]string{plain: "no trusted proxy", elsewhere: "another trusted proxy", proxied: "a trusted proxy"}[c.srv],
					got[email], c.want)
			}
		}

		// A sign-in through the proxy: its session and its event name the client.
		var in struct {
			SignIn struct {
				Session struct{ ClientAddress string }
			}
		}
		res := authPost(t, proxied, http.Header{"X-Forwarded-For": {"203.0.113.20"}},
			`mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { session { clientAddress } } }`,
			map[string]any{"e": adminEmail, "p": adminPassword})
		if err := json.Unmarshal(res.Resp.Data, &in); err != nil || in.SignIn.Session.ClientAddress != "203.0.113.20" {
			t.Errorf("session through the proxy: %s", res.Body)
		}
		authQuery(t, plain, admin, `{ auditEvents(first: 1, kind: SIGN_IN_SUCCEEDED) { edges { node { kind email clientAddress } } } }`, nil, &data)
		if e := data.AuditEvents.Edges; len(e) != 1 || e[0].Node.ClientAddress != "203.0.113.20" {
			t.Errorf("sign-in event through the proxy: %+v", e)
		}
	})
}
