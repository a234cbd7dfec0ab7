package nodes

import (
	"fmt"

	"github.com/parleyhq/parley/flows"
)

// branch follows the first case whose condition is true, else its default.
//
//	{"id": "route", "type": "branch",
//	 "cases": [{"when": "reply.button_id == 'yes'", "next": "track", "label": "Yes"}],
//	 "default": "bye"}
//
// With no case true and no default the conversation ends. A condition that
// cannot be evaluated counts as false and is recorded as a problem.
func init() { Register(flows.TypeBranch, TypeFunc(stepBranch)) }

func stepBranch(n *flows.Node, v *View, _ Event) Effects {
	var eff Effects
	for i, c := range n.Cases {
		ok, err := v.Flow.Test(c.When, v.Env)
		if err != nil {
			eff.Problems = append(eff.Problems, fmt.Sprintf("cases[%d].when: %v", i, err))
			continue
		}
		if ok {
			eff.Next, eff.Exit = c.Next, CaseExit(i)
			return eff
		}
	}
	eff.Next, eff.Exit = n.Default, ExitDefault
	return eff
}
