package ui_test

import (
	"net/http"
	"testing"
)

// labelledFlow names two of its nodes as the editor does (meta.label); its
// branch and set send nothing.
const labelledFlow = `{"format": "parley/flow@1", "id": "labelled", "start": "keep",
 "triggers": [{"type": "keyword", "keywords": ["steps"]}],
 "nodes": [
  {"id": "keep", "type": "set", "vars": {"n": "1"}, "next": "route", "meta": {"label": "Remember"}},
  {"id": "route", "type": "branch", "cases": [{"when": "vars.n == 1", "next": "ask"}], "default": "ask"},
  {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "yes?"}, "next": "ask", "meta": {"label": "Ask again"}}
 ]}`

// dan is a customer the seeded world does not know.
const dan = "15550000004"

// The conversation's answer holds the steps the bot took, nodes that send
// nothing among them, and the labels of its flow's nodes.
func TestConversationSteps(t *testing.T) {
	steps := func(t *testing.T) *fixture {
		f := seeded(t)
		f.publish(labelledFlow)
		f.say(dan, "steps")
		return f
	}
	runOn(t, steps, []scenario{
		{
			name: "steps and labels", method: "GET", url: "/api/v1/conversations/" + pathID(convID(dan, 1)),
			status: http.StatusOK,
			want: []string{
				`"steps":[{"node":"keep","exit":"next","at":"2026-01-05T12:04:00Z"},{"node":"route","exit":"cases/0","at":"2026-01-05T12:04:00Z"},{"node":"ask","stop":"waiting","at":"2026-01-05T12:04:00Z"}]`,
				`"labels":{"ask":"Ask again","keep":"Remember"}`,
			},
		},
		{
			name: "a timeout is a step; a flow without labels has none", method: "GET", url: "/api/v1/conversations/" + pathID(convID(cyd, 1)),
			status: http.StatusOK,
			want:   []string{`"labels":{}`, `"steps":[{"node":"ask","stop":"waiting","at":"2026-01-05T10:00:00Z"},{"node":"ask","exit":"on_timeout",`, `{"node":"bye","stop":"ended",`},
		},
	})
}
