package boltstore

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Reaches implements model.Store: one range scan of reach from since.
func (s *Store) Reaches(ctx context.Context, scope string, since time.Time) ([]model.Reach, error) {
	if err := checkID("reach scope", scope); err != nil {
		return nil, err
	}
	var out []model.Reach
	err := s.view(ctx, func(tx *bolt.Tx) error {
		walkReach(tx, scope, since, func(at time.Time, contact model.ContactKey) {
			out = append(out, model.Reach{Scope: scope, At: at, Contact: contact})
		})
		return nil
	})
	return out, err
}

// PruneReach implements model.Store. Like PruneInbound (inbound.go) it
// forgets by a bound and deletes only a contiguous front: its first
// transaction moves meta's reach_forgotten_before, below which
// ReachedSince sees no reach; then it deletes the front of each scope's
// range of reach, up to before, a chunk per transaction, so commits keep
// flowing. The reach_by_contact twins are keyed by contact, spread over
// the bucket: deleting each with its reach dirtied a page per reach (a
// chunk of 1000, ~1000 pages in one transaction). They go when their
// contact is reached again, on the page that reach writes (putReached);
// those of a contact never reached again stay, ~50 bytes each.
func (s *Store) PruneReach(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		w := &reachPrune{before: timeBound(before)}
		if err := s.do(ctx, w); err != nil {
			return total, err
		}
		total += w.n
		if w.n < pruneChunk {
			return total, nil
		}
	}
}

// keyReachForgotten, in meta: the time (8 bytes, as keyed) before which
// reaches are forgotten (PruneReach).
var keyReachForgotten = []byte("reach_forgotten_before")

type reachPrune struct {
	before []byte
	n      int
}

func (w *reachPrune) check(*txn) error { return nil }

// apply moves the bound, then walks reach scope by scope (keys are scope
// sep time contact): the front of each scope's range, up to before, goes.
func (w *reachPrune) apply(t *txn) error {
	meta := t.tx.Bucket(bucketMeta)
	if old := meta.Get(keyReachForgotten); len(old) != 8 || bytes.Compare(old, w.before) < 0 {
		if err := meta.Put(keyReachForgotten, bytes.Clone(w.before)); err != nil {
			return err
		}
	}
	w.n = 0
	var keys [][]byte
	c := t.reach.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < pruneChunk; {
		i := bytes.IndexByte(k, sep)
		if i < 0 || len(k) < i+1+8 {
			k, _ = c.Next()
			continue
		}
		scopeEnd := i + 1
		if bytes.Compare(k[scopeEnd:scopeEnd+8], w.before) < 0 {
			keys = append(keys, bytes.Clone(k))
			k, _ = c.Next()
			continue
		}
		// The rest of this scope is newer: skip to the next scope.
		next := append(bytes.Clone(k[:i]), sep+1)
		k, _ = c.Seek(next)
	}
	for _, k := range keys {
		if err := t.reach.Delete(k); err != nil {
			return err
		}
	}
	w.n = len(keys)
	return nil
}

// forgetTwins deletes the reach_by_contact entries of one scope and
// contact (keys starting with p: scope sep contact sep) older than the
// bound, up to forgetScan of them: the entries a prune left behind, on
// the page a new reach of the contact writes.
func (t *txn) forgetTwins(p []byte) error {
	bound := t.tx.Bucket(bucketMeta).Get(keyReachForgotten)
	if len(bound) != 8 {
		return nil
	}
	var gone [][]byte
	c := t.reachByContact.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(k) == len(p)+8 && len(gone) < forgetScan; k, _ = c.Next() {
		if bytes.Compare(k[len(p):], bound) >= 0 {
			break // in time order: the rest are newer
		}
		gone = append(gone, bytes.Clone(k))
	}
	for _, k := range gone {
		if err := t.reachByContact.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
