package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// A tier Meta announces becomes the enforced limit, durably (a restart
// keeps it), unless the limit is pinned; a throughput event changes
// nothing; quality events are recorded with their history.
func TestMessagingLimitFromMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	clock := engine.NewManualClock(t0)
	open := func(pinned bool) (*engine.Engine, func()) {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(context.Background(), engine.Options{Store: st, Clock: clock, Logger: slog.New(slog.DiscardHandler),
			MessagingLimit: 250, MessagingLimitPinned: pinned, PhoneNumbers: []engine.PhoneNumber{{ID: phone}}})
		if err != nil {
			t.Fatal(err)
		}
		return e, func() { st.Close() }
	}
	ctx := context.Background()
	e, closeStore := open(false)
	for _, tc := range []struct {
		name string
		u    whatsapp.NumberUpdate
		want int
	}{
		{"throughput upgrade: not a messaging limit", whatsapp.NumberUpdate{Event: whatsapp.NumberEventThroughputUpgrade, CurrentLimit: "TIER_UNLIMITED"}, 250},
		{"flagged: quality only", whatsapp.NumberUpdate{Event: whatsapp.NumberEventFlagged, CurrentLimit: "TIER_NOT_SET"}, 250},
		{"upgrade to 2K (the number's tier)", whatsapp.NumberUpdate{Event: whatsapp.NumberEventUpgrade, CurrentLimit: "TIER_2K", OldLimit: "TIER_250"}, 2000},
		{"the portfolio's tier wins", whatsapp.NumberUpdate{Event: whatsapp.NumberEventUpgrade, CurrentLimit: "TIER_2K", BusinessLimit: "TIER_10K"}, 10_000},
	} {
		clock.Advance(time.Minute)
		tc.u.DisplayPhoneNumber, tc.u.Time = "15550000001", clock.Now()
		if err := e.ApplyNumberUpdate(ctx, tc.u); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := e.MessagingLimit(); got != tc.want {
			t.Errorf("%s: limit %d, want %d", tc.name, got, tc.want)
		}
	}
	ns, err := e.Numbers(ctx)
	if err != nil || len(ns) != 1 {
		t.Fatalf("Numbers: %+v, %v", ns, err)
	}
	n := ns[0]
	if n.Key != phone || n.PhoneNumberID != phone || n.DisplayPhoneNumber != "15550000001" || n.Tier != "TIER_10K" || n.TierLimit != 10_000 ||
		!n.Flagged || n.QualityEvent != whatsapp.NumberEventFlagged || len(n.History) != 4 || n.Limit != 10_000 || n.LimitSource != engine.LimitFromMeta {
		t.Errorf("number view %+v", n)
	}
	closeStore()

	e, closeStore = open(false)
	if got := e.MessagingLimit(); got != 10_000 {
		t.Errorf("after a restart: limit %d, want Meta's 10000", got)
	}
	closeStore()

	e, closeStore = open(true)
	defer closeStore()
	if got := e.MessagingLimit(); got != 250 {
		t.Errorf("pinned: limit %d, want the configured 250", got)
	}
	if err := e.ApplyNumberUpdate(ctx, whatsapp.NumberUpdate{Event: whatsapp.NumberEventUpgrade, BusinessLimit: "TIER_UNLIMITED", DisplayPhoneNumber: "15550000001"}); err != nil {
		t.Fatal(err)
	}
	if got := e.MessagingLimit(); got != 250 {
		t.Errorf("pinned after an upgrade: limit %d, want 250", got)
	}
	ns, _ = e.Numbers(ctx)
	if ns[0].Tier != "TIER_UNLIMITED" || ns[0].LimitSource != engine.LimitConfigured || !ns[0].Pinned {
		t.Errorf("pinned number view %+v", ns[0])
	}
}

// The numbers API's usage is the moving 24 h: it counts unique contacts
// and says when the earliest leaves the window.
func TestReachUsage(t *testing.T) {
	h, _ := limitHarness(t, 5)
	for i, wa := range []string{"1", "2", "1"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if err := h.store.Commit(h.ctx, &model.Change{At: at, Reached: []model.Reach{{Scope: model.ReachScope, At: at, Contact: model.NewContactKey(phone, wa)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		at   time.Duration
		n    int
		free time.Duration
	}{
		{3 * time.Hour, 2, 25 * time.Hour},  // 2 at 1h is the earliest latest reach
		{25 * time.Hour, 1, 26 * time.Hour}, // 2 left; 1 at 2h stays
		{26*time.Hour + time.Second, 0, -1}, // none
	} {
		h.clock.Set(t0.Add(tc.at))
		n, free, err := h.eng.ReachUsage(h.ctx)
		if err != nil || n != tc.n || (tc.free >= 0 && !free.Equal(t0.Add(tc.free))) || (tc.free < 0 && !free.IsZero()) {
			t.Errorf("at %v: %d, %v, %v; want %d, %v", tc.at, n, free, err, tc.n, tc.free)
		}
	}
}
