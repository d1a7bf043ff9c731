package network_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// importFile imports testdata/name as the actor in ctx.
func (e *env) importFile(ctx context.Context, kind network.ImportKind, name string, dryRun bool) (*network.ImportReport, error) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.svc.Import(ctx, network.ImportRequest{Kind: kind, Filename: name, Data: bytes.NewReader(data), DryRun: dryRun})
}

// importText imports text given inline, as the actor in ctx.
func (e *env) importText(ctx context.Context, kind network.ImportKind, text string) (*network.ImportReport, error) {
	return e.svc.Import(ctx, network.ImportRequest{Kind: kind, Filename: "list.csv", Data: strings.NewReader(text)})
}

// wantReport checks a report's counts and that it has no errors.
func wantReport(t *testing.T, rep *network.ImportReport, err error, created, updated, unchanged int) {
	t.Helper()
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("import errors: %+v", rep.Errors)
	}
	if rep.Created != created || rep.Updated != updated || rep.Unchanged != unchanged || rep.Rows != created+updated+unchanged {
		t.Errorf("report: %d rows, created %d, updated %d, unchanged %d; want created %d, updated %d, unchanged %d",
			rep.Rows, rep.Created, rep.Updated, rep.Unchanged, created, updated, unchanged)
	}
}

// wantErrors checks a report's errors: row, column and code, in order.
func wantErrors(t *testing.T, rep *network.ImportReport, err error, want ...network.RowError) {
	t.Helper()
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	got := make([]network.RowError, len(rep.Errors))
	for i, re := range rep.Errors {
		if re.Message == "" {
			t.Errorf("error without a message: %+v", re)
		}
		got[i] = network.RowError{Row: re.Row, Column: re.Column, Code: re.Code}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %+v\nwant %+v\n(messages: %+v)", got, want, rep.Errors)
	}
}

// organizations is what the database holds about organizations, one line
// each, sorted: what a person would check after an import.
func organizations(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var rows []struct {
		ID                          int64
		Name, Kind, Level           string
		Website, Email, Phone, Code *string
		Territories, Themes         string
	}
	err := db.NewSelect().TableExpr("organizations AS o").
		ColumnExpr("o.id, o.name, o.kind, o.level, o.website, o.email, o.phone, o.tax_code AS code").
		ColumnExpr("(SELECT count(*) FROM organization_territories AS ot WHERE ot.organization_id = o.id) AS territories").
		ColumnExpr("(SELECT count(*) FROM organization_themes AS oth WHERE oth.organization_id = o.id) AS themes").
		Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		var terr, themes []string
		if err := db.NewSelect().TableExpr("organization_territories AS ot").Join("JOIN territories AS t ON t.id = ot.territory_id").
			ColumnExpr("t.code").Where("ot.organization_id = ?", r.ID).OrderExpr("t.code").Scan(context.Background(), &terr); err != nil {
			t.Fatal(err)
		}
		if err := db.NewSelect().TableExpr("organization_themes AS oth").Join("JOIN themes AS th ON th.id = oth.theme_id").
			ColumnExpr("th.code").Where("oth.organization_id = ?", r.ID).OrderExpr("th.code").Scan(context.Background(), &themes); err != nil {
			t.Fatal(err)
		}
		s := func(p *string) string {
			if p == nil {
				return "-"
			}
			return *p
		}
		out = append(out, strings.Join([]string{r.Name, r.Kind, r.Level, strings.Join(terr, "+"), strings.Join(themes, "+"),
			s(r.Website), s(r.Email), s(r.Phone), s(r.Code)}, " | "))
	}
	slices.Sort(out)
	return out
}

var wantOrganizations = []string{
	"ANCI Sicilia | OTHER_PUBLIC_BODY | REGIONAL |  |  | - | - | 091 6256111 | -",
	"Arci Siracusa | ASSOCIATION | PROVINCIAL | SR | EDUCATION | - | - | - | -",
	"Comune di Enna | MUNICIPALITY | MUNICIPAL | EN | HEALTH+HOUSING | https://www.comune.enna.it | protocollo@comune.enna.it | 0935 40111 | 00100490861",
	"Consorzio Nova | CONSORTIUM | PROVINCIAL | CL+EN | EDUCATION+WORK | - | info@consorzionova.it | - | -",
	"Oxfam Italia Intercultura | NGO | REGIONAL | EN+PA+SR |  | https://www.oxfamitalia.org | - | - | -",
}

// The same list saved as UTF-8 with commas, and by an Italian Excel (BOM,
// semicolons, Italian labels, territory names, other capitals), imports the
// same data; a dry run says what would happen and writes nothing; importing
// the list again changes nothing.
func TestImportOrganizations(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)

		rep, err := e.importFile(ctx, network.ImportOrganizations, "organizations.csv", true)
		wantReport(t, rep, err, 5, 0, 0)
		if !rep.DryRun || rep.Format != "CSV (UTF-8, comma)" || rep.Kind != network.ImportOrganizations {
			t.Errorf("dry run report: %+v", rep)
		}
		for _, table := range []string{"organizations", "organization_territories", "organization_themes"} {
			if n := e.count(table); n != 0 {
				t.Errorf("a dry run wrote %d rows in %s", n, table)
			}
		}

		rep, err = e.importFile(ctx, network.ImportOrganizations, "organizations.csv", false)
		wantReport(t, rep, err, 5, 0, 0)
		if got := organizations(t, db); !reflect.DeepEqual(got, wantOrganizations) {
			t.Errorf("organizations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantOrganizations, "\n"))
		}

		// The Excel file, into another database: the same organizations.
		other := newEnv(t, storagetest.Open(t, storage.EngineOf(db)))
		rep, err = other.importFile(as(other.admin), network.ImportOrganizations, "organizations_excel.csv", false)
		wantReport(t, rep, err, 5, 0, 0)
		if rep.Format != "CSV (UTF-8, BOM, semicolon)" {
			t.Errorf("format %q", rep.Format)
		}
		if got := organizations(t, other.db); !reflect.DeepEqual(got, wantOrganizations) {
			t.Errorf("organizations from the Excel file:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantOrganizations, "\n"))
		}

		// The Excel file again, on the first database: nothing to do.
		var before []time.Time
		if err := db.NewSelect().TableExpr("organizations").Column("updated_at").Order("id").Scan(context.Background(), &before); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		rep, err = e.importFile(ctx, network.ImportOrganizations, "organizations_excel.csv", false)
		wantReport(t, rep, err, 0, 0, 5)
		var after []time.Time
		if err := db.NewSelect().TableExpr("organizations").Column("updated_at").Order("id").Scan(context.Background(), &after); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) || e.count("organizations") != 5 {
			t.Errorf("an unchanged re-import touched organizations: %v → %v", before, after)
		}
	})
}

