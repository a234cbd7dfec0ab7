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
