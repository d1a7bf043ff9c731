package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/otclient"
)

// Two piad processes on one PostgreSQL database: an edit made through one
// reaches a subscriber of the other (the commit is announced with NOTIFY),
// and clients of both editing one section at once (their sockets dropping
// now and then between a commit and its answer) all end with the same text,
// which both servers give and which is the replay of the log.
func TestInstancesShareEdits(t *testing.T) {
	bin := buildPiad(t) // skipped with -short
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		if databaseURL == "" {
			t.Skip("SQLite is one process: several instances need PostgreSQL")
		}
		env := coeditEnv(databaseURL)
		// One after the other: the first applies the migrations.
		a := &crashServer{t: t, bin: bin, env: env, addr: crashFreeAddr(t)}
		a.start()
		b := &crashServer{t: t, bin: bin, env: env, addr: crashFreeAddr(t)}
		b.start()
		baseA, baseB := "http://"+a.addr, "http://"+b.addr
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const initial = "Linee guida per Enna, 𝄞.\n"
		token, sectionID := coeditDocument(t, ctx, baseA, initial)

		resends := newCoeditResends(t, cancel)
		dial := func(base, id string) (*otclient.Client, *otclient.Section) {
			t.Helper()
			cl, err := otclient.Dial(ctx, base, token, resends.options(id, 3))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cl.Close() })
			s, err := cl.OpenSection(ctx, sectionID)
			if err != nil {
				t.Fatal(err)
			}
			return cl, s
		}

		// A subscriber on B sees an edit made through A, with its author's
		// clientId and clientSeq.
		_, watcher := dial(baseB, "instances-watcher-b")
		remote := make(chan ot.Op, 1)
		watcher.OnRemote(func(op ot.Op) {
			select {
			case remote <- op:
			default:
			}
		})
		editorCl, editor := dial(baseA, "instances-editor-a")
		ch, err := editor.InsertAwait(0, "Bozza: ")
		if err != nil {
			t.Fatal(err)
		}
		var ack otclient.Ack
		select {
		case ack = <-ch:
		case <-ctx.Done():
			t.Fatal("the edit through A was never acknowledged")
		}
		if ack.Err != nil || ack.Version != 1 || ack.ClientID != editorCl.ID() {
			t.Fatalf("ack of the edit through A: %+v", ack)
		}
		select {
		case op := <-remote:
			want, _ := ot.Apply(initial, op)
			if want != "Bozza: "+initial {
				t.Errorf("the subscriber on B got %v, which gives %q", op, want)
			}
		case <-ctx.Done():
			t.Fatal("the subscriber on B never got the edit made through A")
		}
		if err := watcher.WaitVersion(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := watcher.Text(); got != "Bozza: "+initial {
			t.Errorf("the subscriber on B holds %q", got)
		}
		logReader, _ := dial(baseB, "instances-log-b")
		onB, err := logReader.ReadLog(ctx, sectionID, 0, 1)
		if err != nil || len(onB) != 1 || onB[0].ClientID != editorCl.ID() || onB[0].ClientSeq != ack.ClientSeq {
			t.Errorf("B's log of the section: %+v, %v; want the edit of %s/%d", onB, err, editorCl.ID(), ack.ClientSeq)
		}

		// Clients of both servers edit at once.
		const perServer, edits = 3, 30
		var cls []*otclient.Client
		var secs []*otclient.Section
		for i := range 2 * perServer {
			base, name := baseA, "a"
			if i%2 == 1 {
				base, name = baseB, "b"
			}
			cl, s := dial(base, fmt.Sprintf("instances-%s-%d", name, i))
			cls, secs = append(cls, cl), append(secs, s)
		}
		cls, secs = append(cls, editorCl), append(secs, editor)
		var wg sync.WaitGroup
		for i := range 2 * perServer {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				for k := range edits {
					if err := coeditRandomEdit(rng, secs[i]); err != nil {
						t.Errorf("client %d, edit %d: %v", i, k, err)
						return
					}
					time.Sleep(time.Duration(rng.IntN(11)) * time.Millisecond)
				}
			})
		}
		wg.Wait()
		for i, s := range secs {
			if err := s.WaitSynced(ctx); err != nil {
				t.Fatalf("client %d never synced: %v (state %s)", i, err, s.State())
			}
		}
		textA, versionA := coeditServerSection(t, ctx, baseA, token, sectionID)
		textB, versionB := coeditServerSection(t, ctx, baseB, token, sectionID)
		if textA != textB || versionA != versionB {
			t.Fatalf("A gives (v%d)\n%q\nB gives (v%d)\n%q", versionA, textA, versionB, textB)
		}
		for i, s := range append(secs, watcher) {
			if err := s.WaitVersion(ctx, versionA); err != nil {
				t.Fatalf("client %d never reached version %d: %v", i, versionA, err)
			}
			if got := s.Text(); got != textA {
				t.Errorf("client %d holds\n%q\nthe servers\n%q", i, got, textA)
			}
		}
		logA := coeditCheckLog(t, ctx, cls[0], sectionID, initial, textA, versionA)
		logB := coeditCheckLog(t, ctx, cls[1], sectionID, initial, textA, versionA)
		if fmt.Sprint(logA) != fmt.Sprint(logB) {
			t.Error("A and B give different logs of the section")
		}
		if resends.check(logA) == 0 {
			t.Error("no operation was resent after its commit")
		}
		authors := map[string]bool{}
		for _, e := range logA {
			authors[e.ClientID] = true
		}
		for _, cl := range cls {
			if !authors[cl.ID()] {
				t.Errorf("%s has no operation in the log", cl.ID())
			}
		}
		t.Logf("%d operations from %d clients on two servers", len(logA), len(cls))
	})
}
