package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
)

// Limits of a subscription.
const (
	MaxURLLen         = 2048
	MaxDescriptionLen = 200
)

// Recorder is what the Service needs of the engine: to say which events
// to record, and to hear of commits that recorded some. *engine.Engine
// implements it.
type Recorder interface {
	RecordEvents(wanted func(model.EventType) bool)
	Observe(o engine.Observer)
}

// Options configure a Service.
type Options struct {
	Store Store
	// Key is the secrets key (engine/secrets.LoadKey): signing secrets are
	// sealed under a key derived from it.
	Key []byte
	// Engine, when set, records the events the subscriptions want and
	// wakes the Service when it has.
	Engine Recorder
	Clock  engine.Clock // default engine.SystemClock
	// Client posts the deliveries; default: a client with no redirects.
	Client  *http.Client
	Logger  *slog.Logger
	Metrics *metrics.Registry
	// Concurrency bounds the deliveries posted at once (default 16).
	Concurrency int
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// MaxAge is how long a delivery is retried (default MaxAge).
	MaxAge time.Duration
	// Retention is how long delivered and failed deliveries are kept for
	// the listing (default 7 days).
	Retention time.Duration
	// Rand returns numbers in [0, 1) for the backoff's jitter (default
	// math/rand/v2).
	Rand func() float64
}

// Service manages subscriptions and delivers events. It is safe for
// concurrent use.
type Service struct {
	store       Store
	seal        *sealer
	rec         Recorder
	clock       engine.Clock
	client      *http.Client
	log         *slog.Logger
	concurrency int
	timeout     time.Duration
	maxAge      time.Duration
	retention   time.Duration
	rand        func() float64
	m           serviceMetrics

	// subs is the subscriptions as stored, by id: the fan-out and the
	// posts read it, every change rewrites it. changeMu makes each change
	// and its reload one step, so that two admins' changes at once cannot
	// leave the older reload last.
	subsMu   sync.RWMutex
	subs     map[string]Subscription
	changeMu sync.Mutex
	updateMu sync.Mutex

	kick     chan struct{}
	mu       sync.Mutex
	inflight map[uint64]bool
	// queue is the due deliveries read and not yet started (start).
	queue  []Delivery
	wg     sync.WaitGroup
	pruned time.Time
	// hurried is when each subscription's retries were last brought
	// forward (hurry).
	hurried map[string]time.Time
	// claimer is the store as a Claimer when several processes share it
	// (nil otherwise); reloaded is when the subscriptions were last read
	// again for the changes other processes make.
	claimer  Claimer
	reloaded time.Time
}

// SubscriptionsReload is how often a Service on a shared store
// (Claimer) reads the subscriptions again, for those another process
// made or changed: the engine records the events they want from then on.
const SubscriptionsReload = 5 * time.Second

type serviceMetrics struct {
	results  metrics.Counter
	inflight atomic.Int64
}

// maxPendingCounted bounds the pending gauge's scan.
const maxPendingCounted = 100000

// pendingGauge counts the pending deliveries, when /metrics is read.
func (s *Service) pendingGauge() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := s.store.CountPending(ctx, maxPendingCounted)
	if err != nil {
		return -1
	}
	return float64(n)
}

// New returns a Service over o.Store, with the engine (if any) told which
// events to record.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("events: no store")
	}
	seal, err := newSealer(o.Key)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store: o.Store, seal: seal, rec: o.Engine, clock: o.Clock, client: o.Client, log: o.Logger,
		concurrency: o.Concurrency, timeout: o.Timeout, maxAge: o.MaxAge, retention: o.Retention, rand: o.Rand,
		kick: make(chan struct{}, 1), inflight: map[uint64]bool{}, hurried: map[string]time.Time{},
	}
	if s.clock == nil {
		s.clock = engine.SystemClock{}
	}
	s.claimer, _ = o.Store.(Claimer)
	if s.concurrency <= 0 {
		s.concurrency = 16
	}
	if s.client == nil {
		// Connections are kept for as many posts as go at once: most
		// subscriptions are one host, which DefaultTransport would keep
		// only two connections to.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = s.concurrency
		s.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if s.maxAge <= 0 {
		s.maxAge = MaxAge
	}
	if s.retention <= 0 {
		s.retention = 7 * 24 * time.Hour
	}
	if s.rand == nil {
		s.rand = randFloat
	}
	reg := o.Metrics
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	s.m.results = reg.Counter("parley_event_deliveries_total", "Event webhook delivery attempts, by result: delivered, retry (failed, tried again later), failed (given up).", "result")
	reg.GaugeFunc("parley_event_deliveries_pending", "Event webhook deliveries not yet delivered nor failed: due, retrying or waiting for an earlier event of their contact (at most 100000 counted).", s.pendingGauge)
	reg.GaugeFunc("parley_event_deliveries_in_flight", "Event webhook deliveries being posted.", func() float64 { return float64(s.m.inflight.Load()) })
	if err := s.loadSubscriptions(ctx); err != nil {
		return nil, err
	}
	s.reloaded = s.clock.Now()
	if s.rec != nil {
		s.rec.Observe(func(c engine.Committed) {
			if len(c.Events) > 0 {
				s.Kick()
			}
		})
	}
	return s, nil
}

