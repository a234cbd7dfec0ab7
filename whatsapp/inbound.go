package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrMalformed is returned (wrapped, with the cause) by ParseWebhook when the
// body is not JSON or is not a WhatsApp Business Account envelope ("object"
// is not "whatsapp_business_account", or entry or changes are not arrays).
// Nothing in such a body can be trusted, so no events come with the error.
var ErrMalformed = errors.New("whatsapp: malformed webhook")

// objectWABA is the envelope "object" of every WhatsApp webhook (docs/whatsapp.md §1.2).
const objectWABA = "whatsapp_business_account"

// Webhook fields (changes[].field) that ParseWebhook turns into typed events
// (docs/whatsapp.md §1.3). Any other field ends up in Batch.Other.
const (
	FieldMessages         = "messages"
	FieldTemplateStatus   = "message_template_status_update"
	FieldTemplateQuality  = "message_template_quality_update"
	FieldTemplateCategory = "template_category_update"
	FieldUserPreferences  = "user_preferences"
	FieldAccountUpdate    = "account_update"
)

// Message types that only arrive inbound, in messages[].type. Inbound
// messages also use the Send API's types (TypeText, TypeImage, TypeVideo,
// TypeAudio, TypeDocument, TypeSticker, TypeLocation, TypeContacts,
// TypeInteractive, TypeReaction), with the same meaning.
const (
	// TypeButton is a tap on a template's quick-reply button: its payload is
	// InboundMessage.Button, not an interactive button_reply (docs/whatsapp.md §1.6).
	TypeButton = "button"
	TypeOrder  = "order"
	// TypeSystem is a notice about the customer: number or identity changed.
	TypeSystem = "system"
	// TypeRequestWelcome: the customer opened the chat for the first time
	// and WhatsApp asks for the welcome message. It has no payload.
	TypeRequestWelcome = "request_welcome"
	TypeEdit           = "edit"
	TypeRevoke         = "revoke"
	// TypeUnsupported is a message Parley cannot read: Meta's own
	// "unsupported" type, any type this package does not know, or a known
	// type whose payload is missing or has an unexpected shape.
	TypeUnsupported = "unsupported"
)

// Interactive reply subtypes (InteractiveReply.Type).
const (
	InteractiveButtonReply = "button_reply" // tap on a reply button
	InteractiveListReply   = "list_reply"   // choice of a list row
	InteractiveNFMReply    = "nfm_reply"    // a WhatsApp Flow or address message completed
)

// Delivery states of an outbound message, in Status.Status (docs/whatsapp.md §1.9).
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered" // may be skipped when read arrives at once
	StatusRead      = "read"      // implies delivered
	StatusPlayed    = "played"    // first play of a voice note
	StatusFailed    = "failed"    // Status.Errors says why (e.g. 131047)
	StatusDeleted   = "deleted"   // legacy payloads only
)

// Batch is everything one webhook POST carried, in payload order within each
// kind. A Batch shares no memory with the body it was parsed from, so the
// caller may reuse the body's buffer. Its JSON form is Parley's own (used
// for golden files and durable records), not Meta's wire shape.
type Batch struct {
	Messages        []InboundMessage `json:"messages,omitempty"`
	Statuses        []Status         `json:"statuses,omitempty"`
	Errors          []ErrorEvent     `json:"errors,omitempty"`
	TemplateUpdates []TemplateUpdate `json:"template_updates,omitempty"`
	Preferences     []UserPreference `json:"preferences,omitempty"`
	AccountUpdates  []AccountUpdate  `json:"account_updates,omitempty"`
	NumberUpdates   []NumberUpdate   `json:"number_updates,omitempty"`
	Other           []Other          `json:"other,omitempty"`
}

// Len is the number of events of all kinds in the batch.
func (b *Batch) Len() int {
	return len(b.Messages) + len(b.Statuses) + len(b.Errors) + len(b.TemplateUpdates) +
		len(b.Preferences) + len(b.AccountUpdates) + len(b.NumberUpdates) + len(b.Other)
}

// InboundMessage is one message a customer sent (value.messages[]).
//
// Exactly the payload field that Type names is set: Text for text, Media for
// image/video/audio/document/sticker, Location, Contacts, Interactive, Button,
// Reaction, Order, System, Edit, Revoke; request_welcome has none. When Meta
// sends a type without its payload object, or one this package does not
// know, Type is TypeUnsupported, UnsupportedType keeps the type's name and
// Raw the original message, so nothing is lost.
type InboundMessage struct {
	WABAID        string `json:"waba_id,omitempty"`         // entry[].id
	PhoneNumberID string `json:"phone_number_id,omitempty"` // the business number it was sent to
	DisplayPhone  string `json:"display_phone,omitempty"`
	// ID is the wamid: the dedupe key, and what replies and reactions quote.
	ID string `json:"id,omitempty"`
	// Timestamp is when the customer sent it (zero if Meta gave none); it,
	// not arrival order, orders a conversation's messages.
	Timestamp time.Time `json:"timestamp,omitzero"`

	// From is the customer's phone number (wa_id), empty for customers known
	// only by their business-scoped user id. UserID is that BSUID
	// ("US.1349…"), empty in older payloads. Use Identity to key contacts.
	From         string `json:"from,omitempty"`
	UserID       string `json:"user_id,omitempty"`
	ParentUserID string `json:"parent_user_id,omitempty"`
	ProfileName  string `json:"profile_name,omitempty"`
	Username     string `json:"username,omitempty"`
	GroupID      string `json:"group_id,omitempty"` // set for group chat messages

	Type     string          `json:"type"`
	Context  *MessageContext `json:"context,omitempty"`
	Referral *Referral       `json:"referral,omitempty"`

	Text        string            `json:"text,omitempty"` // text.body
	Media       *Media            `json:"media,omitempty"`
	Location    *Location         `json:"location,omitempty"`
	Contacts    []Contact         `json:"contacts,omitempty"`
	Interactive *InteractiveReply `json:"interactive,omitempty"`
	Button      *QuickReply       `json:"button,omitempty"`
	Reaction    *Reaction         `json:"reaction,omitempty"`
	Order       *Order            `json:"order,omitempty"`
	System      *SystemUpdate     `json:"system,omitempty"`
	// IdentityChange comes with system type customer_identity_changed.
	IdentityChange *IdentityChange `json:"identity_change,omitempty"`
	Edit           *EditedMessage  `json:"edit,omitempty"`
	Revoke         *RevokedMessage `json:"revoke,omitempty"`

	// UnsupportedType is, when Type is unsupported, the type Meta named
	// ("poll" from Meta's unsupported.type, or an unknown messages[].type).
	UnsupportedType string `json:"unsupported_type,omitempty"`
	// Raw is the original message object, kept only when Type is unsupported.
	Raw json.RawMessage `json:"raw,omitempty"`
	// Problem says why a message of a known type was reported unsupported
	// (payload missing or of an unexpected shape); empty otherwise.
	Problem string `json:"problem,omitempty"`
	// Errors are Meta's errors about this message (131051 for unsupported).
	Errors []Error `json:"errors,omitempty"`
}

