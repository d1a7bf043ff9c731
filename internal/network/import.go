package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/uptrace/bun"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/sheet"
	"github.com/pia-sicilia/pia/internal/storage"
)

// ImportKind is what a file holds.
type ImportKind string

// The import kinds.
const (
	ImportOrganizations  ImportKind = "ORGANIZATIONS"
	ImportPeople         ImportKind = "PEOPLE"
	ImportMunicipalities ImportKind = "MUNICIPALITIES"
)

// ImportRequest is one file to import.
type ImportRequest struct {
	Kind     ImportKind
	Filename string // to tell XLSX from CSV when the content does not
	Data     io.Reader
	DryRun   bool
}

// RowError is a problem with one cell or row of an imported file.
type RowError struct {
	Row     int    // the line (CSV) or row (XLSX) number, the header being 1
	Column  string // the column's header as written in the file; "" for the whole row
	Code    apperr.Kind
	Message string
}

// ImportReport says what an import did, or would do in a dry run. When
// there are errors, Created, Updated and Unchanged count the rows that
// would have gone through, though nothing was written.
type ImportReport struct {
	Kind      ImportKind
	DryRun    bool
	Format    string // such as "CSV (UTF-8, comma)", "CSV (UTF-8, BOM, semicolon)", "XLSX (sheet "Foglio1")"
	Rows      int    // data rows read
	Created   int
	Updated   int
	Unchanged int
	Errors    []RowError // when not empty, nothing was written
}

const importOp = "network.Import"

// Import reads a CSV or XLSX file of organizations, people or municipalities
// and writes it all or nothing. Problems with rows are in the report (and
// then nothing is written); a file that cannot be read at all, or lacks a
// required column, is BAD_USER_INPUT.
//
// The actor needs ImportNetwork, and for each row what the same change
// made with the exported methods needs, checked by the same helpers
// (authorize.go): for an organization, ManageOrganization on its
// territories and on each territory it is put into or taken out of; for a
// person, CreatePerson or UpdatePerson, ManageOrganization on the
// organization they are tied to and EnrolPerson, ManageWorkingGroup on the
// territory whose group they join and EnrolPerson (ManageWorkingGroup
// alone to change their role there); ManageMunicipality. A row the actor
// may not import is a FORBIDDEN row error.
//
// Rows are matched with what is there, so that importing an updated list
// again updates rather than duplicates: organizations by tax code, else by
// name in a territory they share (or, for a row without territories, by
// name); people by email, else by name among the current affiliates of the
// row's organization (or the current members of the row's territory's
// working group); municipalities by ISTAT code, else by name in their
// territory. A matched row changes the fields its cells give (an empty cell
// leaves a field as it is) and, for a person, adds the affiliation and the
// membership the row names when they are not current yet, or changes the
// role and title of the current affiliation, and the role in the working
// group (a new period of the membership's history), when its cells give
// others. Demoting a group's last coordinator is refused as for
// ChangeMemberRole: a CONFLICT row error.
func (s *Service) Import(ctx context.Context, req ImportRequest) (*ImportReport, error) {
	if err := access.Check(ctx, access.ImportNetwork, access.Resource{}); err != nil {
		return nil, err
	}
	spec, ok := importSpecs[req.Kind]
	if !ok {
		return nil, apperr.Invalid(importOp, "kind", "%q is not something PIA imports; use ORGANIZATIONS, PEOPLE or MUNICIPALITIES", req.Kind)
	}
	if req.Data == nil {
		return nil, apperr.Invalid(importOp, "file", "no file was sent")
	}
	tab, err := sheet.Read(req.Data, req.Filename)
	if err != nil {
		return nil, apperr.Wrap(importOp, err)
	}
	cols, err := spec.bind(tab)
	if err != nil {
		return nil, err
	}
	if len(tab.Rows) == 0 {
		return nil, apperr.Invalid(importOp, "file", "the file has a header but no rows under it")
	}
	im, err := s.importRows(ctx, spec, tab, cols, req.DryRun)
	if err != nil {
		return nil, err
	}
	return &ImportReport{Kind: req.Kind, DryRun: req.DryRun, Format: tab.Format, Rows: len(tab.Rows),
		Created: im.created, Updated: im.updated, Unchanged: im.unchanged, Errors: im.errs}, nil
}

// importRows runs the rows in one transaction, rolled back when any row
// fails or for a dry run. The first pass writes row after row. A building
// block that fails may have aborted the transaction (PostgreSQL refuses
// every statement after a failed one), so the import then starts again,
// each row in a savepoint of its own, to find every other bad row:
// savepoints cost a round trip each and, on PostgreSQL, a subtransaction,
// which only a failing file pays.
func (s *Service) importRows(ctx context.Context, spec *importSpec, tab *sheet.Table, cols map[string]int, dryRun bool) (*importer, error) {
	for _, savepoints := range []bool{false, true} {
		im := &importer{s: s, spec: spec, tab: tab, cols: cols, savepoints: savepoints, seen: map[string]int{}}
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			im.tx = tx
			if err := im.run(ctx); err != nil {
				return err
			}
			if len(im.errs) > 0 || dryRun {
				return errRollback
			}
			return nil
		})
		switch {
		case errors.Is(err, errRetry):
			continue
		case err != nil && !errors.Is(err, errRollback):
			return nil, apperr.Wrap(importOp, err)
		case err == nil:
			// Committed: the people whose territory roles changed start
			// their connections again (a dry run or a failed file changed
			// nobody's).
			s.rolesChanged(im.roleChanged...)
		}
		return im, nil
	}
	return nil, apperr.E(apperr.Internal, importOp, "the import did not finish")
}

var (
	// errRollback ends a transaction that must write nothing: a dry run, or
	// a file with errors.
	errRollback = errors.New("import: roll back")
	// errRetry ends the first pass when a building block failed.
	errRetry = errors.New("import: retry with savepoints")
)

// outcome is what a row did.
type outcome int

const (
	rowCreated outcome = iota + 1
	rowUpdated
	rowUnchanged
)

// importer is one pass over a file, in one transaction. Its indexes hold
// what the file refers to, read in a few statements before the first row,
// and follow the rows' writes.
type importer struct {
	s          *Service
	tx         bun.Tx
	spec       *importSpec
	tab        *sheet.Table
	cols       map[string]int // column key → cell index
	savepoints bool

	created, updated, unchanged int
	errs                        []RowError
	seen                        map[string]int // a row's identity in the file → its line
	// roleChanged is the people whose membership the pass added or whose
	// role it changed, announced once the transaction commits.
	roleChanged []int64

	refs   *refIndex
	orgs   *orgIndex
	people *peopleIndex
	groups map[int64]*WorkingGroup // by territory id
	munis  *muniIndex
}

