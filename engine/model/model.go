package model

import (
	"maps"
	"time"

	"github.com/parleyhq/parley/flows"
)

// ContactKey identifies a customer of one business phone number: the phone
// number id and the customer's identity (the business-scoped user id where
// Meta sends one, else the wa_id).
type ContactKey string

// NewContactKey builds a contact key.
func NewContactKey(phoneNumberID, identity string) ContactKey {
	return ContactKey(phoneNumberID + ":" + identity)
}

// PhoneNumberID is the business phone number id of the key: what comes
// before its first ':' (all of it when there is none).
func (k ContactKey) PhoneNumberID() string {
	s := string(k)
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i]
		}
	}
	return s
}

// Contact is a customer as the engine knows them.
type Contact struct {
	Key           ContactKey     `json:"key"`
	PhoneNumberID string         `json:"phone_number_id"`
	WaID          string         `json:"wa_id,omitempty"`
	UserID        string         `json:"user_id,omitempty"`
	Name          string         `json:"name,omitempty"`
	Language      string         `json:"language,omitempty"`
	Tags          []string       `json:"tags,omitempty"`
	Fields        map[string]any `json:"fields,omitempty"`

	// Consent: business-initiated messages need OptedIn and not OptedOut;
	// marketing templates also need not MarketingOptOut (the customer
	// stopped them in WhatsApp: 131050, user_preferences). These are the
	// effective state; Consent is the history behind it (consent.go).
	OptedIn         bool           `json:"opted_in,omitempty"`
	OptedInAt       time.Time      `json:"opted_in_at,omitzero"`
	OptedOut        bool           `json:"opted_out,omitempty"`
	MarketingOptOut bool           `json:"marketing_opt_out,omitempty"`
	Consent         []ConsentEvent `json:"consent,omitempty"`

	// LastInboundAt opens the 24-hour window; WindowClosedAt records Meta
	// saying it closed early (a late 131047). See engine/policy/window.go.
	LastInboundAt  time.Time `json:"last_inbound_at,omitzero"`
	WindowClosedAt time.Time `json:"window_closed_at,omitzero"`
	// LastInboundWAMID is the id of the customer's latest message: the
	// one a reply marks read, and a typing indicator shows on (receipts.go).
	LastInboundWAMID string `json:"last_inbound_wamid,omitempty"`

	// Reachability (delivery.go). Unreachable: Meta could not deliver to
	// the customer (131026: not on WhatsApp, or cannot receive); nothing is
	// sent to them until they write again. HoldUntil: Meta held a message
	// back to keep the customer's engagement healthy (131049); no marketing
	// template goes to them before it.
	Unreachable       bool      `json:"unreachable,omitempty"`
	UnreachableAt     time.Time `json:"unreachable_at,omitzero"`
	UnreachableReason string    `json:"unreachable_reason,omitempty"`
	HoldUntil         time.Time `json:"hold_until,omitzero"`

	// Blocks are the latest sends WhatsApp's rules stopped, with their
	// reasons, oldest first (blocks.go).
	Blocks []Block `json:"blocks,omitempty"`

	// Conversation is the id of the running conversation, if any.
	Conversation string `json:"conversation,omitempty"`
	// Conversations counts the conversations ever started; it numbers them.
	Conversations int `json:"conversations,omitempty"`
}

// Status is where a conversation stands.
type Status string

// Conversation statuses.
const (
	Active  Status = "active"  // the bot is running
	Waiting Status = "waiting" // waiting for the customer
	Agent   Status = "agent"   // handed off to a person
	Ended   Status = "ended"
	Expired Status = "expired"
	Failed  Status = "failed"
)

// Done reports whether the conversation has finished.
func (s Status) Done() bool { return s == Ended || s == Expired || s == Failed }

