package nodes

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/parleyhq/parley/flows"
)

// set assigns variables from expressions, then moves on.
//
//	{"id": "count", "type": "set",
//	 "vars": {"attempts": "vars.attempts + 1", "greeting": "'Hi ' + contact.name"},
//	 "next": "ask"}
//
// Every expression sees the variables as they were before the node: the
// assignments happen together, so their order does not matter. A value that
// cannot be evaluated, or cannot be stored (a division by zero gives an
// infinite number, which JSON cannot hold), is recorded as a problem and
// leaves its variable as it was.
func init() { Register(flows.TypeSet, TypeFunc(stepSet)) }

func stepSet(n *flows.Node, v *View, _ Event) Effects {
	eff := Effects{Next: n.Next, Exit: ExitNext, Vars: make(map[string]any, len(n.SetVars))}
	names := make([]string, 0, len(n.SetVars))
	for name := range n.SetVars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		val, err := v.Flow.Eval(n.SetVars[name], v.Env)
		if err != nil {
			eff.Problems = append(eff.Problems, fmt.Sprintf("vars.%s: %v", name, err))
			continue
		}
		// Variables are stored as JSON with the conversation: a value
		// json cannot encode would make every later commit fail.
		if _, err := json.Marshal(val); err != nil {
			eff.Problems = append(eff.Problems, fmt.Sprintf("vars.%s: %s cannot be stored: %v", name, flows.Stringify(val), err))
			continue
		}
		eff.Vars[name] = val
	}
	return eff
}