// An updated list updates what it matches (by tax code, by name in a shared
// territory, by name for a row without territories) and adds the rest; an
// empty cell leaves a field alone.
func TestImportUpdatesOrganizations(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		rep, err := e.importFile(ctx, network.ImportOrganizations, "organizations.csv", false)
		wantReport(t, rep, err, 5, 0, 0)

		rep, err = e.importText(ctx, network.ImportOrganizations, `nome,tipo,livello,territori,temi,email,codice_fiscale
Comune di Enna (Libero Consorzio),comune,comunale,,,,00100490861
consorzio nova,consorzio,provinciale,CL,,nova@consorzionova.it,01234567890
ANCI Sicilia,altro ente pubblico,regionale,,casa,,
Arci Siracusa,associazione,provinciale,SR,istruzione,,
Centro Penc,associazione,provinciale,PA,salute,,
`)
		wantReport(t, rep, err, 1, 3, 1)
		want := []string{
			"ANCI Sicilia | OTHER_PUBLIC_BODY | REGIONAL |  | HOUSING | - | - | 091 6256111 | -",
			"Arci Siracusa | ASSOCIATION | PROVINCIAL | SR | EDUCATION | - | - | - | -",
			"Centro Penc | ASSOCIATION | PROVINCIAL | PA | HEALTH | - | - | - | -",
			"Comune di Enna (Libero Consorzio) | MUNICIPALITY | MUNICIPAL | EN | HEALTH+HOUSING | https://www.comune.enna.it | protocollo@comune.enna.it | 0935 40111 | 00100490861",
			"Oxfam Italia Intercultura | NGO | REGIONAL | EN+PA+SR |  | https://www.oxfamitalia.org | - | - | -",
			"consorzio nova | CONSORTIUM | PROVINCIAL | CL | EDUCATION+WORK | - | nova@consorzionova.it | - | 01234567890",
		}
		if got := organizations(t, db); !reflect.DeepEqual(got, want) {
			t.Errorf("organizations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// One bad row: the report names its line and column, and nothing at all is
// written, not even the good rows.
func TestImportBadRow(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		rep, err := e.importFile(as(e.admin), network.ImportOrganizations, "organizations_bad.csv", false)
		wantErrors(t, rep, err, network.RowError{Row: 4, Column: "tipo", Code: apperr.BadInput})
		if !strings.Contains(rep.Errors[0].Message, "circolo") {
			t.Errorf("message %q does not quote the bad value", rep.Errors[0].Message)
		}
		if rep.Rows != 4 || rep.Created != 3 {
			t.Errorf("report %+v: want the 3 good rows counted", rep)
		}
		for _, table := range []string{"organizations", "organization_territories"} {
			if n := e.count(table); n != 0 {
				t.Errorf("a refused file wrote %d rows in %s", n, table)
			}
		}
	})
}

// Every bad row is reported, also after one that a building block refused
// inside the transaction (after which PostgreSQL may refuse every further
// statement: the rows then run in savepoints): the import goes on row by
// row, and writes nothing.
func TestImportReportsEveryError(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		rep, err := e.importFile(ctx, network.ImportOrganizations, "organizations.csv", false)
		wantReport(t, rep, err, 5, 0, 0)
		counts := map[string]int{"organizations": 5, "organization_territories": 7, "organization_themes": 5}

		rep, err = e.importText(ctx, network.ImportOrganizations, `nome;tipo;livello;territori;sito;codice_fiscale
Nuova Associazione;associazione;provinciale;AG;;
Consorzio Nova;consorzio;provinciale;EN;;00100490861
Altra Associazione;associazione;provinciale;Atlantide;;
Terza;associazione;provinciale;AG;non un sito;
Quarta;associazione
Nuova Associazione;associazione;provinciale;AG;;
Quinta;associazione;galattico;TP;;
Sesta;associazione;provinciale;TP;;123
`)
		wantErrors(t, rep, err,
			// The tax code is the Comune di Enna's: renaming it to a name taken in EN clashes.
			network.RowError{Row: 3, Column: "", Code: apperr.Conflict},
			network.RowError{Row: 4, Column: "territori", Code: apperr.BadInput},
			network.RowError{Row: 5, Column: "sito", Code: apperr.BadInput},
			network.RowError{Row: 6, Column: "", Code: apperr.BadInput}, // two cells
			network.RowError{Row: 7, Column: "nome", Code: apperr.BadInput},
			network.RowError{Row: 8, Column: "livello", Code: apperr.BadInput},
			network.RowError{Row: 9, Column: "codice_fiscale", Code: apperr.BadInput},
		)
		for table, n := range counts {
			if got := e.count(table); got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
	})
}

