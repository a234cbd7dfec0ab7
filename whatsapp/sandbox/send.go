package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// message is an accepted outbound message.
type message struct {
	wamid    string
	cust     *customer
	byBSUID  bool
	typ      string
	body     string
	tracker  string // biz_opaque_callback_data, echoed in statuses
	category string // template category in lower case; "" for free-form
	convID   string
	accepted time.Time
	status   string
	turn     *Turn
}

// sendRequest is the sandbox's own reading of a /messages body: sends and
// mark-as-read share the endpoint.
type sendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Recipient        string `json:"recipient"`
	Type             string `json:"type"`
	Context          *struct {
		MessageID string `json:"message_id"`
	} `json:"context"`
	BizOpaque string `json:"biz_opaque_callback_data"`

	Text *struct {
		Body       string `json:"body"`
		PreviewURL bool   `json:"preview_url"`
	} `json:"text"`
	Image    *mediaReq `json:"image"`
	Video    *mediaReq `json:"video"`
	Audio    *mediaReq `json:"audio"`
	Document *mediaReq `json:"document"`
	Sticker  *mediaReq `json:"sticker"`
	Location *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
		Name      string   `json:"name"`
	} `json:"location"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
	} `json:"contacts"`
	Interactive *interactiveReq `json:"interactive"`
	Template    *templateReq    `json:"template"`
	Reaction    *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`

	// mark as read (§2.4)
	Status          string `json:"status"`
	MessageID       string `json:"message_id"`
	TypingIndicator *struct {
		Type string `json:"type"`
	} `json:"typing_indicator"`
}

