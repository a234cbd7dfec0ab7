package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// fakeGraph is the Graph API as a list the test sets: ListTemplates
// answers it (and err, if set, after it); CreateTemplate adds to it,
// PENDING, after calling beforeAnswer (a webhook that overtakes Meta's
// answer).
type fakeGraph struct {
	mu           sync.Mutex
	list         []whatsapp.Template
	err          error
	lists        int
	beforeAnswer func(t whatsapp.Template, id string)
}

func (g *fakeGraph) ListTemplates(_ context.Context, _ string, _ whatsapp.TemplateQuery) ([]whatsapp.Template, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lists++
	return append([]whatsapp.Template(nil), g.list...), g.err
}

func (g *fakeGraph) CreateTemplate(_ context.Context, _ string, t whatsapp.Template) (whatsapp.CreatedTemplate, error) {
	g.mu.Lock()
	id := fmt.Sprint(9000 + len(g.list))
	t.ID, t.Status = id, whatsapp.TemplatePending
	g.list = append(g.list, t)
	hook := g.beforeAnswer
	g.mu.Unlock()
	if hook != nil {
		hook(t, id)
	}
	return whatsapp.CreatedTemplate{ID: id, Status: whatsapp.TemplatePending, Category: t.Category}, nil
}

func (g *fakeGraph) set(ts ...whatsapp.Template) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.list = ts
}

// tpl is a listed template: a text header with header variables, a body
// with body variables, and the quick replies named.
func tpl(name, lang, status string, header, body int, replies ...string) whatsapp.Template {
	vars := func(n int) string {
		s := ""
		for i := range n {
			s += fmt.Sprintf(" {{%d}}.", i+1)
		}
		return s
	}
	t := whatsapp.Template{ID: "id-" + name + "-" + lang, Name: name, Language: lang, Category: whatsapp.CategoryUtility, Status: status,
		ParameterFormat: whatsapp.ParamsPositional, QualityScore: &whatsapp.TemplateQuality{Score: "GREEN"}}
	if header > 0 {
		t.Components = append(t.Components, whatsapp.TemplateComponent{Type: "HEADER", Format: "TEXT", Text: "Order" + vars(header)})
	}
	t.Components = append(t.Components, whatsapp.TemplateComponent{Type: "BODY", Text: "Hello" + vars(body)})
	if len(replies) > 0 {
		c := whatsapp.TemplateComponent{Type: "BUTTONS"}
		for _, r := range replies {
			c.Buttons = append(c.Buttons, whatsapp.TemplateButton{Type: "QUICK_REPLY", Text: r})
		}
		t.Components = append(t.Components, c)
	}
	return t
}

// failingStore refuses SaveTemplates while fail is set.
type failingStore struct {
	model.Store
	mu   sync.Mutex
	fail bool
}

func (s *failingStore) SaveTemplates(ctx context.Context, rs []model.TemplateRecord) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return s.Store.SaveTemplates(ctx, rs)
}

type regFixture struct {
	t     *testing.T
	ctx   context.Context
	clock *engine.ManualClock
	path  string
	store *failingStore
	graph *fakeGraph
	reg   *templates.Registry
}

// newRegistry is an empty registry over a fresh bbolt file, with a fake
// Graph API listing ts.
func newRegistry(t *testing.T, ts ...whatsapp.Template) *regFixture {
	t.Helper()
	f := &regFixture{t: t, ctx: t.Context(), clock: engine.NewManualClock(t0), path: filepath.Join(t.TempDir(), "parley.db"), graph: &fakeGraph{list: ts}}
	f.open()
	return f
}

