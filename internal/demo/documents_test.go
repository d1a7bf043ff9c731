package demo_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// contacts reads people straight from their table, as coedit's people
// source does in piad.
type contacts struct{ db *bun.DB }

func (c contacts) Contacts(ctx context.Context, ids []int64) (map[int64]coedit.Contact, error) {
	var rows []account.Person
	if len(ids) > 0 {
		if err := c.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]coedit.Contact, len(rows))
	for _, r := range rows {
		ct := coedit.Contact{Name: r.DisplayName, Language: r.Language}
		if r.Email != nil {
			ct.Email = *r.Email
		}
		out[r.ID] = ct
	}
	return out, nil
}

// checkDocuments checks, as the policy maker reading them, the demo's
// guideline documents: one draft per territory, five sections whose text is
// the replay of their log, written by several people of the group, with
// threads (one resolved), and a first draft that differs from now.
func (e *env) checkDocuments(t *testing.T) {
	ctx := context.Background()
	ref := reference.NewService(e.db)
	ts, err := ref.Territories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int64]string{}
	for _, x := range ts {
		names[x.ID] = x.Name
	}
	themes, err := ref.Themes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	themeCodes := map[int64]reference.ThemeCode{}
	for _, th := range themes {
		themeCodes[th.ID] = th.Code
	}

	_, pm := e.signIn("decisore@pia.demo")
	page, err := e.coedit.Documents(pm, coedit.DocumentFilter{}, first(50))
	if err != nil || len(page.Items) != 9 {
		t.Fatalf("documents as the policy maker: %+v, %v", page, err)
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, d := range page.Items {
		ids = append(ids, d.ID)
		if d.Status != coedit.Draft || d.Title != "Linee guida per l'inclusione accogliente — "+names[d.TerritoryID] || seen[d.TerritoryID] {
			t.Errorf("document %+v", d)
		}
		seen[d.TerritoryID] = true
	}
	sections, err := e.coedit.SectionsOfDocuments(pm, ids, false)
	if err != nil {
		t.Fatal(err)
	}
	wantTitles := []string{"Introduzione", "Salute", "Istruzione", "Lavoro", "Abitare"}
	wantThemes := []reference.ThemeCode{"", "HEALTH", "EDUCATION", "WORK", "HOUSING"}
	for _, d := range page.Items {
		name := names[d.TerritoryID]
		secs := sections[d.ID]
		if len(secs) != 5 {
			t.Errorf("%s: %d sections", name, len(secs))
			continue
		}
		authors := map[int64]bool{}
		texts := map[int64][]string{} // by section, the text at each version
		for i, s := range secs {
			var theme reference.ThemeCode
			if s.ThemeID != nil {
				theme = themeCodes[*s.ThemeID]
			}
			if s.Position != i || s.Title != wantTitles[i] || theme != wantThemes[i] {
				t.Errorf("%s: section %d is %q at %d with theme %q", name, i, s.Title, s.Position, theme)
			}
			text, version, err := e.coedit.SectionText(pm, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			log, err := e.coedit.Log(pm, s.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) < 2 || int64(len(log)) != version || version != s.Version {
				t.Errorf("%s, %s: %d operations in the log, version %d (section says %d)", name, s.Title, len(log), version, s.Version)
			}
			// The text is what the log builds, and reads as Markdown
			// paragraphs in Italian.
			replay := ""
			texts[s.ID] = []string{replay}
			for i, op := range log {
				if op.Version != int64(i+1) || op.AuthorID == nil || op.Origin != coedit.OriginEdit {
					t.Errorf("%s, %s: log entry %d is %+v", name, s.Title, i, op)
				}
				if op.AuthorID != nil {
					authors[*op.AuthorID] = true
				}
				if replay, err = ot.Apply(replay, op.Op); err != nil {
					t.Fatalf("%s, %s: replaying version %d: %v", name, s.Title, op.Version, err)
				}
				texts[s.ID] = append(texts[s.ID], replay)
			}
			if replay != text || utf8.RuneCountInString(text) != s.Length || !strings.Contains(text, "\n\n") ||
				strings.Contains(text, "%[") || !strings.Contains(text, " e ") {
				t.Errorf("%s, %s: text %q (%d code points, section says %d), the log gives %q", name, s.Title, text,
					utf8.RuneCountInString(text), s.Length, replay)
			}
		}

		contributors, err := e.coedit.Contributors(pm, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(contributors) < 2 || !maps.Equal(authors, setOf(contributors)) {
			t.Errorf("%s: contributors %v, the log's authors %v", name, contributors, authors)
		}

		threads, err := e.coedit.Threads(pm, coedit.CommentFilter{DocumentID: d.ID, IncludeResolved: true}, first(50))
		if err != nil {
			t.Fatal(err)
		}
		open, err := e.coedit.Threads(pm, coedit.CommentFilter{DocumentID: d.ID}, first(50))
		if err != nil {
			t.Fatal(err)
		}
		var threadIDs []int64
		resolved := 0
		bySection := map[int64]*coedit.Section{}
		for _, s := range secs {
			bySection[s.ID] = s
		}
		for _, c := range threads.Items {
			threadIDs = append(threadIDs, c.ID)
			if c.Resolved != nil {
				resolved++
			}
			// An anchor is on its quote at its version. The server moves
			// open threads' anchors with every edit, so theirs is also on
			// the text now, where the quote is still there: the edits made
			// after the thread moved it.
			s := bySection[c.SectionID]
			if s == nil || c.AnchorVersion < 1 || c.AnchorVersion > s.Version || c.Orphaned != nil || c.Body == "" || c.AuthorID == nil {
				t.Errorf("%s: thread %+v", name, c)
				continue
			}
			versions := texts[c.SectionID]
			at := []rune(versions[c.AnchorVersion])
			now := []rune(versions[len(versions)-1])
			if c.AnchorStart < 0 || c.AnchorStart >= c.AnchorEnd || c.AnchorEnd > len(at) ||
				(strings.Contains(string(at), c.Quote) && string(at[c.AnchorStart:c.AnchorEnd]) != c.Quote) {
				t.Errorf("%s: thread on %q is anchored at [%d, %d) of version %d", name, c.Quote, c.AnchorStart, c.AnchorEnd, c.AnchorVersion)
				continue
			}
			if c.Resolved == nil && (c.AnchorEnd > len(now) ||
				(strings.Contains(string(now), c.Quote) && string(now[c.AnchorStart:c.AnchorEnd]) != c.Quote)) {
				t.Errorf("%s: the open thread on %q is anchored on [%d, %d) of the text now", name, c.Quote, c.AnchorStart, c.AnchorEnd)
			}
		}
		if len(threads.Items) < 2 || resolved < 1 || len(open.Items) != len(threads.Items)-resolved || len(open.Items) < 1 {
			t.Errorf("%s: %d threads, %d resolved, %d open", name, len(threads.Items), resolved, len(open.Items))
		}
		replies, err := e.coedit.RepliesOf(pm, threadIDs)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range threadIDs {
			if len(replies[id]) == 0 {
				t.Errorf("%s: thread %d has no reply", name, id)
			}
		}

		versions, err := e.coedit.Versions(pm, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 1 || versions[0].Name != "Prima bozza" || versions[0].Kind != coedit.NamedVersion {
			t.Fatalf("%s: versions %+v", name, versions)
		}
		draft, err := e.coedit.VersionSections(pm, versions[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(draft) != 5 {
			t.Errorf("%s: the first draft has %d sections", name, len(draft))
		}
		edited := 0
		for _, vs := range draft {
			now := bySection[vs.SectionID]
			if now == nil || vs.Text == "" || vs.SectionVersion > now.Version || strings.Contains(vs.Text, "Azioni proposte") {
				t.Errorf("%s: the first draft's %q: %+v", name, vs.Title, vs)
				continue
			}
			if vs.SectionVersion < now.Version {
				edited++
			}
		}
		if edited < 3 {
			t.Errorf("%s: %d sections edited since the first draft", name, edited)
		}
		diff, err := e.coedit.Diff(pm, d.ID, versions[0].ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for _, sd := range diff {
			if sd.Change == coedit.Changed && sd.Inserted > 0 {
				changed++
			}
		}
		if changed < 3 {
			t.Errorf("%s: %d sections changed since the first draft: %+v", name, changed, diff)
		}
	}

	t.Run("the Enna working group wrote the richest", func(t *testing.T) {
		coord, ctx := e.signIn("coordinatore.enna@pia.demo")
		member, _ := e.signIn("membro.enna@pia.demo")
		docs, err := e.coedit.Documents(ctx, coedit.DocumentFilter{}, first(50))
		if err != nil || len(docs.Items) != 1 || docs.Items[0].TerritoryID != e.terr["EN"] {
			t.Fatalf("the documents the Enna coordinator reads: %+v, %v", docs, err)
		}
		d := docs.Items[0]
		contributors, err := e.coedit.Contributors(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(contributors) < 4 || !slices.Contains(contributors, coord.PersonID) || !slices.Contains(contributors, member.PersonID) {
			t.Errorf("contributors %v, want at least 4 with the coordinator %d and the member %d", contributors, coord.PersonID, member.PersonID)
		}
		threads, err := e.coedit.Threads(ctx, coedit.CommentFilter{DocumentID: d.ID, IncludeResolved: true}, first(50))
		if err != nil || len(threads.Items) < 4 {
			t.Fatalf("threads %+v, %v", threads, err)
		}
		secs, err := e.coedit.SectionsOfDocuments(ctx, []int64{d.ID}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secs[d.ID] {
			text, _, err := e.coedit.SectionText(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(text, "\n\n") < 2 {
				t.Errorf("%s has fewer than three paragraphs: %q", s.Title, text)
			}
		}
	})
}

func setOf(ids []int64) map[int64]bool {
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// A region seeded before there were documents gets them on the next seed,
// once.
func TestDemoDocumentsForAnEarlierSeed(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		earlier := e.deps
		earlier.Coedit = nil
		rep, err := demo.Seed(context.Background(), earlier, demo.Options{Demo: true})
		if err != nil || rep.Documents != 0 || rep.WorkingGroups != 9 {
			t.Fatalf("the earlier seed: %+v, %v", rep, err)
		}
		if got := e.counts(); got["documents"] != 0 {
			t.Fatalf("the earlier seed wrote documents: %v", got)
		}
		rep = e.seed(demo.Options{Demo: true})
		if !rep.AlreadySeeded || rep.Organizations != 0 || rep.Documents != 9 || rep.Versions != 9 {
			t.Fatalf("the seed with documents: %+v", rep)
		}
		e.checkDocuments(t)
		before := e.counts()
		if again := e.seed(demo.Options{Demo: true}); !again.AlreadySeeded || again.Documents != 0 || again.Comments != 0 {
			t.Fatalf("a third seed: %+v", again)
		}
		if after := e.counts(); !maps.Equal(before, after) {
			t.Fatalf("tables before %v, after %v", before, after)
		}
	})
}
