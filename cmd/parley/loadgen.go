package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// `parley loadgen` posts signed WhatsApp webhooks to a running Parley, as
// Meta would for many customers writing at once, and measures how fast and
// how quickly they are acknowledged. With -sandbox it also serves a
// counting Graph API double, so the replies Parley's dispatcher sends are
// counted end to end.

const loadgenUsage = `usage: parley loadgen [flags]

Posts signed messages webhooks (X-Hub-Signature-256) for -customers
simulated customers to a running Parley at -rate messages/s (0: as fast as
-concurrency allows) for -duration or -messages, and prints what was sent,
acknowledged (200) and refused, the throughput and the webhook latency.

With -sandbox it first serves a counting Graph API double on -graph-addr:
start Parley with WHATSAPP_API_URL=http://<graph-addr>/v23.0 (and any
WHATSAPP_ACCESS_TOKEN) and it also prints the replies Parley sent and how
long after the last acknowledgement the last one arrived.

-text is what customers say, "|" separating a customer's successive
messages (cycled); {id} becomes a token unique to the message, which an echo
flow sends back, so each reply is matched to its message (duplicate replies
and per-message reply latency are then reported too); {n} is the message
number, {customer} the customer number.

Example, against an echo flow:
  parley loadgen -sandbox -customers 20000 -rate 5000 -duration 20s -text 'hi {id}' -expect-replies 1

Flags:
`

// loadgenConfig is one load run.
type loadgenConfig struct {
	// URL is Parley's webhook URL (a bare origin gets /webhook/whatsapp).
	URL    string
	Secret string
	// PhoneNumberID, DisplayPhone and WABAID are the business number the
	// webhooks are for.
	PhoneNumberID, DisplayPhone, WABAID string
	// Customers write in turn: every customer once per round of Customers
	// messages, wa_id WaPrefix followed by the customer number (12 digits
	// in all). Within a round the customers come in a scattered order, as
	// real traffic does, unless KeyOrder: in key order, one batch's writes
	// share the store's pages and flatter the figures (about 2.6× on the
	// store alone, BenchmarkCommit order=keys vs order=scattered).
	Customers int
	WaPrefix  string
	KeyOrder  bool
	// Rate is messages per second (0: as fast as Concurrency allows).
	Rate        float64
	Concurrency int
	// Messages, if > 0, is how many distinct messages to send; else the
	// run lasts Duration.
	Messages int
	Duration time.Duration
	// Texts are a customer's successive messages, cycled; see loadgenUsage
	// for {id}, {n} and {customer}.
	Texts []string
	// DuplicateFraction of the messages are posted a second time, as Meta
	// redelivers: same body, same wamid.
	DuplicateFraction float64
	Seed              uint64
	// RunID makes the wamids and {id} tokens of this run unique.
	RunID   string
	Timeout time.Duration
}

