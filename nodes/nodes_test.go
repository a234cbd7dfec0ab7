package nodes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/nodes"
)

var update = flag.Bool("update", false, `rewrite the "expect" part of every case in testdata/nodes from current output`)

// casesDir holds one table of cases per node type: <type>.json.
const casesDir = "../testdata/nodes"

// defaultNow is the time of a case's event when its view gives none: a
// Monday noon, UTC, so that cases are byte-stable.
var defaultNow = time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)

// nodeCase is one row of a table, as written in testdata/nodes/<type>.json.
// Every part but the expectation is kept as written, so that -update only
// rewrites "expect".
type nodeCase struct {
	Description string          `json:"description"`
	Node        json.RawMessage `json:"node"`
	// Flow holds extra flow-level fields ("reengage", "vars", "nodes"…)
	// for the flow document built around the node.
	Flow   json.RawMessage `json:"flow,omitempty"`
	View   json.RawMessage `json:"view,omitempty"`
	Event  json.RawMessage `json:"event"`
	Expect json.RawMessage `json:"expect"`
}

// caseView is what the node may read: it becomes a nodes.View.
type caseView struct {
	// Vars are the conversation's variables, on top of the flow's initial
	// vars.
	Vars    map[string]any `json:"vars"`
	Contact flows.Contact  `json:"contact"`
	// Now defaults to defaultNow.
	Now time.Time `json:"now"`
	// WindowOpen defaults to true: the customer has just written.
	WindowOpen *bool        `json:"window_open"`
	Retries    int          `json:"retries"`
	Pending    *flows.Reply `json:"pending"`
	// Reply is what expressions see as `reply`. Like the engine, it
	// defaults to the event's reply for an inbound event, else to pending.
	Reply *flows.Reply `json:"reply"`
}

type caseEvent struct {
	Kind    string            `json:"kind"`
	Reply   *flows.Reply      `json:"reply"`
	Outcome string            `json:"outcome"`
	Result  *nodes.CallResult `json:"result"`
}

// outcome is what a step did, in the form a case expects it. Every field
// is compared: an absent field expects the zero value (no sends, no wait…).
type outcome struct {
	// Sends are one-line renderings, as conversation scripts show them.
	Sends []string `json:"sends,omitempty"`
	// TemplateButtons are the filled quick-reply payloads of every
	// template sent, which the one-line rendering does not show.
	TemplateButtons []flows.TemplateButton `json:"template_buttons,omitempty"`
	Vars            map[string]any         `json:"vars,omitempty"`
	Next            string                 `json:"next,omitempty"`
	Wait            *waitOutcome           `json:"wait,omitempty"`
	Handoff         *handoffOutcome        `json:"handoff,omitempty"`
	Call            *callOutcome           `json:"call,omitempty"`
	Consumed        bool                   `json:"consumed,omitempty"`
	Reply           *flows.Reply           `json:"reply,omitempty"`
	Fail            string                 `json:"fail,omitempty"`
	// Problems counts the problems recorded; run with -v to read them.
	Problems int `json:"problems,omitempty"`
}

type waitOutcome struct {
	Timeout       string `json:"timeout,omitempty"`
	WindowClosing string `json:"window_closing,omitempty"`
	Retries       int    `json:"retries,omitempty"`
}

type callOutcome struct {
	Timeout string `json:"timeout,omitempty"`
	Retries int    `json:"retries,omitempty"`
}

type handoffOutcome struct {
	Queue        string `json:"queue,omitempty"`
	Note         string `json:"note,omitempty"`
	Priority     int    `json:"priority,omitempty"`
	NoAgentAfter string `json:"no_agent_after,omitempty"`
}

