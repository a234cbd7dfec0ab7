package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// BenchmarkDurableEvents measures inbound messages per second through the
// whole engine and the bbolt store (one commit each, grouped), with
// 1, 64 and 256 conversations sending at once.
func BenchmarkDurableEvents(b *testing.B) {
	for _, conc := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("conversations=%d", conc), func(b *testing.B) {
			ctx := context.Background()
			st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e, err := engine.New(ctx, engine.Options{Store: st, Clock: engine.SystemClock{}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			if _, ps, err := e.Publish(ctx, []byte(engine.BenchFlow), "bench"); err != nil {
				b.Fatal(err, ps.Err())
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					wa := fmt.Sprint("c", c)
					for i := 0; ; i++ {
						if next.Add(1) > int64(b.N) {
							return
						}
						in := &engine.Inbound{PhoneNumberID: "p", ID: fmt.Sprintf("w.%s.%d", wa, i), WaID: wa, At: time.Now(),
							Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}
						if _, err := e.HandleInbound(ctx, in); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// instantSender is Meta accepting every send at once, in process.
type instantSender struct{ n atomic.Int64 }

func (s *instantSender) Send(context.Context, *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	return whatsapp.SendResult{WAMID: fmt.Sprint("wamid.bench.", s.n.Add(1))}, nil
}

// BenchmarkAnsweredMessages measures answered messages per second through
// the engine, the store and the dispatcher with Meta in process: each
// message is the three writes `parley serve` makes of it (the inbound event
// with its queued reply, the send's claim, its outcome), without HTTP on
// either side. It is the ceiling loadgen's end-to-end figure approaches;
// customers are spread over the key space, each writing once, as in the
// loadgen run.
func BenchmarkAnsweredMessages(b *testing.B) {
	const echo = `{"format": "parley/flow@1", "id": "echo", "start": "say", "triggers": [{"type": "any"}],
	 "nodes": [{"id": "say", "type": "send", "message": {"type": "text", "text": "you said {{ reply.text }}"}}]}`
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e, err := engine.New(ctx, engine.Options{Store: st, Clock: engine.SystemClock{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if _, ps, err := e.Publish(ctx, []byte(echo), "bench"); err != nil {
		b.Fatal(err, ps.Err())
	}
	sender := &instantSender{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- e.NewDispatcher(engine.DispatchOptions{Sender: sender, Rate: 1e9, Poll: time.Millisecond}).Run(runCtx)
	}()
	const conc = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range conc {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				wa := fmt.Sprintf("4915%08d", n*7919%100_000_000) // scattered, one message each
				in := &engine.Inbound{PhoneNumberID: "p", ID: fmt.Sprint("wamid.in.", n), WaID: wa, At: time.Now(),
					Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}
				if _, err := e.HandleInbound(ctx, in); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for sender.n.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	// The last outcomes may still be committing: wait for the outbox to
	// empty, so that every message's three writes are in the figure.
	for {
		items, err := st.Outbox(ctx, 0, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	s := st.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(s.PagesWritten)/float64(b.N), "pages/msg")
	b.ReportMetric(float64(s.Writes)/float64(b.N), "writes/msg")
}
