package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// netEnv is the API served with the network service, an administrator
// signed in, and the administrator's actor for setting up accounts.
type netEnv struct {
	srv   *testServer
	r     *graph.Resolver
	admin string // token
	actor *access.Actor
}

func newNetEnv(t testing.TB, db *bun.DB) *netEnv {
	t.Helper()
	r := newResolver(t, db)
	e := &netEnv{srv: serveResolver(t, r, defaultOptions()), r: r}
	e.admin = e.srv.adminToken(t)
	actor, _, err := r.Accounts.Authenticate(context.Background(), e.admin)
	if err != nil {
		t.Fatal(err)
	}
	e.actor = actor
	return e
}

// must runs doc as the holder of token, fails on any error, and decodes the
// data into out.
func (e *netEnv) must(t testing.TB, token, doc string, vars map[string]any, out any) {
	t.Helper()
	authQuery(t, e.srv, token, doc, vars, out)
}

// refused runs doc as the holder of token and returns its one error's code.
func (e *netEnv) refused(t *testing.T, token, doc string, vars map[string]any) gqlError {
	t.Helper()
	return onlyError(t, authPost(t, e.srv, authBearer(token), doc, vars))
}

// account gives a person of the directory, or a new one, an account with a
// password, and signs them in.
func (e *netEnv) account(t *testing.T, email, name string, roles ...access.GlobalRole) string {
	t.Helper()
	const password = "a long enough password"
	ctx := access.WithActor(context.Background(), e.actor)
	if _, err := e.r.Accounts.CreateAccount(ctx, account.CreateAccountInput{Email: email, DisplayName: name,
		Password: password, GlobalRoles: roles}); err != nil {
		t.Fatalf("account for %s: %v", email, err)
	}
	token, _ := authSignIn(t, e.srv, email, password)
	return token
}

// organizationCount is the number of organizations the administrator sees,
// archived ones included.
func (e *netEnv) organizationCount(t *testing.T) int {
	t.Helper()
	var data struct{ Organizations struct{ TotalCount int } }
	e.must(t, e.admin, `{ organizations(filter: {includeArchived: true}, first: 0) { totalCount } }`, nil, &data)
	return data.Organizations.TotalCount
}

type idOnly struct{ ID string }

const (
	netCreateOrg = `mutation ($in: CreateOrganizationInput!) { createOrganization(input: $in) {
		id name kind sector level territories { code } themes { code } website taxCode archived } }`
	netCreatePerson = `mutation ($in: CreatePersonInput!) { createPerson(input: $in) { id displayName email phone } }`
	netAffiliate    = `mutation ($in: AddAffiliationInput!) { addAffiliation(input: $in) { id role current } }`
	netAddMember    = `mutation ($in: AddMemberInput!) { addMember(input: $in) { id role current } }`
	// netEnna is what a coordinator browses: the Enna group with its
	// members, their contacts and their organizations.
	netEnna = `{ workingGroup(territory: "EN") { name territory { code } memberCount
		members { role organization { name } person { displayName email phone
			affiliations { title organization { name kind sector } } } } } }`
)

type ennaGroup struct {
	WorkingGroup *struct {
		Name        string
		Territory   struct{ Code string }
		MemberCount int
		Members     []struct {
			Role         string
			Organization *struct{ Name string }
			Person       *struct {
				DisplayName  string
				Email        *string
				Phone        *string
				Affiliations []struct {
					Title        *string
					Organization struct{ Name, Kind, Sector string }
				}
			}
		}
	}
}

