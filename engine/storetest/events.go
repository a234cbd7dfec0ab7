package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

// testEventLog: Change.Events join the store's event log (model.EventLog)
// with the rest of their change, in order, and only if it commits: a
// refused change logs nothing. The log survives a reopen and pages by Seq.
// A Store must implement model.EventLog.
func testEventLog(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	if _, ok := st.(model.EventLog); !ok {
		t.Fatalf("%T does not implement model.EventLog: Change.Events would be lost", st)
	}
	evs := func(c *model.Change, n int) []model.Event {
		var out []model.Event
		for i := range n {
			out = append(out, model.Event{ID: fmt.Sprintf("evt_%s_%d", c.InboundID, i), Type: model.EventMessageReceived, At: c.At,
				Contact: c.Contact.Key, Conversation: c.Conversations[0].ID, Data: json.RawMessage(`{"message":{"type":"text","text":"hallo"}}`)})
		}
		return out
	}
	first := event(1, "wamid.events.1")
	first.Events = evs(first, 2)
	commit(t, st, first)
	// Refused: the inbound id again. Its events are not logged.
	dup := event(2, first.InboundID)
	dup.Contact.Key = first.Contact.Key
	dup.Events = evs(dup, 1)
	if err := st.Commit(ctx, dup); !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	// Concurrent commits: each one's events stay together and in order.
	var wg sync.WaitGroup
	var want []model.Event
	var mu sync.Mutex
	for i := range 8 {
		c := event(10+i, fmt.Sprintf("wamid.events.c%d", i))
		c.Events = evs(c, 3)
		mu.Lock()
		want = append(want, c.Events...)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.Commit(ctx, c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	must(t, st.Close())
	st = s.reopen(t, path)
	log := st.(model.EventLog)
	all, err := log.EventsAfter(ctx, 0, 0)
	must(t, err)
	if len(all) != 2+8*3 {
		t.Fatalf("%d events logged, want %d", len(all), 2+8*3)
	}
	sameJSON(t, "the first change's events", []model.Event{all[0].Event, all[1].Event}, first.Events)
	byID := map[string]model.Event{}
	for i, le := range all {
		if i > 0 && le.Seq <= all[i-1].Seq {
			t.Fatalf("Seq %d after %d", le.Seq, all[i-1].Seq)
		}
		byID[le.Event.ID] = le.Event
	}
	for i := 2; i < len(all); i += 3 {
		for j := 1; j < 3; j++ {
			a, b := all[i+j-1].Event.ID, all[i+j].Event.ID
			if a[:len(a)-1] != b[:len(b)-1] {
				t.Fatalf("a change's events split: %s then %s", a, b)
			}
		}
	}
	for _, ev := range want {
		if _, ok := byID[ev.ID]; !ok {
			t.Fatalf("event %s not logged", ev.ID)
		}
		sameJSON(t, "event "+ev.ID, byID[ev.ID], ev)
	}
	page, err := log.EventsAfter(ctx, all[4].Seq, 3)
	must(t, err)
	if len(page) != 3 || page[0].Seq != all[5].Seq || page[2].Seq != all[7].Seq {
		t.Fatalf("a page after %d: %+v", all[4].Seq, page)
	}
}
