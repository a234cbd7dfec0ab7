package engine

import "github.com/parleyhq/parley/flows"

// Route is the flow a first message would start, as the published
// triggers decide (matchTrigger): a keyword trigger, then a referral
// trigger, then a catch-all; Trigger says which kind matched.
type Route struct {
	Flow    string `json:"flow"`
	Version int    `json:"version"`
	Trigger string `json:"trigger"`
}

// RouteFor says which published flow a customer's first message, text, to
// the business number would start (ok false: none would, and the message
// would go unanswered by a flow). It changes nothing: the studio's routing
// test asks it.
func (e *Engine) RouteFor(number, text string) (Route, bool) {
	v, ok := e.matchTrigger(number, text, false)
	if !ok {
		return Route{}, false
	}
	r := Route{Flow: v.flow.ID, Version: v.version, Trigger: "any"}
	for _, tr := range v.flow.Triggers {
		if tr.Type == "keyword" {
			for _, k := range tr.Keywords {
				if flows.StartsWithKeyword(text, k) {
					r.Trigger = "keyword " + k
					return r, true
				}
			}
		}
	}
	return r, true
}
