package pgstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
)

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// twoHandles opens two stores on one fresh database, as two processes.
func twoHandles(t *testing.T) (*pgstore.Store, *pgstore.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	a, b := openAt(t, path), openAt(t, path)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// queue commits a conversation with n queued messages and returns their
// outbox sequence numbers.
func queue(t *testing.T, st model.Store, conv string, n int) []uint64 {
	t.Helper()
	ctx := t.Context()
	key := model.ContactKey("100:" + conv)
	c := &model.Change{At: t0, Contact: &model.Contact{Key: key},
		Conversations: []*model.Conversation{{ID: conv, Contact: key, Flow: "f", Status: model.Active, StartedAt: t0, LastActivityAt: t0}}}
	for i := range n {
		c.Messages = append(c.Messages, &model.Message{Conversation: conv, Seq: uint64(i + 1), Contact: key, Direction: model.Out, State: model.Queued, Text: "m", At: t0})
	}
	if err := st.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	items, err := st.Outbox(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, it := range items {
		if it.Message.Conversation == conv {
			seqs = append(seqs, it.Seq)
		}
	}
	return seqs
}

func claim(st model.Store, t *testing.T, seq uint64) error {
	return st.Commit(t.Context(), &model.Change{At: t0, Claim: []uint64{seq}})
}

// TestClaimsAcrossProcesses: a claim is its owner's: another handle does
// not see the entry, and cannot claim it or what follows it in its
// conversation; the owner can dequeue it, and then the next is free.
func TestClaimsAcrossProcesses(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	seqs := queue(t, a, "c1", 2)
	if len(seqs) != 2 {
		t.Fatalf("outbox: %v", seqs)
	}
	if err := claim(b, t, seqs[1]); !errors.Is(err, model.ErrClaimedElsewhere) {
		t.Fatalf("claim of the second entry first = %v, want ErrClaimedElsewhere (its conversation's first is queued)", err)
	}
	if err := claim(a, t, seqs[0]); err != nil {
		t.Fatal(err)
	}
	if err := claim(b, t, seqs[0]); !errors.Is(err, model.ErrClaimedElsewhere) {
		t.Fatalf("claim of another's entry = %v, want ErrClaimedElsewhere", err)
	}
	if err := claim(a, t, seqs[0]); !errors.Is(err, model.ErrClaimed) {
		t.Fatalf("owner's second claim = %v, want ErrClaimed (an attempt whose outcome was never recorded)", err)
	}
	items, err := b.Outbox(ctx, 0, 0)
	if err != nil || len(items) != 1 || items[0].Seq != seqs[1] {
		t.Fatalf("the other's outbox = %v, %v: want only the second entry", items, err)
	}
	items, err = a.Outbox(ctx, 0, 0)
	if err != nil || len(items) != 2 || items[0].Message.State != model.Sending {
		t.Fatalf("the owner's outbox = %v, %v: want both, the first sending", items, err)
	}
	if err := a.Commit(ctx, &model.Change{At: t0, Dequeue: []uint64{seqs[0]}}); err != nil {
		t.Fatal(err)
	}
	if err := claim(b, t, seqs[1]); err != nil {
		t.Fatalf("claim of the next once the first left = %v", err)
	}
}

// TestLeaseRunsOut: once a claim's lease has run out (its owner died),
// every handle sees the entry again, as sending, and a claim of it finds
// ErrClaimed: the dispatcher settles it as unknown.
func TestLeaseRunsOut(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	seqs := queue(t, a, "c1", 1)
	if err := claim(a, t, seqs[0]); err != nil {
		t.Fatal(err)
	}
	a.Close() // the owner dies
	// Its lease runs out (moved rather than waited for).
	if _, err := b.Pool().Exec(ctx, `UPDATE outbox SET lease_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	items, err := b.Outbox(ctx, 0, 0)
	if err != nil || len(items) != 1 || items[0].Message.State != model.Sending {
		t.Fatalf("outbox after the lease = %v, %v: want the entry, sending", items, err)
	}
	if err := claim(b, t, seqs[0]); !errors.Is(err, model.ErrClaimed) {
		t.Fatalf("claim after the lease = %v, want ErrClaimed", err)
	}
}

// TestLockContactAcrossProcesses: a contact's lock held by one handle
// keeps the other waiting until it is released; other contacts are free.
func TestLockContactAcrossProcesses(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	unlockA, err := a.LockContact(ctx, "100:x")
	if err != nil {
		t.Fatal(err)
	}
	unlockY, err := b.LockContact(ctx, "100:y")
	if err != nil {
		t.Fatal(err)
	}
	unlockY()
	got := make(chan func(), 1)
	go func() {
		u, err := b.LockContact(ctx, "100:x")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- u
	}()
	// Wait until b's request is queued behind a's lock.
	for {
		var waiting bool
		if err := a.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case <-got:
			t.Fatal("the second handle took a lock the first holds")
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		default:
		}
	}
	unlockA()
	if u := <-got; u != nil {
		u()
	}
}

// TestLockContactCancelled: a wait for a contact's lock that its context
// ends leaves no lock behind, whether or not the grant raced the cancel.
func TestLockContactCancelled(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	unlockA, err := a.LockContact(ctx, "100:x")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		u, err := b.LockContact(wctx, "100:x")
		if u != nil {
			u()
		}
		done <- err
	}()
	for {
		var waiting bool
		if err := a.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
	}
	unlockA() // the grant and the cancel race
	cancel()
	<-done
	// Whatever happened, the lock is free now.
	u, err := a.LockContact(ctx, "100:x")
	if err != nil {
		t.Fatal(err)
	}
	u()
}
