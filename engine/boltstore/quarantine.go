package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/quarantine"
)

// bucketQuarantine keeps the quarantined items (quarantine.Records): the
// bucket's sequence, 8 bytes big-endian → quarantine.Item as JSON.
var bucketQuarantine = []byte("quarantine_items")

var _ quarantine.Records = (*Store)(nil)

// KeepQuarantined stores items under the bucket's next sequence numbers
// and drops those MaxItems below (quarantine.Records).
func (s *Store) KeepQuarantined(ctx context.Context, items []quarantine.Item) error {
	return s.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketQuarantine)
		if err != nil {
			return err
		}
		for _, it := range items {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			it.Seq = seq
			v, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
				return err
			}
			if seq > quarantine.MaxItems {
				if err := b.Delete(binary.BigEndian.AppendUint64(nil, seq-quarantine.MaxItems)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Quarantined lists items, newest first (quarantine.Records).
func (s *Store) Quarantined(ctx context.Context, limit int) ([]quarantine.Item, error) {
	items := []quarantine.Item{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		items = items[:0]
		b := tx.Bucket(bucketQuarantine)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(items) < limit; k, v = c.Prev() {
			var it quarantine.Item
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("quarantined item %x: %w", k, err)
			}
			items = append(items, it)
		}
		return nil
	})
	return items, err
}
