package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// Script defaults: the business number and the customer the script plays.
const (
	PhoneNumberID = "100000000000001"
	CustomerWaID  = "15551234567"
)

// DefaultStart is when a script's clock starts: a Monday, 10:00 UTC, inside
// ordinary business hours. `@ now: <RFC 3339 time>` changes it.
var DefaultStart = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// Options configure a run.
type Options struct {
	// OpenStore opens the store the run uses. With Reopen it is called
	// again before every step, on the same underlying data.
	OpenStore func() (model.Store, error)
	// Reopen closes and reopens the engine and its store between every
	// step, proving that the state lives in the store.
	Reopen bool
	// Templates is the registry; nil approves every template the flow
	// names, with the parameter counts it gives.
	Templates templates.Lookup
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// HTTP makes the flow's http calls; nil answers them from the
	// script's ? lines (calls.go), never from the network.
	HTTP engine.Caller
	// ByHand holds each http call until Session.AnswerCall answers it
	// (the test chat's and interactive simulate's "answer by hand"),
	// instead of HTTP or ? lines.
	ByHand bool
	// Secrets resolves {{ secrets.NAME }}; nil uses the script's
	// `@ secret` lines.
	Secrets secrets.Resolver
}

// Failure is one expectation that did not hold.
type Failure struct {
	Line int
	Step string
	Got  string
}

func (f Failure) String() string {
	return fmt.Sprintf("line %d: %s\n    got: %s", f.Line, f.Step, f.Got)
}

// Result is what a run found.
type Result struct {
	Failures []Failure
	// Transcript is every step and every outbound message, in order.
	Transcript []string
}

// OK reports whether every expectation held.
func (r *Result) OK() bool { return len(r.Failures) == 0 }

// Report writes the failures (or nothing) in a readable form.
func (r *Result) Report(w io.Writer, name string) {
	for _, f := range r.Failures {
		fmt.Fprintf(w, "%s:%s\n", name, f)
	}
}

// runner plays one script.
type runner struct {
	opts    Options
	flowDoc []byte
	flowID  string
	clock   *engine.ManualClock
	store   model.Store
	eng     *engine.Engine
	key     model.ContactKey
	res     *Result
	outbox  []*model.Message // sent but not yet matched by an expectation
	sent    []*model.Message // everything sent in the chat, oldest first
	inbound int
	// calls answers http calls from ? lines; secrets are the script's
	// `@ secret` lines (calls.go).
	calls   *scriptedCaller
	secrets *scriptSecrets
	// hand holds calls for an answer by hand (Options.ByHand); nil
	// otherwise.
	hand *handCaller
}

// Run plays script s against the flow document. An error means the run
// could not be carried out (a broken script or store); failed expectations
// are in the Result.
func Run(ctx context.Context, s *Script, flowDoc []byte, opts Options) (*Result, error) {
	start := DefaultStart
	// Set-up lines may move the clock's start, so read them first.
	for _, st := range s.Steps {
		if st.Kind == Set && strings.HasPrefix(st.Arg, "now:") {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(strings.TrimPrefix(st.Arg, "now:")))
			if err != nil {
				return nil, fmt.Errorf("line %d: @ now wants an RFC 3339 time: %w", st.Line, err)
			}
			start = t
		}
	}
	sess, err := NewSession(ctx, flowDoc, start, opts)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	r := sess.r
	acted := false
	for i, st := range s.Steps {
		switch st.Kind {
		case Say, Clock, Act:
			acted = true
			lines, err := stepCalls(s.Steps, i)
			if err != nil {
				return r.res, err
			}
			r.calls.expect(lines)
		case Call:
			if !acted {
				return r.res, fmt.Errorf("line %d: a ? line belongs under the >, ~ or ! step whose call it answers", st.Line)
			}
		}
		if err := sess.Do(ctx, st); err != nil {
			return r.res, fmt.Errorf("line %d (%s): %w", st.Line, st, err)
		}
		switch st.Kind {
		case Say, Clock, Act:
			r.calls.check(r, st)
		}
	}
	r.unmatched(0, "end of script")
	return r.res, nil
}

// Session is a live simulation: a flow, a store, an engine on a manual
// clock, and one customer. `parley simulate` drives one step at a time;
// the editor's test chat drives it by the methods of chat.go.
type Session struct{ r *runner }

