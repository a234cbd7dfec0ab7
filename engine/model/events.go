package model

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

// NewEventID returns a new random event id: "evt_" and 32 hex digits.
func NewEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return "evt_" + hex.EncodeToString(b[:])
}
