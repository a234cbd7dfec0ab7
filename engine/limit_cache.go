package engine

import (
	"context"
	"fmt"
	"github.com/parleyhq/parley/engine/model"
	"slices"
	"sync"
	"time"
)

// The reach cache: the messaging limit's count without a scan.
//
// Store.ReachCount scans the reach log of the moving 24 h; at 100,000
// reaches (the 100K tier in use) that is about 30 ms and 16 MB of garbage
// per call (BenchmarkReachCount in engine/boltstore), and the dispatcher
// asks for every business-initiated send to a new contact, under reachMu:
// a 5,000-contact schedule would spend minutes counting. So the engine
// keeps the moving window in memory: each contact's latest reach, and the
// reaches in time order to see them leave the window. Loaded from the
// store once (Store.Reaches), it is kept current by the dispatcher, the one
// writer of reaches, after each commit that records one; a commit whose
// outcome is unknown drops it, and the next check loads it again.
// BenchmarkReachCacheCheck measures a check.

// ReachRetention is how long reaches are kept in the store: the moving
// window and a margin, so that a clock that jumps a little does not forget
// a reach that still counts. RunTimers prunes older ones once an hour.
const ReachRetention = model.LimitWindow + time.Hour

// reachCache is the moving window of the reach log of one scope.
type reachCache struct {
	scope  string
	mu     sync.Mutex
	loaded bool
	// from is the earliest time the cache holds reaches for: a check with
	// an earlier since (a clock set back) loads it again.
	from   time.Time
	latest map[model.ContactKey]time.Time
	// queue holds the reaches in time order; its front is dropped as the
	// window moves on, and entries superseded by a later reach of the
	// same contact are skipped there.
	queue []model.Reach
}

// check reports whether contact (if not "") has a reach at or after since,
// the unique contacts reached since, and the earliest of their latest
// reaches (zero when n is 0).
func (rc *reachCache) check(ctx context.Context, st model.Store, contact model.ContactKey, since time.Time) (reached bool, n int, oldest time.Time, err error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.loaded || since.Before(rc.from) {
		if err := rc.load(ctx, st, since); err != nil {
			return false, 0, time.Time{}, err
		}
	}
	rc.evict(since)
	if contact != "" {
		at, ok := rc.latest[contact]
		reached = ok && !at.Before(since)
	}
	if len(rc.queue) > 0 {
		oldest = rc.queue[0].At
	}
	return reached, len(rc.latest), oldest, nil
}

func (rc *reachCache) load(ctx context.Context, st model.Store, since time.Time) error {
	rs, err := st.Reaches(ctx, rc.scope, since)
	if err != nil {
		return fmt.Errorf("loading the reach log: %w", err)
	}
	rc.latest, rc.queue, rc.from, rc.loaded = map[model.ContactKey]time.Time{}, rs, since, true
	for _, r := range rs {
		if r.At.After(rc.latest[r.Contact]) {
			rc.latest[r.Contact] = r.At
		}
	}
	return nil
}

// evict drops from the front of the queue what is older than since and
// what a later reach of the same contact superseded, so that the front is
// the earliest latest reach.
func (rc *reachCache) evict(since time.Time) {
	i := 0
	for ; i < len(rc.queue); i++ {
		r := rc.queue[i]
		latest, ok := rc.latest[r.Contact]
		if !ok || latest.After(r.At) {
			continue // superseded (or already gone)
		}
		if !r.At.Before(since) {
			break
		}
		delete(rc.latest, r.Contact)
	}
	if i > 0 {
		rc.queue = append(rc.queue[:0:0], rc.queue[i:]...)
	}
	if since.After(rc.from) {
		rc.from = since
	}
}

// add records reaches just committed.
func (rc *reachCache) add(rs []model.Reach) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.loaded {
		return // the next check loads them from the store
	}
	for _, r := range rs {
		if r.Scope != rc.scope {
			continue
		}
		if r.At.After(rc.latest[r.Contact]) {
			rc.latest[r.Contact] = r.At
		}
		// Reaches come in time order but for clock skew between sends:
		// keep the queue sorted.
		i := len(rc.queue)
		for i > 0 && rc.queue[i-1].At.After(r.At) {
			i--
		}
		rc.queue = slices.Insert(rc.queue, i, r)
	}
}

// invalidate forgets the cache: the next check loads it from the store.
func (rc *reachCache) invalidate() {
	rc.mu.Lock()
	rc.loaded, rc.latest, rc.queue = false, nil, nil
	rc.mu.Unlock()
}

// reachRecorded tells the cache about the reaches of a send's commit: added
// when it committed, forgotten when its outcome is not known.
func (e *Engine) reachRecorded(rs []model.Reach, commitErr error) {
	if len(rs) == 0 {
		return
	}
	for _, scope := range scopesOf(rs) {
		if commitErr != nil {
			e.scope(scope).reach.invalidate()
			continue
		}
		e.scope(scope).reach.add(rs)
	}
}

// scopesOf lists the scopes of rs, each once.
func scopesOf(rs []model.Reach) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Scope) {
			out = append(out, r.Scope)
		}
	}
	return out
}

// pruneReach forgets reaches older than ReachRetention.
func (e *Engine) pruneReach(ctx context.Context, now time.Time) {
	n, err := e.store.PruneReach(ctx, now.Add(-ReachRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Error("pruning the reach log", "err", err)
	case n > 0:
		e.log.Info("pruned the reach log", "count", n)
	}
}
