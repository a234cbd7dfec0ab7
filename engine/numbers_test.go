package engine_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/whatsapp"
)

// Each portfolio has its own messaging limit, each account its own
// restrictions; both outlive a restart.
func TestLimitsAndRestrictionsPerNumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	numbers := []engine.PhoneNumber{
		{ID: "111", Display: "15550001111", WABAID: "10"},
		{ID: "222", Display: "15550002222", WABAID: "20", Portfolio: "care"},
		{ID: "333", Display: "15550003333", WABAID: "10"},
	}
	open := func() (*engine.Engine, func()) {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(ctx, engine.Options{Store: st, Clock: engine.NewManualClock(t0), Logger: slog.New(slog.DiscardHandler),
			MessagingLimit: 250, PhoneNumbers: numbers})
		if err != nil {
			t.Fatal(err)
		}
		return e, func() { st.Close() }
	}
	e, closeStore := open()
	if err := e.ApplyNumberUpdate(ctx, whatsapp.NumberUpdate{WABAID: "20", DisplayPhoneNumber: "15550002222", Event: "UPGRADE",
		CurrentLimit: "TIER_2K", BusinessLimit: "TIER_2K"}); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(48 * time.Hour)
	value, _ := json.Marshal(map[string]any{"event": "ACCOUNT_RESTRICTION", "restriction_info": []map[string]any{
		{"restriction_type": whatsapp.RestrictionBizInitiated, "expiration": until.Unix()}}})
	if err := e.ApplyAccountUpdate(ctx, whatsapp.AccountUpdate{WABAID: "10", Event: "ACCOUNT_RESTRICTION", Value: value}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			id         string
			limit      int
			restricted bool
		}{{"111", 250, true}, {"222", 2000, false}, {"333", 250, true}} {
			if got := e.MessagingLimitOf(c.id); got != c.limit {
				t.Errorf("%s: number %s's limit %d, want %d", when, c.id, got, c.limit)
			}
			if got := !e.RestrictedUntilOf(c.id).IsZero(); got != c.restricted {
				t.Errorf("%s: number %s restricted %v, want %v", when, c.id, got, c.restricted)
			}
		}
		views, err := e.Numbers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			if v.Key == "222" && (v.Portfolio != "care" || v.Limit != 2000 || !v.RestrictedUntil.IsZero()) {
				t.Errorf("%s: the numbers API shows %+v", when, v)
			}
		}
	}
	check("at once")
	closeStore()
	e, closeStore = open()
	defer closeStore()
	check("after a restart")
}
