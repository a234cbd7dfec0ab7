package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/whatsapp"
)

// Sender is the wire to WhatsApp the dispatcher sends through:
// *whatsapp.Client against Meta or the sandbox.
type Sender interface {
	Send(ctx context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error)
}

// Pacing defaults (docs/whatsapp.md §4.7).
const (
	// DefaultRate is Meta's default throughput per business number, in
	// messages per second; above it sends fail with 130429.
	DefaultRate = 80
	// DefaultPairInterval and DefaultPairBurst model the pair rate: about
	// one message per 6 s to the same customer, with short bursts allowed
	// (above it: 131056). A bot's reply of two or three bubbles fits in the
	// burst.
	DefaultPairInterval = 6 * time.Second
	DefaultPairBurst    = 10
	// DefaultTemplateRetryFor is how long a template that WhatsApp could
	// not take yet (an outage, throttling, a paused account) is kept and
	// tried again; then it fails for good. A free-form message is tried
	// until its 24-hour window closes, then takes the window-closed path.
	DefaultTemplateRetryFor = 24 * time.Hour
	// maxRetryWait caps the backoff between tries of one message.
	maxRetryWait = 5 * time.Minute
	// SendTimeout bounds one send, the record of its outcome included. A
	// send under way when the dispatcher stops is finished within it rather
	// than cut off: cut off, its outcome could not be recorded, and the
	// next start would have to mark it unknown and never send it.
	SendTimeout = 30 * time.Second
	// DefaultDispatchWorkers is how many sends run at once. Each send
	// waits for two group commits (sending, then its outcome) and a Cloud
	// API call, so by Little's law the workers bound the send rate to
	// about Workers / (2 commits + 1 call): 32 workers gave ~1.3k sends/s
	// on a 2-core machine whose commits take ~8 ms under load. Idle
	// workers cost a goroutine each; busy ones also feed the group commit
	// bigger batches, which is what makes the store faster per write.
	DefaultDispatchWorkers = 256
)

// DispatchOptions configure the outbox dispatcher.
type DispatchOptions struct {
	Sender Sender
	Rate   float64 // per phone number, messages/s; default DefaultRate
	// Rates replaces Rate for some numbers (by phone number id): Meta
	// raises a number's throughput on request.
	Rates        map[string]float64
	PairInterval time.Duration // default DefaultPairInterval
	PairBurst    int           // default DefaultPairBurst
	Workers      int           // concurrent sends; default DefaultDispatchWorkers
	// Poll is how often the outbox is read when nothing wakes the
	// dispatcher; default 250 ms.
	Poll time.Duration
	// Rescan is how often, with a SharedStore, the whole outbox is read
	// again for what this process does not hold: the messages other
	// processes left (they died, or their claims were behind another's),
	// the claims whose lease ran out, and the entries a read after the
	// highest sequence seen skipped (commits in parallel, in this process
	// or others, make sequence numbers visible out of order). Default
	// 500 ms: the longest such an entry waits.
	Rescan time.Duration
	// LimitRecheck bounds how long a message held by the messaging limit
	// waits before it is checked again (capacity may return sooner than
	// the oldest reach expires, and the engine's clock may not be the
	// wall's); default 1 minute.
	LimitRecheck time.Duration
	// TemplateRetryFor: see DefaultTemplateRetryFor.
	TemplateRetryFor time.Duration
	// OnPauses, when set, is told the pauses in force each time one
	// begins or ends (serve tells the web app, live).
	OnPauses func([]Pause)
	// Receipts, when set, marks the customer's latest message read as a
	// reply to them goes (receipts.go).
	Receipts *Receipts
	// Clock is the time of pacing, of retries' backoff and of pauses
	// (default: the system's). It is not the engine's clock, which says
	// whether a message is still worth sending: tests pass a fast one to
	// live through minutes of outage in a second.
	Clock Clock
}

