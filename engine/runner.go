package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/nodes"
	"github.com/parleyhq/parley/whatsapp"
)

// MaxStepsPerEvent caps the nodes one event may run. A flow that loops
// without waiting would otherwise spin forever; the validator refuses such
// cycles, and this is the runtime backstop: the conversation fails with a
// clear reason instead of hanging.
const MaxStepsPerEvent = 100

func arriveEvent() nodes.Event                { return nodes.Event{Kind: nodes.Arrive} }
func timeoutEvent() nodes.Event               { return nodes.Event{Kind: nodes.Timeout} }
func noAgentEvent() nodes.Event               { return nodes.Event{Kind: nodes.NoAgent} }
func windowClosingEvent() nodes.Event         { return nodes.Event{Kind: nodes.WindowClosing} }
func inboundEvent(r *flows.Reply) nodes.Event { return nodes.Event{Kind: nodes.Inbound, Reply: r} }
func resolvedEvent(outcome string) nodes.Event {
	return nodes.Event{Kind: nodes.AgentResolved, Outcome: outcome}
}

// turn is one event's work on one conversation: the state as loaded, what
// the nodes did to it, and the Change that will commit it.
type turn struct {
	e       *Engine
	ctx     context.Context
	now     time.Time
	contact *model.Contact
	conv    *model.Conversation
	flow    *flows.Flow
	env     flows.Env
	pending *flows.Reply
	change  model.Change
	// timers as loaded, to commit only the difference.
	loadedTimers []model.Timer
	// changed is set by whatever changes the contact or conversation;
	// a turn that only updates messages (a delivery status, a send's
	// outcome) commits just those.
	changed bool
	// startSeq is the conversation's transcript seq when the turn took it
	// up: 0 for one it started.
	startSeq uint64
	// draining is set while held messages are handled (calls.go).
	draining bool

	// For the events the commit records (events.go): the state the turn
	// began with, the conversation it started, the inbound message it
	// took, and who resolved a handoff.
	was          loaded
	startedID    string
	inbound      *Inbound
	receivedDone bool
	resolvedBy   string
	resolver     string
}

// begin loads a contact (new if unknown) and its running conversation.
func (e *Engine) begin(ctx context.Context, key model.ContactKey, now time.Time) (*turn, error) {
	t := &turn{e: e, ctx: ctx, now: now}
	c, conv, cached := e.cache.get(key)
	if !cached {
		var err error
		c, err = e.store.Contact(ctx, key)
		switch {
		case errors.Is(err, model.ErrNotFound):
			c = &model.Contact{Key: key}
		case err != nil:
			return nil, fmt.Errorf("loading contact %s: %w", key, err)
		}
	}
	t.contact = c
	t.change.Contact = c
	t.change.At = now
	if c.Conversation == "" {
		t.snapshot()
		return t, nil
	}
	if conv == nil {
		var err error
		conv, err = e.store.Conversation(ctx, c.Conversation)
		switch {
		case errors.Is(err, model.ErrNotFound):
			// Deleted by the store's retention, which deletes only
			// conversations that are done: none is running.
			c.Conversation = ""
			return t, nil
		case err != nil:
			return nil, fmt.Errorf("loading conversation %s: %w", c.Conversation, err)
		}
	}
	if conv.Status.Done() {
		c.Conversation = ""
		t.snapshot()
		return t, nil
	}
	f, err := e.Flow(ctx, conv.Flow, conv.Version)
	if err != nil {
		return nil, err
	}
	t.attach(conv, f)
	t.loadedTimers = append([]model.Timer(nil), conv.Timers...)
	t.snapshot()
	return t, nil
}

func (t *turn) attach(conv *model.Conversation, f *flows.Flow) {
	t.conv, t.flow = conv, f
	t.startSeq = conv.Seq
	t.change.Conversations = []*model.Conversation{conv}
}

