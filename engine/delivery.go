package engine

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Late failures that say something about the customer rather than the
// message (docs/whatsapp.md §3).
const (
	// CodeUndeliverable: the customer cannot receive messages (not on
	// WhatsApp, an old app, …). The contact becomes Unreachable: nothing
	// more is sent to them until they write again.
	CodeUndeliverable = 131026
	// CodeEcosystemLimit: Meta did not deliver a marketing message to keep
	// the customer's engagement healthy; resending sooner than EcosystemHold
	// just fails again.
	CodeEcosystemLimit = 131049
	// EcosystemHold is how long no marketing template goes to a customer
	// after a 131049.
	EcosystemHold = 24 * time.Hour
)

// undeliverable records a 131026: the contact is unreachable from now
// until they write again (reachable). Repeats change nothing.
func (t *turn) undeliverable(m *model.Message) {
	c := t.contact
	if c.Unreachable {
		return
	}
	c.Unreachable, c.UnreachableAt = true, t.now
	c.UnreachableReason = fmt.Sprintf("%d: %s", m.ErrorCode, m.Error)
	t.changed = true
	t.note(m.Node, fmt.Sprintf("WhatsApp could not deliver to the customer (%d: %s): nothing more is sent to them until they write again", m.ErrorCode, m.Error))
}

// reachable clears Unreachable: the customer has written.
func (t *turn) reachable() {
	c := t.contact
	if !c.Unreachable {
		return
	}
	c.Unreachable, c.UnreachableAt, c.UnreachableReason = false, time.Time{}, ""
	t.changed = true
}

// ecosystemHeld records a 131049: no marketing template goes to the
// contact for EcosystemHold. One that arrives during a hold (a late status
// of a message sent before it, a redelivery) does not extend it.
func (t *turn) ecosystemHeld(m *model.Message) {
	c := t.contact
	if t.now.Before(c.HoldUntil) {
		return
	}
	c.HoldUntil = t.now.Add(EcosystemHold)
	t.changed = true
	t.note(m.Node, fmt.Sprintf("WhatsApp held back a message to keep the customer's engagement healthy (%d): no marketing template goes to them before %s",
		m.ErrorCode, c.HoldUntil.UTC().Format(time.RFC3339)))
}
