package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func openTest(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// sender is the key every change of these tests names for its inbound id,
// as redeliveries of one message do, so that one id given twice is a
// duplicate whichever contact the changes write.
var sender = model.NewContactKey("1065", "sender")

func change(id string, n int) *model.Change {
	key := model.NewContactKey("1065", fmt.Sprint("49151", n))
	conv := &model.Conversation{ID: fmt.Sprintf("%s#1", key), Contact: key, Status: model.Active, StartedAt: t0, Seq: 1}
	return &model.Change{
		InboundID:     id,
		InboundKey:    sender,
		At:            t0,
		Contact:       &model.Contact{Key: key, PhoneNumberID: "1065"},
		Conversations: []*model.Conversation{conv},
		Messages:      []*model.Message{{Conversation: conv.ID, Seq: 1, Direction: model.Out, State: model.Queued, Contact: key}},
		SetTimers:     []model.Timer{{Due: t0.Add(time.Hour), Kind: model.TimerExpire, Contact: key, Conversation: conv.ID}},
	}
}

// pendingOf encodes changes as the committer gets them.
func pendingOf(t *testing.T, changes ...*model.Change) []*pending {
	var batch []*pending
	for _, c := range changes {
		w, err := encodeChange(c)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &pending{w: w, ctx: t.Context(), done: make(chan error, 1)})
	}
	return batch
}

// One batch, driven by hand: a duplicate within the batch is refused, a
// write that fails to apply fails alone, the others commit.
func TestBatchRefusesAndIsolates(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	huge := change("wamid.huge", 3)
	// A key longer than bbolt allows passes every check and fails in apply.
	huge.Messages[0].Conversation = strings.Repeat("x", bolt.MaxKeySize+1)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	batch := pendingOf(t, change("wamid.1", 1), change("wamid.1", 2), huge, change("wamid.2", 4), change("wamid.cancelled", 5))
	batch[4].ctx = cancelled
	s.commitBatch(batch)

	var errs []error
	for _, p := range batch {
		errs = append(errs, <-p.done)
	}
	if errs[0] != nil || errs[3] != nil {
		t.Errorf("good writes failed: %v, %v", errs[0], errs[3])
	}
	if !errors.Is(errs[1], model.ErrDuplicate) {
		t.Errorf("second of one inbound id in a batch: got %v, want ErrDuplicate", errs[1])
	}
	if errs[2] == nil {
		t.Errorf("the unstorable write succeeded")
	}
	if !errors.Is(errs[4], context.Canceled) {
		t.Errorf("cancelled write: got %v", errs[4])
	}
	for _, c := range []struct {
		n    int
		want bool
	}{{1, true}, {2, false}, {3, false}, {4, true}, {5, false}} {
		_, err := s.Contact(ctx, model.NewContactKey("1065", fmt.Sprint("49151", c.n)))
		if got := err == nil; got != c.want {
			t.Errorf("contact %d stored: %v, want %v (%v)", c.n, got, c.want, err)
		}
	}
	for id, want := range map[string]bool{"wamid.1": true, "wamid.huge": false, "wamid.2": true, "wamid.cancelled": false} {
		if seen, _ := s.Seen(ctx, sender, id); seen != want {
			t.Errorf("Seen(%s) = %v, want %v", id, seen, want)
		}
	}
	items, err := s.Outbox(ctx, 0, 0)
	if err != nil || len(items) != 2 {
		t.Errorf("outbox: %d items (%v), want 2", len(items), err)
	}
}

func TestCommitRefusesUnstorable(t *testing.T) {
	s, _ := openTest(t)
	tests := []struct {
		name   string
		change func(c *model.Change)
	}{
		{"NUL in contact key", func(c *model.Change) { c.Contact.Key += "\x00x" }},
		{"empty contact key", func(c *model.Change) { c.Contact.Key = "" }},
		{"empty conversation id", func(c *model.Change) { c.Conversations[0].ID = "" }},
		{"NUL in conversation contact", func(c *model.Change) { c.Conversations[0].Contact = "a\x00" }},
		{"nil conversation", func(c *model.Change) { c.Conversations = append(c.Conversations, nil) }},
		{"nil message", func(c *model.Change) { c.Messages = append(c.Messages, nil) }},
		{"message without conversation", func(c *model.Change) { c.Messages[0].Conversation = "" }},
		{"one message twice", func(c *model.Change) { c.Messages = append(c.Messages, c.Messages[0]) }},
		{"nil update", func(c *model.Change) { c.Updates = []*model.Message{nil} }},
		{"timer before 1678", func(c *model.Change) { c.SetTimers[0].Due = time.Time{} }},
		{"timer after 2262", func(c *model.Change) {
			c.DeleteTimers = []model.Timer{{Due: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), Conversation: "x"}}
		}},
		{"NUL in timer node", func(c *model.Change) { c.SetTimers[0].Node = "a\x00b" }},
		{"inbound at outside the range", func(c *model.Change) { c.At = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := change(fmt.Sprint("wamid.", i), i)
			tc.change(c)
			if err := s.Commit(t.Context(), c); err == nil {
				t.Fatal("accepted")
			}
			if seen, _ := s.Seen(t.Context(), sender, c.InboundID); seen {
				t.Error("refused change wrote its inbound id")
			}
		})
	}
}

func TestOpenLocked(t *testing.T) {
	_, path := openTest(t)
	start := time.Now()
	_, err := Open(path, WithLockTimeout(100*time.Millisecond))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second open gave up after %v", d)
	}
}

func TestOpenOtherSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, u64(schemaVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("open of another schema: %v", err)
	}
}

// Close races with commits: each Commit either fails with ErrClosed or is
// acknowledged, and every acknowledged one is in the file afterwards.
func TestCloseKeepsAcknowledged(t *testing.T) {
	s, path := openTest(t)
	ctx := t.Context()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for w := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("wamid.%d.%d", w, i)
				err := s.Commit(ctx, change(id, w*100000+i))
				if errors.Is(err, model.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(acked) == 0 {
		t.Fatal("nothing committed before Close")
	}
	for _, id := range acked {
		if seen, err := s2.Seen(ctx, sender, id); !seen || err != nil {
			t.Fatalf("acknowledged %s lost across Close (%v)", id, err)
		}
	}
	t.Logf("%d commits acknowledged before Close", len(acked))
}

// Stats counts what the committer did: every committed write once, in at
// least one and at most as many transactions, and the pages they wrote.
func TestStats(t *testing.T) {
	s, _ := openTest(t)
	before := s.Stats()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := s.Commit(t.Context(), change(fmt.Sprint("wamid.stats.", i), i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Commit(t.Context(), change("wamid.stats.0", 0)); !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	st := s.Stats()
	writes, commits := st.Writes-before.Writes, st.Commits-before.Commits
	if writes != 21 || commits < 1 || commits > 21 {
		t.Errorf("%d writes in %d commits, want 21 (a refused one included) in 1 to 21", writes, commits)
	}
	if st.PagesWritten <= before.PagesWritten || st.WriteTime <= before.WriteTime {
		t.Errorf("pages written %d -> %d, write time %v -> %v", before.PagesWritten, st.PagesWritten, before.WriteTime, st.WriteTime)
	}
}
