package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// TestHeartbeat: the processes live are those whose last beat has not run
// out; a process's stretch of liveness starts at its first beat and at
// its first beat after a gap; one that leaves is not counted.
func TestHeartbeat(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ttl := 10 * time.Second
	steps := []struct {
		name      string
		st        *pgstore.Store
		at        time.Duration
		leave     bool
		live      int
		sinceWant time.Duration
	}{
		{"A alone", a, 0, false, 1, 0},
		{"B joins", b, 1 * time.Second, false, 2, 1 * time.Second},
		{"A again: its stretch goes on", a, 2 * time.Second, false, 2, 0},
		{"A, at the end of B's beat", a, 11 * time.Second, false, 2, 0},
		{"A, once B's beat ran out", a, 11*time.Second + time.Nanosecond, false, 1, 0},
		{"B back after a gap: a new stretch", b, 15 * time.Second, false, 2, 15 * time.Second},
		{"B leaves", b, 16 * time.Second, true, 0, 0},
		{"A alone again", a, 17 * time.Second, false, 1, 0},
	}
	for _, s := range steps {
		if s.leave {
			if err := s.st.Leave(t.Context()); err != nil {
				t.Fatal(err)
			}
			continue
		}
		live, since, err := s.st.Heartbeat(t.Context(), t0.Add(s.at), ttl)
		if err != nil {
			t.Fatal(err)
		}
		if live != s.live || !since.Equal(t0.Add(s.sinceWant)) {
			t.Errorf("%s: %d live, since +%v; want %d, since +%v", s.name, live, since.Sub(t0), s.live, s.sinceWant)
		}
	}
}

// stampingSender accepts every message and stamps each send with the
// pacing clock's time.
type stampingSender struct {
	clock *engine.ManualClock
	mu    sync.Mutex
	at    []time.Time
	done  chan struct{}
	want  int
	// hook, if set, runs (in a goroutine of its own) at the hookAt-th send.
	hook   func()
	hookAt int
}

func (s *stampingSender) Send(ctx context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = append(s.at, s.clock.Now())
	if len(s.at) == s.want {
		close(s.done)
	}
	if len(s.at) == s.hookAt && s.hook != nil {
		go s.hook()
	}
	return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.out.%d", len(s.at))}, nil
}

// pacingRig is two engines, as two processes on one database, with a
// backlog of n replies from one business number, each to a customer of
// its own (the pair rate stays out of it), queued half through each.
type pacingRig struct {
	stores []*pgstore.Store
	engs   []*engine.Engine
	pace   *engine.ManualClock // the dispatchers' clock
	sender *stampingSender
	counts []*countingSender // per engine
}

