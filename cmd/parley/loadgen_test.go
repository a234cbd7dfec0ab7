package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

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
	// Pacing is an upper bound: a busy machine may send fewer, never more.
	el := r.End.Sub(r.Start)
	if el < 450*time.Millisecond {
		t.Errorf("run took %v, want at least the 0.5 s asked for", el)
	}
	if most := 1 + int64(200*el.Seconds()); r.Unique == 0 || r.Unique > most {
		t.Errorf("sent %d in %v at 200/s, want 1 to %d", r.Unique, el, most)
	}
}

// TestLoadgenGraphDouble sends through the counting Graph double, as
// Parley's dispatcher would, and checks that replies are matched to their
// messages by token and duplicate replies are counted.
func TestLoadgenGraphDouble(t *testing.T) {
	cfg := loadgenConfig{RunID: "t1", Secret: "s", URL: "http://127.0.0.1:1"}
	cfg.setDefaults()
	g := newGraphDouble(&cfg, nil)
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

// refWebhookEnvelope is the messages webhook as loadgen built it with
// encoding/json before appendWebhook: the reference the builder is
// checked against.
func refWebhookEnvelope(wabaID, displayPhone, phoneNumberID, waID, userID, name, wamid, text string, at time.Time) []byte {
	type profile struct {
		Name string `json:"name"`
	}
	type contact struct {
		Profile profile `json:"profile"`
		WaID    string  `json:"wa_id"`
		UserID  string  `json:"user_id,omitempty"`
	}
	type textBody struct {
		Body string `json:"body"`
	}
	type message struct {
		From       string   `json:"from"`
		FromUserID string   `json:"from_user_id,omitempty"`
		ID         string   `json:"id"`
		Timestamp  string   `json:"timestamp"`
		Type       string   `json:"type"`
		Text       textBody `json:"text"`
	}
	type metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	type value struct {
		MessagingProduct string    `json:"messaging_product"`
		Metadata         metadata  `json:"metadata"`
		Contacts         []contact `json:"contacts"`
		Messages         []message `json:"messages"`
	}
	type change struct {
		Value value  `json:"value"`
		Field string `json:"field"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	env := struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{"whatsapp_business_account", []entry{{ID: wabaID, Changes: []change{{Field: "messages", Value: value{
		MessagingProduct: "whatsapp",
		Metadata:         metadata{displayPhone, phoneNumberID},
		Contacts:         []contact{{Profile: profile{name}, WaID: waID, UserID: userID}},
		Messages: []message{{From: waID, FromUserID: userID, ID: wamid, Timestamp: strconv.FormatInt(at.Unix(), 10),
			Type: "text", Text: textBody{text}}},
	}}}}}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		panic(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// refMessage is message n's identity and text as loadgen derived them
// with fmt and strings.Replacer before lgFill.
func refMessage(c *loadgenConfig, n int) (waID, userID, wamid, text string) {
	cust := c.lgCustomerAt(n % c.Customers)
	k := n / c.Customers
	width := max(12-len(c.WaPrefix), len(strconv.Itoa(c.Customers-1)))
	num := fmt.Sprintf("%0*d", width, cust)
	waID, userID = c.WaPrefix+num, "US.LG"+c.WaPrefix+num
	wamid = "wamid." + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("LG.%s.%s.%d", c.RunID, waID, k)))
	text = strings.NewReplacer("{id}", c.lgToken(n), "{n}", strconv.Itoa(n), "{customer}", strconv.Itoa(cust)).
		Replace(c.Texts[k%len(c.Texts)])
	return waID, userID, wamid, text
}

// lgTexts are texts that JSON must escape, or not.
var lgTexts = []string{
	"",
	"order status",
	"hi {id}",
	`say "hi"`,
	`back\slash \" \\ \n`,
	"line\nbreak\r\ttab",
	"control \x00\x01\x08\x0c\x1f\x7f",
	"grüß dich, ça va? 你好 🙂",
	"js \u2028 and \u2029 separators",
	"invalid \xff\xfe utf-8 \xe2\x82",
	"<html> & 'quotes'",
	"{n}{customer}{id}{ {x} }{{id}}{",
}

// TestLoadgenPayload checks the appended webhook against the one
// encoding/json built, parsed by whatsapp.ParseWebhook, for texts and
// business numbers that need escaping, and the messages' identities
// against how they were derived before.
func TestLoadgenPayload(t *testing.T) {
	at := time.Unix(1767225600, 0)
	for i, text := range lgTexts {
		c := loadgenConfig{Customers: 1000, Texts: []string{text}, RunID: "r" + strconv.Itoa(i), Secret: "s"}
		if i%2 == 1 {
			c.WABAID, c.DisplayPhone, c.PhoneNumberID, c.WaPrefix = `w"a\ba`, "+1 555\t0100", "ü"+text, "49"
		}
		c.setDefaults()
		n := 1234 + i
		m := c.lgBuild(n, at)
		wa, uid, wamid, want := refMessage(&c, n)
		if m.WaID != wa || m.UserID != uid || m.WAMID != wamid || m.Text != want {
			t.Errorf("text %q: message %+v, want wa_id %s user id %s wamid %s text %q", text, m, wa, uid, wamid, want)
		}
		ref := refWebhookEnvelope(c.WABAID, c.DisplayPhone, c.PhoneNumberID, wa, uid, "Customer "+strconv.Itoa(m.Customer), wamid, want, at)
		got, err := whatsapp.ParseWebhook(m.Body)
		if err != nil {
			t.Fatalf("text %q: %v\n%s", text, err, m.Body)
		}
		exp, err := whatsapp.ParseWebhook(ref)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("text %q: parsed\n%+v\nwant\n%+v\nbody %s", text, got, exp, m.Body)
		}
		if len(got.Messages) != 1 || utf8.ValidString(want) && got.Messages[0].Text != want {
			t.Errorf("text %q: parsed text %q", text, got.Messages[0].Text)
		}
		var gotV, expV any
		if err := json.Unmarshal(m.Body, &gotV); err != nil {
			t.Fatalf("text %q: %v\n%s", text, err, m.Body)
		}
		json.Unmarshal(ref, &expV)
		if !reflect.DeepEqual(gotV, expV) {
			t.Errorf("text %q: JSON\n%s\nwant\n%s", text, m.Body, ref)
		}
		if whatsapp.VerifySignature(m.Body, m.Sig, c.Secret) != nil {
			t.Errorf("text %q: bad signature", text)
		}

		// A batch carries the same messages, each with its own contact.
		batch := c.lgBuildBatch(n, 3, at)
		parsed, err := whatsapp.ParseWebhook(batch[0].Body)
		if err != nil || len(parsed.Messages) != 3 {
			t.Fatalf("text %q: batch: %v\n%s", text, err, batch[0].Body)
		}
		for j, bm := range batch {
			if &bm.Body[0] != &batch[0].Body[0] || bm.Sig != batch[0].Sig {
				t.Errorf("text %q: batch message %d has a body of its own", text, j)
			}
			wa, uid, wamid, want := refMessage(&c, n+j)
			ref := refWebhookEnvelope(c.WABAID, c.DisplayPhone, c.PhoneNumberID, wa, uid, "Customer "+strconv.Itoa(bm.Customer), wamid, want, at)
			exp, _ := whatsapp.ParseWebhook(ref)
			if !reflect.DeepEqual(parsed.Messages[j], exp.Messages[0]) {
				t.Errorf("text %q: batch message %d parsed\n%+v\nwant\n%+v", text, j, parsed.Messages[j], exp.Messages[0])
			}
		}
	}
}

// TestLoadgenJSONString compares appendJSONString with encoding/json.
func TestLoadgenJSONString(t *testing.T) {
	for _, s := range append(lgTexts, "\u2027\u202a", "\xc0\x80", "\xed\xa0\x80", strings.Repeat("ab\"", 100)) {
		b := appendJSONString([]byte("x"), s)
		if b[0] != 'x' || !json.Valid(b[1:]) {
			t.Errorf("%q: invalid JSON %s", s, b)
			continue
		}
		var got string
		json.Unmarshal(b[1:], &got)
		ref, _ := json.Marshal(s)
		var want string
		json.Unmarshal(ref, &want)
		if got != want {
			t.Errorf("%q: decodes to %q, want %q", s, got, want)
		}
		for _, c := range b[1:] {
			if c < 0x20 {
				t.Errorf("%q: raw control character in %q", s, b)
				break
			}
		}
	}
}

// TestLoadgenExpand checks {id}, {n} and {customer} replace as
// strings.Replacer did.
func TestLoadgenExpand(t *testing.T) {
	for _, text := range append(lgTexts, "{id}", "{n}", "{customer}", "{id", "x{n}y{n}z", "{{n}}", "}{") {
		want := strings.NewReplacer("{id}", "lgRx7", "{n}", "7", "{customer}", "42").Replace(text)
		if got := lgExpand(text, "lgRx7", 7, 42); got != want {
			t.Errorf("lgExpand(%q) = %q, want %q", text, got, want)
		}
	}
}

// refStatuses is the statuses webhook carrying sts, built from maps, as
// a reference for appendStatuses.
func refStatuses(cfg *loadgenConfig, sts []lgStatus) []byte {
	items := make([]any, len(sts))
	for i, s := range sts {
		st := map[string]any{"id": s.WAMID, "status": s.Status, "timestamp": strconv.FormatInt(s.At.Unix(), 10),
			"recipient_id": s.To}
		if s.Tracker != "" {
			st["biz_opaque_callback_data"] = s.Tracker
		}
		if s.Status == "sent" {
			st["pricing"] = map[string]any{"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
		}
		items[i] = st
	}
	env := map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": cfg.WABAID, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]string{"display_phone_number": cfg.DisplayPhone, "phone_number_id": cfg.PhoneNumberID},
			"statuses":          items,
		}}},
	}}}
	b, _ := json.Marshal(env)
	return b
}

