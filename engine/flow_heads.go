package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/parleyhq/parley/engine/model"
)

// flowHeads is what the engine knows of the flow records through a
// model.FlowHeads store: every head read so far and the mark they are up to.
type flowHeads struct {
	mu    sync.Mutex // one refresh at a time
	mark  uint64
	heads map[string]model.FlowHead
}

// loadTriggersSince is loadTriggers through a FlowHeads store: it reads
// the heads changed since the last refresh and, when any did, sets the
// triggers anew from every head known. Parsed versions are cached
// (Engine.Flow), so only a version not seen yet is read. A version that
// cannot be loaded leaves the mark where it was, so the next refresh
// tries it again.
func (e *Engine) loadTriggersSince(ctx context.Context, fh model.FlowHeads) error {
	h := &e.heads
	h.mu.Lock()
	defer h.mu.Unlock()
	changed, next, err := fh.FlowHeadsSince(ctx, h.mark)
	if err != nil {
		return fmt.Errorf("loading flows: %w", err)
	}
	if h.heads != nil && len(changed) == 0 && next == h.mark {
		return nil
	}
	if h.heads == nil {
		h.heads = map[string]model.FlowHead{}
	}
	for _, r := range changed {
		h.heads[r.ID] = r
	}
	ids := make([]string, 0, len(h.heads))
	for id := range h.heads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var live []flowVersion
	failed := false
	for _, id := range ids {
		r := h.heads[id]
		if r.Published == 0 || r.Archived {
			continue
		}
		f, err := e.Flow(ctx, r.ID, r.Published)
		if err != nil {
			e.log.Error("published flow cannot be loaded; its triggers are off", "flow", r.ID, "err", err)
			failed = true
			continue
		}
		if len(f.Triggers) > 0 {
			live = append(live, flowVersion{f, r.Published})
		}
	}
	e.flowMu.Lock()
	e.triggers = live
	e.flowMu.Unlock()
	if !failed {
		h.mark = next
	}
	return nil
}
