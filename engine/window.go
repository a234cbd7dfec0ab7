package engine

import (
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
)

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
	exp := policy.WindowExpiry(c)
	if exp.IsZero() || before <= 0 {
		return time.Time{}
	}
	return exp.Add(policy.WindowMargin - before)
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
	if due.IsZero() || !due.After(t.now) || !policy.WindowOpen(t.contact, t.now) {
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
