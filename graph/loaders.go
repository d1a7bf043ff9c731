package graph

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// loaderWait is how long a loader collects keys before it fetches them,
// for loads that no peers announced (see peers).
const loaderWait = 2 * time.Millisecond

// loaders batch the reads of related objects within one response: a page of
// 50 organizations asks for their territories, affiliations and people in
// one statement each instead of 50. Each loader is keyed by database id and
// caches what it read for the rest of the response.
//
// gqlgen resolves the items of a list in goroutines, and a dataloader
// batches the keys that arrive within its wait. Under load some of those
// goroutines start later than that, and a batch splits: the statement count
// of a page would then vary from run to run. So the objects known to be
// fetched together (the items of a page, the people of a batch of
// affiliations) are announced as peers, and the first load of one of them
// reads all of them, in one batch, whatever the scheduling.
type loaders struct {
	organization *batcher[*network.Organization]
	person       *batcher[*account.Person] // nil when the caller may not see the person
	globalRoles  *batcher[[]access.GlobalRole]
	workingGroup *batcher[*network.WorkingGroup]
	practice     *batcher[*network.Practice]
	territory    *batcher[*reference.Territory]
	theme        *batcher[*reference.Theme]

	territoriesOfOrganization *batcher[[]int64]
	themesOfOrganization      *batcher[[]int64]
	practicesOfOrganization   *batcher[[]int64]
	themesOfPractice          *batcher[[]int64]
	partnersOfPractice        *batcher[[]int64]
	groupTerritoriesOfPerson  *batcher[[]int64]
	groupOfTerritory          *batcher[*network.WorkingGroup]

	// By history: [0] current ties only, [1] every period.
	affiliationsOfOrganization [2]*batcher[[]*network.Affiliation]
	affiliationsOfPerson       [2]*batcher[[]*network.Affiliation]
	membersOfGroup             [2]*batcher[[]*network.Membership]
	membershipsOfPerson        [2]*batcher[[]*network.Membership]

	// Guideline documents.
	document         *batcher[*coedit.Document]
	section          *batcher[*coedit.Section]
	comment          *batcher[*coedit.Comment]
	documentsOfGroup *batcher[[]*coedit.Document]
	repliesOf        *batcher[[]*coedit.Comment]
	mentionsOf       *batcher[[]int64]
	sectionText      *textMemo
	// By includeRemoved: [0] live sections, [1] removed ones too.
	sectionsOfDocument [2]*batcher[[]*coedit.Section]
	// By includeResolved: [0] open threads, [1] resolved ones too.
	threadsOfDocument [2]*batcher[[]*coedit.Comment]

	// Focus groups and meetings.
	meeting              *batcher[*meeting.Meeting] // nil when the caller may not read it
	focusGroup           *batcher[*meeting.FocusGroup]
	focusGroupsOfGroup   *batcher[[]*meeting.FocusGroup]
	inviteesOfFocusGroup *batcher[[]*meeting.Invitee] // empty where the caller may not read them
	// A meeting's invitations: all of them for the register's readers, the
	// caller's own for anyone else.
	invitationsOfMeeting *batcher[[]*meeting.Invitation]
	rsvpCounts           *batcher[meeting.Counts]
	registerOfMeeting    *batcher[[]*meeting.Attendance] // empty where the caller may not read it
	registerTotals       *batcher[*meeting.Totals]       // nil where the caller may not read the register
	minutesOfMeeting     *batcher[*meeting.Minutes]      // nil while none are written

	// Peers by type of object.
	organizations, people, groups, practices, territories *peers
	documents, comments, sections                         *peers
	meetings, focusGroups                                 *peers
}

// peers remembers which ids of one type were fetched together.
type peers struct {
	mu    sync.Mutex
	group map[int64][]int64
}

func newPeers() *peers { return &peers{group: map[int64][]int64{}} }

// add announces ids as fetched together.
func (p *peers) add(ids []int64) {
	if p == nil || len(ids) < 2 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		p.group[id] = ids
	}
}

func (p *peers) of(id int64) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.group[id]
}

