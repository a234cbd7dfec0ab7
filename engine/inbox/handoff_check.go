package inbox

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/parleyhq/parley/flows"
)

// CheckHandoffs warns of a flow's handoffs to a queue no agent can answer:
// one that was never created and no agent serves (a typo, most often), or
// one no agent serves. Such a conversation waits in the inbox with nobody
// to see it. The warnings are about today's team, not the flow, so they
// never stop a publish.
func (ib *Inbox) CheckHandoffs(f *flows.Flow) flows.Problems {
	if f == nil {
		return nil
	}
	ib.mu.RLock()
	created := map[string]bool{}
	for id := range ib.queues {
		created[id] = true
	}
	served := map[string]bool{}
	for _, a := range ib.agents {
		for _, q := range a.Queues {
			served[q] = true
		}
	}
	ib.mu.RUnlock()
	var names []string
	for q := range created {
		names = append(names, q)
	}
	for q := range served {
		if !created[q] {
			names = append(names, q)
		}
	}
	sort.Strings(names)
	var ps flows.Problems
	for i, n := range f.Nodes {
		if n == nil || n.Type != flows.TypeHandoff || n.Queue == "" || served[n.Queue] {
			continue
		}
		ptr := "/nodes/" + strconv.Itoa(i) + "/queue"
		label := flows.NodeLabel(n)
		var msg string
		if created[n.Queue] {
			msg = fmt.Sprintf("handoff %q sends customers to queue %q, which no agent serves: they would wait with nobody to answer. Add the queue to an agent on the Agents page", label, n.Queue)
		} else {
			msg = fmt.Sprintf("handoff %q sends customers to queue %q, which does not exist and no agent serves", label, n.Queue)
			if c := flows.Closest(n.Queue, names); c != "" {
				msg += fmt.Sprintf("; did you mean %q?", c)
			} else {
				msg += "; create it on the Queues page and give it agents"
			}
		}
		ps = append(ps, flows.Problem{Severity: flows.Warning, Pointer: ptr, Message: msg})
	}
	return ps
}

// HandoffQueue is a queue a flow's handoff may name, as the flow editor
// offers it: created on the Queues page, served by an agent, or both.
// It carries no conversations and no agent names, only whether anyone
// would answer.
type HandoffQueue struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Created bool   `json:"created"`
	Agents  int    `json:"agents"` // agents who serve it, whatever their status
	Online  bool   `json:"online"` // one of them is online now
}

// HandoffQueues lists, by id, the queues CheckHandoffs knows: those
// created and those some agent serves.
func (ib *Inbox) HandoffQueues() []HandoffQueue {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	byID := map[string]*HandoffQueue{}
	get := func(id string) *HandoffQueue {
		q := byID[id]
		if q == nil {
			q = &HandoffQueue{ID: id}
			byID[id] = q
		}
		return q
	}
	for id, q := range ib.queues {
		h := get(id)
		h.Created, h.Name = true, q.Name
	}
	for _, a := range ib.agents {
		for _, id := range a.Queues {
			h := get(id)
			h.Agents++
			if a.Status == Online {
				h.Online = true
			}
		}
	}
	out := make([]HandoffQueue, 0, len(byID))
	for _, q := range byID {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
