package inbox

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Records is where the inbox keeps its records: the engine's bbolt file,
// reached through *boltstore.Store's Update and View. As there, an Update
// fn may run twice and must do the same both times.
type Records interface {
	Update(ctx context.Context, fn func(tx *bolt.Tx) error) error
	View(ctx context.Context, fn func(tx *bolt.Tx) error) error
}

// The inbox's buckets, keyed by agent email, queue id and canned id.
var (
	bucketAgents = []byte("inbox_agents")
	bucketQueues = []byte("inbox_queues")
	bucketCanned = []byte("inbox_canned")
	// bucketRead keeps, by conversation id, the transcript seq an agent
	// last opened it at (8 bytes, big-endian): unread counts survive a
	// restart (Start).
	bucketRead = []byte("inbox_read")
)

// saveRead records that conversation conv was read up to seq, unless a
// later read is recorded already.
func saveRead(ctx context.Context, r Records, conv string, seq uint64) error {
	return r.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRead)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(conv)); len(v) == 8 && binary.BigEndian.Uint64(v) >= seq {
			return nil
		}
		return b.Put([]byte(conv), binary.BigEndian.AppendUint64(nil, seq))
	})
}

// loadReads returns every recorded read, by conversation id.
func loadReads(ctx context.Context, r Records) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := r.View(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRead)
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

// forgetReads deletes the recorded reads of these conversations.
func forgetReads(ctx context.Context, r Records, convs []string) error {
	if len(convs) == 0 {
		return nil
	}
	return r.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRead)
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

// put stores v under key in bucket, creating the bucket.
func put(ctx context.Context, r Records, bucket []byte, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	})
}

// del removes key from bucket, reporting ErrNotFound when it was absent.
func del(ctx context.Context, r Records, bucket []byte, key string) error {
	return r.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil || b.Get([]byte(key)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(key))
	})
}

// loadAll decodes every record of bucket, by key, with add.
func loadAll[T any](ctx context.Context, r Records, bucket []byte, add func(*T)) error {
	return r.View(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			x := new(T)
			if err := json.Unmarshal(v, x); err != nil {
				return fmt.Errorf("inbox: decoding %s/%s: %w", bucket, k, err)
			}
			add(x)
			return nil
		})
	})
}
