package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
)

// consentHarness is a harness whose registry holds order_update (en_US,
// one body parameter) in category.
func consentHarness(t *testing.T, category string) (*harness, *templates.Set) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := templates.NewSet(model.TemplateInfo{Name: "order_update", Language: "en_US", Category: category, Status: model.TemplateApproved, BodyParams: 1})
	h := &harness{t: t, ctx: context.Background(), clock: engine.NewManualClock(t0), store: st}
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Templates: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h.publish(notifyFlow)
	return h, reg
}

func (h *harness) contact(waID string) *model.Contact {
	h.t.Helper()
	c, err := h.eng.Contact(h.ctx, model.NewContactKey(phone, waID))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func lastConsent(t *testing.T, c *model.Contact) model.ConsentEvent {
	t.Helper()
	if len(c.Consent) == 0 {
		t.Fatal("no consent event recorded")
	}
	return c.Consent[len(c.Consent)-1]
}

// STOP while a template waits in the outbox: the template is cancelled in
// the same commit, the conversation ends as opted out, and the one message
// queued is the confirmation.
func TestOptOutKeywordCancelsQueuedTemplates(t *testing.T) {
	const wa = "15551234567"
	h, _ := consentHarness(t, "UTILITY")
	h.say(wa, "hi") // the template is queued, not sent
	out := h.say(wa, "  Stop! ")
	if out.Status != model.Ended {
		t.Fatalf("status %s, want ended", out.Status)
	}
	if conv := h.conv(wa); conv.Reason != engine.ReasonOptedOut {
		t.Errorf("reason %q, want %q", conv.Reason, engine.ReasonOptedOut)
	}
	tr, err := h.store.Transcript(h.ctx, out.Conversation)
	if err != nil {
		t.Fatal(err)
	}
	var cancelled int
	for _, m := range tr {
		if m.Template != nil {
			if m.State != model.SendFailed || m.Error != "cancelled: opted out" {
				t.Errorf("template left %s %q, want failed, cancelled", m.State, m.Error)
			}
			cancelled++
		}
	}
	if cancelled != 1 {
		t.Fatalf("%d template(s) in the transcript, want 1", cancelled)
	}
	equal(t, h.sent(wa), []string{consent.DefaultOptOutReply})
	c := h.contact(wa)
	if ev := lastConsent(t, c); !c.OptedOut || ev.Kind != model.ConsentOptOut || ev.Source != model.SourceKeyword {
		t.Errorf("contact opted_out %v, event %+v", c.OptedOut, ev)
	}
	// Again: nothing more is sent, nothing more recorded.
	h.say(wa, "STOP")
	equal(t, h.sent(wa), nil)
	if n := len(h.contact(wa).Consent); n != 1 {
		t.Errorf("%d consent events after a repeated STOP, want 1", n)
	}
	// START opts back in, with its confirmation.
	h.say(wa, "start")
	equal(t, h.sent(wa), []string{consent.DefaultOptInReply})
	if c := h.contact(wa); c.OptedOut || !c.OptedIn {
		t.Errorf("after START: opted_in %v, opted_out %v", c.OptedIn, c.OptedOut)
	}
}

// Configured keywords replace the defaults.
func TestOptOutKeywordsConfigurable(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, ctx: context.Background(), clock: engine.NewManualClock(t0), store: st}
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Logger: slog.New(slog.DiscardHandler),
		OptOutKeywords: []string{"halt"}, OptOutReply: "bye"})
	if err != nil {
		t.Fatal(err)
	}
	h.publish(echoFlow)
	h.say("1", "stop")
	if h.contact("1").OptedOut {
		t.Error("STOP opted out with only HALT configured")
	}
	h.sent("1")
	h.say("1", "HALT")
	equal(t, h.sent("1"), []string{"bye"})
	if !h.contact("1").OptedOut {
		t.Error("HALT did not opt out")
	}
}

