package graph

// The guideline documents' side of the API: global ids, connections, the
// mapping of inputs to the coedit service's, the loads of related objects
// that the resolvers in schema.resolvers.go make, and the streams of the
// three subscriptions, which end with an error the client can act on.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/graph/model"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
)

// fetchCoeditNode loads a document, section, comment or version for
// Query.node. The service answers NOT_FOUND for what the caller may not
// read, which node turns into null.
func (r *Resolver) fetchCoeditNode(ctx context.Context, typ string, id int64) (relay.Node, error) {
	c := r.Coedit
	switch typ {
	case typeDocument:
		return nodeOf(c.Document(ctx, id))
	case typeSection:
		return nodeOf(c.Section(ctx, id))
	case typeComment:
		return nodeOf(c.Comment(ctx, id))
	case typeDocumentVersion:
		return nodeOf(c.VersionByID(ctx, id))
	}
	return nil, nil
}

// documentConnection announces the documents of a page as peers: their
// sections load in one batch.
func (r *Resolver) documentConnection(ctx context.Context) func(*relay.Page[*coedit.Document], error) (*DocumentConnection, error) {
	return connectionOf(r.loadersFrom(ctx).documents, func(d *coedit.Document) int64 { return d.ID })
}

// batchedCommentConnection is the connection of a page of threads read with
// those of other documents, which the loader announced together as peers:
// announcing the page alone would split them.
func batchedCommentConnection(page *relay.Page[*coedit.Comment], err error) (*CommentConnection, error) {
	return connectionOf(nil, func(c *coedit.Comment) int64 { return c.ID })(page, err)
}

// threads is Document.threads.
func (r *Resolver) threads(ctx context.Context, d *coedit.Document, sectionID *string, includeResolved bool, args relay.PageArgs) (*CommentConnection, error) {
	section, err := optionalID(typeSection, sectionID)
	if err != nil {
		return nil, err
	}
	l := r.loadersFrom(ctx)
	all, err := load(ctx, l.threadsOfDocument[boolIndex(includeResolved)], d.ID)
	if err != nil {
		return nil, err
	}
	if section != 0 {
		var of []*coedit.Comment
		for _, c := range all {
			if c.SectionID == section {
				of = append(of, c)
			}
		}
		all = of
	}
	return batchedCommentConnection(relay.PageOfSlice(all, args, func(c *coedit.Comment) int64 { return c.ID }))
}

// documentFilter is the service's filter for Query.documents. An unknown
// territory code is BAD_USER_INPUT, as in the network's filters.
func (r *Resolver) documentFilter(ctx context.Context, territory *string, status *coedit.Status) (coedit.DocumentFilter, error) {
	var f coedit.DocumentFilter
	if status != nil {
		f.Status = *status
	}
	if territory != nil {
		t, err := r.Reference.TerritoryByCode(ctx, *territory)
		if apperr.Is(err, apperr.NotFound) {
			return f, apperr.Invalid("graph.documents", "territory", "no territory has the code %q; use a code such as EN", *territory)
		}
		if err != nil {
			return f, err
		}
		f.TerritoryID = t.ID
	}
	return f, nil
}

