package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
)

// TestLoadgenPostsSignedWebhooks runs the load generator against a fake
// Parley that checks what a real one would: the signature, the envelope,
// unique wamids, distinct customers.
func TestLoadgenPostsSignedWebhooks(t *testing.T) {
	const secret = "lg-secret"
	var mu sync.Mutex
	wamids := map[string]int{}
	customers := map[string]bool{}
	texts := map[string]int{}
	refused := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/webhook/whatsapp" {
			http.Error(w, "path "+r.URL.Path, http.StatusNotFound)
			return
		}
		if err := whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), secret); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		b, err := whatsapp.ParseWebhook(body)
		if err != nil || len(b.Messages) != 1 {
			http.Error(w, "bad envelope", http.StatusBadRequest)
			return
		}
		m := b.Messages[0]
		mu.Lock()
		defer mu.Unlock()
		if m.PhoneNumberID != "pn1" || m.Type != whatsapp.TypeText || m.From == "" || m.UserID == "" || m.ProfileName == "" {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		wamids[m.ID]++
		customers[m.From] = true
		texts[m.Text]++
		// Refuse every 50th first delivery: errors must be counted by status.
		if wamids[m.ID] == 1 && len(wamids)%50 == 0 {
			refused++
			http.Error(w, "retry", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	cfg := loadgenConfig{
		URL: srv.URL, Secret: secret, PhoneNumberID: "pn1",
		Customers: 40, Messages: 400, Concurrency: 8,
		Texts: []string{"order status {id}", "no"}, DuplicateFraction: 0.1, Seed: 7,
	}
	var before, after sync.Map
	r, err := runLoad(context.Background(), cfg, nil, lgHooks{
		Before: func(m *lgMessage, dup bool) { before.Store(m.N, true) },
		After: func(m *lgMessage, dup bool, status int, err error, lat time.Duration) {
			if err == nil {
				after.Store(m.N, status)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Unique != 400 {
		t.Errorf("sent %d messages, want 400", r.Unique)
	}
	if r.Duplicates == 0 || r.Duplicates > 100 {
		t.Errorf("duplicates = %d, want about 40", r.Duplicates)
	}
	if got, want := r.Acked, r.Unique+r.Duplicates-int64(refused); got != want {
		t.Errorf("acked = %d, want %d", got, want)
	}
	if r.Errors["HTTP 500"] != int64(refused) || refused == 0 {
		t.Errorf("errors = %v, want HTTP 500: %d", r.Errors, refused)
	}
	if int64(len(r.Latencies)) != r.Acked || r.Percentile(50) <= 0 || r.Percentile(99) < r.Percentile(50) {
		t.Errorf("latencies: %d for %d acks, p50 %v p99 %v", len(r.Latencies), r.Acked, r.Percentile(50), r.Percentile(99))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(wamids) != 400 {
		t.Errorf("%d distinct wamids, want 400", len(wamids))
	}
	if len(customers) != 40 {
		t.Errorf("%d distinct customers, want 40", len(customers))
	}
	// Every customer alternates "order status {id}" and "no".
	if texts["no"] < 200 || len(texts) != 201 {
		t.Errorf("%d distinct texts, %d of them \"no\"; want 201 and at least 200", len(texts), texts["no"])
	}
	for txt := range texts {
		if txt != "no" && !strings.HasPrefix(txt, "order status lg") {
			t.Errorf("unexpected text %q", txt)
		}
	}
	n := 0
	before.Range(func(any, any) bool { n++; return true })
	if n != 400 {
		t.Errorf("Before saw %d messages, want 400", n)
	}
}

// TestLoadgenRate checks that -rate paces the messages.
func TestLoadgenRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	r, err := runLoad(context.Background(), loadgenConfig{URL: srv.URL, Rate: 200, Duration: 500 * time.Millisecond, Concurrency: 4}, nil, lgHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Unique < 80 || r.Unique > 101 {
		t.Errorf("sent %d in 0.5 s at 200/s, want about 100", r.Unique)
	}
	if el := r.End.Sub(r.Start); el < 450*time.Millisecond || el > 2*time.Second {
		t.Errorf("run took %v, want about 0.5 s", el)
	}
}

// TestLoadgenGraphDouble sends through the counting Graph double, as
// Parley's dispatcher would, and checks that replies are matched to their
// messages by token and duplicate replies are counted.
func TestLoadgenGraphDouble(t *testing.T) {
	cfg := loadgenConfig{RunID: "t1", Secret: "s", URL: "http://127.0.0.1:1"}
	cfg.setDefaults()
	g := newGraphDouble(&cfg, false)
	if err := g.start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer g.close()
	client := whatsapp.NewClient(g.url, "tok", cfg.PhoneNumberID)
	for n := range 5 {
		m := cfg.lgBuild(n, time.Now())
		g.posted(m, time.Now())
		if _, err := client.Send(context.Background(), whatsapp.NewText(m.WaID, "echo: "+m.Text)); err != nil {
			t.Fatal(err)
		}
	}
	// A reply sent twice.
	m := cfg.lgBuild(3, time.Now())
	if _, err := client.Send(context.Background(), whatsapp.NewText(m.WaID, "again "+m.Token)); err != nil {
		t.Fatal(err)
	}
	if err := client.MarkRead(context.Background(), m.WAMID, false); err != nil {
		t.Fatal(err)
	}
	gr := g.wait(context.Background(), 6, time.Second, time.Now())
	if gr.Sends != 6 || !gr.Complete || gr.MarkRead != 1 {
		t.Errorf("sends %d complete %v mark-read %d, want 6 true 1", gr.Sends, gr.Complete, gr.MarkRead)
	}
	// The default texts carry no {id}: only the "again" reply has a token.
	if gr.Tokens != 1 || gr.DuplicateReplies != 0 {
		t.Errorf("tokens %d duplicates %d, want 1 and 0", gr.Tokens, gr.DuplicateReplies)
	}
	cfg.Texts = []string{"hi {id}"}
	for n := range 3 {
		m := cfg.lgBuild(10+n, time.Now())
		client.Send(context.Background(), whatsapp.NewText(m.WaID, "echo: "+m.Text))
		client.Send(context.Background(), whatsapp.NewText(m.WaID, "echo: "+m.Text))
	}
	gr = g.wait(context.Background(), 12, time.Second, time.Now())
	if gr.Tokens != 4 || gr.DuplicateReplies != 3 {
		t.Errorf("tokens %d duplicates %d, want 4 and 3", gr.Tokens, gr.DuplicateReplies)
	}
	var buf bytes.Buffer
	gr.print(&buf, &loadReport{Start: time.Now().Add(-time.Second)})
	if !strings.Contains(buf.String(), "3 duplicate replies") {
		t.Errorf("report:\n%s", buf.String())
	}
}

// TestLoadgenStatusEnvelope checks the status webhooks of -statuses parse.
func TestLoadgenStatusEnvelope(t *testing.T) {
	cfg := loadgenConfig{}
	cfg.setDefaults()
	body := statusEnvelope(&cfg, statusJob{wamid: "wamid.X", to: "491700000001", tracker: "c|2|n"}, "delivered")
	b, err := whatsapp.ParseWebhook(body)
	if err != nil || len(b.Statuses) != 1 {
		t.Fatalf("parse: %v %+v", err, b)
	}
	if st := b.Statuses[0]; st.ID != "wamid.X" || st.Status != "delivered" || st.BizOpaqueCallbackData != "c|2|n" {
		t.Errorf("status = %+v", st)
	}
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		t.Error("not JSON")
	}
}

// TestLoadgenScatteredOrder: every customer writes exactly once per round,
// in a scattered order unless -key-order.
func TestLoadgenScatteredOrder(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 1000, 1024, 60000} {
		for _, keyOrder := range []bool{false, true} {
			c := &loadgenConfig{Customers: n, KeyOrder: keyOrder}
			seen := make([]bool, n)
			adjacent := 0
			prev := -1
			for i := range n {
				cust := c.lgCustomerAt(i)
				if cust < 0 || cust >= n || seen[cust] {
					t.Fatalf("customers %d, key order %v: place %d gives customer %d twice or out of range", n, keyOrder, i, cust)
				}
				seen[cust] = true
				if cust == prev+1 {
					adjacent++
				}
				prev = cust
			}
			if !keyOrder && n >= 1000 && adjacent > n/100 {
				t.Errorf("customers %d: %d neighbours in a row; want them scattered", n, adjacent)
			}
		}
	}
}
