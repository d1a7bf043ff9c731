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
}

// Dev reports whether this is a development server (GraphiQL, introspection
// and field suggestions on).
func (c Config) Dev() bool { return c.Env == "dev" }

// Setting is one configuration setting: its environment variable, flag,
// default and meaning. Settings is the whole list, in README order.
type Setting struct {
	Env, Flag, Default, Usage string
}

// Settings lists every setting.
var Settings = []Setting{
	{"PIA_ADDR", "addr", ":8080", "address to listen on"},
	{"PIA_DATABASE_URL", "database-url", "", "postgres://user:pass@host:5432/db for PostgreSQL; empty for the embedded SQLite database"},
	{"PIA_DATA_DIR", "data-dir", "data", "directory of the embedded SQLite database (pia.db)"},
	{"PIA_DATABASE_MAX_CONNS", "database-max-conns", "20", "most database connections one instance opens"},
	{"PIA_ENV", "env", "dev", "dev (GraphiQL at /, introspection, field suggestions) or prod (none of them)"},
	{"PIA_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"PIA_LOG_FORMAT", "log-format", "", "text or json; empty means text in dev and json in prod"},
	{"PIA_MAX_BODY_BYTES", "max-body-bytes", "2097152", "largest HTTP request body or websocket message, in bytes (larger: 413, or close 1009)"},
	{"PIA_MAX_QUERY_DEPTH", "max-query-depth", "12", "deepest nesting of fields a query may have"},
	{"PIA_MAX_QUERY_COMPLEXITY", "max-query-complexity", "5000", "highest cost a query may have (fields, times first/last on connections)"},
	{"PIA_MAX_QUERY_TOKENS", "max-query-tokens", "5000", "most tokens the parser reads in one query"},
	{"PIA_ALLOWED_ORIGINS", "allowed-origins", "", "comma-separated browser origins allowed to open websockets besides the server's own; * for any"},
	{"PIA_WS_INIT_TIMEOUT", "ws-init-timeout", "10s", "how long a websocket may wait before sending connection_init"},
	{"PIA_WS_PING_INTERVAL", "ws-ping-interval", "25s", "websocket ping (graphql-transport-ws) and keep-alive (graphql-ws) interval"},
	{"PIA_SHUTDOWN_TIMEOUT", "shutdown-timeout", "20s", "how long shutdown waits for requests in flight"},
}

// Load reads the settings from args (flags only, no subcommand) and getenv.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [flags]\n\nflags (a flag wins over its environment variable):\n", name)
		fs.PrintDefaults()
	}
	values := make(map[string]*string, len(Settings))
	for _, s := range Settings {
		def := s.Default
		if v := getenv(s.Env); v != "" {
			def = v
		}
		values[s.Env] = fs.String(s.Flag, def, s.Usage+" ($"+s.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
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

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
