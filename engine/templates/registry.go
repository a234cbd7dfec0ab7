package templates

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// Errors of the Registry.
var (
	// ErrNoTemplateAPI is returned by Create when the registry has no Graph
	// API client or no WhatsApp Business Account id.
	ErrNoTemplateAPI = errors.New("no template API: a WhatsApp Business Account id and a client are needed")
	// ErrInvalidTemplate is returned (wrapped, with the cause) by Create for
	// a template Meta would refuse outright: no name, language, category or
	// body.
	ErrInvalidTemplate = errors.New("invalid template")
)

// Graph is the part of the Graph API the registry uses:
// *whatsapp.Client.
type Graph interface {
	Lister
	CreateTemplate(ctx context.Context, wabaID string, t whatsapp.Template) (whatsapp.CreatedTemplate, error)
}

// RegistryOptions configure a Registry.
type RegistryOptions struct {
	// Store keeps the records; required.
	Store  model.Store
	Clock  Clock // default SystemClock
	Logger *slog.Logger
	// Graph and WABAID are what Create and RunSync talk to; without them
	// Create returns ErrNoTemplateAPI and RunSync returns at once.
	Graph  Graph
	WABAID string
	// Accounts are the other WhatsApp Business Accounts whose templates
	// the registry keeps (Parley serving numbers of several WABAs), each
	// with a client holding a token of one of its numbers. WABAID is the
	// default account: records stored without a WABA belong to it.
	Accounts []Account
}

// Account is a WhatsApp Business Account the registry syncs, and
// the Graph API client (a token of one of its numbers) it syncs with.
type Account struct {
	WABAID string
	Graph  Lister
}

// Registry is the durable template registry: every template of the
// business with its status history, kept current by syncs (Sync, RunSync),
// template webhooks (ApplyUpdate) and refused sends (MarkFromSendError). It
// implements Lookup, so sends are checked against it; reads never wait
// for the store. It is safe for concurrent use.
//
// Every change is written to the Store before it is acknowledged; a change
// the store refuses is undone in memory too, so what the registry answers
// is always what a restart would load.
type Registry struct {
	store  model.Store
	clock  Clock
	log    *slog.Logger
	graph  Graph
	wabaID string
	// accounts are the WABAs RunSync syncs, the default one first.
	accounts []Account

	// writeMu serialises changes from computing them to storing them, so
	// that stores happen in the order the changes were made.
	writeMu sync.Mutex
	mu      sync.RWMutex
	m       map[string]*model.TemplateRecord // by wabaKey; never changed in place
	synced  time.Time

	// resync asks RunSync for a sync soon: a webhook named a template the
	// registry does not know.
	resync chan struct{}
}

var _ Lookup = (*Registry)(nil)

// NewRegistry returns an empty registry; Load fills it from the store.
func NewRegistry(o RegistryOptions) *Registry {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Registry{
		store: o.Store, clock: o.Clock, log: o.Logger, graph: o.Graph, wabaID: o.WABAID,
		m: map[string]*model.TemplateRecord{}, resync: make(chan struct{}, 1),
	}
	if o.Graph != nil && o.WABAID != "" {
		r.accounts = append(r.accounts, Account{WABAID: o.WABAID, Graph: o.Graph})
	}
	for _, a := range o.Accounts {
		if a.WABAID == "" || a.Graph == nil || a.WABAID == o.WABAID || slices.ContainsFunc(r.accounts, func(b Account) bool { return b.WABAID == a.WABAID }) {
			continue
		}
		r.accounts = append(r.accounts, a)
	}
	return r
}

// WABA of templates. Templates belong to a WhatsApp Business Account: two
// numbers of two WABAs have two sets of templates, and a send is checked
// against the set of the WABA it goes from (TemplatesOf). A record names
// its WABA (TemplateRecord.WABAID); one stored without it — every record
// of a Parley that served one number, and every record of the default
// WABA (RegistryOptions.WABAID), as those are stored without it so that a
// one-number store keeps its keys — belongs to the default WABA: the
// registry fills it in when it loads the record.

// wabaKey is the registry's key of a template of WABA waba ("" for the
// default one).
func (r *Registry) wabaKey(waba, name, language string) string {
	return r.waba(waba) + "|" + templateKey(name, language)
}

// waba is the WABA id waba stands for: the default one for "".
func (r *Registry) waba(waba string) string {
	if waba == "" {
		return r.wabaID
	}
	return waba
}

// DefaultWABA is the default WABA's id (RegistryOptions.WABAID).
func (r *Registry) DefaultWABA() string { return r.wabaID }

// WABAs are the accounts the registry syncs, the default one first.
func (r *Registry) WABAs() []string {
	out := make([]string, 0, len(r.accounts))
	for _, a := range r.accounts {
		out = append(out, a.WABAID)
	}
	return out
}

