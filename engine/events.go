package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley/flows"
)

// EventType names what happened, for the business's own systems
// (event webhooks, engine/events; docs/events.md).
type EventType string

// Event types.
const (
	EventConversationStarted EventType = "conversation.started"
	// EventConversationEnded: the conversation ended, expired or failed
	// (EndedData.Status, with the reason of a failure).
	EventConversationEnded EventType = "conversation.ended"
	EventHandoffQueued     EventType = "handoff.queued"
	// EventHandoffResolved: the conversation left the agents, resolved by
	// one (with the outcome) or otherwise (ResolvedData.Resolution).
	EventHandoffResolved EventType = "handoff.resolved"
	// EventMessageReceived carries the customer's message, text included:
	// it goes to the business's own systems, never to a log.
	EventMessageReceived EventType = "message.received"
	// EventMessageStatus: an outbound message was delivered, read, or
	// failed (with Meta's code).
	EventMessageStatus   EventType = "message.status"
	EventContactOptedIn  EventType = "contact.opted_in"
	EventContactOptedOut EventType = "contact.opted_out"
)

// EventTypes lists every event type the engine records.
var EventTypes = []EventType{
	EventConversationStarted, EventConversationEnded, EventHandoffQueued, EventHandoffResolved,
	EventMessageReceived, EventMessageStatus, EventContactOptedIn, EventContactOptedOut,
}

// Event is one thing that happened, recorded in the same commit as the
// state that makes it true (Change.Events): an event is never recorded
// for work that was rolled back, nor lost once its state is durable. Its
// ID is unique and never changes, so a receiver that gets it twice (a
// delivery retried after an answer lost on the way) can tell.
type Event struct {
	ID   string    `json:"id"`
	Type EventType `json:"type"`
	At   time.Time `json:"at"`
	// Contact is the contact's key (phone number id ":" customer id);
	// WaID their phone number, where known.
	Contact      ContactKey `json:"contact,omitempty"`
	WaID         string     `json:"wa_id,omitempty"`
	Conversation string     `json:"conversation,omitempty"`
	// Data is the type's own fields (the *Data types below), as JSON.
	Data json.RawMessage `json:"data,omitempty"`
}

// LoggedEvent is an event as the store's event log keeps it: Seq orders
// the log (it grows with every commit that records events).
type LoggedEvent struct {
	Seq   uint64
	Event Event
}

// EventLog is the store's durable log of Change.Events, read by the event
// webhooks' dispatcher (engine/events), which moves what it read into
// deliveries of its own and then drops it from the log. The embedded
// store implements it; a Store that records events must too.
type EventLog interface {
	// EventsAfter returns up to limit logged events with Seq > after, in
	// Seq order (limit <= 0: no limit).
	EventsAfter(ctx context.Context, after uint64, limit int) ([]LoggedEvent, error)
}

// StartedData is a conversation.started event's Data.
type StartedData struct {
	Flow    string `json:"flow"`
	Version int    `json:"version"`
	// Origin is the dedupe key of a business-initiated start (a
	// schedule's firing); empty when a customer's message started it.
	Origin string `json:"origin,omitempty"`
}

// EndedData is a conversation.ended event's Data.
type EndedData struct {
	Flow    string `json:"flow"`
	Version int    `json:"version"`
	// Status is ended, expired or failed.
	Status Status `json:"status"`
	// Reason says why it failed (or ended early: an opt-out).
	Reason string `json:"reason,omitempty"`
	Node   string `json:"node,omitempty"`
}

// QueuedData is a handoff.queued event's Data.
type QueuedData struct {
	Queue    string `json:"queue,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Node     string `json:"node,omitempty"`
	// Handoff numbers the conversation's handoffs, from 1.
	Handoff int `json:"handoff"`
}

// ResolvedData is a handoff.resolved event's Data.
type ResolvedData struct {
	Queue   string `json:"queue,omitempty"`
	Handoff int    `json:"handoff"`
	// Resolution is "agent" (an agent resolved it, Outcome is theirs),
	// "no_agent" (nobody answered in time: the flow carried on), or the
	// conversation's final status when it ended while handed off
	// (expired, failed, ended).
	Resolution string `json:"resolution"`
	Outcome    string `json:"outcome,omitempty"`
	// Agent is the agent who resolved it, else the one who held it last,
	// if any.
	Agent string `json:"agent,omitempty"`
}

// ReceivedData is a message.received event's Data.
type ReceivedData struct {
	// WAMID is the message's WhatsApp id.
	WAMID   string      `json:"wamid,omitempty"`
	Message flows.Reply `json:"message"`
	// Seq is the message's place in the conversation's transcript (0 when
	// no conversation holds it: no flow was triggered).
	Seq uint64 `json:"seq,omitempty"`
}

// StatusData is a message.status event's Data.
type StatusData struct {
	Seq   uint64       `json:"seq"`
	WAMID string       `json:"wamid,omitempty"`
	State MessageState `json:"state"`
	// Code and Error are Meta's error, for a failed message (0 for a
	// message Parley refused before sending it).
	Code  int    `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	Node  string `json:"node,omitempty"`
	// Sender is "bot", "agent:<name>" or "system".
	Sender string `json:"sender,omitempty"`
}

