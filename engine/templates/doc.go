// Package templates keeps the business's WhatsApp message templates and
// checks sends against them.
//
// Registry is the durable registry: each served account's (WABA's)
// templates with their status history (model.TemplateRecord), kept in the
// Store and current by syncs with the Graph API (sync.go), template
// webhooks and sends Meta refuses (updates.go). Set is an
// in-memory one, for tests and `parley simulate`. Both are a Lookup, what
// the engine asks before a send.
//
// CheckTemplateSend (fill.go) is the one check of a send against a
// template's shape, used by the flow check before publishing
// (CheckFlowTemplates, check.go), at flow time and at dispatch;
// Components writes a checked send as the Graph API's components.
//
// It depends on the model, flows and whatsapp packages only, never on the
// engine, which asks it.
package templates