// start begins a new conversation on a published flow version.
func (t *turn) start(v flowVersion) {
	f := v.flow
	c := t.contact
	c.Conversations++
	conv := &model.Conversation{
		ID:        fmt.Sprintf("%s#%d", c.Key, c.Conversations),
		Contact:   c.Key,
		Flow:      f.ID,
		Version:   v.version,
		Status:    model.Active,
		Vars:      maps.Clone(f.Vars),
		StartedAt: t.now,
	}
	if conv.Vars == nil {
		conv.Vars = map[string]any{}
	}
	c.Conversation = conv.ID
	t.startedID = conv.ID
	t.attach(conv, f)
	t.touch()
}

// touch records activity: the conversation's idle expiry counts from now.
// The expiry timer is not moved on every message (that would cost two
// writes per event); when it fires early, it is set again for the rest of
// the idle time (see fireTimer).
func (t *turn) touch() {
	conv := t.conv
	conv.LastActivityAt = t.now
	for _, tm := range conv.Timers {
		if tm.Kind == model.TimerExpire {
			return
		}
	}
	t.addTimer(model.TimerExpire, "", t.flow.Expiry())
}

// expiresAt is when the conversation expires if nothing else happens.
func (t *turn) expiresAt() time.Time { return t.conv.LastActivityAt.Add(t.flow.Expiry()) }

// record appends a message to the conversation's transcript.
func (t *turn) record(m *model.Message) {
	if t.conv == nil {
		return
	}
	t.changed = true
	t.conv.Seq++
	m.Conversation, m.Seq, m.At, m.Contact = t.conv.ID, t.conv.Seq, t.now, t.conv.Contact
	if m.Direction == model.In {
		t.conv.InboundSeq = m.Seq
	}
	t.change.Messages = append(t.change.Messages, m)
}

func (t *turn) note(node, text string) {
	t.record(&model.Message{Direction: model.Note, Sender: "system", Node: node, Text: text})
}

// buildEnv prepares what expressions see for this turn.
func (t *turn) buildEnv() {
	c, conv := t.contact, t.conv
	if conv.Vars == nil {
		conv.Vars = map[string]any{}
	}
	t.env = flows.Env{
		Contact: flows.Contact{WaID: c.WaID, Name: c.Name, Language: c.Language, Tags: c.Tags, Fields: c.Fields, OptedIn: c.OptedIn && !c.OptedOut},
		Vars:    conv.Vars,
		Now:     t.now,
		Window:  flows.Window{Open: policy.WindowOpen(c, t.now), ExpiresAt: policy.WindowExpiry(c)},
		Conversation: flows.Conversation{
			ID: conv.ID, Flow: conv.Flow, Version: conv.Version, StartedAt: conv.StartedAt,
		},
	}
	if conv.LastReply != nil {
		t.env.Reply = *conv.LastReply
	}
}

