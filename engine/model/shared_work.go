package model

import (
	"context"
	"time"
)

// Work that the processes sharing one store (SharedStore) divide between
// them: a store that offers these, pgstore, lets each process do its part
// only; one that does not has one process, which does all of it.

// TimerClaimer is a Store whose due timers are claimed by one process at
// a time: the engine's FireDueTimers fires the timers it claimed rather
// than every due timer (DueTimers), so that processes sharing the store
// fire different timers instead of all reading, locking and dropping the
// same ones.
//
// A claim is a lease, its owner (the store's process) and an expiry: a
// claim whose process died runs out and the timer is claimed by another.
// Claims are only a division of the work: a timer fired twice (a lease
// that ran out under a slow turn) does no harm, as the turn holds the
// contact's lock and finds the timer gone from its conversation.
type TimerClaimer interface {
	// ClaimTimers claims up to limit timers due at or before now that no
	// other owner's claim holds at now, until now plus lease, and returns
	// them earliest first (DueTimers' order). The owner's own claims are
	// claimed again, so that a timer it could not fire yet (an http step
	// waiting for a place) stays its, as does what its earlier run left
	// when it restarts under the same name. A claimed timer stays until a
	// Commit deletes it, as with DueTimers. limit <= 0 means no limit.
	ClaimTimers(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Timer, error)
}

// Peers is a store that knows which processes are sending from it: the
// engine's dispatcher of each paces every business number at the
// number's rate divided by the processes live (the engine's
// shared_work.go), so that together they keep to Meta's throughput per
// number.
type Peers interface {
	// Heartbeat records the store's process live from now until now plus
	// ttl, and returns how many processes are live at now, itself
	// included, and since when it has been live without a gap (a beat
	// after its last one ran out starts a new stretch).
	Heartbeat(ctx context.Context, now time.Time, ttl time.Duration) (live int, since time.Time, err error)
	// Leave records the store's process as no longer sending.
	Leave(ctx context.Context) error
}
