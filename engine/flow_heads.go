package engine

import (
	"context"
	"fmt"
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
	heads := make([]model.FlowHead, 0, len(h.heads))
	for _, r := range h.heads {
		heads = append(heads, r)
	}
	failed := e.setTriggers(ctx, heads)
	if !failed {
		h.mark = next
	}
	return nil
}
