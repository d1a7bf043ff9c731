// Package demo fills a database with a demo region: the stakeholder network
// of the public articles PIA started from (the regional office, ANCI
// Sicilia, the integrated social hubs and their partners), a working group
// in each of the nine territories with fictional members, one account per
// role with a known password, and a draft guideline document per territory
// co-written by its working group. Its scale mode adds a large generated
// region, for benchmarks.
//
// The seed goes through the services, as an administrator, like any client:
// every rule and validation holds, and the audit log shows who did it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// Deps are the services the seed goes through.
type Deps struct {
	Accounts  *account.Service
	Network   *network.Service
	Reference *reference.Service
	// Coedit, when set (and started), writes the guideline documents; the
	// demo has none without it.
	Coedit *coedit.Service
	// Meetings, when set, plans and runs the focus groups' meetings; the
	// demo has none without it.
	Meetings *meeting.Service
	// Now is the seed's clock (time.Now by default): the demo's meetings
	// are placed around it.
	Now func() time.Time
}

// Options say what to seed.
type Options struct {
	// Demo seeds the demo region.
	Demo bool
	// Scale, when above zero, generates a region of about 2,000×Scale
	// organizations and 10,000×Scale people. Fractions are allowed.
	Scale float64
	// RandSeed seeds the scale generator (default 1): the same seed gives
	// the same region, so benchmark runs are comparable.
	RandSeed uint64
	// Progress, if set, is told what the seed is doing (scale mode takes a
	// while).
	Progress func(format string, args ...any)
}

// Account is a demo account for the README and the report.
type Account struct {
	Email, Name, Role, Password string
}

// Report says what a seed created.
type Report struct {
	// AlreadySeeded is set when the demo region was found in the database:
	// nothing of it was created again.
	AlreadySeeded  bool
	Organizations  int
	People         int
	Affiliations   int
	WorkingGroups  int
	Memberships    int
	Practices      int
	Municipalities int
	// The guideline documents written, with their edits (operations),
	// comments (threads and replies) and named versions. Documents are
	// written for the territories that have none, also when the region
	// was already seeded.
	Documents int
	Edits     int
	Comments  int
	Versions  int
	// The meetings planned, and those of them held; meetings are planned
	// for the working groups that have none, also when the region was
	// already seeded.
	Meetings     int
	MeetingsHeld int
	// What the meetings hold: register entries (guests included), minutes
	// of the held meetings, answers to the planned ones' invitations.
	Attendance int
	Minutes    int
	Answers    int
	// Accounts are the demo accounts, all with Password.
	Accounts []Account
	// Scale is what scale mode did; nil without it.
	Scale *ScaleReport
}

// Accounts lists the demo accounts, the administrator first.
func Accounts() []Account {
	out := []Account{{Email: AdminEmail, Name: adminName, Role: "ADMIN", Password: Password}}
	for _, p := range accounts {
		out = append(out, Account{Email: p.Email, Name: p.Name, Role: p.Account, Password: Password})
	}
	return out
}

const adminName = "Amministratore demo"

