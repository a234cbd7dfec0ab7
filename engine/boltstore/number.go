package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// bucketNumbers holds what Meta said of the business's phone numbers
// (engine/limit_numbers.go): record key → JSON NumberRecord. It is
// created by the first save; a store without it has no records.
var bucketNumbers = []byte("phone_numbers")

// SaveNumber implements model.Store.
func (s *Store) SaveNumber(ctx context.Context, r model.NumberRecord) error {
	if err := checkID("phone number key", r.Key); err != nil {
		return err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("boltstore: phone number %s: %w", r.Key, err)
	}
	return s.do(ctx, &numberSave{key: []byte(r.Key), val: v})
}

type numberSave struct{ key, val []byte }

func (w *numberSave) check(*txn) error { return nil }

func (w *numberSave) apply(t *txn) error {
	b, err := t.tx.CreateBucketIfNotExists(bucketNumbers)
	if err != nil {
		return err
	}
	return b.Put(w.key, w.val)
}

// Numbers implements model.Store.
func (s *Store) Numbers(ctx context.Context) ([]model.NumberRecord, error) {
	var out []model.NumberRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNumbers)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r model.NumberRecord
			if err := decode(v, &r, "phone number", string(k)); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
