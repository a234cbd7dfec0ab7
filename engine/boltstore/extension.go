package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Parley's other subsystems (sign-in, agents, schedules) keep their records
// in the same file as the engine, each in buckets of its own, so that one
// file holds everything and one backup copies it. They reach the file
// through Update and View, never through the bbolt handle: their writes
// share the committer (and its fsync) with the engine's.
//
// A subsystem's bucket names must start with its own prefix ("auth_",
// "agents_", "schedules_") and never clash with the engine's (keys.go).

// Update runs fn in a write transaction of the committer and returns once
// it is durable. fn may create its buckets with CreateBucketIfNotExists.
//
// As with bbolt's DB.Batch, fn may run more than once: if another write of
// its batch fails, every write of the batch is retried in a transaction of
// its own. fn must compute everything from tx and from values it does not
// change, so that a second run does the same as the first. An error from
// fn aborts its own transaction only after the others of the batch were
// retried alone; the error is returned.
func (s *Store) Update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := s.do(ctx, &extensionWrite{fn: fn}); err != nil {
		return fmt.Errorf("boltstore: update: %w", err)
	}
	return nil
}

// View runs fn in a read transaction. A bucket that was never created
// reads as nil: fn must allow for it.
func (s *Store) View(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return s.view(ctx, fn)
}

// extensionWrite is an Update's fn as a write of the committer. It runs in
// apply, not check, so that an error aborts the batch and each write is
// retried alone: fn's partial writes never commit.
type extensionWrite struct{ fn func(tx *bolt.Tx) error }

func (w *extensionWrite) check(*txn) error   { return nil }
func (w *extensionWrite) apply(t *txn) error { return w.fn(t.tx) }