// A file the import cannot read at all is an error, not a report.
func TestImportRefusesFiles(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		for _, tc := range []struct {
			name, text string
			want       []string
		}{
			{"unknown columns", "nome,tipo,livello,colore,Note\nx,associazione,regionale,blu,\n", []string{`"colore"`, `"Note"`}},
			{"missing column", "nome,territori\nx,EN\n", []string{"tipo", "livello"}},
			{"the same column twice", "nome,name,tipo,livello\nx,x,associazione,regionale\n", []string{`"nome"`, `"name"`}},
			{"no rows", "nome,tipo,livello\n", []string{"no rows"}},
			{"empty", "", []string{"empty"}},
		} {
			_, err := e.importText(ctx, network.ImportOrganizations, tc.text)
			if !apperr.Is(err, apperr.BadInput) {
				t.Errorf("%s: %v, want BAD_USER_INPUT", tc.name, err)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %q does not mention %s", tc.name, err, w)
				}
			}
		}
		// A junk header comes back cut short, not whole.
		junk := "nome,tipo,livello," + strings.Repeat(strings.Repeat("z", 500)+",", 40) + "\nx,associazione,regionale\n"
		_, err := e.importText(ctx, network.ImportOrganizations, junk)
		if !apperr.Is(err, apperr.BadInput) || !strings.Contains(err.Error(), "and 30 more") || len(err.Error()) > 2000 {
			t.Errorf("junk header: %d characters: %.300v", len(fmt.Sprint(err)), err)
		}
		_, err = e.svc.Import(ctx, network.ImportRequest{Kind: "PRACTICES", Data: strings.NewReader("nome\nx\n")})
		wantKind(t, "unknown kind", err, apperr.BadInput)
		if n := e.count("organizations"); n != 0 {
			t.Errorf("%d organizations written", n)
		}
	})
}

// A coordinator imports organizations of their territory; a row elsewhere
// is a FORBIDDEN row error (and then nothing is written). A member may not
// import at all.
func TestImportAuthorization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		coordinator := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		member := e.actor("Marco Membro", map[string]access.TerritoryRole{"EN": access.Member})
		file := "nome,tipo,livello,territori\nAssociazione Ennese,associazione,provinciale,EN\nCentro Penc,associazione,provinciale,PA\n"

		rep, err := e.importText(as(coordinator), network.ImportOrganizations, file)
		wantErrors(t, rep, err, network.RowError{Row: 3, Column: "territori", Code: apperr.Forbidden})
		if n := e.count("organizations"); n != 0 {
			t.Errorf("%d organizations written", n)
		}

		rep, err = e.importText(as(coordinator), network.ImportOrganizations, "nome,tipo,livello,territori\nAssociazione Ennese,associazione,provinciale,EN\n")
		wantReport(t, rep, err, 1, 0, 0)

		_, err = e.importText(as(member), network.ImportOrganizations, file)
		wantKind(t, "member", err, apperr.Forbidden)
		_, err = e.importText(anon(), network.ImportOrganizations, file)
		wantKind(t, "anonymous", err, apperr.Unauthenticated)
		// Municipalities are the administrators'.
		rep, err = e.importText(as(coordinator), network.ImportMunicipalities, "nome,territorio\nEnna,EN\n")
		wantErrors(t, rep, err, network.RowError{Row: 2, Column: "territorio", Code: apperr.Forbidden})
		if n := e.count("municipalities"); n != 0 {
			t.Errorf("%d municipalities after the refused import, want 0", n)
		}
		if n := e.count("organizations"); n != 1 {
			t.Errorf("%d organizations, want 1", n)
		}
	})
}

// setUpNetwork imports the organizations and creates the working groups of
// EN and SR.
func (e *env) setUpNetwork() {
	e.t.Helper()
	ctx := as(e.admin)
	rep, err := e.importFile(ctx, network.ImportOrganizations, "organizations.csv", false)
	wantReport(e.t, rep, err, 5, 0, 0)
	for _, code := range []string{"EN", "SR"} {
		if _, err := e.svc.CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: code}); err != nil {
			e.t.Fatal(err)
		}
	}
}

type personLine struct {
	Name, Email, Phone, Language string
}

// people lists the people imported (not the test's actors), with their
// affiliations and memberships as "org/role/title" and "territory/role/org".
func people(t *testing.T, db *bun.DB) (ps []string, affiliations []string, memberships []string) {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		DisplayName string
		Email       *string
		Phone       *string
		Language    string
	}
	if err := db.NewSelect().TableExpr("people").Column("display_name", "email", "phone", "language").
		Where("display_name NOT IN (?)", bun.In([]string{"Ada Admin", "Carla Coordinatrice", "Marco Membro"})).
		Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		s := func(p *string) string {
			if p == nil {
				return "-"
			}
			return *p
		}
		ps = append(ps, fmt.Sprintf("%s | %s | %s | %s", r.DisplayName, s(r.Email), s(r.Phone), r.Language))
	}
	if err := db.NewSelect().TableExpr("affiliations AS af").Join("JOIN people AS p ON p.id = af.person_id").
		Join("JOIN organizations AS o ON o.id = af.organization_id").
		ColumnExpr("p.display_name || ' @ ' || o.name || ' / ' || af.role || ' / ' || coalesce(af.title, '-')").
		Where("af.ended_at IS NULL").Scan(ctx, &affiliations); err != nil {
		t.Fatal(err)
	}
	if err := db.NewSelect().TableExpr("working_group_members AS m").Join("JOIN people AS p ON p.id = m.person_id").
		Join("JOIN working_groups AS g ON g.id = m.working_group_id").Join("JOIN territories AS t ON t.id = g.territory_id").
		Join("LEFT JOIN organizations AS o ON o.id = m.organization_id").
		ColumnExpr("p.display_name || ' in ' || t.code || ' / ' || m.role || ' / ' || coalesce(o.name, '-')").
		Where("m.left_at IS NULL").Scan(ctx, &memberships); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ps)
	slices.Sort(affiliations)
	slices.Sort(memberships)
	return ps, affiliations, memberships
}

