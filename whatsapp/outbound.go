package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Message types of the Send API's "type" field (docs/whatsapp.md §2.1).
const (
	TypeText        = "text"
	TypeImage       = "image"
	TypeVideo       = "video"
	TypeAudio       = "audio"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeLocation    = "location"
	TypeContacts    = "contacts"
	TypeInteractive = "interactive"
	TypeTemplate    = "template"
	TypeReaction    = "reaction"
)

// Interactive message subtypes (the "interactive.type" field, §2.3).
const (
	InteractiveButton          = "button"
	InteractiveList            = "list"
	InteractiveCTAURL          = "cta_url"
	InteractiveLocationRequest = "location_request_message"
	InteractiveFlow            = "flow"
)

// Cloud API limits on outbound messages, checked by Validate before a
// request leaves the process: Meta rejects them with 100/131008/131009
// otherwise, after the request has used up rate quota (§2.3, §4.5).
const (
	MaxTextBodyLen          = 4096 // text.body
	MaxCaptionLen           = 1024 // media caption
	MaxInteractiveBodyLen   = 1024 // interactive.body.text
	MaxHeaderTextLen        = 60   // interactive.header.text
	MaxFooterLen            = 60   // interactive.footer.text
	MaxReplyButtons         = 3    // reply buttons per message
	MaxReplyButtonTitleLen  = 20   // reply button title
	MaxReplyButtonIDLen     = 256  // reply button id (comes back as button_reply.id)
	MaxListButtonLen        = 20   // list action.button label
	MaxListSections         = 10   // sections per list
	MaxListRowsTotal        = 10   // rows across ALL sections of a list, not per section
	MaxListSectionTitleLen  = 24   // section title
	MaxListRowIDLen         = 200  // row id (comes back as list_reply.id)
	MaxListRowTitleLen      = 24   // row title
	MaxListRowDescLen       = 72   // row description
	MaxCTADisplayTextLen    = 20   // cta_url display_text
	MaxBizOpaqueCallbackLen = 512  // biz_opaque_callback_data, in bytes
)

// ErrInvalidMessage is returned (wrapped, with the reason) by
// OutboundMessage.Validate and by Client.Send when a message breaks a Cloud
// API rule that can be checked locally. Nothing was sent; resending the same
// message can never succeed.
var ErrInvalidMessage = errors.New("whatsapp: invalid outbound message")

// OutboundMessage is the body of POST /{phone_number_id}/messages. Set
// exactly one of To (a phone number) or Recipient (a business-scoped user
// id, for customers known only by their BSUID), and exactly the one payload
// field named by Type; Type may be left empty and is then inferred from the
// payload. MessagingProduct and RecipientType are always written as
// "whatsapp" and "individual" (unless RecipientType is set).
type OutboundMessage struct {
	RecipientType string `json:"recipient_type,omitempty"`
	// To is the customer's phone number (wa_id, "+" optional).
	To string `json:"to,omitempty"`
	// Recipient is a BSUID ("US.1349…") or parent BSUID, used instead of To
	// when the customer's phone number is unknown (docs/whatsapp.md §1.4, §2.1).
	Recipient string `json:"recipient,omitempty"`
	// Context quotes an earlier message (reply-to).
	Context *OutContext `json:"context,omitempty"`
	// BizOpaqueCallbackData is echoed back in every status webhook of this
	// message (≤ 512 bytes): Parley uses it to correlate statuses with nodes.
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data,omitempty"`

	Type        string          `json:"type"`
	Text        *OutText        `json:"text,omitempty"`
	Image       *OutMedia       `json:"image,omitempty"`
	Video       *OutMedia       `json:"video,omitempty"`
	Audio       *OutMedia       `json:"audio,omitempty"`
	Document    *OutMedia       `json:"document,omitempty"`
	Sticker     *OutMedia       `json:"sticker,omitempty"`
	Location    *OutLocation    `json:"location,omitempty"`
	Contacts    []OutContact    `json:"contacts,omitempty"`
	Interactive *OutInteractive `json:"interactive,omitempty"`
	Template    *OutTemplate    `json:"template,omitempty"`
	Reaction    *OutReaction    `json:"reaction,omitempty"`
}

