package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

const phone = "100000000000001"

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// echoFlow answers every message with its text, forever.
const echoFlow = `{"format": "parley/flow@1", "id": "echo", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "save_as": "said", "timeout": "1h", "on_timeout": "bye", "next": "answer"},
  {"id": "answer", "type": "send", "message": {"type": "text", "text": "you said {{ vars.said }}"}, "next": "ask"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}
 ]}`

type harness struct {
	t     testing.TB
	ctx   context.Context
	clock *engine.ManualClock
	store model.Store
	eng   *engine.Engine
	seq   int
	mu    sync.Mutex
}

func newHarness(t testing.TB, docs ...string) *harness {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, ctx: context.Background(), clock: engine.NewManualClock(t0), store: st}
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Templates: templates.NewSet(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		h.publish(d)
	}
	return h
}

func (h *harness) publish(doc string) *model.FlowVersion {
	h.t.Helper()
	v, problems, err := h.eng.Publish(h.ctx, []byte(doc), "test")
	if err != nil {
		h.t.Fatalf("publish: %v\n%v", err, problems.Err())
	}
	return v
}

func (h *harness) say(waID, text string) engine.Outcome {
	h.t.Helper()
	h.mu.Lock()
	h.seq++
	id := fmt.Sprintf("wamid.%d", h.seq)
	h.mu.Unlock()
	return h.sayID(waID, id, text)
}

func (h *harness) sayID(waID, id, text string) engine.Outcome {
	h.t.Helper()
	out, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{
		PhoneNumberID: phone, ID: id, WaID: waID, At: h.clock.Now(),
		Reply: flows.Reply{Type: flows.MsgText, Text: text},
	})
	if err != nil {
		h.t.Fatalf("inbound: %v", err)
	}
	return out
}