// open (re)opens the store and loads a new registry from it.
func (f *regFixture) open() {
	f.t.Helper()
	st, err := boltstore.Open(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	f.store = &failingStore{Store: st}
	f.reg = templates.NewRegistry(templates.RegistryOptions{Store: f.store, Clock: f.clock, Logger: slog.New(slog.DiscardHandler), Graph: f.graph, WABAID: "waba"})
	if err := f.reg.Load(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// restart closes the store and opens it again: the registry must come
// back as it was.
func (f *regFixture) restart() {
	f.t.Helper()
	before := f.reg.List()
	if err := f.store.Store.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
	sameJSON(f.t, "registry after a restart", f.reg.List(), before)
}

func (f *regFixture) sync() templates.SyncResult {
	f.t.Helper()
	res, err := f.reg.Sync(f.ctx, f.graph, "waba")
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *regFixture) apply(u whatsapp.TemplateUpdate) {
	f.t.Helper()
	if err := f.reg.ApplyUpdate(f.ctx, u); err != nil {
		f.t.Fatal(err)
	}
}

func (f *regFixture) record(name, lang string) model.TemplateRecord {
	f.t.Helper()
	rec, ok := f.reg.Record(name, lang)
	if !ok {
		f.t.Fatalf("no template %s/%s", name, lang)
	}
	return rec
}

// history is a record's history, one change a line:
// "source kind from>to event reason".
func history(rec model.TemplateRecord) []string {
	var out []string
	for _, h := range rec.History {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s>%s %s %s", h.Source, h.Kind, h.From, h.To, h.Event, h.Reason)))
	}
	return out
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestRegistrySyncMergesAndRecordsHistory(t *testing.T) {
	f := newRegistry(t,
		tpl("order_update", "en_US", "APPROVED", 1, 2, "Track", "Stop"),
		tpl("order_update", "de", "PENDING", 0, 2),
		tpl("promo", "en_US", "APPROVED", 0, 0))
	if res := f.sync(); res != (templates.SyncResult{Listed: 3, Added: 3}) {
		t.Errorf("first sync: %+v", res)
	}
	if got := f.reg.LastSync(); !got.Equal(t0) {
		t.Errorf("LastSync = %v, want %v", got, t0)
	}
	info, ok := f.reg.Template("order_update", "en_US")
	want := model.TemplateInfo{Name: "order_update", Language: "en_US", Category: "UTILITY", Status: "APPROVED", HeaderParams: 1, BodyParams: 2, QuickReplies: 2}
	shape := info.Shape
	info.Shape = nil
	if !ok || info != want || shape == nil || len(shape.Buttons) != 2 || shape.HeaderFormat != "TEXT" {
		t.Errorf("Template = %+v, %v; want %+v", info, ok, want)
	}
	rec := f.record("order_update", "en_US")
	if rec.ID != "id-order_update-en_US" || rec.ParameterFormat != "POSITIONAL" || rec.Quality != "GREEN" ||
		len(rec.Buttons) != 2 || rec.Buttons[1] != (model.TemplateButtonInfo{Type: "QUICK_REPLY", Text: "Stop"}) {
		t.Errorf("record: %+v", rec)
	}
	sameLines(t, history(rec), []string{"sync status >APPROVED"})

	// Nothing changed: nothing is written, nothing recorded.
	if res := f.sync(); res != (templates.SyncResult{Listed: 3}) {
		t.Errorf("sync of the same list: %+v", res)
	}

	// Meta rejected the German one, recategorised and downgraded the
	// English one, and promo is gone.
	f.clock.Advance(time.Hour)
	de := tpl("order_update", "de", "REJECTED", 0, 2)
	de.RejectedReason = "INVALID_FORMAT"
	en := tpl("order_update", "en_US", "APPROVED", 1, 2, "Track", "Stop")
	en.Category, en.QualityScore = whatsapp.CategoryMarketing, &whatsapp.TemplateQuality{Score: "YELLOW"}
	f.graph.set(en, de)
	if res := f.sync(); res != (templates.SyncResult{Listed: 2, Changed: 2, Deleted: 1}) {
		t.Errorf("second sync: %+v", res)
	}
	sameLines(t, history(f.record("order_update", "de")), []string{"sync status >PENDING", "sync status PENDING>REJECTED  INVALID_FORMAT"})
	if r := f.record("order_update", "de"); r.RejectedReason != "INVALID_FORMAT" {
		t.Errorf("rejected reason %q", r.RejectedReason)
	}
	sameLines(t, history(f.record("order_update", "en_US")), []string{"sync status >APPROVED", "sync category UTILITY>MARKETING", "sync quality GREEN>YELLOW"})
	sameLines(t, history(f.record("promo", "en_US")), []string{"sync status >APPROVED", "sync status APPROVED>DELETED"})
	if _, ok := f.reg.Template("promo", "en_US"); !ok {
		t.Error("a deleted template left the registry; it is kept, DELETED, with its history")
	}
	f.restart()

	// A listing that fails part way merges what it got and deletes nothing.
	f.clock.Advance(time.Hour)
	f.graph.set(tpl("order_update", "de", "APPROVED", 0, 2))
	f.graph.err = errors.New("connection reset")
	lastSync := f.reg.LastSync()
	res, err := f.reg.Sync(f.ctx, f.graph, "waba")
	if err == nil || res != (templates.SyncResult{Listed: 1, Changed: 1}) {
		t.Errorf("partial sync: %+v, %v", res, err)
	}
	if r := f.record("order_update", "en_US"); r.Status != "APPROVED" {
		t.Errorf("a partial listing deleted order_update/en_US: %s", r.Status)
	}
	if r := f.record("order_update", "de"); r.Status != "APPROVED" || r.RejectedReason != "" {
		t.Errorf("a partial listing was not merged: %s %q", r.Status, r.RejectedReason)
	}
	if got := f.reg.LastSync(); !got.Equal(lastSync) {
		t.Errorf("a failed sync moved LastSync to %v", got)
	}
}

// Sync reads every page: the sandbox pages by 100 at most, as Meta does.
func TestRegistrySyncReadsEveryPage(t *testing.T) {
	sb := sandbox.New(sandbox.Config{})
	for i := range 130 {
		sb.AddTemplate(sandbox.Template{Name: fmt.Sprintf("tpl_%03d", i), Language: "en_US",
			Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hi {{1}}"}}})
	}
	url, err := sb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	client := whatsapp.NewClient(url, sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
	f := newRegistry(t)
	res, err := f.reg.Sync(f.ctx, client, sandbox.DefaultWABAID)
	if err != nil || res.Listed != 130 || res.Added != 130 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	// The fixture's default WABA is "waba": the sandbox's is another one.
	if info, ok := f.reg.TemplateIn(sandbox.DefaultWABAID, "tpl_129", "en_US"); !ok || info.BodyParams != 1 || info.Status != "APPROVED" {
		t.Errorf("last template: %+v, %v", info, ok)
	}
}

// hookAt is a webhook time: Meta's entry[].time, in seconds.
func hookAt(d time.Duration) time.Time { return t0.Add(d).Truncate(time.Second) }

func statusEvent(event, reason string, when time.Duration) whatsapp.TemplateUpdate {
	return whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateStatus, Time: hookAt(when), TemplateID: "id-order_update-en_US",
		TemplateName: "order_update", Language: "en_US", Event: event, Reason: reason, Category: "UTILITY"}
}

func TestRegistryApplyUpdate(t *testing.T) {
	rejected := statusEvent("REJECTED", "INVALID_FORMAT", time.Minute)
	rejected.Rejection = &whatsapp.TemplateRejection{Reason: "Adjacent parameters.", Recommendation: "Put text between them."}
	disabled := statusEvent("DISABLED", "NONE", time.Minute)
	disabled.DisableDate = "2026-01-05"
	quality := func(prev, next string, when time.Duration) whatsapp.TemplateUpdate {
		// Quality updates may name the template by id alone.
		return whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateQuality, Time: hookAt(when), TemplateID: "id-order_update-en_US", PrevQuality: prev, NewQuality: next}
	}
	category := whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateCategory, Time: hookAt(time.Minute), TemplateID: "id-order_update-en_US",
		TemplateName: "order_update", Language: "en_US", PrevCategory: "UTILITY", NewCategory: "MARKETING"}
	notice := category
	notice.NewCategory, notice.CorrectCategory = "", "MARKETING"

	cases := []struct {
		name    string
		listed  string // the template's status as the first sync lists it
		updates []whatsapp.TemplateUpdate
		status  string
		history []string // after the sync's own first line
		check   func(t *testing.T, rec model.TemplateRecord)
	}{
		{
			name: "approved after review", listed: "PENDING",
			updates: []whatsapp.TemplateUpdate{statusEvent("APPROVED", "NONE", time.Minute)},
			status:  "APPROVED", history: []string{"webhook status PENDING>APPROVED APPROVED"},
		},
		{
			name: "rejected, with the reason and Meta's advice", listed: "PENDING",
			updates: []whatsapp.TemplateUpdate{rejected},
			status:  "REJECTED", history: []string{"webhook status PENDING>REJECTED REJECTED INVALID_FORMAT"},
			check: func(t *testing.T, rec model.TemplateRecord) {
				if rec.RejectedReason != "INVALID_FORMAT" || rec.History[1].Detail != "Adjacent parameters. Put text between them." {
					t.Errorf("reason %q, detail %q", rec.RejectedReason, rec.History[1].Detail)
				}
			},
		},
		{
			name: "redelivered: applied once", listed: "PENDING",
			updates: []whatsapp.TemplateUpdate{statusEvent("APPROVED", "NONE", time.Minute), statusEvent("APPROVED", "NONE", time.Minute)},
			status:  "APPROVED", history: []string{"webhook status PENDING>APPROVED APPROVED"},
		},
		{
			name: "redelivered after a later event: applied once, the later status kept", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("PAUSED", "NONE", time.Minute), statusEvent("REINSTATED", "NONE", 2*time.Minute), statusEvent("PAUSED", "NONE", time.Minute)},
			status:  "APPROVED", history: []string{"webhook status APPROVED>PAUSED PAUSED", "webhook status PAUSED>APPROVED REINSTATED"},
		},
		{
			name: "an approval Parley already knows of records nothing", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("APPROVED", "NONE", time.Minute)},
			status:  "APPROVED",
		},
		{
			name: "flagged: still approved, the warning recorded", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("FLAGGED", "NONE", time.Minute)},
			status:  "APPROVED", history: []string{"webhook status APPROVED>APPROVED FLAGGED"},
		},
		{
			name: "paused, then reinstated", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("PAUSED", "NONE", time.Minute), statusEvent("REINSTATED", "NONE", 3*time.Hour)},
			status:  "APPROVED", history: []string{"webhook status APPROVED>PAUSED PAUSED", "webhook status PAUSED>APPROVED REINSTATED"},
		},
		{
			name: "out of order: an older pause arriving after the reinstatement changes nothing", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("REINSTATED", "NONE", 3*time.Hour), statusEvent("PAUSED", "NONE", time.Minute)},
			status:  "APPROVED", history: []string{"webhook status APPROVED>APPROVED REINSTATED", "webhook status APPROVED>APPROVED PAUSED"},
			check: func(t *testing.T, rec model.TemplateRecord) {
				if d := rec.History[2].Detail; !strings.Contains(d, "the status is kept") {
					t.Errorf("the late event's detail: %q", d)
				}
			},
		},
		{
			name: "disabled, with the date", listed: "PAUSED",
			updates: []whatsapp.TemplateUpdate{disabled},
			status:  "DISABLED", history: []string{"webhook status PAUSED>DISABLED DISABLED"},
			check: func(t *testing.T, rec model.TemplateRecord) {
				if d := rec.History[1].Detail; d != "disabled on 2026-01-05" {
					t.Errorf("detail %q", d)
				}
			},
		},
		{
			name: "archived, then unarchived: back to what it was", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("ARCHIVED", "NONE", time.Minute), statusEvent("UNARCHIVED", "NONE", time.Hour)},
			status:  "APPROVED", history: []string{"webhook status APPROVED>ARCHIVED ARCHIVED", "webhook status ARCHIVED>APPROVED UNARCHIVED"},
		},
		{
			name: "an event Parley does not know: recorded, the status kept", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{statusEvent("SOMETHING_NEW", "NONE", time.Minute)},
			status:  "APPROVED", history: []string{"webhook status APPROVED>APPROVED SOMETHING_NEW"},
		},
		{
			name: "quality, by template id, once", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{quality("GREEN", "YELLOW", time.Minute), quality("GREEN", "YELLOW", time.Minute), quality("YELLOW", "RED", time.Hour)},
			status:  "APPROVED", history: []string{"webhook quality GREEN>YELLOW", "webhook quality YELLOW>RED"},
			check: func(t *testing.T, rec model.TemplateRecord) {
				if rec.Quality != "RED" {
					t.Errorf("quality %s", rec.Quality)
				}
			},
		},
		{
			name: "recategorised", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{category, category},
			status:  "APPROVED", history: []string{"webhook category UTILITY>MARKETING"},
			check: func(t *testing.T, rec model.TemplateRecord) {
				if rec.Category != "MARKETING" {
					t.Errorf("category %s", rec.Category)
				}
			},
		},
		{
			name: "a recategorisation announced: recorded, the category kept until it happens", listed: "APPROVED",
			updates: []whatsapp.TemplateUpdate{notice, notice},
			status:  "APPROVED", history: []string{"webhook category UTILITY>MARKETING correct_category"},
			check: func(t *testing.T, rec model.TemplateRecord) {
				if rec.Category != "UTILITY" {
					t.Errorf("category %s", rec.Category)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRegistry(t, tpl("order_update", "en_US", tc.listed, 0, 1))
			f.sync()
			for _, u := range tc.updates {
				f.apply(u)
			}
			rec := f.record("order_update", "en_US")
			if rec.Status != tc.status {
				t.Errorf("status %s, want %s", rec.Status, tc.status)
			}
			sameLines(t, history(rec), append([]string{"sync status >" + tc.listed}, tc.history...))
			if tc.check != nil {
				tc.check(t, rec)
			}
			f.restart()
		})
	}
}