func (c *loadgenConfig) setDefaults() {
	if c.URL == "" {
		c.URL = "http://127.0.0.1:8080"
	}
	if u, err := url.Parse(c.URL); err == nil && (u.Path == "" || u.Path == "/") {
		c.URL = strings.TrimSuffix(c.URL, "/") + "/webhook/whatsapp"
	}
	if c.Secret == "" {
		c.Secret = sandbox.DefaultAppSecret
	}
	if c.PhoneNumberID == "" {
		c.PhoneNumberID = sandbox.DefaultPhoneNumberID
	}
	if c.DisplayPhone == "" {
		c.DisplayPhone = sandbox.DefaultDisplayPhone
	}
	if c.WABAID == "" {
		c.WABAID = sandbox.DefaultWABAID
	}
	if c.Customers <= 0 {
		c.Customers = 1000
	}
	if c.WaPrefix == "" {
		c.WaPrefix = "4917"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Messages <= 0 && c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if len(c.Texts) == 0 {
		c.Texts = []string{"order status", "no"}
	}
	if c.RunID == "" {
		c.RunID = strconv.FormatInt(time.Now().UnixNano()%(36*36*36*36*36*36), 36)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
}

// lgCustomer returns customer i's wa_id and business-scoped user id.
func (c *loadgenConfig) lgCustomer(i int) (waID, userID string) {
	width := max(12-len(c.WaPrefix), len(strconv.Itoa(c.Customers-1)))
	num := fmt.Sprintf("%0*d", width, i)
	return c.WaPrefix + num, "US.LG" + c.WaPrefix + num
}

// lgCustomerAt is the customer at place i of a round: i itself in key
// order, else i times a stride coprime with Customers, modulo Customers —
// a permutation that spreads neighbours across the key space.
func (c *loadgenConfig) lgCustomerAt(i int) int {
	if c.KeyOrder || c.Customers < 3 {
		return i
	}
	return int(uint64(i) * uint64(scatterStride(c.Customers)) % uint64(c.Customers))
}

// scatterStride is the first number from about 0.618 × n up that is
// coprime with n (the golden ratio keeps consecutive places far apart).
func scatterStride(n int) int {
	s := max(n*618/1000, 1)
	for gcd(s, n) != 1 {
		s++
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// lgToken is message n's {id} token.
func (c *loadgenConfig) lgToken(n int) string { return "lg" + c.RunID + "x" + strconv.Itoa(n) }

// lgMessage is one generated webhook.
type lgMessage struct {
	N        int    // message number
	Customer int    // customer number
	WaID     string // the customer's wa_id
	UserID   string
	WAMID    string
	Text     string
	Token    string // the {id} token (set even when Text does not use it)
	Body     []byte // the signed webhook body
	Sig      string // its X-Hub-Signature-256
}

// lgBuild builds message n: a Meta messages webhook with one text message.
func (c *loadgenConfig) lgBuild(n int, at time.Time) *lgMessage {
	cust := c.lgCustomerAt(n % c.Customers)
	k := n / c.Customers // the customer's k-th message
	wa, uid := c.lgCustomer(cust)
	m := &lgMessage{N: n, Customer: cust, WaID: wa, UserID: uid, Token: c.lgToken(n)}
	m.WAMID = "wamid." + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("LG.%s.%s.%d", c.RunID, wa, k)))
	m.Text = strings.NewReplacer("{id}", m.Token, "{n}", strconv.Itoa(n), "{customer}", strconv.Itoa(cust)).
		Replace(c.Texts[k%len(c.Texts)])
	m.Body = webhookEnvelope(c.WABAID, c.DisplayPhone, c.PhoneNumberID, wa, uid, "Customer "+strconv.Itoa(cust), m.WAMID, m.Text, at)
	m.Sig = whatsapp.Sign(m.Body, c.Secret)
	return m
}

// webhookEnvelope is a messages webhook as Meta posts it (spec/whatsapp.md
// §1.2, §1.4–1.6) carrying one text message.
func webhookEnvelope(wabaID, displayPhone, phoneNumberID, waID, userID, name, wamid, text string, at time.Time) []byte {
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
		panic(err) // plain strings always encode
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// lgPost posts one webhook and returns the HTTP status (0 when the request
// failed) and the error.
func lgPost(ctx context.Context, hc *http.Client, url string, body []byte, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set(whatsapp.SignatureHeader, sig)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// lgClient is an HTTP client that keeps a connection per worker.
func lgClient(concurrency int, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: timeout}
}

// loadReport is what a run did.
type loadReport struct {
	Start, End time.Time
	Unique     int64 // distinct messages posted
	Duplicates int64 // messages posted again
	Acked      int64 // answered 200 (distinct and duplicate)
	AckedIDs   int64 // distinct messages answered 200 at least once
	LastAck    time.Time
	Errors     map[string]int64 // by "HTTP 500", "timeout", "transport"…
	Latencies  []time.Duration  // of the 200s, sorted
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of the latencies.
func (r *loadReport) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Throughput is acknowledged webhooks per second.
func (r *loadReport) Throughput() float64 {
	d := r.End.Sub(r.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.Acked) / d
}

// lgHooks see every post, from many goroutines at once: Before just before
// it is posted, After with its HTTP status (0 on error), error and latency.
type lgHooks struct {
	Before func(m *lgMessage, duplicate bool)
	After  func(m *lgMessage, duplicate bool, status int, err error, latency time.Duration)
}

// runLoad posts the configured load and returns its report.
func runLoad(ctx context.Context, cfg loadgenConfig, hc *http.Client, hooks lgHooks) (*loadReport, error) {
	cfg.setDefaults()
	if hc == nil {
		hc = lgClient(cfg.Concurrency, cfg.Timeout)
	}
	if cfg.DuplicateFraction < 0 || cfg.DuplicateFraction > 1 {
		return nil, errors.New("loadgen: -duplicate-fraction must be within 0 and 1")
	}
	var (
		next      atomic.Int64
		unique    atomic.Int64
		dups      atomic.Int64
		acked     atomic.Int64
		ackedIDs  atomic.Int64
		lastAck   atomic.Int64
		mu        sync.Mutex
		errs      = map[string]int64{}
		latencies []time.Duration
		recent    = make([]*lgMessage, 1024) // for duplicates
	)
	start := time.Now()
	deadline := time.Time{}
	if cfg.Messages <= 0 {
		deadline = start.Add(cfg.Duration)
	}
	post := func(m *lgMessage, dup bool, lat *[]time.Duration) bool {
		if hooks.Before != nil {
			hooks.Before(m, dup)
		}
		t0 := time.Now()
		status, err := lgPost(ctx, hc, cfg.URL, m.Body, m.Sig)
		d := time.Since(t0)
		if hooks.After != nil {
			hooks.After(m, dup, status, err, d)
		}
		if status == http.StatusOK {
			acked.Add(1)
			lastAck.Store(time.Now().UnixNano())
			*lat = append(*lat, d)
			return true
		}
		if ctx.Err() != nil && err != nil {
			return false // the run was stopped; not the server's fault
		}
		key := "HTTP " + strconv.Itoa(status)
		if err != nil {
			key = "transport"
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				key = "timeout"
			} else if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset") {
				key = "connection closed"
			} else if strings.Contains(err.Error(), "refused") {
				key = "connection refused"
			}
		}
		mu.Lock()
		errs[key]++
		mu.Unlock()
		return false
	}
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(w)))
			var lat []time.Duration
			defer func() {
				mu.Lock()
				latencies = append(latencies, lat...)
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				n := int(next.Add(1) - 1)
				if cfg.Messages > 0 && n >= cfg.Messages {
					return
				}
				if cfg.Rate > 0 {
					due := start.Add(time.Duration(float64(n) / cfg.Rate * float64(time.Second)))
					if !deadline.IsZero() && !due.Before(deadline) {
						return
					}
					if wait := time.Until(due); wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
				} else if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				m := cfg.lgBuild(n, time.Now())
				unique.Add(1)
				if post(m, false, &lat) {
					ackedIDs.Add(1)
				}
				mu.Lock()
				recent[n%len(recent)] = m
				mu.Unlock()
				if cfg.DuplicateFraction > 0 && rng.Float64() < cfg.DuplicateFraction {
					mu.Lock()
					d := recent[rng.IntN(len(recent))]
					mu.Unlock()
					if d == nil {
						d = m
					}
					dups.Add(1)
					post(d, true, &lat)
				}
			}
		}()
	}
	wg.Wait()
	r := &loadReport{Start: start, End: time.Now(), Unique: unique.Load(), Duplicates: dups.Load(),
		Acked: acked.Load(), AckedIDs: ackedIDs.Load(), Errors: errs, Latencies: latencies}
	if ns := lastAck.Load(); ns > 0 {
		r.LastAck = time.Unix(0, ns)
	}
	slices.Sort(r.Latencies)
	return r, nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// print writes the report for people.
