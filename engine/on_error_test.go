package engine_test

import (
	"bytes"
	"context"
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
	"github.com/parleyhq/parley/whatsapp"
)

// whoFlow asks with a button titled by the customer's profile name, and
// echoes what they say; every message node has an on_error when withExit.
func whoFlow(withExit bool) string {
	onError := func(to string) string {
		if !withExit {
			return ""
		}
		return `, "on_error": "` + to + `"`
	}
	return `{"format": "parley/flow@1", "id": "who", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "save_as": "who",
   "prompt": {"type": "buttons", "text": "Who is writing?",
              "buttons": [{"id": "other", "title": "Someone else"}, {"id": "me", "title": "{{ contact.name }}"}]},
   "next": "echo"` + onError("plain") + `},
  {"id": "plain", "type": "wait_reply", "prompt": {"type": "text", "text": "Who is writing? Type your name."}, "save_as": "who", "next": "echo"},
  {"id": "echo", "type": "send", "message": {"type": "text", "text": "You said: {{ reply.text }}"}, "next": "more"` + onError("sorry") + `},
  {"id": "more", "type": "wait_reply", "save_as": "more", "next": "done"},
  {"id": "sorry", "type": "send", "message": {"type": "text", "text": "Sorry, that did not work."}, "next": "more"},
  {"id": "done", "type": "send", "message": {"type": "text", "text": "Done."}}
 ]}`
}

// onErrorHarness is a harness on whoFlow whose engine logs to the buffer
// it returns.
func onErrorHarness(t *testing.T, withExit bool) (*harness, *syncBuffer) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	h := &harness{t: t, ctx: t.Context(), clock: engine.NewManualClock(t0), store: st}
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Templates: templates.NewSet(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	h.publish(whoFlow(withExit))
	return h, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// named says text as a customer whose profile name is name.
func (h *harness) named(waID, name, text string) engine.Outcome {
	h.t.Helper()
	h.seq++
	out, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{
		PhoneNumberID: phone, ID: fmt.Sprintf("wamid.named.%d", h.seq), WaID: waID, Name: name, At: h.clock.Now(),
		Reply: flows.Reply{Type: flows.MsgText, Text: text},
	})
	if err != nil {
		h.t.Fatalf("inbound: %v", err)
	}
	return out
}

