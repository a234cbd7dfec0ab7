package templates

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// eventStatus is the status a message_template_status_update event leaves
// a template in (docs/whatsapp.md §5). An event missing here changes no
// status: FLAGGED arrives while the template is still APPROVED (a warning
// before a pause), and an event Parley does not know is recorded and left
// to the next sync. UNARCHIVED and UNLOCKED go back to the status before
// (see statusAfter).
var eventStatus = map[string]string{
	model.TemplateApproved:        model.TemplateApproved,
	model.TemplatePending:         model.TemplatePending,
	model.TemplateRejected:        model.TemplateRejected,
	model.TemplatePaused:          model.TemplatePaused,
	model.TemplateDisabled:        model.TemplateDisabled,
	model.TemplateInAppeal:        model.TemplateInAppeal,
	model.TemplatePendingDeletion: model.TemplatePendingDeletion,
	model.TemplateDeleted:         model.TemplateDeleted,
	model.TemplateArchived:        model.TemplateArchived,
	model.TemplateLocked:          model.TemplateLocked,
	model.TemplateLimitExceeded:   model.TemplateLimitExceeded,
	"REINSTATED":                  model.TemplateApproved, // a paused template back in use
}

// undoEvents are the events that end an earlier status: the template goes
// back to what it was before it.
var undoEvents = map[string]string{"UNARCHIVED": model.TemplateArchived, "UNLOCKED": model.TemplateLocked}

// ApplyUpdate applies a template webhook — a status event, a quality
// change or a category change — and stores it before it returns, so the
// webhook may be acknowledged once it returns nil. It is idempotent: Meta
// redelivers what was not acknowledged, and an event already recorded
// (same kind, event and time) changes nothing. A status event older than
// the last one applied is recorded but leaves the status alone.
//
// The update is applied to the templates of the WABA it names (u.WABAID;
// the default one when it names none, or one the registry does not sync:
// a one-number Parley started without WHATSAPP_WABA_ID).
//
// A webhook naming a template the registry does not know creates it,
// marked Incomplete (not sendable: its components are unknown), and asks
// RunSync for a sync soon.
func (r *Registry) ApplyUpdate(ctx context.Context, u whatsapp.TemplateUpdate) error {
	resync := false
	err := r.change(ctx, func(now time.Time, tx *registryTx) {
		waba := r.updateWABA(u.WABAID)
		key, known := lookupUpdate(tx, waba, &u)
		if !known {
			resync = true
		}
		if key == "" {
			r.log.Warn("template webhook names no known template and no name and language; left to the next sync",
				"field", u.Field, "template_id", u.TemplateID)
			return
		}
		rec := tx.edit(key)
		if rec.Name == "" {
			rec.Name, rec.Language, rec.Incomplete, rec.WABAID = u.TemplateName, u.Language, true, waba
		}
		if rec.ID == "" {
			rec.ID = u.TemplateID
		}
		at := u.Time
		if at.IsZero() {
			at = now
		}
		var changed bool
		switch u.Field {
		case whatsapp.FieldTemplateStatus:
			var again bool
			changed, again = applyStatusEvent(rec, &u, at)
			resync = resync || again
		case whatsapp.FieldTemplateQuality:
			changed = applyWebhookValue(rec, model.ChangeQuality, u.PrevQuality, u.NewQuality, at, "")
		case whatsapp.FieldTemplateCategory:
			changed = applyCategoryEvent(rec, &u, at)
		}
		if !changed && known {
			tx.forget(key)
			return
		}
		rec.UpdatedAt = now
		if old := tx.r.m[key]; old != nil && old.Status != rec.Status {
			r.log.Info("template status changed", "template", key, "from", old.Status, "to", rec.Status, "event", u.Event, "reason", u.Reason)
		}
	})
	if resync {
		r.askResync()
	}
	return err
}

// updateWABA is the WABA whose templates a webhook of account waba
// changes: that one if the registry syncs it, else the default one.
func (r *Registry) updateWABA(waba string) string {
	for _, a := range r.accounts {
		if a.WABAID == waba {
			return waba
		}
	}
	return r.wabaID
}

