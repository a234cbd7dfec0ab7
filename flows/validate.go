package flows

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // hours.timezone must load on hosts without a zoneinfo database
	"unicode/utf8"
)

// MaxNodes caps a flow's nodes (the schema says the same): past it a flow
// is unreadable in the editor, and the graph checks stay cheap.
const MaxNodes = 1000

// MaxExpressions caps the distinct expressions (conditions, set values and
// the insides of {{ }}) compiled for one flow, so that validating a hostile
// upload costs bounded time: each compiles in tens of microseconds. A
// thousand-node flow rarely holds more than a few distinct ones per node.
const MaxExpressions = 10000

// MaxExpressionLen caps one expression; anything longer belongs in code.
const MaxExpressionLen = 2000

// maxSuggestions caps the "did you mean" lookups of one validation: each
// compares a name with every node id.
const maxSuggestions = 20

// check runs the graph and expression checks on a decoded flow. It reports
// every problem at once and must not panic on a flow the schema rejected:
// fields of the wrong node type, empty ids and nil messages all reach it.
func (f *Flow) check() Problems {
	if f == nil || len(f.Nodes) > MaxNodes {
		return nil // the schema has said so; the flow is too big to check
	}
	c := &checker{f: f, index: make(map[string]int, len(f.Nodes)), compiled: map[programKey]error{}}
	c.ids()
	c.flowLevel()
	for i, n := range f.Nodes {
		if n != nil {
			c.node(i, n)
		}
	}
	c.graph()
	return c.ps
}

type checker struct {
	f           *Flow
	ps          Problems
	index       map[string]int // node id -> position of its first node
	idList      []string
	compiled    map[programKey]error // each distinct expression compiles once
	capped      bool
	suggestions int
	// inHTTP is set while an http node's url, headers and body are
	// checked: the only place {{ secrets.NAME }} is allowed.
	inHTTP bool
}

func (c *checker) errorf(ptr, format string, a ...any) {
	c.ps = append(c.ps, Problem{Error, ptr, fmt.Sprintf(format, a...)})
}

func (c *checker) warnf(ptr, format string, a ...any) {
	c.ps = append(c.ps, Problem{Warning, ptr, fmt.Sprintf(format, a...)})
}

func nodePtr(i int) string { return "/nodes/" + strconv.Itoa(i) }

// ids indexes the nodes by id and reports duplicates. Exits resolve to the
// first node with an id.
func (c *checker) ids() {
	for i, n := range c.f.Nodes {
		if n == nil || n.ID == "" {
			continue
		}
		if j, dup := c.index[n.ID]; dup {
			c.errorf(nodePtr(i)+"/id", "node id %q is already used by %s; node ids must be unique", n.ID, nodePtr(j))
			continue
		}
		c.index[n.ID] = i
		c.idList = append(c.idList, n.ID)
	}
}

// target reports an exit (or start, reengage, goto) that names no node.
func (c *checker) target(ptr, id string) {
	if id == "" {
		return
	}
	if _, ok := c.index[id]; ok {
		return
	}
	msg := fmt.Sprintf("names node %q, which does not exist", id)
	if c.suggestions < maxSuggestions {
		c.suggestions++
		if s := closest(id, c.idList); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
	}
	c.errorf(ptr, "%s", msg)
}

func (c *checker) flowLevel() {
	f := c.f
	c.target("/start", f.Start)
	c.target("/reengage", f.Reengage)
	for k, in := range f.Interrupts {
		p := fmt.Sprintf("/interrupts/%d", k)
		c.target(p+"/goto", in.Goto)
		c.keywords(p+"/keywords", in.Keywords)
	}
	for k, t := range f.Triggers {
		if t.Type == "keyword" {
			c.keywords(fmt.Sprintf("/triggers/%d/keywords", k), t.Keywords)
		}
	}
}

// keywords checks keywords (triggers, interrupts, auto_reply rules): each
// needs a letter or digit, since words are compared without punctuation.
func (c *checker) keywords(ptr string, keywords []string) {
	for j, kw := range keywords {
		if kw == "" {
			continue // the schema reports it
		}
		p := ptr + "/" + strconv.Itoa(j)
		if len(Words(kw)) == 0 {
			c.errorf(p, "keyword %q has no letters or digits, so no message can match it", kw)
		}
	}
}

// exit is one way out of a node.
type exit struct {
	ptr string // the field naming the target
	to  string
	// wait: taken only after a customer, agent or timer event, never
	// straight on arrival.
	wait bool
}

