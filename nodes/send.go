package nodes

import "github.com/parleyhq/parley/flows"

// send sends one free-form message and moves on.
//
//	{"id": "greet", "type": "send",
//	 "message": {"type": "text", "text": "Hi {{ contact.name }}!"},
//	 "next": "ask", "on_window_closed": "reengage_tpl"}
//
// The engine checks the 24-hour window before the message is queued: with
// the window closed it takes on_window_closed, else the flow's reengage node,
// else the conversation fails.
func init() { Register(flows.TypeSend, TypeFunc(stepSend)) }

func stepSend(n *flows.Node, v *View, ev Event) Effects {
	var eff Effects
	if ev.Kind == Arrive && n.Message != nil {
		eff.Sends = []Send{{Message: message(n.Message, v, &eff)}}
	}
	eff.Next, eff.Exit = n.Next, ExitNext
	return eff
}
