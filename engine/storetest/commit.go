package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// A redelivered webhook is never processed twice, and a refused change
// leaves no trace: not its contact, conversation, messages, outbox items
// or timers, nor any deletion of a timer.
func testCommitAtomicDuplicate(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	first := event(1, "wamid.HBgLNDkxNTEyMzQ1Njc4FQIAEhgg")
	if seen, err := st.Seen(ctx, first.Contact.Key, first.InboundID); seen || err != nil {
		t.Fatalf("Seen before commit = %v, %v", seen, err)
	}
	commit(t, st, first)
	if seen, err := st.Seen(ctx, first.Contact.Key, first.InboundID); !seen || err != nil {
		t.Fatalf("Seen after commit = %v, %v", seen, err)
	}

	// The same inbound id again, carrying other writes.
	dup := event(2, first.InboundID)
	dup.Contact.Key = contact(1).Key // would overwrite the first contact
	dup.Contact.Name = "overwritten"
	dup.DeleteTimers = first.SetTimers
	err := st.Commit(ctx, dup)
	if !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate commit: got %v, want ErrDuplicate", err)
	}

	c, err := st.Contact(ctx, first.Contact.Key)
	must(t, err)
	sameJSON(t, "contact after a refused duplicate", c, first.Contact)
	dupConv := dup.Conversations[0]
	if _, err := st.Conversation(ctx, dupConv.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("refused change's conversation: got %v, want ErrNotFound", err)
	}
	if m, _ := st.Transcript(ctx, dupConv.ID); len(m) != 0 {
		t.Errorf("refused change's messages are visible: %d", len(m))
	}
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != 1 || items[0].Message.Conversation != first.Conversations[0].ID {
		t.Errorf("outbox after a refused duplicate: %d items, want the first change's 1", len(items))
	}
	timers, err := st.DueTimers(ctx, at(24*time.Hour), 0)
	must(t, err)
	sameJSON(t, "timers after a refused duplicate", timers, first.SetTimers)
}

func testCommitWithoutInboundID(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	// Timer firings and agent actions have no inbound id: never deduplicated.
	c := event(1, "")
	commit(t, st, c)
	c2 := &model.Change{At: at(time.Minute), Contact: c.Contact}
	commit(t, st, c2)
	commit(t, st, c2)
	if seen, err := st.Seen(ctx, c.Contact.Key, ""); seen || err != nil {
		t.Errorf(`Seen("") = %v, %v; want false, nil`, seen, err)
	}
	// An empty change is allowed.
	commit(t, st, &model.Change{At: at(0)})
}

// Pinned: a Commit whose context is already done commits nothing.
func testCommitCancelledContext(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx, cancel := context.WithCancel(ctxOf(t))
	cancel()
	c := event(1, "wamid.cancelled")
	if err := st.Commit(ctx, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("commit with a cancelled context: got %v, want context.Canceled", err)
	}
	if seen, err := st.Seen(ctxOf(t), c.Contact.Key, c.InboundID); seen || err != nil {
		t.Errorf("Seen = %v, %v; want false, nil", seen, err)
	}
	if _, err := st.Contact(ctxOf(t), c.Contact.Key); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("contact of the cancelled commit: got %v, want ErrNotFound", err)
	}
}

func testConcurrentCommits(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	const workers, each = 64, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				if err := st.Commit(ctx, event(n, fmt.Sprintf("wamid.%d", n))); err != nil {
					errs <- fmt.Errorf("event %d: %w", n, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for n := range workers * each {
		if seen, err := st.Seen(ctx, contact(n).Key, fmt.Sprintf("wamid.%d", n)); !seen || err != nil {
			t.Errorf("event %d: Seen = %v, %v", n, seen, err)
		}
		key := contact(n).Key
		if _, err := st.Contact(ctx, key); err != nil {
			t.Errorf("event %d: contact: %v", n, err)
		}
		if m, err := st.Transcript(ctx, conversationID(key, 1)); len(m) != 2 || err != nil {
			t.Errorf("event %d: transcript has %d messages (%v), want 2", n, len(m), err)
		}
	}
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != workers*each {
		t.Errorf("outbox has %d items, want %d", len(items), workers*each)
	}
	timers, err := st.DueTimers(ctx, at(24*time.Hour), 0)
	must(t, err)
	if len(timers) != workers*each {
		t.Errorf("%d timers, want %d", len(timers), workers*each)
	}
}

// The same webhook delivered to many goroutines at once lands exactly once.
func testConcurrentDuplicates(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	const workers, ids = 64, 4
	var mu sync.Mutex
	landed := map[string][]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range ids {
				id := fmt.Sprintf("wamid.same.%d", i)
				// Every attempt writes its own contact: only the winner's
				// may exist. All name the same key, as a redelivered
				// message does.
				c := event(w*ids+i, id)
				c.InboundKey = contact(i).Key
				err := st.Commit(ctx, c)
				switch {
				case err == nil:
					mu.Lock()
					landed[id] = append(landed[id], w*ids+i)
					mu.Unlock()
				case !errors.Is(err, model.ErrDuplicate):
					t.Errorf("worker %d, %s: %v", w, id, err)
				}
			}
		})
	}
	wg.Wait()
	for i := range ids {
		id := fmt.Sprintf("wamid.same.%d", i)
		if len(landed[id]) != 1 {
			t.Fatalf("%s landed %d times, want once", id, len(landed[id]))
		}
		for w := range workers {
			n := w*ids + i
			_, err := st.Contact(ctx, contact(n).Key)
			if n == landed[id][0] && err != nil {
				t.Errorf("%s: the winner's contact: %v", id, err)
			}
			if n != landed[id][0] && !errors.Is(err, model.ErrNotFound) {
				t.Errorf("%s: a refused attempt's contact: got %v, want ErrNotFound", id, err)
			}
		}
	}
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != ids {
		t.Errorf("outbox has %d items, want %d", len(items), ids)
	}
}

