package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// What Meta says of the business's numbers and of its messaging limit.
//
// phone_number_quality_update webhooks announce a number's quality events
// (FLAGGED, UNFLAGGED) and tier changes (UPGRADE, DOWNGRADE with
// current_limit, and since October 2025 max_daily_conversations_per_business
// for the portfolio: TIER_250, TIER_2K, TIER_10K, TIER_100K,
// TIER_UNLIMITED). account_update ACCOUNT_RESTRICTION may forbid
// business-initiated messaging until a date. Each is recorded durably on
// the number's NumberRecord (Store.SaveNumber), with a bounded history.
//
// The messaging limit enforced is Options.MessagingLimit until Meta
// announces a tier; from then on the latest announced tier, restored at
// start from the records, unless Options.MessagingLimitPinned keeps the
// configured one (`parley serve -messaging-limit` set explicitly). An
// active restriction blocks every business-initiated send (limitBlock).

// PhoneNumber is a business number Parley serves.
type PhoneNumber struct {
	ID      string `json:"id"`
	Display string `json:"display_phone_number,omitempty"`
	// WABAID is the WhatsApp Business Account the number belongs to
	// (webhooks of other accounts are not Parley's; an account's
	// restrictions apply to its numbers). Empty: not known.
	WABAID string `json:"waba_id,omitempty"`
	// Portfolio names the business portfolio whose messaging limit the
	// number shares (numbers.go). Numbers without one share the default
	// portfolio.
	Portfolio string `json:"portfolio,omitempty"`
}

// Limit sources, in NumberView.LimitSource.
const (
	LimitConfigured = "configured" // Options.MessagingLimit
	LimitFromMeta   = "meta"       // a tier Meta announced
)

// initLimits sets the limits from the options and, unless pinned, from the
// tier Meta last announced for each portfolio; and restores the active
// restrictions.
func (e *Engine) initLimits(ctx context.Context, o Options) error {
	e.limits.Configure(o.MessagingLimit, o.MessagingLimitPinned)
	e.phoneNumbers = o.PhoneNumbers
	e.limits.Scope(model.ReachScope)
	recs, err := e.store.Numbers(ctx)
	if err != nil {
		return fmt.Errorf("loading phone number records: %w", err)
	}
	if err := e.recordServedNumbers(ctx, recs); err != nil {
		return err
	}
	latest := map[string]*model.NumberRecord{}
	for i := range recs {
		r := &recs[i]
		sc := e.scopeOf(r.PhoneNumberID)
		if r.Tier != "" && (latest[sc] == nil || r.TierAt.After(latest[sc].TierAt)) {
			latest[sc] = r
		}
		e.noteRestrictions(r.WABAID, r.Restrictions)
	}
	for sc, r := range latest {
		e.limits.LearnTier(sc, r.TierLimit)
	}
	return nil
}

// noteRestrictions records the restrictions Meta announced for account
// waba.
func (e *Engine) noteRestrictions(waba string, rs []whatsapp.Restriction) {
	var until time.Time
	for _, r := range rs {
		if r.Type == whatsapp.RestrictionBizInitiated && r.Expiration.After(until) {
			until = r.Expiration
		}
	}
	if until.IsZero() {
		return
	}
	e.limits.Restrict(e.accountKey(waba), until)
}

// accountKey is how restrictions of account waba are kept: by the WABA
// when a served number names it, else under "" (every number).
func (e *Engine) accountKey(waba string) string {
	for _, n := range e.phoneNumbers {
		if waba != "" && n.WABAID == waba {
			return waba
		}
	}
	return ""
}

// restrictedUntil is the end of a restriction of business-initiated
// messaging from the business number id in force at now, or zero: its
// account's, or one that concerns every number.
func (e *Engine) restrictedUntil(id string, now time.Time) time.Time {
	n, _ := e.number(id)
	return e.limits.RestrictedUntil(n.WABAID, now)
}

// numberKey names the record of the number Meta calls display: the
// configured number with that display number, the one configured number
// when there is only one, else the display number itself.
func (e *Engine) numberKey(display string) (key, id string) {
	ns := e.phoneNumbers
	for _, n := range ns {
		if n.Display != "" && n.Display == display {
			return n.ID, n.ID
		}
	}
	if len(ns) == 1 {
		return ns[0].ID, ns[0].ID
	}
	return display, ""
}

