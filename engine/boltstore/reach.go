package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// The messaging limit's reach log (engine/limit.go): Change.Reached writes
// each business-initiated send twice, in the change's transaction:
//
//	reach             scope + sep + time + contact key         → present
//	reach_by_contact  scope + sep + contact key + sep + time   → present
//
// ReachCount is a range scan of reach from since; ReachedSince one seek in
// reach_by_contact, from since or the prune's bound, whichever is later
// (reach_prune.go).

// reachKeys encodes one reach as its two keys.
func reachKeys(r model.Reach) (byTime, byContact []byte, err error) {
	if err := checkID("reach scope", r.Scope); err != nil {
		return nil, nil, err
	}
	if err := checkID("reach contact key", string(r.Contact)); err != nil {
		return nil, nil, err
	}
	if err := checkTime(r.At); err != nil {
		return nil, nil, fmt.Errorf("boltstore: reach of %s: %w", r.Contact, err)
	}
	byTime = appendTime(prefix(r.Scope), r.At)
	byTime = append(byTime, r.Contact...)
	byContact = append(prefix(r.Scope), r.Contact...)
	byContact = appendTime(append(byContact, sep), r.At)
	return byTime, byContact, nil
}

func encodeReached(rs []model.Reach) ([]keyValue, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	kvs := make([]keyValue, 0, len(rs))
	for _, r := range rs {
		a, b, err := reachKeys(r)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, keyValue{a, b})
	}
	return kvs, nil
}

func putReached(t *txn, kvs []keyValue) error {
	for _, kv := range kvs {
		if err := t.reach.Put(kv.key, present); err != nil {
			return err
		}
		if err := t.reachByContact.Put(kv.value, present); err != nil {
			return err
		}
		if err := t.forgetTwins(kv.value[:len(kv.value)-8]); err != nil {
			return err
		}
	}
	return nil
}

// ReachCount implements model.Store.
func (s *Store) ReachCount(ctx context.Context, scope string, since time.Time) (int, time.Time, error) {
	if err := checkID("reach scope", scope); err != nil {
		return 0, time.Time{}, err
	}
	latest := map[model.ContactKey]time.Time{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		walkReach(tx, scope, since, func(at time.Time, contact model.ContactKey) {
			if at.After(latest[contact]) {
				latest[contact] = at
			}
		})
		return nil
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	var oldest time.Time
	for _, at := range latest {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	return len(latest), oldest, nil
}

// walkReach calls fn for each reach of scope at or after since, in time
// order: one range scan of the reach bucket.
func walkReach(tx *bolt.Tx, scope string, since time.Time, fn func(at time.Time, contact model.ContactKey)) {
	p := prefix(scope)
	c := tx.Bucket(bucketReach).Cursor()
	for k, _ := c.Seek(append(append([]byte(nil), p...), timeBound(since)...)); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		rest := k[len(p):]
		if len(rest) < 8 {
			continue
		}
		fn(decodeTime(rest[:8]), model.ContactKey(rest[8:]))
	}
}

// ReachedSince implements model.Store.
func (s *Store) ReachedSince(ctx context.Context, scope string, contact model.ContactKey, since time.Time) (bool, error) {
	if err := checkID("reach scope", scope); err != nil {
		return false, err
	}
	if err := checkID("reach contact key", string(contact)); err != nil {
		return false, err
	}
	found := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		p := append(prefix(scope), contact...)
		p = append(p, sep)
		from := timeBound(since)
		// Reaches before the prune's bound are forgotten, though their
		// entries here may stay (reach_prune.go).
		if bound := tx.Bucket(bucketMeta).Get(keyReachForgotten); len(bound) == 8 && bytes.Compare(bound, from) > 0 {
			from = bound
		}
		k, _ := tx.Bucket(bucketReachByContact).Cursor().Seek(append(append([]byte(nil), p...), from...))
		found = k != nil && bytes.HasPrefix(k, p)
		return nil
	})
	return found, err
}