// waits reports whether a node type parks the conversation: every exit of
// a wait_reply, handoff or auto_reply follows an event. Unknown types (the
// schema reports them) count as waits so that they raise no loop errors.
func waits(typ string) bool {
	switch typ {
	case TypeSend, TypeBranch, TypeTemplate, TypeSet:
		return false
	case TypeHTTP:
		// The call's answer comes from the business's system, not the
		// customer: a loop through http steps alone would call an API
		// for ever, so its exits count as immediate.
		return false
	}
	return true
}

func nodeExits(i int, n *Node) []exit {
	p := nodePtr(i)
	w := waits(n.Type)
	var xs []exit
	add := func(ptr, to string, wait bool) {
		if to != "" {
			xs = append(xs, exit{ptr, to, wait})
		}
	}
	add(p+"/next", n.Next, w)
	// A wait_reply takes on_window_closed at once, when its prompt cannot
	// be sent; with no prompt there is nothing to send and it is never taken.
	add(p+"/on_window_closed", n.OnWindowClosed, n.Type == TypeWaitReply && n.Prompt == nil)
	add(p+"/on_timeout", n.OnTimeout, w)
	if n.OnWindowClosing != nil {
		// Taken after a timer event, like on_timeout.
		add(p+"/on_window_closing/next", n.OnWindowClosing.Next, w)
	}
	add(p+"/on_invalid", n.OnInvalid, w)
	add(p+"/on_blocked", n.OnBlocked, w)
	// on_error is taken at once when the node's message, as rendered,
	// cannot be sent; a wait_reply sends on arrival only with a prompt
	// (its retry message goes after a reply, like the exits of a wait).
	add(p+"/on_error", n.OnError, n.Type == TypeWaitReply && n.Prompt == nil)
	add(p+"/on_no_agent", n.OnNoAgent, w)
	add(p+"/default", n.Default, w)
	for k, cs := range n.Cases {
		add(fmt.Sprintf("%s/cases/%d/next", p, k), cs.Next, w)
	}
	for k, r := range n.Rules {
		add(fmt.Sprintf("%s/rules/%d/next", p, k), r.Next, w)
	}
	if n.DefaultReply != nil {
		add(p+"/default/next", n.DefaultReply.Next, w)
	}
	if n.Hours != nil {
		add(p+"/hours/closed_next", n.Hours.ClosedNext, w)
	}
	// A choice's exit follows the customer's reply, like next.
	for _, ch := range n.Choices() {
		add(p+"/"+ch.Exit+"/next", ch.Next, w)
	}
	return xs
}