// Identity is the key of the customer who sent the message: the
// business-scoped UserID where Meta sends one, else the phone number From.
// It changes when the customer changes number; a system message of type
// user_changed_number or user_changed_user_id links the old and new keys.
func (m *InboundMessage) Identity() string {
	if m.UserID != "" {
		return m.UserID
	}
	return m.From
}

// MessageContext is why a message refers to another (docs/whatsapp.md §1.7): a reply or
// button tap (From, ID = the business's number and the quoted wamid), a
// forward, or a "Message business" tap on a product.
type MessageContext struct {
	From                string           `json:"from,omitempty"`
	ID                  string           `json:"id,omitempty"`
	Forwarded           bool             `json:"forwarded,omitempty"`
	FrequentlyForwarded bool             `json:"frequently_forwarded,omitempty"`
	ReferredProduct     *ReferredProduct `json:"referred_product,omitempty"`
}

// ReferredProduct is the catalogue item a customer asked about.
type ReferredProduct struct {
	CatalogID         string `json:"catalog_id,omitempty"`
	ProductRetailerID string `json:"product_retailer_id,omitempty"`
}

// Referral is the Click-to-WhatsApp ad or post a conversation started from.
// Meta sends it on the first message after the click only (docs/whatsapp.md §1.8).
type Referral struct {
	SourceURL      string `json:"source_url,omitempty"`
	SourceID       string `json:"source_id,omitempty"`
	SourceType     string `json:"source_type,omitempty"` // ad or post
	Headline       string `json:"headline,omitempty"`
	Body           string `json:"body,omitempty"`
	MediaType      string `json:"media_type,omitempty"`
	ImageURL       string `json:"image_url,omitempty"`
	VideoURL       string `json:"video_url,omitempty"`
	ThumbnailURL   string `json:"thumbnail_url,omitempty"`
	CTWAClickID    string `json:"ctwa_clid,omitempty"`
	WelcomeMessage string `json:"welcome_message,omitempty"` // welcome_message.text
}

// Media is an image, video, audio, document or sticker the customer sent.
// ID is valid for 7 days; URL (when Meta includes it) for 5 minutes and only
// with the access token (docs/whatsapp.md §2.5).
type Media struct {
	ID       string `json:"id,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"` // documents
	URL      string `json:"url,omitempty"`
	Voice    bool   `json:"voice,omitempty"`    // audio recorded as a voice note
	Animated bool   `json:"animated,omitempty"` // stickers
}

// Location is a shared location; Name, Address and URL are set for a chosen
// place, not for the customer's current position.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// Contact is one contact card of a contacts message.
type Contact struct {
	Name      ContactName      `json:"name"`
	Phones    []ContactPhone   `json:"phones,omitempty"`
	Emails    []ContactEmail   `json:"emails,omitempty"`
	Addresses []ContactAddress `json:"addresses,omitempty"`
	Org       *ContactOrg      `json:"org,omitempty"`
	URLs      []ContactURL     `json:"urls,omitempty"`
	Birthday  string           `json:"birthday,omitempty"`
}

// ContactName is a contact card's name.
type ContactName struct {
	FormattedName string `json:"formatted_name,omitempty"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	MiddleName    string `json:"middle_name,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
	Suffix        string `json:"suffix,omitempty"`
}

// ContactPhone is a phone number on a contact card; WaID is set when the
// number is on WhatsApp.
type ContactPhone struct {
	Phone string `json:"phone,omitempty"`
	WaID  string `json:"wa_id,omitempty"`
	Type  string `json:"type,omitempty"`
}

// ContactEmail is an e-mail address on a contact card.
type ContactEmail struct {
	Email string `json:"email,omitempty"`
	Type  string `json:"type,omitempty"`
}

// ContactAddress is a postal address on a contact card.
type ContactAddress struct {
	Street      string `json:"street,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	Zip         string `json:"zip,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	Type        string `json:"type,omitempty"`
}

// ContactOrg is the organisation on a contact card.
type ContactOrg struct {
	Company    string `json:"company,omitempty"`
	Department string `json:"department,omitempty"`
	Title      string `json:"title,omitempty"`
}

// ContactURL is a web address on a contact card.
type ContactURL struct {
	URL  string `json:"url,omitempty"`
	Type string `json:"type,omitempty"`
}

// InteractiveReply is the customer's answer to an interactive message. The
// field Type names is set; for a subtype this package does not model
// (e.g. call_permission_reply), or one whose object is missing, only Type
// and Raw (the interactive object) are.
type InteractiveReply struct {
	Type        string          `json:"type"`
	ButtonReply *ReplyOption    `json:"button_reply,omitempty"`
	ListReply   *ReplyOption    `json:"list_reply,omitempty"`
	NFMReply    *NFMReply       `json:"nfm_reply,omitempty"`
	Raw         json.RawMessage `json:"raw,omitempty"`
}

// ReplyOption is the reply button or list row the customer chose: ID is the
// one the business sent with it (≤256 chars for buttons, ≤200 for rows).
type ReplyOption struct {
	ID          string `json:"id"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"` // list rows only
}

// NFMReply is a completed WhatsApp Flow ("flow") or address message.
// ResponseJSON is the form's answers as JSON text (it carries flow_token);
// Meta sends it as a string, and an object is kept as its JSON text.
type NFMReply struct {
	Name         string `json:"name,omitempty"`
	Body         string `json:"body,omitempty"`
	ResponseJSON string `json:"response_json,omitempty"`
}

// QuickReply is a tap on a template's quick-reply button: Payload is the one
// the template send set for that button, Text its label.
type QuickReply struct {
	Payload string `json:"payload,omitempty"`
	Text    string `json:"text,omitempty"`
}

// Reaction is an emoji reaction to MessageID; an empty Emoji means the
// customer removed their reaction.
type Reaction struct {
	MessageID string `json:"message_id,omitempty"`
	Emoji     string `json:"emoji,omitempty"`
}

// Order is a cart the customer sent from a catalogue.
type Order struct {
	CatalogID string      `json:"catalog_id,omitempty"`
	Text      string      `json:"text,omitempty"`
	Items     []OrderItem `json:"product_items,omitempty"`
}

// OrderItem is one line of an Order.
type OrderItem struct {
	ProductRetailerID string  `json:"product_retailer_id,omitempty"`
	Quantity          int     `json:"quantity"`
	ItemPrice         float64 `json:"item_price"`
	Currency          string  `json:"currency,omitempty"`
}

