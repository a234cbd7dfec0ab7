package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// helpFlow greets, hands off, and thanks after the agent resolves.
const helpFlow = `{"format": "parley/flow@1", "id": "help", "start": "hello",
 "triggers": [{"type": "any"}],
 "nodes": [{"id": "hello", "type": "send", "message": {"type": "text", "text": "hello"}, "next": "human"},
           {"id": "human", "type": "handoff", "queue": "support", "no_agent_after": "10m", "on_no_agent": "thanks", "next": "thanks"},
           {"id": "thanks", "type": "send", "message": {"type": "text", "text": "thanks"}}]}`

// logged reads the store's event log, all of it.
func (h *harness) logged() []model.Event {
	h.t.Helper()
	les, err := h.store.(model.EventLog).EventsAfter(h.ctx, 0, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make([]model.Event, 0, len(les))
	for i, le := range les {
		if i > 0 && le.Seq <= les[i-1].Seq {
			h.t.Fatalf("log out of order: %d after %d", le.Seq, les[i-1].Seq)
		}
		out = append(out, le.Event)
	}
	return out
}

// describe renders events as "type key=value…" with the fields a test
// checks, one string each.
func describe(evs []model.Event) []string {
	var out []string
	for _, ev := range evs {
		var d map[string]any
		_ = json.Unmarshal(ev.Data, &d)
		s := string(ev.Type)
		for _, k := range []string{"status", "reason", "resolution", "outcome", "agent", "queue", "state", "code", "source"} {
			if v, ok := d[k]; ok && v != "" {
				s += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		if m, ok := d["message"].(map[string]any); ok {
			s += fmt.Sprintf(" text=%v", m["text"])
		}
		out = append(out, s)
	}
	return out
}

// TestEventsFromCommits: each change of state records its events, in the
// commit that makes it, in order; nothing is recorded while no
// subscription wants events, or for a type none wants.
func TestEventsFromCommits(t *testing.T) {
	all := func(model.EventType) bool { return true }
	key := model.NewContactKey(phone, "1")
	tests := []struct {
		name   string
		wanted func(model.EventType) bool
		run    func(h *harness)
		want   []string
	}{
		{"nothing wanted, nothing recorded", nil, func(h *harness) { h.say("1", "hi") }, nil},
		{"only the types wanted", func(t model.EventType) bool { return t == model.EventHandoffQueued },
			func(h *harness) { h.say("1", "hi") }, []string{"handoff.queued queue=support"}},
		{"start and handoff", all, func(h *harness) { h.say("1", "hi") }, []string{
			"conversation.started", "message.received text=hi", "handoff.queued queue=support"}},
		{"resolved by an agent, flow ends", all, func(h *harness) {
			h.say("1", "hi")
			h.eng.RecordEvents(all)
			if err := h.eng.ResolveConversation(h.ctx, string(key)+"#1", "sam", "solved"); err != nil {
				h.t.Fatal(err)
			}
		}, []string{"conversation.started", "message.received text=hi", "handoff.queued queue=support",
			"handoff.resolved resolution=agent outcome=solved agent=sam queue=support", "conversation.ended status=ended"}},
		{"nobody answers in time", all, func(h *harness) {
			h.say("1", "hi")
			h.fire(11 * time.Minute)
		}, []string{"conversation.started", "message.received text=hi", "handoff.queued queue=support",
			"handoff.resolved resolution=no_agent queue=support", "conversation.ended status=ended"}},
		{"a message while handed off", all, func(h *harness) {
			h.say("1", "hi")
			h.say("1", "anyone?")
		}, []string{"conversation.started", "message.received text=hi", "handoff.queued queue=support", "message.received text=anyone?"}},
		{"opt-out keyword ends the conversation", all, func(h *harness) {
			h.say("1", "hi")
			h.say("1", "STOP")
		}, []string{"conversation.started", "message.received text=hi", "handoff.queued queue=support",
			"message.received text=STOP", "handoff.resolved resolution=ended queue=support",
			"conversation.ended status=ended reason=opted out", "contact.opted_out source=keyword"}},
		{"consent recorded by the API", all, func(h *harness) {
			if _, err := h.eng.RecordConsent(h.ctx, key, model.ConsentEvent{Kind: model.ConsentOptIn, Source: model.SourceWebForm}); err != nil {
				h.t.Fatal(err)
			}
		}, []string{"contact.opted_in source=web_form"}},
		{"delivery states", all, func(h *harness) {
			h.say("1", "hi")
			h.status("1", "hello", whatsapp.StatusSent, 0)
			h.status("1", "hello", whatsapp.StatusDelivered, 0)
			h.status("1", "hello", whatsapp.StatusDelivered, 0) // again: no move, no event
			h.status("1", "hello", whatsapp.StatusRead, 0)
		}, []string{"conversation.started", "message.received text=hi", "handoff.queued queue=support",
			"message.status state=delivered", "message.status state=read"}},
		{"a failed message", all, func(h *harness) {
			h.say("1", "hi")
			h.status("1", "hello", whatsapp.StatusFailed, 131026)
		}, []string{"conversation.started", "message.received text=hi", "handoff.queued queue=support",
			"message.status state=failed code=131026"}},
		{"a message no flow takes", all, func(h *harness) {
			if _, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.r", WaID: "1", At: h.clock.Now(),
				Reply: flows.Reply{Type: "reaction"}}); err != nil {
				h.t.Fatal(err)
			}
		}, []string{"message.received text=<nil>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, helpFlow)
			h.eng.RecordEvents(tc.wanted)
			tc.run(h)
			got := describe(h.logged())
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			ids := map[string]bool{}
			for _, ev := range h.logged() {
				if !strings.HasPrefix(ev.ID, "evt_") || ids[ev.ID] || ev.Contact != key || !ev.At.Equal(h.clock.Now()) && ev.At.After(h.clock.Now()) {
					t.Fatalf("event %+v: want a new evt_ id, contact %s, a time", ev, key)
				}
				ids[ev.ID] = true
			}
		})
	}
}

// TestEventsNotForRolledBackWork: a change the store refuses (a
// redelivered message: ErrDuplicate) or that fails records no event.
func TestEventsNotForRolledBackWork(t *testing.T) {
	h := newHarness(t, helpFlow)
	h.eng.RecordEvents(func(model.EventType) bool { return true })
	h.sayID("1", "wamid.same", "hi")
	before := len(h.logged())
	out := h.sayID("1", "wamid.same", "hi")
	if !out.Duplicate {
		t.Fatalf("redelivery: %+v, want a duplicate", out)
	}
	if n := len(h.logged()); n != before {
		t.Fatalf("a refused change logged %d events", n-before)
	}
	// A commit that fails (the context ends before the store takes it).
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	_, err := h.eng.HandleInbound(ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.cancelled", WaID: "1", At: h.clock.Now(),
		Reply: flows.Reply{Type: flows.MsgText, Text: "more"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled commit: %v", err)
	}
	if n := len(h.logged()); n != before {
		t.Fatalf("a failed commit logged %d events", n-before)
	}
}

// BenchmarkEventRecording measures inbound messages per second through
// the engine and bbolt, 64 conversations at once, with no event wanted
// (no subscription: nothing is built) and with every event wanted (each
// message records message.received, the first also conversation.started).
func BenchmarkEventRecording(b *testing.B) {
	for _, wanted := range []bool{false, true} {
		b.Run(fmt.Sprintf("events=%v", wanted), func(b *testing.B) {
			ctx := context.Background()
			st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e, err := engine.New(ctx, engine.Options{Store: st, Clock: engine.SystemClock{}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			if _, ps, err := e.Publish(ctx, []byte(engine.BenchFlow), "bench"); err != nil {
				b.Fatal(err, ps.Err())
			}
			if wanted {
				e.RecordEvents(func(model.EventType) bool { return true })
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					wa := fmt.Sprint("c", c)
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						in := &engine.Inbound{PhoneNumberID: "p", ID: fmt.Sprintf("w.%s.%d", wa, i), WaID: wa, At: time.Now(),
							Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}
						if _, err := e.HandleInbound(ctx, in); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
