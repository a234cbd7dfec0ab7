package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/flows"
)

// What agents do to a handed-off conversation, by conversation id: the
// assignment that engine/inbox decides, transfers, replies and templates,
// internal notes, tags, and the resolution that gives the conversation
// back to the bot. Each is one turn under the contact's lock, committed
// whole, so the observers (observer.go) see it like any other event.
//
// The no-agent timeout (a handoff's no_agent_after) fires on_no_agent only
// while no agent holds the conversation: an assignment makes it moot (the
// timer is dropped when it comes due), an agent's reply or template
// removes it at once. A conversation that returns to its queue before
// the timer is due (its agent went offline) can still take on_no_agent.

// Errors of agent actions.
var (
	// ErrStaleHandoff is returned when an action was decided for a handoff
	// that is over: the conversation was resolved and handed off again.
	ErrStaleHandoff = errors.New("the conversation has been handed off again since")
	// ErrAssigned is returned when an automatic assignment or a claim
	// (Assign with by "" or by the agent) was decided for a conversation
	// nobody held, and another agent holds it now, or when an agent's
	// return to the queue finds the conversation held by someone else: a
	// decision made on a view that another process's commit (or a
	// transfer) has overtaken. Nothing is changed.
	ErrAssigned = errors.New("the conversation is held by another agent")
	// ErrTemplateBlocked is returned when an agent's template may not be
	// sent (not approved, wrong parameters, no opt-in, limit reached); the
	// reason comes with it.
	ErrTemplateBlocked = errors.New("template may not be sent")
)

// Limits on what agents write, in runes.
const (
	// MaxAgentText is WhatsApp's cap on a text message's body.
	MaxAgentText = 4096
	// MaxNoteText caps an internal note: notes are for colleagues, not a
	// place to store documents.
	MaxNoteText = 4096
	// MaxTags and MaxTagLen bound a contact's tags.
	MaxTags   = 50
	MaxTagLen = 64
)

// handedOff starts a new handoff: nobody holds it yet, and an outcome of
// an earlier one no longer applies.
func (t *turn) handedOff() {
	c := t.conv
	c.Handoffs++
	c.HandoffAt, c.HandoffSeq = t.now, t.startSeq
	c.Assignee, c.AssignedAt, c.Outcome = "", time.Time{}, ""
}

// agentTurn begins a turn on the conversation convID under its contact's
// lock, which the caller must release. The conversation must be the
// contact's running one and handed off (else ErrNoConversation) and, when
// handoff is not 0, still in that handoff (else ErrStaleHandoff).
func (e *Engine) agentTurn(ctx context.Context, convID string, handoff int) (*turn, func(), error) {
	key := contactOf(convID)
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	t, err := e.begin(ctx, key, e.clock.Now())
	switch {
	case err != nil:
		unlock()
		return nil, nil, err
	case t.conv == nil || t.conv.ID != convID || t.conv.Status != model.Agent:
		unlock()
		return nil, nil, fmt.Errorf("conversation %s: %w", convID, ErrNoConversation)
	case handoff != 0 && t.conv.Handoffs != handoff:
		unlock()
		return nil, nil, fmt.Errorf("conversation %s handoff %d: %w", convID, handoff, ErrStaleHandoff)
	}
	return t, unlock, nil
}

// Assign gives a handed-off conversation to an agent (a user's email), or
// back to its queue when agent is "". handoff is the Conversation.Handoffs
// the decision was made for (0: whichever is current). by is who decided
// ("" for the automatic assignment); the transcript gets a note. The
// automatic assignment and a claim (by == agent) take only a conversation
// nobody holds, and a return to the queue (agent "") by an agent only one
// they hold: else ErrAssigned, so that a decision made on a view another
// process has overtaken never takes a conversation from its holder.
func (e *Engine) Assign(ctx context.Context, convID string, handoff int, agent, by string) error {
	t, unlock, err := e.agentTurn(ctx, convID, handoff)
	if err != nil {
		return err
	}
	defer unlock()
	c := t.conv
	if c.Assignee == agent {
		return nil
	}
	if (agent != "" && (by == "" || by == agent) && c.Assignee != "") || (agent == "" && by != "" && c.Assignee != by) {
		return fmt.Errorf("conversation %s is held by %q: %w", convID, c.Assignee, ErrAssigned)
	}
	switch {
	case agent == "":
		t.agentNote(by, "returned to queue "+c.Queue)
	case by == "" || by == agent:
		t.agentNote(by, "assigned to "+agent)
	default:
		t.agentNote(by, "assigned to "+agent+" by "+by)
	}
	c.Assignee, c.AssignedAt = agent, t.now
	if agent == "" {
		c.AssignedAt = time.Time{}
	}
	return t.commit()
}

// Transfer moves a handed-off conversation to another queue (queue "":
// it stays in its own) and to agent, or unassigned in that queue when
// agent is "". by is who transferred it.
func (e *Engine) Transfer(ctx context.Context, convID, queue, agent, by string) error {
	t, unlock, err := e.agentTurn(ctx, convID, 0)
	if err != nil {
		return err
	}
	defer unlock()
	c := t.conv
	if queue == "" {
		queue = c.Queue
	}
	if queue == c.Queue && agent == c.Assignee {
		return nil
	}
	what := "transferred to queue " + queue
	if agent != "" {
		what += ", agent " + agent
	}
	if by != "" {
		what += " by " + by
	}
	t.agentNote(by, what)
	c.Queue, c.Assignee, c.AssignedAt = queue, agent, t.now
	if agent == "" {
		c.AssignedAt = time.Time{}
	}
	return t.commit()
}