// Seed creates what opts ask for, acting as the demo administrator (created
// first when missing). The demo's network is skipped, with AlreadySeeded, when
// the demo region's regional office already exists; its guideline documents
// are written for the territories whose working group has none (with
// d.Coedit set). Scale mode imports organizations and people by name and
// email, so a second run finds them unchanged.
func Seed(ctx context.Context, d Deps, opts Options) (*Report, error) {
	if !opts.Demo && opts.Scale <= 0 {
		return nil, apperr.Invalid("demo.Seed", "options", "nothing to seed: ask for the demo, a scale above 0, or both")
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	actx, signOut, err := adminContext(ctx, d, opts)
	if err != nil {
		return nil, err
	}
	defer signOut()
	rep := &Report{Accounts: Accounts()}
	if opts.Demo {
		if err := seedDemo(actx, d, opts, rep); err != nil {
			return rep, err
		}
	}
	if opts.Scale > 0 {
		if rep.Scale, err = seedScale(actx, d, opts); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// adminContext returns ctx acting as the demo administrator, signed in with
// the demo password. The administrator is created here when PIA has none,
// or by PIA's first administrator when it has one. signOut ends the
// session.
func adminContext(ctx context.Context, d Deps, opts Options) (context.Context, func(), error) {
	const op = "demo.Seed"
	created, _, err := d.Accounts.EnsureAdmin(ctx, AdminEmail, Password, false)
	if err != nil {
		return nil, nil, fmt.Errorf("the demo administrator: %w", err)
	}
	in, err := d.Accounts.SignIn(ctx, AdminEmail, Password)
	if apperr.Is(err, apperr.Unauthenticated) {
		if err = createDemoAdmin(ctx, d); err == nil {
			in, err = d.Accounts.SignIn(ctx, AdminEmail, Password)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if !in.Actor.Has(access.Admin) {
		return nil, nil, apperr.E(apperr.Conflict, op, "%s is not an administrator any more: give it ADMIN back, or seed another database", AdminEmail)
	}
	actx := access.WithActor(ctx, in.Actor)
	if created {
		// EnsureAdmin names the first administrator "Administrator".
		name := adminName
		if _, err := d.Accounts.UpdateProfile(actx, account.ProfileUpdate{DisplayName: &name}); err != nil {
			return nil, nil, err
		}
	}
	return actx, func() { _, _ = d.Accounts.SignOut(actx) }, nil
}

// createDemoAdmin creates the demo administrator in a database that has
// another one, acting as PIA's first administrator: whoever runs the seed
// holds the database and could write to it anyway, as with `piad import`.
func createDemoAdmin(ctx context.Context, d Deps) error {
	admin, err := d.Accounts.AdminActor(ctx, "")
	if err != nil {
		return fmt.Errorf("create the demo administrator: %w", err)
	}
	_, err = d.Accounts.CreateAccount(access.WithActor(ctx, admin), account.CreateAccountInput{Email: AdminEmail,
		DisplayName: adminName, Password: Password, GlobalRoles: []access.GlobalRole{access.Admin}})
	if err != nil {
		return fmt.Errorf("create the demo administrator: %w", err)
	}
	return nil
}

// seeded reports whether the demo's regional office exists.
func seeded(ctx context.Context, d Deps) (bool, error) {
	first := relay.MaxPage
	page, err := d.Network.Organizations(ctx, network.OrganizationFilter{Kinds: []network.Kind{network.KindRegion},
		Search: "Dipartimento della Famiglia", IncludeArchived: true}, network.Sort{}, relay.PageArgs{First: &first})
	if err != nil {
		return false, err
	}
	for _, o := range page.Items {
		if o.NameKey == network.NameKey(regionName) {
			return true, nil
		}
	}
	return false, nil
}

// builder creates the demo region and counts what it created.
type builder struct {
	d      Deps
	rep    *Report
	orgs   map[string]int64 // by key
	groups map[string]int64 // by territory code
}

func seedDemo(ctx context.Context, d Deps, opts Options, rep *Report) error {
	done, err := seeded(ctx, d)
	if err != nil {
		return err
	}
	if done {
		rep.AlreadySeeded = true
		opts.Progress("the demo region is already there")
	} else if err := buildDemo(ctx, d, opts, rep); err != nil {
		return err
	}
	if d.Coedit != nil {
		opts.Progress("demo: guideline documents")
		if err := seedDocuments(ctx, d, rep); err != nil {
			return fmt.Errorf("demo guideline documents: %w", err)
		}
	}
	if d.Meetings != nil {
		opts.Progress("demo: meetings")
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		if err := seedMeetings(ctx, d, rep, now()); err != nil {
			return fmt.Errorf("demo meetings: %w", err)
		}
	}
	return nil
}

// buildDemo creates the demo region's network.
func buildDemo(ctx context.Context, d Deps, opts Options, rep *Report) error {
	b := &builder{d: d, rep: rep, orgs: map[string]int64{}, groups: map[string]int64{}}
	steps := []struct {
		what string
		run  func(context.Context) error
	}{
		{"organizations", b.organizations},
		{"municipalities", b.municipalities},
		{"working groups", b.workingGroups},
		{"people", b.people},
		{"practices", b.practices},
	}
	for _, s := range steps {
		opts.Progress("demo: %s", s.what)
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("demo %s: %w", s.what, err)
		}
	}
	return nil
}

func (b *builder) organizations(ctx context.Context) error {
	for _, o := range append(namedOrganizations(), provincialOrganizations()...) {
		created, err := b.d.Network.CreateOrganization(ctx, network.OrganizationInput{
			Name: o.Name, Kind: o.Kind, Level: o.Level, Territories: o.Territories, Themes: o.Themes})
		if err != nil {
			return fmt.Errorf("%s: %w", o.Name, err)
		}
		b.orgs[o.Key] = created.ID
		b.rep.Organizations++
	}
	return nil
}

func (b *builder) municipalities(ctx context.Context) error {
	for _, t := range territories {
		code := t.Istat
		in := []network.MunicipalityInput{{Territory: t.Code, Name: t.Capoluogo, IstatCode: &code}}
		for _, name := range t.Others {
			in = append(in, network.MunicipalityInput{Territory: t.Code, Name: name})
		}
		for _, m := range in {
			if _, err := b.d.Network.CreateMunicipality(ctx, m); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			b.rep.Municipalities++
		}
	}
	return nil
}

// workingGroups creates the working group of each territory, keeping those
// that exist (made by an earlier scale run).
func (b *builder) workingGroups(ctx context.Context) error {
	ts, err := b.d.Reference.Territories(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	have, err := b.d.Network.WorkingGroupsOfTerritories(ctx, ids)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if g := have[t.ID]; g != nil {
			b.groups[t.Code] = g.ID
			continue
		}
		// Formed four months before the seed, before its first meetings.
		now := time.Now
		if b.d.Now != nil {
			now = b.d.Now
		}
		formed := now().In(meeting.Rome).AddDate(0, -4, 0)
		formedOn := time.Date(formed.Year(), formed.Month(), formed.Day(), 0, 0, 0, 0, time.UTC)
		g, err := b.d.Network.CreateWorkingGroup(ctx, network.WorkingGroupInput{
			Territory: t.Code, FormedOn: &formedOn,
			Description: "Il gruppo di lavoro del territorio di " + t.Name + " per il Piano di Inclusione Accogliente: " +
				"una piattaforma permanente di co-progettazione tra operatori pubblici e privati, stakeholder e policy maker " +
				"(progetto FAMI Com.In.4.0).",
		})
		if err != nil {
			return fmt.Errorf("%s: %w", t.Code, err)
		}
		b.groups[t.Code] = g.ID
		b.rep.WorkingGroups++
	}
	return nil
}

// people creates the demo accounts and the directory's people, ties each to
// their organization and adds them to their working group on its behalf.
func (b *builder) people(ctx context.Context) error {
	for _, p := range append(append([]person{}, accounts...), members()...) {
		id, err := b.person(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Email, err)
		}
		if err := b.join(ctx, id, p); err != nil {
			return fmt.Errorf("%s: %w", p.Email, err)
		}
	}
	return nil
}

// person creates p, with an account when p is a demo account.
func (b *builder) person(ctx context.Context, p person) (int64, error) {
	email := p.Email
	var created *network.Person
	var err error
	if p.Account == "" {
		created, err = b.d.Network.CreatePerson(ctx, network.PersonInput{DisplayName: p.Name, Email: &email, Language: "it"})
	} else {
		created, err = b.d.Accounts.CreateAccount(ctx, account.CreateAccountInput{
			Email: email, DisplayName: p.Name, Password: Password, GlobalRoles: p.Global})
	}
	if err != nil {
		return 0, err
	}
	b.rep.People++
	return created.ID, nil
}

// join ties person id to p's organization and working group.
func (b *builder) join(ctx context.Context, id int64, p person) error {
	org, ok := b.orgs[p.Org]
	if !ok {
		return errors.New("no organization " + p.Org)
	}
	in := network.AffiliationInput{PersonID: id, OrganizationID: org, Role: p.Role}
	if p.Title != "" {
		title := p.Title
		in.Title = &title
	}
	if _, err := b.d.Network.AddAffiliation(ctx, in); err != nil {
		return err
	}
	b.rep.Affiliations++
	if p.Group == "" {
		return nil
	}
	_, err := b.d.Network.AddMember(ctx, network.MemberInput{WorkingGroupID: b.groups[p.Group], PersonID: id,
		Role: p.GroupRole, OrganizationID: &org})
	if err != nil {
		return err
	}
	b.rep.Memberships++
	return nil
}

func (b *builder) practices(ctx context.Context) error {
	for _, p := range practices() {
		in := network.PracticeInput{Name: p.Name, Description: p.Description, Territory: p.Territory, Themes: p.Themes,
			Funding: p.Funding, FundingDetail: p.FundingDetail, Beneficiaries: p.Beneficiaries,
			Services: p.Services, OpeningHours: p.OpeningHours, Address: p.Address}
		if p.Lead != "" {
			lead := b.orgs[p.Lead]
			in.LeadOrganizationID = &lead
		}
		for _, k := range p.Partners {
			in.PartnerIDs = append(in.PartnerIDs, b.orgs[k])
		}
		if _, err := b.d.Network.CreatePractice(ctx, in); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		b.rep.Practices++
	}
	return nil
}
