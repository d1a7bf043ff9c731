// Package config reads piad's settings from flags and the environment. A
// flag wins over its environment variable, which wins over the default. The
// README's configuration table lists the same settings; a test keeps the two
// in step.
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of piad.
type Config struct {
	Addr            string
	DatabaseURL     string
	DataDir         string
	DBMaxConns      int
	Env             string // "dev" or "prod"
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	MaxBodyBytes    int64
	MaxDepth        int
	MaxComplexity   int
	MaxTokens       int
	AllowedOrigins  []string
	WSInitTimeout   time.Duration
	WSPingInterval  time.Duration
	ShutdownTimeout time.Duration
	PublicURL       string
	AdminEmail      string
	AdminPassword   string
	SessionTTL      time.Duration
	SMTPURL         string
	TrustedProxies  []netip.Prefix
}

// Dev reports whether this is a development server (GraphiQL, introspection
// and field suggestions on).
func (c Config) Dev() bool { return c.Env == "dev" }

// Setting is one configuration setting: its environment variable, flag,
// default and meaning. Settings is the whole list, in README order.
type Setting struct {
	Env, Flag, Default, Usage string
	// Secret settings are never shown: the flag's help prints no value
	// taken from the environment.
	Secret bool
}

// Settings lists every setting.
var Settings = []Setting{
	{"PIA_ADDR", "addr", ":8080", "address to listen on", false},
	{"PIA_DATABASE_URL", "database-url", "", "postgres://user:pass@host:5432/db for PostgreSQL; empty for the embedded SQLite database", false},
	{"PIA_DATA_DIR", "data-dir", "data", "directory of the embedded SQLite database (pia.db)", false},
	{"PIA_DATABASE_MAX_CONNS", "database-max-conns", "20", "most database connections one instance opens", false},
	{"PIA_ENV", "env", "dev", "dev (GraphiQL at /, introspection, field suggestions) or prod (none of them)", false},
	{"PIA_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false},
	{"PIA_LOG_FORMAT", "log-format", "", "text or json; empty means text in dev and json in prod", false},
	{"PIA_MAX_BODY_BYTES", "max-body-bytes", "2097152", "largest HTTP request body or websocket message, in bytes (larger: 413, or close 1009)", false},
	{"PIA_MAX_QUERY_DEPTH", "max-query-depth", "12", "deepest nesting of fields a query may have", false},
	{"PIA_MAX_QUERY_COMPLEXITY", "max-query-complexity", "5000", "highest cost a query may have (fields, times first/last on connections)", false},
	{"PIA_MAX_QUERY_TOKENS", "max-query-tokens", "5000", "most tokens the parser reads in one query", false},
	{"PIA_ALLOWED_ORIGINS", "allowed-origins", "", "comma-separated browser origins allowed to open websockets besides the server's own; * for any", false},
	{"PIA_WS_INIT_TIMEOUT", "ws-init-timeout", "10s", "how long a websocket may wait before sending connection_init", false},
	{"PIA_WS_PING_INTERVAL", "ws-ping-interval", "25s", "websocket ping (graphql-transport-ws) and keep-alive (graphql-ws) interval", false},
	{"PIA_SHUTDOWN_TIMEOUT", "shutdown-timeout", "20s", "how long shutdown waits for requests in flight", false},
	{"PIA_PUBLIC_URL", "public-url", "http://localhost:8080", "the address people reach PIA at, for the links in mails", false},
	{"PIA_ADMIN_EMAIL", "admin-email", "", "email of the first administrator, created at start when there is none", false},
	{"PIA_ADMIN_PASSWORD", "admin-password", "", "password of the first administrator (in dev, when both are unset, one is generated and logged once)", true},
	{"PIA_SESSION_TTL", "session-ttl", "168h", "how long a session lasts after sign-in", false},
	{"PIA_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:587?from=pia@example.org (STARTTLS) or smtps://...:465; empty: mail is logged in dev and kept queued in prod", true},
	{"PIA_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client", false},
}

// Load reads the settings from args (flags only, no subcommand) and getenv.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c, rest, err := LoadCommand(name, "", args, getenv, stderr, nil)
	if err == nil && len(rest) > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", rest[0])
	}
	return c, err
}

