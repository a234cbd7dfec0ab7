package main

// End-to-end tests of `parley serve` over loopback: each test owns a
// sandbox (the Graph API double) and runs serve against it in non-sandbox
// mode, exactly as against Meta: signed webhooks in, Cloud API sends out,
// status webhooks back. The sandbox's log is the witness of what the
// customer received; Parley's store (through the engine while it runs, or
// the bbolt file after it stopped) is the witness of what Parley believes.
//
// Nothing sleeps for a fixed time: every wait polls a condition with a
// deadline (eventually).

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
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// e2eTimeout is the usual deadline of a condition: generous, because CI
// runs these tests in parallel under -race on two cores.
const e2eTimeout = 2 * time.Minute

// eventually polls cond until it holds or timeout passes, then fails the
// test with what.
func eventually(t testing.TB, timeout time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, fmt.Sprintf(what, args...))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// whileProgressing waits until done, for as long as progress (a count
// that only grows: sends accepted, statuses recorded) keeps growing: it
// fails once the count has stood still for stall. It is for a wait whose
// length is the machine's throughput (800 sends and 2,400 status webhooks
// posted one at a time, on two loaded cores with the race detector), where
// a fixed deadline measures the machine's load rather than Parley; a stuck
// count fails as soon, and the go test -timeout bounds the whole.
func whileProgressing(t testing.TB, stall time.Duration, progress func() int, done func() bool, what string) {
	t.Helper()
	last, since := progress(), time.Now()
	for !done() {
		if n := progress(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > stall {
			t.Fatalf("stuck for %v at %d waiting for: %s", stall, n, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// e2eLogBuffer collects Parley's log; it is printed when a test fails.
type e2eLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *e2eLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *e2eLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// e2eOptions set up one test's sandbox and Parley.
type e2eOptions struct {
	// flows are written to the PARLEY_FLOWS folder: file name → document.
	flows map[string]string
	// templates exist, APPROVED, in the sandbox before serve starts (and
	// syncs them).
	templates []sandbox.Template
	statuses  sandbox.StatusMode
	clock     *sandbox.ManualClock
	// front, when set, stands in front of the sandbox's Graph API (to
	// hold sends back, say); the sandbox is then served by the test.
	front func(http.Handler) http.Handler
	// webhookRetries overrides how often the sandbox re-posts a webhook
	// Parley did not answer with 200 (restart tests need more).
	webhookRetries int
	// sandbox and serve, when set, change the sandbox's and serve's
	// configuration last (policy_e2e_test.go: clocks, limits).
	sandbox func(*sandbox.Config)
	serve   func(*serveConfig)
}

// e2e is one test's world: a sandbox and a Parley on loopback.
type e2e struct {
	t        *testing.T
	sb       *sandbox.Sandbox
	graphURL string
	data     string
	flowsDir string
	addr     string       // Parley's host:port, kept across restarts
	ln       net.Listener // bound on addr, for the first start
	log      *e2eLogBuffer
	verify   string
	serveCfg func(*serveConfig) // e2eOptions.serve
	// quietLog keeps serve's debug lines out of the test's log.
	quietLog bool
	cookie   string // the admin's session (signIn)

	// the running instance, if any
	eng    *engine.Engine
	cancel context.CancelFunc
	done   chan error
}

func newE2E(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	h := &e2e{t: t, data: t.TempDir(), flowsDir: t.TempDir(), log: &e2eLogBuffer{}, verify: "e2e-verify-token", serveCfg: o.serve}

	// Parley's port is bound first, so that the sandbox knows where to post.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.ln, h.addr = ln, ln.Addr().String()
	t.Cleanup(func() {
		if h.ln != nil {
			h.ln.Close()
		}
	})

	cfg := sandbox.Config{
		WebhookURL:     "http://" + h.addr + "/webhook/whatsapp",
		Statuses:       o.statuses,
		StatusDelay:    time.Millisecond,
		WebhookRetries: o.webhookRetries,
		WebhookBackoff: 20 * time.Millisecond,
		Templates:      o.templates,
	}
	if o.clock != nil {
		cfg.Clock = o.clock
	}
	if o.sandbox != nil {
		o.sandbox(&cfg)
	}
	h.sb = sandbox.New(cfg)
	if o.front != nil {
		srv := httptest.NewServer(o.front(h.sb))
		t.Cleanup(srv.Close)
		h.graphURL = srv.URL + "/" + h.sb.Config().Version
	} else {
		if _, err := h.sb.Start(); err != nil {
			t.Fatal(err)
		}
		h.graphURL = h.sb.GraphURL()
	}
	t.Cleanup(func() { h.sb.Close() })

	for name, doc := range o.flows {
		if err := os.WriteFile(filepath.Join(h.flowsDir, name), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if h.done != nil {
			h.stop()
		}
		if t.Failed() {
			t.Logf("parley log:\n%s", h.log.String())
			t.Logf("sandbox log:\n%s", h.sandboxLog())
		}
	})
	return h
}

// sandboxLog renders the sandbox's log for a failure report.
func (h *e2e) sandboxLog() string {
	var b strings.Builder
	for _, e := range h.sb.Log() {
		if e.Kind == sandbox.KindRequest {
			continue
		}
		fmt.Fprintf(&b, "%3d %-9s to=%s type=%s body=%q status=%s code=%d http=%d %s\n",
			e.Seq, e.Kind, e.To, e.Type, e.Body, e.Status, e.Code, e.HTTPStatus, e.Reason)
	}
	return b.String()
}

// start runs serve on the test's data directory and port until stop.
func (h *e2e) start() {
	t := h.t
	t.Helper()
	ln := h.ln
	h.ln = nil
	if ln == nil {
		// A restart: the same port again, free once serve has returned.
		eventually(t, e2eTimeout, func() bool {
			var err error
			ln, err = net.Listen("tcp", h.addr)
			return err == nil
		}, "listening on %s", h.addr)
	}
	sc := h.sb.Config()
	started := make(chan *engine.Engine, 1)
	cfg := serveConfig{
		addr: h.addr, listener: ln, data: h.data, flowsDir: h.flowsDir,
		apiURL: h.graphURL, token: sc.AccessToken, appSecret: sc.AppSecret, verifyToken: h.verify,
		phoneNumberID: sc.PhoneNumberID, wabaID: sc.WABAID, displayPhone: sc.DisplayPhoneNumber,
		rate: engine.DefaultRate, shutdownTimeout: 10 * time.Second, timerInterval: 20 * time.Millisecond,
		adminEmail: e2eAdmin, adminPassword: e2ePassword,
		started: func(e *engine.Engine) { started <- e },
	}
	if h.serveCfg != nil {
		h.serveCfg(&cfg)
	}
	level := slog.LevelDebug
	if h.quietLog {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log) }()
	select {
	case h.eng = <-started:
	case err := <-done:
		cancel()
		ln.Close()
		t.Fatalf("serve returned before serving: %v", err)
	case <-time.After(e2eTimeout):
		cancel()
		t.Fatal("serve did not start")
	}
	h.cancel, h.done = cancel, done
	eventually(t, e2eTimeout, func() bool {
		code, _ := h.get("/healthz")
		return code == http.StatusOK
	}, "/healthz answering")
}

// stop cancels serve's context (SIGTERM) and waits for it to return.
func (h *e2e) stop() {
	h.t.Helper()
	h.cancel()
	h.wait()
}

// wait waits for serve to return after its context was cancelled.
func (h *e2e) wait() {
	h.t.Helper()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Fatal("serve did not return after its context was cancelled")
	}
	h.eng, h.cancel, h.done = nil, nil, nil
}

func (h *e2e) url(path string) string { return "http://" + h.addr + path }

// The admin serve seeds (as PARLEY_ADMIN_EMAIL and PARLEY_ADMIN_PASSWORD
// would), whom API reads sign in as.
const (
	e2eAdmin    = "admin@e2e.test"
	e2ePassword = "e2e admin password"
)

// signIn signs the admin in once and returns the session cookie; the
// session outlives restarts (it is in the data file).
func (h *e2e) signIn() string {
	h.t.Helper()
	if h.cookie != "" {
		return h.cookie
	}
	resp, err := http.Post(h.url("/api/v1/auth/login"), "application/json",
		strings.NewReader(`{"email":"`+e2eAdmin+`","password":"`+e2ePassword+`"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			h.cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != http.StatusOK || h.cookie == "" {
		b, _ := io.ReadAll(resp.Body)
		h.t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
	}
	return h.cookie
}

// get GETs path; under /api/v1, signed in as the admin.
func (h *e2e) get(path string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, h.url(path), nil)
	if err != nil {
		return 0, err.Error()
	}
	if strings.HasPrefix(path, "/api/v1/") {
		req.Header.Set("Cookie", h.signIn())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postWebhook posts body to Parley's webhook with the signature header sig
// ("" for none) and returns the HTTP status (0 on a transport error).
func (h *e2e) postWebhook(body []byte, sig string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, h.url("/webhook/whatsapp"), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(whatsapp.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
	return resp.StatusCode, nil
}

// sign signs body with the sandbox's (that is, the app's) secret.
func (h *e2e) sign(body []byte) string { return whatsapp.Sign(body, h.sb.Config().AppSecret) }

// customer registers a customer in the sandbox and returns their BSUID.
func (h *e2e) customer(waID, name string) string {
	return h.sb.AddCustomer(sandbox.Customer{WaID: waID, Name: name}).UserID
}

// key is Parley's contact key of a sandbox customer: the business number
// and the customer's BSUID, which the sandbox sends in every webhook.
func (h *e2e) key(waID string) model.ContactKey {
	c, ok := h.sb.Customer(waID)
	if !ok {
		h.t.Fatalf("sandbox has no customer %s", waID)
	}
	return model.NewContactKey(h.sb.Config().PhoneNumberID, c.UserID)
}

// says makes the customer write text through the sandbox.
func (h *e2e) says(waID string, in sandbox.Inbound) string {
	h.t.Helper()
	wamid, err := h.sb.CustomerSays(waID, in)
	if err != nil {
		h.t.Fatal(err)
	}
	return wamid
}

// accepted returns the sends the sandbox accepted for one customer.
func (h *e2e) accepted(waID string) []sandbox.Entry {
	var out []sandbox.Entry
	for _, e := range h.sb.Accepted() {
		if e.To == waID {
			out = append(out, e)
		}
	}
	return out
}

// rejected returns the refusals (synchronous and asynchronous) of sends to
// one customer.
func (h *e2e) rejected(waID string) []sandbox.Entry {
	var out []sandbox.Entry
	for _, e := range h.sb.Rejected() {
		if e.To == waID {
			out = append(out, e)
		}
	}
	return out
}

func sentBodies(es []sandbox.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Body
	}
	return out
}

// waitAccepted waits until the customer has been sent n messages.
func (h *e2e) waitAccepted(waID string, n int) []sandbox.Entry {
	h.t.Helper()
	eventually(h.t, e2eTimeout, func() bool { return len(h.accepted(waID)) >= n },
		"%d sends accepted for %s (have %q)", n, waID, sentBodies(h.accepted(waID)))
	return h.accepted(waID)
}

// conversation returns the customer's current (or last) conversation and
// its transcript, read from the running Parley; nil if there is none.
func (h *e2e) conversation(waID string) (*model.Conversation, []*model.Message) {
	h.t.Helper()
	ctx := context.Background()
	conv, err := h.eng.CurrentConversation(ctx, h.key(waID))
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	msgs, err := h.eng.Store().Transcript(ctx, conv.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return conv, msgs
}

func byDirection(msgs []*model.Message, d model.Direction) []*model.Message {
	var out []*model.Message
	for _, m := range msgs {
		if m.Direction == d {
			out = append(out, m)
		}
	}
	return out
}

func msgStates(msgs []*model.Message) []model.MessageState {
	out := make([]model.MessageState, len(msgs))
	for i, m := range msgs {
		out[i] = m.State
	}
	return out
}

// outboundSettled reports whether every message Parley queued for the
// customer has left the outbox (whatever became of it).
func (h *e2e) outboundSettled(waID string) bool {
	_, msgs := h.conversation(waID)
	for _, m := range byDirection(msgs, model.Out) {
		if m.State == model.Queued || m.State == model.Sending {
			return false
		}
	}
	return true
}

// webhookAnswered reports whether the sandbox has delivered the status
// webhook (wamid, status) and Parley answered it 200, that is, processed
// it durably.
func (h *e2e) webhookAnswered(wamid, status string) bool {
	for _, e := range h.sb.Entries(sandbox.KindWebhook) {
		if e.HTTPStatus != http.StatusOK {
			continue
		}
		var env struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Statuses []struct{ ID, Status string }
					}
				}
			}
		}
		if json.Unmarshal(e.Raw, &env) != nil {
			continue
		}
		for _, en := range env.Entry {
			for _, c := range en.Changes {
				for _, st := range c.Value.Statuses {
					if st.ID == wamid && st.Status == status {
						return true
					}
				}
			}
		}
	}
	return false
}

// metric returns the value of one series in /metrics, or -1 when absent.
func (h *e2e) metric(series string) float64 {
	code, body := h.get("/metrics")
	if code != http.StatusOK {
		h.t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, line := range strings.Split(body, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if ok && name == series {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				h.t.Fatalf("metric %s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

// inboundWebhook is the messages webhook Meta posts for a text from a
// customer, built by hand (not by the sandbox) so a test can post the very
// same bytes several times.
func (h *e2e) inboundWebhook(waID, userID, name, wamid, text string) []byte {
	c := h.sb.Config()
	v := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": c.WABAID,
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]string{"display_phone_number": c.DisplayPhoneNumber, "phone_number_id": c.PhoneNumberID},
					"contacts":          []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": waID, "user_id": userID}},
					"messages": []any{map[string]any{
						"from": waID, "id": wamid, "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
						"type": "text", "text": map[string]string{"body": text},
					}},
				},
			}},
		}},
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// openStore opens Parley's data file after serve has stopped.
func (h *e2e) openStore() *boltstore.Store {
	h.t.Helper()
	st, err := boltstore.Open(filepath.Join(h.data, "parley.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// apiConversation is GET /api/v1/conversations/{id}, as far as these
// tests read it.
type apiConversation struct {
	Conversation struct {
		ID     string       `json:"id"`
		Status model.Status `json:"status"`
		Node   string       `json:"node"`
	} `json:"conversation"`
	Window struct {
		Open bool `json:"open"`
	} `json:"window"`
	Transcript []struct {
		Direction model.Direction    `json:"direction"`
		Text      string             `json:"text"`
		State     model.MessageState `json:"state"`
		WAMID     string             `json:"wamid"`
		ErrorCode int                `json:"error_code"`
	} `json:"transcript"`
}

// api GETs an /api/v1 path, decodes the JSON answer into v and returns the
// HTTP status.
func (h *e2e) api(path string, v any) int {
	h.t.Helper()
	code, body := h.get("/api/v1" + path)
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			h.t.Fatalf("GET /api/v1%s: %v in %s", path, err, body)
		}
	}
	return code
}

// apiOutbound returns the outbound transcript entries of a conversation
// as the REST API shows them: "state text" each.
func (h *e2e) apiOutbound(convID string) []string {
	h.t.Helper()
	var c apiConversation
	if code := h.api("/conversations/"+url.PathEscape(convID), &c); code != http.StatusOK {
		h.t.Fatalf("GET conversation %s: %d", convID, code)
	}
	var out []string
	for _, m := range c.Transcript {
		if m.Direction == model.Out {
			out = append(out, string(m.State)+" "+m.Text)
		}
	}
	return out
}

// ---- flows ---------------------------------------------------------------

// e2eGreetFlow greets, asks with buttons and answers with the choice.
const e2eGreetFlow = `{
  "format": "parley/flow@1", "id": "greet", "name": "Greeting", "language": "en_US", "start": "hello",
  "triggers": [{"type": "keyword", "keywords": ["hello"]}],
  "nodes": [
    {"id": "hello", "type": "send", "message": {"type": "text", "text": "Hi {{ contact.name }}!"}, "next": "ask"},
    {"id": "ask", "type": "wait_reply",
     "prompt": {"type": "buttons", "text": "Tea or coffee?", "buttons": [{"id": "tea", "title": "Tea"}, {"id": "coffee", "title": "Coffee"}]},
     "accept": "button", "save_as": "drink", "next": "done"},
    {"id": "done", "type": "send", "message": {"type": "text", "text": "One {{ vars.drink }} coming up."}}
  ]
}`

// e2eOrderFlow waits twice for the customer, then sums up.
const e2eOrderFlow = `{
  "format": "parley/flow@1", "id": "order", "name": "Order lookup", "language": "en_US", "start": "ask_order",
  "triggers": [{"type": "keyword", "keywords": ["order"]}],
  "nodes": [
    {"id": "ask_order", "type": "wait_reply", "prompt": {"type": "text", "text": "What's your order number?"},
     "save_as": "order", "next": "ask_email"},
    {"id": "ask_email", "type": "wait_reply", "prompt": {"type": "text", "text": "And the email you ordered with?"},
     "save_as": "email", "next": "done"},
    {"id": "done", "type": "send", "message": {"type": "text", "text": "Thanks! Looking up order {{ vars.order }} for {{ vars.email }}."}}
  ]
}`

// e2eAckFlow answers any first message once.
const e2eAckFlow = `{
  "format": "parley/flow@1", "id": "ack", "name": "Acknowledge", "language": "en_US", "start": "ack",
  "triggers": [{"type": "any"}],
  "nodes": [
    {"id": "ack", "type": "send", "message": {"type": "text", "text": "ack {{ reply.text }}"}}
  ]
}`

// ---- tests ---------------------------------------------------------------

// TestServeE2EFlowRoundTrip: a signed webhook starts a flow; the customer
// receives its messages in order with the right bodies, taps a button,
// gets the answer, and every message reaches read in Parley's transcript.
func TestServeE2EFlowRoundTrip(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"greet.json": e2eGreetFlow}})
	h.start()
	const ann = "15551230001"
	h.customer(ann, "Ann")

	h.says(ann, sandbox.Text("hello there"))
	sent := h.waitAccepted(ann, 2)
	if got, want := sentBodies(sent), []string{"Hi Ann!", "Tea or coffee?"}; !slices.Equal(got, want) {
		t.Fatalf("customer received %q, want %q", got, want)
	}
	var req struct {
		To          string `json:"to"`
		Type        string `json:"type"`
		Interactive struct {
			Type   string `json:"type"`
			Action struct {
				Buttons []struct {
					Reply struct{ ID, Title string }
				}
			}
		}
	}
	if err := json.Unmarshal(sent[1].Raw, &req); err != nil {
		t.Fatal(err)
	}
	if req.To != ann || req.Type != "interactive" || req.Interactive.Type != "button" || len(req.Interactive.Action.Buttons) != 2 ||
		req.Interactive.Action.Buttons[1].Reply.ID != "coffee" || req.Interactive.Action.Buttons[1].Reply.Title != "Coffee" {
		t.Fatalf("buttons request: %s", sent[1].Raw)
	}

	h.says(ann, sandbox.ButtonReply(sent[1].WAMID, "coffee", "Coffee"))
	sent = h.waitAccepted(ann, 3)
	if got, want := sentBodies(sent), []string{"Hi Ann!", "Tea or coffee?", "One coffee coming up."}; !slices.Equal(got, want) {
		t.Fatalf("customer received %q, want %q", got, want)
	}

	// Statuses flow back: sent → delivered → read for every message.
	eventually(t, e2eTimeout, func() bool {
		_, msgs := h.conversation(ann)
		out := byDirection(msgs, model.Out)
		if len(out) != 3 {
			return false
		}
		for _, m := range out {
			if m.State != model.Read {
				return false
			}
		}
		return true
	}, "every outbound message read")
	conv, msgs := h.conversation(ann)
	if conv.Status != model.Ended || conv.Flow != "greet" || conv.Vars["drink"] != "coffee" {
		t.Errorf("conversation: status %s flow %s vars %v", conv.Status, conv.Flow, conv.Vars)
	}
	out := byDirection(msgs, model.Out)
	for i, m := range out {
		if m.WAMID != sent[i].WAMID || m.Error != "" {
			t.Errorf("message %d: wamid %q error %q, the sandbox accepted %q", i, m.WAMID, m.Error, sent[i].WAMID)
		}
	}
	if in := byDirection(msgs, model.In); len(in) != 2 || in[1].Inbound.ButtonID != "coffee" {
		t.Errorf("inbound messages: %d", len(in))
	}
	// The REST API shows the same transcript with its delivery states.
	if got, want := h.apiOutbound(conv.ID), []string{
		"read text: Hi Ann!", "read buttons: Tea or coffee? [tea:Tea] [coffee:Coffee]", "read text: One coffee coming up.",
	}; !slices.Equal(got, want) {
		t.Errorf("REST transcript %q, want %q", got, want)
	}
	var list struct {
		Conversations []struct {
			ID     string       `json:"id"`
			Status model.Status `json:"status"`
		} `json:"conversations"`
	}
	if code := h.api("/conversations?contact="+url.QueryEscape(string(h.key(ann))), &list); code != http.StatusOK ||
		len(list.Conversations) != 1 || list.Conversations[0].ID != conv.ID || list.Conversations[0].Status != model.Ended {
		t.Errorf("REST listing: %d %+v", code, list)
	}
	for _, turn := range h.sb.Transcript(ann) {
		if turn.From == "business" && turn.Status != "read" {
			t.Errorf("sandbox transcript: %s %q is %s", turn.WAMID, turn.Text, turn.Status)
		}
	}
	if r := h.rejected(ann); len(r) > 0 {
		t.Errorf("rejected sends: %+v", r)
	}
}

// TestServeE2EDuplicateWebhook: Meta redelivers; the same wamid posted
// twice (one after the other, and concurrently) is answered 200 both times
// and processed once.
func TestServeE2EDuplicateWebhook(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"greet.json": e2eGreetFlow}})
	h.start()

	for _, tc := range []struct {
		waID       string
		concurrent bool
	}{{"15551230011", false}, {"15551230012", true}} {
		userID := h.customer(tc.waID, "Ann")
		// The messages are posted by the test, not written through the
		// sandbox: open its window as if the customer had written.
		h.sb.SetLastInbound(tc.waID, time.Now())
		body := h.inboundWebhook(tc.waID, userID, "Ann", "wamid.E2E-DUP-"+tc.waID, "hello")
		sig := h.sign(body)
		codes := make([]int, 2)
		errs := make([]error, 2)
		if tc.concurrent {
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Go(func() { codes[i], errs[i] = h.postWebhook(body, sig) })
			}
			wg.Wait()
		} else {
			for i := range 2 {
				codes[i], errs[i] = h.postWebhook(body, sig)
			}
		}
		for i := range 2 {
			if errs[i] != nil || codes[i] != http.StatusOK {
				t.Fatalf("%s post %d: %d %v", tc.waID, i, codes[i], errs[i])
			}
		}
		// Both answered 200: both are durably processed, so the transcript
		// is final as far as this message goes.
		_, msgs := h.conversation(tc.waID)
		if in, out := byDirection(msgs, model.In), byDirection(msgs, model.Out); len(in) != 1 || len(out) != 2 {
			t.Fatalf("%s: %d inbound and %d outbound messages in the transcript, want 1 and 2", tc.waID, len(in), len(out))
		}
		eventually(t, e2eTimeout, func() bool { return h.outboundSettled(tc.waID) }, "outbox of %s drained", tc.waID)
		// A third delivery, once the replies are out, changes nothing either.
		if code, err := h.postWebhook(body, sig); err != nil || code != http.StatusOK {
			t.Fatalf("%s third post: %d %v", tc.waID, code, err)
		}
		_, msgs = h.conversation(tc.waID)
		if in, out := byDirection(msgs, model.In), byDirection(msgs, model.Out); len(in) != 1 || len(out) != 2 {
			t.Fatalf("%s after a third delivery: %d inbound and %d outbound messages", tc.waID, len(in), len(out))
		}
		if got, want := sentBodies(h.accepted(tc.waID)), []string{"Hi Ann!", "Tea or coffee?"}; !slices.Equal(got, want) {
			t.Errorf("%s received %q, want %q", tc.waID, got, want)
		}
	}
}

// TestServeE2EWebhookSecurity: a bad signature is refused with 401 and
// leaves nothing behind; malformed (but signed) bodies get 400, oversized
// ones 413; the GET handshake echoes the challenge for the right token
// only.
func TestServeE2EWebhookSecurity(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"greet.json": e2eGreetFlow}})
	h.start()
	const mallory, bob = "15551230021", "15551230022"
	malloryID, bobID := h.customer(mallory, "Mallory"), h.customer(bob, "Bob")
	h.sb.SetLastInbound(bob, time.Now())
	forged := h.inboundWebhook(mallory, malloryID, "Mallory", "wamid.E2E-FORGED", "hello")

	bigBody := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), whatsapp.MaxWebhookBytes)...)
	bigBody = append(bigBody, `"}`...)
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"signed with another secret", forged, whatsapp.Sign(forged, "not-the-app-secret"), http.StatusUnauthorized},
		{"no signature", forged, "", http.StatusUnauthorized},
		{"signature of another body", forged, h.sign([]byte(`{}`)), http.StatusUnauthorized},
		{"garbled signature", forged, "sha256=zz", http.StatusUnauthorized},
		{"not JSON", []byte(`{"object":`), h.sign([]byte(`{"object":`)), http.StatusBadRequest},
		{"not a WhatsApp object", []byte(`{"object":"page","entry":[]}`), h.sign([]byte(`{"object":"page","entry":[]}`)), http.StatusBadRequest},
		{"over MaxWebhookBytes", bigBody, h.sign(bigBody), http.StatusRequestEntityTooLarge},
	} {
		code, err := h.postWebhook(tc.body, tc.sig)
		if err != nil || code != tc.want {
			t.Errorf("%s: got %d %v, want %d", tc.name, code, err, tc.want)
		}
	}

	// The handshake (docs/whatsapp.md §1.1).
	for _, tc := range []struct {
		query    string
		want     int
		wantBody string
	}{
		{"hub.mode=subscribe&hub.verify_token=" + h.verify + "&hub.challenge=1158201444", http.StatusOK, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", http.StatusForbidden, ""},
		{"hub.mode=unsubscribe&hub.verify_token=" + h.verify + "&hub.challenge=1158201444", http.StatusForbidden, ""},
		{"hub.mode=subscribe&hub.challenge=1158201444", http.StatusForbidden, ""},
	} {
		code, body := h.get("/webhook/whatsapp?" + tc.query)
		if code != tc.want || (tc.want == http.StatusOK && body != tc.wantBody) {
			t.Errorf("GET ?%s: %d %q, want %d %q", tc.query, code, body, tc.want, tc.wantBody)
		}
	}

	// A control: a correctly signed message from Bob is taken.
	good := h.inboundWebhook(bob, bobID, "Bob", "wamid.E2E-GOOD", "hello")
	if code, err := h.postWebhook(good, h.sign(good)); err != nil || code != http.StatusOK {
		t.Fatalf("signed webhook: %d %v", code, err)
	}
	h.waitAccepted(bob, 2)

	for series, want := range map[string]float64{
		`parley_webhooks_total{result="bad_signature"}`: 4,
		`parley_webhooks_total{result="malformed"}`:     2,
		`parley_webhooks_total{result="too_large"}`:     1,
		`parley_webhooks_total{result="ok"}`:            1,
	} {
		if got := h.metric(series); got < want || (series != `parley_webhooks_total{result="ok"}` && got != want) {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if got := h.accepted(mallory); len(got) != 0 {
		t.Errorf("the forged message was answered: %q", sentBodies(got))
	}
	malloryKey := h.key(mallory)
	bobKey := h.key(bob)
	var contact map[string]any
	if code := h.api("/contacts/"+url.PathEscape(string(malloryKey)), &contact); code != http.StatusNotFound {
		t.Errorf("GET the forged message's contact: %d %v, want 404", code, contact)
	}
	if code := h.api("/contacts/"+url.PathEscape(string(bobKey)), &contact); code != http.StatusOK {
		t.Errorf("GET the signed message's contact: %d", code)
	}
	h.stop()

	// Nothing of Mallory's message is in the data file; Bob's is.
	st := h.openStore()
	defer st.Close()
	ctx := context.Background()
	if c, err := st.Contact(ctx, malloryKey); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("contact of the forged message: %+v, %v", c, err)
	}
	if convs, err := st.Conversations(ctx, malloryKey); err != nil || len(convs) != 0 {
		t.Errorf("conversations of the forged message: %d, %v", len(convs), err)
	}
	if seen, err := st.Seen(ctx, malloryKey, "wamid.E2E-FORGED"); err != nil || seen {
		t.Errorf("forged wamid seen: %v, %v", seen, err)
	}
	if seen, err := st.Seen(ctx, bobKey, "wamid.E2E-GOOD"); err != nil || !seen {
		t.Errorf("good wamid seen: %v, %v", seen, err)
	}
	if convs, err := st.Conversations(ctx, bobKey); err != nil || len(convs) != 1 {
		t.Errorf("conversations of the signed message: %d, %v", len(convs), err)
	}
}

// TestServeE2ERestartMidConversation: Parley stops (SIGTERM) while a flow
// waits for the customer and starts again on the same data; the customer's
// answer continues the flow where it waited.
func TestServeE2ERestartMidConversation(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"order.json": e2eOrderFlow}, webhookRetries: 20})
	h.start()
	const cus = "15551230031"
	h.customer(cus, "Cus")

	h.says(cus, sandbox.Text("order"))
	h.waitAccepted(cus, 1)
	h.says(cus, sandbox.Text("482913"))
	sent := h.waitAccepted(cus, 2)
	eventually(t, e2eTimeout, func() bool { return h.webhookAnswered(sent[1].WAMID, "read") }, "the second prompt read")
	h.stop()

	h.start()
	conv, _ := h.conversation(cus)
	if conv.Status != model.Waiting || conv.Node != "ask_email" || conv.Vars["order"] != "482913" {
		t.Fatalf("after restart: status %s node %s vars %v", conv.Status, conv.Node, conv.Vars)
	}
	h.says(cus, sandbox.Text("cus@example.com"))
	sent = h.waitAccepted(cus, 3)
	want := []string{"What's your order number?", "And the email you ordered with?", "Thanks! Looking up order 482913 for cus@example.com."}
	if got := sentBodies(sent); !slices.Equal(got, want) {
		t.Fatalf("customer received %q, want %q", got, want)
	}
	eventually(t, e2eTimeout, func() bool {
		c, _ := h.conversation(cus)
		return c.Status == model.Ended
	}, "conversation ended")
	if got := h.accepted(cus); len(got) != 3 {
		t.Errorf("customer received %d messages, want 3: %q", len(got), sentBodies(got))
	}
}

// TestServeE2EStatusesOutOfOrder: read arrives before delivered and sent
// (Meta does not order webhooks); the message stays read.
func TestServeE2EStatusesOutOfOrder(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"order.json": e2eOrderFlow}, statuses: sandbox.StatusManual})
	h.start()
	const cus = "15551230041"
	h.customer(cus, "Cus")
	h.says(cus, sandbox.Text("order"))
	wamid := h.waitAccepted(cus, 1)[0].WAMID
	// The state as the REST API shows it.
	state := func() model.MessageState {
		conv, _ := h.conversation(cus)
		var c apiConversation
		if code := h.api("/conversations/"+url.PathEscape(conv.ID), &c); code != http.StatusOK {
			t.Fatalf("GET conversation: %d", code)
		}
		var out []model.MessageState
		for _, m := range c.Transcript {
			if m.Direction == model.Out {
				if m.State != model.Queued && m.State != model.Sending && m.WAMID != wamid {
					t.Fatalf("REST transcript: %s with wamid %q, the sandbox accepted %q", m.State, m.WAMID, wamid)
				}
				out = append(out, m.State)
			}
		}
		if len(out) != 1 {
			return ""
		}
		return out[0]
	}
	eventually(t, e2eTimeout, func() bool { return state() == model.Accepted }, "the prompt accepted (is %q)", state())

	for _, st := range []string{"read", "delivered", "sent", "delivered", "read"} {
		if err := h.sb.SetStatus(wamid, st, 0); err != nil {
			t.Fatal(err)
		}
		eventually(t, e2eTimeout, func() bool { return h.webhookAnswered(wamid, st) }, "status %s processed", st)
		if got := state(); got != model.Read {
			t.Fatalf("after %s: state %s, want read", st, got)
		}
	}
	// A failure reported after read (another device) does not undo it.
	if err := h.sb.SetStatus(wamid, "failed", 131026); err != nil {
		t.Fatal(err)
	}
	eventually(t, e2eTimeout, func() bool { return h.webhookAnswered(wamid, "failed") }, "status failed processed")
	if got := state(); got != model.Read {
		t.Fatalf("after failed: state %s, want read", got)
	}
	if conv, _ := h.conversation(cus); conv.Status != model.Waiting {
		t.Errorf("conversation %s, want waiting", conv.Status)
	}
}

