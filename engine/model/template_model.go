package model

import (
	"slices"
	"time"
)

// More template statuses (docs/whatsapp.md §4.4). Only TemplateApproved is
// sendable; the others say why a template is not.
const (
	TemplateRejected        = "REJECTED"
	TemplatePaused          = "PAUSED"   // low quality: 3 h, then 6 h (132015)
	TemplateDisabled        = "DISABLED" // paused too often (132016)
	TemplateInAppeal        = "IN_APPEAL"
	TemplatePendingDeletion = "PENDING_DELETION"
	TemplateDeleted         = "DELETED"
	TemplateArchived        = "ARCHIVED"
	TemplateLocked          = "LOCKED"
	TemplateLimitExceeded   = "LIMIT_EXCEEDED"
)

// Kinds of TemplateChange: what of the template changed.
const (
	ChangeStatus   = "status"
	ChangeQuality  = "quality"
	ChangeCategory = "category"
)

// Sources of TemplateChange: who told Parley.
const (
	SourceSync    = "sync"    // the Graph API's template list
	SourceWebhook = "webhook" // a template webhook from Meta
	SourceLocal   = "local"   // Parley itself: a template created through it
	SourceSend    = "send"    // a send refused for the template (132015, 132016)
)

// MaxTemplateHistory caps the changes kept per template, dropping the
// oldest: a template whose quality flips for years must not grow its record
// without bound, and the recent changes are the ones anyone reads.
const MaxTemplateHistory = 100