// TestLoadgenStatusPayload checks batched statuses webhooks: signature-
// valid, parsed by whatsapp.ParseWebhook into the expected statuses, in
// order, and the same JSON as the map-built reference.
func TestLoadgenStatusPayload(t *testing.T) {
	cfg := loadgenConfig{WABAID: `w"1`, Secret: "st-secret"}
	cfg.setDefaults()
	at := time.Unix(1763780460, 0)
	pricing := &whatsapp.Pricing{PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
	var full []lgStatus
	for i := range 50 {
		full = append(full, lgStatus{WAMID: "wamid.GD" + strconv.Itoa(i), Status: lgStatusNames[i%3],
			To: "4917000000" + strconv.Itoa(10+i), Tracker: "c|" + strconv.Itoa(i) + "|n", At: at.Add(time.Duration(i) * time.Second)})
	}
	for _, tc := range []struct {
		name     string
		sts      []lgStatus
		trackers []string // the trackers as parsed, if not as sent
	}{
		{name: "one sent", sts: []lgStatus{{WAMID: "wamid.GD1", Status: "sent", To: "491700000001", Tracker: "c|2|n", At: at}}},
		{name: "escapes", sts: []lgStatus{
			{WAMID: "wamid.GD1", Status: "sent", To: "491700000001", Tracker: `q"uo\te` + "\n\t", At: at},
			{WAMID: "wamid.GD1", Status: "delivered", To: "491700000001", Tracker: "ü 🙂 \xff", At: at.Add(time.Second)},
			{WAMID: "wamid.GD2", Status: "read", To: "491700000002", At: at.Add(2 * time.Second)},
			{WAMID: "wamid.GD3", Status: "delivered", To: "491700000003", Tracker: "a\u2028b</script>\x01", At: at},
		}, trackers: []string{`q"uo\te` + "\n\t", "ü 🙂 \ufffd", "", "a\u2028b</script>\x01"}},
		{name: "full batch", sts: full},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, sig := cfg.statusWebhook(tc.sts)
			if err := whatsapp.VerifySignature(body, sig, cfg.Secret); err != nil {
				t.Fatalf("signature: %v", err)
			}
			got, err := whatsapp.ParseWebhook(body)
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, body)
			}
			want := make([]whatsapp.Status, len(tc.sts))
			for i, s := range tc.sts {
				want[i] = whatsapp.Status{WABAID: cfg.WABAID, PhoneNumberID: cfg.PhoneNumberID, ID: s.WAMID,
					Status: s.Status, Timestamp: s.At.UTC(), RecipientID: s.To, BizOpaqueCallbackData: s.Tracker}
				if tc.trackers != nil {
					want[i].BizOpaqueCallbackData = tc.trackers[i]
				}
				if s.Status == "sent" {
					want[i].Pricing = pricing
				}
			}
			if !reflect.DeepEqual(got.Statuses, want) || got.Len() != len(want) {
				t.Errorf("parsed\n%+v\nwant\n%+v", got.Statuses, want)
			}
			var gotV, refV any
			if err := json.Unmarshal(body, &gotV); err != nil {
				t.Fatal(err)
			}
			ref := refStatuses(&cfg, tc.sts)
			json.Unmarshal(ref, &refV)
			if !reflect.DeepEqual(gotV, refV) {
				t.Errorf("JSON\n%s\nwant\n%s", body, ref)
			}
		})
	}
}