// pruneKey is the contact key the prune test's inbound ids are kept under.
const pruneKey model.ContactKey = "1065:prune"

func testPruneInbound(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	ids := []struct {
		id string
		at time.Time
	}{
		{"wamid.old", at(-48 * time.Hour)},
		{"wamid.edge", at(-24 * time.Hour)},
		{"wamid.new", at(0)},
	}
	for _, c := range ids {
		commit(t, st, &model.Change{InboundID: c.id, InboundKey: pruneKey, At: c.at})
	}
	// Strictly before: an id committed at the bound stays.
	n, err := st.PruneInbound(ctx, at(-24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Errorf("pruned %d, want 1", n)
	}
	for _, c := range ids {
		seen, err := st.Seen(ctx, pruneKey, c.id)
		must(t, err)
		if want := c.id != "wamid.old"; seen != want {
			t.Errorf("Seen(%s) = %v, want %v", c.id, seen, want)
		}
	}
	// A forgotten id is new again.
	commit(t, st, &model.Change{InboundID: "wamid.old", InboundKey: pruneKey, At: at(time.Hour)})
	if n, err := st.PruneInbound(ctx, at(-24*time.Hour)); n != 0 || err != nil {
		t.Errorf("second prune: %d, %v; want 0, nil", n, err)
	}

	// Many at once, committed concurrently.
	const many = 2500
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Go(func() {
			for i := w; i < many; i += 50 {
				key := contact(i).Key // spread over many groups
				if err := st.Commit(ctx, &model.Change{InboundID: fmt.Sprint("wamid.bulk.", i), InboundKey: key, At: at(-time.Duration(many-i) * time.Minute)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n, err = st.PruneInbound(ctx, at(0))
	must(t, err)
	if n != many+1 { // and wamid.edge
		t.Errorf("pruned %d, want %d", n, many+1)
	}
	for id, key := range map[string]model.ContactKey{"wamid.bulk.0": contact(0).Key, "wamid.bulk.2499": contact(2499).Key, "wamid.edge": pruneKey} {
		if seen, _ := st.Seen(ctx, key, id); seen {
			t.Errorf("%s still seen after prune", id)
		}
	}
	for _, id := range []string{"wamid.new", "wamid.old"} {
		if seen, _ := st.Seen(ctx, pruneKey, id); !seen {
			t.Errorf("%s forgotten by a prune before it", id)
		}
	}
}

// Pinned: messages are appended, never rewritten through
// Change.Messages (Change.Updates does that). A change carrying a message already stored at its
// (Conversation, Seq) fails as a whole and writes nothing.
func testCommitNeverRewritesMessage(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	first := event(1, "wamid.1")
	commit(t, st, first)
	again := event(1, "wamid.2")
	again.Contact.Name = "changed"
	again.Messages[0].Inbound.Text = "rewritten"
	if err := st.Commit(ctx, again); err == nil || errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("commit of a stored message: got %v, want an error other than ErrDuplicate", err)
	}
	if seen, _ := st.Seen(ctx, again.Contact.Key, again.InboundID); seen {
		t.Error("the refused change's inbound id was committed")
	}
	c, err := st.Contact(ctx, first.Contact.Key)
	must(t, err)
	sameJSON(t, "contact", c, first.Contact)
	tr, err := st.Transcript(ctx, first.Conversations[0].ID)
	must(t, err)
	sameJSON(t, "transcript", tr, first.Messages)
	if items, _ := st.Outbox(ctx, 0, 0); len(items) != 1 {
		t.Errorf("outbox has %d items, want 1", len(items))
	}
}