// MarshalJSON writes the exact Cloud API request body: messaging_product
// first, recipient_type defaulted to "individual", type inferred when empty.
func (m OutboundMessage) MarshalJSON() ([]byte, error) {
	type plain OutboundMessage
	p := plain(m)
	if p.RecipientType == "" {
		p.RecipientType = "individual"
	}
	if p.Type == "" {
		p.Type = m.inferType()
	}
	return json.Marshal(struct {
		MessagingProduct string `json:"messaging_product"`
		plain
	}{"whatsapp", p})
}

// OutContext makes a message a reply to (a quote of) an earlier message.
type OutContext struct {
	MessageID string `json:"message_id"`
}

// OutText is the "text" object.
type OutText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

// OutMedia is the image/video/audio/document/sticker object: exactly one of
// ID (uploaded media, recommended) or Link (public HTTPS URL). Caption is
// not allowed on audio and sticker, Filename only on document.
type OutMedia struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// OutLocation is the "location" object.
type OutLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// OutContact is one contact card of a "contacts" message.
type OutContact struct {
	Name      OutContactName    `json:"name"`
	Phones    []OutContactPhone `json:"phones,omitempty"`
	Emails    []OutContactEmail `json:"emails,omitempty"`
	Addresses []OutContactAddr  `json:"addresses,omitempty"`
	Org       *OutContactOrg    `json:"org,omitempty"`
	URLs      []OutContactURL   `json:"urls,omitempty"`
	Birthday  string            `json:"birthday,omitempty"` // YYYY-MM-DD
}

// OutContactName is a contact's name; FormattedName is required.
type OutContactName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	MiddleName    string `json:"middle_name,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
	Suffix        string `json:"suffix,omitempty"`
}

// OutContactPhone is a contact's phone; WaID makes WhatsApp show a
// "Message" button.
type OutContactPhone struct {
	Phone string `json:"phone,omitempty"`
	Type  string `json:"type,omitempty"`
	WaID  string `json:"wa_id,omitempty"`
}

// OutContactEmail is a contact's e-mail address.
type OutContactEmail struct {
	Email string `json:"email,omitempty"`
	Type  string `json:"type,omitempty"`
}

// OutContactAddr is a contact's postal address.
type OutContactAddr struct {
	Street      string `json:"street,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	Zip         string `json:"zip,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	Type        string `json:"type,omitempty"`
}

// OutContactOrg is a contact's organisation.
type OutContactOrg struct {
	Company    string `json:"company,omitempty"`
	Department string `json:"department,omitempty"`
	Title      string `json:"title,omitempty"`
}

// OutContactURL is a contact's web address.
type OutContactURL struct {
	URL  string `json:"url,omitempty"`
	Type string `json:"type,omitempty"`
}

// OutReaction reacts to a message with an emoji; an empty Emoji removes the
// reaction, so the field is always written.
type OutReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// OutInteractive is the "interactive" object: reply buttons, a list, a
// call-to-action URL button, a location request or a WhatsApp Flow.
type OutInteractive struct {
	Type   string          `json:"type"`
	Header *OutHeader      `json:"header,omitempty"`
	Body   *OutBodyText    `json:"body,omitempty"`
	Footer *OutBodyText    `json:"footer,omitempty"`
	Action OutActionObject `json:"action"`
}

// OutHeader is an interactive header: Type "text" with Text, or
// "image"/"video"/"document" with the media object of that name.
type OutHeader struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Image    *OutMedia `json:"image,omitempty"`
	Video    *OutMedia `json:"video,omitempty"`
	Document *OutMedia `json:"document,omitempty"`
}

// OutBodyText is the {"text": …} object of an interactive body or footer.
type OutBodyText struct {
	Text string `json:"text"`
}

// OutActionObject is the interactive "action": Buttons for "button";
// Button and Sections for "list"; Name and Parameters for "cta_url",
// "location_request_message" (Name "send_location") and "flow".
type OutActionObject struct {
	Buttons    []OutReplyButton     `json:"buttons,omitempty"`
	Button     string               `json:"button,omitempty"`
	Sections   []OutSection         `json:"sections,omitempty"`
	Name       string               `json:"name,omitempty"`
	Parameters *OutActionParameters `json:"parameters,omitempty"`
}

// OutReplyButton is one reply button; Type is always "reply".
type OutReplyButton struct {
	Type  string   `json:"type"`
	Reply OutReply `json:"reply"`
}

