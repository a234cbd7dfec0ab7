package templates

import "time"

// Clock tells the registry the time: engine.Clock is one, and tests move
// a manual one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
