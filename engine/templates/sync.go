package templates

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// templateParam finds a template variable: {{1}} or {{first_name}}.
var templateParam = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// countParams is how many parameters a text takes: one per distinct
// variable, as a variable used twice is filled once.
func countParams(text string) int {
	seen := map[string]bool{}
	for _, m := range templateParam.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}

// InfoFromWhatsApp reads what the engine checks before a send from
// a template as the Graph API lists it.
func InfoFromWhatsApp(t whatsapp.Template) model.TemplateInfo {
	info := model.TemplateInfo{Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status, Shape: ShapeFromWhatsApp(t)}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if strings.EqualFold(c.Format, "TEXT") || c.Format == "" {
				info.HeaderParams = countParams(c.Text)
			}
		case "BODY":
			info.BodyParams = countParams(c.Text)
		case "BUTTONS":
			for _, b := range c.Buttons {
				if strings.EqualFold(b.Type, "QUICK_REPLY") {
					info.QuickReplies++
				}
			}
		}
	}
	return info
}

// Lister lists a WhatsApp Business Account's templates:
// *whatsapp.Client.
type Lister interface {
	ListTemplates(ctx context.Context, wabaID string, q whatsapp.TemplateQuery) ([]whatsapp.Template, error)
}

// Template sync timing (docs/whatsapp.md §4.7: the Graph API allows 200
// management calls per hour per WABA without a registered number).
const (
	// DefaultTemplateSyncInterval is how often RunSync lists every
	// template: webhooks carry the changes, the sync catches any missed.
	DefaultTemplateSyncInterval = 15 * time.Minute
	// MinTemplateResync is the least time between two syncs asked for by
	// webhooks naming unknown templates, so that a burst of them costs one
	// listing, not one each.
	MinTemplateResync = time.Minute
	// templateSyncPage is the page size asked of the Graph API.
	templateSyncPage = 100
)

// SyncResult says what a Sync found.
type SyncResult struct {
	Listed  int // templates the Graph API listed
	Added   int // new to the registry
	Changed int // whose record changed (status, category, quality, components)
	Deleted int // no longer listed: now DELETED
}

// Sync lists every template of the account wabaID (all pages) and merges
// the list into the registry's templates of that account: each status,
// category and quality change is recorded in the template's history
// (source "sync"); templates of that account no longer listed become
// DELETED (another account's are left alone). If the listing fails part way, what was listed is
// merged, nothing is deleted, and the error is returned.
func (r *Registry) Sync(ctx context.Context, l Lister, wabaID string) (SyncResult, error) {
	if l == nil || wabaID == "" {
		return SyncResult{}, ErrNoTemplateAPI
	}
	started := r.clock.Now()
	ts, listErr := l.ListTemplates(ctx, wabaID, whatsapp.TemplateQuery{Limit: templateSyncPage})
	if listErr != nil {
		listErr = fmt.Errorf("listing templates of %s: %w", wabaID, listErr)
		if len(ts) == 0 {
			return SyncResult{}, listErr
		}
	}
	res := SyncResult{Listed: len(ts)}
	err := r.change(ctx, func(now time.Time, tx *registryTx) {
		listed := make(map[string]bool, len(ts))
		for _, t := range ts {
			key := r.wabaKey(wabaID, t.Name, t.Language)
			if t.Name == "" || t.Language == "" || listed[key] {
				continue
			}
			listed[key] = true
			old := tx.find(key)
			rec := tx.edit(key)
			if rec.WABAID == "" {
				rec.WABAID = wabaID
			}
			if mergeListed(rec, t, now) {
				if old == nil {
					res.Added++
				} else {
					res.Changed++
				}
				rec.UpdatedAt = now
			} else {
				tx.forget(key)
			}
		}
		if listErr != nil {
			return
		}
		for key, old := range tx.r.m {
			// A record changed since the listing began may be a template
			// created meanwhile: the next sync will tell.
			if old.WABAID != wabaID || listed[key] || old.Status == model.TemplateDeleted || !old.UpdatedAt.Before(started) {
				continue
			}
			rec := tx.edit(key)
			rec.SetStatus(model.TemplateDeleted, model.TemplateChange{At: now, Detail: "no longer listed by the Graph API", Source: model.SourceSync})
			rec.UpdatedAt = now
			res.Deleted++
		}
	})
	if err != nil {
		return res, err
	}
	if listErr == nil && wabaID == r.wabaID {
		r.mu.Lock()
		r.synced = r.clock.Now()
		r.mu.Unlock()
	}
	return res, listErr
}

// mergeListed brings rec up to t as listed, recording what changed; it
// reports whether anything did.
func mergeListed(rec *model.TemplateRecord, t whatsapp.Template, now time.Time) bool {
	before := rec.Clone()
	fresh := templateFromGraph(t)
	entry := model.TemplateChange{At: now, Source: model.SourceSync}
	if fresh.Status == model.TemplateRejected {
		entry.Reason = fresh.RejectedReason
	}
	rec.SetStatus(fresh.Status, entry)
	rec.SetCategory(fresh.Category, model.TemplateChange{At: now, Source: model.SourceSync})
	rec.SetQuality(fresh.Quality, model.TemplateChange{At: now, Source: model.SourceSync})
	rec.Name, rec.Language, rec.ID, rec.ParameterFormat = fresh.Name, fresh.Language, fresh.ID, fresh.ParameterFormat
	rec.HeaderParams, rec.BodyParams, rec.QuickReplies = fresh.HeaderParams, fresh.BodyParams, fresh.QuickReplies
	rec.Shape = fresh.Shape
	rec.Texts, rec.Buttons, rec.RejectedReason, rec.Incomplete = fresh.Texts, fresh.Buttons, fresh.RejectedReason, false
	return !sameRecord(before, rec)
}

