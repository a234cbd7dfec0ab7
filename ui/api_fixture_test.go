package ui_test

import (
	"bytes"
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

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/ui/auth"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// The fixture's world, frozen: one business number, three customers, three
// flows. Every scenario runs on a fresh copy (seed) built by driving the
// real engine over a real bbolt file, so what the API reads is what the
// engine wrote.
const phone = "100000000000001"

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// Customers and their conversations' ids as the engine numbers them.
const (
	ann = "15551234567" // echo v1, waiting; said <script>; one reply delivered, one failed
	bob = "15557654321" // promo v1 (ended), then echo v2 (waiting)
	cyd = "15550000003" // echo v1, timed out: ended
)

func key(wa string) model.ContactKey { return model.NewContactKey(phone, wa) }
func convID(wa string, n int) string { return fmt.Sprintf("%s#%d", key(wa), n) }

// pathID escapes an id for a URL path as clients must: '#' would start a
// fragment. ':' is left as it is (it is valid in a path).
func pathID(id string) string { return strings.ReplaceAll(id, "#", "%23") }

// echoFlow answers every message with its text; v2 says "v2 heard".
const echoFlow = `{"format": "parley/flow@1", "id": "echo", "name": "Echo", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "save_as": "said", "timeout": "1h", "on_timeout": "bye", "next": "answer"},
  {"id": "answer", "type": "send", "message": {"type": "text", "text": "you said {{ vars.said }}"}, "next": "ask"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}
 ]}`

var echoFlowV2 = strings.Replace(echoFlow, "you said", "v2 heard", 1)

// promoFlow sends one offer on the keyword "promo" and ends.
const promoFlow = `{"format": "parley/flow@1", "id": "promo", "name": "Promo", "start": "offer",
 "triggers": [{"type": "keyword", "keywords": ["promo"]}],
 "nodes": [
  {"id": "offer", "type": "send", "message": {"type": "text", "text": "20% off today"}}
 ]}`

// promoDraft renames the promo flow: a draft with unpublished changes.
var promoDraft = strings.Replace(promoFlow, `"Promo"`, `"Promo (spring)"`, 1)

// brokenFlow is a draft that parses but cannot be published: its start
// node leads nowhere.
const brokenFlow = `{"format": "parley/flow@1", "id": "survey", "name": "Survey", "start": "q",
 "nodes": [
  {"id": "q", "type": "send", "message": {"type": "text", "text": "How did we do?"}, "next": "nowhere"}
 ]}`

const scriptText = `<script>alert("x")</script>`

type fixture struct {
	t     *testing.T
	ctx   context.Context
	clock *engine.ManualClock
	store model.Store
	eng   *engine.Engine
	srv   *ui.Server
	seq   int

	// With templates (see withTemplates): the registry, and the sandbox
	// standing in for Meta, on a clock of its own.
	reg     *templates.Registry
	sb      *sandbox.Sandbox
	sbClock *sandbox.ManualClock

	// Sign-in: every API request carries an admin's API token unless it
	// names its own credentials or, with asUser, who acts.
	auth   *auth.Service
	mu     sync.Mutex
	tokens map[string]string // email → API token secret

	secrets *secrets.Store
	events  *events.Service
	logs    serverLogs // the server's
}

// fixtureAdmin is the user every API request acts as by default.
const fixtureAdmin = "admin@parley.test"

// asUser is a header the fixture (not the server) reads: the request acts
// as the user with this email (an admin, made on first use), through an
// API token of theirs.
const asUser = "X-Test-As"

// tokenFor returns an API token of the user with email, creating the user
// with roles (none: admin) the first time.
func (f *fixture) tokenFor(email string, roles ...auth.Role) string {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok, ok := f.tokens[email]; ok {
		return tok
	}
	if len(roles) == 0 {
		roles = []auth.Role{auth.Admin}
	}
	if _, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, Name: email, Roles: roles, Password: "fixture password"}); err != nil {
		f.t.Fatalf("user %s: %v", email, err)
	}
	tok, _, err := f.auth.CreateToken(f.ctx, auth.NewToken{Email: email, Name: "fixture"})
	if err != nil {
		f.t.Fatalf("token for %s: %v", email, err)
	}
	f.tokens[email] = tok
	return tok
}