// Dispatcher sends the outbox: in order per conversation, paced per phone
// number and per customer, recording each message's state. A message whose
// send had an unknown outcome is marked unknown and never sent again. One
// that failed unambiguously stays queued and is tried again with backoff
// for as long as it is worth sending; an error about the number or the
// account, or the Graph API being down, pauses the numbers it concerns
// (pause.go) instead of failing the messages.
//
// It reads the outbox once in full at start, then only what was queued
// since (by outbox sequence), keeping a queue per conversation in memory;
// the store stays the truth, and a restart rebuilds the queues from it.
type Dispatcher struct {
	e    *Engine
	opts DispatchOptions
	now  func() time.Time // pacing runs on real time

	mu        sync.Mutex
	queues    map[string][]model.OutboxItem // conversation → its queued messages, in order
	order     []string                      // conversations with queued messages, oldest first
	lastSeq   uint64                        // highest outbox sequence read
	inflight  map[string]bool               // conversation → a send is under way
	notBefore map[string]time.Time          // conversation → retry after
	attempts  map[uint64]int                // outbox seq → tries so far
	numbers   map[string]*bucket            // phone number id → throughput
	pairs     map[model.ContactKey]*bucket
	share     peerShare // of the numbers' throughput, with other processes (shared_work.go)
	done      chan struct{}
	depth     int

	pauses pauses
	// started: the start-up settle and the first read of the outbox are
	// done, so Depth counts what is queued.
	started atomic.Bool
	// unavailableRun counts the sends in a row that found the Graph API
	// unreachable or failing; at unavailableTrip they pause every number.
	unavailableRun int
	// wire is the context of calls on the wire: Abandon cancels it, so
	// that stopping has a hard bound.
	wire    context.Context
	abandon context.CancelFunc
}

// job is a message handed to a worker; probe: it is sent alone to see
// whether a pause is over.
type job struct {
	it    model.OutboxItem
	probe bool
}

// NewDispatcher returns a dispatcher for e's outbox.
func (e *Engine) NewDispatcher(o DispatchOptions) *Dispatcher {
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.PairInterval <= 0 {
		o.PairInterval = DefaultPairInterval
	}
	if o.PairBurst <= 0 {
		o.PairBurst = DefaultPairBurst
	}
	if o.Workers <= 0 {
		o.Workers = DefaultDispatchWorkers
	}
	if o.Rescan <= 0 {
		o.Rescan = 500 * time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.LimitRecheck <= 0 {
		o.LimitRecheck = time.Minute
	}
	if o.TemplateRetryFor <= 0 {
		o.TemplateRetryFor = DefaultTemplateRetryFor
	}
	now := time.Now
	if o.Clock != nil {
		now = o.Clock.Now
	}
	wire, abandon := context.WithCancel(context.Background())
	return &Dispatcher{
		e: e, opts: o, now: now, queues: map[string][]model.OutboxItem{},
		inflight: map[string]bool{}, notBefore: map[string]time.Time{}, attempts: map[uint64]int{},
		numbers: map[string]*bucket{}, pairs: map[model.ContactKey]*bucket{}, done: make(chan struct{}, 1),
		wire: wire, abandon: abandon,
	}
}

// Pauses returns the numbers whose sending is paused, and why.
func (d *Dispatcher) Pauses() []Pause { return d.pauses.list() }

// Resume ends the pauses of number (AllNumbers: every pause), as an admin
// does once the cause is fixed; it returns those it ended. Should the
// cause remain, the next send pauses again.
func (d *Dispatcher) Resume(number string) []Pause {
	ended := d.pauses.lift(number, true)
	for _, p := range ended {
		d.e.log.Info("sending resumed by an admin", "number", pauseNumberLabel(p.Number), "paused_for", d.now().Sub(p.Since).Round(time.Second))
	}
	d.pausesChanged()
	d.kick()
	return ended
}

// Abandon cuts off the sends on the wire: their outcome is recorded as
// unknown (or, for a request not yet written, they stay queued). Stopping
// calls it when its time is up; Run still records those outcomes before it
// returns.
func (d *Dispatcher) Abandon() { d.abandon() }

// kick wakes the dispatcher's loop.
func (d *Dispatcher) kick() {
	select {
	case d.done <- struct{}{}:
	default:
	}
}

// Started reports whether the dispatcher has settled what a crash left
// and read the outbox: until then Depth says nothing of what is queued.
func (d *Dispatcher) Started() bool { return d.started.Load() }

// Depth is the number of messages queued or being sent.
func (d *Dispatcher) Depth() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.depth
}