// TestServeE2ELateWindowClosed: Parley believes the window open (its clock
// is real) but Meta's (the sandbox's) clock is 25 h ahead: a timer-driven
// free-form send (a 4 s wait_reply timeout, real time) is accepted with 200 and then fails with a 131047 status.
// Parley closes the window in the contact's state and takes the node's
// template path; the customer receives the template, answers, and the flow
// goes on free-form again.
func TestServeE2ELateWindowClosed(t *testing.T) {
	t.Parallel()
	const flow = `{
	  "format": "parley/flow@1", "id": "remind", "name": "Reminder", "language": "en_US", "start": "ask",
	  "triggers": [{"type": "keyword", "keywords": ["remind"]}],
	  "nodes": [
	    {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "Shall I remind you tomorrow?"},
	     "timeout": "4s", "on_timeout": "nudge", "next": "thanks"},
	    {"id": "nudge", "type": "send", "message": {"type": "text", "text": "Still there? Just reply YES."},
	     "on_window_closed": "reengage", "next": "await"},
	    {"id": "reengage", "type": "template",
	     "template": {"name": "reminder_followup", "language": "en_US", "body": ["{{ contact.name }}"]}, "next": "await"},
	    {"id": "await", "type": "wait_reply", "next": "thanks"},
	    {"id": "thanks", "type": "send", "message": {"type": "text", "text": "Great, talk to you tomorrow."}}
	  ]
	}`
	clock := sandbox.NewManualClock(time.Now())
	h := newE2E(t, e2eOptions{
		flows: map[string]string{"remind.json": flow},
		clock: clock,
		templates: []sandbox.Template{{
			Name: "reminder_followup", Language: "en_US", Category: "UTILITY",
			Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hi {{1}}, are you still there? Tap reply to go on.",
				Example: json.RawMessage(`{"body_text":[["Ann"]]}`)}},
		}},
	})
	h.start()
	const cus = "15551230051"
	h.customer(cus, "Ann")
	// A template outside the window is business-initiated: it needs the
	// contact's opt-in (docs/whatsapp.md §4.8).
	if _, err := h.eng.UpdateContact(context.Background(), h.key(cus), func(c *model.Contact) {
		c.OptedIn, c.OptedInAt = true, time.Now()
	}); err != nil {
		t.Fatal(err)
	}

	h.says(cus, sandbox.Text("remind me"))
	h.waitAccepted(cus, 1)
	// Meta's clock moves past the window before Parley's 4 s timeout fires.
	clock.Advance(25 * time.Hour)

	sent := h.waitAccepted(cus, 3)
	if got, want := sentBodies(sent), []string{"Shall I remind you tomorrow?", "Still there? Just reply YES.", "reminder_followup"}; !slices.Equal(got, want) {
		t.Fatalf("customer was sent %q, want %q", got, want)
	}
	if sent[2].Type != "template" {
		t.Errorf("third send is a %s", sent[2].Type)
	}
	var tpl struct {
		Template struct {
			Components []struct {
				Type       string
				Parameters []struct{ Text string }
			}
		}
	}
	if err := json.Unmarshal(sent[2].Raw, &tpl); err != nil || len(tpl.Template.Components) != 1 || tpl.Template.Components[0].Parameters[0].Text != "Ann" {
		t.Errorf("template request %s (%v)", sent[2].Raw, err)
	}
	rej := h.rejected(cus)
	if len(rej) != 1 || rej[0].Code != engine.CodeWindowClosed || !rej[0].Async || rej[0].WAMID != sent[1].WAMID {
		t.Fatalf("rejections %+v, want one asynchronous 131047 of the nudge", rej)
	}

	eventually(t, e2eTimeout, func() bool {
		_, msgs := h.conversation(cus)
		out := byDirection(msgs, model.Out)
		return len(out) == 3 && out[1].State == model.SendFailed && out[2].State == model.Read
	}, "nudge failed and template read in Parley")
	conv, msgs := h.conversation(cus)
	out := byDirection(msgs, model.Out)
	if out[1].ErrorCode != engine.CodeWindowClosed || out[1].WAMID != sent[1].WAMID {
		t.Errorf("nudge: code %d wamid %q", out[1].ErrorCode, out[1].WAMID)
	}
	if conv.Status != model.Waiting || conv.Node != "await" {
		t.Errorf("conversation %s at %s, want waiting at await", conv.Status, conv.Node)
	}
	var c apiConversation
	if code := h.api("/conversations/"+url.PathEscape(conv.ID), &c); code != http.StatusOK || c.Window.Open {
		t.Errorf("Parley still believes the window open: %d %+v", code, c.Window)
	}
	if got, want := h.apiOutbound(conv.ID), []string{
		"read text: Shall I remind you tomorrow?", "failed text: Still there? Just reply YES.", "read template: reminder_followup/en_US Ann",
	}; !slices.Equal(got, want) {
		t.Errorf("REST transcript %q, want %q", got, want)
	}

	// The customer answers the template: the window opens again.
	h.says(cus, sandbox.Text("yes"))
	sent = h.waitAccepted(cus, 4)
	if sent[3].Body != "Great, talk to you tomorrow." {
		t.Errorf("after the reply: %q", sent[3].Body)
	}
	eventually(t, e2eTimeout, func() bool {
		c, msgs := h.conversation(cus)
		out := byDirection(msgs, model.Out)
		return c.Status == model.Ended && len(out) == 4 && out[3].State == model.Read
	}, "conversation ended with the last message read")
	if n := len(h.rejected(cus)); n != 1 {
		t.Errorf("%d rejections, want 1", n)
	}
	if got := h.metric(`parley_window_closed_reroutes_total`); got != 1 {
		t.Errorf("reroutes = %v, want 1", got)
	}
}

