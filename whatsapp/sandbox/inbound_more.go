package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The inbound types beyond text, taps, locations, media and reactions —
// contact cards, carts, WhatsApp Flows answers, system notices, messages
// WhatsApp cannot pass on, edits and deletions, ad referrals — and the
// webhooks about the account, the number's quality and a customer's
// marketing preferences, shaped as Meta shapes them (docs/whatsapp.md §1).

// Referral is the click-to-WhatsApp ad or post a message came from.
type Referral struct {
	SourceURL    string `json:"source_url,omitempty"`
	SourceID     string `json:"source_id,omitempty"`
	SourceType   string `json:"source_type,omitempty"` // ad or post
	Headline     string `json:"headline,omitempty"`
	Body         string `json:"body,omitempty"`
	MediaType    string `json:"media_type,omitempty"` // image or video
	ImageURL     string `json:"image_url,omitempty"`
	VideoURL     string `json:"video_url,omitempty"`
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
	CTWAClickID  string `json:"ctwa_clid,omitempty"`
}

// Contacts is a message sharing contact cards, each as Meta shapes it
// (name, phones, emails, org…).
func Contacts(cards ...json.RawMessage) Inbound { return Inbound{Type: "contacts", Contacts: cards} }

// Order is a cart sent from the catalogue: {catalog_id, text, product_items}.
func Order(order json.RawMessage) Inbound { return Inbound{Type: "order", Order: order} }

// FlowAnswer is a completed WhatsApp Flows form: its answers, a JSON
// object (Meta sends them as a JSON string, response_json).
func FlowAnswer(response json.RawMessage) Inbound {
	return Inbound{Type: "nfm_reply", Response: response}
}

// NumberChanged is the system notice that the customer moved to newWaID.
func NumberChanged(newWaID string) Inbound {
	return Inbound{Type: "system", SystemType: "user_changed_number", NewWaID: newWaID}
}

// Unsupported is a message WhatsApp cannot pass on (a poll, a video note…).
func Unsupported(what string) Inbound { return Inbound{Type: "unsupported", UnsupportedType: what} }

// Edit is the customer's edit of their message wamid to text.
func Edit(wamid, text string) Inbound { return Inbound{Type: "edit", Context: wamid, Text: text} }

// Revoke is the customer deleting their message wamid.
func Revoke(wamid string) Inbound { return Inbound{Type: "revoke", Context: wamid} }

// checkMore checks the types of this file; bad builds the error.
func (in *Inbound) checkMore(bad func(string) error) error {
	switch in.Type {
	case "contacts":
		if len(in.Contacts) == 0 {
			return bad("contacts (one card or more) are required")
		}
		for _, c := range in.Contacts {
			if !isObject(c) {
				return bad("each contact card is a JSON object")
			}
		}
	case "order":
		if !isObject(in.Order) {
			return bad("order (an object with catalog_id and product_items) is required")
		}
	case "nfm_reply":
		if !isObject(in.Response) {
			return bad("response (the form's answers, a JSON object) is required")
		}
	case "system":
		if in.SystemType != "user_changed_number" || in.NewWaID == "" {
			return bad("system_type user_changed_number with new_wa_id is required")
		}
	case "unsupported":
	case "edit":
		if in.Context == "" || in.Text == "" {
			return bad("context (the message edited) and text are required")
		}
	case "revoke":
		if in.Context == "" {
			return bad("context (the message deleted) is required")
		}
	default:
		return bad("unsupported type")
	}
	return nil
}

func isObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return len(raw) > 0 && json.Unmarshal(raw, &m) == nil && m != nil
}

// summaryMore is the text shown in logs and transcripts for this file's
// types, "" for the others.
func (in *Inbound) summaryMore() string {
	switch in.Type {
	case "contacts":
		return fmt.Sprintf("%d contact card(s)", len(in.Contacts))
	case "order":
		return "order"
	case "nfm_reply":
		return "form answered"
	case "system":
		return "changed number to " + in.NewWaID
	case "unsupported":
		return "unsupported " + in.UnsupportedType
	case "edit":
		return "edited: " + in.Text
	case "revoke":
		return "deleted a message"
	}
	return ""
}

// ErrNotTheirs is returned by CustomerSays for an edit or revoke of a
// message that customer did not send: WhatsApp offers neither.
var ErrNotTheirs = errors.New("sandbox: not a message of that customer")

// checkOwnLocked refuses an edit or revoke of a message c did not send.
func (s *Sandbox) checkOwnLocked(c *customer, in *Inbound) error {
	if in.Type != "edit" && in.Type != "revoke" {
		return nil
	}
	if s.inbound[in.Context] != c {
		return fmt.Errorf("%w: %s", ErrNotTheirs, in.Context)
	}
	return nil
}

