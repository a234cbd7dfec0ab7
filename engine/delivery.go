package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
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

// unreachableBlock says why nothing may be sent to c, or "".
func unreachableBlock(c *model.Contact) string {
	if !c.Unreachable {
		return ""
	}
	return fmt.Sprintf("the contact is unreachable: WhatsApp could not deliver to them on %s (%s); nothing is sent until they write again",
		c.UnreachableAt.UTC().Format(time.RFC3339), c.UnreachableReason)
}

// marketingHoldBlock says why a template of category may not go to c now
// (a 131049 hold on marketing), or "".
func marketingHoldBlock(id, category string, c *model.Contact, now time.Time) string {
	if !strings.EqualFold(category, whatsapp.CategoryMarketing) || !now.Before(c.HoldUntil) {
		return ""
	}
	return fmt.Sprintf("template %s is a marketing template and WhatsApp limited marketing to the contact (131049): held until %s",
		id, c.HoldUntil.UTC().Format(time.RFC3339))
}

// deliveryBlock is the dispatcher's last check before a queued message goes
// out: it says why m may not be sent to c now, or "", with the reason's
// kind. It repeats the rules of blockTemplate that can change while a
// message waits: the contact became unreachable, a marketing hold began,
// or the template no longer takes what the send gives.
func deliveryBlock(reg templates.Templates, m *model.Message, c *model.Contact, now time.Time) (model.BlockReason, string) {
	if why := unreachableBlock(c); why != "" {
		return model.BlockUnreachable, why
	}
	if m.Template == nil || reg == nil {
		return "", ""
	}
	info, ok := reg.Template(m.Template.Name, m.Template.Language)
	if !ok {
		return "", ""
	}
	// The template may have changed while the message waited (edited,
	// re-synced): the send is checked against it again (132000, 132012).
	if why := templates.ProblemsOf(templates.CheckTemplateSend(info, m.Template, true), templates.ProblemFit); why != "" {
		return model.BlockTemplate, fmt.Sprintf("template %s/%s does not fit what is sent: %s", m.Template.Name, m.Template.Language, why)
	}
	if !now.Before(c.HoldUntil) {
		return "", ""
	}
	if why := marketingHoldBlock(m.Template.Name+"/"+m.Template.Language, info.Category, c, now); why != "" {
		return model.BlockHold, why
	}
	return "", ""
}