// Run sends until ctx is done, then lets the sends under way finish (each
// within SendTimeout) and records their outcomes before it returns. First
// it settles what a crash left behind: a message marked sending may or may
// not have reached Meta, so it becomes unknown rather than being sent twice.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.settle(ctx); err != nil {
		return err
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range d.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				// Not ctx: stopping must not cut a send off between the
				// wire and the record of its outcome (Abandon cuts the
				// wire only).
				finished := d.send(context.WithoutCancel(ctx), j)
				d.finish(j.it, finished)
				d.kick()
			}
		}()
	}
	stopBeats := d.startBeats(ctx) // shared pacing (shared_work.go)
	defer stopBeats()              // once the sends under way are recorded
	defer wg.Wait()
	defer close(jobs)
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastPrune, lastRescan := d.now(), d.now()
	for {
		if now := d.now(); now.Sub(lastPrune) >= pairPruneEvery {
			d.prunePairs(now)
			lastPrune = now
		}
		if now := d.now(); d.e.shared != nil && now.Sub(lastRescan) >= d.opts.Rescan {
			if err := d.rescan(ctx); err != nil && ctx.Err() == nil {
				d.e.log.Error("reading the whole outbox again", "err", err)
			}
			lastRescan = now
		}
		if err := d.read(ctx); err != nil && ctx.Err() == nil {
			d.e.log.Error("reading the outbox", "err", err)
		} else if err == nil {
			d.started.Store(true)
		}
		wait, err := d.round(ctx, jobs)
		if ctx.Err() != nil || err != nil {
			return nil
		}
		if wait > d.opts.Poll || wait <= 0 {
			wait = d.opts.Poll
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-d.e.outboxKick:
		case <-d.done:
		case <-timer.C:
		}
	}
}

// read appends what was queued since the last read to the per-conversation
// queues.
func (d *Dispatcher) read(ctx context.Context) error {
	for {
		d.mu.Lock()
		after := d.lastSeq
		d.mu.Unlock()
		items, err := d.e.store.Outbox(ctx, after, 1000)
		if err != nil {
			return err
		}
		d.mu.Lock()
		for _, it := range items {
			conv := it.Message.Conversation
			if len(d.queues[conv]) == 0 {
				d.order = append(d.order, conv)
			}
			d.queues[conv] = append(d.queues[conv], it)
			d.lastSeq = it.Seq
			d.depth++
		}
		d.mu.Unlock()
		if len(items) < 1000 {
			return nil
		}
	}
}

// rescan reads the whole outbox and queues what this process does not
// hold already, in sequence order within each conversation (SharedStore:
// another process's messages, once it died or let go of them).
func (d *Dispatcher) rescan(ctx context.Context) error {
	d.mu.Lock()
	held := make(map[uint64]bool, d.depth)
	for _, q := range d.queues {
		for _, it := range q {
			held[it.Seq] = true
		}
	}
	d.mu.Unlock()
	var after uint64
	for {
		items, err := d.e.store.Outbox(ctx, after, 1000)
		if err != nil {
			return err
		}
		d.mu.Lock()
		for _, it := range items {
			after = it.Seq
			if held[it.Seq] {
				continue
			}
			conv := it.Message.Conversation
			q := d.queues[conv]
			if len(q) == 0 {
				d.order = append(d.order, conv)
			}
			// After the head when a send of it is under way: the head
			// stays where the worker expects it.
			i := len(q)
			for i > 0 && q[i-1].Seq > it.Seq && !(i == 1 && d.inflight[conv]) {
				i--
			}
			d.queues[conv] = slices.Insert(q, i, it)
			d.lastSeq = max(d.lastSeq, it.Seq)
			d.depth++
		}
		d.mu.Unlock()
		if len(items) < 1000 {
			return nil
		}
	}
}

// finish records a send's end: a message that left the outbox leaves its
// queue; one to be retried stays at the head.
func (d *Dispatcher) finish(it model.OutboxItem, dequeued bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	conv := it.Message.Conversation
	delete(d.inflight, conv)
	if !dequeued {
		return
	}
	q := d.queues[conv]
	if len(q) > 0 && q[0].Seq == it.Seq {
		q = q[1:]
		d.depth--
	}
	if len(q) == 0 {
		delete(d.queues, conv)
		delete(d.notBefore, conv)
	} else {
		d.queues[conv] = q
	}
}

