package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/limits"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// Errors the engine returns to its callers.
var (
	// ErrInvalidFlow is returned when a flow with error-level problems is
	// published; the problems come beside it.
	ErrInvalidFlow = errors.New("flow has errors")
	// ErrNoConversation is returned by agent actions on a contact with no
	// conversation handed to an agent.
	ErrNoConversation = errors.New("no conversation handed to an agent")
	// ErrWindowClosed is returned when an agent sends a free-form message
	// outside the 24-hour window: only a template may be sent.
	ErrWindowClosed = errors.New("the 24-hour window is closed: only a template may be sent")
	// ErrBusy is returned when a flow is started for a contact who is
	// already in a running conversation.
	ErrBusy = errors.New("contact is already in a running conversation")
)

// Options configure an Engine.
type Options struct {
	Store     model.Store
	Clock     Clock            // default SystemClock
	Templates templates.Lookup // the template registry; nil blocks every template
	Logger    *slog.Logger
	// Metrics receives the engine's series; nil keeps them private.
	Metrics *metrics.Registry
	// OptOutKeywords and OptInKeywords replace the default consent
	// keywords (consent.DefaultOptOutKeywords, DefaultOptInKeywords); an empty,
	// non-nil list turns them off. OptOutReply and OptInReply replace the
	// default confirmations.
	OptOutKeywords, OptInKeywords []string
	OptOutReply, OptInReply       string
	// MessagingLimit is the business's messaging limit: the unique
	// customers it may reach outside their window in a moving 24 h
	// (limit.go; DefaultMessagingLimit for a new business). 0 is no limit.
	MessagingLimit int
	// MessagingLimitPinned keeps MessagingLimit whatever Meta announces;
	// otherwise a tier from a phone_number_quality_update webhook
	// replaces it, durably (limit_numbers.go).
	MessagingLimitPinned bool
	// PhoneNumbers are the business numbers Parley serves, to name the
	// number of a phone_number_quality_update (Meta gives only its display
	// number) and to list them in the numbers API.
	PhoneNumbers []PhoneNumber
	// CheckTemplatesOnPublish refuses to publish a flow whose template
	// nodes name a template the registry does not hold as sendable with
	// those parameters (CheckFlowTemplates). `parley serve` sets it;
	// simulations, whose registry is made from the flow, do not.
	CheckTemplatesOnPublish bool
	// HTTP makes the attempts of flows' http steps (calls.go); nil is an
	// httpcall.Client that refuses private addresses.
	HTTP Caller
	// Secrets resolves {{ secrets.NAME }} in http steps; nil resolves none.
	Secrets secrets.Resolver
}

// Engine runs conversations. It is safe for concurrent use.
type Engine struct {
	store     model.Store
	clock     Clock
	templates templates.Lookup
	log       *slog.Logger
	locks     keyLocks
	// shared is the store when other processes write it too (SharedStore),
	// else nil: then the caches below are not trusted.
	shared   model.SharedStore
	cache    stateCache
	messages messageCache
	// checkTemplates: see Options.CheckTemplatesOnPublish.
	checkTemplates bool
	metrics        engineMetrics
	keywords       consent.Keywords
	// limits are the messaging limits, their reach caches and Meta's
	// restrictions (limit.go, limit_numbers.go, package limits).
	limits limits.State
	// phoneNumbers are the business numbers served (Options.PhoneNumbers);
	// numbersMu serialises updates of their records (limit_numbers.go).
	phoneNumbers []PhoneNumber
	numbersMu    sync.Mutex
	// reachMu makes the dispatcher's check of the messaging limit and the
	// record of the reach one step, so concurrent sends cannot both take
	// the last place.
	reachMu sync.Mutex
	// outboxKick wakes the dispatcher after a commit queued messages.
	outboxKick chan struct{}
	// observers learn of every commit (observer.go).
	observers observers
	// calls runs http steps (calls.go).
	calls callState
	// eventFilter says which events to record (events.go); nil: none.
	eventFilter atomic.Pointer[eventFilter]

	flowMu   sync.RWMutex
	flows    map[flowKey]*flows.Flow
	triggers []flowVersion // latest published version of each live flow, by id
	heads    flowHeads     // with a model.FlowHeads store (flow_heads.go)
}

// flowVersion is a parsed flow with its version number.
type flowVersion struct {
	flow    *flows.Flow
	version int
}

type flowKey struct {
	id      string
	version int
}

