package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// twoBubbles answers every message with two messages.
const twoBubbles = `{"format": "parley/flow@1", "id": "two", "start": "a",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "a", "type": "send", "message": {"type": "text", "text": "one"}, "next": "b"},
  {"id": "b", "type": "send", "message": {"type": "text", "text": "two"}, "next": "ask"},
  {"id": "ask", "type": "wait_reply", "timeout": "48h", "on_timeout": "a", "next": "a"}
 ]}`

// readRecorder is a Sender and a ReadMarker that records what it is asked.
type readRecorder struct {
	faultySender
	mu    sync.Mutex
	fail  error
	marks []string // wamid, "+typing" when with a typing indicator
}

func (r *readRecorder) MarkRead(_ context.Context, wamid string, typing bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if typing {
		wamid += "+typing"
	}
	r.marks = append(r.marks, wamid)
	return r.fail
}

func (r *readRecorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.marks)
}

// runReceipts runs receipts for a test's length.
func runReceipts(t *testing.T, h *harness, rec *readRecorder, read, typing bool) *engine.Receipts {
	t.Helper()
	r := h.eng.NewReceipts(engine.ReceiptOptions{Marker: rec, Read: read, Typing: typing})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// A reply, the bot's, marks the customer's latest message read as it goes,
// once however many bubbles it has; a failing mark-read fails no send.
func TestRepliesMarkRead(t *testing.T) {
	cases := []struct {
		name string
		read bool
		fail error
		want []string
	}{
		{"on", true, nil, []string{"wamid.1", "wamid.2"}},
		{"off", false, nil, nil},
		{"refused", true, &whatsapp.APIError{HTTPStatus: 400, Code: 131009}, []string{"wamid.1", "wamid.2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, twoBubbles)
			rec := &readRecorder{fail: tc.fail}
			r := runReceipts(t, h, rec, tc.read, true)
			d := h.eng.NewDispatcher(engine.DispatchOptions{Sender: rec, Receipts: r, Poll: 2 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			defer func() { cancel(); <-done }()

			for i, text := range []string{"hi", "again"} {
				h.say("15550001111", text)
				waitFor(t, "both replies sent", func() bool { _, _, acc := rec.stats(); return len(acc) == 2*(i+1) })
			}
			if tc.want != nil {
				waitFor(t, "the mark-reads", func() bool { return len(rec.calls()) >= len(tc.want) })
			}
			if got := rec.calls(); !slices.Equal(got, tc.want) {
				t.Errorf("mark-reads %q, want %q", got, tc.want)
			}
		})
	}
}

// An agent typing shows a typing indicator on the customer's latest
// message: at most once per TypingEvery, only while the 24-hour window is
// open, and the reply that follows does not mark that message read again.
func TestTyping(t *testing.T) {
	h := newHarness(t, echoFlow)
	rec := &readRecorder{}
	r := runReceipts(t, h, rec, true, true)
	h.say("15550001111", "hi")
	conv := h.say("15550001111", "help").Conversation

	steps := []struct {
		name    string
		advance time.Duration
		shown   bool
		calls   []string
	}{
		{"shown", 0, true, []string{"wamid.2+typing"}},
		{"still showing", time.Second, true, []string{"wamid.2+typing"}},
		{"shown again", engine.TypingEvery, true, []string{"wamid.2+typing", "wamid.2+typing"}},
		{"window closed", 25 * time.Hour, false, []string{"wamid.2+typing", "wamid.2+typing"}},
	}
	for _, s := range steps {
		h.clock.Advance(s.advance)
		shown, err := r.Typing(h.ctx, conv)
		if err != nil || shown != s.shown {
			t.Fatalf("%s: shown %v, err %v; want %v", s.name, shown, err, s.shown)
		}
		if got := rec.calls(); !slices.Equal(got, s.calls) {
			t.Fatalf("%s: calls %q, want %q", s.name, got, s.calls)
		}
	}
	if _, err := r.Typing(h.ctx, "nope"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("unknown conversation: %v, want ErrNotFound", err)
	}

	// The reply after a typing indicator: that message is read already.
	h2 := newHarness(t, echoFlow)
	rec2 := &readRecorder{}
	r2 := runReceipts(t, h2, rec2, true, true)
	h2.say("15550002222", "hi")
	conv2 := h2.say("15550002222", "help").Conversation
	if shown, err := r2.Typing(h2.ctx, conv2); !shown || err != nil {
		t.Fatalf("typing: %v, %v", shown, err)
	}
	// The dispatcher starts only now: the typing indicator comes first, as
	// an agent types before sending (started earlier, the reply could win
	// the race on a busy machine and mark the message read itself).
	d := h2.eng.NewDispatcher(engine.DispatchOptions{Sender: rec2, Receipts: r2, Poll: 2 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the reply", func() bool { _, _, acc := rec2.stats(); return len(acc) == 1 })
	h2.say("15550002222", "more")
	waitFor(t, "the second reply", func() bool { _, _, acc := rec2.stats(); return len(acc) == 2 })
	waitFor(t, "its mark-read", func() bool { return len(rec2.calls()) == 2 })
	if got, want := rec2.calls(), []string{"wamid.2+typing", "wamid.3"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// With typing indicators off, none is shown.
func TestTypingOff(t *testing.T) {
	h := newHarness(t, echoFlow)
	rec := &readRecorder{}
	r := runReceipts(t, h, rec, true, false)
	conv := h.say("15550001111", "hi").Conversation
	if shown, err := r.Typing(h.ctx, conv); shown || err != nil {
		t.Errorf("typing off: shown %v, err %v", shown, err)
	}
	if got := rec.calls(); len(got) != 0 {
		t.Errorf("calls %q, want none", got)
	}
}
