package nodes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/flows"
)

// DefaultMaxRetries is how many misfit replies a wait_reply answers with its
// retry message before taking on_invalid, when the node does not say.
const DefaultMaxRetries = 2

// Accept values of wait_reply.
const (
	AcceptAny      = "any"
	AcceptText     = "text"
	AcceptNumber   = "number"
	AcceptButton   = "button"
	AcceptList     = "list"
	AcceptLocation = "location"
	AcceptMedia    = "media"
)

// wait_reply sends an optional prompt and waits for the customer's answer.
//
//	{"id": "ask", "type": "wait_reply",
//	 "prompt": {"type": "buttons", "text": "Track an order?",
//	            "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]},
//	 "accept": "button", "save_as": "answer",
//	 "retry": {"type": "text", "text": "Please tap Yes or No."}, "max_retries": 2,
//	 "on_invalid": "to_agent", "timeout": "30h", "on_timeout": "nudge",
//	 "on_window_closing": {"before": "30m", "next": "last_call"}, "next": "route"}
//
// A reply that fits accept (and valid, when given) is saved in vars[save_as]
// and the flow moves to next. A misfit gets the retry message, up to
// max_retries times (default 2), then the flow takes on_invalid; with no
// on_invalid the node keeps asking. No fitting reply within timeout takes
// on_timeout (or ends). With on_window_closing, the node takes its next
// `before` the 24-hour window closes, while a free-form message may still
// be sent; whichever of that moment and the timeout comes first wins. Every
// message from the customer, a misfit too, moves the window and the moment
// with it; with the window closed, or the moment already past on arrival,
// it is not taken (the engine arms it: see Wait.WindowClosing).
//
// A button or row may carry a next of its own: a reply that selects it
// is saved as usual and then follows the choice's next (its exit is named
// "prompt/buttons/0", "prompt/sections/0/rows/2"), not the node's.
//
// A typed answer equal to a button or row title (or id) counts as that
// button or row, since customers often type instead of tapping; the
// prompt's {{ }} are filled in first, so that buttons made from variables
// match what the customer saw. Accepting text or a number, a typed answer
// stays what it is, even when it names a button.
//
// What is saved: the text, the number, the button or row id, or the
// location or media object, by what was accepted.
func init() { Register(flows.TypeWaitReply, TypeFunc(stepWaitReply)) }

func stepWaitReply(n *flows.Node, v *View, ev Event) Effects {
	var eff Effects
	switch ev.Kind {
	case Arrive:
		if n.Prompt != nil {
			eff.Sends = []Send{{Message: message(n.Prompt, v, &eff)}}
		}
		eff.Wait = wait(n, 0)
	case Inbound:
		eff.Consumed = true
		prompt := n.Prompt
		if prompt != nil && choicesInterpolated(prompt) {
			// A failure was recorded when the prompt was sent.
			p, _ := v.Flow.RenderMessage(prompt, v.Env)
			prompt = &p
		}
		reply, value, ok := fit(n, prompt, ev.Reply)
		if ok && n.Valid != "" {
			env := *v.Env
			env.Reply = *reply
			valid, err := v.Flow.Test(n.Valid, &env)
			if err != nil {
				eff.Problems = append(eff.Problems, fmt.Sprintf("valid: %v", err))
			}
			ok = valid
		}
		if ok {
			eff.Reply = reply
			if n.SaveAs != "" {
				eff.Vars = map[string]any{n.SaveAs: value}
			}
			eff.Next, eff.Exit = n.Next, ExitNext
			if ch, ok := chosen(n, prompt, reply); ok && ch.Next != "" {
				eff.Next, eff.Exit = ch.Next, ch.Exit
			}
			return eff
		}
		retries := v.Retries + 1
		limit := DefaultMaxRetries
		if n.MaxRetries != nil {
			limit = *n.MaxRetries
		}
		if retries > limit && n.OnInvalid != "" {
			eff.Next, eff.Exit = n.OnInvalid, ExitInvalid
			return eff
		}
		if n.Retry != nil {
			eff.Sends = []Send{{Message: message(n.Retry, v, &eff)}}
		}
		eff.Wait = wait(n, retries)
	case Timeout:
		eff.Next, eff.Exit = n.OnTimeout, ExitTimeout
	case WindowClosing:
		if wc := n.OnWindowClosing; wc != nil {
			eff.Next, eff.Exit = wc.Next, ExitWindowClosing
			break
		}
		eff.Wait = wait(n, v.Retries)
	default:
		eff.Wait = wait(n, v.Retries)
	}
	return eff
}

