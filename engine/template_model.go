package engine

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

// templateKey is how the registry and the stores name a template: names
// are not unique, a name and a language are (docs/whatsapp.md §4.5).
func templateKey(name, language string) string { return name + "/" + language }

// clone is a deep copy: records in the registry are never changed in
// place, so readers may hold them without a lock.
func (r *TemplateRecord) clone() *TemplateRecord {
	c := *r
	c.Buttons = slices.Clone(r.Buttons)
	c.History = slices.Clone(r.History)
	return &c
}

// record appends a change, dropping the oldest beyond MaxTemplateHistory.
func (r *TemplateRecord) record(ch TemplateChange) {
	r.History = append(r.History, ch)
	if n := len(r.History) - MaxTemplateHistory; n > 0 {
		r.History = slices.Delete(r.History, 0, n)
	}
}

// setStatus moves the record to status, recording the change; the same
// status is no change.
func (r *TemplateRecord) setStatus(to string, ch TemplateChange) bool {
	if r.Status == to {
		return false
	}
	ch.Kind, ch.From, ch.To = ChangeStatus, r.Status, to
	r.Status = to
	if to != TemplateRejected {
		r.RejectedReason = ""
	}
	r.record(ch)
	return true
}

// setQuality and setCategory do the same for quality and category. A first
// value (nothing known before) is not a change worth recording.
func (r *TemplateRecord) setQuality(to string, ch TemplateChange) bool {
	if to == "" || r.Quality == to {
		return false
	}
	if r.Quality != "" {
		ch.Kind, ch.From, ch.To = ChangeQuality, r.Quality, to
		r.record(ch)
	}
	r.Quality = to
	return true
}

func (r *TemplateRecord) setCategory(to string, ch TemplateChange) bool {
	if to == "" || r.Category == to {
		return false
	}
	if r.Category != "" {
		ch.Kind, ch.From, ch.To = ChangeCategory, r.Category, to
		r.record(ch)
	}
	r.Category = to
	return true
}
