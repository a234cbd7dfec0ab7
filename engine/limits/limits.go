package limits

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Since is the first instant of the moving window ending at now: a reach
// exactly model.LimitWindow old has left it.
func Since(now time.Time) time.Time { return now.Add(-model.LimitWindow + time.Nanosecond) }

// State is the business's messaging limits, one per business portfolio
// (reach scope), and the restrictions of business-initiated messaging Meta
// put on its accounts. Its zero value enforces no limit and knows of no
// restriction; Configure sets the configured limit. It is safe for
// concurrent use once configured.
type State struct {
	configured int
	pinned     bool

	scopesMu sync.Mutex
	scopes   map[string]*Scope // reach scope → its limit and reach

	restrictMu sync.Mutex
	// restricted is, by account (a WABA id, or "" for every account),
	// when a restriction of business-initiated messaging ends.
	restricted map[string]time.Time
}

// Configure sets the limit every portfolio starts with (0: none), before
// any Scope is made; pinned keeps it whatever tier Meta announces
// (LearnTier).
func (l *State) Configure(configured int, pinned bool) {
	l.configured, l.pinned = max(configured, 0), pinned
}

// Scope is one portfolio's messaging limit and its reach.
type Scope struct {
	limit    atomic.Int64
	fromMeta atomic.Bool
	reach    *Reaches
}

// Limit is the portfolio's limit, 0 for none.
func (sc *Scope) Limit() int { return int(sc.limit.Load()) }

// FromMeta reports whether the limit is a tier Meta announced, not the
// configured one.
func (sc *Scope) FromMeta() bool { return sc.fromMeta.Load() }

// Reach is the moving window of the portfolio's reach log.
func (sc *Scope) Reach() *Reaches { return sc.reach }

// Pinned reports whether the configured limit holds whatever Meta
// announces.
func (l *State) Pinned() bool { return l.pinned }

// Scope returns the state of a reach scope, made on first use with the
// configured limit.
func (l *State) Scope(name string) *Scope {
	l.scopesMu.Lock()
	defer l.scopesMu.Unlock()
	if l.scopes == nil {
		l.scopes = map[string]*Scope{}
	}
	sc := l.scopes[name]
	if sc == nil {
		sc = &Scope{reach: NewReaches(name)}
		sc.limit.Store(int64(l.configured))
		l.scopes[name] = sc
	}
	return sc
}

// LearnTier makes a tier from Meta the enforced limit of a portfolio,
// unless pinned.
func (l *State) LearnTier(scope string, limit int) {
	if l.pinned {
		return
	}
	sc := l.Scope(scope)
	sc.limit.Store(int64(max(limit, 0)))
	sc.fromMeta.Store(true)
}

// Restrict records that business-initiated messaging from account (a
// WABA id; "" for every account) is restricted until until. A shorter
// restriction than one recorded changes nothing.
func (l *State) Restrict(account string, until time.Time) {
	l.restrictMu.Lock()
	defer l.restrictMu.Unlock()
	if l.restricted == nil {
		l.restricted = map[string]time.Time{}
	}
	if until.After(l.restricted[account]) {
		l.restricted[account] = until
	}
}

// RestrictedUntil is the end of a restriction of business-initiated
// messaging from a number of account (a WABA id; "" when not known) in
// force at now, or zero: the account's, or one on every account.
func (l *State) RestrictedUntil(account string, now time.Time) time.Time {
	l.restrictMu.Lock()
	defer l.restrictMu.Unlock()
	until := l.restricted[""]
	if account != "" && l.restricted[account].After(until) {
		until = l.restricted[account]
	}
	if !now.Before(until) {
		return time.Time{}
	}
	return until
}
