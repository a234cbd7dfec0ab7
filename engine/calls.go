package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/nodes"
)

// An http step, from the engine's side (docs/design.md, "Calling out"):
//
//  1. The turn that reaches an http node commits the conversation as
//     waiting on the call — Conversation.Call, with its Idempotency-Key —
//     and a TimerCall due at once. The webhook's 200 never waits on the
//     business's API.
//  2. When the timer fires, startCall hands it to a goroutine whose
//     claimCall claims the attempt under the conversation's lock: it
//     renders the request (secrets resolved now, never stored), counts
//     the attempt and pushes the timer past the attempt's timeout plus
//     callLeaseMargin (a lease), in one commit.
//  3. The attempt runs outside the lock, in that goroutine.
//  4. applyCall takes the lock again and commits the result: a note in
//     the transcript, then either the next attempt's timer (a retriable
//     failure, with backoff) or the node's CallDone event, which saves the
//     result and follows next or on_error, and then the customer's
//     messages held meanwhile, in order.
//
// A crash anywhere after 2 leaves the lease timer, which falls due and
// repeats the attempt with the same key: at least once, never silently
// dropped.
//
// A Caller may hold an attempt instead (ErrCallHeld: answering by hand in
// the test chat and `parley simulate`): nothing is committed at 3, the
// lease stands, and AnswerCall commits the answer given later as in 4.

// Caller makes one attempt of an http step; *httpcall.Client is the real
// one, a conversation script answers from its ? lines.
type Caller interface {
	Do(ctx context.Context, req httpcall.Request) httpcall.Result
}

// MaxConcurrentCalls caps the attempts in flight at once: past it, due
// calls wait for a place (their timers stay due), so a slow API ties up
// neither memory nor connections without bound.
const MaxConcurrentCalls = 256

// callLeaseMargin is how long past an attempt's timeout its lease lasts:
// room for the answer to be committed before the attempt is presumed lost
// (a crash) and made again.
const callLeaseMargin = 10 * time.Second

// Retry backoff: 1s, 2s, 4s… up to maxCallBackoff between attempts.
const (
	callBackoffBase = time.Second
	maxCallBackoff  = 30 * time.Second
)

// MaxRetryAfter is the longest Retry-After a step honours: the step's
// budget for one wait. An API that asks for longer is down for longer
// than a customer waits in a chat, so the step gives up (on_error).
const MaxRetryAfter = time.Minute

// callState is the engine's part in http steps.
type callState struct {
	caller  Caller
	secrets secrets.Resolver
	// places holds one token per attempt in flight.
	places chan struct{}
	// inflight counts the attempts running, for WaitCalls.
	inflight sync.WaitGroup
	// kick wakes RunTimers when a call is due now.
	kick chan struct{}
	// claiming holds the timers handed to a claim not yet committed, so
	// that FireDueTimers, reading them still due, does not start them
	// twice.
	mu       sync.Mutex
	claiming map[string]bool
}

func (cs *callState) init(o Options) error {
	cs.caller, cs.secrets = o.HTTP, o.Secrets
	cs.places, cs.kick = make(chan struct{}, MaxConcurrentCalls), make(chan struct{}, 1)
	cs.claiming = map[string]bool{}
	if cs.caller == nil {
		c, err := httpcall.New(httpcall.Options{})
		if err != nil {
			return err
		}
		cs.caller = c
	}
	return nil
}

func (cs *callState) wake() {
	select {
	case cs.kick <- struct{}{}:
	default:
	}
}

// WaitCalls waits until no attempt is in flight: what a test or a
// simulation does after FireDueTimers to see the calls' results committed.
func (e *Engine) WaitCalls() { e.calls.inflight.Wait() }

// awaitCall parks the conversation at http node n until its call has a
// result; the call is due at once.
func (t *turn) awaitCall(n *flows.Node, c *nodes.Call) {
	conv := t.conv
	t.park(n, model.Active, 0)
	conv.Calls++
	conv.Call = &model.PendingCall{
		Node: n.ID, Key: conv.ID + ":" + strconv.Itoa(conv.Calls),
		Retries: c.Retries, Timeout: c.Timeout, Since: t.now, NextAt: t.now,
	}
	t.addTimer(model.TimerCall, n.ID, 0)
}

