package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// Reaches lists a scope's reaches from since in time order; PruneReach
// forgets those before a time in every scope, both indexes at once, and
// leaves the rest counted.
func testReachPrune(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	const scope = model.ReachScope
	a, b, c := contact(1).Key, contact(2).Key, contact(3).Key
	must(t, st.Commit(ctx, &model.Change{At: at(0), Reached: []model.Reach{
		{Scope: scope, At: at(0), Contact: a},
		{Scope: scope, At: at(time.Hour), Contact: b},
		{Scope: scope, At: at(3 * time.Hour), Contact: a},
		{Scope: "other", At: at(0), Contact: c},
		{Scope: "other", At: at(4 * time.Hour), Contact: c},
	}}))
	rs, err := st.Reaches(ctx, scope, at(time.Hour))
	must(t, err)
	want := []model.Reach{{Scope: scope, At: at(time.Hour), Contact: b}, {Scope: scope, At: at(3 * time.Hour), Contact: a}}
	sameJSON(t, "Reaches since 1h", rs, want)

	n, err := st.PruneReach(ctx, at(2*time.Hour))
	must(t, err)
	if n != 3 {
		t.Fatalf("PruneReach pruned %d, want 3 (a at 0, b at 1h, other c at 0)", n)
	}
	check := func(st model.Store) {
		t.Helper()
		rs, err := st.Reaches(ctx, scope, at(-time.Hour))
		must(t, err)
		sameJSON(t, "Reaches after the prune", rs, []model.Reach{{Scope: scope, At: at(3 * time.Hour), Contact: a}})
		if got, err := st.ReachedSince(ctx, scope, b, at(-time.Hour)); got || err != nil {
			t.Fatalf("ReachedSince of a pruned reach: %v, %v", got, err)
		}
		if got, err := st.ReachedSince(ctx, scope, a, at(-time.Hour)); !got || err != nil {
			t.Fatalf("ReachedSince of a kept reach: %v, %v", got, err)
		}
		if n, _, err := st.ReachCount(ctx, "other", at(-time.Hour)); n != 1 || err != nil {
			t.Fatalf("ReachCount of the other scope after the prune: %d, %v", n, err)
		}
	}
	check(st)
	if n, err := st.PruneReach(ctx, at(2*time.Hour)); n != 0 || err != nil {
		t.Fatalf("a second prune: %d, %v", n, err)
	}
	must(t, st.Close())
	check(s.reopen(t, path))
}

// SaveNumber replaces the record of its key; Numbers lists them by key and
// they survive reopening.
func testNumbers(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	if rs, err := st.Numbers(ctx); len(rs) != 0 || err != nil {
		t.Fatalf("Numbers of an empty store: %v, %v", rs, err)
	}
	first := model.NumberRecord{Key: "106540352242922", PhoneNumberID: "106540352242922", Tier: "TIER_250", TierLimit: 250, TierAt: at(0)}
	second := model.NumberRecord{Key: "15550001111", DisplayPhoneNumber: "15550001111", QualityEvent: "FLAGGED", Flagged: true,
		Restrictions: []whatsapp.Restriction{{Type: whatsapp.RestrictionBizInitiated, Expiration: at(time.Hour)}},
		History:      []model.NumberEvent{{At: at(0), Field: whatsapp.FieldPhoneNumberQuality, Event: "FLAGGED"}}}
	must(t, st.SaveNumber(ctx, first))
	must(t, st.SaveNumber(ctx, second))
	first.Tier, first.TierLimit = "TIER_2K", 2000
	must(t, st.SaveNumber(ctx, first))
	if err := st.SaveNumber(ctx, model.NumberRecord{}); err == nil {
		t.Fatal("SaveNumber without a key: no error")
	}
	check := func(st model.Store) {
		t.Helper()
		rs, err := st.Numbers(ctx)
		must(t, err)
		sameJSON(t, "Numbers", rs, []model.NumberRecord{first, second})
	}
	check(st)
	must(t, st.Close())
	check(s.reopen(t, path))
}