// TestLoadgenStatusStream accepts sends through the Graph double with
// statuses on, posting them to a receiver that answers the first batched
// webhook 500: every status arrives exactly once, in order per message,
// batched, and the refused webhook comes again as it was.
func TestLoadgenStatusStream(t *testing.T) {
	const secret = "st-secret"
	var (
		mu       sync.Mutex
		got      = map[string][]whatsapp.Status{} // wamid → the statuses acknowledged
		hooks    int                              // webhooks answered 200
		maxBatch int
		refused  []byte // the body answered 500
		again    bool   // refused came again
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), secret); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		b, err := whatsapp.ParseWebhook(body)
		if err != nil || len(b.Statuses) == 0 {
			http.Error(w, "bad webhook", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if refused == nil && len(b.Statuses) > 1 {
			refused = body
			http.Error(w, "retry", http.StatusInternalServerError)
			return
		}
		again = again || bytes.Equal(body, refused)
		hooks++
		maxBatch = max(maxBatch, len(b.Statuses))
		for _, st := range b.Statuses {
			got[st.ID] = append(got[st.ID], st)
		}
	}))
	defer srv.Close()

	cfg := loadgenConfig{RunID: "st", Secret: secret, URL: srv.URL}
	cfg.setDefaults()
	const delay = 5 * time.Millisecond
	g := newGraphDouble(&cfg, &statusConfig{Delay: delay, Batch: 8, Concurrency: 3})
	if err := g.start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer g.close()
	client := whatsapp.NewClient(g.url, "tok", cfg.PhoneNumberID)
	const n = 120
	trackers := map[string]string{} // wamid → tracker sent
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				m := whatsapp.NewText("4917"+strconv.Itoa(10000000+i), "hi")
				m.BizOpaqueCallbackData = fmt.Sprintf(`t"%d\|`, i)
				res, err := client.Send(context.Background(), m)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				trackers[res.WAMID] = m.BizOpaqueCallbackData
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sr := g.st.drain(context.Background(), time.Now().Add(10*time.Second))

	mu.Lock()
	defer mu.Unlock()
	if len(got) != n || len(trackers) != n {
		t.Fatalf("statuses for %d sends, %d sends, want %d", len(got), len(trackers), n)
	}
	for wamid, sts := range got {
		var seq []string
		for _, st := range sts {
			seq = append(seq, st.Status)
			if st.BizOpaqueCallbackData != trackers[wamid] || (st.Pricing != nil) != (st.Status == "sent") {
				t.Errorf("%s: %+v, want tracker %q and pricing on sent only", wamid, st, trackers[wamid])
			}
		}
		if !slices.Equal(seq, lgStatusNames[:]) {
			t.Errorf("%s: statuses %v, want sent, delivered, read once each", wamid, seq)
		}
		if len(sts) == 3 && (sts[1].Timestamp.Before(sts[0].Timestamp) || sts[2].Timestamp.Before(sts[1].Timestamp)) {
			t.Errorf("%s: timestamps out of order: %+v", wamid, sts)
		}
	}
	if maxBatch < 2 {
		t.Errorf("at most %d statuses per webhook, want batches", maxBatch)
	}
	if refused == nil || !again {
		t.Errorf("refused webhook %v, posted again %v", refused != nil, again)
	}
	want := statusReport{Sends: n, Delay: delay, Due: 3 * n, Posted: 3 * n, Acked: 3 * n,
		Webhooks: int64(hooks) + 1, AckedHooks: int64(hooks), Failed: map[string]int64{"HTTP 500": 1}}
	if sr.Sends != want.Sends || sr.Delay != want.Delay || sr.Due != want.Due || sr.Posted != want.Posted ||
		sr.Acked != want.Acked || sr.Unposted != 0 || sr.Webhooks != want.Webhooks || sr.AckedHooks != want.AckedHooks ||
		!maps.Equal(sr.Failed, want.Failed) || len(sr.Latencies) != hooks {
		t.Errorf("report %+v, want %+v", sr, want)
	}
	var buf bytes.Buffer
	sr.print(&buf, &loadReport{Start: time.Now().Add(-time.Second)})
	if out := buf.String(); !strings.Contains(out, "360 due of 360") || !strings.Contains(out, "360 acked (200)") ||
		!strings.Contains(out, "HTTP 500: 1") || !strings.Contains(out, "0 statuses unposted") {
		t.Errorf("report:\n%s", out)
	}
}