// node checks one node's exits, cross-field rules, messages and
// expressions. Only the fields of the node's own type are looked at: the
// schema reports fields that do not belong.
func (c *checker) node(i int, n *Node) {
	p := nodePtr(i)
	for _, x := range nodeExits(i, n) {
		c.target(x.ptr, x.to)
	}
	switch n.Type {
	case TypeSend:
		c.message(p+"/message", n.Message)

	case TypeWaitReply:
		c.message(p+"/prompt", n.Prompt)
		c.message(p+"/retry", n.Retry)
		c.choices(i, n)
		c.expr(p+"/valid", n.Valid, kindBool, false)
		if n.OnTimeout != "" && n.Timeout <= 0 {
			c.errorf(p+"/on_timeout", "is set but there is no timeout, so it is never taken")
		}
		if n.Timeout > 0 && n.OnTimeout == "" {
			c.warnf(p+"/timeout", "when %s passes with no reply the conversation ends; set on_timeout to go on somewhere", shortDuration(n.Timeout))
		}
		if n.OnWindowClosed != "" && n.Prompt == nil {
			c.warnf(p+"/on_window_closed", "is never taken: with no prompt there is nothing to send")
		}
		if n.OnError != "" && n.Prompt == nil && n.Retry == nil {
			c.warnf(p+"/on_error", "is never taken: with no prompt and no retry message there is nothing to send")
		}
		if wc := n.OnWindowClosing; wc != nil {
			c.windowClosing(p+"/on_window_closing", wc)
		}
		if (n.Accept == "" || n.Accept == "any") && n.Valid == "" {
			// Every reply fits, so nothing is ever retried or invalid.
			for _, f := range []struct {
				name string
				set  bool
			}{{"retry", n.Retry != nil}, {"max_retries", n.MaxRetries != nil}, {"on_invalid", n.OnInvalid != ""}} {
				if f.set {
					c.warnf(p+"/"+f.name, "never applies: accept is any and there is no valid, so every reply fits")
				}
			}
		}

	case TypeBranch:
		if len(n.Cases) == 0 && n.Default == "" {
			c.errorf(p, "branch %q has no cases and no default; it needs at least one of them", n.ID)
		}
		for k, cs := range n.Cases {
			c.expr(fmt.Sprintf("%s/cases/%d/when", p, k), cs.When, kindBool, false)
		}

	case TypeTemplate:
		if t := n.Template; t != nil {
			c.templateRef(p+"/template", t)
		}

	case TypeHandoff:
		c.message(p+"/message", n.Message)
		c.text(p+"/note", n.Note)
		if n.NoAgentAfter > 0 && n.OnNoAgent == "" {
			c.errorf(p+"/no_agent_after", "is set but on_no_agent is not: say where to go when no agent takes the conversation in time")
		}
		if n.OnNoAgent != "" && n.NoAgentAfter <= 0 {
			c.errorf(p+"/on_no_agent", "is set but there is no no_agent_after, so it is never taken")
		}

	case TypeAutoReply:
		if len(n.Rules) == 0 && n.DefaultReply == nil && n.Hours == nil {
			c.errorf(p, "auto_reply %q answers nothing: give it rules, a default or hours", n.ID)
		}
		for k, r := range n.Rules {
			rp := fmt.Sprintf("%s/rules/%d", p, k)
			c.keywords(rp+"/keywords", r.Keywords)
			if r.Pattern != "" {
				if _, err := Regexp(r.Pattern); err != nil {
					c.errorf(rp+"/pattern", "is not a valid regular expression: %s", strings.TrimPrefix(firstLine(err.Error()), "error parsing regexp: "))
				}
			}
			c.expr(rp+"/when", r.When, kindBool, false)
			c.message(rp+"/reply", r.Reply)
		}
		if n.DefaultReply != nil {
			c.message(p+"/default/reply", n.DefaultReply.Reply)
		}
		if h := n.Hours; h != nil {
			c.hours(p+"/hours", h)
		}

	case TypeHTTP:
		c.http(p, n) // http.go

	case TypeSet:
		names := make([]string, 0, len(n.SetVars))
		for name := range n.SetVars {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			c.expr(p+"/vars/"+escapeToken(name), n.SetVars[name], kindAny, false)
		}
	}
}

// windowClosingMargin is the engine's WindowMargin: the engine treats the
// window as closed this long before WhatsApp does, so an exit taken later
// than that finds it closed.
const windowClosingMargin = time.Minute

// windowClosing checks a wait_reply's on_window_closing; the schema has
// seen to it that before is a duration longer than zero.
func (c *checker) windowClosing(p string, wc *WindowClosing) {
	before := time.Duration(wc.Before)
	switch {
	case before >= 24*time.Hour:
		c.errorf(p+"/before", "is %s; the window stays open only 24h after the customer's last message, so the exit must come less than 24h before it closes (30m, say)", shortDuration(wc.Before))
	case before > 0 && before < windowClosingMargin:
		c.warnf(p+"/before", "is %s: Parley sends nothing free-form in the last minute of the window (a message queued then could reach WhatsApp after it closes), so a free-form message after this exit finds the window closed; make it 1m or more", shortDuration(wc.Before))
	}
}

func (c *checker) hours(p string, h *Hours) {
	c.message(p+"/closed_reply", h.ClosedReply)
	switch tz := h.Timezone; tz {
	case "":
		// the schema reports it
	case "Local":
		c.errorf(p+"/timezone", `"Local" is whatever zone the server runs in; name a zone such as "Europe/Dublin"`)
	default:
		if _, err := time.LoadLocation(tz); err != nil {
			c.errorf(p+"/timezone", "unknown time zone %q; use an IANA name such as \"Europe/Dublin\" or \"UTC\"", shorten(tz, 40))
		}
	}
	days := make([]string, 0, len(h.Open))
	for d := range h.Open {
		days = append(days, d)
	}
	sort.Strings(days)
	for _, d := range days {
		for k, r := range h.Open[d] {
			from, to, ok := parseRange(r)
			rp := fmt.Sprintf("%s/open/%s/%d", p, escapeToken(d), k)
			switch {
			case !ok:
				// the schema reports it
			case from == to:
				c.errorf(rp, "%q is empty: it ends when it starts", r)
			case from > to:
				c.errorf(rp, "%q ends before it starts; split a range that crosses midnight in two (\"22:00-24:00\" and \"00:00-02:00\" the next day)", r)
			}
		}
	}
}

