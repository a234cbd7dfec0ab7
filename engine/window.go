package engine

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

// openWindow records a customer's message at t (the time they sent it,
// never later than now): the window runs 24 hours from the latest one.
func openWindow(c *model.Contact, t, now time.Time) {
	if t.IsZero() || t.After(now) {
		t = now
	}
	if t.After(c.LastInboundAt) {
		c.LastInboundAt = t
	}
}

// windowClosingAt is when a wait_reply's on_window_closing fires: before
// ahead of the moment WhatsApp closes the contact's window (the margin
// WindowExpiry keeps back is not counted twice), or the zero time when the
// window is not open.
func windowClosingAt(c *model.Contact, before time.Duration) time.Time {
	exp := WindowExpiry(c)
	if exp.IsZero() || before <= 0 {
		return time.Time{}
	}
	return exp.Add(WindowMargin - before)
}

// armWindowClosing sets the timer of a wait's on_window_closing, when the
// window is open and the moment is still ahead: with the window closed
// there is no last free-form message to send, and a moment already past
// (the flow came back to the wait after taking the exit) must not fire
// again at once. Each park computes it afresh from the window as it
// stands, so a reply that moved the window moves the timer too; the commit
// replaces the old one.
func (t *turn) armWindowClosing(node string, before time.Duration) {
	due := windowClosingAt(t.contact, before)
	if due.IsZero() || !due.After(t.now) || !WindowOpen(t.contact, t.now) {
		return
	}
	t.conv.Timers = append(t.conv.Timers, model.Timer{
		Due: due, Kind: model.TimerWindowClosing, Contact: t.conv.Contact, Conversation: t.conv.ID, Node: node,
	})
}

// windowClosingMoved is the new due time of a window-closing timer that
// fired while the window is later than when it was set (a reaction moves
// the window but not the flow, so nothing re-parked the wait), or the zero
// time when the timer fires on time.
func (t *turn) windowClosingMoved(tm model.Timer) time.Time {
	n := t.flow.Node(tm.Node)
	if n == nil || n.OnWindowClosing == nil {
		return time.Time{}
	}
	due := windowClosingAt(t.contact, n.OnWindowClosing.Before.Std())
	if !due.After(t.now) {
		return time.Time{}
	}
	return due
}
