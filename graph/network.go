package graph

// The stakeholder network's side of the API: connections, the mapping of
// filters and inputs to the network service's, and the loads of related
// objects that the resolvers in schema.resolvers.go make.

import (
	"context"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pia-sicilia/pia/graph/model"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// Connection is a page of a Relay connection of T. Every connection of the
// network is this one type, so one function builds them all from a
// relay.Page.
type Connection[T any] struct {
	Edges      []*Edge[T]
	PageInfo   *model.PageInfo
	TotalCount int
}

// Edge is one item of a Connection with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   T
}

// The connections of the schema, named for gqlgen.
type (
	OrganizationConnection = Connection[*network.Organization]
	OrganizationEdge       = Edge[*network.Organization]
	PersonConnection       = Connection[*account.Person]
	PersonEdge             = Edge[*account.Person]
	WorkingGroupConnection = Connection[*network.WorkingGroup]
	WorkingGroupEdge       = Edge[*network.WorkingGroup]
	PracticeConnection     = Connection[*network.Practice]
	PracticeEdge           = Edge[*network.Practice]
	MunicipalityConnection = Connection[*network.Municipality]
	MunicipalityEdge       = Edge[*network.Municipality]
	DocumentConnection     = Connection[*coedit.Document]
	DocumentEdge           = Edge[*coedit.Document]
	CommentConnection      = Connection[*coedit.Comment]
	CommentEdge            = Edge[*coedit.Comment]
)

// connectionOf turns a service's page into a connection, and announces its
// items as peers, whose related objects load together.
func connectionOf[T any](p *peers, id func(T) int64) func(page *relay.Page[T], err error) (*Connection[T], error) {
	return func(page *relay.Page[T], err error) (*Connection[T], error) {
		if err != nil {
			return nil, err
		}
		c := &Connection[T]{TotalCount: page.TotalCount, Edges: make([]*Edge[T], len(page.Items)),
			PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPreviousPage}}
		ids := make([]int64, len(page.Items))
		for i, it := range page.Items {
			c.Edges[i] = &Edge[T]{Cursor: page.Cursors[i], Node: it}
			ids[i] = id(it)
		}
		p.add(ids)
		if n := len(c.Edges); n > 0 {
			c.PageInfo.StartCursor, c.PageInfo.EndCursor = &c.Edges[0].Cursor, &c.Edges[n-1].Cursor
		}
		return c, nil
	}
}

// The connections of each type.

func (r *Resolver) organizationConnection(ctx context.Context) func(*relay.Page[*network.Organization], error) (*OrganizationConnection, error) {
	return connectionOf(r.loadersFrom(ctx).organizations, func(o *network.Organization) int64 { return o.ID })
}

func (r *Resolver) personConnection(ctx context.Context) func(*relay.Page[*account.Person], error) (*PersonConnection, error) {
	return connectionOf(r.loadersFrom(ctx).people, func(p *account.Person) int64 { return p.ID })
}

func (r *Resolver) workingGroupConnection(ctx context.Context) func(*relay.Page[*network.WorkingGroup], error) (*WorkingGroupConnection, error) {
	return connectionOf(r.loadersFrom(ctx).groups, func(g *network.WorkingGroup) int64 { return g.ID })
}

func (r *Resolver) practiceConnection(ctx context.Context) func(*relay.Page[*network.Practice], error) (*PracticeConnection, error) {
	return connectionOf(r.loadersFrom(ctx).practices, func(p *network.Practice) int64 { return p.ID })
}

// municipalityConnection needs no peers: a municipality's one relation is
// its territory, reference data read whole.
func municipalityConnection(page *relay.Page[*network.Municipality], err error) (*MunicipalityConnection, error) {
	return connectionOf(nil, func(m *network.Municipality) int64 { return m.ID })(page, err)
}

// pageArgs are a connection field's arguments.
func pageArgs(ctx context.Context, first *int, after *string, last *int, before *string) relay.PageArgs {
	return relay.PageArgs{First: first, After: after, Last: last, Before: before, NoCount: !asked(ctx, "totalCount")}
}

// asked tells whether the selection of the field being resolved names
// field: what nobody asked for is not computed.
func asked(ctx context.Context, field string) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return true
	}
	return slices.Contains(graphql.CollectAllFields(ctx), field)
}

// sortOf is the service's order for a Sort argument; by name, ascending,
// when omitted.
func sortOf(s *model.Sort) network.Sort {
	if s == nil {
		return network.Sort{Field: network.SortByName}
	}
	return network.Sort{Field: s.Field, Desc: s.Direction == model.SortDirectionDesc}
}