// OutReply is the id and title of a reply button: the id comes back in the
// customer's button_reply.id.
type OutReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// OutSection is one section of a list message; Title is required when the
// list has more than one section.
type OutSection struct {
	Title string   `json:"title,omitempty"`
	Rows  []OutRow `json:"rows"`
}

// OutRow is one choice of a list message; the id comes back in the
// customer's list_reply.id.
type OutRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// OutActionParameters are the parameters of a cta_url action (DisplayText,
// URL) or of a flow action (the Flow* fields).
type OutActionParameters struct {
	DisplayText string `json:"display_text,omitempty"`
	URL         string `json:"url,omitempty"`

	FlowMessageVersion string         `json:"flow_message_version,omitempty"`
	FlowID             string         `json:"flow_id,omitempty"`
	FlowName           string         `json:"flow_name,omitempty"`
	FlowToken          string         `json:"flow_token,omitempty"`
	FlowCTA            string         `json:"flow_cta,omitempty"`
	FlowAction         string         `json:"flow_action,omitempty"`
	FlowActionPayload  map[string]any `json:"flow_action_payload,omitempty"`
}

// OutTemplate is the "template" object: an approved template by name and
// language, with the values of its variables. Templates are the only
// messages allowed outside the 24-hour window (§4.1).
type OutTemplate struct {
	Name       string                 `json:"name"`
	Language   OutLanguage            `json:"language"`
	Components []OutTemplateComponent `json:"components,omitempty"`
}

// OutLanguage names a template's language ("en_US"); Policy is
// "deterministic" or empty.
type OutLanguage struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// OutTemplateComponent fills one component of a template: Type "header" or
// "body" with Parameters in the template's order, or Type "button" with
// SubType ("quick_reply", "url", "copy_code", "flow") and Index, the
// 0-based position of the button in the template, written as a string.
//
// A carousel template is filled by one component of Type "carousel" whose
// Cards each fill one card; its Parameters are then omitted.
type OutTemplateComponent struct {
	Type       string         `json:"type"`
	SubType    string         `json:"sub_type,omitempty"`
	Index      string         `json:"index,omitempty"`
	Parameters []OutParameter `json:"parameters,omitempty"`
	Cards      []OutCard      `json:"cards,omitempty"`
}

// OutCard fills one card of a carousel template: CardIndex is its
// position, Components its header, body and buttons.
type OutCard struct {
	CardIndex  int                    `json:"card_index"`
	Components []OutTemplateComponent `json:"components"`
}

// OutParameter is one template parameter. For templates whose
// parameter_format is NAMED, ParameterName names the variable; for
// POSITIONAL templates it stays empty and order decides.
type OutParameter struct {
	Type          string       `json:"type"`
	ParameterName string       `json:"parameter_name,omitempty"`
	Text          string       `json:"text,omitempty"`
	Payload       string       `json:"payload,omitempty"`
	Currency      *OutCurrency `json:"currency,omitempty"`
	DateTime      *OutDateTime `json:"date_time,omitempty"`
	Image         *OutMedia    `json:"image,omitempty"`
	Video         *OutMedia    `json:"video,omitempty"`
	Document      *OutMedia    `json:"document,omitempty"`
	Location      *OutLocation `json:"location,omitempty"`
	// CouponCode fills a copy-code button (parameter type "coupon_code").
	CouponCode string `json:"coupon_code,omitempty"`
	// LimitedTimeOffer fills a limited-time offer's countdown.
	LimitedTimeOffer *OutLimitedTimeOffer `json:"limited_time_offer,omitempty"`
}

// OutLimitedTimeOffer is when a limited-time offer ends, in Unix
// milliseconds.
type OutLimitedTimeOffer struct {
	ExpirationTimeMS int64 `json:"expiration_time_ms"`
}

// OutCurrency is a currency template parameter; Amount1000 is the amount
// times 1000.
type OutCurrency struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

// OutDateTime is a date_time template parameter.
type OutDateTime struct {
	FallbackValue string `json:"fallback_value"`
}

// ---- constructors ---------------------------------------------------------

// NewText returns a text message to a customer, addressed by phone number
// or by BSUID (see SetRecipient).
func NewText(to, body string) *OutboundMessage {
	m := &OutboundMessage{Type: TypeText, Text: &OutText{Body: body}}
	m.SetRecipient(to)
	return m
}

