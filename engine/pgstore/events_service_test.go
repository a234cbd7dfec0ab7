package pgstore_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
)

// TestEventsTwoServices: two processes' event services on one database,
// one receiver. The subscription is made through one; both move the log
// and post at once: every event arrives once, each contact's in order.
func TestEventsTwoServices(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	var mu sync.Mutex
	got := map[string]int{}        // event id → posts
	order := map[string][]string{} // contact → event ids as received
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(events.HeaderEventID)
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		mu.Lock()
		got[id]++
		var k, i int
		fmt.Sscanf(id, "evt_%d_%d", &k, &i)
		key := fmt.Sprint(k)
		order[key] = append(order[key], id)
		mu.Unlock()
	}))
	defer recv.Close()
	key := bytes.Repeat([]byte{7}, 32)
	newSvc := func(st *pgstore.Store) *events.Service {
		svc, err := events.New(ctx, events.Options{Store: st, Key: key, Logger: slog.New(slog.DiscardHandler), Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	sa, sb := newSvc(a), newSvc(b)
	url := recv.URL
	if _, _, err := sa.Create(ctx, events.Input{URL: &url}, "test"); err != nil {
		t.Fatal(err)
	}
	const keys, perKey = 6, 5
	now := time.Now().Add(time.Second) // after the subscription's creation
	c := &model.Change{At: now}
	for i := range perKey {
		for k := range keys {
			c.Events = append(c.Events, model.Event{ID: fmt.Sprintf("evt_%d_%d", k, i), Type: model.EventMessageReceived,
				At: now, Contact: model.ContactKey(fmt.Sprintf("p:%d", k))})
		}
	}
	if err := a.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	var posts [2]int
	for round := 0; ; round++ {
		var wg sync.WaitGroup
		for i, svc := range []*events.Service{sa, sb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := svc.Pass(ctx)
				if err != nil {
					t.Error(err)
				}
				posts[i] += n
			}()
		}
		wg.Wait()
		n, err := a.CountPending(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if round > 100 {
			t.Fatalf("%d deliveries still pending", n)
		}
	}
	t.Logf("posted: %d by a, %d by b", posts[0], posts[1])
	if len(got) != keys*perKey {
		t.Fatalf("received %d events, want %d", len(got), keys*perKey)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s received %d times", id, n)
		}
	}
	for k := range keys {
		ids := order[fmt.Sprint(k)]
		for i, id := range ids {
			if want := fmt.Sprintf("evt_%d_%d", k, i); id != want {
				t.Fatalf("contact p:%d received %v: out of order", k, ids)
			}
		}
	}
}
