package engine_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// inboundOf is a parsed WhatsApp message from customer wa to the test number.
func inboundOf(wa string, m whatsapp.InboundMessage) *engine.Inbound {
	m.PhoneNumberID, m.From = phone, wa
	return engine.InboundFromWhatsApp(&m)
}

func TestEditsAndRevokesChangeTheEarlierMessage(t *testing.T) {
	h := newHarness(t, echoFlow)
	const wa = "15550000001"
	h.sayID(wa, "wamid.a", "pizza")
	h.sayID(wa, "wamid.b", "two of them")
	h.clock.Advance(time.Minute)
	edit := whatsapp.InboundMessage{ID: "wamid.e", Timestamp: h.clock.Now(), Type: whatsapp.TypeEdit, Edit: &whatsapp.EditedMessage{
		OriginalMessageID: "wamid.a",
		Message:           &whatsapp.InboundMessage{Type: whatsapp.TypeText, Text: "pasta"},
	}}
	revoke := whatsapp.InboundMessage{ID: "wamid.r", Timestamp: h.clock.Now(), Type: whatsapp.TypeRevoke, Revoke: &whatsapp.RevokedMessage{OriginalMessageID: "wamid.b"}}
	stray := whatsapp.InboundMessage{ID: "wamid.s", Timestamp: h.clock.Now(), Type: whatsapp.TypeRevoke, Revoke: &whatsapp.RevokedMessage{OriginalMessageID: "wamid.never"}}
	before := len(h.transcript(wa))
	for _, m := range []whatsapp.InboundMessage{edit, revoke, stray} {
		if _, err := h.eng.HandleInbound(h.ctx, inboundOf(wa, m)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := h.transcript(wa)
	if len(msgs) != before+1 {
		t.Fatalf("%d messages, want %d (only the revoke of an unknown message is added)", len(msgs), before+1)
	}
	byID := map[string]*model.Message{}
	for _, m := range msgs {
		byID[m.WAMID] = m
	}
	a, b := byID["wamid.a"], byID["wamid.b"]
	if a.Inbound.Text != "pasta" || a.Original == nil || a.Original.Text != "pizza" || !a.EditedAt.Equal(h.clock.Now()) {
		t.Errorf("edited message: %+v (original %+v)", a.Inbound, a.Original)
	}
	if got := engine.Display(a); got != "pasta (edited)" {
		t.Errorf("edited message shows %q", got)
	}
	if b.RevokedAt.IsZero() || engine.Display(b) != "(deleted by the customer) two of them" {
		t.Errorf("revoked message: %+v shows %q", b, engine.Display(b))
	}
	if s := byID["wamid.s"]; s == nil || s.Inbound.Type != whatsapp.TypeRevoke || s.Inbound.OriginalID != "wamid.never" {
		t.Errorf("revoke of an unknown message: %+v", s)
	}
	// None moved the flow: it still waits, having answered the one reply
	// (the first message started it).
	if got := h.sent(wa); len(got) != 1 {
		t.Errorf("sent %q", got)
	}
}

func (h *harness) transcript(wa string) []*model.Message {
	h.t.Helper()
	msgs, err := h.store.Transcript(h.ctx, h.conv(wa).ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return msgs
}