// A people file creates people, their affiliations and their working-group
// memberships; importing it again changes nothing; an updated file fills
// in what was missing, matching a person without email by name among the
// organization's affiliates.
func TestImportPeople(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.setUpNetwork()
		ctx := as(e.admin)

		rep, err := e.importFile(ctx, network.ImportPeople, "people.csv", false)
		// The fourth row is Maria Rossi again, with a second organization.
		wantReport(t, rep, err, 4, 1, 0)
		wantPeople := []string{
			"Amina Diallo | amina@arcisiracusa.it | +39 333 1234567 | en",
			"Giuseppe Bianchi | - | - | it",
			"Luca Verdi | luca.verdi@example.org | - | it",
			"Maria Rossi | maria.rossi@comune.enna.it | - | it",
		}
		wantAffiliations := []string{
			"Amina Diallo @ Arci Siracusa / REPRESENTATIVE / -",
			"Giuseppe Bianchi @ Consorzio Nova / DELEGATE / -",
			"Maria Rossi @ Comune di Enna / REPRESENTATIVE / assessora alle politiche sociali",
			"Maria Rossi @ Oxfam Italia Intercultura / STAFF / -",
		}
		wantMemberships := []string{
			"Amina Diallo in SR / OBSERVER / Arci Siracusa",
			"Giuseppe Bianchi in EN / MEMBER / Consorzio Nova",
			"Maria Rossi in EN / COORDINATOR / Comune di Enna",
		}
		check := func() {
			t.Helper()
			ps, afs, ms := people(t, db)
			if !reflect.DeepEqual(ps, wantPeople) {
				t.Errorf("people:\n%s\nwant\n%s", strings.Join(ps, "\n"), strings.Join(wantPeople, "\n"))
			}
			if !reflect.DeepEqual(afs, wantAffiliations) {
				t.Errorf("affiliations:\n%s\nwant\n%s", strings.Join(afs, "\n"), strings.Join(wantAffiliations, "\n"))
			}
			if !reflect.DeepEqual(ms, wantMemberships) {
				t.Errorf("memberships:\n%s\nwant\n%s", strings.Join(ms, "\n"), strings.Join(wantMemberships, "\n"))
			}
		}
		check()

		// Maria Rossi now coordinates Enna's working group.
		var maria int64
		if err := db.NewSelect().TableExpr("people").Column("id").Where("email = ?", "maria.rossi@comune.enna.it").Scan(context.Background(), &maria); err != nil {
			t.Fatal(err)
		}
		roles, err := e.svc.TerritoryRoles(context.Background(), maria)
		if err != nil || roles[e.territories["EN"]] != access.Coordinator {
			t.Errorf("Maria's roles: %v, %v; want COORDINATOR of EN", roles, err)
		}

		rep, err = e.importFile(ctx, network.ImportPeople, "people.csv", false)
		wantReport(t, rep, err, 0, 0, 5)
		check()

		// Giuseppe Bianchi, without email before, is found among the
		// Consorzio's affiliates; Luca Verdi, by email, joins Arci Siracusa.
		rep, err = e.importText(ctx, network.ImportPeople, `nome e cognome;email;telefono;organizzazione;territorio
giuseppe  bianchi;g.bianchi@consorzionova.it;0935 123456;Consorzio Nova;
Luca Verdi;luca.verdi@example.org;;Arci Siracusa;SR
`)
		wantReport(t, rep, err, 0, 2, 0)
		wantPeople[1] = "giuseppe bianchi | g.bianchi@consorzionova.it | 0935 123456 | it"
		slices.Sort(wantPeople)
		wantAffiliations = []string{
			"Amina Diallo @ Arci Siracusa / REPRESENTATIVE / -",
			"Luca Verdi @ Arci Siracusa / REPRESENTATIVE / -",
			"Maria Rossi @ Comune di Enna / REPRESENTATIVE / assessora alle politiche sociali",
			"Maria Rossi @ Oxfam Italia Intercultura / STAFF / -",
			"giuseppe bianchi @ Consorzio Nova / DELEGATE / -",
		}
		wantMemberships = []string{
			"Amina Diallo in SR / OBSERVER / Arci Siracusa",
			"Luca Verdi in SR / MEMBER / Arci Siracusa",
			"Maria Rossi in EN / COORDINATOR / Comune di Enna",
			"giuseppe bianchi in EN / MEMBER / Consorzio Nova",
		}
		check()
	})
}