// TemplateRecord is a template as the registry keeps it: what sends are
// checked against (TemplateInfo) and what an operator wants to see — its
// quality, why it was rejected, and how its status got where it is.
type TemplateRecord struct {
	TemplateInfo
	// ID is Meta's id of the template (one per name and language).
	ID string `json:"id,omitempty"`
	// WABAID is the WhatsApp Business Account the template belongs to;
	// stored empty for the default one (see Registry: WABA of templates).
	WABAID string `json:"waba_id,omitempty"`
	// ParameterFormat is POSITIONAL ({{1}}) or NAMED ({{first_name}}).
	ParameterFormat string `json:"parameter_format,omitempty"`
	// Texts are the template's words as Meta shows them, its variables
	// ({{1}}, {{first_name}}) unfilled: what an analyst or agent reads
	// before choosing it.
	Texts TemplateTexts `json:"texts,omitzero"`
	// Buttons are the template's buttons, in order.
	Buttons []TemplateButtonInfo `json:"buttons,omitempty"`
	// Quality is GREEN, YELLOW, RED or UNKNOWN (new templates).
	Quality        string `json:"quality,omitempty"`
	RejectedReason string `json:"rejected_reason,omitempty"`
	// Incomplete is set on a template known only from a webhook: its
	// components are unknown until the next sync, and until then it is not
	// sendable (Registry.Template does not return it).
	Incomplete bool      `json:"incomplete,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	// WebhookAt is Meta's time of the latest status webhook applied: an
	// older one, redelivered late, is recorded but does not change Status.
	WebhookAt time.Time `json:"webhook_at,omitzero"`
	// History is every change of status, quality and category, oldest
	// first, at most MaxTemplateHistory.
	History []TemplateChange `json:"history,omitempty"`
}

// TemplateTexts are a template's text components; a media header has no
// text.
type TemplateTexts struct {
	Header string `json:"header,omitempty"`
	Body   string `json:"body,omitempty"`
	Footer string `json:"footer,omitempty"`
}

// TemplateButtonInfo is one button of a template: QUICK_REPLY, URL,
// PHONE_NUMBER, COPY_CODE, FLOW …
type TemplateButtonInfo struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
}

// TemplateChange is one change of a template's status, quality or
// category.
type TemplateChange struct {
	// At is when it happened: Meta's time for a webhook, Parley's clock
	// otherwise.
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // ChangeStatus, ChangeQuality, ChangeCategory
	From string    `json:"from,omitempty"`
	To   string    `json:"to"`
	// Event is the webhook's event when it is not simply To (FLAGGED while
	// APPROVED, REINSTATED …), or the error code of a refused send.
	Event string `json:"event,omitempty"`
	// Reason is Meta's reason (INVALID_FORMAT …); Detail its explanation
	// or Parley's.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	Source string `json:"source"` // SourceSync, SourceWebhook, SourceLocal, SourceSend
}

// Clone is a deep copy: records in the registry are never changed in
// place, so readers may hold them without a lock.
func (r *TemplateRecord) Clone() *TemplateRecord {
	c := *r
	c.Buttons = slices.Clone(r.Buttons)
	c.History = slices.Clone(r.History)
	return &c
}

// Record appends a change, dropping the oldest beyond MaxTemplateHistory.
func (r *TemplateRecord) Record(ch TemplateChange) {
	r.History = append(r.History, ch)
	if n := len(r.History) - MaxTemplateHistory; n > 0 {
		r.History = slices.Delete(r.History, 0, n)
	}
}

// SetStatus moves the record to status, recording the change; the same
// status is no change.
func (r *TemplateRecord) SetStatus(to string, ch TemplateChange) bool {
	if r.Status == to {
		return false
	}
	ch.Kind, ch.From, ch.To = ChangeStatus, r.Status, to
	r.Status = to
	if to != TemplateRejected {
		r.RejectedReason = ""
	}
	r.Record(ch)
	return true
}

// SetQuality and SetCategory do the same for quality and category. A first
// value (nothing known before) is not a change worth recording.
func (r *TemplateRecord) SetQuality(to string, ch TemplateChange) bool {
	if to == "" || r.Quality == to {
		return false
	}
	if r.Quality != "" {
		ch.Kind, ch.From, ch.To = ChangeQuality, r.Quality, to
		r.Record(ch)
	}
	r.Quality = to
	return true
}

// SetCategory is SetQuality for the category.
func (r *TemplateRecord) SetCategory(to string, ch TemplateChange) bool {
	if to == "" || r.Category == to {
		return false
	}
	if r.Category != "" {
		ch.Kind, ch.From, ch.To = ChangeCategory, r.Category, to
		r.Record(ch)
	}
	r.Category = to
	return true
}

// Template statuses (docs/whatsapp.md §4.4); only APPROVED may be sent.
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
)

// TemplateInfo is what the engine needs to know of a template before
// sending it.
type TemplateInfo struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Category string `json:"category,omitempty"` // MARKETING, UTILITY, AUTHENTICATION
	Status   string `json:"status"`
	// Parameter counts per component, and the number of quick-reply buttons.
	HeaderParams int `json:"header_params"`
	BodyParams   int `json:"body_params"`
	QuickReplies int `json:"quick_replies"`
	// Shape is what the template takes, part by part; nil for a template
	// known by its counts only (recorded before shapes were, or put in a
	// TemplateSet by hand), which is checked by the counts.
	Shape *TemplateShape `json:"shape,omitempty"`
}

// TemplateShape is what a template takes, read from its definition as the
// Graph API lists it: which header, which variables, which buttons, which
// cards. The one check of a template send (CheckTemplateSend) holds a send
// against it at publish, when the send is queued and when it is
// dispatched, and the send's Graph API body is built from it (named
// parameters, button positions).
type TemplateShape struct {
	// ParameterFormat is whatsapp.ParamsPositional or whatsapp.ParamsNamed.
	ParameterFormat string `json:"parameter_format,omitempty"`
	// HeaderFormat is TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION; "" when the
	// template has no header.
	HeaderFormat string `json:"header_format,omitempty"`
	HeaderText   string `json:"header_text,omitempty"`
	BodyText     string `json:"body_text,omitempty"`
	// Buttons are the template's buttons in order: their index is their
	// position.
	Buttons []ShapeButton `json:"buttons,omitempty"`
	// Cards are a carousel template's cards, in order.
	Cards []CardShape `json:"cards,omitempty"`
	// OfferExpires is set on a limited-time offer with a countdown: each
	// send says when the offer ends.
	OfferExpires bool `json:"offer_expires,omitempty"`
	// LimitedTimeOffer is set on any limited-time-offer template.
	LimitedTimeOffer bool `json:"limited_time_offer,omitempty"`
}

// ShapeButton is one button of a template.
type ShapeButton struct {
	// Type is Meta's: QUICK_REPLY, URL, COPY_CODE, OTP, PHONE_NUMBER, FLOW …
	Type string `json:"type"`
	// Dynamic is set on a URL button whose URL ends in a variable: each
	// send gives its text.
	Dynamic bool `json:"dynamic,omitempty"`
	// Text is the button's label, for people choosing what to fill.
	Text string `json:"text,omitempty"`
}

// CardShape is one card of a carousel template.
type CardShape struct {
	HeaderFormat string        `json:"header_format,omitempty"`
	BodyText     string        `json:"body_text,omitempty"`
	Buttons      []ShapeButton `json:"buttons,omitempty"`
}
