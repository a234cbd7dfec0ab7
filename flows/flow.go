package flows

import (
	"encoding/json"
	"slices"
	"time"
)

// Format is the only flow format this version of Parley reads. Later formats
// get migrations, never a silent reinterpretation.
const Format = "parley/flow@1"

// DefaultExpireAfter is how long an idle conversation lives when a flow does
// not say otherwise.
const DefaultExpireAfter = 72 * time.Hour

// Flow is one flow document, format v1. Field names follow
// docs/flow-format.md; decoding is strict (see Parse).
type Flow struct {
	Format      string         `json:"format"`
	ID          string         `json:"id"`
	Name        string         `json:"name,omitempty"`
	Language    string         `json:"language,omitempty"`
	Start       string         `json:"start"`
	ExpireAfter Duration       `json:"expire_after,omitempty"`
	Reengage    string         `json:"reengage,omitempty"`
	Vars        map[string]any `json:"vars,omitempty"`
	Triggers    []Trigger      `json:"triggers,omitempty"`
	Interrupts  []Interrupt    `json:"interrupts,omitempty"`
	// Numbers are the business phone number ids whose customers the
	// flow's triggers answer; empty: every number Parley serves.
	Numbers []string       `json:"numbers,omitempty"`
	Nodes   []*Node        `json:"nodes"`
	Meta    map[string]any `json:"meta,omitempty"`

	index    map[string]int
	programs *programs
}

// Trigger says how a contact with no running conversation starts this flow.
type Trigger struct {
	Type     string   `json:"type"` // keyword, any, referral
	Keywords []string `json:"keywords,omitempty"`
}

// Interrupt jumps to Goto when an inbound message's first word is one of
// Keywords, wherever the bot holds the conversation.
type Interrupt struct {
	Keywords []string `json:"keywords"`
	Goto     string   `json:"goto"`
}

// Node types.
const (
	TypeSend      = "send"
	TypeWaitReply = "wait_reply"
	TypeBranch    = "branch"
	TypeTemplate  = "template"
	TypeHandoff   = "handoff"
	TypeAutoReply = "auto_reply"
	TypeSet       = "set"
	TypeHTTP      = "http"
)

// NodeTypes lists every node type of format v1.
var NodeTypes = []string{TypeSend, TypeWaitReply, TypeBranch, TypeTemplate, TypeHandoff, TypeAutoReply, TypeSet, TypeHTTP}

// Node is one step of a flow. It is the union of the fields of every node
// type; the schema says which fields each type may carry, and package nodes
// gives each type its behaviour.
type Node struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Meta map[string]any `json:"meta,omitempty"`

	// send, handoff
	Message *Message `json:"message,omitempty"`

	// wait_reply
	Prompt     *Message `json:"prompt,omitempty"`
	SaveAs     string   `json:"save_as,omitempty"`
	Accept     string   `json:"accept,omitempty"`
	Valid      string   `json:"valid,omitempty"`
	Retry      *Message `json:"retry,omitempty"`
	MaxRetries *int     `json:"max_retries,omitempty"`
	OnInvalid  string   `json:"on_invalid,omitempty"`
	Timeout    Duration `json:"timeout,omitempty"`
	OnTimeout  string   `json:"on_timeout,omitempty"`
	// OnWindowClosing is taken shortly before the 24-hour window closes,
	// while the node still waits; see WindowClosing.
	OnWindowClosing *WindowClosing `json:"on_window_closing,omitempty"`

	// branch
	Cases   []Case `json:"cases,omitempty"`
	Default string `json:"-"` // branch default exit; see UnmarshalJSON

	// template
	Template  *TemplateRef `json:"template,omitempty"`
	OnBlocked string       `json:"on_blocked,omitempty"`

	// handoff
	Queue        string   `json:"queue,omitempty"`
	Note         string   `json:"note,omitempty"`
	Priority     int      `json:"priority,omitempty"`
	NoAgentAfter Duration `json:"no_agent_after,omitempty"`
	OnNoAgent    string   `json:"on_no_agent,omitempty"`

	// auto_reply
	Rules        []Rule        `json:"rules,omitempty"`
	DefaultReply *DefaultReply `json:"-"` // auto_reply default; see UnmarshalJSON
	Hours        *Hours        `json:"hours,omitempty"`

	// set
	SetVars map[string]string `json:"vars,omitempty"`

	// http (see http.go); it also uses SaveAs and Timeout.
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is a JSON value whose string leaves are templates, or one
	// template string; nil when the node sends no body.
	Body any `json:"body,omitempty"`
	// Retries is how many more attempts follow a retriable failure.
	Retries int `json:"retries,omitempty"`

	// common exits
	Next           string `json:"next,omitempty"`
	OnWindowClosed string `json:"on_window_closed,omitempty"`
	// OnError (send, wait_reply, template) is taken when the node's
	// message fails for good: refused before sending (as rendered it
	// breaks a WhatsApp limit, or the recipient is invalid) or failed by
	// Meta with a permanent code other than 131047, which takes
	// OnWindowClosed. Without it the conversation fails with the reason.
	OnError string `json:"on_error,omitempty"`
}