// wait is the node's wait, with the misfit replies it has had so far.
func wait(n *flows.Node, retries int) *Wait {
	w := &Wait{Timeout: n.Timeout.Std(), Retries: retries}
	if wc := n.OnWindowClosing; wc != nil {
		w.WindowClosing = wc.Before.Std()
	}
	return w
}

// fit checks a reply against the node's accept rule, folding typed answers
// into taps on the (rendered) prompt's buttons or rows, and returns the
// value to save.
func fit(n *flows.Node, prompt *flows.Message, r *flows.Reply) (*flows.Reply, any, bool) {
	if r == nil {
		return nil, nil, false
	}
	accept := n.Accept
	if accept == "" {
		accept = AcceptAny
	}
	folded := *r
	switch accept {
	case AcceptAny, AcceptButton, AcceptList:
		// Only where a tap is an answer: accepting text or a number,
		// "Small" or "2" typed stays text even when a button says so.
		if r.Type == flows.MsgText && prompt != nil {
			foldTyped(&folded, prompt)
		}
	}
	switch accept {
	case AcceptText:
		if folded.Type == flows.MsgText && strings.TrimSpace(folded.Text) != "" {
			return &folded, folded.Text, true
		}
	case AcceptNumber:
		if f, ok := ParseNumber(folded.Text); ok && folded.Type == flows.MsgText {
			folded.Number, folded.IsNumber = f, true
			return &folded, f, true
		}
	case AcceptButton:
		if folded.Type == flows.ReplyButton && (prompt == nil || hasButton(prompt, folded.ButtonID)) {
			return &folded, folded.ButtonID, true
		}
	case AcceptList:
		if folded.Type == flows.ReplyList && (prompt == nil || hasRow(prompt, folded.ListID)) {
			return &folded, folded.ListID, true
		}
	case AcceptLocation:
		if folded.Type == flows.MsgLocation && folded.Location != nil {
			return &folded, locationValue(folded.Location), true
		}
	case AcceptMedia:
		if flows.IsMedia(folded.Type) && folded.Media != nil {
			return &folded, mediaValue(folded.Media), true
		}
	case AcceptAny:
		// Contact cards, a cart or a form's answers are answers; a
		// message Parley cannot read is not.
		return &folded, ReplyValue(&folded), folded.Type != flows.ReplyOther || folded.Carries()
	}
	return &folded, nil, false
}

// ReplyValue is what a reply is worth as a variable: its text, number, id,
// or location / media object.
func ReplyValue(r *flows.Reply) any {
	switch {
	case r.Type == flows.ReplyButton:
		return r.ButtonID
	case r.Type == flows.ReplyList:
		return r.ListID
	case r.Type == flows.MsgLocation && r.Location != nil:
		return locationValue(r.Location)
	case r.Media != nil:
		return mediaValue(r.Media)
	case r.FlowResponse != nil:
		return r.FlowResponse
	case len(r.Order.Items) > 0 || len(r.Contacts) > 0:
		return plainValue(r)
	case r.IsNumber:
		return r.Number
	}
	return r.Text
}

func locationValue(l *flows.Location) map[string]any {
	m := map[string]any{"latitude": l.Latitude, "longitude": l.Longitude}
	if l.Name != "" {
		m["name"] = l.Name
	}
	if l.Address != "" {
		m["address"] = l.Address
	}
	return m
}

func mediaValue(md *flows.MediaIn) map[string]any {
	m := map[string]any{"id": md.ID}
	if md.MimeType != "" {
		m["mime_type"] = md.MimeType
	}
	if md.Caption != "" {
		m["caption"] = md.Caption
	}
	if md.Filename != "" {
		m["filename"] = md.Filename
	}
	return m
}

