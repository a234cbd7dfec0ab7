package main

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
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
	"unicode/utf8"

	"github.com/valyala/fasthttp"

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

With -batch N each webhook carries N messages of N different customers in
one value.messages[] (and contacts[]), each with its own wamid and {id}, as
Meta batches deliveries under load. -rate, -messages and the
acknowledgements count messages, each message having its webhook's
latency; -concurrency counts webhooks, and -duplicate-fraction posts whole
webhooks again.

With -statuses the double also posts status webhooks back for each send
it accepts, as Meta does: sent at once, delivered after -status-delay and
read after twice that, each after the previous one was acknowledged. The
statuses due are batched, up to -status-batch per webhook (value.statuses[]),
a webhook going when full or every 10ms, -status-concurrency at a time;
none is dropped, and a webhook not answered 200 is posted again after a
short backoff. It prints how many statuses were due, posted and
acknowledged, in how many webhooks, statuses/s, the status webhooks'
latency, and how many were still unposted when the run ended (statuses
get up to -settle after the last reply to drain).

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
	Rate float64
	// Concurrency is how many webhooks are in flight at most.
	Concurrency int
	// Batch is how many messages, each from a different customer, one
	// webhook carries (at least 1, at most Customers).
	Batch int
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
	if c.Batch <= 0 {
		c.Batch = 1
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
	var digits [20]byte
	width := max(12-len(c.WaPrefix), len(strconv.AppendInt(digits[:0], int64(c.Customers-1), 10)))
	num := strconv.AppendInt(digits[:0], int64(i), 10)
	b := make([]byte, 0, len("US.LG")+len(c.WaPrefix)+max(width, len(num)))
	b = append(b, "US.LG"...)
	b = append(b, c.WaPrefix...)
	for range width - len(num) {
		b = append(b, '0')
	}
	userID = string(append(b, num...))
	return userID[len("US.LG"):], userID
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
func (c *loadgenConfig) lgToken(n int) string {
	var buf [48]byte
	b := append(buf[:0], "lg"...)
	b = append(b, c.RunID...)
	b = append(b, 'x')
	return string(strconv.AppendInt(b, int64(n), 10))
}

// lgMessage is one generated message and the webhook that carries it.
type lgMessage struct {
	N        int    // message number
	Customer int    // customer number
	WaID     string // the customer's wa_id
	UserID   string
	WAMID    string
	Text     string
	Token    string // the {id} token (set even when Text does not use it)
	// Body is the signed body of the webhook that carries the message;
	// with -batch the webhook's messages share it (and Sig).
	Body []byte
	Sig  string // its X-Hub-Signature-256
}

// lgBuild builds message n: a Meta messages webhook with one text message.
func (c *loadgenConfig) lgBuild(n int, at time.Time) *lgMessage {
	return c.lgBuildBatch(n, 1, at)[0]
}

// lgBuildBatch builds messages n to n+count-1 and the one webhook that
// carries them, as Meta batches deliveries under load: the messages are
// from count different customers (count ≤ Customers) and share the
// webhook's Body and Sig.
func (c *loadgenConfig) lgBuildBatch(n, count int, at time.Time) []*lgMessage {
	ms := make([]lgMessage, count)
	msgs := make([]*lgMessage, count)
	size := 160 + len(c.WABAID) + len(c.DisplayPhone) + len(c.PhoneNumberID)
	for i := range ms {
		m := &ms[i]
		c.lgFill(m, n+i)
		msgs[i] = m
		size += 200 + 2*(len(m.WaID)+len(m.UserID)) + len(m.WAMID) + len(m.Text)
	}
	body := c.appendWebhook(make([]byte, 0, size), msgs, at)
	sig := whatsapp.Sign(body, c.Secret)
	for _, m := range msgs {
		m.Body, m.Sig = body, sig
	}
	return msgs
}

// lgFill sets message n's fields other than Body and Sig.
func (c *loadgenConfig) lgFill(m *lgMessage, n int) {
	cust := c.lgCustomerAt(n % c.Customers)
	k := n / c.Customers // the customer's k-th message
	wa, uid := c.lgCustomer(cust)
	*m = lgMessage{N: n, Customer: cust, WaID: wa, UserID: uid, Token: c.lgToken(n)}
	m.WAMID = c.lgWAMID(wa, k)
	m.Text = lgExpand(c.Texts[k%len(c.Texts)], m.Token, n, cust)
}

// lgWAMID is the wamid of customer wa's k-th message: "wamid." and the
// base64 of "LG.<run>.<wa_id>.<k>".
func (c *loadgenConfig) lgWAMID(wa string, k int) string {
	var rawBuf, outBuf [96]byte
	raw := append(rawBuf[:0], "LG."...)
	raw = append(raw, c.RunID...)
	raw = append(raw, '.')
	raw = append(raw, wa...)
	raw = append(raw, '.')
	raw = strconv.AppendInt(raw, int64(k), 10)
	return string(base64.StdEncoding.AppendEncode(append(outBuf[:0], "wamid."...), raw))
}

// lgExpand replaces {id} by token, {n} by n and {customer} by cust in a
// -text message (see loadgenUsage); other braces stay as they are.
func lgExpand(text, token string, n, cust int) string {
	if strings.IndexByte(text, '{') < 0 {
		return text
	}
	var sb strings.Builder
	sb.Grow(len(text) + len(token) + 16)
	var digits [20]byte
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			break
		}
		sb.WriteString(text[:i])
		text = text[i:]
		switch {
		case strings.HasPrefix(text, "{id}"):
			sb.WriteString(token)
			text = text[len("{id}"):]
		case strings.HasPrefix(text, "{n}"):
			sb.Write(strconv.AppendInt(digits[:0], int64(n), 10))
			text = text[len("{n}"):]
		case strings.HasPrefix(text, "{customer}"):
			sb.Write(strconv.AppendInt(digits[:0], int64(cust), 10))
			text = text[len("{customer}"):]
		default:
			sb.WriteByte('{')
			text = text[1:]
		}
	}
	sb.WriteString(text)
	return sb.String()
}