// batcher is a dataloader keyed by the ids of one type. When an id with
// announced peers is first asked for, the batcher reads it and its peers at
// once, in one batch, and primes the loader's cache with them; loads nobody
// announced go through the loader's timed batches.
type batcher[V any] struct {
	loader *dataloader.Loader[int64, V]
	fetch  dataloader.BatchFunc[int64, V]
	peers  *peers // nil: no peers for this loader

	// mu is held while a group of peers is read, so that a concurrent load
	// of one of them waits for the group instead of reading it again.
	mu     sync.Mutex
	queued map[int64]bool
	failed map[int64]error
}

// queue returns the thunks of ids, reading first, in one batch, the peers
// of any id not asked for yet.
func (b *batcher[V]) queue(ctx context.Context, ids []int64) []dataloader.Thunk[V] {
	if b.peers != nil {
		b.readPeers(ctx, ids)
	}
	thunks := make([]dataloader.Thunk[V], len(ids))
	for i, id := range ids {
		b.mu.Lock()
		err, failed := b.failed[id]
		b.mu.Unlock()
		if failed {
			thunks[i] = func() (V, error) { var zero V; return zero, err }
			continue
		}
		thunks[i] = b.loader.Load(ctx, id)
	}
	return thunks
}

// prime puts v in the cache as id's value, as if read.
func (b *batcher[V]) prime(ctx context.Context, id int64, v V) {
	b.mu.Lock()
	b.queued[id] = true
	b.mu.Unlock()
	b.loader.Prime(ctx, id, v)
}

func (b *batcher[V]) readPeers(ctx context.Context, ids []int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var group []int64
	for _, id := range ids {
		if b.queued[id] {
			continue
		}
		// The group is shared with other batchers: read it, never append to it.
		for _, p := range b.peers.of(id) {
			if !b.queued[p] {
				b.queued[p] = true
				group = append(group, p)
			}
		}
		if !b.queued[id] {
			b.queued[id] = true
			group = append(group, id)
		}
	}
	if len(group) < 2 {
		return // a lone load: the loader's timed batch may join it with others
	}
	for i, r := range b.fetch(ctx, group) {
		if r.Error != nil {
			b.failed[group[i]] = r.Error
		} else {
			b.loader.Prime(ctx, group[i], r.Data)
		}
	}
}

// batch is a service's batch read: values by key, keys without a value
// absent.
type batch[V any] func(ctx context.Context, ids []int64) (map[int64]V, error)

// newBatcher makes a loader from a batch read. Results go back in the order
// of the keys, as the loader requires (the map gives no order to mistake
// for it); a key the read did not return gets missing(key), or the zero
// value (an empty list, a nil object) when missing is nil. A failed read is
// the error of every key of the batch. seen, when not nil, is told what a
// batch read, to announce the peers of the next level.
func newBatcher[V any](p *peers, read batch[V], missing func(int64) (V, error), seen func(keys []int64, got map[int64]V)) *batcher[V] {
	b := &batcher[V]{peers: p, queued: map[int64]bool{}, failed: map[int64]error{}}
	b.fetch = func(ctx context.Context, keys []int64) []*dataloader.Result[V] {
		got, err := read(ctx, keys)
		if err == nil && seen != nil {
			seen(keys, got)
		}
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			r := &dataloader.Result[V]{}
			if v, ok := got[k]; err != nil {
				r.Error = err
			} else if ok {
				r.Data = v
			} else if missing != nil {
				r.Data, r.Error = missing(k)
			}
			out[i] = r
		}
		return out
	}
	b.loader = dataloader.NewBatchedLoader(b.fetch, dataloader.WithWait[int64, V](loaderWait))
	return b
}

// history makes the pair of loaders for a read that takes a history flag.
func history[V any](p *peers, read func(ctx context.Context, ids []int64, history bool) (map[int64]V, error),
	seen func(keys []int64, got map[int64]V)) [2]*batcher[V] {
	return [2]*batcher[V]{
		newBatcher(p, func(ctx context.Context, ids []int64) (map[int64]V, error) { return read(ctx, ids, false) }, nil, seen),
		newBatcher(p, func(ctx context.Context, ids []int64) (map[int64]V, error) { return read(ctx, ids, true) }, nil, seen),
	}
}

