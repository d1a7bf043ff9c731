package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pia-sicilia/pia/internal/config"
	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/reference"
)

const seedUsage = `usage: piad seed [-demo] [-scale N] [-rand-seed S] [flags]
Seeds a local database in dev (refused when PIA_ENV is prod): the demo region, a generated one for
benchmarks, or both. The other flags are serve's (the database).`

// seedCmd is `piad seed`: the demo region, a generated one, or both, on the
// configured database.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var opts demo.Options
	cfg, rest, err := config.LoadCommand("piad seed", seedUsage, args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&opts.Demo, "demo", false, "the demo region: the organizations and hubs of the articles, 9 working groups, one account per role, a draft guideline document per territory")
		fs.Func("scale", "a generated region of about 2,000×N organizations and 10,000×N people, for benchmarks (N above 0, at most 100, may be a fraction)", func(v string) error {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(n) || n <= 0 || n > 100 {
				return errors.New("want a number above 0 and at most 100, such as 1 or 0.1")
			}
			opts.Scale = n
			return nil
		})
		fs.Uint64Var(&opts.RandSeed, "rand-seed", 1, "the scale generator's seed: the same seed gives the same region")
	})
	switch {
	case err != nil:
		return err
	case len(rest) > 0:
		return fmt.Errorf("unexpected argument %q\n%s", rest[0], seedUsage)
	case !opts.Demo && opts.Scale == 0:
		return errors.New("seed needs -demo, -scale N or both\n" + seedUsage)
	}
	// Refused before the database is opened: the demo accounts' password is
	// in the README.
	if !cfg.Dev() {
		return errors.New("seed is refused when PIA_ENV is prod: the demo accounts have a published password; seed a local database in dev")
	}
	logger := newLogger(cfg, stderr)
	db, _, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	svcs, err := newServices(db, cfg, logger, nil)
	if err != nil {
		return err
	}
	// The documents are written through the co-editing service, as piad
	// serve runs it; its committer stops, after its last batch, when the
	// seed is done. The documents queue no mail (they mention nobody); the
	// meetings queue their invitations, which piad serve then delivers.
	docs := newCoedit(db, cfg, logger, svcs, nil, nil)
	if err := docs.Start(ctx); err != nil {
		return fmt.Errorf("start the co-editing service: %w", err)
	}
	defer docs.Close()
	opts.Progress = func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) }
	meetings := meeting.NewService(db, meeting.Options{Now: time.Now, Logger: logger, PublicURL: cfg.PublicURL})
	rep, err := demo.Seed(ctx, demo.Deps{Accounts: svcs.accounts, Network: svcs.network, Reference: reference.NewService(db),
		Coedit: docs, Meetings: meetings}, opts)
	if rep != nil {
		printSeedReport(stdout, rep, opts.Demo)
	}
	return err
}

// printSeedReport writes what was seeded and the demo accounts.
func printSeedReport(w io.Writer, rep *demo.Report, asked bool) {
	if asked {
		switch {
		case rep.AlreadySeeded && rep.Documents == 0 && rep.Meetings == 0:
			fmt.Fprintln(w, "demo region: already seeded, nothing created")
		case rep.AlreadySeeded:
			fmt.Fprintln(w, "demo region: already seeded; its guideline documents or meetings were missing")
		default:
			fmt.Fprintf(w, "demo region: %d organizations, %d people (%d affiliations), %d working groups (%d members), %d practices, %d municipalities\n",
				rep.Organizations, rep.People, rep.Affiliations, rep.WorkingGroups, rep.Memberships, rep.Practices, rep.Municipalities)
		}
		if rep.Documents > 0 {
			fmt.Fprintf(w, "guideline documents: %d drafts, %d edits, %d comments, %d named versions\n",
				rep.Documents, rep.Edits, rep.Comments, rep.Versions)
		}
		if rep.Meetings > 0 {
			fmt.Fprintf(w, "meetings: %d planned in the 36 focus groups, %d of them held (%d register entries, %d minutes), %d answers to invitations\n",
				rep.Meetings, rep.MeetingsHeld, rep.Attendance, rep.Minutes, rep.Answers)
		}
	}
	if s := rep.Scale; s != nil {
		fmt.Fprintf(w, "scale %g: %d organizations, %d people (%d affiliations), %d working-group members; imported in %s\n",
			s.Scale, s.Organizations, s.People, s.Affiliations, s.Memberships, s.Elapsed.Round(1e7))
		for _, f := range s.Files {
			fmt.Fprintf(w, "  %-36s %6d rows: %d created, %d updated, %d unchanged (%s)\n",
				f.Name, f.Rows, f.Created, f.Updated, f.Unchanged, f.Elapsed.Round(1e7))
		}
	}
	fmt.Fprintf(w, "demo accounts, password %q (a local demo only: never on a server others reach):\n", demo.Password)
	accounts := rep.Accounts
	if !asked {
		// Without the demo, only its administrator, who did the seeding.
		accounts = accounts[:min(1, len(accounts))]
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Email, a.Name, a.Role)
	}
	_ = tw.Flush()
}