// TestNetworkAPI follows the network through the API: an administrator
// builds the Enna working group, a coordinator browses it, a policy maker
// sees organizations but no private contacts, and bad input is refused
// with a code, changing nothing.
func TestNetworkAPI(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newNetEnv(t, db)

		// The administrator builds the network.
		var group struct {
			CreateWorkingGroup struct{ ID, Name, FormedOn string }
		}
		e.must(t, e.admin, `mutation { createWorkingGroup(input: {territory: "EN", formedOn: "2026-10-01"}) { id name formedOn } }`, nil, &group)
		if g := group.CreateWorkingGroup; g.FormedOn != "2026-10-01" || !strings.Contains(g.Name, "Enna") {
			t.Errorf("working group %+v: want formed on 2026-10-01, named after Enna", g)
		}
		var comune, oxfam struct {
			CreateOrganization struct {
				ID, Name, Kind, Sector, Level string
				Territories                   []struct{ Code string }
				Themes                        []struct{ Code string }
				Website, TaxCode              *string
				Archived                      bool
			}
		}
		e.must(t, e.admin, netCreateOrg, vars("in", vars("name", "Comune di Enna", "kind", "MUNICIPALITY", "level", "MUNICIPAL",
			"territories", []string{"EN"}, "themes", []string{"HOUSING", "HEALTH"}, "taxCode", "00100490861")), &comune)
		e.must(t, e.admin, netCreateOrg, vars("in", vars("name", "Oxfam Italia Intercultura", "kind", "NGO", "level", "NATIONAL",
			"territories", []string{"SR", "EN"}, "themes", []string{"WORK"}, "website", "www.oxfamitalia.org")), &oxfam)
		if o := comune.CreateOrganization; o.Sector != "PUBLIC" || len(o.Territories) != 1 || o.Territories[0].Code != "EN" ||
			len(o.Themes) != 2 || o.Themes[0].Code != "HEALTH" || o.TaxCode == nil || *o.TaxCode != "00100490861" || o.Archived {
			t.Errorf("Comune di Enna = %+v; want PUBLIC, in EN, HEALTH then HOUSING, its tax code", o)
		}
		if o := oxfam.CreateOrganization; o.Sector != "THIRD_SECTOR" || len(o.Territories) != 2 || o.Website == nil ||
			*o.Website != "https://www.oxfamitalia.org" {
			t.Errorf("Oxfam = %+v; want THIRD_SECTOR, two territories, https:// added to the website", o)
		}
		var carla, marco struct {
			CreatePerson struct {
				ID, DisplayName string
				Email, Phone    *string
			}
		}
		e.must(t, e.admin, netCreatePerson, vars("in", vars("displayName", "Carla Coordinatrice", "email", "carla@comune.enna.test",
			"phone", "+39 0935 40111")), &carla)
		e.must(t, e.admin, netCreatePerson, vars("in", vars("displayName", "Marco Membro", "email", "marco@oxfam.test",
			"phone", "333 1234567")), &marco)
		var aff struct{ AddAffiliation idOnly }
		e.must(t, e.admin, netAffiliate, vars("in", vars("personId", carla.CreatePerson.ID, "organizationId", comune.CreateOrganization.ID,
			"role", "REPRESENTATIVE", "title", "assessora alle politiche sociali")), &aff)
		e.must(t, e.admin, netAffiliate, vars("in", vars("personId", marco.CreatePerson.ID, "organizationId", oxfam.CreateOrganization.ID,
			"role", "STAFF")), &aff)
		var member struct{ AddMember idOnly }
		e.must(t, e.admin, netAddMember, vars("in", vars("workingGroupId", group.CreateWorkingGroup.ID, "personId", carla.CreatePerson.ID,
			"role", "COORDINATOR", "organizationId", comune.CreateOrganization.ID)), &member)
		e.must(t, e.admin, netAddMember, vars("in", vars("workingGroupId", group.CreateWorkingGroup.ID, "personId", marco.CreatePerson.ID,
			"role", "MEMBER", "organizationId", oxfam.CreateOrganization.ID)), &member)
		marcoMembership := member.AddMember.ID

		// The coordinator, who has just got an account, browses the group:
		// members, their contacts (she coordinates their group) and
		// organizations.
		coordinator := e.account(t, "carla@comune.enna.test", "Carla Coordinatrice")
		var enna ennaGroup
		e.must(t, coordinator, netEnna, nil, &enna)
		g := enna.WorkingGroup
		if g == nil || g.Territory.Code != "EN" || g.MemberCount != 2 || len(g.Members) != 2 {
			t.Fatalf("the Enna group as its coordinator: %+v", g)
		}
		if m := g.Members[0]; m.Role != "COORDINATOR" || m.Person == nil || m.Person.DisplayName != "Carla Coordinatrice" ||
			m.Organization == nil || m.Organization.Name != "Comune di Enna" || len(m.Person.Affiliations) != 1 ||
			m.Person.Affiliations[0].Organization.Kind != "MUNICIPALITY" || *m.Person.Affiliations[0].Title != "assessora alle politiche sociali" {
			t.Errorf("first member %+v: want Carla, coordinator for the Comune di Enna", m)
		}
		if m := g.Members[1]; m.Role != "MEMBER" || m.Person == nil || m.Person.Email == nil || *m.Person.Email != "marco@oxfam.test" ||
			m.Person.Phone == nil || *m.Person.Phone != "333 1234567" || m.Person.Affiliations[0].Organization.Sector != "THIRD_SECTOR" {
			t.Errorf("second member %+v: want Marco with his contacts, staff of a third-sector organization", m)
		}
		// The same group by its node id, and the territory's view of it.
		var node struct {
			Node      struct{ Name string }
			Territory struct {
				WorkingGroup struct{ ID string }
			}
			Organizations struct{ TotalCount int }
		}
		e.must(t, coordinator, `query ($id: ID!) { node(id: $id) { ... on WorkingGroup { name } }
			territory(code: "EN") { workingGroup { id } } organizations(filter: {territory: "EN"}) { totalCount } }`,
			vars("id", group.CreateWorkingGroup.ID), &node)
		if node.Node.Name != g.Name || node.Territory.WorkingGroup.ID != group.CreateWorkingGroup.ID || node.Organizations.TotalCount != 2 {
			t.Errorf("node and territory: %+v", node)
		}

		// A policy maker sees organizations and people, never their
		// private contacts.
		policy := e.account(t, "paola@regione.sicilia.test", "Paola Policy", access.PolicyMaker)
		var orgs struct {
			Organizations struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Name         string
						Email        *string
						Affiliations []struct {
							Person *struct {
								DisplayName  string
								Email, Phone *string
							}
						}
					}
				}
			}
		}
		e.must(t, policy, `{ organizations(filter: {territory: "EN"}) { totalCount edges { node { name email
			affiliations { person { displayName email phone } } } } } }`, nil, &orgs)
		if orgs.Organizations.TotalCount != 2 || len(orgs.Organizations.Edges) != 2 {
			t.Fatalf("organizations in EN as a policy maker: %+v", orgs)
		}
		for _, edge := range orgs.Organizations.Edges {
			if len(edge.Node.Affiliations) != 1 || edge.Node.Affiliations[0].Person == nil {
				t.Fatalf("%s as a policy maker: %+v; want its one affiliate", edge.Node.Name, edge.Node.Affiliations)
			}
			if p := edge.Node.Affiliations[0].Person; p.Email != nil || p.Phone != nil {
				t.Errorf("a policy maker sees %s's contacts", p.DisplayName)
			}
		}
		e.must(t, policy, netEnna, nil, &enna)
		for _, m := range enna.WorkingGroup.Members {
			if m.Person == nil || m.Person.Email != nil || m.Person.Phone != nil {
				t.Errorf("a policy maker sees member %+v; want the person without contacts", m.Person)
			}
		}
		var people struct {
			People struct {
				TotalCount int
				Edges      []struct {
					Node struct{ Email, Phone *string }
				}
			}
		}
		e.must(t, policy, `{ people(filter: {territory: "EN"}) { totalCount edges { node { email phone } } } }`, nil, &people)
		if people.People.TotalCount != 2 {
			t.Errorf("people of the Enna group as a policy maker: %d, want 2", people.People.TotalCount)
		}
		for _, edge := range people.People.Edges {
			if edge.Node.Email != nil || edge.Node.Phone != nil {
				t.Errorf("a policy maker sees contacts in people: %+v", edge.Node)
			}
		}
		if err := e.refused(t, policy, netCreateOrg, vars("in", vars("name", "Ente", "kind", "NGO", "level", "REGIONAL"))); err.code() != "FORBIDDEN" {
			t.Errorf("a policy maker creating an organization: %s %s, want FORBIDDEN", err.code(), err.Message)
		}

		// Updates: an omitted field stays, null clears an optional one.
		var upd struct {
			UpdateOrganization struct {
				Name    string
				Website *string
				TaxCode *string
			}
		}
		e.must(t, coordinator, `mutation ($id: ID!) { updateOrganization(id: $id, input: {website: "comune.enna.it"}) { name website taxCode } }`,
			vars("id", comune.CreateOrganization.ID), &upd)
		if u := upd.UpdateOrganization; u.Name != "Comune di Enna" || u.Website == nil || *u.Website != "https://comune.enna.it" || u.TaxCode == nil {
			t.Errorf("after setting the website: %+v", u)
		}
		e.must(t, coordinator, `mutation ($id: ID!) { updateOrganization(id: $id, input: {website: null}) { name website taxCode } }`,
			vars("id", comune.CreateOrganization.ID), &upd)
		if u := upd.UpdateOrganization; u.Website != nil || u.TaxCode == nil || u.Name != "Comune di Enna" {
			t.Errorf("after clearing the website: %+v; want no website, the rest kept", u)
		}

		// Bad input: a code, a clear message, nothing changed.
		before := e.organizationCount(t)
		type touched struct {
			Organization struct {
				Name     string
				Archived bool
			}
			Group struct {
				FormedOn    string
				MemberCount int
			}
		}
		// what the refused cases could change: the Comune's name and
		// archived flag, the group's formation date and its members.
		reread := func() touched {
			t.Helper()
			var got touched
			e.must(t, e.admin, `query ($o: ID!, $g: ID!) { organization: node(id: $o) { ... on Organization { name archived } }
				group: node(id: $g) { ... on WorkingGroup { formedOn memberCount } } }`,
				vars("o", comune.CreateOrganization.ID, "g", group.CreateWorkingGroup.ID), &got)
			return got
		}
		untouched := reread()
		if o, g := untouched.Organization, untouched.Group; o.Name != "Comune di Enna" || o.Archived || g.FormedOn != "2026-10-01" || g.MemberCount != 2 {
			t.Fatalf("before the refused requests: %+v", untouched)
		}
		for _, c := range []struct {
			name, doc string
			vars      map[string]any
			code      string
		}{
			{"the same name in the same territory", netCreateOrg,
				vars("in", vars("name", "comune di  ENNA", "kind", "MUNICIPALITY", "level", "MUNICIPAL", "territories", []string{"EN"})), "CONFLICT"},
			{"the same tax code", netCreateOrg,
				vars("in", vars("name", "Altro Comune", "kind", "MUNICIPALITY", "level", "MUNICIPAL", "taxCode", "00100490861")), "CONFLICT"},
			{"an unknown territory", netCreateOrg,
				vars("in", vars("name", "Ente Nuovo", "kind", "NGO", "level", "REGIONAL", "territories", []string{"XX"})), "BAD_USER_INPUT"},
			{"an unknown kind", netCreateOrg,
				vars("in", vars("name", "Ente Nuovo", "kind", "CLUB", "level", "REGIONAL")), "BAD_USER_INPUT"},
			{"a bad email", netCreateOrg,
				vars("in", vars("name", "Ente Nuovo", "kind", "NGO", "level", "REGIONAL", "email", "not an address")), "BAD_USER_INPUT"},
			{"a null name in an update", `mutation ($id: ID!) { updateOrganization(id: $id, input: {name: null}) { name } }`,
				vars("id", comune.CreateOrganization.ID), "BAD_USER_INPUT"},
			{"a person's id for an organization", `mutation ($id: ID!) { archiveOrganization(id: $id) { archived } }`,
				vars("id", carla.CreatePerson.ID), "BAD_USER_INPUT"},
			{"a malformed id", `mutation { archiveOrganization(id: "nonsense") { archived } }`, nil, "BAD_USER_INPUT"},
			{"a page too large", `{ organizations(first: 500) { totalCount } }`, nil, "BAD_USER_INPUT"},
			{"a foreign cursor", `{ organizations(after: "bm9wZQ") { totalCount } }`, nil, "BAD_USER_INPUT"},
			{"a malformed date", `mutation ($id: ID!) { updateWorkingGroup(id: $id, input: {formedOn: "2026-02-30"}) { formedOn } }`,
				vars("id", group.CreateWorkingGroup.ID), "BAD_USER_INPUT"},
			{"a second working group", `mutation { createWorkingGroup(input: {territory: "EN"}) { id } }`, nil, "CONFLICT"},
			{"a current member again", netAddMember, vars("in", vars("workingGroupId", group.CreateWorkingGroup.ID,
				"personId", marco.CreatePerson.ID, "role", "OBSERVER")), "CONFLICT"},
		} {
			err := e.refused(t, e.admin, c.doc, c.vars)
			if err.code() != c.code || err.Message == "" {
				t.Errorf("%s: %s %q, want %s", c.name, err.code(), err.Message, c.code)
			}
		}
		if err := e.refused(t, e.admin, `mutation ($id: ID!) { updateWorkingGroup(id: $id, input: {formedOn: "1 ottobre"}) { formedOn } }`,
			vars("id", group.CreateWorkingGroup.ID)); !strings.Contains(err.Message, "YYYY-MM-DD") {
			t.Errorf("a malformed date: %q; want the message to say how to write a date", err.Message)
		}
		if after := e.organizationCount(t); after != before {
			t.Errorf("refused requests changed the organizations: %d, then %d", before, after)
		}
		if got := reread(); got != untouched {
			t.Errorf("refused requests changed the Comune or the group: %+v, then %+v", untouched, got)
		}

		// History: a role change ends one period and starts another.
		var change struct {
			ChangeMemberRole struct {
				ID, Role string
				Current  bool
			}
		}
		e.must(t, coordinator, `mutation ($id: ID!) { changeMemberRole(id: $id, role: OBSERVER) { id role current } }`,
			vars("id", marcoMembership), &change)
		var history struct {
			WorkingGroup struct {
				MemberCount int
				Members     []struct {
					Role    string
					Current bool
					AddedBy *struct{ DisplayName string }
				}
			}
		}
		e.must(t, coordinator, `{ workingGroup(territory: "EN") { memberCount members(includeHistory: true) { role current addedBy { displayName } } } }`, nil, &history)
		if h := history.WorkingGroup; h.MemberCount != 2 || len(h.Members) != 3 {
			t.Errorf("history of the group: %+v; want 2 current members in 3 periods", h)
		}
	})
}