// themeID resolves an optional theme code to the theme's id.
func (r *Resolver) themeID(ctx context.Context, code *reference.ThemeCode) (*int64, error) {
	if code == nil {
		return nil, nil
	}
	themes, err := r.Reference.Themes(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range themes {
		if t.Code == *code {
			return &t.ID, nil
		}
	}
	return nil, apperr.Invalid("graph.theme", "theme", "%q is not a theme; use HEALTH, EDUCATION, WORK or HOUSING", *code)
}

func (r *Resolver) documentInput(ctx context.Context, in model.CreateDocumentInput) (out coedit.DocumentInput, err error) {
	if out.WorkingGroupID, err = parseID(typeWorkingGroup, in.WorkingGroupID); err != nil {
		return out, err
	}
	out.Title = in.Title
	for _, s := range in.Sections {
		if s == nil {
			continue
		}
		theme, err := r.themeID(ctx, s.Theme)
		if err != nil {
			return out, err
		}
		out.Sections = append(out.Sections, coedit.SectionInput{Title: s.Title, ThemeID: theme, Body: s.Body})
	}
	return out, nil
}

func (r *Resolver) addSectionInput(ctx context.Context, in model.AddSectionInput) (out coedit.AddSectionInput, err error) {
	if out.DocumentID, err = parseID(typeDocument, in.DocumentID); err != nil {
		return out, err
	}
	theme, err := r.themeID(ctx, in.Theme)
	if err != nil {
		return out, err
	}
	out.StructureVersion, out.Position = in.StructureVersion, in.Position
	out.SectionInput = coedit.SectionInput{Title: in.Title, ThemeID: theme, Body: in.Body}
	return out, nil
}

func editInput(in model.EditSectionInput) (coedit.EditInput, error) {
	id, err := parseID(typeSection, in.SectionID)
	return coedit.EditInput{SectionID: id, BaseVersion: int64(in.BaseVersion), Op: in.Operation,
		ClientID: in.ClientID, ClientSeq: int64(in.ClientSeq)}, err
}

func commentInput(in model.AddCommentInput) (out coedit.CommentInput, err error) {
	if out.SectionID, err = parseID(typeSection, in.SectionID); err != nil {
		return out, err
	}
	if out.Mentions, err = ids(typePerson, in.Mentions); err != nil {
		return out, err
	}
	out.Version, out.Body = int64(in.Version), in.Body
	if in.Range != nil {
		out.Start, out.End = in.Range.Start, in.Range.End
	}
	return out, nil
}

func presenceInput(in model.PresenceInput) (out coedit.PresenceInput, err error) {
	if out.DocumentID, err = parseID(typeDocument, in.DocumentID); err != nil {
		return out, err
	}
	if out.SectionID, err = optionalID(typeSection, in.SectionID); err != nil {
		return out, err
	}
	out.ClientID, out.Version, out.Cursor, out.Selection = in.ClientID, int64(in.Version), in.Cursor, textRange(in.Selection)
	return out, nil
}

func textRange(in *model.TextRangeInput) *ot.Range {
	if in == nil {
		return nil
	}
	return &ot.Range{Start: in.Start, End: in.End}
}

// sinceOf is documentEvents' since as the service's map. A section named
// twice is BAD_USER_INPUT: which version would count?
func sinceOf(since []*model.SectionVersionInput) (map[int64]int64, error) {
	out := make(map[int64]int64, len(since))
	for _, s := range since {
		if s == nil {
			continue
		}
		id, err := parseID(typeSection, s.SectionID)
		if err != nil {
			return nil, err
		}
		if _, dup := out[id]; dup {
			return nil, apperr.Invalid("graph.documentEvents", "since", "section %s is named twice in since; name each section once", s.SectionID)
		}
		out[id] = int64(s.Version)
	}
	return out, nil
}

// visiblePeople loads people by id and leaves out those the caller may not
// see, for lists of non-null people (contributors, mentions).
func (r *Resolver) visiblePeople(ctx context.Context, ids []int64) ([]*account.Person, error) {
	people, err := loadAll(ctx, r.loadersFrom(ctx).person, ids)
	if err != nil {
		return nil, err
	}
	out := people[:0]
	for _, p := range people {
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// visiblePresence leaves out the clients of people the caller may not see
// (an administrator in a document, seen by one of its group's members):
// Presence.person is non-null.
func (r *Resolver) visiblePresence(ctx context.Context, ps []*coedit.Presence) ([]*coedit.Presence, error) {
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.PersonID
	}
	r.loadersFrom(ctx).people.add(ids)
	people, err := loadAll(ctx, r.loadersFrom(ctx).person, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*coedit.Presence, 0, len(ps))
	for i, p := range ps {
		if people[i] != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// A section's text and version, read together.
type sectionText struct {
	text    string
	version int64
}

// textMemo reads each section's text once per response. The service keeps
// texts in memory, so there is nothing to batch.
type textMemo struct {
	c     *coedit.Service
	mu    sync.Mutex
	texts map[int64]func() (sectionText, error)
}

// sectionTextOf is the current text of a section with the version it is
// at, read once per response.
func (r *Resolver) sectionTextOf(ctx context.Context, id int64) (sectionText, error) {
	m := r.loadersFrom(ctx).sectionText
	m.mu.Lock()
	read, ok := m.texts[id]
	if !ok {
		read = sync.OnceValues(func() (sectionText, error) {
			text, version, err := m.c.SectionText(ctx, id)
			return sectionText{text: text, version: version}, err
		})
		m.texts[id] = read
	}
	m.mu.Unlock()
	return read()
}

// withText reports whether the selection that asks for a Section field
// also asks for its text: then version and length come from the same read
// as the text, so that a client gets a text and the version it is at even
// when an edit commits between the reads.
func withText(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil || fc.Parent.Field.Field == nil {
		return false
	}
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(oc, fc.Parent.Field.Selections, []string{"Section", "Node"}) {
		if f.Name == "text" {
			return true
		}
	}
	return false
}

// sectionVersion is Section.version: the text's when the text is asked for too.
func (r *Resolver) sectionVersion(ctx context.Context, s *coedit.Section) (int, error) {
	if !withText(ctx) {
		return int(s.Version), nil
	}
	t, err := r.sectionTextOf(ctx, s.ID)
	return int(t.version), err
}

// sectionLength is Section.length: the text's when the text is asked for too.
func (r *Resolver) sectionLength(ctx context.Context, s *coedit.Section) (int, error) {
	if !withText(ctx) {
		return s.Length, nil
	}
	t, err := r.sectionTextOf(ctx, s.ID)
	return utf8.RuneCountInString(t.text), err
}

// optionalTheme loads a theme by an optional id.
func (r *Resolver) optionalTheme(ctx context.Context, id *int64) (*reference.Theme, error) {
	if id == nil {
		return nil, nil
	}
	return load(ctx, r.loadersFrom(ctx).theme, *id)
}

// optionalVersion reads a version by an optional id.
func (r *Resolver) optionalVersion(ctx context.Context, id *int64) (*coedit.Version, error) {
	if id == nil || *id == 0 {
		return nil, nil
	}
	return r.Coedit.VersionByID(ctx, *id)
}

// optionalComment loads a comment by an optional id.
func (r *Resolver) optionalComment(ctx context.Context, id *int64) (*coedit.Comment, error) {
	if id == nil || *id == 0 {
		return nil, nil
	}
	return load(ctx, r.loadersFrom(ctx).comment, *id)
}

// Streams. A subscription's stream ends either because the client stops it
// or the server shuts down (the channel closes: the client gets complete),
// or because the service ends it with an error, RESUBSCRIBE when the
// subscriber fell behind. gqlgen sends what a subscription's channel gives
// and completes when it closes; an error is carried from the resolver's
// goroutine to the last response by a streamEnd that StreamErrors puts in
// each subscription's context: the resolver records the error and closes
// the channel, and StreamErrors turns the end of the stream into one more
// response, data null and the error with its code, before the complete.

// streamEnd is the error that ended one subscription's stream.
type streamEnd struct {
	mu  sync.Mutex
	err error
	key string // the root field's response key, for the error's path
}

type streamEndKey struct{}

// endStream records err as the end of the subscription of ctx. Outside a
// subscription (a resolver called directly) there is nowhere to report it.
func endStream(ctx context.Context, err error) {
	se, ok := ctx.Value(streamEndKey{}).(*streamEnd)
	if !ok {
		return
	}
	key := ""
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		key = fc.Field.Alias
	}
	se.mu.Lock()
	se.err, se.key = err, key
	se.mu.Unlock()
}

// take returns the error once, and nil afterwards.
func (se *streamEnd) take() (error, string) {
	se.mu.Lock()
	defer se.mu.Unlock()
	err := se.err
	se.err = nil
	return err, se.key
}

// StreamErrors is the gqlgen extension that reports the error that ended a
// subscription's stream as a last result (a next message with data null and
// the error, extensions.code included), after which the stream completes;
// and, on websockets, errors raised before a stream starts as the
// subscription's error message.
type StreamErrors struct{}

var (
	_ graphql.HandlerExtension     = StreamErrors{}
	_ graphql.OperationInterceptor = StreamErrors{}
	_ graphql.ResponseInterceptor  = StreamErrors{}
)

func (StreamErrors) ExtensionName() string                          { return "PIAStreamErrors" }
func (StreamErrors) Validate(schema graphql.ExecutableSchema) error { return nil }

// InterceptOperation gives each subscription a streamEnd. On a websocket,
// a subscription refused before its stream starts (its resolver's error:
// FORBIDDEN, NOT_FOUND, BAD_USER_INPUT...) gets the protocol's error
// message, which ends it, as a request that fails validation does: gqlgen
// would send the refusal as a result and then complete.
func (StreamErrors) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	ctx = context.WithValue(ctx, streamEndKey{}, &streamEnd{})
	responses := next(ctx)
	if !onWebsocket(ctx) {
		return responses
	}
	first := true
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if first && resp != nil && resp.Data == nil && len(resp.Errors) > 0 {
			// The errors are presented already (codes included).
			for _, err := range resp.Errors {
				transport.AddSubscriptionError(ctx, err)
			}
			resp = nil
		}
		first = false
		return resp
	}
}

type websocketKey struct{}

// withWebsocket marks the context of a websocket's upgrade request.
func withWebsocket(ctx context.Context) context.Context {
	return context.WithValue(ctx, websocketKey{}, true)
}

// onWebsocket reports whether ctx is of an operation sent over a websocket,
// where gqlgen's transport reports subscription errors.
func onWebsocket(ctx context.Context) bool {
	on, _ := ctx.Value(websocketKey{}).(bool)
	return on
}

// InterceptResponse turns the end of a stream that ended on an error into
// a response carrying it; the next call finds the stream ended and nothing
// more to report, and the transport completes.
func (StreamErrors) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		return resp
	}
	se, ok := ctx.Value(streamEndKey{}).(*streamEnd)
	if !ok {
		return nil
	}
	err, key := se.take()
	if err == nil {
		return nil
	}
	var path ast.Path
	if key != "" {
		path = ast.Path{ast.PathName(key)}
	}
	graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: err.Error(), Path: path})
	return &graphql.Response{Data: json.RawMessage("null"), Errors: graphql.GetErrors(ctx)}
}

