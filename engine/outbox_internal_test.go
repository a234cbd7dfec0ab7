package engine

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Pair-rate buckets of customers not sent to lately are forgotten once
// they have refilled: the dispatcher's memory does not grow with every
// customer it ever sent to, and a forgotten bucket is a full new one.
func TestPrunePairs(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	now := t0
	d := &Dispatcher{
		opts:  DispatchOptions{PairInterval: DefaultPairInterval, PairBurst: DefaultPairBurst},
		now:   func() time.Time { return now },
		pairs: map[model.ContactKey]*bucket{},
	}
	for range 3 {
		d.pair("1:a").take(now) // three tokens: full again in 18 s
	}
	d.pair("1:b").take(now) // one token: full again in 6 s

	now = t0.Add(7 * time.Second)
	d.prunePairs(now)
	if _, ok := d.pairs["1:b"]; ok {
		t.Error("a refilled bucket was kept")
	}
	if _, ok := d.pairs["1:a"]; !ok {
		t.Fatal("a bucket still refilling was forgotten")
	}
	now = t0.Add(18 * time.Second)
	d.prunePairs(now)
	if len(d.pairs) != 0 {
		t.Errorf("%d buckets left, want 0", len(d.pairs))
	}
	// A forgotten customer starts with a full burst.
	for i := range DefaultPairBurst {
		if w := d.pair("1:a").take(now); w != 0 {
			t.Fatalf("take %d of a new bucket waited %v", i, w)
		}
	}
}

// The message cache hands out copies, keeps outbound messages only, and
// stays within its bound.
func TestMessageCache(t *testing.T) {
	var c messageCache
	out := &model.Message{Conversation: "1:a#1", Seq: 2, Direction: model.Out, State: model.Queued}
	in := &model.Message{Conversation: "1:a#1", Seq: 1, Direction: model.In, State: model.Received}
	c.put([]*model.Message{in, out})
	if _, ok := c.get("1:a#1", 1); ok {
		t.Error("an inbound message was cached")
	}
	m, ok := c.get("1:a#1", 2)
	if !ok || m.State != model.Queued {
		t.Fatalf("cached outbound message: %+v, %v", m, ok)
	}
	m.State = model.Read
	if again, _ := c.get("1:a#1", 2); again.State != model.Queued {
		t.Error("changing a copy changed the cache")
	}
	out.State = model.Accepted
	c.put([]*model.Message{out})
	if again, _ := c.get("1:a#1", 2); again.State != model.Accepted {
		t.Errorf("after put: %s, want accepted", again.State)
	}
	for i := range messageCacheSize + 10 {
		c.put([]*model.Message{{Conversation: "1:b#1", Seq: uint64(i), Direction: model.Out}})
	}
	if n := len(c.m); n != messageCacheSize {
		t.Errorf("%d messages cached, want the bound %d", n, messageCacheSize)
	}
}
