package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/internal/apperr"
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
	w := walker{doc: rc.Doc, vars: rc.Variables, defaultPage: l.DefaultPageSize}
	depth, cost := w.selection(rc.Operation.SelectionSet, 1)
	if l.MaxDepth > 0 && depth > l.MaxDepth {
		return limitError(fmt.Sprintf("the query is %d levels deep; the limit is %d", depth, l.MaxDepth), "DEPTH_LIMIT_EXCEEDED")
	}
	if l.MaxComplexity > 0 && cost > l.MaxComplexity {
		return limitError(fmt.Sprintf("the query costs %d; the limit is %d (ask for smaller pages with first/last, or fewer fields)", cost, l.MaxComplexity), "COMPLEXITY_LIMIT_EXCEEDED")
	}
	return nil
}

func limitError(msg, reason string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(apperr.BadInput), "reason": reason}}
}

type walker struct {
	doc         *ast.QueryDocument
	vars        map[string]any
	defaultPage int
}

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
			if def := w.doc.Fragments.ForName(s.Name); def != nil {
				d, c = w.selection(def.SelectionSet, level)
			}
		}
		depth = max(depth, d)
		cost = min(cost+c, maxCost)
	}
	return depth, cost
}

func (w walker) field(f *ast.Field, level int) (depth, cost int) {
	if len(f.SelectionSet) == 0 {
		return level, 1
	}
	depth, inner := w.selection(f.SelectionSet, level+1)
	if mult, ok := w.pageSize(f); ok {
		inner = min(inner*mult, maxCost)
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
			n = max(n, int(v))
		case int:
			n = max(n, v)
		case float64:
			n = max(n, int(v))
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
