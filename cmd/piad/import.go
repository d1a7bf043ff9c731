package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/config"
	"github.com/pia-sicilia/pia/internal/network"
)

const importUsage = `usage: piad import -kind organizations|people|municipalities [-dry-run] [-as EMAIL] [flags] FILE
FILE is CSV (UTF-8 or Excel's, comma, semicolon or tab separated) or XLSX (the first sheet).
The other flags are serve's (the database).`

var importKinds = map[string]network.ImportKind{
	"organizations": network.ImportOrganizations, "organizzazioni": network.ImportOrganizations,
	"people": network.ImportPeople, "persone": network.ImportPeople,
	"municipalities": network.ImportMunicipalities, "comuni": network.ImportMunicipalities,
}

// importCmd is `piad import`: one file into the configured database, as an
// administrator. It prints the report and fails when the file has errors.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var kindName, as string
	var dryRun bool
	cfg, files, err := config.LoadCommand("piad import", importUsage, args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&kindName, "kind", "", "what FILE lists: organizations, people or municipalities")
		fs.BoolVar(&dryRun, "dry-run", false, "check FILE and report what would change, writing nothing")
		fs.StringVar(&as, "as", "", "the administrator to act as (default: the first administrator)")
	})
	if err != nil {
		return err
	}
	kind, ok := importKinds[strings.ToLower(strings.TrimSpace(kindName))]
	switch {
	case kindName == "" || len(files) == 0:
		return errors.New("import needs -kind and a file\n" + importUsage)
	case !ok:
		return fmt.Errorf("-kind %q: want organizations, people or municipalities", kindName)
	case len(files) > 1:
		return fmt.Errorf("import takes one file; got %q and %q\n%s", files[0], files[1], importUsage)
	}
	file := files[0]
	// The file first: a wrong path is reported before the database is opened.
	f, err := os.Open(file)
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
	admin, err := accounts.AdminActor(ctx, as)
	if err != nil {
		if as != "" {
			return fmt.Errorf("-as %s: %w", as, err)
		}
		return err
	}
	rep, err := svc.Import(access.WithActor(ctx, admin), network.ImportRequest{
		Kind: kind, Filename: filepath.Base(file), Data: f, DryRun: dryRun})
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	printImportReport(stdout, file, rep)
	if len(rep.Errors) > 0 {
		return fmt.Errorf("import %s: %d error(s), nothing was written", file, len(rep.Errors))
	}
	return nil
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
		fmt.Fprintf(w, "%d error(s): nothing was written; correct the file and import it again\n", len(rep.Errors))
	case rep.DryRun:
		fmt.Fprintln(w, "dry run: nothing was written")
	}
}