type mediaReq struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type interactiveReq struct {
	Type   string `json:"type"`
	Header *struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"header"`
	Body *struct {
		Text string `json:"text"`
	} `json:"body"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Action struct {
		Buttons []struct {
			Type  string `json:"type"`
			Reply struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"reply"`
		} `json:"buttons"`
		Button   string `json:"button"`
		Sections []struct {
			Title string `json:"title"`
			Rows  []struct {
				ID          string `json:"id"`
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"rows"`
			// A product_list's sections hold products, not rows.
			ProductItems []struct {
				ProductRetailerID string `json:"product_retailer_id"`
			} `json:"product_items"`
		} `json:"sections"`
		Name       string `json:"name"`
		Parameters *struct {
			DisplayText string `json:"display_text"`
			URL         string `json:"url"`
		} `json:"parameters"`
		// product, product_list and catalog_message
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"action"`
}

// Limits of product messages (docs/whatsapp.md §2.3).
const (
	maxProductSections = 10
	maxProductItems    = 30
)

// Limits the sandbox checks, as Meta does (docs/whatsapp.md §2.3).
const (
	maxTextBody      = 4096
	maxCaption       = 1024
	maxBodyText      = 1024
	maxHeaderText    = 60
	maxFooterText    = 60
	maxButtons       = 3
	maxButtonTitle   = 20
	maxButtonID      = 256
	maxListButton    = 20
	maxSections      = 10
	maxRowsTotal     = 10
	maxSectionTitle  = 24
	maxRowID         = 200
	maxRowTitle      = 24
	maxRowDesc       = 72
	maxCTADisplay    = 20
	maxBizOpaqueSize = 512
)

var phonePattern = regexp.MustCompile(`^\d{7,15}$`)

// normalizePhone strips what people put in phone numbers.
func normalizePhone(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
}

func invalid(details string) *metaErr {
	return newErr(131009, "Parameter value is not valid", details)
}

func missing(details string) *metaErr {
	return newErr(131008, "Required parameter is missing", details)
}

func tooLong(field, s string, max int) *metaErr {
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(fmt.Sprintf("%s is %d characters long, at most %d are allowed", field, n, max))
	}
	return nil
}

// handleMessages serves POST /{phone_number_id}/messages.
func (s *Sandbox) handleMessages(w http.ResponseWriter, r *http.Request, body []byte) *metaErr {
	if r.PathValue("id") != s.cfg.PhoneNumberID {
		return unknownObject("post", r.PathValue("id"))
	}
	var req sendRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "request body is not valid JSON: " + err.Error()}
	}
	if req.MessagingProduct != "whatsapp" {
		return &metaErr{http: 400, code: 100, msg: "(#100) The parameter messaging_product is required."}
	}
	if req.Status != "" || req.MessageID != "" {
		return s.markRead(w, &req)
	}
	if req.Type == "" {
		req.Type = "text" // Meta's default when type is omitted
	}
	if e := checkSend(&req, s.cfg.DisplayPhoneNumber); e != nil {
		s.reject(req.To+req.Recipient, req.Type, e)
		return e
	}

	s.mu.Lock()
	now := s.clock.Now()
	id := normalizePhone(req.To)
	if req.Recipient != "" {
		id = req.Recipient
	}
	// A BSUID the sandbox never saw belongs to nobody: Meta accepts the
	// send and then reports it undeliverable.
	unknownBSUID := req.Recipient != "" && s.customers[id] == nil
	cust := s.customerLocked(id)
	inj := s.takeInjectionLocked(id)
	if inj != nil && !inj.Drop {
		s.mu.Unlock()
		e := inj.err()
		s.reject(id, req.Type, e)
		return e
	}
	if s.throughput != nil && !s.throughput.take(now) {
		s.mu.Unlock()
		e := newErr(130429, "Rate limit hit", "Cloud API message throughput has been reached.")
		s.reject(id, req.Type, e)
		return e
	}
	if s.cfg.PairInterval > 0 && !s.pairBucket(cust).take(now) {
		s.mu.Unlock()
		e := newErr(131056, "(Business Account, Consumer Account) pair rate limit hit",
			"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.")
		s.reject(id, req.Type, e)
		return e
	}
	category := ""
	if req.Type == "template" {
		t, e := s.checkTemplateSendLocked(req.Template)
		if e != nil {
			s.mu.Unlock()
			s.reject(id, req.Type, e)
			return e
		}
		category = strings.ToLower(t.Category)
	}

	m := &message{
		wamid: s.newWAMID(cust), cust: cust, byBSUID: req.Recipient != "", typ: req.Type,
		body: summarize(&req), tracker: req.BizOpaque, category: category,
		convID: fmt.Sprintf("%032x", s.nextID()), accepted: now, status: "accepted",
	}
	m.turn = &Turn{Time: now, From: "business", WAMID: m.wamid, Type: m.typ, Text: m.body, Status: "accepted"}
	cust.turns = append(cust.turns, m.turn)
	s.messages[m.wamid] = m
	s.recordLocked(Entry{Kind: KindAccepted, WAMID: m.wamid, To: id, Type: m.typ, Body: m.body, Raw: json.RawMessage(body)})

	// What Meta decides after answering 200 (docs/whatsapp.md §8, fact 1).
	var fail *failure
	switch {
	case cust.Undeliverable || unknownBSUID:
		fail = &failUndeliverable
	case req.Type != "template" && !cust.windowOpen(now, s.cfg.Window):
		fail = &failWindowClosed
	case category == "marketing" && cust.MarketingOptOut:
		fail = &failMarketingOptOut
	}
	s.mu.Unlock()

	contact := map[string]string{"input": req.To, "wa_id": cust.WaID}
	if req.Recipient != "" {
		contact = map[string]string{"input": req.Recipient, "user_id": cust.UserID}
	}
	resp := map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{contact},
		"messages":          []map[string]string{{"id": m.wamid, "message_status": "accepted"}},
	}
	if inj != nil && inj.Drop {
		dropConnection(w)
	} else {
		writeJSON(w, http.StatusOK, resp)
	}
	s.scheduleStatuses(m, fail)
	return nil
}

// dropConnection closes the client's connection without an answer: the
// send happened but the client cannot know (an ambiguous outcome).
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// reject logs a refused send.
func (s *Sandbox) reject(to, typ string, e *metaErr) {
	s.record(Entry{Kind: KindRejected, To: to, Type: typ, Code: e.code, HTTPStatus: e.http, Reason: e.msg + ": " + e.details})
}

func unknownObject(verb, id string) *metaErr {
	return &metaErr{http: 400, code: 100, subcode: 33, typ: "GraphMethodException",
		msg: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", verb, id)}
}

// newWAMID returns a fresh wamid (under s.mu). Real wamids are base64 of
// a binary id; these are base64 of a readable one, stable across runs.
func (s *Sandbox) newWAMID(c *customer) string {
	who := c.WaID
	if who == "" {
		who = c.UserID
	}
	raw := fmt.Sprintf("SBX.%s.%08d", who, s.nextID())
	return "wamid." + base64.StdEncoding.EncodeToString([]byte(raw))
}

// summarize is what the log and the transcript show of a send.
func summarize(req *sendRequest) string {
	switch req.Type {
	case "text":
		return req.Text.Body
	case "image", "video", "audio", "document", "sticker":
		m := req.media()
		if m.Caption != "" {
			return m.Caption
		}
		if m.ID != "" {
			return m.ID
		}
		return m.Link
	case "interactive":
		if req.Interactive.Body != nil {
			return req.Interactive.Body.Text
		}
	case "template":
		return req.Template.Name
	case "reaction":
		return req.Reaction.Emoji
	case "location":
		return req.Location.Name
	case "contacts":
		return req.Contacts[0].Name.FormattedName
	}
	return ""
}

func (req *sendRequest) media() *mediaReq {
	switch req.Type {
	case "image":
		return req.Image
	case "video":
		return req.Video
	case "audio":
		return req.Audio
	case "document":
		return req.Document
	case "sticker":
		return req.Sticker
	}
	return nil
}

// checkSend validates a send body as Meta does: 100 for the envelope,
// 131008 for a missing required parameter, 131009 for a bad value, 131051
// for an unknown type.
func checkSend(req *sendRequest, business string) *metaErr {
	switch {
	case req.To == "" && req.Recipient == "":
		return &metaErr{http: 400, code: 100, msg: "(#100) The parameter to is required."}
	case req.To != "" && req.Recipient != "":
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "to and recipient cannot both be set"}
	case req.RecipientType != "" && req.RecipientType != "individual" && req.RecipientType != "group":
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "recipient_type must be individual or group"}
	case req.To != "" && !phonePattern.MatchString(normalizePhone(req.To)):
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "Invalid 'to' parameter"}
	case req.Recipient != "" && !bsuidPattern.MatchString(req.Recipient):
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "Invalid 'recipient' parameter"}
	case req.To != "" && normalizePhone(req.To) == business:
		return newErr(131021, "Recipient cannot be sender", "Sender and recipient phone number is the same.")
	case len(req.BizOpaque) > maxBizOpaqueSize:
		return invalid(fmt.Sprintf("biz_opaque_callback_data is %d bytes, at most %d are allowed", len(req.BizOpaque), maxBizOpaqueSize))
	case req.Context != nil && req.Context.MessageID == "":
		return missing("Parameter 'context.message_id' is required")
	}
	present := map[string]bool{
		"text": req.Text != nil, "image": req.Image != nil, "video": req.Video != nil,
		"audio": req.Audio != nil, "document": req.Document != nil, "sticker": req.Sticker != nil,
		"location": req.Location != nil, "contacts": len(req.Contacts) > 0,
		"interactive": req.Interactive != nil, "template": req.Template != nil, "reaction": req.Reaction != nil,
	}
	has, known := present[req.Type]
	if !known {
		return newErr(131051, "Unsupported message type", fmt.Sprintf("Message type %q is not supported.", req.Type))
	}
	if !has {
		return missing(fmt.Sprintf("Parameter '%s' is required", req.Type))
	}
	for typ, p := range present {
		if p && typ != req.Type {
			return invalid(fmt.Sprintf("Parameter '%s' is not allowed for messages of type '%s'", typ, req.Type))
		}
	}
	switch req.Type {
	case "text":
		if req.Text.Body == "" {
			return missing("Parameter 'text.body' is required")
		}
		return tooLong("text.body", req.Text.Body, maxTextBody)
	case "image", "video", "audio", "document", "sticker":
		m := req.media()
		switch {
		case m.ID == "" && m.Link == "":
			return missing(fmt.Sprintf("Parameter '%s.id' or '%s.link' is required", req.Type, req.Type))
		case m.ID != "" && m.Link != "":
			return invalid(fmt.Sprintf("Only one of '%s.id' and '%s.link' may be set", req.Type, req.Type))
		case m.Link != "" && !strings.HasPrefix(m.Link, "https://") && !strings.HasPrefix(m.Link, "http://"):
			return invalid(req.Type + ".link must be an http(s) URL")
		case m.Caption != "" && (req.Type == "audio" || req.Type == "sticker"):
			return invalid(req.Type + " messages cannot have a caption")
		case m.Filename != "" && req.Type != "document":
			return invalid("filename is only allowed on documents")
		}
		return tooLong(req.Type+".caption", m.Caption, maxCaption)
	case "location":
		if req.Location.Latitude == nil || req.Location.Longitude == nil {
			return missing("Parameters 'location.latitude' and 'location.longitude' are required")
		}
	case "contacts":
		for i, c := range req.Contacts {
			if c.Name.FormattedName == "" {
				return missing(fmt.Sprintf("Parameter 'contacts[%d].name.formatted_name' is required", i))
			}
		}
	case "reaction":
		if req.Reaction.MessageID == "" {
			return missing("Parameter 'reaction.message_id' is required")
		}
	case "interactive":
		return checkInteractive(req.Interactive)
	case "template":
		if req.Template.Name == "" || req.Template.Language.Code == "" {
			return missing("Parameters 'template.name' and 'template.language.code' are required")
		}
	}
	return nil
}

func checkInteractive(in *interactiveReq) *metaErr {
	if in.Header != nil {
		if e := tooLong("interactive.header.text", in.Header.Text, maxHeaderText); e != nil {
			return e
		}
	}
	if in.Footer != nil {
		if e := tooLong("interactive.footer.text", in.Footer.Text, maxFooterText); e != nil {
			return e
		}
	}
	if (in.Body == nil || in.Body.Text == "") && in.Type != "product" {
		return missing("Parameter 'interactive.body.text' is required")
	}
	if in.Body != nil {
		if e := tooLong("interactive.body.text", in.Body.Text, maxBodyText); e != nil {
			return e
		}
	}
	a := in.Action
	switch in.Type {
	case "button":
		if n := len(a.Buttons); n < 1 || n > maxButtons {
			return invalid(fmt.Sprintf("interactive.action.buttons has %d buttons, 1 to %d are allowed", n, maxButtons))
		}
		seen := map[string]bool{}
		for i, b := range a.Buttons {
			if b.Type != "reply" || b.Reply.ID == "" || b.Reply.Title == "" {
				return missing(fmt.Sprintf("buttons[%d] needs type \"reply\", reply.id and reply.title", i))
			}
			if e := tooLong(fmt.Sprintf("buttons[%d].reply.title", i), b.Reply.Title, maxButtonTitle); e != nil {
				return e
			}
			if e := tooLong(fmt.Sprintf("buttons[%d].reply.id", i), b.Reply.ID, maxButtonID); e != nil {
				return e
			}
			if seen["id:"+b.Reply.ID] || seen["title:"+b.Reply.Title] {
				return invalid("Button ids and titles must be unique")
			}
			seen["id:"+b.Reply.ID], seen["title:"+b.Reply.Title] = true, true
		}
	case "list":
		// A list's header is text only (Meta: 131009).
		if in.Header != nil && in.Header.Type != "text" {
			return invalid(fmt.Sprintf("interactive.header.type %q is not allowed on a list; only text", in.Header.Type))
		}
		if a.Button == "" {
			return missing("Parameter 'interactive.action.button' is required")
		}
		if e := tooLong("interactive.action.button", a.Button, maxListButton); e != nil {
			return e
		}
		if n := len(a.Sections); n < 1 || n > maxSections {
			return invalid(fmt.Sprintf("list has %d sections, 1 to %d are allowed", n, maxSections))
		}
		rows := 0
		for i, sec := range a.Sections {
			if len(a.Sections) > 1 && sec.Title == "" {
				return missing(fmt.Sprintf("sections[%d].title is required when there are several sections", i))
			}
			if e := tooLong(fmt.Sprintf("sections[%d].title", i), sec.Title, maxSectionTitle); e != nil {
				return e
			}
			for j, row := range sec.Rows {
				f := fmt.Sprintf("sections[%d].rows[%d]", i, j)
				if row.ID == "" || row.Title == "" {
					return missing(f + " needs id and title")
				}
				for _, e := range []*metaErr{tooLong(f+".id", row.ID, maxRowID), tooLong(f+".title", row.Title, maxRowTitle),
					tooLong(f+".description", row.Description, maxRowDesc)} {
					if e != nil {
						return e
					}
				}
				rows++
			}
		}
		// The 10-row limit is across all sections (docs/whatsapp.md §2.3).
		if rows < 1 || rows > maxRowsTotal {
			return invalid(fmt.Sprintf("list has %d rows in total, 1 to %d are allowed", rows, maxRowsTotal))
		}
	case "cta_url":
		p := a.Parameters
		if a.Name != "cta_url" || p == nil || p.DisplayText == "" || p.URL == "" {
			return missing("cta_url needs action.name \"cta_url\", parameters.display_text and parameters.url")
		}
		return tooLong("parameters.display_text", p.DisplayText, maxCTADisplay)
	case "location_request_message":
		if a.Name != "send_location" {
			return missing("location_request_message needs action.name \"send_location\"")
		}
	case "flow":
		if a.Name != "flow" {
			return missing("flow needs action.name \"flow\"")
		}
	case "product":
		if in.Header != nil {
			return invalid("a single-product message has no header")
		}
		if a.CatalogID == "" || a.ProductRetailerID == "" {
			return missing("product needs action.catalog_id and action.product_retailer_id")
		}
	case "product_list":
		if in.Header == nil || in.Header.Type != "text" || in.Header.Text == "" {
			return missing("product_list needs a text header")
		}
		if a.CatalogID == "" {
			return missing("product_list needs action.catalog_id")
		}
		if n := len(a.Sections); n < 1 || n > maxProductSections {
			return invalid(fmt.Sprintf("product_list has %d sections, 1 to %d are allowed", n, maxProductSections))
		}
		items := 0
		for i, sec := range a.Sections {
			if sec.Title == "" {
				return missing(fmt.Sprintf("sections[%d].title is required", i))
			}
			for j, it := range sec.ProductItems {
				if it.ProductRetailerID == "" {
					return missing(fmt.Sprintf("sections[%d].product_items[%d].product_retailer_id is required", i, j))
				}
				items++
			}
		}
		if items < 1 || items > maxProductItems {
			return invalid(fmt.Sprintf("product_list has %d products, 1 to %d are allowed", items, maxProductItems))
		}
	case "catalog_message":
		if a.Name != "catalog_message" {
			return missing("catalog_message needs action.name \"catalog_message\"")
		}
	default:
		return invalid(fmt.Sprintf("interactive.type %q is not supported", in.Type))
	}
	return nil
}

// typingMaxAge is how old a customer's message may be for a typing
// indicator on it (spec/whatsapp.md §2.4: within 30 days of receipt).
const typingMaxAge = 30 * 24 * time.Hour

// markRead serves the mark-as-read (and typing indicator) form of /messages:
// the message must be one the number received (else 131009).
func (s *Sandbox) markRead(w http.ResponseWriter, req *sendRequest) *metaErr {
	if req.Status != "read" {
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "status must be \"read\""}
	}
	if req.MessageID == "" {
		return missing("Parameter 'message_id' is required")
	}
	if req.TypingIndicator != nil && req.TypingIndicator.Type != "text" {
		return invalid("typing_indicator.type must be \"text\"")
	}
	s.mu.Lock()
	c := s.inbound[req.MessageID]
	if c == nil {
		s.mu.Unlock()
		return invalid("Message ID " + req.MessageID + " is not a message received by this number")
	}
	typing := req.TypingIndicator != nil
	if typing {
		for _, t := range c.turns {
			if t.WAMID == req.MessageID && s.clock.Now().Sub(t.Time) > typingMaxAge {
				s.mu.Unlock()
				return invalid("a typing indicator may only be shown on a message received in the last 30 days")
			}
		}
	}
	// Marking one message read marks every earlier one read too (§2.4).
	for _, t := range c.turns {
		if t.From == "customer" {
			t.Status = "read"
		}
		if t.WAMID == req.MessageID {
			t.Typing = t.Typing || typing
			break
		}
	}
	id := c.WaID
	if id == "" {
		id = c.UserID
	}
	e := Entry{Kind: KindMarkRead, WAMID: req.MessageID, To: id}
	if typing {
		e.Body = "typing"
	}
	s.recordLocked(e)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// scheduleStatuses posts what becomes of an accepted message: a failed
// status, or (StatusAuto) sent, delivered and read, StatusDelay apart.
func (s *Sandbox) scheduleStatuses(m *message, fail *failure) {
	d := s.cfg.StatusDelay
	if fail != nil {
		s.after(d, func() { s.emitStatus(m, "failed", fail) })
		return
	}
	if s.cfg.Statuses != StatusAuto {
		return
	}
	s.after(d, func() {
		s.emitStatus(m, "sent", nil)
		s.after(d, func() {
			s.emitStatus(m, "delivered", nil)
			s.after(d, func() { s.emitStatus(m, "read", nil) })
		})
	})
}

func (s *Sandbox) emitStatus(m *message, status string, fail *failure) {
	s.mu.Lock()
	now := s.clock.Now()
	m.status = status
	m.turn.Status = status
	id := m.cust.WaID
	if m.byBSUID {
		id = m.cust.UserID
	}
	e := Entry{Kind: KindStatus, WAMID: m.wamid, To: id, Type: m.typ, Status: status}
	if fail != nil {
		m.turn.Code = fail.code
		e.Code = fail.code
		s.recordLocked(Entry{Kind: KindRejected, WAMID: m.wamid, To: id, Type: m.typ, Code: fail.code,
			Async: true, Reason: fail.title + ": " + fail.details})
	}
	s.recordLocked(e)
	payload := s.statusWebhookLocked(m, status, fail, now)
	s.mu.Unlock()
	s.hooks.push(payload)
}

// knownFailures lets SetStatus fail a message with Meta's wording.
var knownFailures = map[int]failure{
	131047: failWindowClosed,
	131026: failUndeliverable,
	131050: failMarketingOptOut,
	131049: {131049, "This message was not delivered to maintain healthy ecosystem engagement.",
		"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
	130472: {130472, "User's number is part of an experiment",
		"Failed to send message because this user's phone number is part of an experiment"},
	131000: {131000, "Something went wrong", "Something went wrong"},
}

// SetStatus posts a status webhook for the accepted message wamid:
// "sent", "delivered", "read" or "played"; or "failed" with Meta error
// code (131026 when 0).
func (s *Sandbox) SetStatus(wamid, status string, code int) error {
	s.mu.Lock()
	m := s.messages[wamid]
	s.mu.Unlock()
	if m == nil {
		return fmt.Errorf("sandbox: no accepted message %q", wamid)
	}
	switch status {
	case "sent", "delivered", "read", "played":
		s.emitStatus(m, status, nil)
	case "failed":
		if code == 0 {
			code = 131026
		}
		f, ok := knownFailures[code]
		if !ok {
			f = failure{code, "Error " + strconv.Itoa(code), "Failure injected by the sandbox"}
		}
		s.emitStatus(m, "failed", &f)
	default:
		return fmt.Errorf("sandbox: unknown status %q", status)
	}
	return nil
}

// Injection makes upcoming sends fail as told, to exercise a caller's
// error handling.
type Injection struct {
	// Code and HTTPStatus (default: Meta's for the code) of the error;
	// Message and Details its texts.
	Code       int    `json:"code,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Message    string `json:"message,omitempty"`
	Details    string `json:"details,omitempty"`
	// To limits the injection to sends to that customer.
	To string `json:"to,omitempty"`
	// Times is how many sends it affects (default 1).
	Times int `json:"times,omitempty"`
	// Drop accepts the send — the customer gets it — but closes the
	// connection without an answer: the client cannot know it was sent.
	Drop bool `json:"drop,omitempty"`
}

func (inj *Injection) err() *metaErr {
	e := newErr(inj.Code, inj.Message, inj.Details)
	if inj.Message == "" {
		e.msg = fmt.Sprintf("(#%d) Injected by the sandbox", inj.Code)
	}
	if inj.HTTPStatus != 0 {
		e.http = inj.HTTPStatus
	}
	return e
}

// Inject queues an injected failure for upcoming sends.
func (s *Sandbox) Inject(inj Injection) {
	if inj.Times <= 0 {
		inj.Times = 1
	}
	s.mu.Lock()
	s.injections = append(s.injections, &inj)
	s.mu.Unlock()
}

func (s *Sandbox) takeInjectionLocked(to string) *Injection {
	for i, inj := range s.injections {
		if inj.To != "" && inj.To != to {
			continue
		}
		inj.Times--
		if inj.Times == 0 {
			s.injections = append(s.injections[:i], s.injections[i+1:]...)
		}
		return inj
	}
	return nil
}
