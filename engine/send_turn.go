package engine

import (
	"context"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// sendTurn is what the dispatcher may do to the conversation of a message
// it sends: under the conversation's lock, in the commit that records what
// became of the message (withSendTurn, withQueued). The runner's turn stands
// behind it (dispatchTurn); the dispatcher sees nothing else of it.
type sendTurn interface {
	// Contact is the message's contact as the turn loaded it, for the
	// dispatcher to read: its window, consent and reachability.
	Contact() *model.Contact
	// Now is the turn's time.
	Now() time.Time
	// Dequeue takes outbox entry seq out of the outbox with the commit;
	// Unclaim leaves it queued, no longer claimed.
	Dequeue(seq uint64)
	Unclaim(seq uint64)
	// Reach records a business-initiated send against the messaging limit
	// (limit.go) and returns every reach the commit records.
	Reach(r model.Reach) []model.Reach
	// Block records on the contact that WhatsApp's rules stopped m at
	// dispatch, and why (blocks.go).
	Block(m *model.Message, reason model.BlockReason, why string)
	// Failed acts on m, failed for good (sendFailed): its conversation
	// moves on if it waits on m.
	Failed(m *model.Message)
	// WindowClosed acts on m, a free-form message the 24-hour window
	// closed on before it went (windowClosed): its conversation takes its
	// template path.
	WindowClosed(m *model.Message)
}

// dispatchTurn is a turn as the dispatcher sees it.
type dispatchTurn struct{ t *turn }

var _ sendTurn = dispatchTurn{}

func (d dispatchTurn) Contact() *model.Contact { return d.t.contact }
func (d dispatchTurn) Now() time.Time          { return d.t.now }
func (d dispatchTurn) Dequeue(seq uint64)      { d.t.change.Dequeue = append(d.t.change.Dequeue, seq) }
func (d dispatchTurn) Unclaim(seq uint64)      { d.t.change.Unclaim = append(d.t.change.Unclaim, seq) }

func (d dispatchTurn) Reach(r model.Reach) []model.Reach {
	d.t.change.Reached = append(d.t.change.Reached, r)
	return d.t.change.Reached
}

func (d dispatchTurn) Block(m *model.Message, reason model.BlockReason, why string) {
	d.t.block(model.StageDispatch, m.Conversation, m.Node, m.Template, reason, why)
}

func (d dispatchTurn) Failed(m *model.Message)       { d.t.sendFailed(m) }
func (d dispatchTurn) WindowClosed(m *model.Message) { d.t.windowClosed(m) }

// withSendTurn is withMessage for the dispatcher: fn sees the turn as a
// sendTurn.
func (e *Engine) withSendTurn(ctx context.Context, ref *model.Message, fn func(t sendTurn, m *model.Message)) error {
	return e.withMessage(ctx, ref, func(t *turn, m *model.Message) { fn(dispatchTurn{t}, m) })
}
