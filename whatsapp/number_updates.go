package whatsapp

import (
	"encoding/json"
	"strings"
	"time"
)

// FieldPhoneNumberQuality is the webhook field that reports a change of a
// business number's messaging limit, throughput or quality (docs/whatsapp.md §1.3,
// §4.6, §4.7).
const FieldPhoneNumberQuality = "phone_number_quality_update"

// Events of phone_number_quality_update. FLAGGED and UNFLAGGED are the
// quality rating's (a flagged number whose quality does not recover is
// downgraded); UPGRADE and DOWNGRADE move the messaging limit;
// THROUGHPUT_UPGRADE raises the number's throughput, and its current_limit
// then speaks of throughput, not of the messaging limit.
const (
	NumberEventFlagged           = "FLAGGED"
	NumberEventUnflagged         = "UNFLAGGED"
	NumberEventUpgrade           = "UPGRADE"
	NumberEventDowngrade         = "DOWNGRADE"
	NumberEventOnboarding        = "ONBOARDING"
	NumberEventThroughputUpgrade = "THROUGHPUT_UPGRADE"
)

// Messaging limit tiers as Meta names them (docs/whatsapp.md §4.6). TIER_1K and TIER_50
// are older names some integrations still send; TIER_NOT_SET says nothing.
const (
	TierNotSet    = "TIER_NOT_SET"
	TierUnlimited = "TIER_UNLIMITED"
)

var tierLimits = map[string]int{
	"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000,
	"TIER_10K": 10_000, "TIER_100K": 100_000, TierUnlimited: 0,
}

// TierLimit is the number of unique customers a tier lets the business reach
// outside their window in a moving 24 h; 0 with ok for TIER_UNLIMITED (no
// limit), !ok for TIER_NOT_SET or a name it does not know.
func TierLimit(tier string) (limit int, ok bool) {
	limit, ok = tierLimits[strings.ToUpper(strings.TrimSpace(tier))]
	return limit, ok
}

// NumberUpdate is one phone_number_quality_update event. Meta names the
// number by its display phone number, not by its id.
type NumberUpdate struct {
	WABAID             string    `json:"waba_id,omitempty"`
	Time               time.Time `json:"time,omitzero"` // entry[].time
	DisplayPhoneNumber string    `json:"display_phone_number,omitempty"`
	Event              string    `json:"event,omitempty"`
	// CurrentLimit and OldLimit are the number's tier (deprecated by Meta
	// from February 2026); BusinessLimit (max_daily_conversations_per_
	// business) is the portfolio's, which is what counts since October
	// 2025.
	CurrentLimit  string `json:"current_limit,omitempty"`
	OldLimit      string `json:"old_limit,omitempty"`
	BusinessLimit string `json:"business_limit,omitempty"`
}

// MessagingLimit is the messaging limit the update announces: the
// portfolio's tier when it is given, else the number's current_limit unless
// the event is about throughput or onboarding. ok is false when the update
// announces none (TIER_NOT_SET, an unknown name, a throughput event).
func (u NumberUpdate) MessagingLimit() (limit int, tier string, ok bool) {
	if u.BusinessLimit != "" {
		if limit, ok = TierLimit(u.BusinessLimit); ok {
			return limit, strings.ToUpper(u.BusinessLimit), true
		}
	}
	switch u.Event {
	case NumberEventThroughputUpgrade, NumberEventOnboarding:
		return 0, "", false
	}
	if limit, ok = TierLimit(u.CurrentLimit); ok {
		return limit, strings.ToUpper(u.CurrentLimit), true
	}
	return 0, "", false
}

type wireNumberUpdate struct {
	Event string `json:"event"`
	wireNumberLimits
}

// wireNumberLimits is a phone_number_quality_update value but its event,
// which wireValue shares with template updates.
type wireNumberLimits struct {
	DisplayPhoneNumber flexString `json:"display_phone_number"`
	CurrentLimit       string     `json:"current_limit"`
	OldLimit           string     `json:"old_limit"`
	BusinessLimit      string     `json:"max_daily_conversations_per_business"`
}

// addNumberUpdate reads a phone_number_quality_update change.
func (b *Batch) addNumberUpdate(ent entryInfo, value json.RawMessage) {
	var w wireNumberUpdate
	if err := json.Unmarshal(value, &w); err != nil {
		b.addOther(ent, FieldPhoneNumberQuality, value, err)
		return
	}
	b.NumberUpdates = append(b.NumberUpdates, w.public(ent))
}

func (w *wireNumberUpdate) public(ent entryInfo) NumberUpdate {
	return NumberUpdate{
		WABAID: ent.wabaID, Time: ent.time, DisplayPhoneNumber: string(w.DisplayPhoneNumber), Event: w.Event,
		CurrentLimit: w.CurrentLimit, OldLimit: w.OldLimit, BusinessLimit: w.BusinessLimit,
	}
}

// Account restrictions (account_update event ACCOUNT_RESTRICTION).
const (
	AccountEventRestriction = "ACCOUNT_RESTRICTION"
	// RestrictionBizInitiated forbids business-initiated messages (every
	// template outside the window) until the restriction expires.
	RestrictionBizInitiated = "RESTRICTED_BIZ_INITIATED_MESSAGING"
)

// Restriction is one restriction of an ACCOUNT_RESTRICTION event.
type Restriction struct {
	Type       string    `json:"restriction_type"`
	Expiration time.Time `json:"expiration,omitzero"`
}

// Restrictions reads the restriction_info of an ACCOUNT_RESTRICTION
// account update; nil for any other event or an unreadable value.
func (a AccountUpdate) Restrictions() []Restriction {
	if a.Event != AccountEventRestriction {
		return nil
	}
	var w struct {
		Info []struct {
			Type       string   `json:"restriction_type"`
			Expiration flexTime `json:"expiration"`
		} `json:"restriction_info"`
	}
	if json.Unmarshal(a.Value, &w) != nil {
		return nil
	}
	out := make([]Restriction, 0, len(w.Info))
	for _, r := range w.Info {
		out = append(out, Restriction{Type: r.Type, Expiration: r.Expiration.t})
	}
	return out
}
