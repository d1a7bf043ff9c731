package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/graph"
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// docEnv is the API with the working groups of Enna and Palermo, an
// administrator, a member of Enna's group and the coordinator of Palermo's,
// each signed in.
type docEnv struct {
	*netEnv
	groups           map[string]int64 // working group ids by territory code
	member, outsider string           // tokens
}

func newDocEnv(t *testing.T, db *bun.DB, opts ...func(*coedit.Options)) *docEnv {
	t.Helper()
	return docEnvOn(t, newResolver(t, db, opts...))
}

// docEnvOn is newDocEnv serving r.
func docEnvOn(t *testing.T, r *graph.Resolver) *docEnv {
	t.Helper()
	ne := &netEnv{srv: serveResolver(t, r, defaultOptions()), r: r}
	ne.admin = ne.srv.adminToken(t)
	actor, _, err := r.Accounts.Authenticate(context.Background(), ne.admin)
	if err != nil {
		t.Fatal(err)
	}
	ne.actor = actor
	e := &docEnv{netEnv: ne, groups: map[string]int64{}}
	ctx := access.WithActor(context.Background(), actor)
	for _, code := range []string{"EN", "PA"} {
		g, err := r.Network.CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: code})
		if err != nil {
			t.Fatal(err)
		}
		e.groups[code] = g.ID
	}
	join := func(email, name, territory string, role access.TerritoryRole) string {
		token := e.account(t, email, name)
		var me struct{ Me struct{ ID string } }
		e.must(t, token, `{ me { id } }`, nil, &me)
		if _, err := r.Network.AddMember(ctx, network.MemberInput{WorkingGroupID: e.groups[territory],
			PersonID: personID(t, me.Me.ID), Role: role}); err != nil {
			t.Fatal(err)
		}
		return token
	}
	e.member = join("membro@pia.test", "Mario Membro", "EN", access.Member)
	e.outsider = join("palermo@pia.test", "Pietro Palermo", "PA", access.Coordinator)
	return e
}

// docData is a document as the tests read it.
type docData struct {
	ID               string
	Title            string
	StructureVersion int
	Sections         []sectionData
}

type sectionData struct {
	ID      string
	Title   string
	Version int
	Length  int
	Text    string
}

const docFields = `id title structureVersion sections { id title version length text }`

// newDoc creates, as the administrator, a draft of Enna with sections of
// the given bodies.
func (e *docEnv) newDoc(t *testing.T, title string, bodies ...string) docData {
	t.Helper()
	secs := make([]any, len(bodies))
	for i, b := range bodies {
		secs[i] = vars("title", fmt.Sprintf("Sezione %d", i+1), "body", b)
	}
	var out struct{ CreateDocument docData }
	e.must(t, e.admin, `mutation ($in: CreateDocumentInput!) { createDocument(input: $in) { `+docFields+` } }`,
		vars("in", vars("workingGroupId", gid("WorkingGroup", e.groups["EN"]), "title", title, "sections", secs)), &out)
	return out.CreateDocument
}

// section reads a section's version and text.
func (e *docEnv) section(t *testing.T, id string) sectionData {
	t.Helper()
	var out struct{ Node sectionData }
	e.must(t, e.admin, `query ($id: ID!) { node(id: $id) { ... on Section { id title version length text } } }`, vars("id", id), &out)
	return out.Node
}

const editSectionDoc = `mutation ($in: EditSectionInput!) { editSection(input: $in) {
	sectionId version operation clientId clientSeq origin author { displayName } section { id } } }`

type editData struct {
	SectionID string
	Version   int
	Operation json.RawMessage
	ClientID  string
	ClientSeq int
	Origin    string
	Author    *struct{ DisplayName string }
}

// edit submits an operation as the holder of token and returns the edit.
func (e *docEnv) edit(t *testing.T, token, section string, base int, op []any, client string, seq int) editData {
	t.Helper()
	var out struct{ EditSection editData }
	e.must(t, token, editSectionDoc, vars("in", vars("sectionId", section, "baseVersion", base, "operation", op,
		"clientId", client, "clientSeq", seq)), &out)
	return out.EditSection
}

