package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"time"

	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
)

// ScaleReport says what scale mode did.
type ScaleReport struct {
	Scale float64
	// The generated region.
	Organizations, People, Affiliations, Memberships int
	// WorkingGroups is how many working groups scale mode had to create
	// (those the demo had not).
	WorkingGroups int
	// Files are the imports, in order.
	Files []ImportedFile
	// Elapsed is the time the imports took.
	Elapsed time.Duration
}

// ImportedFile is one file scale mode imported.
type ImportedFile struct {
	Name    string
	Rows    int
	Created int
	Updated int
	// Unchanged rows were there already: a second run.
	Unchanged int
	Elapsed   time.Duration
}

// chunkRows is the most rows scale mode puts in one file: an import is one
// transaction, and a file has at most sheet.MaxRows rows.
const chunkRows = 10_000

// seedScale generates the region of opts.Scale and imports it through
// network.Service.Import, the path organizers' spreadsheets take:
// organizations first, then people with their organizations and working
// groups.
func seedScale(ctx context.Context, d Deps, opts Options) (*ScaleReport, error) {
	seed := opts.RandSeed
	if seed == 0 {
		seed = 1
	}
	reg := generate(opts.Scale, seed)
	rep := &ScaleReport{Scale: opts.Scale, Organizations: len(reg.Orgs), People: len(reg.People), Memberships: len(reg.Members)}
	for _, p := range reg.People {
		rep.Affiliations += len(p.Affiliations)
	}
	opts.Progress("scale %g: %d organizations, %d people, %d affiliations, %d working-group members",
		opts.Scale, rep.Organizations, rep.People, rep.Affiliations, rep.Memberships)
	n, err := ensureGroups(ctx, d)
	if err != nil {
		return rep, err
	}
	rep.WorkingGroups = n
	start := time.Now()
	files := regionFiles(reg)
	for _, f := range files {
		opts.Progress("scale: importing %s (%d rows)", f.name, f.rows)
		t := time.Now()
		ir, err := d.Network.Import(ctx, network.ImportRequest{Kind: f.kind, Filename: f.name, Data: bytes.NewReader(f.data)})
		if err != nil {
			return rep, fmt.Errorf("import %s: %w", f.name, err)
		}
		if len(ir.Errors) > 0 {
			return rep, importErrors(f.name, ir.Errors)
		}
		rep.Files = append(rep.Files, ImportedFile{Name: f.name, Rows: ir.Rows, Created: ir.Created, Updated: ir.Updated,
			Unchanged: ir.Unchanged, Elapsed: time.Since(t)})
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// ensureGroups creates the working groups the region's members join, where
// the demo has not, and returns how many it created.
func ensureGroups(ctx context.Context, d Deps) (int, error) {
	ts, err := d.Reference.Territories(ctx)
	if err != nil {
		return 0, err
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	have, err := d.Network.WorkingGroupsOfTerritories(ctx, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range ts {
		if have[t.ID] != nil {
			continue
		}
		if _, err := d.Network.CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: t.Code}); err != nil {
			return n, fmt.Errorf("working group of %s: %w", t.Code, err)
		}
		n++
	}
	return n, nil
}

// importErrors turns an import's row errors into one error naming the
// first few: a generated file with errors is a bug of the generator.
func importErrors(name string, errs []network.RowError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "import %s: %d rows refused", name, len(errs))
	for i, e := range errs {
		if i == 5 {
			b.WriteString("; ...")
			break
		}
		fmt.Fprintf(&b, "; line %d %s: %s (%s)", e.Row, e.Column, e.Message, e.Code)
	}
	return fmt.Errorf("%s", b.String())
}

// file is one generated CSV file.
type file struct {
	name string
	kind network.ImportKind
	rows int
	data []byte
}

// The headers of the generated files, in the import's Italian names.
var (
	orgHeader    = []string{"nome", "tipo", "livello", "territori", "temi", "sito", "email"}
	personHeader = []string{"nome", "email", "telefono", "lingua", "organizzazione", "ruolo", "qualifica", "territorio", "ruolo_gruppo"}
)

// regionFiles writes reg as CSV files for the import, at most chunkRows
// rows each.
func regionFiles(reg *region) []file {
	var orgRows [][]string
	for _, o := range reg.Orgs {
		orgRows = append(orgRows, []string{o.Name, string(o.Kind), string(o.Level), strings.Join(o.Territories, "|"),
			joinThemes(o.Themes), o.Website, o.Email})
	}
	// A membership goes on the row of the affiliation it is on behalf of; a
	// second membership on behalf of the same organization (one working in
	// two territories) takes a row of its own.
	type key struct{ person, org int }
	member := map[key][]genMember{}
	for _, m := range reg.Members {
		member[key{m.Person, m.Org}] = append(member[key{m.Person, m.Org}], m)
	}
	// A person with two organizations takes two rows, matched by email.
	var people [][]string
	for pi, p := range reg.People {
		base := []string{p.Name, p.Email, p.Phone, p.Language}
		if len(p.Affiliations) == 0 {
			people = append(people, append(base, "", "", "", "", ""))
		}
		for _, a := range p.Affiliations {
			row := append(append([]string{}, base...), reg.Orgs[a.Org].Name, string(a.Role), a.Title, "", "")
			ms := member[key{pi, a.Org}]
			if len(ms) == 0 {
				people = append(people, row)
			}
			for _, m := range ms {
				r := append([]string{}, row...)
				r[7], r[8] = m.Territory, string(m.Role)
				people = append(people, r)
			}
		}
	}
	var out []file
	out = append(out, chunks("organizations", network.ImportOrganizations, orgHeader, orgRows)...)
	out = append(out, chunks("people", network.ImportPeople, personHeader, people)...)
	return out
}

// chunks writes rows under header as files of at most chunkRows rows.
func chunks(name string, kind network.ImportKind, header []string, rows [][]string) []file {
	var out []file
	for i := 0; i < len(rows); i += chunkRows {
		part := rows[i:min(i+chunkRows, len(rows))]
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(header) // a bytes.Buffer does not fail
		_ = w.WriteAll(part)
		out = append(out, file{name: fmt.Sprintf("%s-%d.csv", name, i/chunkRows+1), kind: kind, rows: len(part), data: buf.Bytes()})
	}
	return out
}

func joinThemes(ts []reference.ThemeCode) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, "|")
}
