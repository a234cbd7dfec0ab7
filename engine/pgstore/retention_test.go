package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
)

// oldDone and cutoff: conversations last active at oldDone are past a
// retention that deletes what is older than cutoff.
var (
	oldDone = t0.Add(-60 * 24 * time.Hour)
	cutoff  = t0.Add(-30 * 24 * time.Hour)
)

// commitConv commits contact n's conversation in status at, with a
// transcript of two messages, as the contact's current one.
func commitConv(t *testing.T, st model.Store, n int, status model.Status, at time.Time) string {
	t.Helper()
	key := model.NewContactKey("100", fmt.Sprintf("1555%07d", n))
	id := string(key) + "#1"
	c := &model.Change{At: at, Contact: &model.Contact{Key: key, PhoneNumberID: "100", Conversation: id},
		Conversations: []*model.Conversation{{ID: id, Contact: key, Flow: "f", Status: status, StartedAt: at, LastActivityAt: at, Seq: 2}},
		Messages: []*model.Message{
			{Conversation: id, Seq: 1, Contact: key, Direction: model.In, State: model.Received, At: at},
			{Conversation: id, Seq: 2, Contact: key, Direction: model.Out, State: model.Delivered, At: at},
		}}
	if err := st.Commit(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return id
}

// counts is how many conversations and messages the database holds.
func counts(t *testing.T, st *pgstore.Store) (convs, msgs int) {
	t.Helper()
	if err := st.Pool().QueryRow(t.Context(), `SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)`).Scan(&convs, &msgs); err != nil {
		t.Fatal(err)
	}
	return convs, msgs
}

// TestPruneTwoPruners: two processes prune at once, in small batches,
// while a third writer commits: every old done conversation is deleted
// once (the counts add up, with a pass alone for what each passed over
// while the other held it), nothing live or recent is touched, and the
// commits all land.
func TestPruneTwoPruners(t *testing.T) {
	testURL(t)
	defer pgstore.SetPruneBatch(7)()
	a, b := twoHandles(t)
	ctx := t.Context()
	const old, live = 120, 30
	for i := range old {
		commitConv(t, a, i, []model.Status{model.Ended, model.Expired, model.Failed}[i%3], oldDone.Add(time.Duration(i)*time.Minute))
	}
	for i := range live {
		commitConv(t, b, old+i, []model.Status{model.Waiting, model.Agent, model.Active}[i%3], oldDone)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]int, 2)
	errs := make([]error, 3)
	for i, st := range []*pgstore.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = st.PruneConversations(ctx, cutoff)
		}()
	}
	wg.Add(1)
	go func() { // recent conversations ending while the pruners run
		defer wg.Done()
		<-start
		for i := range 40 {
			key := model.NewContactKey("100", fmt.Sprintf("1666%07d", i))
			id := string(key) + "#1"
			if err := a.Commit(ctx, &model.Change{At: t0, Contact: &model.Contact{Key: key, Conversation: id},
				Conversations: []*model.Conversation{{ID: id, Contact: key, Flow: "f", Status: model.Ended, StartedAt: t0, LastActivityAt: t0}},
				Messages:      []*model.Message{{Conversation: id, Seq: 1, Contact: key, Direction: model.In, State: model.Received, At: t0}}}); err != nil {
				errs[2] = err
				return
			}
		}
	}()
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A pruner passes over what the other holds at that moment; the next
	// pass takes it. So the two together may leave a few, never delete
	// one twice.
	rest := 0
	for pass := 0; ; pass++ {
		n, err := b.PruneConversations(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if rest += n; pass == 3 {
			t.Fatalf("still pruning after %d passes alone: %d", pass+1, rest)
		}
	}
	if got[0]+got[1]+rest != old {
		t.Fatalf("the pruners deleted %d and %d, then %d alone; want %d in all", got[0], got[1], rest, old)
	}
	t.Logf("deleted %d and %d together, then %d alone", got[0], got[1], rest)
	convs, msgs := counts(t, a)
	if convs != live+40 || msgs != 2*live+40 {
		t.Fatalf("after the prune: %d conversations, %d messages; want %d and %d", convs, msgs, live+40, 2*live+40)
	}
	for i := range old {
		key := model.NewContactKey("100", fmt.Sprintf("1555%07d", i))
		ct, err := a.Contact(ctx, key)
		if err != nil || ct.Conversation != "" {
			t.Fatalf("contact %s after its conversation's prune: %+v, %v", key, ct, err)
		}
	}
}

// TestPruneNeverWaits: the retention passes over, without waiting, a
// conversation whose contact a turn holds (LockContact, in another
// process), whose row a commit holds, or whose contact's row one holds;
// it deletes them at a pass after they are free.
func TestPruneNeverWaits(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	turn := commitConv(t, a, 1, model.Ended, oldDone)
	rowHeld := commitConv(t, a, 2, model.Ended, oldDone)
	contactHeld := commitConv(t, a, 3, model.Expired, oldDone)
	free := commitConv(t, a, 4, model.Failed, oldDone)

	unlock, err := a.LockContact(ctx, model.NewContactKey("100", fmt.Sprintf("1555%07d", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tx1, err := a.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback(context.Background())
	if _, err := tx1.Exec(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, rowHeld); err != nil {
		t.Fatal(err)
	}
	tx2, err := a.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback(context.Background())
	if _, err := tx2.Exec(ctx, `SELECT 1 FROM contacts WHERE key = $1 FOR UPDATE`, string(model.NewContactKey("100", fmt.Sprintf("1555%07d", 3)))); err != nil {
		t.Fatal(err)
	}

	// A bound for a busy machine, not a timing: a prune that waited for
	// any of these would wait for ever.
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := b.PruneConversations(pctx, cutoff)
	if err != nil || n != 1 {
		t.Fatalf("prune with three held: %d, %v; want 1 (the free one)", n, err)
	}
	for _, id := range []string{turn, rowHeld, contactHeld} {
		if _, err := b.Conversation(ctx, id); err != nil {
			t.Fatalf("%s, held, after the prune: %v", id, err)
		}
	}
	if _, err := b.Conversation(ctx, free); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("%s, free, after the prune: %v", free, err)
	}

	unlock()
	if err := tx1.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx2.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := b.PruneConversations(ctx, cutoff); err != nil || n != 3 {
		t.Fatalf("prune once free: %d, %v; want 3", n, err)
	}
	if convs, msgs := counts(t, a); convs != 0 || msgs != 0 {
		t.Fatalf("after both prunes: %d conversations, %d messages", convs, msgs)
	}
}
