package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
)

// shopFlow asks for an order number and looks it up; the API's base URL
// is put in by the test.
const shopFlow = `{"format": "parley/flow@1", "id": "shop", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "Order number?"}, "save_as": "order_id", "next": "lookup"},
  {"id": "lookup", "type": "http", "method": "GET",
   "url": "BASE/orders/{{ vars.order_id }}?key={{ secrets.shop_key }}",
   "headers": {"Authorization": "Bearer {{ secrets.shop_token }}"},
   "timeout": "5s", "retries": RETRIES, "save_as": "order", "next": "tell", "on_error": "sorry"},
  {"id": "tell", "type": "send", "message": {"type": "text", "text": "Order {{ vars.order_id }} is {{ vars.order.json.status }}."}, "next": "more"},
  {"id": "sorry", "type": "send", "message": {"type": "text", "text": "Sorry ({{ vars.order.status }})."}, "next": "more"},
  {"id": "more", "type": "wait_reply", "save_as": "said", "next": "echo"},
  {"id": "echo", "type": "send", "message": {"type": "text", "text": "you said {{ vars.said }}"}, "next": "more"}
 ]}`

type secretMap map[string]string

func (m secretMap) Resolve(_ context.Context, name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("secrets: %q: %w", name, secrets.ErrSecretNotFound)
}

type callerFunc func(ctx context.Context, req httpcall.Request) httpcall.Result

func (f callerFunc) Do(ctx context.Context, req httpcall.Request) httpcall.Result { return f(ctx, req) }

// shopAPI is a loopback shop: /orders/A-17 is shipped, anything else 404;
// fail makes the next answers 503.
type shopAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []*http.Request
	fail  int
}

func newShopAPI(t *testing.T) *shopAPI {
	s := &shopAPI{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.calls = append(s.calls, r)
		fail := s.fail > 0
		if fail {
			s.fail--
		}
		s.mu.Unlock()
		switch {
		case fail:
			http.Error(w, "down", 503)
		case r.URL.Path == "/orders/A-17":
			fmt.Fprint(w, `{"status": "shipped"}`)
		default:
			http.Error(w, `{"error": "no such order"}`, 404)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shopAPI) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.calls...)
}

type callHarness struct {
	*harness
	reg *metrics.Registry
}

func newCallHarness(t *testing.T, path string, caller engine.Caller, doc string) *callHarness {
	t.Helper()
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, ctx: context.Background(), clock: engine.NewManualClock(t0), store: st}
	reg := metrics.NewRegistry()
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Templates: templates.NewSet(),
		Logger: slog.New(slog.DiscardHandler), HTTP: caller, Metrics: reg,
		Secrets: secretMap{"shop_token": "tok-s3cr3t", "shop_key": "key/s3cr3t"}})
	if err != nil {
		t.Fatal(err)
	}
	if doc != "" {
		h.publish(doc)
	}
	return &callHarness{h, reg}
}