// appendWebhook appends a messages webhook as Meta posts it
// (docs/whatsapp.md §1.2, §1.4–1.6), received at at and carrying msgs as
// text messages: one entry, one change, and in its value a contact and a
// message for each.
func (c *loadgenConfig) appendWebhook(b []byte, msgs []*lgMessage, at time.Time) []byte {
	b = c.appendValueStart(b)
	b = append(b, `,"contacts":[`...)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"profile":{"name":"Customer `...)
		b = strconv.AppendInt(b, int64(m.Customer), 10)
		b = append(b, `"},"wa_id":`...)
		b = appendJSONString(b, m.WaID)
		b = append(b, `,"user_id":`...)
		b = appendJSONString(b, m.UserID)
		b = append(b, '}')
	}
	b = append(b, `],"messages":[`...)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"from":`...)
		b = appendJSONString(b, m.WaID)
		b = append(b, `,"from_user_id":`...)
		b = appendJSONString(b, m.UserID)
		b = append(b, `,"id":`...)
		b = appendJSONString(b, m.WAMID)
		b = append(b, `,"timestamp":"`...)
		b = strconv.AppendInt(b, at.Unix(), 10)
		b = append(b, `","type":"text","text":{"body":`...)
		b = appendJSONString(b, m.Text)
		b = append(b, "}}"...)
	}
	return appendValueEnd(append(b, ']'))
}

// appendValueStart appends the start of a webhook for c's business
// number, up to and including the metadata of the change's value;
// appendValueEnd closes it.
func (c *loadgenConfig) appendValueStart(b []byte) []byte {
	b = append(b, `{"object":"whatsapp_business_account","entry":[{"id":`...)
	b = appendJSONString(b, c.WABAID)
	b = append(b, `,"changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":`...)
	b = appendJSONString(b, c.DisplayPhone)
	b = append(b, `,"phone_number_id":`...)
	b = appendJSONString(b, c.PhoneNumberID)
	return append(b, '}')
}

// appendValueEnd closes what appendValueStart began.
func appendValueEnd(b []byte) []byte {
	return append(b, `},"field":"messages"}]}]}`...)
}

// appendJSONString appends s as a JSON string. Like encoding/json, it
// escapes '"', '\\', control characters, U+2028 and U+2029, and
// replaces invalid UTF-8 with U+FFFD; everything else is copied as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is still to be copied
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// lgHTTPClient posts webhooks: a fasthttp client (no compression) and
// the timeout of each post.
type lgHTTPClient struct {
	c       *fasthttp.Client
	timeout time.Duration
}

// lgClient is a webhook client that keeps a connection per worker, for
// concurrency workers posting one webhook at a time each.
func lgClient(concurrency int, timeout time.Duration) *lgHTTPClient {
	return &lgHTTPClient{timeout: timeout, c: &fasthttp.Client{
		MaxConnsPerHost:        concurrency,
		MaxConnWaitTimeout:     timeout, // more posters than connections wait rather than fail
		DisablePathNormalizing: true,    // post to the URL as given
	}}
}

// lgPost posts one webhook and returns the HTTP status (0 when the request
// failed) and the error. The post is not started once ctx is done, and
// lasts hc's timeout at most, less if ctx's deadline is nearer.
func lgPost(ctx context.Context, hc *lgHTTPClient, url string, body []byte, sig string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	timeout := hc.timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.SetUserAgent("facebookexternalua")
	req.Header.Set(whatsapp.SignatureHeader, sig)
	req.SetBodyRaw(body)
	if err := hc.c.DoTimeout(req, resp, timeout); err != nil {
		return 0, err
	}
	return resp.StatusCode(), nil
}