// SystemUpdate is a notice about the customer (docs/whatsapp.md §1.6): user_changed_number
// (NewWaID is the new number; the message's From is the old one),
// user_changed_user_id (NewUserID), or customer_identity_changed (see
// InboundMessage.IdentityChange).
type SystemUpdate struct {
	Type      string `json:"type,omitempty"`
	Body      string `json:"body,omitempty"`
	NewWaID   string `json:"new_wa_id,omitempty"`
	NewUserID string `json:"new_user_id,omitempty"`
	Customer  string `json:"customer,omitempty"`
}

// IdentityChange says the customer's security identity changed (they
// reinstalled or changed device).
type IdentityChange struct {
	Acknowledged bool      `json:"acknowledged,omitempty"`
	Created      time.Time `json:"created,omitzero"`
	Hash         string    `json:"hash,omitempty"`
}

// EditedMessage says the customer edited OriginalMessageID. Message holds the
// new content (Type, its payload, Context); the sender and time are the
// outer message's.
type EditedMessage struct {
	OriginalMessageID string          `json:"original_message_id,omitempty"`
	Message           *InboundMessage `json:"message"`
}

// RevokedMessage says the customer deleted OriginalMessageID.
type RevokedMessage struct {
	OriginalMessageID string `json:"original_message_id,omitempty"`
}

// Error is an error Meta reports in a webhook: on a failed status, on an
// unsupported message, or on its own (ErrorEvent). Decide on Code and
// Details, not Title: Meta is deprecating titles (docs/whatsapp.md §3).
type Error struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"` // error_data.details
	Href    string `json:"href,omitempty"`
}

// Status is a change in the delivery state of a message the business sent
// (value.statuses[]). Webhooks arrive out of order and more than once: use
// Timestamp, and dedupe on (ID, Status).
type Status struct {
	WABAID        string `json:"waba_id,omitempty"`
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	// ID is the wamid the send returned.
	ID        string    `json:"id,omitempty"`
	Status    string    `json:"status"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	// RecipientID is the customer's phone number; empty when the message
	// was sent to a BSUID, which is then in RecipientUserID.
	RecipientID     string `json:"recipient_id,omitempty"`
	RecipientUserID string `json:"recipient_user_id,omitempty"`
	RecipientType   string `json:"recipient_type,omitempty"` // individual or group
	// BizOpaqueCallbackData echoes the value given when sending.
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`
	Conversation          *Conversation `json:"conversation,omitempty"`
	Pricing               *Pricing      `json:"pricing,omitempty"`
	Errors                []Error       `json:"errors,omitempty"` // on failed
}

// Conversation is the conversation a status was billed to; optional since
// per-message pricing (2025-07-01).
type Conversation struct {
	ID         string    `json:"id,omitempty"`
	Expiration time.Time `json:"expiration,omitzero"` // on sent only
	OriginType string    `json:"origin_type,omitempty"`
}

// Pricing is how a message is charged.
type Pricing struct {
	Billable     bool   `json:"billable,omitempty"` // deprecated by Meta
	PricingModel string `json:"pricing_model,omitempty"`
	Type         string `json:"type,omitempty"` // regular, free_customer_service, free_entry_point
	Category     string `json:"category,omitempty"`
}

// ErrorEvent is an error Meta reports outside any message or status
// (value.errors[], docs/whatsapp.md §1.10).
type ErrorEvent struct {
	WABAID        string `json:"waba_id,omitempty"`
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	Error
}

// TemplateUpdate is a change to a message template (docs/whatsapp.md §5), from one of
// three fields: message_template_status_update (Event, Reason, Category and
// the *Info details), message_template_quality_update (PrevQuality,
// NewQuality) or template_category_update (PrevCategory, NewCategory).
// Event is what happened, not necessarily the template's status now: FLAGGED
// arrives while the template is still APPROVED.
type TemplateUpdate struct {
	Field        string    `json:"field"`
	WABAID       string    `json:"waba_id,omitempty"`
	Time         time.Time `json:"time,omitzero"` // entry[].time
	TemplateID   string    `json:"template_id,omitempty"`
	TemplateName string    `json:"template_name,omitempty"`
	Language     string    `json:"language,omitempty"`

	Event       string             `json:"event,omitempty"`    // APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED …
	Reason      string             `json:"reason,omitempty"`   // NONE, INVALID_FORMAT …
	Category    string             `json:"category,omitempty"` // message_template_category
	Rejection   *TemplateRejection `json:"rejection,omitempty"`
	OtherInfo   *TemplateNotice    `json:"other_info,omitempty"`   // LOCKED, UNLOCKED
	DisableDate string             `json:"disable_date,omitempty"` // DISABLED

	PrevQuality string `json:"previous_quality,omitempty"` // GREEN, YELLOW, RED, UNKNOWN
	NewQuality  string `json:"new_quality,omitempty"`

	PrevCategory    string `json:"previous_category,omitempty"`
	NewCategory     string `json:"new_category,omitempty"`
	CorrectCategory string `json:"correct_category,omitempty"`
}

// TemplateRejection is why Meta rejected a template and what to change.
type TemplateRejection struct {
	Reason         string `json:"reason,omitempty"`
	Recommendation string `json:"recommendation,omitempty"`
}

// TemplateNotice is Meta's explanation of a template lock or unlock.
type TemplateNotice struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// UserPreference is a customer's choice about marketing messages (field
// user_preferences): Value stop, resume or signup. After stop, marketing
// templates to them fail with 131050 until resume (docs/whatsapp.md §4.8).
type UserPreference struct {
	WABAID        string    `json:"waba_id,omitempty"`
	PhoneNumberID string    `json:"phone_number_id,omitempty"`
	WaID          string    `json:"wa_id,omitempty"`
	UserID        string    `json:"user_id,omitempty"`
	Category      string    `json:"category,omitempty"` // marketing_messages
	Value         string    `json:"value,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	SignupID      string    `json:"signup_id,omitempty"`
	Timestamp     time.Time `json:"timestamp,omitzero"`
}

// Identity is the customer's key, as InboundMessage.Identity.
func (p *UserPreference) Identity() string {
	if p.UserID != "" {
		return p.UserID
	}
	return p.WaID
}

// AccountUpdate is an event about the WhatsApp Business Account (field
// account_update): bans, restrictions, violations, partner changes. Its
// details vary by Event and are kept whole in Value.
type AccountUpdate struct {
	WABAID      string          `json:"waba_id,omitempty"`
	Time        time.Time       `json:"time,omitzero"`
	Event       string          `json:"event,omitempty"`
	PhoneNumber string          `json:"phone_number,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
}

// Other is a change this package does not model: a field it does not parse
// (smb_message_echoes, calls, flows …; Err empty), or an item of a modelled
// field whose shape it could not read (Err says why). Value is kept whole.
type Other struct {
	WABAID string          `json:"waba_id,omitempty"`
	Time   time.Time       `json:"time,omitzero"`
	Field  string          `json:"field"`
	Value  json.RawMessage `json:"value,omitempty"`
	Err    string          `json:"err,omitempty"`
}