func newPacingRig(t *testing.T, n int) *pacingRig {
	t.Helper()
	a, b := twoHandles(t)
	ctx := t.Context()
	clock := engine.NewManualClock(t0) // the engines': every window stays open
	r := &pacingRig{stores: []*pgstore.Store{a, b}, pace: engine.NewManualClock(t0)}
	r.sender = &stampingSender{clock: r.pace, done: make(chan struct{}), want: n}
	for i, st := range r.stores {
		e, err := engine.New(ctx, engine.Options{Store: st, Clock: clock, Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, problems, err := e.Publish(ctx, []byte(greetFlow), "ann"); err != nil || problems.HasErrors() {
				t.Fatalf("publish: %v %v", err, problems.Err())
			}
		} else if err := e.RefreshFlows(ctx); err != nil {
			t.Fatal(err)
		}
		r.engs = append(r.engs, e)
		r.counts = append(r.counts, &countingSender{})
	}
	for i := range n {
		if _, err := r.engs[i%2].HandleInbound(ctx, &engine.Inbound{PhoneNumberID: "100", ID: fmt.Sprintf("wamid.%d", i),
			WaID: fmt.Sprintf("1555000%04d", i), At: clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// dispatch runs the dispatchers of engines which at rate per number
// until the test ends.
func (r *pacingRig) dispatch(t *testing.T, rate float64, which ...int) {
	dctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, i := range which {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r.engs[i].NewDispatcher(engine.DispatchOptions{Sender: teeSender{r.sender, r.counts[i]}, Rate: rate, Clock: r.pace,
				Poll: time.Millisecond, Rescan: 50 * time.Millisecond}).Run(dctx)
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// run moves the pacing clock on, five times as fast as the wall, until
// every send is made, and returns their stamps in order. What is checked
// is on the pacing clock alone.
func (r *pacingRig) run(t *testing.T) []time.Time {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute) // a bound for a busy machine, not a timing
	for {
		select {
		case <-r.sender.done:
			r.sender.mu.Lock()
			defer r.sender.mu.Unlock()
			at := slices.Clone(r.sender.at)
			slices.SortFunc(at, time.Time.Compare)
			return at
		case <-tick.C:
			r.pace.Advance(5 * time.Millisecond)
		case <-deadline:
			r.sender.mu.Lock()
			defer r.sender.mu.Unlock()
			t.Fatalf("timed out: %d of %d sent", len(r.sender.at), r.sender.want)
		}
	}
}

// withinRate fails t if, for any k, the k-th send is stamped earlier than
// a burst of burst sends and rate per second from start allow.
func withinRate(t *testing.T, at []time.Time, start time.Time, rate, burst float64) {
	t.Helper()
	for k, stamp := range at {
		allowed := burst + rate*stamp.Sub(start).Seconds()
		if float64(k+1) > allowed+1e-9 {
			var ds []string
			for _, a := range at[:k+1] {
				ds = append(ds, a.Sub(start).String())
			}
			t.Fatalf("send %d at +%v: over %.0f/s and a burst of %.0f, which allow %.1f; %v", k+1, stamp.Sub(start), rate, burst, allowed, ds)
		}
	}
}

// TestPacingSharedTwoEngines: two processes sending a backlog from one
// business number, each told the number's rate, together keep to it (each
// paces at half of it), as one process would, and both send. The bound
// is checked on the pacing clock for every prefix of the sends.
func TestPacingSharedTwoEngines(t *testing.T) {
	testURL(t)
	const rate, n = 20, 140
	r := newPacingRig(t, n)
	// Both live before either sends: neither waits to join.
	for _, st := range r.stores {
		if _, _, err := st.Heartbeat(t.Context(), r.pace.Now(), engine.PaceTTL); err != nil {
			t.Fatal(err)
		}
	}
	r.pace.Advance(engine.PaceJoinWait)
	start := r.pace.Now()
	r.dispatch(t, rate, 0, 1)
	at := r.run(t)
	// Two buckets of half the rate, each full at the start: a burst of
	// rate in all, then rate per second.
	withinRate(t, at, start, rate, rate)
	took := at[len(at)-1].Sub(start)
	got := float64(n-rate) / took.Seconds()
	t.Logf("%d sends in %v of pacing time: %.1f/s after the burst (rate %d/s); by engine: %d and %d",
		n, took.Round(time.Millisecond), got, rate, r.counts[0].n.Load(), r.counts[1].n.Load())
	if got < rate/2 {
		t.Errorf("together %.1f/s: less than half the rate, as if one process sent alone", got)
	}
	for i, c := range r.counts {
		if c.n.Load() == 0 {
			t.Errorf("engine %d sent nothing", i)
		}
	}
}

// TestPacingJoinMidway: a process sending a backlog alone, at the whole
// rate, makes room for one that joins midway: together they stay within
// the rate throughout (the first counts the processes while it works
// through its backlog, not only between rounds of it), and the second
// sends its part.
func TestPacingJoinMidway(t *testing.T) {
	testURL(t)
	const rate, n = 20, 200
	r := newPacingRig(t, n)
	start := r.pace.Now()
	var joined time.Time
	r.sender.hookAt = 60
	r.sender.hook = func() {
		joined = r.pace.Now()
		r.dispatch(t, rate, 1)
	}
	r.dispatch(t, rate, 0)
	at := r.run(t)
	withinRate(t, at, start, rate, rate)
	t.Logf("process 1 started at +%v; %d sends by +%v; by engine: %d and %d", joined.Sub(start).Round(time.Millisecond), n,
		at[len(at)-1].Sub(start).Round(time.Millisecond), r.counts[0].n.Load(), r.counts[1].n.Load())
	if r.counts[1].n.Load() == 0 {
		t.Error("the process that joined sent nothing")
	}
}

// TestPacingJoinWait: a process that starts while another is live sends
// nothing until the other has had PaceJoinWait to count it, and then
// half the rate.
func TestPacingJoinWait(t *testing.T) {
	testURL(t)
	const rate, n = 20, 40
	r := newPacingRig(t, n)
	// Process 0 is live throughout (one beat of an hour; its dispatcher
	// is not run: process 1 sends all).
	if _, _, err := r.stores[0].Heartbeat(t.Context(), r.pace.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	start := r.pace.Now()
	r.dispatch(t, rate, 1)
	at := r.run(t)
	if first := at[0].Sub(start); first < engine.PaceJoinWait {
		t.Fatalf("first send at +%v, before the join wait of %v", first, engine.PaceJoinWait)
	}
	withinRate(t, at, start.Add(engine.PaceJoinWait), rate/2, rate/2)
	t.Logf("first send at +%v; %d sends by +%v", at[0].Sub(start).Round(time.Millisecond), n, at[len(at)-1].Sub(start).Round(time.Millisecond))
}

// teeSender sends through both senders, answering with the first's result.
type teeSender struct {
	first  engine.Sender
	second *countingSender
}

func (s teeSender) Send(ctx context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	_, _ = s.second.Send(ctx, m)
	return s.first.Send(ctx, m)
}

// BenchmarkHeartbeat is one dispatcher's beat (every engine.PaceHeartbeat)
// with three processes live.
func BenchmarkHeartbeat(b *testing.B) {
	testURL(b)
	path := filepath.Join(b.TempDir(), "db")
	var sts []*pgstore.Store
	for range 3 {
		st := openAt(b, path)
		b.Cleanup(func() { st.Close() })
		sts = append(sts, st)
	}
	now := t0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		for _, st := range sts[1:] {
			if _, _, err := st.Heartbeat(b.Context(), now, engine.PaceTTL); err != nil {
				b.Fatal(err)
			}
		}
		if live, _, err := sts[0].Heartbeat(b.Context(), now, engine.PaceTTL); err != nil || live != 3 {
			b.Fatal(live, err)
		}
	}
}
