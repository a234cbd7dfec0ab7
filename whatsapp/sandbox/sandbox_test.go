package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

const phone = "16505550123"

// receiver counts webhook posts and answers the first `fail` with 500.
type receiver struct {
	srv    *httptest.Server
	fail   atomic.Int32
	posts  atomic.Int32
	mu     sync.Mutex
	bodies [][]byte
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.posts.Add(1)
		if err := whatsapp.VerifySignature(b, req.Header.Get("X-Hub-Signature-256"), secret); err != nil {
			t.Errorf("signature: %v", err)
		}
		if r.fail.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func start(t *testing.T, cfg sandbox.Config) *sandbox.Sandbox {
	t.Helper()
	sb := sandbox.New(cfg)
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func drain(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sb.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account"}`)
	// Independent vector: printf '%s' "$body" | openssl dgst -sha256 -hmac secret
	const want = "sha256=03f6dd944ecab4ddac0e3dbc3923b2da4e12b03df679ae23a52efd78ca6056e0"
	got := sandbox.Signature("secret", body)
	if got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	if err := whatsapp.VerifySignature(body, got, "secret"); err != nil {
		t.Errorf("the inbound side rejects the sandbox's signature: %v", err)
	}
	if whatsapp.VerifySignature(body, got, "other") == nil {
		t.Errorf("a signature with another secret must not verify")
	}
}

func TestWebhookRetries(t *testing.T) {
	cases := []struct {
		name        string
		fail        int32
		retries     int
		posts       int32
		delivered   int
		lastAttempt int
	}{
		{"first post succeeds", 0, 4, 1, 1, 1},
		{"two failures, then 200", 2, 4, 3, 1, 3},
		{"always failing, bounded", 100, 3, 4, 0, 4},
		{"retries disabled", 100, -1, 1, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, "s")
			rc.fail.Store(tc.fail)
			sb := start(t, sandbox.Config{AppSecret: "s", WebhookURL: rc.srv.URL, WebhookRetries: tc.retries,
				WebhookBackoff: time.Millisecond})
			if _, err := sb.CustomerSays(phone, sandbox.Text("hi")); err != nil {
				t.Fatal(err)
			}
			drain(t, sb)
			if got := rc.posts.Load(); got != tc.posts {
				t.Errorf("%d posts, want %d", got, tc.posts)
			}
			if rc.delivered() != tc.delivered {
				t.Errorf("%d delivered, want %d", rc.delivered(), tc.delivered)
			}
			hooks := sb.Entries(sandbox.KindWebhook)
			if last := hooks[len(hooks)-1]; last.Attempt != tc.lastAttempt {
				t.Errorf("last attempt %d, want %d (%+v)", last.Attempt, tc.lastAttempt, last)
			} else if tc.delivered == 0 && !strings.Contains(last.Reason, "dropped") {
				t.Errorf("exhausted delivery must be logged as dropped: %+v", last)
			}
		})
	}
}

func TestWebhooksKeepOrder(t *testing.T) {
	rc := newReceiver(t, "s")
	rc.fail.Store(1) // the first post is retried; the others must wait for it
	sb := start(t, sandbox.Config{AppSecret: "s", WebhookURL: rc.srv.URL, WebhookBackoff: time.Millisecond})
	for i := range 5 {
		sb.CustomerSays(phone, sandbox.Text(fmt.Sprint("m", i)))
	}
	drain(t, sb)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, b := range rc.bodies {
		if !bytes.Contains(b, []byte(fmt.Sprintf(`"body":"m%d"`, i))) {
			t.Errorf("webhook %d out of order: %s", i, b)
		}
	}
}

