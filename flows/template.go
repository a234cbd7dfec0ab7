package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TemplateRef names an approved template and the parameters to fill it
// with. Every text in it may hold {{ }} interpolations. The parts mirror a
// template's components (docs/flow-format.md, "Template parameters"):
//
//	{"name": "order_shipped", "language": "en_US",
//	 "header": [{"image": {"link": "https://shop.example/p/{{ vars.sku }}.jpg"}}],
//	 "body": [{"name": "first_name", "text": "{{ contact.name }}"},
//	          {"name": "total", "currency": {"code": "EUR", "amount_1000": "{{ vars.total_1000 }}", "fallback_value": "€{{ vars.total }}"}}],
//	 "buttons": [{"type": "url", "index": 0, "text": "{{ vars.order_id }}"},
//	             {"type": "quick_reply", "index": 1, "payload": "help"}]}
type TemplateRef struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	// Header fills the header: at most one parameter, text for a text
	// header, image / video / document / location for a media one.
	Header []TemplateParam `json:"header,omitempty"`
	// Body fills the body's variables: in order for a POSITIONAL template,
	// by Name (or, without names, in order of appearance) for a NAMED one.
	Body []TemplateParam `json:"body,omitempty"`
	// Buttons fill the template's dynamic buttons, each by its position.
	Buttons []TemplateButton `json:"buttons,omitempty"`
	// Cards fill a carousel template's cards, one per card, in order.
	Cards []TemplateCard `json:"cards,omitempty"`
	// OfferExpiresAt is when a limited-time offer ends: an RFC 3339 time or
	// Unix milliseconds, after interpolation.
	OfferExpiresAt string `json:"offer_expires_at,omitempty"`
}

// TemplateSend is a template with its parameters filled in: a TemplateRef
// whose texts are rendered.
type TemplateSend TemplateRef

// Kinds of template parameter, as WhatsApp names them.
const (
	ParamText     = "text"
	ParamCurrency = "currency"
	ParamDateTime = "date_time"
	ParamImage    = "image"
	ParamVideo    = "video"
	ParamDocument = "document"
	ParamLocation = "location"
)

// TemplateParam is one parameter of a header, body or card. Exactly one of
// Text, Currency, DateTime, Image, Video, Document and Location is set; the
// media kinds and Location fill a media header only. Name is the variable
// of a NAMED template ({{first_name}} → "first_name").
//
// In JSON a plain text parameter is a string ("Ann"), any other an object
// ({"name": "first_name", "text": "Ann"}, {"currency": {…}}).
type TemplateParam struct {
	Name     string            `json:"name,omitempty"`
	Text     string            `json:"text,omitempty"`
	Currency *TemplateCurrency `json:"currency,omitempty"`
	DateTime *TemplateDateTime `json:"date_time,omitempty"`
	Image    *TemplateMedia    `json:"image,omitempty"`
	Video    *TemplateMedia    `json:"video,omitempty"`
	Document *TemplateMedia    `json:"document,omitempty"`
	Location *TemplateLocation `json:"location,omitempty"`
}

// TemplateCurrency is a currency parameter. Amount1000 is the amount times
// 1000 (€12.99 → 12990): an integer after interpolation. FallbackValue is
// what WhatsApp shows where it cannot format the amount itself.
type TemplateCurrency struct {
	Code          string `json:"code"`
	Amount1000    Amount `json:"amount_1000"`
	FallbackValue string `json:"fallback_value"`
}

// Amount is a number written as a JSON number or as a string that may
// interpolate ("{{ vars.total_1000 }}").
type Amount string

// UnmarshalJSON accepts a number or a string.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Amount(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("amount_1000 must be a number or a string: %w", err)
	}
	*a = Amount(n.String())
	return nil
}

// MarshalJSON writes a literal integer as a number, anything else as a
// string.
func (a Amount) MarshalJSON() ([]byte, error) {
	if _, err := strconv.ParseInt(string(a), 10, 64); err == nil {
		return []byte(a), nil
	}
	return json.Marshal(string(a))
}

// TemplateDateTime is a date_time parameter: WhatsApp shows FallbackValue.
type TemplateDateTime struct {
	FallbackValue string `json:"fallback_value"`
}