// errSkip, returned by a stream's f, sends nothing for that item: the
// subscriber may not see it.
var errSkip = errors.New("graph: skip this item")

// stream turns a service's stream into a subscription's: f gives each
// item's value, errSkip to leave it out, or the error that ends the stream,
// which is reported to the client (see StreamErrors). The channel closes
// when the service's does, on an error, or when the subscription ends.
func stream[S, T any](ctx context.Context, in <-chan S, f func(S) (T, error)) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case v, ok := <-in:
				if !ok {
					return
				}
				item, err := f(v)
				if errors.Is(err, errSkip) {
					continue
				}
				if err != nil {
					endStream(ctx, err)
					return
				}
				select {
				case out <- item:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// behind rewrites the RESUBSCRIBE that ended a stream so that it says
// where to resume: from is what the client has applied, as the stream sent
// it. Other errors pass unchanged.
func behind(err error, from string) error {
	if apperr.KindOf(err) != apperr.Resubscribe {
		return err
	}
	e := apperr.E(apperr.Resubscribe, "graph.stream",
		"this stream fell behind and has ended; nothing is lost: subscribe again %s", from)
	e.Err = err
	if reason := apperr.ReasonOf(err); reason != "" {
		return e.WithReason(reason)
	}
	return e
}

// sectionEdits maps a section's stream, keeping the last version sent for
// the error that may end it.
func sectionEdits(ctx context.Context, in <-chan coedit.Event, since int64) <-chan *coedit.Edit {
	last := since
	return stream(ctx, in, func(ev coedit.Event) (*coedit.Edit, error) {
		if ev.Err != nil {
			return nil, behind(ev.Err, fmt.Sprintf("with sinceVersion: %d (the last version this stream sent)", last))
		}
		if ev.Edit != nil {
			last = ev.Edit.Version
		}
		return ev.Edit, nil
	})
}

// documentEvents maps a document's stream, keeping the last version sent
// of each section for the error that may end it.
func documentEvents(ctx context.Context, in <-chan coedit.DocEvent, since map[int64]int64) <-chan *coedit.DocEvent {
	last := make(map[int64]int64, len(since))
	for id, v := range since {
		last[id] = v
	}
	return stream(ctx, in, func(ev coedit.DocEvent) (*coedit.DocEvent, error) {
		if ev.Err != nil {
			return nil, behind(ev.Err, "with since set to the last version of each section you applied ("+sinceText(last)+")")
		}
		if ev.Edit != nil {
			last[ev.Edit.SectionID] = ev.Edit.Version
		}
		return &ev, nil
	})
}

// sinceText writes the versions a document stream sent, as since input.
func sinceText(last map[int64]int64) string {
	if len(last) == 0 {
		return "none sent yet"
	}
	parts := make([]string, 0, len(last))
	for _, id := range slices.Sorted(maps.Keys(last)) {
		parts = append(parts, fmt.Sprintf("{sectionId: %q, version: %d}", relay.ID(typeSection, id), last[id]))
	}
	return "this stream sent up to [" + strings.Join(parts, ", ") + "]"
}

// presenceStream maps a document's presence stream, leaving out the people
// the caller may not see, each list with loaders of its own.
func (r *Resolver) presenceStream(ctx context.Context, in <-chan []*coedit.Presence) <-chan []*coedit.Presence {
	return stream(ctx, in, func(ps []*coedit.Presence) ([]*coedit.Presence, error) {
		lctx := context.WithValue(ctx, loadersKey{}, newLoaders(r))
		return r.visiblePresence(lctx, ps)
	})
}
