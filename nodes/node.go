// Package nodes gives each flow node type its behaviour.
//
// A node is a pure function of its configuration, a view of the conversation
// and one event; it returns Effects: messages to send, variables to set, the
// exit to follow, or a wait. It does no I/O and reads no clock (the time is
// in the view). The engine makes the effects real: it checks the 24-hour
// window and template rules for every send, persists waits as timers, and
// commits everything one event produced in one transaction.
//
// Each node type lives in its own file, registers itself in init, and has a
// table of cases in testdata/nodes/<type>.json.
package nodes

import (
	"fmt"
	"sort"
	"time"

	"github.com/parleyhq/parley/flows"
)

// EventKind says why a node is being run.
type EventKind uint8

// Event kinds.
const (
	// Arrive: the flow has just reached the node.
	Arrive EventKind = iota
	// Inbound: the customer wrote while the conversation waited here.
	Inbound
	// Timeout: a wait_reply's timeout passed with no fitting reply.
	Timeout
	// AgentResolved: an agent resolved a handed-off conversation.
	AgentResolved
	// NoAgent: no agent took a handed-off conversation in time.
	NoAgent
	// WindowClosing: the 24-hour window closes soon, as a wait_reply's
	// on_window_closing asked to be told.
	WindowClosing
	// CallDone: the http call the conversation waited on has its final
	// result (after any retries); Event.Result holds it.
	CallDone
)

// eventNames are the kinds' names; kinds keep their values (append only).
var eventNames = [...]string{"arrive", "inbound", "timeout", "agent_resolved", "no_agent", "window_closing", "call_done"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", k)
}

// ParseEventKind is the inverse of EventKind.String.
func ParseEventKind(s string) (EventKind, bool) {
	for i, n := range eventNames {
		if n == s {
			return EventKind(i), true
		}
	}
	return 0, false
}

// Event is what happened.
type Event struct {
	Kind EventKind
	// Reply is the customer's message, for Inbound.
	Reply *flows.Reply
	// Outcome is the agent's resolution, for AgentResolved.
	Outcome string
	// Result is the http call's final result, for CallDone.
	Result *CallResult
}

// View is what a node may read of its conversation.
type View struct {
	Flow *flows.Flow
	// Env is what expressions see: contact, vars, reply, now, window,
	// conversation. Env.Now is the time of the event.
	Env *flows.Env
	// Retries counts the misfit replies the current wait has had.
	Retries int
	// Pending is an inbound message no node has consumed yet: the one that
	// started or interrupted the conversation. An auto_reply node answers it
	// on arrival.
	Pending *flows.Reply
}

// Effects is what a node wants done. The zero value ends the conversation.
type Effects struct {
	// Sends are the messages to send, in order.
	Sends []Send
	// Vars are variables to set.
	Vars map[string]any
	// Next is the node to go to now. Empty with no Wait and no Handoff ends
	// the conversation.
	Next string
	// Exit names the exit Next follows (ExitNext, CaseExit(0), ExitTimeout…;
	// see exits.go), so that the engine can count which way conversations
	// leave a node; ExitTarget(node, Exit) is Next.
	Exit string
	// Wait, when set, parks the conversation at this node until an event.
	Wait *Wait
	// Handoff, when set, hands the conversation to an agent queue.
	Handoff *Handoff
	// Call, when set, parks the conversation at this http node until its
	// call has a result (a CallDone event). The engine makes the call
	// after committing the wait.
	Call *Call
	// Consumed marks the pending inbound message as answered.
	Consumed bool
	// Reply is the customer's message as the node understood it (a typed
	// "yes" folded into a tap on the Yes button, say); expressions see it
	// as `reply` from here on.
	Reply *flows.Reply
	// Fail ends the conversation as failed with this reason.
	Fail string
	// Problems are things that went wrong that the flow carried on past
	// (an expression that could not be evaluated, say).
	Problems []string
}

// Send is one outbound message: free-form or template, never both.
type Send struct {
	Message  *flows.Message
	Template *flows.TemplateSend
}

// Wait parks a conversation at a node.
type Wait struct {
	// Timeout, when positive, fires a Timeout event that long after now.
	Timeout time.Duration
	// WindowClosing, when positive, fires a WindowClosing event that long
	// before the contact's 24-hour window closes. The engine arms it only
	// while the window is open and that moment is still ahead, and moves it
	// with the window when the customer writes.
	WindowClosing time.Duration
	// Retries is the count of misfit replies so far.
	Retries int
}

// Handoff puts a conversation in an agent queue.
type Handoff struct {
	Queue        string
	Note         string
	Priority     int
	NoAgentAfter time.Duration
}

// Type is the behaviour of one node type.
type Type interface {
	// Step runs node n for event ev. It must not panic on any valid node;
	// the engine still recovers a panic and fails only that conversation.
	Step(n *flows.Node, v *View, ev Event) Effects
}

// TypeFunc adapts a function to Type.
type TypeFunc func(n *flows.Node, v *View, ev Event) Effects

// Step calls f.
func (f TypeFunc) Step(n *flows.Node, v *View, ev Event) Effects { return f(n, v, ev) }

var registry = map[string]Type{}

// Register makes a node type known. It panics on a duplicate: that is a bug.
func Register(name string, t Type) {
	if _, dup := registry[name]; dup {
		panic("nodes: type registered twice: " + name)
	}
	registry[name] = t
}

// Lookup returns the behaviour of a node type.
func Lookup(name string) (Type, bool) {
	t, ok := registry[name]
	return t, ok
}

// Types lists the registered node types, sorted.
func Types() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Step runs node n through its registered type.
func Step(n *flows.Node, v *View, ev Event) Effects {
	t, ok := registry[n.Type]
	if !ok {
		return Effects{Fail: fmt.Sprintf("node %q has unknown type %q", n.ID, n.Type)}
	}
	return t.Step(n, v, ev)
}

// message interpolates m, recording a problem (and sending the text as far
// as it could be rendered) when an expression fails.
func message(m *flows.Message, v *View, eff *Effects) *flows.Message {
	out, err := v.Flow.RenderMessage(m, v.Env)
	if err != nil {
		eff.Problems = append(eff.Problems, err.Error())
	}
	return &out
}

func text(s string, v *View, eff *Effects) string {
	out, err := v.Flow.Interpolate(s, v.Env)
	if err != nil {
		eff.Problems = append(eff.Problems, err.Error())
	}
	return out
}
