package flows

import (
	"strings"
	"testing"
)

// TestOnError: on_error is an exit of send, wait_reply and template (it
// must name a node, it makes its target reachable, and it counts for the
// loop rule: a message refused as rendered takes it at once), and of no
// other node type.
func TestOnError(t *testing.T) {
	const head = `"format":"parley/flow@1","id":"f","start":"a"`
	doc := func(nodes string) string { return `{` + head + `,"nodes":[` + nodes + `]}` }
	text := `{"type":"text","text":"x"}`
	bye := `{"id":"bye","type":"send","message":` + text + `}`
	await := `{"id":"await","type":"wait_reply","next":"bye"}`
	sorry := `{"id":"sorry","type":"send","message":` + text + `}`
	type want struct{ severity, ptr, msg string }
	tests := []struct {
		name string
		doc  string
		want []want // every problem, in order
	}{
		{"send", doc(`{"id":"a","type":"send","message":` + text + `,"next":"bye","on_error":"sorry"},` + bye + `,` + sorry), nil},
		{"wait_reply prompt", doc(`{"id":"a","type":"wait_reply","prompt":` + text + `,"next":"bye","on_error":"sorry"},` + bye + `,` + sorry), nil},
		{"wait_reply retry only", doc(`{"id":"a","type":"wait_reply","accept":"number","retry":` + text + `,"next":"bye","on_error":"sorry"},` + bye + `,` + sorry), nil},
		{"template", doc(`{"id":"a","type":"template","template":{"name":"t","language":"en"},"next":"await","on_error":"sorry"},` + await + `,` + bye + `,` + sorry), nil},
		{"names no node", doc(`{"id":"a","type":"send","message":` + text + `,"next":"sorry","on_error":"sory"},` + sorry),
			[]want{{"error", "/nodes/0/on_error", `names node "sory", which does not exist; did you mean "sorry"?`}}},
		{"template names no node", doc(`{"id":"a","type":"template","template":{"name":"t","language":"en"},"on_error":"gone"}`),
			[]want{{"error", "/nodes/0/on_error", `names node "gone", which does not exist`}}},
		{"not on a branch", doc(`{"id":"a","type":"branch","default":"bye","on_error":"bye"},` + bye),
			[]want{{"error", "/nodes/0", `unknown field "on_error" (allowed here: cases, default, id, meta, type)`}}},
		{"not on a handoff", doc(`{"id":"a","type":"handoff","queue":"q","next":"bye","on_error":"bye"},` + bye),
			[]want{{"error", "/nodes/0", "unknown field \"on_error\""}}},
		{"only exit to a node", doc(`{"id":"a","type":"send","message":` + text + `,"on_error":"sorry"},` + sorry + `,` + bye),
			[]want{{"warning", "/nodes/2", `node "bye" cannot be reached: no exit, interrupt or reengage leads to it`}}},
		{"loop on itself", doc(`{"id":"a","type":"send","message":` + text + `,"next":"bye","on_error":"a"},` + bye),
			[]want{{"error", "/nodes/0", "loop with no wait in it: a → a; each pass runs without the customer, so it can spin until the conversation fails. Put a wait_reply, handoff or auto_reply on the loop"}}},
		{"loop through a prompt", doc(`{"id":"a","type":"wait_reply","prompt":` + text + `,"next":"bye","on_error":"b"},{"id":"b","type":"set","vars":{"n":"1"},"next":"a"},` + bye),
			[]want{{"error", "/nodes/0", "loop with no wait in it: a → b → a"}}},
		{"loop through a template", doc(`{"id":"a","type":"template","template":{"name":"t","language":"en"},"next":"await","on_error":"a"},` + await + `,` + bye),
			[]want{{"error", "/nodes/0", "loop with no wait in it: a → a"}}},
		{"a retry message goes after a reply", doc(`{"id":"a","type":"wait_reply","accept":"number","retry":` + text + `,"next":"bye","on_error":"b"},{"id":"b","type":"set","vars":{"n":"1"},"next":"a"},` + bye), nil},
		{"never taken", doc(`{"id":"a","type":"wait_reply","next":"bye","on_error":"sorry"},` + bye + `,` + sorry),
			[]want{{"warning", "/nodes/0/on_error", "is never taken: with no prompt and no retry message there is nothing to send"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Parse([]byte(tt.doc))
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(ps), len(tt.want), problemList(ps))
			}
			for i, w := range tt.want {
				p := ps[i]
				if string(p.Severity) != w.severity || p.Pointer != w.ptr || !strings.HasPrefix(p.Message, w.msg) {
					t.Errorf("problem %d: got %s, want %s %s %s", i, p, w.severity, w.ptr, w.msg)
				}
			}
		})
	}
}