// ParseWebhook turns the body of a webhook POST into typed events, visiting
// every entry, change and item in order. It never panics and never keeps a
// reference to body.
//
// Only a body that is not JSON, or not a WhatsApp Business Account envelope,
// is an error (wrapping ErrMalformed). Anything inside a valid envelope is
// kept somewhere: unknown JSON fields are ignored (Meta adds fields), unknown
// message types become TypeUnsupported messages with their Raw payload,
// unknown change fields and unreadable items go to Batch.Other.
//
// The body must already be authenticated with VerifySignature.
func ParseWebhook(body []byte) (*Batch, error) {
	// Most deliveries decode in one pass; the rest, and every body in
	// error, take the item-by-item path, which isolates each item.
	if b, ok := parseAtOnce(body); ok {
		return b, nil
	}
	return parseItemByItem(body)
}

// parseItemByItem is ParseWebhook's general path: it keeps each change's
// value raw and decodes it, and then each of its items, on its own, so that
// an item of an unexpected shape costs only itself.
func parseItemByItem(body []byte) (*Batch, error) {
	var env wireEnvelope[json.RawMessage]
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if env.Object != objectWABA {
		return nil, fmt.Errorf("%w: object is %q, want %q", ErrMalformed, clip(env.Object, 64), objectWABA)
	}
	b := &Batch{}
	for _, e := range env.Entry {
		ent := entryInfo{wabaID: string(e.ID), time: e.Time.t}
		for _, c := range e.Changes {
			b.addChange(ent, c.Field, c.Value)
		}
	}
	return b, nil
}

// entryInfo is what an entry gives all of its changes.
type entryInfo struct {
	wabaID string
	time   time.Time
}

// maxEditDepth bounds the recursion into edit.message: Meta nests one level
// (an edit holds the new message); deeper nesting is only a way to attack the
// parser and is reported unsupported.
const maxEditDepth = 1

func (b *Batch) addChange(ent entryInfo, field string, value json.RawMessage) {
	switch field {
	case FieldMessages:
		b.addMessages(ent, value)
	case FieldTemplateStatus, FieldTemplateQuality, FieldTemplateCategory:
		var w wireTemplateUpdate
		if err := json.Unmarshal(value, &w); err != nil {
			b.addOther(ent, field, value, err)
			return
		}
		b.TemplateUpdates = append(b.TemplateUpdates, w.public(ent, field))
	case FieldUserPreferences:
		b.addPreferences(ent, value)
	case FieldAccountUpdate:
		var w wireAccountUpdate
		if err := json.Unmarshal(value, &w); err != nil {
			b.addOther(ent, field, value, err)
			return
		}
		b.AccountUpdates = append(b.AccountUpdates, AccountUpdate{
			WABAID: ent.wabaID, Time: ent.time, Event: w.Event,
			PhoneNumber: string(w.PhoneNumber), Value: value,
		})
	case FieldPhoneNumberQuality:
		b.addNumberUpdate(ent, value)
	default:
		b.addOther(ent, field, value, nil)
	}
}

func (b *Batch) addOther(ent entryInfo, field string, value json.RawMessage, err error) {
	o := Other{WABAID: ent.wabaID, Time: ent.time, Field: field, Value: value}
	if err != nil {
		o.Err = describe(err)
	}
	b.Other = append(b.Other, o)
}

func (b *Batch) addMessages(ent entryInfo, value json.RawMessage) {
	var v wireMessagesValue
	if err := json.Unmarshal(value, &v); err != nil {
		b.addOther(ent, FieldMessages, value, err)
		return
	}
	contacts := decodeContacts(v.Contacts)
	for _, raw := range v.Messages {
		m, ok := decodeMessage(raw, 0)
		if !ok {
			b.addOther(ent, FieldMessages, raw, errors.New("message is not a JSON object"))
			continue
		}
		b.addMessage(ent, &v.Metadata, contacts, m)
	}
	for _, raw := range v.Statuses {
		var w wireStatus
		if err := json.Unmarshal(raw, &w); err != nil {
			b.addOther(ent, FieldMessages, raw, fmt.Errorf("status: %w", err))
			continue
		}
		b.addStatus(ent, &v.Metadata, &w)
	}
	for _, raw := range v.Errors {
		var w wireError
		if err := json.Unmarshal(raw, &w); err != nil {
			b.addOther(ent, FieldMessages, raw, fmt.Errorf("error: %w", err))
			continue
		}
		b.addErrorEvent(ent, &v.Metadata, &w)
	}
}

func (b *Batch) addPreferences(ent entryInfo, value json.RawMessage) {
	var v wirePreferencesValue
	if err := json.Unmarshal(value, &v); err != nil {
		b.addOther(ent, FieldUserPreferences, value, err)
		return
	}
	contacts := decodeContacts(v.Contacts)
	for _, raw := range v.Preferences {
		var w wirePreference
		if err := json.Unmarshal(raw, &w); err != nil {
			b.addOther(ent, FieldUserPreferences, raw, err)
			continue
		}
		b.addPreference(ent, &v.Metadata, contacts, &w)
	}
}

// addMessage adds m, sent to the business number of md in entry ent, with
// what contacts say of its sender. Both parsing paths add items with
// addMessage, addStatus, addErrorEvent and addPreference.
func (b *Batch) addMessage(ent entryInfo, md *wireMetadata, contacts []contactInfo, m InboundMessage) {
	m.WABAID, m.PhoneNumberID, m.DisplayPhone = ent.wabaID, string(md.PhoneNumberID), string(md.DisplayPhoneNumber)
	if c := matchContact(contacts, m.From, m.UserID); c != nil {
		m.From = firstOf(m.From, c.waID)
		m.UserID = firstOf(m.UserID, c.userID)
		m.ParentUserID = firstOf(m.ParentUserID, c.parentUserID)
		m.ProfileName, m.Username = c.name, c.username
	}
	b.Messages = append(b.Messages, m)
}

func (b *Batch) addStatus(ent entryInfo, md *wireMetadata, w *wireStatus) {
	s := w.public()
	s.WABAID, s.PhoneNumberID = ent.wabaID, string(md.PhoneNumberID)
	b.Statuses = append(b.Statuses, s)
}

func (b *Batch) addErrorEvent(ent entryInfo, md *wireMetadata, w *wireError) {
	b.Errors = append(b.Errors, ErrorEvent{WABAID: ent.wabaID, PhoneNumberID: string(md.PhoneNumberID), Error: w.public()})
}

func (b *Batch) addPreference(ent entryInfo, md *wireMetadata, contacts []contactInfo, w *wirePreference) {
	p := UserPreference{
		WABAID: ent.wabaID, PhoneNumberID: string(md.PhoneNumberID),
		Category: w.Category, Value: w.Value, Detail: w.Detail,
		SignupID: string(w.SignupID), Timestamp: w.Timestamp.t,
	}
	p.WaID, p.UserID = splitIdentity(string(w.WaID), w.UserID)
	if c := matchContact(contacts, p.WaID, p.UserID); c != nil {
		p.WaID = firstOf(p.WaID, c.waID)
		p.UserID = firstOf(p.UserID, c.userID)
	}
	b.Preferences = append(b.Preferences, p)
}

