package demo

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/reference"
)

// seedDocuments writes the draft guideline document of every territory
// whose working group has no document yet (guides.go), so a second seed
// adds nothing and a region seeded before documents existed gets them.
//
// Each document is written the way its working group would write it: the
// coordinator creates it, the people of the group write its sections through
// operations, comment on them, and the coordinator names the first draft
// before the last edits. The seed acts as each of those people with the
// roles the network gives them (most are directory entries without an
// account, who could not sign in); where one is missing from the group, the
// coordinator writes instead, and the administrator when the group has no
// coordinator.
func seedDocuments(ctx context.Context, d Deps, rep *Report) error {
	ts, err := d.Reference.Territories(ctx)
	if err != nil {
		return err
	}
	themes, err := d.Reference.Themes(ctx)
	if err != nil {
		return err
	}
	themeIDs := make(map[string]int64, len(themes))
	for _, th := range themes {
		themeIDs[string(th.Code)] = th.ID
	}
	byCode := make(map[string]*reference.Territory, len(ts))
	tids := make([]int64, len(ts))
	for i, t := range ts {
		byCode[t.Code], tids[i] = t, t.ID
	}
	groups, err := d.Network.WorkingGroupsOfTerritories(ctx, tids)
	if err != nil {
		return err
	}
	gids := make([]int64, 0, len(groups))
	for _, g := range groups {
		gids = append(gids, g.ID)
	}
	docs, err := d.Coedit.DocumentsOfGroups(ctx, gids)
	if err != nil {
		return err
	}
	members, err := d.Network.MembersOfGroups(ctx, gids, false)
	if err != nil {
		return err
	}
	var pids []int64
	for _, ms := range members {
		for _, m := range ms {
			pids = append(pids, m.PersonID)
		}
	}
	people, err := d.Network.PeopleByID(ctx, pids)
	if err != nil {
		return err
	}
	for _, g := range guides() {
		t := byCode[g.Territory]
		if t == nil || groups[t.ID] == nil {
			return fmt.Errorf("%s: no working group", g.Territory)
		}
		wg := groups[t.ID]
		if len(docs[wg.ID]) > 0 {
			continue
		}
		w := &drafter{svc: d.Coedit, rep: rep, themes: themeIDs}
		if err := w.cast(ctx, d.Network, g, members[wg.ID], people); err != nil {
			return fmt.Errorf("%s: %w", g.Territory, err)
		}
		if err := w.write(g, wg.ID, guideTitle(t.Name)); err != nil {
			return fmt.Errorf("%s: %w", g.Territory, err)
		}
	}
	return nil
}

// drafter writes one territory's document.
type drafter struct {
	svc     *coedit.Service
	rep     *Report
	themes  map[string]int64 // theme ids by code
	writers map[string]*writer
	secs    [sectionCount]*draftSection
}

// writer is one person of the working group at the keyboard: their own
// editing client, with its sequence.
type writer struct {
	ctx    context.Context
	client string
	seq    int64
}

// draftSection is where the drafter's copy of a section stands: it is the
// only one editing, so its copy is the server's.
type draftSection struct {
	id      int64
	version int64
	text    string
}