// WindowClosing is a wait_reply's exit taken Before the customer-service
// window closes, so that a flow can send a last free-form message while
// WhatsApp still allows one (docs/whatsapp.md §4.1: after the window only
// templates may be sent). It is taken only while the conversation waits at
// the node with the window open. Each message from the customer moves the
// window, and the moment with it.
//
//	"on_window_closing": {"before": "30m", "next": "last_call"}
type WindowClosing struct {
	// Before is how long before the window closes the exit is taken: more
	// than zero (the schema says so) and less than the window's 24 hours
	// (the validator does).
	Before Duration `json:"before"`
	// Next is the node the exit leads to.
	Next string `json:"next"`
}

// Case is one arm of a branch: the first whose When is true wins.
type Case struct {
	When  string `json:"when"`
	Next  string `json:"next"`
	Label string `json:"label,omitempty"`
}

// Rule is one answer of an auto_reply node; exactly one of Keywords,
// Pattern and When selects it.
type Rule struct {
	Keywords []string `json:"keywords,omitempty"`
	Pattern  string   `json:"pattern,omitempty"`
	When     string   `json:"when,omitempty"`
	Reply    *Message `json:"reply"`
	Next     string   `json:"next,omitempty"`
}

// DefaultReply answers what no rule matched.
type DefaultReply struct {
	Reply *Message `json:"reply"`
	Next  string   `json:"next,omitempty"`
}

// Hours are an auto_reply node's business hours.
type Hours struct {
	Timezone    string              `json:"timezone"`
	Open        map[string][]string `json:"open"`
	ClosedReply *Message            `json:"closed_reply"`
	ClosedNext  string              `json:"closed_next,omitempty"`
}

// UnmarshalJSON decodes a node strictly; on the wire `default` is a string
// on branch and an object on auto_reply, giving `default` its meaning by node type.
func (n *Node) UnmarshalJSON(data []byte) error {
	type plain Node
	var w struct {
		*plain
		Default json.RawMessage `json:"default,omitempty"`
	}
	w.plain = (*plain)(n)
	if err := strictUnmarshal(data, &w); err != nil {
		return err
	}
	if len(w.Default) == 0 || string(w.Default) == "null" {
		return nil
	}
	if n.Type == TypeAutoReply {
		var d DefaultReply
		if err := strictUnmarshal(w.Default, &d); err != nil {
			return err
		}
		n.DefaultReply = &d
		return nil
	}
	return json.Unmarshal(w.Default, &n.Default)
}

// MarshalJSON encodes a node in its wire form.
func (n *Node) MarshalJSON() ([]byte, error) {
	type plain Node
	w := struct {
		*plain
		Default any `json:"default,omitempty"`
	}{plain: (*plain)(n)}
	switch {
	case n.DefaultReply != nil:
		w.Default = n.DefaultReply
	case n.Default != "":
		w.Default = n.Default
	}
	return json.Marshal(w)
}

// Node returns the node with the given id, or nil.
func (f *Flow) Node(id string) *Node {
	if i, ok := f.index[id]; ok {
		return f.Nodes[i]
	}
	return nil
}

// Expiry is how long an idle conversation on this flow lives.
func (f *Flow) Expiry() time.Duration {
	if f.ExpireAfter > 0 {
		return time.Duration(f.ExpireAfter)
	}
	return DefaultExpireAfter
}

// DefaultReplyMessage is an auto_reply node's answer when no rule matches,
// or nil.
func (n *Node) DefaultReplyMessage() *Message {
	if n.DefaultReply == nil {
		return nil
	}
	return n.DefaultReply.Reply
}

// AnswersOn reports whether the flow's triggers answer customers of the
// business phone number id: it names that number, or none.
func (f *Flow) AnswersOn(phoneNumberID string) bool {
	return len(f.Numbers) == 0 || slices.Contains(f.Numbers, phoneNumberID)
}