// A webhook about a template Parley has never listed is kept, but the
// template is not sendable until a sync tells its components; RunSync
// syncs soon after.
func TestRegistryUnknownTemplateAsksForASync(t *testing.T) {
	f := newRegistry(t)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	go f.reg.RunSync(ctx, time.Hour)

	f.graph.set(tpl("welcome", "en_US", "APPROVED", 0, 2))
	u := statusEvent("APPROVED", "NONE", time.Minute)
	u.TemplateName, u.Language, u.TemplateID = "welcome", "en_US", "id-welcome-en_US"
	f.apply(u)
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		if info, ok := f.reg.Template("welcome", "en_US"); ok {
			if info.BodyParams != 2 || info.Status != "APPROVED" {
				t.Errorf("after the sync: %+v", info)
			}
			break
		}
		rec := f.record("welcome", "en_US")
		if !rec.Incomplete || rec.Status != "APPROVED" {
			t.Fatalf("before the sync: %+v", rec)
		}
		if time.Now().After(deadline) {
			t.Fatal("no sync after a webhook named an unknown template")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec := f.record("welcome", "en_US")
	sameLines(t, history(rec), []string{"webhook status >APPROVED APPROVED"})
	if rec.Incomplete {
		t.Error("still incomplete after the sync")
	}
}

// A change the store refuses is not made: the webhook is not acknowledged,
// and its redelivery applies it.
func TestRegistryStoreFailureChangesNothing(t *testing.T) {
	f := newRegistry(t, tpl("order_update", "en_US", "PENDING", 0, 1))
	f.sync()
	f.store.fail = true
	if err := f.reg.ApplyUpdate(f.ctx, statusEvent("APPROVED", "NONE", time.Minute)); err == nil {
		t.Fatal("ApplyUpdate succeeded with the store failing")
	}
	if rec := f.record("order_update", "en_US"); rec.Status != "PENDING" || len(rec.History) != 1 {
		t.Errorf("a change the store refused was kept: %+v", rec)
	}
	f.store.fail = false
	f.apply(statusEvent("APPROVED", "NONE", time.Minute))
	if rec := f.record("order_update", "en_US"); rec.Status != "APPROVED" {
		t.Errorf("the redelivery was not applied: %s", rec.Status)
	}
	f.restart()
}

func TestRegistryHistoryIsCapped(t *testing.T) {
	f := newRegistry(t, tpl("order_update", "en_US", "APPROVED", 0, 1))
	f.sync()
	scores := []string{"GREEN", "YELLOW"}
	for i := range model.MaxTemplateHistory + 20 {
		f.apply(whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateQuality, Time: hookAt(time.Duration(i) * time.Minute),
			TemplateName: "order_update", Language: "en_US", NewQuality: scores[(i+1)%2]})
	}
	rec := f.record("order_update", "en_US")
	if len(rec.History) != model.MaxTemplateHistory {
		t.Fatalf("%d changes kept, want %d", len(rec.History), model.MaxTemplateHistory)
	}
	if last := rec.History[len(rec.History)-1]; !last.At.Equal(hookAt(time.Duration(model.MaxTemplateHistory+19) * time.Minute)) {
		t.Errorf("the newest change was dropped: %+v", last)
	}
}