// nodeStats is one node's analytics today.
func (h *harness) nodeStats(node string) engine.NodeStats {
	h.t.Helper()
	a, err := h.eng.FlowAnalytics(h.ctx, "who", t0, t0, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	if s := a.Nodes[node]; s != nil {
		return *s
	}
	return engine.NodeStats{}
}

const (
	shortName = "Ann"
	longName  = "Ann-Margaret Featherstonehaug" // 29 characters
)

// A message that, as rendered, breaks a WhatsApp limit is never queued:
// the node takes on_error, or without one the conversation fails with a
// reason that says which limit, where. Nothing waits on it.
func TestRenderedMessageOverItsLimit(t *testing.T) {
	long := strings.Repeat("x", 4090) // "You said: " + 4090 > 4096
	tests := []struct {
		name       string
		withExit   bool
		profile    string
		say        []string
		wantSent   []string
		wantStatus model.Status
		wantNode   string
		wantReason string
		exitAt     string // node whose on_error exit is counted
		failedAt   string // node whose failed drop-off is counted
	}{
		{name: "fits", withExit: true, profile: shortName, say: []string{"hi"},
			wantSent: []string{"Who is writing?"}, wantStatus: model.Waiting, wantNode: "ask"},
		{name: "title over 20, on_error", withExit: true, profile: longName, say: []string{"hi"},
			wantSent: []string{"Who is writing? Type your name."}, wantStatus: model.Waiting, wantNode: "plain", exitAt: "ask"},
		{name: "title over 20, no on_error", profile: longName, say: []string{"hi"},
			wantStatus: model.Failed, wantNode: "ask", failedAt: "ask",
			wantReason: `node "ask"'s prompt cannot be sent as rendered: button 2's title is 29 characters; WhatsApp allows 20`},
		{name: "text over 4096, on_error", withExit: true, profile: shortName, say: []string{"hi", long},
			wantSent: []string{"Who is writing?", "Sorry, that did not work."}, wantStatus: model.Waiting, wantNode: "more", exitAt: "echo"},
		{name: "text over 4096, no on_error", profile: shortName, say: []string{"hi", long},
			wantSent: []string{"Who is writing?"}, wantStatus: model.Failed, wantNode: "echo", failedAt: "echo",
			wantReason: `node "echo"'s message cannot be sent as rendered: the text is 4100 characters; WhatsApp allows 4096`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := onErrorHarness(t, tc.withExit)
			var sent []string
			for _, s := range tc.say {
				h.named("1", tc.profile, s)
				sent = append(sent, h.sent("1")...)
			}
			equal(t, sent, tc.wantSent)
			conv := h.conv("1")
			if conv.Status != tc.wantStatus || conv.Node != tc.wantNode || conv.Reason != tc.wantReason {
				t.Errorf("conversation %s at %q, reason %q; want %s at %q, %q", conv.Status, conv.Node, conv.Reason, tc.wantStatus, tc.wantNode, tc.wantReason)
			}
			if tc.exitAt != "" {
				if s := h.nodeStats(tc.exitAt); s.Exits["on_error"] != 1 {
					t.Errorf("%s exits %v, want on_error 1", tc.exitAt, s.Exits)
				}
			}
			if tc.failedAt != "" {
				if s := h.nodeStats(tc.failedAt); s.Dropped.Failed != 1 {
					t.Errorf("%s dropped %+v, want failed 1", tc.failedAt, s.Dropped)
				}
			}
			refused := tc.exitAt != "" || tc.failedAt != ""
			if got := strings.Contains(logs.String(), "message refused before sending"); got != refused {
				t.Errorf("refusal logged %v, want %v:\n%s", got, refused, logs)
			}
			if strings.Contains(logs.String(), longName) || strings.Contains(logs.String(), long) {
				t.Errorf("the log holds the customer's text:\n%s", logs)
			}
		})
	}
}

// failingSender is Meta accepting every send but those of the nodes in
// fail, which it refuses with their error.
type failingSender struct {
	recordingSender
	fail map[string]error
}

func (s *failingSender) Send(ctx context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	parts := strings.Split(m.BizOpaqueCallbackData, "|")
	if err := s.fail[parts[len(parts)-1]]; err != nil {
		return whatsapp.SendResult{}, err
	}
	return s.recordingSender.Send(ctx, m)
}

func texts(ms []*whatsapp.OutboundMessage) []string {
	var out []string
	for _, m := range ms {
		switch {
		case m.Text != nil:
			out = append(out, m.Text.Body)
		case m.Interactive != nil:
			out = append(out, m.Interactive.Body.Text)
		}
	}
	return out
}

func apiError(code int) error {
	return &whatsapp.APIError{HTTPStatus: 400, Code: code, Message: fmt.Sprintf("(#%d) refused", code)}
}

