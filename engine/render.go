package engine

import (
	"strconv"

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
		return m.Template.Line()
	case m.Message != nil:
		return m.Message.Line()
	case m.Inbound != nil:
		return RenderReply(m.Inbound)
	}
	return m.Text // a note, or what the script runner itself reports, e.g. "refused: …"
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
