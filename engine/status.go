package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/nodes"
	"github.com/parleyhq/parley/whatsapp"
)

// Meta error codes the engine acts on (docs/whatsapp.md §3).
const (
	// CodeWindowClosed: a free-form message outside the 24-hour window.
	// Meta accepts the send and fails it later in a status webhook.
	CodeWindowClosed = 131047
	// CodeMarketingOptOut: the customer stopped marketing messages in
	// WhatsApp ("Offers and announcements"); docs/whatsapp.md §4.8.
	CodeMarketingOptOut = 131050
)

// statusStates maps Meta's statuses to message states.
var statusStates = map[string]model.MessageState{
	whatsapp.StatusSent: model.Sent, whatsapp.StatusDelivered: model.Delivered, whatsapp.StatusRead: model.Read,
	whatsapp.StatusPlayed: model.Read, whatsapp.StatusFailed: model.SendFailed,
}

// HandleStatus applies a status webhook to the message it is about, found
// by the biz_opaque_callback_data Parley sent with it, or else by its
// wamid among recent messages. When both name a message they must agree: a
// status whose wamid is not the one Meta gave for the message its callback
// data names is logged and ignored. A failed status with 131047 closes the
// window in the contact's state and sends the conversation down its
// template path. Statuses of messages Parley did not send are ignored.
// Applying the same status twice changes nothing, and a message's state
// only moves forward, in whatever order statuses and the send's own
// outcome arrive.
func (e *Engine) HandleStatus(ctx context.Context, st *whatsapp.Status) (err error) {
	conv, seq, ok := parseCallbackData(st.BizOpaqueCallbackData)
	if !ok && st.ID != "" {
		conv, seq, ok = e.messages.byWAMID(st.ID)
	}
	state, known := statusStates[st.Status]
	if !ok || !known {
		e.metrics.statuses.Inc("ignored")
		return nil
	}
	defer func(start time.Time) { e.observeEvent(eventKindStatus, start, false, err) }(time.Now())
	ref := &model.Message{Conversation: conv, Seq: seq, Contact: contactOf(conv)}
	return e.withMessage(ctx, ref, func(t *turn, m *model.Message) {
		if m.WAMID != "" && st.ID != "" && m.WAMID != st.ID {
			e.log.Warn("status ignored: its wamid is not the one Meta gave for the message its callback data names",
				"conversation", m.Conversation, "seq", m.Seq, "status", st.Status, "wamid", st.ID, "message_wamid", m.WAMID)
			e.metrics.statuses.Inc("mismatch")
			return
		}
		e.metrics.statuses.Inc(st.Status)
		if m.WAMID == "" {
			m.WAMID = st.ID
		}
		if state != model.SendFailed {
			m.Advance(state)
			return
		}
		if m.Advance(model.SendFailed) && len(st.Errors) > 0 {
			m.ErrorCode, m.Error = st.Errors[0].Code, errorText(st.Errors[0])
		}
		if m.State == model.SendFailed {
			t.sendFailed(m)
		}
	})
}

func errorText(e whatsapp.Error) string {
	s := e.Title
	if e.Details != "" {
		s += ": " + e.Details
	} else if e.Message != "" && e.Message != e.Title {
		s += ": " + e.Message
	}
	return s
}

// withMessage loads one transcript message under its contact's lock, lets
// fn change it (and the turn), and commits both. A message that no longer
// exists is skipped. fn may change the message's delivery fields (State,
// WAMID, ErrorCode, Error) and the turn; when it changed none of them (a
// status redelivered, a "delivered" after "read"), nothing is committed.
func (e *Engine) withMessage(ctx context.Context, ref *model.Message, fn func(t *turn, m *model.Message)) error {
	unlock, err := e.lock(ctx, ref.Contact)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := e.begin(ctx, ref.Contact, e.clock.Now())
	if err != nil {
		return err
	}
	m, err := e.message(ctx, ref.Conversation, ref.Seq)
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading message %s/%d: %w", ref.Conversation, ref.Seq, err)
	}
	from := m.State
	was := delivery{m.State, m.WAMID, m.ErrorCode, m.Error}
	fn(t, m)
	if !t.changed && was == (delivery{m.State, m.WAMID, m.ErrorCode, m.Error}) && t.change.Empty() {
		// Nothing moved: a commit would cost the store's single writer a
		// page and every waiter of its batch the time to write it, for no
		// change.
		return nil
	}
	t.moved(m, from)
	t.change.Updates = append(t.change.Updates, m)
	if !t.changed {
		// Only the message moved: leave the contact and conversation be.
		c := t.messageOnly()
		if err := e.store.Commit(ctx, &c); err != nil {
			return fmt.Errorf("updating message %s/%d: %w", m.Conversation, m.Seq, err)
		}
		e.messages.put(c.Updates)
		e.observers.notify(&c, t.contact, t.conv)
		return nil
	}
	return t.commit()
}

