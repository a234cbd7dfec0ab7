package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// The messaging limit's reach log: Change.Reached writes it with the
// change, all or nothing; ReachCount counts unique contacts from since on
// and names the earliest of their latest reaches; ReachedSince sees one
// contact's; scopes are apart; it survives reopening.
func testReach(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	const scope = model.ReachScope
	a, b, c := contact(1).Key, contact(2).Key, contact(3).Key

	if n, oldest, err := st.ReachCount(ctx, scope, at(-time.Hour)); n != 0 || !oldest.IsZero() || err != nil {
		t.Fatalf("ReachCount of an empty store: %d, %v, %v", n, oldest, err)
	}
	must(t, st.Commit(ctx, &model.Change{At: at(0), Reached: []model.Reach{{Scope: scope, At: at(0), Contact: a}}}))
	must(t, st.Commit(ctx, &model.Change{At: at(time.Hour), Reached: []model.Reach{
		{Scope: scope, At: at(time.Hour), Contact: b},
		{Scope: scope, At: at(2 * time.Hour), Contact: a}, // a again: still one contact
		{Scope: "other", At: at(time.Hour), Contact: c},   // another scope
	}}))
	// A refused change writes no reach.
	must(t, st.Commit(ctx, &model.Change{InboundID: "wamid.reach", InboundKey: "1065:reach", At: at(0)}))
	err := st.Commit(ctx, &model.Change{InboundID: "wamid.reach", InboundKey: "1065:reach", At: at(3 * time.Hour),
		Reached: []model.Reach{{Scope: scope, At: at(3 * time.Hour), Contact: c}}})
	if !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate commit: %v, want ErrDuplicate", err)
	}

	check := func(st model.Store) {
		t.Helper()
		for _, tc := range []struct {
			since  time.Time
			n      int
			oldest time.Time
		}{
			{at(0), 2, at(time.Hour)}, // a latest at 2h, b at 1h
			{at(time.Hour), 2, at(time.Hour)},
			{at(time.Hour + 1), 1, at(2 * time.Hour)},
			{at(3 * time.Hour), 0, time.Time{}},
		} {
			n, oldest, err := st.ReachCount(ctx, scope, tc.since)
			if n != tc.n || !oldest.Equal(tc.oldest) || err != nil {
				t.Fatalf("ReachCount since %v: %d, %v, %v; want %d, %v", tc.since, n, oldest, err, tc.n, tc.oldest)
			}
		}
		if n, _, err := st.ReachCount(ctx, "other", at(0)); n != 1 || err != nil {
			t.Fatalf("ReachCount of another scope: %d, %v; want 1", n, err)
		}
		for _, tc := range []struct {
			contact model.ContactKey
			since   time.Time
			want    bool
		}{
			{a, at(0), true}, {a, at(2 * time.Hour), true}, {a, at(2*time.Hour + 1), false},
			{b, at(time.Hour), true}, {b, at(time.Hour + 1), false},
			{c, at(0), false}, // only in the other scope
		} {
			got, err := st.ReachedSince(ctx, scope, tc.contact, tc.since)
			if got != tc.want || err != nil {
				t.Fatalf("ReachedSince(%s, %v): %v, %v; want %v", tc.contact, tc.since, got, err, tc.want)
			}
		}
	}
	check(st)
	must(t, st.Close())
	check(s.reopen(t, path))
}
