package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// InboundFromWhatsApp folds a parsed webhook message into what the engine
// takes. Whatever the WhatsApp type, the flow sees a flows.Reply: a tap on
// a reply button and a tap on a template's quick-reply button both become a
// "button" reply, a list choice a "list" reply, and anything a flow cannot
// answer (an order, a contact card, a WhatsApp Flows form…) an "other"
// reply, which wait_reply treats as a misfit unless it accepts any. Nothing
// the message carried is dropped: contact cards, the cart, a reaction, the
// reply context, the ad referral and a form's answers are kept in the
// Reply's own fields (flows/reply.go).
func InboundFromWhatsApp(m *whatsapp.InboundMessage) *Inbound {
	in := &Inbound{
		PhoneNumberID: m.PhoneNumberID, ID: m.ID, WaID: m.From, UserID: m.UserID,
		Name: m.ProfileName, At: m.Timestamp, Referral: m.Referral != nil,
	}
	in.Reply = replyFrom(m)
	if m.Type == whatsapp.TypeSystem && m.System != nil {
		sys := *m.System
		in.System = &sys
	}
	if m.Type == whatsapp.TypeEdit && m.Edit != nil && m.Edit.Message != nil {
		edited := replyFrom(m.Edit.Message)
		in.Edited = &edited
	}
	return in
}

func replyFrom(m *whatsapp.InboundMessage) flows.Reply {
	r := replyContent(m)
	if c := m.Context; c != nil {
		r.Context = flows.ReplyContext{
			MessageID: c.ID, From: c.From, Forwarded: c.Forwarded, FrequentlyForwarded: c.FrequentlyForwarded,
		}
		if p := c.ReferredProduct; p != nil {
			r.Context.CatalogID, r.Context.ProductID = p.CatalogID, p.ProductRetailerID
		}
	}
	if ref := m.Referral; ref != nil {
		r.Referral = flows.Referral{
			AdID: ref.SourceID, SourceType: ref.SourceType, SourceURL: ref.SourceURL,
			Headline: ref.Headline, Body: ref.Body, MediaType: ref.MediaType,
			MediaURL: firstNonEmpty(ref.ImageURL, ref.VideoURL), ThumbnailURL: ref.ThumbnailURL,
			CTWAClickID: ref.CTWAClickID,
		}
	}
	return r
}

// replyContent is the type and payload of m as a flow sees them.
func replyContent(m *whatsapp.InboundMessage) flows.Reply {
	switch m.Type {
	case whatsapp.TypeText:
		return flows.Reply{Type: flows.MsgText, Text: m.Text}
	case whatsapp.TypeInteractive:
		if it := m.Interactive; it != nil {
			switch {
			case it.ButtonReply != nil:
				return flows.Reply{Type: flows.ReplyButton, ButtonID: it.ButtonReply.ID, Title: it.ButtonReply.Title}
			case it.ListReply != nil:
				return flows.Reply{Type: flows.ReplyList, ListID: it.ListReply.ID, Title: it.ListReply.Title}
			case it.NFMReply != nil:
				// reply.text keeps the answers' JSON text, as before
				// reply.flow_response existed.
				return flows.Reply{Type: flows.ReplyOther, Text: it.NFMReply.ResponseJSON, FlowResponse: flowResponse(it.NFMReply.ResponseJSON)}
			}
		}
	case whatsapp.TypeButton:
		if m.Button != nil {
			return flows.Reply{Type: flows.ReplyButton, ButtonID: m.Button.Payload, Title: m.Button.Text}
		}
	case whatsapp.TypeLocation:
		if l := m.Location; l != nil {
			return flows.Reply{Type: flows.MsgLocation, Location: &flows.Location{
				Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}}
		}
	case whatsapp.TypeImage, whatsapp.TypeVideo, whatsapp.TypeAudio, whatsapp.TypeDocument, whatsapp.TypeSticker:
		if md := m.Media; md != nil {
			return flows.Reply{Type: m.Type, Text: md.Caption, Media: &flows.MediaIn{
				ID: md.ID, MimeType: md.MimeType, Caption: md.Caption, Filename: md.Filename}}
		}
	case whatsapp.TypeReaction:
		r := flows.Reply{Type: m.Type}
		if m.Reaction != nil {
			r.Reaction = flows.Reaction{Emoji: m.Reaction.Emoji, MessageID: m.Reaction.MessageID}
		}
		return r
	case whatsapp.TypeEdit:
		r := flows.Reply{Type: m.Type}
		if e := m.Edit; e != nil {
			if e.Message != nil {
				r = replyContent(e.Message) // the new content, under the type edit
				r.Type = m.Type
			}
			r.OriginalID = e.OriginalMessageID
		}
		return r
	case whatsapp.TypeRevoke:
		r := flows.Reply{Type: m.Type}
		if m.Revoke != nil {
			r.OriginalID = m.Revoke.OriginalMessageID
		}
		return r
	case whatsapp.TypeSystem:
		r := flows.Reply{Type: m.Type}
		if m.System != nil {
			r.Text = m.System.Body
		}
		return r
	case whatsapp.TypeRequestWelcome:
		return flows.Reply{Type: m.Type}
	case whatsapp.TypeContacts:
		return flows.Reply{Type: flows.ReplyOther, Contacts: contactCards(m.Contacts)}
	case whatsapp.TypeOrder:
		if m.Order != nil {
			return flows.Reply{Type: flows.ReplyOther, Text: m.Order.Text, Order: orderOf(m.Order)}
		}
	}
	return flows.Reply{Type: flows.ReplyOther}
}