func (im *importer) run(ctx context.Context) error {
	refs, err := im.s.importRefs(ctx, im.tx)
	if err != nil {
		return err
	}
	im.refs = refs
	if err := im.spec.prepare(ctx, im); err != nil {
		return err
	}
	for _, r := range im.tab.Rows {
		if err := im.row(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// row imports one row; it returns an error only when the whole import must
// stop. In the savepoint pass, a failed row's writes are undone.
func (im *importer) row(ctx context.Context, r sheet.Row) error {
	if n, want := len(r.Cells), len(im.tab.Header); n != want {
		im.fail(r.Line, "", apperr.Invalid(importOp, "", "this row has %d cells but the header has %d columns: look for a missing or extra separator", n, want))
		return nil
	}
	if !im.savepoints {
		return im.apply(ctx, r)
	}
	if _, err := im.tx.ExecContext(ctx, "SAVEPOINT import_row"); err != nil {
		return err
	}
	failed := len(im.errs)
	if err := im.apply(ctx, r); err != nil {
		return err
	}
	if len(im.errs) > failed {
		if _, err := im.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_row"); err != nil {
			return err
		}
	}
	_, err := im.tx.ExecContext(ctx, "RELEASE SAVEPOINT import_row")
	return err
}

// apply runs the row's handler and counts what it did, or records why not.
func (im *importer) apply(ctx context.Context, r sheet.Row) error {
	out, err := im.spec.handle(ctx, im, rowCells{im: im, row: r})
	var ce *cellError
	switch {
	case err == nil:
		switch out {
		case rowCreated:
			im.created++
		case rowUpdated:
			im.updated++
		default:
			im.unchanged++
		}
	case errors.As(err, &ce):
		if ce.written && !im.savepoints {
			return errRetry
		}
		im.fail(r.Line, ce.key, ce.err)
	default:
		return err
	}
	return nil
}

// fail records a row error, naming the column of key as the file writes it.
func (im *importer) fail(line int, key string, err error) {
	kind, msg, _ := apperr.Public(err)
	col := ""
	if i, ok := im.cols[key]; ok {
		col = im.tab.Header[i]
	}
	im.errs = append(im.errs, RowError{Row: line, Column: col, Code: kind, Message: msg})
}

// duplicate refuses a row whose identity an earlier row of the file had:
// the file would say two things about one entry.
func (im *importer) duplicate(line int, key string, what ...string) error {
	for _, w := range what {
		if first, ok := im.seen[w]; ok {
			return cellBad(key, "this row repeats line %d", first)
		}
	}
	for _, w := range what {
		im.seen[w] = line
	}
	return nil
}

// rowCells is one row's cells, by column key.
type rowCells struct {
	im  *importer
	row sheet.Row
}

// get is the trimmed cell of column key; "" when the file has no such column.
func (c rowCells) get(key string) string {
	i, ok := c.im.cols[key]
	if !ok {
		return ""
	}
	return strings.TrimSpace(c.row.Cells[i])
}

// opt is get as an optional value: nil when empty.
func (c rowCells) opt(key string) *string {
	if v := c.get(key); v != "" {
		return &v
	}
	return nil
}

// cellError is a row error about the cell of one column ("" for the whole
// row). written marks an error from a building block, after which the
// transaction may be unusable.
type cellError struct {
	key     string
	err     error
	written bool
}

func (e *cellError) Error() string { return e.key + ": " + e.err.Error() }
func (e *cellError) Unwrap() error { return e.err }

// cellErr attaches the column of key to an application error; anything else
// stops the import.
func cellErr(key string, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind == apperr.Internal {
		return err
	}
	return &cellError{key: key, err: err}
}

func cellBad(key, format string, args ...any) error {
	return &cellError{key: key, err: apperr.Invalid(importOp, key, format, args...)}
}

// blockErr maps the error of a building block to the column of the field it
// names (fields: the block's field names, folded, to column keys).
func blockErr(fields map[string]string, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind == apperr.Internal {
		return err
	}
	return &cellError{key: fields[strings.ToLower(ae.Field)], err: err, written: true}
}

// The columns of each kind of file.

// importColumn is one column a file may have: its key and the header names
// it is known by, folded (see foldHeader); the first two, Italian and
// English, are the ones messages show.
type importColumn struct {
	key      string
	names    []string
	required bool
}

// importSpec is one kind of file: its columns, what to read before the
// first row, and what to do with each row.
type importSpec struct {
	noun    string
	columns []importColumn
	prepare func(ctx context.Context, im *importer) error
	handle  func(ctx context.Context, im *importer, c rowCells) (outcome, error)
}

var importSpecs = map[ImportKind]*importSpec{
	ImportOrganizations: {
		noun: "organizations",
		columns: []importColumn{
			{key: "name", names: []string{"nome", "name", "denominazione", "ragione_sociale"}, required: true},
			{key: "kind", names: []string{"tipo", "kind", "tipologia"}, required: true},
			{key: "level", names: []string{"livello", "level"}, required: true},
			{key: "territories", names: []string{"territori", "territories", "territorio", "territory", "province", "provincia"}},
			{key: "themes", names: []string{"temi", "themes", "tema", "theme"}},
			{key: "website", names: []string{"sito", "website", "sito_web", "sito_internet", "web"}},
			{key: "email", names: []string{"email", "e_mail", "mail", "pec"}},
			{key: "phone", names: []string{"telefono", "phone", "tel"}},
			{key: "taxCode", names: []string{"codice_fiscale", "tax_code", "partita_iva", "p_iva", "piva", "cf", "codice_fiscale_partita_iva", "cf_p_iva"}},
		},
		prepare: prepareOrganizations,
		handle:  importOrganization,
	},
	ImportPeople: {
		noun: "people",
		columns: []importColumn{
			{key: "name", names: []string{"nome", "name", "display_name", "nome_e_cognome", "nome_cognome", "nominativo"}, required: true},
			{key: "surname", names: []string{"cognome", "surname", "last_name", "family_name"}},
			{key: "email", names: []string{"email", "e_mail", "mail"}},
			{key: "phone", names: []string{"telefono", "phone", "tel", "cellulare", "mobile"}},
			{key: "language", names: []string{"lingua", "language"}},
			{key: "organization", names: []string{"organizzazione", "organization", "ente"}},
			{key: "role", names: []string{"ruolo", "role"}},
			{key: "title", names: []string{"qualifica", "title", "incarico"}},
			{key: "territory", names: []string{"territorio", "territory", "provincia", "province"}},
			{key: "groupRole", names: []string{"ruolo_gruppo", "group_role", "ruolo_nel_gruppo", "ruolo_gruppo_di_lavoro"}},
		},
		prepare: preparePeople,
		handle:  importPerson,
	},
	ImportMunicipalities: {
		noun: "municipalities",
		columns: []importColumn{
			{key: "name", names: []string{"nome", "name", "comune", "denominazione"}, required: true},
			{key: "territory", names: []string{"territorio", "territory", "provincia", "province"}, required: true},
			{key: "istatCode", names: []string{"codice_istat", "istat_code", "istat", "codice_comune"}},
		},
		prepare: prepareMunicipalities,
		handle:  importMunicipality,
	},
}

// bind maps the file's header to column keys. A missing required column, an
// unknown column, two columns for one thing, or a column without a header
// but with values: BAD_USER_INPUT for the whole file.
func (sp *importSpec) bind(tab *sheet.Table) (map[string]int, error) {
	byName := map[string]string{}
	for _, c := range sp.columns {
		for _, n := range c.names {
			byName[n] = c.key
		}
	}
	cols := map[string]int{}
	var unknown []string
	for i, h := range tab.Header {
		if h == "" {
			if columnUsed(tab, i) {
				return nil, apperr.Invalid(importOp, "file", "column %d has values but no name in the header", i+1)
			}
			continue
		}
		key, ok := byName[foldHeader(h)]
		if !ok {
			unknown = append(unknown, quoteShort(h))
			continue
		}
		if j, dup := cols[key]; dup {
			return nil, apperr.Invalid(importOp, "file", "the columns %q and %q say the same thing (%s): keep one", tab.Header[j], h, sp.display(key))
		}
		cols[key] = i
	}
	if len(unknown) > 0 {
		// A junk header (a binary file read as text) must not come back whole.
		const most = 10
		if n := len(unknown); n > most {
			unknown = append(unknown[:most], fmt.Sprintf("and %d more", n-most))
		}
		return nil, apperr.Invalid(importOp, "file", "unknown columns %s; a file of %s has the columns %s",
			strings.Join(unknown, ", "), sp.noun, sp.list(func(importColumn) bool { return true }))
	}
	var missing []string
	for _, c := range sp.columns {
		if _, ok := cols[c.key]; c.required && !ok {
			missing = append(missing, sp.display(c.key))
		}
	}
	if len(missing) > 0 {
		return nil, apperr.Invalid(importOp, "file", "a file of %s needs the columns %s; missing: %s",
			sp.noun, sp.list(func(c importColumn) bool { return c.required }), strings.Join(missing, ", "))
	}
	return cols, nil
}

// quoteShort quotes a header for a message, cut to 60 characters.
func quoteShort(h string) string {
	if r := []rune(h); len(r) > 60 {
		h = string(r[:60]) + "…"
	}
	return strconv.Quote(h)
}

// display names a column in messages: "tipo (kind)".
func (sp *importSpec) display(key string) string {
	for _, c := range sp.columns {
		if c.key == key {
			return c.names[0] + " (" + c.names[1] + ")"
		}
	}
	return key
}

func (sp *importSpec) list(keep func(importColumn) bool) string {
	var out []string
	for _, c := range sp.columns {
		if keep(c) {
			out = append(out, sp.display(c.key))
		}
	}
	return strings.Join(out, ", ")
}

func columnUsed(tab *sheet.Table, i int) bool {
	for _, r := range tab.Rows {
		if i < len(r.Cells) && strings.TrimSpace(r.Cells[i]) != "" {
			return true
		}
	}
	return false
}

// Folding, for header names and enum cells.

// stripAccents drops combining marks: "Città" → "Citta".
func stripAccents(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
			if err != nil {
				return s
			}
			return out
		}
	}
	return s
}

