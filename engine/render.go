package engine

import (
	"strconv"
	"strings"

	"github.com/parleyhq/parley/engine/model"
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
func Render(m *model.Message) string {
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

// Display is a message as a person reads it in the inbox: what the
// customer wrote or tapped, the text the bot or an agent sent, a
// template's name and parameters, a note's text — without the type
// prefixes and option ids that Render keeps for scripts.
func Display(m *model.Message) string {
	switch {
	case m.Template != nil:
		s := "Template " + m.Template.Name + " (" + m.Template.Language + ")"
		if params := m.Template.Params(); len(params) > 0 {
			s += ": " + strings.Join(params, " · ")
		}
		return s
	case m.Message != nil:
		return displayMessage(m.Message)
	case m.Inbound != nil:
		s := displayReply(m.Inbound)
		switch {
		case !m.RevokedAt.IsZero():
			s = "(deleted by the customer) " + s
		case !m.EditedAt.IsZero():
			s += " (edited)"
		}
		return s
	}
	return m.Text
}

func displayMessage(msg *flows.Message) string {
	switch msg.Type {
	case flows.MsgText:
		return msg.Text
	case flows.MsgButtons:
		titles := make([]string, len(msg.Buttons))
		for i, o := range msg.Buttons {
			titles[i] = "[" + o.Title + "]"
		}
		return strings.TrimSpace(msg.Text + " " + strings.Join(titles, " "))
	case flows.MsgList:
		var titles []string
		for _, s := range msg.Sections {
			for _, r := range s.Rows {
				titles = append(titles, "["+r.Title+"]")
			}
		}
		return strings.TrimSpace(msg.Text + " " + strings.Join(titles, " "))
	case flows.MsgCTAURL:
		return msg.Text + " [" + msg.DisplayText + "]"
	case flows.MsgLocation:
		return strings.TrimSpace("📍 " + msg.Name)
	}
	if msg.Caption != "" {
		return msg.Caption
	}
	return msg.Type
}

func displayReply(r *flows.Reply) string {
	switch {
	case r.ButtonID != "" || r.ListID != "":
		return r.Title
	case r.Location != nil:
		return strings.TrimSpace("📍 " + r.Location.Name)
	case r.Media != nil && r.Media.Caption != "":
		return r.Media.Caption
	case r.Reaction.MessageID != "":
		if r.Reaction.Emoji == "" {
			return "(reaction removed)"
		}
		return r.Reaction.Emoji + " (reaction)"
	case len(r.Contacts) > 0:
		cards := make([]string, len(r.Contacts))
		for i, c := range r.Contacts {
			cards[i] = "👤 " + c.Name
			if len(c.Phones) > 0 {
				cards[i] += " " + c.Phones[0].Phone
			}
		}
		return strings.Join(cards, ", ")
	case len(r.Order.Items) > 0:
		return displayOrder(&r.Order)
	case r.FlowResponse != nil:
		return "📝 form answered"
	case r.Text != "":
		return r.Text
	}
	return r.Type
}

// displayOrder is "🛒 2 × di9ozbzfi4, 1 × nqryix03ez: 85 USD".
func displayOrder(o *flows.Order) string {
	items := make([]string, len(o.Items))
	for i, it := range o.Items {
		items[i] = strconv.Itoa(it.Quantity) + " × " + it.ProductID
	}
	s := "🛒 " + strings.Join(items, ", ")
	if o.Currency != "" {
		s += ": " + num(o.Total) + " " + o.Currency
	}
	if o.Text != "" {
		s += " — " + o.Text
	}
	return s
}