// TestEditSectionThroughTheAPI: an edit comes back as applied, with the
// section's global id, and a resubmission of the same (clientId,
// clientSeq) gets the first answer without applying twice.
func TestEditSectionThroughTheAPI(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Ciao mondo")
		sec := d.Sections[0]
		if sec.Text != "Ciao mondo" || sec.Version != 0 || sec.Length != 10 {
			t.Fatalf("new section %+v; want Ciao mondo at version 0, length 10", sec)
		}
		got := e.edit(t, e.member, sec.ID, 0, []any{10, "!"}, "client-1", 1)
		if got.SectionID != sec.ID || got.Version != 1 || string(got.Operation) != `[10,"!"]` || got.ClientID != "client-1" ||
			got.ClientSeq != 1 || got.Origin != "EDIT" || got.Author == nil || got.Author.DisplayName != "Mario Membro" {
			t.Fatalf("editSection answered %+v", got)
		}
		// Concurrent: made on version 0 too, transformed past the first.
		second := e.edit(t, e.admin, sec.ID, 0, []any{"« ", 10}, "client-2", 1)
		if second.Version != 2 || string(second.Operation) != `["« ",11]` {
			t.Errorf("the concurrent edit came back as version %d %s; want 2 [\"« \",11]", second.Version, second.Operation)
		}
		again := e.edit(t, e.member, sec.ID, 0, []any{10, "!"}, "client-1", 1)
		if again.Version != 1 || string(again.Operation) != `[10,"!"]` {
			t.Errorf("the resubmission answered version %d %s; want the first answer", again.Version, again.Operation)
		}
		if s := e.section(t, sec.ID); s.Text != "« Ciao mondo!" || s.Version != 2 || s.Length != 13 {
			t.Errorf("section %+v; want « Ciao mondo! at version 2, length 13", s)
		}
	})
}

// TestEditSectionRefusals: bad operations and ids are refused with a code
// and a reason, and the text and version stay as they were.
func TestEditSectionRefusals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Ciao mondo")
		sec := d.Sections[0].ID
		e.edit(t, e.member, sec, 0, []any{10, "!"}, "setup", 1) // "Ciao mondo!", version 1
		input := func(op any, base int, id string) map[string]any {
			return vars("in", vars("sectionId", id, "baseVersion", base, "operation", op, "clientId", "bad", "clientSeq", 7))
		}
		cases := []struct {
			name         string
			vars         map[string]any
			raw          string // a body sent as it is, instead of vars
			status       int
			code, reason string
		}{
			{name: "a zero component", vars: input([]any{0}, 1, sec), code: "BAD_USER_INPUT", reason: "INVALID_OPERATION"},
			{name: "a fraction", vars: input([]any{"a", 1.5}, 1, sec), code: "BAD_USER_INPUT", reason: "INVALID_OPERATION"},
			{name: "an object", vars: input(map[string]any{"x": 1}, 1, sec), code: "BAD_USER_INPUT", reason: "INVALID_OPERATION"},
			{name: "a lone surrogate in the JSON", status: http.StatusBadRequest, code: "BAD_USER_INPUT", reason: "INVALID_UTF8",
				raw: `{"query": ` + jsonString(editSectionDoc) + `, "variables": {"in": {"sectionId": "` + sec +
					`", "baseVersion": 1, "operation": [11, "\ud800"], "clientId": "bad", "clientSeq": 7}}}`},
			{name: "a lone surrogate in the query", code: "BAD_USER_INPUT", reason: "INVALID_UTF8",
				raw: `{"query": ` + jsonString(`mutation { editSection(input: {sectionId: "`+sec+
					`", baseVersion: 1, operation: [11, "\ud800"], clientId: "bad", clientSeq: 7}) { version } }`) + `}`},
			{name: "an escaped surrogate pair in the query", code: "BAD_USER_INPUT", reason: "SURROGATE_ESCAPE",
				raw: `{"query": ` + jsonString(`mutation { editSection(input: {sectionId: "`+sec+
					`", baseVersion: 1, operation: [11, "\ud83d\ude00"], clientId: "bad", clientSeq: 7}) { version } }`) + `}`},
			{name: "bytes that are not UTF-8", status: http.StatusBadRequest, code: "BAD_USER_INPUT", reason: "INVALID_UTF8",
				raw: `{"query": ` + jsonString(editSectionDoc) + `, "variables": {"in": {"sectionId": "` + sec +
					"\", \"baseVersion\": 1, \"operation\": [11, \"\xff\"], \"clientId\": \"bad\", \"clientSeq\": 7}}}"},
			{name: "a base length that is not the text's", vars: input([]any{5, "x"}, 1, sec), code: "BAD_USER_INPUT", reason: "BASE_LENGTH_MISMATCH"},
			{name: "a base version ahead of the server", vars: input([]any{11, "x"}, 7, sec), code: "BAD_USER_INPUT", reason: "VERSION_AHEAD"},
			{name: "the id of another type", vars: input([]any{11, "x"}, 1, d.ID), code: "BAD_USER_INPUT", reason: "WRONG_ID_TYPE"},
			{name: "an id that is no id", vars: input([]any{11, "x"}, 1, "nonsense"), code: "BAD_USER_INPUT", reason: "INVALID_ID"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var r httpResult
				if c.raw != "" {
					r = rawPost(t, e.srv, e.member, c.raw)
				} else {
					r = authPost(t, e.srv, authBearer(e.member), editSectionDoc, c.vars)
				}
				want := c.status
				if want == 0 {
					want = http.StatusOK
				}
				if r.Status != want && !(c.status == 0 && r.Status == http.StatusBadRequest) {
					t.Errorf("status %d, want %d: %s", r.Status, want, r.Body)
				}
				got := onlyError(t, r)
				if got.code() != c.code || got.reason() != c.reason {
					t.Errorf("%s / %s (%q); want %s / %s", got.code(), got.reason(), got.Message, c.code, c.reason)
				}
				if s := e.section(t, sec); s.Text != "Ciao mondo!" || s.Version != 1 {
					t.Errorf("after the refusal the section is %q at version %d; want Ciao mondo! at version 1", s.Text, s.Version)
				}
			})
		}
	})
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// rawPost POSTs body, as it is, as the holder of token.
func rawPost(t *testing.T, srv *testServer, token, body string) httpResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", mediaGraphQLResponse)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