// notFound is the missing function of a relation that must exist (an
// affiliation's organization): its absence is NOT_FOUND, not a null.
func notFound[V any](what string) func(int64) (V, error) {
	return func(int64) (V, error) {
		var zero V
		return zero, apperr.E(apperr.NotFound, "graph.load", "no such %s", what)
	}
}

func newLoaders(r *Resolver) *loaders {
	n := r.Network
	l := &loaders{organizations: newPeers(), people: newPeers(), groups: newPeers(), practices: newPeers(), territories: newPeers(),
		documents: newPeers(), comments: newPeers(), sections: newPeers(), meetings: newPeers(), focusGroups: newPeers()}
	// What a batch read announces the peers of the next level's loads.
	l.organization = newBatcher(l.organizations, n.OrganizationsByID, notFound[*network.Organization]("organization"),
		func(keys []int64, _ map[int64]*network.Organization) { l.organizations.add(keys) })
	// Deciding who is visible reads the people's group territories, which
	// their contacts need next: they go to that loader's cache.
	l.person = newBatcher(l.people, func(ctx context.Context, ids []int64) (map[int64]*account.Person, error) {
		people, groups, err := n.PeopleAndGroupsByID(ctx, ids)
		for id := range people {
			l.groupTerritoriesOfPerson.prime(ctx, id, groups[id])
		}
		return people, err
	}, nil, func(keys []int64, _ map[int64]*account.Person) { l.people.add(keys) })
	// GlobalRolesOf leaves to its caller the check of who may see whom:
	// roles are shown only on a Person that the person loader (which keeps
	// those the caller may see) or the account service gave; the peers read
	// beside them stay in the cache.
	l.globalRoles = newBatcher(l.people, r.Accounts.GlobalRolesOf, nil, nil)
	l.practice = newBatcher(l.practices, n.PracticesByID, notFound[*network.Practice]("practice"),
		func(keys []int64, _ map[int64]*network.Practice) { l.practices.add(keys) })
	l.workingGroup = newBatcher(nil, memoized(func(ctx context.Context) (map[int64]*network.WorkingGroup, error) {
		return r.workingGroups(ctx, l.groups)
	}), notFound[*network.WorkingGroup]("working group"), nil)
	l.territory = newBatcher(nil, memoized(r.territoriesByID), notFound[*reference.Territory]("territory"), nil)
	l.theme = newBatcher(nil, memoized(r.themesByID), notFound[*reference.Theme]("theme"), nil)

	l.territoriesOfOrganization = newBatcher(l.organizations, n.TerritoriesOfOrganizations, nil, nil)
	l.themesOfOrganization = newBatcher(l.organizations, n.ThemesOfOrganizations, nil, nil)
	l.practicesOfOrganization = newBatcher(l.organizations, n.PracticesOfOrganizations, nil, flatten(l.practices))
	l.themesOfPractice = newBatcher(l.practices, n.ThemesOfPractices, nil, nil)
	l.partnersOfPractice = newBatcher(l.practices, n.PartnersOfPractices, nil, flatten(l.organizations))
	l.groupTerritoriesOfPerson = newBatcher(l.people, n.GroupTerritoriesOfPeople, nil, nil)
	l.groupOfTerritory = newBatcher(l.territories, n.WorkingGroupsOfTerritories, nil,
		func(_ []int64, got map[int64]*network.WorkingGroup) {
			l.groups.add(collect(got, func(g *network.WorkingGroup) []int64 { return []int64{g.ID} }))
		})

	affiliated := func(_ []int64, got map[int64][]*network.Affiliation) {
		l.people.add(collectAll(got, func(a *network.Affiliation) []int64 { return []int64{a.PersonID} }))
		l.organizations.add(collectAll(got, func(a *network.Affiliation) []int64 { return []int64{a.OrganizationID} }))
	}
	members := func(_ []int64, got map[int64][]*network.Membership) {
		l.people.add(collectAll(got, func(m *network.Membership) []int64 {
			return appendSet([]int64{m.PersonID}, m.AddedBy, m.RemovedBy)
		}))
		l.organizations.add(collectAll(got, func(m *network.Membership) []int64 { return appendSet(nil, m.OrganizationID) }))
	}
	l.affiliationsOfOrganization = history(l.organizations, n.AffiliationsOfOrganizations, affiliated)
	l.affiliationsOfPerson = history(l.people, n.AffiliationsOfPeople, affiliated)
	l.membersOfGroup = history(l.groups, n.MembersOfGroups, members)
	l.membershipsOfPerson = history(l.people, n.MembershipsOfPeople, members)
	if r.Coedit != nil {
		coeditLoaders(r.Coedit, l)
	}
	if r.Meetings != nil {
		meetingLoaders(r.Meetings, l)
	}
	return l
}

