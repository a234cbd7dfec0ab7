package boltstore

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// ListContacts returns up to limit contacts with keys after after, in key
// order; limit <= 0 means no limit. Contacts are records of contact_data,
// one per group. Groups named by their owner sort as their keys do: it
// reads the first key of each, looks up the group's contact record, and
// seeks to the next group, two seeks per contact, never a transcript. The
// owners of slot groups (groups.go) are read in key order from
// contact_groups; the two orders are merged.
func (s *Store) ListContacts(ctx context.Context, after model.ContactKey, limit int) ([]*model.Contact, error) {
	var out []*model.Contact
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		named := newNamedGroups(data, after)
		slotted := newSlotOwners(tx.Bucket(bucketGroups), after)
		for limit <= 0 || len(out) < limit {
			var key []byte
			switch {
			case named.key == nil && slotted.key == nil:
				return nil
			case slotted.key == nil || named.key != nil && bytes.Compare(named.key, slotted.key) < 0:
				key = named.key
				named.next()
			default:
				key = slotted.key
				slotted.next()
			}
			v := data.Get(keysIn(tx).contact(model.ContactKey(key)))
			if v == nil {
				continue
			}
			var ct model.Contact
			if err := decode(v, &ct, "contact", string(key)); err != nil {
				return err
			}
			out = append(out, &ct)
		}
		return nil
	})
	return out, err
}

// namedGroups walks the groups of contact_data named by their owners, in
// key order, from after (exclusive), up to the first slot.
type namedGroups struct {
	c   *bolt.Cursor
	key []byte // the current group, nil at the end
}

func newNamedGroups(data *bolt.Bucket, after model.ContactKey) *namedGroups {
	g := &namedGroups{c: data.Cursor()}
	k, _ := g.c.First()
	if after != "" {
		// The first group after after: group + sep >= after + 0x01
		// exactly when group > after (keys hold no NUL).
		k, _ = g.c.Seek(append([]byte(after), sep+1))
	}
	g.settle(k)
	return g
}

func (g *namedGroups) settle(k []byte) {
	for k != nil {
		i := bytes.IndexByte(k, sep)
		if i < 0 {
			k, _ = g.c.Next()
			continue
		}
		if isSlot(k[:i]) {
			break
		}
		g.key = bytes.Clone(k[:i])
		return
	}
	g.key = nil
}

func (g *namedGroups) next() {
	k, _ := g.c.Seek(append(bytes.Clone(g.key), sep+1))
	g.settle(k)
}

// slotOwners walks the owners of contact_groups in key order, from after
// (exclusive).
type slotOwners struct {
	c   *bolt.Cursor
	key []byte
}

func newSlotOwners(groups *bolt.Bucket, after model.ContactKey) *slotOwners {
	o := &slotOwners{}
	if groups == nil {
		return o
	}
	o.c = groups.Cursor()
	k, _ := o.c.First()
	if after != "" {
		k, _ = o.c.Seek(append([]byte(after), 0))
	}
	o.key = k
	return o
}

func (o *slotOwners) next() { o.key, _ = o.c.Next() }