// startCall starts the attempt a due TimerCall stands for: it takes a
// place and hands the timer to a goroutine that claims the attempt and
// makes it (claimCall, attempt). Claims run side by side, so their commits
// share fsyncs. started is false when no place was free or the timer is
// being claimed already: the timer stays due.
func (e *Engine) startCall(ctx context.Context, tm model.Timer, now time.Time) (started bool) {
	id := timerID(tm)
	cs := &e.calls
	cs.mu.Lock()
	if cs.claiming[id] {
		cs.mu.Unlock()
		return false
	}
	select {
	case cs.places <- struct{}{}:
	default:
		cs.mu.Unlock()
		return false
	}
	cs.claiming[id] = true
	cs.mu.Unlock()
	cs.inflight.Add(1)
	go func() {
		defer cs.inflight.Done()
		defer func() {
			<-cs.places
			cs.wake() // a call kept waiting for a place may go now
		}()
		lease, pc, req, ok, err := e.claimCall(ctx, tm, now)
		cs.mu.Lock()
		delete(cs.claiming, id)
		cs.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			e.log.Error("claiming an http step's attempt", "conversation", tm.Conversation, "node", tm.Node, "err", err)
		}
		if ok {
			e.attempt(ctx, lease, pc, req)
		}
	}()
	return true
}

func timerID(tm model.Timer) string {
	return tm.Due.UTC().Format(time.RFC3339Nano) + "|" + tm.Conversation + "|" + tm.Node
}

// claimCall claims the attempt of a due TimerCall under the conversation's
// lock: it renders the request, counts the attempt and replaces the timer
// by the attempt's lease, in one commit. ok is false when there is nothing
// to call: the timer was stale, or the request could not be rendered (then
// the step has failed and that is committed).
func (e *Engine) claimCall(ctx context.Context, tm model.Timer, now time.Time) (lease model.Timer, pc model.PendingCall, req *flows.Request, ok bool, err error) {
	unlock, err := e.lock(ctx, tm.Contact) // in every process (SharedStore)
	if err != nil {
		return lease, pc, nil, false, err
	}
	defer unlock()
	t, err := e.begin(ctx, tm.Contact, now)
	if err != nil {
		return lease, pc, nil, false, err
	}
	live := t.conv != nil && t.conv.ID == tm.Conversation && t.conv.RemoveTimer(tm)
	if !live {
		t.change.DeleteTimers = append(t.change.DeleteTimers, tm)
		return lease, pc, nil, false, t.commitTimersOnly()
	}
	call := t.conv.Call
	n := t.flow.Node(tm.Node)
	if call == nil || call.Node != tm.Node || n == nil {
		t.changed = true
		return lease, pc, nil, false, t.commit() // a timer left behind: drop it
	}
	call.Attempt++
	t.changed = true
	t.buildEnv()
	req, rerr := t.flow.RenderRequest(n, &t.env, t.secretLookup())
	if rerr != nil {
		// No call can be made (a secret is missing): the step fails now.
		res := httpcall.Result{Err: rerr}
		rec := &model.CallRecord{Method: n.Method, URL: n.URL, Error: rerr.Error(), Attempt: call.Attempt, Key: call.Key}
		e.observeCall(res)
		t.callNote(n.ID, rec)
		t.callDone(n, res)
		return lease, pc, nil, false, t.commit()
	}
	for _, p := range req.Problems {
		e.log.Warn("flow problem", "flow", t.conv.Flow, "version", t.conv.Version, "node", n.ID, "conversation", t.conv.ID, "problem", req.Mask(p))
	}
	lease = model.Timer{Due: now.Add(call.Timeout + callLeaseMargin), Kind: model.TimerCall, Contact: t.conv.Contact, Conversation: t.conv.ID, Node: n.ID}
	t.conv.Timers = append(t.conv.Timers, lease)
	call.NextAt = lease.Due
	if err := t.commit(); err != nil {
		return lease, pc, nil, false, err
	}
	return lease, *call, req, true, nil
}