// Kick wakes Run: there are events or deliveries to look at.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// loadSubscriptions reads the subscriptions and tells the engine which
// events to record.
func (s *Service) loadSubscriptions(ctx context.Context) error {
	list, err := s.store.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("events: reading subscriptions: %w", err)
	}
	subs := make(map[string]Subscription, len(list))
	wanted := map[model.EventType]bool{}
	for _, sub := range list {
		subs[sub.ID] = sub
		for _, t := range model.EventTypes {
			if sub.Wants(t) {
				wanted[t] = true
			}
		}
	}
	s.subsMu.Lock()
	s.subs = subs
	s.subsMu.Unlock()
	if s.rec != nil {
		if len(wanted) == 0 {
			s.rec.RecordEvents(nil)
		} else {
			s.rec.RecordEvents(func(t model.EventType) bool { return wanted[t] })
		}
	}
	return nil
}

// reload reads the subscriptions again, as a change does, on a shared
// store: another process may have changed them.
func (s *Service) reload(ctx context.Context) error {
	if s.claimer == nil {
		return nil
	}
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	return s.loadSubscriptions(ctx)
}

func (s *Service) subscription(id string) (Subscription, bool) {
	s.subsMu.RLock()
	defer s.subsMu.RUnlock()
	sub, ok := s.subs[id]
	return sub, ok
}

