package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pia-sicilia/pia/internal/ot"
	"github.com/pia-sicilia/pia/internal/otclient"
)

// config is what every run needs.
type config struct {
	url            string // http://host:port
	token          string
	workingGroupID string
	pid, dbPID     int
	hz             float64
	timeout        time.Duration
	docs           int // override of docs, 0 for none
	clients, ops   int // overrides of clientsPerDoc and opsPerClient, 0 for none
	seed           uint32
	quietWait      time.Duration
	maxNoise       float64
}

// Result is one run's measurements. Times are in milliseconds, CPU in
// milliseconds too, per-op CPU in microseconds; NaN (null in JSON) when
// not measured.
type Result struct {
	Workload      string `json:"workload"`
	Run           int    `json:"run"`
	Docs          int    `json:"docs"`
	ClientsPerDoc int    `json:"clientsPerDoc"`
	OpsPerClient  int    `json:"opsPerClient"`
	TotalOps      int    `json:"totalOps"`
	// CommittedOps is the sum of the sections' versions on the server
	// after the run: the operations it committed (TotalOps when nothing
	// was lost or applied twice, as each op is one insert sent alone).
	CommittedOps       int     `json:"committedOps"`
	CommitMs           float64 `json:"commitMs"`
	DeliverMs          float64 `json:"deliverMs"`
	WallMs             float64 `json:"wallMs"`
	CommittedOpsPerSec float64 `json:"committedOpsPerSec"`
	DeliveredOpsPerSec float64 `json:"deliveredOpsPerSec"`
	AckP50             float64 `json:"ackP50"`
	AckP99             float64 `json:"ackP99"`
	AckMax             float64 `json:"ackMax"`
	FanoutP50          float64 `json:"fanoutP50"`
	FanoutP99          float64 `json:"fanoutP99"`
	FanoutMax          float64 `json:"fanoutMax"`
	Undelivered        int     `json:"undelivered"`
	Converged          bool    `json:"converged"`
	FinalLength        int     `json:"finalLength"`
	ExpectedLength     int     `json:"expectedLength"`
	ServerCPUMs        float64 `json:"serverCpuMs"`
	ServerCPUUsPerOp   float64 `json:"serverCpuUsPerOp"`
	DBCPUMs            float64 `json:"dbCpuMs"`
	DBCPUUsPerOp       float64 `json:"dbCpuUsPerOp"`
	ClientCPUMs        float64 `json:"clientCpuMs"`
	ClientCPUUsPerOp   float64 `json:"clientCpuUsPerOp"`
	MachineBusyMs      float64 `json:"machineBusyMs"`
	// OtherCPUMs is what processes other than the bench, the server and
	// the database used during the run (noise).
	OtherCPUMs  float64 `json:"otherCpuMs"`
	NoiseCores  float64 `json:"noiseCores"`
	QuietBefore float64 `json:"quietBusyCoresBeforeRun"`
	Reconnects  int     `json:"reconnects"`
}

// docState is one document's fan-out bookkeeping, indexed by tag.
type docState struct {
	sectionID string
	submit    []atomic.Int64 // ns since epoch
	maxRecv   []atomic.Int64 // ns since epoch, the latest receipt
	recvCount []atomic.Int32
}