// sent returns the texts queued for waID, oldest first, and clears them.
func (h *harness) sent(waID string) []string {
	h.t.Helper()
	items, err := h.store.Outbox(h.ctx, 0, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Message.Contact != model.NewContactKey(phone, waID) {
			continue
		}
		m := it.Message
		switch {
		case m.Message != nil:
			out = append(out, m.Message.Text)
		case m.Template != nil:
			out = append(out, "template:"+m.Template.Name)
		}
		m.State = model.Sent
		if err := h.store.Commit(h.ctx, &model.Change{Updates: []*model.Message{m}, Dequeue: []uint64{it.Seq}}); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

func (h *harness) conv(waID string) *model.Conversation {
	h.t.Helper()
	c, err := h.eng.CurrentConversation(h.ctx, model.NewContactKey(phone, waID))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

func TestRedeliveredMessageIsProcessedOnce(t *testing.T) {
	h := newHarness(t, echoFlow)
	h.sayID("1", "wamid.A", "hello")
	h.sayID("1", "wamid.B", "one")
	if out := h.sayID("1", "wamid.B", "one"); !out.Duplicate {
		t.Fatalf("second delivery of wamid.B not reported as duplicate: %+v", out)
	}
	equal(t, h.sent("1"), []string{"you said one"})
}

func TestStaleTimerIsIgnored(t *testing.T) {
	h := newHarness(t, echoFlow)
	h.say("1", "hello") // waits at ask, timeout in 1h
	h.clock.Advance(50 * time.Minute)
	h.say("1", "still here") // answered; a new 1h timeout replaces the old one
	h.sent("1")
	h.clock.Advance(20 * time.Minute) // past the first timeout only
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	equal(t, h.sent("1"), nil)
	h.clock.Advance(45 * time.Minute)
	if n, err := h.eng.FireDueTimers(h.ctx); err != nil || n != 1 {
		t.Fatalf("fired %d timers (err %v), want 1", n, err)
	}
	equal(t, h.sent("1"), []string{"bye"})
	if c := h.conv("1"); c.Status != model.Ended {
		t.Fatalf("status %s, want ended", c.Status)
	}
}

func TestConversationKeepsItsFlowVersion(t *testing.T) {
	h := newHarness(t, echoFlow)
	h.say("old", "hello")
	h.publish(strings.Replace(echoFlow, "you said", "v2 heard", 1))
	h.say("new", "hello")
	h.say("old", "x")
	h.say("new", "y")
	equal(t, h.sent("old"), []string{"you said x"})
	equal(t, h.sent("new"), []string{"v2 heard y"})
	if v := h.conv("old").Version; v != 1 {
		t.Fatalf("old conversation on v%d, want v1", v)
	}
}

func TestNoTriggerStartsNothing(t *testing.T) {
	h := newHarness(t, strings.Replace(echoFlow, `{"type": "any"}`, `{"type": "keyword", "keywords": ["echo"]}`, 1))
	if out := h.say("1", "hello"); out.Conversation != "" {
		t.Fatalf("a conversation started: %+v", out)
	}
	if out := h.say("1", "Écho please"); out.Status != model.Waiting {
		t.Fatalf("keyword did not start the flow: %+v", out)
	}
}

func TestConcurrentConversationsDoNotMix(t *testing.T) {
	h := newHarness(t, echoFlow)
	const customers, messages = 32, 10
	var wg sync.WaitGroup
	for c := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := fmt.Sprint(c)
			h.say(who, "start")
			for m := range messages {
				h.say(who, fmt.Sprintf("%s-%d", who, m))
			}
		}()
	}
	wg.Wait()
	for c := range customers {
		who := fmt.Sprint(c)
		var want []string
		for m := range messages {
			want = append(want, fmt.Sprintf("you said %s-%d", who, m))
		}
		equal(t, h.sent(who), want)
	}
}

func TestAgentReplyNeedsOpenWindow(t *testing.T) {
	h := newHarness(t, `{"format": "parley/flow@1", "id": "help", "start": "human",
	 "triggers": [{"type": "any"}],
	 "nodes": [{"id": "human", "type": "handoff", "queue": "support", "next": "thanks"},
	           {"id": "thanks", "type": "template", "template": {"name": "thanks", "language": "en"}}]}`)
	key := model.NewContactKey(phone, "1")
	h.say("1", "help me")
	if err := h.eng.AgentReply(h.ctx, key, "sam", flows.Message{Type: flows.MsgText, Text: "hi, Sam here"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(25 * time.Hour)
	if err := h.eng.AgentReply(h.ctx, key, "sam", flows.Message{Type: flows.MsgText, Text: "late"}); err != engine.ErrWindowClosed {
		t.Fatalf("agent reply after 25h: err %v, want ErrWindowClosed", err)
	}
	// The template is not in the registry and has no on_blocked: resolving
	// fails the conversation with the reason.
	if err := h.eng.Resolve(h.ctx, key, "solved"); err != nil {
		t.Fatal(err)
	}
	c := h.conv("1")
	if c.Status != model.Failed || !strings.Contains(c.Reason, "window closed") {
		t.Fatalf("status %s reason %q, want failed for the missing opt-in", c.Status, c.Reason)
	}
	equal(t, h.sent("1"), []string{"hi, Sam here"})
}

func TestPublishChecksTemplatesWhenAsked(t *testing.T) {
	const doc = `{"format": "parley/flow@1", "id": "remind", "start": "tpl",
	 "nodes": [{"id": "tpl", "type": "template", "template": {"name": "reminder", "language": "en", "body": ["x"]}}]}`
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		templates *templates.Set
		wantErr   bool
	}{
		{"missing template", templates.NewSet(), true},
		{"wrong parameter count", templates.NewSet(model.TemplateInfo{Name: "reminder", Language: "en", Status: model.TemplateApproved}), true},
		{"approved and fitting", templates.NewSet(model.TemplateInfo{Name: "reminder", Language: "en", Status: model.TemplateApproved, BodyParams: 1}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := engine.New(ctx, engine.Options{Store: st, Templates: tc.templates, CheckTemplatesOnPublish: true, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if _, vp := eng.Validate([]byte(doc)); vp.HasErrors() != tc.wantErr {
				t.Fatalf("Validate errors %v, want %v: %v", vp.HasErrors(), tc.wantErr, vp)
			}
			_, problems, err := eng.Publish(ctx, []byte(doc), "test")
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("publish error %v, want error %v; problems %v", err, tc.wantErr, problems)
			}
			if tc.wantErr && (!errors.Is(err, engine.ErrInvalidFlow) || !strings.HasPrefix(problems[0].Pointer, "/nodes/0/template")) {
				t.Fatalf("want ErrInvalidFlow at /nodes/0/template…, got %v %v", err, problems)
			}
		})
	}
}

// A handoff records the transcript seq before the turn that made it: the
// agents' inbox counts the customer's messages after it as unread.
func TestHandoffSeq(t *testing.T) {
	h := newHarness(t, `{"format": "parley/flow@1", "id": "help", "start": "ask",
	 "triggers": [{"type": "any"}],
	 "nodes": [{"id": "ask", "type": "send", "message": {"type": "text", "text": "what is it about?"}, "next": "wait"},
	           {"id": "wait", "type": "wait_reply", "save_as": "topic", "next": "human"},
	           {"id": "human", "type": "handoff", "queue": "support"}]}`)
	h.say("1", "hi")         // 1: hi, 2: what is it about?
	h.say("1", "my invoice") // 3: my invoice, then the handoff
	c := h.conv("1")
	if c.Status != model.Agent || c.HandoffSeq != 2 {
		t.Fatalf("status %s, handoff seq %d; want agent, 2", c.Status, c.HandoffSeq)
	}
}
