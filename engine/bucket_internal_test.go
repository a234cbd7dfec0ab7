package engine

import (
	"testing"
	"time"
)

// TestBucketRounding: however the refills' floats round, a bucket never
// gives more than its capacity plus its rate over the time elapsed, and a
// take that found no token never answers 0 (which reads as a token
// taken). Regression: a refill short of a whole token by a rounding
// (1.9999999999) made take answer a wait of 0 ns, and the dispatcher sent
// without a token, every time, while its clock stood still.
func TestBucketRounding(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	for _, tc := range []struct {
		name string
		rate float64
		step time.Duration
	}{
		{"20/s, steps of 5 ms", 20, 5 * time.Millisecond},
		{"20/s, steps of 50 ms", 20, 50 * time.Millisecond},
		{"10/s, steps of 3 ms", 10, 3 * time.Millisecond},
		{"26.67/s (80 by 3), steps of 7 ms", 80.0 / 3, 7 * time.Millisecond},
		{"0.5/s, steps of 100 ms", 0.5, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket(max(1, tc.rate), tc.rate, t0)
			now, taken := t0, 0
			for range 20_000 {
				// Many takes at one instant: as a round does through
				// a backlog while the clock stands still.
				for range 5 {
					if b.take(now) != 0 {
						break
					}
					taken++
				}
				if allowed := max(1, tc.rate) + tc.rate*now.Sub(t0).Seconds(); float64(taken) > allowed+1e-6 {
					t.Fatalf("at +%v: %d taken, %.3f allowed", now.Sub(t0), taken, allowed)
				}
				now = now.Add(tc.step)
			}
			if want := tc.rate * now.Sub(t0).Seconds(); float64(taken) < want*0.99 {
				t.Errorf("%d taken in %v, want about %.0f", taken, now.Sub(t0), want)
			}
		})
	}
}
