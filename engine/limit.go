package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/engine/limits"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/whatsapp"
)

// The messaging limit (docs/whatsapp.md §4.6): the unique customers a
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

// DefaultMessagingLimit is the tier a new business starts with.
const DefaultMessagingLimit = 250

// limitBlock says why a business-initiated send to c at now may not go, or
// "", with when it may (limitCheck without the reason's kind).
func (e *Engine) limitBlock(ctx context.Context, c *model.Contact, now time.Time) (why string, freeAt time.Time, err error) {
	_, why, freeAt, err = e.limitCheck(ctx, c, now)
	return why, freeAt, err
}

// limitCheck says why a business-initiated send to c at now may not go
// (the messaging limit is reached, or Meta restricted business-initiated
// messaging), or "", with when it may. A send inside the window, to a
// contact already reached in the window, or with no limit is never blocked
// by the limit.
func (e *Engine) limitCheck(ctx context.Context, c *model.Contact, now time.Time) (reason model.BlockReason, why string, freeAt time.Time, err error) {
	if policy.WindowOpen(c, now) {
		return "", "", time.Time{}, nil
	}
	number := c.PhoneNumberID
	if number == "" {
		number = c.Key.PhoneNumberID()
	}
	if until := e.restrictedUntil(number, now); !until.IsZero() {
		return model.BlockRestricted, fmt.Sprintf("Meta restricted business-initiated messaging (%s) until %s",
			whatsapp.RestrictionBizInitiated, until.UTC().Format(time.RFC3339)), until, nil
	}
	scope := e.scopeOf(number)
	sc := e.limits.Scope(scope)
	limit := sc.Limit()
	if limit <= 0 {
		return "", "", time.Time{}, nil
	}
	since := limits.Since(now)
	reached, n, oldest, err := sc.Reach().Check(ctx, e.store, c.Key, since)
	if err != nil || reached || n < limit {
		return "", "", time.Time{}, err
	}
	if e.shared != nil {
		// The cache misses other processes' reaches: one of them may
		// have reached c, who then takes no new place.
		if reached, err = e.store.ReachedSince(ctx, scope, c.Key, since); err != nil || reached {
			return "", "", time.Time{}, err
		}
	}
	return model.BlockLimit, fmt.Sprintf("messaging limit of %d unique customers per 24 h reached", limit), oldest.Add(model.LimitWindow), nil
}

// reachCount is the unique contacts reached in the moving window, for the
// metrics.
func (e *Engine) reachCount() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, _, err := e.ReachUsage(ctx)
	if err != nil {
		return 0
	}
	return float64(n)
}

// ReachUsage is the messaging limit's usage now: the unique customers
// reached outside their window in the moving 24 h, and when the earliest
// of them leaves it (the next place frees; zero when n is 0).
//
// It is the default portfolio's; ReachUsageOf is a number's.
func (e *Engine) ReachUsage(ctx context.Context) (n int, nextFree time.Time, err error) {
	return e.reachUsage(ctx, model.ReachScope)
}

// ReachUsageOf is ReachUsage for the portfolio of business number id.
func (e *Engine) ReachUsageOf(ctx context.Context, id string) (n int, nextFree time.Time, err error) {
	return e.reachUsage(ctx, e.scopeOf(id))
}

func (e *Engine) reachUsage(ctx context.Context, scope string) (n int, nextFree time.Time, err error) {
	var oldest time.Time
	if e.shared != nil {
		// Other processes reach customers too: the store's count, not
		// this process's cache.
		n, oldest, err = e.store.ReachCount(ctx, scope, limits.Since(e.clock.Now()))
	} else {
		_, n, oldest, err = e.limits.Scope(scope).Reach().Check(ctx, e.store, "", limits.Since(e.clock.Now()))
	}
	if err != nil || n == 0 {
		return n, time.Time{}, err
	}
	return n, oldest.Add(model.LimitWindow), nil
}

// MessagingLimit is the limit the engine enforces, 0 for none: the
// default portfolio's (MessagingLimitOf: a number's).
func (e *Engine) MessagingLimit() int { return e.messagingLimit() }

// MessagingLimitOf is the limit enforced for sends from business number
// id: its portfolio's.
func (e *Engine) MessagingLimitOf(id string) int { return e.limits.Scope(e.scopeOf(id)).Limit() }

func (e *Engine) messagingLimit() int { return e.limits.Scope(model.ReachScope).Limit() }

// reachRecorded tells the cache about the reaches of a send's commit: added
// when it committed, forgotten when its outcome is not known.
func (e *Engine) reachRecorded(rs []model.Reach, commitErr error) {
	if len(rs) == 0 {
		return
	}
	for _, scope := range scopesOf(rs) {
		if commitErr != nil {
			e.limits.Scope(scope).Reach().Invalidate()
			continue
		}
		e.limits.Scope(scope).Reach().Add(rs)
	}
}

// scopesOf lists the scopes of rs, each once.
func scopesOf(rs []model.Reach) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Scope) {
			out = append(out, r.Scope)
		}
	}
	return out
}

// pruneReach forgets reaches older than limits.ReachRetention.
func (e *Engine) pruneReach(ctx context.Context, now time.Time) {
	n, err := e.store.PruneReach(ctx, now.Add(-limits.ReachRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Error("pruning the reach log", "err", err)
	case n > 0:
		e.log.Info("pruned the reach log", "count", n)
	}
}