// meetingLoaders adds the loaders of focus groups and meetings to l.
func meetingLoaders(m *meeting.Service, l *loaders) {
	l.meeting = newBatcher(l.meetings, m.MeetingsByID, nil, func(keys []int64, got map[int64]*meeting.Meeting) {
		l.meetings.add(keys)
		l.meetingsRead(slices.Collect(maps.Values(got)))
	})
	l.focusGroup = newBatcher(l.focusGroups, m.FocusGroupsByID, notFound[*meeting.FocusGroup]("focus group"),
		func(keys []int64, got map[int64]*meeting.FocusGroup) {
			l.focusGroups.add(keys)
			l.people.add(collect(got, func(fg *meeting.FocusGroup) []int64 { return appendSet(nil, fg.FacilitatorID) }))
		})
	l.focusGroupsOfGroup = newBatcher(l.groups, m.FocusGroupsOfWorkingGroups, nil, func(_ []int64, got map[int64][]*meeting.FocusGroup) {
		l.focusGroups.add(collectAll(got, func(fg *meeting.FocusGroup) []int64 { return []int64{fg.ID} }))
		l.people.add(collectAll(got, func(fg *meeting.FocusGroup) []int64 { return appendSet(nil, fg.FacilitatorID) }))
	})
	l.inviteesOfFocusGroup = newBatcher(l.focusGroups, m.InviteesOf, nil, func(_ []int64, got map[int64][]*meeting.Invitee) {
		l.people.add(collectAll(got, func(iv *meeting.Invitee) []int64 { return appendSet(nil, iv.PersonID, iv.AddedBy) }))
		l.organizations.add(collectAll(got, func(iv *meeting.Invitee) []int64 { return appendSet(nil, iv.OrganizationID) }))
	})
	l.invitationsOfMeeting = newBatcher(l.meetings, m.InvitationsOf, nil, func(_ []int64, got map[int64][]*meeting.Invitation) {
		l.people.add(collectAll(got, func(inv *meeting.Invitation) []int64 {
			return appendSet([]int64{inv.PersonID}, inv.DelegatedToID, inv.InvitedBy)
		}))
		l.organizations.add(collectAll(got, func(inv *meeting.Invitation) []int64 { return appendSet(nil, inv.OrganizationID) }))
	})
	l.rsvpCounts = newBatcher(l.meetings, m.RSVPCounts, nil, nil)
	l.registerOfMeeting = newBatcher(l.meetings, m.AttendanceOf, nil, func(_ []int64, got map[int64][]*meeting.Attendance) {
		l.people.add(collectAll(got, func(a *meeting.Attendance) []int64 { return appendSet(nil, a.PersonID, a.RecordedBy) }))
		l.organizations.add(collectAll(got, func(a *meeting.Attendance) []int64 { return appendSet(nil, a.OrganizationID) }))
	})
	l.registerTotals = newBatcher(l.meetings, m.RegisterTotals, nil, nil)
	l.minutesOfMeeting = newBatcher(l.meetings, m.MinutesOf, nil, func(_ []int64, got map[int64]*meeting.Minutes) {
		l.sections.add(collect(got, func(mm *meeting.Minutes) []int64 { return mm.SectionIDs }))
		l.people.add(collect(got, func(mm *meeting.Minutes) []int64 { return appendSet(nil, mm.UpdatedBy) }))
	})
}