// attempt makes one attempt and commits its result.
func (e *Engine) attempt(ctx context.Context, lease model.Timer, pc model.PendingCall, req *flows.Request) {
	res := e.do(ctx, pc, req)
	if errors.Is(res.Err, ErrCallHeld) {
		// Answered by hand later (AnswerCall); the lease stands meanwhile.
		return
	}
	if ctx.Err() != nil {
		// Shutting down: the lease falls due after the restart and the
		// attempt is made again, with the same key.
		return
	}
	if err := e.applyCall(ctx, lease, pc, req, res); err != nil {
		e.log.Error("committing an http step's result", "conversation", lease.Conversation, "node", lease.Node, "err", err)
	}
}

// do calls the Caller; a panic in it is a failed attempt, not a crash.
func (e *Engine) do(ctx context.Context, pc model.PendingCall, req *flows.Request) (res httpcall.Result) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("http call panicked", "node", pc.Node, "key", pc.Key, "panic", req.Mask(fmt.Sprint(r)))
			res = httpcall.Result{Err: fmt.Errorf("the call crashed: %s", req.Mask(fmt.Sprint(r)))}
		}
	}()
	return e.calls.caller.Do(ctx, httpcall.Request{
		Method: req.Method, URL: req.URL, Headers: req.Headers, Body: req.Body,
		IdempotencyKey: pc.Key, Timeout: pc.Timeout,
	})
}

// applyCall commits an attempt's result, unless the conversation moved on
// meanwhile (it expired, or this attempt's lease ran out and another
// attempt was made).
func (e *Engine) applyCall(ctx context.Context, lease model.Timer, pc model.PendingCall, req *flows.Request, res httpcall.Result) (err error) {
	defer func(start time.Time) { e.observeEvent(eventKindCall, start, false, err) }(time.Now())
	e.observeCall(res)
	unlock, err := e.lock(ctx, lease.Contact) // in every process (SharedStore)
	if err != nil {
		return err
	}
	defer unlock()
	now := e.clock.Now()
	t, err := e.begin(ctx, lease.Contact, now)
	if err != nil {
		return err
	}
	conv := t.conv
	if conv == nil || conv.ID != lease.Conversation || conv.Call == nil || conv.Call.Key != pc.Key || conv.Call.Attempt != pc.Attempt || !conv.RemoveTimer(lease) {
		e.log.Info("http step result dropped: the conversation moved on", "conversation", lease.Conversation, "node", lease.Node, "attempt", pc.Attempt)
		return nil
	}
	n := t.flow.Node(pc.Node)
	if n == nil {
		t.fail(pc.Node, fmt.Sprintf("flow %s v%d has no node %q", t.flow.ID, conv.Version, pc.Node))
		return t.commit()
	}
	t.changed = true
	rec := &model.CallRecord{Method: req.Method, URL: req.Mask(req.URL), Status: res.Status, DurationMS: res.Duration.Milliseconds(), Attempt: pc.Attempt, Key: pc.Key}
	if res.Err != nil {
		rec.Error = req.Mask(res.Err.Error())
	}
	if wait, ok := retryWait(res, pc); ok {
		rec.Retry = now.Add(wait)
		t.callNote(n.ID, rec)
		conv.Call.NextAt = rec.Retry
		t.addTimer(model.TimerCall, n.ID, wait)
		return t.commit()
	}
	t.callNote(n.ID, rec)
	if res.Err != nil {
		e.log.Warn("http step failed", "flow", conv.Flow, "node", n.ID, "conversation", conv.ID, "attempt", pc.Attempt, "err", rec.Error)
	}
	res.Err = maskedErr(res.Err, req)
	t.callDone(n, res)
	return t.commit()
}