// TestNetworkNode fetches every type of the network by its global id.
func TestNetworkNode(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newNetEnv(t, db)
		var setup struct {
			Group        idOnly `json:"createWorkingGroup"`
			Organization idOnly `json:"createOrganization"`
			Person       idOnly `json:"createPerson"`
			Municipality idOnly `json:"createMunicipality"`
		}
		e.must(t, e.admin, `mutation {
			createWorkingGroup(input: {territory: "SR"}) { id }
			createOrganization(input: {name: "Arci Siracusa", kind: ASSOCIATION, level: PROVINCIAL, territories: ["SR"]}) { id }
			createPerson(input: {displayName: "Sara Siracusa"}) { id }
			createMunicipality(input: {territory: "SR", name: "Siracusa", istatCode: "089017"}) { id } }`, nil, &setup)
		var links struct {
			Affiliation idOnly `json:"addAffiliation"`
			Membership  idOnly `json:"addMember"`
			Practice    idOnly `json:"createPractice"`
		}
		e.must(t, e.admin, `mutation ($g: ID!, $o: ID!, $p: ID!) {
			addAffiliation(input: {personId: $p, organizationId: $o, role: DELEGATE}) { id }
			addMember(input: {workingGroupId: $g, personId: $p, role: MEMBER, organizationId: $o}) { id }
			createPractice(input: {name: "Sportello migranti", territory: "SR", funding: FAMI, leadOrganizationId: $o,
				themes: [WORK], services: ["orientamento al lavoro"], startsOn: "2024-01-15"}) { id } }`,
			vars("g", setup.Group.ID, "o", setup.Organization.ID, "p", setup.Person.ID), &links)

		const doc = `query ($id: ID!) { node(id: $id) { id __typename
			... on Organization { name practices { name } }
			... on Affiliation { role person { displayName } organization { name } }
			... on WorkingGroup { territory { code } }
			... on Membership { groupRole: role workingGroup { territory { code } } onBehalfOf: organization { name } }
			... on Practice { name startsOn services leadOrganization { name } themes { code } territory { code } }
			... on Municipality { name istatCode territory { code } }
			... on Person { displayName affiliations { role } memberships { role } } } }`
		// Each type with its own fields and at least one relation resolved
		// to the object set up above; "#" is a list's length.
		for typ, c := range map[string]struct {
			id   string
			want map[string]any
		}{
			"WorkingGroup": {setup.Group.ID, map[string]any{"territory.code": "SR"}},
			"Organization": {setup.Organization.ID, map[string]any{"name": "Arci Siracusa", "practices.#": 1,
				"practices.0.name": "Sportello migranti"}},
			"Person": {setup.Person.ID, map[string]any{"displayName": "Sara Siracusa", "affiliations.#": 1,
				"affiliations.0.role": "DELEGATE", "memberships.#": 1, "memberships.0.role": "MEMBER"}},
			"Municipality": {setup.Municipality.ID, map[string]any{"name": "Siracusa", "istatCode": "089017", "territory.code": "SR"}},
			"Affiliation": {links.Affiliation.ID, map[string]any{"role": "DELEGATE", "person.displayName": "Sara Siracusa",
				"organization.name": "Arci Siracusa"}},
			"Membership": {links.Membership.ID, map[string]any{"groupRole": "MEMBER", "workingGroup.territory.code": "SR",
				"onBehalfOf.name": "Arci Siracusa"}},
			"Practice": {links.Practice.ID, map[string]any{"name": "Sportello migranti", "leadOrganization.name": "Arci Siracusa",
				"themes.#": 1, "themes.0.code": "WORK", "territory.code": "SR"}},
		} {
			var data struct{ Node map[string]any }
			e.must(t, e.admin, doc, vars("id", c.id), &data)
			if data.Node == nil || data.Node["__typename"] != typ || data.Node["id"] != c.id {
				t.Errorf("node(%s) = %v, want the %s", c.id, data.Node, typ)
				continue
			}
			for path, want := range c.want {
				if got := jsonPath(data.Node, path); fmt.Sprint(got) != fmt.Sprint(want) {
					b, _ := json.Marshal(data.Node)
					t.Errorf("%s %s = %v, want %v in %s", typ, path, got, want, b)
				}
			}
		}
		var practice struct {
			Node struct {
				StartsOn         string
				Services         []string
				LeadOrganization struct{ Name string }
			}
		}
		e.must(t, e.admin, doc, vars("id", links.Practice.ID), &practice)
		if p := practice.Node; p.StartsOn != "2024-01-15" || len(p.Services) != 1 || p.LeadOrganization.Name != "Arci Siracusa" {
			t.Errorf("the practice: %+v", p)
		}
	})
}