// Conversation is one run of one flow version with one contact.
type Conversation struct {
	ID      string     `json:"id"`
	Contact ContactKey `json:"contact"`
	Flow    string     `json:"flow"`
	Version int        `json:"version"`
	Node    string     `json:"node"`
	Status  Status     `json:"status"`
	// Reason says why a conversation failed.
	Reason string `json:"reason,omitempty"`
	// Origin is the dedupe key of the business-initiated start that opened
	// it (a schedule's firing, initiate.go); "" for a customer's message.
	Origin string         `json:"origin,omitempty"`
	Vars   map[string]any `json:"vars,omitempty"`

	StartedAt      time.Time `json:"started_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	LastActivityAt time.Time `json:"last_activity_at"`
	EndedAt        time.Time `json:"ended_at,omitzero"`

	// Retries counts misfit replies at the current wait.
	Retries int `json:"retries,omitempty"`
	// LastReply is what expressions see as `reply`.
	LastReply *flows.Reply `json:"last_reply,omitempty"`

	// Handoff state.
	Queue    string `json:"queue,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Note     string `json:"note,omitempty"`
	// Handoffs counts the times the flow handed the conversation off; it
	// tells one handoff from the next, so an assignment decided for an
	// earlier one never lands on a later one (assign.go). HandoffAt is
	// when the latest began: queues serve the oldest first.
	Handoffs  int       `json:"handoffs,omitempty"`
	HandoffAt time.Time `json:"handoff_at,omitzero"`
	// HandoffSeq is the transcript's last seq before the turn that handed
	// the conversation off: the messages after it are the handoff's, which
	// the agents' inbox counts as unread until an agent answers or opens
	// the conversation.
	HandoffSeq uint64 `json:"handoff_seq,omitempty"`
	// Assignee is the agent (a user's email) who holds the conversation,
	// or held it last once it is resolved; "" while it waits in its queue.
	Assignee   string    `json:"assignee,omitempty"`
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	// Outcome is what the agent gave when resolving the latest handoff
	// (also in vars.handoff_outcome).
	Outcome string `json:"outcome,omitempty"`

	// Timers are the conversation's live timers; a fired timer that is not
	// among them is stale and ignored.
	Timers []Timer `json:"timers,omitempty"`
	// Seq numbers the conversation's transcript messages.
	Seq uint64 `json:"seq"`
	// ReroutedThrough is the last transcript position already covered by
	// a reroute after a failed message (window closed, on_error), so a
	// burst of failures reroutes once.
	ReroutedThrough uint64 `json:"rerouted_through,omitempty"`
	// InboundSeq is the transcript position of the customer's latest
	// message: a bot message before it is one the conversation no longer
	// waits on (status.go, messageFailed).
	InboundSeq uint64 `json:"inbound_seq,omitempty"`

	// Call is the http step the conversation waits on, nil when none
	// (calls.go). Calls counts the http steps it has reached: the step
	// number of the Idempotency-Key.
	Call  *PendingCall `json:"call,omitempty"`
	Calls int          `json:"calls,omitempty"`
	// Held are the customer's messages that came while a call was
	// pending, oldest first: each is handled, in order, after the call's
	// step, as if it had come then.
	Held []flows.Reply `json:"held,omitempty"`

	// Steps is the path the bot took, oldest first: one entry per node
	// run, the last MaxSteps of them (runner.go). It is written with the
	// conversation, in the turn's own commit.
	Steps []Step `json:"steps,omitempty"`
}

// MaxSteps caps a conversation's Steps: the oldest are dropped, so a long
// loop (an FAQ asked over and over) costs a bounded record.
const MaxSteps = 200

