package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/nodes"
)

// testPanicType is a node type that always panics; tests swap it into a
// published flow in memory, since no valid flow can name it.
const testPanicType = "test_panic"

func init() {
	nodes.Register(testPanicType, nodes.TypeFunc(func(*flows.Node, *nodes.View, nodes.Event) nodes.Effects {
		panic("boom")
	}))
}

const twoStepFlow = `{"format": "parley/flow@1", "id": "%s", "start": "a",
 "triggers": [{"type": "keyword", "keywords": ["%s"]}],
 "nodes": [
  {"id": "a", "type": "send", "message": {"type": "text", "text": "a"}, "next": "b"},
  {"id": "b", "type": "wait_reply", "next": "a"}
 ]}`

func newTestEngine(t *testing.T) *engine.Engine {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := engine.New(context.Background(), engine.Options{Store: st, Clock: engine.NewManualClock(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func publishTwoStep(t *testing.T, e *engine.Engine, id string) *flows.Flow {
	t.Helper()
	doc := strings.ReplaceAll(twoStepFlow, "%s", id)
	v, ps, err := e.Publish(context.Background(), []byte(doc), "test")
	if err != nil {
		t.Fatalf("%v: %v", err, ps.Err())
	}
	f, err := e.Flow(context.Background(), v.Flow, v.Version)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func inbound(wa, id, text string) *engine.Inbound {
	return &engine.Inbound{PhoneNumberID: "p", ID: id, WaID: wa, Reply: flows.Reply{Type: flows.MsgText, Text: text}}
}

// A node that panics fails its own conversation, with the reason, and no
// other.
func TestPanicFailsOnlyItsConversation(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	bad := publishTwoStep(t, e, "bad")
	publishTwoStep(t, e, "good")
	bad.Node("a").Type = testPanicType

	out, err := e.HandleInbound(ctx, inbound("1", "w1", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	conv, _ := e.Store().Conversation(ctx, out.Conversation)
	if conv.Status != model.Failed || !strings.Contains(conv.Reason, "crashed: boom") {
		t.Fatalf("status %s reason %q, want failed with the panic", conv.Status, conv.Reason)
	}
	if out, err := e.HandleInbound(ctx, inbound("2", "w2", "good")); err != nil || out.Status != model.Waiting {
		t.Fatalf("other conversation: %+v %v, want waiting", out, err)
	}
}

// A loop with no wait (which the validator refuses, so it is made in
// memory here) stops at engine.MaxStepsPerEvent and fails the conversation.
func TestRunawayFlowStopsAtStepCap(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	f := publishTwoStep(t, e, "loop")
	*f.Node("b") = flows.Node{ID: "b", Type: flows.TypeSet, SetVars: map[string]string{"n": "1"}, Next: "a"}

	out, err := e.HandleInbound(ctx, inbound("1", "w1", "loop"))
	if err != nil {
		t.Fatal(err)
	}
	conv, _ := e.Store().Conversation(ctx, out.Conversation)
	if conv.Status != model.Failed || !strings.Contains(conv.Reason, "without waiting") {
		t.Fatalf("status %s reason %q, want failed at the step cap", conv.Status, conv.Reason)
	}
}