// TestEveryTypeHasCases fails for a registered node type with no table of
// cases, and for a table whose type is not registered: adding a node type
// means adding its cases.
func TestEveryTypeHasCases(t *testing.T) {
	types := nodes.Types()
	if len(types) == 0 {
		t.Fatal("no node types registered")
	}
	for _, typ := range types {
		cases, err := readCases(typ)
		switch {
		case errors.Is(err, os.ErrNotExist):
			t.Errorf("node type %q has no table of cases: add %s/%s.json", typ, casesDir, typ)
		case err != nil:
			t.Errorf("node type %q: %v", typ, err)
		case len(cases) == 0:
			t.Errorf("node type %q: %s/%s.json holds no cases", typ, casesDir, typ)
		}
	}
	files, err := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		typ := strings.TrimSuffix(filepath.Base(f), ".json")
		if _, ok := nodes.Lookup(typ); !ok {
			t.Errorf("%s holds cases for %q, which is not a registered node type", f, typ)
		}
	}
	for _, typ := range flows.NodeTypes {
		if _, ok := nodes.Lookup(typ); !ok {
			t.Errorf("flow format node type %q has no behaviour registered", typ)
		}
	}
}

// TestNodes runs every case of testdata/nodes/<type>.json through
// nodes.Step. With -update it rewrites each case's "expect" from what the
// node did: check the diff by hand before committing it.
func TestNodes(t *testing.T) {
	for _, typ := range nodes.Types() {
		t.Run(typ, func(t *testing.T) {
			cases, err := readCases(typ)
			if err != nil {
				t.Skipf("no cases: %v", err) // TestEveryTypeHasCases reports it
			}
			seen := map[string]bool{}
			for i := range cases {
				c := &cases[i]
				if c.Description == "" {
					t.Errorf("case %d has no description", i)
					continue
				}
				if seen[c.Description] {
					t.Errorf("case %d: description %q is used twice", i, c.Description)
				}
				seen[c.Description] = true
				t.Run(c.Description, func(t *testing.T) {
					got := runCase(t, typ, c)
					if *update {
						c.Expect = mustMarshal(t, got)
						return
					}
					var want outcome
					if err := strictUnmarshal(c.Expect, &want); err != nil {
						t.Fatalf("expect: %v", err)
					}
					normalizeDurations(t, &want)
					compareOutcomes(t, got, want)
				})
			}
			if *update && !t.Failed() {
				if err := writeCases(typ, cases); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runCase builds the case's flow, view and event, runs the node and
// returns what it did.
func runCase(t testing.TB, typ string, c *nodeCase) outcome {
	t.Helper()
	f, node := buildFlow(t, typ, c)

	var cv caseView
	if len(c.View) > 0 {
		if err := strictUnmarshal(c.View, &cv); err != nil {
			t.Fatalf("view: %v", err)
		}
	}
	var ce caseEvent
	if err := strictUnmarshal(c.Event, &ce); err != nil {
		t.Fatalf("event: %v", err)
	}
	kind, ok := nodes.ParseEventKind(ce.Kind)
	if !ok {
		t.Fatalf("event: unknown kind %q", ce.Kind)
	}
	ev := nodes.Event{Kind: kind, Reply: ce.Reply, Outcome: ce.Outcome, Result: ce.Result}

	now := cv.Now
	if now.IsZero() {
		now = defaultNow
	}
	vars := maps.Clone(f.Vars)
	if vars == nil {
		vars = map[string]any{}
	}
	maps.Copy(vars, cv.Vars)
	env := &flows.Env{
		Contact: cv.Contact,
		Vars:    vars,
		Now:     now,
		Window:  flows.Window{Open: cv.WindowOpen == nil || *cv.WindowOpen},
		Conversation: flows.Conversation{
			ID: "conv_1", Flow: f.ID, Version: 1, StartedAt: now,
		},
	}
	switch {
	case cv.Reply != nil:
		env.Reply = *cv.Reply
	case kind == nodes.Inbound && ev.Reply != nil:
		env.Reply = *ev.Reply
	case cv.Pending != nil:
		env.Reply = *cv.Pending
	}
	view := &nodes.View{Flow: f, Env: env, Retries: cv.Retries, Pending: cv.Pending}

	eff := nodes.Step(node, view, ev)
	if to, ok := nodes.ExitTarget(node, eff.Exit); eff.Next != "" && (!ok || to != eff.Next) {
		t.Errorf("exit %q leads to %q, but the node went to %q", eff.Exit, to, eff.Next)
	}
	for _, p := range eff.Problems {
		t.Logf("problem: %s", p)
	}
	return outcomeOf(t, eff)
}

// buildFlow wraps the case's node in a minimal valid flow: the node is the
// start, and every exit it (or the flow) names that the case does not
// define gets a stub send node.
func buildFlow(t testing.TB, typ string, c *nodeCase) (*flows.Flow, *flows.Node) {
	t.Helper()
	var n flows.Node
	if err := json.Unmarshal(c.Node, &n); err != nil {
		t.Fatalf("node: %v", err)
	}
	if n.Type != typ {
		t.Fatalf("node has type %q in the table of %q", n.Type, typ)
	}
	extra := map[string]json.RawMessage{}
	if len(c.Flow) > 0 {
		if err := strictUnmarshal(c.Flow, &extra); err != nil {
			t.Fatalf("flow: %v", err)
		}
	}
	var more []*flows.Node
	nodeList := []json.RawMessage{c.Node}
	if raw, ok := extra["nodes"]; ok {
		var rs []json.RawMessage
		if err := json.Unmarshal(raw, &rs); err != nil {
			t.Fatalf("flow.nodes: %v", err)
		}
		for _, r := range rs {
			var m flows.Node
			if err := json.Unmarshal(r, &m); err != nil {
				t.Fatalf("flow.nodes: %v", err)
			}
			more = append(more, &m)
		}
		nodeList = append(nodeList, rs...)
	}
	var top struct {
		Reengage   string            `json:"reengage"`
		Interrupts []flows.Interrupt `json:"interrupts"`
	}
	if len(c.Flow) > 0 {
		if err := json.Unmarshal(c.Flow, &top); err != nil {
			t.Fatalf("flow: %v", err)
		}
	}
	defined := map[string]bool{n.ID: true}
	for _, m := range more {
		defined[m.ID] = true
	}
	var targets []string
	for _, m := range append([]*flows.Node{&n}, more...) {
		targets = append(targets, exits(m)...)
	}
	targets = append(targets, top.Reengage)
	for _, in := range top.Interrupts {
		targets = append(targets, in.Goto)
	}
	for _, id := range targets {
		if id == "" || defined[id] {
			continue
		}
		defined[id] = true
		stub, _ := json.Marshal(map[string]any{
			"id": id, "type": flows.TypeSend,
			"message": map[string]string{"type": flows.MsgText, "text": "stub " + id},
		})
		nodeList = append(nodeList, stub)
	}

	doc := map[string]any{}
	for k, v := range extra {
		doc[k] = v
	}
	doc["format"], doc["id"], doc["start"], doc["nodes"] = flows.Format, "nodes_test", n.ID, nodeList
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	f, problems := flows.Parse(data)
	for _, p := range problems {
		if p.Severity != flows.Error {
			t.Logf("flow %s", p)
		}
	}
	if err := problems.Err(); err != nil {
		t.Fatalf("the case's flow does not parse: %v\n%s", err, data)
	}
	return f, f.Node(n.ID)
}

// exits lists every node id a node can lead to.
func exits(n *flows.Node) []string {
	ids := []string{n.Next, n.OnWindowClosed, n.OnTimeout, n.OnInvalid, n.OnBlocked, n.OnNoAgent, n.Default}
	for _, c := range n.Cases {
		ids = append(ids, c.Next)
	}
	for _, r := range n.Rules {
		ids = append(ids, r.Next)
	}
	if n.DefaultReply != nil {
		ids = append(ids, n.DefaultReply.Next)
	}
	if n.Hours != nil {
		ids = append(ids, n.Hours.ClosedNext)
	}
	if n.OnWindowClosing != nil {
		ids = append(ids, n.OnWindowClosing.Next)
	}
	for _, ch := range n.Choices() {
		ids = append(ids, ch.Next)
	}
	return ids
}

func outcomeOf(t testing.TB, eff nodes.Effects) outcome {
	t.Helper()
	out := outcome{
		Next:     eff.Next,
		Consumed: eff.Consumed,
		Reply:    eff.Reply,
		Fail:     eff.Fail,
		Problems: len(eff.Problems),
	}
	for _, s := range eff.Sends {
		out.Sends = append(out.Sends, render(s))
		if s.Template != nil {
			out.TemplateButtons = append(out.TemplateButtons, s.Template.Buttons...)
		}
	}
	if len(eff.Vars) > 0 {
		// Variables are stored as JSON: what cannot be encoded is a bug.
		data, err := json.Marshal(eff.Vars)
		if err != nil {
			t.Fatalf("vars %v cannot be stored: %v", eff.Vars, err)
		}
		if err := json.Unmarshal(data, &out.Vars); err != nil {
			t.Fatal(err)
		}
	}
	if w := eff.Wait; w != nil {
		out.Wait = &waitOutcome{Timeout: shortDuration(w.Timeout), WindowClosing: shortDuration(w.WindowClosing), Retries: w.Retries}
	}
	if c := eff.Call; c != nil {
		out.Call = &callOutcome{Timeout: shortDuration(c.Timeout), Retries: c.Retries}
	}
	if h := eff.Handoff; h != nil {
		out.Handoff = &handoffOutcome{Queue: h.Queue, Note: h.Note, Priority: h.Priority, NoAgentAfter: shortDuration(h.NoAgentAfter)}
	}
	return out
}

// compareOutcomes reports every field that differs.
func compareOutcomes(t *testing.T, got, want outcome) {
	t.Helper()
	g, w := fieldsOf(t, got), fieldsOf(t, want)
	keys := slices.Sorted(maps.Keys(g))
	for k := range w {
		if _, ok := g[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !bytes.Equal(g[k], w[k]) {
			t.Errorf("%s:\n  got  %s\n  want %s", k, orNothing(g[k]), orNothing(w[k]))
		}
	}
}

func fieldsOf(t *testing.T, o outcome) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(mustMarshal(t, o), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		// Re-encode to sort map keys and drop spacing.
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		m[k] = mustMarshal(t, x)
	}
	return m
}

func orNothing(b []byte) string {
	if b == nil {
		return "(nothing)"
	}
	return string(b)
}

// normalizeDurations writes the expected durations the way outcomeOf does,
// so that "90m" and "1h30m" compare equal.
func normalizeDurations(t *testing.T, o *outcome) {
	t.Helper()
	norm := func(s *string) {
		if *s == "" {
			return
		}
		d, err := time.ParseDuration(*s)
		if err != nil {
			t.Fatalf("expect: %v", err)
		}
		*s = shortDuration(d)
	}
	if o.Wait != nil {
		norm(&o.Wait.Timeout)
		norm(&o.Wait.WindowClosing)
	}
	if o.Handoff != nil {
		norm(&o.Handoff.NoAgentAfter)
	}
}

// shortDuration is d as a flow author writes it: "30h", "10m", "1h30m".
func shortDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// render is the one-line rendering of an outbound message that conversation
// scripts match.
func render(s nodes.Send) string {
	switch {
	case s.Template != nil && s.Message != nil:
		return "<both a message and a template>"
	case s.Template != nil:
		return s.Template.Line()
	case s.Message != nil:
		return s.Message.Line()
	}
	return "<empty send>"
}

func readCases(typ string) ([]nodeCase, error) {
	data, err := os.ReadFile(filepath.Join(casesDir, typ+".json"))
	if err != nil {
		return nil, err
	}
	var cases []nodeCase
	if err := strictUnmarshal(data, &cases); err != nil {
		return nil, fmt.Errorf("%s.json: %w", typ, err)
	}
	return cases, nil
}

// strictUnmarshal refuses unknown fields, so that a typo in a case cannot
// silently test nothing.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeCases writes a table back in the layout of the committed files:
// each case's parts on lines of their own, a value kept on one line when it
// fits in lineWidth.
func writeCases(typ string, cases []nodeCase) error {
	var b strings.Builder
	b.WriteString("[\n")
	for i, c := range cases {
		parts := []struct {
			key string
			raw json.RawMessage
		}{
			{"description", mustJSON(c.Description)},
			{"node", c.Node}, {"flow", c.Flow}, {"view", c.View},
			{"event", c.Event}, {"expect", c.Expect},
		}
		b.WriteString("  {\n")
		first := true
		for _, p := range parts {
			if len(p.raw) == 0 {
				continue
			}
			v, err := parseOrdered(p.raw)
			if err != nil {
				return fmt.Errorf("case %q, %s: %w", c.Description, p.key, err)
			}
			if !first {
				b.WriteString(",\n")
			}
			first = false
			key := "    " + encodeString(p.key) + ": "
			b.WriteString(key)
			v.write(&b, "    ", utf8.RuneCountInString(key))
		}
		b.WriteString("\n  }")
		if i < len(cases)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return os.WriteFile(filepath.Join(casesDir, typ+".json"), []byte(b.String()), 0o644)
}

const lineWidth = 110

// jsonValue is a decoded JSON value that keeps its object keys in order.
type jsonValue struct {
	scalar string // encoded, for anything but an object or array
	object bool
	array  bool
	keys   []string
	items  []*jsonValue
}

func parseOrdered(data []byte) (*jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return parseValue(dec)
}

func parseValue(dec *json.Decoder) (*jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		v := &jsonValue{object: tok == '{', array: tok == '['}
		for dec.More() {
			if v.object {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k.(string))
			}
			item, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, item)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return v, nil
	case string:
		return &jsonValue{scalar: encodeString(tok)}, nil
	case json.Number:
		return &jsonValue{scalar: tok.String()}, nil
	case bool:
		return &jsonValue{scalar: strconv.FormatBool(tok)}, nil
	}
	return &jsonValue{scalar: "null"}, nil
}

func (v *jsonValue) compact() string {
	if !v.object && !v.array {
		return v.scalar
	}
	parts := make([]string, len(v.items))
	for i, it := range v.items {
		parts[i] = it.compact()
		if v.object {
			parts[i] = encodeString(v.keys[i]) + ": " + parts[i]
		}
	}
	if v.object {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// write writes v at column col, breaking it over lines indented by indent
// (plus two spaces) when it does not fit on what is left of the line.
func (v *jsonValue) write(b *strings.Builder, indent string, col int) {
	c := v.compact()
	if len(v.items) == 0 || col+utf8.RuneCountInString(c) <= lineWidth {
		b.WriteString(c)
		return
	}
	open, close := "[", "]"
	if v.object {
		open, close = "{", "}"
	}
	inner := indent + "  "
	b.WriteString(open + "\n")
	for i, it := range v.items {
		line := inner
		if v.object {
			line += encodeString(v.keys[i]) + ": "
		}
		b.WriteString(line)
		it.write(b, inner, utf8.RuneCountInString(line))
		if i < len(v.items)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString(indent + close)
}

func encodeString(s string) string {
	return string(mustJSON(s))
}

func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// BenchmarkWaitReplyInbound measures the commonest step: a typed answer
// folded into a tap on one of the prompt's buttons.
func BenchmarkWaitReplyInbound(b *testing.B) {
	f := flows.MustParse([]byte(`{"format": "parley/flow@1", "id": "bench", "start": "ask", "nodes": [
		{"id": "ask", "type": "wait_reply",
		 "prompt": {"type": "buttons", "text": "Track an order, {{ contact.name }}?",
		            "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]},
		 "accept": "button", "save_as": "answer", "valid": "reply.button_id != ''",
		 "retry": {"type": "text", "text": "Please tap Yes or No."}, "next": "done"},
		{"id": "done", "type": "send", "message": {"type": "text", "text": "OK"}}]}`))
	n := f.Node("ask")
	reply := &flows.Reply{Type: flows.MsgText, Text: "YES"}
	env := &flows.Env{Contact: flows.Contact{Name: "Ann"}, Vars: map[string]any{}, Now: defaultNow, Reply: *reply}
	v := &nodes.View{Flow: f, Env: env}
	ev := nodes.Event{Kind: nodes.Inbound, Reply: reply}
	b.ReportAllocs()
	for b.Loop() {
		if eff := nodes.Step(n, v, ev); eff.Next != "done" {
			b.Fatalf("effects %+v", eff)
		}
	}
}
