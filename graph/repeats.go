package graph

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// RepeatLimit refuses, before validation, documents whose validation would
// cost far more than their size. gqlparser's OverlappingFieldsCanBeMerged rule
// compares every pair of fields that share a response name in a selection
// set (what fragments bring in included), and for each pair with selections
// of their own, every pair of same-named fields beneath: 5,000 tokens of
// `code code code ...` take seconds to validate, and so do 50 copies of a
// field that repeats a child 50 times. RepeatLimit counts those comparisons
// as the rule would make them, stopping at MaxPairs, and refuses a document
// that needs more, or that asks for one response name more than Max times in
// one selection set. No real query comes near either.
//
// The document is parsed here with the executor's token limit; a document
// that does not parse is left to the executor, which reports it.
type RepeatLimit struct {
	Max       int // times one response name may appear in a selection set
	MaxPairs  int // field comparisons validation may need
	MaxTokens int
	// Accepted remembers documents already let through, by hash, so that a
	// client repeating its queries pays the check once, as gqlgen's query
	// cache spares it the parse. Nil checks every time.
	Accepted graphql.Cache[struct{}]
}

var (
	_ graphql.HandlerExtension          = RepeatLimit{}
	_ graphql.OperationParameterMutator = RepeatLimit{}
)

func (RepeatLimit) ExtensionName() string                          { return "PIARepeatLimit" }
func (RepeatLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l RepeatLimit) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	var key string
	if l.Accepted != nil {
		sum := sha256.Sum256([]byte(p.Query))
		key = string(sum[:])
		if _, ok := l.Accepted.Get(ctx, key); ok {
			return nil
		}
	}
	if err := l.check(p.Query); err != nil {
		return err
	}
	if l.Accepted != nil {
		l.Accepted.Add(ctx, key, struct{}{})
	}
	return nil
}

func (l RepeatLimit) check(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.MaxTokens)
	if err != nil {
		return nil
	}
	c := repeatCounter{doc: doc, fragments: map[string]map[string]int{}}
	var sets []ast.SelectionSet
	for _, op := range doc.Operations {
		sets = append(sets, op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		sets = append(sets, f.SelectionSet)
	}
	for _, set := range sets {
		if name, n := c.worst(set); n > l.Max {
			return limitError(fmt.Sprintf("%q is asked for %d times in one selection; the limit is %d (ask for it once, or use aliases)", name, n, l.Max), "REPEATED_FIELDS")
		}
	}
	// Counts are bounded now, so expanding fragments into field lists is too.
	pc := pairCounter{doc: doc, left: l.MaxPairs, fields: map[string]map[string][]*ast.Field{}}
	for _, set := range sets {
		if !pc.within(set) {
			return limitError(fmt.Sprintf("the query repeats fields so often that checking it would take more than %d comparisons; ask for each field once", l.MaxPairs), "REPEATED_FIELDS")
		}
	}
	return nil
}

// pairCounter counts the field comparisons of OverlappingFieldsCanBeMerged,
// spending a budget; it stops as soon as the budget is gone.
type pairCounter struct {
	doc    *ast.QueryDocument
	left   int
	fields map[string]map[string][]*ast.Field // each fragment's fields by response name
}

func (pc *pairCounter) spend(n int) bool {
	pc.left -= n
	return pc.left >= 0
}

// within counts the comparisons inside set and inside every set beneath it.
func (pc *pairCounter) within(set ast.SelectionSet) bool {
	for _, fs := range pc.fieldMap(set) {
		if !pc.spend(len(fs) * (len(fs) - 1) / 2) {
			return false
		}
		for i := range fs {
			for j := i + 1; j < len(fs); j++ {
				if !pc.between(fs[i].SelectionSet, fs[j].SelectionSet) {
					return false
				}
			}
		}
	}
	for _, sel := range set {
		if sub := nested(sel); len(sub) > 0 && !pc.within(sub) {
			return false
		}
	}
	return true
}

// between counts the comparisons of two same-named fields' selections.
func (pc *pairCounter) between(a, b ast.SelectionSet) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	ma, mb := pc.fieldMap(a), pc.fieldMap(b)
	for name, fa := range ma {
		fb := mb[name]
		if !pc.spend(len(fa) * len(fb)) {
			return false
		}
		for _, x := range fa {
			for _, y := range fb {
				if !pc.between(x.SelectionSet, y.SelectionSet) {
					return false
				}
			}
		}
	}
	return true
}

// fieldMap is set's fields by response name, fragments merged in.
func (pc *pairCounter) fieldMap(set ast.SelectionSet) map[string][]*ast.Field {
	out := map[string][]*ast.Field{}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out[responseName(s)] = append(out[responseName(s)], s)
		case *ast.InlineFragment:
			for k, fs := range pc.fieldMap(s.SelectionSet) {
				out[k] = append(out[k], fs...)
			}
		case *ast.FragmentSpread:
			m, ok := pc.fields[s.Name]
			if !ok {
				pc.fields[s.Name] = nil // a cycle adds nothing; validation rejects it
				if def := pc.doc.Fragments.ForName(s.Name); def != nil {
					m = pc.fieldMap(def.SelectionSet)
				}
				pc.fields[s.Name] = m
			}
			for k, fs := range m {
				out[k] = append(out[k], fs...)
			}
		}
	}
	return out
}

type repeatCounter struct {
	doc       *ast.QueryDocument
	fragments map[string]map[string]int // response name counts of each fragment, once taken
}

// worst returns the most repeated response name in set and its count, and
// checks every nested selection set too.
func (c repeatCounter) worst(set ast.SelectionSet) (string, int) {
	name, most := "", 0
	for k, n := range c.counts(set) {
		if n > most {
			name, most = k, n
		}
	}
	for _, sel := range set {
		if sub := nested(sel); len(sub) > 0 {
			if k, n := c.worst(sub); n > most {
				name, most = k, n
			}
		}
	}
	return name, most
}

// maxRepeats saturates counts: fragments spread within fragments multiply.
const maxRepeats = 1 << 30

// counts is how many times each response name is asked for in set once
// inline fragments and fragment spreads are merged in.
func (c repeatCounter) counts(set ast.SelectionSet) map[string]int {
	out := map[string]int{}
	add := func(m map[string]int) {
		for k, n := range m {
			out[k] = min(out[k]+n, maxRepeats)
		}
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			name := responseName(s)
			out[name] = min(out[name]+1, maxRepeats)
		case *ast.InlineFragment:
			add(c.counts(s.SelectionSet))
		case *ast.FragmentSpread:
			m, ok := c.fragments[s.Name]
			if !ok {
				c.fragments[s.Name] = map[string]int{} // a cycle adds nothing; validation rejects it
				if def := c.doc.Fragments.ForName(s.Name); def != nil {
					m = c.counts(def.SelectionSet)
				}
				c.fragments[s.Name] = m
			}
			add(m)
		}
	}
	return out
}

// responseName is the key a field has in the response: its alias, or its name.
func responseName(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

// nested is the selection set directly inside a field or an inline fragment.
func nested(sel ast.Selection) ast.SelectionSet {
	switch s := sel.(type) {
	case *ast.Field:
		return s.SelectionSet
	case *ast.InlineFragment:
		return s.SelectionSet
	}
	return nil
}