// round hands every conversation's first queued message that may go now to
// the workers. It returns how long until a held-back message may go.
func (d *Dispatcher) round(ctx context.Context, jobs chan<- job) (time.Duration, error) {
	d.mu.Lock()
	// Drop conversations whose queues emptied, keeping the order.
	live := d.order[:0]
	for _, conv := range d.order {
		if len(d.queues[conv]) > 0 {
			live = append(live, conv)
		}
	}
	d.order = live
	convs := append([]string(nil), d.order...)
	d.mu.Unlock()
	if w := d.joining(d.now()); w > 0 {
		return w, nil // the other processes have not made room yet
	}

	var soonest time.Duration
	hold := func(w time.Duration) {
		if soonest == 0 || w < soonest {
			soonest = w
		}
	}
	for _, conv := range convs {
		now := d.now()
		d.mu.Lock()
		q := d.queues[conv]
		busy, nb := d.inflight[conv], d.notBefore[conv]
		d.mu.Unlock()
		if busy || len(q) == 0 {
			continue
		}
		if now.Before(nb) {
			hold(nb.Sub(now))
			continue
		}
		it := q[0] // in order per conversation: only its first message
		if w := d.pair(it.Message.Contact).take(now); w > 0 {
			hold(w)
			continue
		}
		w, probe := d.pauses.admit(it.Message.Contact.PhoneNumberID(), now)
		if w > 0 {
			d.pair(it.Message.Contact).give()
			hold(w)
			continue
		}
		number := d.number(it.Message.Contact.PhoneNumberID())
		for w := number.take(now); w > 0; w = number.take(d.now()) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(min(w, d.opts.Poll)):
			}
		}
		d.mu.Lock()
		d.inflight[conv] = true
		d.mu.Unlock()
		select {
		case jobs <- job{it, probe}:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return soonest, nil
}

func (d *Dispatcher) pair(k model.ContactKey) *bucket {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.pairs[k]
	if b == nil {
		b = newBucket(float64(d.opts.PairBurst), 1/d.opts.PairInterval.Seconds(), d.now())
		d.pairs[k] = b
	}
	return b
}

// pairPruneEvery is how often the dispatcher forgets the pair-rate
// buckets of customers it has not sent to lately.
const pairPruneEvery = time.Minute

// prunePairs forgets every pair-rate bucket that has refilled to its
// capacity: it is the same as a new one. Without it the dispatcher would
// keep a bucket for every customer it ever sent to.
func (d *Dispatcher) prunePairs(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, b := range d.pairs {
		if b.fullAt(now) {
			delete(d.pairs, k)
		}
	}
}

func (d *Dispatcher) number(id string) *bucket {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.numbers[id]
	if b == nil {
		rate := d.rateOf(id) // this process's share
		b = newBucket(max(1, rate), rate, d.now())
		d.numbers[id] = b
	}
	return b
}

// unknownAfterCrash explains an unknown state left by an unrecorded send.
const unknownAfterCrash = "its send was not recorded (Parley stopped or its store failed); it may or may not have been sent, so it is not sent again"

// settleUnknown takes out of the outbox a message whose send was claimed
// but whose outcome was never recorded, marking it unknown: it may or may
// not have reached Meta, so it is never sent again.
func (d *Dispatcher) settleUnknown(ctx context.Context, it model.OutboxItem) error {
	err := d.e.withSendTurn(ctx, it.Message, func(t sendTurn, m *model.Message) {
		m.State, m.Error = model.Unknown, unknownAfterCrash
		t.Dequeue(it.Seq)
	})
	if err == nil {
		d.e.metrics.sends.Inc("unknown", "")
	}
	return err
}

// settle marks every message a crash left in state sending as unknown.
func (d *Dispatcher) settle(ctx context.Context) error {
	var after uint64
	for {
		items, err := d.e.store.Outbox(ctx, after, 1000)
		if err != nil {
			return fmt.Errorf("settling the outbox: %w", err)
		}
		if len(items) == 0 {
			return nil
		}
		for _, it := range items {
			after = it.Seq
			if it.Message.State != model.Sending {
				continue
			}
			if err := d.settleUnknown(ctx, it); err != nil {
				return err
			}
		}
	}
}