// lookupUpdate finds the template an update is about: by name and language,
// else by Meta's id (quality and category updates may carry only the id).
// It returns the key to record it under and whether the registry knows it;
// "" when it is unknown and not named well enough to record.
func lookupUpdate(tx *registryTx, waba string, u *whatsapp.TemplateUpdate) (string, bool) {
	if u.TemplateName != "" && u.Language != "" {
		key := tx.r.wabaKey(waba, u.TemplateName, u.Language)
		return key, tx.find(key) != nil
	}
	if u.TemplateID != "" {
		for key, rec := range tx.r.m {
			if rec.ID == u.TemplateID && rec.WABAID == waba {
				return key, true
			}
		}
	}
	return "", false
}

// applyStatusEvent applies a status event to rec. It reports whether rec
// changed, and whether a sync should say what the status now is.
func applyStatusEvent(rec *model.TemplateRecord, u *whatsapp.TemplateUpdate, at time.Time) (changed, resync bool) {
	reason := u.Reason
	if reason == "NONE" {
		reason = ""
	}
	entry := model.TemplateChange{At: at, Kind: model.ChangeStatus, Event: u.Event, Reason: reason, Detail: updateDetail(u), Source: model.SourceWebhook}
	if recorded(rec, entry) {
		return false, false
	}
	if at.Before(rec.WebhookAt) {
		entry.Detail = strings.TrimSpace(fmt.Sprintf("arrived after a later status event (of %s); the status is kept. %s",
			rec.WebhookAt.UTC().Format(time.RFC3339), entry.Detail))
		entry.From, entry.To = rec.Status, rec.Status
		rec.Record(entry)
		return true, false
	}
	moved := at.After(rec.WebhookAt)
	rec.WebhookAt = at
	changed = rec.SetCategory(u.Category, model.TemplateChange{At: at, Source: model.SourceWebhook}) || moved
	to, ok := statusAfter(rec, u.Event)
	switch {
	case !ok:
		// FLAGGED (a warning while APPROVED), or an event Parley does not
		// know: recorded, the status kept; a sync tells the rest.
		entry.From, entry.To = rec.Status, rec.Status
		rec.Record(entry)
		return true, u.Event != eventFlagged
	case to == rec.Status && u.Event == to:
		// Nothing new: the status is what a sync or the create said.
		return changed, false
	case to == rec.Status:
		// REINSTATED while APPROVED, say: the event is worth keeping.
		entry.From, entry.To = to, to
		rec.Record(entry)
	default:
		rec.SetStatus(to, entry)
	}
	if to == model.TemplateRejected {
		rec.RejectedReason = reason
	}
	return true, false
}

// eventFlagged warns that a template's quality is low: it is paused if it
// does not improve. The template stays APPROVED meanwhile.
const eventFlagged = "FLAGGED"

// statusAfter is the status an event leaves rec in, if Parley can tell.
func statusAfter(rec *model.TemplateRecord, event string) (string, bool) {
	if to, ok := eventStatus[event]; ok {
		return to, true
	}
	if ended, ok := undoEvents[event]; ok && rec.Status == ended {
		for i := len(rec.History) - 1; i >= 0; i-- {
			if h := rec.History[i]; h.Kind == model.ChangeStatus && h.To == ended && h.From != ended && h.From != "" {
				return h.From, true
			}
		}
	}
	return "", false
}

// updateDetail is Meta's explanation of a status event, in one line.
func updateDetail(u *whatsapp.TemplateUpdate) string {
	var parts []string
	if rj := u.Rejection; rj != nil {
		parts = append(parts, strings.TrimSpace(rj.Reason+" "+rj.Recommendation))
	}
	if o := u.OtherInfo; o != nil {
		parts = append(parts, strings.TrimSpace(o.Title+": "+o.Description))
	}
	if u.DisableDate != "" {
		parts = append(parts, "disabled on "+u.DisableDate)
	}
	return strings.Join(parts, "; ")
}