// serverLogs is what the fixture's server logged, at every level, for
// tests of what it must never log.
type serverLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *serverLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *serverLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logger logs into f.logs, debug level included.
func (f *fixture) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newFixture is an empty Parley: no flows, no contacts.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: t.Context(), clock: engine.NewManualClock(t0), store: st}
	log := slog.New(slog.DiscardHandler)
	f.secrets, err = secrets.New(st, bytes.Repeat([]byte{1}, secrets.KeySize), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	f.eng, err = engine.New(f.ctx, engine.Options{Store: st, Clock: f.clock, Templates: templates.NewSet(), Logger: log, Secrets: f.secrets})
	if err != nil {
		t.Fatal(err)
	}
	f.auth, err = auth.New(st, auth.Options{Clock: f.clock, Cost: bcrypt.MinCost, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	f.tokens = map[string]string{}
	f.tokenFor(fixtureAdmin)
	// The inbox is there so that every route is registered: the
	// permission matrix must see them all.
	ib := inbox.New(inbox.Options{Engine: f.eng, Records: st, Logger: log})
	if err := ib.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.events, err = events.New(f.ctx, events.Options{Store: st, Key: bytes.Repeat([]byte{1}, secrets.KeySize), Engine: f.eng, Clock: f.clock, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = ui.New(ui.Config{Engine: f.eng, Logger: f.logger(), AppSecret: sandbox.DefaultAppSecret, Auth: f.auth, Inbox: ib, EventStreamMaxAge: time.Millisecond,
		Backup: st, BackupDir: t.TempDir(), Quarantine: quarantine.New(st), Secrets: f.secrets, Events: f.events,
		TestChatStore: func(dir string) (model.Store, error) { return boltstore.Open(filepath.Join(dir, "chat.db")) }})
	return f
}

// seeded is the fixture's world:
//
//	flows:  echo   published v2 (= draft)          status published
//	        promo  published v1, renamed in draft  status changed
//	        survey draft only, with errors         status draft
//	t0         cyd "hi"     → echo v1, cyd#1 waits
//	t0+1h1m    timers       → cyd#1 times out, "bye", ended
//	t0+2h      ann "hi"     → echo v1, ann#1 waits
//	           echo v2 published
//	t0+2h1m    bob "promo"  → promo v1, bob#1 ended
//	t0+2h2m    bob "hi"     → echo v2, bob#2 waits
//	t0+2h3m    ann "order 42"         → "you said order 42"     delivered
//	t0+2h4m    ann "<script>…"        → "you said <script>…"    failed 131047
func seeded(t *testing.T) *fixture {
	f := newFixture(t)
	f.publish(echoFlow)
	f.publish(promoFlow)
	f.saveDraft("promo", promoDraft)
	f.saveDraft("survey", brokenFlow)

	f.say(cyd, "hi")
	f.clock.Set(t0.Add(time.Hour + time.Minute))
	if _, err := f.eng.FireDueTimers(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(2 * time.Hour))
	f.say(ann, "hi")
	f.publish(echoFlowV2)
	f.clock.Set(t0.Add(2*time.Hour + time.Minute))
	f.say(bob, "promo")
	f.clock.Set(t0.Add(2*time.Hour + 2*time.Minute))
	f.say(bob, "hi")
	f.clock.Set(t0.Add(2*time.Hour + 3*time.Minute))
	f.say(ann, "order 42")
	f.deliver(ann, model.Delivered, 0, "")
	f.clock.Set(t0.Add(2*time.Hour + 4*time.Minute))
	f.say(ann, scriptText)
	f.deliver(ann, model.SendFailed, 131047, "Re-engagement message")
	return f
}

func (f *fixture) publish(doc string) {
	f.t.Helper()
	if _, problems, err := f.eng.Publish(f.ctx, []byte(doc), "seed"); err != nil {
		f.t.Fatalf("publish: %v\n%v", err, problems.Err())
	}
}

func (f *fixture) saveDraft(id, doc string) {
	f.t.Helper()
	if _, _, err := f.eng.SaveDraft(f.ctx, id, []byte(doc), "seed"); err != nil {
		f.t.Fatalf("draft %s: %v", id, err)
	}
}

func (f *fixture) say(wa, text string) engine.Outcome {
	f.t.Helper()
	f.seq++
	out, err := f.eng.HandleInbound(f.ctx, &engine.Inbound{
		PhoneNumberID: phone, ID: fmt.Sprintf("wamid.in.%d", f.seq), WaID: wa, Name: "Customer " + wa,
		At: f.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: text},
	})
	if err != nil {
		f.t.Fatalf("inbound %q from %s: %v", text, wa, err)
	}
	return out
}

// deliver moves every queued message to wa to state, as the dispatcher and
// Meta's status webhooks would.
func (f *fixture) deliver(wa string, state model.MessageState, code int, msg string) {
	f.t.Helper()
	items, err := f.store.Outbox(f.ctx, 0, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, it := range items {
		m := it.Message
		if m.Contact != key(wa) {
			continue
		}
		m.State, m.WAMID, m.ErrorCode, m.Error = state, fmt.Sprintf("wamid.out.%d", it.Seq), code, msg
		if err := f.store.Commit(f.ctx, &model.Change{Updates: []*model.Message{m}, Dequeue: []uint64{it.Seq}}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// do sends one request to the app and returns the status and body.
func (f *fixture) do(method, url, body string, header map[string]string) (int, []byte) {
	f.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if k != asUser {
			req.Header.Set(k, v)
		}
	}
	if strings.HasPrefix(url, "/api/") && req.Header.Get("Authorization") == "" && req.Header.Get("Cookie") == "" {
		who := fixtureAdmin
		if header[asUser] != "" {
			who = header[asUser]
		}
		req.Header.Set("Authorization", "Bearer "+f.tokenFor(who))
	}
	resp, err := f.srv.App().Test(req, -1)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	// The API answers JSON (the inbox's events are a stream of it; a
	// backup and a flow's results are downloads); the webhook answers
	// Meta in plain text.
	ct := resp.Header.Get("Content-Type")
	stream := strings.HasPrefix(ct, "text/event-stream") || ct == "application/octet-stream" || strings.HasPrefix(ct, "text/csv")
	if strings.HasPrefix(url, "/api/") && !stream && resp.StatusCode != http.StatusNoContent && len(b) > 0 && !json.Valid(b) {
		f.t.Errorf("%s %s: the body is not JSON: %s", method, url, b)
	}
	return resp.StatusCode, b
}

// decode decodes a JSON body into v, or fails the test.
func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}

// scenario is one API request and what its answer must hold (pocketbase's
// ApiScenario): the status, strings the body must and must not contain,
// and for what a string cannot say, a check of its own.
type scenario struct {
	name   string
	method string
	url    string
	body   string
	header map[string]string
	// before changes the seeded world first.
	before  func(t *testing.T, f *fixture)
	status  int
	want    []string
	notWant []string
	// after checks the body further, or the world after the request.
	after func(t *testing.T, f *fixture, body []byte)
}

// run runs every scenario on a fresh seeded world, in parallel.
func run(t *testing.T, scenarios []scenario) {
	t.Helper()
	runOn(t, seeded, scenarios)
}

// runOn runs every scenario on a fresh world made by setup, in parallel.
func runOn(t *testing.T, setup func(*testing.T) *fixture, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			if sc.before != nil {
				sc.before(t, f)
			}
			status, body := f.do(sc.method, sc.url, sc.body, sc.header)
			if status != sc.status {
				t.Errorf("status %d, want %d; body %s", status, sc.status, body)
			}
			for _, w := range sc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %s\nbody: %s", w, body)
				}
			}
			for _, w := range sc.notWant {
				if strings.Contains(string(body), w) {
					t.Errorf("body holds %s\nbody: %s", w, body)
				}
			}
			if sc.after != nil && !t.Failed() {
				sc.after(t, f, body)
			}
		})
	}
}