// parseRange reads "HH:MM-HH:MM" as minutes since midnight; the end may be
// 24:00. A malformed range is the schema's to report.
func parseRange(s string) (from, to int, ok bool) {
	if len(s) != 11 || s[5] != '-' {
		return 0, 0, false
	}
	clock := func(t string) (int, bool) {
		if t[2] != ':' {
			return 0, false
		}
		h, err1 := strconv.Atoi(t[:2])
		m, err2 := strconv.Atoi(t[3:])
		if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
			return 0, false
		}
		return h*60 + m, true
	}
	from, ok1 := clock(s[:5])
	to, ok2 := clock(s[6:])
	return from, to, ok1 && ok2
}

// message checks a message's interpolations and the WhatsApp rules the
// schema cannot state.
func (c *checker) message(ptr string, m *Message) {
	if m == nil {
		return
	}
	messageStrings(m, func(sub, s string) { c.text(ptr+sub, s) })
	c.longNames(ptr, m)
	if !strings.HasSuffix(ptr, "/prompt") {
		c.strayChoiceNexts(ptr, m)
	}
	switch m.Type {
	case MsgButtons:
		// WhatsApp rejects reply buttons with equal ids or equal titles.
		ids, titles := map[string]bool{}, map[string]bool{}
		for j, b := range m.Buttons {
			bp := fmt.Sprintf("%s/buttons/%d", ptr, j)
			if b.ID != "" && ids[b.ID] {
				c.errorf(bp+"/id", "button id %q is used twice in this message; WhatsApp needs unique ids", b.ID)
			}
			if b.Title != "" && titles[b.Title] {
				c.errorf(bp+"/title", "button title %q is used twice in this message; WhatsApp needs unique titles", b.Title)
			}
			ids[b.ID], titles[b.Title] = true, true
		}
	case MsgList:
		total, tooLong := 0, false
		for _, s := range m.Sections {
			total += len(s.Rows)
			tooLong = tooLong || len(s.Rows) > MaxListRows
		}
		if total > MaxListRows && !tooLong { // a section over the limit is the schema's to report
			c.errorf(ptr, "has %d rows in all; WhatsApp allows at most %d across all sections", total, MaxListRows)
		}
		ids := map[string]bool{}
		for s, sec := range m.Sections {
			sp := fmt.Sprintf("%s/sections/%d", ptr, s)
			if len(m.Sections) > 1 && sec.Title == "" {
				c.errorf(sp, "needs a title: WhatsApp requires one on every section when a list has more than one")
			}
			for r, row := range sec.Rows {
				if row.ID != "" && ids[row.ID] {
					c.errorf(fmt.Sprintf("%s/rows/%d/id", sp, r), "row id %q is used twice in this list; WhatsApp needs unique ids", row.ID)
				}
				ids[row.ID] = true
			}
		}
	}
}

// messageStrings calls fn with the pointer (relative to the message) and
// the value of every string of m that may hold {{ }}: the strings
// forEachString fills when a message is rendered.
func messageStrings(m *Message, fn func(ptr, s string)) {
	fn("/text", m.Text)
	fn("/caption", m.Caption)
	fn("/filename", m.Filename)
	fn("/name", m.Name)
	fn("/address", m.Address)
	fn("/header", m.Header)
	fn("/footer", m.Footer)
	fn("/button", m.Button)
	fn("/display_text", m.DisplayText)
	fn("/url", m.URL)
	if m.Media != nil {
		fn("/media/link", m.Media.Link)
		fn("/media/id", m.Media.ID)
	}
	for i, b := range m.Buttons {
		fn(fmt.Sprintf("/buttons/%d/id", i), b.ID)
		fn(fmt.Sprintf("/buttons/%d/title", i), b.Title)
	}
	for i, s := range m.Sections {
		fn(fmt.Sprintf("/sections/%d/title", i), s.Title)
		for j, r := range s.Rows {
			rp := fmt.Sprintf("/sections/%d/rows/%d", i, j)
			fn(rp+"/id", r.ID)
			fn(rp+"/title", r.Title)
			fn(rp+"/description", r.Description)
		}
	}
}