// decodeMessage reads one messages[] item. A message whose shape is not the
// documented one is still returned, as unsupported with whatever header
// fields could be read, so that it can be deduplicated and answered; ok is
// false only when the item is not a JSON object at all.
func decodeMessage(raw json.RawMessage, depth int) (InboundMessage, bool) {
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		return undecodableMessage(raw, err)
	}
	m, err := w.public(raw, depth)
	if err != nil {
		return undecodableMessage(raw, err)
	}
	return m, true
}

// public turns a decoded messages[] item into an InboundMessage. raw is the
// item's JSON text, which an unsupported message keeps (nil leaves it out);
// depth is how many edits the item is nested in. The error is the
// interactive object's: it is kept raw in w, and decoded only here.
func (w *wireMessage) public(raw json.RawMessage, depth int) (InboundMessage, error) {
	m := InboundMessage{
		ID:           w.ID,
		Timestamp:    w.Timestamp.t,
		ParentUserID: w.FromParentUserID,
		GroupID:      w.GroupID,
		Type:         w.Type,
		Context:      w.Context.public(),
		Referral:     w.Referral.public(),
		Errors:       publicErrors(w.Errors),
	}
	m.From, m.UserID = splitIdentity(string(w.From), w.FromUserID)

	missing := false
	switch w.Type {
	case TypeText:
		if missing = w.Text == nil; !missing {
			m.Text = w.Text.Body
		}
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		media := w.media()
		if missing = media == nil; !missing {
			m.Media = &Media{
				ID: string(media.ID), MimeType: media.MimeType, SHA256: media.SHA256,
				Caption: media.Caption, Filename: media.Filename, URL: media.URL,
				Voice: media.Voice, Animated: media.Animated,
			}
		}
	case TypeLocation:
		if missing = w.Location == nil; !missing {
			m.Location = &Location{
				Latitude: float64(w.Location.Latitude), Longitude: float64(w.Location.Longitude),
				Name: w.Location.Name, Address: w.Location.Address, URL: w.Location.URL,
			}
		}
	case TypeContacts:
		if missing = len(w.Contacts) == 0; !missing {
			m.Contacts = publicContacts(w.Contacts)
		}
	case TypeInteractive:
		if missing = len(w.Interactive) == 0 || string(w.Interactive) == "null"; !missing {
			var err error
			if m.Interactive, err = decodeInteractive(w.Interactive); err != nil {
				return InboundMessage{}, err
			}
		}
	case TypeButton:
		if missing = w.Button == nil; !missing {
			m.Button = &QuickReply{Payload: w.Button.Payload, Text: w.Button.Text}
		}
	case TypeReaction:
		if missing = w.Reaction == nil; !missing {
			m.Reaction = &Reaction{MessageID: w.Reaction.MessageID, Emoji: w.Reaction.Emoji}
		}
	case TypeOrder:
		if missing = w.Order == nil; !missing {
			m.Order = w.Order.public()
		}
	case TypeSystem:
		if missing = w.System == nil; !missing {
			m.System = &SystemUpdate{
				Type: w.System.Type, Body: w.System.Body,
				NewWaID:   firstOf(string(w.System.NewWaID), string(w.System.WaID)),
				NewUserID: firstOf(w.System.NewUserID, w.System.UserID),
				Customer:  string(w.System.Customer),
			}
			if w.Identity != nil {
				m.IdentityChange = &IdentityChange{
					Acknowledged: w.Identity.Acknowledged,
					Created:      w.Identity.CreatedTimestamp.t,
					Hash:         w.Identity.Hash,
				}
			}
		}
	case TypeRequestWelcome:
	case TypeEdit:
		if missing = w.Edit == nil || len(w.Edit.Message) == 0; !missing {
			if depth >= maxEditDepth {
				return unsupported(m, raw, w.Type, "edit nested in an edit"), nil
			}
			inner, ok := decodeMessage(w.Edit.Message, depth+1)
			if !ok {
				return unsupported(m, raw, w.Type, "edit.message is not an object"), nil
			}
			m.Edit = &EditedMessage{OriginalMessageID: w.Edit.OriginalMessageID, Message: &inner}
		}
	case TypeRevoke:
		if missing = w.Revoke == nil; !missing {
			m.Revoke = &RevokedMessage{OriginalMessageID: w.Revoke.OriginalMessageID}
		}
	case TypeUnsupported:
		name := ""
		if w.Unsupported != nil {
			name = w.Unsupported.Type
		}
		return unsupported(m, raw, name, ""), nil
	default:
		return unsupported(m, raw, w.Type, ""), nil
	}
	if missing {
		return unsupported(m, raw, w.Type, "no "+w.Type+" object"), nil
	}
	return m, nil
}

// unsupported turns m into an unsupported message that keeps raw.
func unsupported(m InboundMessage, raw json.RawMessage, typ, problem string) InboundMessage {
	m.Type, m.UnsupportedType, m.Raw, m.Problem = TypeUnsupported, typ, raw, problem
	m.Text, m.Media, m.Location, m.Contacts, m.Interactive = "", nil, nil, nil, nil
	m.Button, m.Reaction, m.Order, m.System, m.IdentityChange, m.Edit, m.Revoke = nil, nil, nil, nil, nil, nil, nil
	return m
}

// undecodableMessage salvages the header of a message whose payload has an
// unexpected JSON shape: each field is read on its own, and any that fails
// is left empty.
func undecodableMessage(raw json.RawMessage, cause error) (InboundMessage, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return InboundMessage{}, false
	}
	var m InboundMessage
	var from, userID flexString
	_ = json.Unmarshal(fields["id"], (*flexString)(&m.ID))
	_ = json.Unmarshal(fields["from"], &from)
	_ = json.Unmarshal(fields["from_user_id"], &userID)
	_ = json.Unmarshal(fields["from_parent_user_id"], (*flexString)(&m.ParentUserID))
	_ = json.Unmarshal(fields["group_id"], (*flexString)(&m.GroupID))
	var ts flexTime
	if json.Unmarshal(fields["timestamp"], &ts) == nil {
		m.Timestamp = ts.t
	}
	m.From, m.UserID = splitIdentity(string(from), string(userID))
	var typ flexString
	_ = json.Unmarshal(fields["type"], &typ)
	return unsupported(m, raw, string(typ), describe(cause)), true
}