// updateNumber changes the record key (new if unknown) and stores it.
func (e *Engine) updateNumber(ctx context.Context, key string, fn func(*model.NumberRecord)) (*model.NumberRecord, error) {
	e.numbersMu.Lock()
	defer e.numbersMu.Unlock()
	recs, err := e.store.Numbers(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading phone number records: %w", err)
	}
	rec := model.NumberRecord{Key: key}
	for _, r := range recs {
		if r.Key == key {
			rec = r
		}
	}
	fn(&rec)
	if err := e.store.SaveNumber(ctx, rec); err != nil {
		return nil, fmt.Errorf("saving phone number %s: %w", key, err)
	}
	return &rec, nil
}

// ApplyNumberUpdate records a phone_number_quality_update: the quality
// event, and a new messaging limit tier, which becomes the enforced limit
// unless it is pinned. A redelivered event is recorded again (the history
// shows it) but changes nothing else.
func (e *Engine) ApplyNumberUpdate(ctx context.Context, u whatsapp.NumberUpdate) error {
	if u.DisplayPhoneNumber == "" && len(e.phoneNumbers) != 1 {
		return errors.New("engine: phone_number_quality_update names no number")
	}
	at := u.Time
	if at.IsZero() {
		at = e.clock.Now()
	}
	key, id := e.numberKey(u.DisplayPhoneNumber)
	limit, tier, hasTier := u.MessagingLimit()
	_, err := e.updateNumber(ctx, key, func(r *model.NumberRecord) {
		if id != "" {
			r.PhoneNumberID = id
		}
		if u.DisplayPhoneNumber != "" {
			r.DisplayPhoneNumber = u.DisplayPhoneNumber
		}
		if u.WABAID != "" {
			r.WABAID = u.WABAID
		}
		ev := model.NumberEvent{At: at, Field: whatsapp.FieldPhoneNumberQuality, Event: u.Event, OldTier: u.OldLimit}
		if hasTier {
			ev.Tier = tier
			if !at.Before(r.TierAt) {
				r.Tier, r.TierLimit, r.TierAt = tier, limit, at
			}
		}
		switch u.Event {
		case whatsapp.NumberEventFlagged, whatsapp.NumberEventUnflagged:
			if !at.Before(r.QualityAt) {
				r.QualityEvent, r.Flagged, r.QualityAt = u.Event, u.Event == whatsapp.NumberEventFlagged, at
			}
		}
		r.AddEvent(ev)
	})
	if err != nil {
		return err
	}
	if hasTier {
		e.log.Info("Meta announced a messaging limit tier", "number", key, "event", u.Event, "tier", tier, "pinned", e.limits.Pinned())
		e.limits.LearnTier(e.scopeOf(id), limit)
	}
	return nil
}

// ApplyAccountUpdate records an account_update that restricts messaging
// (ACCOUNT_RESTRICTION) on every number of that account Parley serves (on
// every number, when none names its account); a restriction of
// business-initiated messaging blocks such sends from those numbers until
// it expires. Other account events are only logged by the caller.
func (e *Engine) ApplyAccountUpdate(ctx context.Context, a whatsapp.AccountUpdate) error {
	rs := a.Restrictions()
	if a.Event != whatsapp.AccountEventRestriction {
		return nil
	}
	at := a.Time
	if at.IsZero() {
		at = e.clock.Now()
	}
	account := e.accountKey(a.WABAID)
	keys := []string{}
	for _, n := range e.phoneNumbers {
		if account == "" || n.WABAID == account {
			keys = append(keys, n.ID)
		}
	}
	if len(keys) == 0 {
		keys = append(keys, "waba:"+a.WABAID)
	}
	for _, key := range keys {
		_, err := e.updateNumber(ctx, key, func(r *model.NumberRecord) {
			if r.PhoneNumberID == "" && key != "waba:"+a.WABAID {
				r.PhoneNumberID = key
			}
			r.WABAID = a.WABAID
			r.Restrictions = rs
			detail := ""
			for _, x := range rs {
				detail += fmt.Sprintf("%s until %s; ", x.Type, x.Expiration.UTC().Format(time.RFC3339))
			}
			r.AddEvent(model.NumberEvent{At: at, Field: whatsapp.FieldAccountUpdate, Event: a.Event, Detail: detail})
		})
		if err != nil {
			return err
		}
	}
	e.noteRestrictions(a.WABAID, rs)
	return nil
}

