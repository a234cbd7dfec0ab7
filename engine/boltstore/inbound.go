package boltstore

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Inbound ids (the dedupe of Meta's redeliveries) are written where they
// cost nothing, in their contact's group of contact_data (inboundDKey), on
// the page the event writes anyway, and once more at the right edge of
// inbound_by_time (time + id), which only grows at its end.
//
// Forgetting them must not cost more than that. Deleting each id from its
// contact's group did: the ids of an hour a week ago are spread over the
// whole of contact_data, so a prune chunk of 1000 ids dirtied about 1000
// leaves and their branches (4–8 MB written in one transaction, which every
// commit queued behind it waited for), and on a store that had not pruned
// for a while — a year of traffic made by the scale harness, a restored
// backup — the backlog held the committer for minutes: webhook throughput
// at 100,000 stored conversations fell from 3,400 to 385 msgs/s.
//
// So PruneInbound forgets by moving a bound: meta's inbound_forgotten_before
// (a time as keyed) is the latest bound any prune was given, and an id
// whose record is older than it is forgotten — Seen says no, and Commit
// takes the id again, overwriting the record. The prune itself only
// deletes the front of inbound_by_time (contiguous: a page per ~60 ids) to
// count what it forgot and to keep that bucket as small as the retention.
// The forgotten records are deleted when their group is written anyway: a
// commit that stores an inbound id deletes the forgotten ids among the next
// forgetScan of its group (in key order, from its own, round), on the same
// page. Those of a contact who
// never writes again stay, about 60 bytes per message, next to the
// transcript that outweighs them until retention deletes it.
var keyInboundForgotten = []byte("inbound_forgotten_before")

// forgetScan caps the ids of its group one commit looks at, from its own
// id on (ids sort at random, so successive commits look at different
// ones): a customer with many ids in the retention costs no more.
const forgetScan = 128

// forgottenBefore is the bound below which inbound ids are forgotten, as
// keyed (8 bytes), or nil if no prune ran.
func forgottenBefore(tx *bolt.Tx) []byte {
	return tx.Bucket(bucketMeta).Get(keyInboundForgotten)
}

// inboundLive says whether an inbound id's record (its committed-at time,
// 8 bytes) is remembered: present and not older than the bound.
func inboundLive(v, forgotten []byte) bool {
	if v == nil {
		return false
	}
	return len(v) < 8 || len(forgotten) != 8 || bytes.Compare(v[:8], forgotten) >= 0
}

// inboundSeen says whether id, remembered under key, is live in tx:
// in its group (schema 3 and later) or in the inbound bucket (schema 2).
func inboundSeen(tx *bolt.Tx, forgotten []byte, key model.ContactKey, id string) bool {
	return inboundLive(tx.Bucket(bucketData).Get(keysIn(tx).inbound(key, id)), forgotten) ||
		inboundLive(tx.Bucket(bucketInbound).Get([]byte(id)), forgotten)
}

// forgetInGroup deletes the forgotten ids among the forgetScan that
// follow keep in its group, whose inbound keys start with p (group + sep
// + 'i'), going on from the group's first id after its last.
func (t *txn) forgetInGroup(p, keep, forgotten []byte) error {
	if len(forgotten) != 8 {
		return nil
	}
	var gone [][]byte
	c := t.data.Cursor()
	n := 0
	look := func(k, v []byte) {
		if !inboundLive(v, forgotten) {
			gone = append(gone, bytes.Clone(k))
		}
		n++
	}
	k, v := c.Seek(keep)
	for k, v = c.Next(); k != nil && bytes.HasPrefix(k, p) && n < forgetScan; k, v = c.Next() {
		look(k, v)
	}
	for k, v = c.Seek(p); k != nil && bytes.Compare(k, keep) < 0 && n < forgetScan; k, v = c.Next() {
		look(k, v)
	}
	for _, k := range gone {
		if err := t.data.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Seen reports whether an inbound message id has been committed (and not
// pruned since).
func (s *Store) Seen(ctx context.Context, key model.ContactKey, inboundID string) (bool, error) {
	if inboundID == "" || checkID("inbound id", inboundID) != nil || checkID("inbound key", string(key)) != nil {
		return false, nil
	}
	var seen bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		seen = inboundSeen(tx, forgottenBefore(tx), key, inboundID)
		return nil
	})
	return seen, err
}

// PruneInbound forgets the inbound ids committed before t (by their
// change's At) and returns how many. The first transaction forgets them
// all (it moves the bound); then it deletes their inbound_by_time entries
// a chunk per transaction, counting them, so commits keep flowing. If it
// fails or ctx ends midway, the ids are forgotten all the same and the
// count is short; the next prune deletes and counts the rest.
func (s *Store) PruneInbound(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		w := &inboundPrune{before: timeBound(before)}
		if err := s.do(ctx, w); err != nil {
			return total, err
		}
		total += w.n
		if w.n < pruneChunk {
			return total, nil
		}
	}
}

type inboundPrune struct {
	before []byte
	n      int
}

func (w *inboundPrune) check(*txn) error { return nil }

func (w *inboundPrune) apply(t *txn) error {
	meta := t.tx.Bucket(bucketMeta)
	if old := meta.Get(keyInboundForgotten); len(old) != 8 || bytes.Compare(old, w.before) < 0 {
		if err := meta.Put(keyInboundForgotten, bytes.Clone(w.before)); err != nil {
			return err
		}
	}
	var entries []keyValue
	c := t.inboundByTime.Cursor()
	for k, v := c.First(); k != nil && len(entries) < pruneChunk && bytes.Compare(k[:8], w.before) < 0; k, v = c.Next() {
		entries = append(entries, keyValue{bytes.Clone(k), bytes.Clone(v)})
	}
	for _, e := range entries {
		// An id of schema 2, in the inbound bucket (value 1), is deleted
		// there unless a later commit rewrote it: the bucket is no longer
		// written, and empties within the retention. One of schema 3, in its
		// contact's group, stays until its group is written (forgetInGroup).
		if len(e.value) == 1 {
			id := e.key[8:]
			if v := t.inbound.Get(id); v != nil && bytes.Equal(v, e.key[:8]) {
				if err := t.inbound.Delete(id); err != nil {
					return err
				}
			}
		}
		if err := t.inboundByTime.Delete(e.key); err != nil {
			return err
		}
	}
	w.n = len(entries)
	return nil
}
