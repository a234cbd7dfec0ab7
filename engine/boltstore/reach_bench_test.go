package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// benchReaches is the reach log's size in BenchmarkReachCount: a business
// on the 100K tier that used its limit in the last 24 hours.
const benchReaches = 100_000

// BenchmarkReachCount measures the messaging limit's count over a reach log
// of benchReaches entries (unique contacts, spread over 24 h): the scan the
// dispatcher would do for every business-initiated send to a new contact
// without the engine's reach cache (engine/limits/reaches.go).
func BenchmarkReachCount(b *testing.B) {
	ctx := context.Background()
	st, err := Open(filepath.Join(b.TempDir(), "reach.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := t0
	step := model.LimitWindow / benchReaches
	for i := 0; i < benchReaches; i += 1000 {
		rs := make([]model.Reach, 0, 1000)
		for j := i; j < i+1000; j++ {
			rs = append(rs, model.Reach{Scope: model.ReachScope, At: start.Add(time.Duration(j) * step),
				Contact: model.NewContactKey("106540352242922", fmt.Sprintf("49151%07d", j))})
		}
		if err := st.Commit(ctx, &model.Change{At: start, Reached: rs}); err != nil {
			b.Fatal(err)
		}
	}
	since := start.Add(-time.Minute)
	b.ResetTimer()
	for b.Loop() {
		n, _, err := st.ReachCount(ctx, model.ReachScope, since)
		if err != nil || n != benchReaches {
			b.Fatalf("ReachCount: %d, %v", n, err)
		}
	}
}
