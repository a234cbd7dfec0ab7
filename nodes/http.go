package nodes

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/flows"
)

// http calls the business's own systems and branches on the answer.
//
//	{"id": "lookup", "type": "http", "method": "GET",
//	 "url": "https://shop.example.com/api/orders/{{ vars.order_id }}",
//	 "headers": {"Authorization": "Bearer {{ secrets.shop_token }}"},
//	 "timeout": "5s", "retries": 2, "save_as": "order",
//	 "next": "tell_status", "on_error": "sorry"}
//
// On arrival the node asks for the call (Effects.Call); it does no I/O
// itself. The engine commits the wait, renders the request, makes the
// attempts (retrying network errors, timeouts, 429 and 5xx) and comes back
// with one CallDone event. A 2xx answer follows next; anything else
// follows on_error, or fails the conversation with the reason. The result
// is saved as vars[save_as] either way.
func init() { Register(flows.TypeHTTP, TypeFunc(stepHTTP)) }

// Call is an http node's request for a call.
type Call struct {
	// Timeout is each attempt's timeout.
	Timeout time.Duration
	// Retries is how many more attempts a retriable failure gets.
	Retries int
}

// CallResult is the final result of an http node's call: what vars[save_as]
// holds (Status, JSON, Text) and, when no answer came, why (Error).
type CallResult struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int `json:"status"`
	// JSON is the body parsed as JSON, nil when it is not JSON.
	JSON any `json:"json"`
	// Text is the body as text.
	Text string `json:"text"`
	// Error says why the call failed without an answer (a network error,
	// a timeout, a refused address, a body too large); "" otherwise.
	Error string `json:"error,omitempty"`
}

// OK reports whether the call was answered with a 2xx status.
func (r *CallResult) OK() bool { return r.Error == "" && r.Status >= 200 && r.Status <= 299 }

// Saved is what vars[save_as] receives.
func (r *CallResult) Saved() map[string]any {
	return map[string]any{"status": r.Status, "json": r.JSON, "text": r.Text}
}

// Reason says in a line why a call took on_error.
func (r *CallResult) Reason() string {
	if r.Error != "" {
		return r.Error
	}
	return fmt.Sprintf("answered %d", r.Status)
}

func stepHTTP(n *flows.Node, v *View, ev Event) Effects {
	if ev.Kind != CallDone {
		return Effects{Call: &Call{Timeout: n.HTTPTimeout(), Retries: min(max(n.Retries, 0), flows.MaxHTTPRetries)}}
	}
	res := ev.Result
	if res == nil {
		res = &CallResult{Error: "no result"}
	}
	eff := Effects{}
	if n.SaveAs != "" {
		eff.Vars = map[string]any{n.SaveAs: res.Saved()}
	}
	switch {
	case res.OK():
		eff.Next, eff.Exit = n.Next, ExitNext
	case n.OnError != "":
		eff.Next, eff.Exit = n.OnError, ExitError
	default:
		eff.Fail = fmt.Sprintf("http node %q failed: %s", n.ID, res.Reason())
	}
	return eff
}