// run executes nodes from node id, starting with event ev, until the flow
// waits, hands off, ends or fails.
func (t *turn) run(id string, ev nodes.Event) {
	t.changed = true
	t.buildEnv()
	conv := t.conv
	if conv.Call != nil && ev.Kind != nodes.CallDone {
		t.abandonCall() // calls.go
	}
	conv.Status = model.Active
	// `reply` is the customer's latest message: the one being answered,
	// or the one that started or interrupted the conversation.
	latest := t.pending
	if ev.Kind == nodes.Inbound {
		latest = ev.Reply
	}
	if latest != nil {
		t.env.Reply = *latest
		conv.LastReply = latest
	}
	for step := 0; ; step++ {
		if step == MaxStepsPerEvent {
			t.fail(id, fmt.Sprintf("ran %d nodes without waiting for the customer (a loop?); stopped at %q", MaxStepsPerEvent, id))
			return
		}
		n := t.flow.Node(id)
		if n == nil {
			t.fail(id, fmt.Sprintf("flow %s v%d has no node %q", t.flow.ID, conv.Version, id))
			return
		}
		conv.Node = id
		if ev.Kind == nodes.Arrive {
			t.count(id, model.CountEntered, "")
		}
		view := nodes.View{Flow: t.flow, Env: &t.env, Pending: t.pending}
		if ev.Kind != nodes.Arrive {
			view.Retries = conv.Retries
		}
		eff := t.step(n, &view, ev)
		for _, p := range eff.Problems {
			t.e.log.Warn("flow problem", "flow", conv.Flow, "version", conv.Version, "node", id, "conversation", conv.ID, "problem", p)
		}
		if eff.Consumed {
			t.pending = nil
		}
		if eff.Reply != nil {
			t.env.Reply = *eff.Reply
			conv.LastReply = eff.Reply
		}
		for k, v := range eff.Vars {
			conv.Vars[k] = v
		}
		if eff.Fail != "" {
			t.fail(id, eff.Fail)
			return
		}
		if n.Type == flows.TypeHandoff && len(eff.Sends) > 0 {
			// A person can still answer (with a template if need be): hand
			// off without the greeting rather than fail.
			if !policy.WindowOpen(t.contact, t.now) {
				t.note(id, "handoff message not sent: the 24-hour window is closed")
				eff.Sends = nil
			} else if why := t.refusal(n, ev, eff.Sends[0]); why != "" {
				t.note(id, "handoff message not sent: "+why)
				eff.Sends = nil
			}
		}
		if alt, exit, reason, blocked := t.check(n, ev, eff.Sends); blocked {
			if alt == "" {
				t.fail(id, reason)
				return
			}
			t.note(id, fmt.Sprintf("not sent: %s; taking %q", reason, alt))
			t.count(id, model.CountExit, exit)
			t.trace(id, exit, "", "")
			id, ev = alt, arriveEvent()
			continue
		}
		for _, s := range eff.Sends {
			t.record(&model.Message{Direction: model.Out, Sender: "bot", Node: id, Message: s.Message, Template: s.Template, State: model.Queued})
		}
		switch {
		case eff.Call != nil:
			t.awaitCall(n, eff.Call) // calls.go
			t.trace(id, "", model.StopCall, "")
			return
		case eff.Wait != nil:
			t.trace(id, "", model.StopWaiting, "")
			t.park(n, model.Waiting, eff.Wait.Retries)
			if eff.Wait.Timeout > 0 {
				t.addTimer(model.TimerTimeout, id, eff.Wait.Timeout)
			}
			if eff.Wait.WindowClosing > 0 {
				t.armWindowClosing(id, eff.Wait.WindowClosing)
			}
			return
		case eff.Handoff != nil:
			h := eff.Handoff
			t.trace(id, "", model.StopAgent, "")
			t.park(n, model.Agent, 0)
			conv.Queue, conv.Priority, conv.Note = h.Queue, h.Priority, h.Note
			t.handedOff() // assign.go
			if h.NoAgentAfter > 0 {
				t.addTimer(model.TimerNoAgent, id, h.NoAgentAfter)
			}
			return
		case eff.Next == "":
			t.trace(id, "", model.StopEnded, "")
			t.finish(model.Ended, "")
			return
		}
		t.count(id, model.CountExit, eff.Exit)
		t.trace(id, eff.Exit, "", "")
		id, ev = eff.Next, arriveEvent()
	}
}

// step runs one node; a panic fails only this conversation.
func (t *turn) step(n *flows.Node, v *nodes.View, ev nodes.Event) (eff nodes.Effects) {
	defer func() {
		if r := recover(); r != nil {
			t.e.log.Error("node panicked", "flow", t.flow.ID, "node", n.ID, "conversation", t.conv.ID, "panic", r, "stack", string(debug.Stack()))
			eff = nodes.Effects{Fail: fmt.Sprintf("node %q crashed: %v", n.ID, r)}
		}
	}()
	return nodes.Step(n, v, ev)
}