// ConsentData is a contact.opted_in or contact.opted_out event's Data.
type ConsentData struct {
	Source ConsentSource `json:"source,omitempty"`
	By     string        `json:"by,omitempty"`
}

// eventFilter is the set of event types some subscription wants; nil
// records none.
type eventFilter func(EventType) bool

// RecordEvents sets which event types the engine records in its commits
// (Change.Events): wanted is asked for each event about to be recorded.
// nil (the default) records none, so an install with no event
// subscription pays nothing: no event is built, encoded or stored. The
// event webhooks' service (engine/events) sets it whenever its
// subscriptions change; events from before a type was wanted are not
// recorded later.
func (e *Engine) RecordEvents(wanted func(EventType) bool) {
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

// NewEventID returns a new random event id: "evt_" and 32 hex digits.
func NewEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return "evt_" + hex.EncodeToString(b[:])
}

// loaded is what a turn began with, to tell what it changed: the running
// conversation's standing and the contact's consent.
type loaded struct {
	conv              *Conversation // nil when none ran
	convStatus        Status
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
func (t *turn) event(wanted eventFilter, typ EventType, conv string, data any) {
	if !wanted(typ) {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.e.log.Error("encoding an event", "type", typ, "err", err)
		return
	}
	t.change.Events = append(t.change.Events, Event{
		ID: NewEventID(), Type: typ, At: t.now, Contact: t.contact.Key, WaID: t.contact.WaID,
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
			t.event(wanted, EventConversationStarted, conv.ID, StartedData{Flow: conv.Flow, Version: conv.Version, Origin: conv.Origin})
		}
		if t.inbound != nil && conv == t.conv {
			t.receivedEvent(wanted, conv.ID)
		}
		fromAgent := was != nil && was.convStatus == Agent
		if fromAgent && (conv.Status != Agent || conv.Handoffs != was.handoffs) {
			res := ResolvedData{Queue: was.queue, Handoff: was.handoffs, Outcome: conv.Outcome, Agent: conv.Assignee}
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
			t.event(wanted, EventHandoffResolved, conv.ID, res)
		}
		if conv.Status == Agent && (was == nil || was.convStatus != Agent || conv.Handoffs != was.handoffs) {
			t.event(wanted, EventHandoffQueued, conv.ID, QueuedData{Queue: conv.Queue, Priority: conv.Priority, Node: conv.Node, Handoff: conv.Handoffs})
		}
		if conv.Status.Done() && (was == nil || !was.convStatus.Done()) {
			t.event(wanted, EventConversationEnded, conv.ID, EndedData{Flow: conv.Flow, Version: conv.Version, Status: conv.Status, Reason: conv.Reason, Node: conv.Node})
		}
	}
	if t.inbound != nil && !t.receivedDone {
		t.receivedEvent(wanted, t.inboundConversation())
	}
	c := t.contact
	var src ConsentData
	if n := len(c.Consent); n > 0 {
		src = ConsentData{Source: c.Consent[n-1].Source, By: c.Consent[n-1].By}
	}
	if c.OptedIn && !c.OptedOut && !(t.was.optedIn && !t.was.optedOut) {
		t.event(wanted, EventContactOptedIn, "", src)
	}
	if c.OptedOut && !t.was.optedOut {
		t.event(wanted, EventContactOptedOut, "", src)
	}
}

// inboundConversation is the conversation whose transcript holds the
// turn's inbound message, or "".
func (t *turn) inboundConversation() string {
	for _, m := range t.change.Messages {
		if m.Direction == In {
			return m.Conversation
		}
	}
	return ""
}

// receivedEvent records the turn's inbound message, once.
func (t *turn) receivedEvent(wanted eventFilter, conv string) {
	t.receivedDone = true
	d := ReceivedData{WAMID: t.inbound.ID, Message: t.inbound.Reply}
	for _, m := range t.change.Messages {
		if m.Direction == In && m.Conversation == conv {
			d.Seq = m.Seq
			if m.Inbound != nil {
				d.Message = *m.Inbound
			}
			break
		}
	}
	t.event(wanted, EventMessageReceived, conv, d)
}

// statusEvent records message.status for a message whose delivery state
// moved from from to m.State: delivered, read, or failed.
func (t *turn) statusEvent(m *Message, from MessageState) {
	if m.Direction != Out || m.State == from {
		return
	}
	switch m.State {
	case Delivered, Read, SendFailed:
	default:
		return
	}
	wanted := t.e.eventsWanted()
	if wanted == nil {
		return
	}
	t.event(wanted, EventMessageStatus, m.Conversation, StatusData{
		Seq: m.Seq, WAMID: m.WAMID, State: m.State, Code: m.ErrorCode, Error: m.Error, Node: m.Node, Sender: m.Sender,
	})
}

// moved records what a message's move from state from did: analytics
// counts and its message.status event.
func (t *turn) moved(m *Message, from MessageState) {
	t.countMove(m, from)
	t.statusEvent(m, from)
}
