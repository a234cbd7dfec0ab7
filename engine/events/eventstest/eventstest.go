// Package eventstest is the contract of events.Store as tests: every
// backend runs Run, unchanged, against its own storage, as it runs
// storetest for model.Store.
//
//	func TestEventsStore(t *testing.T) {
//		eventstest.Run(t, func(t *testing.T) eventstest.Store {
//			s, err := boltstore.Open(filepath.Join(t.TempDir(), "events.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// It pins what the event webhooks' Service relies on: a batch moves from
// the event log to deliveries once; only the first pending delivery of
// each (subscription, order key) is ever due, and finishing it makes the
// next one due; replays, Hurry, listing, deletion and pruning.
package eventstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
)

// Store is a backend of both the engine (which writes the event log in
// its commits) and the event webhooks.
type Store interface {
	model.Store
	events.Store
}

// Open returns a fresh, empty store, closed when the test ends.
type Open func(t *testing.T) Store

// Run runs the contract suite, each case on a store of its own.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		run  func(*testing.T, Store)
	}{
		{"Subscriptions", testSubscriptions},
		{"EnqueueMovesTheLogOnce", testEnqueue},
		{"OnlyTheFirstOfAChainIsDue", testChains},
		{"UpdateOnlyPending", testUpdateOnlyPending},
		{"Deliveries", testDeliveries},
		{"Replay", testReplay},
		{"Hurry", testHurry},
		{"DeleteSubscription", testDelete},
		{"Prune", testPrune},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// logEvents commits n events of contact key and returns their log seqs.
func logEvents(t *testing.T, st Store, key string, n int) []model.LoggedEvent {
	t.Helper()
	ctx := t.Context()
	before, err := st.EventsAfter(ctx, 0, 0)
	must(t, err)
	c := &model.Change{At: t0}
	for i := range n {
		c.Events = append(c.Events, model.Event{ID: fmt.Sprintf("evt_%s_%d_%d", key, len(before), i), Type: model.EventMessageReceived,
			At: t0, Contact: model.ContactKey(key)})
	}
	must(t, st.Commit(ctx, c))
	all, err := st.EventsAfter(ctx, 0, 0)
	must(t, err)
	return all[len(before):]
}

// delivery is a new pending delivery of ev to sub, due at due.
func delivery(sub string, ev model.Event, due time.Time) events.Delivery {
	return events.Delivery{Subscription: sub, Event: ev, OrderKey: string(ev.Contact), State: events.Pending,
		NextAt: due, CreatedAt: due, GiveUpAt: due.Add(24 * time.Hour)}
}

// enqueue logs one event per key and makes deliveries of them to sub,
// due at t0, and returns them as stored, in order.
func enqueue(t *testing.T, st Store, sub string, keys ...string) []events.Delivery {
	t.Helper()
	var ds []events.Delivery
	var last uint64
	for _, k := range keys {
		le := logEvents(t, st, k, 1)[0]
		ds = append(ds, delivery(sub, le.Event, t0))
		last = le.Seq
	}
	before, err := st.Deliveries(t.Context(), sub, "", 0, 0)
	must(t, err)
	must(t, st.Enqueue(t.Context(), last, ds))
	after, err := st.Deliveries(t.Context(), sub, "", 0, 0)
	must(t, err)
	stored := after[:len(after)-len(before)]
	slices.Reverse(stored)
	if len(stored) != len(keys) {
		t.Fatalf("enqueued %d, stored %d", len(keys), len(stored))
	}
	return stored
}

func seqs(ds []events.Delivery) []uint64 {
	out := []uint64{}
	for _, d := range ds {
		out = append(out, d.Seq)
	}
	return out
}

func due(t *testing.T, st Store, now time.Time) []uint64 {
	t.Helper()
	ds, err := st.Due(t.Context(), now, 0)
	must(t, err)
	return seqs(ds)
}

func get(t *testing.T, st Store, seq uint64) events.Delivery {
	t.Helper()
	d, ok, err := st.Delivery(t.Context(), seq)
	must(t, err)
	if !ok {
		t.Fatalf("delivery %d not found", seq)
	}
	return d
}

// finish records d as delivered (or failed) at when.
func finish(t *testing.T, st Store, d events.Delivery, state events.State, when time.Time) {
	t.Helper()
	d.State, d.DoneAt, d.NextAt = state, when, time.Time{}
	d.AttemptCount++
	d.Attempts = append(d.Attempts, events.Attempt{At: when, Status: 200})
	ok, err := st.UpdateDelivery(t.Context(), d)
	must(t, err)
	if !ok {
		t.Fatalf("update of delivery %d refused", d.Seq)
	}
}

func testSubscriptions(t *testing.T, st Store) {
	ctx := t.Context()
	list, err := st.Subscriptions(ctx)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("a fresh store lists %d subscriptions", len(list))
	}
	for _, id := range []string{"sub_b", "sub_a"} {
		must(t, st.PutSubscription(ctx, events.Subscription{ID: id, URL: "https://x.example/" + id, Enabled: true,
			Types: []model.EventType{model.EventHandoffQueued}, SealedSecret: []byte{1, 2, 3}, SecretHint: "abcd", CreatedAt: t0, UpdatedAt: t0}))
	}
	must(t, st.PutSubscription(ctx, events.Subscription{ID: "sub_a", URL: "https://x.example/changed", CreatedAt: t0, UpdatedAt: at(time.Hour)}))
	list, err = st.Subscriptions(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != "sub_a" || list[1].ID != "sub_b" || list[0].URL != "https://x.example/changed" || list[0].Enabled {
		t.Fatalf("listed %+v: want sub_a (replaced) then sub_b", list)
	}
	s, ok, err := st.Subscription(ctx, "sub_b")
	must(t, err)
	if !ok || !slices.Equal(s.SealedSecret, []byte{1, 2, 3}) || s.SecretHint != "abcd" || !s.CreatedAt.Equal(t0) || len(s.Types) != 1 {
		t.Fatalf("sub_b: %+v %v", s, ok)
	}
	if _, ok, err := st.Subscription(ctx, "sub_nope"); ok || err != nil {
		t.Fatalf("unknown subscription: %v %v", ok, err)
	}
	if ok, err := st.DeleteSubscription(ctx, "sub_b"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if ok, err := st.DeleteSubscription(ctx, "sub_b"); ok || err != nil {
		t.Fatalf("delete again: %v %v", ok, err)
	}
}

func testEnqueue(t *testing.T, st Store) {
	ctx := t.Context()
	les := logEvents(t, st, "p:1", 3)
	ds := []events.Delivery{delivery("sub_a", les[0].Event, t0), delivery("sub_b", les[0].Event, t0), delivery("sub_a", les[1].Event, t0)}
	must(t, st.Enqueue(ctx, les[1].Seq, ds))
	left, err := st.EventsAfter(ctx, 0, 0)
	must(t, err)
	if len(left) != 1 || left[0].Seq != les[2].Seq {
		t.Fatalf("log after enqueueing up to %d: %+v, want only %d", les[1].Seq, left, les[2].Seq)
	}
	// The same batch again (a crash before the caller learnt it went
	// through): nothing more.
	must(t, st.Enqueue(ctx, les[1].Seq, ds))
	a, err := st.Deliveries(ctx, "sub_a", "", 0, 0)
	must(t, err)
	b, err := st.Deliveries(ctx, "sub_b", "", 0, 0)
	must(t, err)
	if len(a) != 2 || len(b) != 1 {
		t.Fatalf("deliveries: sub_a %d, sub_b %d; want 2 and 1", len(a), len(b))
	}
	if a[1].Event.ID != les[0].Event.ID || a[0].Event.ID != les[1].Event.ID || !(a[1].Seq < a[0].Seq) || a[0].State != events.Pending {
		t.Fatalf("sub_a's deliveries %+v: newest first, Seq in enqueue order", a)
	}
	// Nothing to deliver: the log still moves.
	must(t, st.Enqueue(ctx, les[2].Seq, nil))
	if left, _ := st.EventsAfter(ctx, 0, 0); len(left) != 0 {
		t.Fatalf("log after an empty batch: %d left", len(left))
	}
}

func testChains(t *testing.T, st Store) {
	ctx := t.Context()
	ds := enqueue(t, st, "sub_a", "p:1", "p:2", "p:1", "p:1")
	d1, d2, d3, d4 := ds[0], ds[1], ds[2], ds[3]
	if got, want := due(t, st, t0), []uint64{d1.Seq, d2.Seq}; !slices.Equal(got, want) {
		t.Fatalf("due %v, want %v: the first of each contact", got, want)
	}
	if len(due(t, st, t0.Add(-time.Second))) != 0 {
		t.Fatal("due before their time")
	}
	if n, err := st.CountPending(ctx, 100); n != 4 || err != nil {
		t.Fatalf("pending %d, %v; want 4", n, err)
	}
	if n, _ := st.CountPending(ctx, 3); n != 3 {
		t.Fatalf("pending counted up to 3: %d", n)
	}
	if w := get(t, st, d3.Seq); !w.NextAt.IsZero() {
		t.Fatalf("a waiting delivery has NextAt %v, want zero", w.NextAt)
	}
	// A retry: due later, not now.
	d1 = get(t, st, d1.Seq)
	d1.NextAt, d1.AttemptCount = at(time.Minute), 1
	d1.Attempts = []events.Attempt{{At: t0, Status: 503, Error: "HTTP 503"}}
	if ok, err := st.UpdateDelivery(ctx, d1); !ok || err != nil {
		t.Fatalf("retry: %v %v", ok, err)
	}
	if got := due(t, st, t0); !slices.Equal(got, []uint64{d2.Seq}) {
		t.Fatalf("due %v while p:1 waits for its retry", got)
	}
	next, ok, err := st.NextDue(ctx)
	must(t, err)
	if !ok || !next.Equal(t0) {
		t.Fatalf("next due %v %v, want %v (p:2's)", next, ok, t0)
	}
	finish(t, st, get(t, st, d2.Seq), events.Delivered, t0)
	if next, _, _ := st.NextDue(ctx); !next.Equal(at(time.Minute)) {
		t.Fatalf("next due %v, want the retry's %v", next, at(time.Minute))
	}
	if got := due(t, st, at(time.Minute)); !slices.Equal(got, []uint64{d1.Seq}) {
		t.Fatalf("due %v at the retry", got)
	}
	if g := get(t, st, d1.Seq); g.AttemptCount != 1 || len(g.Attempts) != 1 || g.Attempts[0].Status != 503 {
		t.Fatalf("the retry's attempt was not kept: %+v", g)
	}
	// Done: the next of the chain is due when the first finished.
	finish(t, st, get(t, st, d1.Seq), events.Failed, at(2*time.Minute))
	if got := due(t, st, at(2*time.Minute)); !slices.Equal(got, []uint64{d3.Seq}) {
		t.Fatalf("due %v after p:1's first failed, want its second", got)
	}
	if g := get(t, st, d3.Seq); !g.NextAt.Equal(at(2 * time.Minute)) {
		t.Fatalf("the next of the chain is due at %v, want %v", g.NextAt, at(2*time.Minute))
	}
	finish(t, st, get(t, st, d3.Seq), events.Delivered, at(3*time.Minute))
	finish(t, st, get(t, st, d4.Seq), events.Delivered, at(3*time.Minute))
	if got := due(t, st, at(time.Hour)); len(got) != 0 {
		t.Fatalf("due %v with everything done", got)
	}
	if _, ok, _ := st.NextDue(ctx); ok {
		t.Fatal("NextDue with nothing pending")
	}
	if n, _ := st.CountPending(ctx, 100); n != 0 {
		t.Fatalf("pending %d with everything done", n)
	}
}

func testUpdateOnlyPending(t *testing.T, st Store) {
	ctx := t.Context()
	d := enqueue(t, st, "sub_a", "p:1")[0]
	finish(t, st, d, events.Delivered, t0)
	d.State = events.Pending
	if ok, err := st.UpdateDelivery(ctx, d); ok || err != nil {
		t.Fatalf("update of a delivered delivery: %v %v, want refused", ok, err)
	}
	d.Seq = 999999
	if ok, err := st.UpdateDelivery(ctx, d); ok || err != nil {
		t.Fatalf("update of a missing delivery: %v %v, want refused", ok, err)
	}
}

func testDeliveries(t *testing.T, st Store) {
	ctx := t.Context()
	ds := enqueue(t, st, "sub_a", "p:1", "p:2", "p:3", "p:4", "p:5")
	enqueue(t, st, "sub_b", "p:1")
	finish(t, st, ds[1], events.Delivered, t0)
	finish(t, st, ds[3], events.Failed, t0)
	all, err := st.Deliveries(ctx, "sub_a", "", 0, 0)
	must(t, err)
	want := seqs(ds)
	slices.Reverse(want)
	if !slices.Equal(seqs(all), want) {
		t.Fatalf("all %v, want %v (newest first)", seqs(all), want)
	}
	page, err := st.Deliveries(ctx, "sub_a", "", want[1], 2)
	must(t, err)
	if !slices.Equal(seqs(page), want[2:4]) {
		t.Fatalf("page before %d: %v, want %v", want[1], seqs(page), want[2:4])
	}
	for state, want := range map[events.State][]uint64{
		events.Pending: {ds[4].Seq, ds[2].Seq, ds[0].Seq}, events.Delivered: {ds[1].Seq}, events.Failed: {ds[3].Seq},
	} {
		got, err := st.Deliveries(ctx, "sub_a", state, 0, 0)
		must(t, err)
		if !slices.Equal(seqs(got), want) {
			t.Errorf("%s: %v, want %v", state, seqs(got), want)
		}
	}
	if none, _ := st.Deliveries(ctx, "sub_nope", "", 0, 0); len(none) != 0 {
		t.Fatalf("deliveries of an unknown subscription: %d", len(none))
	}
}

func testReplay(t *testing.T, st Store) {
	ctx := t.Context()
	ds := enqueue(t, st, "sub_a", "p:1", "p:2", "p:3")
	finish(t, st, ds[0], events.Failed, t0)
	finish(t, st, ds[1], events.Failed, t0)
	finish(t, st, ds[2], events.Delivered, t0)
	later := enqueue(t, st, "sub_a", "p:2")[0] // p:2 has a delivery pending again
	n, err := st.Replay(ctx, "sub_b", nil, at(time.Hour), at(25*time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("replay of another subscription moved %d", n)
	}
	n, err = st.Replay(ctx, "sub_a", nil, at(time.Hour), at(25*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("replayed %d failed, want 2", n)
	}
	r1 := get(t, st, ds[0].Seq)
	if r1.State != events.Pending || !r1.NextAt.Equal(at(time.Hour)) || !r1.GiveUpAt.Equal(at(25*time.Hour)) || !r1.DoneAt.IsZero() || r1.AttemptCount != 1 {
		t.Fatalf("replayed %+v", r1)
	}
	// p:2's replay waits for the pending one due now, then goes first.
	if r2 := get(t, st, ds[1].Seq); !r2.NextAt.IsZero() {
		t.Fatalf("replay into a busy chain is due at %v, want waiting", r2.NextAt)
	}
	if got := due(t, st, at(time.Hour)); !slices.Equal(got, []uint64{ds[0].Seq, later.Seq}) && !slices.Equal(got, []uint64{later.Seq, ds[0].Seq}) {
		t.Fatalf("due %v", got)
	}
	finish(t, st, get(t, st, later.Seq), events.Delivered, at(time.Hour))
	if got := due(t, st, at(time.Hour)); !slices.Contains(got, ds[1].Seq) {
		t.Fatalf("due %v: p:2's replay should follow", got)
	}
	n, err = st.Replay(ctx, "sub_a", []uint64{ds[2].Seq, ds[0].Seq, 999999}, at(2*time.Hour), at(26*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("replay of one delivered, one pending, one missing: %d, want 1", n)
	}
	if failed, _ := st.Deliveries(ctx, "sub_a", events.Failed, 0, 0); len(failed) != 0 {
		t.Fatalf("%d failed after replaying them", len(failed))
	}
}

func testHurry(t *testing.T, st Store) {
	ctx := t.Context()
	ds := enqueue(t, st, "sub_a", "p:1", "p:2", "p:1")
	other := enqueue(t, st, "sub_b", "p:1")[0]
	for i, d := range []events.Delivery{get(t, st, ds[0].Seq), get(t, st, ds[1].Seq), get(t, st, other.Seq)} {
		d.NextAt = at(time.Duration(10+i) * time.Minute)
		if ok, err := st.UpdateDelivery(ctx, d); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	n, err := st.Hurry(ctx, "sub_a", at(time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("hurried %d, want 2 (the first of each contact)", n)
	}
	if got := due(t, st, at(time.Minute)); !slices.Equal(got, []uint64{ds[0].Seq, ds[1].Seq}) {
		t.Fatalf("due %v, want sub_a's two", got)
	}
	if w := get(t, st, ds[2].Seq); !w.NextAt.IsZero() {
		t.Fatalf("a waiting delivery was hurried to %v", w.NextAt)
	}
	if n, _ := st.Hurry(ctx, "sub_a", at(time.Minute)); n != 0 {
		t.Fatalf("hurried %d again", n)
	}
}

func testDelete(t *testing.T, st Store) {
	ctx := t.Context()
	must(t, st.PutSubscription(ctx, events.Subscription{ID: "sub_a", URL: "https://x.example/", CreatedAt: t0}))
	ds := enqueue(t, st, "sub_a", "p:1", "p:1", "p:2")
	finish(t, st, ds[2], events.Delivered, t0)
	keep := enqueue(t, st, "sub_b", "p:1")[0]
	ok, err := st.DeleteSubscription(ctx, "sub_a")
	must(t, err)
	if !ok {
		t.Fatal("delete: not found")
	}
	if got := due(t, st, at(time.Hour)); !slices.Equal(got, []uint64{keep.Seq}) {
		t.Fatalf("due %v after deleting sub_a, want sub_b's %d", got, keep.Seq)
	}
	for _, d := range ds {
		if _, ok, _ := st.Delivery(ctx, d.Seq); ok {
			t.Fatalf("delivery %d kept after its subscription was deleted", d.Seq)
		}
	}
	if left, _ := st.Deliveries(ctx, "sub_a", "", 0, 0); len(left) != 0 {
		t.Fatalf("%d listed after delete", len(left))
	}
}

func testPrune(t *testing.T, st Store) {
	ctx := t.Context()
	old := enqueue(t, st, "sub_a", "p:1", "p:2", "p:3") // created at t0
	finish(t, st, old[0], events.Delivered, t0)
	finish(t, st, old[1], events.Failed, t0)
	les := logEvents(t, st, "p:4", 1)
	fresh := delivery("sub_a", les[0].Event, at(48*time.Hour))
	must(t, st.Enqueue(ctx, les[0].Seq, []events.Delivery{fresh}))
	ds, _ := st.Deliveries(ctx, "sub_a", "", 0, 1)
	finish(t, st, ds[0], events.Delivered, at(48*time.Hour))
	n, err := st.PruneDeliveries(ctx, at(24*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("pruned %d, want 2 (the old delivered and failed)", n)
	}
	left, err := st.Deliveries(ctx, "sub_a", "", 0, 0)
	must(t, err)
	if !slices.Equal(seqs(left), []uint64{ds[0].Seq, old[2].Seq}) {
		t.Fatalf("left %v, want the fresh one and the old pending one", seqs(left))
	}
}