// check applies WhatsApp's rules to a node's sends. A free-form message with
// the window closed takes the node's on_window_closed, else the flow's
// reengage; a template that may not be sent takes on_blocked; a message
// that WhatsApp would refuse as rendered (see refusal) takes on_error. With
// no such exit the conversation fails with the reason. exit names the exit
// taken (nodes.ExitWindowClosed, nodes.ExitReengage, nodes.ExitBlocked,
// nodes.ExitError).
func (t *turn) check(n *flows.Node, ev nodes.Event, sends []nodes.Send) (alt, exit, reason string, blocked bool) {
	for _, s := range sends {
		if s.Message != nil && !policy.WindowOpen(t.contact, t.now) {
			alt, exit = n.OnWindowClosed, nodes.ExitWindowClosed
			if alt == "" {
				alt, exit = t.flow.Reengage, nodes.ExitReengage
			}
			if alt == n.ID {
				alt = ""
			}
			return alt, exit, fmt.Sprintf("the 24-hour window is closed, node %q may not send a free-form message", n.ID), true
		}
		if s.Template != nil {
			if reason, why := policy.TemplateBlock(t.e.templatesFrom(t.contact.Key.PhoneNumberID()), s.Template, t.contact, t.now); why != "" {
				t.block(model.StageFlow, t.conv.ID, n.ID, s.Template, reason, why)
				return n.OnBlocked, nodes.ExitBlocked, why, true
			}
			reason, why, _, err := t.e.limitCheck(t.ctx, t.contact, t.now)
			if err != nil {
				// The dispatcher checks again before sending.
				t.e.log.Error("checking the messaging limit", "conversation", t.conv.ID, "err", err)
			}
			if why != "" {
				t.block(model.StageFlow, t.conv.ID, n.ID, s.Template, reason, why)
				return n.OnBlocked, nodes.ExitBlocked, why, true
			}
		}
		if why := t.refusal(n, ev, s); why != "" {
			t.e.log.Warn("message refused before sending", "code", 0, "conversation", t.conv.ID, "node", n.ID, "reason", why)
			alt = n.OnError
			if alt == n.ID {
				alt = "" // it would be refused again
			}
			return alt, nodes.ExitError, why, true
		}
	}
	return "", "", "", false
}

// refusal says why WhatsApp would refuse node n's message s as rendered, or
// "": a text or title that renders over its limit, an empty body, a
// recipient the contact does not have. It applies the Cloud API's own
// rules (whatsapp.OutboundMessage.Validate, which the client applies again
// before sending) where the message is rendered, so that a message that
// can never be sent takes the node's on_error (or fails the conversation)
// instead of leaving it waiting on a message the customer never gets.
func (t *turn) refusal(n *flows.Node, ev nodes.Event, s nodes.Send) string {
	out, err := toWhatsApp(&model.Message{Conversation: t.conv.ID, Node: n.ID, Message: s.Message, Template: s.Template}, t.contact, t.e.templatesFrom(t.contact.Key.PhoneNumberID()))
	if err == nil {
		err = out.Validate()
	}
	if err == nil {
		return ""
	}
	why := err.Error()
	if inv := (*whatsapp.InvalidMessageError)(nil); errors.As(err, &inv) {
		why = inv.Reason()
	}
	return fmt.Sprintf("node %q's %s cannot be sent as rendered: %s", n.ID, sendLabel(n, ev), why)
}

// sendLabel names what a node sends, for reasons people read.
func sendLabel(n *flows.Node, ev nodes.Event) string {
	switch n.Type {
	case flows.TypeWaitReply:
		if ev.Kind == nodes.Arrive {
			return "prompt"
		}
		return "retry message"
	case flows.TypeTemplate:
		return "template"
	case flows.TypeAutoReply:
		return "reply"
	}
	return "message"
}

func (t *turn) park(n *flows.Node, status model.Status, retries int) {
	conv := t.conv
	conv.Node, conv.Status, conv.Retries = n.ID, status, retries
	conv.Timers = onlyKind(conv.Timers, model.TimerExpire)
}

func (t *turn) addTimer(kind model.TimerKind, node string, after time.Duration) {
	t.conv.Timers = append(t.conv.Timers, model.Timer{
		Due: t.now.Add(after), Kind: kind, Contact: t.conv.Contact, Conversation: t.conv.ID, Node: node,
	})
}

func (t *turn) fail(node, reason string) {
	t.e.log.Warn("conversation failed", "flow", t.conv.Flow, "conversation", t.conv.ID, "node", node, "reason", reason)
	t.note(node, "conversation failed: "+reason)
	t.trace(node, "", model.StopFailed, reason)
	t.finish(model.Failed, reason)
}

