package whatsapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// These tests run the production client against the sandbox over real
// loopback HTTP; the sandbox's log is the witness of what went on the wire.

const (
	bsuidCustomer = "US.13491208655302741918"
	testSecret    = "test-app-secret"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// hookReceiver is the business's webhook endpoint: it checks every
// signature over the raw body and parses the payload with ParseWebhook.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	events []*Batch
	raw    [][]byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{t: t}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get("X-Hub-Signature-256")
		if !hmac.Equal([]byte(sig), []byte(sandbox.Signature(testSecret, body))) {
			t.Errorf("webhook signature %q does not match the body", sig)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, err := ParseWebhook(body)
		if err != nil {
			t.Errorf("ParseWebhook: %v\n%s", err, body)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.events = append(h.events, b)
		h.raw = append(h.raw, body)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// waitFor polls the received webhooks until match finds what it wants.
func waitFor[T any](h *hookReceiver, what string, match func(*Batch) (T, bool)) T {
	h.t.Helper()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, b := range h.events {
			if v, ok := match(b); ok {
				h.mu.Unlock()
				return v
			}
		}
		h.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
	h.t.Fatalf("no webhook with %s arrived", what)
	var zero T
	return zero
}

func (h *hookReceiver) status(wamid, status string) Status {
	h.t.Helper()
	return waitFor(h, "status "+status+" of "+wamid, func(b *Batch) (Status, bool) {
		for _, s := range b.Statuses {
			if s.ID == wamid && s.Status == status {
				return s, true
			}
		}
		return Status{}, false
	})
}

func (h *hookReceiver) message(wamid string) InboundMessage {
	h.t.Helper()
	return waitFor(h, "message "+wamid, func(b *Batch) (InboundMessage, bool) {
		for _, m := range b.Messages {
			if m.ID == wamid {
				return m, true
			}
		}
		return InboundMessage{}, false
	})
}

func (h *hookReceiver) template(name, event string) TemplateUpdate {
	h.t.Helper()
	return waitFor(h, "template "+name+" "+event, func(b *Batch) (TemplateUpdate, bool) {
		for _, u := range b.TemplateUpdates {
			if u.TemplateName == name && u.Event == event {
				return u, true
			}
		}
		return TemplateUpdate{}, false
	})
}

type testEnv struct {
	sb     *sandbox.Sandbox
	clock  *sandbox.ManualClock
	client *Client
	hooks  *hookReceiver
}

// seedTemplates are the approved templates outboundCases use.
var seedTemplates = []sandbox.Template{
	{Name: "order_update", Language: "en_US", Category: "UTILITY", Components: []sandbox.TemplateComponent{
		{Type: "HEADER", Format: "TEXT", Text: "Order {{1}}"},
		{Type: "BODY", Text: "Hi {{1}}, your order arrives {{2}}."},
		{Type: "BUTTONS", Buttons: []sandbox.TemplateButton{{Type: "QUICK_REPLY", Text: "Track"}, {Type: "URL", Text: "View", URL: "https://x.io/o/{{1}}"}}},
	}},
	{Name: "order_confirmation", Language: "en_US", Category: "UTILITY", ParameterFormat: "NAMED", Components: []sandbox.TemplateComponent{
		{Type: "HEADER", Format: "TEXT", Text: "Order {{order_id}}"},
		{Type: "BODY", Text: "Thanks, {{customer_name}}!"},
	}},
	{Name: "hello_world", Language: "en_US", Category: "MARKETING", Components: []sandbox.TemplateComponent{
		{Type: "BODY", Text: "Hello from Parley"},
	}},
}

func newTestEnv(t testing.TB, configure func(*sandbox.Config), opts ...Option) *testEnv {
	t.Helper()
	clock := sandbox.NewManualClock(t0)
	cfg := sandbox.Config{Clock: clock, AppSecret: testSecret, Templates: seedTemplates}
	var hooks *hookReceiver
	if tt, ok := t.(*testing.T); ok {
		hooks = newHookReceiver(tt)
		cfg.WebhookURL = hooks.srv.URL
	}
	if configure != nil {
		configure(&cfg)
	}
	sb := sandbox.New(cfg)
	base, err := sb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	c := sb.Config()
	return &testEnv{sb: sb, clock: clock, hooks: hooks,
		client: NewClient(base, c.AccessToken, c.PhoneNumberID, opts...)}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendEveryTypeThroughSandbox(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.PairInterval = -1 })
	e.sb.AddCustomer(sandbox.Customer{UserID: bsuidCustomer, Name: "Kerry", HidePhone: true})
	for _, id := range []string{customerPhone, bsuidCustomer} {
		if _, err := e.sb.CustomerSays(id, sandbox.Text("hi")); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range outboundCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.client.Send(ctxT(t), tc.msg)
			if err != nil {
				t.Fatalf("Send: %v (class %v)", err, Classify(err))
			}
			if !strings.HasPrefix(res.WAMID, "wamid.") || res.MessageStatus != "accepted" {
				t.Errorf("result %+v", res)
			}
			acc := e.sb.Accepted()
			last := acc[len(acc)-1]
			if last.WAMID != res.WAMID {
				t.Errorf("sandbox accepted %s, client got %s", last.WAMID, res.WAMID)
			}
			if string(last.Raw) != tc.want {
				t.Errorf("on the wire\n got %s\nwant %s", last.Raw, tc.want)
			}
			// Every accepted send goes sent → delivered → read.
			read := e.hooks.status(res.WAMID, StatusRead)
			if tc.msg.BizOpaqueCallbackData != read.BizOpaqueCallbackData {
				t.Errorf("tracker echoed as %q", read.BizOpaqueCallbackData)
			}
			if tc.msg.Recipient != "" && read.RecipientUserID != tc.msg.Recipient {
				t.Errorf("status of a BSUID send: recipient_user_id %q", read.RecipientUserID)
			}
		})
	}
}