// New returns an engine over a store, with the triggers of the published
// flows loaded.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e := &Engine{
		store: o.Store, clock: o.Clock, templates: o.Templates, log: o.Logger,
		metrics: newEngineMetrics(o.Metrics), outboxKick: make(chan struct{}, 1),
		flows: map[flowKey]*flows.Flow{}, keywords: consent.NewKeywords(o.OptOutKeywords, o.OptInKeywords, o.OptOutReply, o.OptInReply),
		checkTemplates: o.CheckTemplatesOnPublish,
	}
	if sh, ok := o.Store.(model.SharedStore); ok {
		e.shared = sh
		e.cache.off, e.messages.off = true, true
	}
	if o.Metrics != nil {
		o.Metrics.GaugeFunc("parley_messaging_reach", "Unique customers reached outside their window in the moving 24 h (messaging limit).", e.reachCount)
		o.Metrics.GaugeFunc("parley_messaging_limit", "The messaging limit enforced: unique customers per moving 24 h outside their window; 0 is none.", func() float64 { return float64(e.messagingLimit()) })
	}
	if err := e.calls.init(o); err != nil {
		return nil, err
	}
	if err := e.initLimits(ctx, o); err != nil {
		return nil, err
	}
	if err := e.loadTriggers(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Store returns the engine's store.
func (e *Engine) Store() model.Store { return e.store }

// Clock returns the engine's clock.
func (e *Engine) Clock() Clock { return e.clock }

// Inbound is a customer's message, as the engine takes it.
type Inbound struct {
	PhoneNumberID string
	// ID is the message's id (wamid): a redelivered message with the same
	// id is processed once.
	ID     string
	WaID   string
	UserID string
	// Name is the customer's profile name.
	Name string
	// At is when the customer sent it.
	At       time.Time
	Reply    flows.Reply
	Referral bool
	// System is the notice of a "system" message: the customer changed
	// their number or user id (identity.go).
	System *whatsapp.SystemUpdate
	// Edited is, for an edit, the message's new content with its own type;
	// Reply.OriginalID names the message it replaces (edits.go).
	Edited *flows.Reply
}

// Key is the contact the message comes from.
func (in *Inbound) Key() model.ContactKey {
	id := in.UserID
	if id == "" {
		id = in.WaID
	}
	return model.NewContactKey(in.PhoneNumberID, id)
}

// Passive message types are recorded and keep the window open, but do not
// move a flow: a reaction or a deleted message is not an answer.
var passive = map[string]bool{"reaction": true, "revoke": true, "edit": true, "system": true, "request_welcome": true}

// Outcome says what an event did.
type Outcome struct {
	// Duplicate: the message had been processed before; nothing was done.
	Duplicate    bool
	Conversation string
	Status       model.Status
}

// HandleInbound applies a customer's message: it resumes the conversation
// waiting for it, or starts the flow its triggers select, and commits the
// result. When it returns without error the message is durably processed.
func (e *Engine) HandleInbound(ctx context.Context, in *Inbound) (out Outcome, err error) {
	defer func(start time.Time) { e.observeEvent(eventKindMessage, start, out.Duplicate, err) }(time.Now())
	if in.UserID == "" && in.WaID == "" {
		return Outcome{}, errors.New("engine: inbound message has neither wa_id nor user_id")
	}
	key, adopt, err := e.resolveInbound(ctx, in.PhoneNumberID, in.WaID, in.UserID) // identity.go
	if err != nil {
		return Outcome{}, err
	}
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return Outcome{}, err
	}
	defer unlock()
	// A redelivered message is caught by Commit, which refuses its change
	// whole (ErrDuplicate); reading the dedupe key first would cost every
	// message a store read to save the rare duplicate some work.
	now := e.clock.Now()
	t, err := e.begin(ctx, key, now)
	if err != nil {
		return Outcome{}, err
	}
	c := t.contact
	c.PhoneNumberID = in.PhoneNumberID
	c.LearnIdentity(in.WaID, in.UserID)
	t.adopt(adopt)
	if in.Name != "" {
		c.Name = in.Name
	}
	if in.ID != "" && in.Reply.Type != whatsapp.TypeSystem && (c.LastInboundWAMID == "" || !in.At.Before(c.LastInboundAt)) {
		c.LastInboundWAMID = in.ID // a notice from WhatsApp is no message to mark read
	}
	openWindow(c, in.At, now)
	t.reachable()
	t.change.InboundID, t.change.InboundKey = in.ID, in.Key()
	t.inbound = in
	reply := in.Reply
	isPassive := passive[reply.Type]

	// Consent keywords come before interrupts and triggers, in any flow.
	if reply.Type == flows.MsgText {
		if kind := e.keywords.Match(reply.Text); kind != "" {
			handled, err := t.consentKeyword(kind, &reply)
			if err != nil {
				return Outcome{}, err
			}
			if handled {
				return e.commitInbound(t)
			}
		}
	}

	amended := false
	if amends(&reply) {
		if amended, err = t.amend(in); err != nil {
			return Outcome{}, err
		}
	}
	switch {
	case amended:
		if t.conv != nil {
			t.touch()
		}
	case t.conv != nil && t.conv.Call != nil:
		// An http step is pending: the message is kept, in order, and
		// handled after the call's step (calls.go).
		t.record(&model.Message{Direction: model.In, Sender: "customer", Inbound: &reply, State: model.Received, WAMID: in.ID})
		t.touch()
		if !isPassive {
			t.conv.Held = append(t.conv.Held, reply)
		}
	case t.conv != nil && t.conv.Status == model.Agent:
		t.record(&model.Message{Direction: model.In, Sender: "customer", Inbound: &reply, State: model.Received, WAMID: in.ID})
		t.touch()
	case t.conv != nil:
		t.record(&model.Message{Direction: model.In, Sender: "customer", Inbound: &reply, State: model.Received, WAMID: in.ID})
		t.touch()
		if isPassive {
			break
		}
		if target := interrupt(t.flow, reply.Text); target != "" {
			t.pending = &reply
			t.conv.Retries = 0
			t.run(target, arriveEvent())
		} else {
			t.run(t.conv.Node, inboundEvent(&reply))
		}
	case !isPassive:
		v, ok := e.matchTrigger(in.PhoneNumberID, reply.Text, in.Referral)
		if !ok {
			break
		}
		t.start(v)
		t.record(&model.Message{Direction: model.In, Sender: "customer", Inbound: &reply, State: model.Received, WAMID: in.ID})
		t.pending = &reply
		t.run(v.flow.Start, arriveEvent())
	}
	if reply.Type == whatsapp.TypeSystem {
		t.identityChanged(in.System)
	}
	return e.commitInbound(t)
}