// lgErrorKind names what made a post fail, for the report: "timeout",
// "connection closed", "connection refused" or "transport".
func lgErrorKind(err error) string {
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &timeout) && timeout.Timeout(), errors.Is(err, fasthttp.ErrDialTimeout):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, fasthttp.ErrConnectionClosed), strings.Contains(err.Error(), "reset"):
		return "connection closed"
	case strings.Contains(err.Error(), "refused"):
		return "connection refused"
	}
	return "transport"
}

// loadReport is what a run did.
type loadReport struct {
	Start, End time.Time
	Batch      int   // messages per webhook
	Webhooks   int64 // webhooks posted (distinct and duplicate)
	Unique     int64 // distinct messages posted
	Duplicates int64 // messages posted again (in duplicate webhooks)
	Acked      int64 // messages answered 200 (distinct and duplicate)
	AckedHooks int64 // webhooks answered 200
	AckedIDs   int64 // distinct messages answered 200 at least once
	LastAck    time.Time
	Errors     map[string]int64 // failed webhooks by "HTTP 500", "timeout", "transport"…
	// Latencies are those of the 200s, one for each message the webhook
	// carried, sorted.
	Latencies []time.Duration
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of the latencies.
func (r *loadReport) Percentile(p float64) time.Duration {
	return lgPercentile(r.Latencies, p)
}

// lgPercentile returns the p-th percentile (0 < p ≤ 100) of sorted
// latencies, 0 if there are none.
func lgPercentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Throughput is acknowledged messages per second.
func (r *loadReport) Throughput() float64 {
	d := r.End.Sub(r.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.Acked) / d
}

// lgHooks see every message posted, from many goroutines at once: Before
// just before its webhook is posted, After with the webhook's HTTP status
// (0 on error), error and latency. With -batch, each message of a webhook
// is seen.
type lgHooks struct {
	Before func(m *lgMessage, duplicate bool)
	After  func(m *lgMessage, duplicate bool, status int, err error, latency time.Duration)
}

// runLoad posts the configured load and returns its report. A nil hc is
// a client made by lgClient for cfg.
func runLoad(ctx context.Context, cfg loadgenConfig, hc *lgHTTPClient, hooks lgHooks) (*loadReport, error) {
	cfg.setDefaults()
	if cfg.DuplicateFraction < 0 || cfg.DuplicateFraction > 1 {
		return nil, errors.New("loadgen: -duplicate-fraction must be within 0 and 1")
	}
	if cfg.Batch > cfg.Customers {
		return nil, errors.New("loadgen: -batch must not exceed -customers: a webhook's messages are from different customers")
	}
	if hc == nil {
		hc = lgClient(cfg.Concurrency, cfg.Timeout)
	}
	var (
		next       atomic.Int64
		webhooks   atomic.Int64
		unique     atomic.Int64
		dups       atomic.Int64
		acked      atomic.Int64
		ackedHooks atomic.Int64
		ackedIDs   atomic.Int64
		lastAck    atomic.Int64
		mu         sync.Mutex
		errs       = map[string]int64{}
		latencies  []time.Duration
		recent     = make([][]*lgMessage, 1024) // webhooks, for duplicates
	)
	start := time.Now()
	deadline := time.Time{}
	if cfg.Messages <= 0 {
		deadline = start.Add(cfg.Duration)
	}
	// post posts the webhook carrying msgs.
	post := func(msgs []*lgMessage, dup bool, lat *[]time.Duration) bool {
		if hooks.Before != nil {
			for _, m := range msgs {
				hooks.Before(m, dup)
			}
		}
		t0 := time.Now()
		status, err := lgPost(ctx, hc, cfg.URL, msgs[0].Body, msgs[0].Sig)
		d := time.Since(t0)
		webhooks.Add(1)
		if hooks.After != nil {
			for _, m := range msgs {
				hooks.After(m, dup, status, err, d)
			}
		}
		if status == http.StatusOK {
			acked.Add(int64(len(msgs)))
			ackedHooks.Add(1)
			lastAck.Store(time.Now().UnixNano())
			for range msgs {
				*lat = append(*lat, d)
			}
			return true
		}
		if ctx.Err() != nil && err != nil {
			return false // the run was stopped; not the server's fault
		}
		key := "HTTP " + strconv.Itoa(status)
		if err != nil {
			key = lgErrorKind(err)
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
				n := int(next.Add(int64(cfg.Batch)) - int64(cfg.Batch)) // the webhook's first message
				count := cfg.Batch
				if cfg.Messages > 0 {
					if n >= cfg.Messages {
						return
					}
					count = min(count, cfg.Messages-n)
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
				msgs := cfg.lgBuildBatch(n, count, time.Now())
				unique.Add(int64(count))
				if post(msgs, false, &lat) {
					ackedIDs.Add(int64(count))
				}
				mu.Lock()
				recent[n/cfg.Batch%len(recent)] = msgs
				mu.Unlock()
				if cfg.DuplicateFraction > 0 && rng.Float64() < cfg.DuplicateFraction {
					mu.Lock()
					d := recent[rng.IntN(len(recent))]
					mu.Unlock()
					if d == nil {
						d = msgs
					}
					dups.Add(int64(len(d)))
					post(d, true, &lat)
				}
			}
		}()
	}
	wg.Wait()
	r := &loadReport{Start: start, End: time.Now(), Batch: cfg.Batch, Webhooks: webhooks.Load(),
		Unique: unique.Load(), Duplicates: dups.Load(), Acked: acked.Load(), AckedHooks: ackedHooks.Load(),
		AckedIDs: ackedIDs.Load(), Errors: errs, Latencies: latencies}
	if ns := lastAck.Load(); ns > 0 {
		r.LastAck = time.Unix(0, ns)
	}
	slices.Sort(r.Latencies)
	return r, nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// print writes the report for people. With one message per webhook it
// counts webhooks and messages as one; else it says which is which.
func (r *loadReport) print(w io.Writer) {
	el := max(r.End.Sub(r.Start).Seconds(), 1e-9)
	batched := r.Batch > 1
	if batched {
		fmt.Fprintf(w, "sent        %d webhooks of up to %d messages (%d messages + %d duplicates) in %.2fs: %.0f webhooks/s, %.0f messages/s\n",
			r.Webhooks, r.Batch, r.Unique, r.Duplicates, el, float64(r.Webhooks)/el, float64(r.Unique+r.Duplicates)/el)
		fmt.Fprintf(w, "acked       %d webhooks (200) carrying %d messages, %d of the %d distinct messages\n",
			r.AckedHooks, r.Acked, r.AckedIDs, r.Unique)
	} else {
		fmt.Fprintf(w, "sent        %d webhooks (%d messages + %d duplicates) in %.2fs: %.0f/s\n",
			r.Webhooks, r.Unique, r.Duplicates, el, float64(r.Webhooks)/el)
		fmt.Fprintf(w, "acked       %d (200), %d of the %d messages\n", r.Acked, r.AckedIDs, r.Unique)
	}
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
		line := "errors      " + strings.Join(parts, ", ")
		if batched {
			line += " (webhooks)"
		}
		fmt.Fprintln(w, line)
	}
	if batched {
		fmt.Fprintf(w, "throughput  %.0f acked messages/s (%.0f webhooks/s)\n", r.Throughput(), float64(r.AckedHooks)/el)
	} else {
		fmt.Fprintf(w, "throughput  %.0f acked/s\n", r.Throughput())
	}
	if len(r.Latencies) > 0 {
		fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  max %s\n",
			ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Latencies[len(r.Latencies)-1]))
	}
}