// TemplateMedia is a media header's file: a public Link or an uploaded
// media ID; Filename names a document.
type TemplateMedia struct {
	Link     string `json:"link,omitempty"`
	ID       string `json:"id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// TemplateLocation is a location header.
type TemplateLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// TextParams makes plain text parameters.
func TextParams(texts ...string) []TemplateParam {
	if len(texts) == 0 {
		return nil
	}
	ps := make([]TemplateParam, len(texts))
	for i, s := range texts {
		ps[i] = TemplateParam{Text: s}
	}
	return ps
}

// Kind is the parameter's kind (ParamText …); "" when none is set, or
// "mixed" when more than one is.
func (p *TemplateParam) Kind() string {
	kind, n := ParamText, 0
	for _, k := range [...]struct {
		name string
		set  bool
	}{
		{ParamCurrency, p.Currency != nil}, {ParamDateTime, p.DateTime != nil}, {ParamImage, p.Image != nil},
		{ParamVideo, p.Video != nil}, {ParamDocument, p.Document != nil}, {ParamLocation, p.Location != nil},
	} {
		if k.set {
			kind, n = k.name, n+1
		}
	}
	if n > 1 || (n == 1 && p.Text != "") {
		return "mixed"
	}
	return kind // an empty text is a text: the checks report it
}

// Media returns the parameter's media, whichever kind it is, or nil.
func (p *TemplateParam) Media() *TemplateMedia {
	switch {
	case p.Image != nil:
		return p.Image
	case p.Video != nil:
		return p.Video
	case p.Document != nil:
		return p.Document
	}
	return nil
}

// Display is the parameter as a person reads it in a transcript line: the
// text, a currency's or date's fallback value, a media's link or id, a
// location's coordinates and name.
func (p *TemplateParam) Display() string {
	switch {
	case p.Currency != nil:
		return p.Currency.FallbackValue
	case p.DateTime != nil:
		return p.DateTime.FallbackValue
	case p.Location != nil:
		s := num(p.Location.Latitude) + "," + num(p.Location.Longitude)
		if p.Location.Name != "" {
			s += " " + p.Location.Name
		}
		return s
	case p.Media() != nil:
		if m := p.Media(); m.Link != "" {
			return m.Link
		}
		return p.Media().ID
	}
	return p.Text
}

// UnmarshalJSON reads a string as a text parameter and an object as is.
func (p *TemplateParam) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*p = TemplateParam{}
		return json.Unmarshal(b, &p.Text)
	}
	type plain TemplateParam
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = TemplateParam(q)
	return nil
}

// MarshalJSON writes a plain, unnamed text parameter as a string, so that
// flows written before named and typed parameters read the same.
func (p TemplateParam) MarshalJSON() ([]byte, error) {
	if (p == TemplateParam{Text: p.Text}) {
		return json.Marshal(p.Text)
	}
	type plain TemplateParam
	return json.Marshal(plain(p))
}

// Button kinds of a template send, as WhatsApp's sub_type names them, and
// ButtonOTP, an authentication template's one-time-password button.
const (
	ButtonQuickReply = "quick_reply"
	ButtonURL        = "url"
	ButtonCopyCode   = "copy_code"
	ButtonOTP        = "otp"
)

// TemplateButton fills one button of a template.
//
// With a Type, Index is the button's position among ALL the template's
// buttons, as WhatsApp counts it: a quick_reply takes a Payload, a url the
// Text appended to its URL, a copy_code or otp the Code.
//
// Without a Type (flows written before typed buttons) it is a quick reply
// and Index counts the template's quick-reply buttons only: {"index": 0}
// is the first quick reply wherever it stands. The registry turns it into
// the button's position before sending (docs/flow-format.md).
type TemplateButton struct {
	Type    string `json:"type,omitempty"`
	Index   int    `json:"index"`
	Payload string `json:"payload,omitempty"`
	Text    string `json:"text,omitempty"`
	Code    string `json:"code,omitempty"`
}

// Legacy reports whether the button is of the untyped form whose Index
// counts quick replies only.
func (b *TemplateButton) Legacy() bool { return b.Type == "" }

// Value is what the button is filled with: payload, URL text or code.
func (b *TemplateButton) Value() string {
	switch b.Type {
	case ButtonURL:
		return b.Text
	case ButtonCopyCode, ButtonOTP:
		return b.Code
	}
	return b.Payload
}

// TemplateCard fills one card of a carousel template: its media header,
// its body's variables and its buttons (positions count within the card).
type TemplateCard struct {
	Header  []TemplateParam  `json:"header,omitempty"`
	Body    []TemplateParam  `json:"body,omitempty"`
	Buttons []TemplateButton `json:"buttons,omitempty"`
}

// OfferExpiry reads a limited-time offer's end: an RFC 3339 time or Unix
// milliseconds.
func OfferExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("offer_expires_at %q is neither an RFC 3339 time nor Unix milliseconds", s)
	}
	return t, nil
}

// EachText calls fn on every text of the template that may interpolate,
// with its place relative to the template as a JSON pointer without its
// leading slash ("header/0", "body/1/text", "buttons/1/payload", …), in
// document order; fn may change the text.
func (t *TemplateRef) EachText(fn func(place string, s *string)) { eachTemplateText(t, fn) }

func eachTemplateText(t *TemplateRef, fn func(place string, s *string)) {
	params := func(prefix string, ps []TemplateParam) {
		for i := range ps {
			p := &ps[i]
			at := fmt.Sprintf("%s/%d", prefix, i)
			if p.Currency != nil {
				fn(at+"/currency/code", &p.Currency.Code)
				fn(at+"/currency/amount_1000", (*string)(&p.Currency.Amount1000))
				fn(at+"/currency/fallback_value", &p.Currency.FallbackValue)
			}
			if p.DateTime != nil {
				fn(at+"/date_time/fallback_value", &p.DateTime.FallbackValue)
			}
			if m := p.Media(); m != nil {
				kind := p.Kind()
				fn(at+"/"+kind+"/link", &m.Link)
				fn(at+"/"+kind+"/id", &m.ID)
				fn(at+"/"+kind+"/filename", &m.Filename)
			}
			if p.Location != nil {
				fn(at+"/location/name", &p.Location.Name)
				fn(at+"/location/address", &p.Location.Address)
			}
			if p.Kind() == ParamText {
				if isString(p) {
					fn(at, &p.Text)
				} else {
					fn(at+"/text", &p.Text)
				}
			}
		}
	}
	buttons := func(prefix string, bs []TemplateButton) {
		for i := range bs {
			b := &bs[i]
			at := fmt.Sprintf("%s/%d", prefix, i)
			fn(at+"/payload", &b.Payload)
			fn(at+"/text", &b.Text)
			fn(at+"/code", &b.Code)
		}
	}
	params("header", t.Header)
	params("body", t.Body)
	buttons("buttons", t.Buttons)
	for i := range t.Cards {
		c := &t.Cards[i]
		params(fmt.Sprintf("cards/%d/header", i), c.Header)
		params(fmt.Sprintf("cards/%d/body", i), c.Body)
		buttons(fmt.Sprintf("cards/%d/buttons", i), c.Buttons)
	}
	fn("offer_expires_at", &t.OfferExpiresAt)
}

// isString reports whether a parameter is written as a plain JSON string.
func isString(p *TemplateParam) bool { return *p == TemplateParam{Text: p.Text} }

// Clone is a deep copy, so that rendering never writes into the flow.
func (t *TemplateRef) Clone() TemplateRef { return t.clone() }

func (t *TemplateRef) clone() TemplateRef {
	c := *t
	cloneParams := func(ps []TemplateParam) []TemplateParam {
		if ps == nil {
			return nil
		}
		out := make([]TemplateParam, len(ps))
		for i, p := range ps {
			if p.Currency != nil {
				x := *p.Currency
				p.Currency = &x
			}
			if p.DateTime != nil {
				x := *p.DateTime
				p.DateTime = &x
			}
			for _, m := range []**TemplateMedia{&p.Image, &p.Video, &p.Document} {
				if *m != nil {
					x := **m
					*m = &x
				}
			}
			if p.Location != nil {
				x := *p.Location
				p.Location = &x
			}
			out[i] = p
		}
		return out
	}
	c.Header, c.Body = cloneParams(t.Header), cloneParams(t.Body)
	c.Buttons = append([]TemplateButton(nil), t.Buttons...)
	if t.Cards != nil {
		c.Cards = make([]TemplateCard, len(t.Cards))
		for i, card := range t.Cards {
			c.Cards[i] = TemplateCard{Header: cloneParams(card.Header), Body: cloneParams(card.Body),
				Buttons: append([]TemplateButton(nil), card.Buttons...)}
		}
	}
	return c
}

// RenderTemplate fills a template reference's parameters from env. An
// expression that fails inserts nothing; the first failure is returned
// beside the template rendered without it.
func (f *Flow) RenderTemplate(t *TemplateRef, env *Env) (TemplateSend, error) {
	out := t.clone()
	var err error
	eachTemplateText(&out, func(_ string, s *string) {
		if *s == "" {
			return
		}
		res, e := f.Interpolate(*s, env)
		if e != nil && err == nil {
			err = e
		}
		*s = res
	})
	return TemplateSend(out), err
}

// Line renders a template send: "template: name/language" and its header
// then body parameters, joined with " | " (a currency or date as its
// fallback value, a media header as its link or id, a location as
// "latitude,longitude name").
func (t *TemplateSend) Line() string {
	s := "template: " + t.Name + "/" + t.Language
	var params []string
	for _, ps := range [][]TemplateParam{t.Header, t.Body} {
		for i := range ps {
			params = append(params, ps[i].Display())
		}
	}
	if len(params) > 0 {
		s += " " + strings.Join(params, " | ")
	}
	return s
}

// Params are the header then body parameters as a person reads them.
func (t *TemplateSend) Params() []string {
	var out []string
	for _, ps := range [][]TemplateParam{t.Header, t.Body} {
		for i := range ps {
			out = append(out, ps[i].Display())
		}
	}
	return out
}