func TestRegistryMarkFromSendError(t *testing.T) {
	cases := []struct {
		name, listed string
		code         int
		status       string
		history      []string
	}{
		{"132015 pauses", "APPROVED", 132015, "PAUSED", []string{"send status APPROVED>PAUSED 132015"}},
		{"132016 disables", "APPROVED", 132016, "DISABLED", []string{"send status APPROVED>DISABLED 132016"}},
		{"132016 disables a paused one", "PAUSED", 132016, "DISABLED", []string{"send status PAUSED>DISABLED 132016"}},
		{"132015 leaves a disabled one disabled", "DISABLED", 132015, "DISABLED", nil},
		{"132015 on a paused one records nothing more", "PAUSED", 132015, "PAUSED", nil},
		{"other codes change nothing", "APPROVED", 131047, "APPROVED", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRegistry(t, tpl("order_update", "en_US", tc.listed, 0, 1))
			f.sync()
			if err := f.reg.MarkFromSendError(f.ctx, "order_update", "en_US", tc.code); err != nil {
				t.Fatal(err)
			}
			rec := f.record("order_update", "en_US")
			if rec.Status != tc.status {
				t.Errorf("status %s, want %s", rec.Status, tc.status)
			}
			sameLines(t, history(rec), append([]string{"sync status >" + tc.listed}, tc.history...))
			f.restart()
		})
	}
	f := newRegistry(t)
	if err := f.reg.MarkFromSendError(f.ctx, "nope", "en_US", 132015); err != nil {
		t.Errorf("an unknown template: %v", err)
	}
	if len(f.reg.List()) != 0 {
		t.Error("an unknown template was created by a send error")
	}
}