// NumberView is a business number as the numbers API shows it: Meta's
// record and the messaging limit's state now. The limit and its usage are
// the portfolio's, shared by all its numbers (docs/whatsapp.md §4.6).
type NumberView struct {
	model.NumberRecord
	// Portfolio is the reach scope whose limit the number shares
	// ("default" unless configured).
	Portfolio string `json:"portfolio"`
	// Limit is the messaging limit enforced (0: none), LimitSource where
	// it comes from (configured, meta), Pinned whether Meta may change it.
	Limit       int    `json:"limit"`
	LimitSource string `json:"limit_source"`
	Pinned      bool   `json:"pinned"`
	// Usage is the unique customers reached outside their window in the
	// moving 24 h; NextFreeAt when the earliest of them leaves it.
	Usage      int       `json:"usage"`
	NextFreeAt time.Time `json:"next_free_at,omitzero"`
	// RestrictedUntil: business-initiated messaging is restricted until
	// then.
	RestrictedUntil time.Time `json:"restricted_until,omitzero"`
}

// Numbers lists the business numbers: every configured one and every one
// Meta reported on, by key.
func (e *Engine) Numbers(ctx context.Context) ([]NumberView, error) {
	recs, err := e.store.Numbers(ctx)
	if err != nil {
		return nil, err
	}
	byKey := map[string]model.NumberRecord{}
	for _, r := range recs {
		byKey[r.Key] = r
	}
	for _, n := range e.phoneNumbers {
		if _, ok := byKey[n.ID]; !ok {
			byKey[n.ID] = model.NumberRecord{Key: n.ID, PhoneNumberID: n.ID, DisplayPhoneNumber: n.Display}
		}
	}
	out := make([]NumberView, 0, len(byKey))
	for _, r := range byKey {
		scope := e.scopeOf(r.PhoneNumberID)
		usage, nextFree, err := e.reachUsage(ctx, scope)
		if err != nil {
			return nil, err
		}
		sc := e.limits.Scope(scope)
		source := LimitConfigured
		if sc.FromMeta() {
			source = LimitFromMeta
		}
		out = append(out, NumberView{
			NumberRecord: r, Portfolio: scope, Limit: int(sc.Limit()), LimitSource: source, Pinned: e.limits.Pinned(),
			Usage: usage, NextFreeAt: nextFree, RestrictedUntil: e.restrictedUntil(r.PhoneNumberID, e.clock.Now()),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// DefaultPhoneNumberID is the business number when Parley serves exactly
// one (Options.PhoneNumbers), else "": what a contact created without a
// number belongs to.
func (e *Engine) DefaultPhoneNumberID() string {
	if len(e.phoneNumbers) == 1 {
		return e.phoneNumbers[0].ID
	}
	return ""
}

// recordServedNumbers stores a record for each number Parley serves that
// has none yet, so that what runs on the data file while Parley is stopped
// (`parley contacts import`) knows the business's numbers: StoredNumbers.
func (e *Engine) recordServedNumbers(ctx context.Context, recs []model.NumberRecord) error {
	for _, n := range e.phoneNumbers {
		if slices.ContainsFunc(recs, func(r model.NumberRecord) bool { return r.Key == n.ID }) {
			continue
		}
		r := model.NumberRecord{Key: n.ID, PhoneNumberID: n.ID, DisplayPhoneNumber: n.Display}
		if err := e.store.SaveNumber(ctx, r); err != nil {
			return fmt.Errorf("recording phone number %s: %w", n.ID, err)
		}
	}
	return nil
}

// StoredNumbers are the business numbers a store knows by id: those a
// Parley served on it, and those Meta reported on. Commands that open the
// data file while Parley is stopped pass them as Options.PhoneNumbers.
func StoredNumbers(ctx context.Context, s model.Store) ([]PhoneNumber, error) {
	recs, err := s.Numbers(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading phone number records: %w", err)
	}
	var out []PhoneNumber
	for _, r := range recs {
		if r.PhoneNumberID != "" {
			out = append(out, PhoneNumber{ID: r.PhoneNumberID, Display: r.DisplayPhoneNumber})
		}
	}
	return out, nil
}

// servesNumber reports whether contacts may belong to the business number
// id: one Parley serves, or any when it was told of none (a bare engine).
func (e *Engine) servesNumber(id string) bool {
	ns := e.phoneNumbers
	return len(ns) == 0 || slices.ContainsFunc(ns, func(n PhoneNumber) bool { return n.ID == id })
}

// servedNumbers lists the numbers Parley serves, for an error message.
func (e *Engine) servedNumbers() string {
	ids := make([]string, len(e.phoneNumbers))
	for i, n := range e.phoneNumbers {
		ids[i] = n.ID
	}
	return strings.Join(ids, ", ")
}