// TemplatesOf is the registry as seen from WABA waba ("" for the default
// one): the templates of that account only.
func (r *Registry) TemplatesOf(waba string) Lookup { return wabaTemplates{r, r.waba(waba)} }

// wabaTemplates is the registry seen from one WABA.
type wabaTemplates struct {
	r    *Registry
	waba string
}

func (w wabaTemplates) Template(name, language string) (model.TemplateInfo, bool) {
	return w.r.TemplateIn(w.waba, name, language)
}

// MarkFromSendError is Registry.MarkFromSendErrorIn for the view's WABA.
func (w wabaTemplates) MarkFromSendError(ctx context.Context, name, language string, code int) error {
	return w.r.MarkFromSendErrorIn(ctx, w.waba, name, language, code)
}

// Load replaces what the registry holds with the store's records.
func (r *Registry) Load(ctx context.Context) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	recs, err := r.store.Templates(ctx)
	if err != nil {
		return fmt.Errorf("loading templates: %w", err)
	}
	m := make(map[string]*model.TemplateRecord, len(recs))
	for i := range recs {
		recs[i].WABAID = r.waba(recs[i].WABAID)
		m[r.wabaKey(recs[i].WABAID, recs[i].Name, recs[i].Language)] = &recs[i]
	}
	r.mu.Lock()
	r.m = m
	r.mu.Unlock()
	return nil
}

// Template implements Lookup for the default WABA: a template known
// only from a webhook is not returned until a sync has told its
// components.
func (r *Registry) Template(name, language string) (model.TemplateInfo, bool) {
	return r.TemplateIn("", name, language)
}

// TemplateIn is Template in WABA waba ("" for the default one).
func (r *Registry) TemplateIn(waba, name, language string) (model.TemplateInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rec, ok := r.m[r.wabaKey(waba, name, language)]
	if !ok || rec.Incomplete {
		return model.TemplateInfo{}, false
	}
	return rec.TemplateInfo, true
}

// Record returns a template's record with its history, in the default
// WABA.
func (r *Registry) Record(name, language string) (model.TemplateRecord, bool) {
	return r.RecordIn("", name, language)
}

// RecordIn is Record in WABA waba ("" for the default one).
func (r *Registry) RecordIn(waba, name, language string) (model.TemplateRecord, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rec, ok := r.m[r.wabaKey(waba, name, language)]
	if !ok {
		return model.TemplateRecord{}, false
	}
	return *rec.Clone(), true
}

// List returns every record of every WABA, by name, language, then WABA.
func (r *Registry) List() []model.TemplateRecord {
	r.mu.RLock()
	out := make([]model.TemplateRecord, 0, len(r.m))
	for _, rec := range r.m {
		out = append(out, *rec.Clone())
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		if out[i].Language != out[j].Language {
			return out[i].Language < out[j].Language
		}
		return out[i].WABAID < out[j].WABAID
	})
	return out
}

// LastSync is when the last successful Sync finished; zero before one.
func (r *Registry) LastSync() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.synced
}

// Create submits t for review through the Graph API, in the default WABA
// (templates of another WABA are created in Meta's tools and synced), and
// records it with
// the status Meta answers (PENDING), by whom it was created in its history.
// The verdict arrives as a webhook (ApplyUpdate). It returns the record.
func (r *Registry) Create(ctx context.Context, t whatsapp.Template, by string) (model.TemplateRecord, error) {
	if r.graph == nil || r.wabaID == "" {
		return model.TemplateRecord{}, ErrNoTemplateAPI
	}
	if err := checkNewTemplate(&t); err != nil {
		return model.TemplateRecord{}, err
	}
	created, err := r.graph.CreateTemplate(ctx, r.wabaID, t)
	if err != nil {
		return model.TemplateRecord{}, err
	}
	status := created.Status
	if status == "" {
		status = model.TemplatePending
	}
	key := r.wabaKey("", t.Name, t.Language)
	var out model.TemplateRecord
	// Meta has the template now: record it even if the caller has gone.
	err = r.change(context.WithoutCancel(ctx), func(now time.Time, tx *registryTx) {
		rec := tx.edit(key)
		detail := "created through Parley"
		if by != "" {
			detail += " by " + by
		}
		entry := model.TemplateChange{At: now, Kind: model.ChangeStatus, To: status, Detail: detail, Source: model.SourceLocal}
		fresh := templateFromGraph(t)
		fresh.ID, fresh.WABAID = created.ID, r.wabaID
		switch {
		case rec.Name == "":
			fresh.Status = status
			*rec = fresh
			rec.Record(entry)
		case rec.Incomplete:
			// The verdict's webhook overtook Meta's answer to the create:
			// keep what it said, and put the creation first.
			fresh.Status, fresh.Quality, fresh.WebhookAt = rec.Status, rec.Quality, rec.WebhookAt
			fresh.RejectedReason = rec.RejectedReason
			if fresh.Category == "" {
				fresh.Category = rec.Category
			}
			fresh.History = append([]model.TemplateChange{entry}, rec.History...)
			for i := range fresh.History[1:] {
				if h := &fresh.History[1+i]; h.Kind == model.ChangeStatus && h.From == "" {
					h.From = status
					break
				}
			}
			*rec = fresh
		default:
			// A template of that name and language existed before (deleted,
			// or rejected and fixed): this is its new life.
			fresh.Status, fresh.History = rec.Status, rec.History
			*rec = fresh
			rec.SetStatus(status, entry)
		}
		rec.SetCategory(created.Category, model.TemplateChange{At: now, Detail: "the category Meta gave at creation", Source: model.SourceLocal})
		rec.UpdatedAt = now
		out = *rec.Clone()
	})
	return out, err
}

