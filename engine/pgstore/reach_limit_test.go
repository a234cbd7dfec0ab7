package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
)

// reach commits a reach of contact at at with limit.
func reach(t *testing.T, st engine.Store, contact string, at int, limit int) error {
	return st.Commit(t.Context(), &engine.Change{At: t0, Reached: []engine.Reach{{
		Scope: engine.ReachScope, At: t0.Add(time.Duration(at) * time.Hour), Contact: engine.ContactKey(contact), Limit: limit}}})
}

// TestReachLimitAcrossProcesses: two processes racing to reach more
// distinct contacts than the limit record exactly the limit; the rest are
// refused with ErrOverLimit and record nothing.
func TestReachLimitAcrossProcesses(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	const limit, each = 20, 40
	var ok, over atomic.Int32
	var wg sync.WaitGroup
	for p, st := range []engine.Store{a, b} {
		for w := range 4 { // several senders in each process
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < each; i += 4 {
					err := reach(t, st, fmt.Sprintf("100:p%d-%d", p, i), 0, limit)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, engine.ErrOverLimit):
						over.Add(1)
					default:
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	if ok.Load() != limit || over.Load() != 2*each-limit {
		t.Errorf("reached %d, refused %d; want %d and %d", ok.Load(), over.Load(), limit, 2*each-limit)
	}
	n, _, err := a.ReachCount(t.Context(), engine.ReachScope, t0.Add(-engine.LimitWindow))
	if err != nil || n != limit {
		t.Fatalf("ReachCount = %d, %v; want %d", n, err, limit)
	}
}

// TestReachLimitRules: at the limit, a contact already reached in the
// window may be reached again, a new one may not; a reach without Limit is
// recorded whatever the count; a place frees when the oldest reach leaves
// the window.
func TestReachLimitRules(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	if err := reach(t, a, "100:1", 0, 2); err != nil {
		t.Fatal(err)
	}
	if err := reach(t, b, "100:2", 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := reach(t, a, "100:3", 2, 2); !errors.Is(err, engine.ErrOverLimit) {
		t.Fatalf("a third contact = %v, want ErrOverLimit", err)
	}
	if err := reach(t, b, "100:1", 2, 2); err != nil {
		t.Fatalf("a contact reached in the window again = %v", err)
	}
	if err := reach(t, b, "100:4", 2, 0); err != nil {
		t.Fatalf("a reach without a limit = %v", err)
	}
	// 24 h after the first reach of 100:2 (hour 1), only 100:1 (hour 2)
	// and 100:4 (hour 2) are in the window: full for a limit of 2, and a
	// limit of 3 has a place.
	if err := reach(t, a, "100:5", 25, 2); !errors.Is(err, engine.ErrOverLimit) {
		t.Fatalf("at hour 25, limit 2 = %v, want ErrOverLimit", err)
	}
	if err := reach(t, a, "100:5", 25, 3); err != nil {
		t.Fatalf("at hour 25, limit 3 = %v", err)
	}
	if ok, err := b.ReachedSince(t.Context(), engine.ReachScope, "100:3", t0); err != nil || ok {
		t.Fatalf("the refused reach was recorded (%v, %v)", ok, err)
	}
}
