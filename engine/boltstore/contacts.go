package boltstore

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// ListContacts returns up to limit contacts with keys after after, in key
// order; limit <= 0 means no limit. Contacts are records of contact_data,
// one per group, and groups sort as their keys do: it reads the first key
// of each group, looks up the group's contact record, and seeks to the
// next group, two seeks per contact, never a transcript.
func (s *Store) ListContacts(ctx context.Context, after model.ContactKey, limit int) ([]*model.Contact, error) {
	var out []*model.Contact
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		c := data.Cursor()
		k, _ := c.First()
		if after != "" {
			// The first group after after: group + sep >= after + 0x01
			// exactly when group > after (keys hold no NUL).
			k, _ = c.Seek(append([]byte(after), sep+1))
		}
		for k != nil && (limit <= 0 || len(out) < limit) {
			i := bytes.IndexByte(k, sep)
			if i < 0 {
				k, _ = c.Next()
				continue
			}
			group := bytes.Clone(k[:i])
			if v := data.Get(contactRecordKey(model.ContactKey(group))); v != nil {
				var ct model.Contact
				if err := decode(v, &ct, "contact", string(group)); err != nil {
					return err
				}
				out = append(out, &ct)
			}
			k, _ = c.Seek(append(group, sep+1))
		}
		return nil
	})
	return out, err
}
