package boltstore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine"
)

// ListContacts returns up to limit contacts with keys after after, in key
// order; limit <= 0 means no limit. It is one range scan of contacts.
func (s *Store) ListContacts(ctx context.Context, after engine.ContactKey, limit int) ([]*engine.Contact, error) {
	var out []*engine.Contact
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketContacts).Cursor()
		k, v := c.First()
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == string(after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var ct engine.Contact
			if err := decode(v, &ct, "contact", string(k)); err != nil {
				return err
			}
			out = append(out, &ct)
		}
		return nil
	})
	return out, err
}
