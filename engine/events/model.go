package events

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Errors of the Service.
var (
	// ErrNotFound is returned for a subscription or delivery that does
	// not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid marks an error of the caller's input (a bad URL, an
	// unknown event type): the API answers 400 for it.
	ErrInvalid = errors.New("invalid subscription")
)

// Subscription is a URL that receives some event types.
type Subscription struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Types are the event types it wants; empty means all.
	Types       []model.EventType `json:"types,omitempty"`
	Enabled     bool              `json:"enabled"`
	Description string            `json:"description,omitempty"`
	// SealedSecret is the signing secret, sealed under the secrets key
	// (secret.go); it is never shown after creation. SecretHint is its
	// last four characters, to tell secrets apart.
	SealedSecret []byte    `json:"sealed_secret"`
	SecretHint   string    `json:"secret_hint"`
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
	UpdatedBy    string    `json:"updated_by,omitempty"`
}

// Wants reports whether the subscription takes events of type t.
func (s *Subscription) Wants(t model.EventType) bool {
	return s.Enabled && (len(s.Types) == 0 || slices.Contains(s.Types, t))
}

// State is where a delivery stands.
type State string

// Delivery states.
const (
	// Pending: to be attempted (at NextAt), or waiting for an earlier
	// delivery of the same contact (NextAt zero).
	Pending   State = "pending"
	Delivered State = "delivered"
	// Failed: every attempt failed until GiveUpAt; a replay tries again.
	Failed State = "failed"
)

// MaxAttemptsKept bounds the attempts a delivery keeps (the latest ones);
// Attempts counts them all.
const MaxAttemptsKept = 10

// Attempt is one POST of a delivery.
type Attempt struct {
	At time.Time `json:"at"`
	// Status is the receiver's HTTP status, 0 when none came (a refused
	// connection, a timeout).
	Status int `json:"status,omitempty"`
	// Error says why the attempt failed; empty for a 2xx.
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Delivery is one event to one subscription.
type Delivery struct {
	// Seq is the delivery's number, given by the store: it orders
	// deliveries, and a contact's deliveries go in Seq order.
	Seq          uint64      `json:"seq"`
	Subscription string      `json:"subscription"`
	Event        model.Event `json:"event"`
	// OrderKey groups the deliveries that must arrive in order: the
	// event's contact key (its conversation id, else its id, when it has
	// none).
	OrderKey string    `json:"order_key"`
	State    State     `json:"state"`
	Attempts []Attempt `json:"attempts,omitempty"`
	// AttemptCount counts every attempt, Attempts keeps the latest.
	AttemptCount int `json:"attempt_count"`
	// NextAt is when a pending delivery is next attempted; zero while it
	// waits for an earlier delivery of its OrderKey.
	NextAt    time.Time `json:"next_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// GiveUpAt is when a delivery still failing is marked failed.
	GiveUpAt time.Time `json:"give_up_at"`
	DoneAt   time.Time `json:"done_at,omitzero"`
}

// LastAttempt returns the latest attempt, if any.
func (d *Delivery) LastAttempt() (Attempt, bool) {
	if len(d.Attempts) == 0 {
		return Attempt{}, false
	}
	return d.Attempts[len(d.Attempts)-1], true
}

// orderKey is the key an event's deliveries are ordered by.
func orderKey(ev *model.Event) string {
	switch {
	case ev.Contact != "":
		return string(ev.Contact)
	case ev.Conversation != "":
		return ev.Conversation
	}
	return ev.ID
}

// Store keeps subscriptions and deliveries, beside the engine's event log
// (model.EventLog). *boltstore.Store implements it in the data file;
// another backend implements the same operations, each atomic.
type Store interface {
	model.EventLog

	// PutSubscription stores s, replacing the one of the same id.
	PutSubscription(ctx context.Context, s Subscription) error
	// Subscription returns one subscription; ok is false when there is none.
	Subscription(ctx context.Context, id string) (s Subscription, ok bool, err error)
	// Subscriptions lists every subscription, by id.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteSubscription deletes a subscription and all its deliveries;
	// ok is false when there was none.
	DeleteSubscription(ctx context.Context, id string) (ok bool, err error)

	// Enqueue, in one transaction, stores ds as new deliveries (giving
	// each its Seq, in order) and drops the logged events with Seq <=
	// upTo. When no logged event <= upTo is left (the same batch was
	// enqueued before), it does nothing. A delivery whose OrderKey has a
	// pending delivery of the same subscription already waits behind it:
	// it is stored with NextAt zero, whatever ds says.
	Enqueue(ctx context.Context, upTo uint64, ds []Delivery) error
	// Due returns up to limit pending deliveries with NextAt at or before
	// now, earliest first: only the first pending delivery of each
	// (subscription, OrderKey) is ever due.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// NextDue returns the earliest NextAt of a pending delivery, if any.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Delivery returns one delivery; ok is false when there is none.
	Delivery(ctx context.Context, seq uint64) (d Delivery, ok bool, err error)
	// UpdateDelivery records an attempt's outcome: d replaces the stored
	// delivery of its Seq, which must be pending (else nothing is done and
	// ok is false: it was deleted meanwhile). When d is no longer pending,
	// the next pending delivery of its (subscription, OrderKey), if any,
	// becomes due at d.DoneAt.
	UpdateDelivery(ctx context.Context, d Delivery) (ok bool, err error)
	// Deliveries lists a subscription's deliveries, newest first, with
	// Seq < before (0: from the newest), up to limit; state "" lists all.
	Deliveries(ctx context.Context, sub string, state State, before uint64, limit int) ([]Delivery, error)
	// Replay makes deliveries of sub that are not pending pending again
	// from now, to be given up at giveUp: those of seqs, or with seqs nil
	// every failed one. A replayed delivery whose OrderKey has pending
	// deliveries waits for the one due (or being attempted), then goes
	// before the others, by its Seq. It returns how many it replayed.
	Replay(ctx context.Context, sub string, seqs []uint64, now, giveUp time.Time) (int, error)
	// Hurry makes the pending deliveries of sub that wait for a retry
	// later than now due at now, and returns how many it moved: a
	// receiver that answers again after failing is likely back for all
	// of them.
	Hurry(ctx context.Context, sub string, now time.Time) (int, error)
	// CountPending counts the pending deliveries (due, retrying or
	// waiting their turn), stopping at max: the queue's depth.
	CountPending(ctx context.Context, max int) (int, error)
	// PruneDeliveries deletes the delivered and failed deliveries created
	// before before and returns how many; pending ones stay.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
}

// Claimer is a Store that several processes share (PostgreSQL): each
// delivery is posted by one process at a time. The Service of a Claimer
// takes its due deliveries with ClaimDue, never Due, reads the
// subscriptions again as they may change in another process, and claims
// no more than it has room to post at once.
type Claimer interface {
	// ClaimDue claims up to limit due deliveries (as Due returns them)
	// that no other live claim holds, for this store's owner until now
	// plus a lease longer than an attempt, and returns them, earliest
	// first. UpdateDelivery ends the claim; a claim whose process died
	// runs out, and another process claims the delivery again.
	ClaimDue(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
}
