package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// BlockTemplate says why a template may not be sent to c now, or "": a
// reason of TemplateBlock, or a text of the send that breaks Meta's rules
// once filled in (CheckTemplateSend).
func BlockTemplate(reg templates.Lookup, t *flows.TemplateSend, c *model.Contact, now time.Time) string {
	if _, why := TemplateBlock(reg, t, c, now); why != "" {
		return why
	}
	if info, ok := templates.ShapeOf(reg, t); ok {
		if why := templates.ProblemsOf(templates.CheckTemplateSend(info, t, true), templates.ProblemText); why != "" {
			return fmt.Sprintf("template %s/%s cannot be sent as filled in: %s", t.Name, t.Language, why)
		}
	}
	return ""
}

// TemplateBlock is BlockTemplate with the reason's kind (blocks.go).
// A template sent while the window is closed is business-initiated and needs
// the contact's opt-in (docs/whatsapp.md §4.8). An opted-out contact gets
// no template; one who stopped marketing messages gets no MARKETING one.
// An unreachable contact (131026) gets none until they write again, and one
// under a 131049 hold no MARKETING one until it ends (delivery.go).
func TemplateBlock(reg templates.Lookup, t *flows.TemplateSend, c *model.Contact, now time.Time) (model.BlockReason, string) {
	if reason, why := RecipientBlock(reg, t.Name, t.Language, c, now); why != "" {
		return reason, why
	}
	info, _ := reg.Template(t.Name, t.Language)
	if why := templates.ProblemsOf(templates.CheckTemplateSend(info, t, true), templates.ProblemFit); why != "" {
		return model.BlockTemplate, fmt.Sprintf("template %s/%s does not fit what is sent: %s", t.Name, t.Language, why) // Meta: 132000, 132012, 131008, 131009
	}
	return "", ""
}

// RecipientBlock is the part of TemplateBlock that does not depend on the
// parameters: the contact's consent and reachability, and the template's
// approval. The inbox asks it before the agent fills a template in
// (TemplateRefusal).
func RecipientBlock(reg templates.Lookup, name, language string, c *model.Contact, now time.Time) (model.BlockReason, string) {
	id := name + "/" + language
	if c.OptedOut {
		return model.BlockOptedOut, "the contact opted out"
	}
	if why := UnreachableBlock(c); why != "" {
		return model.BlockUnreachable, why // Meta: 131026
	}
	if !WindowOpen(c, now) && !c.OptedIn {
		return model.BlockNoOptIn, fmt.Sprintf("template %s is business-initiated (window closed) and the contact has no recorded opt-in", id)
	}
	if reg == nil {
		return model.BlockTemplate, fmt.Sprintf("template %s: no template registry is configured", id)
	}
	info, ok := reg.Template(name, language)
	switch {
	case !ok:
		return model.BlockTemplate, fmt.Sprintf("template %s is not in the registry", id) // Meta: 132001
	case c.MarketingOptOut && strings.EqualFold(info.Category, whatsapp.CategoryMarketing):
		return model.BlockMarketingOptOut, fmt.Sprintf("template %s is a marketing template and the contact stopped marketing messages", id) // Meta: 131050
	case MarketingHoldBlock(id, info.Category, c, now) != "":
		return model.BlockHold, MarketingHoldBlock(id, info.Category, c, now) // Meta: 131049
	case info.Status != model.TemplateApproved:
		return model.BlockTemplate, fmt.Sprintf("template %s is %s, not APPROVED", id, info.Status)
	}
	return "", ""
}

// UnreachableBlock says why nothing may be sent to c, or "".
func UnreachableBlock(c *model.Contact) string {
	if !c.Unreachable {
		return ""
	}
	return fmt.Sprintf("the contact is unreachable: WhatsApp could not deliver to them on %s (%s); nothing is sent until they write again",
		c.UnreachableAt.UTC().Format(time.RFC3339), c.UnreachableReason)
}

// MarketingHoldBlock says why a template of category may not go to c now
// (a 131049 hold on marketing), or "".
func MarketingHoldBlock(id, category string, c *model.Contact, now time.Time) string {
	if !strings.EqualFold(category, whatsapp.CategoryMarketing) || !now.Before(c.HoldUntil) {
		return ""
	}
	return fmt.Sprintf("template %s is a marketing template and WhatsApp limited marketing to the contact (131049): held until %s",
		id, c.HoldUntil.UTC().Format(time.RFC3339))
}

// DeliveryBlock is the dispatcher's last check before a queued message goes
// out: it says why m may not be sent to c now, or "", with the reason's
// kind. It repeats the rules of BlockTemplate that can change while a
// message waits: the contact became unreachable, a marketing hold began,
// or the template no longer takes what the send gives.
func DeliveryBlock(reg templates.Lookup, m *model.Message, c *model.Contact, now time.Time) (model.BlockReason, string) {
	if why := UnreachableBlock(c); why != "" {
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
	if why := MarketingHoldBlock(m.Template.Name+"/"+m.Template.Language, info.Category, c, now); why != "" {
		return model.BlockHold, why
	}
	return "", ""
}
