package script

import (
	"strconv"
	"strings"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
)

// Render is the one-line rendering of an outbound message that script
// expectations match: "text: Hi Ann!", "buttons: Track? [yes:Yes] [no:No]",
// "template: order_followup/en_US Ann". Headers, footers, a list's button
// label and section titles are not shown.
func Render(m *engine.Message) string {
	if m.Template != nil {
		t := m.Template
		s := "template: " + t.Name + "/" + t.Language
		params := append(append([]string(nil), t.Header...), t.Body...)
		if len(params) > 0 {
			s += " " + strings.Join(params, " | ")
		}
		return s
	}
	if m.Message == nil {
		return m.Text // what the script runner itself reports, e.g. "refused: …"
	}
	return RenderMessage(m.Message)
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

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