// runOnce runs workload w once: fresh documents, fresh connections.
func runOnce(ctx context.Context, cfg config, w Workload, run int) (res Result, err error) {
	nDocs, clientsPerDoc, opsPerClient := w.Docs, w.ClientsPerDoc, w.OpsPerClient
	if cfg.docs > 0 {
		nDocs = cfg.docs
	}
	if cfg.clients > 0 {
		clientsPerDoc = cfg.clients
	}
	if cfg.ops > 0 {
		opsPerClient = cfg.ops
	}
	nTags := clientsPerDoc * opsPerClient
	if nTags > TagMax {
		return res, fmt.Errorf("%d clients × %d ops need more than %d tags", clientsPerDoc, opsPerClient, TagMax)
	}
	res = Result{Workload: w.Key, Run: run, Docs: nDocs, ClientsPerDoc: clientsPerDoc, OpsPerClient: opsPerClient,
		TotalOps: nDocs * nTags, ExpectedLength: w.InitialLength + nTags}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	// The documents, each with one section holding the initial text,
	// created before the barrier.
	initial := InitialText(w.InitialLength, cfg.seed)
	stamp := time.Now().UTC().Format("20060102T150405.000")
	docs := make([]*docState, nDocs)
	err = parallel(ctx, nDocs, 8, func(d int) error {
		var out struct {
			CreateDocument struct {
				Sections []struct{ ID string }
			}
		}
		err := otclient.PostGraphQL(ctx, cfg.url, cfg.token,
			`mutation($in: CreateDocumentInput!) { createDocument(input: $in) { sections { id } } }`,
			map[string]any{"in": map[string]any{
				"workingGroupId": cfg.workingGroupID,
				"title":          fmt.Sprintf("piabench %s %s run %d doc %d", w.Key, stamp, run, d),
				"sections":       []map[string]any{{"title": "Testo", "body": initial}},
			}}, &out)
		if err != nil {
			return fmt.Errorf("createDocument: %w", err)
		}
		if len(out.CreateDocument.Sections) != 1 {
			return fmt.Errorf("createDocument gave %d sections, want 1", len(out.CreateDocument.Sections))
		}
		docs[d] = &docState{sectionID: out.CreateDocument.Sections[0].ID, submit: make([]atomic.Int64, nTags),
			maxRecv: make([]atomic.Int64, nTags), recvCount: make([]atomic.Int32, nTags)}
		return nil
	})
	if err != nil {
		return res, err
	}

	// The clients, each on its own websocket, subscribed and holding the
	// initial text.
	epoch := time.Now()
	since := func() int64 { return int64(time.Since(epoch)) }
	receivers := int64(clientsPerDoc - 1)
	var deliveriesLeft atomic.Int64
	deliveriesLeft.Store(int64(nDocs) * int64(nTags) * receivers)
	allDelivered := make(chan struct{})
	if deliveriesLeft.Load() == 0 {
		close(allDelivered)
	}
	var lastDelivery atomic.Int64
	type member struct {
		d, c int
		cl   *otclient.Client
		sec  *otclient.Section
	}
	members := make([]*member, nDocs*clientsPerDoc)
	defer func() {
		for _, m := range members {
			if m != nil {
				_ = m.cl.Close()
			}
		}
	}()
	err = parallel(ctx, len(members), 50, func(i int) error {
		d, c := i/clientsPerDoc, i%clientsPerDoc
		cl, err := otclient.Dial(ctx, cfg.url, cfg.token, otclient.Options{})
		if err != nil {
			return err
		}
		members[i] = &member{d: d, c: c, cl: cl}
		sec, err := cl.OpenSection(ctx, docs[d].sectionID)
		if err != nil {
			return err
		}
		members[i].sec = sec
		st := docs[d]
		sec.OnRemote(func(op ot.Op) {
			now := since()
			for _, comp := range op {
				for _, r := range comp.Insert {
					idx := TagIndexOf(r)
					if idx < 0 || idx >= nTags {
						continue
					}
					atomicMax(&st.maxRecv[idx], now)
					st.recvCount[idx].Add(1)
					atomicMax(&lastDelivery, now)
					if deliveriesLeft.Add(-1) == 0 {
						close(allDelivered)
					}
				}
			}
		})
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, m := range members {
		if n := m.sec.Len(); n != w.InitialLength {
			return res, fmt.Errorf("client %d of document %d holds %d code points, want %d", m.c, m.d, n, w.InitialLength)
		}
	}

	if cfg.quietWait > 0 {
		res.QuietBefore = waitQuiet(ctx, cfg.quietWait, cfg.maxNoise, cfg.hz)
	} else {
		res.QuietBefore = math.NaN()
	}
	srv0, db0 := processCPU(cfg.pid, cfg.hz), treeCPU(cfg.dbPID, cfg.hz)
	self0, mach0 := processCPU(os.Getpid(), cfg.hz), machineBusy(cfg.hz)

	// The barrier: every client starts now; one op in flight each.
	start := make(chan struct{})
	ackLat := make([][]float64, len(members))
	var lastAck atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(members))
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rnd := NewMulberry32(ClientSeed(m.d, m.c, cfg.seed))
			st := docs[m.d]
			lat := make([]float64, 0, opsPerClient)
			for k := range opsPerClient {
				pos := NextPosition(rnd, m.sec.Len())
				idx, _ := TagIndex(m.c, k, opsPerClient)
				ts := since()
				st.submit[idx].Store(ts)
				ch, err := m.sec.InsertAwait(pos, string(rune(TagBase+idx)))
				if err != nil {
					errs <- err
					return
				}
				var ack otclient.Ack
				select {
				case ack = <-ch:
				case <-ctx.Done():
					errs <- fmt.Errorf("client %d of document %d: op %d not acknowledged: %w", m.c, m.d, k, ctx.Err())
					return
				}
				if ack.Err != nil {
					errs <- ack.Err
					return
				}
				ta := int64(ack.At.Sub(epoch))
				lat = append(lat, float64(ta-ts)/1e6)
				atomicMax(&lastAck, ta)
			}
			ackLat[i] = lat
		}()
	}
	t0 := since()
	close(start)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return res, err
	}
	select {
	case <-allDelivered:
	case <-time.After(5 * time.Second): // stragglers: counted as undelivered below
	case <-ctx.Done():
	}
	tEnd := since()
	srv1, db1 := processCPU(cfg.pid, cfg.hz), treeCPU(cfg.dbPID, cfg.hz)
	self1, mach1 := processCPU(os.Getpid(), cfg.hz), machineBusy(cfg.hz)

	// Convergence: every client of a document has the same text, of the
	// expected length (stragglers get up to 5 s).
	settle := time.Now().Add(5 * time.Second)
	for {
		res.Converged = true
		for d := range docs {
			first := members[d*clientsPerDoc].sec.Text()
			res.FinalLength = len([]rune(first))
			if res.FinalLength != res.ExpectedLength {
				res.Converged = false
			}
			for c := 1; c < clientsPerDoc && res.Converged; c++ {
				if members[d*clientsPerDoc+c].sec.Text() != first {
					res.Converged = false
				}
			}
			if !res.Converged {
				break
			}
		}
		if res.Converged || time.Now().After(settle) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	var acks, fan []float64
	for _, l := range ackLat {
		acks = append(acks, l...)
	}
	if receivers > 0 {
		for _, st := range docs {
			for i := range nTags {
				if int64(st.recvCount[i].Load()) < receivers {
					res.Undelivered++
					continue
				}
				fan = append(fan, float64(st.maxRecv[i].Load()-st.submit[i].Load())/1e6)
			}
		}
	}
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	res.CommitMs = ms(lastAck.Load() - t0)
	res.DeliverMs = ms(max(lastAck.Load(), lastDelivery.Load()) - t0)
	res.WallMs = ms(tEnd - t0)
	res.CommittedOpsPerSec = float64(res.TotalOps) / (res.CommitMs / 1000)
	res.DeliveredOpsPerSec = float64(res.TotalOps) / (res.DeliverMs / 1000)
	if res.Undelivered > 0 {
		res.DeliveredOpsPerSec = math.NaN() // not every op was delivered
	}
	res.AckP50, res.AckP99, res.AckMax = percentile(acks, 50), percentile(acks, 99), percentile(acks, 100)
	res.FanoutP50, res.FanoutP99, res.FanoutMax = percentile(fan, 50), percentile(fan, 99), percentile(fan, 100)
	perOp := func(sec float64) float64 { return sec * 1e6 / float64(res.TotalOps) }
	res.ServerCPUMs, res.ServerCPUUsPerOp = (srv1-srv0)*1000, perOp(srv1-srv0)
	res.DBCPUMs, res.DBCPUUsPerOp = (db1-db0)*1000, perOp(db1-db0)
	res.ClientCPUMs, res.ClientCPUUsPerOp = (self1-self0)*1000, perOp(self1-self0)
	res.MachineBusyMs = (mach1 - mach0) * 1000
	res.OtherCPUMs = res.MachineBusyMs - res.ClientCPUMs - res.ServerCPUMs - nanToZero(res.DBCPUMs)
	res.NoiseCores = res.OtherCPUMs / res.WallMs
	for _, m := range members {
		res.Reconnects += m.cl.Reconnects()
	}
	// What the server committed, read after the measurements.
	versions := make([]int64, len(docs))
	err = parallel(ctx, len(docs), 8, func(d int) error {
		var out struct {
			Node *struct{ Version int64 } `json:"node"`
		}
		err := otclient.PostGraphQL(ctx, cfg.url, cfg.token, `query($id: ID!) { node(id: $id) { ... on Section { version } } }`,
			map[string]any{"id": docs[d].sectionID}, &out)
		if err == nil && out.Node == nil {
			err = fmt.Errorf("no section %s", docs[d].sectionID)
		}
		if err != nil {
			return fmt.Errorf("reading the version of document %d: %w", d, err)
		}
		versions[d] = out.Node.Version
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, v := range versions {
		res.CommittedOps += int(v)
	}
	return res, nil
}

func nanToZero(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// atomicMax raises a to v if v is larger.
func atomicMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// parallel runs fn(0..n-1) on up to width goroutines; the first error wins.
func parallel(ctx context.Context, n, width int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// waitQuiet waits (up to maxWait) until fewer than threshold cores are
// busy over one second, and returns the last measurement.
func waitQuiet(ctx context.Context, maxWait time.Duration, threshold, hz float64) float64 {
	until := time.Now().Add(maxWait)
	for {
		a := machineBusy(hz)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return math.NaN()
		}
		busy := machineBusy(hz) - a
		if math.IsNaN(busy) || busy < threshold || time.Now().After(until) {
			return busy
		}
	}
}

var errUsage = errors.New("usage")
