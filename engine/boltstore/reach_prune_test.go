package boltstore

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// TestPruneReachWritesOnlyItsFront pins that forgetting reaches writes the
// front of reach, not a page of reach_by_contact per reach, and that a
// contact's forgotten twin goes when it is reached again.
func TestPruneReachWritesOnlyItsFront(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	// n old reaches of contacts spread among many more recent ones: the
	// old twins are spread over all of reach_by_contact, as a day's are
	// in a month of them.
	const n, recent = 2000, 20_000
	for lo := 0; lo < n+recent; lo += 500 {
		var rs []model.Reach
		for i := lo; i < lo+500; i++ {
			r := model.Reach{Scope: model.ReachScope, At: t0.Add(time.Duration(i) * time.Second), Contact: scaleContact(i * 10)}
			if i >= n {
				r.At, r.Contact = t0.Add(48*time.Hour), scaleContact(100_000+i)
			}
			rs = append(rs, r)
		}
		if err := s.Commit(ctx, &model.Change{At: t0, Reached: rs}); err != nil {
			t.Fatal(err)
		}
	}
	before := s.db.Stats().TxStats
	if got, err := s.PruneReach(ctx, t0.Add(24*time.Hour)); got != n || err != nil {
		t.Fatalf("PruneReach = %d, %v; want %d", got, err, n)
	}
	after := s.db.Stats().TxStats
	pages := (after.GetPageAlloc() - before.GetPageAlloc()) / int64(s.db.Info().PageSize)
	t.Logf("PruneReach of %d reaches wrote %d pages", n, pages) // 954 when each twin was deleted
	if pages > n/20 {
		t.Errorf("PruneReach of %d reaches wrote %d pages, want at most %d", n, pages, n/20)
	}
	twins := func() int {
		var k int
		_ = s.db.View(func(tx *bolt.Tx) error {
			k = tx.Bucket(bucketReachByContact).Stats().KeyN
			return nil
		})
		return k
	}
	if reached, err := s.ReachedSince(ctx, model.ReachScope, scaleContact(50), t0); reached || err != nil {
		t.Errorf("ReachedSince of a forgotten reach = %v, %v", reached, err)
	}
	// Reached again: its forgotten twin goes, the new one counts.
	again := t0.Add(25 * time.Hour)
	if err := s.Commit(ctx, &model.Change{At: again, Reached: []model.Reach{{Scope: model.ReachScope, At: again, Contact: scaleContact(50)}}}); err != nil {
		t.Fatal(err)
	}
	if got := twins(); got != n+recent {
		t.Errorf("reach_by_contact holds %d entries, want %d (the %d the prune left, one of them replaced by a new reach)", got, n+recent, n)
	}
	if reached, err := s.ReachedSince(ctx, model.ReachScope, scaleContact(50), t0); !reached || err != nil {
		t.Errorf("ReachedSince after a new reach = %v, %v", reached, err)
	}
}
