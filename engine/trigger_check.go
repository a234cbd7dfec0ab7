package engine

import (
	"fmt"

	"github.com/parleyhq/parley/flows"
)

// TriggerCollisions warns of f's triggers that meet the triggers of another
// published flow: two keywords where a message can start with both ("order"
// and "order status"), or two catch-alls. Only one flow starts, the first by
// id (see matchTrigger), and the other never hears those messages. They are
// warnings, found at publish, that name the other flow: either may be the
// one to change.
func (e *Engine) TriggerCollisions(f *flows.Flow) flows.Problems {
	if f == nil || len(f.Triggers) == 0 {
		return nil
	}
	e.flowMu.RLock()
	live := append([]flowVersion(nil), e.triggers...)
	e.flowMu.RUnlock()
	var ps flows.Problems
	warn := func(ptr, format string, a ...any) {
		ps = append(ps, flows.Problem{Severity: flows.Warning, Pointer: ptr, Message: fmt.Sprintf(format, a...)})
	}
	for t, tr := range f.Triggers {
		for _, other := range live {
			g := other.flow
			if g.ID == f.ID {
				continue
			}
			first := min(f.ID, g.ID)
			for _, gt := range g.Triggers {
				switch {
				case tr.Type == "any" && gt.Type == "any":
					warn(fmt.Sprintf("/triggers/%d", t), "catches every message, as published flow %s does already: only one starts, flow %q (the first by id)", flowName(g), first)
				case tr.Type == "keyword" && gt.Type == "keyword":
					for j, k := range tr.Keywords {
						for _, gk := range gt.Keywords {
							if !flows.StartsWithKeyword(k, gk) && !flows.StartsWithKeyword(gk, k) {
								continue
							}
							example := k
							if len(flows.Words(gk)) > len(flows.Words(k)) {
								example = gk
							}
							warn(fmt.Sprintf("/triggers/%d/keywords/%d", t, j), "keyword %q meets keyword %q of published flow %s: a message such as %q starts only flow %q (the first by id)", k, gk, flowName(g), example, first)
						}
					}
				}
			}
		}
	}
	return ps
}

// flowName names a flow to a person: its name and id, or its id.
func flowName(f *flows.Flow) string {
	if f.Name != "" && f.Name != f.ID {
		return fmt.Sprintf("%q (%s)", f.Name, f.ID)
	}
	return fmt.Sprintf("%q", f.ID)
}
