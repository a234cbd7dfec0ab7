package policy

import (
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// WindowLength is WhatsApp's customer-service window: free-form messages may
// be sent for 24 hours after the customer's last message (docs/whatsapp.md
// §4.1); outside it only templates, else Meta fails the send with 131047.
const WindowLength = 24 * time.Hour

// WindowMargin is kept back from the end of the window: a message queued a
// moment before the close could reach Meta after it.
const WindowMargin = time.Minute

// WindowExpiry is when the contact's window closes for our sends, or the
// zero time when it has never opened or Meta closed it early.
func WindowExpiry(c *model.Contact) time.Time {
	if c.LastInboundAt.IsZero() {
		return time.Time{}
	}
	if !c.WindowClosedAt.IsZero() && !c.WindowClosedAt.Before(c.LastInboundAt) {
		return time.Time{} // Meta said 131047 after the customer's last message
	}
	return c.LastInboundAt.Add(WindowLength - WindowMargin)
}

// WindowOpen reports whether a free-form message may be sent to c at now.
func WindowOpen(c *model.Contact, now time.Time) bool {
	exp := WindowExpiry(c)
	return !exp.IsZero() && now.Before(exp)
}