// send takes one message through the wire and records the outcome. It
// reports whether the message left the outbox (false: retry later).
func (d *Dispatcher) send(ctx context.Context, j job) bool {
	it := j.it
	e := d.e
	var out *whatsapp.OutboundMessage
	proceed := false
	var held time.Duration // > 0: held by the messaging limit this long
	serial := e.MessagingLimitOf(it.Message.Contact.PhoneNumberID()) > 0 && it.Message.Template != nil
	var reached []model.Reach // the reach this send records, for the cache (engine/limits)
	var readKey model.ContactKey
	var readWAMID string // a reply: the customer's message it marks read
	if serial {
		e.reachMu.Lock() // the check and the reach's record are one step
	}
	err := e.withQueued(ctx, it, func(t sendTurn, m *model.Message) (send bool) {
		c, now := t.Contact(), t.Now()
		if m.State != model.Queued {
			// Not the dispatcher's any more (no such entry is left behind
			// today; an older file may hold one): it leaves the outbox.
			t.Dequeue(it.Seq)
			return false
		}
		if reason, why := policy.DeliveryBlock(e.templatesFrom(m.Contact.PhoneNumberID()), m, c, now); why != "" {
			// Unreachable (131026) or a marketing hold (131049): refused
			// here, without asking Meta.
			m.State, m.ErrorCode, m.Error = model.SendFailed, 0, why
			t.Dequeue(it.Seq)
			t.Block(m, reason, why)
			t.Failed(m)
			e.metrics.sends.Inc("blocked", "")
			return false
		}
		if m.Message != nil && !policy.WindowOpen(c, now) {
			// The window closed while the message waited: it is not sent,
			// and the conversation takes its template path.
			m.State, m.ErrorCode, m.Error = model.SendFailed, CodeWindowClosed, "the 24-hour window closed before it could be sent"
			t.Dequeue(it.Seq)
			t.WindowClosed(m)
			e.metrics.sends.Inc("window_closed", "")
			return false
		}
		if m.Template != nil && now.Sub(m.At) > d.opts.TemplateRetryFor {
			// Tried for as long as it was worth it (an outage, a paused
			// account): it fails, with the last reason it did not go.
			why := fmt.Sprintf("not sent within %v of being queued", d.opts.TemplateRetryFor)
			if m.Error != "" {
				why += "; last: " + m.Error
			}
			m.State, m.Error = model.SendFailed, why
			t.Dequeue(it.Seq)
			t.Failed(m)
			e.metrics.sends.Inc("expired", fmt.Sprint(m.ErrorCode))
			return false
		}
		var err error
		if out, err = toWhatsApp(m, c, e.templatesFrom(m.Contact.PhoneNumberID())); err != nil {
			m.State, m.Error = model.SendFailed, err.Error()
			t.Dequeue(it.Seq)
			t.Failed(m)
			return false
		}
		if !policy.WindowOpen(c, now) {
			// Business-initiated: counted against the messaging limit,
			// and held, not sent, while it is reached (limit.go).
			why, freeAt, err := e.limitBlock(ctx, c, now)
			if err != nil {
				e.log.Error("checking the messaging limit", "conversation", m.Conversation, "err", err)
				held = time.Second
				return false
			}
			if why != "" {
				m.ErrorCode = 0
				m.Error = fmt.Sprintf("held: %s; it may go from %s", why, freeAt.UTC().Format(time.RFC3339))
				held = max(freeAt.Sub(now), time.Millisecond)
				e.metrics.sends.Inc("limit_held", "")
				return false
			}
			r := model.Reach{Scope: e.scopeOf(c.Key.PhoneNumberID()), At: now, Contact: c.Key}
			if e.shared != nil {
				// Other processes reach customers too: the store
				// checks the limit again, atomically with the record.
				r.Limit = e.MessagingLimitOf(c.Key.PhoneNumberID())
			}
			reached = t.Reach(r)
		} else {
			readKey, readWAMID = c.Key, c.LastInboundWAMID
		}
		proceed = true
		return true
	})
	e.reachRecorded(reached, err)
	if serial {
		e.reachMu.Unlock()
	}
	if !proceed || err != nil {
		// Nothing went to Meta: the pacing tokens round took for this
		// message go back, or a message held by the messaging limit would
		// spend its customer's pair-rate burst on rechecks alone. A probe
		// that did not go frees its pause for the next one.
		d.refund(it)
		if j.probe {
			d.pauses.unprobe(it.Message.Contact.PhoneNumberID())
		}
	}
	switch {
	case errors.Is(err, model.ErrNotQueued):
		return true // cancelled while it waited (an opt-out)
	case errors.Is(err, model.ErrClaimedElsewhere):
		// Another process holds it, or an earlier message of its
		// conversation: it sends them in order. Out of this queue; a
		// rescan brings it back if that process lets go of it.
		return true
	case errors.Is(err, model.ErrOverLimit):
		// Another process took the last place first (a SharedStore
		// checks Reach.Limit as it records the reach). The reach cache,
		// forgotten by reachRecorded, loads the store's count at the next
		// attempt, which holds the message with its reason and when it
		// may go.
		e.metrics.sends.Inc("limit_held", "")
		d.retryLater(it, min(time.Second, d.opts.LimitRecheck))
		return false
	case errors.Is(err, model.ErrClaimed):
		// An earlier attempt could not record its outcome.
		if err = d.settleUnknown(ctx, it); err == nil {
			return true
		}
	}
	if err != nil {
		e.log.Error("preparing a send", "conversation", it.Message.Conversation, "err", err)
		d.retryLater(it, time.Second)
		return false
	}
	if held > 0 {
		d.retryLater(it, min(held, d.opts.LimitRecheck))
		return false
	}
	if !proceed {
		return true
	}
	d.opts.Receipts.replied(readKey, readWAMID)
	start := time.Now()
	// From the number the customer wrote to (a whatsapp.Router sends
	// from it; a single Client has only its own).
	sendCtx, cancel := context.WithTimeout(whatsapp.WithNumber(d.wire, it.Message.Contact.PhoneNumberID()), SendTimeout)
	res, sendErr := d.opts.Sender.Send(sendCtx, out)
	cancel()
	e.metrics.sendLatency.Observe(time.Since(start).Seconds())
	return d.record(ctx, j, res, sendErr)
}

