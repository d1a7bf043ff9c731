package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/otclient"
)

const (
	coeditAdminEmail    = "admin@coedit.test"
	coeditAdminPassword = "coedit-e2e-password-2026"
)

// coeditEnv is what the co-editing tests run the server with: a known
// administrator.
func coeditEnv(databaseURL string) map[string]string {
	return map[string]string{"PIA_DATABASE_URL": databaseURL,
		"PIA_ADMIN_EMAIL": coeditAdminEmail, "PIA_ADMIN_PASSWORD": coeditAdminPassword}
}

// coeditDocument signs in as the administrator, makes Enna's working group
// and a document whose one section holds body; it returns the token and
// the section's global id.
func coeditDocument(t *testing.T, ctx context.Context, base, body string) (token, sectionID string) {
	t.Helper()
	token, err := otclient.SignIn(ctx, base, coeditAdminEmail, coeditAdminPassword)
	if err != nil {
		t.Fatalf("signIn: %v", err)
	}
	var wg struct{ CreateWorkingGroup struct{ ID string } }
	if err := otclient.PostGraphQL(ctx, base, token, `mutation { createWorkingGroup(input: {territory: "EN"}) { id } }`, nil, &wg); err != nil {
		t.Fatalf("createWorkingGroup: %v", err)
	}
	var doc struct {
		CreateDocument struct {
			Sections []struct {
				ID      string
				Text    string
				Version int64
			}
		}
	}
	err = otclient.PostGraphQL(ctx, base, token,
		`mutation($in: CreateDocumentInput!) { createDocument(input: $in) { sections { id text version } } }`,
		map[string]any{"in": map[string]any{"workingGroupId": wg.CreateWorkingGroup.ID, "title": "Linee guida condivise",
			"sections": []map[string]any{{"title": "Introduzione", "body": body}}}}, &doc)
	if err != nil {
		t.Fatalf("createDocument: %v", err)
	}
	if s := doc.CreateDocument.Sections; len(s) != 1 || s[0].Text != body || s[0].Version != 0 {
		t.Fatalf("createDocument gave sections %+v, want one with the body at version 0", s)
	}
	return token, doc.CreateDocument.Sections[0].ID
}

// coeditServerSection reads a section's text, version and length over HTTP.
func coeditServerSection(t *testing.T, ctx context.Context, base, token, sectionID string) (text string, version int64) {
	t.Helper()
	var out struct {
		Node *struct {
			Text    string
			Version int64
			Length  int
		}
	}
	if err := otclient.PostGraphQL(ctx, base, token, `query($id: ID!) { node(id: $id) { ... on Section { text version length } } }`,
		map[string]any{"id": sectionID}, &out); err != nil || out.Node == nil {
		t.Fatalf("reading the section: %v %+v", err, out)
	}
	if n := len([]rune(out.Node.Text)); n != out.Node.Length {
		t.Errorf("Section.length %d, but its text has %d code points", out.Node.Length, n)
	}
	return out.Node.Text, out.Node.Version
}

// coeditCheckLog reads the section's whole log through sectionEdits
// (sinceVersion 0) and checks it: versions 1..version, each (clientId,
// clientSeq) once, and the replay from the initial text gives want.
func coeditCheckLog(t *testing.T, ctx context.Context, cl *otclient.Client, sectionID, initial, want string, version int64) []otclient.Edit {
	t.Helper()
	log, err := cl.ReadLog(ctx, sectionID, 0, version)
	if err != nil {
		t.Fatalf("reading the log: %v (got %d edits of %d)", err, len(log), version)
	}
	seen := map[string]int64{}
	text := initial
	for _, e := range log {
		key := fmt.Sprintf("%s/%d", e.ClientID, e.ClientSeq)
		if v, dup := seen[key]; dup {
			t.Errorf("%s is in the log twice: versions %d and %d", key, v, e.Version)
		}
		seen[key] = e.Version
		if text, err = ot.Apply(text, e.Op); err != nil {
			t.Fatalf("replaying version %d: %v", e.Version, err)
		}
	}
	if text != want {
		t.Errorf("the replay of the log gives\n%q\nthe server's text is\n%q", text, want)
	}
	return log
}

