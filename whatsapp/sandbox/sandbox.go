package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Defaults of Config, chosen to match Meta's (docs/whatsapp.md §4.1, §4.7).
const (
	DefaultVersion        = "v23.0"
	DefaultAccessToken    = "sandbox-token"
	DefaultPhoneNumberID  = "100000000000001"
	DefaultDisplayPhone   = "15550000001"
	DefaultWABAID         = "200000000000001"
	DefaultAppSecret      = "sandbox-app-secret"
	DefaultWindow         = 24 * time.Hour  // customer service window
	DefaultThroughput     = 80              // messages per second per number
	DefaultPairInterval   = 6 * time.Second // ~1 message per 6 s to one customer
	DefaultPairBurst      = 45              // burst borrowed from future quota
	DefaultWebhookRetries = 4               // re-deliveries after a failed post
	DefaultWebhookBackoff = 100 * time.Millisecond
	DefaultWebhookTimeout = 10 * time.Second
	maxWebhookBackoff     = 5 * time.Second
	maxRequestBytes       = 1 << 20   // a send body; Meta's own limit is higher but sends are small
	maxMediaBytes         = 100 << 20 // documents, the largest media type (§2.5)
)

// StatusMode says how accepted sends move through sent → delivered → read.
type StatusMode int

const (
	// StatusAuto posts sent, delivered and read, StatusDelay apart.
	StatusAuto StatusMode = iota
	// StatusManual posts only what SetStatus (or POST
	// /_sandbox/messages/{wamid}/status) asks for. Failures Meta decides
	// on its own (131047, 131026, 131050) are still posted.
	StatusManual
)

// Config configures a Sandbox. The zero value works: every empty field
// takes its Default.
type Config struct {
	// Version is the Graph API version in the URL Start returns; requests
	// are accepted under any "vNN.N".
	Version string
	// AccessToken is the only Bearer token accepted (else 401, code 190).
	AccessToken string
	// PhoneNumberID and DisplayPhoneNumber identify the business number;
	// WABAID its WhatsApp Business Account (for templates and webhooks).
	PhoneNumberID, DisplayPhoneNumber, WABAID string
	// AppSecret signs webhooks (X-Hub-Signature-256).
	AppSecret string
	// WebhookURL receives webhooks; when empty they are only logged.
	WebhookURL string
	// WebhookClient posts webhooks (default: a client with WebhookTimeout).
	WebhookClient *http.Client
	// WebhookRetries is how many times a webhook answered with non-200 is
	// posted again, WebhookBackoff the first wait (doubling, ≤ 5 s).
	// Negative WebhookRetries disables re-delivery.
	WebhookRetries int
	WebhookBackoff time.Duration
	WebhookTimeout time.Duration

	// Clock is the sandbox's time (default: the real clock).
	Clock Clock
	// Window is the customer service window (default 24 h).
	Window time.Duration
	// Throughput is the messages per second allowed per phone number
	// (default 80; negative: unlimited), ThroughputBurst the bucket size
	// (default: one second's worth).
	Throughput      float64
	ThroughputBurst int
	// PairInterval is the sustained gap between two messages to the same
	// customer (default 6 s; negative: unlimited) and PairBurst the
	// messages that may be sent faster than that (default 45).
	PairInterval time.Duration
	PairBurst    int

	// Statuses and StatusDelay drive status webhooks of accepted sends.
	Statuses    StatusMode
	StatusDelay time.Duration

	// TemplateReviewDelay is how long created templates stay PENDING
	// before the automatic review; ManualTemplateReview disables it, so
	// only ApproveTemplate / RejectTemplate decide.
	TemplateReviewDelay  time.Duration
	ManualTemplateReview bool
	// Templates are present from the start, APPROVED unless their Status
	// says otherwise.
	Templates []Template
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Version, DefaultVersion)
	def(&c.AccessToken, DefaultAccessToken)
	def(&c.PhoneNumberID, DefaultPhoneNumberID)
	def(&c.DisplayPhoneNumber, DefaultDisplayPhone)
	def(&c.WABAID, DefaultWABAID)
	def(&c.AppSecret, DefaultAppSecret)
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Throughput == 0 {
		c.Throughput = DefaultThroughput
	}
	if c.ThroughputBurst == 0 {
		c.ThroughputBurst = max(1, int(c.Throughput))
	}
	if c.PairInterval == 0 {
		c.PairInterval = DefaultPairInterval
	}
	if c.PairBurst == 0 {
		c.PairBurst = DefaultPairBurst
	}
	if c.WebhookRetries == 0 {
		c.WebhookRetries = DefaultWebhookRetries
	}
	if c.WebhookBackoff == 0 {
		c.WebhookBackoff = DefaultWebhookBackoff
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = DefaultWebhookTimeout
	}
	if c.WebhookClient == nil {
		c.WebhookClient = &http.Client{Timeout: c.WebhookTimeout}
	}
}