// foldHeader folds a header name: lower case, no accents, words joined by
// "_": "Codice fiscale", "codice-fiscale" and "CODICE_FISCALE" are one.
func foldHeader(s string) string {
	s = strings.ToLower(stripAccents(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), "_")
}

// foldValue folds an enum cell: lower case, no accents, single spaces, "_"
// and "-" as spaces, one kind of apostrophe: "Centro per l’impiego" and
// "CENTRO_PER_L'IMPIEGO" are one.
func foldValue(s string) string {
	s = strings.ToLower(stripAccents(s))
	s = strings.NewReplacer("_", " ", "-", " ", "’", "'", "‘", "'", "`", "'").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// cellEnum parses the cells of an enum: its codes in any case, and labels.
type cellEnum[T ~string] map[string]T

func newCellEnum[T ~string](values []T, labels map[T][]string) cellEnum[T] {
	e := cellEnum[T]{}
	for _, v := range values {
		e[foldValue(string(v))] = v
		for _, l := range labels[v] {
			e[foldValue(l)] = v
		}
	}
	return e
}

func (e cellEnum[T]) parse(s string) (T, bool) {
	v, ok := e[foldValue(s)]
	return v, ok
}

var importKinds = newCellEnum(Kinds, map[Kind][]string{
	KindMinistry:                    {"ministero"},
	KindRegion:                      {"regione"},
	KindMunicipality:                {"comune", "ente locale"},
	KindHealthAuthority:             {"azienda sanitaria", "azienda sanitaria provinciale", "asp", "asl"},
	KindSchool:                      {"scuola", "istituto scolastico"},
	KindCPIA:                        {"centro provinciale per l'istruzione degli adulti"},
	KindEmploymentCentre:            {"centro per l'impiego", "centro impiego", "cpi"},
	KindPrefecture:                  {"prefettura"},
	KindUniversity:                  {"università", "ateneo"},
	KindOtherPublicBody:             {"altro ente pubblico", "ente pubblico"},
	KindAssociation:                 {"associazione"},
	KindSocialCooperative:           {"cooperativa sociale", "cooperativa"},
	KindConsortium:                  {"consorzio"},
	KindFoundation:                  {"fondazione"},
	KindNGO:                         {"ong", "organizzazione non governativa"},
	KindVolunteerOrganization:       {"organizzazione di volontariato", "odv"},
	KindCompany:                     {"impresa", "azienda", "società"},
	KindTradeAssociation:            {"associazione di categoria"},
	KindUnion:                       {"sindacato"},
	KindMigrantCommunityAssociation: {"associazione di migranti", "associazione di comunità migranti", "associazione migranti", "comunità migrante"},
})

var importLevels = newCellEnum(Levels, map[Level][]string{
	LevelNational: {"nazionale"}, LevelRegional: {"regionale"}, LevelProvincial: {"provinciale"}, LevelMunicipal: {"comunale"},
})

var importAffiliationRoles = newCellEnum(AffiliationRoles, map[AffiliationRole][]string{
	Representative: {"rappresentante", "referente"}, Delegate: {"delegato", "delegata"}, Staff: {"personale", "operatore", "operatrice"},
})

var importGroupRoles = newCellEnum(access.TerritoryRoles, map[access.TerritoryRole][]string{
	access.Coordinator: {"coordinatore", "coordinatrice"}, access.Member: {"membro", "componente"}, access.Observer: {"osservatore", "osservatrice"},
})

var importLanguages = cellEnum[string]{"it": "it", "italiano": "it", "italian": "it", "en": "en", "inglese": "en", "english": "en"}

// splitList splits a list cell: "EN, PA", "EN|PA" or "EN; PA".
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func enumCodes[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// refIndex is the reference data, by code and by name folded.
type refIndex struct {
	territories map[string]*reference.Territory
	themes      map[string]*reference.Theme
}

// importRefs indexes the reference data for the cells of a file.
func (s *Service) importRefs(ctx context.Context, db bun.IDB) (*refIndex, error) {
	refs, err := s.references(ctx, db, importOp)
	if err != nil {
		return nil, err
	}
	x := &refIndex{territories: map[string]*reference.Territory{}, themes: map[string]*reference.Theme{}}
	for _, t := range refs.territories {
		x.territories[foldValue(t.Code)] = t
		x.territories[foldValue(t.Name)] = t
	}
	for _, t := range refs.themes {
		for _, n := range []string{string(t.Code), t.LabelIt, t.LabelEn} {
			x.themes[foldValue(n)] = t
		}
	}
	return x, nil
}

// territory parses one territory: its code ("EN") or name ("Enna").
func (x *refIndex) territory(key, s string) (*reference.Territory, error) {
	t, ok := x.territories[foldValue(s)]
	if !ok {
		return nil, cellBad(key, "%q is not a territory: use a province's code or name, such as EN or Enna", s)
	}
	return t, nil
}

// territoryList parses a list of territories into their codes and sorted ids.
func (x *refIndex) territoryList(key, s string) ([]string, []int64, error) {
	var enumCodes []string
	var ids []int64
	for _, p := range splitList(s) {
		t, err := x.territory(key, p)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(ids, t.ID) {
			enumCodes, ids = append(enumCodes, t.Code), append(ids, t.ID)
		}
	}
	slices.Sort(ids)
	return enumCodes, ids, nil
}

// themeList parses a list of themes (code, Italian or English label).
func (x *refIndex) themeList(key, s string) ([]reference.ThemeCode, []int64, error) {
	var enumCodes []reference.ThemeCode
	var ids []int64
	for _, p := range splitList(s) {
		t, ok := x.themes[foldValue(p)]
		if !ok {
			return nil, nil, cellBad(key, "%q is not a theme: use HEALTH, EDUCATION, WORK or HOUSING (salute, istruzione, lavoro, casa)", p)
		}
		if !slices.Contains(ids, t.ID) {
			enumCodes, ids = append(enumCodes, t.Code), append(ids, t.ID)
		}
	}
	slices.Sort(ids)
	return enumCodes, ids, nil
}

// inChunks runs fn on values in slices of at most 1,000, so that no
// statement grows with the file.
func inChunks[T any](values []T, fn func([]T) error) error {
	for len(values) > 0 {
		n := min(len(values), 1000)
		if err := fn(values[:n]); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// sharesAny reports whether two sorted id lists have an id in common.
func sharesAny(a, b []int64) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			return true
		}
	}
	return false
}

func unionIDs(a, b []int64) []int64 {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// Organizations.

// orgEntry is an organization with its territories and themes (sorted ids).
type orgEntry struct {
	o      *Organization
	terr   []int64
	themes []int64
}

// orgIndex holds the organizations a file refers to.
type orgIndex struct {
	byTax  map[string]*orgEntry
	byName map[string][]*orgEntry // by NameKey, in id order
}

// loadImportOrgs reads the organizations with one of taxCodes or nameKeys, with
// their territories and themes.
func loadImportOrgs(ctx context.Context, db bun.IDB, taxCodes, nameKeys []string) (*orgIndex, error) {
	x := &orgIndex{byTax: map[string]*orgEntry{}, byName: map[string][]*orgEntry{}}
	found := map[int64]*orgEntry{}
	load := func(col string) func([]string) error {
		return func(vals []string) error {
			var list []*Organization
			q := db.NewSelect().Model(&list).Where("? IN (?)", bun.Ident("o."+col), bun.In(vals)).Order("o.id")
			if err := shareLocked(db, q).Scan(ctx); err != nil {
				return storage.MapError(importOp, "organization", err)
			}
			for _, o := range list {
				if found[o.ID] == nil {
					found[o.ID] = &orgEntry{o: o}
				}
			}
			return nil
		}
	}
	if err := inChunks(taxCodes, load("tax_code")); err != nil {
		return nil, err
	}
	if err := inChunks(nameKeys, load("name_key")); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	err := inChunks(ids, func(ids []int64) error {
		var ts []organizationTerritory
		if err := db.NewSelect().Model(&ts).Where("organization_id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return storage.MapError(importOp, "territory", err)
		}
		for _, t := range ts {
			found[t.OrganizationID].terr = append(found[t.OrganizationID].terr, t.TerritoryID)
		}
		var th []organizationTheme
		if err := db.NewSelect().Model(&th).Where("organization_id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return storage.MapError(importOp, "theme", err)
		}
		for _, t := range th {
			found[t.OrganizationID].themes = append(found[t.OrganizationID].themes, t.ThemeID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		e := found[id]
		slices.Sort(e.terr)
		slices.Sort(e.themes)
		x.put(e)
	}
	return x, nil
}

func (x *orgIndex) put(e *orgEntry) {
	if e.o.TaxCode != nil {
		x.byTax[*e.o.TaxCode] = e
	}
	x.byName[e.o.NameKey] = append(x.byName[e.o.NameKey], e)
}

// replace puts next where old was.
func (x *orgIndex) replace(old, next *orgEntry) {
	if old.o.TaxCode != nil && x.byTax[*old.o.TaxCode] == old {
		delete(x.byTax, *old.o.TaxCode)
	}
	x.byName[old.o.NameKey] = slices.DeleteFunc(x.byName[old.o.NameKey], func(e *orgEntry) bool { return e == old })
	x.put(next)
}

// importOrgRow is an organization row, its cells checked; nil or empty fields
// were not given.
type importOrgRow struct {
	name, nameKey string
	kind          Kind
	level         Level
	terrGiven     bool
	terrCodes     []string
	terr          []int64
	themesGiven   bool
	themeCodes    []reference.ThemeCode
	themes        []int64
	website       *string
	email         *string
	phone         *string
	taxCode       *string
}

func prepareOrganizations(ctx context.Context, im *importer) error {
	var taxCodes, names []string
	for _, r := range im.tab.Rows {
		c := rowCells{im: im, row: r}
		if len(r.Cells) != len(im.tab.Header) {
			continue
		}
		if tc, err := cleanTaxCode(importOp, "", c.opt("taxCode")); err == nil && tc != nil {
			taxCodes = append(taxCodes, *tc)
		}
		names = append(names, NameKey(c.get("name")))
	}
	orgs, err := loadImportOrgs(ctx, im.tx, taxCodes, names)
	im.orgs = orgs
	return err
}

func (im *importer) parseOrganization(c rowCells) (*importOrgRow, error) {
	name, err := cleanText(importOp, "name", c.get("name"), maxOrganizationName, true)
	if err != nil {
		return nil, cellErr("name", err)
	}
	r := &importOrgRow{name: name, nameKey: NameKey(name)}
	if v := c.get("kind"); v != "" {
		var ok bool
		if r.kind, ok = importKinds.parse(v); !ok {
			return nil, cellBad("kind", "%q is not a kind of organization; use one of %s, or its Italian name (associazione, comune, cooperativa sociale...)", v, enumCodes(Kinds))
		}
	}
	if v := c.get("level"); v != "" {
		var ok bool
		if r.level, ok = importLevels.parse(v); !ok {
			return nil, cellBad("level", "%q is not a level; use one of %s, or nazionale, regionale, provinciale, comunale", v, enumCodes(Levels))
		}
	}
	if v := c.get("territories"); v != "" {
		r.terrGiven = true
		if r.terrCodes, r.terr, err = im.refs.territoryList("territories", v); err != nil {
			return nil, err
		}
	}
	if v := c.get("themes"); v != "" {
		r.themesGiven = true
		if r.themeCodes, r.themes, err = im.refs.themeList("themes", v); err != nil {
			return nil, err
		}
	}
	if r.website, err = cleanURL(importOp, "website", c.opt("website")); err != nil {
		return nil, cellErr("website", err)
	}
	if r.email, err = cleanEmail(importOp, "email", c.opt("email")); err != nil {
		return nil, cellErr("email", err)
	}
	if r.phone, err = cleanPhone(importOp, "phone", c.opt("phone")); err != nil {
		return nil, cellErr("phone", err)
	}
	if r.taxCode, err = cleanTaxCode(importOp, "taxCode", c.opt("taxCode")); err != nil {
		return nil, cellErr("taxCode", err)
	}
	return r, nil
}

// orgFieldColumns maps the organization building blocks' fields to columns.
var orgFieldColumns = map[string]string{"name": "name", "kind": "kind", "level": "level", "territories": "territories",
	"themes": "themes", "website": "website", "email": "email", "phone": "phone", "taxcode": "taxCode"}

func importOrganization(ctx context.Context, im *importer, c rowCells) (outcome, error) {
	r, err := im.parseOrganization(c)
	if err != nil {
		return 0, err
	}
	ids := []string{}
	if r.taxCode != nil {
		ids = append(ids, "tax:"+*r.taxCode)
	}
	if len(r.terr) == 0 {
		ids = append(ids, "name::"+r.nameKey)
	}
	for _, t := range r.terr {
		ids = append(ids, fmt.Sprintf("name:%d:%s", t, r.nameKey))
	}
	if err := im.duplicate(c.row.Line, "name", ids...); err != nil {
		return 0, err
	}
	e, err := im.orgs.match(r)
	if err != nil {
		return 0, err
	}
	if e == nil {
		return im.createOrganization(ctx, r)
	}
	return im.updateOrganization(ctx, e, r)
}

// match finds the organization a row stands for: by tax code, else by name
// in a territory they share; a row without territories matches one with
// none of that name, or the only one of that name.
func (x *orgIndex) match(r *importOrgRow) (*orgEntry, error) {
	if r.taxCode != nil {
		if e := x.byTax[*r.taxCode]; e != nil {
			return e, nil
		}
	}
	cands := x.byName[r.nameKey]
	if r.terrGiven {
		for _, e := range cands {
			if sharesAny(e.terr, r.terr) {
				return e, nil
			}
		}
		return nil, nil
	}
	for _, e := range cands {
		if len(e.terr) == 0 {
			return e, nil
		}
	}
	if len(cands) > 1 {
		return nil, cellBad("name", "%d organizations are named %q, in different territories: give the territories or the tax code", len(cands), r.name)
	}
	if len(cands) == 1 {
		return cands[0], nil
	}
	return nil, nil
}

func (im *importer) createOrganization(ctx context.Context, r *importOrgRow) (outcome, error) {
	if err := authorizeOrganizationCreate(ctx, r.terr); err != nil {
		return 0, cellErr("territories", err)
	}
	o, err := im.s.createOrganization(ctx, im.tx, OrganizationInput{Name: r.name, Kind: r.kind, Level: r.level,
		Territories: r.terrCodes, Themes: r.themeCodes, Website: r.website, Email: r.email, Phone: r.phone, TaxCode: r.taxCode})
	if err != nil {
		return 0, blockErr(orgFieldColumns, err)
	}
	im.orgs.put(&orgEntry{o: o, terr: r.terr, themes: r.themes})
	return rowCreated, nil
}

// updateOrganization checks the row as UpdateOrganization checks a patch
// (authorizeOrganizationEdit), a row that changes nothing included.
func (im *importer) updateOrganization(ctx context.Context, e *orgEntry, r *importOrgRow) (outcome, error) {
	p, changed := orgChanges(e, r)
	var nextTerr *[]int64
	if p.Territories != nil {
		nextTerr = &r.terr
	}
	if err := authorizeOrganizationEdit(ctx, e.terr, nextTerr); err != nil {
		return 0, cellErr("territories", err)
	}
	if !changed {
		return rowUnchanged, nil
	}
	o, err := im.s.updateOrganization(ctx, im.tx, e.o, p)
	if err != nil {
		return 0, blockErr(orgFieldColumns, err)
	}
	next := &orgEntry{o: o, terr: e.terr, themes: e.themes}
	if p.Territories != nil {
		next.terr = r.terr
	}
	if p.Themes != nil {
		next.themes = r.themes
	}
	im.orgs.replace(e, next)
	return rowUpdated, nil
}

// orgChanges gives the fields of r that differ from e.
func orgChanges(e *orgEntry, r *importOrgRow) (OrganizationPatch, bool) {
	var p OrganizationPatch
	o, changed := e.o, false
	if r.name != o.Name {
		p.Name, changed = &r.name, true
	}
	if r.kind != "" && r.kind != o.Kind {
		p.Kind, changed = &r.kind, true
	}
	if r.level != "" && r.level != o.Level {
		p.Level, changed = &r.level, true
	}
	if r.terrGiven && !slices.Equal(r.terr, e.terr) {
		p.Territories, changed = &r.terrCodes, true
	}
	if r.themesGiven && !slices.Equal(r.themes, e.themes) {
		p.Themes, changed = &r.themeCodes, true
	}
	set := func(dst **string, row, cur *string) {
		if row != nil && !equalPtr(row, cur) {
			*dst, changed = row, true
		}
	}
	set(&p.Website, r.website, o.Website)
	set(&p.Email, r.email, o.Email)
	set(&p.Phone, r.phone, o.Phone)
	set(&p.TaxCode, r.taxCode, o.TaxCode)
	return p, changed
}

// People.

// peopleIndex holds the people a file may refer to: those with its
// addresses, and the current affiliates and group members of the
// organizations and territories it names.
type peopleIndex struct {
	byID       map[int64]*Person
	byEmail    map[string]*Person
	affiliated map[[2]int64]*Affiliation    // person, organization → their current affiliation
	member     map[[2]int64]*Membership     // working group, person → the current membership period
	orgsOf     map[int64][]int64            // person → organizations they are affiliated with
	groupsOf   map[int64][]int64            // person → working groups they are members of
	affiliates map[int64]map[string][]int64 // organization → NameKey → people
	members    map[int64]map[string][]int64 // working group → NameKey → people
	groupTerr  map[int64][]int64            // person → territories of their groups (access.Resource)
	privileged map[int64]bool               // person → holds a global role (access.Resource)
}

// importPersonRow is a person row, its cells checked.
type importPersonRow struct {
	name, nameKey  string
	email, phone   *string
	language       string
	org            *orgEntry
	role           AffiliationRole // REPRESENTATIVE when the cell is empty
	roleGiven      bool            // the role cell was not empty
	title          *string
	terr           *reference.Territory
	group          *WorkingGroup
	groupRole      access.TerritoryRole // MEMBER when the cell is empty
	groupRoleGiven bool                 // the group role cell was not empty
}

func preparePeople(ctx context.Context, im *importer) error {
	var groups []*WorkingGroup
	if err := shareLocked(im.tx, im.tx.NewSelect().Model(&groups)).Scan(ctx); err != nil {
		return storage.MapError(importOp, "working group", err)
	}
	im.groups = map[int64]*WorkingGroup{}
	for _, g := range groups {
		im.groups[g.TerritoryID] = g
	}
	var taxCodes, names, emails []string
	var groupIDs []int64
	for _, r := range im.tab.Rows {
		c := rowCells{im: im, row: r}
		if len(r.Cells) != len(im.tab.Header) {
			continue
		}
		if v := c.get("organization"); v != "" {
			if tc, err := cleanTaxCode(importOp, "", &v); err == nil && tc != nil {
				taxCodes = append(taxCodes, *tc)
			}
			names = append(names, NameKey(v))
		}
		if e, err := cleanEmail(importOp, "", c.opt("email")); err == nil && e != nil {
			emails = append(emails, *e)
		}
		if t, ok := im.refs.territories[foldValue(c.get("territory"))]; ok && im.groups[t.ID] != nil && !slices.Contains(groupIDs, im.groups[t.ID].ID) {
			groupIDs = append(groupIDs, im.groups[t.ID].ID)
		}
	}
	var err error
	if im.orgs, err = loadImportOrgs(ctx, im.tx, taxCodes, names); err != nil {
		return err
	}
	im.people, err = loadImportPeople(ctx, im.tx, emails, im.orgs, groupIDs, im.groups)
	return err
}

// loadImportPeople reads the people with one of emails, and the current
// affiliates of orgs and members of groupIDs.
func loadImportPeople(ctx context.Context, db bun.IDB, emails []string, orgs *orgIndex, groupIDs []int64, groups map[int64]*WorkingGroup) (*peopleIndex, error) {
	x := &peopleIndex{byID: map[int64]*Person{}, byEmail: map[string]*Person{}, affiliated: map[[2]int64]*Affiliation{},
		member: map[[2]int64]*Membership{}, orgsOf: map[int64][]int64{}, groupsOf: map[int64][]int64{},
		affiliates: map[int64]map[string][]int64{}, members: map[int64]map[string][]int64{}}
	addPeople := func(q func(*bun.SelectQuery) *bun.SelectQuery) error {
		var list []*Person
		if err := shareLocked(db, q(db.NewSelect().Model(&list))).Scan(ctx); err != nil {
			return storage.MapError(importOp, "person", err)
		}
		for _, p := range list {
			x.byID[p.ID] = p
			if p.Email != nil {
				x.byEmail[*p.Email] = p
			}
		}
		return nil
	}
	if err := inChunks(emails, func(vals []string) error {
		return addPeople(func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("email IN (?)", bun.In(vals)) })
	}); err != nil {
		return nil, err
	}
	var orgIDs []int64
	for _, list := range orgs.byName {
		for _, e := range list {
			orgIDs = append(orgIDs, e.o.ID)
		}
	}
	if err := inChunks(orgIDs, func(ids []int64) error {
		var afs []*Affiliation
		if err := db.NewSelect().Model(&afs).Where("organization_id IN (?)", bun.In(ids)).Where("ended_at IS NULL").Scan(ctx); err != nil {
			return storage.MapError(importOp, "affiliation", err)
		}
		for _, a := range afs {
			x.affiliated[[2]int64{a.PersonID, a.OrganizationID}] = a
			x.orgsOf[a.PersonID] = append(x.orgsOf[a.PersonID], a.OrganizationID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := inChunks(groupIDs, func(ids []int64) error {
		var ms []*Membership
		if err := db.NewSelect().Model(&ms).Where("working_group_id IN (?)", bun.In(ids)).Where("left_at IS NULL").Scan(ctx); err != nil {
			return storage.MapError(importOp, "membership", err)
		}
		for _, m := range ms {
			x.member[[2]int64{m.WorkingGroupID, m.PersonID}] = m
			x.groupsOf[m.PersonID] = append(x.groupsOf[m.PersonID], m.WorkingGroupID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var missing []int64
	asked := map[int64]bool{}
	for _, m := range []map[int64][]int64{x.orgsOf, x.groupsOf} {
		for id := range m {
			if x.byID[id] == nil && !asked[id] {
				asked[id] = true
				missing = append(missing, id)
			}
		}
	}
	if err := inChunks(missing, func(ids []int64) error {
		return addPeople(func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("id IN (?)", bun.In(ids)) })
	}); err != nil {
		return nil, err
	}
	all := make([]int64, 0, len(x.byID))
	for id, p := range x.byID {
		all = append(all, id)
		x.index(p)
	}
	x.groupTerr, x.privileged = map[int64][]int64{}, map[int64]bool{}
	err := inChunks(all, func(ids []int64) error {
		terr, err := groupTerritories(ctx, db, importOp, ids)
		if err != nil {
			return err
		}
		for id, ts := range terr {
			x.groupTerr[id] = ts
		}
		privileged, err := privilegedPeople(ctx, db, importOp, ids)
		for id := range privileged {
			x.privileged[id] = true
		}
		return err
	})
	return x, err
}

// resource is the access.Resource of p as the index holds them; the zero
// Resource for a person the row creates (nil p), who is in no group, holds
// no global role and has no account.
func (x *peopleIndex) resource(p *Person) access.Resource {
	if p == nil {
		return access.Resource{}
	}
	return personResource(p, x.groupTerr[p.ID], x.privileged[p.ID])
}

// index files p under its name with its organizations and groups.
func (x *peopleIndex) index(p *Person) {
	key := NameKey(p.DisplayName)
	for _, byKey := range []struct {
		ids []int64
		m   map[int64]map[string][]int64
	}{{x.orgsOf[p.ID], x.affiliates}, {x.groupsOf[p.ID], x.members}} {
		for _, id := range byKey.ids {
			if byKey.m[id] == nil {
				byKey.m[id] = map[string][]int64{}
			}
			if !slices.Contains(byKey.m[id][key], p.ID) {
				byKey.m[id][key] = append(byKey.m[id][key], p.ID)
			}
		}
	}
}

// match finds the person a row stands for: by email, else by name among the
// current affiliates of the row's organization or, without one, the current
// members of its territory's working group. A namesake with another address
// is another person.
func (x *peopleIndex) match(r *importPersonRow) (*Person, error) {
	if r.email != nil {
		if p := x.byEmail[*r.email]; p != nil {
			return p, nil
		}
	}
	var byName map[string][]int64
	switch {
	case r.org != nil:
		byName = x.affiliates[r.org.o.ID]
	case r.group != nil:
		byName = x.members[r.group.ID]
	}
	var found []*Person
	for _, id := range byName[r.nameKey] {
		p := x.byID[id]
		if p == nil || p.ErasedAt != nil || NameKey(p.DisplayName) != r.nameKey || (r.email != nil && p.Email != nil) {
			continue
		}
		found = append(found, p)
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, cellBad("name", "%d people named %q are there already: give the email of the one this row is about", len(found), r.name)
}

// record updates the index after a row wrote p (formerly old, nil when
// new), with their current affiliation to the row's organization and
// membership of its group (nil when the row names none).
func (x *peopleIndex) record(old, p *Person, r *importPersonRow, af *Affiliation, m *Membership) {
	if old != nil && old.Email != nil && x.byEmail[*old.Email] == old {
		delete(x.byEmail, *old.Email)
	}
	x.byID[p.ID] = p
	if p.Email != nil {
		x.byEmail[*p.Email] = p
	}
	if af != nil {
		key := [2]int64{p.ID, af.OrganizationID}
		if x.affiliated[key] == nil {
			x.orgsOf[p.ID] = append(x.orgsOf[p.ID], af.OrganizationID)
		}
		x.affiliated[key] = af
	}
	if m != nil {
		key := [2]int64{m.WorkingGroupID, p.ID}
		if x.member[key] == nil {
			x.groupsOf[p.ID] = append(x.groupsOf[p.ID], m.WorkingGroupID)
			if r.group.ArchivedAt == nil {
				x.groupTerr[p.ID] = unionIDs(x.groupTerr[p.ID], []int64{r.group.TerritoryID})
			}
		}
		x.member[key] = m
	}
	x.index(p)
}

func (im *importer) parsePerson(c rowCells) (*importPersonRow, error) {
	full := c.get("name")
	if s := c.get("surname"); s != "" {
		full += " " + s
	}
	name, err := cleanText(importOp, "name", full, 200, true)
	if err != nil {
		return nil, cellErr("name", err)
	}
	r := &importPersonRow{name: name, nameKey: NameKey(name)}
	if r.email, err = cleanEmail(importOp, "email", c.opt("email")); err != nil {
		return nil, cellErr("email", err)
	}
	if r.phone, err = cleanPhone(importOp, "phone", c.opt("phone")); err != nil {
		return nil, cellErr("phone", err)
	}
	if v := c.get("language"); v != "" {
		var ok bool
		if r.language, ok = importLanguages.parse(v); !ok {
			return nil, cellBad("language", "%q is not a language PIA speaks: use it (italiano) or en (english)", v)
		}
	}
	if v := c.get("territory"); v != "" {
		if len(splitList(v)) > 1 {
			return nil, cellBad("territory", "one territory per row: a person in two working groups takes two rows")
		}
		if r.terr, err = im.refs.territory("territory", v); err != nil {
			return nil, err
		}
		if r.group = im.groups[r.terr.ID]; r.group == nil {
			return nil, cellBad("territory", "%s has no working group yet: an administrator creates it first", r.terr.Name)
		}
		r.groupRole = access.Member
	}
	if v := c.get("groupRole"); v != "" {
		var ok bool
		r.groupRoleGiven = true
		if r.groupRole, ok = importGroupRoles.parse(v); !ok {
			return nil, cellBad("groupRole", "%q is not a role in a working group; use COORDINATOR, MEMBER or OBSERVER (coordinatore, membro, osservatore)", v)
		}
		if r.group == nil {
			return nil, cellBad("groupRole", "a role in a working group needs the group's territory in the column %s", im.spec.display("territory"))
		}
	}
	if err := im.parseAffiliation(c, r); err != nil {
		return nil, err
	}
	return r, nil
}

// parseAffiliation reads the organization, role and title of a person row.
// A row with an organization and no role makes the person its
// representative: that is who a stakeholder list names.
func (im *importer) parseAffiliation(c rowCells, r *importPersonRow) error {
	v := c.get("organization")
	if v == "" {
		for _, key := range []string{"role", "title"} {
			if c.get(key) != "" {
				return cellBad(key, "this needs an organization in the column %s", im.spec.display("organization"))
			}
		}
		return nil
	}
	var terr int64
	if r.terr != nil {
		terr = r.terr.ID
	}
	var err error
	if r.org, err = im.orgs.find(v, terr); err != nil {
		return err
	}
	r.role = Representative
	if v := c.get("role"); v != "" {
		var ok bool
		r.roleGiven = true
		if r.role, ok = importAffiliationRoles.parse(v); !ok {
			return cellBad("role", "%q is not a role in an organization; use REPRESENTATIVE, DELEGATE or STAFF (rappresentante, delegato, personale)", v)
		}
	}
	if r.title, err = optional(importOp, "title", c.opt("title"), 200); err != nil {
		return cellErr("title", err)
	}
	return nil
}

// find finds the organization a person row names, by tax code or name;
// among namesakes, the one working in territory.
func (x *orgIndex) find(v string, territory int64) (*orgEntry, error) {
	if tc, err := cleanTaxCode(importOp, "", &v); err == nil && tc != nil {
		if e := x.byTax[*tc]; e != nil {
			return x.live(e)
		}
	}
	cands := x.byName[NameKey(v)]
	if len(cands) > 1 && territory != 0 {
		var in []*orgEntry
		for _, e := range cands {
			if slices.Contains(e.terr, territory) {
				in = append(in, e)
			}
		}
		if len(in) > 0 {
			cands = in
		}
	}
	switch len(cands) {
	case 0:
		return nil, &cellError{key: "organization", err: apperr.E(apperr.NotFound, importOp,
			"no organization is named %q or has it as tax code: import the organizations first", v)}
	case 1:
		return x.live(cands[0])
	}
	return nil, cellBad("organization", "%d organizations are named %q: write the tax code of the one this row is about", len(cands), v)
}

func (x *orgIndex) live(e *orgEntry) (*orgEntry, error) {
	if e.o.ArchivedAt != nil {
		return nil, cellBad("organization", "%q is archived: restore it first", e.o.Name)
	}
	return e, nil
}

// The building blocks' fields, by block, to columns.
var (
	personFieldColumns      = map[string]string{"displayname": "name", "email": "email", "phone": "phone", "language": "language"}
	affiliationFieldColumns = map[string]string{"role": "role", "title": "title", "organizationid": "organization"}
	memberFieldColumns      = map[string]string{"role": "groupRole", "workinggroupid": "territory", "organizationid": "organization"}
	// A role change's CONFLICT (the last coordinator) is about the role.
	memberRoleFieldColumns = map[string]string{"role": "groupRole", "membershipid": "territory", "": "groupRole"}
)

func importPerson(ctx context.Context, im *importer, c rowCells) (outcome, error) {
	r, err := im.parsePerson(c)
	if err != nil {
		return 0, err
	}
	who := "name:" + r.nameKey
	if r.email != nil {
		who = "email:" + *r.email
	}
	var orgID, terrID int64
	if r.org != nil {
		orgID = r.org.o.ID
	}
	if r.terr != nil {
		terrID = r.terr.ID
	}
	if err := im.duplicate(c.row.Line, "name", fmt.Sprintf("person:%s|%d|%d", who, orgID, terrID)); err != nil {
		return 0, err
	}
	p, err := im.people.match(r)
	if err != nil {
		return 0, err
	}
	if err := im.authorizePerson(ctx, p, r); err != nil {
		return 0, err
	}
	return im.writePerson(ctx, p, r)
}

// authorizePerson checks everything the row does, with the helpers the
// exported methods use: creating the person (CreatePerson) or, for a
// matched person, changing them (UpdatePerson, whether or not the row
// changes a field: the row speaks for them); tying them to the
// organization or changing that affiliation (ManageOrganization on the
// organization's territories and EnrolPerson on the person, as
// AddAffiliation and UpdateAffiliation check); adding them to the group
// (ManageWorkingGroup on its territory and EnrolPerson on the person, as
// AddMember checks) or changing their role in it (ManageWorkingGroup, as
// ChangeMemberRole checks). The person is as they were before the row, as
// for those methods called one after the other.
func (im *importer) authorizePerson(ctx context.Context, p *Person, r *importPersonRow) error {
	person := im.people.resource(p)
	if p == nil {
		if err := authorizeCreatePerson(ctx); err != nil {
			return cellErr("", err)
		}
	} else if err := authorizeUpdatePerson(ctx, person); err != nil {
		return cellErr("", err)
	}
	if r.org != nil {
		if err := authorizeAffiliation(ctx, r.org.terr, person); err != nil {
			return cellErr("organization", err)
		}
	}
	if r.group != nil {
		var err error
		if p != nil && im.people.member[[2]int64{r.group.ID, p.ID}] != nil {
			err = access.Check(ctx, access.ManageWorkingGroup, access.Resource{TerritoryID: r.group.TerritoryID})
		} else {
			err = authorizeMembership(ctx, r.group.TerritoryID, person)
		}
		if err != nil {
			return cellErr("territory", err)
		}
	}
	return nil
}

func (im *importer) writePerson(ctx context.Context, old *Person, r *importPersonRow) (outcome, error) {
	if err := im.checkNewTies(old, r); err != nil {
		return 0, err
	}
	out, p := rowUnchanged, old
	var err error
	if old == nil {
		out = rowCreated
		p, err = im.s.createPerson(ctx, im.tx, PersonInput{DisplayName: r.name, Email: r.email, Phone: r.phone, Language: r.language})
	} else if patch, ok := personChanges(old, r); ok {
		out = rowUpdated
		p, err = im.s.updatePerson(ctx, im.tx, old, patch)
	}
	if err != nil {
		return 0, blockErr(personFieldColumns, err)
	}
	af, afChanged, err := im.writeAffiliation(ctx, p, r)
	if err != nil {
		return 0, err
	}
	m, mChanged, err := im.writeMembership(ctx, p, r)
	if err != nil {
		return 0, err
	}
	if out == rowUnchanged && (afChanged || mChanged) {
		out = rowUpdated
	}
	im.people.record(old, p, r, af, m)
	return out, nil
}

// writeAffiliation ties p to the row's organization, or changes the role
// and title of their current affiliation to those the row's cells give. It
// returns the current affiliation (nil when the row names no organization)
// and whether it wrote.
func (im *importer) writeAffiliation(ctx context.Context, p *Person, r *importPersonRow) (*Affiliation, bool, error) {
	if r.org == nil {
		return nil, false, nil
	}
	cur := im.people.affiliated[[2]int64{p.ID, r.org.o.ID}]
	if cur == nil {
		// Checked: p is live (checkNewTies), the organization was found live
		// (orgIndex.live), and the index holds every current affiliation to
		// it.
		af, err := im.s.addAffiliation(ctx, im.tx, AffiliationInput{PersonID: p.ID, OrganizationID: r.org.o.ID, Role: r.role, Title: r.title}, true)
		if err != nil {
			return nil, false, blockErr(affiliationFieldColumns, err)
		}
		return af, true, nil
	}
	var patch AffiliationPatch
	if r.roleGiven && r.role != cur.Role {
		patch.Role = &r.role
	}
	if r.title != nil && !equalPtr(r.title, cur.Title) {
		patch.Title = r.title
	}
	if patch.Role == nil && patch.Title == nil {
		return cur, false, nil
	}
	af, err := im.s.updateAffiliation(ctx, im.tx, cur, patch)
	if err != nil {
		return nil, false, blockErr(affiliationFieldColumns, err)
	}
	return af, true, nil
}

// writeMembership adds p to the row's working group, or gives their current
// membership the role the row's cell gives. It returns the current
// membership period (nil when the row names no group) and whether it wrote.
func (im *importer) writeMembership(ctx context.Context, p *Person, r *importPersonRow) (*Membership, bool, error) {
	if r.group == nil {
		return nil, false, nil
	}
	cur := im.people.member[[2]int64{r.group.ID, p.ID}]
	if cur == nil {
		// Checked: p and the group are live (checkNewTies), p is currently
		// affiliated with the row's organization (writeAffiliation made
		// sure), and the index holds every current member of the group.
		in := MemberInput{WorkingGroupID: r.group.ID, PersonID: p.ID, Role: r.groupRole}
		if r.org != nil {
			in.OrganizationID = &r.org.o.ID
		}
		m, err := im.s.addMember(ctx, im.tx, r.group, in, true)
		if err != nil {
			return nil, false, blockErr(memberFieldColumns, err)
		}
		im.roleChanged = append(im.roleChanged, p.ID)
		return m, true, nil
	}
	if !r.groupRoleGiven || r.groupRole == cur.Role {
		return cur, false, nil
	}
	m, err := im.s.changeMemberRole(ctx, im.tx, r.group, cur, r.groupRole)
	if err != nil {
		return nil, false, blockErr(memberRoleFieldColumns, err)
	}
	im.roleChanged = append(im.roleChanged, p.ID)
	return m, true, nil
}

// checkNewTies refuses, before the row writes anything, the new ties that
// addAffiliation and addMember would refuse and are not asked to check:
// any for an archived (or erased) person, and a membership of an archived
// working group. The organization was found live (orgIndex.live).
func (im *importer) checkNewTies(old *Person, r *importPersonRow) error {
	newOrg := r.org != nil && (old == nil || im.people.affiliated[[2]int64{old.ID, r.org.o.ID}] == nil)
	newGroup := r.group != nil && (old == nil || im.people.member[[2]int64{r.group.ID, old.ID}] == nil)
	if old != nil && old.ArchivedAt != nil && (newOrg || newGroup) {
		return cellBad("", "%s is archived in the directory; restore them first", old.DisplayName)
	}
	if newGroup && r.group.ArchivedAt != nil {
		return cellBad("territory", "the working group of %s is archived; restore it first", r.terr.Name)
	}
	return nil
}

// personChanges gives the fields of r that differ from p.
func personChanges(p *Person, r *importPersonRow) (PersonPatch, bool) {
	var patch PersonPatch
	changed := false
	if r.name != p.DisplayName {
		patch.DisplayName, changed = &r.name, true
	}
	if r.email != nil && !equalPtr(r.email, p.Email) {
		patch.Email, changed = r.email, true
	}
	if r.phone != nil && !equalPtr(r.phone, p.Phone) {
		patch.Phone, changed = r.phone, true
	}
	if r.language != "" && r.language != p.Language {
		patch.Language, changed = &r.language, true
	}
	return patch, changed
}

// Municipalities.

// muniIndex holds the municipalities, by ISTAT code and by territory and
// NameKey: there are 391 in Sicily, read in one statement.
type muniIndex struct {
	byIstat map[string]*Municipality
	byName  map[string]*Municipality
}

func muniNameKey(territory int64, nameKey string) string {
	return fmt.Sprintf("%d:%s", territory, nameKey)
}

func (x *muniIndex) put(old, m *Municipality) {
	if old != nil {
		if old.IstatCode != nil && x.byIstat[*old.IstatCode] == old {
			delete(x.byIstat, *old.IstatCode)
		}
		if k := muniNameKey(old.TerritoryID, old.NameKey); x.byName[k] == old {
			delete(x.byName, k)
		}
	}
	if m.IstatCode != nil {
		x.byIstat[*m.IstatCode] = m
	}
	x.byName[muniNameKey(m.TerritoryID, m.NameKey)] = m
}

func prepareMunicipalities(ctx context.Context, im *importer) error {
	var all []*Municipality
	if err := im.tx.NewSelect().Model(&all).Order("m.id").Scan(ctx); err != nil {
		return storage.MapError(importOp, "municipality", err)
	}
	im.munis = &muniIndex{byIstat: map[string]*Municipality{}, byName: map[string]*Municipality{}}
	for _, m := range all {
		im.munis.put(nil, m)
	}
	return nil
}

// importMuniRow is a municipality row, its cells checked.
type importMuniRow struct {
	name, nameKey string
	terr          *reference.Territory
	istat         *string
}

var importIstatPattern = regexp.MustCompile(`^[0-9]{4,6}$`)

func (im *importer) parseMunicipality(c rowCells) (*importMuniRow, error) {
	name, err := cleanText(importOp, "name", c.get("name"), 200, true)
	if err != nil {
		return nil, cellErr("name", err)
	}
	r := &importMuniRow{name: name, nameKey: NameKey(name)}
	v := c.get("territory")
	if v == "" {
		return nil, cellBad("territory", "the territory is required: a province's code or name, such as EN or Enna")
	}
	if r.terr, err = im.refs.territory("territory", v); err != nil {
		return nil, err
	}
	if v := strings.ReplaceAll(c.get("istatCode"), " ", ""); v != "" {
		// A spreadsheet that took the code for a number dropped its leading
		// zeros: 086009 became 86009.
		if !importIstatPattern.MatchString(v) {
			return nil, cellBad("istatCode", "%q is not an ISTAT municipality code: six digits, such as 086009", v)
		}
		v = strings.Repeat("0", 6-len(v)) + v
		r.istat = &v
	}
	return r, nil
}

var muniFieldColumns = map[string]string{"name": "name", "territory": "territory", "istatcode": "istatCode"}

func importMunicipality(ctx context.Context, im *importer, c rowCells) (outcome, error) {
	r, err := im.parseMunicipality(c)
	if err != nil {
		return 0, err
	}
	ids := []string{muniNameKey(r.terr.ID, r.nameKey)}
	if r.istat != nil {
		ids = append(ids, "istat:"+*r.istat)
	}
	if err := im.duplicate(c.row.Line, "name", ids...); err != nil {
		return 0, err
	}
	var m *Municipality
	if r.istat != nil {
		m = im.munis.byIstat[*r.istat]
	}
	if m == nil {
		m = im.munis.byName[muniNameKey(r.terr.ID, r.nameKey)]
	}
	if err := access.Check(ctx, access.ManageMunicipality, access.Resource{TerritoryID: r.terr.ID}); err != nil {
		return 0, cellErr("territory", err)
	}
	if m == nil {
		m, err := im.s.createMunicipality(ctx, im.tx, MunicipalityInput{Territory: r.terr.Code, Name: r.name, IstatCode: r.istat})
		if err != nil {
			return 0, blockErr(muniFieldColumns, err)
		}
		im.munis.put(nil, m)
		return rowCreated, nil
	}
	if m.TerritoryID != r.terr.ID {
		if err := access.Check(ctx, access.ManageMunicipality, access.Resource{TerritoryID: m.TerritoryID}); err != nil {
			return 0, cellErr("territory", err)
		}
	}
	p, changed := muniChanges(m, r)
	if !changed {
		return rowUnchanged, nil
	}
	next, err := im.s.updateMunicipality(ctx, im.tx, m, p)
	if err != nil {
		return 0, blockErr(muniFieldColumns, err)
	}
	im.munis.put(m, next)
	return rowUpdated, nil
}

// muniChanges gives the fields of r that differ from m.
func muniChanges(m *Municipality, r *importMuniRow) (MunicipalityPatch, bool) {
	var p MunicipalityPatch
	changed := false
	if r.name != m.Name {
		p.Name, changed = &r.name, true
	}
	if r.terr.ID != m.TerritoryID {
		p.Territory, changed = &r.terr.Code, true
	}
	if r.istat != nil && !equalPtr(r.istat, m.IstatCode) {
		p.IstatCode, changed = r.istat, true
	}
	return p, changed
}