// retryWait says whether a failed attempt is tried again, and after how
// long: retriable failures only, while the step's retries last, after a
// growing backoff or the answer's Retry-After when longer (but never one
// over MaxRetryAfter: then the step gives up).
func retryWait(res httpcall.Result, pc model.PendingCall) (time.Duration, bool) {
	if !res.Retriable || pc.Attempt > pc.Retries {
		return 0, false
	}
	wait := callBackoffBase * time.Duration(math.Pow(2, float64(pc.Attempt-1)))
	wait = min(wait, maxCallBackoff)
	if res.RetryAfter > MaxRetryAfter {
		return 0, false
	}
	return max(wait, res.RetryAfter), true
}

// callDone ends the wait on http node n with the call's final result and
// goes on: the node saves it and picks its exit; then the customer's
// messages held during the call are handled, in order.
func (t *turn) callDone(n *flows.Node, res httpcall.Result) {
	t.conv.Call = nil
	cr := &nodes.CallResult{Status: res.Status, JSON: res.JSON, Text: res.Text}
	if res.Err != nil {
		cr.Error = res.Err.Error()
		cr.JSON, cr.Text = nil, ""
		if !errors.Is(res.Err, httpcall.ErrTooLarge) {
			cr.Status = 0
		}
	}
	t.run(n.ID, nodes.Event{Kind: nodes.CallDone, Result: cr})
	t.drainHeld()
}

// drainHeld handles the messages held while a call was pending, in
// order, until the flow waits on another call or stops reading
// (handed to an agent: the agent reads them in the transcript; ended:
// the messages stay in the transcript, answered by nobody, as any message
// to an ended conversation that starts no flow).
func (t *turn) drainHeld() {
	if t.draining {
		return
	}
	t.draining = true
	defer func() { t.draining = false }()
	conv := t.conv
	for len(conv.Held) > 0 && conv.Call == nil {
		if conv.Status.Done() || conv.Status == model.Agent {
			conv.Held = nil
			return
		}
		r := conv.Held[0]
		conv.Held = conv.Held[1:]
		if target := interrupt(t.flow, r.Text); target != "" {
			t.pending = &r
			conv.Retries = 0
			t.run(target, arriveEvent())
		} else {
			t.run(conv.Node, inboundEvent(&r))
		}
	}
	if len(conv.Held) == 0 {
		conv.Held = nil
	}
}

// abandonCall drops the pending call when the flow moves on without its
// answer (a message sent before the http node failed and rerouted the
// conversation, say): an attempt in flight finds no call to answer and
// its result is dropped; held messages are handled at commit.
func (t *turn) abandonCall() {
	conv := t.conv
	t.note(conv.Call.Node, fmt.Sprintf("http call %s abandoned: the flow moved on before its answer", conv.Call.Key))
	conv.Call = nil
	conv.Timers = withoutKind(conv.Timers, model.TimerCall)
}

// callNote records one attempt in the transcript.
func (t *turn) callNote(node string, rec *model.CallRecord) {
	text := fmt.Sprintf("%s %s → ", rec.Method, rec.URL)
	if rec.Error != "" {
		text += rec.Error
		if rec.Status != 0 {
			text += fmt.Sprintf(" (status %d)", rec.Status)
		}
	} else {
		text += strconv.Itoa(rec.Status)
	}
	text += fmt.Sprintf(" in %d ms, attempt %d", rec.DurationMS, rec.Attempt)
	if !rec.Retry.IsZero() {
		text += fmt.Sprintf("; next attempt at %s", rec.Retry.UTC().Format(time.RFC3339))
	}
	t.record(&model.Message{Direction: model.Note, Sender: "system", Node: node, Text: text, Call: rec})
}

// secretLookup resolves {{ secrets.NAME }} for this turn's request.
func (t *turn) secretLookup() flows.SecretLookup {
	r := t.e.calls.secrets
	if r == nil {
		return nil
	}
	return func(name string) (string, error) { return r.Resolve(t.ctx, name) }
}

func maskedErr(err error, req *flows.Request) error {
	if err == nil {
		return nil
	}
	return maskError{err, req.Mask(err.Error())}
}

// maskError is an error whose text has the request's secrets masked; it
// still matches what it wraps (errors.Is).
type maskError struct {
	err  error
	text string
}