// apiErr asserts err is an *APIError with code, HTTP status and class.
func apiErr(t *testing.T, err error, code, httpStatus int, class Class) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want *APIError %d", err, err, code)
	}
	if ae.Code != code || ae.HTTPStatus != httpStatus {
		t.Errorf("got code %d HTTP %d (%s), want code %d HTTP %d", ae.Code, ae.HTTPStatus, ae.Message, code, httpStatus)
	}
	if ae.FBTraceID == "" || ae.Message == "" {
		t.Errorf("error body incomplete: %+v", ae)
	}
	if got := Classify(err); got != class {
		t.Errorf("Classify = %v, want %v", got, class)
	}
	return ae
}

func TestSandboxRejections(t *testing.T) {
	buttons := NewButtons(customerPhone, "Pick", OutReply{ID: "1", Title: "1"}, OutReply{ID: "2", Title: "2"},
		OutReply{ID: "3", Title: "3"}, OutReply{ID: "4", Title: "4"})
	var rows []OutRow
	for _, id := range strings.Split("a b c d e f g h i j k", " ") {
		rows = append(rows, OutRow{ID: id, Title: id})
	}
	cases := []struct {
		name       string
		setup      func(*testEnv)
		client     func(*testEnv) *Client
		msg        *OutboundMessage
		code, http int
		class      Class
	}{
		{name: "wrong token", msg: NewText(customerPhone, "hi"), code: 190, http: 401, class: Permanent,
			client: func(e *testEnv) *Client { return NewClient(e.sb.GraphURL(), "stolen", e.sb.Config().PhoneNumberID) }},
		{name: "unknown phone number id", msg: NewText(customerPhone, "hi"), code: 100, http: 400, class: Permanent,
			client: func(e *testEnv) *Client { return NewClient(e.sb.GraphURL(), e.sb.Config().AccessToken, "999") }},
		{name: "unknown template", msg: NewTemplate(customerPhone, "nope", "en_US"), code: 132001, http: 400, class: Permanent},
		{name: "template in another language", msg: NewTemplate(customerPhone, "hello_world", "pt_BR"), code: 132001, http: 400, class: Permanent},
		{name: "template pending", msg: NewTemplate(customerPhone, "fresh", "en_US"), code: 132001, http: 400, class: Permanent,
			setup: func(e *testEnv) {
				e.sb.AddTemplate(sandbox.Template{Name: "fresh", Language: "en_US", Status: "PENDING",
					Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "x"}}})
			}},
		{name: "template paused", msg: NewTemplate(customerPhone, "hello_world", "en_US"), code: 132015, http: 400, class: Permanent,
			setup: func(e *testEnv) { e.sb.SetTemplateStatus(e.templateID("hello_world"), "PAUSED", "") }},
		{name: "template disabled", msg: NewTemplate(customerPhone, "hello_world", "en_US"), code: 132016, http: 400, class: Permanent,
			setup: func(e *testEnv) { e.sb.SetTemplateStatus(e.templateID("hello_world"), "DISABLED", "") }},
		{name: "too few body parameters", msg: NewTemplate(customerPhone, "order_update", "en_US", HeaderParams("1"), BodyParams("Ana")),
			code: 132000, http: 400, class: Permanent},
		{name: "header parameter missing", msg: NewTemplate(customerPhone, "order_update", "en_US", BodyParams("Ana", "today")),
			code: 132000, http: 400, class: Permanent},
		{name: "named parameter with a wrong name", msg: NewTemplate(customerPhone, "order_confirmation", "en_US",
			NamedHeaderParams(NamedParam{"order_id", "1"}), NamedBodyParams(NamedParam{"name", "Ana"})), code: 132000, http: 400, class: Permanent},
		{name: "quick reply on a URL button", msg: NewTemplate(customerPhone, "order_update", "en_US",
			HeaderParams("1"), BodyParams("Ana", "today"), QuickReplyButton(1, "X")), code: 131009, http: 400, class: Permanent},
		{name: "four reply buttons", msg: buttons, code: 131009, http: 400, class: Permanent},
		{name: "eleven list rows", msg: NewList(customerPhone, "Pick", "Go", OutSection{Rows: rows}), code: 131009, http: 400, class: Permanent},
		{name: "empty text body", msg: &OutboundMessage{To: customerPhone, Text: &OutText{}}, code: 131008, http: 400, class: Permanent},
		{name: "type without its object", msg: &OutboundMessage{To: customerPhone, Type: TypeImage}, code: 131008, http: 400, class: Permanent},
		{name: "unknown type", msg: &OutboundMessage{To: customerPhone, Type: "poll", Text: &OutText{Body: "x"}}, code: 131051, http: 400, class: Permanent},
		{name: "caption on a sticker", msg: NewMedia(customerPhone, TypeSticker, OutMedia{ID: "1", Caption: "x"}), code: 131009, http: 400, class: Permanent},
		{name: "invalid phone number", msg: NewText("call-me", "hi"), code: 100, http: 400, class: Permanent},
		{name: "sending to oneself", msg: NewText(sandbox.DefaultDisplayPhone, "hi"), code: 131021, http: 400, class: Permanent},
		{name: "injected 131000", msg: NewText(customerPhone, "hi"), code: 131000, http: 500, class: Retry,
			setup: func(e *testEnv) { e.sb.Inject(sandbox.Injection{Code: 131000}) }},
		{name: "injected 131016", msg: NewText(customerPhone, "hi"), code: 131016, http: 503, class: Retry,
			setup: func(e *testEnv) { e.sb.Inject(sandbox.Injection{Code: 131016}) }},
		{name: "injected 368", msg: NewText(customerPhone, "hi"), code: 368, http: 403, class: Permanent,
			setup: func(e *testEnv) { e.sb.Inject(sandbox.Injection{Code: 368}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, nil, WithoutLocalValidation())
			e.sb.CustomerSays(customerPhone, sandbox.Text("hi"))
			if tc.setup != nil {
				tc.setup(e)
			}
			c := e.client
			if tc.client != nil {
				c = tc.client(e)
			}
			_, err := c.Send(ctxT(t), tc.msg)
			apiErr(t, err, tc.code, tc.http, tc.class)
			if len(e.sb.Accepted()) != 0 {
				t.Errorf("sandbox accepted a send it should have refused")
			}
			found := false
			for _, r := range e.sb.Log() {
				found = found || (r.Kind == sandbox.KindRequest && r.Code == tc.code)
			}
			if !found {
				t.Errorf("sandbox log has no request answered with %d", tc.code)
			}
		})
	}
}