// Info is what may be shown of a subscription: everything but its secret.
type Info struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	Types       []model.EventType `json:"types"`
	Enabled     bool              `json:"enabled"`
	Description string            `json:"description,omitempty"`
	// SecretHint is the secret's last four characters.
	SecretHint string    `json:"secret_hint"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
}

func info(sub Subscription) Info {
	types := sub.Types
	if types == nil {
		types = []model.EventType{}
	}
	return Info{ID: sub.ID, URL: sub.URL, Types: types, Enabled: sub.Enabled, Description: sub.Description,
		SecretHint: sub.SecretHint, CreatedAt: sub.CreatedAt, CreatedBy: sub.CreatedBy, UpdatedAt: sub.UpdatedAt, UpdatedBy: sub.UpdatedBy}
}

// Input is a subscription's settings as an admin gives them; a nil field
// of an update is left as it is.
type Input struct {
	URL         *string            `json:"url"`
	Types       *[]model.EventType `json:"types"`
	Enabled     *bool              `json:"enabled"`
	Description *string            `json:"description"`
}

// apply checks in and sets its fields on sub.
func (in *Input) apply(sub *Subscription) error {
	if in.URL != nil {
		if err := checkURL(*in.URL); err != nil {
			return err
		}
		sub.URL = *in.URL
	}
	if in.Types != nil {
		types := []model.EventType{}
		for _, t := range *in.Types {
			if !slices.Contains(model.EventTypes, t) {
				return fmt.Errorf("%w: unknown event type %q", ErrInvalid, t)
			}
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
		sub.Types = types
	}
	if in.Enabled != nil {
		sub.Enabled = *in.Enabled
	}
	if in.Description != nil {
		if len(*in.Description) > MaxDescriptionLen {
			return fmt.Errorf("%w: a description is at most %d bytes", ErrInvalid, MaxDescriptionLen)
		}
		sub.Description = strings.TrimSpace(*in.Description)
	}
	return nil
}

// checkURL accepts an absolute http or https URL with a host. Any host is
// allowed, loopback and private ones included: subscriptions are set by
// admins (package doc).
func checkURL(raw string) error {
	if raw == "" || len(raw) > MaxURLLen {
		return fmt.Errorf("%w: a URL is 1 to %d bytes", ErrInvalid, MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: the URL must be http:// or https://, with a host and no user name", ErrInvalid)
	}
	return nil
}

// Create stores a new subscription, enabled unless in says otherwise, and
// returns it with its signing secret: the only time the secret is shown.
func (s *Service) Create(ctx context.Context, in Input, by string) (Info, string, error) {
	if in.URL == nil {
		return Info{}, "", fmt.Errorf("%w: a subscription needs a url", ErrInvalid)
	}
	now := s.clock.Now().UTC()
	sub := Subscription{ID: newID(), Enabled: true, CreatedAt: now, CreatedBy: by, UpdatedAt: now, UpdatedBy: by}
	if err := in.apply(&sub); err != nil {
		return Info{}, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return Info{}, "", err
	}
	if sub.SealedSecret, err = s.seal.seal(sub.ID, secret); err != nil {
		return Info{}, "", err
	}
	sub.SecretHint = secret[len(secret)-4:]
	if err := s.put(ctx, sub); err != nil {
		return Info{}, "", err
	}
	return info(sub), secret, nil
}

// Update changes a subscription's settings; with rotate, it gets a new
// secret, returned (else "").
func (s *Service) Update(ctx context.Context, id string, in Input, rotate bool, by string) (Info, string, error) {
	s.updateMu.Lock() // a read, then a write: two updates at once must not lose one
	defer s.updateMu.Unlock()
	sub, ok, err := s.store.Subscription(ctx, id)
	if err != nil {
		return Info{}, "", fmt.Errorf("events: reading subscription %s: %w", id, err)
	}
	if !ok {
		return Info{}, "", fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	if err := in.apply(&sub); err != nil {
		return Info{}, "", err
	}
	var secret string
	if rotate {
		if secret, err = newSecret(); err != nil {
			return Info{}, "", err
		}
		if sub.SealedSecret, err = s.seal.seal(sub.ID, secret); err != nil {
			return Info{}, "", err
		}
		sub.SecretHint = secret[len(secret)-4:]
	}
	sub.UpdatedAt, sub.UpdatedBy = s.clock.Now().UTC(), by
	if err := s.put(ctx, sub); err != nil {
		return Info{}, "", err
	}
	return info(sub), secret, nil
}

func (s *Service) put(ctx context.Context, sub Subscription) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	if err := s.store.PutSubscription(ctx, sub); err != nil {
		return fmt.Errorf("events: storing subscription %s: %w", sub.ID, err)
	}
	return s.loadSubscriptions(ctx)
}

// Get returns one subscription.
func (s *Service) Get(ctx context.Context, id string) (Info, error) {
	sub, ok, err := s.store.Subscription(ctx, id)
	if err != nil {
		return Info{}, fmt.Errorf("events: reading subscription %s: %w", id, err)
	}
	if !ok {
		return Info{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	return info(sub), nil
}

// List returns every subscription, by id.
func (s *Service) List(ctx context.Context) ([]Info, error) {
	list, err := s.store.Subscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: listing subscriptions: %w", err)
	}
	out := make([]Info, 0, len(list))
	for _, sub := range list {
		out = append(out, info(sub))
	}
	return out, nil
}

// Delete deletes a subscription and its deliveries, pending ones included.
func (s *Service) Delete(ctx context.Context, id string) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	ok, err := s.store.DeleteSubscription(ctx, id)
	if err != nil {
		return fmt.Errorf("events: deleting subscription %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	return s.loadSubscriptions(ctx)
}

// Deliveries lists a subscription's deliveries, newest first (see
// Store.Deliveries).
func (s *Service) Deliveries(ctx context.Context, id string, state State, before uint64, limit int) ([]Delivery, error) {
	if _, ok := s.subscription(id); !ok {
		return nil, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	switch state {
	case "", Pending, Delivered, Failed:
	default:
		return nil, fmt.Errorf("%w: state %q is not pending, delivered or failed", ErrInvalid, state)
	}
	ds, err := s.store.Deliveries(ctx, id, state, before, limit)
	if err != nil {
		return nil, fmt.Errorf("events: listing deliveries of %s: %w", id, err)
	}
	return ds, nil
}

// Replay tries again, from now and for MaxAge, the deliveries of a
// subscription given by seq, or every failed one when seqs is nil. It
// returns how many it replayed.
func (s *Service) Replay(ctx context.Context, id string, seqs []uint64) (int, error) {
	if _, ok := s.subscription(id); !ok {
		return 0, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	now := s.clock.Now().UTC()
	n, err := s.store.Replay(ctx, id, seqs, now, now.Add(s.maxAge))
	if err != nil {
		return n, fmt.Errorf("events: replaying deliveries of %s: %w", id, err)
	}
	if n > 0 {
		s.log.Info("event deliveries replayed", "subscription", id, "count", n)
		s.Kick()
	}
	return n, nil
}

// EventTest is the type of the event SendTest posts.
const EventTest model.EventType = "test"

// SendTest posts a test event to a subscription at once, signed as any
// other, and returns the attempt. It is not stored nor retried.
func (s *Service) SendTest(ctx context.Context, id string) (Attempt, error) {
	sub, ok, err := s.store.Subscription(ctx, id)
	if err != nil {
		return Attempt{}, fmt.Errorf("events: reading subscription %s: %w", id, err)
	}
	if !ok {
		return Attempt{}, fmt.Errorf("subscription %s: %w", id, ErrNotFound)
	}
	ev := model.Event{ID: model.NewEventID(), Type: EventTest, At: s.clock.Now().UTC(),
		Data: []byte(`{"message":"a test event from Parley"}`)}
	return s.post(ctx, &sub, &ev, 0), nil
}

// newID returns a new subscription id: "sub_" and 16 hex digits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sub_" + hex.EncodeToString(b[:])
}