func (m maskError) Error() string { return m.text }
func (m maskError) Unwrap() error { return m.err }

// callResult names an attempt's result for parley_http_calls_total.
func callResult(res httpcall.Result) string {
	switch {
	case errors.Is(res.Err, httpcall.ErrTimeout):
		return "timeout"
	case errors.Is(res.Err, httpcall.ErrRefusedAddress):
		return "refused"
	case errors.Is(res.Err, httpcall.ErrTooLarge):
		return "too_large"
	case errors.Is(res.Err, httpcall.ErrRequest), errors.Is(res.Err, flows.ErrSecret):
		return "invalid"
	case errors.Is(res.Err, httpcall.ErrNetwork):
		return "network"
	case res.Err != nil:
		return "error"
	case res.Status >= 200 && res.Status <= 299:
		return "2xx"
	case res.Status >= 500:
		return "5xx"
	case res.Status == 429:
		return "429"
	}
	return "4xx"
}

func (e *Engine) observeCall(res httpcall.Result) {
	e.metrics.calls.Inc(callResult(res))
	if res.Status != 0 || res.Duration > 0 {
		e.metrics.callTime.Observe(res.Duration.Seconds())
	}
}

// HTTPCaller is what makes the engine's http steps' attempts: the editor's
// test chat and "try" call through it too, with its address checks.
func (e *Engine) HTTPCaller() Caller { return e.calls.caller }

// SecretResolver resolves {{ secrets.NAME }} for the engine's http steps;
// nil when none is configured.
func (e *Engine) SecretResolver() secrets.Resolver { return e.calls.secrets }

// TryResult is one attempt of an http node made by hand (TryHTTP). Every
// secret's value is masked in all of it, the answer included: an API that
// echoes its request must not hand a secret to the editor.
type TryResult struct {
	Call model.CallRecord `json:"call"`
	// Headers and Body are the request as sent, secrets masked.
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body,omitempty"`
	// Saved is what the node's save_as would receive.
	Saved map[string]any `json:"saved"`
	// OK tells whether the node would follow next (else on_error).
	OK bool `json:"ok"`
	// Problems are expressions that could not be evaluated.
	Problems []string `json:"problems,omitempty"`
}

// TryHTTP makes one attempt of http node n (of flow f) with the sample
// values in env, as the editor's "try" button does: the same rendering,
// secrets and address checks as a conversation's step, no retries, no
// conversation. Its Idempotency-Key is "try:<random>".
func (e *Engine) TryHTTP(ctx context.Context, f *flows.Flow, n *flows.Node, env *flows.Env) (*TryResult, error) {
	if n == nil || n.Type != flows.TypeHTTP {
		return nil, errors.New("not an http node")
	}
	var lookup flows.SecretLookup
	if r := e.calls.secrets; r != nil {
		lookup = func(name string) (string, error) { return r.Resolve(ctx, name) }
	}
	out := &TryResult{Call: model.CallRecord{Method: n.Method, URL: n.URL, Attempt: 1, Key: "try:" + randomKey()}}
	req, err := f.RenderRequest(n, env, lookup)
	if err != nil {
		out.Call.Error = err.Error()
		out.Saved = (&nodes.CallResult{}).Saved()
		return out, nil
	}
	res := e.do(ctx, model.PendingCall{Node: n.ID, Key: out.Call.Key, Timeout: n.HTTPTimeout()}, req)
	e.observeCall(res)
	out.Call.URL, out.Call.Status, out.Call.DurationMS = req.Mask(req.URL), res.Status, res.Duration.Milliseconds()
	out.Headers = map[string]string{}
	for k, v := range req.Headers {
		out.Headers[k] = req.Mask(v)
	}
	out.Body = req.Mask(string(req.Body))
	for _, p := range req.Problems {
		out.Problems = append(out.Problems, req.Mask(p))
	}
	cr := nodes.CallResult{Status: res.Status}
	if res.Err != nil {
		out.Call.Error = req.Mask(res.Err.Error())
		cr.Error = out.Call.Error
		if !errors.Is(res.Err, httpcall.ErrTooLarge) {
			cr.Status = 0
		}
	} else {
		cr.Text = req.Mask(res.Text)
		if res.JSON != nil {
			var v any
			if json.Unmarshal([]byte(cr.Text), &v) == nil {
				cr.JSON = v
			}
		}
	}
	out.Saved, out.OK = cr.Saved(), cr.OK()
	return out, nil
}