func (e *testEnv) templateID(name string) string {
	for _, t := range e.sb.Templates() {
		if t.Name == name {
			return t.ID
		}
	}
	return ""
}

func TestWindowClosedFailsAfter200(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := ctxT(t)

	// The customer never wrote: Meta answers 200, then a failed status.
	m := NewText(customerPhone, "Are you there?")
	m.BizOpaqueCallbackData = "node:nudge"
	res, err := e.client.Send(ctx, m)
	if err != nil {
		t.Fatalf("a free-form send outside the window must be accepted first: %v", err)
	}
	failed := e.hooks.status(res.WAMID, StatusFailed)
	if len(failed.Errors) != 1 || failed.Errors[0].Code != 131047 || failed.BizOpaqueCallbackData != "node:nudge" {
		t.Errorf("failed status = %+v", failed)
	}
	if ae := (&APIError{Code: failed.Errors[0].Code}); Classify(ae) != Permanent || ScopeOf(ae) != ScopeCustomer {
		t.Errorf("131047 from a status classifies as %v/%v", Classify(ae), ScopeOf(ae))
	}

	// A template needs no window.
	res, err = e.client.Send(ctx, NewTemplate(customerPhone, "hello_world", "en_US"))
	if err != nil {
		t.Fatal(err)
	}
	if st := e.hooks.status(res.WAMID, StatusSent); st.Pricing == nil || st.Pricing.Category != "marketing" {
		t.Errorf("template status pricing = %+v", st.Pricing)
	}

	// The customer writes: the window opens for 24 h.
	in, err := e.sb.CustomerSays(customerPhone, sandbox.Text("Yes, hi!"))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.hooks.message(in); got.Text != "Yes, hi!" || got.From != customerPhone {
		t.Errorf("inbound message = %+v", got)
	}
	e.clock.Advance(23*time.Hour + 59*time.Minute)
	res, err = e.client.Send(ctx, NewText(customerPhone, "Thanks"))
	if err != nil {
		t.Fatal(err)
	}
	e.hooks.status(res.WAMID, StatusSent)
	e.hooks.status(res.WAMID, StatusDelivered)
	e.hooks.status(res.WAMID, StatusRead)

	// One minute later it has closed again.
	e.clock.Advance(time.Minute)
	res, err = e.client.Send(ctx, NewText(customerPhone, "Still there?"))
	if err != nil {
		t.Fatal(err)
	}
	if st := e.hooks.status(res.WAMID, StatusFailed); st.Errors[0].Code != 131047 {
		t.Errorf("after 24 h: %+v", st)
	}
	var async int
	for _, r := range e.sb.Rejected() {
		if r.Async && r.Code == 131047 {
			async++
		}
	}
	if async != 2 {
		t.Errorf("sandbox logged %d async 131047 rejections, want 2", async)
	}
	tr := e.sb.Transcript(customerPhone)
	if len(tr) != 5 || tr[0].Status != "failed" || tr[0].Code != 131047 || tr[2].From != "customer" {
		t.Errorf("transcript = %+v", tr)
	}
}

