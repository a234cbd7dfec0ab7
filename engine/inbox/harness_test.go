package inbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

const phone = "100000000000001"

// t0 is a Monday, 10:00 UTC.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// escalateFlow hands every customer to the support queue; "urgent" ones
// with priority 5. No agent in 10 minutes: "sorry"; resolved: the outcome.
const escalateFlow = `{"format": "parley/flow@1", "id": "escalate", "start": "pick",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "pick", "type": "branch", "cases": [{"when": "has_any(reply.text, ['urgent'])", "next": "urgent"}], "default": "normal"},
  {"id": "normal", "type": "handoff", "queue": "support", "note": "from {{ contact.name }}",
   "no_agent_after": "10m", "on_no_agent": "sorry", "next": "after"},
  {"id": "urgent", "type": "handoff", "queue": "support", "priority": 5,
   "no_agent_after": "10m", "on_no_agent": "sorry", "next": "after"},
  {"id": "sorry", "type": "send", "message": {"type": "text", "text": "nobody came"}},
  {"id": "after", "type": "send", "message": {"type": "text", "text": "outcome {{ vars.handoff_outcome }}"}}
 ]}`

type harness struct {
	t     testing.TB
	ctx   context.Context
	path  string
	clock *engine.ManualClock
	store *boltstore.Store
	eng   *engine.Engine
	ib    *inbox.Inbox
	seq   atomic.Int64
	// numbers are the business numbers the engine serves (none: any).
	numbers []engine.PhoneNumber
}

func newHarness(t testing.TB) *harness { return newHarnessOn(t) }

// newHarnessOn is a harness whose engine serves these business numbers.
func newHarnessOn(t testing.TB, numbers ...engine.PhoneNumber) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "parley.db"), clock: engine.NewManualClock(t0), numbers: numbers}
	h.open()
	v, problems, err := h.eng.Publish(h.ctx, []byte(escalateFlow), "test")
	if err != nil || v == nil {
		t.Fatalf("publish: %v %v", err, problems.Err())
	}
	return h
}

// open opens the store, the engine and the inbox (again after restart).
func (h *harness) open() {
	h.t.Helper()
	st, err := boltstore.Open(h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = st
	h.t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Templates: templates.NewSet(), Logger: log, PhoneNumbers: h.numbers})
	if err != nil {
		h.t.Fatal(err)
	}
	h.ib = inbox.New(inbox.Options{Engine: h.eng, Records: st, Logger: log})
	if err := h.ib.Start(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// restart closes everything and opens it again on the same file.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.store.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

func waID(i int) string { return fmt.Sprintf("1555%07d", i) }

func convID(i int) string { return phone + ":" + waID(i) + "#1" }

// say is customer i writing text.
func (h *harness) say(i int, text string) engine.Outcome {
	h.t.Helper()
	return h.sayOn(phone, i, text)
}

// sayOn is customer i writing text to business number number.
func (h *harness) sayOn(number string, i int, text string) engine.Outcome {
	h.t.Helper()
	out, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{
		PhoneNumberID: number, ID: fmt.Sprintf("wamid.%d", h.seq.Add(1)), WaID: waID(i), Name: fmt.Sprintf("Customer %d", i),
		At: h.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: text},
	})
	if err != nil {
		h.t.Fatalf("customer %d: %v", i, err)
	}
	return out
}

func (h *harness) agent(email string, capacity int, status inbox.Status, queues ...string) {
	h.t.Helper()
	if _, err := h.ib.PutAgent(h.ctx, inbox.Agent{Email: email, Capacity: capacity, Queues: queues, Status: status}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) status(email string, s inbox.Status) {
	h.t.Helper()
	if _, err := h.ib.SetStatus(h.ctx, email, s); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) rebalance() {
	h.t.Helper()
	if _, err := h.ib.Rebalance(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) conv(i int) *model.Conversation {
	h.t.Helper()
	c, err := h.store.Conversation(h.ctx, convID(i))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// open counts each agent's open conversations in the inbox's view.
func (h *harness) openCounts() map[string]int {
	m := map[string]int{}
	for _, a := range h.ib.Agents() {
		m[a.Email] = a.Open
	}
	return m
}

// storedCounts counts each agent's handed-off conversations in the store.
func (h *harness) storedCounts() map[string]int {
	h.t.Helper()
	convs, _, err := h.store.ListConversations(h.ctx, model.ConversationFilter{Status: model.Agent})
	if err != nil {
		h.t.Fatal(err)
	}
	m := map[string]int{}
	for _, c := range convs {
		if c.Assignee != "" {
			m[c.Assignee]++
		}
	}
	return m
}

func (h *harness) transcript(conv string) []*model.Message {
	h.t.Helper()
	ms, err := h.store.Transcript(h.ctx, conv)
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

func lastText(ms []*model.Message) string {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Direction == model.Out && ms[i].Message != nil {
			return ms[i].Message.Text
		}
	}
	return ""
}

func textMsg(s string) flows.Message { return flows.Message{Type: flows.MsgText, Text: s} }
