// Command piad is the PIA server.
//
//	piad [serve] [flags]         serve the platform (the default)
//	piad migrate up|down|status  apply, roll back (the last group) or list migrations
//	piad version                 print the version
//	piad import --kind K FILE    import organizations, people or municipalities (CSV, XLSX)
//	piad seed [--demo] [--scale N] seed the demo region or a generated one (dev only)
//
// Every flag has an environment variable; see the README or `piad -h`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Rome for mails and calendars, also where the system has no zone files

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/buildinfo"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/config"
	"github.com/pia-sicilia/pia/internal/health"
	"github.com/pia-sicilia/pia/internal/mail"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/server"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/tracking"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h asked for the flags, which are printed: not a failure
		}
		fmt.Fprintln(os.Stderr, "piad:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  piad [serve] [flags]          serve PIA (GraphQL at /graphql, GraphiQL at / in dev)
  piad migrate up|down|status   apply pending migrations, roll back the last group, or list them
  piad version                  print the version
  piad import --kind K [--dry-run] [--as EMAIL] FILE  import organizations, people or municipalities from CSV or XLSX
  piad seed [--demo] [--scale N] seed the demo region, or a generated one for benchmarks (dev only)
run 'piad serve -h' for the flags and their environment variables`

// run is piad without the process around it: tests call it with their own
// arguments, environment and outputs, and cancel ctx to stop it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		// The commands first; serve's flags follow from its flag set.
		fmt.Fprintln(stderr, usage)
		fmt.Fprintln(stderr)
	}
	switch cmd {
	case "serve":
		cfg, err := config.Load("piad serve", args, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "migrate":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return errors.New("migrate needs up, down or status\n" + usage)
		}
		sub := args[0]
		if sub != "up" && sub != "down" && sub != "status" {
			// Refused before opening the database, which would create it.
			return fmt.Errorf("migrate %q: want up, down or status\n%s", sub, usage)
		}
		cfg, err := config.Load("piad migrate "+sub, args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		return migrateCmd(ctx, cfg, sub, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, args, getenv, stdout, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, "piad", buildinfo.Version())
		return err
	case "help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// routeStdLog sends the standard log package's output through logger until
// the returned func restores it: gqlgen reports a refused websocket upgrade
// with log.Printf, which would otherwise put a plain-text line among JSON
// logs, on the process's stderr rather than run's.
func routeStdLog(logger *slog.Logger) (restore func()) {
	out, flags, prefix := log.Writer(), log.Flags(), log.Prefix()
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(slog.NewLogLogger(logger.Handler(), slog.LevelWarn).Writer())
	return func() {
		log.SetOutput(out)
		log.SetFlags(flags)
		log.SetPrefix(prefix)
	}
}

func openDB(ctx context.Context, cfg config.Config) (*bun.DB, error) {
	return storage.Open(ctx, storage.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxOpenConns: cfg.DBMaxConns})
}

// openMigrated opens the configured database and applies pending
// migrations, returning their names.
func openMigrated(ctx context.Context, cfg config.Config) (*bun.DB, []string, error) {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	applied, err := storage.MigrateUp(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, applied, nil
}

// services are the feature services the commands work with, wired to each
// other.
type services struct {
	accounts *account.Service
	network  *network.Service
	// peers announces roles changes to the other instances once
	// newCoedit has built the co-editing service, whose notification
	// channel carries them; until then they are told here only.
	peers atomic.Pointer[coedit.Service]
}

// rolesChanged is the network's Options.RolesChanged: the people's
// connections on this instance end at once, and the other instances are
// told to end theirs (their session recheck would find it only later).
func (s *services) rolesChanged(personIDs ...int64) {
	s.accounts.RolesChanged(personIDs...)
	if docs := s.peers.Load(); docs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		docs.AnnounceRolesChanged(ctx, personIDs...)
	}
}

// newServices builds the account and network services on db. The account
// service takes its territory roles from the network's working groups, and
// the network service reads accounts for exports: the account service gets
// a roleSource that is bound to the network service once both exist,
// before any use. mailQueued wakes the mail deliverer (nil: nothing to wake).
func newServices(db *bun.DB, cfg config.Config, logger *slog.Logger, mailQueued func()) (*services, error) {
	return buildServices(db, account.Options{
		SessionTTL: cfg.SessionTTL,
		PublicURL:  cfg.PublicURL,
		Logger:     logger,
		MailQueued: mailQueued,
	}, logger)
}

// buildServices is newServices with the account options given (their
// Roles is set here).
func buildServices(db *bun.DB, ao account.Options, logger *slog.Logger) (*services, error) {
	roles := &roleSource{}
	ao.Roles = roles
	accounts, err := account.NewService(db, ao)
	if err != nil {
		return nil, err
	}
	svcs := &services{accounts: accounts}
	svcs.network = network.NewService(db, network.Options{Accounts: accounts, RolesChanged: svcs.rolesChanged, Now: time.Now, Logger: logger,
		GroupCreated: meeting.CreateFocusGroups})
	roles.RoleSource = svcs.network
	return svcs, nil
}

func serve(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	defer routeStdLog(logger)()
	// Listen first: a taken port is reported before the database is touched.
	// Connections wait in the backlog until Serve starts.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	db, applied, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(applied) > 0 {
		logger.Info("migrations applied", "migrations", applied)
	}

	version := buildinfo.Version()
	checker := health.NewChecker(db, version, time.Now)
	deliverer, err := newDeliverer(cfg, db, logger)
	if err != nil {
		return err
	}
	svcs, err := newServices(db, cfg, logger, deliverer.Wake)
	if err != nil {
		return err
	}
	accounts := svcs.accounts
	if err := ensureAdmin(ctx, cfg, accounts, logger); err != nil {
		return err
	}
	// The co-editing service runs its committer (and, on PostgreSQL, its
	// listener) from here until after the HTTP server has shut down, so
	// that edits in flight are committed and answered.
	// Close stops it, not the end of ctx, which comes first.
	// Meetings' events reach the other instances on the co-editing
	// channel: one LISTEN connection per instance serves both.
	var docs *coedit.Service
	meetings := meeting.NewService(db, meeting.Options{Now: time.Now, Logger: logger, PublicURL: cfg.PublicURL, MailQueued: deliverer.Wake,
		Broadcast: func(ctx context.Context, payload []byte) { docs.Broadcast(ctx, payload) }})
	docs = newCoedit(db, cfg, logger, svcs, deliverer.Wake, map[string]func([]byte){meeting.NoteKind: meetings.FromPeer})
	if err := docs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the co-editing service: %w", err)
	}
	defer docs.Close()
	// The live figures follow both hubs; closed before the co-editing
	// service (defers run last first), after the server has stopped.
	figures := tracking.NewService(db, tracking.Options{Now: time.Now, Logger: logger, Meetings: meetings, Documents: docs})
	defer figures.Close()
	resolver := &graph.Resolver{
		Reference: reference.NewService(db),
		Health:    checker,
		Accounts:  accounts,
		Network:   svcs.network,
		Coedit:    docs,
		Meetings:  meetings,
		Tracking:  figures,
		Activity:  activity.NewService(db),
		PublicURL: cfg.PublicURL,
	}
	gqlOpts := graph.Options{
		Logger:          logger,
		Dev:             cfg.Dev(),
		MaxBodyBytes:    cfg.MaxBodyBytes,
		MaxDepth:        cfg.MaxDepth,
		MaxComplexity:   cfg.MaxComplexity,
		MaxTokens:       cfg.MaxTokens,
		MaxRepeats:      50,
		MaxFieldPairs:   100_000,
		DefaultPageSize: 20,
		AllowedOrigins:  cfg.AllowedOrigins,
		WSInitTimeout:   cfg.WSInitTimeout,
		WSPingInterval:  cfg.WSPingInterval,
		Auth:            accounts,
		TrustedProxies:  cfg.TrustedProxies,
	}
	srv := server.New(server.Options{
		Logger:          logger,
		GraphQL:         graph.NewHandler(resolver, gqlOpts),
		Export:          graph.ExportHandler(resolver, gqlOpts),
		Calendar:        graph.CalendarHandler(resolver, gqlOpts),
		Register:        graph.RegisterHandler(resolver, gqlOpts),
		Reports:         graph.ReportHandler(resolver, gqlOpts),
		Health:          checker,
		Dev:             cfg.Dev(),
		ShutdownTimeout: cfg.ShutdownTimeout,
	})

	engine := storage.EngineOf(db)
	where := cfg.DataDir
	if engine == storage.Postgres {
		where = storage.Redact(cfg.DatabaseURL)
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()), "env", cfg.Env,
		"database", string(engine), "at", where, "version", version)
	// Background work: mail delivery, hourly clean-up of stale throttle
	// counters and used tokens, and the reminders of tomorrow's meetings
	// every 5 minutes. They stop after the server has.
	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	if deliverer.Sender != nil {
		background.Go(func() { _ = deliverer.Run(bgCtx) })
	}
	background.Go(func() {
		for {
			if err := accounts.Maintain(bgCtx); err != nil && bgCtx.Err() == nil {
				logger.Error("account maintenance failed", "err", err)
			}
			select {
			case <-bgCtx.Done():
				return
			case <-time.After(time.Hour):
			}
		}
	})
	background.Go(func() { sendReminders(bgCtx, meetings, logger, reminderInterval) })
	err = srv.Serve(ctx, ln)
	stopBackground()
	background.Wait()
	logger.Info("stopped")
	return err
}

// reminderInterval is how often piad serve looks for meetings to remind
// their invitees of: a meeting of tomorrow is reminded within this long of
// midnight in Rome, or of being planned.
const reminderInterval = 5 * time.Minute

// sendReminders queues the reminders of tomorrow's meetings at once and then
// every interval, until ctx ends. A failure is logged and tried again at
// the next tick (each meeting is claimed before its mail is queued, so
// several instances may run this together).
func sendReminders(ctx context.Context, meetings *meeting.Service, logger *slog.Logger, interval time.Duration) {
	for {
		if n, err := meetings.SendReminders(ctx); err != nil && ctx.Err() == nil {
			logger.Error("meeting reminders failed", "err", err, "reminded", n)
		} else if n > 0 {
			logger.Info("meeting reminders queued", "meetings", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// newCoedit builds the co-editing service on db, as piad serve runs it;
// the caller starts it, and closes it after the last request. Its people
// come from the directory (see directoryPeople), with their global roles
// from the accounts, which mentions need; mailQueued wakes the mail
// deliverer after a mention (nil: nothing to wake). Its notification
// channel also carries the roles changes of svcs.network between
// instances: those announced by others end connections here; and, for
// notes, other features' notifications by kind (the meetings' events).
func newCoedit(db *bun.DB, cfg config.Config, logger *slog.Logger, svcs *services, mailQueued func(), notes map[string]func([]byte)) *coedit.Service {
	people := directoryPeople{net: svcs.network, accounts: svcs.accounts}
	docs := coedit.NewService(db, coedit.Options{
		Now:          time.Now,
		Logger:       logger,
		People:       people,
		PublicURL:    cfg.PublicURL,
		MailQueued:   mailQueued,
		RolesChanged: svcs.accounts.RolesChanged,
		Notes:        notes,
	})
	svcs.peers.Store(docs)
	return docs
}

// directoryPeople is coedit.PeopleSource and coedit.ReaderSource over the
// directory. coedit asks
// without authorization (it mails the people a comment mentions and names
// contributors in exports, whoever asked), so people are read as the
// system: an administrator that is nobody's person.
type directoryPeople struct {
	accounts *account.Service
	net      *network.Service
}

var (
	_ coedit.PeopleSource = directoryPeople{}
	_ coedit.ReaderSource = directoryPeople{}
)

// systemActor reads the directory for directoryPeople.
var systemActor = &access.Actor{PersonID: -1, GlobalRoles: []access.GlobalRole{access.Admin}}

// asSystem is ctx's cancellation with the system as the actor. The
// caller's context may carry a request's signed-in actor, which would win
// over the system's: only its cancellation is kept.
func asSystem(ctx context.Context) (context.Context, context.CancelFunc) {
	sys, cancel := context.WithCancel(access.WithActor(context.Background(), systemActor))
	stop := context.AfterFunc(ctx, cancel)
	return sys, func() { stop(); cancel() }
}

// Contacts returns the display name, email and language of the people of
// ids that exist.
func (p directoryPeople) Contacts(ctx context.Context, ids []int64) (map[int64]coedit.Contact, error) {
	sys, done := asSystem(ctx)
	defer done()
	people, err := p.net.PeopleByID(sys, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]coedit.Contact, len(people))
	for id, person := range people {
		c := coedit.Contact{Name: person.DisplayName, Language: person.Language}
		if person.Email != nil {
			c.Email = *person.Email
		}
		out[id] = c
	}
	return out, nil
}

// Readers returns, for each person of ids who is neither archived nor
// erased, an actor with their global roles and their roles in the working
// groups they belong to now, as a session of theirs would have.
func (p directoryPeople) Readers(ctx context.Context, ids []int64) (map[int64]*access.Actor, error) {
	sys, done := asSystem(ctx)
	defer done()
	people, err := p.net.PeopleByID(sys, ids)
	if err != nil {
		return nil, err
	}
	roles, err := p.accounts.GlobalRolesOf(sys, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*access.Actor, len(people))
	for id, person := range people {
		if person.ArchivedAt != nil || person.ErasedAt != nil {
			continue
		}
		territories, err := p.net.TerritoryRoles(sys, id)
		if err != nil {
			return nil, err
		}
		out[id] = &access.Actor{PersonID: id, GlobalRoles: roles[id], Territories: territories}
	}
	return out, nil
}

// roleSource hands the account service's questions about territory roles
// to the network service, which is built after it (it needs the account
// service); newServices binds it.
type roleSource struct{ access.RoleSource }

// newDeliverer sends the mail outbox by SMTP when PIA_SMTP_URL is set; in
// dev without it, mail is written to the log (that is how a newcomer gets
// an invitation link); in prod without it, mail waits in the outbox.
func newDeliverer(cfg config.Config, db *bun.DB, logger *slog.Logger) (*mail.Deliverer, error) {
	d := &mail.Deliverer{DB: db, Logger: logger, Now: time.Now}
	switch {
	case cfg.SMTPURL != "":
		sender, err := mail.NewSMTPSender(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		d.Sender = sender
	case cfg.Dev():
		d.Sender = mail.NewLogSender(logger)
	default:
		logger.Warn("PIA_SMTP_URL is not set: mail (invitations, password resets) stays queued until it is")
	}
	return d, nil
}

// ensureAdmin creates the first administrator when PIA has none, from
// PIA_ADMIN_EMAIL and PIA_ADMIN_PASSWORD, or in dev with a generated
// password that is logged this once.
func ensureAdmin(ctx context.Context, cfg config.Config, accounts *account.Service, logger *slog.Logger) error {
	created, generated, err := accounts.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword, cfg.Dev())
	if err != nil {
		return fmt.Errorf("first administrator: %w", err)
	}
	switch {
	case generated != "":
		logger.Warn("first administrator created with a generated password, shown only this once: sign in and keep it safe",
			"email", "admin@pia.localhost", "password", generated)
	case created:
		logger.Info("first administrator created", "email", cfg.AdminEmail)
	case cfg.AdminEmail == "" && !cfg.Dev():
		if ok, err := accounts.HasAdmin(ctx); err == nil && !ok {
			logger.Warn("PIA has no administrator: set PIA_ADMIN_EMAIL and PIA_ADMIN_PASSWORD and restart")
		}
	}
	return nil
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func migrateCmd(ctx context.Context, cfg config.Config, sub string, stdout, stderr io.Writer) error {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "up":
		applied, err := storage.MigrateUp(ctx, db)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "nothing to apply: the database is up to date")
		}
		for _, m := range applied {
			fmt.Fprintln(stdout, "applied", m)
		}
	case "down":
		rolled, err := storage.MigrateDown(ctx, db)
		if err != nil {
			return err
		}
		if len(rolled) == 0 {
			fmt.Fprintln(stdout, "nothing to roll back")
		}
		for _, m := range rolled {
			fmt.Fprintln(stdout, "rolled back", m)
		}
	case "status":
		st, err := storage.Status(ctx, db)
		if err != nil {
			return err
		}
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = fmt.Sprintf("applied (group %d)", m.Group)
			}
			fmt.Fprintf(stdout, "%-50s %s\n", m.Name, state)
		}
	default:
		return fmt.Errorf("migrate %q: want up, down or status", sub)
	}
	return nil
}