// A template refused with 131050 marks the contact's marketing opt-out;
// then marketing templates are blocked (on_blocked) while a utility
// template still goes.
func TestMarketingOptOutFrom131050(t *testing.T) {
	const wa = "15551234567"
	h, reg := consentHarness(t, "MARKETING")
	h.say(wa, "hi")

	sender := &refusingSender{code: engine.CodeMarketingOptOut}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.eng.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for !h.contact(wa).MarketingOptOut {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no marketing opt-out after %d refused send(s)", sender.tries.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if sender.tries.Load() != 1 {
		t.Errorf("%d tries, want 1 (131050 is never retried)", sender.tries.Load())
	}
	c := h.contact(wa)
	if ev := lastConsent(t, c); ev.Kind != model.ConsentMarketingStop || ev.Source != model.SourceMetaError {
		t.Errorf("event %+v", ev)
	}
	if c.OptedOut {
		t.Error("a marketing opt-out is not a full opt-out")
	}

	h.say(wa, "ok") // ends the first conversation
	h.sent(wa)
	h.say(wa, "again") // a new one: the marketing template is blocked
	equal(t, h.sent(wa), []string{"blocked"})

	reg.Put(model.TemplateInfo{Name: "order_update", Language: "en_US", Category: "UTILITY", Status: model.TemplateApproved, BodyParams: 1})
	h.say(wa, "utility please") // ends the blocked conversation ("blocked" has no next)
	if got := h.sent(wa); len(got) != 1 || got[0] != "template:order_update" {
		t.Errorf("utility template: sent %q", got)
	}
}

// The user_preferences webhook stops and resumes marketing; a redelivery
// changes nothing, and other categories or values are ignored.
func TestApplyPreference(t *testing.T) {
	h, _ := consentHarness(t, "MARKETING")
	ts := t0.Add(-time.Minute)
	stop := whatsapp.UserPreference{PhoneNumberID: phone, WaID: "15551234567", UserID: "US.123", Category: "marketing_messages", Value: "stop", Detail: "User requested to stop marketing messages", Timestamp: ts}
	for range 2 {
		if err := h.eng.ApplyPreference(h.ctx, phone, stop); err != nil {
			t.Fatal(err)
		}
	}
	c := h.contact("US.123") // identity: user_id before wa_id
	if !c.MarketingOptOut || len(c.Consent) != 1 {
		t.Fatalf("marketing_opt_out %v with %d event(s), want true with 1", c.MarketingOptOut, len(c.Consent))
	}
	if ev := c.Consent[0]; ev.Kind != model.ConsentMarketingStop || ev.Source != model.SourceWhatsAppPreferences || !ev.At.Equal(ts) || ev.Detail != stop.Detail {
		t.Errorf("event %+v", ev)
	}
	if c.WaID != "15551234567" || c.UserID != "US.123" {
		t.Errorf("contact ids %q %q", c.WaID, c.UserID)
	}

	other := stop
	other.Category, other.Value = "something_else", "resume"
	if err := h.eng.ApplyPreference(h.ctx, phone, other); err != nil {
		t.Fatal(err)
	}
	signup := stop
	signup.Value = "signup"
	if err := h.eng.ApplyPreference(h.ctx, phone, signup); err != nil {
		t.Fatal(err)
	}
	if c := h.contact("US.123"); !c.MarketingOptOut || len(c.Consent) != 1 {
		t.Fatalf("ignored events changed the contact: %v, %d events", c.MarketingOptOut, len(c.Consent))
	}

	resume := stop
	resume.Value, resume.Timestamp = "resume", time.Time{}
	if err := h.eng.ApplyPreference(h.ctx, phone, resume); err != nil {
		t.Fatal(err)
	}
	c = h.contact("US.123")
	if c.MarketingOptOut || len(c.Consent) != 2 || c.Consent[1].Kind != model.ConsentMarketingResume || !c.Consent[1].At.Equal(t0) {
		t.Errorf("after resume: %v, %+v", c.MarketingOptOut, c.Consent)
	}
}

func TestRecordConsent(t *testing.T) {
	h, _ := consentHarness(t, "UTILITY")
	key := model.NewContactKey(phone, "1")
	_, err := h.eng.RecordConsent(h.ctx, key, model.ConsentEvent{Kind: "maybe", Source: model.SourceAPI})
	if !errors.Is(err, model.ErrInvalidConsent) {
		t.Fatalf("bad kind: %v", err)
	}
	c, err := h.eng.RecordConsent(h.ctx, key, model.ConsentEvent{Kind: model.ConsentOptIn, Source: model.SourceWebForm, Purpose: "Order updates on WhatsApp from Acme", By: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.OptedIn || !c.OptedInAt.Equal(t0) || len(c.Consent) != 1 || c.Consent[0].Purpose == "" {
		t.Errorf("after opt_in: %+v", c)
	}
	if c.PhoneNumberID != phone || c.WaID != "1" {
		t.Errorf("ids from the key: %q %q", c.PhoneNumberID, c.WaID)
	}
	if _, err = h.eng.RecordConsent(h.ctx, key, model.ConsentEvent{Kind: model.ConsentOptOut, Source: model.SourceSMS}); err != nil {
		t.Fatal(err)
	}
	if stored := h.contact("1"); !stored.OptedOut || len(stored.Consent) != 2 {
		t.Errorf("stored after opt_out: %+v", stored)
	}
}