// Step is one node run: the exit it took, or why the run stopped there.
type Step struct {
	Node string `json:"node"`
	// Exit names the exit taken, as the analytics count it (nodes/exits.go:
	// "next", "cases/0", "default", "on_error", …); "" when the node did
	// not leave: it waits, hands off, awaits its call, ends or fails.
	Exit string `json:"exit,omitempty"`
	// Stop says why the run stopped at the node when Exit is "": one of
	// the Stop* values.
	Stop string `json:"stop,omitempty"`
	// Reason is why the conversation failed, with Stop "failed".
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Why a step stopped at its node (Step.Stop).
const (
	StopWaiting = "waiting" // waits for the customer's reply
	StopAgent   = "agent"   // handed to a person
	StopCall    = "call"    // awaits its http call's result
	StopEnded   = "ended"   // the flow ended
	StopFailed  = "failed"  // the conversation failed
)

// PendingCall is an http step the conversation waits on. It is durable:
// after a crash the call is made again, with the same Key.
type PendingCall struct {
	// Node is the http node.
	Node string `json:"node"`
	// Key is the Idempotency-Key of every attempt: "<conversation id>:<step>".
	Key string `json:"key"`
	// Attempt counts the attempts begun, the one in flight included.
	Attempt int `json:"attempt"`
	// Retries is how many attempts may follow the first.
	Retries int `json:"retries,omitempty"`
	// Timeout caps each attempt.
	Timeout time.Duration `json:"timeout"`
	// Since is when the step was reached; NextAt when the next attempt is
	// due (a retry's backoff), or when the one in flight is presumed lost.
	Since  time.Time `json:"since"`
	NextAt time.Time `json:"next_at"`
}

// TimerKind says what a timer does when it fires.
type TimerKind string

// Timer kinds.
const (
	TimerTimeout TimerKind = "timeout"  // a wait_reply's timeout
	TimerNoAgent TimerKind = "no_agent" // a handoff's no_agent_after
	TimerExpire  TimerKind = "expire"   // the flow's expire_after
	// TimerWindowClosing is a wait_reply's on_window_closing: due its
	// before ahead of the close of the contact's 24-hour window.
	TimerWindowClosing TimerKind = "window_closing"
	// TimerCall is an http step's next attempt. While an attempt is in
	// flight it is pushed past the attempt's timeout, so that a crash
	// leaves it due again: the call is repeated (calls.go).
	TimerCall TimerKind = "http_call"
)

// Timer is a durable timer: it fires an event into its conversation when
// the clock passes Due.
type Timer struct {
	Due          time.Time  `json:"due"`
	Kind         TimerKind  `json:"kind"`
	Contact      ContactKey `json:"contact"`
	Conversation string     `json:"conversation"`
	Node         string     `json:"node,omitempty"`
}

// Same reports whether t and o are the same timer.
func (t Timer) Same(o Timer) bool {
	return t.Due.Equal(o.Due) && t.Kind == o.Kind && t.Conversation == o.Conversation && t.Node == o.Node
}

// Direction says who a transcript message is from.
type Direction string

// Directions.
const (
	In   Direction = "in"   // from the customer
	Out  Direction = "out"  // to the customer
	Note Direction = "note" // an internal note: a block, a failure, an agent's note
)

// MessageState is an outbound message's progress towards the customer.
type MessageState string

// Message states; Rank orders them so a late status never moves one back.
const (
	Queued     MessageState = "queued"
	Sending    MessageState = "sending"
	Accepted   MessageState = "accepted" // Meta returned a wamid
	Sent       MessageState = "sent"
	Delivered  MessageState = "delivered"
	Read       MessageState = "read"
	SendFailed MessageState = "failed"
	Unknown    MessageState = "unknown" // the send's outcome is not known; never resent blindly
	Received   MessageState = "received"
)

// Message is one entry of a conversation's transcript: a customer's message,
// a message to them (with its delivery state), or an internal note.
type Message struct {
	Conversation string    `json:"conversation"`
	Seq          uint64    `json:"seq"`
	Direction    Direction `json:"dir"`
	At           time.Time `json:"at"`
	Node         string    `json:"node,omitempty"`
	// Sender is "customer", "bot", "agent:<name>" or "system".
	Sender   string              `json:"sender"`
	Contact  ContactKey          `json:"contact"`
	Inbound  *flows.Reply        `json:"inbound,omitempty"`
	Message  *flows.Message      `json:"message,omitempty"`
	Template *flows.TemplateSend `json:"template,omitempty"`
	Text     string              `json:"text,omitempty"` // notes

	// Call is an http step's attempt, on a note (calls.go).
	Call *CallRecord `json:"call,omitempty"`

	// EditedAt and RevokedAt are when the customer edited or deleted this
	// inbound message (edits.go); Original is its content before the
	// first edit, Inbound the latest.
	EditedAt  time.Time    `json:"edited_at,omitzero"`
	RevokedAt time.Time    `json:"revoked_at,omitzero"`
	Original  *flows.Reply `json:"original,omitempty"`

	State MessageState `json:"state,omitempty"`
	// WAMID is WhatsApp's id of the message: the one the send returned, or
	// the one the customer's message came with.
	WAMID     string `json:"wamid,omitempty"`
	ErrorCode int    `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
}

// LearnIdentity records the addresses a webhook gave for the contact: the
// phone number (wa_id) and the business-scoped user id, whichever it had.
func (c *Contact) LearnIdentity(waID, userID string) {
	if waID != "" {
		c.WaID = waID
	}
	if userID != "" {
		c.UserID = userID
	}
}

// CallRecord is one attempt of an http step, as the transcript shows it.
// It never holds a secret: URL and Error have them masked.
type CallRecord struct {
	Method string `json:"method"`
	// URL is the URL called, each secret's value replaced by ***.
	URL string `json:"url"`
	// Status is the answer's HTTP status; 0 when none came.
	Status int `json:"status"`
	// DurationMS is how long the attempt took, in milliseconds.
	DurationMS int64 `json:"duration_ms"`
	// Error says why no usable answer came.
	Error   string `json:"error,omitempty"`
	Attempt int    `json:"attempt"`
	// Key is the attempt's Idempotency-Key.
	Key string `json:"key"`
	// Retry is when the next attempt is due, when there is one.
	Retry time.Time `json:"retry,omitzero"`
}

// stateRank orders message states: a status moves a message forward only,
// so a late "delivered" never undoes "read". A delivered or read after a
// failure wins (Meta reports per device).
var stateRank = map[MessageState]int{
	Queued: 0, Sending: 1, Unknown: 2, Accepted: 3, Sent: 4, SendFailed: 5, Delivered: 6, Read: 7,
}

// Rank is s's place in stateRank: a message only ever moves to a state of
// a higher rank.
func (s MessageState) Rank() int { return stateRank[s] }

// Advance moves the message to s if s is further along.
func (m *Message) Advance(s MessageState) bool {
	if stateRank[s] > stateRank[m.State] {
		m.State = s
		return true
	}
	return false
}

// Clone copies a contact deeply enough that changing the copy never
// changes the original: nested values are replaced, never edited in place.
func (c *Contact) Clone() *Contact {
	if c == nil {
		return nil
	}
	x := *c
	x.Tags = append([]string(nil), c.Tags...)
	x.Fields = maps.Clone(c.Fields)
	return &x
}

// Clone copies a conversation likewise.
func (c *Conversation) Clone() *Conversation {
	if c == nil {
		return nil
	}
	x := *c
	x.Vars = maps.Clone(c.Vars)
	x.Timers = append([]Timer(nil), c.Timers...)
	x.Steps = append([]Step(nil), c.Steps...)
	return &x
}

// RemoveTimer drops tm from the conversation's live timers, reporting
// whether it was there.
func (c *Conversation) RemoveTimer(tm Timer) bool {
	for i, x := range c.Timers {
		if x.Same(tm) {
			c.Timers = append(c.Timers[:i:i], c.Timers[i+1:]...)
			return true
		}
	}
	return false
}
