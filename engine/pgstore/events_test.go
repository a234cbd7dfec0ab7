package pgstore_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/events/eventstest"
	"github.com/parleyhq/parley/engine/model"
)

func TestEventsStore(t *testing.T) {
	testURL(t)
	eventstest.Run(t, func(t *testing.T) eventstest.Store {
		st := openAt(t, filepath.Join(t.TempDir(), "db")) // not t.Name(): another run of this test at once would share its schema
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// enqueueChains logs perKey events for each of keys and enqueues their
// deliveries to sub, due at due.
func enqueueChains(t *testing.T, st eventstest.Store, sub string, keys, perKey int, due time.Time) {
	t.Helper()
	ctx := t.Context()
	c := &model.Change{At: due}
	for i := range perKey {
		for k := range keys {
			c.Events = append(c.Events, model.Event{ID: fmt.Sprintf("evt_%d_%d", k, i), Type: model.EventMessageReceived,
				At: due, Contact: model.ContactKey(fmt.Sprintf("p:%d", k))})
		}
	}
	if err := st.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	logged, err := st.EventsAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ds []events.Delivery
	for _, le := range logged {
		ds = append(ds, events.Delivery{Subscription: sub, Event: le.Event, OrderKey: string(le.Event.Contact), State: events.Pending,
			NextAt: due, CreatedAt: due, GiveUpAt: due.Add(time.Hour)})
	}
	if err := st.Enqueue(ctx, logged[len(logged)-1].Seq, ds); err != nil {
		t.Fatal(err)
	}
}

// TestClaimDueRace: two handles, as two processes, claim and post the
// same due deliveries at once: each is posted once, and a contact's in
// the order of its events.
func TestClaimDueRace(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	const keys, perKey = 8, 6
	now := time.Now()
	enqueueChains(t, a, "sub_a", keys, perKey, now)
	var mu sync.Mutex
	posted := map[uint64]string{}       // seq → handle
	order := map[string][]model.Event{} // key → events as posted
	var wg sync.WaitGroup
	for name, st := range map[string]eventstest.Store{"a": a, "b": b} {
		claimer := st.(events.Claimer)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := claimer.ClaimDue(t.Context(), now, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					n, err := st.CountPending(t.Context(), 0)
					if err != nil || n == 0 {
						return
					}
					time.Sleep(time.Millisecond) // the other handle holds the rest
					continue
				}
				for _, d := range ds {
					mu.Lock()
					if by, dup := posted[d.Seq]; dup {
						t.Errorf("delivery %d posted by %s, then by %s", d.Seq, by, name)
					}
					posted[d.Seq] = name
					order[d.OrderKey] = append(order[d.OrderKey], d.Event)
					mu.Unlock()
					d.State, d.DoneAt, d.NextAt = events.Delivered, now, time.Time{}
					if ok, err := st.UpdateDelivery(t.Context(), d); !ok || err != nil {
						t.Errorf("update %d: %v %v", d.Seq, ok, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(posted) != keys*perKey {
		t.Fatalf("posted %d, want %d", len(posted), keys*perKey)
	}
	for k := range keys {
		key := fmt.Sprintf("p:%d", k)
		evs := order[key]
		for i, ev := range evs {
			if want := fmt.Sprintf("evt_%d_%d", k, i); ev.ID != want {
				t.Fatalf("%s's deliveries posted in the order %v: #%d is %s, want %s", key, evs, i, ev.ID, want)
			}
		}
	}
	by := map[string]int{}
	for _, h := range posted {
		by[h]++
	}
	t.Logf("posted by handle: %v", by)
}

// TestClaimLease: a claimed delivery is no other handle's until its claim
// runs out (its process died); an update ends the claim.
func TestClaimLease(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	now := time.Now()
	enqueueChains(t, a, "sub_a", 2, 1, now)
	ctx := t.Context()
	got, err := a.ClaimDue(ctx, now, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("a claimed %v, %v", got, err)
	}
	others, err := b.ClaimDue(ctx, now, 10)
	if err != nil || len(others) != 1 || others[0].Seq == got[0].Seq {
		t.Fatalf("b claimed %v, %v: want only the other contact's", others, err)
	}
	if again, _ := b.ClaimDue(ctx, now.Add(time.Minute), 10); len(again) != 0 {
		t.Fatalf("b claimed %v again within the leases", again)
	}
	// a dies: after its lease (pgstore.DefaultLease), b takes its delivery.
	late, err := b.ClaimDue(ctx, now.Add(3*time.Minute), 10)
	if err != nil || len(late) != 2 {
		t.Fatalf("after the leases b claimed %v, %v; want both", late, err)
	}
	// A retry ends the claim: due again at its time.
	d := late[0]
	d.NextAt = now.Add(4 * time.Minute)
	if ok, err := b.UpdateDelivery(ctx, d); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if re, _ := a.ClaimDue(ctx, now.Add(4*time.Minute), 10); len(re) != 1 || re[0].Seq != d.Seq {
		t.Fatalf("a claimed %v at the retry, want %d", re, d.Seq)
	}
}