// TestServeE2EThrottlingRetried: Meta throttles (130429 throughput, 131056
// pair rate) and fails (HTTP 500, 131000); Parley retries, and the customer
// receives every message exactly once, in order.
func TestServeE2EThrottlingRetried(t *testing.T) {
	t.Parallel()
	const flow = `{
	  "format": "parley/flow@1", "id": "news", "name": "News", "language": "en_US", "start": "one",
	  "triggers": [{"type": "keyword", "keywords": ["news"]}],
	  "nodes": [
	    {"id": "one", "type": "send", "message": {"type": "text", "text": "News 1"}, "next": "two"},
	    {"id": "two", "type": "send", "message": {"type": "text", "text": "News 2"}, "next": "three"},
	    {"id": "three", "type": "send", "message": {"type": "text", "text": "News 3"}}
	  ]
	}`
	h := newE2E(t, e2eOptions{flows: map[string]string{"news.json": flow}})
	h.start()
	const cus = "15551230061"
	h.customer(cus, "Cus")
	codes := []int{130429, 131056, 131000}
	for _, c := range codes {
		h.sb.Inject(sandbox.Injection{Code: c, To: cus})
	}

	h.says(cus, sandbox.Text("news"))
	eventually(t, 40*time.Second, func() bool { return len(h.accepted(cus)) == 3 }, "three sends accepted (have %q)", sentBodies(h.accepted(cus)))
	if got, want := sentBodies(h.accepted(cus)), []string{"News 1", "News 2", "News 3"}; !slices.Equal(got, want) {
		t.Fatalf("customer received %q, want %q", got, want)
	}
	rej := h.rejected(cus)
	if len(rej) != len(codes) {
		t.Fatalf("rejections %+v, want %v", rej, codes)
	}
	for i, r := range rej {
		if r.Code != codes[i] {
			t.Errorf("rejection %d: %d, want %d", i, r.Code, codes[i])
		}
	}
	if rej[2].HTTPStatus != http.StatusInternalServerError {
		t.Errorf("131000 answered with HTTP %d", rej[2].HTTPStatus)
	}
	eventually(t, e2eTimeout, func() bool {
		_, msgs := h.conversation(cus)
		out := byDirection(msgs, model.Out)
		return len(out) == 3 && !slices.ContainsFunc(out, func(m *model.Message) bool { return m.State != model.Read })
	}, "all three read")
	_, msgs := h.conversation(cus)
	for i, m := range byDirection(msgs, model.Out) {
		if m.Error != "" || m.ErrorCode != 0 {
			t.Errorf("message %d is %s but still carries the error of an earlier attempt: %d %q", i, m.State, m.ErrorCode, m.Error)
		}
	}
	for _, c := range codes {
		if got := h.metric(fmt.Sprintf(`parley_sends_total{result="retry",code="%d"}`, c)); got != 1 {
			t.Errorf("retries with %d: %v, want 1", c, got)
		}
	}
	if got := h.metric(`parley_sends_total{result="accepted",code=""}`); got != 3 {
		t.Errorf("accepted sends: %v, want 3", got)
	}
}