// jsonPath follows a dotted path into decoded JSON: a name is an object's
// field, a number a list's element, "#" a list's length; nil if the path
// leads nowhere.
func jsonPath(v any, path string) any {
	for _, step := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[step]
		case []any:
			if step == "#" {
				return len(x)
			}
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// multipartImport sends importNetwork as a GraphQL multipart request: the
// operations part, the map part, then the file.
func multipartImport(t *testing.T, srv *testServer, token, kind, filename string, file []byte, dryRun bool) httpResult {
	t.Helper()
	ops, err := json.Marshal(map[string]any{
		"query": `mutation ($kind: ImportKind!, $file: Upload!, $dryRun: Boolean!) {
			importNetwork(kind: $kind, file: $file, dryRun: $dryRun) {
				kind dryRun format rows created updated unchanged ok errors { row column code message } } }`,
		"variables": map[string]any{"kind": kind, "file": nil, "dryRun": dryRun},
	})
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0": ["variables.file"]}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="0"; filename="`+filename+`"`)
	h.Set("Content-Type", "text/csv")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

type importReport struct {
	ImportNetwork struct {
		Kind, Format                      string
		DryRun, Ok                        bool
		Rows, Created, Updated, Unchanged int
		Errors                            []struct {
			Row           int
			Column        *string
			Code, Message string
		}
	}
}

func decodeReport(t *testing.T, r httpResult) importReport {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Resp.Errors) > 0 {
		t.Fatalf("importNetwork: status %d, body %s", r.Status, r.Body)
	}
	var rep importReport
	if err := json.Unmarshal(r.Resp.Data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestNetworkImport uploads spreadsheets through a real multipart request:
// a file with one bad row is refused whole, naming the row; a dry run
// writes nothing; a good file is written.
func TestNetworkImport(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newNetEnv(t, db)
		// Excel's variant: a byte-order mark and semicolons.
		bad := "\ufeffnome;tipo;livello;territori;temi\r\n" +
			"Arci Siracusa;ASSOCIATION;PROVINCIAL;SR;WORK\r\n" +
			"Centro Penc;ASSOCIATION;PROVINCIAL;PA;HEALTH\r\n" +
			"Cooperativa Senza Tipo;CLUB;MUNICIPAL;EN;\r\n"
		rep := decodeReport(t, multipartImport(t, e.srv, e.admin, "ORGANIZATIONS", "stakeholder.csv", []byte(bad), false)).ImportNetwork
		if rep.Ok || rep.Rows != 3 || len(rep.Errors) != 1 {
			t.Fatalf("a file with one bad row: %+v; want ok false, 3 rows, 1 error", rep)
		}
		if re := rep.Errors[0]; re.Row != 4 || re.Column == nil || *re.Column != "tipo" || re.Code != "BAD_USER_INPUT" || re.Message == "" {
			t.Errorf("the row error %+v: want row 4, column tipo, BAD_USER_INPUT", re)
		}
		if !strings.Contains(rep.Format, "CSV") {
			t.Errorf("format %q, want CSV", rep.Format)
		}
		if n := e.organizationCount(t); n != 0 {
			t.Errorf("a refused import wrote %d organizations", n)
		}

		good := "nome,tipo,livello,territori\nArci Siracusa,ASSOCIATION,PROVINCIAL,SR\nCentro Penc,ASSOCIATION,PROVINCIAL,PA\n"
		rep = decodeReport(t, multipartImport(t, e.srv, e.admin, "ORGANIZATIONS", "stakeholder.csv", []byte(good), true)).ImportNetwork
		if !rep.Ok || !rep.DryRun || rep.Created != 2 || len(rep.Errors) != 0 {
			t.Errorf("dry run: %+v; want ok, 2 to create", rep)
		}
		if n := e.organizationCount(t); n != 0 {
			t.Errorf("a dry run wrote %d organizations", n)
		}
		rep = decodeReport(t, multipartImport(t, e.srv, e.admin, "ORGANIZATIONS", "stakeholder.csv", []byte(good), false)).ImportNetwork
		if !rep.Ok || rep.DryRun || rep.Created != 2 {
			t.Errorf("import: %+v; want ok, 2 created", rep)
		}
		if n := e.organizationCount(t); n != 2 {
			t.Errorf("after the import: %d organizations, want 2", n)
		}

		// Without a session the upload runs anonymously and is refused.
		r := multipartImport(t, e.srv, "", "ORGANIZATIONS", "stakeholder.csv", []byte(good), false)
		if r.Status != http.StatusUnauthorized && (len(r.Resp.Errors) != 1 || r.Resp.Errors[0].code() != "UNAUTHENTICATED") {
			t.Errorf("anonymous import: %d %s", r.Status, r.Body)
		}
		// A file over the 2 MiB limit of JSON bodies reaches the import,
		// which reports its overlong name.
		long := "nome,tipo,livello\n" + strings.Repeat("n", 3<<20) + ",NGO,REGIONAL\n"
		rep = decodeReport(t, multipartImport(t, e.srv, e.admin, "ORGANIZATIONS", "long.csv", []byte(long), false)).ImportNetwork
		if rep.Ok || len(rep.Errors) != 1 || rep.Errors[0].Row != 2 {
			t.Errorf("a 3 MiB file: %+v; want its one row refused", rep.Errors)
		}
		// A file over the upload limit is refused before it is read.
		big := multipartImport(t, e.srv, e.admin, "ORGANIZATIONS", "big.csv", bytes.Repeat([]byte("x"), graph.MaxUploadBytes), false)
		if big.Status != http.StatusRequestEntityTooLarge || onlyError(t, big).code() != "BAD_USER_INPUT" {
			t.Errorf("an upload over the limit: %d %s", big.Status, big.Body)
		}
		// A malformed multipart request is a request error with a code.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--x--\r\n"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		req.Header.Set("Authorization", "Bearer "+e.admin)
		if res := do(t, req); res.Status != http.StatusBadRequest || onlyError(t, res).code() != "BAD_USER_INPUT" {
			t.Errorf("a multipart request without operations: %d %s", res.Status, res.Body)
		}
	})
}

// TestNetworkPersonRoles shows a person's global roles wherever the network
// service loads the person from.
func TestNetworkPersonRoles(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newNetEnv(t, db)
		e.account(t, "paola@regione.sicilia.test", "Paola Policy", access.PolicyMaker)
		var data struct {
			People struct {
				Edges []struct {
					Node struct {
						DisplayName string
						GlobalRoles []string
					}
				}
			}
		}
		e.must(t, e.admin, `{ people(sort: {field: NAME}) { edges { node { displayName globalRoles } } } }`, nil, &data)
		got := map[string]string{}
		for _, edge := range data.People.Edges {
			got[edge.Node.DisplayName] = strings.Join(edge.Node.GlobalRoles, ",")
		}
		if got["Paola Policy"] != "POLICY_MAKER" || len(data.People.Edges) != 2 {
			t.Errorf("people with their global roles: %v", got)
		}
	})
}