// message returns a transcript message, from the message cache when it is
// there. The caller holds the message's contact's lock.
func (e *Engine) message(ctx context.Context, conversation string, seq uint64) (*model.Message, error) {
	if m, ok := e.messages.get(conversation, seq); ok {
		return m, nil
	}
	m, err := e.store.Message(ctx, conversation, seq)
	if err != nil {
		return nil, err
	}
	e.messages.put([]*model.Message{m})
	return m, nil
}

// RecordSent records that a queued message went out with wamid and takes it
// out of the outbox, as the dispatcher does once Meta accepts a send; the
// message is marked sent. It is for tools that stand in for the dispatcher
// and WhatsApp, such as conversation scripts.
func (e *Engine) RecordSent(ctx context.Context, it model.OutboxItem, wamid string) error {
	return e.withMessage(ctx, it.Message, func(t *turn, m *model.Message) {
		m.State, m.WAMID = model.Sent, wamid
		t.change.Dequeue = append(t.change.Dequeue, it.Seq)
	})
}

// messageOnly is the turn's change without its contact and conversation,
// for a turn that changed neither: a commit of it leaves them be.
func (t *turn) messageOnly() model.Change {
	c := t.change
	return model.Change{At: c.At, Updates: c.Updates, Dequeue: c.Dequeue, Claim: c.Claim, Unclaim: c.Unclaim, Reached: c.Reached, Counts: c.Counts, Events: c.Events}
}

// withQueued is withMessage for a message waiting in the outbox, as the
// dispatcher read it: fn decides whether to send it (and may change the
// message and, through its sendTurn, the turn when not). The change claims the outbox entry
// (Change.Claim), which makes it commit only while the entry is still
// queued and unclaimed: ErrNotQueued when an opt-out cancelled it meanwhile,
// ErrClaimed when an earlier attempt's outcome was never recorded. Nothing
// else changes a queued message without dequeuing it, so the outbox's copy
// is as good as the stored one, and the common case, a send going ahead,
// neither reads nor rewrites the transcript: it writes only the claim.
// When fn does not send, the claim is taken back in the same change,
// unless fn dequeued the message.
func (e *Engine) withQueued(ctx context.Context, it model.OutboxItem, fn func(t sendTurn, m *model.Message) (send bool)) error {
	unlock, err := e.lock(ctx, it.Message.Contact)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := e.begin(ctx, it.Message.Contact, e.clock.Now())
	if err != nil {
		return err
	}
	m := *it.Message
	from := m.State
	was := delivery{m.State, m.WAMID, m.ErrorCode, m.Error}
	send := fn(dispatchTurn{t}, &m)
	t.change.Claim = append(t.change.Claim, it.Seq)
	if !send && !slices.Contains(t.change.Dequeue, it.Seq) {
		t.change.Unclaim = append(t.change.Unclaim, it.Seq)
	}
	moved := was != delivery{m.State, m.WAMID, m.ErrorCode, m.Error}
	if moved {
		t.moved(&m, from)
		t.change.Updates = append(t.change.Updates, &m)
	}
	if t.changed {
		return t.commit()
	}
	c := t.messageOnly()
	if err := e.store.Commit(ctx, &c); err != nil {
		return fmt.Errorf("claiming outbox item %d: %w", it.Seq, err)
	}
	e.messages.put(c.Updates)
	if moved {
		e.observers.notify(&c, t.contact, t.conv)
	}
	return nil
}

// delivery is what withMessage's fn may change of a message.
type delivery struct {
	state     model.MessageState
	wamid     string
	errorCode int
	err       string
}