// sameRecord compares everything a sync may change.
func sameRecord(a, b *model.TemplateRecord) bool {
	ai, bi := a.TemplateInfo, b.TemplateInfo
	ai.Shape, bi.Shape = nil, nil
	return ai == bi && sameShape(a.Shape, b.Shape) && a.ID == b.ID && a.ParameterFormat == b.ParameterFormat && a.Texts == b.Texts &&
		slices.Equal(a.Buttons, b.Buttons) && a.Quality == b.Quality && a.RejectedReason == b.RejectedReason &&
		a.Incomplete == b.Incomplete
}

// RunSync syncs the registry with the Graph API every interval
// (DefaultTemplateSyncInterval when 0), every account (RegistryOptions:
// WABAID, Accounts) in turn, and soon after a webhook named a template it
// did not know, until ctx is done. It does not sync at once: sync before
// serving (SyncAll), so that the first sends find the templates. Without
// an account with a Graph client it returns at once.
func (r *Registry) RunSync(ctx context.Context, every time.Duration) {
	if len(r.accounts) == 0 {
		return
	}
	if every <= 0 {
		every = DefaultTemplateSyncInterval
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.resync:
			if wait := MinTemplateResync - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		last = time.Now()
		r.SyncAll(ctx, false)
	}
}

// SyncAll syncs every account the registry keeps (RegistryOptions: WABAID,
// Accounts), one after the other, logging what each sync found (every
// sync when verbose, else only those that changed something) and each
// failure; one account failing does not stop the others. It reports
// whether every sync succeeded.
func (r *Registry) SyncAll(ctx context.Context, verbose bool) bool {
	ok := true
	for _, a := range r.accounts {
		res, err := r.Sync(ctx, a.Graph, a.WABAID)
		switch {
		case err != nil && ctx.Err() == nil:
			ok = false
			r.log.Error("template sync failed; sends from this account's numbers are checked against its templates as last stored until a sync succeeds",
				"waba_id", a.WABAID, "err", err)
		case err != nil:
			return false
		case verbose || res.Added+res.Changed+res.Deleted > 0:
			r.log.Info("templates synced", "waba_id", a.WABAID, "listed", res.Listed, "added", res.Added, "changed", res.Changed, "deleted", res.Deleted)
		}
	}
	return ok
}

// askResync asks RunSync for a sync soon.
func (r *Registry) askResync() {
	select {
	case r.resync <- struct{}{}:
	default:
	}
}

// SandboxTemplate is a template shaped to fit what a flow's template node
// sends, for seeding the sandbox with a template the flow names that it
// lacks: its header of the kind the node fills, a body with the node's
// variables (named if the node names them), its buttons at their
// positions, its cards, and a limited-time offer if the node says when
// one ends.
func SandboxTemplate(ref *flows.TemplateRef) whatsapp.Template {
	ts := flows.TemplateSend(*ref)
	shape := ShapeOfSend(&ts)
	t := whatsapp.Template{Name: ref.Name, Language: ref.Language, Category: "UTILITY", Status: whatsapp.TemplateApproved,
		ParameterFormat: shape.ParameterFormat}
	lead := func(s, text string) string { return strings.TrimSpace(s + " " + text) }
	header := func(format, text string) *whatsapp.TemplateComponent {
		switch format {
		case "":
			return nil
		case "TEXT":
			return &whatsapp.TemplateComponent{Type: "HEADER", Format: "TEXT", Text: lead("Header", text)}
		}
		return &whatsapp.TemplateComponent{Type: "HEADER", Format: format}
	}
	buttons := func(bs []model.ShapeButton) *whatsapp.TemplateComponent {
		if len(bs) == 0 {
			return nil
		}
		c := &whatsapp.TemplateComponent{Type: "BUTTONS"}
		for i, b := range bs {
			tb := whatsapp.TemplateButton{Type: b.Type, Text: fmt.Sprintf("Option %d", i+1)}
			switch b.Type {
			case "URL":
				tb.URL = "https://example.com/{{1}}"
			case "OTP":
				tb.OTPType = "COPY_CODE"
			}
			c.Buttons = append(c.Buttons, tb)
		}
		return c
	}
	if h := header(shape.HeaderFormat, shape.HeaderText); h != nil {
		t.Components = append(t.Components, *h)
	}
	if shape.LimitedTimeOffer {
		t.Components = append(t.Components, whatsapp.TemplateComponent{Type: "LIMITED_TIME_OFFER",
			LimitedTimeOffer: &whatsapp.TemplateLimitedOffer{Text: "Offer", HasExpiration: shape.OfferExpires}})
	}
	t.Components = append(t.Components, whatsapp.TemplateComponent{Type: "BODY", Text: lead("Message "+ref.Name, shape.BodyText)})
	if b := buttons(shape.Buttons); b != nil {
		t.Components = append(t.Components, *b)
	}
	if len(shape.Cards) > 0 {
		carousel := whatsapp.TemplateComponent{Type: "CAROUSEL"}
		for _, c := range shape.Cards {
			var card whatsapp.TemplateCard
			if h := header(c.HeaderFormat, ""); h != nil {
				card.Components = append(card.Components, *h)
			}
			card.Components = append(card.Components, whatsapp.TemplateComponent{Type: "BODY", Text: lead("Card", c.BodyText)})
			if b := buttons(c.Buttons); b != nil {
				card.Components = append(card.Components, *b)
			}
			carousel.Cards = append(carousel.Cards, card)
		}
		t.Components = append(t.Components, carousel)
	}
	return t
}
