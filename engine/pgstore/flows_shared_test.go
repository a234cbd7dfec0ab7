package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

const greetFlow = `{"format": "parley/flow@1", "id": "greet", "start": "hi",
 "triggers": [{"type": "keyword", "keywords": ["hello"]}],
 "nodes": [{"id": "hi", "type": "send", "message": {"type": "text", "text": "Hi!"}}]}`

// TestFlowPublishedElsewhere: a flow published through one process starts
// conversations in another that shares the database, once the other's
// timer loop has read the published flows again (SharedFlowsRefresh).
func TestFlowPublishedElsewhere(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	clock := engine.NewManualClock(t0)
	newEngine := func(st model.Store) *engine.Engine {
		eng, err := engine.New(ctx, engine.Options{Store: st, Clock: clock, Templates: templates.NewSet(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	engA, engB := newEngine(a), newEngine(b)
	if _, problems, err := engA.Publish(ctx, []byte(greetFlow), "ann"); err != nil || problems.HasErrors() {
		t.Fatalf("publish: %v %v", err, problems.Err())
	}

	n := 0
	hello := func() engine.Outcome {
		t.Helper()
		n++
		out, err := engB.HandleInbound(ctx, &engine.Inbound{PhoneNumberID: "100", ID: fmt.Sprintf("wamid.%d", n),
			WaID: fmt.Sprintf("1555000%04d", n), At: clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := hello(); out.Conversation != "" {
		t.Fatalf("process B started %s before reading the published flows", out.Conversation)
	}

	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); engB.RunTimers(loopCtx, 5*time.Millisecond) }()
	defer func() { stop(); <-done }()
	clock.Advance(engine.SharedFlowsRefresh)
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		if out := hello(); out.Conversation != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("process B never started the flow published through A")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