// sendFailed acts on a message that failed for good: refused by Meta with
// a permanent error, failed in a status webhook, or refused by the
// dispatcher before it reached Meta (ErrorCode 0). Every such failure is
// logged. A 131047 (the window closed) sends the conversation down its
// template path (windowClosed). Any other failure moves the conversation
// if it waits on the message (messageFailed); 131050, 131026 and 131049
// first record what they say about the customer (a marketing stop, an
// unreachable customer, a marketing hold), which stands whatever the
// conversation does.
func (t *turn) sendFailed(m *model.Message) {
	t.e.log.Warn("message failed for good", "code", m.ErrorCode, "conversation", m.Conversation, "seq", m.Seq, "node", m.Node, "error", m.Error)
	switch m.ErrorCode {
	case CodeWindowClosed:
		t.contact.WindowClosedAt = t.now
		t.changed = true
		t.windowClosed(m)
		return
	case CodeMarketingOptOut:
		t.marketingStopped(m)
	case CodeUndeliverable:
		t.undeliverable(m)
	case CodeEcosystemLimit:
		t.ecosystemHeld(m)
	}
	t.messageFailed(m)
}

// messageFailed moves the conversation that sent m, a bot message that
// failed for good, when it still waits on it: to the on_error exit of the
// node that sent it, else the conversation fails with the reason. A
// conversation waits on a message when it is the contact's running
// conversation, the bot holds it (an agent answers for their own messages
// and sees the failure in the inbox), and the customer has not written
// since the message was sent (after that the conversation has moved on,
// and the failure stays in the transcript). A burst of failures moves it
// once, like a window-closed reroute.
func (t *turn) messageFailed(m *model.Message) {
	conv := t.conv
	if m.Direction != model.Out || m.Node == "" || conv == nil || conv.ID != m.Conversation || conv.Status == model.Agent {
		return
	}
	if m.Seq <= conv.ReroutedThrough || m.Seq < conv.InboundSeq {
		return
	}
	conv.ReroutedThrough = conv.Seq
	t.changed = true
	what := m.Error
	if m.ErrorCode != 0 {
		what = fmt.Sprintf("%d: %s", m.ErrorCode, m.Error)
	}
	reason := fmt.Sprintf("node %q's message was not delivered (%s)", m.Node, what)
	n := t.flow.Node(m.Node)
	if n == nil || n.OnError == "" {
		conv.Node = m.Node // the drop-off counts where the message failed
		t.fail(m.Node, reason)
		return
	}
	t.note(m.Node, fmt.Sprintf("%s; taking %q", reason, n.OnError))
	t.count(m.Node, model.CountExit, nodes.ExitError)
	t.trace(m.Node, nodes.ExitError, "", "")
	conv.Retries = 0
	t.run(n.OnError, arriveEvent())
}

// windowClosed sends the conversation that produced a free-form message
// that could not go out (the window closed) down its template path: the
// node's on_window_closed, else the flow's reengage, else the conversation
// fails. A burst of such failures reroutes once.
func (t *turn) windowClosed(m *model.Message) {
	conv := t.conv
	if m.Message == nil || m.Node == "" || conv == nil || conv.ID != m.Conversation || conv.Status == model.Agent {
		return // an agent's message, or a conversation that has moved on
	}
	if m.Seq <= conv.ReroutedThrough {
		return
	}
	conv.ReroutedThrough = conv.Seq
	n := t.flow.Node(m.Node)
	if n == nil {
		return
	}
	alt, exit := n.OnWindowClosed, nodes.ExitWindowClosed
	if alt == "" {
		alt, exit = t.flow.Reengage, nodes.ExitReengage
	}
	t.e.metrics.reroutes.Inc()
	if alt == "" {
		t.fail(m.Node, fmt.Sprintf("the 24-hour window closed before node %q's message could be delivered, and there is no template path", m.Node))
		return
	}
	t.note(m.Node, fmt.Sprintf("WhatsApp did not deliver node %q's message: the window had closed; taking %q", m.Node, alt))
	t.count(m.Node, model.CountExit, exit)
	t.trace(m.Node, exit, "", "")
	conv.Retries = 0
	t.run(alt, arriveEvent())
}
