package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/wsgorilla"
)

// TestWebsocketRefusesTextJSONWouldChange: over the websocket, as over
// HTTP, an edit whose variables escape a lone surrogate or carry bytes
// that are not UTF-8 is refused (BAD_USER_INPUT INVALID_UTF8, for that
// subscription only) and commits nothing, where encoding/json would have
// committed U+FFFD; any other message with such text closes the
// connection with 4400.
func TestWebsocketRefusesTextJSONWouldChange(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newDocEnv(t, db)
		d := e.newDoc(t, "Linee guida", "Ciao mondo")
		sec := d.Sections[0].ID
		c := dialWS(t, e.srv, transportWS, nil)
		c.token = e.member
		c.init()
		edit := func(id, text string) string {
			return `{"type": "subscribe", "id": "` + id + `", "payload": {"query": ` + jsonString(editSectionDoc) +
				`, "variables": {"in": {"sectionId": "` + sec + `", "baseVersion": 0, "operation": [10, "` + text +
				`"], "clientId": "ws", "clientSeq": 1}}}}`
		}
		sendRaw := func(msg string) {
			t.Helper()
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
		for _, text := range []string{`\ud800`, `\udc00\ud800`, "\xff"} {
			sendRaw(edit("1", text))
			m := c.read()
			if m.Type != "error" || m.ID != "1" {
				t.Fatalf("%q: got %s, want an error for 1", text, c.raw)
			}
			errs := messageErrors(t, m)
			if len(errs) != 1 || errs[0].code() != "BAD_USER_INPUT" || errs[0].reason() != "INVALID_UTF8" {
				t.Fatalf("%q: got %s", text, c.raw)
			}
		}
		if s := e.section(t, sec); s.Text != "Ciao mondo" || s.Version != 0 {
			t.Fatalf("the section is %q at %d", s.Text, s.Version)
		}
		// The connection goes on, and the id may be used again.
		sendRaw(edit("1", `\ud83d\ude00`))
		var out struct{ EditSection editData }
		if err := json.Unmarshal(c.result("1").Data, &out); err != nil || out.EditSection.Version != 1 {
			t.Fatalf("edit: %+v %v", out, err)
		}
		c.complete("1")
		if s := e.section(t, sec); s.Text != "Ciao mondo😀" || s.Version != 1 {
			t.Fatalf("the section is %q at %d", s.Text, s.Version)
		}
		// Any other message with such text ends the connection.
		sendRaw(`{"type": "ping", "payload": {"x": "\ud800"}}`)
		if code := c.closed(2 * time.Second); code != wsgorilla.CloseBadRequest {
			t.Fatalf("closed with %d, want %d", code, wsgorilla.CloseBadRequest)
		}
		// graphql-ws has no refusal of its own: the connection closes.
		l := dialWS(t, e.srv, legacyWS, nil)
		l.token = e.member
		l.init()
		msg := strings.Replace(edit("2", `\ud800`), `"subscribe"`, `"start"`, 1)
		if err := l.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if code := l.closed(2 * time.Second); code != wsgorilla.CloseBadRequest {
			t.Fatalf("graphql-ws closed with %d, want %d", code, wsgorilla.CloseBadRequest)
		}
		if s := e.section(t, sec); s.Version != 1 {
			t.Fatalf("the section is at %d", s.Version)
		}
	})
}
