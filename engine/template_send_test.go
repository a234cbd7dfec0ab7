package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// notifyFlow sends a template to whoever writes; a template that may not
// be sent takes on_blocked.
const notifyFlow = `{"format": "parley/flow@1", "id": "notify", "start": "tpl",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "tpl", "type": "template", "template": {"name": "order_update", "language": "en_US", "body": ["{{ contact.wa_id }}"]},
   "next": "wait", "on_blocked": "blocked"},
  {"id": "wait", "type": "wait_reply", "save_as": "answer", "next": "thanks"},
  {"id": "thanks", "type": "send", "message": {"type": "text", "text": "thanks"}},
  {"id": "blocked", "type": "send", "message": {"type": "text", "text": "blocked"}}
 ]}`

// refusingSender is Meta refusing every send with code.
type refusingSender struct {
	code  int
	tries atomic.Int32
}

func (s *refusingSender) Send(context.Context, *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.tries.Add(1)
	return whatsapp.SendResult{}, &whatsapp.APIError{HTTPStatus: 400, Code: s.code, Message: fmt.Sprintf("(#%d) refused", s.code)}
}

// A template Meta refuses at send as paused (132015) is marked PAUSED in
// the registry by the dispatcher at once, so the next conversation's
// template node takes on_blocked instead of failing at Meta again.
func TestDispatcherMarksARefusedTemplate(t *testing.T) {
	f := newRegistry(t, tpl("order_update", "en_US", "APPROVED", 0, 1))
	f.sync()
	eng, err := engine.New(f.ctx, engine.Options{Store: f.store, Clock: f.clock, Templates: f.reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, problems, err := eng.Publish(f.ctx, []byte(notifyFlow), "test"); err != nil {
		t.Fatalf("publish: %v\n%v", err, problems.Err())
	}
	say := func(wa string) {
		t.Helper()
		_, err := eng.HandleInbound(f.ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid." + wa, WaID: wa, Name: "Ann",
			At: f.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hi"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	say("15551234567")

	sender := &refusingSender{code: 132015}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for f.record("order_update", "en_US").Status != engine.TemplatePaused {
		if time.Now().After(deadline) {
			t.Fatalf("not paused after %d refused send(s)", sender.tries.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	sameLines(t, history(f.record("order_update", "en_US")), []string{"sync status >APPROVED", "send status APPROVED>PAUSED 132015"})

	say("15557654321")
	items, err := f.store.Outbox(f.ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		if it.Message.Contact == engine.NewContactKey(phone, "15557654321") {
			switch m := it.Message; {
			case m.Template != nil:
				got = append(got, "template "+m.Template.Name)
			case m.Message != nil:
				got = append(got, m.Message.Text)
			}
		}
	}
	sameLines(t, got, []string{"blocked"})
}