// describe says what was wrong with an item's shape in words that do not
// depend on Go's JSON decoder (its messages name Go types and change between
// releases), so stored problems and golden files stay stable.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where, kind := te.Field, te.Value
		if where == "" {
			where = "value"
		}
		if i := strings.IndexByte(kind, ' '); i >= 0 {
			kind = kind[:i] // "number 1.5" → "number"
		}
		return fmt.Sprintf("%s: unexpected JSON %s", where, kind)
	}
	return err.Error()
}

func decodeInteractive(raw json.RawMessage) (*InteractiveReply, error) {
	var w wireInteractive
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	r := &InteractiveReply{Type: w.Type}
	switch {
	case w.Type == InteractiveButtonReply && w.ButtonReply != nil:
		r.ButtonReply = &ReplyOption{ID: w.ButtonReply.ID, Title: w.ButtonReply.Title}
	case w.Type == InteractiveListReply && w.ListReply != nil:
		r.ListReply = &ReplyOption{ID: w.ListReply.ID, Title: w.ListReply.Title, Description: w.ListReply.Description}
	case w.Type == InteractiveNFMReply && w.NFMReply != nil:
		r.NFMReply = &NFMReply{Name: w.NFMReply.Name, Body: w.NFMReply.Body, ResponseJSON: string(w.NFMReply.ResponseJSON)}
	default:
		r.Raw = raw
	}
	return r, nil
}

// contactInfo is one value.contacts[] entry: who sent the messages beside it.
type contactInfo struct {
	waID, userID, parentUserID, name, username string
}

func decodeContacts(raws []json.RawMessage) []contactInfo {
	cs := make([]contactInfo, 0, len(raws))
	for _, raw := range raws {
		var w wireContact
		// A contact entry only adds names to messages; one Meta reshapes
		// must not cost the messages themselves.
		if json.Unmarshal(raw, &w) != nil {
			continue
		}
		cs = append(cs, w.info())
	}
	return cs
}

func (w *wireContact) info() contactInfo {
	c := contactInfo{parentUserID: w.ParentUserID, name: w.Profile.Name, username: w.Profile.Username}
	c.waID, c.userID = splitIdentity(string(w.WaID), w.UserID)
	return c
}

// matchContact finds the contacts[] entry of the customer with phone number
// waID or BSUID userID. Meta does not promise contacts[] lines up with
// messages[], so entries are matched by identity, never by position; only a
// message that names no sender at all takes a lone contact entry.
func matchContact(cs []contactInfo, waID, userID string) *contactInfo {
	for i := range cs {
		c := &cs[i]
		if userID != "" && c.userID == userID {
			return c
		}
		if waID != "" && c.waID == waID && (userID == "" || c.userID == "") {
			return c
		}
	}
	if waID == "" && userID == "" && len(cs) == 1 {
		return &cs[0]
	}
	return nil
}

// splitIdentity sorts a (phone, BSUID) pair: some payloads carry the BSUID
// in from or wa_id ("from": "US.1234"), which is not a phone number.
func splitIdentity(phone, userID string) (string, string) {
	if isBSUID(phone) {
		if userID == "" {
			userID = phone
		}
		phone = ""
	}
	return phone, userID
}

// isBSUID reports whether s has the shape of a business-scoped user id: an
// ISO 3166 alpha-2 country code and a dot ("US.1349…", "US.ENT.…", spec
// §1.4). Phone numbers are digits only.
func isBSUID(s string) bool {
	return len(s) > 3 && isUpper(s[0]) && isUpper(s[1]) && s[2] == '.'
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// lenientString and lenientTime read envelope fields that carry no meaning
// for routing (entry id and time); a strange shape there must not cost the
// whole batch, so it reads as empty.
type lenientString string

func (s *lenientString) UnmarshalJSON(data []byte) error {
	var v flexString
	_ = v.UnmarshalJSON(data)
	*s = lenientString(v)
	return nil
}

type lenientTime struct{ t time.Time }

func (t *lenientTime) UnmarshalJSON(data []byte) error {
	var v flexTime
	_ = v.UnmarshalJSON(data)
	t.t = v.t
	return nil
}

// Wire shapes: Meta's JSON as documented, read with tolerance for the
// string/number variations seen in real payloads.

// wireEnvelope is a webhook body; V is how a change's value is read: kept
// raw (json.RawMessage) by parseItemByItem, decoded (wireValue) by
// parseAtOnce.
type wireEnvelope[V any] struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      lenientString `json:"id"`
		Time    lenientTime   `json:"time"`
		Changes []struct {
			Field string `json:"field"`
			Value V      `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type wireMetadata struct {
	DisplayPhoneNumber flexString `json:"display_phone_number"`
	PhoneNumberID      flexString `json:"phone_number_id"`
}

type wireMessagesValue struct {
	Metadata wireMetadata      `json:"metadata"`
	Contacts []json.RawMessage `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Errors   []json.RawMessage `json:"errors"`
}

type wireContact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID         flexString `json:"wa_id"`
	UserID       string     `json:"user_id"`
	ParentUserID string     `json:"parent_user_id"`
}

type wireMessage struct {
	From             flexString             `json:"from"`
	FromUserID       string                 `json:"from_user_id"`
	FromParentUserID string                 `json:"from_parent_user_id"`
	ID               string                 `json:"id"`
	Timestamp        flexTime               `json:"timestamp"`
	Type             string                 `json:"type"`
	GroupID          string                 `json:"group_id"`
	Context          *wireContext           `json:"context"`
	Referral         *wireReferral          `json:"referral"`
	Errors           []wireError            `json:"errors"`
	Identity         *wireIdentity          `json:"identity"`
	Text             *struct{ Body string } `json:"text"`
	Image            *wireMedia             `json:"image"`
	Video            *wireMedia             `json:"video"`
	Audio            *wireMedia             `json:"audio"`
	Document         *wireMedia             `json:"document"`
	Sticker          *wireMedia             `json:"sticker"`
	Location         *wireLocation          `json:"location"`
	Contacts         []wireContactCard      `json:"contacts"`
	Interactive      json.RawMessage        `json:"interactive"`
	Button           *QuickReply            `json:"button"`
	Reaction         *Reaction              `json:"reaction"`
	Order            *wireOrder             `json:"order"`
	System           *wireSystem            `json:"system"`
	Edit             *struct {
		OriginalMessageID string          `json:"original_message_id"`
		Message           json.RawMessage `json:"message"`
	} `json:"edit"`
	Revoke      *RevokedMessage `json:"revoke"`
	Unsupported *struct {
		Type string `json:"type"`
	} `json:"unsupported"`
}

// media is the payload object of a media message, nil if absent.
func (w *wireMessage) media() *wireMedia {
	switch w.Type {
	case TypeImage:
		return w.Image
	case TypeVideo:
		return w.Video
	case TypeAudio:
		return w.Audio
	case TypeDocument:
		return w.Document
	case TypeSticker:
		return w.Sticker
	}
	return nil
}

