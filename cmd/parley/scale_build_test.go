package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// The scale harness (scale_test.go) runs `parley serve` on a store of many
// conversations made through the engine's own API, as a year of traffic
// would make them: each customer writes twice, the bot answers each
// message, the dispatcher sends every answer (to a Meta that accepts at
// once) and records its outcome. History grows with the count; the live
// work does not: only the last scaleLiveAgent conversations are handed off
// to agents and the last scaleLiveWaiting wait for a reply, whatever the
// count.

// scaleFlow is the flow of the big store: a question, then an ending or
// a handoff.
const scaleFlow = `{"format": "parley/flow@1", "id": "scale", "start": "ask", "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "Hello {{ contact.name }}! Thanks for writing to us. What can we do for you today? A few words are enough."},
   "save_as": "said", "next": "route"},
  {"id": "route", "type": "branch", "cases": [{"when": "vars.said == 'agent'", "next": "human"}], "default": "bye"},
  {"id": "human", "type": "handoff", "queue": "support", "message": {"type": "text", "text": "I'm passing you to a colleague, who will answer here shortly."}, "next": "bye"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "Thank you, we have noted: {{ vars.said }}. Have a good day!"}}
 ]}`

const (
	scaleLiveAgent   = 1000 // the newest conversations, every other one handed off
	scaleLiveWaiting = 300  // the newest conversations, left waiting for a reply
	scaleHistory     = 365 * 24 * time.Hour
)

// scaleSize is the store's conversation count: PARLEY_BIG_STORE_N, 100,000
// by default.
func scaleSize(t *testing.T) int {
	n := 100_000
	if v := os.Getenv("PARLEY_BIG_STORE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < scaleLiveAgent {
			t.Fatalf("PARLEY_BIG_STORE_N=%q: a count of at least %d", v, scaleLiveAgent)
		}
	}
	return n
}

// scaleStore returns the data directory of a store of n conversations in
// the cache directory PARLEY_BIG_STORE, building it first if the cache has
// none (a "built" file marks a finished build). Without PARLEY_BIG_STORE
// the test is skipped.
func scaleStore(t *testing.T, n int) string {
	t.Helper()
	cache := os.Getenv("PARLEY_BIG_STORE")
	if cache == "" {
		t.Skip("PARLEY_BIG_STORE is not set: the scale harness needs a directory to keep its big store in (e.g. PARLEY_BIG_STORE=/tmp/parley-big)")
	}
	dir := filepath.Join(cache, fmt.Sprintf("conversations-%d", n))
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(dir, "built")); err == nil {
		return data
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := buildScaleStore(context.Background(), filepath.Join(data, "parley.db"), n, func(done int) {
		t.Logf("built %d of %d conversations (%s)", done, n, time.Since(start).Round(time.Second))
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "built"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Logf("built a store of %d conversations in %s", n, time.Since(start).Round(time.Second))
	return data
}

// acceptingSender is Meta accepting every send at once.
type acceptingSender struct{ n atomic.Int64 }

func (s *acceptingSender) Send(context.Context, *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	return whatsapp.SendResult{WAMID: fmt.Sprint("wamid.scale.", s.n.Add(1))}, nil
}

// buildScaleStore makes n conversations in the store at path through the
// engine: HandleInbound for each message, the dispatcher for each answer.
// The engine's clock walks through the last year, so activity times spread
// over it, oldest first.
func buildScaleStore(ctx context.Context, path string, n int, progress func(int)) error {
	st, err := boltstore.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	step := scaleHistory / time.Duration(n)
	base := now.Add(-scaleHistory)
	clock := engine.NewManualClock(base)
	e, err := engine.New(ctx, engine.Options{Store: st, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if _, ps, err := e.Publish(ctx, []byte(scaleFlow), "scale"); err != nil {
		return fmt.Errorf("publishing the scale flow: %w (%v)", err, ps.Err())
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	sender := &acceptingSender{}
	disp := e.NewDispatcher(engine.DispatchOptions{Sender: sender, Rate: 1e9, Poll: 10 * time.Millisecond, Clock: engine.SystemClock{}})
	dispDone := make(chan error, 1)
	go func() { dispDone <- disp.Run(runCtx) }()

	const conc = 64
	var next, done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { firstErr = err; stop() }) }
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && runCtx.Err() == nil; i = int(next.Add(1)) - 1 {
				// Scattered over the key space, as real customers are.
				wa := fmt.Sprintf("49%010d", uint64(i)*2654435761%10_000_000_000)
				at := base.Add(time.Duration(i) * step)
				clock.Set(at)
				texts := []string{"hello, I have a question about my order " + strconv.Itoa(i), "my parcel has not arrived yet"}
				switch {
				case i >= n-scaleLiveWaiting:
					texts = texts[:1]
				case i >= n-scaleLiveAgent && i%2 == 0:
					texts[1] = "agent"
				}
				for k, text := range texts {
					in := &engine.Inbound{PhoneNumberID: sandbox.DefaultPhoneNumberID, ID: fmt.Sprintf("wamid.scale.in.%d.%d", i, k), WaID: wa,
						Name: "Customer " + strconv.Itoa(i), At: clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: text}}
					if _, err := e.HandleInbound(runCtx, in); err != nil {
						fail(fmt.Errorf("conversation %d, message %d: %w", i, k, err))
						return
					}
				}
				if d := done.Add(1); d%50_000 == 0 && progress != nil {
					progress(int(d))
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// Every answer sent and its outcome recorded: the outbox empties.
	for {
		items, err := st.Outbox(ctx, 0, 1)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-dispDone; err != nil && ctx.Err() == nil && err != context.Canceled {
		return fmt.Errorf("dispatcher: %w", err)
	}
	return nil
}

// TestScaleBuild builds (or finds in the cache) the big store only.
func TestScaleBuild(t *testing.T) {
	scaleStore(t, scaleSize(t))
}
