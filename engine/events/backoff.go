package events

import (
	"time"
)

// Retry policy.
const (
	// MaxAge is how long a delivery is retried before it is marked failed:
	// a receiver down for a day still gets every event.
	MaxAge = 24 * time.Hour
	// FirstRetry is the wait after the first failed attempt; each further
	// failure doubles it, up to MaxRetryDelay.
	FirstRetry = 10 * time.Second
	// MaxRetryDelay caps the wait: a receiver back up gets its events
	// within this long. Up to ten minutes, a day of outage costs a
	// contact's waiting delivery about 150 attempts.
	MaxRetryDelay = 10 * time.Minute
	// Jitter spreads retries by up to this fraction either way, so that
	// deliveries failed together do not all come back together.
	Jitter = 0.2
)

// Backoff is the wait after the n-th failed attempt (n >= 1), with r in
// [0, 1) choosing the jitter.
func Backoff(n int, r float64) time.Duration {
	d := FirstRetry
	for i := 1; i < n && d < MaxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, MaxRetryDelay)
	return time.Duration(float64(d) * (1 - Jitter + 2*Jitter*r))
}