// graphDouble is a minimal Graph API: it accepts every send with a fresh
// wamid and counts it, so Parley's dispatcher can be measured without
// Meta's (or the sandbox's) limits. It can post sent / delivered / read
// status webhooks back, as Meta does (statusStream).
type graphDouble struct {
	cfg *loadgenConfig
	srv *fasthttp.Server
	ln  net.Listener
	url string
	st  *statusStream // nil unless the double posts statuses

	sends    atomic.Int64
	marks    atomic.Int64
	first    atomic.Int64 // unix ns of the first send
	last     atomic.Int64 // unix ns of the latest send
	seq      atomic.Int64
	mu       sync.Mutex
	tokens   map[int]int       // message number → replies carrying its token
	sentAt   map[int]time.Time // message number → when it was posted
	replyLat []time.Duration   // post of a message → its first reply
}

// newGraphDouble returns a double for cfg's run that, unless sc is nil,
// posts the statuses of each send to cfg.URL as sc says.
func newGraphDouble(cfg *loadgenConfig, sc *statusConfig) *graphDouble {
	g := &graphDouble{cfg: cfg, tokens: map[int]int{}, sentAt: map[int]time.Time{}}
	if sc != nil {
		g.st = newStatusStream(cfg, *sc)
	}
	return g
}

// start serves the double on addr ("127.0.0.1:0" for any port).
func (g *graphDouble) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("graph double: %w", err)
	}
	g.ln = ln
	g.srv = &fasthttp.Server{
		Handler:               g.serve,
		MaxRequestBodySize:    1 << 20,
		NoDefaultServerHeader: true,
	}
	g.url = "http://" + ln.Addr().String() + "/" + sandbox.DefaultVersion
	go g.srv.Serve(ln) //nolint:errcheck // returns when closed
	return nil
}