type wireContext struct {
	From                flexString `json:"from"`
	ID                  string     `json:"id"`
	Forwarded           bool       `json:"forwarded"`
	FrequentlyForwarded bool       `json:"frequently_forwarded"`
	ReferredProduct     *struct {
		CatalogID         flexString `json:"catalog_id"`
		ProductRetailerID flexString `json:"product_retailer_id"`
	} `json:"referred_product"`
}

func (w *wireContext) public() *MessageContext {
	if w == nil {
		return nil
	}
	c := &MessageContext{From: string(w.From), ID: w.ID, Forwarded: w.Forwarded, FrequentlyForwarded: w.FrequentlyForwarded}
	if p := w.ReferredProduct; p != nil {
		c.ReferredProduct = &ReferredProduct{CatalogID: string(p.CatalogID), ProductRetailerID: string(p.ProductRetailerID)}
	}
	return c
}

type wireReferral struct {
	SourceURL      string     `json:"source_url"`
	SourceID       flexString `json:"source_id"`
	SourceType     string     `json:"source_type"`
	Headline       string     `json:"headline"`
	Body           string     `json:"body"`
	MediaType      string     `json:"media_type"`
	ImageURL       string     `json:"image_url"`
	VideoURL       string     `json:"video_url"`
	ThumbnailURL   string     `json:"thumbnail_url"`
	CTWAClickID    string     `json:"ctwa_clid"`
	WelcomeMessage *struct {
		Text string `json:"text"`
	} `json:"welcome_message"`
}

func (w *wireReferral) public() *Referral {
	if w == nil {
		return nil
	}
	r := &Referral{
		SourceURL: w.SourceURL, SourceID: string(w.SourceID), SourceType: w.SourceType,
		Headline: w.Headline, Body: w.Body, MediaType: w.MediaType,
		ImageURL: w.ImageURL, VideoURL: w.VideoURL, ThumbnailURL: w.ThumbnailURL,
		CTWAClickID: w.CTWAClickID,
	}
	if w.WelcomeMessage != nil {
		r.WelcomeMessage = w.WelcomeMessage.Text
	}
	return r
}

type wireIdentity struct {
	Acknowledged     bool     `json:"acknowledged"`
	CreatedTimestamp flexTime `json:"created_timestamp"`
	Hash             string   `json:"hash"`
}

type wireMedia struct {
	ID       flexString `json:"id"`
	MimeType string     `json:"mime_type"`
	SHA256   string     `json:"sha256"`
	Caption  string     `json:"caption"`
	Filename string     `json:"filename"`
	URL      string     `json:"url"`
	Voice    bool       `json:"voice"`
	Animated bool       `json:"animated"`
}

type wireLocation struct {
	Latitude  flexFloat `json:"latitude"`
	Longitude flexFloat `json:"longitude"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	URL       string    `json:"url"`
}

// wireContactCard is a contact card; its parts have the public shape, but
// phone numbers and wa_ids may come as JSON numbers.
type wireContactCard struct {
	Name   ContactName `json:"name"`
	Phones []struct {
		Phone flexString `json:"phone"`
		WaID  flexString `json:"wa_id"`
		Type  string     `json:"type"`
	} `json:"phones"`
	Emails    []ContactEmail   `json:"emails"`
	Addresses []ContactAddress `json:"addresses"`
	Org       *ContactOrg      `json:"org"`
	URLs      []ContactURL     `json:"urls"`
	Birthday  string           `json:"birthday"`
}

func publicContacts(ws []wireContactCard) []Contact {
	cs := make([]Contact, len(ws))
	for i, w := range ws {
		cs[i] = Contact{Name: w.Name, Emails: w.Emails, Addresses: w.Addresses, Org: w.Org, URLs: w.URLs, Birthday: w.Birthday}
		for _, p := range w.Phones {
			cs[i].Phones = append(cs[i].Phones, ContactPhone{Phone: string(p.Phone), WaID: string(p.WaID), Type: p.Type})
		}
	}
	return cs
}

type wireInteractive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"list_reply"`
	NFMReply *struct {
		Name         string       `json:"name"`
		Body         string       `json:"body"`
		ResponseJSON flexJSONText `json:"response_json"`
	} `json:"nfm_reply"`
}

type wireOrder struct {
	CatalogID    flexString `json:"catalog_id"`
	Text         string     `json:"text"`
	ProductItems []struct {
		ProductRetailerID flexString `json:"product_retailer_id"`
		Quantity          flexInt    `json:"quantity"`
		ItemPrice         flexFloat  `json:"item_price"`
		Currency          string     `json:"currency"`
	} `json:"product_items"`
}

func (w *wireOrder) public() *Order {
	o := &Order{CatalogID: string(w.CatalogID), Text: w.Text}
	for _, it := range w.ProductItems {
		o.Items = append(o.Items, OrderItem{
			ProductRetailerID: string(it.ProductRetailerID), Quantity: int(it.Quantity),
			ItemPrice: float64(it.ItemPrice), Currency: it.Currency,
		})
	}
	return o
}

// wireSystem accepts both spellings of the new identity: Meta's reference
// shows new_wa_id, current payloads wa_id (docs/whatsapp.md §1.6).
type wireSystem struct {
	Body      string     `json:"body"`
	Type      string     `json:"type"`
	WaID      flexString `json:"wa_id"`
	NewWaID   flexString `json:"new_wa_id"`
	UserID    string     `json:"user_id"`
	NewUserID string     `json:"new_user_id"`
	Customer  flexString `json:"customer"`
}

type wireError struct {
	Code      flexInt `json:"code"`
	Title     string  `json:"title"`
	Message   string  `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href"`
}

func (w wireError) public() Error {
	return Error{Code: int(w.Code), Title: w.Title, Message: w.Message, Details: w.ErrorData.Details, Href: w.Href}
}

func publicErrors(ws []wireError) []Error {
	if len(ws) == 0 {
		return nil
	}
	es := make([]Error, len(ws))
	for i, w := range ws {
		es[i] = w.public()
	}
	return es
}

type wireStatus struct {
	ID                    string      `json:"id"`
	Status                string      `json:"status"`
	Timestamp             flexTime    `json:"timestamp"`
	RecipientID           flexString  `json:"recipient_id"`
	RecipientUserID       string      `json:"recipient_user_id"`
	RecipientType         string      `json:"recipient_type"`
	BizOpaqueCallbackData string      `json:"biz_opaque_callback_data"`
	Errors                []wireError `json:"errors"`
	Conversation          *struct {
		ID                  string   `json:"id"`
		ExpirationTimestamp flexTime `json:"expiration_timestamp"`
		Origin              struct {
			Type string `json:"type"`
		} `json:"origin"`
	} `json:"conversation"`
	Pricing *Pricing `json:"pricing"`
}

