package inbox

import (
	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
)

// previewRunes caps the last-message preview kept per conversation.
const previewRunes = 120

// observe is the engine's commit observer (engine.Observer): it brings the
// view up to date with the commit and publishes what changed. It holds mu
// for work in memory only, publishes after releasing it, and never calls
// the engine: a pass it calls for is run by Run.
func (ib *Inbox) observe(c engine.Committed) { ib.update(c, "") }

// update is observe, for this process's commits (refreshing "") and for
// a conversation read again from the store after another process's
// commit (refreshing its id): then it changes nothing and returns false
// when a commit of this process touched the conversation since the read
// began (its state, observed, may be newer than what was read).
func (ib *Inbox) update(c engine.Committed, refreshing string) bool {
	var events []Event
	rebalance, closedNow := false, false
	var offNumber [][3]string // conversation, queue, number
	now := ib.eng.Clock().Now()
	conv := c.Conversation

	ib.mu.Lock()
	if refreshing != "" {
		if ib.watch[refreshing] != 0 {
			ib.mu.Unlock()
			return false
		}
		delete(ib.watch, refreshing)
	} else {
		if conv != nil {
			if n, ok := ib.watch[conv.ID]; ok {
				ib.watch[conv.ID] = n + 1
			}
		}
		for _, m := range c.Updates {
			if n, ok := ib.watch[m.Conversation]; ok {
				ib.watch[m.Conversation] = n + 1
			}
		}
	}
	if ib.dirty != nil {
		if conv != nil {
			ib.dirty[conv.ID] = true
		}
		for _, m := range c.Updates {
			ib.dirty[m.Conversation] = true
		}
	}
	if conv != nil {
		e := ib.entries[conv.ID]
		switch {
		case conv.Status == model.Agent:
			if e == nil || e.handoff != conv.Handoffs {
				if e != nil {
					ib.setAssignee(e, "")
				}
				e = entryOf(conv)
				// Unassigned until the switch below, which counts the
				// assignee and, when the conversation came in through the
				// feed already assigned (the leader is quick), tells it
				// as an assignment after the handoff.
				e.assignee, e.committed = "", ""
				if c.Contact != nil {
					e.name = c.Contact.Name
				}
				ib.entries[conv.ID] = e
				rebalance = true
				if ib.offNumber(e) {
					offNumber = append(offNumber, [3]string{e.conv, e.queue, e.number()})
				}
				events = append(events, Event{Type: EventHandoff, At: now, Conversation: conv.ID, Contact: conv.Contact, Status: conv.Status, Queue: conv.Queue})
			}
			prevQ, prevA := e.queue, e.committed
			e.priority, e.note, e.lastActivity = conv.Priority, conv.Note, conv.LastActivityAt
			if c.Contact != nil && c.Contact.Name != "" {
				e.name = c.Contact.Name
			}
			switch {
			case conv.Assignee == e.assignee:
				e.pending = false
			case conv.Assignee == "" && e.pending:
				// The pass's commit has not landed yet: keep the place.
			default:
				ib.setAssignee(e, conv.Assignee)
				e.pending = false
			}
			if conv.Queue != e.queue {
				e.queue = conv.Queue
			}
			if e.assignee == "" && (prevA != "" || prevQ != conv.Queue) {
				rebalance = true
			}
			if e.committed != conv.Assignee {
				e.assignedAt = conv.AssignedAt
			}
			e.committed = conv.Assignee
			if e.queue != prevQ || e.committed != prevA {
				events = append(events, Event{Type: EventAssigned, At: now, Conversation: conv.ID, Contact: conv.Contact, Status: conv.Status,
					Queue: e.queue, Assignee: e.committed, PrevQueue: prevQ, PrevAssignee: prevA})
			}
		case e != nil:
			// Resolved, no agent in time, expired or failed: out of the
			// inbox. This commit's messages (the bot carrying on) still go
			// out live; later ones are the bot's business.
			closedNow = true
			ib.setAssignee(e, "")
			delete(ib.entries, conv.ID)
			rebalance = true
			events = append(events, Event{Type: EventClosed, At: now, Conversation: conv.ID, Contact: conv.Contact, Status: conv.Status,
				Queue: e.queue, Assignee: conv.Assignee})
		}
		for _, m := range c.Messages {
			if m.Conversation != conv.ID || (ib.entries[conv.ID] == nil && !closedNow) {
				continue // a bot conversation, not the inbox's
			}
			ev := Event{Type: EventMessage, At: now, Conversation: conv.ID, Contact: conv.Contact, Status: conv.Status,
				Queue: conv.Queue, Assignee: conv.Assignee, Message: m}
			if e := ib.entries[conv.ID]; e != nil {
				e.lastSeq = max(e.lastSeq, m.Seq)
				switch {
				case m.Direction == model.In:
					e.customerSaid(m.Seq)
				case m.Direction == model.Out && isAgent(m.Sender):
					e.readUpTo(m.Seq)
				}
				if m.Direction != model.Note {
					e.preview = cut(engine.Display(m), previewRunes)
				}
				ev.Queue, ev.Assignee, ev.Unread = e.queue, e.assignee, e.unread
			}
			events = append(events, ev)
		}
	}
	for _, m := range c.Updates {
		ev := Event{Type: EventStatus, At: now, Conversation: m.Conversation, Contact: m.Contact, Message: m}
		if e := ib.entries[m.Conversation]; e != nil {
			ev.Queue, ev.Assignee = e.queue, e.assignee
			events = append(events, ev)
		}
	}
	ib.mu.Unlock()

	for _, o := range offNumber {
		ib.log.Info("inbox: handoff to a queue that does not serve the conversation's number: no agent of the queue gets it; an admin moves it",
			"conversation", o[0], "queue", o[1], "number", o[2])
	}
	for _, ev := range events {
		ib.hub.Publish(ev)
	}
	if rebalance {
		ib.Kick()
	}
	return true
}

func isAgent(sender string) bool { return len(sender) > 6 && sender[:6] == "agent:" }

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