// text checks a string's {{ }} interpolations.
func (c *checker) text(ptr, s string) {
	if !strings.Contains(s, "{{") {
		return
	}
	parts, err := splitText(s)
	if err != nil {
		// splitText quotes the whole string; the pointer already says which.
		msg := "opens {{ with no closing }}"
		if strings.HasSuffix(err.Error(), "has an empty {{ }}") {
			msg = "has an empty {{ }}; put an expression in it"
		}
		c.errorf(ptr, "%s", msg)
		return
	}
	for _, part := range parts {
		if !part.isExpr {
			continue
		}
		if _, ok := SecretName(part.expr); ok && c.inHTTP {
			continue // looked up when the call is made (http.go)
		}
		c.expr(ptr, part.expr, kindAny, true)
	}
}

// expr compiles one expression (a when, valid or set value, or the inside
// of a {{ }}) and reports why it does not compile.
func (c *checker) expr(ptr, src string, kind exprKind, inText bool) {
	if src == "" {
		return // a missing or empty expression is the schema's to report
	}
	label := fmt.Sprintf("expression %q", shorten(src, 60))
	if inText {
		label = "{{ " + shorten(src, 60) + " }}"
	}
	if n := utf8.RuneCountInString(src); n > MaxExpressionLen {
		c.errorf(ptr, "%s is %d characters; at most %d are allowed", label, n, MaxExpressionLen)
		return
	}
	key := programKey{src, kind}
	err, done := c.compiled[key]
	if !done {
		if len(c.compiled) >= MaxExpressions {
			if !c.capped {
				c.capped = true
				c.errorf("", "the flow holds more than %d distinct expressions; split it into smaller flows", MaxExpressions)
			}
			return
		}
		// Compiling through the flow's cache readies the program for Eval.
		_, err = c.f.progs().get(src, kind)
		c.compiled[key] = err
	}
	if err != nil {
		msg := exprMessage(err)
		if m := exprUnknown.FindStringSubmatch(firstLine(exprPosition.ReplaceAllString(firstLine(err.Error()), ""))); m != nil && m[1] == "secrets" {
			msg = "secrets may be used only in an http node's url, headers and body, each alone in its {{ }} as {{ secrets.NAME }}"
			if c.inHTTP {
				msg = "a secret must stand alone in its {{ }}, as {{ secrets.NAME }} (NAME: lowercase letters, digits and _); it cannot be part of a larger expression"
			}
		}
		c.errorf(ptr, "%s: %s", label, msg)
	}
}

var (
	exprPosition = regexp.MustCompile(`\s*\(\d+:\d+\)\s*$`)
	exprNoField  = regexp.MustCompile(`^type \*?([\w.]+) has no field (\S+)$`)
	exprUnknown  = regexp.MustCompile(`^unknown name (\S+)$`)
	exprNotBool  = regexp.MustCompile(`^expected bool, but got (.+)$`)
)

// exprMessage words an expr-lang compile error on one line, in the names
// a flow author sees rather than Go's.
func exprMessage(err error) string {
	msg := exprPosition.ReplaceAllString(firstLine(err.Error()), "")
	if m := exprNoField.FindStringSubmatch(msg); m != nil {
		if label, fields := envType(m[1]); label != "" {
			return fmt.Sprintf("unknown name %s (%s has %s)", m[2], label, strings.Join(fields, ", "))
		}
		return "unknown name " + m[2]
	}
	if m := exprUnknown.FindStringSubmatch(msg); m != nil {
		_, fields := envType("flows.Env")
		return fmt.Sprintf("unknown name %s (names are %s and has_any; a variable is vars.%s)", m[1], strings.Join(fields, ", "), m[1])
	}
	if strings.Contains(msg, `Operator("matches")`) {
		// expr-lang reads matches as an operator, never as a function.
		return msg + `; write it as an operator: reply.text matches "^[0-9]+$"`
	}
	if m := exprNotBool.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("gives %s, but a condition must be true or false", goTypeWords(m[1]))
	}
	return msg
}

// shortDuration writes 30h rather than 30h0m0s.
func shortDuration(d Duration) string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func goTypeWords(t string) string {
	switch {
	case t == "string":
		return "text"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case t == "time.Time":
		return "a time"
	case t == "time.Duration":
		return "a duration"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a map"
	case t == "nil":
		return "nil"
	case strings.HasPrefix(t, "flows."), strings.HasPrefix(t, "*flows."):
		return "an object"
	}
	return "a " + t
}

