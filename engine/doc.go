// Package engine runs conversations: one flow per conversation, as a durable
// state machine.
//
// The engine applies one event at a time to one conversation (an inbound
// message, a timer, an agent's action) under that conversation's lock: it
// loads the state from the Store, runs nodes until the flow waits, hands off
// or ends, checks every send against WhatsApp's rules (package policy: the
// 24-hour window, templates, consent, reachability), and commits the new
// state, the messages to send, the timers and the inbound message's dedupe
// key in one Store transaction. Conversations run in parallel; their
// commits are grouped so that one fsync serves many.
//
// Sends are checked against a templates.Lookup registry (package
// engine/templates). The durable one is templates.Registry: each served
// account's (WABA's) templates with their status history, kept current by
// syncs with the Graph API, template webhooks and sends Meta refuses
// (template_sends.go tells it of those). A send is checked against the
// templates of its number's WABA (numbers.go, templatesFrom).
// templates.CheckFlowTemplates checks a flow's template nodes against it
// before publishing, in the WABA of each number the flow answers on.
//
// The data the engine reads and commits (contacts, conversations, messages,
// timers, the Change of one event) and the Store it commits them to are
// package engine/model's. Contacts and consent as the API and the CSV
// import give them are checked by package engine/consent before the engine
// stores them (consent_contacts.go, consent_import.go); the messaging
// limit's state is package engine/limits', its checks the engine's
// (limit.go).
//
// The dispatcher (outbox.go) sends the outbox's messages and records what
// became of each in a commit of its conversation; it sees that commit's
// turn only as a sendTurn (send_turn.go).
//
// An http step (calls.go) never runs inside a turn: the turn that reaches
// it commits a pending call and a durable call timer; a worker claims each
// attempt under the conversation's lock, makes the request outside it
// (package httpcall: the address guard, the size cap) and commits the
// result with the flow's next step. Messages that arrive meanwhile are
// held and handled in order after it.
//
// Each node run is also recorded on the conversation as a Step (its exit,
// or why it stopped), the last MaxSteps of them, for the conversation log.
//
// As conversations run, the engine counts per flow version, node and UTC
// day the entries, exits, drop-offs and message states (analytics.go), in
// the same commit as the event that moved them; FlowAnalytics reads them.
//
// While some event webhook subscription wants them (RecordEvents), each
// commit also records the events its changes make true: conversations
// started and ended, handoffs queued and resolved, messages received,
// delivery states, consent (events.go). They go in the same commit, so
// rolled-back work records none; engine/events delivers them.
//
// Time comes from a Clock, so tests and `parley simulate` move a fake one.
package engine