// invitationsRead announces what a page of invitations leads to: their
// meetings, and the people and organizations they name.
func (l *loaders) invitationsRead(invs []*meeting.Invitation) {
	ms, people, orgs := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for _, inv := range invs {
		ms[inv.MeetingID] = true
		for _, id := range appendSet([]int64{inv.PersonID}, inv.DelegatedToID, inv.InvitedBy) {
			people[id] = true
		}
		if inv.OrganizationID != nil {
			orgs[*inv.OrganizationID] = true
		}
	}
	l.meetings.add(slices.Sorted(maps.Keys(ms)))
	l.people.add(slices.Sorted(maps.Keys(people)))
	l.organizations.add(slices.Sorted(maps.Keys(orgs)))
}

// meetingsRead announces what meetings read together lead to: their focus
// groups, and the people they name (facilitators, who planned them, who
// overrode their conflicts), each as one group of peers.
func (l *loaders) meetingsRead(ms []*meeting.Meeting) {
	fgs, people := map[int64]bool{}, map[int64]bool{}
	for _, m := range ms {
		fgs[m.FocusGroupID] = true
		for _, id := range appendSet(nil, m.FacilitatorID, m.CreatedBy, m.OverriddenBy) {
			people[id] = true
		}
	}
	l.focusGroups.add(slices.Sorted(maps.Keys(fgs)))
	l.people.add(slices.Sorted(maps.Keys(people)))
}

// coeditLoaders adds the loaders of the guideline documents to l.
func coeditLoaders(c *coedit.Service, l *loaders) {
	l.document = newBatcher(l.documents, c.DocumentsByID, notFound[*coedit.Document]("document"),
		func(keys []int64, _ map[int64]*coedit.Document) { l.documents.add(keys) })
	// Peers: the sections that minutes read together link.
	l.section = newBatcher(l.sections, c.SectionsByID, notFound[*coedit.Section]("section"), nil)
	l.comment = newBatcher(l.comments, c.CommentsByID, notFound[*coedit.Comment]("comment"), nil)
	l.documentsOfGroup = newBatcher(l.groups, c.DocumentsOfGroups, nil,
		func(_ []int64, got map[int64][]*coedit.Document) {
			l.documents.add(collectAll(got, func(d *coedit.Document) []int64 { return []int64{d.ID} }))
		})
	l.sectionsOfDocument = history(l.documents, c.SectionsOfDocuments, nil)
	l.repliesOf = newBatcher(l.comments, c.RepliesOf, nil, func(_ []int64, got map[int64][]*coedit.Comment) {
		l.people.add(collectAll(got, func(c *coedit.Comment) []int64 { return appendSet(nil, c.AuthorID) }))
	})
	l.mentionsOf = newBatcher(l.comments, c.MentionsOf, nil, flatten(l.people))
	l.threadsOfDocument = history(l.documents, c.ThreadsOfDocuments, func(_ []int64, got map[int64][]*coedit.Comment) {
		l.comments.add(collectAll(got, func(c *coedit.Comment) []int64 { return []int64{c.ID} }))
		l.people.add(collectAll(got, func(c *coedit.Comment) []int64 { return appendSet(nil, c.AuthorID, c.ResolvedBy) }))
	})
	l.sectionText = &textMemo{c: c, texts: map[int64]func() (sectionText, error){}}
}

// flatten announces the ids of id lists as peers of p.
func flatten(p *peers) func([]int64, map[int64][]int64) {
	return func(_ []int64, got map[int64][]int64) {
		p.add(collectAll(got, func(id int64) []int64 { return []int64{id} }))
	}
}