func TestThroughputLimit(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.Throughput, c.ThroughputBurst = 3, 3 })
	ctx := ctxT(t)
	send := func(i int) error {
		_, err := e.client.Send(ctx, NewTemplate("1650555010"+string(rune('0'+i)), "hello_world", "en_US"))
		return err
	}
	for i := range 3 {
		if err := send(i); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	err := send(3)
	apiErr(t, err, 130429, 400, Retry)
	if ScopeOf(err) != ScopeNumber || RetryAfter(err) < time.Second/3 {
		t.Errorf("130429: scope %v, retry after %v", ScopeOf(err), RetryAfter(err))
	}
	e.clock.Advance(time.Second)
	if err := send(4); err != nil {
		t.Errorf("after a second the bucket should have refilled: %v", err)
	}
}

func TestPairRateLimit(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.PairInterval, c.PairBurst = 6*time.Second, 2 })
	ctx := ctxT(t)
	send := func(to string) error {
		_, err := e.client.Send(ctx, NewTemplate(to, "hello_world", "en_US"))
		return err
	}
	for range 2 { // the burst
		if err := send(customerPhone); err != nil {
			t.Fatal(err)
		}
	}
	err := send(customerPhone)
	apiErr(t, err, 131056, 400, Retry)
	if RetryAfter(err) < 6*time.Second || ScopeOf(err) != ScopeCustomer {
		t.Errorf("131056: retry after %v, scope %v", RetryAfter(err), ScopeOf(err))
	}
	if err := send("16505550999"); err != nil {
		t.Errorf("another customer is not affected: %v", err)
	}
	e.clock.Advance(5 * time.Second)
	if err := send(customerPhone); Classify(err) != Retry {
		t.Errorf("after 5 s still limited, got %v", err)
	}
	e.clock.Advance(time.Second)
	if err := send(customerPhone); err != nil {
		t.Errorf("after 6 s one more is allowed: %v", err)
	}
	if err := send(customerPhone); Classify(err) != Retry {
		t.Errorf("and only one: %v", err)
	}
}