// NewSession publishes the flow into the store and starts the clock at
// start.
func NewSession(ctx context.Context, flowDoc []byte, start time.Time, opts Options) (*Session, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &runner{
		opts: opts, flowDoc: flowDoc, clock: engine.NewManualClock(start),
		key: model.NewContactKey(PhoneNumberID, CustomerWaID), res: &Result{},
		calls: &scriptedCaller{}, secrets: &scriptSecrets{},
	}
	if opts.ByHand {
		r.hand = &handCaller{}
	}
	if err := r.open(ctx); err != nil {
		return nil, err
	}
	v, problems, err := r.eng.Publish(ctx, flowDoc, "simulate")
	if err != nil {
		r.close()
		return nil, fmt.Errorf("publishing the flow: %w\n%v", err, problems.Err())
	}
	r.flowID = v.Flow
	if r.opts.Templates == nil {
		f, err := r.eng.Flow(ctx, v.Flow, v.Version)
		if err != nil {
			r.close()
			return nil, err
		}
		reg := templates.NewSet()
		reg.ApproveFlowTemplates(f)
		r.opts.Templates = reg
		r.close() // reopen with the registry in place
		if err := r.open(ctx); err != nil {
			return nil, err
		}
	}
	return &Session{r}, nil
}

// Do carries out one step. With Options.Reopen the engine and store are
// closed and reopened first.
func (s *Session) Do(ctx context.Context, st Step) error {
	r := s.r
	if r.opts.Reopen {
		r.close()
		if err := r.open(ctx); err != nil {
			return err
		}
	}
	return r.step(ctx, st)
}

// TakeSent returns the messages sent since the last call (or expectation).
func (s *Session) TakeSent() []*model.Message {
	out := s.r.outbox
	s.r.outbox = nil
	return out
}

// Failures returns the expectations that failed so far.
func (s *Session) Failures() []Failure { return s.r.res.Failures }

// Engine returns the session's engine.
func (s *Session) Engine() *engine.Engine { return s.r.eng }

// Contact is the simulated customer's key.
func (s *Session) Contact() model.ContactKey { return s.r.key }

// Now is the simulated time.
func (s *Session) Now() time.Time { return s.r.clock.Now() }

// Close closes the engine's store.
func (s *Session) Close() { s.r.close() }

func (r *runner) open(ctx context.Context) error {
	st, err := r.opts.OpenStore()
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	var caller engine.Caller = r.calls
	switch {
	case r.hand != nil:
		caller = r.hand
	case r.opts.HTTP != nil:
		caller = r.opts.HTTP
	}
	var vault secrets.Resolver = r.secrets
	if r.opts.Secrets != nil {
		vault = r.opts.Secrets
	}
	eng, err := engine.New(ctx, engine.Options{Store: st, Clock: r.clock, Templates: r.opts.Templates, Logger: r.opts.Logger,
		HTTP: caller, Secrets: vault})
	if err != nil {
		st.Close()
		return err
	}
	r.store, r.eng = st, eng
	return nil
}

func (r *runner) close() {
	if r.store != nil {
		r.store.Close()
		r.store, r.eng = nil, nil
	}
}

func (r *runner) fail(st Step, got string) {
	r.res.Failures = append(r.res.Failures, Failure{Line: st.Line, Step: st.String(), Got: got})
}

func (r *runner) log(s string) { r.res.Transcript = append(r.res.Transcript, s) }

// unmatched reports messages sent that no expectation claimed: nothing may
// be sent silently.
func (r *runner) unmatched(line int, before string) {
	for _, m := range r.outbox {
		r.res.Failures = append(r.res.Failures, Failure{Line: line, Step: "(nothing expected before " + before + ")", Got: "< " + engine.Render(m)})
	}
	r.outbox = nil
}

