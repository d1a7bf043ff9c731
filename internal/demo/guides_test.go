package demo

import (
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/access"
)

// The guides hold together before any database is involved: every writer
// and commenter is in the territory's working group with a role that may
// do what the guide has them do, every quote and correction finds its text,
// and no template placeholder is left.
func TestGuidesHoldTogether(t *testing.T) {
	roles := map[string]map[string]access.TerritoryRole{} // territory -> email -> role
	for _, p := range append(append([]person{}, accounts...), members()...) {
		if p.Group == "" {
			continue
		}
		if roles[p.Group] == nil {
			roles[p.Group] = map[string]access.TerritoryRole{}
		}
		roles[p.Group][p.Email] = p.GroupRole
	}
	gs := guides()
	if len(gs) != len(territories) {
		t.Fatalf("%d guides for %d territories", len(gs), len(territories))
	}
	for i, g := range gs {
		if g.Territory != territories[i].Code {
			t.Errorf("guide %d is %s, want %s", i, g.Territory, territories[i].Code)
		}
		role := func(key string) access.TerritoryRole {
			email, ok := g.Cast[key]
			if !ok {
				email = g.Cast["co"]
			}
			return roles[g.Territory][email]
		}
		canEdit := func(key string) bool { r := role(key); return r == access.Coordinator || r == access.Member }
		if role("co") != access.Coordinator {
			t.Errorf("%s: %s does not coordinate", g.Territory, g.Cast["co"])
		}
		for key, email := range g.Cast {
			if roles[g.Territory][email] == "" {
				t.Errorf("%s: %s (%s) is not in the working group", g.Territory, email, key)
			}
		}
		var texts [sectionCount]string
		writers := map[string]bool{}
		for s, paras := range g.Sections {
			if len(paras) < 2 {
				t.Errorf("%s, %s: %d paragraphs", g.Territory, sectionTitles[s], len(paras))
			}
			for _, p := range paras {
				if !canEdit(p.By) {
					t.Errorf("%s: %s writes but may not edit", g.Territory, p.By)
				}
				writers[g.Cast[p.By]] = true
				texts[s] = joinParagraph(texts[s], p.Text)
			}
		}
		if len(writers) < 2 {
			t.Errorf("%s: written by %v", g.Territory, writers)
		}
		if len(g.Threads) < 2 {
			t.Errorf("%s: %d threads", g.Territory, len(g.Threads))
		}
		resolved := 0
		for _, th := range g.Threads {
			if role(th.By) == "" || len(th.Replies) == 0 || th.Body == "" {
				t.Errorf("%s: thread %+v", g.Territory, th)
			}
			if !strings.Contains(texts[th.Section], th.Quote) {
				t.Errorf("%s, %s: no %q to comment on", g.Territory, sectionTitles[th.Section], th.Quote)
			}
			if th.Resolved {
				resolved++
			}
		}
		if resolved == 0 || resolved == len(g.Threads) {
			t.Errorf("%s: %d of %d threads resolved", g.Territory, resolved, len(g.Threads))
		}
		edited := map[int]bool{}
		for _, l := range g.Later {
			if !canEdit(l.By) {
				t.Errorf("%s: %s edits later but may not edit", g.Territory, l.By)
			}
			edited[l.Section] = true
			if l.Old == "" {
				texts[l.Section] = joinParagraph(texts[l.Section], l.New)
				continue
			}
			if !strings.Contains(texts[l.Section], l.Old) || l.Old == l.New {
				t.Errorf("%s, %s: cannot turn %q into %q", g.Territory, sectionTitles[l.Section], l.Old, l.New)
			}
			texts[l.Section] = strings.Replace(texts[l.Section], l.Old, l.New, 1)
		}
		if len(edited) < 3 {
			t.Errorf("%s: %d sections edited after the first draft", g.Territory, len(edited))
		}
		for s, text := range texts {
			if strings.Contains(text, "%") || strings.Contains(text, "  ") {
				t.Errorf("%s, %s: %q", g.Territory, sectionTitles[s], text)
			}
		}
	}
	if en := gs[3]; en.Territory != "EN" || len(en.Threads) < 4 || len(en.Cast) < 6 {
		t.Errorf("Enna's guide is not the richest: %+v", en)
	}
}

func joinParagraph(text, p string) string {
	if text == "" {
		return p
	}
	return text + "\n\n" + p
}