func TestMarkRead(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := ctxT(t)
	first, _ := e.sb.CustomerSays(customerPhone, sandbox.Text("one"))
	second, _ := e.sb.CustomerSays(customerPhone, sandbox.Text("two"))
	if err := e.client.MarkRead(ctx, second, true); err != nil {
		t.Fatal(err)
	}
	reads := e.sb.Entries(sandbox.KindMarkRead)
	if len(reads) != 1 || reads[0].WAMID != second || reads[0].Body != "typing" {
		t.Errorf("mark-read log = %+v", reads)
	}
	tr := e.sb.Transcript(customerPhone)
	if tr[0].WAMID != first || tr[0].Status != "read" || tr[1].Status != "read" || !tr[1].Typing {
		t.Errorf("marking the last message read marks earlier ones too: %+v", tr)
	}
	last := e.sb.Entries(sandbox.KindRequest)
	want := `{"messaging_product":"whatsapp","status":"read","message_id":"` + second + `","typing_indicator":{"type":"text"}}`
	if got := string(last[len(last)-1].Raw); got != want {
		t.Errorf("on the wire %s", got)
	}
	apiErr(t, e.client.MarkRead(ctx, "wamid.unknown", false), 131009, 400, Permanent)
}

func TestTransportOutcomes(t *testing.T) {
	hijackAfterRead := func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}
	hang := func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		<-r.Context().Done()
	}
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/v23.0"
	}
	cases := []struct {
		name     string
		handler  http.HandlerFunc
		baseURL  func(*testing.T) string
		timeout  time.Duration
		cancel   bool
		class    Class
		sentinel error
	}{
		{name: "read then connection closed", handler: hijackAfterRead, class: Ambiguous, sentinel: ErrOutcomeUnknown},
		{name: "read then no answer until timeout", handler: hang, timeout: 150 * time.Millisecond, class: Ambiguous, sentinel: ErrOutcomeUnknown},
		{name: "200 without a wamid", handler: status(200, `{"messaging_product":"whatsapp"}`), class: Ambiguous, sentinel: ErrOutcomeUnknown},
		{name: "200 with a broken body", handler: status(200, `{"messages":[{"id":`), class: Ambiguous, sentinel: ErrOutcomeUnknown},
		{name: "connection refused", baseURL: refused, class: Retry, sentinel: ErrNotSent},
		{name: "context cancelled before sending", handler: status(200, "{}"), cancel: true, class: Retry, sentinel: ErrNotSent},
		{name: "502 from a proxy", handler: status(502, "<html>Bad Gateway</html>"), class: Retry},
		{name: "503 without a body", handler: status(503, ""), class: Retry},
		{name: "429 without a code", handler: status(429, ""), class: Retry},
		{name: "500 with 131000", handler: status(500, `{"error":{"message":"(#131000) Something went wrong","type":"OAuthException","code":131000,"fbtrace_id":"x"}}`), class: Retry},
		{name: "400 with 131047", handler: status(400, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"fbtrace_id":"x"}}`), class: Permanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base string
			if tc.baseURL != nil {
				base = tc.baseURL(t)
			} else {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				base = srv.URL + "/v23.0"
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			if tc.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				cancel()
			}
			c := NewClient(base, "token", "1")
			_, err := c.Send(ctx, NewText(customerPhone, "hi"))
			if got := Classify(err); got != tc.class {
				t.Errorf("Classify(%v) = %v, want %v", err, got, tc.class)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.sentinel)
			}
			if tc.class == Ambiguous && RetryAfter(err) != 0 {
				t.Errorf("ambiguous sends have no retry delay")
			}
		})
	}
}

// TestDroppedAnswerIsAmbiguous proves the ambiguous case is real: the
// customer got the message although the client never learned its wamid.
func TestDroppedAnswerIsAmbiguous(t *testing.T) {
	e := newTestEnv(t, nil)
	e.sb.CustomerSays(customerPhone, sandbox.Text("hi"))
	e.sb.Inject(sandbox.Injection{Drop: true})
	_, err := e.client.Send(ctxT(t), NewText(customerPhone, "Your code is 1234"))
	if Classify(err) != Ambiguous || !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, class %v", err, Classify(err))
	}
	acc := e.sb.Accepted()
	if len(acc) != 1 || acc[0].Body != "Your code is 1234" {
		t.Fatalf("the sandbox should have accepted the message once: %+v", acc)
	}
	e.hooks.status(acc[0].WAMID, StatusRead)
}

func TestMediaRoundTrip(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := ctxT(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 1000)...)
	id, err := e.client.UploadMedia(ctx, "chart.png", "image/png", bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.client.GetMedia(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != id || info.MIMEType != "image/png" || info.FileSize != int64(len(png)) || len(info.SHA256) != 64 {
		t.Errorf("media info %+v", info)
	}
	got, err := e.client.DownloadMedia(ctx, info.URL, 1<<20)
	if err != nil || !bytes.Equal(got, png) {
		t.Fatalf("download: %v (%d bytes)", err, len(got))
	}
	if _, err := e.client.DownloadMedia(ctx, info.URL, 10); err == nil {
		t.Errorf("a download over the size cap must fail")
	}
	// Media URLs expire after 5 minutes (docs/whatsapp.md §2.5).
	e.clock.Advance(6 * time.Minute)
	_, err = e.client.DownloadMedia(ctx, info.URL, 1<<20)
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 404 {
		t.Errorf("expired URL: %v", err)
	}
	// Uploaded media can be sent by id.
	e.sb.CustomerSays(customerPhone, sandbox.Text("send it"))
	if _, err := e.client.Send(ctx, NewMedia(customerPhone, TypeImage, OutMedia{ID: id})); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DeleteMedia(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetMedia(ctx, id)
	apiErr(t, err, 100, 400, Permanent)

	_, err = e.client.UploadMedia(ctx, "x.exe", "application/x-msdownload", strings.NewReader("MZ"))
	apiErr(t, err, 100, 400, Permanent)

	// A customer's photo: the webhook carries its id; the business downloads it.
	photo := []byte("\xff\xd8\xff customer photo")
	wamid, _ := e.sb.CustomerSays(customerPhone, sandbox.MediaMessage("image", "image/jpeg", photo, "my receipt"))
	m := e.hooks.message(wamid)
	if m.Media == nil || m.Media.Caption != "my receipt" || m.Media.SHA256 == "" {
		t.Fatalf("inbound image = %+v", m)
	}
	info, err = e.client.GetMedia(ctx, m.Media.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.client.DownloadMedia(ctx, info.URL, 1<<20); err != nil || !bytes.Equal(got, photo) {
		t.Errorf("customer media download: %v", err)
	}
}

// TestInboundShapes checks that what the sandbox's customers send parses,
// with the production parser, into the events the engine expects.
func TestInboundShapes(t *testing.T) {
	e := newTestEnv(t, nil)
	out, err := e.client.Send(ctxT(t), NewTemplate(customerPhone, "hello_world", "en_US"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in    sandbox.Inbound
		check func(InboundMessage) bool
	}{
		{sandbox.Text("hello ünïcödé 😀"), func(m InboundMessage) bool { return m.Type == TypeText && m.Text == "hello ünïcödé 😀" }},
		{sandbox.ButtonReply(out.WAMID, "yes", "Yes"), func(m InboundMessage) bool {
			return m.Type == TypeInteractive && m.Interactive.ButtonReply.ID == "yes" && m.Context.ID == out.WAMID
		}},
		{sandbox.ListReply(out.WAMID, "m9", "9:00"), func(m InboundMessage) bool {
			return m.Type == TypeInteractive && m.Interactive.ListReply.ID == "m9"
		}},
		{sandbox.QuickReply(out.WAMID, "TRACK:1", "Track"), func(m InboundMessage) bool {
			return m.Type == TypeButton && m.Button.Payload == "TRACK:1" && m.Context.ID == out.WAMID
		}},
		{sandbox.Location(38.72, -9.14, "Rossio", "Lisbon"), func(m InboundMessage) bool {
			return m.Type == TypeLocation && m.Location.Latitude == 38.72 && m.Location.Name == "Rossio"
		}},
		{sandbox.Reaction(out.WAMID, "❤️"), func(m InboundMessage) bool {
			return m.Type == TypeReaction && m.Reaction.Emoji == "❤️"
		}},
		{sandbox.MediaMessage("audio", "", []byte("OggS"), ""), func(m InboundMessage) bool {
			return m.Type == TypeAudio && m.Media.MimeType == "audio/ogg; codecs=opus"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.in.Type, func(t *testing.T) {
			wamid, err := e.sb.CustomerSays(customerPhone, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			m := e.hooks.message(wamid)
			if !tc.check(m) {
				b, _ := json.Marshal(m)
				t.Errorf("parsed as %s", b)
			}
			if m.From != customerPhone || m.UserID == "" || m.PhoneNumberID != sandbox.DefaultPhoneNumberID {
				t.Errorf("identity %q/%q on %q", m.From, m.UserID, m.PhoneNumberID)
			}
		})
	}
	// Meta escapes non-ASCII, and the signature is over those raw bytes.
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	found := false
	for _, raw := range e.hooks.raw {
		found = found || bytes.Contains(raw, []byte(`\u00fcn\u00efc\u00f6d\u00e9 \ud83d\ude00`))
	}
	if !found {
		t.Errorf("non-ASCII text not escaped as Meta does")
	}
}

func TestBSUIDOnlyCustomer(t *testing.T) {
	e := newTestEnv(t, nil)
	e.sb.AddCustomer(sandbox.Customer{UserID: bsuidCustomer, Name: "Kerry", Username: "@kerry", HidePhone: true})
	wamid, _ := e.sb.CustomerSays(bsuidCustomer, sandbox.Text("hi"))
	m := e.hooks.message(wamid)
	if m.From != "" || m.UserID != bsuidCustomer || m.Identity() != bsuidCustomer {
		t.Errorf("a phone-less customer must come with user_id only: %+v", m)
	}
	res, err := e.client.Send(ctxT(t), NewText(m.Identity(), "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if st := e.hooks.status(res.WAMID, StatusDelivered); st.RecipientUserID != bsuidCustomer || st.RecipientID != "" {
		t.Errorf("status = %+v", st)
	}
	// A BSUID nobody has: accepted, then undeliverable.
	res, err = e.client.Send(ctxT(t), NewTemplate("US.999", "hello_world", "en_US"))
	if err != nil {
		t.Fatal(err)
	}
	if st := e.hooks.status(res.WAMID, StatusFailed); st.Errors[0].Code != 131026 {
		t.Errorf("unknown BSUID: %+v", st)
	}
}

func BenchmarkSend(b *testing.B) {
	e := newTestEnv(b, func(c *sandbox.Config) {
		c.Throughput, c.PairInterval, c.Statuses = -1, -1, sandbox.StatusManual
	})
	e.sb.CustomerSays(customerPhone, sandbox.Text("hi"))
	ctx := context.Background()
	m := NewText(customerPhone, "Your order 860198 is on its way.")
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.client.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
