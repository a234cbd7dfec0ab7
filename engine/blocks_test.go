package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
)

// policyHarness is remindFlow over a store, with a mutable registry and the
// given engine options.
func policyHarness(t *testing.T, o engine.Options) (*harness, *templates.Set) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := templates.NewSet(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "UTILITY", Status: model.TemplateApproved})
	h := &harness{t: t, ctx: context.Background(), clock: engine.NewManualClock(t0), store: st}
	o.Store, o.Clock, o.Logger, o.Templates = st, h.clock, slog.New(slog.DiscardHandler), reg
	if h.eng, err = engine.New(h.ctx, o); err != nil {
		t.Fatal(err)
	}
	h.publish(remindFlow)
	return h, reg
}

// Every reason a flow's template is blocked is recorded on the contact,
// with the node, the template and the full explanation, and the flow takes
// on_blocked.
func TestBlocksAreRecordedWithTheirReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int
		setup  func(h *harness, reg *templates.Set, key model.ContactKey)
		reason model.BlockReason
		detail string
	}{
		{name: "no opt-in", reason: model.BlockNoOptIn, detail: "no recorded opt-in",
			setup: func(h *harness, _ *templates.Set, key model.ContactKey) {
				h.update(key, func(c *model.Contact) { c.OptedIn = false })
			}},
		{name: "opted out", reason: model.BlockOptedOut, detail: "opted out",
			setup: func(h *harness, _ *templates.Set, key model.ContactKey) {
				h.update(key, func(c *model.Contact) { c.OptedOut = true })
			}},
		{name: "marketing opt-out", reason: model.BlockMarketingOptOut, detail: "stopped marketing messages",
			setup: func(h *harness, reg *templates.Set, key model.ContactKey) {
				reg.Put(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "MARKETING", Status: model.TemplateApproved})
				h.update(key, func(c *model.Contact) { c.MarketingOptOut = true })
			}},
		{name: "unreachable", reason: model.BlockUnreachable, detail: "unreachable",
			setup: func(h *harness, _ *templates.Set, key model.ContactKey) {
				h.update(key, func(c *model.Contact) { c.Unreachable, c.UnreachableReason = true, "131026: Message undeliverable" })
			}},
		{name: "131049 hold", reason: model.BlockHold, detail: "131049",
			setup: func(h *harness, reg *templates.Set, key model.ContactKey) {
				reg.Put(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "MARKETING", Status: model.TemplateApproved})
				h.update(key, func(c *model.Contact) { c.HoldUntil = h.clock.Now().Add(48 * time.Hour) })
			}},
		{name: "template paused", reason: model.BlockTemplate, detail: "is PAUSED, not APPROVED",
			setup: func(_ *harness, reg *templates.Set, _ model.ContactKey) {
				reg.Put(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "UTILITY", Status: "PAUSED"})
			}},
		{name: "messaging limit", limit: 1, reason: model.BlockLimit, detail: "messaging limit of 1",
			setup: func(h *harness, _ *templates.Set, _ model.ContactKey) {
				// Another contact took the only place.
				if err := h.store.Commit(h.ctx, &model.Change{At: h.clock.Now(), Reached: []model.Reach{
					{Scope: model.ReachScope, At: h.clock.Now(), Contact: model.NewContactKey(phone, "other")}}}); err != nil {
					h.t.Fatal(err)
				}
			}},
		{name: "account restricted", reason: model.BlockRestricted, detail: whatsapp.RestrictionBizInitiated,
			setup: func(h *harness, _ *templates.Set, _ model.ContactKey) {
				err := h.eng.ApplyAccountUpdate(h.ctx, whatsapp.AccountUpdate{Event: whatsapp.AccountEventRestriction, WABAID: "200",
					Value: []byte(`{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1893456000}]}`)})
				if err != nil {
					h.t.Fatal(err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, reg := policyHarness(t, engine.Options{MessagingLimit: tc.limit})
			h.greet("1")
			key := model.NewContactKey(phone, "1")
			h.clock.Advance(25*time.Hour - time.Minute)
			tc.setup(h, reg, key)
			h.fire(time.Minute) // the wait times out: the template is due, the window closed
			if got := h.conv("1").Node; got != "blocked" {
				t.Fatalf("the flow is at %q, want blocked (on_blocked)", got)
			}
			c, err := h.eng.Contact(h.ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Blocks) != 1 {
				t.Fatalf("blocks: %+v, want one", c.Blocks)
			}
			b := c.Blocks[0]
			if b.Reason != tc.reason || !strings.Contains(b.Detail, tc.detail) || b.Stage != model.StageFlow ||
				b.Node != "tpl" || b.Template != "reminder/en_US" || b.Conversation != string(key)+"#1" || !b.At.Equal(h.clock.Now()) {
				t.Errorf("block %+v, want reason %s with %q at node tpl", b, tc.reason, tc.detail)
			}
		})
	}
}

// The contact keeps its newest MaxContactBlocks blocks.
func TestBlocksAreBounded(t *testing.T) {
	h, reg := policyHarness(t, engine.Options{})
	reg.Put(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "UTILITY", Status: "PAUSED"})
	for range model.MaxContactBlocks + 5 {
		h.say("1", "hi") // keeps the conversation from expiring
		h.fire(25 * time.Hour)
	}
	c, err := h.eng.Contact(h.ctx, model.NewContactKey(phone, "1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Blocks) != model.MaxContactBlocks {
		t.Fatalf("%d blocks kept, want %d", len(c.Blocks), model.MaxContactBlocks)
	}
	if last := c.Blocks[len(c.Blocks)-1]; !last.At.Equal(h.clock.Now()) {
		t.Errorf("the newest block is at %v, want %v", last.At, h.clock.Now())
	}
}

// A message queued before the contact became unreachable is failed at
// dispatch, and the block is recorded with stage dispatch.
func TestDispatchBlockIsRecorded(t *testing.T) {
	h, _ := policyHarness(t, engine.Options{})
	h.greet("1")
	key := model.NewContactKey(phone, "1")
	h.fire(25 * time.Hour) // the template is queued
	h.update(key, func(c *model.Contact) { c.Unreachable, c.UnreachableReason = true, "131026: Message undeliverable" })
	drain(t, h.eng, &recordingSender{})
	c, err := h.eng.Contact(h.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Blocks) != 1 || c.Blocks[0].Stage != model.StageDispatch || c.Blocks[0].Reason != model.BlockUnreachable || c.Blocks[0].Template != "reminder/en_US" {
		t.Fatalf("blocks %+v, want one unreachable block at dispatch", c.Blocks)
	}
}

func (h *harness) update(key model.ContactKey, fn func(*model.Contact)) {
	h.t.Helper()
	if _, err := h.eng.UpdateContact(h.ctx, key, fn); err != nil {
		h.t.Fatal(err)
	}
}