func loopbackCaller(t *testing.T) engine.Caller {
	c, err := httpcall.New(httpcall.Options{Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func shopDoc(base string, retries int) string {
	return strings.NewReplacer("BASE", base, "RETRIES", fmt.Sprint(retries)).Replace(shopFlow)
}

// settle fires due timers and waits for the calls they start, until
// nothing is due.
func (h *callHarness) settle() {
	h.t.Helper()
	for {
		n, err := h.eng.FireDueTimers(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		h.eng.WaitCalls()
		if n == 0 {
			return
		}
	}
}

func (h *callHarness) callNotes(waID string) []*model.CallRecord {
	h.t.Helper()
	msgs, err := h.store.Transcript(h.ctx, h.conv(waID).ID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*model.CallRecord
	for _, m := range msgs {
		if m.Call != nil {
			out = append(out, m.Call)
		}
	}
	return out
}

func TestHTTPStepFoundAndNotFound(t *testing.T) {
	api := newShopAPI(t)
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), loopbackCaller(t), shopDoc(api.URL, 0))

	h.say("1", "hi")
	equal(t, h.sent("1"), []string{"Order number?"})
	out := h.say("1", "A-17")
	// The webhook's turn committed the wait and made no call.
	if len(api.requests()) != 0 || out.Status != model.Active || h.conv("1").Call == nil {
		t.Fatalf("after the message: %d calls, status %s, pending %+v", len(api.requests()), out.Status, h.conv("1").Call)
	}
	h.settle()
	equal(t, h.sent("1"), []string{"Order A-17 is shipped."})
	reqs := api.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d calls", len(reqs))
	}
	conv := h.conv("1")
	if got, want := reqs[0].Header.Get("Idempotency-Key"), conv.ID+":1"; got != want {
		t.Errorf("Idempotency-Key %q, want %q", got, want)
	}
	if reqs[0].Header.Get("Authorization") != "Bearer tok-s3cr3t" || reqs[0].URL.Query().Get("key") != "key/s3cr3t" {
		t.Errorf("secrets not sent: %v %v", reqs[0].Header, reqs[0].URL)
	}
	if conv.Call != nil || conv.Status != model.Waiting {
		t.Errorf("after the call: pending %+v, status %s", conv.Call, conv.Status)
	}
	// Nothing stored holds a secret's value.
	msgs, _ := h.store.Transcript(h.ctx, conv.ID)
	all, _ := json.Marshal([]any{conv, msgs})
	if strings.Contains(string(all), "s3cr3t") {
		t.Fatalf("a secret was stored: %s", all)
	}
	notes := h.callNotes("1")
	if len(notes) != 1 || notes[0].Status != 200 || notes[0].Method != "GET" || !strings.Contains(notes[0].URL, "key=***") || notes[0].Key != conv.ID+":1" {
		t.Fatalf("call notes %+v", notes[0])
	}

	// Another customer's order is not found: on_error, the status saved.
	h2 := h
	h2.say("2", "hi")
	h2.sent("2")
	h2.say("2", "B-2")
	h2.settle()
	equal(t, h2.sent("2"), []string{"Sorry (404)."})
	if v := h2.conv("2").Vars["order"].(map[string]any); v["status"] != float64(404) || v["text"] != "{\"error\": \"no such order\"}\n" {
		t.Errorf("saved %v", v)
	}
	// The http node is a step twice: waiting on its call, then the exit
	// its result took.
	equal(t, stepsOf(h.conv("1")), []string{"ask:waiting", "ask>next", "lookup:call", "lookup>next", "tell>next", "more:waiting"})
	equal(t, stepsOf(h2.conv("2")), []string{"ask:waiting", "ask>next", "lookup:call", "lookup>on_error", "sorry>next", "more:waiting"})
	if got := h.reg.Counter("parley_http_calls_total", "", "result").Value("2xx"); got != 1 {
		t.Errorf("2xx calls counted %v", got)
	}
	if got := h.reg.Counter("parley_http_calls_total", "", "result").Value("4xx"); got != 1 {
		t.Errorf("4xx calls counted %v", got)
	}
}

// TestHTTPStepRetries: 5xx answers are retried after a growing backoff,
// every attempt with the same key; when the retries are spent the step
// takes on_error.
func TestHTTPStepRetries(t *testing.T) {
	api := newShopAPI(t)
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), loopbackCaller(t), shopDoc(api.URL, 2))
	api.fail = 2
	h.say("1", "hi")
	h.sent("1")
	h.say("1", "A-17")
	h.settle()
	if n := len(api.requests()); n != 1 {
		t.Fatalf("%d attempts before the backoff", n)
	}
	if c := h.conv("1").Call; c == nil || !c.NextAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("pending %+v, want the next attempt 1s on", c)
	}
	h.clock.Advance(time.Second)
	h.settle()
	if n := len(api.requests()); n != 2 {
		t.Fatalf("%d attempts after 1s", n)
	}
	h.clock.Advance(time.Second) // the second backoff is 2s
	h.settle()
	if n := len(api.requests()); n != 2 {
		t.Fatalf("%d attempts 1s into a 2s backoff", n)
	}
	h.clock.Advance(time.Second)
	h.settle()
	equal(t, h.sent("1"), []string{"Order A-17 is shipped."})
	keys := map[string]bool{}
	for _, r := range api.requests() {
		keys[r.Header.Get("Idempotency-Key")] = true
	}
	if len(keys) != 1 || len(api.requests()) != 3 {
		t.Fatalf("%d attempts with keys %v, want 3 with one key", len(api.requests()), keys)
	}

	// Spent retries: on_error.
	api.mu.Lock()
	api.fail = 3
	api.mu.Unlock()
	h.say("2", "hi")
	h.sent("2")
	h.say("2", "A-17")
	for range 3 {
		h.settle()
		h.clock.Advance(10 * time.Second)
	}
	equal(t, h.sent("2"), []string{"Sorry (503)."})
	if notes := h.callNotes("2"); len(notes) != 3 || notes[2].Attempt != 3 || !notes[2].Retry.IsZero() || notes[0].Retry.IsZero() {
		t.Fatalf("notes %+v", notes)
	}
}

// TestHTTPStepHoldsMessages: what the customer writes while the call is
// pending is kept and answered, in order, after the call's step.
func TestHTTPStepHoldsMessages(t *testing.T) {
	api := newShopAPI(t)
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), loopbackCaller(t), shopDoc(api.URL, 0))
	h.say("1", "hi")
	h.sent("1")
	h.say("1", "A-17")
	for _, m := range []string{"one", "two", "three"} {
		if out := h.say("1", m); out.Status != model.Active {
			t.Fatalf("status %s while the call is pending", out.Status)
		}
	}
	if out := h.sayID("1", "wamid.3", "two"); !out.Duplicate {
		t.Fatal("a redelivered message was not caught")
	}
	equal(t, h.sent("1"), nil)
	h.settle()
	equal(t, h.sent("1"), []string{"Order A-17 is shipped.", "you said one", "you said two", "you said three"})
	if c := h.conv("1"); len(c.Held) != 0 || c.Status != model.Waiting {
		t.Fatalf("held %v status %s", c.Held, c.Status)
	}
}

