package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/config"
	"github.com/pia-sicilia/pia/internal/network"
)

const importUsage = `usage: piad import --kind organizations|people|municipalities [--dry-run] [--as EMAIL] [flags] FILE
  --kind K     what FILE lists: organizations, people or municipalities
  --dry-run    check FILE and report what would change, writing nothing
  --as EMAIL   the administrator to act as (default: the first administrator)
FILE is CSV (UTF-8 or Excel's, comma, semicolon or tab separated) or XLSX (the first sheet).
the other flags are serve's (the database)`

// importOptions are import's own flags and its file.
type importOptions struct {
	kind   network.ImportKind
	dryRun bool
	as     string
	file   string
}

var importKinds = map[string]network.ImportKind{
	"organizations": network.ImportOrganizations, "organizzazioni": network.ImportOrganizations,
	"people": network.ImportPeople, "persone": network.ImportPeople,
	"municipalities": network.ImportMunicipalities, "comuni": network.ImportMunicipalities,
}

// parseImportArgs takes import's own flags and FILE out of args and leaves
// the others (the database settings, all of which take a value) to
// config.Load.
func parseImportArgs(args []string) (importOptions, []string, error) {
	var o importOptions
	var rest []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			if o.file != "" {
				return o, nil, fmt.Errorf("import takes one file; got %q and %q\n%s", o.file, arg, importUsage)
			}
			o.file = arg
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("--%s needs a value\n%s", name, importUsage)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "kind":
			v, err := next()
			if err != nil {
				return o, nil, err
			}
			k, ok := importKinds[strings.ToLower(strings.TrimSpace(v))]
			if !ok {
				return o, nil, fmt.Errorf("--kind %q: want organizations, people or municipalities", v)
			}
			o.kind = k
		case "dry-run":
			o.dryRun = !hasValue || value == "true"
		case "as":
			v, err := next()
			if err != nil {
				return o, nil, err
			}
			o.as = v
		case "h", "help":
			rest = append(rest, arg)
		default:
			// A setting of serve's: it takes a value.
			rest = append(rest, arg)
			if !hasValue && i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
		}
	}
	return o, rest, nil
}

// importCmd is `piad import`: one file into the configured database, as an
// administrator. It prints the report and fails when the file has errors.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, rest, err := parseImportArgs(args)
	if err != nil {
		return err
	}
	if asksHelp(rest) {
		fmt.Fprintln(stderr, importUsage)
		fmt.Fprintln(stderr)
	} else if o.kind == "" || o.file == "" {
		return errors.New("import needs --kind and a file\n" + importUsage)
	}
	cfg, err := config.Load("piad import", rest, getenv, stderr)
	if err != nil {
		return err
	}
	// The file first: a wrong path is reported before the database is opened.
	f, err := os.Open(o.file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	db, _, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	svcs, err := newServices(db, cfg, newLogger(cfg, stderr), nil)
	if err != nil {
		return err
	}
	svc, accounts := svcs.network, svcs.accounts
	// Whoever runs piad on this database may act as any administrator: it
	// could write to the database anyway.
	admin, err := accounts.AdminActor(ctx, o.as)
	if err != nil {
		if o.as != "" {
			return fmt.Errorf("--as %s: %w", o.as, err)
		}
		return err
	}
	rep, err := svc.Import(access.WithActor(ctx, admin), network.ImportRequest{
		Kind: o.kind, Filename: filepath.Base(o.file), Data: f, DryRun: o.dryRun})
	if err != nil {
		return fmt.Errorf("import %s: %w", o.file, err)
	}
	printImportReport(stdout, o.file, rep)
	if len(rep.Errors) > 0 {
		return fmt.Errorf("import %s: %d errors, nothing was written", o.file, len(rep.Errors))
	}
	return nil
}

func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}

// printImportReport writes what the import did, then each error as
// `line 7, column "tipo": BAD_USER_INPUT: ...`.
func printImportReport(w io.Writer, file string, rep *network.ImportReport) {
	fmt.Fprintf(w, "%s: %s, %d rows: %d created, %d updated, %d unchanged\n",
		file, rep.Format, rep.Rows, rep.Created, rep.Updated, rep.Unchanged)
	for _, e := range rep.Errors {
		where := fmt.Sprintf("line %d", e.Row)
		if e.Column != "" {
			where += fmt.Sprintf(", column %q", e.Column)
		}
		fmt.Fprintf(w, "%s: %s: %s\n", where, e.Code, e.Message)
	}
	switch {
	case len(rep.Errors) > 0:
		fmt.Fprintf(w, "%d errors: nothing was written; correct the file and import it again\n", len(rep.Errors))
	case rep.DryRun:
		fmt.Fprintln(w, "dry run: nothing was written")
	}
}
