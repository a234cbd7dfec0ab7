package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Signature returns the X-Hub-Signature-256 value Meta sends with a webhook:
// "sha256=" + hex(HMAC-SHA256(appSecret, body)), over the raw body bytes.
func Signature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// asciiJSON rewrites every non-ASCII character of a JSON document as a
// \uXXXX escape (lowercase hex, surrogate pairs beyond the BMP), as Meta
// does: receivers that verify the signature over re-encoded JSON instead
// of the raw bytes fail on such payloads, which is the point.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(b[0])
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out.Bytes()
}

// marshalWebhook encodes a webhook body the way Meta does: no HTML
// escaping, non-ASCII escaped.
func marshalWebhook(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("sandbox: webhook does not encode: %v", err))
	}
	return asciiJSON(bytes.TrimRight(buf.Bytes(), "\n"))
}

// webhookQueue posts webhooks one at a time, in order, retrying a post
// answered with anything but 200 with exponential backoff, a bounded
// number of times.
type webhookQueue struct {
	s       *Sandbox
	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	current []byte // being delivered, not yet answered 200
	busy    bool
	stopped bool
	stop    chan struct{}
	done    chan struct{}
}

func newWebhookQueue(s *Sandbox) *webhookQueue {
	q := &webhookQueue{s: s, stop: make(chan struct{}), done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.run()
	return q
}

func (q *webhookQueue) push(body []byte) {
	q.mu.Lock()
	if !q.stopped {
		q.queue = append(q.queue, body)
		q.cond.Signal()
	}
	q.mu.Unlock()
	q.s.changed() // Persist keeps it until it is delivered
}

// pending returns the webhooks not yet answered 200, in order: the one
// being delivered, then the queue. After close, those close cut short.
func (q *webhookQueue) pending() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out [][]byte
	if q.current != nil {
		out = append(out, q.current)
	}
	return append(out, q.queue...)
}

func (q *webhookQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue) == 0 && !q.busy
}

func (q *webhookQueue) close() {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	q.stopped = true
	close(q.stop)
	q.cond.Broadcast()
	q.mu.Unlock()
	<-q.done
}

func (q *webhookQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for len(q.queue) == 0 && !q.stopped {
			q.cond.Wait()
		}
		if q.stopped {
			q.mu.Unlock() // the queue stays: pending() hands it to Persist
			return
		}
		body := q.queue[0]
		q.queue = q.queue[1:]
		q.busy, q.current = true, body
		q.mu.Unlock()

		done := q.deliver(body)

		q.mu.Lock()
		q.busy = false
		if done {
			q.current = nil
		}
		q.mu.Unlock()
		if done {
			q.s.changed()
		}
	}
}

// deliver posts body until it is answered 200 or the retries run out; it
// returns false when the sandbox closed first.
func (q *webhookQueue) deliver(body []byte) bool {
	cfg := q.s.cfg
	if cfg.WebhookURL == "" {
		q.s.record(Entry{Kind: KindWebhook, Reason: "no webhook URL configured", Raw: body})
		return true
	}
	backoff := cfg.WebhookBackoff
	attempts := 1 + max(0, cfg.WebhookRetries)
	for attempt := 1; attempt <= attempts; attempt++ {
		status, err := q.post(cfg, body)
		e := Entry{Kind: KindWebhook, HTTPStatus: status, Attempt: attempt, Raw: body}
		if err != nil {
			e.Reason = err.Error()
		}
		if status == http.StatusOK {
			q.s.record(e)
			return true
		}
		if attempt == attempts {
			e.Reason = "dropped after " + strconv.Itoa(attempts) + " attempts"
			q.s.record(e)
			return true
		}
		q.s.record(e)
		select {
		case <-q.stop:
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxWebhookBackoff)
	}
	return true // not reached: the last attempt returns
}

func (q *webhookQueue) post(cfg Config, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", Signature(cfg.AppSecret, body))
	resp, err := cfg.WebhookClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// ---- payloads -------------------------------------------------------------

type envelope struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Time    int64    `json:"time,omitempty"`
	Changes []change `json:"changes"`
}

type change struct {
	Value any    `json:"value"`
	Field string `json:"field"`
}

type metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type hookContact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username,omitempty"`
	} `json:"profile"`
	WaID   string `json:"wa_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

type messagesValue struct {
	MessagingProduct string          `json:"messaging_product"`
	Metadata         metadata        `json:"metadata"`
	Contacts         []hookContact   `json:"contacts,omitempty"`
	Messages         []hookMessage   `json:"messages,omitempty"`
	Statuses         []hookStatus    `json:"statuses,omitempty"`
	Errors           []hookErrorBody `json:"errors,omitempty"`
}

type hookMessage struct {
	Context     *hookContext   `json:"context,omitempty"`
	From        string         `json:"from,omitempty"`
	FromUserID  string         `json:"from_user_id,omitempty"`
	ID          string         `json:"id"`
	Timestamp   string         `json:"timestamp"`
	Type        string         `json:"type"`
	Text        *hookText      `json:"text,omitempty"`
	Button      *hookButton    `json:"button,omitempty"`
	Interactive map[string]any `json:"interactive,omitempty"`
	Location    map[string]any `json:"location,omitempty"`
	Image       map[string]any `json:"image,omitempty"`
	Video       map[string]any `json:"video,omitempty"`
	Audio       map[string]any `json:"audio,omitempty"`
	Document    map[string]any `json:"document,omitempty"`
	Sticker     map[string]any `json:"sticker,omitempty"`
	Reaction    map[string]any `json:"reaction,omitempty"`
	// The other inbound types (inbound_more.go).
	Contacts    []json.RawMessage `json:"contacts,omitempty"`
	Order       json.RawMessage   `json:"order,omitempty"`
	System      map[string]any    `json:"system,omitempty"`
	Unsupported map[string]any    `json:"unsupported,omitempty"`
	Edit        map[string]any    `json:"edit,omitempty"`
	Revoke      map[string]any    `json:"revoke,omitempty"`
	Referral    *Referral         `json:"referral,omitempty"`
	Errors      []hookErrorBody   `json:"errors,omitempty"`
}

type hookContext struct {
	From                string `json:"from,omitempty"`
	ID                  string `json:"id,omitempty"`
	Forwarded           bool   `json:"forwarded,omitempty"`
	FrequentlyForwarded bool   `json:"frequently_forwarded,omitempty"`
}

type hookText struct {
	Body string `json:"body"`
}

type hookButton struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

type hookStatus struct {
	ID                    string          `json:"id"`
	Status                string          `json:"status"`
	Timestamp             string          `json:"timestamp"`
	RecipientID           string          `json:"recipient_id,omitempty"`
	RecipientUserID       string          `json:"recipient_user_id,omitempty"`
	BizOpaqueCallbackData string          `json:"biz_opaque_callback_data,omitempty"`
	Conversation          *hookConv       `json:"conversation,omitempty"`
	Pricing               *hookPricing    `json:"pricing,omitempty"`
	Errors                []hookErrorBody `json:"errors,omitempty"`
}

type hookConv struct {
	ID                  string `json:"id"`
	ExpirationTimestamp string `json:"expiration_timestamp,omitempty"`
	Origin              struct {
		Type string `json:"type"`
	} `json:"origin"`
}

type hookPricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Type         string `json:"type"`
	Category     string `json:"category"`
}

type hookErrorBody struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href"`
}

const errorHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

func unixString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func (s *Sandbox) contactOf(c *customer) hookContact {
	var hc hookContact
	hc.Profile.Name = c.Name
	hc.Profile.Username = c.Username
	hc.UserID = c.UserID
	if !c.HidePhone {
		hc.WaID = c.WaID
	}
	return hc
}

func (s *Sandbox) messagesEnvelope(v messagesValue) []byte {
	v.MessagingProduct = "whatsapp"
	v.Metadata = metadata{DisplayPhoneNumber: s.cfg.DisplayPhoneNumber, PhoneNumberID: s.cfg.PhoneNumberID}
	return marshalWebhook(envelope{Object: "whatsapp_business_account", Entry: []entry{{
		ID: s.cfg.WABAID, Changes: []change{{Value: v, Field: "messages"}},
	}}})
}