// LoadCommand is Load for a command with flags of its own, which own
// registers on the flag set beside the settings' flags, and with arguments
// (such as a file name) that it returns. Flags and arguments may come in
// any order. usage, when not empty, is printed above the flags for -h.
func LoadCommand(name, usage string, args []string, getenv func(string) string, stderr io.Writer,
	own func(fs *flag.FlagSet)) (Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if usage != "" {
			fmt.Fprintf(stderr, "%s\n\n", usage)
		}
		fmt.Fprintf(stderr, "usage: %s [flags]\n\nflags (a flag wins over its environment variable):\n", name)
		fs.PrintDefaults()
	}
	if own != nil {
		own(fs)
	}
	values := make(map[string]*string, len(Settings))
	for _, s := range Settings {
		def := s.Default
		if v := getenv(s.Env); v != "" && !s.Secret {
			def = v
		}
		values[s.Env] = fs.String(s.Flag, def, s.Usage+" ($"+s.Env+")")
	}
	// The flag package stops at the first argument: take it and go on.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return Config{}, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range Settings {
		if v := getenv(s.Env); s.Secret && v != "" && !set[s.Flag] {
			*values[s.Env] = v
		}
	}
	c, err := settings(values)
	return c, rest, err
}

// settings checks and converts the settings' values.
func settings(values map[string]*string) (Config, error) {
	get := func(env string) string { return strings.TrimSpace(*values[env]) }

	var c Config
	var errs []string
	bad := func(env, format string, a ...any) { errs = append(errs, env+": "+fmt.Sprintf(format, a...)) }

	c.Addr = get("PIA_ADDR")
	c.DatabaseURL = get("PIA_DATABASE_URL")
	c.DataDir = get("PIA_DATA_DIR")
	if c.DatabaseURL == "" && c.DataDir == "" {
		bad("PIA_DATA_DIR", "must not be empty when PIA_DATABASE_URL is unset")
	}
	c.Env = get("PIA_ENV")
	if c.Env != "dev" && c.Env != "prod" {
		bad("PIA_ENV", "must be dev or prod, got %q", c.Env)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("PIA_LOG_LEVEL"))); err != nil {
		bad("PIA_LOG_LEVEL", "must be debug, info, warn or error, got %q", get("PIA_LOG_LEVEL"))
	}
	c.LogFormat = get("PIA_LOG_FORMAT")
	switch c.LogFormat {
	case "":
		c.LogFormat = "text"
		if c.Env == "prod" {
			c.LogFormat = "json"
		}
	case "text", "json":
	default:
		bad("PIA_LOG_FORMAT", "must be text or json, got %q", c.LogFormat)
	}
	posInt := func(env string) int64 {
		v, err := strconv.ParseInt(get(env), 10, 64)
		if err != nil || v <= 0 {
			bad(env, "must be a whole number above 0, got %q", get(env))
		}
		return v
	}
	c.DBMaxConns = int(posInt("PIA_DATABASE_MAX_CONNS"))
	c.MaxBodyBytes = posInt("PIA_MAX_BODY_BYTES")
	c.MaxDepth = int(posInt("PIA_MAX_QUERY_DEPTH"))
	c.MaxComplexity = int(posInt("PIA_MAX_QUERY_COMPLEXITY"))
	c.MaxTokens = int(posInt("PIA_MAX_QUERY_TOKENS"))
	for _, o := range strings.Split(get("PIA_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	dur := func(env string) time.Duration {
		d, err := time.ParseDuration(get(env))
		if err != nil || d <= 0 {
			bad(env, "must be a duration above 0 such as 10s, got %q", get(env))
		}
		return d
	}
	c.WSInitTimeout = dur("PIA_WS_INIT_TIMEOUT")
	c.WSPingInterval = dur("PIA_WS_PING_INTERVAL")
	c.ShutdownTimeout = dur("PIA_SHUTDOWN_TIMEOUT")
	c.SessionTTL = dur("PIA_SESSION_TTL")
	c.PublicURL = strings.TrimRight(get("PIA_PUBLIC_URL"), "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PIA_PUBLIC_URL", "must be an http or https URL such as https://pia.example.org, got %q", c.PublicURL)
	}
	c.AdminEmail = get("PIA_ADMIN_EMAIL")
	c.AdminPassword = *values["PIA_ADMIN_PASSWORD"] // spaces count in a password
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		bad("PIA_ADMIN_EMAIL", "PIA_ADMIN_EMAIL and PIA_ADMIN_PASSWORD go together: set both or neither")
	}
	c.SMTPURL = get("PIA_SMTP_URL")
	for _, p := range strings.Split(get("PIA_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				bad("PIA_TRUSTED_PROXIES", "%q is neither an address nor a CIDR range", p)
				continue
			}
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
