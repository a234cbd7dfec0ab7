package events_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/events"
)

// BenchmarkDeliveries measures events delivered per second to a receiver
// on loopback that answers at once: the fan-out, one signed POST per
// event and its durable record, 8 at a time, events spread over 100
// contacts (each contact's in order).
func BenchmarkDeliveries(b *testing.B) {
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer rcv.Close()
	clock := engine.NewManualClock(t0)
	svc, err := events.New(ctx, events.Options{Store: st, Key: testKey, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	u := rcv.URL
	if _, _, err := svc.Create(ctx, events.Input{URL: &u}, "bench"); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i += 100 {
		c := &engine.Change{At: t0}
		for j := i; j < min(i+100, b.N); j++ {
			key := engine.NewContactKey(phone, fmt.Sprint(j%100))
			c.Events = append(c.Events, engine.Event{ID: engine.NewEventID(), Type: engine.EventMessageReceived, At: t0, Contact: key,
				Data: []byte(`{"message":{"type":"text","text":"hello"}}`)})
		}
		if err := st.Commit(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	if _, err := svc.Pass(ctx); err != nil {
		b.Fatal(err)
	}
	if n := got.Load(); n != int64(b.N) {
		b.Fatalf("%d delivered, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