// TestDocumentsStatementCount: a page of documents with their sections,
// threads, the threads' authors and replies runs as many statements for 10
// documents as for 2.
func TestDocumentsStatementCount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		for i := range 10 {
			d := e.newDoc(t, fmt.Sprintf("Documento %d", i), "Primo testo della sezione", "Secondo testo della sezione")
			for j, s := range d.Sections {
				token := e.admin
				if j == 1 {
					token = e.member
				}
				var c struct{ AddComment struct{ ID string } }
				e.must(t, token, `mutation ($in: AddCommentInput!) { addComment(input: $in) { id } }`,
					vars("in", vars("sectionId", s.ID, "version", 0, "range", vars("start", 0, "end", 5), "body", "Da rivedere")), &c)
				var reply any
				e.must(t, e.member, `mutation ($in: ReplyToCommentInput!) { replyToComment(input: $in) { id } }`,
					vars("in", vars("threadId", c.AddComment.ID, "body", "D'accordo")), &reply)
			}
		}
		const query = `query ($n: Int!) { documents(first: $n) { edges { node { sections { title }
			threads { edges { node { author { displayName } replies { body } } } } } } } }`
		type page struct {
			Documents struct {
				Edges []struct {
					Node struct {
						Sections []struct{ Title string }
						Threads  struct {
							Edges []struct {
								Node struct {
									Author  *struct{ DisplayName string }
									Replies []struct{ Body string }
								}
							}
						}
					}
				}
			}
		}
		counter := storage.CountStatements(db)
		run := func(n int) (int64, page) {
			var p page
			counter.Reset()
			e.must(t, e.admin, query, vars("n", n), &p)
			return counter.Count(), p
		}
		run(1) // the session's first use
		small, two := run(2)
		large, ten := run(10)
		if len(two.Documents.Edges) != 2 || len(ten.Documents.Edges) != 10 {
			t.Fatalf("pages of %d and %d documents; want 2 and 10", len(two.Documents.Edges), len(ten.Documents.Edges))
		}
		for _, edge := range ten.Documents.Edges {
			n := edge.Node
			if len(n.Sections) != 2 || len(n.Threads.Edges) != 2 {
				t.Fatalf("a document with %d sections and %d threads; want 2 and 2", len(n.Sections), len(n.Threads.Edges))
			}
			for _, th := range n.Threads.Edges {
				if th.Node.Author == nil || len(th.Node.Replies) != 1 {
					t.Fatalf("thread %+v; want an author and one reply", th.Node)
				}
			}
		}
		t.Logf("%d statements for 2 documents, %d for 10", small, large)
		if small != large {
			t.Errorf("%d statements for 2 documents, %d for 10: related objects are not batched", small, large)
		}
	})
}

// wsSubscribe opens a graphql-transport-ws connection as the holder of
// token and starts query with vars as id.
func wsSubscribe(t *testing.T, srv *testServer, token, id, query string, vars map[string]any) *wsClient {
	t.Helper()
	c := dialWS(t, srv, transportWS, nil)
	c.token = token
	c.init()
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	c.send(wsMessage{Type: "subscribe", ID: id, Payload: payload})
	return c
}

