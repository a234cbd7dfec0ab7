package engine

import (
	"context"
	"fmt"
	"time"
)

// The messaging limit (spec/whatsapp.md §4.6): the unique customers a
// business may reach OUTSIDE their 24-hour window in a moving 24 hours, set
// for the business portfolio and shared by its numbers (tiers 250, 2,000,
// 10,000, 100,000, unlimited). Meta names no error code for it, so Parley
// keeps the count itself and never sends what would pass it.
//
// Every business-initiated send (a message to a contact whose window is
// closed, in practice a template) is logged as a Reach in the same commit
// that marks it sending. A contact counts once however often they are
// reached: the count is of unique contacts with a reach in the last
// LimitWindow. At flow time a template that would reach a new contact past
// the limit takes on_blocked (runner.check); at dispatch time, where the
// count is authoritative, such a message is held, neither sent nor failed,
// until the oldest counted reach leaves the window (Dispatcher.send).

// ReachScope is the scope reaches are counted in: the business portfolio,
// whose numbers share one limit.
const ReachScope = "default"

// LimitWindow is the moving window the messaging limit counts over.
const LimitWindow = 24 * time.Hour

// DefaultMessagingLimit is the tier a new business starts with.
const DefaultMessagingLimit = 250

// limitBlock says why a business-initiated send to c at now would pass the
// messaging limit, or "", with when capacity returns. A send inside the
// window, to a contact already reached in the window, or with no limit is
// never blocked.
func (e *Engine) limitBlock(ctx context.Context, c *Contact, now time.Time) (why string, freeAt time.Time, err error) {
	if e.limit <= 0 || WindowOpen(c, now) {
		return "", time.Time{}, nil
	}
	since := limitSince(now)
	reached, err := e.store.ReachedSince(ctx, ReachScope, c.Key, since)
	if err != nil || reached {
		return "", time.Time{}, err
	}
	n, oldest, err := e.store.ReachCount(ctx, ReachScope, since)
	if err != nil || n < e.limit {
		return "", time.Time{}, err
	}
	return fmt.Sprintf("messaging limit of %d unique customers per 24 h reached", e.limit), oldest.Add(LimitWindow), nil
}

// limitSince is the first instant of the moving window ending at now: a
// reach exactly LimitWindow old has left it.
func limitSince(now time.Time) time.Time { return now.Add(-LimitWindow + time.Nanosecond) }

// reachCount is the unique contacts reached in the moving window, for the
// metrics.
func (e *Engine) reachCount() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, _, err := e.store.ReachCount(ctx, ReachScope, limitSince(e.clock.Now()))
	if err != nil {
		return 0
	}
	return float64(n)
}

// MessagingLimit is the limit the engine enforces, 0 for none.
func (e *Engine) MessagingLimit() int { return e.limit }
