package engine

import (
	"sync"
	"time"
)

// Clock tells the time. Everything in the engine that depends on time (the
// window, timeouts, expiry, schedules) reads it from a Clock, so tests move
// a ManualClock instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a clock that moves only when told to. It is safe for
// concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (never backwards).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ScaledClock runs factor times as fast as the wall clock from the moment
// it was made: the dispatcher's pacing and backoff on it live through a
// ten-minute outage in seconds, in tests and load runs that must not wait
// for real minutes to pass.
type ScaledClock struct {
	start  time.Time
	factor float64
}

// NewScaledClock returns a clock running factor times as fast as the wall.
func NewScaledClock(factor float64) *ScaledClock {
	return &ScaledClock{start: time.Now(), factor: factor}
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.factor))
}