// flowResponse parses a WhatsApp Flows form's answers (nfm_reply's
// response_json). Answers that are not a JSON object are kept under
// "value"; text that is not JSON at all gives nothing (reply.text still
// holds it).
func flowResponse(text string) map[string]any {
	if text == "" {
		return nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	v = plainNumbers(v)
	if obj, ok := v.(map[string]any); ok {
		return obj
	}
	return map[string]any{"value": v}
}

// plainNumbers turns the json.Numbers of v into float64 (what expressions
// compare with numbers) where that loses nothing, else keeps their text:
// an id of 20 digits stays exact.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == x.String() {
			return f
		}
		return x.String()
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}

func contactCards(cs []whatsapp.Contact) []flows.ContactCard {
	cards := make([]flows.ContactCard, 0, len(cs))
	for _, c := range cs {
		card := flows.ContactCard{
			Name: c.Name.FormattedName, FirstName: c.Name.FirstName, LastName: c.Name.LastName, Birthday: c.Birthday,
		}
		if card.Name == "" {
			card.Name = strings.TrimSpace(c.Name.FirstName + " " + c.Name.LastName)
		}
		for _, p := range c.Phones {
			card.Phones = append(card.Phones, flows.CardPhone{Phone: p.Phone, WaID: p.WaID, Type: p.Type})
		}
		for _, e := range c.Emails {
			card.Emails = append(card.Emails, e.Email)
		}
		for _, u := range c.URLs {
			card.URLs = append(card.URLs, u.URL)
		}
		for _, a := range c.Addresses {
			card.Addresses = append(card.Addresses, flows.CardAddress{
				Street: a.Street, City: a.City, State: a.State, Zip: a.Zip,
				Country: a.Country, CountryCode: a.CountryCode, Type: a.Type,
			})
		}
		if o := c.Org; o != nil {
			card.Company, card.Department, card.JobTitle = o.Company, o.Department, o.Title
		}
		cards = append(cards, card)
	}
	return cards
}