// A message that fails for good after it was queued — refused by Meta
// when sent, failed in a status webhook, or refused by the dispatcher —
// moves the conversation waiting on it: down the node's on_error, or to
// failed with the reason. Each is logged at WARN with its code,
// conversation and node.
func TestMessageFailedForGood(t *testing.T) {
	tests := []struct {
		name       string
		withExit   bool
		sendErr    error // the dispatcher's send of "ask"'s prompt
		status     int   // else: a failed status for it, with this code
		wantSent   []string
		wantStatus model.Status
		wantNode   string
		wantReason string
		wantCode   string
	}{
		{name: "unsupported at send, on_error", withExit: true, sendErr: apiError(131051),
			wantSent: []string{"Who is writing? Type your name."}, wantStatus: model.Waiting, wantNode: "plain", wantCode: "131051"},
		{name: "unsupported at send, no on_error", sendErr: apiError(131051),
			wantStatus: model.Failed, wantNode: "ask", wantCode: "131051",
			wantReason: `node "ask"'s message was not delivered (131051: whatsapp: graph api error 131051 (HTTP 400): (#131051) refused)`},
		{name: "invalid at the client, on_error", withExit: true, sendErr: &whatsapp.InvalidMessageError{Problems: []string{"the body text is empty"}},
			wantSent: []string{"Who is writing? Type your name."}, wantStatus: model.Waiting, wantNode: "plain", wantCode: "0"},
		{name: "failed status, on_error", withExit: true, status: 131052,
			wantSent: []string{"Who is writing?", "Who is writing? Type your name."}, wantStatus: model.Waiting, wantNode: "plain", wantCode: "131052"},
		{name: "failed status, no on_error", status: 131052,
			wantSent: []string{"Who is writing?"}, wantStatus: model.Failed, wantNode: "ask", wantCode: "131052",
			wantReason: `node "ask"'s message was not delivered (131052: failed: details)`},
		{name: "undeliverable status, on_error", withExit: true, status: engine.CodeUndeliverable,
			// the contact is unreachable now: on_error's prompt is refused
			// by the dispatcher too, and plain has no on_error
			wantSent: []string{"Who is writing?"}, wantStatus: model.Failed, wantNode: "plain", wantCode: "131026",
			wantReason: `node "plain"'s message was not delivered (the contact is unreachable`},
		{name: "ecosystem hold status, on_error", withExit: true, status: engine.CodeEcosystemLimit,
			wantSent: []string{"Who is writing?", "Who is writing? Type your name."}, wantStatus: model.Waiting, wantNode: "plain", wantCode: "131049"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, logs := onErrorHarness(t, tc.withExit)
			h.named("1", shortName, "hi")
			sender := &failingSender{fail: map[string]error{}}
			if tc.sendErr != nil {
				sender.fail["ask"] = tc.sendErr
			}
			drain(t, h.eng, sender)
			if tc.status != 0 {
				h.clock.Advance(time.Second)
				conv := h.conv("1")
				st := &whatsapp.Status{ID: "wamid.out.1", Status: whatsapp.StatusFailed, BizOpaqueCallbackData: conv.ID + "|2|ask",
					Errors: []whatsapp.Error{{Code: tc.status, Title: "failed", Details: "details"}}}
				for range 2 { // a redelivery moves nothing more
					if err := h.eng.HandleStatus(h.ctx, st); err != nil {
						t.Fatal(err)
					}
					drain(t, h.eng, sender)
				}
			}
			equal(t, texts(sender.all()), tc.wantSent)
			conv := h.conv("1")
			if conv.Status != tc.wantStatus || conv.Node != tc.wantNode || !strings.HasPrefix(conv.Reason, tc.wantReason) || (tc.wantReason == "") != (conv.Reason == "") {
				t.Errorf("conversation %s at %q, reason %q; want %s at %q, %q", conv.Status, conv.Node, conv.Reason, tc.wantStatus, tc.wantNode, tc.wantReason)
			}
			if tc.withExit {
				if s := h.nodeStats("ask"); s.Exits["on_error"] != 1 || s.Sends.Failed != 1 {
					t.Errorf("ask: exits %v, sends %+v; want on_error 1, failed 1", s.Exits, s.Sends)
				}
			} else if s := h.nodeStats("ask"); s.Dropped.Failed != 1 {
				t.Errorf("ask dropped %+v, want failed 1", s.Dropped)
			}
			want := fmt.Sprintf(`level=WARN msg="message failed for good" code=%s conversation=%s seq=2 node=ask`, tc.wantCode, conv.ID)
			if !strings.Contains(logs.String(), want) {
				t.Errorf("no %q in the log:\n%s", want, logs)
			}
		})
	}
}

