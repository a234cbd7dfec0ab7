package engine_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// closingFlow waits for a number of nights, with a last call 30 minutes
// before the window closes.
const closingFlow = `{"format": "parley/flow@1", "id": "closing", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "accept": "number", "save_as": "nights",
   "retry": {"type": "text", "text": "A number, please."},
   "on_window_closing": {"before": "30m", "next": "last_call"}, "next": "done"},
  {"id": "last_call", "type": "send", "message": {"type": "text", "text": "Last call"}, "next": "ask"},
  {"id": "done", "type": "send", "message": {"type": "text", "text": "Done"}}
 ]}`

// closingTimers is the conversation's live window-closing timers.
func closingTimers(conv *model.Conversation) []time.Time {
	var due []time.Time
	for _, tm := range conv.Timers {
		if tm.Kind == model.TimerWindowClosing {
			due = append(due, tm.Due)
		}
	}
	return due
}

// TestWindowClosingTimerFollowsTheWindow: the timer is due `before` ahead
// of WhatsApp's close, 24 h after the customer's last message, and a
// misfit, which keeps the conversation at the same wait, replaces it with
// one for the window the misfit opened (the old one leaves the store too).
func TestWindowClosingTimerFollowsTheWindow(t *testing.T) {
	h := newHarness(t, closingFlow)
	h.say("1", "hi")
	if got, want := closingTimers(h.conv("1")), []time.Time{t0.Add(23*time.Hour + 30*time.Minute)}; !equalTimes(got, want) {
		t.Fatalf("after the first message: window-closing timers %v, want %v", got, want)
	}
	h.clock.Advance(10 * time.Hour)
	h.say("1", "lots")
	if got := h.sent("1"); len(got) != 1 || got[0] != "A number, please." {
		t.Fatalf("misfit: sent %q, want the retry", got)
	}
	if got, want := closingTimers(h.conv("1")), []time.Time{t0.Add(33*time.Hour + 30*time.Minute)}; !equalTimes(got, want) {
		t.Fatalf("after a misfit: window-closing timers %v, want %v", got, want)
	}
	due, err := h.store.DueTimers(h.ctx, t0.Add(30*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range due {
		if tm.Kind == model.TimerWindowClosing {
			t.Errorf("the first window's timer (due %v) is still stored", tm.Due)
		}
	}
}

// TestWindowClosingNeedsAnOpenWindow: a conversation started with no
// window open (a scheduled start) has no last free-form message to send,
// so no timer is armed.
func TestWindowClosingNeedsAnOpenWindow(t *testing.T) {
	h := newHarness(t, closingFlow)
	key := model.NewContactKey(phone, "2")
	if _, err := h.eng.StartFlow(h.ctx, key, "closing", ""); err != nil {
		t.Fatal(err)
	}
	if got := closingTimers(h.conv("2")); len(got) != 0 {
		t.Errorf("window never opened: window-closing timers %v, want none", got)
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
