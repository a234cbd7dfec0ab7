package flows

import (
	"strconv"
	"strings"
)

// Line is the one-line rendering of a free-form message that conversation
// scripts match (docs/flow-format.md, "Rendering rules"): the body text, and
// for buttons and lists each option as [id:title]; headers, footers, a
// list's button label and section titles are not shown.
func (msg *Message) Line() string {
	var b strings.Builder
	b.WriteString(msg.Type)
	b.WriteString(": ")
	switch msg.Type {
	case MsgText:
		b.WriteString(msg.Text)
	case MsgButtons:
		b.WriteString(msg.Text)
		for _, o := range msg.Buttons {
			b.WriteString(" [" + o.ID + ":" + o.Title + "]")
		}
	case MsgList:
		b.WriteString(msg.Text)
		for _, s := range msg.Sections {
			for _, r := range s.Rows {
				b.WriteString(" [" + r.ID + ":" + r.Title + "]")
			}
		}
	case MsgCTAURL:
		b.WriteString(msg.Text + " [" + msg.DisplayText + "](" + msg.URL + ")")
	case MsgLocation:
		if msg.Latitude != nil && msg.Longitude != nil {
			b.WriteString(num(*msg.Latitude) + "," + num(*msg.Longitude))
		}
		if msg.Name != "" {
			b.WriteString(" " + msg.Name)
		}
	case MsgContacts:
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