// TestNetworkPartialAnswers: a field one may not read nulls only itself, so
// the rest of the answer stays. Another person's sessions in a list of
// people, and a territory's municipalities for an anonymous caller (the
// territories themselves are public), are null with an error beside the data.
func TestNetworkPartialAnswers(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		e := newNetEnv(t, db)
		policy := e.account(t, "paola@regione.sicilia.test", "Paola Policy", access.PolicyMaker)

		r := authPost(t, e.srv, authBearer(policy), `{ territories { code } people(first: 5) { edges { node { displayName sessions { id } } } } }`, nil)
		var got struct {
			Territories []struct{ Code string }
			People      struct {
				Edges []struct {
					Node struct {
						DisplayName string
						Sessions    *[]struct{ ID string }
					}
				}
			}
		}
		if err := json.Unmarshal(r.Resp.Data, &got); err != nil || len(got.Territories) != 9 || len(got.People.Edges) < 2 {
			t.Fatalf("as a policy maker, people with sessions: %s", r.Body)
		}
		for _, edge := range got.People.Edges {
			if own := edge.Node.DisplayName == "Paola Policy"; own != (edge.Node.Sessions != nil) {
				t.Errorf("%s's sessions as the policy maker: %v", edge.Node.DisplayName, edge.Node.Sessions)
			}
		}
		if len(r.Resp.Errors) == 0 || r.Resp.Errors[0].code() != "FORBIDDEN" {
			t.Errorf("errors %+v, want FORBIDDEN for the others' sessions", r.Resp.Errors)
		}

		r = authPost(t, e.srv, nil, `{ territories { code municipalities(first: 1) { totalCount } } }`, nil)
		var anon struct {
			Territories []struct {
				Code           string
				Municipalities *struct{ TotalCount int }
			}
		}
		if err := json.Unmarshal(r.Resp.Data, &anon); err != nil || len(anon.Territories) != 9 || anon.Territories[0].Municipalities != nil {
			t.Fatalf("anonymous territories with municipalities: %s", r.Body)
		}
		if len(r.Resp.Errors) == 0 || r.Resp.Errors[0].code() != "UNAUTHENTICATED" {
			t.Errorf("errors %+v, want UNAUTHENTICATED for the municipalities", r.Resp.Errors)
		}
	})
}