// People rows are checked cell by cell, and a failure in a building block
// (an archived working group) is reported on the column it is about.
func TestImportPeopleErrors(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.setUpNetwork()
		ctx := as(e.admin)
		groups, err := e.svc.WorkingGroupsOfTerritories(ctx, []int64{e.territories["SR"]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ArchiveWorkingGroup(ctx, groups[e.territories["SR"]].ID, true); err != nil {
			t.Fatal(err)
		}
		before := map[string]int{}
		for _, table := range []string{"people", "affiliations", "working_group_members"} {
			before[table] = e.count(table)
		}
		rep, err := e.importText(ctx, network.ImportPeople, `nome,email,lingua,organizzazione,ruolo,territorio,ruolo_gruppo
Anna Neri,anna.neri@example.org,it,Consorzio Nova,delegato,EN,membro
Bruno,non-una-email,,,,,
Carlo,,francese,,,,
Dario,,,Ente Inesistente,,,
Elena,,,,rappresentante,,
Fabio,,,Arci Siracusa,,SR,
Gina,,,,,PA,
Ivo,,,Comune di Enna,capo,EN,
Lia,,,Comune di Enna,,,capo
Anna Neri,anna.neri@example.org,,Consorzio Nova,,EN,
`)
		wantErrors(t, rep, err,
			network.RowError{Row: 3, Column: "email", Code: apperr.BadInput},
			network.RowError{Row: 4, Column: "lingua", Code: apperr.BadInput},
			network.RowError{Row: 5, Column: "organizzazione", Code: apperr.NotFound},
			network.RowError{Row: 6, Column: "ruolo", Code: apperr.BadInput},
			network.RowError{Row: 7, Column: "territorio", Code: apperr.BadInput}, // SR's group is archived
			network.RowError{Row: 8, Column: "territorio", Code: apperr.BadInput}, // PA has no group
			network.RowError{Row: 9, Column: "ruolo", Code: apperr.BadInput},
			network.RowError{Row: 10, Column: "ruolo_gruppo", Code: apperr.BadInput},
			network.RowError{Row: 11, Column: "nome", Code: apperr.BadInput}, // repeats line 2
		)
		for table, n := range before {
			if got := e.count(table); got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
		// A coordinator of EN may not add people to SR's group, nor tie them to
		// an organization of SR only.
		coordinator := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		rep, err = e.importText(as(coordinator), network.ImportPeople, `nome,organizzazione,territorio
Paolo Gialli,Consorzio Nova,EN
Rita Blu,Arci Siracusa,
`)
		wantErrors(t, rep, err, network.RowError{Row: 3, Column: "organizzazione", Code: apperr.Forbidden})
	})
}

// TestImportPeopleChecksAsTheMethods: a people row needs what UpdatePerson
// (or CreatePerson), AddAffiliation and AddMember would need: EN's
// coordinator may not import a row matching an administrator or an account
// holder outside their groups, nor tie an EN member to a PA organization.
func TestImportPeopleChecksAsTheMethods(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		en, pa := e.group("EN"), e.group("PA")
		coordinator := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		e.join(en, coordinator.PersonID, access.Coordinator)
		e.rawOrg("Comune di Enna", "EN")
		e.rawOrg("Comune di Palermo", "PA")
		admin := e.newPerson("Ada Amministratrice", "ada@example.org")
		e.grant(admin.ID, access.Admin)
		e.giveAccount(admin.ID)
		policyInEN := e.newPerson("Paola Policy", "paola@example.org")
		e.grant(policyInEN.ID, access.PolicyMaker)
		e.join(en, policyInEN.ID, access.Member)
		account := e.newPerson("Invitata", "invitata@example.org")
		e.giveAccount(account.ID)
		elena := e.newPerson("Elena", "elena@example.org")
		e.join(en, elena.ID, access.Member)
		pietro := e.newPerson("Pietro", "pietro@example.org")
		e.join(pa, pietro.ID, access.Member)
		before := map[string]int{}
		for _, table := range []string{"people", "affiliations", "working_group_members"} {
			before[table] = e.count(table)
		}

		file := `nome,email,organizzazione,territorio
Ada Amministratrice,ada@example.org,,
Paola Policy,paola@example.org,Comune di Enna,EN
Invitata,invitata@example.org,Comune di Enna,EN
Elena,elena@example.org,Comune di Palermo,
Pietro,pietro@example.org,Comune di Enna,EN
Nuova,nuova@example.org,Comune di Enna,EN
Elena,elena@example.org,Comune di Enna,EN
`
		rep, err := e.importText(as(coordinator), network.ImportPeople, file)
		wantErrors(t, rep, err,
			network.RowError{Row: 2, Column: "", Code: apperr.Forbidden},
			network.RowError{Row: 3, Column: "", Code: apperr.Forbidden},
			network.RowError{Row: 4, Column: "", Code: apperr.Forbidden},
			network.RowError{Row: 5, Column: "organizzazione", Code: apperr.Forbidden},
			network.RowError{Row: 6, Column: "", Code: apperr.Forbidden})
		if rep.Created != 1 || rep.Updated != 1 {
			t.Errorf("report %+v: want the last two rows through", rep)
		}
		for table, n := range before {
			if got := e.count(table); got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}

		// Ada's row changes nothing; the others tie people to the EN
		// organization and group, or create Nuova.
		rep, err = e.importText(as(e.admin), network.ImportPeople, file)
		wantReport(t, rep, err, 1, 5, 1)
	})
}