// commitInbound commits an inbound message's turn.
func (e *Engine) commitInbound(t *turn) (Outcome, error) {
	if err := t.commit(); err != nil {
		if errors.Is(err, model.ErrDuplicate) {
			return Outcome{Duplicate: true}, nil
		}
		return Outcome{}, err
	}
	return t.outcome(), nil
}

// FireDueTimers fires every timer due by now: wait timeouts, window
// closings, no-agent timeouts and expiries. It returns how many fired.
func (e *Engine) FireDueTimers(ctx context.Context) (int, error) {
	now := e.clock.Now()
	fired := 0
	for {
		due, err := e.dueTimers(ctx, now) // claimed, on a TimerClaimer (shared_work.go)
		if err != nil {
			return fired, fmt.Errorf("reading due timers: %w", err)
		}
		progressed := false
		for _, tm := range due {
			if tm.Kind == model.TimerCall {
				// An http step's attempt runs in its own goroutine; with
				// no place free its timer stays due (calls.go).
				if e.startCall(ctx, tm, now) {
					fired++
					progressed = true
				}
				continue
			}
			if err := e.fireTimer(ctx, tm, now); err != nil {
				return fired, err
			}
			fired++
			progressed = true
		}
		if !progressed {
			return fired, nil
		}
	}
}

func (e *Engine) fireTimer(ctx context.Context, tm model.Timer, now time.Time) (err error) {
	defer func(start time.Time) { e.observeEvent(eventKindTimer, start, false, err) }(time.Now())
	unlock, err := e.lock(ctx, tm.Contact)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := e.begin(ctx, tm.Contact, now)
	if err != nil {
		return err
	}
	live := t.conv != nil && t.conv.ID == tm.Conversation && t.conv.RemoveTimer(tm)
	if !live {
		// Stale: the conversation moved on since the timer was set.
		t.change.DeleteTimers = append(t.change.DeleteTimers, tm)
		return t.commitTimersOnly()
	}
	switch tm.Kind {
	case model.TimerExpire:
		if due := t.expiresAt(); due.After(now) {
			// There was activity since the timer was set: wait out the rest.
			t.conv.Timers = append(t.conv.Timers, model.Timer{Due: due, Kind: model.TimerExpire, Contact: tm.Contact, Conversation: tm.Conversation})
			break
		}
		t.finish(model.Expired, "")
	case model.TimerTimeout:
		t.run(tm.Node, timeoutEvent())
	case model.TimerNoAgent:
		if t.conv.Assignee != "" {
			break // an agent holds it: see noAgentDue in assign.go
		}
		t.resolvedBy = "no_agent"
		t.run(tm.Node, noAgentEvent())
	case model.TimerWindowClosing:
		if due := t.windowClosingMoved(tm); !due.IsZero() {
			tm.Due = due
			t.conv.Timers = append(t.conv.Timers, tm)
			break
		}
		t.run(tm.Node, windowClosingEvent())
	}
	return t.commit() // the fired timer left conv.Timers, so commit deletes it
}