// checkNewTemplate refuses what Meta would refuse before any review.
func checkNewTemplate(t *whatsapp.Template) error {
	var missing []string
	if strings.TrimSpace(t.Name) == "" {
		missing = append(missing, "name")
	}
	if t.Language == "" {
		missing = append(missing, "language")
	}
	if t.Category == "" {
		missing = append(missing, "category")
	}
	hasBody := false
	for _, c := range t.Components {
		hasBody = hasBody || strings.EqualFold(c.Type, "BODY")
	}
	if !hasBody {
		missing = append(missing, "a BODY component")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: it needs %s", ErrInvalidTemplate, strings.Join(missing, ", "))
	}
	return nil
}

// templateFromGraph is what a record holds of a template as the Graph API
// shows it.
func templateFromGraph(t whatsapp.Template) model.TemplateRecord {
	rec := model.TemplateRecord{TemplateInfo: InfoFromWhatsApp(t), ID: t.ID, ParameterFormat: t.ParameterFormat}
	if rec.ParameterFormat == "" {
		rec.ParameterFormat = whatsapp.ParamsPositional
	}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			rec.Texts.Header = c.Text
		case "BODY":
			rec.Texts.Body = c.Text
		case "FOOTER":
			rec.Texts.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				rec.Buttons = append(rec.Buttons, model.TemplateButtonInfo{Type: b.Type, Text: b.Text})
			}
		}
	}
	if t.QualityScore != nil {
		rec.Quality = t.QualityScore.Score
	}
	if t.RejectedReason != "NONE" {
		rec.RejectedReason = t.RejectedReason
	}
	return rec
}

// registryTx is one change of the registry in the making: the records it
// edits are copies, put in place by change once stored.
type registryTx struct {
	r      *Registry
	edited map[string]*model.TemplateRecord
	order  []string
}

// find returns the record under key as the change sees it, or nil; it
// must not be modified (edit it instead).
func (tx *registryTx) find(key string) *model.TemplateRecord {
	if rec, ok := tx.edited[key]; ok {
		return rec
	}
	return tx.r.m[key]
}

// edit returns a copy of the record under key to change, an empty one if
// there is none (its Name is "").
func (tx *registryTx) edit(key string) *model.TemplateRecord {
	if rec, ok := tx.edited[key]; ok {
		return rec
	}
	rec := &model.TemplateRecord{}
	if old := tx.r.m[key]; old != nil {
		rec = old.Clone()
	}
	tx.edited[key] = rec
	tx.order = append(tx.order, key)
	return rec
}

// forget drops an edit that turned out to change nothing.
func (tx *registryTx) forget(key string) {
	delete(tx.edited, key)
	for i, k := range tx.order {
		if k == key {
			tx.order = append(tx.order[:i], tx.order[i+1:]...)
			break
		}
	}
}

// change runs fn, stores the records it edited, and only then lets readers
// see them. If the store fails, nothing changes.
func (r *Registry) change(ctx context.Context, fn func(now time.Time, tx *registryTx)) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	// r.m only changes under writeMu: fn may read it without r.mu.
	tx := &registryTx{r: r, edited: map[string]*model.TemplateRecord{}}
	fn(r.clock.Now(), tx)
	if len(tx.order) == 0 {
		return nil
	}
	recs := make([]model.TemplateRecord, 0, len(tx.order))
	for _, k := range tx.order {
		rec := *tx.edited[k]
		if rec.WABAID == r.wabaID {
			rec.WABAID = "" // the default WABA's records are stored without it
		}
		recs = append(recs, rec)
	}
	if err := r.store.SaveTemplates(ctx, recs); err != nil {
		return fmt.Errorf("storing templates: %w", err)
	}
	r.mu.Lock()
	for _, k := range tx.order {
		r.m[k] = tx.edited[k]
	}
	r.mu.Unlock()
	return nil
}

// templateKey is how the registry and the stores name a template: names
// are not unique, a name and a language are (docs/whatsapp.md §4.5).
func templateKey(name, language string) string { return name + "/" + language }
