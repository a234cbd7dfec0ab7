package ui_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// withTemplates is an empty Parley with a template registry, against the
// sandbox standing in for Meta over loopback: the sandbox reviews a
// created template an hour after its creation, on its own clock (review
// moves it), and posts the verdict to Parley's webhook. Meta has three
// templates from the start, synced before any scenario:
//
//	order_update  en_US  UTILITY    APPROVED  GREEN  header 1, body 2, quick replies Track, Stop
//	promo_spring  en_US  MARKETING  PENDING          (in review; nothing decides it)
//	old_offer     en_US  MARKETING  REJECTED         PROMOTIONAL
func withTemplates(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.sbClock = sandbox.NewManualClock(t0)
	f.sb = sandbox.New(sandbox.Config{
		WebhookURL: "http://" + ln.Addr().String() + "/webhook/whatsapp",
		Clock:      f.sbClock, TemplateReviewDelay: time.Hour,
		Templates: []sandbox.Template{
			{Name: "order_update", Language: "en_US", Category: "UTILITY", QualityScore: &sandbox.QualityScore{Score: "GREEN"},
				Components: []sandbox.TemplateComponent{
					{Type: "HEADER", Format: "TEXT", Text: "Order {{1}}"},
					{Type: "BODY", Text: "Hi {{1}}, your order ships {{2}}."},
					{Type: "BUTTONS", Buttons: []sandbox.TemplateButton{{Type: "QUICK_REPLY", Text: "Track"}, {Type: "QUICK_REPLY", Text: "Stop"}}},
				}},
			{Name: "promo_spring", Language: "en_US", Category: "MARKETING", Status: "PENDING",
				Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Spring sale!"}}},
			{Name: "old_offer", Language: "en_US", Category: "MARKETING", Status: "REJECTED", RejectedReason: "PROMOTIONAL",
				Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Buy now!!!"}}},
		},
	})
	url, err := f.sb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.sb.Close() })
	log := slog.New(slog.DiscardHandler)
	client := whatsapp.NewClient(url, sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
	f.reg = templates.NewRegistry(templates.RegistryOptions{Store: f.store, Clock: f.clock, Logger: log, Graph: client, WABAID: sandbox.DefaultWABAID})
	if err := f.reg.Load(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Sync(f.ctx, client, sandbox.DefaultWABAID); err != nil {
		t.Fatal(err)
	}
	f.srv = ui.New(ui.Config{Engine: f.eng, Logger: log, AppSecret: sandbox.DefaultAppSecret, Templates: f.reg, Auth: f.auth})
	go f.srv.App().Listener(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { f.srv.App().Shutdown() })
	return f
}

// review lets the sandbox's review delay pass: the templates created
// through it are decided, and their webhooks posted.
func (f *fixture) review() {
	f.sbClock.Advance(time.Hour)
	f.sb.Tick()
}

// waitStatus waits for the registry to hold a template in status: the
// sandbox's webhooks arrive on their own.
func (f *fixture) waitStatus(name, lang, status string) {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		rec, ok := f.reg.Record(name, lang)
		if ok && rec.Status == status {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("template %s/%s is %q, not %s, a minute on (known: %v)", name, lang, rec.Status, status, ok)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// webhook is a template webhook as Meta signs it.
func webhook(value string, at time.Time) (string, map[string]string) {
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","time":%d,"changes":[{"field":"message_template_status_update","value":%s}]}]}`,
		sandbox.DefaultWABAID, at.Unix(), value)
	return body, map[string]string{whatsapp.SignatureHeader: whatsapp.Sign([]byte(body), sandbox.DefaultAppSecret)}
}

const orderShipped = `{"name": "order_shipped", "language": "en_US", "category": "UTILITY",
 "components": [
  {"type": "BODY", "text": "Your order {{1}} has shipped.", "example": {"body_text": [["A-1"]]}},
  {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track"}]}]}`

func TestTemplatesAPI(t *testing.T) {
	paused, pausedSig := webhook(`{"event":"PAUSED","message_template_id":1,"message_template_name":"order_update","message_template_language":"en_US","reason":"NONE"}`, t0.Add(2*time.Hour))

	runOn(t, withTemplates, []scenario{
		// Listing and reading.
		{
			name: "list: every template by name, with status, category and quality", method: "GET", url: "/api/v1/templates",
			status: http.StatusOK,
			want: []string{
				`{"templates":[{"name":"old_offer","language":"en_US","category":"MARKETING","status":"REJECTED","rejected_reason":"PROMOTIONAL","parameter_format":"POSITIONAL","header_params":0,"body_params":0,"quick_replies":0,"id":"`,
				`{"name":"order_update","language":"en_US","category":"UTILITY","status":"APPROVED","quality":"GREEN","parameter_format":"POSITIONAL","header_params":1,"body_params":2,"quick_replies":2,"id":"`,
				`{"name":"promo_spring","language":"en_US","category":"MARKETING","status":"PENDING",`,
				`"synced_at":"2026-01-05T10:00:00Z"}`,
				// What a send fills, for the editor's template node.
				`"shape":{"parameter_format":"POSITIONAL","header_format":"TEXT","header_text":"Order {{1}}","body_text":"Hi {{1}}, your order ships {{2}}.","buttons":[{"type":"QUICK_REPLY","text":"Track"},{"type":"QUICK_REPLY","text":"Stop"}]}`,
			},
			notWant: []string{`"history"`}, // details are for GET /templates/:name/:language
		},
		{
			name: "get: one template with its words, buttons and history", method: "GET", url: "/api/v1/templates/order_update/en_US",
			status: http.StatusOK,
			want: []string{
				`"name":"order_update","language":"en_US","category":"UTILITY","status":"APPROVED"`,
				`"texts":{"header":"Order {{1}}","body":"Hi {{1}}, your order ships {{2}}."}`,
				`"buttons":[{"type":"QUICK_REPLY","text":"Track"},{"type":"QUICK_REPLY","text":"Stop"}]`,
				`"history":[{"at":"2026-01-05T10:00:00Z","kind":"status","to":"APPROVED","source":"sync"}]`,
			},
		},
		{name: "get: unknown template", method: "GET", url: "/api/v1/templates/nope/en_US", status: http.StatusNotFound, want: []string{`{"error":"template not found"}`}},
		{name: "get: a known name in another language", method: "GET", url: "/api/v1/templates/order_update/de", status: http.StatusNotFound},

		// Creating: through the Graph API, then Meta's review by webhook.
		{
			name: "create: PENDING, then approved by the review, by webhook, with its history", method: "POST", url: "/api/v1/templates",
			body: orderShipped, header: map[string]string{asUser: "ana@example.com"},
			status: http.StatusCreated,
			want: []string{
				`"name":"order_shipped","language":"en_US","category":"UTILITY","status":"PENDING"`,
				`"body_params":1,"quick_replies":1`,
				`"history":[{"at":"2026-01-05T10:00:00Z","kind":"status","to":"PENDING","detail":"created through Parley by ana@example.com","source":"local"}]`,
			},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if !strings.Contains(fmt.Sprint(f.sb.Templates()), "order_shipped") {
					t.Fatal("the sandbox has no order_shipped: it was not created through the Graph API")
				}
				f.review()
				f.waitStatus("order_shipped", "en_US", "APPROVED")
				_, body := f.do("GET", "/api/v1/templates/order_shipped/en_US", "", nil)
				want := `"history":[{"at":"2026-01-05T10:00:00Z","kind":"status","to":"PENDING","detail":"created through Parley by ana@example.com","source":"local"},` +
					`{"at":"2026-01-05T11:00:00Z","kind":"status","from":"PENDING","to":"APPROVED","event":"APPROVED","source":"webhook"}]`
				if !strings.Contains(string(body), want) {
					t.Errorf("history after the review:\n%s\nwant it to hold\n%s", body, want)
				}
				if info, ok := f.reg.Template("order_shipped", "en_US"); !ok || info.Status != "APPROVED" || info.BodyParams != 1 {
					t.Errorf("sends see %+v, %v", info, ok)
				}
			},
		},
		{
			name: "create: a bad name is rejected by the review, with Meta's reason", method: "POST", url: "/api/v1/templates",
			body:   strings.Replace(orderShipped, "order_shipped", "Order-Shipped", 1),
			status: http.StatusCreated, want: []string{`"name":"Order-Shipped"`, `"status":"PENDING"`, `"detail":"created through Parley by admin@parley.test"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				f.review()
				f.waitStatus("Order-Shipped", "en_US", "REJECTED")
				_, body := f.do("GET", "/api/v1/templates/Order-Shipped/en_US", "", nil)
				for _, w := range []string{
					`"status":"REJECTED","rejected_reason":"INVALID_FORMAT"`,
					`{"at":"2026-01-05T11:00:00Z","kind":"status","from":"PENDING","to":"REJECTED","event":"REJECTED","reason":"INVALID_FORMAT","detail":"Template names may only contain lowercase letters, numbers and underscores.`,
				} {
					if !strings.Contains(string(body), w) {
						t.Errorf("after the review:\n%s\nwant it to hold\n%s", body, w)
					}
				}
			},
		},
		{
			name: "create: a name and language Meta has already is refused with Meta's words", method: "POST", url: "/api/v1/templates",
			body:   strings.Replace(orderShipped, "order_shipped", "order_update", 1),
			status: http.StatusUnprocessableEntity,
			want:   []string{`"error":"Meta refused the template: `, `Content in this language already exists for template order_update`, `(code 100)`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if rec, _ := f.reg.Record("order_update", "en_US"); rec.Status != "APPROVED" || len(rec.History) != 1 {
					t.Errorf("a refused create changed the existing template: %+v", rec)
				}
			},
		},
		{
			name: "create: without a category", method: "POST", url: "/api/v1/templates",
			body:   strings.Replace(orderShipped, `"category": "UTILITY",`, ``, 1),
			status: http.StatusBadRequest, want: []string{`"error":"invalid template: it needs category"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if strings.Contains(fmt.Sprint(f.sb.Templates()), "order_shipped") {
					t.Error("an invalid template reached the Graph API")
				}
			},
		},
		{name: "create: malformed JSON", method: "POST", url: "/api/v1/templates", body: `{"name":`, status: http.StatusBadRequest},
		{name: "create: a field Meta does not know", method: "POST", url: "/api/v1/templates", body: strings.Replace(orderShipped, `"name"`, `"nmae"`, 1), status: http.StatusBadRequest, want: []string{`unknown field`}},

		// Template webhooks.
		{
			name: "webhook: Meta pauses a template; sends are blocked", method: "GET", url: "/api/v1/templates/order_update/en_US",
			before: func(t *testing.T, f *fixture) {
				var id string
				for _, tp := range f.sb.Templates() {
					if tp.Name == "order_update" {
						id = tp.ID
					}
				}
				if err := f.sb.SetTemplateStatus(id, "PAUSED", ""); err != nil {
					t.Fatal(err)
				}
				f.waitStatus("order_update", "en_US", "PAUSED")
			},
			status: http.StatusOK,
			want:   []string{`"status":"PAUSED"`, `{"at":"2026-01-05T10:00:00Z","kind":"status","from":"APPROVED","to":"PAUSED","event":"PAUSED","source":"webhook"}]`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if info, _ := f.reg.Template("order_update", "en_US"); info.Status != "PAUSED" {
					t.Errorf("sends see %s", info.Status)
				}
			},
		},
		{
			name: "webhook: a redelivered event is applied once", method: "POST", url: "/webhook/whatsapp",
			before: func(t *testing.T, f *fixture) {
				if status, body := f.do("POST", "/webhook/whatsapp", paused, pausedSig); status != http.StatusOK {
					t.Fatalf("first delivery: %d %s", status, body)
				}
			},
			body: paused, header: pausedSig,
			status: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/templates/order_update/en_US", "", nil)
				if n := strings.Count(string(body), `"event":"PAUSED"`); n != 1 || !strings.Contains(string(body), `"status":"PAUSED"`) {
					t.Errorf("%d PAUSED events recorded:\n%s", n, body)
				}
			},
		},
		{
			name: "webhook: a bad signature changes nothing", method: "POST", url: "/webhook/whatsapp",
			body: paused, header: map[string]string{whatsapp.SignatureHeader: "sha256=00"},
			status: http.StatusUnauthorized,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if rec, _ := f.reg.Record("order_update", "en_US"); rec.Status != "APPROVED" {
					t.Errorf("an unsigned webhook changed the template: %s", rec.Status)
				}
			},
		},
	})
}

// Without a registry the templates API says so, and template webhooks
// are acknowledged all the same (Meta would otherwise redeliver them for
// days).
func TestTemplatesAPIWithoutRegistry(t *testing.T) {
	paused, sig := webhook(`{"event":"PAUSED","message_template_id":1,"message_template_name":"order_update","message_template_language":"en_US","reason":"NONE"}`, t0)
	run(t, []scenario{
		{name: "list", method: "GET", url: "/api/v1/templates", status: http.StatusServiceUnavailable, want: []string{`{"error":"no template registry is configured"}`}},
		{name: "get", method: "GET", url: "/api/v1/templates/order_update/en_US", status: http.StatusServiceUnavailable},
		{name: "create", method: "POST", url: "/api/v1/templates", body: orderShipped, status: http.StatusServiceUnavailable},
		{name: "webhook", method: "POST", url: "/webhook/whatsapp", body: paused, header: sig, status: http.StatusOK},
	})
}