// coeditResends injects, through otclient's test options, socket drops
// between the server's commit of an operation and the client's reading of
// it, and records how the server answered the resubmissions that follow;
// any refusal fails the test at once (cancel ends its waits).
type coeditResends struct {
	t      *testing.T
	cancel context.CancelFunc

	mu      sync.Mutex
	refused int
	drops   map[string]int     // clientId -> sockets dropped after a commit
	answers map[string][]int64 // clientId/clientSeq -> the versions its resubmissions were answered with
}

func newCoeditResends(t *testing.T, cancel context.CancelFunc) *coeditResends {
	return &coeditResends{t: t, cancel: cancel, drops: map[string]int{}, answers: map[string][]int64{}}
}

// options are client id's: its socket drops after every dropEvery-th
// commit of its operations.
func (r *coeditResends) options(id string, dropEvery int) otclient.Options {
	asked := 0
	return otclient.Options{ClientID: id, ReconnectMax: 200 * time.Millisecond,
		DropOnCommit: func(int64) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			asked++
			if asked%dropEvery != 0 {
				return false
			}
			r.drops[id]++
			return true
		},
		OnAnswer: func(_ string, a otclient.Answer) {
			if a.Err != nil {
				r.mu.Lock()
				r.refused++
				if r.refused <= 5 {
					r.t.Errorf("%s/%d (resent: %v) refused: %v", id, a.ClientSeq, a.Resent, a.Err)
				}
				r.mu.Unlock()
				r.cancel()
				return
			}
			if a.Resent {
				r.mu.Lock()
				key := fmt.Sprintf("%s/%d", id, a.ClientSeq)
				r.answers[key] = append(r.answers[key], a.Version)
				r.mu.Unlock()
			}
		}}
}

