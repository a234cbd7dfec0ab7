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
	"github.com/parleyhq/parley/engine/model"
)

// BenchmarkDeliveries measures events delivered per second by Run to a
// receiver on loopback that answers at once (the fan-out, one signed POST
// per event and its durable record), with 8 and 32 posts at a time, events
// spread over 100 contacts (each contact's in order).
func BenchmarkDeliveries(b *testing.B) {
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) { benchDeliveries(b, conc) })
	}
}

func benchDeliveries(b *testing.B, concurrency int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer rcv.Close()
	clock := engine.NewManualClock(t0)
	svc, err := events.New(ctx, events.Options{Store: st, Key: testKey, Clock: clock, Logger: slog.New(slog.DiscardHandler), Concurrency: concurrency})
	if err != nil {
		b.Fatal(err)
	}
	u := rcv.URL
	if _, _, err := svc.Create(ctx, events.Input{URL: &u}, "bench"); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i += 100 {
		c := &model.Change{At: t0}
		for j := i; j < min(i+100, b.N); j++ {
			key := model.NewContactKey(phone, fmt.Sprint(j%100))
			c.Events = append(c.Events, model.Event{ID: model.NewEventID(), Type: model.EventMessageReceived, At: t0, Contact: key,
				Data: []byte(`{"message":{"type":"text","text":"hello"}}`)})
		}
		if err := st.Commit(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	go func() { svc.Run(ctx, 10*time.Millisecond); close(done) }()
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	cancel()
	<-done
}