// AgentSend sends an agent's free-form message in a handed-off
// conversation: AgentReply, by conversation id. Outside the window it is
// refused with ErrWindowClosed: only a template may go (AgentSendTemplate).
func (e *Engine) AgentSend(ctx context.Context, convID, agent string, m flows.Message) error {
	t, unlock, err := e.agentTurn(ctx, convID, 0)
	if err != nil {
		return err
	}
	defer unlock()
	if !policy.WindowOpen(t.contact, t.now) {
		return ErrWindowClosed
	}
	t.record(&model.Message{Direction: model.Out, Sender: "agent:" + agent, Message: &m, State: model.Queued})
	t.agentAnswered()
	return t.commit()
}

// AgentSendTemplate sends an approved template in a handed-off
// conversation, inside or outside the window, checked as a flow's
// template is (opt-in when the window is closed, approval, parameters,
// the messaging limit): a template that may not go is refused with
// ErrTemplateBlocked and the reason.
func (e *Engine) AgentSendTemplate(ctx context.Context, convID, agent string, tpl flows.TemplateSend) error {
	t, unlock, err := e.agentTurn(ctx, convID, 0)
	if err != nil {
		return err
	}
	defer unlock()
	if why := policy.BlockTemplate(e.templatesFrom(t.contact.Key.PhoneNumberID()), &tpl, t.contact, t.now); why != "" {
		return fmt.Errorf("%w: %s", ErrTemplateBlocked, why)
	}
	why, _, err := e.limitBlock(ctx, t.contact, t.now)
	if err != nil {
		return fmt.Errorf("checking the messaging limit: %w", err)
	}
	if why != "" {
		return fmt.Errorf("%w: %s", ErrTemplateBlocked, why)
	}
	t.record(&model.Message{Direction: model.Out, Sender: "agent:" + agent, Template: &tpl, State: model.Queued})
	t.agentAnswered()
	return t.commit()
}

// agentAnswered: a person has answered, so the no-agent timeout no longer
// applies.
func (t *turn) agentAnswered() {
	t.conv.Timers = withoutKind(t.conv.Timers, model.TimerNoAgent)
	t.touch()
}

// AddNote adds an agent's internal note to a handed-off conversation's
// transcript; the customer never sees it.
func (e *Engine) AddNote(ctx context.Context, convID, agent, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxNoteText {
		return fmt.Errorf("a note holds 1 to %d characters", MaxNoteText)
	}
	t, unlock, err := e.agentTurn(ctx, convID, 0)
	if err != nil {
		return err
	}
	defer unlock()
	t.record(&model.Message{Direction: model.Note, Sender: "agent:" + agent, Text: text})
	return t.commit()
}

// SetTags replaces a contact's tags: trimmed, repeats dropped, in the
// order given; at most MaxTags of at most MaxTagLen runes each.
func (e *Engine) SetTags(ctx context.Context, key model.ContactKey, tags []string) (*model.Contact, error) {
	var clean []string
	for _, tag := range tags {
		tag = strings.TrimSpace(tag)
		if tag == "" || slices.Contains(clean, tag) {
			continue
		}
		if utf8.RuneCountInString(tag) > MaxTagLen {
			return nil, fmt.Errorf("tag %.20q… is longer than %d characters", tag, MaxTagLen)
		}
		clean = append(clean, tag)
	}
	if len(clean) > MaxTags {
		return nil, fmt.Errorf("a contact holds at most %d tags", MaxTags)
	}
	if _, err := e.store.Contact(ctx, key); err != nil {
		return nil, err
	}
	return e.UpdateContact(ctx, key, func(c *model.Contact) { c.Tags = clean })
}

// ResolveConversation is Resolve by conversation id, by an agent: the
// outcome is kept on the conversation and in vars.handoff_outcome, and
// the flow resumes at the handoff node's next.
func (e *Engine) ResolveConversation(ctx context.Context, convID, agent, outcome string) error {
	t, unlock, err := e.agentTurn(ctx, convID, 0)
	if err != nil {
		return err
	}
	defer unlock()
	what := "resolved"
	if agent != "" {
		what += " by " + agent
	}
	if outcome != "" {
		what += ": " + outcome
	}
	t.agentNote(agent, what)
	t.conv.Outcome = outcome
	t.touch()
	t.resolvedBy, t.resolver = "agent", agent
	t.run(t.conv.Node, resolvedEvent(outcome))
	return t.commit()
}

// AutoReply sends the inbox's automatic free-form message (a queue closed
// for the night says when it opens) to a conversation still waiting,
// unassigned, in the given handoff. With the window closed it is refused
// with ErrWindowClosed: nothing free-form may go, and the customer is not
// sent a template they did not ask for.
func (e *Engine) AutoReply(ctx context.Context, convID string, handoff int, text string) error {
	t, unlock, err := e.agentTurn(ctx, convID, handoff)
	if err != nil {
		return err
	}
	defer unlock()
	if t.conv.Assignee != "" {
		return nil
	}
	if !policy.WindowOpen(t.contact, t.now) {
		return ErrWindowClosed
	}
	m := flows.Message{Type: flows.MsgText, Text: text}
	t.record(&model.Message{Direction: model.Out, Sender: "system", Node: t.conv.Node, Message: &m, State: model.Queued})
	return t.commit()
}

// agentNote records who did what in the transcript, as a note.
func (t *turn) agentNote(by, text string) {
	sender := "system"
	if by != "" {
		sender = "agent:" + by
	}
	t.record(&model.Message{Direction: model.Note, Sender: sender, Node: t.conv.Node, Text: text})
}