func (r *loadReport) print(w io.Writer) {
	el := r.End.Sub(r.Start).Seconds()
	fmt.Fprintf(w, "sent        %d webhooks (%d messages + %d duplicates) in %.2fs: %.0f/s\n",
		r.Unique+r.Duplicates, r.Unique, r.Duplicates, el, float64(r.Unique+r.Duplicates)/max(el, 1e-9))
	fmt.Fprintf(w, "acked       %d (200), %d of the %d messages\n", r.Acked, r.AckedIDs, r.Unique)
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors      none")
	} else {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s: %d", k, r.Errors[k])
		}
		fmt.Fprintln(w, "errors      "+strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "throughput  %.0f acked/s\n", r.Throughput())
	if len(r.Latencies) > 0 {
		fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  max %s\n",
			ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Latencies[len(r.Latencies)-1]))
	}
}

// graphDouble is a minimal Graph API: it accepts every send with a fresh
// wamid and counts it, so Parley's dispatcher can be measured without
// Meta's (or the sandbox's) limits. It can post sent / delivered / read
// status webhooks back, as Meta does.
type graphDouble struct {
	cfg      *loadgenConfig
	srv      *http.Server
	url      string
	statuses bool
	hc       *http.Client

	sends    atomic.Int64
	marks    atomic.Int64
	first    atomic.Int64 // unix ns of the first send
	last     atomic.Int64 // unix ns of the latest send
	seq      atomic.Int64
	mu       sync.Mutex
	tokens   map[int]int       // message number → replies carrying its token
	sentAt   map[int]time.Time // message number → when it was posted
	replyLat []time.Duration   // post of a message → its first reply

	statusQ    chan statusJob
	statusSent atomic.Int64
	statusErrs atomic.Int64
	wg         sync.WaitGroup
}