// TestServeE2EAmbiguousSend: the connection drops after the sandbox took a
// send (the customer got it, Parley cannot know). Parley marks the message
// unknown and does not resend it; the flow is not stuck: the next message
// goes, the customer's answer is taken. A later status webhook (matched by
// biz_opaque_callback_data) tells Parley what became of it.
func TestServeE2EAmbiguousSend(t *testing.T) {
	t.Parallel()
	const flow = `{
	  "format": "parley/flow@1", "id": "ping", "name": "Ping", "language": "en_US", "start": "first",
	  "triggers": [{"type": "keyword", "keywords": ["ping"]}],
	  "nodes": [
	    {"id": "first", "type": "send", "message": {"type": "text", "text": "pong 1"}, "next": "second"},
	    {"id": "second", "type": "wait_reply", "prompt": {"type": "text", "text": "pong 2: say something"}, "save_as": "x", "next": "third"},
	    {"id": "third", "type": "send", "message": {"type": "text", "text": "pong 3: {{ vars.x }}"}}
	  ]
	}`
	h := newE2E(t, e2eOptions{flows: map[string]string{"ping.json": flow}, statuses: sandbox.StatusManual})
	h.start()
	const cus = "15551230071"
	h.customer(cus, "Cus")
	h.sb.Inject(sandbox.Injection{Drop: true, To: cus})

	h.says(cus, sandbox.Text("ping"))
	sent := h.waitAccepted(cus, 2)
	if got, want := sentBodies(sent), []string{"pong 1", "pong 2: say something"}; !slices.Equal(got, want) {
		t.Fatalf("customer received %q, want %q", got, want)
	}
	eventually(t, e2eTimeout, func() bool { return h.outboundSettled(cus) }, "outbox drained")
	_, msgs := h.conversation(cus)
	out := byDirection(msgs, model.Out)
	if got := msgStates(out); !slices.Equal(got, []model.MessageState{model.Unknown, model.Accepted}) {
		t.Fatalf("states %v, want [unknown accepted]", got)
	}
	if out[0].WAMID != "" || out[0].Error == "" {
		t.Errorf("unknown message: wamid %q error %q", out[0].WAMID, out[0].Error)
	}
	if got := h.metric(`parley_sends_total{result="unknown",code=""}`); got != 1 {
		t.Errorf("unknown sends: %v, want 1", got)
	}

	// Not stuck: the customer answers and the flow goes on.
	h.says(cus, sandbox.Text("hi"))
	sent = h.waitAccepted(cus, 3)
	if sent[2].Body != "pong 3: hi" {
		t.Errorf("third message %q", sent[2].Body)
	}
	eventually(t, e2eTimeout, func() bool { return h.outboundSettled(cus) }, "outbox drained")
	if got := sentBodies(h.accepted(cus)); !slices.Equal(got, []string{"pong 1", "pong 2: say something", "pong 3: hi"}) {
		t.Fatalf("customer received %q: the unknown message was resent?", got)
	}

	// Meta's status webhook resolves the unknown message.
	if err := h.sb.SetStatus(sent[0].WAMID, "delivered", 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, e2eTimeout, func() bool { return h.webhookAnswered(sent[0].WAMID, "delivered") }, "status processed")
	_, msgs = h.conversation(cus)
	out = byDirection(msgs, model.Out)
	if out[0].State != model.Delivered || out[0].WAMID != sent[0].WAMID {
		t.Errorf("after its status: %s %q", out[0].State, out[0].WAMID)
	}
	if n := len(h.accepted(cus)); n != 3 {
		t.Errorf("%d sends accepted, want 3", n)
	}
}