// str is an optional text as the service's plain string ("" when absent).
func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// optionalID parses an optional global id of type typ; 0 when absent.
func optionalID(typ string, gid *string) (int64, error) {
	if gid == nil {
		return 0, nil
	}
	return parseID(typ, *gid)
}

// optionalIDPtr parses an optional global id into a pointer; nil when absent.
func optionalIDPtr(typ string, gid *string) (*int64, error) {
	if gid == nil {
		return nil, nil
	}
	id, err := parseID(typ, *gid)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// ids parses a list of global ids of type typ.
func ids(typ string, gids []string) ([]int64, error) {
	out := make([]int64, len(gids))
	for i, g := range gids {
		id, err := parseID(typ, g)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// Update inputs. An omitted field is nil in the service's patch (left as it
// is); what null means depends on the field.

// required is a field that cannot be cleared (a name, a kind): null is
// BAD_USER_INPUT rather than a silent no-op.
func required[T any](op, field string, o graphql.Omittable[*T]) (*T, error) {
	v, set := o.ValueOK()
	if set && v == nil {
		return nil, apperr.Invalid(op, field, "%s cannot be null; omit it to leave it as it is", field)
	}
	return v, nil
}

// clearable is a field whose zero value clears it (an optional text, where
// the service reads "" as clear; a date, where it reads the zero time): null
// becomes that zero value.
func clearable[T any](o graphql.Omittable[*T]) *T {
	v, set := o.ValueOK()
	if set && v == nil {
		var zero T
		return &zero
	}
	return v
}

// list is a list that replaces the current one; null clears it like [].
func list[T any](o graphql.Omittable[[]T]) *[]T {
	v, set := o.ValueOK()
	if !set {
		return nil
	}
	if v == nil {
		v = []T{}
	}
	return &v
}

func organizationFilter(f *model.OrganizationFilter) network.OrganizationFilter {
	if f == nil {
		return network.OrganizationFilter{}
	}
	out := network.OrganizationFilter{Territory: str(f.Territory), Kinds: f.Kinds, Search: str(f.Search), IncludeArchived: f.IncludeArchived}
	if f.Sector != nil {
		out.Sector = *f.Sector
	}
	if f.Level != nil {
		out.Level = *f.Level
	}
	if f.Theme != nil {
		out.Theme = *f.Theme
	}
	return out
}

func personFilter(f *model.PersonFilter) (network.PersonFilter, error) {
	if f == nil {
		return network.PersonFilter{}, nil
	}
	org, err := optionalID(typeOrganization, f.OrganizationID)
	return network.PersonFilter{Territory: str(f.Territory), OrganizationID: org, Search: str(f.Search),
		IncludeArchived: f.IncludeArchived}, err
}

func workingGroupFilter(f *model.WorkingGroupFilter) network.WorkingGroupFilter {
	if f == nil {
		return network.WorkingGroupFilter{}
	}
	return network.WorkingGroupFilter{Territory: str(f.Territory), Search: str(f.Search), IncludeArchived: f.IncludeArchived}
}

func practiceFilter(f *model.PracticeFilter) (network.PracticeFilter, error) {
	if f == nil {
		return network.PracticeFilter{}, nil
	}
	org, err := optionalID(typeOrganization, f.OrganizationID)
	out := network.PracticeFilter{Territory: str(f.Territory), OrganizationID: org, Search: str(f.Search),
		IncludeArchived: f.IncludeArchived}
	if f.Theme != nil {
		out.Theme = *f.Theme
	}
	if f.Funding != nil {
		out.Funding = *f.Funding
	}
	return out, err
}

func municipalityFilter(f *model.MunicipalityFilter) network.MunicipalityFilter {
	if f == nil {
		return network.MunicipalityFilter{}
	}
	return network.MunicipalityFilter{Territory: str(f.Territory), Search: str(f.Search), IncludeArchived: f.IncludeArchived}
}

func organizationInput(in model.CreateOrganizationInput) network.OrganizationInput {
	return network.OrganizationInput{Name: in.Name, Kind: in.Kind, Level: in.Level, Territories: in.Territories,
		Themes: in.Themes, Website: in.Website, Email: in.Email, Phone: in.Phone, TaxCode: in.TaxCode}
}

func organizationPatch(in model.UpdateOrganizationInput) (p network.OrganizationPatch, err error) {
	const op = "graph.updateOrganization"
	if p.Name, err = required(op, "name", in.Name); err != nil {
		return p, err
	}
	if p.Kind, err = required(op, "kind", in.Kind); err != nil {
		return p, err
	}
	if p.Level, err = required(op, "level", in.Level); err != nil {
		return p, err
	}
	p.Territories, p.Themes = list(in.Territories), list(in.Themes)
	p.Website, p.Email, p.Phone, p.TaxCode = clearable(in.Website), clearable(in.Email), clearable(in.Phone), clearable(in.TaxCode)
	return p, nil
}

func personInput(in model.CreatePersonInput) network.PersonInput {
	return network.PersonInput{DisplayName: in.DisplayName, Email: in.Email, Phone: in.Phone, Language: languageOf(in.Language)}
}

func personPatch(in model.UpdatePersonInput) (p network.PersonPatch, err error) {
	const op = "graph.updatePerson"
	if p.DisplayName, err = required(op, "displayName", in.DisplayName); err != nil {
		return p, err
	}
	lang, err := required(op, "language", in.Language)
	if err != nil {
		return p, err
	}
	if lang != nil {
		l := languageOf(lang)
		p.Language = &l
	}
	p.Email, p.Phone = clearable(in.Email), clearable(in.Phone)
	return p, nil
}

func affiliationInput(in model.AddAffiliationInput) (out network.AffiliationInput, err error) {
	if out.PersonID, err = parseID(typePerson, in.PersonID); err != nil {
		return out, err
	}
	if out.OrganizationID, err = parseID(typeOrganization, in.OrganizationID); err != nil {
		return out, err
	}
	out.Role, out.Title = in.Role, in.Title
	return out, nil
}

func affiliationPatch(in model.UpdateAffiliationInput) (p network.AffiliationPatch, err error) {
	if p.Role, err = required("graph.updateAffiliation", "role", in.Role); err != nil {
		return p, err
	}
	p.Title = clearable(in.Title)
	return p, nil
}

func workingGroupInput(in model.CreateWorkingGroupInput) network.WorkingGroupInput {
	return network.WorkingGroupInput{Territory: in.Territory, Name: str(in.Name), Description: str(in.Description), FormedOn: in.FormedOn}
}

func workingGroupPatch(in model.UpdateWorkingGroupInput) (p network.WorkingGroupPatch, err error) {
	if p.Name, err = required("graph.updateWorkingGroup", "name", in.Name); err != nil {
		return p, err
	}
	p.Description, p.FormedOn = clearable(in.Description), clearable(in.FormedOn)
	return p, nil
}

func memberInput(in model.AddMemberInput) (out network.MemberInput, err error) {
	if out.WorkingGroupID, err = parseID(typeWorkingGroup, in.WorkingGroupID); err != nil {
		return out, err
	}
	if out.PersonID, err = parseID(typePerson, in.PersonID); err != nil {
		return out, err
	}
	if out.OrganizationID, err = optionalIDPtr(typeOrganization, in.OrganizationID); err != nil {
		return out, err
	}
	out.Role = in.Role
	return out, nil
}

func practiceInput(in model.CreatePracticeInput) (out network.PracticeInput, err error) {
	if out.LeadOrganizationID, err = optionalIDPtr(typeOrganization, in.LeadOrganizationID); err != nil {
		return out, err
	}
	if out.PartnerIDs, err = ids(typeOrganization, in.PartnerIds); err != nil {
		return out, err
	}
	out.Name, out.Description, out.Territory, out.Themes = in.Name, str(in.Description), in.Territory, in.Themes
	out.Funding, out.FundingDetail, out.StartsOn, out.EndsOn = in.Funding, str(in.FundingDetail), in.StartsOn, in.EndsOn
	out.Beneficiaries, out.Services, out.OpeningHours, out.Address = str(in.Beneficiaries), in.Services, str(in.OpeningHours), str(in.Address)
	out.ContactEmail, out.ContactPhone, out.Website = in.ContactEmail, in.ContactPhone, in.Website
	return out, nil
}

func practicePatch(in model.UpdatePracticeInput) (p network.PracticePatch, err error) {
	const op = "graph.updatePractice"
	if p.Name, err = required(op, "name", in.Name); err != nil {
		return p, err
	}
	if p.Territory, err = required(op, "territory", in.Territory); err != nil {
		return p, err
	}
	if p.Funding, err = required(op, "funding", in.Funding); err != nil {
		return p, err
	}
	// A lead of 0 clears it, as the service reads it.
	if lead, set := in.LeadOrganizationID.ValueOK(); set {
		var id int64
		if lead != nil {
			if id, err = parseID(typeOrganization, *lead); err != nil {
				return p, err
			}
		}
		p.LeadOrganizationID = &id
	}
	if partners := list(in.PartnerIds); partners != nil {
		parsed, err := ids(typeOrganization, *partners)
		if err != nil {
			return p, err
		}
		p.PartnerIDs = &parsed
	}
	p.Description, p.Themes, p.FundingDetail = clearable(in.Description), list(in.Themes), clearable(in.FundingDetail)
	p.StartsOn, p.EndsOn = clearable(in.StartsOn), clearable(in.EndsOn)
	p.Beneficiaries, p.Services = clearable(in.Beneficiaries), list(in.Services)
	p.OpeningHours, p.Address = clearable(in.OpeningHours), clearable(in.Address)
	p.ContactEmail, p.ContactPhone, p.Website = clearable(in.ContactEmail), clearable(in.ContactPhone), clearable(in.Website)
	return p, nil
}

func municipalityInput(in model.CreateMunicipalityInput) network.MunicipalityInput {
	return network.MunicipalityInput{Territory: in.Territory, Name: in.Name, IstatCode: in.IstatCode}
}

func municipalityPatch(in model.UpdateMunicipalityInput) (p network.MunicipalityPatch, err error) {
	const op = "graph.updateMunicipality"
	if p.Territory, err = required(op, "territory", in.Territory); err != nil {
		return p, err
	}
	if p.Name, err = required(op, "name", in.Name); err != nil {
		return p, err
	}
	p.IstatCode = clearable(in.IstatCode)
	return p, nil
}

// load waits for one value of a loader.
func load[V any](ctx context.Context, b *batcher[V], id int64) (V, error) {
	return b.queue(ctx, []int64{id})[0]()
}

// loadAll waits for the values of ids, in order; the first error fails all.
func loadAll[V any](ctx context.Context, b *batcher[V], ids []int64) ([]V, error) {
	out := make([]V, len(ids))
	for i, thunk := range b.queue(ctx, ids) {
		v, err := thunk()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// loadVia loads a list of ids from one loader and their objects from another:
// an organization's territory ids, then the territories.
func loadVia[V any](ctx context.Context, idsOf *batcher[[]int64], id int64, objects *batcher[V]) ([]V, error) {
	ids, err := load(ctx, idsOf, id)
	if err != nil {
		return nil, err
	}
	return loadAll(ctx, objects, ids)
}

// personOrNil loads a person who may be absent (no id) or hidden from the
// caller: both are null.
func (r *Resolver) personOrNil(ctx context.Context, id *int64) (*account.Person, error) {
	if id == nil {
		return nil, nil
	}
	return load(ctx, r.loadersFrom(ctx).person, *id)
}

// readable is the value of a loader for an optional id, or nil when the
// caller may not read it (NOT_FOUND or FORBIDDEN): for links that outlive
// the reader's rights, such as an activity line's or a tracking figure's
// (open to every working group) to a document of one territory.
func readable[V any](ctx context.Context, b *batcher[*V], id *int64) (*V, error) {
	if id == nil {
		return nil, nil
	}
	v, err := load(ctx, b, *id)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
		return nil, nil
	}
	return v, err
}

// contactsOf are a person's private contacts when the caller may read them
// (the person, administrators, the coordinators of the person's working
// groups), or nil.
func (r *Resolver) contactsOf(ctx context.Context, p *account.Person) (*network.Contacts, error) {
	territories, err := load(ctx, r.loadersFrom(ctx).groupTerritoriesOfPerson, p.ID)
	if err != nil {
		return nil, err
	}
	return r.Network.ContactsOf(ctx, p, territories), nil
}

// importNetwork runs an import of an uploaded file.
func (r *Resolver) importNetwork(ctx context.Context, kind network.ImportKind, file graphql.Upload, dryRun bool) (*network.ImportReport, error) {
	return r.Network.Import(ctx, network.ImportRequest{Kind: kind, Filename: file.Filename, Data: file.File, DryRun: dryRun})
}

// personalData is the JSON export of a person: the caller when gid is nil.
func (r *Resolver) personalData(ctx context.Context, gid *string) (string, error) {
	id := access.ActorFrom(ctx).PersonID
	if gid != nil {
		var err error
		if id, err = parseID(typePerson, *gid); err != nil {
			return "", err
		}
	}
	data, err := r.Network.ExportPersonalData(ctx, id)
	return string(data), err
}

// archived reports whether an archiving time is set.
func archived(at *time.Time) bool { return at != nil }

// boolIndex picks the loader of a pair kept by a history flag.
func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func territoryID(t *reference.Territory) int64 { return t.ID }
