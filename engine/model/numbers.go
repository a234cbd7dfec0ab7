package model

import (
	"time"

	"github.com/parleyhq/parley/whatsapp"
)

// MaxNumberHistory bounds NumberRecord.History: the newest are kept.
const MaxNumberHistory = 100

// NumberRecord is what Meta said of one business phone number.
type NumberRecord struct {
	// Key is the phone number id when Parley knows which number Meta
	// meant, else its display number.
	Key                string `json:"key"`
	PhoneNumberID      string `json:"phone_number_id,omitempty"`
	DisplayPhoneNumber string `json:"display_phone_number,omitempty"`
	WABAID             string `json:"waba_id,omitempty"`
	// Tier is the messaging limit tier last announced (TIER_2K …), "" if
	// none was; TierLimit its size (0: unlimited), TierAt when.
	Tier      string    `json:"tier,omitempty"`
	TierLimit int       `json:"tier_limit,omitempty"`
	TierAt    time.Time `json:"tier_at,omitzero"`
	// QualityEvent is the latest quality event (FLAGGED, UNFLAGGED …);
	// Flagged holds while a FLAGGED has not been followed by UNFLAGGED: the
	// number's quality is low and its limit may come down.
	QualityEvent string    `json:"quality_event,omitempty"`
	Flagged      bool      `json:"flagged,omitempty"`
	QualityAt    time.Time `json:"quality_at,omitzero"`
	// Restrictions are the account's restrictions last announced.
	Restrictions []whatsapp.Restriction `json:"restrictions,omitempty"`
	UpdatedAt    time.Time              `json:"updated_at,omitzero"`
	History      []NumberEvent          `json:"history,omitempty"`
}

// NumberEvent is one webhook event on a number, as recorded.
type NumberEvent struct {
	At    time.Time `json:"at"`
	Field string    `json:"field"`
	Event string    `json:"event"`
	// Tier and OldTier: the messaging limit announced, and before.
	Tier    string `json:"tier,omitempty"`
	OldTier string `json:"old_tier,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// AddEvent appends ev to the number's history, dropping the oldest past
// MaxNumberHistory, and dates the record by it.
func (r *NumberRecord) AddEvent(ev NumberEvent) {
	r.History = append(r.History, ev)
	if n := len(r.History) - MaxNumberHistory; n > 0 {
		r.History = append(r.History[:0:0], r.History[n:]...)
	}
	r.UpdatedAt = ev.At
}
