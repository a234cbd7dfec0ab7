package inbox

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/flows"
)

// CheckHandoffs warns of a flow's handoffs to a queue no agent can answer:
// one that was never created and no agent serves (a typo, most often),
// one no agent serves, or one that does not serve some of the numbers the
// flow answers on (its `numbers`, else every number Parley serves): a
// conversation on such a number enters the queue but none of its agents
// gets it (doc.go). Such a conversation waits in the inbox with nobody to
// see it. The warnings are about today's team, not the flow, so they
// never stop a publish.
func (ib *Inbox) CheckHandoffs(f *flows.Flow) flows.Problems {
	if f == nil {
		return nil
	}
	flowNumbers := f.Numbers
	configured := ib.eng.PhoneNumbers()
	if len(flowNumbers) == 0 {
		for _, n := range configured {
			flowNumbers = append(flowNumbers, n.ID)
		}
	}
	display := map[string]string{}
	for _, n := range configured {
		display[n.ID] = n.Display
	}
	ib.mu.RLock()
	created := map[string]bool{}
	queueNumbers := map[string][]string{}
	for id, q := range ib.queues {
		created[id] = true
		queueNumbers[id] = q.Numbers
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
		if n == nil || n.Type != flows.TypeHandoff || n.Queue == "" {
			continue
		}
		ptr := "/nodes/" + strconv.Itoa(i) + "/queue"
		label := flows.NodeLabel(n)
		if p, ok := numbersProblem(label, n.Queue, queueNumbers[n.Queue], flowNumbers, display); ok {
			p.Pointer = ptr
			ps = append(ps, p)
		}
		if served[n.Queue] {
			continue
		}
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

// numbersProblem is the warning for a handoff to a queue that serves
// queueNumbers (none: all) from a flow answering on flowNumbers, when the
// queue leaves some of those out; ok false when it serves them all.
func numbersProblem(label, queue string, queueNumbers, flowNumbers []string, display map[string]string) (flows.Problem, bool) {
	if len(queueNumbers) == 0 {
		return flows.Problem{}, false
	}
	var missing []string
	for _, n := range flowNumbers {
		if !slices.Contains(queueNumbers, n) {
			missing = append(missing, numberName(n, display))
		}
	}
	if len(missing) == 0 {
		return flows.Problem{}, false
	}
	var msg string
	if len(missing) == len(flowNumbers) {
		names := make([]string, len(queueNumbers))
		for i, n := range queueNumbers {
			names[i] = numberName(n, display)
		}
		msg = fmt.Sprintf("handoff %q sends customers to queue %q, which serves none of the numbers this flow answers on (%s): it serves only %s, so no agent of it would get them. Hand off to a queue of these numbers, or add them to the queue on the Queues page",
			label, queue, strings.Join(missing, ", "), strings.Join(names, ", "))
	} else {
		what, it := "a number", "it"
		if len(missing) > 1 {
			what, it = "numbers", "them"
		}
		msg = fmt.Sprintf("handoff %q sends customers to queue %q, which does not serve %s, %s this flow answers on: customers there would wait for an admin to move them. Add %s to the queue on the Queues page, or limit the flow's numbers",
			label, queue, strings.Join(missing, ", "), what, it)
	}
	return flows.Problem{Severity: flows.Warning, Message: msg}, true
}

// numberName is a business number as a person knows it: the display
// number with its id, or the id alone.
func numberName(id string, display map[string]string) string {
	if d := display[id]; d != "" {
		return d + " (" + id + ")"
	}
	return id
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
	// Numbers are the business numbers it serves; none: every number.
	Numbers []string `json:"numbers,omitempty"`
}

// HandoffQueues lists, by id, the queues CheckHandoffs knows: those
// created and those some agent serves. Given numbers, only the queues
// that serve at least one of them (a flow's numbers, a conversation's
// number); none: every queue.
func (ib *Inbox) HandoffQueues(numbers ...string) []HandoffQueue {
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
		if len(numbers) > 0 && !slices.ContainsFunc(numbers, q.Serves) {
			continue
		}
		h := get(id)
		h.Created, h.Name, h.Numbers = true, q.Name, slices.Clone(q.Numbers)
	}
	for _, a := range ib.agents {
		for _, id := range a.Queues {
			if len(numbers) > 0 && !slices.ContainsFunc(numbers, ib.queues[id].Serves) {
				continue
			}
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
