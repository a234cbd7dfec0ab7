package nodes

import "github.com/parleyhq/parley/flows"

// OutcomeVar is the variable that holds an agent's resolution outcome when
// the flow resumes after a handoff.
const OutcomeVar = "handoff_outcome"

// handoff hands the conversation to a queue of agents; the bot stays silent
// until an agent resolves it.
//
//	{"id": "to_agent", "type": "handoff", "queue": "support",
//	 "message": {"type": "text", "text": "Connecting you to a person…"},
//	 "note": "Order {{ vars.order }}", "priority": 1,
//	 "no_agent_after": "10m", "on_no_agent": "bye", "next": "survey"}
//
// Resolution continues at next (or ends), with the outcome in
// vars.handoff_outcome; no agent within no_agent_after takes on_no_agent.
func init() { Register(flows.TypeHandoff, TypeFunc(stepHandoff)) }

func stepHandoff(n *flows.Node, v *View, ev Event) Effects {
	var eff Effects
	switch ev.Kind {
	case Arrive:
		if n.Message != nil {
			eff.Sends = []Send{{Message: message(n.Message, v, &eff)}}
		}
		eff.Handoff = &Handoff{
			Queue:        n.Queue,
			Note:         text(n.Note, v, &eff),
			Priority:     n.Priority,
			NoAgentAfter: n.NoAgentAfter.Std(),
		}
	case AgentResolved:
		eff.Vars = map[string]any{OutcomeVar: ev.Outcome}
		eff.Next, eff.Exit = n.Next, ExitNext
	case NoAgent:
		eff.Next, eff.Exit = n.OnNoAgent, ExitNoAgent
	default:
		// The bot does not answer while an agent holds the conversation;
		// the engine does not route customer messages here.
		eff.Handoff = &Handoff{Queue: n.Queue, Priority: n.Priority}
	}
	return eff
}