// foldTyped turns a typed answer that names one of the prompt's buttons or
// rows (by title or id, ignoring case and accents) into a tap on it.
func foldTyped(r *flows.Reply, prompt *flows.Message) {
	typed := flows.Fold(strings.TrimSpace(r.Text))
	if typed == "" {
		return
	}
	for _, b := range prompt.Buttons {
		if typed == flows.Fold(b.Title) || typed == flows.Fold(b.ID) {
			r.Type, r.ButtonID, r.Title = flows.ReplyButton, b.ID, b.Title
			return
		}
	}
	for _, s := range prompt.Sections {
		for _, row := range s.Rows {
			if typed == flows.Fold(row.Title) || typed == flows.Fold(row.ID) {
				r.Type, r.ListID, r.Title = flows.ReplyList, row.ID, row.Title
				return
			}
		}
	}
}

// chosen is the choice of the node's prompt a fitting reply selected: a
// tap (or a typed answer folded into one) on a button or row the customer
// was offered. prompt is the prompt as sent; a choice's next is read from
// the node's own prompt, at the same place.
func chosen(n *flows.Node, prompt *flows.Message, r *flows.Reply) (flows.Choice, bool) {
	if prompt == nil || r == nil {
		return flows.Choice{}, false
	}
	var id string
	switch r.Type {
	case flows.ReplyButton:
		id = r.ButtonID
	case flows.ReplyList:
		id = r.ListID
	default:
		return flows.Choice{}, false
	}
	own := n.Choices()
	for i, b := range prompt.Buttons {
		if r.Type == flows.ReplyButton && b.ID == id && i < len(own) {
			return own[i], true
		}
	}
	k := len(prompt.Buttons)
	for _, s := range prompt.Sections {
		for _, row := range s.Rows {
			if r.Type == flows.ReplyList && row.ID == id && k < len(own) {
				return own[k], true
			}
			k++
		}
	}
	return flows.Choice{}, false
}

// choicesInterpolated reports whether a button's or row's id or title
// holds {{ }}, so that the prompt must be rendered to know what the
// customer was offered.
func choicesInterpolated(m *flows.Message) bool {
	has := func(s string) bool { return strings.Contains(s, "{{") }
	for _, b := range m.Buttons {
		if has(b.ID) || has(b.Title) {
			return true
		}
	}
	for _, s := range m.Sections {
		for _, r := range s.Rows {
			if has(r.ID) || has(r.Title) {
				return true
			}
		}
	}
	return false
}

func hasButton(m *flows.Message, id string) bool {
	if len(m.Buttons) == 0 {
		return true // a prompt with no buttons cannot narrow the choice
	}
	for _, b := range m.Buttons {
		if b.ID == id {
			return true
		}
	}
	return false
}

func hasRow(m *flows.Message, id string) bool {
	if len(m.Sections) == 0 {
		return true
	}
	for _, s := range m.Sections {
		for _, r := range s.Rows {
			if r.ID == id {
				return true
			}
		}
	}
	return false
}

// ParseNumber reads a number as customers type it: "42", " 3.5 ", "3,5",
// "1 000", "1,000" (a comma before exactly three digits groups thousands).
// Only digits, one sign and one decimal separator count: strconv.ParseFloat
// alone would also read "NaN", "Inf", "1e3", "0x1p4" and "1_000", and NaN
// or an infinity saved as a variable cannot be stored as JSON.
func ParseNumber(s string) (float64, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) { // "1 000", also with a (narrow) no-break space
			return -1
		}
		return r
	}, s)
	if !strings.Contains(s, ".") {
		if i := strings.LastIndexByte(s, ','); i >= 0 && len(s)-i-1 == 3 {
			s = strings.ReplaceAll(s, ",", "")
		} else if strings.Count(s, ",") == 1 {
			s = strings.Replace(s, ",", ".", 1)
		}
	}
	if !isDecimal(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// isDecimal reports whether s is an optional sign, then digits with at most
// one decimal point among or around them.
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, points := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// plainValue is a cart or contact cards as a variable: the JSON form of
// reply.order or reply.contacts, as it reads back from the store, so an
// expression sees the same before and after a restart.
func plainValue(r *flows.Reply) any {
	var v any = r.Contacts
	if len(r.Order.Items) > 0 {
		v = r.Order
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}