type envInfo struct {
	label  string
	fields []string
}

var (
	envOnce  sync.Once
	envTypes map[string]envInfo // Go type name ("flows.Reply") -> what expressions call it
)

// envType says how expressions name a type of Env and which fields it has,
// from Env's expr tags: "flows.Reply" is reply, with type, text, button_id…
func envType(goName string) (string, []string) {
	envOnce.Do(func() {
		envTypes = map[string]envInfo{}
		var walk func(t reflect.Type, label string)
		walk = func(t reflect.Type, label string) {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeOf(Env{}).PkgPath() {
				return
			}
			if _, seen := envTypes[t.String()]; seen {
				return
			}
			info := envInfo{label: label}
			envTypes[t.String()] = info
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				name := f.Tag.Get("expr")
				if name == "" || !f.IsExported() {
					continue
				}
				info.fields = append(info.fields, name)
				sub := name
				if label != "" {
					sub = label + "." + name
				}
				walk(f.Type, sub)
			}
			envTypes[t.String()] = info
		}
		walk(reflect.TypeOf(Env{}), "")
	})
	info := envTypes[goName]
	return info.label, info.fields
}

// graph runs the checks that need the whole flow: reachability, loops
// with no wait, and free-form sends where the window is closed.
func (c *checker) graph() {
	nodes := c.f.Nodes
	imm := make([][]int, len(nodes)) // edges taken straight on arrival
	all := make([][]int, len(nodes))
	for i, n := range nodes {
		if n == nil {
			continue
		}
		for _, x := range nodeExits(i, n) {
			j, ok := c.index[x.to]
			if !ok {
				continue
			}
			all[i] = append(all[i], j)
			if !x.wait {
				imm[i] = append(imm[i], j)
			}
		}
	}
	// A free-form send with no on_window_closed of its own goes straight to
	// the flow's reengage when the window has closed: an edge like any other
	// for loops (reengage → on_blocked → the same send spins).
	viaReengage := map[[2]int]bool{}
	if r, ok := c.index[c.f.Reengage]; ok {
		for i, n := range nodes {
			if n != nil && reengages(n) && !hasEdge(imm[i], r) {
				imm[i] = append(imm[i], r)
				viaReengage[[2]int{i, r}] = true
			}
		}
	}
	c.reachability(all)
	c.loops(imm, viaReengage)
	c.afterTemplates(imm)
	c.afterLongTimeouts()
}

// reengages reports whether a node sends a free-form message on arrival
// and, when the window has closed, falls back on the flow's reengage.
func reengages(n *Node) bool {
	switch n.Type {
	case TypeSend:
		return n.Message != nil && n.OnWindowClosed == ""
	case TypeWaitReply:
		return n.Prompt != nil && n.OnWindowClosed == ""
	}
	return false
}

// reachability warns about nodes nothing leads to. The roots are start,
// reengage and every interrupt's goto. With no valid start every node
// would be reported, so the start error stands alone.
func (c *checker) reachability(all [][]int) {
	start, ok := c.index[c.f.Start]
	if !ok {
		return
	}
	seen := make([]bool, len(c.f.Nodes))
	queue := []int{start}
	seen[start] = true
	roots := []string{c.f.Reengage}
	for _, in := range c.f.Interrupts {
		roots = append(roots, in.Goto)
	}
	for _, r := range roots {
		if i, ok := c.index[r]; ok && !seen[i] {
			seen[i] = true
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range all[i] {
			if !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	for i, n := range c.f.Nodes {
		if n == nil || n.ID == "" || seen[i] || c.index[n.ID] != i {
			continue // a duplicate id has its own error
		}
		c.warnf(nodePtr(i), "node %q cannot be reached: no exit, interrupt or reengage leads to it", shorten(n.ID, 64))
	}
}

// loops reports every cycle of immediate edges (Tarjan's strongly connected
// components; a self-loop counts). Each pass of such a loop runs without
// waiting for anyone, so it spins until the engine's step budget fails the
// conversation.
func (c *checker) loops(imm [][]int, viaReengage map[[2]int]bool) {
	n := len(imm)
	order := make([]int, n) // 0: not visited yet
	low := make([]int, n)
	onStack := make([]bool, n)
	var stack []int
	counter := 0
	var sccs [][]int
	var visit func(v int)
	visit = func(v int) {
		counter++
		order[v], low[v] = counter, counter
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range imm[v] {
			if order[w] == 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], order[w])
			}
		}
		if low[v] != order[v] {
			return
		}
		var scc []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			scc = append(scc, w)
			if w == v {
				break
			}
		}
		if len(scc) > 1 || hasEdge(imm[v], v) {
			sccs = append(sccs, scc)
		}
	}
	for v := range imm {
		if order[v] == 0 {
			visit(v)
		}
	}
	for _, scc := range sccs {
		sort.Ints(scc)
		path := shortestCycle(imm, scc)
		var b strings.Builder
		for k, i := range path {
			if k > 0 {
				b.WriteString(" → ")
				if viaReengage[[2]int{path[k-1], i}] {
					b.WriteString("(window closed, flow reengage) ")
				}
			}
			b.WriteString(c.f.Nodes[i].ID)
		}
		c.errorf(nodePtr(scc[0]), "loop with no wait in it: %s; each pass runs without the customer, so it can spin until the conversation fails. Put a wait_reply, handoff or auto_reply on the loop", b.String())
	}
}