func (r *runner) step(ctx context.Context, st Step) error {
	switch st.Kind {
	case Say, Clock, Act:
		r.unmatched(st.Line, fmt.Sprintf("line %d", st.Line))
	}
	if st.Kind != Expect {
		r.log(st.String()) // outbound lines are logged as they are sent
	}
	switch st.Kind {
	case Set:
		return r.set(ctx, st)
	case Call:
		return nil // answered by the calls of the step above (Run)
	case Say:
		reply, referral, err := r.reply(st.Arg)
		if err != nil {
			return err
		}
		r.inbound++
		in := &engine.Inbound{
			PhoneNumberID: PhoneNumberID, ID: fmt.Sprintf("wamid.script.%d", r.inbound),
			WaID: CustomerWaID, At: r.clock.Now(), Reply: reply, Referral: referral,
		}
		if _, err := r.eng.HandleInbound(ctx, in); err != nil {
			return err
		}
		if err := r.settleCalls(ctx); err != nil {
			return err
		}
	case Clock:
		d, err := time.ParseDuration(st.Arg)
		if err != nil {
			return fmt.Errorf("~ wants a duration like 25h or 10m: %w", err)
		}
		if err := r.advance(ctx, d); err != nil {
			return err
		}
		if err := r.settleCalls(ctx); err != nil {
			return err
		}
	case Act:
		err := r.act(ctx, st.Arg)
		if errors.Is(err, engine.ErrWindowClosed) || errors.Is(err, engine.ErrNoConversation) {
			// A refusal is an outcome a script can expect: `< refused: …`.
			r.outbox = append(r.outbox, &model.Message{Text: "refused: " + err.Error()})
			return nil
		}
		if err != nil {
			return err
		}
		if err := r.settleCalls(ctx); err != nil {
			return err
		}
	case Expect:
		if len(r.outbox) == 0 {
			r.fail(st, "nothing was sent")
			return nil
		}
		m := r.outbox[0]
		r.outbox = r.outbox[1:]
		if got := engine.Render(m); got != st.Arg {
			r.fail(st, "< "+got)
		}
		return nil
	case Status:
		// `= failed` checks the status; `= failed: reason` the reason too.
		_, _, withReason := strings.Cut(st.Arg, ":")
		got := "none"
		if conv, err := r.eng.CurrentConversation(ctx, r.key); err == nil {
			got = string(conv.Status)
			if withReason {
				got += ": " + conv.Reason
			}
		} else if !errors.Is(err, model.ErrNotFound) {
			return err
		}
		if got != st.Arg {
			r.fail(st, "= "+got)
		}
		return nil
	}
	return r.drain(ctx)
}

// advance moves the clock by d, stopping at every due timer on the way so
// that timers fire at their own time and in order.
func (r *runner) advance(ctx context.Context, d time.Duration) error {
	target := r.clock.Now().Add(d)
	for {
		next, ok, err := r.store.NextTimer(ctx)
		if err != nil {
			return err
		}
		if !ok || next.After(target) {
			break
		}
		r.clock.Set(next)
		if _, err := r.eng.FireDueTimers(ctx); err != nil {
			return err
		}
		r.eng.WaitCalls()
		if err := r.drain(ctx); err != nil {
			return err
		}
	}
	r.clock.Set(target)
	_, err := r.eng.FireDueTimers(ctx)
	r.eng.WaitCalls()
	return err
}

// drain takes everything queued for sending, as a sandbox that accepts
// every message would.
func (r *runner) drain(ctx context.Context) error {
	items, err := r.store.Outbox(ctx, 0, 1000)
	if err != nil {
		return err
	}
	for _, it := range items {
		m := it.Message
		m.State, m.WAMID = model.Sent, fmt.Sprintf("wamid.out.%d", it.Seq)
		if err := r.eng.RecordSent(ctx, it, m.WAMID); err != nil {
			return err
		}
		r.outbox = append(r.outbox, m)
		r.sent = append(r.sent, m)
		r.log("< " + engine.Render(m))
	}
	return nil
}

func (r *runner) act(ctx context.Context, arg string) error {
	verb, rest, _ := strings.Cut(arg, ":")
	verb = strings.TrimSpace(verb)
	switch {
	case verb == "agent":
		return r.eng.AgentReply(ctx, r.key, "agent", flows.Message{Type: flows.MsgText, Text: strings.TrimSpace(rest)})
	case strings.HasPrefix(verb, "resolve"):
		return r.eng.Resolve(ctx, r.key, strings.TrimSpace(strings.TrimPrefix(arg, "resolve")))
	}
	return fmt.Errorf("unknown action %q (want `! agent: text` or `! resolve [outcome]`)", arg)
}

