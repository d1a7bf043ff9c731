package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// BenchmarkEditSection is the whole path of one edit in process: the
// editSection mutation over a real websocket (graphql-transport-ws) to
// graph.NewHandler with the real services, one operation in flight, a
// single-character insert each time; with 0 or 19 subscribers of the
// section's sectionEdits, which read every event. It reports the process's
// CPU time per operation (server and clients together) beside ns/op.
//
//	go test ./graph/ -run '^$' -bench EditSection -benchtime 2000x -cpuprofile /tmp/cpu.out
func BenchmarkEditSection(b *testing.B) {
	for _, engine := range storagetest.Engines {
		for _, subs := range []int{0, 19} {
			b.Run(fmt.Sprintf("%s/subscribers=%d", engine, subs), func(b *testing.B) {
				benchEditSection(b, storagetest.Open(b, engine), subs)
			})
		}
	}
}

func benchEditSection(b *testing.B, db *bun.DB, subs int) {
	r := newResolver(b, db)
	srv := serveResolver(b, r, defaultOptions())
	token := srv.adminToken(b)
	actor, _, err := r.Accounts.Authenticate(context.Background(), token)
	if err != nil {
		b.Fatal(err)
	}
	ctx := access.WithActor(context.Background(), actor)
	g, err := r.Network.CreateWorkingGroup(ctx, network.WorkingGroupInput{Territory: "EN"})
	if err != nil {
		b.Fatal(err)
	}
	d, err := r.Coedit.CreateDocument(ctx, coedit.DocumentInput{WorkingGroupID: g.ID, Title: "Banco",
		Sections: []coedit.SectionInput{{Title: "Uno", Body: "Ciao"}}})
	if err != nil {
		b.Fatal(err)
	}
	secs, err := r.Coedit.SectionsOfDocuments(ctx, []int64{d.ID}, false)
	if err != nil {
		b.Fatal(err)
	}
	sec := secs[d.ID][0]
	sectionID := relay.ID("Section", sec.ID)
	length, version := sec.Length, int(sec.Version)

	// The subscribers: each counts the events it reads.
	var wg sync.WaitGroup
	last := make([]chan int, subs)
	for i := range subs {
		c := dialWS(b, srv, transportWS, nil)
		c.init()
		p, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!, $v: Int!) { sectionEdits(sectionId: $id, sinceVersion: $v) { version operation clientId clientSeq } }`,
			"variables": map[string]any{"id": sectionID, "v": version}})
		c.send(wsMessage{Type: "subscribe", ID: "s", Payload: p})
		last[i] = make(chan int, 1)
		wg.Add(1)
		_ = c.conn.SetReadDeadline(time.Time{}) // init set one
		go func(conn *websocket.Conn, done chan int) {
			defer wg.Done()
			for {
				_, raw, err := conn.ReadMessage()
				if err != nil {
					return // the benchmark's end
				}
				if !bytes.Contains(raw, []byte(`"next"`)) {
					b.Errorf("subscriber: %s", raw)
					return
				}
				var m struct {
					Type    string
					Payload struct {
						Data struct{ SectionEdits struct{ Version int } }
					}
				}
				if json.Unmarshal(raw, &m) == nil && m.Type == "next" {
					if m.Payload.Data.SectionEdits.Version == 0 {
						b.Errorf("subscriber: %s", raw)
						return
					}
					select {
					case <-done:
					default:
					}
					done <- m.Payload.Data.SectionEdits.Version
				}
			}
		}(c.conn, last[i])
	}
	time.Sleep(200 * time.Millisecond) // the subscriptions are registered

	w := dialWS(b, srv, transportWS, nil)
	w.init()
	const mutation = `mutation($in: EditSectionInput!) { editSection(input: $in) { version } }`
	var ru0, ru1 syscall.Rusage
	b.ResetTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for i := range b.N {
		p, _ := json.Marshal(map[string]any{"query": mutation, "variables": map[string]any{"in": map[string]any{
			"sectionId": sectionID, "baseVersion": version, "operation": []any{length, "x"},
			"clientId": "bench", "clientSeq": i}}})
		id := strconv.Itoa(i)
		w.send(wsMessage{Type: "subscribe", ID: id, Payload: p})
		res := w.result(id)
		w.complete(id)
		var out struct{ EditSection struct{ Version int } }
		if err := json.Unmarshal(res.Data, &out); err != nil || out.EditSection.Version != version+1 {
			b.Fatalf("edit %d: %s (%v)", i, res.Data, err)
		}
		version++
		length++
		// In step: every subscriber has this version before the next edit
		// (otherwise they fall behind and end with RESUBSCRIBE).
		waitSubscribers(b, last, version)
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.StopTimer()
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/op")
}

// waitSubscribers waits until each subscriber has read version.
func waitSubscribers(b *testing.B, last []chan int, version int) {
	timeout := time.After(30 * time.Second)
	for i := range last {
		for v := 0; v < version; {
			select {
			case v = <-last[i]:
			case <-timeout:
				b.Fatalf("subscriber %d: at version %d, want %d", i, v, version)
			}
		}
	}
}