// groupHistory is every membership period of the working group of
// territory, as "name ROLE joined–left" in the order they began, with
// times as hours after the test clock's start ("-" for a current one).
func (e *env) groupHistory(territory string) []string {
	e.t.Helper()
	ctx := as(e.admin)
	groups, err := e.svc.WorkingGroupsOfTerritories(ctx, []int64{e.territories[territory]})
	if err != nil {
		e.t.Fatal(err)
	}
	g := groups[e.territories[territory]].ID
	periods, err := e.svc.MembersOfGroups(ctx, []int64{g}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var out []string
	for _, m := range periods[g] {
		p, err := e.svc.Person(ctx, m.PersonID)
		if err != nil {
			e.t.Fatal(err)
		}
		left := "-"
		if m.LeftAt != nil {
			left = fmt.Sprintf("%gh", m.LeftAt.Sub(start).Hours())
		}
		out = append(out, fmt.Sprintf("%s %s %gh–%s", p.DisplayName, m.Role, m.JoinedAt.Sub(start).Hours(), left))
	}
	return out
}

// A re-import that gives other roles and titles changes the current
// affiliations, and the roles in the working groups by starting a new period
// of the membership, which the group's history shows; importing it again
// changes nothing more.
func TestImportChangesRoles(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.setUpNetwork()
		ctx := as(e.admin)
		rep, err := e.importFile(ctx, network.ImportPeople, "people.csv", false)
		wantReport(t, rep, err, 4, 1, 0)
		e.clock.Advance(2 * time.Hour)

		// Giuseppe Bianchi (no email: found among the Consorzio's
		// affiliates) becomes staff with a title and co-coordinates Enna's
		// group; Amina Diallo becomes a delegate and a full member.
		file := `nome,cognome,email,organizzazione,ruolo,qualifica,territorio,ruolo_gruppo
Giuseppe,Bianchi,,Consorzio Nova,personale,referente tecnico,EN,coordinatore
Amina,Diallo,amina@arcisiracusa.it,Arci Siracusa,delegata,,SR,membro
`
		rep, err = e.importText(ctx, network.ImportPeople, file)
		wantReport(t, rep, err, 0, 2, 0)
		_, afs, ms := people(t, db)
		wantAffiliations := []string{
			"Amina Diallo @ Arci Siracusa / DELEGATE / -",
			"Giuseppe Bianchi @ Consorzio Nova / STAFF / referente tecnico",
			"Maria Rossi @ Comune di Enna / REPRESENTATIVE / assessora alle politiche sociali",
			"Maria Rossi @ Oxfam Italia Intercultura / STAFF / -",
		}
		wantMemberships := []string{
			"Amina Diallo in SR / MEMBER / Arci Siracusa",
			"Giuseppe Bianchi in EN / COORDINATOR / Consorzio Nova",
			"Maria Rossi in EN / COORDINATOR / Comune di Enna",
		}
		if !reflect.DeepEqual(afs, wantAffiliations) {
			t.Errorf("affiliations:\n%s\nwant\n%s", strings.Join(afs, "\n"), strings.Join(wantAffiliations, "\n"))
		}
		if !reflect.DeepEqual(ms, wantMemberships) {
			t.Errorf("memberships:\n%s\nwant\n%s", strings.Join(ms, "\n"), strings.Join(wantMemberships, "\n"))
		}
		wantHistory := map[string][]string{
			"EN": {"Maria Rossi COORDINATOR 0h–-", "Giuseppe Bianchi MEMBER 0h–2h", "Giuseppe Bianchi COORDINATOR 2h–-"},
			"SR": {"Amina Diallo OBSERVER 0h–2h", "Amina Diallo MEMBER 2h–-"},
		}
		for code, want := range wantHistory {
			if got := e.groupHistory(code); !reflect.DeepEqual(got, want) {
				t.Errorf("history of %s: %q, want %q", code, got, want)
			}
		}

		e.clock.Advance(time.Hour)
		rep, err = e.importText(ctx, network.ImportPeople, file)
		wantReport(t, rep, err, 0, 0, 2)
		for code, want := range wantHistory {
			if got := e.groupHistory(code); !reflect.DeepEqual(got, want) {
				t.Errorf("history of %s after the same file again: %q, want %q", code, got, want)
			}
		}
	})
}

// A re-import by a coordinator that would leave a working group without a
// coordinator is a CONFLICT row error and writes nothing, as
// ChangeMemberRole refuses it; an administrator may, as with
// ChangeMemberRole.
func TestImportKeepsLastCoordinator(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.setUpNetwork()
		rep, err := e.importFile(as(e.admin), network.ImportPeople, "people.csv", false)
		wantReport(t, rep, err, 4, 1, 0)
		e.clock.Advance(time.Hour)
		coordinator := e.actor("Carla Coordinatrice", map[string]access.TerritoryRole{"EN": access.Coordinator})
		before := map[string]int{}
		for _, table := range []string{"people", "affiliations", "working_group_members"} {
			before[table] = e.count(table)
		}
		history := e.groupHistory("EN")

		file := `nome,cognome,email,territorio,ruolo_gruppo
Maria,Rossi,maria.rossi@comune.enna.it,EN,membro
Giuseppe,Bianchi,,EN,osservatore
`
		rep, err = e.importText(as(coordinator), network.ImportPeople, file)
		wantErrors(t, rep, err, network.RowError{Row: 2, Column: "ruolo_gruppo", Code: apperr.Conflict})
		if rep.Updated != 1 {
			t.Errorf("report %+v: want Giuseppe's row counted as updated", rep)
		}
		for table, n := range before {
			if got := e.count(table); got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
		if got := e.groupHistory("EN"); !reflect.DeepEqual(got, history) {
			t.Errorf("history of EN: %q, want it unchanged: %q", got, history)
		}

		rep, err = e.importText(as(e.admin), network.ImportPeople, file)
		wantReport(t, rep, err, 0, 2, 0)
		want := []string{"Maria Rossi COORDINATOR 0h–1h", "Giuseppe Bianchi MEMBER 0h–1h", "Maria Rossi MEMBER 1h–-", "Giuseppe Bianchi OBSERVER 1h–-"}
		if got := e.groupHistory("EN"); !reflect.DeepEqual(got, want) {
			t.Errorf("history of EN after the administrator's import: %q, want %q", got, want)
		}
	})
}

