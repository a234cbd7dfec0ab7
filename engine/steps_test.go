package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

const stepsFlow = `{"format": "parley/flow@1", "id": "steps", "start": "hi",
 "triggers": [{"type": "keyword", "keywords": ["steps"]}],
 "nodes": [
  {"id": "hi", "type": "send", "message": {"type": "text", "text": "hi"}, "next": "ask"},
  {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "a number?"},
   "accept": "number", "retry": {"type": "text", "text": "a number, please"}, "max_retries": 1,
   "on_invalid": "bye", "save_as": "n", "next": "keep"},
  {"id": "keep", "type": "set", "vars": {"big": "reply.number > 5"}, "next": "route"},
  {"id": "route", "type": "branch", "cases": [{"when": "vars.big == true", "next": "bye"}], "default": "ask"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}
 ]}`

// Each node run is a step of the conversation, with the exit it took or
// why it stopped there; nodes that send nothing are among them.
func TestStepsRecordThePath(t *testing.T) {
	ctx := context.Background()
	step := func(node, exit, stop string) model.Step { return model.Step{Node: node, Exit: exit, Stop: stop} }
	tests := []struct {
		name    string
		replies []string
		want    []model.Step
	}{
		{"waits at the question", nil, []model.Step{
			step("hi", "next", ""), step("ask", "", "waiting"),
		}},
		{"a retry, then a big number", []string{"what?", "7"}, []model.Step{
			step("hi", "next", ""), step("ask", "", "waiting"),
			step("ask", "", "waiting"),
			step("ask", "next", ""), step("keep", "next", ""), step("route", "cases/0", ""), step("bye", "", "ended"),
		}},
		{"a small number loops back", []string{"2"}, []model.Step{
			step("hi", "next", ""), step("ask", "", "waiting"),
			step("ask", "next", ""), step("keep", "next", ""), step("route", "default", ""), step("ask", "", "waiting"),
		}},
		{"misfits take on_invalid", []string{"a", "b"}, []model.Step{
			step("hi", "next", ""), step("ask", "", "waiting"),
			step("ask", "", "waiting"),
			step("ask", "on_invalid", ""), step("bye", "", "ended"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t)
			if _, ps, err := e.Publish(ctx, []byte(stepsFlow), "test"); err != nil {
				t.Fatalf("%v: %v", err, ps.Err())
			}
			out, err := e.HandleInbound(ctx, inbound("1", "w0", "steps"))
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range tc.replies {
				if _, err := e.HandleInbound(ctx, inbound("1", fmt.Sprintf("w%d", i+1), r)); err != nil {
					t.Fatal(err)
				}
			}
			conv, err := e.Store().Conversation(ctx, out.Conversation)
			if err != nil {
				t.Fatal(err)
			}
			got := conv.Steps
			if len(got) != len(tc.want) {
				t.Fatalf("steps = %+v, want %+v", got, tc.want)
			}
			for i, s := range got {
				if s.At.IsZero() {
					t.Errorf("step %d has no time", i)
				}
				s.At = tc.want[i].At
				if s != tc.want[i] {
					t.Errorf("step %d = %+v, want %+v", i, s, tc.want[i])
				}
			}
		})
	}
}

// A failure is a step with its reason.
func TestStepsRecordFailure(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	bad := publishTwoStep(t, e, "bad")
	bad.Node("a").Type = testPanicType
	out, err := e.HandleInbound(ctx, inbound("1", "w1", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	conv, _ := e.Store().Conversation(ctx, out.Conversation)
	if n := len(conv.Steps); n != 1 {
		t.Fatalf("steps = %+v, want one", conv.Steps)
	}
	s := conv.Steps[0]
	if s.Node != "a" || s.Stop != model.StopFailed || !strings.Contains(s.Reason, "crashed: boom") {
		t.Errorf("step = %+v, want a failure at a with the reason", s)
	}
}

// A conversation keeps only its last MaxSteps steps.
func TestStepsAreCapped(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	if _, ps, err := e.Publish(ctx, []byte(stepsFlow), "test"); err != nil {
		t.Fatalf("%v: %v", err, ps.Err())
	}
	out, err := e.HandleInbound(ctx, inbound("1", "w0", "steps"))
	if err != nil {
		t.Fatal(err)
	}
	// Each small number runs ask, keep, route and waits at ask: 4 steps.
	const loops = model.MaxSteps/4 + 10
	for i := range loops {
		if _, err := e.HandleInbound(ctx, inbound("1", fmt.Sprintf("w%d", i+1), "1")); err != nil {
			t.Fatal(err)
		}
	}
	conv, err := e.Store().Conversation(ctx, out.Conversation)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Steps) != model.MaxSteps {
		t.Fatalf("%d steps, want %d", len(conv.Steps), model.MaxSteps)
	}
	if last := conv.Steps[len(conv.Steps)-1]; last.Node != "ask" || last.Stop != model.StopWaiting {
		t.Errorf("last step = %+v, want the wait at ask", last)
	}
	if first := conv.Steps[0]; first.Node == "hi" {
		t.Errorf("first step = %+v: the oldest were not dropped", first)
	}
}