// TestSubscriptionsOverWebsocket: sectionEdits replays and then streams,
// documentEvents carries the edits of the sections named and the changes
// of the document, documentPresence the list of who is in.
func TestSubscriptionsOverWebsocket(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Ciao", "Mondo")
		sec := d.Sections[0].ID
		e.edit(t, e.member, sec, 0, []any{4, "!"}, "c", 1)

		edits := wsSubscribe(t, e.srv, e.member, "1", `subscription ($id: ID!) { sectionEdits(sectionId: $id, sinceVersion: 0) {
			sectionId version operation clientId clientSeq author { displayName } section { title } } }`, vars("id", sec))
		events := wsSubscribe(t, e.srv, e.member, "2", `subscription ($id: ID!, $since: [SectionVersionInput!]!) {
			documentEvents(documentId: $id, since: $since) { kind document { id } edit { sectionId version operation }
				comment { body } version { name } } }`,
			vars("id", d.ID, "since", []any{vars("sectionId", sec, "version", 0)}))
		presence := wsSubscribe(t, e.srv, e.member, "3", `subscription ($id: ID!) { documentPresence(documentId: $id) {
			clientId person { displayName } section { id } cursor } }`, vars("id", d.ID))

		want := `{"sectionEdits":{"sectionId":"` + sec + `","version":1,"operation":[4,"!"],"clientId":"c","clientSeq":1,` +
			`"author":{"displayName":"Mario Membro"},"section":{"title":"Sezione 1"}}}`
		if r := edits.result("1"); string(r.Data) != want {
			t.Errorf("replayed %s\nwant %s", r.Data, want)
		}
		if r := events.result("2"); !strings.Contains(string(r.Data), `"kind":"EDIT"`) || !strings.Contains(string(r.Data), `"version":1`) {
			t.Errorf("document stream replayed %s", r.Data)
		}
		if r := presence.result("3"); string(r.Data) != `{"documentPresence":[]}` {
			t.Errorf("presence at first %s; want nobody", r.Data)
		}

		e.edit(t, e.admin, sec, 1, []any{5, " :)"}, "d", 1)
		if r := edits.result("1"); !strings.Contains(string(r.Data), `"version":2,"operation":[5," :)"]`) {
			t.Errorf("live edit %s", r.Data)
		}
		if r := events.result("2"); !strings.Contains(string(r.Data), `"version":2`) {
			t.Errorf("document stream live %s", r.Data)
		}
		var p any
		e.must(t, e.member, `mutation ($in: PresenceInput!) { updatePresence(input: $in) { clientId } }`,
			vars("in", vars("documentId", d.ID, "clientId", "tab-1", "sectionId", sec, "version", 2, "cursor", 3)), &p)
		r := presence.result("3")
		if !strings.Contains(string(r.Data), `"clientId":"tab-1","person":{"displayName":"Mario Membro"},"section":{"id":"`+sec+`"},"cursor":3`) {
			t.Errorf("presence after a heartbeat %s", r.Data)
		}
		var renamed any
		e.must(t, e.member, `mutation ($in: UpdateDocumentInput!) { updateDocument(input: $in) { id } }`,
			vars("in", vars("documentId", d.ID, "structureVersion", d.StructureVersion, "title", "Linee guida 2027")), &renamed)
		if r := events.result("2"); !strings.Contains(string(r.Data), `"kind":"STRUCTURE"`) {
			t.Errorf("document stream after a rename %s", r.Data)
		}
		var c any
		e.must(t, e.member, `mutation ($in: AddCommentInput!) { addComment(input: $in) { id } }`,
			vars("in", vars("sectionId", sec, "version", 2, "range", vars("start", 0, "end", 4), "body", "Da rivedere")), &c)
		if r := events.result("2"); !strings.Contains(string(r.Data), `"kind":"COMMENT"`) || !strings.Contains(string(r.Data), `"comment":{"body":"Da rivedere"}`) {
			t.Errorf("document stream after a comment %s", r.Data)
		}
		var v any
		e.must(t, e.member, `mutation ($in: NameVersionInput!) { nameVersion(input: $in) { id } }`,
			vars("in", vars("documentId", d.ID, "name", "Bozza")), &v)
		if r := events.result("2"); !strings.Contains(string(r.Data), `"kind":"VERSION"`) || !strings.Contains(string(r.Data), `"version":{"name":"Bozza"}`) {
			t.Errorf("document stream after a version %s", r.Data)
		}
		// Stopping ends each stream with nothing more.
		for _, c := range []struct {
			c  *wsClient
			id string
		}{{edits, "1"}, {events, "2"}, {presence, "3"}} {
			c.c.send(wsMessage{Type: "complete", ID: c.id})
		}
	})
}