// NewMedia returns a media message of the given type (TypeImage, TypeVideo,
// TypeAudio, TypeDocument or TypeSticker).
func NewMedia(to, mediaType string, media OutMedia) *OutboundMessage {
	m := &OutboundMessage{Type: mediaType}
	m.SetRecipient(to)
	p := &media
	switch mediaType {
	case TypeImage:
		m.Image = p
	case TypeVideo:
		m.Video = p
	case TypeAudio:
		m.Audio = p
	case TypeDocument:
		m.Document = p
	case TypeSticker:
		m.Sticker = p
	}
	return m
}

// NewButtons returns an interactive message with 1–3 reply buttons.
func NewButtons(to, body string, buttons ...OutReply) *OutboundMessage {
	bs := make([]OutReplyButton, len(buttons))
	for i, b := range buttons {
		bs[i] = OutReplyButton{Type: "reply", Reply: b}
	}
	m := &OutboundMessage{Type: TypeInteractive, Interactive: &OutInteractive{
		Type:   InteractiveButton,
		Body:   &OutBodyText{Text: body},
		Action: OutActionObject{Buttons: bs},
	}}
	m.SetRecipient(to)
	return m
}

// NewList returns an interactive list message.
func NewList(to, body, button string, sections ...OutSection) *OutboundMessage {
	m := &OutboundMessage{Type: TypeInteractive, Interactive: &OutInteractive{
		Type:   InteractiveList,
		Body:   &OutBodyText{Text: body},
		Action: OutActionObject{Button: button, Sections: sections},
	}}
	m.SetRecipient(to)
	return m
}

// NewCTAURL returns an interactive call-to-action URL button message.
func NewCTAURL(to, body, displayText, url string) *OutboundMessage {
	m := &OutboundMessage{Type: TypeInteractive, Interactive: &OutInteractive{
		Type: InteractiveCTAURL,
		Body: &OutBodyText{Text: body},
		Action: OutActionObject{Name: "cta_url",
			Parameters: &OutActionParameters{DisplayText: displayText, URL: url}},
	}}
	m.SetRecipient(to)
	return m
}

// NewTemplate returns a template message.
func NewTemplate(to, name, language string, components ...OutTemplateComponent) *OutboundMessage {
	m := &OutboundMessage{Type: TypeTemplate, Template: &OutTemplate{
		Name: name, Language: OutLanguage{Code: language}, Components: components,
	}}
	m.SetRecipient(to)
	return m
}

// NewReaction returns a reaction to messageID; an empty emoji removes it.
func NewReaction(to, messageID, emoji string) *OutboundMessage {
	m := &OutboundMessage{Type: TypeReaction, Reaction: &OutReaction{MessageID: messageID, Emoji: emoji}}
	m.SetRecipient(to)
	return m
}

// BodyParams fills a template body with positional text parameters.
func BodyParams(values ...string) OutTemplateComponent {
	return textComponent("body", values)
}

// HeaderParams fills a template's text header with positional parameters.
func HeaderParams(values ...string) OutTemplateComponent {
	return textComponent("header", values)
}

func textComponent(typ string, values []string) OutTemplateComponent {
	ps := make([]OutParameter, len(values))
	for i, v := range values {
		ps[i] = OutParameter{Type: "text", Text: v}
	}
	return OutTemplateComponent{Type: typ, Parameters: ps}
}

// NamedParam is one named template parameter: {{Name}} = Value.
type NamedParam struct{ Name, Value string }

// NamedBodyParams fills the body of a NAMED-format template.
func NamedBodyParams(params ...NamedParam) OutTemplateComponent {
	return namedComponent("body", params)
}

// NamedHeaderParams fills the text header of a NAMED-format template.
func NamedHeaderParams(params ...NamedParam) OutTemplateComponent {
	return namedComponent("header", params)
}

func namedComponent(typ string, params []NamedParam) OutTemplateComponent {
	ps := make([]OutParameter, len(params))
	for i, p := range params {
		ps[i] = OutParameter{Type: "text", ParameterName: p.Name, Text: p.Value}
	}
	return OutTemplateComponent{Type: typ, Parameters: ps}
}

// QuickReplyButton sets the payload of the template's quick-reply button at
// index (0-based position among the template's buttons); the payload comes
// back as messages[].button.payload when the customer taps it.
func QuickReplyButton(index int, payload string) OutTemplateComponent {
	return OutTemplateComponent{Type: "button", SubType: "quick_reply", Index: fmt.Sprint(index),
		Parameters: []OutParameter{{Type: "payload", Payload: payload}}}
}