// ErrCallHeld is what a Caller returns, as Result.Err, to hold an attempt
// for an answer given by hand: the test chat's and `parley simulate`'s
// "answer by hand". The attempt stays claimed (its lease timer stands),
// nothing of it is committed, and AnswerCall later commits the answer as
// that attempt's result.
var ErrCallHeld = errors.New("http call held for an answer by hand")

// ErrNoHeldCall is returned by AnswerCall when the conversation waits on
// no claimed attempt with that key and number.
var ErrNoHeldCall = errors.New("no http call waits for this answer")

// HeldCall is the claimed attempt of a contact's http step, as it would
// be sent, every secret's value masked: what an analyst answering by hand
// sees.
type HeldCall struct {
	Node    string            `json:"node"`
	Key     string            `json:"key"`
	Attempt int               `json:"attempt"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body,omitempty"`
	// Retries is how many attempts may follow the first.
	Retries int `json:"retries"`
}

// claimed renders the request of the contact's claimed http attempt (a
// read-only turn: nothing is committed). pc is nil when the conversation
// waits on no claimed attempt.
func (e *Engine) claimed(ctx context.Context, contact model.ContactKey) (pc *model.PendingCall, lease model.Timer, req *flows.Request, err error) {
	defer e.locks.lock(contact)()
	t, err := e.begin(ctx, contact, e.clock.Now())
	if err != nil || t.conv == nil || t.conv.Call == nil || t.conv.Call.Attempt == 0 {
		return nil, lease, nil, err
	}
	call := *t.conv.Call
	for _, tm := range t.conv.Timers {
		if tm.Kind == model.TimerCall && tm.Node == call.Node && tm.Due.Equal(call.NextAt) {
			lease = tm
		}
	}
	n := t.flow.Node(call.Node)
	if lease.Kind == "" || n == nil {
		return nil, lease, nil, nil
	}
	t.buildEnv()
	req, err = t.flow.RenderRequest(n, &t.env, t.secretLookup())
	if err != nil {
		return nil, lease, nil, err
	}
	return &call, lease, req, nil
}

// HeldRequest is the contact's claimed http attempt as it would be sent,
// secrets masked; nil when none is claimed. Whether it is held is the
// Caller's to know.
func (e *Engine) HeldRequest(ctx context.Context, contact model.ContactKey) (*HeldCall, error) {
	pc, _, req, err := e.claimed(ctx, contact)
	if pc == nil || err != nil {
		return nil, err
	}
	h := &HeldCall{Node: pc.Node, Key: pc.Key, Attempt: pc.Attempt, Retries: pc.Retries, Method: req.Method,
		URL: req.Mask(req.URL), Headers: map[string]string{}, Body: req.Mask(string(req.Body))}
	for k, v := range req.Headers {
		h.Headers[k] = req.Mask(v)
	}
	return h, nil
}

// AnswerCall commits res as the result of the contact's claimed attempt
// number attempt of the step with Idempotency-Key key, one its Caller held
// (ErrCallHeld): retried, saved and followed by next or on_error exactly
// as a real answer would be. ErrNoHeldCall when no such attempt waits.
func (e *Engine) AnswerCall(ctx context.Context, contact model.ContactKey, key string, attempt int, res httpcall.Result) error {
	pc, lease, req, err := e.claimed(ctx, contact)
	if err != nil {
		return err
	}
	if pc == nil || pc.Key != key || pc.Attempt != attempt {
		return fmt.Errorf("%w (key %s, attempt %d)", ErrNoHeldCall, key, attempt)
	}
	return e.applyCall(ctx, lease, *pc, req, res)
}

func randomKey() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
