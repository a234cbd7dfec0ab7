package limits

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine/model"
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

// ReachLog is where Reaches loads a scope's reaches from: the Store.
type ReachLog interface {
	// Reaches returns every Reach of scope at or after since, oldest
	// first (model.Store.Reaches).
	Reaches(ctx context.Context, scope string, since time.Time) ([]model.Reach, error)
}

// Reaches is the moving window of the reach log of one scope (above). Its
// zero value is not usable: NewReaches makes one.
type Reaches struct {
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

// NewReaches returns the empty window of scope's reach log: its first
// Check loads it.
func NewReaches(scope string) *Reaches { return &Reaches{scope: scope} }

// Check reports whether contact (if not "") has a reach at or after since,
// the unique contacts reached since, and the earliest of their latest
// reaches (zero when n is 0).
func (rc *Reaches) Check(ctx context.Context, st ReachLog, contact model.ContactKey, since time.Time) (reached bool, n int, oldest time.Time, err error) {
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

func (rc *Reaches) load(ctx context.Context, st ReachLog, since time.Time) error {
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
func (rc *Reaches) evict(since time.Time) {
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

// Add records reaches just committed; those of other scopes are skipped.
func (rc *Reaches) Add(rs []model.Reach) {
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

// Invalidate forgets the cache: the next Check loads it from the store.
func (rc *Reaches) Invalidate() {
	rc.mu.Lock()
	rc.loaded, rc.latest, rc.queue = false, nil, nil
	rc.mu.Unlock()
}