// URLButton sets the dynamic suffix of the template's URL button at index.
func URLButton(index int, suffix string) OutTemplateComponent {
	return OutTemplateComponent{Type: "button", SubType: "url", Index: fmt.Sprint(index),
		Parameters: []OutParameter{{Type: "text", Text: suffix}}}
}

// CopyCodeButton sets the code a copy-code button copies.
func CopyCodeButton(index int, code string) OutTemplateComponent {
	return OutTemplateComponent{Type: "button", SubType: "copy_code", Index: fmt.Sprint(index),
		Parameters: []OutParameter{{Type: "coupon_code", CouponCode: code}}}
}

// OTPButton sets the one-time password of an authentication template's
// button: Meta takes it as a "url" button's text whatever the button's
// otp_type (copy code, one tap, zero tap).
func OTPButton(index int, code string) OutTemplateComponent {
	return URLButton(index, code)
}

// LimitedTimeOffer sets when a limited-time offer ends.
func LimitedTimeOffer(expires time.Time) OutTemplateComponent {
	return OutTemplateComponent{Type: "limited_time_offer", Parameters: []OutParameter{{
		Type: "limited_time_offer", LimitedTimeOffer: &OutLimitedTimeOffer{ExpirationTimeMS: expires.UnixMilli()}}}}
}

// Carousel fills a carousel template's cards.
func Carousel(cards ...OutCard) OutTemplateComponent {
	return OutTemplateComponent{Type: "carousel", Cards: cards}
}

// bsuidPattern matches business-scoped user ids: an ISO 3166 alpha-2
// country, optionally ".ENT" for a parent BSUID, then "." and up to 128
// alphanumerics (docs/whatsapp.md §1.4).
var bsuidPattern = regexp.MustCompile(`^[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}$`)

// SetRecipient addresses the message to id: a BSUID goes into Recipient,
// anything else (a phone number) into To.
func (m *OutboundMessage) SetRecipient(id string) {
	if bsuidPattern.MatchString(id) {
		m.To, m.Recipient = "", id
	} else {
		m.To, m.Recipient = id, ""
	}
}

// inferType returns the type named by the single payload field set.
func (m *OutboundMessage) inferType() string {
	switch {
	case m.Text != nil:
		return TypeText
	case m.Image != nil:
		return TypeImage
	case m.Video != nil:
		return TypeVideo
	case m.Audio != nil:
		return TypeAudio
	case m.Document != nil:
		return TypeDocument
	case m.Sticker != nil:
		return TypeSticker
	case m.Location != nil:
		return TypeLocation
	case len(m.Contacts) > 0:
		return TypeContacts
	case m.Interactive != nil:
		return TypeInteractive
	case m.Template != nil:
		return TypeTemplate
	case m.Reaction != nil:
		return TypeReaction
	}
	return ""
}

// payloadCount is the number of payload fields set.
func (m *OutboundMessage) payloadCount() int {
	n := 0
	for _, set := range []bool{m.Text != nil, m.Image != nil, m.Video != nil, m.Audio != nil,
		m.Document != nil, m.Sticker != nil, m.Location != nil, len(m.Contacts) > 0,
		m.Interactive != nil, m.Template != nil, m.Reaction != nil} {
		if set {
			n++
		}
	}
	return n
}

// IsTemplate reports whether the message is a template message, the only
// kind Meta delivers outside the 24-hour customer service window.
func (m *OutboundMessage) IsTemplate() bool {
	return m.Type == TypeTemplate || (m.Type == "" && m.Template != nil)
}

// ---- validation -----------------------------------------------------------

// Validate checks the message against the Cloud API rules that need no
// server: one recipient, one payload matching Type, and the length and count
// limits of §2.3. It returns an *InvalidMessageError (which wraps
// ErrInvalidMessage) listing every rule broken. The problems name what a
// person wrote ("button 2's title"), not the request's JSON, and never
// quote a value: a value may be the customer's own text.
func (m *OutboundMessage) Validate() error {
	var v validator
	m.validate(&v)
	if len(v.problems) == 0 {
		return nil
	}
	return &InvalidMessageError{Problems: v.problems}
}