func (r *runner) set(ctx context.Context, st Step) error {
	name, value, ok := strings.Cut(st.Arg, ":")
	if !ok {
		return errors.New("@ wants `name: value`")
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if secretName, ok := strings.CutPrefix(name, "secret "); ok {
		return r.secrets.set(strings.TrimSpace(secretName), value)
	}
	var setErr error
	_, err := r.eng.UpdateContact(ctx, r.key, func(c *model.Contact) {
		c.PhoneNumberID, c.WaID = PhoneNumberID, CustomerWaID
		switch {
		case name == "now":
		case name == "name":
			c.Name = value
		case name == "language":
			c.Language = value
		case name == "opted_in":
			c.OptedIn = value == "true"
			if c.OptedIn {
				c.OptedInAt = r.clock.Now()
			}
		case name == "opted_out":
			c.OptedOut = value == "true"
		case name == "tags":
			c.Tags = nil
			for _, t := range strings.Split(value, ",") {
				if t = strings.TrimSpace(t); t != "" {
					c.Tags = append(c.Tags, t)
				}
			}
		case strings.HasPrefix(name, "field."):
			if c.Fields == nil {
				c.Fields = map[string]any{}
			}
			var v any = value
			if f, err := strconv.ParseFloat(value, 64); err == nil {
				v = f
			}
			c.Fields[strings.TrimPrefix(name, "field.")] = v
		default:
			setErr = fmt.Errorf("unknown set-up %q (name, language, opted_in, opted_out, tags, field.X, now, secret NAME)", name)
		}
	})
	if setErr != nil {
		return setErr
	}
	return err
}

// reply turns a `>` argument into the customer's message: plain text, a
// tap `[id]` on a button or row of a message sent in the chat, or a Cloud
// API message object in JSON (with a "referral" when it came from an ad).
func (r *runner) reply(arg string) (reply flows.Reply, referral bool, err error) {
	switch {
	case strings.HasPrefix(arg, "{"):
		return cloudReply([]byte(arg))
	case strings.HasPrefix(arg, "[") && strings.HasSuffix(arg, "]"):
		id := strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]")
		reply, ok := tap(r.sent, id)
		if !ok {
			return flows.Reply{}, false, fmt.Errorf("> [%s]: no message sent in this chat offers the id %q", id, id)
		}
		return reply, false, nil
	}
	return flows.Reply{Type: flows.MsgText, Text: arg}, false, nil
}

// tap is a tap, as on a phone, on the option with this id of any message
// sent in the chat, the latest first: old lists and buttons stay tappable.
// A list row or reply button comes with its title; a template's quick-reply
// button is found by its payload, which is what WhatsApp sends back. Like
// WhatsApp, the tap names the message tapped (reply.context.message_id).
func tap(sent []*model.Message, id string) (flows.Reply, bool) {
	for i := len(sent) - 1; i >= 0; i-- {
		m := sent[i]
		ctx := flows.ReplyContext{MessageID: m.WAMID}
		if msg := m.Message; msg != nil {
			for _, s := range msg.Sections {
				for _, row := range s.Rows {
					if row.ID == id {
						return flows.Reply{Type: flows.ReplyList, ListID: id, Title: row.Title, Context: ctx}, true
					}
				}
			}
			for _, b := range msg.Buttons {
				if b.ID == id {
					return flows.Reply{Type: flows.ReplyButton, ButtonID: id, Title: b.Title, Context: ctx}, true
				}
			}
		}
		if tpl := m.Template; tpl != nil {
			for _, b := range tpl.Buttons {
				if b.Payload == id {
					return flows.Reply{Type: flows.ReplyButton, ButtonID: id, Title: id, Context: ctx}, true
				}
			}
		}
	}
	return flows.Reply{}, false
}

// cloudReply reads a Cloud API message object the way a webhook would
// bring it: wrapped in an envelope, through the production parser and the
// engine's own folding.
func cloudReply(raw []byte) (flows.Reply, bool, error) {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return flows.Reply{}, false, fmt.Errorf("customer message is not a JSON message object: %w", err)
	}
	obj["from"] = CustomerWaID
	if _, ok := obj["id"]; !ok {
		obj["id"] = "wamid.script.json"
	}
	if _, ok := obj["timestamp"]; !ok {
		obj["timestamp"] = "1767607200"
	}
	envelope := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "0", "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"phone_number_id": PhoneNumberID},
				"contacts":          []any{map[string]any{"wa_id": CustomerWaID}},
				"messages":          []any{obj},
			},
		}}}},
	}
	body, err := json.Marshal(envelope)
	if err != nil {
		return flows.Reply{}, false, err
	}
	batch, err := whatsapp.ParseWebhook(body)
	if err != nil {
		return flows.Reply{}, false, err
	}
	if len(batch.Messages) != 1 {
		return flows.Reply{}, false, fmt.Errorf("customer message did not parse as one message")
	}
	in := engine.InboundFromWhatsApp(&batch.Messages[0])
	return in.Reply, in.Referral, nil
}
