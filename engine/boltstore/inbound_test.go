package boltstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// TestPruneInboundWritesOnlyItsFront pins that forgetting inbound ids
// costs pages in proportion to the ids, read from the front of
// inbound_by_time, not one page of contact_data each: the old prune
// deleted every id from its contact's group, ~1 leaf and its branches per
// id, spread over the whole bucket.
func TestPruneInboundWritesOnlyItsFront(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	const old, recent = 3000, 50
	for i := range old + recent {
		at := t0.Add(time.Duration(i) * time.Second) // the old ones first
		if i >= old {
			at = t0.Add(48 * time.Hour)
		}
		c := scaleInbound(i, 0, at) // scattered contacts: a group each
		if err := s.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	before := s.db.Stats().TxStats
	n, err := s.PruneInbound(ctx, t0.Add(24*time.Hour))
	if err != nil || n != old {
		t.Fatalf("PruneInbound = %d, %v; want %d", n, err, old)
	}
	after := s.db.Stats().TxStats
	pages := (after.GetPageAlloc() - before.GetPageAlloc()) / int64(s.db.Info().PageSize)
	// 3000 ids of ~70 bytes in inbound_by_time are ~60 pages at half
	// fill; deleting them one by one from their groups wrote 3118 pages.
	t.Logf("PruneInbound of %d ids wrote %d pages", old, pages)
	if pages > old/20 {
		t.Errorf("PruneInbound of %d ids wrote %d pages, want at most %d", old, pages, old/20)
	}
	var live int
	_ = s.db.View(func(tx *bolt.Tx) error {
		live = tx.Bucket(bucketInboundByTime).Stats().KeyN
		return nil
	})
	if live != recent {
		t.Errorf("inbound_by_time holds %d entries after the prune, want %d", live, recent)
	}
}

// TestInboundForgotten follows one id through a prune: forgotten at once
// though its record stays, taken again as new, deleted from its group by
// the group's next commit that stores an id.
func TestInboundForgotten(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	first := scaleInbound(7, 0, t0)
	id, key := first.InboundID, first.Contact.Key
	if err := s.Commit(ctx, first); err != nil {
		t.Fatal(err)
	}
	record := func() bool {
		var ok bool
		_ = s.db.View(func(tx *bolt.Tx) error {
			ok = tx.Bucket(bucketData).Get(keysIn(tx).inbound(key, id)) != nil
			return nil
		})
		return ok
	}
	seen := func() bool {
		ok, err := s.Seen(ctx, key, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := s.Commit(ctx, scaleInbound(7, 0, t0.Add(time.Minute))); !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("redelivery before the prune: %v, want ErrDuplicate", err)
	}
	if n, err := s.PruneInbound(ctx, t0.Add(time.Hour)); n != 1 || err != nil {
		t.Fatalf("PruneInbound = %d, %v; want 1", n, err)
	}
	if seen() || !record() {
		t.Fatalf("after the prune: seen %v, record kept %v; want forgotten, kept", seen(), record())
	}
	// The group's next message deletes the forgotten record, on its page.
	next := scaleInbound(7, 1, t0.Add(2*time.Hour))
	if err := s.Commit(ctx, next); err != nil {
		t.Fatal(err)
	}
	if record() {
		t.Error("the forgotten id is still stored after its group's next commit")
	}
	if ok, _ := s.Seen(ctx, key, next.InboundID); !ok {
		t.Error("the next message's id is not seen")
	}
	// A forgotten id is new again: taken, then refused as a duplicate.
	again := scaleInbound(7, 0, t0.Add(3*time.Hour))
	again.Messages, again.Conversations = nil, nil
	if err := s.Commit(ctx, again); err != nil {
		t.Fatalf("the forgotten id again: %v", err)
	}
	if !seen() {
		t.Error("the id taken again is not seen")
	}
	if err := s.Commit(ctx, again); !errors.Is(err, model.ErrDuplicate) {
		t.Errorf("its redelivery: %v, want ErrDuplicate", err)
	}
	// A prune with an earlier bound does not move the bound back.
	if _, err := s.PruneInbound(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if got, want := forgottenBefore(tx), timeBound(t0.Add(time.Hour)); string(got) != string(want) {
			return fmt.Errorf("bound %x after an earlier prune, want %x", got, want)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
