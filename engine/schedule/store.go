package schedule

import (
	"context"
	"fmt"
	"time"
)

// Records is where the scheduler keeps schedules, firings and their
// per-contact Sends: the engine's bbolt file (*boltstore.Store,
// engine/boltstore/schedule.go) or PostgreSQL (*pgstore.Store); package
// storetest's Schedules suite pins the contract.
//
// UpdateSchedules runs fn in one transaction, atomic with respect to every
// other UpdateSchedules, in every process sharing the store: that is what
// makes a firing's claim happen once cluster-wide (claimDue reads the
// cursor and writes the firing in one). As with boltstore's Update, fn may
// run more than once: it must compute its writes from the transaction and
// from values it does not change.
type Records interface {
	UpdateSchedules(ctx context.Context, fn func(tx Tx) error) error
	ViewSchedules(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is one transaction over the scheduler's records. Getters return nil
// (no error) for a record that does not exist.
type Tx interface {
	Schedule(id string) (*Schedule, error)
	// Schedules lists every schedule, by id.
	Schedules() ([]*Schedule, error)
	PutSchedule(sc *Schedule) error
	// DeleteSchedule removes a schedule (not its firings), reporting
	// whether there was one.
	DeleteSchedule(id string) (bool, error)

	Firing(id string) (*Firing, error)
	// PutFiring stores a firing; an unfinished one (Status.Finished) is
	// listed by Active until it is stored finished.
	PutFiring(f *Firing) error
	// FiringsOf lists a schedule's firings by id, last first (ids order
	// one schedule's firings by fire time: firingID), up to limit (0: all).
	FiringsOf(schedule string, limit int) ([]*Firing, error)
	// Firings calls fn on every firing, by id, and stops at fn's first
	// error, which it returns.
	Firings(fn func(*Firing) error) error
	// Active lists the unfinished firings, earliest fire time first (ties
	// by id).
	Active() ([]*Firing, error)

	// PutSend stores a firing's record of one contact, replacing the one
	// of the same firing and contact.
	PutSend(firing string, sd *Send) error
	// Sends calls fn on a firing's records, in contact key order, and stops
	// at fn's first error, which it returns.
	Sends(firing string, fn func(*Send) error) error
	// DeleteSends deletes a firing's records.
	DeleteSends(firing string) error
}

// firingID names a firing: schedule id, fire time, and ".now" for Run
// now. The 20-digit time keeps one schedule's firings in time order.
func firingID(schedule string, at time.Time, manual bool) string {
	id := fmt.Sprintf("%s.%020d", schedule, at.UnixNano())
	if manual {
		id += ".now"
	}
	return id
}