func (w *wireStatus) public() Status {
	s := Status{
		ID: w.ID, Status: w.Status, Timestamp: w.Timestamp.t,
		RecipientType: w.RecipientType, BizOpaqueCallbackData: w.BizOpaqueCallbackData,
		Pricing: w.Pricing, Errors: publicErrors(w.Errors),
	}
	s.RecipientID, s.RecipientUserID = splitIdentity(string(w.RecipientID), w.RecipientUserID)
	if c := w.Conversation; c != nil {
		s.Conversation = &Conversation{ID: c.ID, Expiration: c.ExpirationTimestamp.t, OriginType: c.Origin.Type}
	}
	return s
}

type wireTemplateUpdate struct {
	Event                   string             `json:"event"`
	MessageTemplateID       flexString         `json:"message_template_id"`
	MessageTemplateName     string             `json:"message_template_name"`
	MessageTemplateLanguage string             `json:"message_template_language"`
	Reason                  string             `json:"reason"`
	MessageTemplateCategory string             `json:"message_template_category"`
	RejectionInfo           *TemplateRejection `json:"rejection_info"`
	OtherInfo               *TemplateNotice    `json:"other_info"`
	DisableInfo             *struct {
		DisableDate flexString `json:"disable_date"`
	} `json:"disable_info"`
	PreviousQualityScore string `json:"previous_quality_score"`
	NewQualityScore      string `json:"new_quality_score"`
	PreviousCategory     string `json:"previous_category"`
	NewCategory          string `json:"new_category"`
	CorrectCategory      string `json:"correct_category"`
}

func (w *wireTemplateUpdate) public(ent entryInfo, field string) TemplateUpdate {
	t := TemplateUpdate{
		Field: field, WABAID: ent.wabaID, Time: ent.time,
		TemplateID: string(w.MessageTemplateID), TemplateName: w.MessageTemplateName,
		Language: w.MessageTemplateLanguage, Event: w.Event, Reason: w.Reason,
		Category: w.MessageTemplateCategory, Rejection: w.RejectionInfo, OtherInfo: w.OtherInfo,
		PrevQuality: w.PreviousQualityScore, NewQuality: w.NewQualityScore,
		PrevCategory: w.PreviousCategory, NewCategory: w.NewCategory, CorrectCategory: w.CorrectCategory,
	}
	if w.DisableInfo != nil {
		t.DisableDate = string(w.DisableInfo.DisableDate)
	}
	return t
}

type wirePreferencesValue struct {
	Metadata    wireMetadata      `json:"metadata"`
	Contacts    []json.RawMessage `json:"contacts"`
	Preferences []json.RawMessage `json:"user_preferences"`
}

type wirePreference struct {
	WaID      flexString `json:"wa_id"`
	UserID    string     `json:"user_id"`
	Category  string     `json:"category"`
	Value     string     `json:"value"`
	Detail    string     `json:"detail"`
	SignupID  flexString `json:"signup_id"`
	Timestamp flexTime   `json:"timestamp"`
}

type wireAccountUpdate struct {
	Event       string     `json:"event"`
	PhoneNumber flexString `json:"phone_number"`
}

// Flexible scalars. Meta sends ids and timestamps as strings in one payload
// and numbers in another (message_template_id, expiration_timestamp,
// user_preferences timestamp, docs/whatsapp.md §1.9, §5); these accept both, and null.

// flexString is a string, or a JSON number kept digit for digit (ids exceed
// float64 precision, so they are never parsed as numbers).
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	switch {
	case len(data) == 0:
		return errors.New("empty value")
	case data[0] == '"':
		if v, ok := plainString(data); ok {
			*s = flexString(v)
			return nil
		}
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case data[0] == '-' || ('0' <= data[0] && data[0] <= '9'):
		*s = flexString(data)
	case string(data) == "null":
	default:
		return fmt.Errorf("want a string or number, got %s", clip(string(data), 16))
	}
	return nil
}

// plainString returns the contents of the JSON string literal data when
// they are printable ASCII without escapes, as ids and timestamps are: then
// they are the string's value as they stand, and need no json.Unmarshal.
func plainString(data []byte) (string, bool) {
	if len(data) < 2 || data[len(data)-1] != '"' {
		return "", false
	}
	text := data[1 : len(data)-1]
	for _, c := range text {
		if c < ' ' || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return "", false
		}
	}
	return string(text), true
}

// scalar returns the text of a JSON string or number, and whether it was one.
func scalar(data []byte) (string, bool, error) {
	var s flexString
	if err := s.UnmarshalJSON(data); err != nil {
		return "", false, err
	}
	return string(s), string(data) != "null", nil
}

// flexInt is an integer given as a JSON number or a string of digits.
type flexInt int64

func (n *flexInt) UnmarshalJSON(data []byte) error {
	s, ok, err := scalar(data)
	if err != nil || !ok || s == "" {
		return err
	}
	v, err := parseInt(s)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// parseInt accepts "1697043223" and, from encoders that write every number
// as a float, "1.697043223e9".
func parseInt(s string) (int64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, fmt.Errorf("not an integer: %q", clip(s, 32))
	}
	return int64(f), nil
}

// flexFloat is a number given as a JSON number or a numeric string
// (latitude, longitude and prices, docs/whatsapp.md §1.6).
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(data []byte) error {
	s, ok, err := scalar(data)
	if err != nil || !ok || s == "" {
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("not a number: %q", clip(s, 32))
	}
	*f = flexFloat(v)
	return nil
}

// flexTime is a Unix time in seconds, as a string ("1749416383", the usual
// form) or a JSON number. Empty and null mean "not given".
type flexTime struct{ t time.Time }

// maxUnixSeconds keeps times within what time.Time marshals as RFC 3339
// (year 9999); a webhook time beyond that is garbage, not a date.
const maxUnixSeconds = 253402300799

func (t *flexTime) UnmarshalJSON(data []byte) error {
	v, ok := unixDigits(data)
	if !ok {
		s, ok, err := scalar(data)
		if err != nil || !ok || s == "" {
			return err
		}
		if v, err = parseInt(s); err != nil {
			return err
		}
	}
	if v < 0 || v > maxUnixSeconds {
		return fmt.Errorf("unix time out of range: %d", v)
	}
	t.t = time.Unix(v, 0).UTC()
	return nil
}

// unixDigits reads a time in its usual form, up to 18 decimal digits,
// quoted or not, without the allocations of the general path.
func unixDigits(data []byte) (int64, bool) {
	if len(data) > 1 && data[0] == '"' && data[len(data)-1] == '"' {
		data = data[1 : len(data)-1]
	}
	if len(data) == 0 || len(data) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range data {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// flexJSONText is JSON carried as a string (nfm_reply.response_json); an
// object or array in its place is kept as its compact JSON text.
type flexJSONText string

func (j *flexJSONText) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && (data[0] == '{' || data[0] == '[') {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			return err
		}
		*j = flexJSONText(buf.String())
		return nil
	}
	s, _, err := scalar(data)
	*j = flexJSONText(s)
	return err
}
