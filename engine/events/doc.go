// Package events delivers the engine's events (model.Event) to the
// business's own systems: event webhooks.
//
// An admin subscribes a URL to some event types (Subscription). The
// engine records events in the same commit as the state that makes them
// true (model.Change.Events) while at least one enabled subscription
// wants their type (engine.Engine.RecordEvents), into the store's event
// log. The Service moves what it finds in the log into one Delivery per
// matching subscription, in one store transaction that also drops those
// events from the log, and posts each delivery's event as JSON, signed
// with the subscription's secret (sign.go).
//
// Deliveries are durable: a failed attempt (a network error, a timeout,
// any status but 2xx) is tried again after an exponential backoff with
// jitter (backoff.go) for MaxAge (24 h by default), across restarts,
// and only then marked failed; an admin can replay it. When a retried
// delivery goes through, the subscription's other retries are brought
// forward (Store.Hurry): the receiver is back. The events of one
// contact (and so of each of its conversations) reach a subscription in
// the order they were recorded: a contact's later delivery waits until
// the earlier one is delivered or has failed for good, while other
// contacts' deliveries go on. A crash after a receiver answered but
// before the answer was recorded posts the event again: delivery is at
// least once, and receivers tell repeats by the event id.
//
// Subscription URLs are set by admins only and may point anywhere,
// loopback and private addresses included (a CRM on the same network is
// the common case): no address is refused. Redirects are not followed.
package events
