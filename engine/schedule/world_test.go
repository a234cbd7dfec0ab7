package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

const phone = "100000000000001"

// t0 is a Monday, an hour before the daily 09:00 of the tests.
var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// TestStore is what the world runs on: an engine store that keeps the
// scheduler's records too.
type TestStore interface {
	model.Store
	Records
}

// openStore opens the data file at path: boltstore.Open, set by
// open_test.go (package schedule_test), since boltstore imports this
// package and a test inside it cannot import boltstore back.
var openStore func(path string) (TestStore, error)

// SetOpenStore sets openStore (open_test.go).
func SetOpenStore(f func(path string) (TestStore, error)) { openStore = f }

// world is a Parley on a real bbolt file and a manual clock; reopen
// closes and opens it again, as a restart does.
type world struct {
	t     *testing.T
	ctx   context.Context
	path  string
	clock *engine.ManualClock
	opts  Options
	limit int
	tpls  *templates.Set
	// numbers are the business numbers served (none: any).
	numbers []engine.PhoneNumber

	store TestStore
	eng   *engine.Engine
	s     *Scheduler
	sent  *clockSender
}

func newWorld(t *testing.T, limit int) *world {
	t.Helper()
	w := &world{
		t: t, ctx: t.Context(), path: filepath.Join(t.TempDir(), "parley.db"), clock: engine.NewManualClock(t0), limit: limit,
		tpls: templates.NewSet(
			model.TemplateInfo{Name: "reminder", Language: "en", Category: "UTILITY", Status: model.TemplateApproved, BodyParams: 2},
			model.TemplateInfo{Name: "offer", Language: "en", Category: "MARKETING", Status: model.TemplateApproved},
		),
	}
	w.sent = &clockSender{clock: w.clock}
	w.open()
	t.Cleanup(func() { w.store.Close() })
	return w
}

func (w *world) open() {
	w.t.Helper()
	st, err := openStore(w.path)
	if err != nil {
		w.t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	eng, err := engine.New(w.ctx, engine.Options{Store: st, Clock: w.clock, Templates: w.tpls, Logger: log, MessagingLimit: w.limit, PhoneNumbers: w.numbers})
	if err != nil {
		w.t.Fatal(err)
	}
	o := w.opts
	o.Engine, o.Records, o.Logger = eng, st, log
	s, err := New(o)
	if err != nil {
		w.t.Fatal(err)
	}
	w.store, w.eng, w.s = st, eng, s
}

// reopen is a restart: nothing in memory survives.
func (w *world) reopen() {
	w.t.Helper()
	if err := w.store.Close(); err != nil {
		w.t.Fatal(err)
	}
	w.open()
}

func (w *world) tick() {
	w.t.Helper()
	if err := w.s.Tick(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

// contact creates a contact, opted in unless fn says otherwise.
func (w *world) contact(wa string, fn func(*model.Contact)) model.ContactKey {
	w.t.Helper()
	key := model.NewContactKey(phone, wa)
	_, err := w.eng.UpdateContact(w.ctx, key, func(c *model.Contact) {
		c.PhoneNumberID, c.WaID, c.Name = phone, wa, "Customer "+wa
		c.OptedIn, c.OptedInAt = true, t0.Add(-time.Hour)
		if fn != nil {
			fn(c)
		}
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return key
}

func (w *world) contacts(n int) []model.ContactKey {
	var keys []model.ContactKey
	for i := range n {
		keys = append(keys, w.contact(fmt.Sprintf("1555000%04d", i), nil))
	}
	return keys
}

// reminder is the daily 09:00 UTC reminder of the tests.
func reminder() Schedule {
	return Schedule{
		Name: "Appointment reminder", Cron: "0 9 * * *", TimeZone: "UTC",
		Action: Action{Kind: ActionSendTemplate, Template: &Template{Name: "reminder", Language: "en", Body: flows.TextParams("{{ name }}", "{{ fields.slot ?? 'soon' }}")}},
	}
}

func (w *world) create(sc Schedule) *Schedule {
	w.t.Helper()
	out, err := w.s.Create(w.ctx, sc, "tester")
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) firings(id string) []*Firing {
	w.t.Helper()
	fs, err := w.s.Firings(w.ctx, id, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return fs
}

// scheduled counts, per contact, the template messages schedules queued:
// what the outbox was given, whatever became of it.
func (w *world) scheduled() map[model.ContactKey]int {
	w.t.Helper()
	out := map[model.ContactKey]int{}
	cs, err := w.store.ListContacts(w.ctx, "", 0)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range cs {
		convs, err := w.store.Conversations(w.ctx, c.Key)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, conv := range convs {
			if !strings.HasPrefix(conv.Origin, "sched:") {
				continue
			}
			ms, err := w.store.Transcript(w.ctx, conv.ID)
			if err != nil {
				w.t.Fatal(err)
			}
			for _, m := range ms {
				if m.Direction == model.Out && m.Template != nil {
					out[c.Key]++
				}
			}
		}
	}
	return out
}

// drain runs a dispatcher until the outbox is empty.
func (w *world) drain() {
	w.t.Helper()
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.eng.NewDispatcher(engine.DispatchOptions{Sender: w.sent, Poll: 2 * time.Millisecond, Rate: 10000}).Run(ctx)
	}()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		items, err := w.store.Outbox(w.ctx, 0, 1)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("outbox not drained: %+v", items[0].Message)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
}

// clockSender accepts every send and notes the engine's time of each.
type clockSender struct {
	clock *engine.ManualClock
	mu    sync.Mutex
	at    []time.Time
	to    map[string]int
}

func (s *clockSender) Send(_ context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = append(s.at, s.clock.Now())
	if s.to == nil {
		s.to = map[string]int{}
	}
	s.to[m.To]++
	return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.%d", len(s.at))}, nil
}

// maxInWindow is the most sends in any moving 24 h.
func (s *clockSender) maxInWindow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := append([]time.Time(nil), s.at...)
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	most := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < model.LimitWindow; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}
