package model

import "context"

// FlowHead is what of a flow record decides whether its triggers start
// conversations: its latest published version (0 if none) and whether it
// is archived. Drafts are not part of it.
type FlowHead struct {
	ID        string
	Published int
	Archived  bool
}

// FlowHeads is a Store that tells cheaply which flow records changed
// (package pgstore). With one, the engine reads the published flows
// (RefreshFlows, every SharedFlowsRefresh with a SharedStore; Publish and
// Archive) through it instead of reading every record with its draft: one
// small read when nothing changed, the heads of what did otherwise.
type FlowHeads interface {
	// FlowHeadsSince returns the heads of the flow records written after
	// mark, a value it returned before (0: every record), and the mark to
	// give next time. When nothing was written since mark it returns no
	// head and mark itself.
	FlowHeadsSince(ctx context.Context, mark uint64) (heads []FlowHead, next uint64, err error)
}