// record commits a send's outcome and acts on it: the pauses it starts or
// ends, the backoff of a retry. It reports whether the message left the
// outbox.
func (d *Dispatcher) record(ctx context.Context, j job, res whatsapp.SendResult, sendErr error) bool {
	it, e := j.it, d.e
	number := it.Message.Contact.PhoneNumberID()
	class := whatsapp.Classify(sendErr)
	code := 0
	var apiErr *whatsapp.APIError
	if errors.As(sendErr, &apiErr) {
		code = apiErr.Code
	}
	pauseScope, pausing := pauseScopeOf(sendErr, number)
	if !d.outage(sendErr, j.probe) && whatsapp.Unavailable(sendErr) {
		pausing = false // a blip: this message backs off on its own
	}
	if d.wire.Err() != nil && class != whatsapp.Ambiguous && class != whatsapp.Success {
		// Cut off by Abandon before it was written: it stays queued for
		// the next start, and pauses nothing.
		pausing, class = false, whatsapp.Retry
	}
	if j.probe {
		d.pauses.unprobe(number)
	}
	switch {
	case class == whatsapp.Success:
		d.resumed(d.pauses.lift(number, false), "a send succeeded")
		d.number(number).recover()
	case pausing && class != whatsapp.Ambiguous:
		p, isNew := d.pauses.hold(pauseScope, sendErr, d.now(), j.probe)
		if isNew {
			d.paused(p)
		}
		if code == whatsapp.CodeThroughput {
			d.number(number).slow() // 130429: the whole number slows down
		}
	case j.probe:
		// WhatsApp answered about the message itself: the pause is over.
		d.resumed(d.pauses.probeDone(number), "WhatsApp answered again")
	}

	retry := class == whatsapp.Retry || (pausing && class == whatsapp.Permanent)
	left := true // the message left the outbox
	err := e.withSendTurn(ctx, it.Message, func(t sendTurn, m *model.Message) {
		if class != whatsapp.Success && m.State.Rank() > model.Unknown.Rank() {
			// A status already says Meta has it: whatever this attempt
			// says, it is never sent again, and its state stands.
			t.Dequeue(it.Seq)
			return
		}
		if retry {
			// Not sent, unambiguously: it stays queued, with the reason.
			m.ErrorCode, m.Error = code, sendErr.Error()
			t.Unclaim(it.Seq)
			left = false
			return
		}
		t.Dequeue(it.Seq)
		switch class {
		case whatsapp.Success:
			m.WAMID = res.WAMID
			m.Advance(model.Accepted)
			if m.State != model.SendFailed {
				// An earlier attempt's throttling is history, not this
				// message's error (a failed status that overtook this
				// record is, and stays).
				m.ErrorCode, m.Error = 0, ""
			}
			e.metrics.sends.Inc("accepted", "")
		case whatsapp.Ambiguous:
			// A status that overtook this record tells more than a
			// timeout: the state only moves forward.
			if m.Advance(model.Unknown) {
				m.Error = sendErr.Error()
			}
			e.metrics.sends.Inc("unknown", "")
		case whatsapp.Retry, whatsapp.Permanent:
			if m.Advance(model.SendFailed) {
				m.ErrorCode, m.Error = code, sendErr.Error()
				t.Failed(m)
			}
			e.metrics.sends.Inc("failed", fmt.Sprint(code))
		}
	})
	if !left {
		e.metrics.sends.Inc("retry", fmt.Sprint(code))
		if !pausing {
			d.mu.Lock()
			d.attempts[it.Seq]++
			n := d.attempts[it.Seq]
			d.mu.Unlock()
			d.retryLater(it, max(whatsapp.RetryAfter(sendErr), jitter(backoff(n))))
		}
	} else {
		d.mu.Lock()
		delete(d.attempts, it.Seq)
		d.mu.Unlock()
		e.noteTemplateRefusal(ctx, it.Message, class, code) // 132015/132016: the registry pauses/disables it now
	}
	if err != nil {
		// The outcome is not recorded; the outbox entry stays claimed, and
		// the next attempt or start settles it as unknown. Hold the
		// conversation.
		e.log.Error("recording a send", "conversation", it.Message.Conversation, "err", err)
		d.retryLater(it, time.Minute)
		return false
	}
	return left
}

