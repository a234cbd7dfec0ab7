package engine

import (
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// benchFlow takes five node steps per customer message: wait_reply (the
// reply) → set → branch → send → wait_reply (parks).
// benchFlow is shared with BenchmarkDurableEvents (durable_bench_test.go).
const benchFlow = `{"format": "parley/flow@1", "id": "bench", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "save_as": "said", "timeout": "1h", "on_timeout": "done", "next": "count"},
  {"id": "count", "type": "set", "vars": {"n": "(vars.n ?? 0) + 1"}, "next": "route"},
  {"id": "route", "type": "branch", "cases": [{"when": "vars.said == 'stop'", "next": "done"}], "default": "answer"},
  {"id": "answer", "type": "send", "message": {"type": "text", "text": "#{{ vars.n }}: {{ vars.said }}"}, "next": "ask"},
  {"id": "done", "type": "send", "message": {"type": "text", "text": "bye"}}
 ]}`

const benchStepsPerEvent = 5

// BenchmarkSteps measures node steps per second in memory: the runner and
// the nodes, without the store.
func BenchmarkSteps(b *testing.B) {
	f := flows.MustParse([]byte(benchFlow))
	e := &Engine{log: slog.New(slog.DiscardHandler)}
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	contact := &model.Contact{Key: "p:1", WaID: "1", LastInboundAt: now}
	conv := &model.Conversation{ID: "p:1#1", Contact: "p:1", Flow: "bench", Version: 1, Node: "ask", Vars: map[string]any{}}
	reply := &flows.Reply{Type: flows.MsgText, Text: "hello"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t := turn{e: e, now: now, contact: contact, conv: conv, flow: f}
		t.run("ask", inboundEvent(reply))
		if conv.Status != model.Waiting {
			b.Fatalf("status %s", conv.Status)
		}
		conv.Seq = 0
	}
	b.ReportMetric(float64(b.N*benchStepsPerEvent)/b.Elapsed().Seconds(), "steps/s")
}