func hasEdge(edges []int, to int) bool {
	for _, e := range edges {
		if e == to {
			return true
		}
	}
	return false
}

// shortestCycle is a shortest path from scc[0] back to itself inside scc.
func shortestCycle(imm [][]int, scc []int) []int {
	in := make(map[int]bool, len(scc))
	for _, v := range scc {
		in[v] = true
	}
	from := scc[0]
	prev := map[int]int{}
	queue := []int{from}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range imm[v] {
			if w == from {
				path := []int{from}
				for u := v; u != from; u = prev[u] {
					path = append(path, u)
				}
				path = append(path, from)
				// path is from, v, prev(v)…, from: reverse the middle
				for a, b := 1, len(path)-2; a < b; a, b = a+1, b-1 {
					path[a], path[b] = path[b], path[a]
				}
				return path
			}
			if _, seen := prev[w]; !seen && in[w] {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []int{from, from}
}

// sendsOnArrival is the pointer of the free-form message a node sends as
// soon as it is reached, or "".
func sendsOnArrival(i int, n *Node) string {
	switch {
	case n.Type == TypeSend && n.Message != nil:
		return nodePtr(i) + "/message"
	case n.Type == TypeWaitReply && n.Prompt != nil:
		return nodePtr(i) + "/prompt"
	case n.Type == TypeHandoff && n.Message != nil:
		return nodePtr(i) + "/message"
	}
	return ""
}

// afterTemplates warns where a free-form message can follow a template with
// no reply in between. A template does not open the 24-hour window; only
// the customer's answer does, so WhatsApp would refuse the message (131047).
func (c *checker) afterTemplates(imm [][]int) {
	var order []string
	named := map[string][]string{}
	for t, tn := range c.f.Nodes {
		if tn == nil || tn.Type != TypeTemplate || c.index[tn.ID] != t {
			continue
		}
		start, ok := c.index[tn.Next]
		if !ok {
			continue
		}
		seen := map[int]bool{start: true}
		queue := []int{start}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			n := c.f.Nodes[i]
			if n.Type == TypeTemplate {
				continue // that template's own walk reports what follows it
			}
			if ptr := sendsOnArrival(i, n); ptr != "" {
				if _, ok := named[ptr]; !ok {
					order = append(order, ptr)
				}
				named[ptr] = append(named[ptr], strconv.Quote(tn.ID))
			}
			for _, j := range imm[i] {
				if !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
	}
	for _, ptr := range order {
		ts := named[ptr]
		what := "template " + ts[0]
		if len(ts) > 1 {
			what = "templates " + strings.Join(ts, ", ")
		}
		c.warnf(ptr, "free-form message can follow %s with no reply in between; a template does not reopen the 24-hour window, so WhatsApp refuses it (131047). Follow the template with a wait_reply without a prompt", what)
	}
}

// afterLongTimeouts warns about a free-form message due after a wait of
// 24 hours or more timed out: by then the customer-service window has
// closed. A send or prompt with no on_window_closed falls back on the
// flow's reengage, and with none the conversation fails there; a
// handoff's message cannot be sent at all.
func (c *checker) afterLongTimeouts() {
	reported := map[string]bool{}
	warn := func(ptr, format string, a ...any) {
		if !reported[ptr] {
			reported[ptr] = true
			c.warnf(ptr, format, a...)
		}
	}
	for _, wn := range c.f.Nodes {
		if wn == nil || wn.Type != TypeWaitReply || time.Duration(wn.Timeout) < 24*time.Hour {
			continue
		}
		start, ok := c.index[wn.OnTimeout]
		if !ok {
			continue
		}
		after := fmt.Sprintf("runs after %q times out (%s), when the 24-hour window has closed", wn.ID, shortDuration(wn.Timeout))
		seen := map[int]bool{start: true}
		queue := []int{start}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			n := c.f.Nodes[i]
			var next []string
			switch n.Type {
			case TypeSend, TypeWaitReply:
				ptr := sendsOnArrival(i, n)
				switch {
				case ptr == "":
					continue // a wait_reply without a prompt just waits
				case n.OnWindowClosed != "":
					next = []string{n.OnWindowClosed}
				case c.f.Reengage == "":
					warn(ptr, "%s; with no on_window_closed here and no reengage in the flow the conversation fails", after)
					continue
				default:
					continue // the flow's reengage takes over
				}
			case TypeHandoff:
				if ptr := sendsOnArrival(i, n); ptr != "" {
					warn(ptr, "%s; WhatsApp refuses a free-form message then, so this one cannot be sent", after)
				}
				continue
			case TypeBranch, TypeSet, TypeHTTP:
				for _, x := range nodeExits(i, n) {
					next = append(next, x.to)
				}
			default:
				continue // templates re-engage; auto_replies wait
			}
			for _, id := range next {
				if j, ok := c.index[id]; ok && !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
	}
}

// fieldOrder ranks field names as a flow is normally written (the order of
// docs/flow-format.md), so that problems come out in document order.
var fieldOrder = func() map[string]int {
	names := []string{
		"format", "id", "type", "meta", "name", "language", "start", "expire_after", "reengage", "vars",
		"triggers", "interrupts", "keywords", "goto", "nodes",
		"message", "prompt", "save_as", "accept", "valid", "retry", "max_retries", "on_invalid",
		"timeout", "on_timeout", "on_window_closing", "before", "cases", "when", "label",
		"template", "header", "text", "body", "footer", "buttons", "index", "payload",
		"cards", "offer_expires_at", "currency", "date_time", "image", "video", "document", "code", "amount_1000", "fallback_value",
		"queue", "note", "priority", "no_agent_after", "on_no_agent",
		"rules", "pattern", "reply", "default", "hours", "timezone", "open",
		"mon", "tue", "wed", "thu", "fri", "sat", "sun", "closed_reply", "closed_next",
		"preview_url", "media", "link", "caption", "filename", "latitude", "longitude", "address",
		"contacts", "title", "button", "sections", "rows", "description", "display_text", "url",
		"method", "headers", "retries",
		"next", "on_window_closed", "on_blocked", "on_error",
	}
	m := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := m[n]; !dup {
			m[n] = i
		}
	}
	return m
}()

// comparePointers orders JSON pointers in document order: a parent before
// its children, array indexes numerically (/nodes/2 before /nodes/10),
// field names as a flow is normally written.
func comparePointers(a, b string) int {
	for a != "" || b != "" {
		if a == "" {
			return -1
		}
		if b == "" {
			return 1
		}
		var sa, sb string
		sa, a = cutSegment(a)
		sb, b = cutSegment(b)
		if sa == sb {
			continue
		}
		na, errA := strconv.Atoi(sa)
		nb, errB := strconv.Atoi(sb)
		switch {
		case errA == nil && errB == nil:
			if na < nb {
				return -1
			}
			return 1
		case errA == nil:
			return -1
		case errB == nil:
			return 1
		}
		ra, okA := fieldOrder[unescapeToken(sa)]
		rb, okB := fieldOrder[unescapeToken(sb)]
		switch {
		case okA && okB:
			if ra < rb {
				return -1
			}
			if ra > rb {
				return 1
			}
		case okA:
			return -1
		case okB:
			return 1
		}
		return strings.Compare(sa, sb)
	}
	return 0
}

// cutSegment splits "/nodes/2/id" into "nodes" and "/2/id".
func cutSegment(p string) (string, string) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// sortProblems puts problems in document order, errors and warnings
// together; problems at the same place keep the order they were found in.
func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return comparePointers(ps[i].Pointer, ps[j].Pointer) < 0 })
}

// SortProblems puts problems in document order, as Parse does; callers
// that add problems of their own (a template registry's, say) keep the
// list in that order with it.
func SortProblems(ps Problems) { sortProblems(ps) }