// collect gathers the distinct ids that f gives for each value of got.
func collect[V any](got map[int64]V, f func(V) []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, v := range got {
		for _, id := range f(v) {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// collectAll is collect over lists.
func collectAll[V any](got map[int64][]V, f func(V) []int64) []int64 {
	return collect(got, func(vs []V) []int64 {
		var out []int64
		for _, v := range vs {
			out = append(out, f(v)...)
		}
		return out
	})
}

// appendSet appends the ids that are set.
func appendSet(out []int64, ids ...*int64) []int64 {
	for _, id := range ids {
		if id != nil {
			out = append(out, *id)
		}
	}
	return out
}

// memoized is a batch read that reads everything (the reference data, the
// working groups) once per response, however the loads are batched.
func memoized[V any](readAll func(ctx context.Context) (map[int64]V, error)) batch[V] {
	var (
		once sync.Mutex
		done bool
		all  map[int64]V
		err  error
	)
	return func(ctx context.Context, _ []int64) (map[int64]V, error) {
		once.Lock()
		defer once.Unlock()
		if !done {
			all, err = readAll(ctx)
			done = err == nil
		}
		return all, err
	}
}

// The reference data is 9 territories and 4 themes: they are read whole,
// rather than adding batch reads to package reference.

func (r *Resolver) territoriesByID(ctx context.Context) (map[int64]*reference.Territory, error) {
	all, err := r.Reference.Territories(ctx)
	return byID(all, func(t *reference.Territory) int64 { return t.ID }), err
}

func (r *Resolver) themesByID(ctx context.Context) (map[int64]*reference.Theme, error) {
	all, err := r.Reference.Themes(ctx)
	return byID(all, func(t *reference.Theme) int64 { return t.ID }), err
}

// workingGroups reads every working group in one page: there is one per
// territory at most (nine), archived ones included; they are announced as
// peers.
func (r *Resolver) workingGroups(ctx context.Context, p *peers) (map[int64]*network.WorkingGroup, error) {
	first := relay.MaxPage
	page, err := r.Network.WorkingGroups(ctx, network.WorkingGroupFilter{IncludeArchived: true}, relay.PageArgs{First: &first})
	if err != nil {
		return nil, err
	}
	out := byID(page.Items, func(g *network.WorkingGroup) int64 { return g.ID })
	p.add(collect(out, func(g *network.WorkingGroup) []int64 { return []int64{g.ID} }))
	return out, nil
}

func byID[T any](items []T, id func(T) int64) map[int64]T {
	out := make(map[int64]T, len(items))
	for _, it := range items {
		out[id(it)] = it
	}
	return out
}

type loadersKey struct{}

// lazyLoaders makes a response's loaders on first use: building the set
// costs tens of microseconds, which a response that loads nothing (an
// edit's acknowledgement, most stream events) need not pay.
type lazyLoaders struct {
	r    *Resolver
	once sync.Once
	l    *loaders
}

func (z *lazyLoaders) get() *loaders {
	z.once.Do(func() { z.l = newLoaders(z.r) })
	return z.l
}

// loadersFrom returns the loaders of the response ctx belongs to. Outside
// the handler (a resolver called directly) it makes a set for the one call.
func (r *Resolver) loadersFrom(ctx context.Context) *loaders {
	switch l := ctx.Value(loadersKey{}).(type) {
	case *lazyLoaders:
		return l.get()
	case *loaders:
		return l
	}
	return newLoaders(r)
}

// Dataloaders is the gqlgen extension that gives each response its own
// loaders: a query's fields share one set, each event of a subscription gets
// a fresh one, and so does each root field of a mutation, so that what a
// mutation changed is not answered from what an earlier one of the same
// request cached.
type Dataloaders struct{ Resolver *Resolver }

var (
	_ graphql.HandlerExtension     = Dataloaders{}
	_ graphql.ResponseInterceptor  = Dataloaders{}
	_ graphql.RootFieldInterceptor = Dataloaders{}
)

func (Dataloaders) ExtensionName() string                          { return "PIADataloaders" }
func (Dataloaders) Validate(schema graphql.ExecutableSchema) error { return nil }

// InterceptResponse installs the loaders of one response.
func (d Dataloaders) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, loadersKey{}, &lazyLoaders{r: d.Resolver}))
}

// InterceptRootField gives each root field of a mutation loaders of its own.
func (d Dataloaders) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		ctx = context.WithValue(ctx, loadersKey{}, &lazyLoaders{r: d.Resolver})
	}
	return next(ctx)
}
