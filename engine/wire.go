package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// InboundFromWhatsApp folds a parsed webhook message into what the engine
// takes. Whatever the WhatsApp type, the flow sees a flows.Reply: a tap on
// a reply button and a tap on a template's quick-reply button both become a
// "button" reply, a list choice a "list" reply, and anything a flow cannot
// answer (an order, a poll…) an "other" reply, which wait_reply treats as a
// misfit.
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
	return in
}

func replyFrom(m *whatsapp.InboundMessage) flows.Reply {
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
				return flows.Reply{Type: flows.ReplyOther, Text: it.NFMReply.ResponseJSON}
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
	case whatsapp.TypeReaction, whatsapp.TypeRevoke, whatsapp.TypeEdit, whatsapp.TypeSystem, whatsapp.TypeRequestWelcome:
		return flows.Reply{Type: m.Type}
	case whatsapp.TypeOrder:
		if m.Order != nil {
			return flows.Reply{Type: flows.ReplyOther, Text: m.Order.Text}
		}
	}
	return flows.Reply{Type: flows.ReplyOther}
}

// callbackData is what Parley puts in biz_opaque_callback_data: the
// conversation, the transcript position and the node, so a status webhook
// finds its message without an index.
func callbackData(m *Message) string {
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

// contactOf is the contact key within a conversation id.
func contactOf(conversation string) ContactKey {
	if i := strings.LastIndexByte(conversation, '#'); i > 0 {
		return ContactKey(conversation[:i])
	}
	return ContactKey(conversation)
}

// toWhatsApp builds the Cloud API request for a transcript message. A
// customer known only by a business-scoped user id is addressed with
// `recipient`.
//
// A template is built from the registry's record of it (reg may be nil):
// its texts are checked once filled in (CheckTemplateSend; a text Meta
// would refuse is an *whatsapp.InvalidMessageError), a NAMED template's
// parameters carry their names, and buttons go to their positions.
func toWhatsApp(m *Message, c *Contact, reg Templates) (*whatsapp.OutboundMessage, error) {
	to := c.WaID
	if to == "" {
		to = c.UserID
	}
	var out *whatsapp.OutboundMessage
	switch {
	case m.Template != nil:
		t := m.Template
		var shape *TemplateShape
		if info, ok := templateShape(reg, t); ok {
			var texts []string
			for _, p := range CheckTemplateSend(info, t, true) {
				if p.Kind == ProblemText {
					texts = append(texts, p.String())
				}
			}
			if len(texts) > 0 {
				return nil, &whatsapp.InvalidMessageError{Problems: texts}
			}
			shape = info.Shape
		}
		comps, err := templateComponents(shape, t)
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
