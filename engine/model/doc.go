// Package model holds the engine's data and the contract of its store: the
// types every other part reads and writes (Contact, Conversation, Message,
// Timer, the Change one event commits, flow and template records, events,
// analytics counts) and the Store interface the backends implement
// (engine/boltstore, engine/pgstore; the contract is pinned by
// engine/storetest).
//
// It sits at the bottom: it imports no other package of the engine, so a
// store, the inbox or the event webhooks can depend on the model without
// depending on the engine that runs conversations. Its methods only copy
// and update the data they belong to (Contact.Clone, Message.Advance,
// TemplateRecord.SetStatus …); what decides on them (the flows, WhatsApp's
// rules, sends) is the engine's. File names in these comments
// (window.go, calls.go, limit.go …) are the engine package's unless they
// name a file of this one.
package model