// Sandbox is the Graph API double; it is an http.Handler, safe for
// concurrent use. Create it with New, serve it with Start (or mount it on
// any server) and stop it with Close.
type Sandbox struct {
	cfg   Config
	clock Clock
	mux   *http.ServeMux
	hooks *webhookQueue

	mu         sync.Mutex
	seq        int64
	customers  map[string]*customer // by wa_id and by user_id
	messages   map[string]*message  // outbound, by wamid
	inbound    map[string]*customer // inbound wamid → its author
	templates  []*template
	media      map[string]*mediaObject
	injections []*Injection
	log        []Entry
	throughput *bucket
	timers     map[*time.Timer]struct{}
	closed     bool

	srv *http.Server
	url string

	// Persist's file (state.go): the saver writes it after a change.
	statePath string
	dirty     chan struct{}
	saverDone chan struct{}
	stateErr  error      // the first failed background save
	saveMu    sync.Mutex // one write of the file at a time
	// restoredHooks are undelivered webhooks of the state loaded, posted
	// once the sandbox serves.
	restoredHooks [][]byte
}

// New returns a sandbox configured by cfg (see Config for defaults). Its
// webhook sender runs until Close.
func New(cfg Config) *Sandbox {
	cfg.setDefaults()
	s := &Sandbox{
		cfg:       cfg,
		clock:     cfg.Clock,
		customers: map[string]*customer{},
		messages:  map[string]*message{},
		inbound:   map[string]*customer{},
		media:     map[string]*mediaObject{},
		timers:    map[*time.Timer]struct{}{},
	}
	if cfg.Throughput > 0 {
		s.throughput = newBucket(cfg.Throughput, cfg.ThroughputBurst, s.clock.Now())
	}
	for _, t := range cfg.Templates {
		s.AddTemplate(t)
	}
	s.hooks = newWebhookQueue(s)
	s.routes()
	return s
}

// Config returns the configuration in force, defaults filled in.
func (s *Sandbox) Config() Config { return s.cfg }

// Start serves the sandbox on a fresh loopback port and returns the base
// URL to give whatsapp.NewClient: "http://127.0.0.1:PORT/v23.0".
func (s *Sandbox) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	return s.Serve(ln), nil
}

// Serve serves the sandbox on ln, a listener of the caller's (a fixed
// port, say), until Close, and returns the base URL as Start does.
// Webhooks a persisted sandbox had not delivered are posted again now.
func (s *Sandbox) Serve(ln net.Listener) string {
	s.mu.Lock()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	srv := s.srv
	s.mu.Unlock()
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on Close
	s.mu.Lock()
	hooks := s.restoredHooks
	s.restoredHooks = nil // into the queue, where the next save finds them
	s.mu.Unlock()
	for _, h := range hooks {
		s.hooks.push(h)
	}
	return s.GraphURL()
}

// URL is the root URL of a started sandbox ("" before Start); the control
// API lives under URL()+"/_sandbox/".
func (s *Sandbox) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// GraphURL is URL() followed by the Graph API version: the client's base URL.
func (s *Sandbox) GraphURL() string { return s.URL() + "/" + s.cfg.Version }

// Close stops the server (if started), pending timers and the webhook
// sender; undelivered webhooks are dropped. With Persist, it writes the
// state a last time and returns the first error of any write.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	srv := s.srv
	s.mu.Unlock()
	s.hooks.close()
	var err error
	if srv != nil {
		// Let answers in flight finish, briefly: Shutdown would wait up to
		// 5 s for connections that never sent a request.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			err = srv.Close()
		}
	}
	return errors.Join(err, s.closeState())
}

// after runs fn after d on its own goroutine, unless the sandbox closes
// first. Pending timers count as work for Drain.
func (s *Sandbox) after(d time.Duration, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		_, live := s.timers[t]
		delete(s.timers, t)
		s.mu.Unlock()
		if live {
			fn()
		}
	})
	s.timers[t] = struct{}{}
}