// check compares the answers to resubmissions with the log: each names
// the version the operation was first committed at. It returns how many
// there were.
func (r *coeditResends) check(log []otclient.Edit) int {
	r.t.Helper()
	at := map[string]int64{}
	for _, e := range log {
		at[fmt.Sprintf("%s/%d", e.ClientID, e.ClientSeq)] = e.Version
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for key, vs := range r.answers {
		for _, v := range vs {
			n++
			if at[key] != v {
				r.t.Errorf("%s resent and answered with version %d; the log has it at version %d", key, v, at[key])
			}
		}
	}
	return n
}

// dropped is how many times id's socket was dropped after a commit.
func (r *coeditResends) dropped(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drops[id]
}

// coeditAlphabet mixes ASCII, accents, CJK and astral characters (two
// UTF-16 units, four UTF-8 bytes), so counting anything but code points
// breaks convergence.
var coeditAlphabet = []rune("ab c\néà中文😀𝄞👍🏽")

func coeditRandomEdit(rng *rand.Rand, s *otclient.Section) error {
	n := s.Len()
	if n > 0 && rng.IntN(3) == 0 {
		pos := rng.IntN(n)
		return s.Delete(pos, 1+rng.IntN(min(4, n-pos)))
	}
	var b strings.Builder
	for range 1 + rng.IntN(4) {
		b.WriteRune(coeditAlphabet[rng.IntN(len(coeditAlphabet))])
	}
	return s.Insert(rng.IntN(n+1), b.String())
}

// Ten clients edit one section at once, through the real server, with
// random pauses between edits, random delays on what some of them receive,
// and sockets closed under them a few times each: at random, and right
// after the server committed an operation of theirs, before they read the
// answer or the operation on the stream. At the end every client holds the
// server's text, which is the replay of the log; every acknowledged
// operation is in the log once, where its ack said; and every resent
// operation was answered with the version it was first committed at.
func TestCoeditConvergence(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		base, _, _ := startServer(t, coeditEnv(databaseURL))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const initial = "Linee guida 𝄞 per il territorio di Enna.\n"
		token, sectionID := coeditDocument(t, ctx, base, initial)

		const clients, edits = 10, 40
		secs := make([]*otclient.Section, clients)
		cls := make([]*otclient.Client, clients)
		var ackMu sync.Mutex
		acks := map[int64]string{} // version -> clientId/clientSeq
		resends := newCoeditResends(t, cancel)
		for i := range clients {
			o := resends.options(fmt.Sprintf("convergence-%d", i), 4)
			if i%3 == 0 {
				// Each message waits 0-20 ms before the client takes it.
				o.ReceiveDelay = func() time.Duration { return time.Duration(rand.IntN(21)) * time.Millisecond }
			}
			cl, err := otclient.Dial(ctx, base, token, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cl.Close() })
			s, err := cl.OpenSection(ctx, sectionID)
			if err != nil {
				t.Fatal(err)
			}
			s.OnAck(func(a otclient.Ack) {
				ackMu.Lock()
				defer ackMu.Unlock()
				if prev, dup := acks[a.Version]; dup {
					t.Errorf("version %d acknowledged to %s/%d and to %s", a.Version, a.ClientID, a.ClientSeq, prev)
				}
				acks[a.Version] = fmt.Sprintf("%s/%d", a.ClientID, a.ClientSeq)
			})
			cls[i], secs[i] = cl, s
		}

		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 20261122))
				drops := map[int]bool{rng.IntN(edits): true, rng.IntN(edits): true, rng.IntN(edits): true}
				for k := range edits {
					if err := coeditRandomEdit(rng, secs[i]); err != nil {
						t.Errorf("client %d, edit %d: %v", i, k, err)
						return
					}
					if drops[k] {
						cls[i].DropConnection()
					}
					time.Sleep(time.Duration(rng.IntN(21)) * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		for i, s := range secs {
			if err := s.WaitSynced(ctx); err != nil {
				t.Fatalf("client %d never synced: %v (state %s)", i, err, s.State())
			}
		}
		text, version := coeditServerSection(t, ctx, base, token, sectionID)
		for i, s := range secs {
			if err := s.WaitVersion(ctx, version); err != nil {
				t.Fatalf("client %d never reached version %d: %v", i, version, err)
			}
			if got := s.Text(); got != text || s.Version() != version {
				t.Errorf("client %d holds (v%d)\n%q\nthe server (v%d)\n%q", i, s.Version(), got, version, text)
			}
			if cls[i].Reconnects() < 1 {
				t.Errorf("client %d never reconnected: its socket was not dropped as meant", i)
			}
			if d := resends.dropped(cls[i].ID()); cls[i].Resends() < d {
				t.Errorf("client %d resent %d operations after %d drops between a commit and its answer", i, cls[i].Resends(), d)
			}
		}

		log := coeditCheckLog(t, ctx, cls[0], sectionID, initial, text, version)
		if n := resends.check(log); n == 0 {
			t.Error("no operation was resent after its commit: the idempotent path was not exercised")
		} else {
			t.Logf("%d answers to resent operations, each at the version of the first commit", n)
		}
		ackMu.Lock()
		defer ackMu.Unlock()
		if len(acks) != len(log) {
			t.Errorf("%d operations acknowledged, %d in the log", len(acks), len(log))
		}
		for _, e := range log {
			if got, want := acks[e.Version], fmt.Sprintf("%s/%d", e.ClientID, e.ClientSeq); got != want {
				t.Errorf("version %d: the log has %s, the ack said %q", e.Version, want, got)
			}
		}
		authors := map[string]bool{}
		for _, e := range log {
			authors[e.ClientID] = true
		}
		for i, cl := range cls {
			if !authors[cl.ID()] {
				t.Errorf("client %d has no operation in the log", i)
			}
		}
	})
}
