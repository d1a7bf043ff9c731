package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits refuses operations that are too deep or too costly before they run.
//
// The cost of a field is 1 plus the cost of its selections; a field with a
// `first` or `last` argument (a connection) multiplies the cost of its
// selections by that page size, so a connection is priced by the rows it can
// return, and nested connections multiply. A connection without either is
// priced at DefaultPageSize. Any field whose arguments include first/last is
// priced this way, so connections added later need no registration.
// Introspection fields (__schema, __type) are free: GraphiQL's introspection
// query is deeper than any application query, and introspection is off in
// production.
type Limits struct {
	MaxDepth        int
	MaxComplexity   int
	DefaultPageSize int
}

var (
	_ graphql.HandlerExtension        = Limits{}
	_ graphql.OperationContextMutator = Limits{}
)

func (Limits) ExtensionName() string                          { return "PIALimits" }
func (Limits) Validate(schema graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the operation chosen for execution.
func (l Limits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	w := walker{doc: rc.Doc, vars: rc.Variables, defaultPage: l.DefaultPageSize, fragments: map[string]measure{}}
	depth, cost := w.selection(rc.Operation.SelectionSet, 1)
	if l.MaxDepth > 0 && depth > l.MaxDepth {
		return limitError(fmt.Sprintf("the query is %d levels deep; the limit is %d", depth, l.MaxDepth), "DEPTH_LIMIT_EXCEEDED")
	}
	if l.MaxComplexity > 0 && cost > l.MaxComplexity {
		return limitError(fmt.Sprintf("the query costs %d; the limit is %d (ask for smaller pages with first/last, or fewer fields)", cost, l.MaxComplexity), "COMPLEXITY_LIMIT_EXCEEDED")
	}
	return nil
}

// limitError is a refusal of the request by one of PIA's limits. It carries
// gqlgen's validation code, so that every transport treats it as a request
// error (the websocket sends it as an error message, not as data), and the
// presenter turns that into BAD_USER_INPUT with reason.
func limitError(msg, reason string) *gqlerror.Error {
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"reason": reason}}
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

type walker struct {
	doc         *ast.QueryDocument
	vars        map[string]any
	defaultPage int
	// fragments holds each fragment's measure once taken: a fragment spread
	// twice at each of n levels would otherwise be walked 2^n times.
	fragments map[string]measure
}

// measure is a fragment's depth counted from level 1 (0 when it has no
// fields) and its cost.
type measure struct{ depth, cost int }

// maxCost caps sums so that absurd page sizes cannot overflow.
const maxCost = 1 << 40

// selection returns the depth (levels of fields) and cost of a selection set
// whose fields sit at level.
func (w walker) selection(set ast.SelectionSet, level int) (depth, cost int) {
	if level > 1000 { // validation rejects fragment cycles; this is a backstop
		return level, maxCost
	}
	for _, sel := range set {
		var d, c int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d, c = w.field(s, level)
		case *ast.InlineFragment:
			d, c = w.selection(s.SelectionSet, level)
		case *ast.FragmentSpread:
			d, c = w.fragment(s.Name, level)
		}
		depth = max(depth, d)
		cost = min(cost+c, maxCost)
	}
	return depth, cost
}

// fragment measures the fragment name spread at level.
func (w walker) fragment(name string, level int) (depth, cost int) {
	m, ok := w.fragments[name]
	if !ok {
		def := w.doc.Fragments.ForName(name)
		if def == nil {
			return 0, 0
		}
		w.fragments[name] = measure{0, maxCost} // a cycle (validation rejects them) costs all
		m.depth, m.cost = w.selection(def.SelectionSet, 1)
		w.fragments[name] = m
	}
	if m.depth == 0 {
		return 0, m.cost
	}
	return m.depth + level - 1, m.cost
}

func (w walker) field(f *ast.Field, level int) (depth, cost int) {
	if len(f.SelectionSet) == 0 {
		return level, 1
	}
	depth, inner := w.selection(f.SelectionSet, level+1)
	if mult, ok := w.pageSize(f); ok {
		if inner > maxCost/mult { // saturate: the product could overflow
			inner = maxCost
		} else {
			inner *= mult
		}
	}
	return depth, min(1+inner, maxCost)
}

// pageSize is the number of rows a connection field can return: its first
// or last argument, or the default when it takes them but got neither.
func (w walker) pageSize(f *ast.Field) (int, bool) {
	if f.Definition == nil {
		return 0, false
	}
	takes := false
	for _, a := range f.Definition.Arguments {
		if a.Name == "first" || a.Name == "last" {
			takes = true
		}
	}
	if !takes {
		return 0, false
	}
	args := f.ArgumentMap(w.vars)
	n := 0
	for _, name := range []string{"first", "last"} {
		switch v := args[name].(type) {
		case int64:
			n = max(n, int(min(v, maxCost)))
		case int:
			n = max(n, min(v, maxCost))
		case float64:
			n = max(n, int(min(v, maxCost)))
		case json.Number:
			if i, err := v.Int64(); err == nil {
				n = max(n, int(min(i, maxCost)))
			}
		}
	}
	if n <= 0 {
		n = w.defaultPage
	}
	return max(n, 1), true
}

// noIntrospection refuses __schema and __type before execution where
// introspection is off: gqlgen would otherwise run the operation and fail the
// field with a plain error, which reaches the client as INTERNAL and the log
// as a server fault.
type noIntrospection struct{}

var (
	_ graphql.HandlerExtension        = noIntrospection{}
	_ graphql.OperationContextMutator = noIntrospection{}
)

func (noIntrospection) ExtensionName() string                          { return "PIANoIntrospection" }
func (noIntrospection) Validate(schema graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if introspects(rc.Doc, rc.Operation.SelectionSet, map[string]bool{}) {
		return limitError("introspection is disabled on this server", "INTROSPECTION_DISABLED")
	}
	return nil
}

// introspects reports whether a root selection set asks for __schema or
// __type; both exist only on the root query type.
func introspects(doc *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(doc, s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if def := doc.Fragments.ForName(s.Name); def != nil && !seen[s.Name] {
				seen[s.Name] = true
				if introspects(doc, def.SelectionSet, seen) {
					return true
				}
			}
		}
	}
	return false
}