// unavailableTrip is how many sends in a row must find the Graph API
// unreachable or failing before every number pauses: one 503 is a blip
// that its message's backoff rides out, three are an outage, which probes
// measure more gently than every queued message retrying on its own.
const unavailableTrip = 3

// outage tells, after a send whose error was err, whether the Graph API
// counts as down: the send was a probe, or it was one of unavailableTrip
// in a row that found it unreachable or failing.
func (d *Dispatcher) outage(err error, probe bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !whatsapp.Unavailable(err) {
		d.unavailableRun = 0
		return false
	}
	d.unavailableRun++
	return probe || d.unavailableRun >= unavailableTrip
}

// pauseScopeOf tells which numbers a failed send from number holds back:
// every one when the Graph API is down or the account is at fault, the
// number when the error is the number's; pausing is false when it concerns
// the message or the customer only.
func pauseScopeOf(err error, number string) (scope string, pausing bool) {
	if whatsapp.Unavailable(err) {
		return AllNumbers, true
	}
	switch whatsapp.ScopeOf(err) {
	case whatsapp.ScopeAccount:
		return AllNumbers, true
	case whatsapp.ScopeNumber:
		return number, true
	}
	return "", false
}

// paused logs a new pause once, at the level it deserves: ERROR when a
// person must act, WARN when the Graph API is down, DEBUG when Meta only
// asks the number to slow down (130429 and its kin: flow control, not a
// fault).
func (d *Dispatcher) paused(p Pause) {
	d.e.metrics.pauses.Inc(pauseNumberLabel(p.Number), fmt.Sprint(p.Code))
	attrs := []any{"number", pauseNumberLabel(p.Number), "code", p.Code, "reason", p.Reason, "action", p.Action, "next_probe", p.NextProbe.Sub(p.Since).Round(time.Second)}
	d.pausesChanged()
	switch {
	case p.NeedsAction:
		d.e.log.Error("sending paused: WhatsApp refuses this number's or account's sends; queued messages are kept", attrs...)
	case !p.throttled:
		d.e.log.Warn("sending paused: the WhatsApp API is not answering; queued messages are kept and sent once it does", attrs...)
	default:
		d.e.log.Debug("sending held: WhatsApp asks this number to slow down", attrs...)
	}
}

