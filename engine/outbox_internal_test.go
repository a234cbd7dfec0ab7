package engine

import (
	"testing"
	"time"
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
		pairs: map[ContactKey]*bucket{},
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
