package engine

import (
	"time"

	"github.com/parleyhq/parley/flows"
)

// Blocks: every business-initiated send that WhatsApp's rules stopped
// before it reached Meta is recorded on its contact with the reason, so
// that the REST API can say why a customer got nothing (issue 4, "Visible").
//
// They are kept as a bounded list on the contact (Contact.Blocks, the
// newest MaxContactBlocks), written in the same commit as the decision:
// the contact is read for every check anyway, so listing them costs no
// query, and the bound keeps the record small however often a schedule
// hits the same contact. The conversation's transcript keeps its own note
// of each block, in full and forever; the contact's list is the index.
//
// Where they happen:
//   - flow time (runner.check): a template node whose send blockTemplate
//     or the messaging limit refuses takes on_blocked;
//   - dispatch time (Dispatcher.send): a queued message whose contact became
//     unreachable (131026) or entered a marketing hold (131049) while it
//     waited is failed without asking Meta;
//   - opt-out (consent.go): templates still queued are cancelled.
//
// A template held by the messaging limit at dispatch time is not a block:
// it waits for capacity and goes out (its transcript entry says "held").

// BlockReason is why a send was blocked.
type BlockReason string

// Block reasons.
const (
	// BlockNoOptIn: a business-initiated send (the window is closed) to a
	// contact with no recorded opt-in.
	BlockNoOptIn BlockReason = "no_opt_in"
	// BlockOptedOut: the contact opted out.
	BlockOptedOut BlockReason = "opted_out"
	// BlockMarketingOptOut: a MARKETING template to a contact who stopped
	// marketing messages in WhatsApp (131050, user_preferences).
	BlockMarketingOptOut BlockReason = "marketing_opt_out"
	// BlockUnreachable: Meta could not deliver to the contact (131026).
	BlockUnreachable BlockReason = "unreachable"
	// BlockHold: a MARKETING template during a 131049 hold.
	BlockHold BlockReason = "hold"
	// BlockLimit: the messaging limit (unique customers reached outside
	// their window in a moving 24 h) is reached.
	BlockLimit BlockReason = "limit"
	// BlockRestricted: Meta restricted the account's business-initiated
	// messaging (account_update ACCOUNT_RESTRICTION).
	BlockRestricted BlockReason = "restricted"
	// BlockTemplate: the template is missing from the registry, not
	// APPROVED, or the flow's parameters do not fit it.
	BlockTemplate BlockReason = "template"
)

// MaxContactBlocks bounds Contact.Blocks: the newest are kept.
const MaxContactBlocks = 50

// Block is one send that was blocked.
type Block struct {
	At     time.Time   `json:"at"`
	Reason BlockReason `json:"reason"`
	// Detail is the full explanation, as the transcript's note gives it.
	Detail string `json:"detail"`
	// Stage is where it was blocked: "flow" (the node took on_blocked),
	// "dispatch" (a queued message was failed) or "opt_out" (a queued
	// template was cancelled).
	Stage        string `json:"stage"`
	Conversation string `json:"conversation,omitempty"`
	Node         string `json:"node,omitempty"`
	// Template is the template's name/language, when it was one.
	Template string `json:"template,omitempty"`
}

// Stages of a block.
const (
	StageFlow     = "flow"
	StageDispatch = "dispatch"
	StageOptOut   = "opt_out"
)

// addBlock appends b to the contact's blocks, dropping the oldest past
// MaxContactBlocks.
func (c *Contact) addBlock(b Block) {
	c.Blocks = append(c.Blocks, b)
	if n := len(c.Blocks) - MaxContactBlocks; n > 0 {
		c.Blocks = append(c.Blocks[:0:0], c.Blocks[n:]...)
	}
}

// block records a blocked send on the turn's contact, in the turn's commit.
func (t *turn) block(stage, conversation, node string, tpl *flows.TemplateSend, reason BlockReason, detail string) {
	b := Block{At: t.now, Reason: reason, Detail: detail, Stage: stage, Conversation: conversation, Node: node}
	if tpl != nil {
		b.Template = tpl.Name + "/" + tpl.Language
	}
	t.contact.addBlock(b)
	t.changed = true
}
