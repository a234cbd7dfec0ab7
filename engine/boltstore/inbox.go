package boltstore

import (
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/inbox"
)

// The inbox's buckets (inbox.Records), keyed by agent email, queue id,
// canned id and conversation id; values are JSON but for reads, which are
// the transcript seq last opened (8 bytes, big-endian).
var (
	bucketInboxAgents = []byte("inbox_agents")
	bucketInboxQueues = []byte("inbox_queues")
	bucketInboxCanned = []byte("inbox_canned")
	bucketInboxRead   = []byte("inbox_read")
)

var _ inbox.Records = (*Store)(nil)

// PutAgent stores an agent's profile (inbox.Records).
func (s *Store) PutAgent(ctx context.Context, a *inbox.Agent) error {
	return s.put(ctx, bucketInboxAgents, a.Email, a)
}

// DeleteAgent removes an agent's profile (inbox.Records).
func (s *Store) DeleteAgent(ctx context.Context, email string) (bool, error) {
	return s.delete(ctx, bucketInboxAgents, email)
}

// Agents lists the agents' profiles (inbox.Records).
func (s *Store) Agents(ctx context.Context) ([]*inbox.Agent, error) {
	return viewAll[inbox.Agent](ctx, s, bucketInboxAgents)
}

// PutQueue stores a queue (inbox.Records).
func (s *Store) PutQueue(ctx context.Context, q *inbox.Queue) error {
	return s.put(ctx, bucketInboxQueues, q.ID, q)
}

// DeleteQueue removes a queue (inbox.Records).
func (s *Store) DeleteQueue(ctx context.Context, id string) (bool, error) {
	return s.delete(ctx, bucketInboxQueues, id)
}

// Queues lists the queues (inbox.Records).
func (s *Store) Queues(ctx context.Context) ([]*inbox.Queue, error) {
	return viewAll[inbox.Queue](ctx, s, bucketInboxQueues)
}

// PutCanned stores a canned response (inbox.Records).
func (s *Store) PutCanned(ctx context.Context, c *inbox.Canned) error {
	return s.put(ctx, bucketInboxCanned, c.ID, c)
}

// DeleteCanned removes a canned response (inbox.Records).
func (s *Store) DeleteCanned(ctx context.Context, id string) (bool, error) {
	return s.delete(ctx, bucketInboxCanned, id)
}

// CannedResponses lists the canned responses (inbox.Records).
func (s *Store) CannedResponses(ctx context.Context) ([]*inbox.Canned, error) {
	return viewAll[inbox.Canned](ctx, s, bucketInboxCanned)
}

// SaveRead records a read mark, keeping the larger seq (inbox.Records).
func (s *Store) SaveRead(ctx context.Context, conv string, seq uint64) error {
	return s.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketInboxRead)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(conv)); len(v) == 8 && binary.BigEndian.Uint64(v) >= seq {
			return nil
		}
		return b.Put([]byte(conv), binary.BigEndian.AppendUint64(nil, seq))
	})
}

// Reads returns every read mark, by conversation (inbox.Records).
func (s *Store) Reads(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		clear(out)
		b := tx.Bucket(bucketInboxRead)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				out[string(k)] = binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	return out, err
}

// ForgetReads deletes read marks (inbox.Records).
func (s *Store) ForgetReads(ctx context.Context, convs []string) error {
	if len(convs) == 0 {
		return nil
	}
	return s.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInboxRead)
		if b == nil {
			return nil
		}
		for _, c := range convs {
			if err := b.Delete([]byte(c)); err != nil {
				return err
			}
		}
		return nil
	})
}

// put stores v as JSON under key in bucket, in a write of the committer.
func (s *Store) put(ctx context.Context, bucket []byte, key string, v any) error {
	return s.Update(ctx, func(tx *bolt.Tx) error { return putJSON(tx, bucket, []byte(key), v) })
}

// delete deletes key from bucket, reporting whether it was there.
func (s *Store) delete(ctx context.Context, bucket []byte, key string) (bool, error) {
	var found bool
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		var err error
		found, err = deleteKey(tx, bucket, []byte(key))
		return err
	})
	return found, err
}

// viewAll decodes every value of bucket, in key order.
func viewAll[T any](ctx context.Context, s *Store, bucket []byte) ([]*T, error) {
	var out []*T
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = allJSON[T](tx, bucket)
		return err
	})
	return out, err
}
