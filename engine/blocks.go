package engine

import (
	"github.com/parleyhq/parley/engine/model"
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
//   - flow time (runner.check): a template node whose send BlockTemplate
//     or the messaging limit refuses takes on_blocked;
//   - dispatch time (Dispatcher.send): a queued message whose contact became
//     unreachable (131026) or entered a marketing hold (131049) while it
//     waited is failed without asking Meta;
//   - opt-out (consent.go): templates still queued are cancelled.
//
// A template held by the messaging limit at dispatch time is not a block:
// it waits for capacity and goes out (its transcript entry says "held").

// block records a blocked send on the turn's contact, in the turn's commit.
func (t *turn) block(stage, conversation, node string, tpl *flows.TemplateSend, reason model.BlockReason, detail string) {
	b := model.Block{At: t.now, Reason: reason, Detail: detail, Stage: stage, Conversation: conversation, Node: node}
	if tpl != nil {
		b.Template = tpl.Name + "/" + tpl.Language
	}
	t.contact.AddBlock(b)
	t.changed = true
}
