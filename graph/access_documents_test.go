package graph_test

import (
	"testing"

	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/ot"
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

	// Creating a document: the coordinators of the group's territory and
	// administrators.
	{op: "Mutation.createDocument", doc: createDocumentDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("workingGroupId", e.nodes["WorkingGroup"], "title", e.name("Linee guida", p))
		}),
		want: cells{unauth, forbid, yes, forbid, forbid, yes, forbid}},
	{op: "Mutation.createDocument", variant: "(in Palermo)", doc: createDocumentDoc,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("workingGroupId", gid("WorkingGroup", e.palermo), "title", e.name("Linee guida", p))
		}),
		want: cells{unauth, forbid, forbid, forbid, forbid, yes, yes}},
	// The structure: editors (members, coordinators), in DRAFT.
	{op: "Mutation.updateDocument", doc: `mutation ($in: UpdateDocumentInput!) { updateDocument(input: $in) { id title } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "structureVersion", e.structure(t), "title", e.name("Linee guida", p))
		}),
		want: docEdit},
	{op: "Mutation.addSection", doc: `mutation ($in: AddSectionInput!) { addSection(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "structureVersion", e.structure(t),
				"title", e.name("Sezione", p), "theme", "WORK", "body", "Testo iniziale")
		}),
		want: docEdit},
	{op: "Mutation.updateSection", doc: `mutation ($in: UpdateSectionInput!) { updateSection(input: $in) { id title } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("sectionId", gid("Section", e.doc.sections[0]), "structureVersion", e.structure(t),
				"title", e.name("Sezione", p), "theme", "HEALTH")
		}),
		want: docEdit},
	{op: "Mutation.moveSection", doc: `mutation ($in: MoveSectionInput!) { moveSection(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, _ *persona) map[string]any {
			return vars("sectionId", gid("Section", e.doc.sections[0]), "structureVersion", e.structure(t), "position", 1)
		}),
		want: docEdit},
	{op: "Mutation.removeSection", doc: `mutation ($in: RemoveSectionInput!) { removeSection(input: $in) { id } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			sec := e.newSection(t, p)
			return vars("sectionId", gid("Section", sec), "structureVersion", e.structure(t))
		}),
		want: docEdit},
	// The text: editors, in DRAFT. Each cell appends to the text as it is.
	{op: "Mutation.editSection", doc: `mutation ($in: EditSectionInput!) { editSection(input: $in) { version operation } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			text, version := e.text(t, e.doc.sections[1])
			e.seq++
			return vars("sectionId", gid("Section", e.doc.sections[1]), "baseVersion", version,
				"operation", []any{len([]rune(text)), "+"}, "clientId", "matrix-"+p.slug(), "clientSeq", e.seq)
		}),
		want: docEdit},
	// Comments: the group in any role, administrators; not policy makers.
	{op: "Mutation.addComment", doc: `mutation ($in: AddCommentInput!) { addComment(input: $in) { id anchor { start end } } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			_, version := e.text(t, e.doc.sections[0])
			return vars("sectionId", gid("Section", e.doc.sections[0]), "version", version,
				"range", vars("start", 0, "end", 3), "body", "Commento di "+p.role)
		}),
		want: docComment},
	{op: "Mutation.replyToComment", doc: `mutation ($in: ReplyToCommentInput!) { replyToComment(input: $in) { id thread { id } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("threadId", gid("Comment", e.doc.thread), "body", "Risposta di "+p.role)
		}),
		want: docComment},
	{op: "Mutation.resolveComment", doc: `mutation ($id: ID!) { resolveComment(threadId: $id) { id resolved } }`,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string { return gid("Comment", e.newThread(t, p, false)) }),
		want:    docComment},
	{op: "Mutation.reopenComment", doc: `mutation ($id: ID!) { reopenComment(threadId: $id) { id resolved } }`,
		prepare: idOf(func(t *testing.T, e *matrixEnv, p *persona) string { return gid("Comment", e.newThread(t, p, true)) }),
		want:    docComment},
	// Versions: editors name and restore them.
	{op: "Mutation.nameVersion", doc: `mutation ($in: NameVersionInput!) { nameVersion(input: $in) { id name } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "name", e.name("Versione", p))
		}),
		want: docEdit},
	{op: "Mutation.restoreVersion", doc: `mutation ($id: ID!) { restoreVersion(versionId: $id) { id } }`,
		prepare: idOf(func(_ *testing.T, e *matrixEnv, _ *persona) string { return gid("DocumentVersion", e.doc.version) }),
		want:    docEdit},
	// The review: coordinators and administrators, each cell on a draft of
	// its own.
	{op: "Mutation.changeDocumentStatus", doc: `mutation ($in: ChangeDocumentStatusInput!) { changeDocumentStatus(input: $in) { id status } }`,
		prepare: input(func(t *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.newDocument(t, p)), "to", "IN_REVIEW")
		}),
		want: docReview},
	// Presence: whoever reads the document.
	{op: "Mutation.updatePresence", doc: `mutation ($in: PresenceInput!) { updatePresence(input: $in) { clientId person { id } } }`,
		prepare: input(func(_ *testing.T, e *matrixEnv, p *persona) map[string]any {
			return vars("documentId", gid("Document", e.doc.doc), "clientId", "matrix-"+p.slug(),
				"sectionId", gid("Section", e.doc.sections[0]), "cursor", 0)
		}),
		want: docRead},
	{op: "Mutation.leaveDocument", doc: `mutation ($id: ID!, $c: String!) { leaveDocument(documentId: $id, clientId: $c) }`,
		prepare: func(_ *testing.T, e *matrixEnv, p *persona) request {
			return request{vars: vars("id", gid("Document", e.doc.doc), "c", "matrix-"+p.slug())}
		},
		want: docRead},

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
