package engine

import "time"

// WindowLength is WhatsApp's customer-service window: free-form messages may
// be sent for 24 hours after the customer's last message (spec/whatsapp.md
// §4.1); outside it only templates, else Meta fails the send with 131047.
const WindowLength = 24 * time.Hour

// WindowMargin is kept back from the end of the window: a message queued a
// moment before the close could reach Meta after it.
const WindowMargin = time.Minute

// WindowExpiry is when the contact's window closes for our sends, or the
// zero time when it has never opened or Meta closed it early.
func WindowExpiry(c *Contact) time.Time {
	if c.LastInboundAt.IsZero() {
		return time.Time{}
	}
	if !c.WindowClosedAt.IsZero() && !c.WindowClosedAt.Before(c.LastInboundAt) {
		return time.Time{} // Meta said 131047 after the customer's last message
	}
	return c.LastInboundAt.Add(WindowLength - WindowMargin)
}

// WindowOpen reports whether a free-form message may be sent to c at now.
func WindowOpen(c *Contact, now time.Time) bool {
	exp := WindowExpiry(c)
	return !exp.IsZero() && now.Before(exp)
}

// openWindow records a customer's message at t (the time they sent it,
// never later than now): the window runs 24 hours from the latest one.
func openWindow(c *Contact, t, now time.Time) {
	if t.IsZero() || t.After(now) {
		t = now
	}
	if t.After(c.LastInboundAt) {
		c.LastInboundAt = t
	}
}