// TestSubscriptionRefusals: what is refused before a stream starts arrives
// as the subscription's error message, with its code.
func TestSubscriptionRefusals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Ciao")
		sec := d.Sections[0].ID
		const q = `subscription ($id: ID!, $v: Int!) { sectionEdits(sectionId: $id, sinceVersion: $v) { version } }`
		cases := []struct {
			name, token, id string
			since           int
			code, reason    string
		}{
			{"the id of a document", e.member, d.ID, 0, "BAD_USER_INPUT", "WRONG_ID_TYPE"},
			{"a section that does not exist", e.member, gid("Section", 999999), 0, "NOT_FOUND", ""},
			{"a section of another territory", e.outsider, sec, 0, "NOT_FOUND", ""},
			{"a version ahead of the section", e.member, sec, 5, "BAD_USER_INPUT", "VERSION_AHEAD"},
			{"no session", "", sec, 0, "UNAUTHENTICATED", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := wsSubscribe(t, e.srv, c.token, "1", q, vars("id", c.id, "v", c.since))
				m := ws.read()
				if m.Type != "error" || m.ID != "1" {
					t.Fatalf("got %s; want an error message", ws.raw)
				}
				var errs []gqlError
				if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 {
					t.Fatalf("error payload %s: %v", m.Payload, err)
				}
				if errs[0].code() != c.code || errs[0].reason() != c.reason {
					t.Errorf("%s / %s (%s); want %s / %s", errs[0].code(), errs[0].reason(), errs[0].Message, c.code, c.reason)
				}
			})
		}
	})
}

// TestSectionEditsResubscribe: a subscriber that does not read falls
// behind; when it reads again it gets every edit up to some version, then
// an error with code RESUBSCRIBE naming that version, then complete.
// Subscribing again from that version brings the rest: nothing is lost.
func TestSectionEditsResubscribe(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db, func(o *coedit.Options) { o.SubscriberBuffer = 2 })
		d := e.newDoc(t, "Linee guida", "")
		sec := d.Sections[0].ID

		// A reader with a small receive buffer, which stops reading.
		dialer := dialer(transportWS)
		dialer.NetDialContext = (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			if err != nil {
				return err
			}
			return serr
		}}).DialContext
		conn, _, err := dialer.Dial(e.srv.WS, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		c := &wsClient{t: t, conn: conn, proto: transportWS, token: e.member}
		c.init()
		// The operation makes each message as large as the edit.
		p, _ := json.Marshal(map[string]any{"query": `subscription ($id: ID!) { sectionEdits(sectionId: $id, sinceVersion: 0) { version operation } }`,
			"variables": vars("id", sec)})
		c.send(wsMessage{Type: "subscribe", ID: "1", Payload: p})

		// Large edits fill the socket's buffers, then the stream's.
		const edits, size = 80, 90_000
		block := strings.Repeat("x", size)
		for v := range edits {
			op := []any{block}
			if v > 0 {
				op = []any{-size, block}
			}
			e.edit(t, e.admin, sec, v, op, "writer", v+1)
		}

		last := 0
		for {
			m, err := c.next(5 * time.Second)
			if err != nil {
				t.Fatalf("after version %d of %d: %v", last, edits, err)
			}
			if m.Type == "ping" || m.Type == "pong" {
				continue
			}
			if m.Type != "next" {
				t.Fatalf("after version %d got %.300s; want next", last, c.raw)
			}
			var r gqlResponse
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Errors) > 0 {
				got := r.Errors[0]
				if got.code() != "RESUBSCRIBE" || !strings.Contains(got.Message, fmt.Sprintf("sinceVersion: %d ", last)) ||
					string(r.Data) != "null" {
					t.Errorf("the stream ended with %s; want RESUBSCRIBE naming sinceVersion %d", m.Payload, last)
				}
				break
			}
			var data struct{ SectionEdits struct{ Version int } }
			if err := json.Unmarshal(r.Data, &data); err != nil || data.SectionEdits.Version != last+1 {
				t.Fatalf("after version %d got %.200s", last, r.Data)
			}
			last++
		}
		if last >= edits {
			t.Fatalf("the reader got all %d edits: it never fell behind (make the edits larger)", edits)
		}
		c.complete("1")
		t.Logf("fell behind after version %d of %d", last, edits)

		// Again from there: the rest, in order.
		again := wsSubscribe(t, e.srv, e.member, "2", `subscription ($id: ID!, $v: Int!) { sectionEdits(sectionId: $id, sinceVersion: $v) { version } }`,
			vars("id", sec, "v", last))
		for v := last + 1; v <= edits; v++ {
			r := again.result("2")
			if want := fmt.Sprintf(`{"sectionEdits":{"version":%d}}`, v); string(r.Data) != want {
				t.Fatalf("resubscribed: %s, want %s", r.Data, want)
			}
		}
	})
}

