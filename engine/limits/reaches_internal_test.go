package limits

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// reachLog is a Store that holds only a reach log.
type reachLog struct {
	model.Store
	rs []model.Reach
}

func (l *reachLog) Reaches(_ context.Context, scope string, since time.Time) ([]model.Reach, error) {
	var out []model.Reach
	for _, r := range l.rs {
		if r.Scope == scope && !r.At.Before(since) {
			out = append(out, r)
		}
	}
	return out, nil
}

// bruteCount is ReachCount's contract, the slow way.
func bruteCount(rs []model.Reach, since time.Time) (int, time.Time) {
	latest := map[model.ContactKey]time.Time{}
	for _, r := range rs {
		if r.Scope == model.ReachScope && !r.At.Before(since) && r.At.After(latest[r.Contact]) {
			latest[r.Contact] = r.At
		}
	}
	var oldest time.Time
	for _, at := range latest {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	return len(latest), oldest
}

// The cache agrees with a full count at every step of a random walk:
// reaches of a few contacts (so many repeat), some out of order, some of
// another scope, with the window moving on.
func TestReachCacheAgreesWithTheLog(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	log := &reachLog{}
	rc := NewReaches(model.ReachScope)
	now := start
	for step := range 3000 {
		now = now.Add(time.Duration(rng.IntN(120)) * time.Minute / 10)
		if rng.IntN(3) > 0 {
			r := model.Reach{Scope: model.ReachScope, At: now.Add(-time.Duration(rng.IntN(3)) * time.Second), Contact: model.ContactKey(fmt.Sprint(rng.IntN(40)))}
			if rng.IntN(10) == 0 {
				r.Scope = "other"
			}
			log.rs = append(log.rs, r)
			rc.Add([]model.Reach{r})
		}
		if step == 1500 {
			rc.Invalidate() // an unknown commit outcome: reloaded from the log
		}
		since := Since(now)
		who := model.ContactKey(fmt.Sprint(rng.IntN(40)))
		reached, n, oldest, err := rc.Check(ctx, log, who, since)
		if err != nil {
			t.Fatal(err)
		}
		wn, wold := bruteCount(log.rs, since)
		wreached := false
		for _, r := range log.rs {
			if r.Scope == model.ReachScope && r.Contact == who && !r.At.Before(since) {
				wreached = true
			}
		}
		if n != wn || !oldest.Equal(wold) || reached != wreached {
			t.Fatalf("step %d: cache %d, %v, reached %v; log %d, %v, reached %v", step, n, oldest, reached, wn, wold, wreached)
		}
	}
}

// BenchmarkReachCacheCheck is the dispatcher's limit check with the cache,
// over the same 100,000 reaches as BenchmarkReachCount in engine/boltstore.
func BenchmarkReachCacheCheck(b *testing.B) {
	const reaches = 100_000
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	step := model.LimitWindow / reaches
	log := &reachLog{}
	for i := range reaches {
		log.rs = append(log.rs, model.Reach{Scope: model.ReachScope, At: start.Add(time.Duration(i) * step), Contact: model.ContactKey(fmt.Sprintf("106540352242922:49151%07d", i))})
	}
	rc := NewReaches(model.ReachScope)
	ctx := context.Background()
	since := start.Add(-time.Minute)
	if _, n, _, err := rc.Check(ctx, log, "", since); err != nil || n != reaches {
		b.Fatalf("load: %d, %v", n, err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, n, _, _ := rc.Check(ctx, log, "106540352242922:491510000001", since); n != reaches {
			b.Fatalf("count %d", n)
		}
	}
}