// TestHTTPStepFaults: whatever goes wrong with the call takes on_error
// (or fails the conversation) and touches no other conversation.
func TestHTTPStepFaults(t *testing.T) {
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/admin", http.StatusFound)
	}))
	defer redirect.Close()
	slow := make(chan struct{})
	defer close(slow)
	byPath := func(ctx context.Context, req httpcall.Request) httpcall.Result {
		switch {
		case strings.Contains(req.URL, "/orders/panic"):
			panic("caller bug with " + req.Headers["Authorization"])
		case strings.Contains(req.URL, "/orders/redirect"):
			// A name allowed, the redirect to an address that is not.
			c, _ := httpcall.New(httpcall.Options{Allow: []string{"localhost"}})
			return c.Do(ctx, httpcall.Request{Method: "GET", URL: strings.Replace(redirect.URL, "127.0.0.1", "localhost", 1), Timeout: req.Timeout})
		case strings.Contains(req.URL, "/orders/secretless"):
			return httpcall.Result{Status: 200}
		}
		return httpcall.Result{Status: 200, Text: `{"status":"ok"}`, JSON: map[string]any{"status": "ok"}}
	}
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), callerFunc(byPath), shopDoc("https://shop.example.com", 0))
	// A flow whose secret is not stored.
	noSecret := strings.NewReplacer(`"id": "shop"`, `"id": "shop2"`, "shop_token", "missing_one", `{"type": "any"}`, `{"type": "keyword", "keywords": ["two"]}`).Replace(shopDoc("https://shop.example.com", 0))
	h.publish(noSecret)

	for who, order := range map[string]string{"p": "panic", "r": "redirect", "ok": "A-1"} {
		h.say(who, "hi")
		h.sent(who)
		h.say(who, order)
	}
	h.say("s", "two")
	h.sent("s")
	h.say("s", "x")
	h.settle()
	equal(t, h.sent("p"), []string{"Sorry (0)."})
	equal(t, h.sent("r"), []string{"Sorry (0)."})
	equal(t, h.sent("ok"), []string{"Order A-1 is ok."})
	equal(t, h.sent("s"), []string{"Sorry (0)."})
	for who, want := range map[string]string{"p": "the call crashed", "r": "refused", "s": `secret "missing_one"`} {
		notes := h.callNotes(who)
		if len(notes) != 1 || !strings.Contains(notes[0].Error, want) || strings.Contains(notes[0].Error, "s3cr3t") {
			t.Errorf("%s: notes %+v, want an error with %q and no secret", who, notes, want)
		}
	}
}

// TestHTTPStepWithoutOnErrorFails: the conversation fails with the reason.
func TestHTTPStepWithoutOnErrorFails(t *testing.T) {
	doc := strings.Replace(shopDoc("https://shop.example.com", 0), `, "on_error": "sorry"`, "", 1)
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), callerFunc(func(context.Context, httpcall.Request) httpcall.Result {
		return httpcall.Result{Status: 500, Text: "boom"}
	}), doc)
	h.say("1", "hi")
	h.sent("1")
	h.say("1", "A-1")
	h.settle()
	if c := h.conv("1"); c.Status != model.Failed || !strings.Contains(c.Reason, "answered 500") {
		t.Fatalf("status %s reason %q", c.Status, c.Reason)
	}
}