// TestServeE2EShutdownWithWebhooksInFlight: SIGTERM while webhooks are
// being posted. Every webhook answered 200 is durably processed: its reply
// is sent before the stop or after the restart; the others are redelivered
// (as Meta does) after the restart; no customer gets a reply twice.
func TestServeE2EShutdownWithWebhooksInFlight(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"ack.json": e2eAckFlow}, webhookRetries: -1})
	h.start()
	// Six posters work through 48 webhooks; SIGTERM comes once 8 have been
	// answered, with others on the wire and more to come.
	const n, posters, stopAfter = 48, 6, 8
	type hook struct {
		waID, wamid string
		body        []byte
		code        int
		err         error
	}
	hooks := make([]*hook, n)
	next := make(chan *hook, n)
	for i := range hooks {
		waID := fmt.Sprintf("1555124%04d", i)
		userID := h.customer(waID, "Cus")
		h.sb.SetLastInbound(waID, time.Now())
		wamid := fmt.Sprintf("wamid.E2E-SHUT-%d", i)
		hooks[i] = &hook{waID: waID, wamid: wamid, body: h.inboundWebhook(waID, userID, "Cus", wamid, fmt.Sprintf("m%d", i))}
		next <- hooks[i]
	}
	close(next)

	var oks atomic.Int32
	var once sync.Once
	enough := make(chan struct{})
	var wg sync.WaitGroup
	for range posters {
		wg.Go(func() {
			for hk := range next {
				hk.code, hk.err = h.postWebhook(hk.body, h.sign(hk.body))
				if hk.code == http.StatusOK && oks.Add(1) == stopAfter {
					once.Do(func() { close(enough) })
				}
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(e2eTimeout):
		t.Fatal("webhooks not answered")
	}
	h.cancel() // SIGTERM with webhooks on the wire
	wg.Wait()
	h.wait()

	acked := 0
	st := h.openStore()
	ctx := context.Background()
	for _, hk := range hooks {
		if hk.code != http.StatusOK {
			continue
		}
		acked++
		// Answered 200: the message and its reply are in the data file.
		seen, err := st.Seen(ctx, h.key(hk.waID), hk.wamid)
		if err != nil || !seen {
			t.Errorf("%s answered 200 but not recorded: %v", hk.wamid, err)
		}
		convs, err := st.Conversations(ctx, h.key(hk.waID))
		if err != nil || len(convs) != 1 {
			t.Errorf("%s answered 200: %d conversations, %v", hk.wamid, len(convs), err)
			continue
		}
		msgs, err := st.Transcript(ctx, convs[0].ID)
		if err != nil || len(byDirection(msgs, model.Out)) != 1 {
			t.Errorf("%s answered 200: reply not recorded (%v)", hk.wamid, err)
		}
	}
	st.Close()
	t.Logf("%d of %d webhooks answered 200 before the stop, the others not; %d replies sent before it", acked, n, len(h.sb.Accepted()))
	if acked == 0 {
		t.Fatal("no webhook was answered 200")
	}

	h.start()
	// Meta redelivers what was not acknowledged; redelivering the
	// acknowledged ones too must change nothing.
	for _, hk := range hooks {
		if code, err := h.postWebhook(hk.body, h.sign(hk.body)); err != nil || code != http.StatusOK {
			t.Fatalf("redelivery of %s: %d %v", hk.wamid, code, err)
		}
	}
	for i, hk := range hooks {
		eventually(t, e2eTimeout, func() bool { return h.outboundSettled(hk.waID) }, "outbox of %s drained", hk.waID)
		got := sentBodies(h.accepted(hk.waID))
		if want := fmt.Sprintf("ack m%d", i); len(got) != 1 || got[0] != want {
			t.Errorf("customer %s received %q, want exactly [%q]", hk.waID, got, want)
		}
		_, msgs := h.conversation(hk.waID)
		if out := byDirection(msgs, model.Out); len(out) != 1 || out[0].State == model.Unknown || out[0].State == model.SendFailed {
			t.Errorf("customer %s: outbound states %v", hk.waID, msgStates(out))
		}
	}
}

// sendGate holds the sandbox's send requests back until open is closed,
// so a test can have a send on the wire at a moment of its choosing.
type sendGate struct {
	next    http.Handler
	open    chan struct{}
	held    atomic.Int32
	dropped atomic.Int32 // requests whose client gave up while held
}

func (g *sendGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages") {
		g.held.Add(1)
		select {
		case <-g.open:
		case <-r.Context().Done():
		}
		if r.Context().Err() != nil {
			// The client gave up while the request was held: Meta never
			// saw it.
			g.dropped.Add(1)
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// TestServeE2EShutdownFinishesSendsInFlight: SIGTERM while a send is on
// the wire. Graceful shutdown lets it finish and records its outcome:
// the message is accepted with its wamid, not left "sending" (which the
// next start would turn into unknown, never to be sent).
func TestServeE2EShutdownFinishesSendsInFlight(t *testing.T) {
	t.Parallel()
	gate := &sendGate{open: make(chan struct{})}
	h := newE2E(t, e2eOptions{
		flows: map[string]string{"ack.json": e2eAckFlow}, webhookRetries: -1,
		front: func(sb http.Handler) http.Handler { gate.next = sb; return gate },
	})
	h.start()
	const cus = "15551230081"
	h.customer(cus, "Cus")
	h.says(cus, sandbox.Text("hi"))
	eventually(t, e2eTimeout, func() bool { return gate.held.Load() == 1 }, "the reply held on the wire")

	h.cancel()
	// Once the dispatcher has been told to stop, let the send through.
	eventually(t, e2eTimeout, func() bool {
		return strings.Contains(h.log.String(), "waiting for sends in flight")
	}, "serve stopping the dispatcher")
	close(gate.open)
	h.wait()

	st := h.openStore()
	convs, err := st.Conversations(context.Background(), h.key(cus))
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %d, %v", len(convs), err)
	}
	msgs, err := st.Transcript(context.Background(), convs[0].ID)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := byDirection(msgs, model.Out)
	sent := h.accepted(cus)
	if len(out) != 1 || len(sent) != 1 || out[0].State != model.Accepted || out[0].WAMID != sent[0].WAMID {
		t.Fatalf("after a graceful stop the reply is %v (wamid %q, error %q); the sandbox accepted %d (dropped while held: %d)",
			msgStates(out), e2eFirstWAMID(out), e2eFirstError(out), len(sent), gate.dropped.Load())
	}

	// And the next start does not send it again.
	h.start()
	h.says("15551230082", sandbox.Text("other"))
	h.waitAccepted("15551230082", 1)
	if n := len(h.accepted(cus)); n != 1 {
		t.Errorf("reply sent %d times", n)
	}
}

func e2eFirstWAMID(ms []*model.Message) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0].WAMID
}

func e2eFirstError(ms []*model.Message) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0].Error
}

