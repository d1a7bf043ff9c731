package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/sheet"
)

// The outcomes of the document rules (package access) for the roles of the
// matrix, on a document of Enna. A document the caller may not read is
// NOT_FOUND, as if it did not exist: the outsider, who coordinates
// Palermo, cannot tell Enna's documents from ids that name nothing.
var (
	docRead    = cells{unauth, yes, yes, yes, yes, yes, absent}
	docEdit    = cells{unauth, yes, yes, forbid, forbid, yes, absent}
	docComment = cells{unauth, yes, yes, yes, forbid, yes, absent}
	docReview  = cells{unauth, forbid, yes, forbid, forbid, yes, absent}
	docNode    = cells{unauth, yes, yes, yes, yes, yes, null}
)

// documentRows are the matrix's rows for guideline documents. Each cell
// that changes something acts on the shared document of Enna at its
// current structure version, or on objects made for it.
var documentRows = []matrixRow{
	{op: "Query.documents", doc: `{ documents(first: 5) { totalCount edges { node { id title } } } }`,
		want: cells{unauth, yes, yes, yes, yes, yes, yes}},
	{op: "Query.node(Document)", doc: `query ($id: ID!) { node(id: $id) { id ... on Document { title status sections { title } } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Document", e.doc.doc) }),
		want:    docNode},
	{op: "Query.node(Section)", doc: `query ($id: ID!) { node(id: $id) { id ... on Section { title version text } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Section", e.doc.sections[0]) }),
		want:    docNode},
	{op: "Query.node(Comment)", doc: `query ($id: ID!) { node(id: $id) { id ... on Comment { body replies { body } } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Comment", e.doc.thread) }),
		want:    docNode},
	{op: "Query.node(DocumentVersion)", doc: `query ($id: ID!) { node(id: $id) { id ... on DocumentVersion { name sections { title } } } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("DocumentVersion", e.doc.version) }),
		want:    docNode},
	{op: "Query.documentDiff", doc: `query ($id: ID!, $from: ID!) { documentDiff(documentId: $id, from: $from) { sectionId change } }`,
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{vars: vars("id", gid("Document", e.doc.doc), "from", gid("DocumentVersion", e.doc.version))}
		},
		want: docRead},
	{op: "Query.exportDocument", doc: `query ($id: ID!) { exportDocument(documentId: $id, format: MARKDOWN) { filename mediaType } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Document", e.doc.doc) }),
		want:    docRead},
	// The export route serves the same files as downloads, to whoever
	// reads the document: 401 for the anonymous caller, 404 for a
	// document of a territory the caller has no role in.
	{op: "GET /documents/{id}/export", variant: "(the document, Markdown)", doc: "(a download)",
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{get: "/documents/" + gid("Document", e.doc.doc) + "/export"}
		},
		want: docRead},
	{op: "GET /documents/{id}/export", variant: "(a named version, HTML)", doc: "(a download)",
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{get: "/documents/" + gid("Document", e.doc.doc) + "/export?format=html&version=" +
				gid("DocumentVersion", e.doc.version)}
		},
		want: docRead},

	// Creating a document: the coordinators of the group's territory and
	// administrators.
	{op: "Mutation.createDocument", doc: createDocumentDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("workingGroupId", e.nodes["WorkingGroup"], "title", e.name("Linee guida", p))
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}, unchanged: docState},
	{op: "Mutation.createDocument", variant: "(in Palermo)", doc: createDocumentDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("workingGroupId", gid("WorkingGroup", e.palermo), "title", e.name("Linee guida", p))
		}),
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, yes}, unchanged: docState},
	// The structure: editors (members, coordinators), in DRAFT.
	{op: "Mutation.updateDocument", doc: `mutation ($in: UpdateDocumentInput!) { updateDocument(input: $in) { id title } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "structureVersion", e.structure(t), "title", e.name("Linee guida", p))
		}),
		want: docEdit, unchanged: docState},
	{op: "Mutation.addSection", doc: `mutation ($in: AddSectionInput!) { addSection(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "structureVersion", e.structure(t),
				"title", e.name("Sezione", p), "theme", "WORK", "body", "Testo iniziale")
		}),
		want: docEdit, unchanged: docState},
	{op: "Mutation.updateSection", doc: `mutation ($in: UpdateSectionInput!) { updateSection(input: $in) { id title } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("sectionId", gid("Section", e.doc.sections[0]), "structureVersion", e.structure(t),
				"title", e.name("Sezione", p), "theme", "HEALTH")
		}),
		want: docEdit, unchanged: docState},
	{op: "Mutation.moveSection", doc: `mutation ($in: MoveSectionInput!) { moveSection(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, _ *persona) map[string]any {
			return vars("sectionId", gid("Section", e.doc.sections[0]), "structureVersion", e.structure(t), "position", 1)
		}),
		want: docEdit, unchanged: docState},
	{op: "Mutation.removeSection", doc: `mutation ($in: RemoveSectionInput!) { removeSection(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			sec := e.newSection(t, p)
			return vars("sectionId", gid("Section", sec), "structureVersion", e.structure(t))
		}),
		want: docEdit, unchanged: docState},
	// The text: editors, in DRAFT. Each cell appends to the text as it is.
	{op: "Mutation.editSection", doc: `mutation ($in: EditSectionInput!) { editSection(input: $in) { version operation } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			text, version := e.text(t, e.doc.sections[1])
			e.seq++
			return vars("sectionId", gid("Section", e.doc.sections[1]), "baseVersion", version,
				"operation", []any{len([]rune(text)), "+"}, "clientId", "matrix-"+p.slug(), "clientSeq", e.seq)
		}),
		want: docEdit, unchanged: docState},
	// Comments: the group in any role, administrators; not policy makers.
	{op: "Mutation.addComment", doc: `mutation ($in: AddCommentInput!) { addComment(input: $in) { id anchor { start end } } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			_, version := e.text(t, e.doc.sections[0])
			return vars("sectionId", gid("Section", e.doc.sections[0]), "version", version,
				"range", vars("start", 0, "end", 3), "body", "Commento di "+p.role)
		}),
		want: docComment, unchanged: docState},
	{op: "Mutation.replyToComment", doc: `mutation ($in: ReplyToCommentInput!) { replyToComment(input: $in) { id thread { id } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("threadId", gid("Comment", e.doc.thread), "body", "Risposta di "+p.role)
		}),
		want: docComment, unchanged: docState},
	{op: "Mutation.resolveComment", doc: `mutation ($id: ID!) { resolveComment(threadId: $id) { id resolved } }`,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string { return gid("Comment", e.newThread(t, p, false)) }),
		want:    docComment, unchanged: docState},
	{op: "Mutation.reopenComment", doc: `mutation ($id: ID!) { reopenComment(threadId: $id) { id resolved } }`,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string { return gid("Comment", e.newThread(t, p, true)) }),
		want:    docComment, unchanged: docState},
	// Versions: editors name and restore them.
	{op: "Mutation.nameVersion", doc: `mutation ($in: NameVersionInput!) { nameVersion(input: $in) { id name } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "name", e.name("Versione", p))
		}),
		want: docEdit, unchanged: docState},
	{op: "Mutation.restoreVersion", doc: `mutation ($id: ID!) { restoreVersion(versionId: $id) { id } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("DocumentVersion", e.doc.version) }),
		want:    docEdit, unchanged: docState},
	// The review: coordinators and administrators, each cell on a draft of
	// its own.
	{op: "Mutation.changeDocumentStatus", doc: `mutation ($in: ChangeDocumentStatusInput!) { changeDocumentStatus(input: $in) { id status } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.newDocument(t, p)), "to", "IN_REVIEW")
		}),
		want: docReview, unchanged: docState},
	// Presence: whoever reads the document.
	{op: "Mutation.updatePresence", doc: `mutation ($in: PresenceInput!) { updatePresence(input: $in) { clientId person { id } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "clientId", "matrix-"+p.slug(),
				"sectionId", gid("Section", e.doc.sections[0]), "cursor", 0)
		}),
		want: docRead, unchanged: docState},
	{op: "Mutation.leaveDocument", doc: `mutation ($id: ID!, $c: String!) { leaveDocument(documentId: $id, clientId: $c) }`,
		prepare: func(_ *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("id", gid("Document", e.doc.doc), "c", "matrix-"+p.slug())}
		},
		want: docRead, unchanged: docState},

	// The streams: whoever reads the document. The first answer is the
	// replay of the section's edits (there is one at least), or the
	// presence list.
	{op: "Subscription.sectionEdits", doc: `subscription ($id: ID!) { sectionEdits(sectionId: $id, sinceVersion: 0) { version operation } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Section", e.doc.sections[1]) }),
		want:    docRead},
	{op: "Subscription.documentEvents", doc: `subscription ($id: ID!, $since: [SectionVersionInput!]!) {
		documentEvents(documentId: $id, since: $since) { kind edit { version } } }`,
		prepare: func(_ *testing.T, e *matrixEnv, _ *persona) request {
			return request{vars: vars("id", gid("Document", e.doc.doc),
				"since", []any{vars("sectionId", gid("Section", e.doc.sections[1]), "version", 0)})}
		},
		want: docRead},
	{op: "Subscription.documentPresence", doc: `subscription ($id: ID!) { documentPresence(documentId: $id) { clientId } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("Document", e.doc.doc) }),
		want:    docRead},
}

const createDocumentDoc = `mutation ($in: CreateDocumentInput!) { createDocument(input: $in) { id status } }`

// matrixDoc is the shared document of Enna the document rows act on: two
// sections, the second with an edit in its log, a thread on the first with
// a reply, and a named version.
type matrixDoc struct {
	doc      int64
	sections []int64
	thread   int64
	version  int64
}

// documents makes the shared document, as the administrator.
func (e *matrixEnv) documents(t *testing.T) {
	t.Helper()
	d, err := e.docs.CreateDocument(e.admin, coedit.DocumentInput{WorkingGroupID: e.group, Title: "Linee guida di Enna",
		Sections: []coedit.SectionInput{{Title: "Salute", Body: "Primo testo"}, {Title: "Lavoro", Body: "Secondo testo"}}})
	if err != nil {
		t.Fatalf("document: %v", err)
	}
	secs, err := e.docs.SectionsOfDocuments(e.admin, []int64{d.ID}, false)
	if err != nil || len(secs[d.ID]) != 2 {
		t.Fatalf("sections: %v %v", secs, err)
	}
	e.doc = &matrixDoc{doc: d.ID}
	for _, s := range secs[d.ID] {
		e.doc.sections = append(e.doc.sections, s.ID)
	}
	if _, err := e.docs.EditSection(e.admin, coedit.EditInput{SectionID: e.doc.sections[1], BaseVersion: 0,
		Op: ot.Op{{Retain: len("Secondo testo")}, {Insert: "."}}, ClientID: "matrix-setup", ClientSeq: 1}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	setup := &persona{role: "setup"}
	e.doc.thread = e.newThread(t, setup, false)
	if _, err := e.docs.Reply(e.admin, e.doc.thread, "Una risposta", nil); err != nil {
		t.Fatalf("reply: %v", err)
	}
	v, err := e.docs.NameVersion(e.admin, d.ID, "Prima bozza", "")
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	e.doc.version = v.ID
}

// structure is the shared document's current structure version.
func (e *matrixEnv) structure(t *testing.T) int {
	t.Helper()
	d, err := e.docs.Document(e.admin, e.doc.doc)
	if err != nil {
		t.Fatalf("document: %v", err)
	}
	return d.StructureVersion
}

// text is a section's current text and version.
func (e *matrixEnv) text(t *testing.T, section int64) (string, int64) {
	t.Helper()
	text, version, err := e.docs.SectionText(e.admin, section)
	if err != nil {
		t.Fatalf("text of section %d: %v", section, err)
	}
	return text, version
}

// newSection adds a section to the shared document for p's cell.
func (e *matrixEnv) newSection(t *testing.T, p *persona) int64 {
	t.Helper()
	s, err := e.docs.AddSection(e.admin, coedit.AddSectionInput{DocumentID: e.doc.doc, StructureVersion: e.structure(t),
		SectionInput: coedit.SectionInput{Title: e.name("Sezione", p), Body: "Da togliere"}})
	if err != nil {
		t.Fatalf("section: %v", err)
	}
	return s.ID
}

// newThread opens a thread on the shared document's first section for p's
// cell, resolved when asked.
func (e *matrixEnv) newThread(t *testing.T, p *persona, resolved bool) int64 {
	t.Helper()
	_, version := e.text(t, e.doc.sections[0])
	c, err := e.docs.AddComment(e.admin, coedit.CommentInput{SectionID: e.doc.sections[0], Version: version,
		Start: 0, End: 5, Body: e.name("Commento", p)})
	if err != nil {
		t.Fatalf("thread: %v", err)
	}
	if resolved {
		if _, err := e.docs.ResolveComment(e.admin, c.ID, true); err != nil {
			t.Fatalf("resolve: %v", err)
		}
	}
	return c.ID
}

// newDocument makes a draft of Enna for p's cell.
func (e *matrixEnv) newDocument(t *testing.T, p *persona) int64 {
	t.Helper()
	d, err := e.docs.CreateDocument(e.admin, coedit.DocumentInput{WorkingGroupID: e.group, Title: e.name("Bozza", p),
		Sections: []coedit.SectionInput{{Title: "Unica", Body: "Testo"}}})
	if err != nil {
		t.Fatalf("document: %v", err)
	}
	return d.ID
}

// docState reads what a refused document mutation must leave as it is:
// every document (title, status, structure version), every section (its
// place, title, version and length, and its stored text), every comment
// (body, anchor, resolution), the counts of operations, mentions,
// versions and transitions, the shared document's texts as the service
// serves them, and who is in the shared document. Each entry is keyed by
// what it describes, so that stateDiff names what changed.
func docState(t *testing.T, e *matrixEnv) map[string]string {
	t.Helper()
	ctx := context.Background()
	state := map[string]string{}
	var docs []coedit.Document
	if err := e.db.NewSelect().Model(&docs).Order("id").Scan(ctx); err != nil {
		t.Fatalf("documents: %v", err)
	}
	for _, d := range docs {
		state[fmt.Sprintf("document %d", d.ID)] = fmt.Sprintf("title %q, %s, structure %d, published %v, updated %v, archived %v",
			d.Title, d.Status, d.StructureVersion, deref(d.PublishedVersionID), d.UpdatedAt, deref(d.Archived))
	}
	var secs []coedit.Section
	if err := e.db.NewSelect().Model(&secs).Order("id").Scan(ctx); err != nil {
		t.Fatalf("sections: %v", err)
	}
	for _, s := range secs {
		state[fmt.Sprintf("section %d", s.ID)] = fmt.Sprintf("document %d at %d, title %q, theme %v, version %d, length %d, updated %v, removed %v",
			s.DocumentID, s.Position, s.Title, deref(s.ThemeID), s.Version, s.Length, s.UpdatedAt, deref(s.Removed))
	}
	var snaps []coedit.SectionSnapshot
	if err := e.db.NewSelect().Model(&snaps).Order("section_id").Scan(ctx); err != nil {
		t.Fatalf("snapshots: %v", err)
	}
	for _, s := range snaps {
		state[fmt.Sprintf("snapshot of section %d", s.SectionID)] = fmt.Sprintf("version %d: %q", s.Version, s.Text)
	}
	var comments []coedit.Comment
	if err := e.db.NewSelect().Model(&comments).Order("id").Scan(ctx); err != nil {
		t.Fatalf("comments: %v", err)
	}
	for _, c := range comments {
		state[fmt.Sprintf("comment %d", c.ID)] = fmt.Sprintf("section %d, reply to %v, %q, anchor [%d,%d) at %d, orphaned %v, resolved %v by %v, updated %v",
			c.SectionID, deref(c.ParentID), c.Body, c.AnchorStart, c.AnchorEnd, c.AnchorVersion, deref(c.Orphaned),
			deref(c.Resolved), deref(c.ResolvedBy), c.UpdatedAt)
	}
	for _, table := range []string{"section_ops", "comment_mentions", "document_versions", "document_version_sections", "document_transitions"} {
		n, err := e.db.NewSelect().Table(table).Count(ctx)
		if err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		state["rows of "+table] = fmt.Sprint(n)
	}
	live, err := e.docs.SectionsOfDocuments(e.admin, []int64{e.doc.doc}, false)
	if err != nil {
		t.Fatalf("sections of the shared document: %v", err)
	}
	for _, s := range live[e.doc.doc] {
		text, version := e.text(t, s.ID)
		state[fmt.Sprintf("text of section %d", s.ID)] = fmt.Sprintf("version %d: %q", version, text)
	}
	pres, err := e.docs.PresenceOf(e.admin, e.doc.doc)
	if err != nil {
		t.Fatalf("presence: %v", err)
	}
	var in []string
	for _, p := range pres {
		in = append(in, fmt.Sprintf("person %d client %q in section %d at %d, cursor %v, selection %v, seen %v",
			p.PersonID, p.ClientID, p.SectionID, p.Version, deref(p.Cursor), deref(p.Selection), p.LastSeen))
	}
	state["presence"] = strings.Join(in, "; ")
	return state
}

// deref is what p points to, or nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// stateDiff lists the entries of two docState readings that differ, or ""
// when none does.
func stateDiff(before, after map[string]string) string {
	var diff []string
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if was, ok := before[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s added (%s)", k, after[k]))
		} else if was != after[k] {
			diff = append(diff, fmt.Sprintf("%s was %s, is %s", k, was, after[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s gone (was %s)", k, before[k]))
		}
	}
	return strings.Join(diff, "; ")
}

// getRoute GETs path with Authorization: Bearer token (none when token is
// empty) and returns the outcome: ok for a download holding holds (the
// shared document's first section's text when empty) as an attachment, or
// the error's extensions.code, which must come with its HTTP status (401
// UNAUTHENTICATED, 403 FORBIDDEN, 404 NOT_FOUND, 400 BAD_USER_INPUT) and
// without that text.
func (e *matrixEnv) getRoute(t *testing.T, token, path, holds string) (got, answer string) {
	t.Helper()
	if holds == "" {
		holds = "Primo testo"
	}
	req, err := http.NewRequest(http.MethodGet, e.srv.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if res.StatusCode == http.StatusOK && res.Header.Get("Content-Type") == sheet.XLSX.MediaType() {
		body = workbookText(t, body)
	}
	answer = fmt.Sprintf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	if res.StatusCode == http.StatusOK {
		if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") || !strings.Contains(string(body), holds) {
			return "200 without " + holds, answer
		}
		return yes, answer
	}
	var r gqlResponse
	if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) != 1 {
		return fmt.Sprintf("status %d without one error", res.StatusCode), answer
	}
	code := r.Errors[0].code()
	status := map[string]int{unauth: http.StatusUnauthorized, forbid: http.StatusForbidden, absent: http.StatusNotFound,
		"BAD_USER_INPUT": http.StatusBadRequest}[code]
	if res.StatusCode != status {
		return fmt.Sprintf("%s with status %d", code, res.StatusCode), answer
	}
	if strings.Contains(string(body), holds) {
		return code + " showing " + holds, answer
	}
	return code, answer
}

// workbookText is a workbook's cells, sheet after sheet, row by row, tab
// separated, for a test to look for a text in it.
func workbookText(t *testing.T, data []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	var b bytes.Buffer
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return b.Bytes()
}
