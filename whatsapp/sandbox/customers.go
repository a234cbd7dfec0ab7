package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"time"
)

// Customer is a simulated WhatsApp user.
type Customer struct {
	// WaID is the phone number (digits). Empty for a customer known only by
	// BSUID.
	WaID string `json:"wa_id,omitempty"`
	// UserID is the business-scoped user id ("US.…"); derived from WaID
	// when empty.
	UserID   string `json:"user_id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
	// HidePhone leaves wa_id and from out of webhooks, as for customers who
	// adopted a username (docs/whatsapp.md §1.4): Parley must key them on user_id and
	// send with "recipient".
	HidePhone bool `json:"hide_phone,omitempty"`
	// Undeliverable makes every send to the customer fail with 131026.
	Undeliverable bool `json:"undeliverable,omitempty"`
	// MarketingOptOut makes MARKETING templates fail with 131050.
	MarketingOptOut bool `json:"marketing_opt_out,omitempty"`
}

type customer struct {
	Customer
	lastInbound time.Time
	pair        *bucket
	turns       []*Turn
}

// bsuidFor derives a stable BSUID for a phone number.
func bsuidFor(waID string) string {
	h := fnv.New64a()
	h.Write([]byte(waID))
	return fmt.Sprintf("US.%d", h.Sum64())
}

// AddCustomer registers (or updates) a simulated customer.
func (s *Sandbox) AddCustomer(c Customer) Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.UserID == "" && c.WaID != "" {
		c.UserID = bsuidFor(c.WaID)
	}
	key := c.WaID
	if key == "" {
		key = c.UserID
	}
	cu := s.customerLocked(key)
	old := cu.Customer
	if c.Name == "" {
		c.Name = old.Name
	}
	cu.Customer = c
	if old.UserID != "" && old.UserID != c.UserID {
		delete(s.customers, old.UserID)
	}
	if c.UserID != "" {
		s.customers[c.UserID] = cu
	}
	if c.WaID != "" {
		s.customers[c.WaID] = cu
	}
	s.changedLocked()
	return c
}

// Customer returns the customer id (wa_id or BSUID) as the sandbox knows it.
func (s *Sandbox) Customer(id string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		return Customer{}, false
	}
	return c.Customer, true
}

// customerLocked returns the customer id, creating it: a BSUID-shaped id
// makes a phone-less customer, anything else a customer with that wa_id.
func (s *Sandbox) customerLocked(id string) *customer {
	if c := s.customers[id]; c != nil {
		return c
	}
	c := &customer{}
	if bsuidPattern.MatchString(id) {
		c.UserID, c.HidePhone = id, true
	} else {
		c.WaID, c.UserID = id, bsuidFor(id)
		s.customers[c.UserID] = c
	}
	if c.Name == "" {
		c.Name = "Customer " + id
	}
	s.customers[id] = c
	return c
}

// pairBucket returns the customer's pair-rate bucket (docs/whatsapp.md §4.7).
func (s *Sandbox) pairBucket(c *customer) *bucket {
	if c.pair == nil {
		c.pair = newBucket(1/s.cfg.PairInterval.Seconds(), s.cfg.PairBurst, s.clock.Now())
	}
	return c.pair
}

// Inbound is a message a simulated customer sends. Type is one of:
//
//	text          Text
//	button        a template quick-reply tap: Payload, Text, Context
//	button_reply  a reply-button tap: ID, Title, Context
//	list_reply    a list choice: ID, Title, Description, Context
//	location      Latitude, Longitude, Name, Address
//	image, video, audio, document, sticker
//	              Data (stored as media) or MediaID, MIMEType, Text as
//	              caption, Filename (documents), Voice (audio)
//	reaction      Context (the message reacted to), Emoji
//	contacts      Contacts: contact cards, as Meta shapes them
//	order         Order: a cart {catalog_id, text, product_items}
//	nfm_reply     a WhatsApp Flows form completed: Response (its answers,
//	              a JSON object), Name ("flow" by default), Text as body
//	system        SystemType (user_changed_number, with NewWaID: the
//	              customer's new number, which the sandbox then uses)
//	unsupported   UnsupportedType: what WhatsApp could not pass on
//	edit          Context (the customer's message edited), Text: new text
//	revoke        Context (the customer's message deleted)
//
// Context is the wamid of the business message replied to (required for
// taps: WhatsApp always sends it); for an edit or a revoke, the customer's
// own earlier message. Referral, on any message, is the click-to-WhatsApp
// ad it came from; Forwarded and FrequentlyForwarded mark a forward
// (inbound_more.go).
type Inbound struct {
	Type        string  `json:"type"`
	Text        string  `json:"text,omitempty"`
	ID          string  `json:"id,omitempty"`
	Title       string  `json:"title,omitempty"`
	Description string  `json:"description,omitempty"`
	Payload     string  `json:"payload,omitempty"`
	Context     string  `json:"context,omitempty"`
	Latitude    float64 `json:"latitude,omitempty"`
	Longitude   float64 `json:"longitude,omitempty"`
	Name        string  `json:"name,omitempty"`
	Address     string  `json:"address,omitempty"`
	MediaID     string  `json:"media_id,omitempty"`
	MIMEType    string  `json:"mime_type,omitempty"`
	Data        []byte  `json:"data,omitempty"`
	Filename    string  `json:"filename,omitempty"`
	Voice       bool    `json:"voice,omitempty"`
	Emoji       string  `json:"emoji,omitempty"`

	Contacts            []json.RawMessage `json:"contacts,omitempty"`
	Order               json.RawMessage   `json:"order,omitempty"`
	Response            json.RawMessage   `json:"response,omitempty"`
	SystemType          string            `json:"system_type,omitempty"`
	NewWaID             string            `json:"new_wa_id,omitempty"`
	UnsupportedType     string            `json:"unsupported_type,omitempty"`
	Referral            *Referral         `json:"referral,omitempty"`
	Forwarded           bool              `json:"forwarded,omitempty"`
	FrequentlyForwarded bool              `json:"frequently_forwarded,omitempty"`
}

// Text is a text message from a customer.
func Text(body string) Inbound { return Inbound{Type: "text", Text: body} }

// ButtonReply is a tap on reply button id of the business message wamid.
func ButtonReply(wamid, id, title string) Inbound {
	return Inbound{Type: "button_reply", Context: wamid, ID: id, Title: title}
}

// ListReply is the choice of row id in the list message wamid.
func ListReply(wamid, id, title string) Inbound {
	return Inbound{Type: "list_reply", Context: wamid, ID: id, Title: title}
}

// QuickReply is a tap on a template's quick-reply button: payload is what
// the business set in the send, text the button's label.
func QuickReply(wamid, payload, text string) Inbound {
	return Inbound{Type: "button", Context: wamid, Payload: payload, Text: text}
}

// Location is a shared location.
func Location(lat, lon float64, name, address string) Inbound {
	return Inbound{Type: "location", Latitude: lat, Longitude: lon, Name: name, Address: address}
}

// MediaMessage is an image, video, audio, document or sticker with the
// given bytes, which the business can then download.
func MediaMessage(typ, mimeType string, data []byte, caption string) Inbound {
	return Inbound{Type: typ, MIMEType: mimeType, Data: data, Text: caption}
}

// Reaction is an emoji reaction to the business message wamid ("" removes it).
func Reaction(wamid, emoji string) Inbound {
	return Inbound{Type: "reaction", Context: wamid, Emoji: emoji}
}

// ErrBadInbound is returned by CustomerSays for a message it cannot build.
var ErrBadInbound = errors.New("sandbox: invalid customer message")

func (in *Inbound) check() error {
	bad := func(why string) error { return fmt.Errorf("%w: %s: %s", ErrBadInbound, in.Type, why) }
	switch in.Type {
	case "text":
		if in.Text == "" {
			return bad("text is required")
		}
	case "button":
		if in.Payload == "" && in.Text == "" {
			return bad("payload or text is required")
		}
	case "button_reply", "list_reply":
		if in.ID == "" {
			return bad("id is required")
		}
	case "location":
	case "image", "video", "audio", "document", "sticker":
		if in.MediaID == "" && len(in.Data) == 0 {
			return bad("data or media_id is required")
		}
	case "reaction":
		if in.Context == "" {
			return bad("context (the message reacted to) is required")
		}
	default:
		return in.checkMore(bad)
	}
	return nil
}

// summary is the text shown in logs and transcripts.
func (in *Inbound) summary() string {
	switch in.Type {
	case "button_reply", "list_reply":
		return in.Title
	case "button":
		return in.Text
	case "location":
		return strings.TrimSpace(fmt.Sprintf("%g,%g %s", in.Latitude, in.Longitude, in.Name))
	case "reaction":
		return in.Emoji
	}
	if s := in.summaryMore(); s != "" {
		return s
	}
	return in.Text
}

// CustomerSays delivers a message from the customer id (wa_id, or a BSUID
// for a phone-less customer) to the business: it opens or resets the
// customer's 24-hour window and posts the messages webhook, shaped as Meta
// shapes it. It returns the message's wamid.
func (s *Sandbox) CustomerSays(id string, in Inbound) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errors.New("sandbox: closed")
	}
	now := s.clock.Now()
	c := s.customerLocked(id)
	if err := s.checkOwnLocked(c, &in); err != nil {
		s.mu.Unlock()
		return "", err
	}
	if len(in.Data) > 0 {
		mime := in.MIMEType
		if mime == "" {
			mime = defaultMIME[in.Type]
		}
		in.MIMEType = mime
		in.MediaID = s.storeMediaLocked(in.Data, mime, in.Filename)
	}
	wamid := s.newWAMID(c)
	// Inbound traffic counts against the number's throughput too (§4.7);
	// it is never refused, it only leaves fewer tokens for sends.
	if s.throughput != nil {
		s.throughput.take(now)
	}
	c.lastInbound = now
	s.inbound[wamid] = c
	c.turns = append(c.turns, &Turn{Time: now, From: "customer", WAMID: wamid, Type: in.Type,
		Text: in.summary(), Status: "received"})
	s.recordLocked(Entry{Kind: KindInbound, WAMID: wamid, To: id, Type: in.Type, Body: in.summary()})
	payload := s.inboundWebhookLocked(c, wamid, in, now)
	s.afterInboundLocked(c, in)
	s.mu.Unlock()
	s.hooks.push(payload)
	return wamid, nil
}

var defaultMIME = map[string]string{
	"image":    "image/jpeg",
	"video":    "video/mp4",
	"audio":    "audio/ogg; codecs=opus",
	"document": "application/pdf",
	"sticker":  "image/webp",
}

// bsuidPattern matches business-scoped user ids ("US.1349…", parent
// "US.ENT.1181…"): docs/whatsapp.md §1.4.
var bsuidPattern = regexp.MustCompile(`^[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}$`)