// InvalidMessageError is the error of Validate: the message breaks Cloud
// API rules that can be checked locally, so nothing was sent and sending
// it again can never succeed.
type InvalidMessageError struct {
	// Problems are the rules broken, each a short sentence such as
	// "button 2's title is 29 characters; WhatsApp allows 20".
	Problems []string
}

// Reason is the problems joined into one line.
func (e *InvalidMessageError) Reason() string { return strings.Join(e.Problems, "; ") }

func (e *InvalidMessageError) Error() string { return ErrInvalidMessage.Error() + ": " + e.Reason() }

// Unwrap makes errors.Is(err, ErrInvalidMessage) hold.
func (e *InvalidMessageError) Unwrap() error { return ErrInvalidMessage }

type validator struct{ problems []string }

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// maxLen checks a length in characters (runes), as Meta counts them.
func (v *validator) maxLen(field, s string, max int) {
	if n := utf8.RuneCountInString(s); n > max {
		v.addf("%s is %d characters; WhatsApp allows %d", field, n, max)
	}
}

func (v *validator) required(field, s string) {
	if strings.TrimSpace(s) == "" {
		v.addf("%s is empty", field)
	}
}

func (m *OutboundMessage) validate(v *validator) {
	switch {
	case m.To == "" && m.Recipient == "":
		v.addf("to or recipient is required: the customer has no phone number or user id to send to")
	case m.To != "" && m.Recipient != "":
		v.addf("set only one of to and recipient")
	}
	if len(m.BizOpaqueCallbackData) > MaxBizOpaqueCallbackLen {
		v.addf("biz_opaque_callback_data is %d bytes, max %d", len(m.BizOpaqueCallbackData), MaxBizOpaqueCallbackLen)
	}
	if m.Context != nil {
		v.required("context.message_id", m.Context.MessageID)
	}
	typ := m.Type
	if typ == "" {
		typ = m.inferType()
	}
	if n := m.payloadCount(); n != 1 {
		v.addf("exactly one payload object must be set, got %d", n)
		return
	}
	if typ != m.inferType() {
		v.addf("type %q does not match the payload (%s)", typ, m.inferType())
		return
	}
	switch typ {
	case TypeText:
		v.required("the text", m.Text.Body)
		v.maxLen("the text", m.Text.Body, MaxTextBodyLen)
	case TypeImage:
		validateMedia(v, "image", m.Image, true, false)
	case TypeVideo:
		validateMedia(v, "video", m.Video, true, false)
	case TypeDocument:
		validateMedia(v, "document", m.Document, true, true)
	case TypeAudio:
		validateMedia(v, "audio", m.Audio, false, false)
	case TypeSticker:
		validateMedia(v, "sticker", m.Sticker, false, false)
	case TypeLocation:
		l := m.Location
		if l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180 {
			v.addf("location out of range")
		}
	case TypeContacts:
		for i, c := range m.Contacts {
			v.required(fmt.Sprintf("contact %d's formatted name", i+1), c.Name.FormattedName)
		}
	case TypeReaction:
		v.required("reaction.message_id", m.Reaction.MessageID)
	case TypeInteractive:
		validateInteractive(v, m.Interactive)
	case TypeTemplate:
		validateTemplate(v, m.Template)
	}
}

func validateMedia(v *validator, field string, md *OutMedia, caption, filename bool) {
	if (md.ID == "") == (md.Link == "") {
		v.addf("%s: exactly one of id and link is required", field)
	}
	if md.Caption != "" && !caption {
		v.addf("%s: caption is not allowed", field)
	}
	if md.Filename != "" && !filename {
		v.addf("%s: filename is only allowed on documents", field)
	}
	v.maxLen("the "+field+"'s caption", md.Caption, MaxCaptionLen)
}

