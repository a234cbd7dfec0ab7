package schedule

import (
	"reflect"
	"testing"
	"time"
)

// TestPruneAfterRetention: a firing past the retention period loses its
// per-contact records but reads the same report, across a restart; a
// younger firing keeps everything.
func TestPruneAfterRetention(t *testing.T) {
	w := newWorld(t, 0)
	w.contacts(3)
	sc := w.create(reminder())
	w.clock.Set(at(0, 9, 0))
	w.tick()
	w.drain()
	old := w.firings(sc.ID)[0]
	before, err := w.s.Report(w.ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.Delivery.Accepted+before.Delivery.Delivered != 3 {
		t.Fatalf("delivery before pruning: %+v", before.Delivery)
	}

	// Thirty days later the day-30 firing is young, day 0's just past
	// DefaultRetention once its finish is more than 30 days back.
	w.clock.Set(at(30, 9, 0))
	w.tick()
	w.drain()
	w.clock.Set(at(30, 9, 0).Add(time.Hour))
	w.tick() // prunes: an hour since the last look

	sends, err := w.s.Sends(w.ctx, old.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sends) != 0 {
		t.Errorf("day 0 keeps %d per-contact records after the retention period", len(sends))
	}
	w.reopen()
	after, err := w.s.Report(w.ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Firing.Delivery == nil || !reflect.DeepEqual(after.Delivery, before.Delivery) || after.Firing.Counts.Sent != 3 {
		t.Errorf("report after pruning and a restart:\n%+v %+v\nwant the delivery it had: %+v", after.Firing, after.Delivery, before.Delivery)
	}
	young := w.firings(sc.ID)[0]
	if young.ID == old.ID {
		t.Fatal("no day-30 firing")
	}
	if sends, _ := w.s.Sends(w.ctx, young.ID, "", 0); len(sends) != 3 || young.Delivery != nil {
		t.Errorf("the day-30 firing was pruned: %d sends, delivery %+v", len(sends), young.Delivery)
	}
	if n, err := w.s.Prune(w.ctx); err != nil || n != 0 {
		t.Errorf("a second prune did %d (%v), want nothing", n, err)
	}
}