// TestExportRoute: GET /documents/{id}/export serves a document as a file
// to the holders of a session who may read it.
func TestExportRoute(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida di Enna", "Il primo paragrafo.")
		var v struct{ NameVersion struct{ ID string } }
		e.must(t, e.member, `mutation ($in: NameVersionInput!) { nameVersion(input: $in) { id } }`,
			vars("in", vars("documentId", d.ID, "name", "Prima bozza")), &v)
		e.edit(t, e.member, d.Sections[0].ID, 0, []any{19, " Aggiunto dopo."}, "c", 1)

		get := func(token, path string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, e.srv.Base+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			return res, string(body)
		}
		path := "/documents/" + d.ID + "/export"

		res, body := get(e.member, path+"?format=markdown")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/markdown") ||
			!strings.Contains(body, "Linee guida di Enna") || !strings.Contains(body, "Aggiunto dopo.") {
			t.Errorf("markdown: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="`) || !strings.Contains(cd, ".md") {
			t.Errorf("Content-Disposition %q", cd)
		}
		res, body = get(e.member, path+"?format=html&version="+v.NameVersion.ID)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "Il primo paragrafo.") || strings.Contains(body, "Aggiunto dopo.") {
			t.Errorf("html of the version: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, ".html") {
			t.Errorf("Content-Disposition %q", cd)
		}

		refusals := []struct {
			name, token, path string
			status            int
			code              string
		}{
			{"anonymous", "", path, http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"a token that is not valid", "not-a-token", path, http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"a document of another territory", e.outsider, path, http.StatusNotFound, "NOT_FOUND"},
			{"a document that does not exist", e.member, "/documents/" + gid("Document", 999999) + "/export", http.StatusNotFound, "NOT_FOUND"},
			{"the id of a section", e.member, "/documents/" + d.Sections[0].ID + "/export", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"a format that is not served", e.member, path + "?format=pdf", http.StatusBadRequest, "BAD_USER_INPUT"},
			{"a version id of another type", e.member, path + "?version=" + d.ID, http.StatusBadRequest, "BAD_USER_INPUT"},
		}
		for _, c := range refusals {
			res, body := get(c.token, c.path)
			var r gqlResponse
			if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Errors) != 1 {
				t.Errorf("%s: %d %s; want a JSON error", c.name, res.StatusCode, body)
				continue
			}
			if res.StatusCode != c.status || r.Errors[0].code() != c.code {
				t.Errorf("%s: %d %s; want %d %s", c.name, res.StatusCode, r.Errors[0].code(), c.status, c.code)
			}
			if strings.Contains(body, "Il primo paragrafo") {
				t.Errorf("%s: the refusal shows the text", c.name)
			}
		}
	})
}

// TestDocumentThreadsPages: a document's threads page forward and back,
// filter by section and by resolution, and refuse bad page arguments.
func TestDocumentThreadsPages(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Primo testo", "Secondo testo")
		var threads []string
		for i, sec := range []int{0, 0, 0, 1, 1} {
			var c struct{ AddComment struct{ ID string } }
			e.must(t, e.member, `mutation ($in: AddCommentInput!) { addComment(input: $in) { id } }`,
				vars("in", vars("sectionId", d.Sections[sec].ID, "version", 0, "range", vars("start", 0, "end", 5),
					"body", fmt.Sprintf("Commento %d", i))), &c)
			threads = append(threads, c.AddComment.ID)
		}
		var resolved any
		e.must(t, e.member, `mutation ($id: ID!) { resolveComment(threadId: $id) { id } }`, vars("id", threads[4]), &resolved)

		type conn struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
			Edges []struct{ Node struct{ ID string } }
		}
		// page reads a page with the arguments of a (nil ones omitted).
		page := func(a map[string]any) conn {
			t.Helper()
			var out struct{ Node struct{ Threads conn } }
			v := vars("id", d.ID, "resolved", false)
			for k, x := range a {
				v[k] = x
			}
			e.must(t, e.member, `query ($id: ID!, $first: Int, $last: Int, $after: String, $before: String, $section: ID, $resolved: Boolean!) {
				node(id: $id) { ... on Document { threads(first: $first, last: $last, after: $after, before: $before, sectionId: $section,
				includeResolved: $resolved) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id } } } } } }`,
				v, &out)
			return out.Node.Threads
		}
		ids := func(c conn) []string {
			var out []string
			for _, e := range c.Edges {
				out = append(out, e.Node.ID)
			}
			return out
		}
		base := vars("id", d.ID)
		first := page(vars("first", 2))
		if got := ids(first); first.TotalCount != 4 || !first.PageInfo.HasNextPage || first.PageInfo.HasPreviousPage ||
			fmt.Sprint(got) != fmt.Sprint(threads[:2]) {
			t.Errorf("first page %+v; want threads 1-2 of 4 open ones", first)
		}
		second := page(vars("first", 2, "after", *first.PageInfo.EndCursor))
		if got := ids(second); second.PageInfo.HasNextPage || !second.PageInfo.HasPreviousPage || fmt.Sprint(got) != fmt.Sprint(threads[2:4]) {
			t.Errorf("second page %+v; want threads 3-4, the last", second)
		}
		back := page(vars("last", 1, "before", *second.PageInfo.StartCursor))
		if got := ids(back); !back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage || fmt.Sprint(got) != fmt.Sprint(threads[1:2]) {
			t.Errorf("backward page %+v; want thread 2", back)
		}
		if all := page(vars("resolved", true)); all.TotalCount != 5 || fmt.Sprint(ids(all)) != fmt.Sprint(threads) {
			t.Errorf("with resolved ones %+v; want all 5", all)
		}
		if of := page(vars("section", d.Sections[1].ID, "resolved", true)); of.TotalCount != 2 || fmt.Sprint(ids(of)) != fmt.Sprint(threads[3:]) {
			t.Errorf("threads of the second section %+v; want 4-5", of)
		}
		for _, bad := range []struct{ args, field string }{{"first: 101", "first"}, {"first: 1, last: 1", "last"},
			{`after: "nonsense"`, "after"}, {"sectionId: $id", "id"}} {
			r := authPost(t, e.srv, authBearer(e.member), `query ($id: ID!) { node(id: $id) { ... on Document { threads(`+bad.args+`) { totalCount } } } }`, base)
			if got := onlyError(t, r); got.code() != "BAD_USER_INPUT" || got.Extensions["field"] != bad.field {
				t.Errorf("threads(%s): %s %v; want BAD_USER_INPUT on %s", bad.args, got.code(), got.Extensions["field"], bad.field)
			}
		}
	})
}

// TestDocumentFields reads every field of a document that has been edited,
// restructured, versioned, commented on and sent to review.
func TestDocumentFields(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Primo testo", "Da togliere")
		e.edit(t, e.member, d.Sections[0].ID, 0, []any{11, " rivisto"}, "c", 1)
		var v struct{ NameVersion struct{ ID string } }
		e.must(t, e.member, `mutation ($in: NameVersionInput!) { nameVersion(input: $in) { id } }`,
			vars("in", vars("documentId", d.ID, "name", "Prima bozza", "note", "per il tavolo")), &v)
		var updated struct {
			UpdateSection struct{ Theme struct{ Code string } }
		}
		e.must(t, e.member, `mutation ($in: UpdateSectionInput!) { updateSection(input: $in) { theme { code } } }`,
			vars("in", vars("sectionId", d.Sections[0].ID, "structureVersion", d.StructureVersion, "title", "Salute", "theme", "HEALTH")), &updated)
		var removed struct {
			RemoveSection struct{ StructureVersion int }
		}
		e.must(t, e.member, `mutation ($in: RemoveSectionInput!) { removeSection(input: $in) { structureVersion } }`,
			vars("in", vars("sectionId", d.Sections[1].ID, "structureVersion", d.StructureVersion+1)), &removed)
		var c struct{ AddComment struct{ ID string } }
		e.must(t, e.member, `mutation ($in: AddCommentInput!) { addComment(input: $in) { id } }`,
			vars("in", vars("sectionId", d.Sections[0].ID, "version", 1, "range", vars("start", 0, "end", 5), "body", "Vedi @Pietro",
				"mentions", []string{})), &c)
		var status any
		e.must(t, e.admin, `mutation ($in: ChangeDocumentStatusInput!) { changeDocumentStatus(input: $in) { status } }`,
			vars("in", vars("documentId", d.ID, "to", "IN_REVIEW", "note", "pronto")), &status)

		var out struct {
			Node struct {
				Title, Status string
				WorkingGroup  struct{ ID string }
				Territory     struct{ Code string }
				CreatedBy     *struct{ DisplayName string }
				Contributors  []struct{ DisplayName string }
				Sections      []struct {
					Title    string
					Removed  bool
					Theme    *struct{ Code string }
					Document struct{ ID string }
				}
				Versions []struct {
					ID, Name, Note, Kind string
					CreatedBy            struct{ DisplayName string }
					Sections             []struct {
						SectionID, Text string
						SectionVersion  int
					}
				}
				Transitions []struct {
					From, To, Note string
					Actor          *struct{ DisplayName string }
				}
				Threads struct {
					Edges []struct {
						Node struct {
							Quote   string
							Anchor  struct{ Start, End int }
							Section struct{ Title string }
							Thread  *struct{ ID string }
						}
					}
				}
				PublishedVersion *struct{ ID string }
			}
			Diff []struct {
				SectionID, Change string
				Hunks             []struct{ Kind, Text string }
				Inserted, Deleted int
			}
			Export struct{ Filename, MediaType, Content string }
			Group  struct{ Documents []struct{ ID string } }
		}
		e.must(t, e.member, `query ($id: ID!, $v: ID!) {
			node(id: $id) { ... on Document { title status workingGroup { id } territory { code } createdBy { displayName }
				contributors { displayName }
				sections(includeRemoved: true) { title removed theme { code } document { id } }
				versions { id name note kind createdBy { displayName } sections { sectionId text sectionVersion } }
				transitions { from to note actor { displayName } }
				threads { edges { node { quote anchor { start end } section { title } thread { id } } } }
				publishedVersion { id } } }
			diff: documentDiff(documentId: $id, from: $v) { sectionId change hunks { kind text } inserted deleted }
			export: exportDocument(documentId: $id, format: MARKDOWN) { filename mediaType content }
			group: workingGroup(territory: "EN") { documents { id } } }`, vars("id", d.ID, "v", v.NameVersion.ID), &out)
		n := out.Node
		if n.Title != "Linee guida" || n.Status != "IN_REVIEW" || n.Territory.Code != "EN" || n.WorkingGroup.ID != gid("WorkingGroup", e.groups["EN"]) ||
			n.CreatedBy != nil || len(n.Contributors) != 1 || n.Contributors[0].DisplayName != "Mario Membro" {
			t.Errorf("document %+v", n)
		}
		if len(n.Sections) != 2 || n.Sections[0].Theme == nil || n.Sections[0].Theme.Code != "HEALTH" || !n.Sections[1].Removed ||
			n.Sections[0].Document.ID != d.ID {
			t.Errorf("sections %+v", n.Sections)
		}
		if len(n.Versions) != 1 || n.Versions[0].Name != "Prima bozza" || n.Versions[0].Kind != "NAMED" || len(n.Versions[0].Sections) != 2 ||
			n.Versions[0].Sections[0].SectionID != d.Sections[0].ID || n.Versions[0].Sections[0].Text != "Primo testo rivisto" ||
			n.Versions[0].Sections[0].SectionVersion != 1 {
			t.Errorf("versions %+v", n.Versions)
		}
		// The administrator who created it and moved it is no one the member may see.
		if len(n.Transitions) != 1 || n.Transitions[0].From != "DRAFT" || n.Transitions[0].To != "IN_REVIEW" || n.Transitions[0].Note != "pronto" ||
			n.Transitions[0].Actor != nil {
			t.Errorf("transitions %+v", n.Transitions)
		}
		if len(n.Threads.Edges) != 1 || n.Threads.Edges[0].Node.Quote != "Primo" || n.Threads.Edges[0].Node.Anchor.End != 5 ||
			n.Threads.Edges[0].Node.Thread != nil {
			t.Errorf("threads %+v", n.Threads)
		}
		if n.PublishedVersion != nil {
			t.Errorf("a document in review has a published version %+v", n.PublishedVersion)
		}
		removedDiff := false
		for _, s := range out.Diff {
			if s.SectionID == d.Sections[1].ID && s.Change == "REMOVED" {
				removedDiff = true
			}
		}
		if !removedDiff {
			t.Errorf("diff %+v; want the second section REMOVED", out.Diff)
		}
		if !strings.Contains(out.Export.Content, "Primo testo rivisto") || out.Export.Filename == "" || out.Export.MediaType == "" {
			t.Errorf("export %+v", out.Export)
		}
		if len(out.Group.Documents) != 1 || out.Group.Documents[0].ID != d.ID {
			t.Errorf("the group's documents %+v", out.Group.Documents)
		}
	})
}