func (g *graphDouble) close() {
	if g.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = g.srv.ShutdownWithContext(ctx)
		_ = g.ln.Close() // in case Serve had not begun: Shutdown only closes the listeners it serves
	}
	if g.st != nil {
		g.st.close()
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

// serve routes the Graph API calls Parley makes: POST
// /{version}/{id}/messages and GET /{version}/{id}/message_templates.
func (g *graphDouble) serve(ctx *fasthttp.RequestCtx) {
	var ok bool
	switch string(graphEndpoint(ctx.Path())) {
	case "messages":
		if ok = ctx.IsPost(); ok {
			g.handleSend(ctx)
		}
	case "message_templates":
		if ok = ctx.IsGet() || ctx.IsHead(); ok {
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"data":[]}`)
		}
	default:
		ctx.Error("404 page not found", fasthttp.StatusNotFound)
		return
	}
	if !ok {
		ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
	}
}

// graphEndpoint returns the last segment of a /{version}/{id}/{endpoint}
// path, or nil for any other path.
func graphEndpoint(path []byte) []byte {
	version, rest, ok1 := bytes.Cut(bytes.TrimPrefix(path, []byte("/")), []byte("/"))
	id, endpoint, ok2 := bytes.Cut(rest, []byte("/"))
	if !ok1 || !ok2 || len(version) == 0 || len(id) == 0 || bytes.IndexByte(endpoint, '/') >= 0 {
		return nil
	}
	return endpoint
}

// graphSend is what the double reads of a send or mark-as-read request.
type graphSend struct {
	To     string `json:"to"`
	Status string `json:"status"`
	Text   struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive struct {
		Body struct {
			Text string `json:"text"`
		} `json:"body"`
	} `json:"interactive"`
	Tracker string `json:"biz_opaque_callback_data"`
}

// handleSend answers a send with a fresh wamid (a mark-as-read with
// success) and counts it, and the reply to a message if it carries the
// message's token.
func (g *graphDouble) handleSend(ctx *fasthttp.RequestCtx) {
	var req graphSend
	ctx.SetContentType("application/json")
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		ctx.SetBodyString(`{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
		return
	}
	if req.Status == "read" {
		g.marks.Add(1)
		ctx.SetBodyString(`{"success":true}`)
		return
	}
	now := time.Now()
	g.sends.Add(1)
	g.first.CompareAndSwap(0, now.UnixNano())
	g.last.Store(now.UnixNano())
	seq := g.seq.Add(1)
	var buf [256]byte
	b := append(buf[:0], `{"messaging_product":"whatsapp","contacts":[{"input":`...)
	b = appendJSONString(b, req.To)
	b = append(b, `,"wa_id":`...)
	b = appendJSONString(b, req.To)
	b = append(b, `}],"messages":[{"id":"wamid.GD`...)
	b = strconv.AppendInt(b, seq, 10)
	ctx.SetBody(append(b, `","message_status":"accepted"}]}`...))

	text := req.Text.Body
	if text == "" {
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
	if g.st != nil {
		g.st.add("wamid.GD"+strconv.FormatInt(seq, 10), req.To, req.Tracker, now)
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

// statusConfig is how the Graph double posts the statuses of the sends it
// accepts (-statuses).
type statusConfig struct {
	// Delay is how long after sent a message is delivered; read follows
	// as long again after delivered.
	Delay time.Duration
	// Batch is how many statuses one webhook carries at most.
	Batch int
	// Concurrency is how many status webhooks are in flight at most.
	Concurrency int
}

// lgStatusNames are the statuses posted for each accepted send, in order.
var lgStatusNames = [...]string{"sent", "delivered", "read"}

const (
	// statusFlushEvery is how often statuses due are posted in a partial
	// batch; a full batch is posted at once.
	statusFlushEvery = 10 * time.Millisecond
	// statusRetryFirst and statusRetryMax bound the backoff before a status
	// webhook answered non-200 (or failed) is posted again.
	statusRetryFirst = 20 * time.Millisecond
	statusRetryMax   = time.Second
)

// lgSend is a send the Graph double accepted, whose statuses it posts one
// after the other: the next is scheduled when the previous is
// acknowledged, so that Parley sees them in order.
type lgSend struct {
	wamid, to, tracker string
	at                 time.Time // when the send was accepted
	// stage indexes lgStatusNames: the status scheduled or being posted
	// (len(lgStatusNames) once read is acknowledged).
	stage int
	// due is when the status of stage may be posted: at + stage × Delay,
	// or later if the previous status was acknowledged later.
	due time.Time
}

// status is s's status of its current stage, as posted.
func (s *lgSend) status(delay time.Duration) lgStatus {
	return lgStatus{WAMID: s.wamid, Status: lgStatusNames[s.stage], To: s.to, Tracker: s.tracker,
		At: s.at.Add(time.Duration(s.stage) * delay)}
}

// lgSendHeap orders sends by the due time of their next status
// (container/heap).
type lgSendHeap []*lgSend

func (h lgSendHeap) Len() int           { return len(h) }
func (h lgSendHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h lgSendHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lgSendHeap) Push(x any)        { *h = append(*h, x.(*lgSend)) }
func (h *lgSendHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}

// statusStream posts sent, delivered and read status webhooks to Parley
// for each send the Graph double accepts, as Meta does under load: sent at
// once, delivered after Delay and read after 2 × Delay, each status in its
// turn; the statuses due are batched, up to Batch per webhook, a batch
// going when full or at the next flush tick (statusFlushEvery), from
// Concurrency posters. Nothing is dropped: statuses wait in memory until
// posted, and a webhook not answered 200 is posted again after a backoff.
type statusStream struct {
	cfg    *loadgenConfig
	sc     statusConfig
	hc     *lgHTTPClient
	ctx    context.Context // done when the stream is closed
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	wake *sync.Cond // a batch may be taken, or the stream is closed
	// sends are all the sends accepted, for the report.
	sends []*lgSend
	// waiting are the sends whose next status is not due yet.
	waiting lgSendHeap
	// ready are the sends whose next status is due, oldest first; the
	// first flushable of them were due at the last flush tick and go even
	// in a partial batch.
	ready     []*lgSend
	flushable int
	closed    bool

	posted, acked       int64 // statuses posted at least once, acknowledged
	webhooks, ackedHook int64 // status webhooks posted (retries included), answered 200
	failed              map[string]int64
	lastAck             time.Time
	latencies           []time.Duration // of the webhooks answered 200
}

// newStatusStream starts a stream posting to cfg.URL.
func newStatusStream(cfg *loadgenConfig, sc statusConfig) *statusStream {
	sc.Batch = max(sc.Batch, 1)
	sc.Concurrency = max(sc.Concurrency, 1)
	sc.Delay = max(sc.Delay, 0)
	s := &statusStream{cfg: cfg, sc: sc, hc: lgClient(sc.Concurrency, cfg.Timeout), failed: map[string]int64{}}
	s.wake = sync.NewCond(&s.mu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1 + sc.Concurrency)
	go s.flushTicks()
	for range sc.Concurrency {
		go s.poster()
	}
	return s
}

// add schedules the statuses of a send accepted at at.
func (s *statusStream) add(wamid, to, tracker string, at time.Time) {
	snd := &lgSend{wamid: wamid, to: to, tracker: tracker, at: at, due: at}
	s.mu.Lock()
	s.sends = append(s.sends, snd)
	s.readyLocked(snd)
	s.mu.Unlock()
}

// readyLocked appends a send whose next status is due to the ready ones,
// and wakes a poster when a full batch is ready.
func (s *statusStream) readyLocked(snd *lgSend) {
	s.ready = append(s.ready, snd)
	if len(s.ready) >= s.sc.Batch {
		s.wake.Signal()
	}
}

// flushTicks moves the statuses that fell due to the ready ones every
// statusFlushEvery, and lets the posters post them even in a partial
// batch.
func (s *statusStream) flushTicks() {
	defer s.wg.Done()
	tick := time.NewTicker(statusFlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			for len(s.waiting) > 0 && !s.waiting[0].due.After(now) {
				s.ready = append(s.ready, heap.Pop(&s.waiting).(*lgSend))
			}
			if s.flushable = len(s.ready); s.flushable > 0 {
				s.wake.Broadcast()
			}
			s.mu.Unlock()
		}
	}
}

// poster posts batches of statuses until the stream is closed.
func (s *statusStream) poster() {
	defer s.wg.Done()
	for {
		batch := s.take()
		if batch == nil {
			return
		}
		s.post(batch)
	}
}

// take waits for a batch to post: Batch ready statuses, or fewer if they
// were due at the last flush tick. It returns nil once the stream is
// closed.
func (s *statusStream) take() []*lgSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && len(s.ready) < s.sc.Batch && s.flushable == 0 {
		s.wake.Wait()
	}
	if s.closed {
		return nil
	}
	n := min(len(s.ready), s.sc.Batch)
	batch := slices.Clone(s.ready[:n])
	clear(s.ready[:n])
	s.ready = s.ready[n:]
	s.flushable = max(s.flushable-n, 0)
	if len(s.ready) >= s.sc.Batch || s.flushable > 0 {
		s.wake.Signal() // more for another poster
	}
	return batch
}

// post posts one batch until it is answered 200 or the stream is closed,
// then schedules each send's next status.
func (s *statusStream) post(batch []*lgSend) {
	sts := make([]lgStatus, len(batch))
	for i, snd := range batch {
		sts[i] = snd.status(s.sc.Delay)
	}
	body, sig := s.cfg.statusWebhook(sts)
	backoff := statusRetryFirst
	for try := 0; ; try++ {
		t0 := time.Now()
		code, err := lgPost(s.ctx, s.hc, s.cfg.URL, body, sig)
		now := time.Now()
		if s.ctx.Err() != nil {
			return // closed: the batch stays unacknowledged
		}
		s.mu.Lock()
		s.webhooks++
		if try == 0 {
			s.posted += int64(len(batch))
		}
		if code == http.StatusOK {
			s.acked += int64(len(batch))
			s.ackedHook++
			s.lastAck = now
			s.latencies = append(s.latencies, now.Sub(t0))
			for _, snd := range batch {
				if snd.stage++; snd.stage == len(lgStatusNames) {
					continue
				}
				snd.due = snd.at.Add(time.Duration(snd.stage) * s.sc.Delay)
				if snd.due.After(now) {
					heap.Push(&s.waiting, snd)
				} else {
					s.readyLocked(snd)
				}
			}
			s.mu.Unlock()
			return
		}
		key := "HTTP " + strconv.Itoa(code)
		if err != nil {
			key = lgErrorKind(err)
		}
		s.failed[key]++
		s.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, statusRetryMax)
	}
}

// close stops the stream; statuses not yet acknowledged stay so.
func (s *statusStream) close() {
	s.mu.Lock()
	s.closed = true
	s.wake.Broadcast()
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// drain waits until every status of every send so far is acknowledged, or
// until (or ctx ends), and reports.
func (s *statusStream) drain(ctx context.Context, until time.Time) statusReport {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(until) {
		s.mu.Lock()
		done := s.acked == int64(len(lgStatusNames)*len(s.sends))
		s.mu.Unlock()
		if done {
			break
		}
		select {
		case <-ctx.Done():
			return s.report(time.Now())
		case <-tick.C:
		}
	}
	return s.report(time.Now())
}

// statusReport is what a status stream did.
type statusReport struct {
	Sends int           // sends accepted, each with len(lgStatusNames) statuses
	Delay time.Duration // between a send's statuses
	// Due are the statuses whose time (sent: the send; delivered: Delay
	// later; read: 2 × Delay later) had come at the report, posted or not.
	Due int64
	// Posted statuses were in a webhook posted at least once, Acked in one
	// answered 200; Unposted = Due − Posted.
	Posted, Acked, Unposted int64
	// Webhooks were posted, retries included; AckedHooks answered 200;
	// Failed did not, by "HTTP 500", "timeout"…, and were posted again.
	Webhooks, AckedHooks int64
	Failed               map[string]int64
	LastAck              time.Time
	// Latencies are those of the webhooks answered 200, sorted.
	Latencies []time.Duration
}

// report reports the stream at end.
func (s *statusStream) report(end time.Time) statusReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := statusReport{Sends: len(s.sends), Delay: s.sc.Delay, Posted: s.posted, Acked: s.acked,
		Webhooks: s.webhooks, AckedHooks: s.ackedHook, Failed: maps.Clone(s.failed), LastAck: s.lastAck,
		Latencies: slices.Clone(s.latencies)}
	for _, snd := range s.sends {
		for k := range lgStatusNames {
			if !snd.at.Add(time.Duration(k) * s.sc.Delay).After(end) {
				r.Due++
			}
		}
	}
	r.Unposted = r.Due - r.Posted
	slices.Sort(r.Latencies)
	return r
}

// print writes the report for people; statuses/s are counted from the
// run's first webhook to the last status acknowledged.
func (r *statusReport) print(w io.Writer, lr *loadReport) {
	perHook := 0.0
	if r.AckedHooks > 0 {
		perHook = float64(r.Acked) / float64(r.AckedHooks)
	}
	rate := 0.0
	if !r.LastAck.IsZero() {
		rate = float64(r.Acked) / max(r.LastAck.Sub(lr.Start).Seconds(), 1e-9)
	}
	fmt.Fprintf(w, "statuses    %d due of %d (sent, delivered %s later, read %s later), %d posted, %d acked (200) in %d webhooks (%.1f statuses each): %.0f statuses/s\n",
		r.Due, int64(len(lgStatusNames)*r.Sends), r.Delay, 2*r.Delay, r.Posted, r.Acked, r.AckedHooks, perHook, rate)
	failed := "none failed"
	if len(r.Failed) > 0 {
		keys := slices.Sorted(maps.Keys(r.Failed))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s: %d", k, r.Failed[k])
		}
		failed = "failed and retried " + strings.Join(parts, ", ")
	}
	fmt.Fprintf(w, "            status webhooks p50 %s  p99 %s; %s; %d statuses unposted at the end, %d posted but not acked\n",
		ms(lgPercentile(r.Latencies, 50)), ms(lgPercentile(r.Latencies, 99)), failed, r.Unposted, r.Posted-r.Acked)
}

// lgStatus is one status of a statuses webhook.
type lgStatus struct {
	WAMID, Status, To string
	// Tracker is the send's biz_opaque_callback_data, echoed if not empty.
	Tracker string
	At      time.Time
}

// statusWebhook returns the signed statuses webhook carrying sts and its
// X-Hub-Signature-256.
func (c *loadgenConfig) statusWebhook(sts []lgStatus) (body []byte, sig string) {
	body = c.appendStatuses(make([]byte, 0, 256+200*len(sts)), sts)
	return body, whatsapp.Sign(body, c.Secret)
}

// appendStatuses appends a statuses webhook as Meta posts it
// (docs/whatsapp.md §1.2, §1.9) carrying sts in value.statuses[]: one
// entry, one change; "sent" carries pricing.
func (c *loadgenConfig) appendStatuses(b []byte, sts []lgStatus) []byte {
	b = c.appendValueStart(b)
	b = append(b, `,"statuses":[`...)
	for i, st := range sts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, st.WAMID)
		b = append(b, `,"status":`...)
		b = appendJSONString(b, st.Status)
		b = append(b, `,"timestamp":"`...)
		b = strconv.AppendInt(b, st.At.Unix(), 10)
		b = append(b, `","recipient_id":`...)
		b = appendJSONString(b, st.To)
		if st.Tracker != "" {
			b = append(b, `,"biz_opaque_callback_data":`...)
			b = appendJSONString(b, st.Tracker)
		}
		if st.Status == "sent" {
			b = append(b, `,"pricing":{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"service"}`...)
		}
		b = append(b, '}')
	}
	return appendValueEnd(append(b, ']'))
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
	// Statuses is what the status stream did, if the double posts
	// statuses and it was drained (statusStream.drain).
	Statuses *statusReport
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
	r := graphReport{Sends: g.sends.Load(), MarkRead: g.marks.Load(), Expected: expected}
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
			fmt.Fprintf(w, "; webhook → reply p50 %s  p99 %s  max %s",
				ms(lgPercentile(r.ReplyLatencies, 50)), ms(lgPercentile(r.ReplyLatencies, 99)), ms(r.ReplyLatencies[n-1]))
		}
		fmt.Fprintln(w)
	}
	if r.Statuses != nil {
		r.Statuses.print(w, lr)
	}
}

func cmdLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c loadgenConfig
	var text string
	var useGraph, statuses bool
	var sc statusConfig
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
	fs.IntVar(&c.Batch, "batch", 1, "messages per webhook, each from a different customer (Meta batches deliveries under load)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send (unless -messages)")
	fs.IntVar(&c.Messages, "messages", 0, "send this many messages instead of running for -duration")
	fs.StringVar(&text, "text", "order status|no", "what customers say; '|' separates a customer's successive messages; {id} {n} {customer} are replaced")
	fs.Float64Var(&c.DuplicateFraction, "duplicate-fraction", 0, "fraction of messages posted a second time with the same wamid (Meta's redelivery)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed (duplicates)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&useGraph, "sandbox", false, "serve a counting Graph API double on -graph-addr and report the replies Parley sends")
	fs.StringVar(&graphAddr, "graph-addr", "127.0.0.1:9090", "with -sandbox: where the Graph double listens")
	fs.BoolVar(&statuses, "statuses", false, "with -sandbox: post sent, delivered and read status webhooks for each reply, as Meta does")
	fs.DurationVar(&sc.Delay, "status-delay", 200*time.Millisecond, "with -statuses: delivered comes this long after sent, read as long again after delivered")
	fs.IntVar(&sc.Batch, "status-batch", 50, "with -statuses: statuses per webhook at most")
	fs.IntVar(&sc.Concurrency, "status-concurrency", 4, "with -statuses: status webhooks in flight at most")
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
		var stc *statusConfig
		if statuses {
			stc = &sc
		}
		g = newGraphDouble(&c, stc)
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
	if c.Batch > 1 {
		span += fmt.Sprintf(", %d messages per webhook", c.Batch)
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
		if g.st != nil {
			sr := g.st.drain(ctx, gr.Last.Add(settle))
			gr.Statuses = &sr
		}
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
