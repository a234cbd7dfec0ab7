package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// recordingSender is Meta accepting every send; it keeps what was sent.
type recordingSender struct {
	mu   sync.Mutex
	sent []*whatsapp.OutboundMessage
}

func (s *recordingSender) Send(_ context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.out.%d", len(s.sent))}, nil
}

func (s *recordingSender) all() []*whatsapp.OutboundMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*whatsapp.OutboundMessage(nil), s.sent...)
}

// drain runs a dispatcher until the outbox is empty.
func drain(t *testing.T, eng *engine.Engine, sender engine.Sender) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		items, err := eng.Store().Outbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d message(s) still queued", len(items))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// transcript returns a conversation's messages.
func transcript(t *testing.T, h *harness, conv string) []*model.Message {
	t.Helper()
	tr, err := h.store.Transcript(h.ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func hasNote(tr []*model.Message, text string) bool {
	for _, m := range tr {
		if m.Direction == model.Note && strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

// A 131026 makes the contact unreachable: the next queued message fails
// locally without reaching Meta, and so does everything until the customer
// writes again, which clears it.
func TestUndeliverableMakesContactUnreachable(t *testing.T) {
	const wa = "15551234567"
	h := newHarness(t, echoFlow)
	h.say(wa, "hi")
	h.say(wa, "one")
	out := h.say(wa, "two") // two replies queued

	refusing := &refusingSender{code: engine.CodeUndeliverable}
	drain(t, h.eng, refusing)
	if n := refusing.tries.Load(); n != 1 {
		t.Fatalf("%d send(s) reached Meta, want 1: the second is refused locally", n)
	}
	c := h.contact(wa)
	if !c.Unreachable || !c.UnreachableAt.Equal(t0) || !strings.Contains(c.UnreachableReason, "131026") {
		t.Fatalf("contact unreachable %v at %v (%q)", c.Unreachable, c.UnreachableAt, c.UnreachableReason)
	}
	tr := transcript(t, h, out.Conversation)
	var failed []*model.Message
	for _, m := range tr {
		if m.Direction == model.Out {
			failed = append(failed, m)
		}
	}
	if len(failed) != 2 || failed[0].ErrorCode != engine.CodeUndeliverable || failed[1].State != model.SendFailed ||
		failed[1].ErrorCode != 0 || !strings.Contains(failed[1].Error, "unreachable") {
		t.Fatalf("outbound messages: %+v", failed)
	}
	if !hasNote(tr, "could not deliver") {
		t.Error("no note of the undeliverable customer in the conversation")
	}

	// A late status repeating it changes nothing.
	h.clock.Advance(time.Minute)
	err := h.eng.HandleStatus(h.ctx, &whatsapp.Status{Status: whatsapp.StatusFailed, ID: "wamid.x",
		BizOpaqueCallbackData: fmt.Sprintf("%s|%d|answer", failed[0].Conversation, failed[0].Seq),
		Errors:                []whatsapp.Error{{Code: engine.CodeUndeliverable, Title: "Message undeliverable"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := h.contact(wa); !c.UnreachableAt.Equal(t0) {
		t.Errorf("a repeated 131026 moved UnreachableAt to %v", c.UnreachableAt)
	}

	// The conversation waited on the second reply, which the customer
	// never got: it failed with the reason (the first reply's failure came
	// before the customer wrote again, so it moved nothing).
	conv, err := h.store.Conversation(h.ctx, out.Conversation)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Status != model.Failed || conv.Node != "answer" || !strings.Contains(conv.Reason, `node "answer"'s message was not delivered (the contact is unreachable`) {
		t.Fatalf("conversation %s at %q: %q", conv.Status, conv.Node, conv.Reason)
	}

	// The customer writes: reachable again (a new conversation), and the
	// reply goes out.
	h.say(wa, "three")
	if c := h.contact(wa); c.Unreachable || c.UnreachableReason != "" {
		t.Fatalf("still unreachable after an inbound: %+v", c)
	}
	h.say(wa, "four")
	rec := &recordingSender{}
	drain(t, h.eng, rec)
	if got := rec.all(); len(got) != 1 || got[0].Text == nil || got[0].Text.Body != "you said four" {
		t.Fatalf("sent %+v", got)
	}
}

// A 131049 holds marketing templates for 24 hours: one already queued is
// refused by the dispatcher, a flow's template node takes on_blocked, and
// free-form messages still go; after the hold templates go again.
func TestEcosystemLimitHoldsMarketing(t *testing.T) {
	const wa = "15551234567"
	h, _ := consentHarness(t, "MARKETING")
	first := h.say(wa, "hi") // template T1 queued
	h.say(wa, "ok")          // "thanks" queued; the conversation ends
	h.say(wa, "again")       // a new conversation: template T2 queued
	tr := transcript(t, h, first.Conversation)
	t1 := tr[1]
	if t1.Template == nil {
		t.Fatalf("message %d is not the template: %+v", t1.Seq, t1)
	}
	// T1 was sent; Meta fails it later with 131049.
	h.clock.Advance(time.Minute)
	err := h.eng.HandleStatus(h.ctx, &whatsapp.Status{Status: whatsapp.StatusFailed, ID: "wamid.t1",
		BizOpaqueCallbackData: fmt.Sprintf("%s|%d|tpl", t1.Conversation, t1.Seq),
		Errors:                []whatsapp.Error{{Code: engine.CodeEcosystemLimit, Title: "Message failed to send to maintain healthy ecosystem engagement"}}})
	if err != nil {
		t.Fatal(err)
	}
	holdUntil := t0.Add(time.Minute + engine.EcosystemHold)
	if c := h.contact(wa); !c.HoldUntil.Equal(holdUntil) {
		t.Fatalf("hold until %v, want %v", c.HoldUntil, holdUntil)
	}
	if !hasNote(transcript(t, h, h.conv(wa).ID), "131049") {
		t.Error("no note of the hold in the running conversation")
	}

	rec := &recordingSender{}
	drain(t, h.eng, rec)
	if got := rec.all(); len(got) != 1 || got[0].Text == nil || got[0].Text.Body != "thanks" {
		t.Fatalf("sent %+v, want only the free-form thanks", got)
	}
	for _, m := range transcript(t, h, h.conv(wa).ID) {
		if m.Template != nil && (m.State != model.SendFailed || m.ErrorCode != 0 || !strings.Contains(m.Error, "131049")) {
			t.Errorf("queued template left %s %d %q, want refused locally", m.State, m.ErrorCode, m.Error)
		}
	}

	// At flow time: the template node takes on_blocked.
	h.say(wa, "ok") // ends the second conversation
	h.sent(wa)
	h.say(wa, "once more")
	equal(t, h.sent(wa), []string{"blocked"})

	// The hold ends.
	h.clock.Set(holdUntil)
	h.say(wa, "later")
	equal(t, h.sent(wa), []string{"template:order_update"})
}

// A customer who changes number keeps their conversation: the system
// notice links the new number to the contact, the next message from it
// continues the conversation, and the reply goes to the new number.
func TestUserChangedNumberKeepsConversation(t *testing.T) {
	const old, new = "15551234567", "15559876543"
	h := newHarness(t, echoFlow)
	start := h.say(old, "hi")
	sys, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.sys", WaID: old, At: h.clock.Now(),
		Reply:  flows.Reply{Type: whatsapp.TypeSystem},
		System: &whatsapp.SystemUpdate{Type: engine.SystemUserChangedNumber, NewWaID: new}})
	if err != nil {
		t.Fatal(err)
	}
	if sys.Conversation != start.Conversation || sys.Status != model.Waiting {
		t.Fatalf("system notice: %+v, want the waiting conversation %s", sys, start.Conversation)
	}
	oldKey, newKey := model.NewContactKey(phone, old), model.NewContactKey(phone, new)
	if to, ok, err := h.store.Alias(h.ctx, newKey); to != oldKey || !ok || err != nil {
		t.Fatalf("alias of the new number: %q, %v, %v", to, ok, err)
	}

	next := h.say(new, "one")
	if next.Conversation != start.Conversation {
		t.Fatalf("the new number's message went to %q, want %q", next.Conversation, start.Conversation)
	}
	if _, err := h.store.Contact(h.ctx, newKey); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a contact under the new number: %v", err)
	}
	if c := h.contact(old); c.WaID != new {
		t.Errorf("contact wa_id %q, want %q", c.WaID, new)
	}
	if !hasNote(transcript(t, h, start.Conversation), "changed their number") {
		t.Error("no note of the number change")
	}
	rec := &recordingSender{}
	drain(t, h.eng, rec)
	got := rec.all()
	if len(got) != 1 || got[0].To != new || got[0].Text.Body != "you said one" {
		t.Fatalf("sent %+v, want \"you said one\" to %s", got, new)
	}
}

// Likewise for a customer known by user id whose user id changes: sends
// go to the new one with recipient.
func TestUserChangedUserIDKeepsConversation(t *testing.T) {
	const old, new = "US.29384756102938475610", "US.77766655544433322211"
	h := newHarness(t, echoFlow)
	say := func(id, uid, text string, sys *whatsapp.SystemUpdate) engine.Outcome {
		t.Helper()
		r := flows.Reply{Type: flows.MsgText, Text: text}
		if sys != nil {
			r = flows.Reply{Type: whatsapp.TypeSystem}
		}
		out, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{PhoneNumberID: phone, ID: id, UserID: uid, At: h.clock.Now(), Reply: r, System: sys})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	start := say("wamid.1", old, "hi", nil)
	say("wamid.2", old, "", &whatsapp.SystemUpdate{Type: engine.SystemUserChangedUserID, NewUserID: new})
	if next := say("wamid.3", new, "one", nil); next.Conversation != start.Conversation {
		t.Fatalf("the new user id's message went to %q, want %q", next.Conversation, start.Conversation)
	}
	rec := &recordingSender{}
	drain(t, h.eng, rec)
	if got := rec.all(); len(got) != 1 || got[0].Recipient != new || got[0].To != "" {
		t.Fatalf("sent %+v, want recipient %s", got, new)
	}
}

// A system message's notice reaches the engine.
func TestInboundFromWhatsAppKeepsSystemNotice(t *testing.T) {
	in := engine.InboundFromWhatsApp(&whatsapp.InboundMessage{PhoneNumberID: phone, ID: "wamid.s", From: "15557654321", Type: whatsapp.TypeSystem,
		System: &whatsapp.SystemUpdate{Type: engine.SystemUserChangedNumber, NewWaID: "15559876543"}})
	if in.Reply.Type != whatsapp.TypeSystem || in.System == nil || in.System.NewWaID != "15559876543" {
		t.Fatalf("inbound %+v, system %+v", in, in.System)
	}
}

// TestStatusThatMovesNothingCommitsNothing: a status redelivered, or one
// that arrives after a later one ("delivered" after "read"), leaves the
// message as it is and costs the store no write; the first "read" does.
func TestStatusThatMovesNothingCommitsNothing(t *testing.T) {
	h := newHarness(t, echoFlow)
	h.say("491511", "hi")
	h.say("491511", "hello")
	var mu sync.Mutex
	var updates int
	h.eng.Observe(func(c engine.Committed) {
		mu.Lock()
		updates += len(c.Updates)
		mu.Unlock()
	})
	commits := func() int {
		mu.Lock()
		defer mu.Unlock()
		return updates
	}

	h.status("491511", "answer", whatsapp.StatusRead, 0)
	if n := commits(); n != 1 {
		t.Fatalf("the first read committed %d message updates, want 1", n)
	}
	h.status("491511", "answer", whatsapp.StatusDelivered, 0) // late
	h.status("491511", "answer", whatsapp.StatusRead, 0)      // redelivered
	if n := commits(); n != 1 {
		t.Fatalf("statuses that moved nothing committed %d more updates", n-1)
	}
	for _, m := range transcript(t, h, h.conv("491511").ID) {
		if m.Direction == model.Out && m.Node == "answer" && m.State != model.Read {
			t.Fatalf("message #%d is %s, want read", m.Seq, m.State)
		}
	}
}

// A claimed outbox entry is a send that may have reached Meta without its
// outcome being recorded (the process died between the wire and the
// record): the next dispatcher never sends it, and marks it unknown.
func TestClaimedSendIsNeverRepeated(t *testing.T) {
	const wa = "15551234567"
	h := newHarness(t, echoFlow)
	h.say(wa, "hi") // starts the flow, which waits
	out := h.say(wa, "one")
	items, err := h.store.Outbox(h.ctx, 0, 0)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox: %d items, %v", len(items), err)
	}
	if err := h.store.Commit(h.ctx, &model.Change{At: t0, Claim: []uint64{items[0].Seq}}); err != nil {
		t.Fatal(err)
	}
	rec := &recordingSender{}
	drain(t, h.eng, rec)
	if sent := rec.all(); len(sent) != 0 {
		t.Fatalf("a claimed message was sent again: %+v", sent)
	}
	var reply *model.Message
	for _, m := range transcript(t, h, out.Conversation) {
		if m.Direction == model.Out {
			reply = m
		}
	}
	if reply == nil || reply.State != model.Unknown || !strings.Contains(reply.Error, "not sent again") {
		t.Fatalf("the claimed reply: %+v, want unknown", reply)
	}

	// The next reply goes out as usual.
	h.say(wa, "again")
	drain(t, h.eng, rec)
	if sent := rec.all(); len(sent) != 1 || sent[0].Text == nil || sent[0].Text.Body != "you said again" {
		t.Fatalf("sent %+v", sent)
	}
}
