package engine_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
)

func TestDiffFlows(t *testing.T) {
	const base = `{"format": "parley/flow@1", "id": "f", "name": "F", "start": "a", "meta": {"notes": []},
	 "nodes": [
	  {"id": "a", "type": "send", "meta": {"x": 0, "y": 0}, "message": {"type": "text", "text": "hi"}, "next": "b"},
	  {"id": "b", "type": "wait_reply", "meta": {"x": 100, "y": 0, "label": "Ask"}, "next": "c"},
	  {"id": "c", "type": "send", "message": {"type": "text", "text": "bye"}}
	 ]}`
	for _, tc := range []struct {
		name  string
		old   string
		draft string
		want  engine.FlowDiff
		empty bool
	}{
		{"the same, spaced and ordered otherwise", base, strings.ReplaceAll(base, `"type": "send", "meta": {"x": 0, "y": 0}`, `"meta": {"y": 0, "x": 0},  "type": "send"`),
			engine.FlowDiff{}, true},
		{"nothing published: every node added", "", base,
			engine.FlowDiff{Added: []engine.DiffNode{{ID: "a", Type: "send"}, {ID: "b", Type: "wait_reply", Label: "Ask"}, {ID: "c", Type: "send"}}, Flow: []string{"format", "id", "name", "start"}, Layout: true}, false},
		{"a text changed", base, strings.Replace(base, `"hi"`, `"hello"`, 1),
			engine.FlowDiff{Changed: []engine.DiffNode{{ID: "a", Type: "send", Fields: []string{"message"}}}}, false},
		{"moved only: layout, no change", base, strings.Replace(base, `"x": 100`, `"x": 300`, 1),
			engine.FlowDiff{Layout: true}, true},
		{"a label is a change of meta", base, strings.Replace(base, `"label": "Ask"`, `"label": "Ask size"`, 1),
			engine.FlowDiff{Changed: []engine.DiffNode{{ID: "b", Type: "wait_reply", Label: "Ask size", Fields: []string{"meta"}}}}, false},
		{"a node removed, one added, an exit moved, the name changed", base,
			strings.Replace(strings.Replace(strings.Replace(base, `{"id": "c", "type": "send", "message": {"type": "text", "text": "bye"}}`, `{"id": "d", "type": "handoff", "queue": "support"}`, 1), `"next": "c"`, `"next": "d"`, 1), `"name": "F"`, `"name": "G"`, 1),
			engine.FlowDiff{Added: []engine.DiffNode{{ID: "d", Type: "handoff"}}, Removed: []engine.DiffNode{{ID: "c", Type: "send"}},
				Changed: []engine.DiffNode{{ID: "b", Type: "wait_reply", Label: "Ask", Fields: []string{"next"}}}, Flow: []string{"name"}}, false},
		{"sticky notes are layout", base, strings.Replace(base, `"notes": []`, `"notes": [{"text": "todo"}]`, 1),
			engine.FlowDiff{Layout: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := engine.DiffFlows([]byte(tc.old), []byte(tc.draft))
			if err != nil {
				t.Fatal(err)
			}
			norm := func(d engine.FlowDiff) engine.FlowDiff {
				if len(d.Added) == 0 {
					d.Added = nil
				}
				if len(d.Removed) == 0 {
					d.Removed = nil
				}
				if len(d.Changed) == 0 {
					d.Changed = nil
				}
				if len(d.Flow) == 0 {
					d.Flow = nil
				}
				return d
			}
			if g, w := norm(got), norm(tc.want); !reflect.DeepEqual(g, w) {
				t.Errorf("diff\n got %+v\nwant %+v", g, w)
			}
			if got.Empty() != tc.empty {
				t.Errorf("Empty() = %v, want %v", got.Empty(), tc.empty)
			}
		})
	}
	if _, err := engine.DiffFlows([]byte(base), []byte(`[1]`)); err == nil {
		t.Error("a draft that is not an object gave no error")
	}
}