// inboundWebhookLocked builds the messages webhook of a customer message.
func (s *Sandbox) inboundWebhookLocked(c *customer, wamid string, in Inbound, now time.Time) []byte {
	m := hookMessage{ID: wamid, Timestamp: unixString(now), Type: in.Type, FromUserID: c.UserID}
	if !c.HidePhone {
		m.From = c.WaID
	}
	if in.Context != "" && in.Type != "reaction" && in.Type != "edit" && in.Type != "revoke" {
		m.Context = &hookContext{From: s.cfg.DisplayPhoneNumber, ID: in.Context}
	}
	media := func() map[string]any {
		o := map[string]any{"id": in.MediaID, "mime_type": in.MIMEType}
		if mo := s.media[in.MediaID]; mo != nil {
			o["sha256"] = mo.sha256B64
		}
		if in.Text != "" && (in.Type == "image" || in.Type == "video" || in.Type == "document") {
			o["caption"] = in.Text
		}
		if in.Filename != "" && in.Type == "document" {
			o["filename"] = in.Filename
		}
		if in.Type == "audio" {
			o["voice"] = in.Voice
		}
		if in.Type == "sticker" {
			o["animated"] = false
		}
		return o
	}
	switch in.Type {
	case "text":
		m.Text = &hookText{Body: in.Text}
	case "button":
		m.Button = &hookButton{Payload: in.Payload, Text: in.Text}
	case "button_reply":
		m.Type = "interactive"
		m.Interactive = map[string]any{"type": "button_reply",
			"button_reply": map[string]string{"id": in.ID, "title": in.Title}}
	case "list_reply":
		m.Type = "interactive"
		reply := map[string]string{"id": in.ID, "title": in.Title}
		if in.Description != "" {
			reply["description"] = in.Description
		}
		m.Interactive = map[string]any{"type": "list_reply", "list_reply": reply}
	case "location":
		loc := map[string]any{"latitude": in.Latitude, "longitude": in.Longitude}
		if in.Name != "" {
			loc["name"] = in.Name
		}
		if in.Address != "" {
			loc["address"] = in.Address
		}
		m.Location = loc
	case "image":
		m.Image = media()
	case "video":
		m.Video = media()
	case "audio":
		m.Audio = media()
	case "document":
		m.Document = media()
	case "sticker":
		m.Sticker = media()
	case "reaction":
		m.Reaction = map[string]any{"message_id": in.Context, "emoji": in.Emoji}
	default:
		s.moreWebhookLocked(&m, in)
	}
	m.Referral = in.Referral
	if in.Forwarded || in.FrequentlyForwarded {
		if m.Context == nil {
			m.Context = &hookContext{}
		}
		m.Context.Forwarded, m.Context.FrequentlyForwarded = true, in.FrequentlyForwarded
	}
	return s.messagesEnvelope(messagesValue{Contacts: []hookContact{s.contactOf(c)}, Messages: []hookMessage{m}})
}

// statusWebhookLocked builds the status webhook of an outbound message.
func (s *Sandbox) statusWebhookLocked(m *message, status string, failure *failure, now time.Time) []byte {
	st := hookStatus{ID: m.wamid, Status: status, Timestamp: unixString(now),
		BizOpaqueCallbackData: m.tracker}
	if m.byBSUID {
		st.RecipientUserID = m.cust.UserID
	} else {
		st.RecipientID = m.cust.WaID
	}
	if failure != nil {
		st.Errors = []hookErrorBody{failure.body()}
	} else {
		origin := "service"
		if m.category != "" {
			origin = m.category
		}
		st.Conversation = &hookConv{ID: m.convID}
		st.Conversation.Origin.Type = origin
		if status == "sent" {
			st.Conversation.ExpirationTimestamp = unixString(m.accepted.Add(24 * time.Hour))
		}
		// Per-message pricing (since 2025-07-01): templates are billed,
		// free-form replies inside the window are free (§4.3).
		p := &hookPricing{Billable: m.category != "", PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
		if m.category != "" {
			p.Type, p.Category = "regular", m.category
		}
		st.Pricing = p
	}
	return s.messagesEnvelope(messagesValue{Contacts: []hookContact{s.contactOf(m.cust)}, Statuses: []hookStatus{st}})
}

// failure is an asynchronous send failure, reported in a failed status.
type failure struct {
	code           int
	title, details string
}

func (f *failure) body() hookErrorBody {
	b := hookErrorBody{Code: f.code, Title: f.title, Message: f.title, Href: errorHref}
	b.ErrorData.Details = f.details
	return b
}

// Meta's asynchronous failures the sandbox produces (docs/whatsapp.md §3).
var (
	failWindowClosed = failure{131047, "Re-engagement message",
		"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
	failUndeliverable = failure{131026, "Message undeliverable",
		"Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number."}
	failMarketingOptOut = failure{131050, "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
		"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."}
)

// templateWebhook builds a message_template_status_update webhook.
func (s *Sandbox) templateWebhook(t *template, reason string, now time.Time) []byte {
	id, _ := strconv.ParseInt(t.ID, 10, 64) // Meta sends the id as a number here
	v := map[string]any{
		"event":                     t.Status,
		"message_template_id":       id,
		"message_template_name":     t.Name,
		"message_template_language": t.Language,
		"reason":                    reason,
		"message_template_category": t.Category,
	}
	if t.Status == "REJECTED" && reason == "INVALID_FORMAT" {
		v["rejection_info"] = map[string]string{"reason": t.rejectionDetail,
			"recommendation": "Fix the template and submit it again."}
	}
	return marshalWebhook(envelope{Object: "whatsapp_business_account", Entry: []entry{{
		ID: s.cfg.WABAID, Time: now.Unix(),
		Changes: []change{{Value: v, Field: "message_template_status_update"}},
	}}})
}