// trace appends a step to the conversation's path, keeping the last
// MaxSteps. The conversation record carries it, so it costs no write of
// its own.
func (t *turn) trace(node, exit, stop, reason string) {
	conv := t.conv
	if conv == nil {
		return
	}
	// Appending in place is safe: the cached copy has its own array
	// (Conversation.clone). Dropping from the front keeps the copying
	// amortized: append reallocates only when the array is used up.
	conv.Steps = append(conv.Steps, model.Step{Node: node, Exit: exit, Stop: stop, Reason: reason, At: t.now})
	if n := len(conv.Steps); n > model.MaxSteps {
		conv.Steps = conv.Steps[n-model.MaxSteps:]
	}
}

// finish ends the conversation with a final status.
func (t *turn) finish(status model.Status, reason string) {
	t.changed = true
	conv := t.conv
	t.count(conv.Node, finishCount[status], "")
	conv.Status, conv.Reason, conv.EndedAt = status, reason, t.now
	conv.Timers = nil
	conv.Queue = ""
	if t.contact.Conversation == conv.ID {
		t.contact.Conversation = ""
	}
}

// commit writes the turn's change; timers are committed as the difference
// between what was loaded and what the conversation holds now.
func (t *turn) commit() error {
	if t.conv != nil && t.conv.Call == nil && len(t.conv.Held) > 0 && !t.draining {
		// Messages held during a call that is no longer awaited are
		// handled now, whatever moved the conversation on (calls.go).
		t.drainHeld()
	}
	if t.conv != nil {
		t.conv.UpdatedAt = t.now
		for _, tm := range t.loadedTimers {
			if !hasTimer(t.conv.Timers, tm) {
				t.change.DeleteTimers = append(t.change.DeleteTimers, tm)
			}
		}
		for _, tm := range t.conv.Timers {
			if !hasTimer(t.loadedTimers, tm) {
				t.change.SetTimers = append(t.change.SetTimers, tm)
			}
		}
	}
	t.recordEvents()
	key := t.contact.Key
	if err := t.e.store.Commit(t.ctx, &t.change); err != nil {
		t.e.cache.forget(key)
		return fmt.Errorf("committing %s: %w", key, err)
	}
	t.e.cache.put(key, t.contact, t.conv)
	t.e.messages.put(t.change.Messages)
	t.e.messages.put(t.change.Updates)
	t.e.observers.notify(&t.change, t.contact, t.conv)
	for alias := range t.change.Aliases {
		// A contact cached under a key that is now an alias must not
		// bypass the alias (resolveKey trusts cached keys).
		t.e.cache.forget(alias)
	}
	for _, tm := range t.change.SetTimers {
		if tm.Kind == model.TimerCall && !tm.Due.After(t.now) {
			t.e.calls.wake()
			break
		}
	}
	for _, m := range t.change.Messages {
		if m.State == model.Queued {
			select {
			case t.e.outboxKick <- struct{}{}:
			default:
			}
			break
		}
	}
	return nil
}

// commitTimersOnly deletes stale timers without touching anything else.
func (t *turn) commitTimersOnly() error {
	if err := t.e.store.Commit(t.ctx, &model.Change{At: t.now, DeleteTimers: t.change.DeleteTimers}); err != nil {
		return fmt.Errorf("deleting stale timers: %w", err)
	}
	return nil
}

func (t *turn) outcome() Outcome {
	if t.conv == nil {
		return Outcome{}
	}
	return Outcome{Conversation: t.conv.ID, Status: t.conv.Status}
}

func hasTimer(ts []model.Timer, tm model.Timer) bool {
	for _, x := range ts {
		if x.Same(tm) {
			return true
		}
	}
	return false
}

func withoutKind(ts []model.Timer, k model.TimerKind) []model.Timer {
	out := ts[:0:0]
	for _, x := range ts {
		if x.Kind != k {
			out = append(out, x)
		}
	}
	return out
}

func onlyKind(ts []model.Timer, k model.TimerKind) []model.Timer {
	out := ts[:0:0]
	for _, x := range ts {
		if x.Kind == k {
			out = append(out, x)
		}
	}
	return out
}
