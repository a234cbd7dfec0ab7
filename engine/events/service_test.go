package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

const phone = "100000000000001"

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// echoFlow answers every message, forever.
const echoFlow = `{"format": "parley/flow@1", "id": "echo", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "save_as": "said", "next": "answer"},
  {"id": "answer", "type": "send", "message": {"type": "text", "text": "you said {{ vars.said }}"}, "next": "ask"}
 ]}`

var testKey = bytes.Repeat([]byte{7}, 32)

// world is Parley's data file, engine and event service, which a test can
// stop and start again over the same file, with a receiver on loopback.
type world struct {
	t       *testing.T
	ctx     context.Context
	path    string
	clock   *engine.ManualClock
	store   *boltstore.Store
	eng     *engine.Engine
	svc     *events.Service
	metrics *metrics.Registry
	n       int
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "parley.db"), clock: engine.NewManualClock(t0)}
	w.start()
	if _, _, err := w.eng.Publish(w.ctx, []byte(echoFlow), "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.store.Close() })
	return w
}

// start opens the file and starts the engine and the service on it.
func (w *world) start() {
	w.t.Helper()
	var err error
	if w.store, err = boltstore.Open(w.path); err != nil {
		w.t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if w.eng, err = engine.New(w.ctx, engine.Options{Store: w.store, Clock: w.clock, Templates: templates.NewSet(), Logger: log}); err != nil {
		w.t.Fatal(err)
	}
	w.metrics = metrics.NewRegistry()
	if w.svc, err = events.New(w.ctx, events.Options{Store: w.store, Key: testKey, Engine: w.eng, Clock: w.clock, Logger: log,
		Metrics: w.metrics, Timeout: 5 * time.Second, Rand: func() float64 { return 0.5 }}); err != nil {
		w.t.Fatal(err)
	}
}

// restart stops everything and starts it again on the same file, as after
// a crash: nothing in memory survives.
func (w *world) restart() {
	w.t.Helper()
	if err := w.store.Close(); err != nil {
		w.t.Fatal(err)
	}
	w.start()
}

func (w *world) say(waID, text string) {
	w.t.Helper()
	w.n++
	if _, err := w.eng.HandleInbound(w.ctx, &engine.Inbound{PhoneNumberID: phone, ID: fmt.Sprintf("wamid.%d", w.n), WaID: waID,
		At: w.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: text}}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) pass() int {
	w.t.Helper()
	n, err := w.svc.Pass(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// receiver is a business's endpoint on loopback: it can answer 503, be
// gone (connections refused), or take events, checking their signature.
type receiver struct {
	t      *testing.T
	clock  engine.Clock
	addr   string
	secret string
	mu     sync.Mutex
	srv    *http.Server
	down   bool // answer 503
	// refuse answers 503 to the events of this contact only.
	refuse model.ContactKey
	got    []model.Event
	ids    map[string]int
}

func newReceiver(t *testing.T, clock engine.Clock) *receiver {
	r := &receiver{t: t, clock: clock, ids: map[string]int{}}
	r.up("127.0.0.1:0")
	t.Cleanup(r.gone)
	return r
}

// up listens on addr (the same address again after gone).
func (r *receiver) up(addr string) {
	r.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve)}
	srv := r.srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// gone closes the listener: connections are refused.
func (r *receiver) gone() {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *receiver) url() string { return "http://" + r.addr + "/hooks/parley" }

func (r *receiver) serve(rw http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		http.Error(rw, "maintenance", http.StatusServiceUnavailable)
		return
	}
	if err := events.Verify(r.secret, req.Header.Get(events.HeaderSignature), body, r.clock.Now(), events.DefaultTolerance); err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(rw, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev model.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("receiver: %v", err)
	}
	if ev.Contact == r.refuse && r.refuse != "" {
		http.Error(rw, "this one fails", http.StatusServiceUnavailable)
		return
	}
	if ev.ID != req.Header.Get(events.HeaderEventID) || string(ev.Type) != req.Header.Get(events.HeaderEventType) {
		r.t.Errorf("receiver: headers %v do not name event %s %s", req.Header, ev.ID, ev.Type)
	}
	r.ids[ev.ID]++
	r.got = append(r.got, ev)
	rw.WriteHeader(http.StatusNoContent)
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// byContact returns the received events' "type text" per contact, in the
// order received.
func (r *receiver) byContact() map[model.ContactKey][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[model.ContactKey][]string{}
	for _, ev := range r.got {
		s := string(ev.Type)
		var d model.ReceivedData
		if ev.Type == model.EventMessageReceived && json.Unmarshal(ev.Data, &d) == nil {
			s += " " + d.Message.Text
		}
		out[ev.Contact] = append(out[ev.Contact], s)
	}
	return out
}

func (w *world) subscribe(r *receiver, types ...model.EventType) events.Info {
	w.t.Helper()
	u := r.url()
	in := events.Input{URL: &u}
	if types != nil {
		in.Types = &types
	}
	sub, secret, err := w.svc.Create(w.ctx, in, "admin@example.com")
	if err != nil {
		w.t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || !strings.HasSuffix(secret, sub.SecretHint) {
		w.t.Fatalf("secret %q, hint %q", secret, sub.SecretHint)
	}
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
	return sub
}

// TestReceiverDownThenUp is issue 12's "a subscription URL down for an
// hour": events wait, survive a restart, and are delivered after, once
// each, in order per contact, signed.
func TestReceiverDownThenUp(t *testing.T) {
	w := newWorld(t)
	r := newReceiver(t, w.clock)
	w.say("1", "before anyone listens") // no subscription: not recorded
	sub := w.subscribe(r)

	// Down (503): each contact's first event is tried; the rest wait
	// behind it.
	r.setDown(true)
	w.say("1", "one")
	w.say("2", "uno")
	w.say("1", "two")
	if n := w.pass(); n != 2 {
		t.Fatalf("%d attempts while down, want 2 (one per contact; the others wait their turn)", n)
	}
	ds, err := w.svc.Deliveries(w.ctx, sub.ID, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 4 { // 1: received one and two; 2: started, received uno
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	waiting, retrying := 0, 0
	for _, d := range ds {
		a, ok := d.LastAttempt()
		switch {
		case d.State != events.Pending:
			t.Fatalf("delivery %d %s while the receiver is down", d.Seq, d.State)
		case ok && (a.Status != 503 || !strings.Contains(a.Error, "HTTP 503") || !d.NextAt.Equal(w.clock.Now().Add(events.Backoff(1, 0.5)))):
			t.Fatalf("attempt %+v, next %v: want a 503 and a retry in %v", a, d.NextAt, events.Backoff(1, 0.5))
		case ok:
			retrying++
		case d.NextAt.IsZero():
			waiting++
		}
	}
	if retrying != 2 || waiting != len(ds)-2 {
		t.Fatalf("%d retrying, %d waiting of %d", retrying, waiting, len(ds))
	}

	var metricsText strings.Builder
	if _, err := w.metrics.WriteTo(&metricsText); err != nil || !strings.Contains(metricsText.String(), "parley_event_deliveries_pending 4\n") ||
		!strings.Contains(metricsText.String(), `parley_event_deliveries_total{result="retry"} 2`) {
		t.Fatalf("metrics: %v\n%s", err, metricsText.String())
	}

	// Gone (refused connections) for an hour, through a restart.
	r.gone()
	for range 6 {
		w.clock.Advance(10 * time.Minute)
		w.pass()
		w.say("2", "still there?")
	}
	w.restart()
	w.clock.Advance(10 * time.Minute)
	w.pass()
	ds, _ = w.svc.Deliveries(w.ctx, sub.ID, events.Pending, 0, 0)
	for _, d := range ds {
		if a, ok := d.LastAttempt(); ok && (a.Status != 0 || !strings.Contains(a.Error, "refused")) {
			t.Fatalf("attempt %+v: want a refused connection", a)
		}
	}

	// A third contact writes: its first retry comes long before the
	// others' (their backoff has grown to minutes).
	w.say("3", "hola")
	w.pass()

	// Back: the first retry that goes through brings every other one
	// forward; nothing waits out its backoff.
	r.setDown(false)
	r.up(r.addr)
	next, ok, err := w.store.NextDue(w.ctx)
	if err != nil || !ok || next.Sub(w.clock.Now()) > events.FirstRetry*2 {
		t.Fatalf("next due %v (%v, %v), want contact 3's first retry, %v from now", next, ok, err, events.FirstRetry)
	}
	w.clock.Set(next)
	w.pass()
	if ds, _ := w.svc.Deliveries(w.ctx, sub.ID, events.Pending, 0, 0); len(ds) != 0 {
		t.Fatalf("%d deliveries still pending", len(ds))
	}
	got := r.byContact()
	want := map[model.ContactKey][]string{
		model.NewContactKey(phone, "1"): {"message.received one", "message.received two"},
		model.NewContactKey(phone, "2"): {"conversation.started", "message.received uno"},
		model.NewContactKey(phone, "3"): {"conversation.started", "message.received hola"},
	}
	for range 6 {
		want[model.NewContactKey(phone, "2")] = append(want[model.NewContactKey(phone, "2")], "message.received still there?")
	}
	for k, evs := range want {
		if !slices.Equal(got[k], evs) {
			t.Errorf("contact %s got:\n%s\nwant:\n%s", k, strings.Join(got[k], "\n"), strings.Join(evs, "\n"))
		}
	}
	for id, n := range r.ids {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	results := w.metrics.Counter("parley_event_deliveries_total", "", "result")
	if n := results.Value("delivered"); int(n) != len(r.ids) || len(r.ids) != 12 {
		t.Errorf("%v delivered in the last life, %d events received, want 12", n, len(r.ids))
	}
}

// TestGiveUpReplayDelete: a delivery failing for MaxAge is marked failed
// and lets the contact's next one go; a replay delivers it (same event
// id); deleting the subscription drops what is pending and stops the
// recording of events nobody wants.
func TestGiveUpReplayDelete(t *testing.T) {
	w := newWorld(t)
	r := newReceiver(t, w.clock)
	sub := w.subscribe(r, model.EventMessageReceived)
	r.setDown(true)
	w.say("1", "lost for a while")
	w.pass()
	for end := w.clock.Now().Add(events.MaxAge + 2*events.MaxRetryDelay); w.clock.Now().Before(end); {
		w.clock.Advance(events.MaxRetryDelay)
		w.pass()
	}
	failed, err := w.svc.Deliveries(w.ctx, sub.ID, events.Failed, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].AttemptCount < 100 || len(failed[0].Attempts) != events.MaxAttemptsKept ||
		failed[0].DoneAt.Before(failed[0].CreatedAt.Add(events.MaxAge)) {
		t.Fatalf("failed deliveries %+v: want one, tried all day, its latest attempts kept", failed)
	}
	// The next event of the contact is no longer held back.
	r.setDown(false)
	w.say("1", "after")
	w.pass()
	if got := r.byContact()[model.NewContactKey(phone, "1")]; !slices.Equal(got, []string{"message.received after"}) {
		t.Fatalf("received %q", got)
	}
	n, err := w.svc.Replay(w.ctx, sub.ID, nil)
	if err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	w.pass()
	if got := r.byContact()[model.NewContactKey(phone, "1")]; !slices.Equal(got, []string{"message.received after", "message.received lost for a while"}) {
		t.Fatalf("received %q", got)
	}
	if r.got[1].ID != failed[0].Event.ID {
		t.Fatalf("replayed event %s, want the same id %s", r.got[1].ID, failed[0].Event.ID)
	}
	if n, _ := w.svc.Replay(w.ctx, sub.ID, nil); n != 0 {
		t.Fatalf("replayed %d again, want none: nothing failed", n)
	}
	// A type not subscribed to is not recorded; nor anything once the
	// subscription is gone.
	r.setDown(true)
	w.say("2", "hello") // conversation.started is not wanted
	w.pass()
	if err := w.svc.Delete(w.ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	w.say("2", "anyone?")
	if les, _ := w.store.EventsAfter(w.ctx, 0, 0); len(les) != 0 {
		t.Fatalf("%d events logged with no subscription", len(les))
	}
	if due, _ := w.store.Due(w.ctx, w.clock.Now().Add(time.Hour), 0); len(due) != 0 {
		t.Fatalf("%d deliveries due after the subscription was deleted", len(due))
	}
	if _, err := w.svc.Get(w.ctx, sub.ID); !errors.Is(err, events.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}

// TestSendTestAndSettings: the test event is signed and posted at once;
// bad settings are refused; the secret never comes back.
func TestSendTestAndSettings(t *testing.T) {
	w := newWorld(t)
	r := newReceiver(t, w.clock)
	sub := w.subscribe(r)
	a, err := w.svc.SendTest(w.ctx, sub.ID)
	if err != nil || a.Status != http.StatusNoContent || a.Error != "" {
		t.Fatalf("test event: %+v, %v", a, err)
	}
	if len(r.got) != 1 || r.got[0].Type != events.EventTest {
		t.Fatalf("received %+v", r.got)
	}
	bad := []events.Input{
		{URL: ptr("ftp://example.com/x")},
		{URL: ptr("/relative")},
		{URL: ptr("http://user:pw@example.com/")},
		{Types: &[]model.EventType{"conversation.exploded"}},
		{Description: ptr(strings.Repeat("x", 201))},
	}
	for _, in := range bad {
		if _, _, err := w.svc.Update(w.ctx, sub.ID, in, false, "admin"); !errors.Is(err, events.ErrInvalid) {
			t.Errorf("update %+v: %v, want ErrInvalid", in, err)
		}
	}
	off := false
	got, secret, err := w.svc.Update(w.ctx, sub.ID, events.Input{Enabled: &off}, true, "admin")
	if err != nil || got.Enabled || !strings.HasPrefix(secret, "whsec_") || got.SecretHint != secret[len(secret)-4:] {
		t.Fatalf("update: %+v %q %v", got, secret, err)
	}
	raw, _ := json.Marshal(got)
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("sealed")) {
		t.Fatalf("info shows the secret: %s", raw)
	}
	w.say("3", "hi") // disabled: nothing recorded
	if les, _ := w.store.EventsAfter(w.ctx, 0, 0); len(les) != 0 {
		t.Fatalf("%d events logged for a disabled subscription", len(les))
	}
}

func ptr[T any](v T) *T { return &v }

// TestOneContactDoesNotHoldUpOthers: while a contact's event keeps
// failing, its later events wait, and other contacts' events go.
func TestOneContactDoesNotHoldUpOthers(t *testing.T) {
	w := newWorld(t)
	r := newReceiver(t, w.clock)
	w.subscribe(r, model.EventMessageReceived)
	stuck := model.NewContactKey(phone, "1")
	r.mu.Lock()
	r.refuse = stuck
	r.mu.Unlock()
	w.say("1", "a1")
	w.say("2", "b1")
	w.say("1", "a2")
	w.say("2", "b2")
	w.pass()
	for range 5 {
		w.clock.Advance(events.MaxRetryDelay)
		w.say("2", "more")
		w.pass()
	}
	got := r.byContact()
	if len(got[stuck]) != 0 {
		t.Fatalf("the failing contact's events arrived: %v", got[stuck])
	}
	if want := []string{"message.received b1", "message.received b2", "message.received more", "message.received more",
		"message.received more", "message.received more", "message.received more"}; !slices.Equal(got[model.NewContactKey(phone, "2")], want) {
		t.Fatalf("the other contact's events: %v", got[model.NewContactKey(phone, "2")])
	}
	r.mu.Lock()
	r.refuse = ""
	r.mu.Unlock()
	w.clock.Advance(events.MaxRetryDelay)
	w.pass()
	if got := r.byContact()[stuck]; !slices.Equal(got, []string{"message.received a1", "message.received a2"}) {
		t.Fatalf("the contact's events once it goes through: %v", got)
	}
}