// cast finds the guide's people among the group's current members and
// makes each a writer acting with their roles.
func (w *drafter) cast(ctx context.Context, net *network.Service, g guide, members []*network.Membership, people map[int64]*network.Person) error {
	byEmail := map[string]int64{}
	var coordinator int64
	for _, m := range members {
		if p := people[m.PersonID]; p != nil && p.Email != nil {
			byEmail[*p.Email] = m.PersonID
		}
		if m.Role == access.Coordinator && coordinator == 0 {
			coordinator = m.PersonID
		}
	}
	byPerson := map[int64]*writer{}
	as := func(id int64) (*writer, error) {
		if wr := byPerson[id]; wr != nil {
			return wr, nil
		}
		roles, err := net.TerritoryRoles(ctx, id)
		if err != nil {
			return nil, err
		}
		actor := &access.Actor{PersonID: id, Territories: roles}
		wr := &writer{ctx: access.WithActor(ctx, actor), client: fmt.Sprintf("demo-seed-%s-%d", g.Territory, id)}
		byPerson[id] = wr
		return wr, nil
	}
	co := byEmail[g.Cast["co"]]
	if co == 0 {
		co = coordinator
	}
	var err error
	w.writers = map[string]*writer{}
	if co != 0 {
		w.writers["co"], err = as(co)
	} else {
		// No coordinator: the administrator the seed acts as.
		admin := access.ActorFrom(ctx)
		w.writers["co"] = &writer{ctx: ctx, client: fmt.Sprintf("demo-seed-%s-%d", g.Territory, admin.PersonID)}
	}
	if err != nil {
		return err
	}
	for key, email := range g.Cast {
		if key == "co" {
			continue
		}
		if id := byEmail[email]; id != 0 {
			if w.writers[key], err = as(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// as is the writer of a cast key, the coordinator for one missing.
func (w *drafter) as(key string) *writer {
	if wr := w.writers[key]; wr != nil {
		return wr
	}
	return w.writers["co"]
}

// write creates the document and writes it: paragraphs in rounds across the
// sections, threads, the first draft, then the later edits.
func (w *drafter) write(g guide, groupID int64, title string) error {
	co := w.as("co")
	in := coedit.DocumentInput{WorkingGroupID: groupID, Title: title}
	for i, name := range sectionTitles {
		s := coedit.SectionInput{Title: name}
		if code := sectionThemes[i]; code != "" {
			id, ok := w.themes[code]
			if !ok {
				return fmt.Errorf("no theme %s", code)
			}
			s.ThemeID = &id
		}
		in.Sections = append(in.Sections, s)
	}
	doc, err := w.svc.CreateDocument(co.ctx, in)
	if err != nil {
		return err
	}
	secs, err := w.svc.SectionsOfDocuments(co.ctx, []int64{doc.ID}, false)
	if err != nil {
		return err
	}
	if len(secs[doc.ID]) != sectionCount {
		return fmt.Errorf("document %d has %d sections, want %d", doc.ID, len(secs[doc.ID]), sectionCount)
	}
	for i, s := range secs[doc.ID] {
		w.secs[i] = &draftSection{id: s.ID, version: s.Version}
		if s.Length != 0 {
			text, v, err := w.svc.SectionText(co.ctx, s.ID)
			if err != nil {
				return err
			}
			w.secs[i].text, w.secs[i].version = text, v
		}
	}
	w.rep.Documents++

	// The group writes side by side: one paragraph of each section per
	// round, so the sections' logs interleave as they would.
	for round := 0; ; round++ {
		wrote := false
		for s, paras := range g.Sections {
			if round < len(paras) {
				if err := w.appendParagraph(s, paras[round]); err != nil {
					return err
				}
				wrote = true
			}
		}
		if !wrote {
			break
		}
	}
	for _, th := range g.Threads {
		if err := w.thread(th); err != nil {
			return err
		}
	}
	if _, err := w.svc.NameVersion(co.ctx, doc.ID, firstDraft, firstDraftNote); err != nil {
		return err
	}
	w.rep.Versions++
	for _, l := range g.Later {
		var err error
		if l.Old == "" {
			err = w.appendParagraph(l.Section, para{l.By, l.New})
		} else {
			err = w.replace(l.Section, l.By, l.Old, l.New)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// appendParagraph adds p at the end of section s, after a blank line.
func (w *drafter) appendParagraph(s int, p para) error {
	sec := w.secs[s]
	ins := p.Text
	if sec.text != "" {
		ins = "\n\n" + ins
	}
	n := utf8.RuneCountInString(sec.text)
	return w.edit(s, p.By, n, 0, ins)
}

// replace turns the first occurrence of old in section s into new, with
// an operation on the part that differs, as an editor would type it.
func (w *drafter) replace(s int, by, old, new string) error {
	at, err := w.find(s, old)
	if err != nil {
		return err
	}
	o, n := []rune(old), []rune(new)
	pre := 0
	for pre < len(o) && pre < len(n) && o[pre] == n[pre] {
		pre++
	}
	suf := 0
	for suf < len(o)-pre && suf < len(n)-pre && o[len(o)-1-suf] == n[len(n)-1-suf] {
		suf++
	}
	return w.edit(s, by, at+pre, len(o)-pre-suf, string(n[pre:len(n)-suf]))
}

// find is where quote first occurs in section s, in code points.
func (w *drafter) find(s int, quote string) (int, error) {
	i := strings.Index(w.secs[s].text, quote)
	if i < 0 {
		return 0, fmt.Errorf("section %q has no %q", sectionTitles[s], quote)
	}
	return utf8.RuneCountInString(w.secs[s].text[:i]), nil
}

// edit replaces del code points at at in section s with ins, as by.
func (w *drafter) edit(s int, by string, at, del int, ins string) error {
	sec, wr := w.secs[s], w.as(by)
	text := []rune(sec.text)
	var op ot.Op
	if at > 0 {
		op = append(op, ot.Component{Retain: at})
	}
	if ins != "" {
		op = append(op, ot.Component{Insert: ins})
	}
	if del > 0 {
		op = append(op, ot.Component{Delete: del})
	}
	if rest := len(text) - at - del; rest > 0 {
		op = append(op, ot.Component{Retain: rest})
	}
	wr.seq++
	e, err := w.svc.EditSection(wr.ctx, coedit.EditInput{SectionID: sec.id, BaseVersion: sec.version, Op: op,
		ClientID: wr.client, ClientSeq: wr.seq})
	if err != nil {
		return fmt.Errorf("edit %q: %w", sectionTitles[s], err)
	}
	sec.version = e.Version
	sec.text = string(text[:at]) + ins + string(text[at+del:])
	w.rep.Edits++
	return nil
}

// thread opens th, replies to it and, when th says so, has the
// coordinator resolve it.
func (w *drafter) thread(th thread) error {
	start, err := w.find(th.Section, th.Quote)
	if err != nil {
		return err
	}
	sec := w.secs[th.Section]
	c, err := w.svc.AddComment(w.as(th.By).ctx, coedit.CommentInput{SectionID: sec.id, Version: sec.version,
		Start: start, End: start + utf8.RuneCountInString(th.Quote), Body: th.Body})
	if err != nil {
		return fmt.Errorf("comment on %q: %w", th.Quote, err)
	}
	w.rep.Comments++
	for _, r := range th.Replies {
		if _, err := w.svc.Reply(w.as(r.By).ctx, c.ID, r.Text, nil); err != nil {
			return fmt.Errorf("reply on %q: %w", th.Quote, err)
		}
		w.rep.Comments++
	}
	if th.Resolved {
		if _, err := w.svc.ResolveComment(w.as("co").ctx, c.ID, true); err != nil {
			return fmt.Errorf("resolve %q: %w", th.Quote, err)
		}
	}
	return nil
}