// resumed logs the pauses a successful probe ended.
func (d *Dispatcher) resumed(ended []Pause, why string) {
	for _, p := range ended {
		level := slog.LevelInfo
		if p.throttled {
			level = slog.LevelDebug
		}
		d.e.log.Log(context.Background(), level, "sending resumed: "+why, "number", pauseNumberLabel(p.Number), "code", p.Code,
			"paused_for", d.now().Sub(p.Since).Round(time.Second), "probes", p.Probes)
	}
	if len(ended) > 0 {
		d.pausesChanged()
		d.kick()
	}
}

// pausesChanged tells OnPauses the pauses now in force.
func (d *Dispatcher) pausesChanged() {
	if d.opts.OnPauses != nil {
		d.opts.OnPauses(d.pauses.list())
	}
}

// pauseNumberLabel names a pause's scope in logs and metrics.
func pauseNumberLabel(number string) string {
	if number == AllNumbers {
		return "all"
	}
	return number
}

func (d *Dispatcher) retryLater(it model.OutboxItem, wait time.Duration) {
	d.mu.Lock()
	d.notBefore[it.Message.Conversation] = d.now().Add(wait)
	d.mu.Unlock()
}

// backoff is the longest wait before retry n of one message: 1 s, 2 s,
// 4 s … capped at maxRetryWait; jitter spreads it.
func backoff(n int) time.Duration {
	d := time.Second << min(max(n-1, 0), 9)
	return min(d, maxRetryWait)
}

// refund gives back the pair-rate and throughput tokens round took for a
// message that was not sent.
func (d *Dispatcher) refund(it model.OutboxItem) {
	d.pair(it.Message.Contact).give()
	d.number(it.Message.Contact.PhoneNumberID()).give()
}

// bucket is a token bucket: capacity tokens, refilled at rate per second.
type bucket struct {
	mu       sync.Mutex
	capacity float64
	rate     float64
	ceil     float64 // the rate recover climbs back to
	tokens   float64
	last     time.Time
}

func newBucket(capacity, rate float64, now time.Time) *bucket {
	return &bucket{capacity: capacity, rate: rate, ceil: rate, tokens: capacity, last: now}
}

// take takes a token if there is one and returns 0, else returns how long
// until there will be one: never 0, which would read as a token taken. A
// refill that falls short of a whole token by a float's rounding (0.1 s
// at 20/s is 1.9999999999 tokens) counts as a whole one; else its wait
// rounds down to 0 ns and the message would go without a token, again
// and again while the clock stands still.
func (b *bucket) take(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	const rounding = 1e-9
	if b.tokens >= 1-rounding {
		b.tokens = max(0, b.tokens-1)
		return 0
	}
	return max(time.Nanosecond, time.Duration((1-b.tokens)/b.rate*float64(time.Second)))
}

// slow halves the bucket's rate, down to one token a second (or its
// ceiling, a process's share below that): Meta said the number is over
// its throughput (130429).
func (b *bucket) slow() {
	b.mu.Lock()
	b.rate = max(min(1, b.ceil), b.rate/2)
	b.mu.Unlock()
}

// recover raises a slowed bucket's rate a little after a success, back up
// to its ceiling (the configured rate, or this process's share of it):
// additive increase after slow's multiplicative decrease.
func (b *bucket) recover() {
	b.mu.Lock()
	if b.rate < b.ceil {
		b.rate = min(b.ceil, b.rate+max(1, b.ceil/100))
	}
	b.mu.Unlock()
}

// fullAt reports whether the bucket will have refilled to its capacity by
// now.
func (b *bucket) fullAt(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.capacity
}

// give returns a token taken for nothing, up to the capacity.
func (b *bucket) give() {
	b.mu.Lock()
	b.tokens = min(b.capacity, b.tokens+1)
	b.mu.Unlock()
}
