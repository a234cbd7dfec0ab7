package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
)

// remindFlow waits 25 h (the window closes), then sends a template, and an
// hour later another; a blocked template waits 25 h and tries again.
const remindFlow = `{"format": "parley/flow@1", "id": "remind", "start": "wait",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "wait", "type": "wait_reply", "save_as": "a", "timeout": "25h", "on_timeout": "tpl", "next": "wait"},
  {"id": "tpl", "type": "template", "template": {"name": "reminder", "language": "en_US"}, "next": "wait2", "on_blocked": "blocked"},
  {"id": "wait2", "type": "wait_reply", "save_as": "b", "timeout": "1h", "on_timeout": "tpl2", "next": "wait2"},
  {"id": "tpl2", "type": "template", "template": {"name": "reminder", "language": "en_US"}, "next": "wait3", "on_blocked": "blocked"},
  {"id": "wait3", "type": "wait_reply", "save_as": "c", "next": "wait3"},
  {"id": "blocked", "type": "wait_reply", "save_as": "d", "timeout": "25h", "on_timeout": "tpl", "next": "blocked"}
 ]}`

func limitHarness(t *testing.T, limit int) (*harness, *metrics.Registry) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := metrics.NewRegistry()
	h := &harness{t: t, ctx: context.Background(), clock: engine.NewManualClock(t0), store: st}
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Logger: slog.New(slog.DiscardHandler), Metrics: reg,
		Templates:      templates.NewSet(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "UTILITY", Status: model.TemplateApproved}),
		MessagingLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	h.publish(remindFlow)
	return h, reg
}

// greet has waID write (opening and then, 24 h on, closing the window)
// and records their opt-in, so templates may go to them.
func (h *harness) greet(waID string) {
	h.t.Helper()
	h.say(waID, "hi")
	if _, err := h.eng.UpdateContact(h.ctx, model.NewContactKey(phone, waID), func(c *model.Contact) { c.OptedIn = true }); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) fire(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) reach() int {
	h.t.Helper()
	n, _, err := h.store.ReachCount(h.ctx, model.ReachScope, h.clock.Now().Add(-model.LimitWindow))
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// With a limit of 2, a third contact reached outside the window is blocked
// at flow time (on_blocked); a contact reached again within 24 h does not
// count twice; once the reaches leave the moving 24 h, capacity returns.
func TestMessagingLimitAtFlowTime(t *testing.T) {
	h, reg := limitHarness(t, 2)
	sender := &recordingSender{}
	h.greet("1")
	h.clock.Advance(time.Minute)
	h.greet("2")
	h.clock.Advance(time.Minute)
	h.greet("3")

	h.fire(25*time.Hour - 2*time.Minute) // t0+25h: 1's template
	drain(t, h.eng, sender)
	h.fire(time.Minute) // 2's
	drain(t, h.eng, sender)
	if n := h.reach(); n != 2 {
		t.Fatalf("reach %d, want 2", n)
	}
	h.fire(time.Minute) // 3's: over the limit
	if c := h.conv("3"); c.Node != "blocked" {
		t.Fatalf("contact 3 at %q (%s), want blocked", c.Node, c.Status)
	}
	if got := h.sent("3"); len(got) != 0 {
		t.Fatalf("queued for contact 3: %v", got)
	}
	tr, err := h.store.Transcript(h.ctx, h.conv("3").ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(transcriptText(tr), "messaging limit of 2 unique customers per 24 h reached") {
		t.Errorf("no reason in the transcript:\n%s", transcriptText(tr))
	}

	// An hour on, 1 and 2 get their second template: already reached, they
	// are not blocked and do not count again.
	h.fire(time.Hour - 2*time.Minute)
	h.fire(time.Minute)
	drain(t, h.eng, sender)
	for _, wa := range []string{"1", "2"} {
		if c := h.conv(wa); c.Node != "wait3" {
			t.Errorf("contact %s at %q, want wait3", wa, c.Node)
		}
	}
	if n := h.reach(); n != 2 {
		t.Errorf("reach %d after reaching the same contacts again, want 2", n)
	}
	var buf bytes.Buffer
	reg.WriteTo(&buf)
	for _, want := range []string{"parley_messaging_reach 2", "parley_messaging_limit 2"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}

	// 25 h after it was blocked, 3 tries again: every reach has left the
	// moving 24 h, so it goes.
	h.fire(25*time.Hour - time.Minute)
	if c := h.conv("3"); c.Node != "wait2" {
		t.Fatalf("contact 3 at %q after 24 h, want wait2", c.Node)
	}
	drain(t, h.eng, sender)
	if got := len(sender.all()); got != 5 {
		t.Errorf("%d sends, want 5", got)
	}
}

// At dispatch time the count is authoritative: templates queued while the
// count allowed them are held, neither sent nor failed, past the limit, and
// go once capacity returns.
func TestMessagingLimitHoldsAtDispatch(t *testing.T) {
	h, _ := limitHarness(t, 1)
	h.greet("1")
	h.greet("2")
	h.fire(25 * time.Hour) // both templates queued: nothing reached yet

	sender := &recordingSender{}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.eng.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 5 * time.Millisecond, LimitRecheck: 5 * time.Millisecond}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the first send", func() bool { return len(sender.all()) == 1 })
	var held *model.Message
	waitFor("the held message", func() bool {
		items, err := h.store.Outbox(h.ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 1 && strings.HasPrefix(items[0].Message.Error, "held: messaging limit of 1") {
			held = items[0].Message
			return true
		}
		return false
	})
	time.Sleep(50 * time.Millisecond) // rechecked several times, still held
	if n := len(sender.all()); n != 1 {
		t.Fatalf("%d sends while over the limit, want 1", n)
	}
	if m, err := h.store.Message(h.ctx, held.Conversation, held.Seq); err != nil || m.State != model.Queued {
		t.Fatalf("held message: %+v, %v; want queued", m, err)
	}

	h.clock.Advance(model.LimitWindow) // the first reach leaves the window
	waitFor("the held send", func() bool { return len(sender.all()) == 2 })
	waitFor("the record", func() bool {
		m, err := h.store.Message(h.ctx, held.Conversation, held.Seq)
		return err == nil && m.State == model.Accepted && m.Error == ""
	})
}

func transcriptText(ms []*model.Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Text + " " + m.Error + "\n")
	}
	return b.String()
}
