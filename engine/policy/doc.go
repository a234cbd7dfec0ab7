// Package policy holds WhatsApp's rules for what Parley may send, as pure
// functions of a contact, the template registry and the time: the 24-hour
// customer-service window (window.go, docs/whatsapp.md §4.1), and why a
// template may not go to a contact (policy.go): no opt-in outside the
// window, an opt-out or a marketing stop, an unreachable customer or a
// marketing hold, a template not approved or not fitting what is sent.
//
// The engine asks it at flow time (BlockTemplate, TemplateBlock), before
// an agent fills a template in (RecipientBlock), and at dispatch
// (DeliveryBlock), and records what it refuses (model.Block). It keeps no
// state: what Meta says of a customer (a 131026, a 131049, a late
// 131047) is recorded on the contact by the engine.
package policy