// An archived person is not tied to anything new by an import: a row error,
// and nothing written; a row that only names their current ties is fine.
func TestImportArchivedPerson(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		e.setUpNetwork()
		ctx := as(e.admin)
		rep, err := e.importFile(ctx, network.ImportPeople, "people.csv", false)
		wantReport(t, rep, err, 4, 1, 0)
		var maria int64
		if err := db.NewSelect().TableExpr("people").Column("id").Where("email = ?", "maria.rossi@comune.enna.it").Scan(context.Background(), &maria); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ArchivePerson(ctx, maria, true); err != nil {
			t.Fatal(err)
		}
		before := map[string]int{}
		for _, table := range []string{"people", "affiliations", "working_group_members"} {
			before[table] = e.count(table)
		}
		rep, err = e.importText(ctx, network.ImportPeople, `nome,email,organizzazione,territorio
Maria Rossi,maria.rossi@comune.enna.it,Consorzio Nova,
Maria Rossi,maria.rossi@comune.enna.it,,SR
Maria Rossi,maria.rossi@comune.enna.it,Comune di Enna,EN
`)
		wantErrors(t, rep, err,
			network.RowError{Row: 2, Column: "", Code: apperr.BadInput},
			network.RowError{Row: 3, Column: "", Code: apperr.BadInput})
		if rep.Unchanged != 1 {
			t.Errorf("report %+v: want the row naming her current ties unchanged", rep)
		}
		for table, n := range before {
			if got := e.count(table); got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
	})
}

// Municipalities: an ISTAT code that lost its leading zero in a spreadsheet
// is read right; a re-import with a corrected name updates it.
func TestImportMunicipalities(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		rep, err := e.importFile(ctx, network.ImportMunicipalities, "municipalities.csv", false)
		wantReport(t, rep, err, 4, 0, 0)
		rep, err = e.importFile(ctx, network.ImportMunicipalities, "municipalities.csv", false)
		wantReport(t, rep, err, 0, 0, 4)
		rep, err = e.importText(ctx, network.ImportMunicipalities, "nome,territorio,codice_istat\nEnna (capoluogo),EN,086009\nNoto,SR,089013\nAvola,SR,089002\n")
		wantReport(t, rep, err, 1, 2, 0)
		var got []string
		if err := db.NewSelect().TableExpr("municipalities AS m").Join("JOIN territories AS t ON t.id = m.territory_id").
			ColumnExpr("m.name || ' ' || t.code || ' ' || coalesce(m.istat_code, '-')").OrderExpr("m.name").Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		want := []string{"Avola SR 089002", "Enna (capoluogo) EN 086009", "Noto SR 089013", "Piazza Armerina EN 086014", "Siracusa SR 089017"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("municipalities %q, want %q", got, want)
		}
	})
}

// An XLSX workbook imports like the CSV file.
func TestImportXLSX(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		f := excelize.NewFile()
		defer f.Close()
		rows := [][]any{
			{"Nome", "Tipo", "Livello", "Territori", "Temi", "Sito", "Email", "Telefono", "Partita IVA"},
			{"Comune di Enna", "Comune", "Comunale", "EN", "salute, casa", "www.comune.enna.it", "protocollo@comune.enna.it", "0935 40111", "00100490861"},
			{"Consorzio Nova", "Consorzio", "Provinciale", "EN, CL", "lavoro, istruzione", nil, "info@consorzionova.it"},
			{"Arci Siracusa", "Associazione", "Provinciale", "SR", "istruzione"},
			{"Oxfam Italia Intercultura", "ONG", "Regionale", "PA, SR, EN", nil, "https://www.oxfamitalia.org"},
			{"ANCI Sicilia", "Altro ente pubblico", "Regionale", nil, nil, nil, nil, "091 6256111"},
		}
		for i, r := range rows {
			if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &r); err != nil {
				t.Fatal(err)
			}
		}
		buf, err := f.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.svc.Import(as(e.admin), network.ImportRequest{Kind: network.ImportOrganizations, Filename: "organizzazioni.xlsx", Data: buf})
		wantReport(t, rep, err, 5, 0, 0)
		if got := organizations(t, db); !reflect.DeepEqual(got, wantOrganizations) {
			t.Errorf("organizations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantOrganizations, "\n"))
		}
	})
}

// A row that fails in the database itself, which on PostgreSQL aborts the
// transaction, does not stop the import from checking the rows after it. A
// trigger stands in for the failure: it breaks a unique index when an
// organization named Boom is inserted.
func TestImportAfterDatabaseFailure(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		trigger := []string{`CREATE TRIGGER import_boom BEFORE INSERT ON organizations WHEN NEW.name = 'Boom'
			BEGIN INSERT INTO territories (id, code, name, istat_code) SELECT id, code, name, istat_code FROM territories LIMIT 1; END`}
		if storage.EngineOf(db) == storage.Postgres {
			trigger = []string{`CREATE FUNCTION import_boom() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					IF NEW.name = 'Boom' THEN
						INSERT INTO territories (id, code, name, istat_code) SELECT id, code, name, istat_code FROM territories LIMIT 1;
					END IF;
					RETURN NEW;
				END $$`,
				`CREATE TRIGGER import_boom BEFORE INSERT ON organizations FOR EACH ROW EXECUTE FUNCTION import_boom()`}
		}
		for _, q := range trigger {
			if _, err := db.ExecContext(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := e.importText(as(e.admin), network.ImportOrganizations, `nome,tipo,livello,territori
Prima,associazione,provinciale,EN
Boom,associazione,provinciale,EN
Seconda,associazione,provinciale,EN
Terza,circolo,provinciale,EN
`)
		wantErrors(t, rep, err,
			network.RowError{Row: 3, Column: "", Code: apperr.Conflict},
			network.RowError{Row: 5, Column: "tipo", Code: apperr.BadInput})
		if rep.Created != 2 {
			t.Errorf("report %+v: want the 2 good rows counted", rep)
		}
		if n := e.count("organizations"); n != 0 {
			t.Errorf("%d organizations written", n)
		}
	})
}