func TestManualStatuses(t *testing.T) {
	rc := newReceiver(t, "s")
	sb := start(t, sandbox.Config{AppSecret: "s", WebhookURL: rc.srv.URL, Statuses: sandbox.StatusManual})
	sb.CustomerSays(phone, sandbox.Text("hi"))
	c := whatsapp.NewClient(sb.GraphURL(), sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
	res, err := c.Send(context.Background(), whatsapp.NewText(phone, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	drain(t, sb)
	if n := len(sb.Entries(sandbox.KindStatus)); n != 0 {
		t.Fatalf("manual mode posted %d statuses", n)
	}
	for _, st := range []string{"sent", "delivered", "read"} {
		if err := sb.SetStatus(res.WAMID, st, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.SetStatus(res.WAMID, "failed", 131049); err != nil {
		t.Fatal(err)
	}
	drain(t, sb)
	var got []string
	for _, e := range sb.Entries(sandbox.KindStatus) {
		got = append(got, fmt.Sprint(e.Status, e.Code))
	}
	if strings.Join(got, ",") != "sent0,delivered0,read0,failed131049" {
		t.Errorf("statuses %v", got)
	}
	if tr := sb.Transcript(phone); tr[1].Status != "failed" || tr[1].Code != 131049 {
		t.Errorf("transcript %+v", tr)
	}
	if sb.SetStatus("wamid.nope", "read", 0) == nil || sb.SetStatus(res.WAMID, "lost", 0) == nil {
		t.Errorf("SetStatus accepts nonsense")
	}
}

// TestControlAPI drives the sandbox over HTTP only, as the UI's test chat does.
func TestControlAPI(t *testing.T) {
	rc := newReceiver(t, sandbox.DefaultAppSecret)
	sb := start(t, sandbox.Config{WebhookURL: rc.srv.URL})
	base := sb.URL()
	post := func(path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("POST %s: HTTP %d %v, want %d", path, resp.StatusCode, out, want)
		}
		return out
	}
	get := func(path string) map[string]any {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}

	post("/_sandbox/customers", `{"wa_id":"`+phone+`","name":"Ana"}`, 200)
	in := post("/_sandbox/customers/"+phone+"/messages", `{"type":"text","text":"hola"}`, 200)
	if !strings.HasPrefix(in["id"].(string), "wamid.") {
		t.Fatalf("inbound id %v", in)
	}
	post("/_sandbox/customers/"+phone+"/messages", `{"type":"mystery"}`, 400)

	sent := post("/v23.0/"+sandbox.DefaultPhoneNumberID+"/messages",
		`{"messaging_product":"whatsapp","to":"`+phone+`","type":"interactive","interactive":{"type":"button","body":{"text":"Ok?"},"action":{"buttons":[{"type":"reply","reply":{"id":"y","title":"Yes"}}]}}}`, 200)
	wamid := sent["messages"].([]any)[0].(map[string]any)["id"].(string)
	post("/_sandbox/customers/"+phone+"/messages", `{"type":"button_reply","id":"y","title":"Yes","context":"`+wamid+`"}`, 200)
	post("/_sandbox/customers/"+phone+"/messages", `{"type":"location","latitude":38.7,"longitude":-9.1}`, 200)

	post("/_sandbox/inject", `{"code":131056}`, 200)
	errBody := post("/v23.0/"+sandbox.DefaultPhoneNumberID+"/messages",
		`{"messaging_product":"whatsapp","to":"`+phone+`","text":{"body":"again"}}`, 400)
	if code := errBody["error"].(map[string]any)["code"].(float64); code != 131056 {
		t.Errorf("injected error %v", errBody)
	}

	tr := get("/_sandbox/customers/" + phone + "/transcript")
	if tr["window_open"] != true || len(tr["turns"].([]any)) != 4 {
		t.Errorf("transcript %v", tr)
	}
	if c := tr["customer"].(map[string]any); c["name"] != "Ana" {
		t.Errorf("customer %v", c)
	}
	log := get("/_sandbox/log?kind=inbound")
	if n := len(log["entries"].([]any)); n != 3 {
		t.Errorf("%d inbound entries, want 3", n)
	}
	rej := get("/_sandbox/log?kind=rejected")["entries"].([]any)
	if len(rej) != 1 || rej[0].(map[string]any)["code"].(float64) != 131056 {
		t.Errorf("rejections %v", rej)
	}

	tpls := get("/_sandbox/templates")["data"].([]any)
	if len(tpls) != 0 {
		t.Errorf("no templates configured, got %v", tpls)
	}
	id := sb.AddTemplate(sandbox.Template{Name: "x", Language: "en", Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "x"}}}).ID
	post("/_sandbox/templates/"+id+"/status", `{"status":"PAUSED"}`, 200)
	if sb.Templates()[0].Status != "PAUSED" {
		t.Errorf("template status not changed")
	}
	post("/_sandbox/messages/"+wamid+"/status", `{"status":"played"}`, 200)
	post("/_sandbox/tick", ``, 200)
}

func TestGraphErrors(t *testing.T) {
	sb := start(t, sandbox.Config{})
	cases := []struct {
		method, path, token, body string
		http, code                int
	}{
		{"GET", "/v23.0/" + sandbox.DefaultWABAID + "/message_templates", "", "", 401, 190},
		{"GET", "/v23.0/" + sandbox.DefaultWABAID + "/message_templates", "Bearer nope", "", 401, 190},
		{"GET", "/latest/" + sandbox.DefaultWABAID + "/message_templates", "Bearer " + sandbox.DefaultAccessToken, "", 400, 2500},
		{"GET", "/v23.0/a/b/c/d/e", "Bearer " + sandbox.DefaultAccessToken, "", 400, 2500},
		{"GET", "/v23.0/" + sandbox.DefaultWABAID + "/message_templates?limit=x", "Bearer " + sandbox.DefaultAccessToken, "", 400, 100},
		{"GET", "/v23.0/" + sandbox.DefaultWABAID + "/message_templates?after=garbage!", "Bearer " + sandbox.DefaultAccessToken, "", 400, 100},
		{"POST", "/v23.0/" + sandbox.DefaultPhoneNumberID + "/messages", "Bearer " + sandbox.DefaultAccessToken, "{not json", 400, 100},
		{"POST", "/v23.0/" + sandbox.DefaultPhoneNumberID + "/messages", "Bearer " + sandbox.DefaultAccessToken, `{"to":"` + phone + `"}`, 400, 100},
		{"POST", "/v23.0/" + sandbox.DefaultPhoneNumberID + "/messages", "Bearer " + sandbox.DefaultAccessToken,
			`{"messaging_product":"whatsapp","to":"` + phone + `","type":"text","text":{"body":"x"},"biz_opaque_callback_data":"` + strings.Repeat("x", 513) + `"}`, 400, 131009},
		{"POST", "/v23.0/" + sandbox.DefaultPhoneNumberID + "/messages", "Bearer " + sandbox.DefaultAccessToken,
			`{"messaging_product":"whatsapp","status":"read","message_id":""}`, 400, 131008},
		{"POST", "/v23.0/" + sandbox.DefaultPhoneNumberID + "/media", "Bearer " + sandbox.DefaultAccessToken, `{}`, 400, 100},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, sb.URL()+tc.path, strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env struct {
				Error struct {
					Code      int    `json:"code"`
					Message   string `json:"message"`
					FBTraceID string `json:"fbtrace_id"`
				} `json:"error"`
			}
			json.NewDecoder(resp.Body).Decode(&env)
			if resp.StatusCode != tc.http || env.Error.Code != tc.code || env.Error.FBTraceID == "" || env.Error.Message == "" {
				t.Errorf("HTTP %d %+v, want HTTP %d code %d", resp.StatusCode, env.Error, tc.http, tc.code)
			}
		})
	}
}

