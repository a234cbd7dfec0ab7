package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
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
	for f.record("order_update", "en_US").Status != model.TemplatePaused {
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
		if it.Message.Contact == model.NewContactKey(phone, "15557654321") {
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

// kindsFlow sends a NAMED template with a URL button before a quick reply,
// filled as flows written before names and typed buttons were: body
// parameters in order, the quick reply by its rank among quick replies.
const kindsFlow = `{"format": "parley/flow@1", "id": "kinds", "start": "tpl",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "tpl", "type": "template", "template": {"name": "order_update", "language": "en_US",
    "header": ["A-1"], "body": ["{{ contact.name }}"],
    "buttons": [{"type": "url", "index": 0, "text": "A-1"}, {"index": 0, "payload": "help"}]},
   "next": "wait", "on_blocked": "blocked", "on_error": "oops"},
  {"id": "wait", "type": "wait_reply", "next": "thanks"},
  {"id": "thanks", "type": "send", "message": {"type": "text", "text": "thanks"}},
  {"id": "blocked", "type": "send", "message": {"type": "text", "text": "blocked"}},
  {"id": "oops", "type": "send", "message": {"type": "text", "text": "oops"}}
 ]}`

// capturingSender keeps what it is asked to send and accepts it.
type capturingSender struct {
	mu   chan struct{}
	sent []*whatsapp.OutboundMessage
}

func (s *capturingSender) Send(_ context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.mu <- struct{}{}
	s.sent = append(s.sent, m)
	n := len(s.sent)
	<-s.mu
	return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.%d", n), MessageStatus: "accepted"}, nil
}

func (s *capturingSender) all() []*whatsapp.OutboundMessage {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return append([]*whatsapp.OutboundMessage(nil), s.sent...)
}

// TestTemplateNodeNamedAndPositioned: the dispatcher sends a NAMED
// template's parameters with their names and a quick reply written the old
// way at its real position; a customer whose name would put a line break
// in a parameter gets the node's on_error instead (refused as rendered,
// nothing sent).
func TestTemplateNodeNamedAndPositioned(t *testing.T) {
	named := whatsapp.Template{Name: "order_update", Language: "en_US", Category: "UTILITY", Status: "APPROVED", ParameterFormat: "NAMED",
		Components: []whatsapp.TemplateComponent{
			{Type: "HEADER", Format: "TEXT", Text: "Order {{order_number}}"},
			{Type: "BODY", Text: "Hi {{first_name}}, your order is on its way."},
			{Type: "BUTTONS", Buttons: []whatsapp.TemplateButton{{Type: "URL", Text: "Track", URL: "https://x.example/{{1}}"}, {Type: "QUICK_REPLY", Text: "Help"}}},
		}}
	f := newRegistry(t, named)
	f.sync()
	eng, err := engine.New(f.ctx, engine.Options{Store: f.store, Clock: f.clock, Templates: f.reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, problems, err := eng.Publish(f.ctx, []byte(kindsFlow), "test"); err != nil {
		t.Fatalf("publish: %v\n%v", err, problems.Err())
	}
	say := func(wa, name string) {
		t.Helper()
		_, err := eng.HandleInbound(f.ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid." + wa, WaID: wa, Name: name,
			At: f.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hi"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	say("15551234567", "Ann")
	say("15557654321", "Ann\nLee")

	sender := &capturingSender{mu: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for len(sender.all()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("sent %d of 2", len(sender.all()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	// Two customers' messages go out side by side: compare them by
	// customer, each one's own messages in the order they were sent.
	sent := sender.all()
	sort.SliceStable(sent, func(i, j int) bool { return sent[i].To < sent[j].To })
	var got []string
	for _, m := range sent {
		switch {
		case m.Template != nil:
			for _, c := range m.Template.Components {
				line := c.Type
				if c.SubType != "" {
					line += " " + c.SubType + " " + c.Index
				}
				for _, p := range c.Parameters {
					line += fmt.Sprintf(" %s=%s%s", p.ParameterName, p.Text, p.Payload)
				}
				got = append(got, m.To+" "+line)
			}
		case m.Text != nil:
			got = append(got, m.To+" text "+m.Text.Body)
		}
	}
	sameLines(t, got, []string{
		"15551234567 header order_number=A-1",
		"15551234567 body first_name=Ann",
		"15551234567 button url 0 =A-1",
		"15551234567 button quick_reply 1 =help",
		"15557654321 text oops",
	})
}