// AgentReply sends an agent's free-form message to a contact whose
// conversation is handed off. Outside the window it is refused with
// ErrWindowClosed: the agent must send a template.
func (e *Engine) AgentReply(ctx context.Context, key model.ContactKey, agent string, m flows.Message) (err error) {
	defer func(start time.Time) { e.observeEvent(eventKindAgentReply, start, false, err) }(time.Now())
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	now := e.clock.Now()
	t, err := e.begin(ctx, key, now)
	if err != nil {
		return err
	}
	if t.conv == nil || t.conv.Status != model.Agent {
		return ErrNoConversation
	}
	if !policy.WindowOpen(t.contact, now) {
		return ErrWindowClosed
	}
	t.record(&model.Message{Direction: model.Out, Sender: "agent:" + agent, Message: &m, State: model.Queued})
	// A person has answered: the no-agent timeout no longer applies.
	t.conv.Timers = withoutKind(t.conv.Timers, model.TimerNoAgent)
	t.touch()
	return t.commit()
}

// Resolve ends an agent's handling of a conversation; the flow resumes at
// the handoff node's next with the outcome in vars.handoff_outcome.
func (e *Engine) Resolve(ctx context.Context, key model.ContactKey, outcome string) (err error) {
	defer func(start time.Time) { e.observeEvent(eventKindResolve, start, false, err) }(time.Now())
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := e.begin(ctx, key, e.clock.Now())
	if err != nil {
		return err
	}
	if t.conv == nil || t.conv.Status != model.Agent {
		return ErrNoConversation
	}
	t.touch()
	t.resolvedBy = "agent"
	t.run(t.conv.Node, resolvedEvent(outcome))
	return t.commit()
}

// StartFlow starts a flow's latest published version for a contact, at
// node (or the flow's start when node is ""). It returns ErrBusy when the
// contact is in a running conversation.
func (e *Engine) StartFlow(ctx context.Context, key model.ContactKey, flowID, node string) (_ Outcome, err error) {
	defer func(start time.Time) { e.observeEvent(eventKindStart, start, false, err) }(time.Now())
	v, err := e.latest(ctx, flowID)
	if err != nil {
		return Outcome{}, err
	}
	if node == "" {
		node = v.flow.Start
	}
	if v.flow.Node(node) == nil {
		return Outcome{}, fmt.Errorf("flow %s has no node %q: %w", flowID, node, model.ErrNotFound)
	}
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return Outcome{}, err
	}
	defer unlock()
	t, err := e.begin(ctx, key, e.clock.Now())
	if err != nil {
		return Outcome{}, err
	}
	if t.conv != nil {
		return Outcome{}, ErrBusy
	}
	t.start(v)
	t.run(node, arriveEvent())
	if err := t.commit(); err != nil {
		return Outcome{}, err
	}
	return t.outcome(), nil
}

// UpdateContact changes a contact (creating it if new) under its lock.
func (e *Engine) UpdateContact(ctx context.Context, key model.ContactKey, fn func(*model.Contact)) (*model.Contact, error) {
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := e.begin(ctx, key, e.clock.Now())
	if err != nil {
		return nil, err
	}
	fn(t.contact)
	t.contact.Key = key
	if err := t.commit(); err != nil {
		return nil, err
	}
	return t.contact, nil
}

// Contact returns a contact.
func (e *Engine) Contact(ctx context.Context, key model.ContactKey) (*model.Contact, error) {
	return e.store.Contact(ctx, key)
}