func orderOf(o *whatsapp.Order) flows.Order {
	out := flows.Order{CatalogID: o.CatalogID, Text: o.Text}
	for i, it := range o.Items {
		out.Items = append(out.Items, flows.OrderItem{
			ProductID: it.ProductRetailerID, Quantity: it.Quantity, Price: it.ItemPrice, Currency: it.Currency,
		})
		out.Total += float64(it.Quantity) * it.ItemPrice
		if i == 0 {
			out.Currency = it.Currency
		} else if out.Currency != it.Currency {
			out.Currency = ""
		}
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// callbackData is what Parley puts in biz_opaque_callback_data: the
// conversation, the transcript position and the node, so a status webhook
// finds its message without an index.
func callbackData(m *model.Message) string {
	return m.Conversation + "|" + strconv.FormatUint(m.Seq, 10) + "|" + m.Node
}

// parseCallbackData is the inverse of callbackData.
func parseCallbackData(s string) (conversation string, seq uint64, ok bool) {
	parts := strings.SplitN(s, "|", 3)
	if len(parts) < 2 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil || parts[0] == "" {
		return "", 0, false
	}
	return parts[0], seq, true
}

// ConversationContact is the contact key within a conversation id.
func ConversationContact(conversation string) model.ContactKey { return contactOf(conversation) }

// contactOf is the contact key within a conversation id.
func contactOf(conversation string) model.ContactKey {
	if i := strings.LastIndexByte(conversation, '#'); i > 0 {
		return model.ContactKey(conversation[:i])
	}
	return model.ContactKey(conversation)
}

// toWhatsApp builds the Cloud API request for a transcript message. A
// customer known only by a business-scoped user id is addressed with
// `recipient`.
//
// A template is built from the registry's record of it (reg may be nil):
// its texts are checked once filled in (CheckTemplateSend; a text Meta
// would refuse is an *whatsapp.InvalidMessageError), a NAMED template's
// parameters carry their names, and buttons go to their positions.
func toWhatsApp(m *model.Message, c *model.Contact, reg templates.Lookup) (*whatsapp.OutboundMessage, error) {
	to := c.WaID
	if to == "" {
		to = c.UserID
	}
	var out *whatsapp.OutboundMessage
	switch {
	case m.Template != nil:
		t := m.Template
		var shape *model.TemplateShape
		if info, ok := templates.ShapeOf(reg, t); ok {
			var texts []string
			for _, p := range templates.CheckTemplateSend(info, t, true) {
				if p.Kind == templates.ProblemText {
					texts = append(texts, p.String())
				}
			}
			if len(texts) > 0 {
				return nil, &whatsapp.InvalidMessageError{Problems: texts}
			}
			shape = info.Shape
		}
		comps, err := templates.Components(shape, t)
		if err != nil {
			return nil, err
		}
		out = whatsapp.NewTemplate(to, t.Name, t.Language, comps...)
	case m.Message != nil:
		var err error
		if out, err = freeForm(to, m.Message); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("message %s/%d has nothing to send", m.Conversation, m.Seq)
	}
	if c.WaID == "" && c.UserID != "" {
		out.To, out.Recipient = "", c.UserID
	}
	out.BizOpaqueCallbackData = callbackData(m)
	return out, nil
}

func freeForm(to string, msg *flows.Message) (*whatsapp.OutboundMessage, error) {
	switch msg.Type {
	case flows.MsgText:
		out := whatsapp.NewText(to, msg.Text)
		out.Text.PreviewURL = msg.PreviewURL
		return out, nil
	case flows.MsgImage, flows.MsgVideo, flows.MsgAudio, flows.MsgDocument, flows.MsgSticker:
		var md whatsapp.OutMedia
		if msg.Media != nil {
			md.ID, md.Link = msg.Media.ID, msg.Media.Link
		}
		md.Caption, md.Filename = msg.Caption, msg.Filename
		return whatsapp.NewMedia(to, msg.Type, md), nil
	case flows.MsgLocation:
		out := &whatsapp.OutboundMessage{Type: whatsapp.TypeLocation, Location: &whatsapp.OutLocation{Name: msg.Name, Address: msg.Address}}
		if msg.Latitude != nil && msg.Longitude != nil {
			out.Location.Latitude, out.Location.Longitude = *msg.Latitude, *msg.Longitude
		}
		out.SetRecipient(to)
		return out, nil
	case flows.MsgContacts:
		var cards []whatsapp.OutContact
		raw, err := json.Marshal(msg.Contacts)
		if err == nil {
			err = json.Unmarshal(raw, &cards)
		}
		if err != nil {
			return nil, fmt.Errorf("contacts message: %w", err)
		}
		out := &whatsapp.OutboundMessage{Type: whatsapp.TypeContacts, Contacts: cards}
		out.SetRecipient(to)
		return out, nil
	case flows.MsgButtons:
		bs := make([]whatsapp.OutReply, len(msg.Buttons))
		for i, b := range msg.Buttons {
			bs[i] = whatsapp.OutReply{ID: b.ID, Title: b.Title}
		}
		out := whatsapp.NewButtons(to, msg.Text, bs...)
		decorate(out, msg)
		return out, nil
	case flows.MsgList:
		secs := make([]whatsapp.OutSection, len(msg.Sections))
		for i, s := range msg.Sections {
			rows := make([]whatsapp.OutRow, len(s.Rows))
			for j, r := range s.Rows {
				rows[j] = whatsapp.OutRow{ID: r.ID, Title: r.Title, Description: r.Description}
			}
			secs[i] = whatsapp.OutSection{Title: s.Title, Rows: rows}
		}
		out := whatsapp.NewList(to, msg.Text, msg.Button, secs...)
		decorate(out, msg)
		return out, nil
	case flows.MsgCTAURL:
		out := whatsapp.NewCTAURL(to, msg.Text, msg.DisplayText, msg.URL)
		decorate(out, msg)
		return out, nil
	}
	return nil, fmt.Errorf("message type %q cannot be sent", msg.Type)
}

func decorate(out *whatsapp.OutboundMessage, msg *flows.Message) {
	if msg.Header != "" {
		out.Interactive.Header = &whatsapp.OutHeader{Type: "text", Text: msg.Header}
	}
	if msg.Footer != "" {
		out.Interactive.Footer = &whatsapp.OutBodyText{Text: msg.Footer}
	}
}