// TestServeE2EHealthAndMetrics: /healthz, /readyz and /metrics answer, and
// /metrics counts the webhooks and sends of a round trip.
func TestServeE2EHealthAndMetrics(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"ack.json": e2eAckFlow}})
	h.start()
	if code, body := h.get("/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	// Ready once the dispatcher has read the outbox, a moment after start.
	eventually(t, e2eTimeout, func() bool { code, _ := h.get("/readyz"); return code == http.StatusOK }, "/readyz ready")
	if code, body := h.get("/readyz"); code != http.StatusOK || body != "ready" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	const cus = "15551230091"
	h.customer(cus, "Cus")
	h.says(cus, sandbox.Text("hi"))
	sent := h.waitAccepted(cus, 1)
	eventually(t, e2eTimeout, func() bool { return h.webhookAnswered(sent[0].WAMID, "read") }, "reply read")
	eventually(t, e2eTimeout, func() bool { return h.metric("parley_outbox_depth") == 0 }, "outbox empty")

	resp, err := http.Get(h.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`parley_webhooks_total{result="ok"}`,
		`parley_sends_total{result="accepted",code=""} 1`,
		`parley_statuses_total{status="read"} 1`,
		`parley_outbox_depth 0`,
		`# TYPE parley_webhook_seconds histogram`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, b)
		}
	}
	// One inbound message and three statuses: four webhooks.
	if got := h.metric(`parley_webhooks_total{result="ok"}`); got != 4 {
		t.Errorf(`parley_webhooks_total{result="ok"} = %v, want 4`, got)
	}
}
