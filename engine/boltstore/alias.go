package boltstore

import (
	"bytes"
	"context"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Contact aliases: a customer who changed their number or user id is known
// under a new contact key that stands for their existing one. The
// contact_aliases bucket maps the alias key to that key; Change.Aliases
// writes it, in the change's transaction.

// Alias returns the contact key key stands for, if it is an alias.
func (s *Store) Alias(ctx context.Context, key model.ContactKey) (model.ContactKey, bool, error) {
	if key == "" {
		return "", false, nil
	}
	var to model.ContactKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAliases).Get([]byte(key)); v != nil {
			to = model.ContactKey(v)
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return to, to != "", nil
}

// encodeAliases encodes a change's aliases, in key order so the writes of
// a change are the same whatever the map's order.
func encodeAliases(m map[model.ContactKey]model.ContactKey) ([]keyValue, error) {
	if len(m) == 0 {
		return nil, nil
	}
	kvs := make([]keyValue, 0, len(m))
	for from, to := range m {
		if err := checkID("alias contact key", string(from)); err != nil {
			return nil, err
		}
		if err := checkID("aliased contact key", string(to)); err != nil {
			return nil, err
		}
		kvs = append(kvs, keyValue{[]byte(from), []byte(to)})
	}
	slices.SortFunc(kvs, func(a, b keyValue) int { return bytes.Compare(a.key, b.key) })
	return kvs, nil
}

func putAliases(t *txn, kvs []keyValue) error {
	for _, kv := range kvs {
		if err := t.aliases.Put(kv.key, kv.value); err != nil {
			return err
		}
	}
	return nil
}