// A failure moves only a conversation that waits on the message: not one
// the customer has written to since, not one an agent holds, not the
// conversation after the one that sent it. A 131047 keeps its own path
// (on_window_closed, reengage) even where on_error is set.
func TestMessageFailedLeavesMovedOnConversations(t *testing.T) {
	const agentFlow = `{"format": "parley/flow@1", "id": "desk", "start": "hand",
	 "triggers": [{"type": "any"}],
	 "nodes": [
	  {"id": "hand", "type": "handoff", "queue": "support", "message": {"type": "text", "text": "Connecting you…"}, "next": "bye"},
	  {"id": "bye", "type": "send", "message": {"type": "text", "text": "Bye."}}
	 ]}`
	failed := func(h *harness, conv string, seq uint64, node string, code int) {
		t.Helper()
		err := h.eng.HandleStatus(h.ctx, &whatsapp.Status{ID: "wamid.x", Status: whatsapp.StatusFailed,
			BizOpaqueCallbackData: fmt.Sprintf("%s|%d|%s", conv, seq, node), Errors: []whatsapp.Error{{Code: code, Title: "failed"}}})
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the customer wrote since", func(t *testing.T) {
		h, _ := onErrorHarness(t, true)
		h.named("1", shortName, "hi") // ask's prompt: seq 2
		h.named("1", shortName, "me") // seq 3; echo: seq 4; waits at more
		h.sent("1")
		failed(h, h.conv("1").ID, 2, "ask", 131052)
		if got := h.conv("1"); got.Status != model.Waiting || got.Node != "more" {
			t.Errorf("conversation %s at %q, want waiting at more", got.Status, got.Node)
		}
		equal(t, h.sent("1"), nil)
	})
	t.Run("an agent holds it", func(t *testing.T) {
		h := newHarness(t, agentFlow)
		key := model.NewContactKey(phone, "2")
		h.say("2", "hi") // the handoff's message: seq 2
		if err := h.eng.AgentReply(h.ctx, key, "sam", flows.Message{Type: flows.MsgText, Text: "hello"}); err != nil {
			t.Fatal(err) // seq 3
		}
		h.sent("2")
		conv := h.conv("2").ID
		failed(h, conv, 3, "", 131052) // the agent's own message
		failed(h, conv, 2, "hand", 131052)
		if got := h.conv("2"); got.Status != model.Agent || got.Node != "hand" {
			t.Errorf("conversation %s at %q, want agent at hand", got.Status, got.Node)
		}
		equal(t, h.sent("2"), nil)
	})
	t.Run("the conversation ended", func(t *testing.T) {
		h, _ := onErrorHarness(t, false)
		h.named("1", shortName, "hi")
		h.named("1", shortName, "me")
		h.named("1", shortName, "done") // "Done.", seq 6: ended
		h.named("1", shortName, "hi")   // a second conversation waits at ask
		h.sent("1")
		failed(h, string(model.NewContactKey(phone, "1"))+"#1", 6, "done", 131052)
		if got := h.conv("1"); got.Status != model.Waiting || got.Node != "ask" || !strings.HasSuffix(got.ID, "#2") {
			t.Errorf("conversation %s %s at %q, want the second waiting at ask", got.ID, got.Status, got.Node)
		}
	})
	t.Run("131047 keeps its own path", func(t *testing.T) {
		h, _ := onErrorHarness(t, true)
		h.named("1", shortName, "hi")
		h.named("1", shortName, "me") // echo: seq 4, which has on_error
		h.sent("1")
		failed(h, h.conv("1").ID, 4, "echo", engine.CodeWindowClosed)
		got := h.conv("1")
		if got.Status != model.Failed || !strings.Contains(got.Reason, "24-hour window closed") {
			t.Errorf("conversation %s, reason %q; want failed for the closed window", got.Status, got.Reason)
		}
		equal(t, h.sent("1"), nil)
	})
}

// A handoff has no on_error: its message, refused as rendered, is left
// out with a note, and the conversation goes to the agents all the same.
func TestHandoffMessageOverItsLimit(t *testing.T) {
	h := newHarness(t, `{"format": "parley/flow@1", "id": "desk", "start": "hand",
	 "triggers": [{"type": "any"}],
	 "nodes": [
	  {"id": "hand", "type": "handoff", "queue": "support",
	   "message": {"type": "buttons", "text": "Connecting you…", "buttons": [{"id": "me", "title": "{{ contact.name }}"}]}}
	 ]}`)
	out := h.named("1", longName, "hi")
	if out.Status != model.Agent {
		t.Fatalf("status %s, want agent", out.Status)
	}
	equal(t, h.sent("1"), nil)
	if tr := transcript(t, h, out.Conversation); !hasNote(tr, `handoff message not sent: node "hand"'s message cannot be sent as rendered: button 1's title is 29 characters; WhatsApp allows 20`) {
		t.Errorf("no note of the message left out: %+v", tr)
	}
}
