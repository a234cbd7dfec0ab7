package engine

import (
	"strconv"
	"strings"

	"github.com/parleyhq/parley/flows"
)

// Render is the one-line rendering of a transcript message, the same for
// conversation scripts, `parley simulate` and the API's transcripts:
// "text: Hi Ann!", "buttons: Track? [yes:Yes] [no:No]", "template:
// order_followup/en_US Ann", a customer's "button: [yes:Yes]", a note's
// text. Headers, footers, a list's button label and section titles are not
// shown. It is a summary for people and for scripts to match, not an
// encoding: customer text comes through as it is, to be escaped where it is
// shown.
func Render(m *Message) string {
	switch {
	case m.Template != nil:
		t := m.Template
		s := "template: " + t.Name + "/" + t.Language
		params := append(append([]string(nil), t.Header...), t.Body...)
		if len(params) > 0 {
			s += " " + strings.Join(params, " | ")
		}
		return s
	case m.Message != nil:
		return RenderMessage(m.Message)
	case m.Inbound != nil:
		return RenderReply(m.Inbound)
	}
	return m.Text // a note, or what the script runner itself reports, e.g. "refused: …"
}

// RenderMessage renders a free-form message.
func RenderMessage(msg *flows.Message) string {
	var b strings.Builder
	b.WriteString(msg.Type)
	b.WriteString(": ")
	switch msg.Type {
	case flows.MsgText:
		b.WriteString(msg.Text)
	case flows.MsgButtons:
		b.WriteString(msg.Text)
		for _, o := range msg.Buttons {
			b.WriteString(" [" + o.ID + ":" + o.Title + "]")
		}
	case flows.MsgList:
		b.WriteString(msg.Text)
		for _, s := range msg.Sections {
			for _, r := range s.Rows {
				b.WriteString(" [" + r.ID + ":" + r.Title + "]")
			}
		}
	case flows.MsgCTAURL:
		b.WriteString(msg.Text + " [" + msg.DisplayText + "](" + msg.URL + ")")
	case flows.MsgLocation:
		if msg.Latitude != nil && msg.Longitude != nil {
			b.WriteString(num(*msg.Latitude) + "," + num(*msg.Longitude))
		}
		if msg.Name != "" {
			b.WriteString(" " + msg.Name)
		}
	case flows.MsgContacts:
		var names []string
		for _, c := range msg.Contacts {
			if n, ok := c["name"].(map[string]any); ok {
				if f, ok := n["formatted_name"].(string); ok {
					names = append(names, f)
				}
			}
		}
		b.WriteString(strings.Join(names, ", "))
	default:
		if msg.Media != nil {
			ref := msg.Media.Link
			if ref == "" {
				ref = msg.Media.ID
			}
			b.WriteString(ref)
		}
		if msg.Caption != "" {
			b.WriteString(" | " + msg.Caption)
		}
	}
	return b.String()
}

// RenderReply renders a customer's message: "text: where is my order?",
// "button: [yes:Yes]", "location: 52.52,13.405 Office", "image: <media id>
// | caption", or just the type ("reaction") when there is nothing more.
func RenderReply(r *flows.Reply) string {
	var detail string
	switch {
	case r.ButtonID != "":
		detail = "[" + r.ButtonID + ":" + r.Title + "]"
	case r.ListID != "":
		detail = "[" + r.ListID + ":" + r.Title + "]"
	case r.Location != nil:
		detail = num(r.Location.Latitude) + "," + num(r.Location.Longitude)
		if r.Location.Name != "" {
			detail += " " + r.Location.Name
		}
	case r.Media != nil:
		detail = r.Media.ID
		if r.Media.Caption != "" {
			detail += " | " + r.Media.Caption
		}
	default:
		detail = r.Text
	}
	if detail == "" {
		return r.Type
	}
	return r.Type + ": " + detail
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