// afterInboundLocked applies what a message changes in the sandbox: a
// customer who changed number is known by the new one from then on.
func (s *Sandbox) afterInboundLocked(c *customer, in Inbound) {
	if in.Type != "system" || in.NewWaID == "" || c.WaID == in.NewWaID {
		return
	}
	if c.WaID != "" && s.customers[c.WaID] == c {
		delete(s.customers, c.WaID)
	}
	c.WaID = in.NewWaID
	s.customers[c.WaID] = c
	s.changedLocked()
}

// moreWebhookLocked fills m for this file's types.
func (s *Sandbox) moreWebhookLocked(m *hookMessage, in Inbound) {
	switch in.Type {
	case "contacts":
		m.Contacts = in.Contacts
	case "order":
		m.Order = in.Order
	case "nfm_reply":
		m.Type = "interactive"
		name := in.Name
		if name == "" {
			name = "flow"
		}
		body := in.Text
		if body == "" {
			body = "Sent"
		}
		m.Interactive = map[string]any{"type": "nfm_reply",
			"nfm_reply": map[string]string{"name": name, "body": body, "response_json": string(in.Response)}}
	case "system":
		body := fmt.Sprintf("User %s changed from %s to %s", m.From, m.From, in.NewWaID)
		m.System = map[string]any{"body": body, "wa_id": in.NewWaID, "type": "user_changed_number"}
	case "unsupported":
		if in.UnsupportedType != "" {
			m.Unsupported = map[string]any{"type": in.UnsupportedType}
		}
		m.Errors = []hookErrorBody{unsupportedError()}
	case "edit":
		m.Edit = map[string]any{"original_message_id": in.Context,
			"message": map[string]any{"type": "text", "text": hookText{Body: in.Text}}}
	case "revoke":
		m.Revoke = map[string]any{"original_message_id": in.Context}
	}
}

func unsupportedError() hookErrorBody {
	e := hookErrorBody{Code: 131051, Title: "Message type unknown", Message: "Message type unknown", Href: errorHref}
	e.ErrorData.Details = "Message type is currently not supported."
	return e
}

// AccountUpdate posts an account_update webhook: event (ACCOUNT_RESTRICTION,
// ACCOUNT_VIOLATION, ACCOUNT_BANNED, PARTNER_ADDED …) and the event's own
// fields (restriction_info, violation_info …) beside it.
func (s *Sandbox) AccountUpdate(event string, fields map[string]any) {
	v := map[string]any{"event": event}
	for k, x := range fields {
		if k != "event" {
			v[k] = x
		}
	}
	s.postChange("account_update", v)
}

// Restrict posts the account_update that restricts business-initiated
// messaging until until.
func (s *Sandbox) Restrict(until time.Time) {
	s.AccountUpdate("ACCOUNT_RESTRICTION", map[string]any{"restriction_info": []map[string]any{{
		"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": until.Unix(),
	}}})
}

// QualityUpdate posts a phone_number_quality_update for the sandbox's
// number: event FLAGGED, UNFLAGGED, UPGRADE or DOWNGRADE, and the
// messaging limit tier now (TIER_250, TIER_2K, TIER_10K, TIER_100K,
// TIER_UNLIMITED; "" for none).
func (s *Sandbox) QualityUpdate(event, currentLimit string) {
	v := map[string]any{"display_phone_number": s.cfg.DisplayPhoneNumber, "event": event}
	if currentLimit != "" {
		v["current_limit"] = currentLimit
		v["max_daily_conversations_per_business"] = currentLimit
	}
	s.postChange("phone_number_quality_update", v)
}

// MarketingPreference posts the user_preferences webhook of a customer
// who stopped ("stop") or resumed ("resume") marketing messages.
func (s *Sandbox) MarketingPreference(id, value string) error {
	if value != "stop" && value != "resume" {
		return fmt.Errorf("%w: a marketing preference is stop or resume, not %q", ErrBadInbound, value)
	}
	s.mu.Lock()
	c := s.customerLocked(id)
	contact := s.contactOf(c)
	pref := map[string]any{"category": "marketing_messages", "value": value,
		"detail": "User requested to " + value + " marketing messages", "timestamp": s.clock.Now().Unix()}
	if contact.WaID != "" {
		pref["wa_id"] = contact.WaID
	}
	if contact.UserID != "" {
		pref["user_id"] = contact.UserID
	}
	s.recordLocked(Entry{Kind: KindInbound, To: id, Type: "user_preferences", Body: value})
	s.mu.Unlock()
	s.postChange("user_preferences", map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          metadata{DisplayPhoneNumber: s.cfg.DisplayPhoneNumber, PhoneNumberID: s.cfg.PhoneNumberID},
		"contacts":          []hookContact{contact},
		"user_preferences":  []map[string]any{pref},
	})
	return nil
}

// postChange posts one change of field for the sandbox's WABA.
func (s *Sandbox) postChange(field string, value any) {
	payload := marshalWebhook(envelope{Object: "whatsapp_business_account", Entry: []entry{{
		ID: s.cfg.WABAID, Time: s.clock.Now().Unix(), Changes: []change{{Value: value, Field: field}},
	}}})
	s.hooks.push(payload)
}
