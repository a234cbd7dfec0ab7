package flows

import (
	"strings"
	"unicode/utf8"
)

// LongName is how long a customer's name is taken to be when the
// validator asks whether a text holding {{ contact.name }} stays within
// WhatsApp's limits: WhatsApp profile names run to 25 characters.
const LongName = 25

// NodeLabel is how problems name a node to a person: its meta.label when
// the editor gave it one, else its id.
func NodeLabel(n *Node) string {
	if n == nil {
		return ""
	}
	if l, ok := n.Meta["label"].(string); ok && strings.TrimSpace(l) != "" {
		return shorten(strings.TrimSpace(l), 64)
	}
	return shorten(n.ID, 64)
}

// choices checks a wait_reply's per-choice exits and the way it answers a
// reply that is none of its choices.
func (c *checker) choices(i int, n *Node) {
	p := nodePtr(i)
	chs := n.Choices()
	withNext := 0
	for _, ch := range chs {
		if ch.Next != "" {
			withNext++
		}
	}
	accept := n.Accept
	if accept == "" {
		accept = "any"
	}
	tappable := accept == "any" || accept == "button" || accept == "list"
	// Without a next of its own the node still needs one, unless every
	// reply that can fit is one of the choices and each leads somewhere.
	allChosen := len(chs) > 0 && withNext == len(chs) && (accept == "button" || accept == "list") && n.Valid == ""
	if n.Next == "" && !allChosen {
		c.errorf(p, "wait %q has no next: connect its \"next\" exit to the node that comes after the answer", NodeLabel(n))
	}
	if withNext > 0 && !tappable {
		for _, ch := range chs {
			if ch.Next != "" {
				c.warnf(p+"/"+ch.Exit+"/next", "is never taken: wait %q accepts %s, so a typed answer stays %s even when it names this choice; accept any, button or list", NodeLabel(n), accept, accept)
				break
			}
		}
	}
	if len(chs) > 0 && (accept == "button" || accept == "list") && n.Retry == nil {
		limit := 1
		if n.MaxRetries != nil {
			limit = *n.MaxRetries
		}
		if limit > 0 || n.OnInvalid == "" {
			c.warnf(p, "wait %q says nothing when the customer types something that is not one of its choices; add a retry message such as \"Please tap one of the buttons.\"", NodeLabel(n))
		}
	}
}

// strayChoiceNexts reports a next on a button or row of a message that is
// not a wait_reply's prompt: only a wait hears which choice was taken.
func (c *checker) strayChoiceNexts(ptr string, m *Message) {
	for _, ch := range messageChoices(m) {
		if ch.Next != "" {
			sub := strings.TrimPrefix(ch.Exit, "prompt")
			c.errorf(ptr+sub+"/next", "only the choices of a wait's question can lead somewhere: this message does not wait for the answer. Move the choices to a wait_reply's prompt, or remove this connection")
		}
	}
}

// textLimits are WhatsApp's limits on the strings of a message that a
// name may push over, by their pointer relative to the message with
// indexes as "*".
var textLimits = map[string]int{
	"/text":                          MaxTextLen,
	"/header":                        60,
	"/footer":                        60,
	"/button":                        20,
	"/caption":                       1024,
	"/buttons/*/title":               MaxButtonTitleLen,
	"/sections/*/title":              MaxRowTitleLen,
	"/sections/*/rows/*/title":       MaxRowTitleLen,
	"/sections/*/rows/*/description": MaxRowDescLen,
}

// longNames warns of a text that fits WhatsApp's limit as written but not
// once a long name is filled in: rendered past the limit the message is
// refused, and the conversation takes on_error or fails.
func (c *checker) longNames(ptr string, m *Message) {
	interactive := m.Type == MsgButtons || m.Type == MsgList || m.Type == MsgCTAURL
	messageStrings(m, func(sub, s string) {
		if !strings.Contains(s, "contact.name") {
			return
		}
		limit, ok := textLimits[wildIndexes(sub)]
		if !ok {
			return
		}
		if sub == "/text" && interactive {
			limit = 1024 // an interactive message's body
		}
		parts, err := splitText(s)
		if err != nil {
			return // reported by text
		}
		n, names := 0, 0
		for _, pt := range parts {
			switch {
			case !pt.isExpr:
				n += utf8.RuneCountInString(pt.text)
			case strings.Contains(pt.expr, "contact.name"):
				names++
			}
		}
		if n <= limit && n+names*LongName > limit {
			c.warnf(ptr+sub, "is %d characters with a %d-character name, over WhatsApp's %d: for customers with long names the message is refused. Shorten the text around the name", n+names*LongName, LongName, limit)
		}
	})
}

// wildIndexes turns "/buttons/2/title" into "/buttons/*/title".
func wildIndexes(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			segs[i] = "*"
		}
	}
	return strings.Join(segs, "/")
}