func newTemplate(name string) whatsapp.Template {
	return whatsapp.Template{Name: name, Language: "en_US", Category: whatsapp.CategoryUtility, Components: []whatsapp.TemplateComponent{
		{Type: "BODY", Text: "Your order {{1}} ships {{2}}."},
		{Type: "BUTTONS", Buttons: []whatsapp.TemplateButton{{Type: "QUICK_REPLY", Text: "Track"}}},
	}}
}

func TestRegistryCreate(t *testing.T) {
	f := newRegistry(t)
	rec, err := f.reg.Create(f.ctx, newTemplate("order_shipped"), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "PENDING" || rec.ID == "" || rec.BodyParams != 2 || rec.QuickReplies != 1 || rec.Incomplete {
		t.Errorf("created: %+v", rec)
	}
	sameLines(t, history(rec), []string{"local status >PENDING"})
	if d := rec.History[0].Detail; d != "created through Parley by ana" {
		t.Errorf("detail %q", d)
	}
	u := statusEvent("APPROVED", "NONE", time.Minute)
	u.TemplateName, u.TemplateID = "order_shipped", rec.ID
	f.apply(u)
	sameLines(t, history(f.record("order_shipped", "en_US")), []string{"local status >PENDING", "webhook status PENDING>APPROVED APPROVED"})
	f.restart()

	// The verdict may overtake Meta's answer to the create.
	f.graph.beforeAnswer = func(t whatsapp.Template, id string) {
		u := statusEvent("APPROVED", "NONE", 2*time.Minute)
		u.TemplateName, u.TemplateID = t.Name, id
		f.apply(u)
	}
	rec, err = f.reg.Create(f.ctx, newTemplate("order_delayed"), "")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "APPROVED" || rec.Incomplete || rec.BodyParams != 2 {
		t.Errorf("created after its verdict: %+v", rec)
	}
	sameLines(t, history(rec), []string{"local status >PENDING", "webhook status PENDING>APPROVED APPROVED"})

	for _, bad := range []whatsapp.Template{{Name: "x", Language: "en_US"}, {Name: "x", Language: "en_US", Category: "UTILITY"}} {
		if _, err := f.reg.Create(f.ctx, bad, ""); !errors.Is(err, templates.ErrInvalidTemplate) {
			t.Errorf("create %+v: %v", bad, err)
		}
	}
	none := templates.NewRegistry(templates.RegistryOptions{Store: f.store})
	if _, err := none.Create(f.ctx, newTemplate("x"), ""); !errors.Is(err, templates.ErrNoTemplateAPI) {
		t.Errorf("create without a Graph API: %v", err)
	}
}

func TestTemplateInfoFromWhatsApp(t *testing.T) {
	body := func(text string) whatsapp.TemplateComponent {
		return whatsapp.TemplateComponent{Type: "BODY", Text: text}
	}
	cases := []struct {
		name       string
		components []whatsapp.TemplateComponent
		header     int
		body       int
		replies    int
	}{
		{"positional", []whatsapp.TemplateComponent{body("Hi {{1}}, order {{2}}")}, 0, 2, 0},
		{"named", []whatsapp.TemplateComponent{body("Hi {{first_name}}, order {{ order_id }}")}, 0, 2, 0},
		{"a variable used twice is one parameter", []whatsapp.TemplateComponent{body("{{1}} ordered; thanks, {{1}}!")}, 0, 1, 0},
		{"a text header", []whatsapp.TemplateComponent{{Type: "HEADER", Format: "TEXT", Text: "Order {{1}}"}, body("Hi")}, 1, 0, 0},
		{"a media header takes no text parameter", []whatsapp.TemplateComponent{{Type: "HEADER", Format: "IMAGE"}, body("Hi")}, 0, 0, 0},
		{"quick replies among other buttons", []whatsapp.TemplateComponent{body("Hi"), {Type: "BUTTONS", Buttons: []whatsapp.TemplateButton{
			{Type: "QUICK_REPLY", Text: "Yes"}, {Type: "QUICK_REPLY", Text: "No"}, {Type: "URL", Text: "Track", URL: "https://x.io/{{1}}"}}}}, 0, 0, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info := templates.InfoFromWhatsApp(whatsapp.Template{Name: "x", Language: "en_US", Components: tc.components})
			if info.HeaderParams != tc.header || info.BodyParams != tc.body || info.QuickReplies != tc.replies {
				t.Errorf("header %d, body %d, quick replies %d; want %d, %d, %d", info.HeaderParams, info.BodyParams, info.QuickReplies, tc.header, tc.body, tc.replies)
			}
		})
	}
}