// TestLoadgenBatch posts -batch 5 webhooks to a receiver that checks
// each: signature-valid, parsed by whatsapp.ParseWebhook, five messages of
// five customers; and duplicates repost whole webhooks.
func TestLoadgenBatch(t *testing.T) {
	const secret = "lg-secret"
	var mu sync.Mutex
	bodies := map[string]int{} // body → posts
	wamids := map[string]int{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), secret); err != nil {
			bad = append(bad, "signature: "+err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		b, err := whatsapp.ParseWebhook(body)
		if err != nil || len(b.Messages) != 5 {
			bad = append(bad, fmt.Sprintf("parse: %v, %d messages", err, len(b.Messages)))
			http.Error(w, "bad envelope", http.StatusBadRequest)
			return
		}
		customers := map[string]bool{}
		for _, m := range b.Messages {
			if m.Type != whatsapp.TypeText || m.UserID == "" || m.ProfileName == "" || !strings.HasPrefix(m.Text, "hi lg") {
				bad = append(bad, fmt.Sprintf("message %+v", m))
			}
			customers[m.From] = true
		}
		if len(customers) != 5 {
			bad = append(bad, fmt.Sprintf("%d customers in a webhook", len(customers)))
		}
		if bodies[string(body)]++; bodies[string(body)] == 1 {
			for _, m := range b.Messages {
				wamids[m.ID]++
			}
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	var hooked sync.Map
	cfg := loadgenConfig{URL: srv.URL, Secret: secret, Customers: 50, Messages: 400, Batch: 5, Concurrency: 4,
		Texts: []string{"hi {id}"}, DuplicateFraction: 0.2, Seed: 3}
	r, err := runLoad(context.Background(), cfg, nil, lgHooks{
		Before: func(m *lgMessage, dup bool) {
			if !dup {
				hooked.Store(m.N, true)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d bad webhooks, first: %s", len(bad), bad[0])
	}
	dupHooks := 0
	for _, n := range bodies {
		dupHooks += n - 1
	}
	if len(bodies) != 80 || len(wamids) != 400 || dupHooks == 0 {
		t.Errorf("%d distinct webhooks with %d distinct wamids, %d duplicate posts; want 80, 400 and some", len(bodies), len(wamids), dupHooks)
	}
	if r.Unique != 400 || r.Webhooks != int64(80+dupHooks) || r.Duplicates != int64(5*dupHooks) ||
		r.AckedIDs != 400 || r.Acked != 400+r.Duplicates || r.AckedHooks != r.Webhooks || int64(len(r.Latencies)) != r.Acked {
		t.Errorf("report: %d webhooks (%d acked), %d messages + %d duplicates, %d acked (%d distinct), %d latencies; posted %d duplicate webhooks",
			r.Webhooks, r.AckedHooks, r.Unique, r.Duplicates, r.Acked, r.AckedIDs, len(r.Latencies), dupHooks)
	}
	n := 0
	hooked.Range(func(any, any) bool { n++; return true })
	if n != 400 {
		t.Errorf("Before saw %d messages, want 400", n)
	}
	var out bytes.Buffer
	r.print(&out)
	if want := fmt.Sprintf("sent        %d webhooks of up to 5 messages (400 messages + %d duplicates)", r.Webhooks, r.Duplicates); !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}

	if _, err := runLoad(context.Background(), loadgenConfig{URL: srv.URL, Customers: 4, Batch: 5, Messages: 10}, nil, lgHooks{}); err == nil {
		t.Error("-batch 5 with 4 customers: no error")
	}
}

// TestLoadgenErrorKinds checks failed posts are reported by kind.
func TestLoadgenErrorKinds(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	closing, err := net.Listen("tcp", "127.0.0.1:0") // closes at once
	if err != nil {
		t.Fatal(err)
	}
	defer closing.Close()
	go func() {
		for {
			c, err := closing.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused.Close()
	for _, tc := range []struct {
		addr, kind string
	}{
		{silent.Addr().String(), "timeout"},
		{closing.Addr().String(), "connection closed"},
		{refused.Addr().String(), "connection refused"},
	} {
		r, err := runLoad(context.Background(), loadgenConfig{URL: "http://" + tc.addr, Messages: 2, Concurrency: 1, Timeout: 200 * time.Millisecond}, nil, lgHooks{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors[tc.kind] != 2 || len(r.Errors) != 1 {
			t.Errorf("%s: errors %v, want %s: 2", tc.kind, r.Errors, tc.kind)
		}
	}
}