// Drain waits until no timer is pending and every queued webhook has been
// delivered or dropped, or ctx ends.
func (s *Sandbox) Drain(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		idle := len(s.timers) == 0
		s.mu.Unlock()
		if idle && s.hooks.idle() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// nextID returns a fresh sequence number (under s.mu).
func (s *Sandbox) nextID() int64 {
	s.seq++
	return s.seq
}

var versionPattern = regexp.MustCompile(`^v\d+\.\d+$`)

func (s *Sandbox) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /{version}/{id}/messages", s.graph(s.handleMessages))
	m.HandleFunc("POST /{version}/{id}/media", s.graph(s.handleUpload))
	m.HandleFunc("GET /{version}/{id}", s.graph(s.handleGetMedia))
	m.HandleFunc("DELETE /{version}/{id}", s.graph(s.handleDeleteMedia))
	m.HandleFunc("GET /{version}/{id}/message_templates", s.graph(s.handleListTemplates))
	m.HandleFunc("POST /{version}/{id}/message_templates", s.graph(s.handleCreateTemplate))
	s.controlRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMetaError(w, metaErr{http: 400, code: 2500, typ: "OAuthException",
			msg: "Unknown path components: " + r.URL.Path})
	})
	s.mux = m
}

// ServeHTTP serves the Graph API subset and the /_sandbox control API.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.reviewDue()
	s.mux.ServeHTTP(w, r)
}

// graph wraps a Graph API handler: version check, Bearer check, request log.
func (s *Sandbox) graph(h func(w http.ResponseWriter, r *http.Request, body []byte) *metaErr) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		var body []byte
		var merr *metaErr
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			r.Body = http.MaxBytesReader(w, r.Body, maxMediaBytes)
		} else if r.Body != nil {
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
			if err != nil {
				merr = &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "request body too large or unreadable"}
			}
			body = b
		}
		switch {
		case merr != nil:
		case !versionPattern.MatchString(r.PathValue("version")):
			merr = &metaErr{http: 400, code: 2500, typ: "OAuthException", msg: "Unknown path components: /" + r.PathValue("version")}
		case !s.authorized(r):
			merr = &metaErr{http: 401, code: 190, typ: "OAuthException", msg: "Invalid OAuth access token - Cannot parse access token"}
		default:
			merr = h(rec, r, body)
		}
		if merr != nil {
			writeMetaError(rec, *merr)
		}
		e := Entry{Kind: KindRequest, Method: r.Method, Path: r.URL.Path, HTTPStatus: rec.status}
		if merr != nil {
			e.Code, e.Reason = merr.code, merr.msg
		}
		if len(body) > 0 && json.Valid(body) {
			e.Raw = json.RawMessage(body)
		}
		s.record(e)
	}
}

func (s *Sandbox) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && tok == s.cfg.AccessToken
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Drop injections).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// metaErr is one of Meta's error answers.
type metaErr struct {
	http    int
	code    int
	subcode int
	typ     string
	msg     string
	details string
}

// newErr builds a WhatsApp error answer: message "(#code) title", HTTP
// status as Meta's table has it (docs/whatsapp.md §3).
func newErr(code int, title, details string) *metaErr {
	return &metaErr{http: httpStatusFor(code), code: code, typ: "OAuthException",
		msg: fmt.Sprintf("(#%d) %s", code, title), details: details}
}

func httpStatusFor(code int) int {
	switch {
	case code == 0 || code == 190:
		return 401
	case code == 10 || code == 368 || code == 131005 || (200 <= code && code <= 299):
		return 403
	case code == 131000:
		return 500
	case code == 2 || code == 131016:
		return 503
	}
	return 400
}

var fbtraceSeq struct {
	sync.Mutex
	n int
}

func writeMetaError(w http.ResponseWriter, e metaErr) {
	fbtraceSeq.Lock()
	fbtraceSeq.n++
	trace := fmt.Sprintf("SbxTrace%06d", fbtraceSeq.n)
	fbtraceSeq.Unlock()
	body := map[string]any{
		"message":    e.msg,
		"type":       e.typ,
		"code":       e.code,
		"fbtrace_id": trace,
	}
	if e.typ == "" {
		body["type"] = "OAuthException"
	}
	if e.subcode != 0 {
		body["error_subcode"] = e.subcode
	}
	if e.details != "" {
		body["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": e.details}
	}
	writeJSON(w, e.http, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away
}
