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

// PruneReach implements model.Store. Like PruneInbound it deletes a chunk
// per transaction, so commits keep flowing during a large prune; chunks
// already done stay done if it fails midway.
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

type reachPrune struct {
	before []byte
	n      int
}

func (w *reachPrune) check(*txn) error { return nil }

// apply walks reach scope by scope (keys are scope sep time contact): the
// front of each scope's range, up to before, goes, with its
// reach_by_contact twin (scope sep contact sep time).
func (w *reachPrune) apply(t *txn) error {
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
		i := bytes.IndexByte(k, sep)
		scope, at, contact := k[:i+1], k[i+1:i+9], k[i+9:]
		twin := append(append(append(bytes.Clone(scope), contact...), sep), at...)
		if err := t.reach.Delete(k); err != nil {
			return err
		}
		if err := t.reachByContact.Delete(twin); err != nil {
			return err
		}
	}
	w.n = len(keys)
	return nil
}