func validateInteractive(v *validator, in *OutInteractive) {
	if in.Body != nil {
		v.maxLen("the body text", in.Body.Text, MaxInteractiveBodyLen)
	}
	if in.Footer != nil {
		v.maxLen("the footer", in.Footer.Text, MaxFooterLen)
	}
	if h := in.Header; h != nil {
		switch h.Type {
		case "text":
			v.required("the header", h.Text)
			v.maxLen("the header", h.Text, MaxHeaderTextLen)
		case "image", "video", "document":
		default:
			v.addf("interactive.header.type %q is not text, image, video or document", h.Type)
		}
	}
	if in.Body == nil || strings.TrimSpace(in.Body.Text) == "" {
		v.addf("the body text is empty")
	}
	a := in.Action
	switch in.Type {
	case InteractiveButton:
		if n := len(a.Buttons); n < 1 || n > MaxReplyButtons {
			v.addf("a buttons message needs 1 to %d buttons, not %d", MaxReplyButtons, n)
		}
		ids, titles := map[string]bool{}, map[string]bool{}
		for i, b := range a.Buttons {
			f := fmt.Sprintf("button %d's", i+1)
			if b.Type != "reply" {
				v.addf("%s type must be \"reply\"", f)
			}
			v.required(f+" id", b.Reply.ID)
			v.required(f+" title", b.Reply.Title)
			v.maxLen(f+" id", b.Reply.ID, MaxReplyButtonIDLen)
			v.maxLen(f+" title", b.Reply.Title, MaxReplyButtonTitleLen)
			if b.Reply.ID != strings.TrimSpace(b.Reply.ID) {
				v.addf("%s id has leading or trailing spaces", f)
			}
			if ids[b.Reply.ID] || titles[b.Reply.Title] {
				v.addf("button %d has the id or title of an earlier button; WhatsApp needs them unique", i+1)
			}
			ids[b.Reply.ID], titles[b.Reply.Title] = true, true
		}
	case InteractiveList:
		v.required("the list's button label", a.Button)
		v.maxLen("the list's button label", a.Button, MaxListButtonLen)
		if n := len(a.Sections); n < 1 || n > MaxListSections {
			v.addf("a list needs 1 to %d sections, not %d", MaxListSections, n)
		}
		rows, ids := 0, map[string]bool{}
		for i, s := range a.Sections {
			f := fmt.Sprintf("section %d", i+1)
			if len(a.Sections) > 1 && strings.TrimSpace(s.Title) == "" {
				v.addf("%s needs a title: the list has more than one section", f)
			}
			v.maxLen(f+"'s title", s.Title, MaxListSectionTitleLen)
			if len(s.Rows) == 0 {
				v.addf("%s has no rows", f)
			}
			for j, r := range s.Rows {
				rf := fmt.Sprintf("%s row %d's", f, j+1)
				v.required(rf+" id", r.ID)
				v.required(rf+" title", r.Title)
				v.maxLen(rf+" id", r.ID, MaxListRowIDLen)
				v.maxLen(rf+" title", r.Title, MaxListRowTitleLen)
				v.maxLen(rf+" description", r.Description, MaxListRowDescLen)
				if ids[r.ID] {
					v.addf("%s id is the id of an earlier row; WhatsApp needs them unique", rf)
				}
				ids[r.ID] = true
				rows++
			}
		}
		if rows > MaxListRowsTotal {
			v.addf("the list has %d rows; WhatsApp allows %d across all sections", rows, MaxListRowsTotal)
		}
	case InteractiveCTAURL:
		p := a.Parameters
		if a.Name != "cta_url" || p == nil {
			v.addf("cta_url needs action.name \"cta_url\" and parameters")
			return
		}
		v.required("the button's display text", p.DisplayText)
		v.maxLen("the button's display text", p.DisplayText, MaxCTADisplayTextLen)
		if !strings.HasPrefix(p.URL, "https://") && !strings.HasPrefix(p.URL, "http://") {
			v.addf("the button's URL is not an http(s) URL")
		}
	case InteractiveLocationRequest:
		if a.Name != "send_location" {
			v.addf("location_request_message needs action.name \"send_location\"")
		}
	case InteractiveFlow:
		if a.Name != "flow" || a.Parameters == nil {
			v.addf("flow needs action.name \"flow\" and parameters")
		}
	default:
		v.addf("interactive.type %q is not supported", in.Type)
	}
}

func validateTemplate(v *validator, t *OutTemplate) {
	v.required("template.name", t.Name)
	v.required("template.language.code", t.Language.Code)
	named, positional := validateTemplateComponents(v, "", t.Components)
	// Header and body must use the same parameter style as the template
	// (docs/whatsapp.md §2.3): mixing them can never match a template and fails with 132000.
	if named && positional {
		v.addf("template mixes named and positional parameters")
	}
}

