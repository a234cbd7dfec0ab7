package engine

import (
	"encoding/json"

	"github.com/parleyhq/parley/engine/model"
)

// eventFilter is the set of event types some subscription wants; nil
// records none.
type eventFilter func(model.EventType) bool

// RecordEvents sets which event types the engine records in its commits
// (Change.Events): wanted is asked for each event about to be recorded.
// nil (the default) records none, so an install with no event
// subscription pays nothing: no event is built, encoded or stored. The
// event webhooks' service (engine/events) sets it whenever its
// subscriptions change; events from before a type was wanted are not
// recorded later.
func (e *Engine) RecordEvents(wanted func(model.EventType) bool) {
	if wanted == nil {
		e.eventFilter.Store(nil)
		return
	}
	f := eventFilter(wanted)
	e.eventFilter.Store(&f)
}

// eventsWanted returns the filter, or nil when no event is wanted.
func (e *Engine) eventsWanted() eventFilter {
	if p := e.eventFilter.Load(); p != nil {
		return *p
	}
	return nil
}

// loaded is what a turn began with, to tell what it changed: the running
// conversation's standing and the contact's consent.
type loaded struct {
	conv              *model.Conversation // nil when none ran
	convStatus        model.Status
	handoffs          int
	queue, assignee   string
	optedIn, optedOut bool
}

// snapshot records the state a turn begins with (begin).
func (t *turn) snapshot() {
	c := t.contact
	t.was = loaded{optedIn: c.OptedIn, optedOut: c.OptedOut}
	if conv := t.conv; conv != nil {
		t.was.conv, t.was.convStatus, t.was.handoffs = conv, conv.Status, conv.Handoffs
		t.was.queue, t.was.assignee = conv.Queue, conv.Assignee
	}
}

// event appends an event of typ to the turn's change, if it is wanted.
func (t *turn) event(wanted eventFilter, typ model.EventType, conv string, data any) {
	if !wanted(typ) {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.e.log.Error("encoding an event", "type", typ, "err", err)
		return
	}
	t.change.Events = append(t.change.Events, model.Event{
		ID: model.NewEventID(), Type: typ, At: t.now, Contact: t.contact.Key, WaID: t.contact.WaID,
		Conversation: conv, Data: raw,
	})
}

// recordEvents adds to the turn's change the events its state changes
// make true, compared with what the turn began with: conversations
// started and ended, handoffs queued and resolved, the inbound message,
// consent given or withdrawn. Delivery states are recorded where they
// move (statusEvent). Called once, just before the commit.
func (t *turn) recordEvents() {
	wanted := t.e.eventsWanted()
	if wanted == nil {
		return
	}
	for _, conv := range t.change.Conversations {
		var was *loaded
		switch {
		case t.was.conv != nil && conv.ID == t.was.conv.ID:
			was = &t.was
		case conv.ID != t.startedID:
			continue // a finished one a consent keyword is noted on
		default:
			t.event(wanted, model.EventConversationStarted, conv.ID, model.StartedData{Flow: conv.Flow, Version: conv.Version, Origin: conv.Origin})
		}
		if t.inbound != nil && conv == t.conv {
			t.receivedEvent(wanted, conv.ID)
		}
		fromAgent := was != nil && was.convStatus == model.Agent
		if fromAgent && (conv.Status != model.Agent || conv.Handoffs != was.handoffs) {
			res := model.ResolvedData{Queue: was.queue, Handoff: was.handoffs, Outcome: conv.Outcome, Agent: conv.Assignee}
			switch {
			case t.resolvedBy != "":
				res.Resolution = t.resolvedBy
			case conv.Status.Done():
				res.Resolution = string(conv.Status)
			default:
				res.Resolution = "no_agent"
			}
			if t.resolver != "" {
				res.Agent = t.resolver
			}
			if res.Agent == "" {
				res.Agent = was.assignee
			}
			t.event(wanted, model.EventHandoffResolved, conv.ID, res)
		}
		if conv.Status == model.Agent && (was == nil || was.convStatus != model.Agent || conv.Handoffs != was.handoffs) {
			t.event(wanted, model.EventHandoffQueued, conv.ID, model.QueuedData{Queue: conv.Queue, Priority: conv.Priority, Node: conv.Node, Handoff: conv.Handoffs})
		}
		if conv.Status.Done() && (was == nil || !was.convStatus.Done()) {
			t.event(wanted, model.EventConversationEnded, conv.ID, model.EndedData{Flow: conv.Flow, Version: conv.Version, Status: conv.Status, Reason: conv.Reason, Node: conv.Node})
		}
	}
	if t.inbound != nil && !t.receivedDone {
		t.receivedEvent(wanted, t.inboundConversation())
	}
	c := t.contact
	var src model.ConsentData
	if n := len(c.Consent); n > 0 {
		src = model.ConsentData{Source: c.Consent[n-1].Source, By: c.Consent[n-1].By}
	}
	if c.OptedIn && !c.OptedOut && !(t.was.optedIn && !t.was.optedOut) {
		t.event(wanted, model.EventContactOptedIn, "", src)
	}
	if c.OptedOut && !t.was.optedOut {
		t.event(wanted, model.EventContactOptedOut, "", src)
	}
}

// inboundConversation is the conversation whose transcript holds the
// turn's inbound message, or "".
func (t *turn) inboundConversation() string {
	for _, m := range t.change.Messages {
		if m.Direction == model.In {
			return m.Conversation
		}
	}
	return ""
}

// receivedEvent records the turn's inbound message, once.
func (t *turn) receivedEvent(wanted eventFilter, conv string) {
	t.receivedDone = true
	d := model.ReceivedData{WAMID: t.inbound.ID, Message: t.inbound.Reply}
	for _, m := range t.change.Messages {
		if m.Direction == model.In && m.Conversation == conv {
			d.Seq = m.Seq
			if m.Inbound != nil {
				d.Message = *m.Inbound
			}
			break
		}
	}
	t.event(wanted, model.EventMessageReceived, conv, d)
}

// statusEvent records message.status for a message whose delivery state
// moved from from to m.State: delivered, read, or failed.
func (t *turn) statusEvent(m *model.Message, from model.MessageState) {
	if m.Direction != model.Out || m.State == from {
		return
	}
	switch m.State {
	case model.Delivered, model.Read, model.SendFailed:
	default:
		return
	}
	wanted := t.e.eventsWanted()
	if wanted == nil {
		return
	}
	t.event(wanted, model.EventMessageStatus, m.Conversation, model.StatusData{
		Seq: m.Seq, WAMID: m.WAMID, State: m.State, Code: m.ErrorCode, Error: m.Error, Node: m.Node, Sender: m.Sender,
	})
}

// moved records what a message's move from state from did: analytics
// counts and its message.status event.
func (t *turn) moved(m *model.Message, from model.MessageState) {
	t.countMove(m, from)
	t.statusEvent(m, from)
}
