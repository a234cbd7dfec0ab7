package auth

import (
	"sync"
	"time"
)

// maxThrottled bounds how many emails the throttle remembers: a spray of
// made-up emails cannot grow it without limit. Past it, entries whose
// failures all left the window are dropped; if none did, the new email is
// not tracked (the others still are).
const maxThrottled = 100_000

// throttle counts failed sign-ins per email in memory: it is forgotten on
// restart and not shared between processes, which is enough to turn an
// online guessing attack from thousands of tries a minute into a handful.
type throttle struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	failures map[string][]time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, failures: map[string][]time.Time{}}
}

// recent drops key's failures that left the window; t.mu is held.
func (t *throttle) recent(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = fs
	return fs
}

// begin counts a sign-in attempt for key as a failure until it succeeds
// (reset), so that concurrent guesses cannot all slip past the check
// before any of them is counted. It returns how long key must wait (0: go
// on); a refused attempt is not counted.
func (t *throttle) begin(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.recent(key, now)
	if len(fs) >= t.max {
		return fs[len(fs)-t.max].Add(t.window).Sub(now)
	}
	if fs == nil && len(t.failures) >= maxThrottled {
		for k := range t.failures {
			t.recent(k, now)
		}
		if len(t.failures) >= maxThrottled {
			return 0
		}
	}
	t.failures[key] = append(fs, now)
	return 0
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}