// CurrentConversation returns the contact's running conversation, or its
// last one, or ErrNotFound.
func (e *Engine) CurrentConversation(ctx context.Context, key model.ContactKey) (*model.Conversation, error) {
	c, err := e.store.Contact(ctx, key)
	if err != nil {
		return nil, err
	}
	if c.Conversation != "" {
		return e.store.Conversation(ctx, c.Conversation)
	}
	convs, err := e.store.Conversations(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(convs) == 0 {
		return nil, model.ErrNotFound
	}
	return convs[len(convs)-1], nil
}

// Publish validates a flow document and, when it has no error, stores it
// as the flow's next immutable version. Running conversations keep the
// version they started on.
func (e *Engine) Publish(ctx context.Context, doc []byte, by string) (*model.FlowVersion, flows.Problems, error) {
	f, problems := flows.Parse(doc)
	if problems.HasErrors() || f == nil {
		return nil, problems, ErrInvalidFlow
	}
	defer e.lockFlow(f.ID)()
	return e.publish(ctx, doc, by)
}

// Validate checks a flow document as Publish would: flows.Parse, and with
// CheckTemplatesOnPublish the template registry too. The flow is nil when
// the document could not be decoded.
func (e *Engine) Validate(doc []byte) (*flows.Flow, flows.Problems) {
	f, problems := flows.Parse(doc)
	if f != nil && e.checkTemplates {
		problems = append(problems, e.checkFlowTemplates(f)...)
	}
	if f != nil {
		problems = append(problems, e.checkNumbers(f)...)
	}
	flows.SortProblems(problems)
	return f, problems
}

// publish is Publish under the flow's lock.
func (e *Engine) publish(ctx context.Context, doc []byte, by string) (*model.FlowVersion, flows.Problems, error) {
	return e.publishNoted(ctx, doc, by, "")
}

// publishNoted is publish with the publisher's note. Besides the
// document's own problems it returns the warnings only publishing can
// give: triggers that meet another published flow's.
func (e *Engine) publishNoted(ctx context.Context, doc []byte, by, note string) (*model.FlowVersion, flows.Problems, error) {
	f, problems := e.Validate(doc)
	if problems.HasErrors() || f == nil {
		return nil, problems, ErrInvalidFlow
	}
	if c := e.TriggerCollisions(f); len(c) > 0 {
		problems = append(problems, c...)
		flows.SortProblems(problems)
	}
	rec, err := e.store.Flow(ctx, f.ID)
	if errors.Is(err, model.ErrNotFound) {
		rec = &model.FlowRecord{ID: f.ID}
	} else if err != nil {
		return nil, problems, err
	}
	if len(rec.Draft) == 0 || !sameJSON(rec.Draft, doc) {
		rec.DraftRev++ // a rollback replaced the draft: editors of the old one must reload
	}
	rec.Name, rec.Draft, rec.DraftAt, rec.DraftBy = f.Name, doc, e.clock.Now(), by
	if err := e.store.SaveFlow(ctx, rec); err != nil {
		return nil, problems, fmt.Errorf("saving flow %s: %w", f.ID, err)
	}
	var v *model.FlowVersion
	if vn, ok := e.store.(model.VersionNoter); ok {
		v, err = vn.PublishNoted(ctx, f.ID, doc, by, note, e.clock.Now())
	} else {
		v, err = e.store.Publish(ctx, f.ID, doc, by, e.clock.Now())
	}
	if err != nil {
		return nil, problems, fmt.Errorf("publishing flow %s: %w", f.ID, err)
	}
	e.flowMu.Lock()
	e.flows[flowKey{f.ID, v.Version}] = f
	e.flowMu.Unlock()
	if err := e.loadTriggers(ctx); err != nil {
		return v, problems, err
	}
	return v, problems, nil
}

// Flow returns a published flow version, parsed (cached).
func (e *Engine) Flow(ctx context.Context, id string, version int) (*flows.Flow, error) {
	k := flowKey{id, version}
	e.flowMu.RLock()
	f := e.flows[k]
	e.flowMu.RUnlock()
	if f != nil {
		return f, nil
	}
	v, err := e.store.FlowVersion(ctx, id, version)
	if err != nil {
		return nil, fmt.Errorf("loading flow %s v%d: %w", id, version, err)
	}
	f, problems := flows.Parse(v.Doc)
	if err := problems.Err(); err != nil || f == nil {
		return nil, fmt.Errorf("published flow %s v%d no longer parses: %w", id, version, err)
	}
	e.flowMu.Lock()
	e.flows[k] = f
	e.flowMu.Unlock()
	return f, nil
}

func (e *Engine) latest(ctx context.Context, id string) (flowVersion, error) {
	rec, err := e.store.Flow(ctx, id)
	if err != nil {
		return flowVersion{}, fmt.Errorf("flow %s: %w", id, err)
	}
	if rec.Published == 0 {
		return flowVersion{}, fmt.Errorf("flow %s is not published: %w", id, model.ErrNotFound)
	}
	if rec.Archived {
		return flowVersion{}, fmt.Errorf("flow %s is archived: %w", id, model.ErrNotFound)
	}
	f, err := e.Flow(ctx, id, rec.Published)
	return flowVersion{f, rec.Published}, err
}

// SharedFlowsRefresh is how often, with a SharedStore, RunTimers reads
// the published flows again: a flow published or archived through another
// process starts (or stops starting) conversations here that much later
// at most. Versions are immutable, so only the list of live versions is
// read; a version already parsed is not parsed again. A store that tells
// what changed (model.FlowHeads: PostgreSQL) makes a refresh that finds
// nothing changed one small read.
const SharedFlowsRefresh = 5 * time.Second

// RefreshFlows reads the published flows from the store again: the flows
// whose triggers start conversations. Publish and Archive do it for the
// process they run in; with a SharedStore, RunTimers does it for the
// others every SharedFlowsRefresh.
func (e *Engine) RefreshFlows(ctx context.Context) error { return e.loadTriggers(ctx) }

func (e *Engine) loadTriggers(ctx context.Context) error {
	if fh, ok := e.store.(model.FlowHeads); ok {
		return e.loadTriggersSince(ctx, fh)
	}
	recs, err := e.store.Flows(ctx)
	if err != nil {
		return fmt.Errorf("loading flows: %w", err)
	}
	heads := make([]model.FlowHead, len(recs))
	for i, r := range recs {
		heads[i] = model.FlowHead{ID: r.ID, Published: r.Published, Archived: r.Archived}
	}
	e.setTriggers(ctx, heads)
	return nil
}

// setTriggers makes the published versions of heads the flows whose
// triggers start conversations, in flow id order. It reports whether a
// version could not be loaded: that flow's triggers are off meanwhile.
func (e *Engine) setTriggers(ctx context.Context, heads []model.FlowHead) (failed bool) {
	slices.SortFunc(heads, func(a, b model.FlowHead) int { return strings.Compare(a.ID, b.ID) })
	var live []flowVersion
	for _, r := range heads {
		if r.Published == 0 || r.Archived {
			continue
		}
		f, err := e.Flow(ctx, r.ID, r.Published)
		if err != nil {
			e.log.Error("published flow cannot be loaded; its triggers are off", "flow", r.ID, "err", err)
			failed = true
			continue
		}
		if len(f.Triggers) > 0 {
			live = append(live, flowVersion{f, r.Published})
		}
	}
	e.flowMu.Lock()
	e.triggers = live
	e.flowMu.Unlock()
	return failed
}

// matchTrigger picks the flow a new conversation starts: a keyword trigger
// (the message's first words) wins over a referral trigger, which wins over a
// catch-all; among equals, the flow id decides. Only flows that answer on
// the business number the message came to take part (flows.Flow.Numbers).
func (e *Engine) matchTrigger(number, text string, referral bool) (flowVersion, bool) {
	e.flowMu.RLock()
	defer e.flowMu.RUnlock()
	var byReferral, byAny *flowVersion
	for i := range e.triggers {
		v := &e.triggers[i]
		if !v.flow.AnswersOn(number) {
			continue
		}
		for _, tr := range v.flow.Triggers {
			switch tr.Type {
			case "keyword":
				for _, k := range tr.Keywords {
					if flows.StartsWithKeyword(text, k) {
						return *v, true
					}
				}
			case "referral":
				if referral && byReferral == nil {
					byReferral = v
				}
			case "any":
				if byAny == nil {
					byAny = v
				}
			}
		}
	}
	switch {
	case byReferral != nil:
		return *byReferral, true
	case byAny != nil:
		return *byAny, true
	}
	return flowVersion{}, false
}

// interrupt returns the node an inbound text jumps to, or "".
func interrupt(f *flows.Flow, text string) string {
	if f == nil || len(f.Interrupts) == 0 {
		return ""
	}
	for _, in := range f.Interrupts {
		for _, k := range in.Keywords {
			if flows.StartsWithKeyword(text, k) {
				return in.Goto
			}
		}
	}
	return ""
}
