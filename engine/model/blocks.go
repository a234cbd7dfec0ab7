package model

import "time"

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

// AddBlock appends b to the contact's blocks, dropping the oldest past
// MaxContactBlocks.
func (c *Contact) AddBlock(b Block) {
	c.Blocks = append(c.Blocks, b)
	if n := len(c.Blocks) - MaxContactBlocks; n > 0 {
		c.Blocks = append(c.Blocks[:0:0], c.Blocks[n:]...)
	}
}
