package engine

import (
	"context"
	"time"
)

// DedupeRetention is how long inbound message ids are remembered: Meta
// redelivers an unacknowledged webhook for up to 7 days (docs/whatsapp.md
// §1.2), plus a margin.
const DedupeRetention = 7*24*time.Hour + time.Hour

// RunTimers fires due timers every interval of real time until ctx is done,
// and forgets inbound ids older than DedupeRetention and reaches older than
// limits.ReachRetention once an hour. Tests
// call FireDueTimers directly on a ManualClock instead.
func (e *Engine) RunTimers(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastPrune, lastFlows time.Time
	for {
		if _, err := e.FireDueTimers(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("firing timers", "err", err)
		}
		if now := e.clock.Now(); e.shared != nil && now.Sub(lastFlows) >= SharedFlowsRefresh {
			// Another process may have published or archived a flow.
			if err := e.RefreshFlows(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("reading the published flows", "err", err)
			}
			lastFlows = now
		}
		if now := e.clock.Now(); now.Sub(lastPrune) >= time.Hour {
			if n, err := e.store.PruneInbound(ctx, now.Add(-DedupeRetention)); err != nil && ctx.Err() == nil {
				e.log.Error("pruning inbound ids", "err", err)
			} else if n > 0 {
				e.log.Info("pruned inbound ids", "count", n)
			}
			e.pruneReach(ctx, now) // limit.go
			lastPrune = now
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-e.calls.kick: // an http step is due now (calls.go)
		}
	}
}
