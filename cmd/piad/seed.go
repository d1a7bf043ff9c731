package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pia-sicilia/pia/internal/config"
	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/reference"
)

const seedUsage = `usage: piad seed [--demo] [--scale N] [--rand-seed S] [flags]
  --demo         the demo region: the organizations and hubs of the articles, 9 working groups, one account per role
  --scale N      a generated region of about 2,000×N organizations and 10,000×N people, for benchmarks (N may be a fraction)
  --rand-seed S  the scale generator's seed (default 1): the same seed gives the same region
the other flags are serve's (the database); refused when PIA_ENV is prod`

// seedOptions are seed's own flags.
type seedOptions struct {
	demo     bool
	scale    float64
	randSeed uint64
}

// parseSeedArgs takes seed's own flags out of args and leaves the others
// (the database settings) to config.Load.
func parseSeedArgs(args []string) (seedOptions, []string, error) {
	var o seedOptions
	var rest []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			rest = append(rest, args[i])
			continue
		}
		// value returns the flag's value, from "--flag=v" or the next argument.
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("--%s needs a value\n%s", name, seedUsage)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "demo":
			o.demo = true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return o, nil, fmt.Errorf("--demo=%q: want true or false", value)
				}
				o.demo = b
			}
		case "scale":
			v, err := next()
			if err != nil {
				return o, nil, err
			}
			if o.scale, err = strconv.ParseFloat(v, 64); err != nil || o.scale <= 0 || o.scale > 100 {
				return o, nil, fmt.Errorf("--scale %q: want a number above 0 and at most 100, such as 1 or 0.1", v)
			}
		case "rand-seed":
			v, err := next()
			if err != nil {
				return o, nil, err
			}
			if o.randSeed, err = strconv.ParseUint(v, 10, 64); err != nil {
				return o, nil, fmt.Errorf("--rand-seed %q: want a whole number", v)
			}
		default:
			rest = append(rest, args[i])
		}
	}
	return o, rest, nil
}

// seedCmd is `piad seed`: the demo region, a generated one, or both, on the
// configured database.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	so, rest, err := parseSeedArgs(args)
	if err != nil {
		return err
	}
	if !so.demo && so.scale == 0 {
		return errors.New("seed needs --demo, --scale N or both\n" + seedUsage)
	}
	cfg, err := config.Load("piad seed", rest, getenv, stderr)
	if err != nil {
		return err
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
	rep, err := demo.Seed(ctx, demo.Deps{Accounts: svcs.accounts, Network: svcs.network, Reference: reference.NewService(db)}, demo.Options{
		Demo: so.demo, Scale: so.scale, RandSeed: so.randSeed,
		Progress: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	})
	if rep != nil {
		printSeedReport(stdout, rep, so.demo)
	}
	return err
}

// printSeedReport writes what was seeded and the demo accounts.
func printSeedReport(w io.Writer, rep *demo.Report, asked bool) {
	if asked {
		if rep.AlreadySeeded {
			fmt.Fprintln(w, "demo region: already seeded, nothing created")
		} else {
			fmt.Fprintf(w, "demo region: %d organizations, %d people (%d affiliations), %d working groups (%d members), %d practices, %d municipalities\n",
				rep.Organizations, rep.People, rep.Affiliations, rep.WorkingGroups, rep.Memberships, rep.Practices, rep.Municipalities)
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range rep.Accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Email, a.Name, a.Role)
	}
	_ = tw.Flush()
}