// validateTemplateComponents checks the components of a template or of a
// carousel card (where names the card) by Meta's rules that need no
// template definition: text parameters within the text rules
// (TemplateTextProblem), buttons with a sub_type, an index and the
// parameter their sub_type takes.
func validateTemplateComponents(v *validator, where string, comps []OutTemplateComponent) (named, positional bool) {
	for i, c := range comps {
		f := fmt.Sprintf("%stemplate.components[%d]", where, i)
		switch c.Type {
		case "header", "body":
			for j, p := range c.Parameters {
				switch p.Type {
				case "text":
					if why := TemplateTextProblem(p.Text); why != "" {
						v.addf("%stemplate %s parameter %d %s", where, c.Type, j+1, why)
					}
					if p.ParameterName != "" {
						named = true
					} else {
						positional = true
					}
				case "currency":
					if p.Currency == nil || p.Currency.Code == "" || p.Currency.FallbackValue == "" {
						v.addf("%stemplate %s parameter %d: a currency needs a code and a fallback_value", where, c.Type, j+1)
					}
				case "date_time":
					if p.DateTime == nil || p.DateTime.FallbackValue == "" {
						v.addf("%stemplate %s parameter %d: a date_time needs a fallback_value", where, c.Type, j+1)
					}
				case "image", "video", "document":
					if c.Type != "header" {
						v.addf("%stemplate %s parameter %d: a %s fills a header only", where, c.Type, j+1, p.Type)
					}
					md := map[string]*OutMedia{"image": p.Image, "video": p.Video, "document": p.Document}[p.Type]
					if md == nil || (md.ID == "") == (md.Link == "") {
						v.addf("%stemplate header %s needs exactly one of id and link", where, p.Type)
					}
				case "location":
					if c.Type != "header" || p.Location == nil {
						v.addf("%stemplate %s parameter %d: a location fills a header only", where, c.Type, j+1)
					}
				default:
					v.addf("%stemplate %s parameter %d: type %q is not a header or body parameter", where, c.Type, j+1, p.Type)
				}
			}
		case "button":
			if c.SubType == "" || c.Index == "" {
				v.addf("%s: button components need sub_type and index", f)
			}
			for j, p := range c.Parameters {
				switch c.SubType {
				case "quick_reply":
					if p.Type != "payload" || p.Payload == "" {
						v.addf("%stemplate button %s: parameter %d: a quick reply needs a payload", where, c.Index, j+1)
					}
				case "url":
					if p.Type != "text" || p.Text == "" {
						v.addf("%stemplate button %s: a URL button needs its text", where, c.Index)
					}
				case "copy_code":
					if p.Type != "coupon_code" || p.CouponCode == "" {
						v.addf("%stemplate button %s: a copy-code button needs its coupon_code", where, c.Index)
					}
				}
			}
			if (c.SubType == "url" || c.SubType == "copy_code") && len(c.Parameters) != 1 {
				v.addf("%stemplate button %s: a %s button takes exactly one parameter", where, c.Index, c.SubType)
			}
		case "limited_time_offer":
			if len(c.Parameters) != 1 || c.Parameters[0].LimitedTimeOffer == nil {
				v.addf("%s: a limited_time_offer component takes one limited_time_offer parameter", f)
			}
		case "carousel":
			if where != "" {
				v.addf("%s: a carousel card holds no carousel", f)
				continue
			}
			if len(c.Cards) == 0 || len(c.Cards) > 10 {
				v.addf("%s: a carousel has 1 to 10 cards, not %d", f, len(c.Cards))
			}
			for k, card := range c.Cards {
				if card.CardIndex != k {
					v.addf("%s: card %d has card_index %d; cards go in order", f, k, card.CardIndex)
				}
				n, p := validateTemplateComponents(v, fmt.Sprintf("card %d's ", k), card.Components)
				named, positional = named || n, positional || p
			}
		default:
			v.addf("%s.type %q is not header, body, button, limited_time_offer or carousel", f, c.Type)
		}
	}
	return named, positional
}

// markRead is the body of the mark-as-read call (docs/whatsapp.md §2.4).
type markRead struct {
	MessagingProduct string           `json:"messaging_product"`
	Status           string           `json:"status"`
	MessageID        string           `json:"message_id"`
	TypingIndicator  *typingIndicator `json:"typing_indicator,omitempty"`
}

type typingIndicator struct {
	Type string `json:"type"`
}