type statusJob struct {
	wamid, to, tracker string
}

func newGraphDouble(cfg *loadgenConfig, statuses bool) *graphDouble {
	g := &graphDouble{cfg: cfg, statuses: statuses, tokens: map[int]int{}, sentAt: map[int]time.Time{}}
	if statuses {
		g.hc = lgClient(16, cfg.Timeout)
		g.statusQ = make(chan statusJob, 1<<16)
		for range 16 {
			g.wg.Add(1)
			go g.postStatuses()
		}
	}
	return g
}

// start serves the double on addr ("127.0.0.1:0" for any port).
func (g *graphDouble) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("graph double: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{id}/messages", g.handleSend)
	mux.HandleFunc("GET /{version}/{id}/message_templates", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[]}`)
	})
	g.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	g.url = "http://" + ln.Addr().String() + "/" + sandbox.DefaultVersion
	go g.srv.Serve(ln) //nolint:errcheck // ErrServerClosed at close
	return nil
}

func (g *graphDouble) close() {
	if g.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = g.srv.Shutdown(ctx)
	}
	if g.statusQ != nil {
		close(g.statusQ)
		g.wg.Wait()
	}
}

// posted records when message m was posted, for per-message reply latency.
func (g *graphDouble) posted(m *lgMessage, at time.Time) {
	g.mu.Lock()
	if _, ok := g.sentAt[m.N]; !ok {
		g.sentAt[m.N] = at
	}
	g.mu.Unlock()
}

func (g *graphDouble) handleSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To     string `json:"to"`
		Status string `json:"status"`
		Text   *struct {
			Body string `json:"body"`
		} `json:"text"`
		Interactive *struct {
			Body *struct {
				Text string `json:"text"`
			} `json:"body"`
		} `json:"interactive"`
		Tracker string `json:"biz_opaque_callback_data"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if req.Status == "read" {
		g.marks.Add(1)
		io.WriteString(w, `{"success":true}`)
		return
	}
	now := time.Now()
	g.sends.Add(1)
	g.first.CompareAndSwap(0, now.UnixNano())
	g.last.Store(now.UnixNano())
	wamid := "wamid.GD" + strconv.FormatInt(g.seq.Add(1), 10)
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q,"message_status":"accepted"}]}`,
		req.To, req.To, wamid)

	text := ""
	if req.Text != nil {
		text = req.Text.Body
	} else if req.Interactive != nil && req.Interactive.Body != nil {
		text = req.Interactive.Body.Text
	}
	if n, ok := g.tokenIn(text); ok {
		g.mu.Lock()
		g.tokens[n]++
		if g.tokens[n] == 1 {
			if at, ok := g.sentAt[n]; ok {
				g.replyLat = append(g.replyLat, now.Sub(at))
			}
		}
		g.mu.Unlock()
	}
	if g.statuses {
		select {
		case g.statusQ <- statusJob{wamid, req.To, req.Tracker}:
		default: // too far behind: skip rather than block sends
		}
	}
}

// tokenIn finds this run's {id} token in a reply and returns its message
// number.
func (g *graphDouble) tokenIn(text string) (int, bool) {
	return lgTokenNumber(text, g.cfg.RunID)
}

// lgTokenNumber finds the {id} token of run runID in a text (lgToken:
// "lg<run>x<n>") and returns its message number n.
func lgTokenNumber(text, runID string) (int, bool) {
	prefix := "lg" + runID + "x"
	i := strings.Index(text, prefix)
	if i < 0 {
		return 0, false
	}
	rest := text[i+len(prefix):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(rest[:j])
	return n, err == nil
}

// postStatuses posts sent, delivered and read for each accepted send.
func (g *graphDouble) postStatuses() {
	defer g.wg.Done()
	for j := range g.statusQ {
		for _, st := range []string{"sent", "delivered", "read"} {
			body := statusEnvelope(g.cfg, j, st)
			status, err := lgPost(context.Background(), g.hc, g.cfg.URL, body, whatsapp.Sign(body, g.cfg.Secret))
			if err != nil || status != http.StatusOK {
				g.statusErrs.Add(1)
				continue
			}
			g.statusSent.Add(1)
		}
	}
}

func statusEnvelope(cfg *loadgenConfig, j statusJob, status string) []byte {
	st := map[string]any{"id": j.wamid, "status": status, "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"recipient_id": j.to}
	if j.tracker != "" {
		st["biz_opaque_callback_data"] = j.tracker
	}
	if status == "sent" {
		st["pricing"] = map[string]any{"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
	}
	env := map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": cfg.WABAID, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]string{"display_phone_number": cfg.DisplayPhone, "phone_number_id": cfg.PhoneNumberID},
			"statuses":          []any{st},
		}}},
	}}}
	b, _ := json.Marshal(env)
	return b
}

// graphReport is what the double saw.
type graphReport struct {
	Sends, MarkRead  int64
	First, Last      time.Time
	Expected         int64         // replies expected, 0 if unknown
	Lag              time.Duration // last ack → last reply
	Complete         bool          // Expected reached
	Tokens           int           // messages with at least one reply carrying their token
	DuplicateReplies int           // replies beyond the first for one token
	ReplyLatencies   []time.Duration
	StatusPosts      int64
	StatusErrors     int64
}

// wait waits until expected sends arrived (expected > 0) or none arrived
// for settle, or ctx ends.
func (g *graphDouble) wait(ctx context.Context, expected int64, settle time.Duration, lastAck time.Time) graphReport {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	quietSince, seen := time.Now(), g.sends.Load()
wait:
	for {
		n := g.sends.Load()
		if expected > 0 && n >= expected {
			break
		}
		if n != seen {
			seen, quietSince = n, time.Now()
		} else if time.Since(quietSince) >= settle {
			break
		}
		select {
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	r := graphReport{Sends: g.sends.Load(), MarkRead: g.marks.Load(), Expected: expected,
		StatusPosts: g.statusSent.Load(), StatusErrors: g.statusErrs.Load()}
	r.Complete = expected > 0 && r.Sends >= expected
	if ns := g.first.Load(); ns > 0 {
		r.First = time.Unix(0, ns)
	}
	if ns := g.last.Load(); ns > 0 {
		r.Last = time.Unix(0, ns)
		if !lastAck.IsZero() {
			r.Lag = r.Last.Sub(lastAck)
		}
	}
	g.mu.Lock()
	r.Tokens = len(g.tokens)
	for _, c := range g.tokens {
		r.DuplicateReplies += c - 1
	}
	r.ReplyLatencies = slices.Clone(g.replyLat)
	g.mu.Unlock()
	slices.Sort(r.ReplyLatencies)
	return r
}

func (r *graphReport) print(w io.Writer, lr *loadReport) {
	exp := ""
	if r.Expected > 0 {
		exp = fmt.Sprintf(" of %d expected", r.Expected)
		if !r.Complete {
			exp += " (INCOMPLETE)"
		}
	}
	fmt.Fprintf(w, "replies     %d sends received by the Graph double%s", r.Sends, exp)
	if r.MarkRead > 0 {
		fmt.Fprintf(w, ", %d mark-as-read", r.MarkRead)
	}
	fmt.Fprintln(w)
	if r.Sends > 0 {
		span := r.Last.Sub(lr.Start).Seconds()
		fmt.Fprintf(w, "            %.0f sends/s from the first webhook to the last reply; last reply %s after the last ack\n",
			float64(r.Sends)/max(span, 1e-9), ms(r.Lag))
	}
	if r.Tokens > 0 {
		fmt.Fprintf(w, "            %d messages answered, %d duplicate replies", r.Tokens, r.DuplicateReplies)
		if n := len(r.ReplyLatencies); n > 0 {
			p := func(q float64) time.Duration { return r.ReplyLatencies[min(n-1, max(0, int(float64(n)*q/100+0.5)-1))] }
			fmt.Fprintf(w, "; webhook → reply p50 %s  p99 %s  max %s", ms(p(50)), ms(p(99)), ms(r.ReplyLatencies[n-1]))
		}
		fmt.Fprintln(w)
	}
	if r.StatusPosts+r.StatusErrors > 0 {
		fmt.Fprintf(w, "statuses    %d status webhooks acked, %d failed\n", r.StatusPosts, r.StatusErrors)
	}
}

func cmdLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c loadgenConfig
	var text string
	var useGraph, statuses bool
	var graphAddr string
	var expectReplies float64
	var settle, waitReady time.Duration
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, loadgenUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "Parley's base URL (or its full webhook URL)")
	fs.StringVar(&c.Secret, "secret", env("WHATSAPP_APP_SECRET", sandbox.DefaultAppSecret), "app secret that signs the webhooks (WHATSAPP_APP_SECRET)")
	fs.StringVar(&c.PhoneNumberID, "phone-number-id", env("WHATSAPP_PHONE_NUMBER_ID", sandbox.DefaultPhoneNumberID), "business phone number id (WHATSAPP_PHONE_NUMBER_ID)")
	fs.StringVar(&c.WABAID, "waba-id", env("WHATSAPP_WABA_ID", sandbox.DefaultWABAID), "WhatsApp Business Account id in the envelope")
	fs.StringVar(&c.DisplayPhone, "display-phone", sandbox.DefaultDisplayPhone, "business display phone number in the envelope")
	fs.IntVar(&c.Customers, "customers", 1000, "simulated customers, each with its own wa_id; each writes once per round of -customers messages")
	fs.BoolVar(&c.KeyOrder, "key-order", false, "customers write in key order within a round (flatters the store: neighbours share pages); default a scattered order, as real traffic")
	fs.StringVar(&c.WaPrefix, "wa-prefix", "4917", "customers' wa_ids start with this")
	fs.Float64Var(&c.Rate, "rate", 0, "messages per second (0: as fast as -concurrency allows)")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "webhooks in flight at most")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send (unless -messages)")
	fs.IntVar(&c.Messages, "messages", 0, "send this many messages instead of running for -duration")
	fs.StringVar(&text, "text", "order status|no", "what customers say; '|' separates a customer's successive messages; {id} {n} {customer} are replaced")
	fs.Float64Var(&c.DuplicateFraction, "duplicate-fraction", 0, "fraction of messages posted a second time with the same wamid (Meta's redelivery)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed (duplicates)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&useGraph, "sandbox", false, "serve a counting Graph API double on -graph-addr and report the replies Parley sends")
	fs.StringVar(&graphAddr, "graph-addr", "127.0.0.1:9090", "with -sandbox: where the Graph double listens")
	fs.BoolVar(&statuses, "statuses", false, "with -sandbox: post sent, delivered and read status webhooks for each reply, as Meta does")
	fs.Float64Var(&expectReplies, "expect-replies", 0, "with -sandbox: replies expected per acknowledged message (0: wait until replies stop for -settle)")
	fs.DurationVar(&settle, "settle", 3*time.Second, "with -sandbox: how long without a reply ends the wait")
	fs.DurationVar(&waitReady, "wait-ready", 30*time.Second, "wait this long for Parley's /healthz before sending")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	c.Texts = strings.Split(text, "|")
	c.setDefaults()

	var g *graphDouble
	if useGraph {
		g = newGraphDouble(&c, statuses)
		if err := g.start(graphAddr); err != nil {
			fmt.Fprintln(stderr, "parley loadgen:", err)
			return 1
		}
		defer g.close()
		fmt.Fprintf(stdout, "graph double  WHATSAPP_API_URL=%s (any WHATSAPP_ACCESS_TOKEN)\n", g.url)
	}
	if err := lgWaitReady(ctx, c.URL, waitReady); err != nil {
		fmt.Fprintln(stderr, "parley loadgen:", err)
		return 1
	}
	if per := c.Rate * c.Duration.Seconds() / float64(c.Customers); c.Messages == 0 && c.Rate > 0 && per > 10 ||
		c.Messages > 0 && float64(c.Messages)/float64(c.Customers) > 10 {
		fmt.Fprintf(stderr, "parley loadgen: warning: more than 10 messages per customer; Parley's pair-rate pacing (about 1 message per 6 s per customer) will hold replies back: raise -customers\n")
	}
	run := "as fast as possible"
	if c.Rate > 0 {
		run = fmt.Sprintf("%.0f msgs/s", c.Rate)
	}
	span := c.Duration.String()
	if c.Messages > 0 {
		span = strconv.Itoa(c.Messages) + " messages"
	}
	fmt.Fprintf(stdout, "loadgen     %s: %d customers, %s, concurrency %d, %s, run %s\n", c.URL, c.Customers, run, c.Concurrency, span, c.RunID)

	var hooks lgHooks
	if g != nil {
		hooks.Before = func(m *lgMessage, dup bool) {
			if !dup {
				g.posted(m, time.Now())
			}
		}
	}
	r, err := runLoad(ctx, c, nil, hooks)
	if err != nil {
		fmt.Fprintln(stderr, "parley loadgen:", err)
		return 1
	}
	r.print(stdout)
	if g != nil {
		expected := int64(expectReplies * float64(r.AckedIDs))
		gr := g.wait(ctx, expected, settle, r.LastAck)
		gr.print(stdout, r)
	}
	if r.AckedIDs < r.Unique {
		return 1
	}
	return 0
}

// lgWaitReady waits until Parley's /healthz answers 200.
func lgWaitReady(ctx context.Context, webhookURL string, limit time.Duration) error {
	u, err := url.Parse(webhookURL)
	if err != nil {
		return err
	}
	u.Path, u.RawQuery = "/healthz", ""
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("parley at %s is not answering: %v", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
