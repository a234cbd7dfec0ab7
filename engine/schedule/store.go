package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine"
)

// Buckets (doc.go, Storage).
var (
	bucketDefs    = []byte("schedules_defs")
	bucketFirings = []byte("schedules_firings")
	bucketActive  = []byte("schedules_active")
	bucketSends   = []byte("schedules_sends")
)

// Files is the durable side the scheduler needs: the engine's bbolt file
// (*boltstore.Store). Update's fn may run twice.
type Files interface {
	Update(ctx context.Context, fn func(tx *bolt.Tx) error) error
	View(ctx context.Context, fn func(tx *bolt.Tx) error) error
}

// buckets creates (in a write transaction) or opens the scheduler's
// buckets; in a read transaction a bucket never created is nil.
type buckets struct {
	defs, firings, active, sends *bolt.Bucket
}

func openBuckets(tx *bolt.Tx) (buckets, error) {
	if !tx.Writable() {
		return buckets{tx.Bucket(bucketDefs), tx.Bucket(bucketFirings), tx.Bucket(bucketActive), tx.Bucket(bucketSends)}, nil
	}
	var b buckets
	for _, x := range []struct {
		name []byte
		to   **bolt.Bucket
	}{{bucketDefs, &b.defs}, {bucketFirings, &b.firings}, {bucketActive, &b.active}, {bucketSends, &b.sends}} {
		bk, err := tx.CreateBucketIfNotExists(x.name)
		if err != nil {
			return b, fmt.Errorf("schedule: bucket %s: %w", x.name, err)
		}
		*x.to = bk
	}
	return b, nil
}

// firingID names a firing: schedule id, fire time, and ".now" for Run
// now. The 20-digit time keeps one schedule's firings in time order.
func firingID(schedule string, at time.Time, manual bool) string {
	id := fmt.Sprintf("%s.%020d", schedule, at.UnixNano())
	if manual {
		id += ".now"
	}
	return id
}

// activeKey orders the active index by fire time, across schedules.
func activeKey(f *Firing) []byte { return fmt.Appendf(nil, "%020d.%s", f.At.UnixNano(), f.ID) }

// sendKey is firing id 0x00 contact key: one firing's sends are a range.
func sendKey(firing string, c engine.ContactKey) []byte {
	k := append([]byte(firing), 0)
	return append(k, c...)
}

func getJSON[T any](b *bolt.Bucket, key []byte) (*T, error) {
	if b == nil {
		return nil, nil
	}
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	x := new(T)
	if err := json.Unmarshal(v, x); err != nil {
		return nil, fmt.Errorf("schedule: decoding %q: %w", key, err)
	}
	return x, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("schedule: encoding %q: %w", key, err)
	}
	return b.Put(key, data)
}

// putFiring writes a firing and keeps the active index in step.
func putFiring(b buckets, f *Firing) error {
	if err := putJSON(b.firings, []byte(f.ID), f); err != nil {
		return err
	}
	if f.Status.finished() {
		return b.active.Delete(activeKey(f))
	}
	return b.active.Put(activeKey(f), []byte(f.ID))
}

// firingsOf lists one schedule's firings, newest first, up to limit.
func firingsOf(b buckets, schedule string, limit int) ([]*Firing, error) {
	var out []*Firing
	if b.firings == nil {
		return out, nil
	}
	prefix := []byte(schedule + ".")
	end := append(append([]byte(nil), prefix...), 0xff)
	c := b.firings.Cursor()
	k, v := c.Seek(end)
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		f := new(Firing)
		if err := json.Unmarshal(v, f); err != nil {
			return nil, fmt.Errorf("schedule: decoding firing %q: %w", k, err)
		}
		if f.Schedule == schedule {
			out = append(out, f)
		}
	}
	return out, nil
}

// sendsOf calls fn on each Send of a firing, in contact order.
func sendsOf(b buckets, firing string, fn func(*Send) error) error {
	if b.sends == nil {
		return nil
	}
	prefix := append([]byte(firing), 0)
	c := b.sends.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		s := new(Send)
		if err := json.Unmarshal(v, s); err != nil {
			return fmt.Errorf("schedule: decoding send %q: %w", k, err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}