// TestHTTPStepSurvivesRestart: the process stops while the call is in
// flight; the next process repeats it with the same key when its lease
// runs out, and the flow goes on once.
func TestHTTPStepSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	started := make(chan string, 1)
	hang := callerFunc(func(ctx context.Context, req httpcall.Request) httpcall.Result {
		started <- req.IdempotencyKey
		<-ctx.Done()
		return httpcall.Result{Err: ctx.Err()}
	})
	h := newCallHarness(t, path, hang, shopDoc("https://shop.example.com", 0))
	h.say("1", "hi")
	h.sent("1")
	h.say("1", "A-17")
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := h.eng.FireDueTimers(ctx); err != nil {
		t.Fatal(err)
	}
	key := <-started
	cancel() // the process goes down with the call in flight
	h.eng.WaitCalls()
	h.store.Close()

	var mu sync.Mutex
	var keys []string
	ok := callerFunc(func(ctx context.Context, req httpcall.Request) httpcall.Result {
		mu.Lock()
		keys = append(keys, req.IdempotencyKey)
		mu.Unlock()
		return httpcall.Result{Status: 200, JSON: map[string]any{"status": "shipped"}}
	})
	h2 := newCallHarness(t, path, ok, "")
	h2.clock.Set(h.clock.Now())
	h2.settle()
	if len(keys) != 0 {
		t.Fatalf("repeated before the lease ran out: %v", keys)
	}
	h2.clock.Advance(5*time.Second + 9*time.Second) // the lease: timeout + 10s
	h2.settle()
	if len(keys) != 0 {
		t.Fatalf("repeated before the lease ran out: %v", keys)
	}
	h2.clock.Advance(2 * time.Second)
	h2.settle()
	if len(keys) != 1 || keys[0] != key {
		t.Fatalf("after the restart: keys %v, want once %q", keys, key)
	}
	equal(t, h2.sent("1"), []string{"Order A-17 is shipped."})
	if c := h2.conv("1"); c.Call != nil || c.Status != model.Waiting || c.Calls != 1 {
		t.Fatalf("pending %+v status %s calls %d", c.Call, c.Status, c.Calls)
	}
}

func TestHTTPStepRetryAfterOverBudget(t *testing.T) {
	var n int
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), callerFunc(func(context.Context, httpcall.Request) httpcall.Result {
		n++
		if n == 1 {
			return httpcall.Result{Status: 429, Retriable: true, RetryAfter: 3 * time.Second}
		}
		return httpcall.Result{Status: 503, Retriable: true, RetryAfter: time.Hour}
	}), shopDoc("https://shop.example.com", 3))
	h.say("1", "hi")
	h.sent("1")
	h.say("1", "A-1")
	h.settle()
	if c := h.conv("1").Call; c == nil || !c.NextAt.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("pending %+v, want Retry-After's 3s honoured", c)
	}
	h.clock.Advance(3 * time.Second)
	h.settle()
	equal(t, h.sent("1"), []string{"Sorry (503)."})
	if n != 2 {
		t.Fatalf("%d attempts; a Retry-After of an hour is past the budget", n)
	}
}

// TestHTTPStepAbandonedWhenRerouted: a message sent before the http node
// fails for good while the call is pending; the conversation takes that
// message's on_error, the call is dropped (its late answer too), and
// the customer is answered by the wait it reached, not held.
func TestHTTPStepAbandonedWhenRerouted(t *testing.T) {
	doc := `{"format": "parley/flow@1", "id": "ab", "start": "looking", "triggers": [{"type": "any"}],
	 "nodes": [
	  {"id": "looking", "type": "send", "message": {"type": "text", "text": "Looking…"}, "next": "lookup", "on_error": "plain"},
	  {"id": "lookup", "type": "http", "method": "GET", "url": "https://shop.example.com/x", "next": "found", "on_error": "found"},
	  {"id": "found", "type": "send", "message": {"type": "text", "text": "found"}},
	  {"id": "plain", "type": "wait_reply", "save_as": "said", "next": "echo"},
	  {"id": "echo", "type": "send", "message": {"type": "text", "text": "you said {{ vars.said }}"}}
	 ]}`
	release := make(chan struct{})
	h := newCallHarness(t, filepath.Join(t.TempDir(), "p.db"), callerFunc(func(ctx context.Context, req httpcall.Request) httpcall.Result {
		<-release
		return httpcall.Result{Status: 200}
	}), doc)
	h.say("1", "hi")
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil { // the call starts and hangs
		t.Fatal(err)
	}
	conv := h.conv("1")
	st := &whatsapp.Status{ID: "wamid.out.1", Status: whatsapp.StatusFailed, BizOpaqueCallbackData: conv.ID + "|2|looking",
		Errors: []whatsapp.Error{{Code: 131052, Title: "failed", Details: "details"}}}
	if err := h.eng.HandleStatus(h.ctx, st); err != nil {
		t.Fatal(err)
	}
	if c := h.conv("1"); c.Call != nil || c.Node != "plain" {
		t.Fatalf("after the failure: call %+v at %q", c.Call, c.Node)
	}
	close(release) // the call's late answer is for nothing
	h.settle()
	h.say("1", "later")
	equal(t, h.sent("1"), []string{"Looking…", "you said later"})
	if c := h.conv("1"); c.Status != model.Ended || c.Call != nil || len(c.Held) != 0 {
		t.Fatalf("status %s call %+v held %v", c.Status, c.Call, c.Held)
	}
}

// stepsOf writes a conversation's steps as "node>exit" or "node:stop".
func stepsOf(c *model.Conversation) []string {
	var out []string
	for _, s := range c.Steps {
		if s.Exit != "" {
			out = append(out, s.Node+">"+s.Exit)
		} else {
			out = append(out, s.Node+":"+s.Stop)
		}
	}
	return out
}