// applyCategoryEvent applies a template_category_update: new_category is
// the change; correct_category alone is Meta's notice that it will change
// the category (the template keeps its own until then).
func applyCategoryEvent(rec *model.TemplateRecord, u *whatsapp.TemplateUpdate, at time.Time) bool {
	if u.NewCategory != "" {
		return applyWebhookValue(rec, model.ChangeCategory, u.PrevCategory, u.NewCategory, at, "")
	}
	if u.CorrectCategory == "" {
		return false
	}
	entry := model.TemplateChange{At: at, Kind: model.ChangeCategory, From: rec.Category, To: u.CorrectCategory, Event: "correct_category",
		Detail: "Meta will change the category to " + u.CorrectCategory + "; sends are charged as " + rec.Category + " until then",
		Source: model.SourceWebhook}
	if recorded(rec, entry) {
		return false
	}
	rec.Record(entry)
	return true
}

// applyWebhookValue applies a quality or category change from a webhook.
func applyWebhookValue(rec *model.TemplateRecord, kind, prev, to string, at time.Time, event string) bool {
	entry := model.TemplateChange{At: at, Kind: kind, To: to, Event: event, Source: model.SourceWebhook}
	if to == "" || recorded(rec, entry) {
		return false
	}
	cur := &rec.Quality
	if kind == model.ChangeCategory {
		cur = &rec.Category
	}
	if *cur == "" {
		*cur = prev
	}
	if *cur == to {
		return false
	}
	entry.From = *cur
	*cur = to
	rec.Record(entry)
	return true
}

// recorded reports whether the webhook event ch is in r's history already:
// the same kind, event and time, and the same reason (a status) or new
// value (a quality or category).
func recorded(r *model.TemplateRecord, ch model.TemplateChange) bool {
	for i := len(r.History) - 1; i >= 0; i-- {
		h := r.History[i]
		if h.Source != model.SourceWebhook || h.Kind != ch.Kind || !h.At.Equal(ch.At) || h.Event != ch.Event {
			continue
		}
		if ch.Kind == model.ChangeStatus && h.Reason == ch.Reason || ch.Kind != model.ChangeStatus && h.To == ch.To {
			return true
		}
	}
	return false
}

// sendStatus is the status a refused template send reveals
// (docs/whatsapp.md §3): Meta paused the template for low quality (132015;
// 3 h, then 6 h) or disabled it (132016, paused too often).
var sendStatus = map[int]string{132015: model.TemplatePaused, 132016: model.TemplateDisabled}

// MarkFromSendError records what a send refused with code says of the
// template: 132015 marks it PAUSED, 132016 DISABLED, at once (history
// source "send"), so that the next sends are blocked here instead of
// failing at Meta; the status webhook or the next sync confirms it. Other
// codes change nothing, nor does an unknown template. A DISABLED template
// is not moved back to PAUSED.
func (r *Registry) MarkFromSendError(ctx context.Context, name, language string, code int) error {
	return r.MarkFromSendErrorIn(ctx, "", name, language, code)
}

// MarkFromSendErrorIn is MarkFromSendError for a template of WABA waba
// ("" for the default one): the WABA of the number the send went from.
func (r *Registry) MarkFromSendErrorIn(ctx context.Context, waba, name, language string, code int) error {
	to, ok := sendStatus[code]
	if !ok {
		return nil
	}
	return r.change(ctx, func(now time.Time, tx *registryTx) {
		key := r.wabaKey(waba, name, language)
		old := tx.find(key)
		if old == nil || old.Status == to || old.Status == model.TemplateDisabled {
			return
		}
		rec := tx.edit(key)
		rec.SetStatus(to, model.TemplateChange{At: now, Event: strconv.Itoa(code),
			Detail: fmt.Sprintf("a send was refused with %d", code), Source: model.SourceSend})
		rec.UpdatedAt = now
		r.log.Warn("template refused by Meta at send; marked", "template", key, "status", to, "code", code)
	})
}