// benchmarkFiles builds an organizations file and a people file the size of
// a province's network: orgs organizations over the 9 territories, and
// perOrg people for each, every one an affiliate and a working-group member.
func benchmarkFiles(orgs, perOrg int) (organizations, people string) {
	territories := []string{"AG", "CL", "CT", "EN", "ME", "PA", "RG", "SR", "TP"}
	kinds := []string{"associazione", "cooperativa sociale", "comune", "ONG", "consorzio", "fondazione", "sindacato"}
	themes := []string{"salute", "istruzione", "lavoro", "casa"}
	var o, p strings.Builder
	o.WriteString("nome;tipo;livello;territori;temi;email;codice_fiscale\r\n")
	p.WriteString("nome;cognome;email;organizzazione;ruolo;territorio;ruolo_gruppo\r\n")
	for i := range orgs {
		t1, t2 := territories[i%9], territories[(i/9+i+1)%9]
		fmt.Fprintf(&o, "Organizzazione %d;%s;provinciale;%s, %s;%s, %s;info@org%d.example.org;%011d\r\n",
			i, kinds[i%len(kinds)], t1, t2, themes[i%4], themes[(i+1)%4], i, 10000000000+i)
		for j := range perOrg {
			role := "membro"
			if j == 0 && i < 9 {
				role = "coordinatore"
			}
			fmt.Fprintf(&p, "Persona;Numero %d-%d;persona.%d.%d@example.org;Organizzazione %d;rappresentante;%s;%s\r\n",
				i, j, i, j, i, t1, role)
		}
	}
	return o.String(), p.String()
}

// BenchmarkImport imports 500 organizations, then 2,500 people with their
// affiliations and memberships, into a fresh database per iteration. It
// also reports the statements each row costs, which do not depend on the
// machine.
func BenchmarkImport(b *testing.B) {
	orgFile, peopleFile := benchmarkFiles(500, 5)
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			var orgTime, peopleTime time.Duration
			var orgStatements, peopleStatements int64
			for range b.N {
				b.StopTimer()
				db := storagetest.Open(b, engine)
				svc := network.NewService(db, network.Options{})
				now := time.Now()
				admin := &account.Person{DisplayName: "Ada Admin", Language: "it", CreatedAt: now, UpdatedAt: now}
				if _, err := db.NewInsert().Model(admin).Exec(context.Background()); err != nil {
					b.Fatal(err)
				}
				ctx := as(&access.Actor{PersonID: admin.ID, SessionID: 1, GlobalRoles: []access.GlobalRole{access.Admin}})
				for _, code := range []string{"AG", "CL", "CT", "EN", "ME", "PA", "RG", "SR", "TP"} {
					if _, err := svc.CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: code}); err != nil {
						b.Fatal(err)
					}
				}
				statements := storage.CountStatements(db)
				b.StartTimer()
				start := time.Now()
				for _, f := range []struct {
					kind       network.ImportKind
					text       string
					rows       int
					took       *time.Duration
					statements *int64
				}{{network.ImportOrganizations, orgFile, 500, &orgTime, &orgStatements}, {network.ImportPeople, peopleFile, 2500, &peopleTime, &peopleStatements}} {
					rep, err := svc.Import(ctx, network.ImportRequest{Kind: f.kind, Filename: "list.csv", Data: strings.NewReader(f.text)})
					if err != nil || len(rep.Errors) > 0 || rep.Created != f.rows {
						b.Fatalf("%s: %v %+v", f.kind, err, rep)
					}
					*f.took += time.Since(start)
					*f.statements += statements.Count()
					statements.Reset()
					start = time.Now()
				}
			}
			b.ReportMetric(float64(orgTime.Microseconds())/float64(b.N*500), "µs/organization")
			b.ReportMetric(float64(peopleTime.Microseconds())/float64(b.N*2500), "µs/person")
			b.ReportMetric(float64(orgStatements)/float64(b.N*500), "statements/organization")
			b.ReportMetric(float64(peopleStatements)/float64(b.N*2500), "statements/person")
		})
	}
}

// TestImportWaitsForAnArchiving: an import that adds members to a group
// takes turns with an archiving of that group in progress, and then finds
// it archived, as AddMember does.
func TestImportWaitsForAnArchiving(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		en := e.group("EN")
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.NewUpdate().Model((*network.WorkingGroup)(nil)).Set("archived_at = ?", e.clock.Now()).
			Where("id = ?", en.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		type result struct {
			rep *network.ImportReport
			err error
		}
		done := make(chan result, 1)
		go func() {
			rep, err := e.importText(as(e.admin), network.ImportPeople, "nome,territorio\nMaria Rossi,EN\n")
			done <- result{rep, err}
		}()
		select {
		case r := <-done:
			_ = tx.Rollback()
			t.Fatalf("the import answered while the group was being archived: %+v, %v", r.rep, r.err)
		case <-time.After(300 * time.Millisecond):
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		wantErrors(t, r.rep, r.err, network.RowError{Row: 2, Column: "territorio", Code: apperr.BadInput})
		if n := e.count("working_group_members"); n != 0 {
			t.Errorf("%d memberships written", n)
		}
	})
}
