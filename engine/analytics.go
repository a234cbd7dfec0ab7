package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Flow analytics: as conversations run, the engine counts per flow
// version, node and UTC day how many conversations entered each node,
// which exits they took, where they stopped (ended, expired, failed), and
// how each node's messages fared (sent, delivered, read, failed). The
// counts ride in the Change of the event that caused them (Change.Counts),
// so they are exact: committed with the event or not at all, never twice
// for a redelivered webhook.

// count adds one to a counter of the turn's conversation's flow.
func (t *turn) count(node string, kind model.CountKind, exit string) {
	if t.conv == nil || node == "" {
		return
	}
	t.countFor(t.conv.Flow, t.conv.Version, node, kind, exit)
}

// countFor adds one to a counter. The counts of one event are aggregated:
// one increment per distinct counter in its Change.
func (t *turn) countFor(flow string, version int, node string, kind model.CountKind, exit string) {
	for i := range t.change.Counts {
		c := &t.change.Counts[i]
		if c.Kind == kind && c.Node == node && c.Exit == exit && c.Version == version && c.Flow == flow {
			c.N++
			return
		}
	}
	if t.change.Counts == nil {
		// One event's counts: an entry and an exit per node it ran.
		t.change.Counts = make([]model.Count, 0, 8)
	}
	t.change.Counts = append(t.change.Counts, model.Count{Flow: flow, Version: version, Node: node, Kind: kind, Exit: exit, N: 1})
}

// finishCount is the drop-off counter of a final status.
var finishCount = map[model.Status]model.CountKind{model.Ended: model.CountEnded, model.Expired: model.CountExpired, model.Failed: model.CountFailed}

// countMove counts what a bot message's move from state from to m.State
// achieved. Sent counts once a message is accepted by WhatsApp (or
// further, short of failing); delivered and read when first reached, even
// if an earlier state was skipped; failed when the message fails, which
// it does once (states only move forward, and a failed message that is
// later delivered — Meta reports per device — is counted delivered too).
func (t *turn) countMove(m *model.Message, from model.MessageState) {
	if m.Direction != model.Out || m.Node == "" || m.State == from {
		return
	}
	was, now := from.Rank(), m.State.Rank()
	var kinds [3]model.CountKind
	n := 0
	switch {
	case m.State == model.SendFailed:
		kinds[n] = model.CountSendFailed
		n++
	case now > was:
		if was < model.Accepted.Rank() && now >= model.Accepted.Rank() && from != model.SendFailed {
			kinds[n] = model.CountSent
			n++
		}
		if was < model.Delivered.Rank() && now >= model.Delivered.Rank() {
			kinds[n] = model.CountDelivered
			n++
		}
		if m.State == model.Read {
			kinds[n] = model.CountRead
			n++
		}
	}
	if n == 0 {
		return
	}
	flow, version := "", 0
	if t.conv != nil && t.conv.ID == m.Conversation {
		flow, version = t.conv.Flow, t.conv.Version
	} else if f, v, ok := t.e.cache.endedFlow(m.Contact, m.Conversation); ok {
		// The contact's last conversation, ended (statuses often come
		// after the last message of a flow).
		flow, version = f, v
	} else {
		// An older conversation: one more read, only for such messages.
		conv, err := t.e.store.Conversation(t.ctx, m.Conversation)
		if err != nil {
			t.e.log.Error("analytics: loading the conversation of a message", "conversation", m.Conversation, "err", err)
			return
		}
		flow, version = conv.Flow, conv.Version
	}
	for _, k := range kinds[:n] {
		t.countFor(flow, version, m.Node, k, "")
	}
}

// NodeStats are one node's analytics over a range of days.
type NodeStats struct {
	Entered uint64            `json:"entered"`
	Exits   map[string]uint64 `json:"exits"`
	Dropped DropStats         `json:"dropped"`
	Sends   SendStats         `json:"sends"`
}

// DropStats count the conversations that finished at a node.
type DropStats struct {
	Ended   uint64 `json:"ended"`
	Expired uint64 `json:"expired"`
	Failed  uint64 `json:"failed"`
}

// SendStats count how a node's messages fared.
type SendStats struct {
	Sent      uint64 `json:"sent"`
	Delivered uint64 `json:"delivered"`
	Read      uint64 `json:"read"`
	Failed    uint64 `json:"failed"`
}

// FlowAnalytics are a flow's counters summed over the UTC days From to To
// (both included), by node.
type FlowAnalytics struct {
	Flow string `json:"flow"`
	// Version is the version counted; 0 is all of them.
	Version int                   `json:"version,omitempty"`
	From    time.Time             `json:"from"`
	To      time.Time             `json:"to"`
	Nodes   map[string]*NodeStats `json:"nodes"`
}

// FlowAnalytics sums a flow's counters over the UTC days of from to to
// (both included), of one version or, with version 0, of all.
func (e *Engine) FlowAnalytics(ctx context.Context, flow string, from, to time.Time, version int) (*FlowAnalytics, error) {
	from, to = model.Day(from), model.Day(to)
	stats, err := e.store.FlowStats(ctx, flow, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading the analytics of flow %s: %w", flow, err)
	}
	a := &FlowAnalytics{Flow: flow, Version: version, From: from, To: to, Nodes: map[string]*NodeStats{}}
	for _, s := range stats {
		if version != 0 && s.Version != version {
			continue
		}
		ns := a.Nodes[s.Node]
		if ns == nil {
			ns = &NodeStats{Exits: map[string]uint64{}}
			a.Nodes[s.Node] = ns
		}
		switch s.Kind {
		case model.CountEntered:
			ns.Entered += s.N
		case model.CountExit:
			ns.Exits[s.Exit] += s.N
		case model.CountEnded:
			ns.Dropped.Ended += s.N
		case model.CountExpired:
			ns.Dropped.Expired += s.N
		case model.CountFailed:
			ns.Dropped.Failed += s.N
		case model.CountSent:
			ns.Sends.Sent += s.N
		case model.CountDelivered:
			ns.Sends.Delivered += s.N
		case model.CountRead:
			ns.Sends.Read += s.N
		case model.CountSendFailed:
			ns.Sends.Failed += s.N
		}
	}
	return a, nil
}