// TestConcurrentSends hammers one sandbox from many goroutines (run with
// -race): every request is either accepted or rejected, never lost.
func TestConcurrentSends(t *testing.T) {
	clock := sandbox.NewManualClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sb := start(t, sandbox.Config{Clock: clock, Throughput: 100, PairBurst: 5})
	c := whatsapp.NewClient(sb.GraphURL(), sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
	const workers, each = 16, 20
	var wg sync.WaitGroup
	var ok, throttled atomic.Int32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := fmt.Sprintf("165055501%02d", w)
			sb.CustomerSays(to, sandbox.Text("hi"))
			for range each {
				_, err := c.Send(context.Background(), whatsapp.NewText(to, "x"))
				switch whatsapp.Classify(err) {
				case whatsapp.Success:
					ok.Add(1)
				case whatsapp.Retry:
					throttled.Add(1)
				default:
					t.Errorf("unexpected %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if total := ok.Load() + throttled.Load(); total != workers*each {
		t.Errorf("%d outcomes for %d sends", total, workers*each)
	}
	// 100 tokens, 16 of them spent on the inbound messages; 5 per customer.
	if int(ok.Load()) != len(sb.Accepted()) || ok.Load() > 84 || ok.Load() > workers*5 {
		t.Errorf("accepted %d (log %d)", ok.Load(), len(sb.Accepted()))
	}
	if int(throttled.Load()) != len(sb.Rejected()) {
		t.Errorf("throttled %d, rejections logged %d", throttled.Load(), len(sb.Rejected()))
	}
}

func TestCloseWithPendingWork(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.WriteHeader(500)
	}))
	defer hang.Close()
	sb := sandbox.New(sandbox.Config{WebhookURL: hang.URL, StatusDelay: time.Hour, WebhookBackoff: time.Hour})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		sb.CustomerSays(phone, sandbox.Text("hi"))
	}
	done := make(chan struct{})
	go func() { sb.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs on pending webhooks")
	}
	if _, err := sb.CustomerSays(phone, sandbox.Text("late")); err == nil {
		t.Errorf("a closed sandbox accepts customer messages")
	}
}

// TestMarkRead: the sandbox takes a mark-read (with or without a typing
// indicator) only for a message its number received, and a typing
// indicator only on one received in the last 30 days, as Meta does; what
// it takes is logged and shown on the customer's turn.
func TestMarkRead(t *testing.T) {
	clock := sandbox.NewManualClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	sb := start(t, sandbox.Config{Clock: clock})
	c := whatsapp.NewClient(sb.GraphURL(), sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
	ctx := context.Background()
	wamid, err := sb.CustomerSays(phone, sandbox.Text("hi"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		wamid   string
		typing  bool
		advance time.Duration
		code    int // 0: accepted
	}{
		{"typing on a fresh message", wamid, true, 0, 0},
		{"read", wamid, false, 0, 0},
		{"unknown message", "wamid.nope", false, 0, 131009},
		{"unknown message, typing", "wamid.nope", true, 0, 131009},
		{"typing after 30 days", wamid, true, 31 * 24 * time.Hour, 131009},
		{"read after 30 days", wamid, false, 0, 0},
	}
	for _, tc := range cases {
		clock.Advance(tc.advance)
		err := c.MarkRead(ctx, tc.wamid, tc.typing)
		var apiErr *whatsapp.APIError
		switch {
		case tc.code == 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code != 0 && (!errors.As(err, &apiErr) || apiErr.Code != tc.code):
			t.Errorf("%s: err %v, want code %d", tc.name, err, tc.code)
		}
	}
	if got := len(sb.Entries(sandbox.KindMarkRead)); got != 3 {
		t.Errorf("%d mark-read entries, want 3", got)
	}
	tr := sb.Transcript(phone)
	if len(tr) != 1 || tr[0].Status != "read" || !tr[0].Typing {
		t.Errorf("transcript %+v: want the message read, with a typing indicator", tr)
	}
}
