package nodes

import (
	"strconv"
	"strings"

	"github.com/parleyhq/parley/flows"
)

// Exit names: how Effects.Exit names the way a node left, for analytics
// and the editor's handles. Each is the JSON pointer of the exit's field,
// relative to the node, without a trailing "/next": "next", "on_timeout",
// "on_window_closing", "cases/0", "rules/2", "default", "hours/closed_next",
// and a wait's choices: "prompt/buttons/1", "prompt/sections/0/rows/2"
// (flows.Choice.Exit).
const (
	ExitNext          = "next"
	ExitDefault       = "default" // a branch's default, an auto_reply's default reply
	ExitTimeout       = "on_timeout"
	ExitInvalid       = "on_invalid"
	ExitWindowClosing = "on_window_closing"
	ExitNoAgent       = "on_no_agent"
	ExitClosedHours   = "hours/closed_next"
	// The engine takes these, not the node: a send that WhatsApp's rules
	// forbid goes down on_window_closed (or, with none, the flow's
	// reengage) or on_blocked; a message that fails for good (refused as
	// rendered, or failed by Meta with a permanent code) goes down
	// on_error.
	ExitWindowClosed = "on_window_closed"
	ExitReengage     = "reengage"
	ExitBlocked      = "on_blocked"
	ExitError        = "on_error"
)

// CaseExit names a branch's case i.
func CaseExit(i int) string { return "cases/" + strconv.Itoa(i) }

// RuleExit names an auto_reply's rule i.
func RuleExit(i int) string { return "rules/" + strconv.Itoa(i) }

// ExitTarget is the node that exit name of n leads to, as the flow
// defines it; false when n has no such exit. ExitReengage is the flow's
// business, not the node's: it is not resolved here.
func ExitTarget(n *flows.Node, name string) (string, bool) {
	to := ""
	switch name {
	case ExitNext:
		to = n.Next
	case ExitDefault:
		to = n.Default
		if n.DefaultReply != nil {
			to = n.DefaultReply.Next
		}
	case ExitTimeout:
		to = n.OnTimeout
	case ExitInvalid:
		to = n.OnInvalid
	case ExitWindowClosing:
		if n.OnWindowClosing != nil {
			to = n.OnWindowClosing.Next
		}
	case ExitNoAgent:
		to = n.OnNoAgent
	case ExitClosedHours:
		if n.Hours != nil {
			to = n.Hours.ClosedNext
		}
	case ExitWindowClosed:
		to = n.OnWindowClosed
	case ExitBlocked:
		to = n.OnBlocked
	case ExitError:
		to = n.OnError
	default:
		if i, ok := index(name, "cases/"); ok && i < len(n.Cases) {
			to = n.Cases[i].Next
		} else if i, ok := index(name, "rules/"); ok && i < len(n.Rules) {
			to = n.Rules[i].Next
		} else if strings.HasPrefix(name, "prompt/") {
			for _, ch := range n.Choices() {
				if ch.Exit == name {
					to = ch.Next
				}
			}
		}
	}
	return to, to != ""
}

func index(name, prefix string) (int, bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0
}
