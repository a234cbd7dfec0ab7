package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
)

// The event log and the event webhooks' records (engine/events). Every
// bucket is made by the first write that needs it: a file with no
// subscription never has them.
//
//	events_log               sequence (8 bytes BE) → model.Event (JSON), written by Commit
//	events_subscriptions     subscription id → events.Subscription (JSON)
//	events_deliveries        delivery seq (8 bytes BE) → events.Delivery (JSON)
//	events_due               next attempt (8 bytes) delivery seq (8 bytes) → 1, for the one
//	                         pending delivery of each (subscription, order key) that may go
//	events_chains            subscription 0x00 order key 0x00 delivery seq → 1, for every
//	                         pending delivery: the first is the one to go
//	events_by_subscription   subscription 0x00 delivery seq → state ('p', 'd' or 'f')
var (
	bucketEventLog        = []byte("events_log")
	bucketEventSubs       = []byte("events_subscriptions")
	bucketEventDeliveries = []byte("events_deliveries")
	bucketEventDue        = []byte("events_due")
	bucketEventChains     = []byte("events_chains")
	bucketEventBySub      = []byte("events_by_subscription")
)

var (
	_ model.EventLog = (*Store)(nil)
	_ events.Store   = (*Store)(nil)
)

func encodeEvents(evs []model.Event) ([][]byte, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	out := make([][]byte, 0, len(evs))
	for _, ev := range evs {
		if ev.ID == "" || ev.Type == "" {
			return nil, fmt.Errorf("boltstore: an event needs an id and a type")
		}
		v, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("boltstore: event %s: %w", ev.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// appendEvents appends a change's events to the log, in order.
func appendEvents(t *txn, evs [][]byte) error {
	if len(evs) == 0 {
		return nil
	}
	b, err := t.tx.CreateBucketIfNotExists(bucketEventLog)
	if err != nil {
		return err
	}
	for _, v := range evs {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(u64(seq), v); err != nil {
			return err
		}
	}
	return nil
}

// EventsAfter implements model.EventLog.
func (s *Store) EventsAfter(ctx context.Context, after uint64, limit int) ([]model.LoggedEvent, error) {
	var out []model.LoggedEvent
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventLog)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			le := model.LoggedEvent{Seq: binary.BigEndian.Uint64(k)}
			if err := json.Unmarshal(v, &le.Event); err != nil {
				return fmt.Errorf("boltstore: logged event %d: %w", le.Seq, err)
			}
			out = append(out, le)
		}
		return nil
	})
	return out, err
}

// PutSubscription implements events.Store.
func (s *Store) PutSubscription(ctx context.Context, sub events.Subscription) error {
	if err := checkID("subscription id", sub.ID); err != nil {
		return err
	}
	v, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketEventSubs)
		if err != nil {
			return err
		}
		return b.Put([]byte(sub.ID), v)
	})
}

// Subscription implements events.Store.
func (s *Store) Subscription(ctx context.Context, id string) (events.Subscription, bool, error) {
	var sub events.Subscription
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventSubs)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &sub)
	})
	return sub, ok, err
}

// Subscriptions implements events.Store.
func (s *Store) Subscriptions(ctx context.Context) ([]events.Subscription, error) {
	out := []events.Subscription{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventSubs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var sub events.Subscription
			if err := json.Unmarshal(v, &sub); err != nil {
				return fmt.Errorf("boltstore: subscription %q: %w", k, err)
			}
			out = append(out, sub)
			return nil
		})
	})
	return out, err
}

// eventBuckets are the delivery buckets of a write transaction, made if
// missing.
type eventBuckets struct {
	log, deliveries, due, chains, bySub *bolt.Bucket
}

func deliveryBuckets(tx *bolt.Tx) (*eventBuckets, error) {
	var b eventBuckets
	for _, x := range []struct {
		p    **bolt.Bucket
		name []byte
	}{{&b.log, bucketEventLog}, {&b.deliveries, bucketEventDeliveries}, {&b.due, bucketEventDue}, {&b.chains, bucketEventChains}, {&b.bySub, bucketEventBySub}} {
		bk, err := tx.CreateBucketIfNotExists(x.name)
		if err != nil {
			return nil, err
		}
		*x.p = bk
	}
	return &b, nil
}

func dueKey(at time.Time, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendTime(make([]byte, 0, 16), at), seq)
}

func chainPrefix(sub, order string) []byte {
	k := make([]byte, 0, len(sub)+len(order)+10)
	k = append(k, sub...)
	k = append(k, sep)
	k = append(k, order...)
	return append(k, sep)
}

func bySubKey(sub string, seq uint64) []byte {
	k := append(append([]byte(sub), sep), make([]byte, 8)...)
	binary.BigEndian.PutUint64(k[len(sub)+1:], seq)
	return k
}

func stateByte(st events.State) []byte {
	switch st {
	case events.Delivered:
		return []byte{'d'}
	case events.Failed:
		return []byte{'f'}
	}
	return []byte{'p'}
}

// firstWithPrefix returns the first key of b with prefix p, or nil.
func firstWithPrefix(b *bolt.Bucket, p []byte) []byte {
	k, _ := b.Cursor().Seek(p)
	if k == nil || !bytes.HasPrefix(k, p) {
		return nil
	}
	return k
}

func (b *eventBuckets) get(seq uint64) (*events.Delivery, error) {
	return getDelivery(b.deliveries, seq)
}

// getDelivery reads delivery seq from the deliveries bucket: nil when it
// is gone.
func getDelivery(dl *bolt.Bucket, seq uint64) (*events.Delivery, error) {
	v := dl.Get(u64(seq))
	if v == nil {
		return nil, nil
	}
	var d events.Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("boltstore: delivery %d: %w", seq, err)
	}
	return &d, nil
}

func (b *eventBuckets) put(d *events.Delivery) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := b.deliveries.Put(u64(d.Seq), v); err != nil {
		return err
	}
	return b.bySub.Put(bySubKey(d.Subscription, d.Seq), stateByte(d.State))
}

// queue makes d pending in its chain: due at at when no other delivery of
// its chain is pending, else waiting (NextAt zero).
func (b *eventBuckets) queue(d *events.Delivery, at time.Time) error {
	p := chainPrefix(d.Subscription, d.OrderKey)
	d.NextAt = time.Time{}
	if firstWithPrefix(b.chains, p) == nil {
		d.NextAt = at
		if err := checkTime(at); err != nil {
			return err
		}
		if err := b.due.Put(dueKey(at, d.Seq), present); err != nil {
			return err
		}
	}
	return b.chains.Put(binary.BigEndian.AppendUint64(p, d.Seq), present)
}

// Enqueue implements events.Store.
func (s *Store) Enqueue(ctx context.Context, upTo uint64, ds []events.Delivery) error {
	for i := range ds {
		if err := checkID("subscription id", ds[i].Subscription); err != nil {
			return err
		}
		if err := checkID("order key", ds[i].OrderKey); err != nil {
			return err
		}
	}
	return s.Update(ctx, func(tx *bolt.Tx) error {
		b, err := deliveryBuckets(tx)
		if err != nil {
			return err
		}
		var drop [][]byte
		c := b.log.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upTo; k, _ = c.Next() {
			drop = append(drop, bytes.Clone(k))
		}
		if len(drop) == 0 {
			return nil // enqueued before
		}
		for _, k := range drop {
			if err := b.log.Delete(k); err != nil {
				return err
			}
		}
		for _, d := range ds {
			seq, err := b.deliveries.NextSequence()
			if err != nil {
				return err
			}
			d.Seq = seq
			if err := b.queue(&d, d.NextAt); err != nil {
				return err
			}
			if err := b.put(&d); err != nil {
				return err
			}
		}
		return nil
	})
}

// Due implements events.Store.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]events.Delivery, error) {
	var out []events.Delivery
	bound := timeBound(now)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		due, dl := tx.Bucket(bucketEventDue), tx.Bucket(bucketEventDeliveries)
		if due == nil || dl == nil {
			return nil
		}
		c := due.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], bound) <= 0 && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			d, err := getDelivery(dl, binary.BigEndian.Uint64(k[8:]))
			if err != nil {
				return err
			}
			if d != nil {
				out = append(out, *d)
			}
		}
		return nil
	})
	return out, err
}

// NextDue implements events.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		due := tx.Bucket(bucketEventDue)
		if due == nil {
			return nil
		}
		if k, _ := due.Cursor().First(); k != nil {
			at, ok = decodeTime(k[:8]), true
		}
		return nil
	})
	return at, ok, err
}

// Delivery implements events.Store.
func (s *Store) Delivery(ctx context.Context, seq uint64) (events.Delivery, bool, error) {
	var d events.Delivery
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		dl := tx.Bucket(bucketEventDeliveries)
		if dl == nil {
			return nil
		}
		got, err := getDelivery(dl, seq)
		if got != nil {
			d, ok = *got, true
		}
		return err
	})
	return d, ok, err
}

// UpdateDelivery implements events.Store.
func (s *Store) UpdateDelivery(ctx context.Context, d events.Delivery) (bool, error) {
	var ok bool
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		ok = false
		b, err := deliveryBuckets(tx)
		if err != nil {
			return err
		}
		old, err := b.get(d.Seq)
		if err != nil || old == nil || old.State != events.Pending {
			return err
		}
		ok = true
		d := d
		d.Subscription, d.OrderKey = old.Subscription, old.OrderKey
		if !old.NextAt.IsZero() {
			if err := b.due.Delete(dueKey(old.NextAt, d.Seq)); err != nil {
				return err
			}
		}
		if d.State == events.Pending {
			if !d.NextAt.IsZero() {
				if err := checkTime(d.NextAt); err != nil {
					return err
				}
				if err := b.due.Put(dueKey(d.NextAt, d.Seq), present); err != nil {
					return err
				}
			}
			return b.put(&d)
		}
		d.NextAt = time.Time{}
		if err := b.put(&d); err != nil {
			return err
		}
		return b.release(d.Subscription, d.OrderKey, d.Seq, d.DoneAt)
	})
	return ok, err
}

// release takes seq out of its chain and makes the chain's next delivery,
// if any, due at at.
func (b *eventBuckets) release(sub, order string, seq uint64, at time.Time) error {
	p := chainPrefix(sub, order)
	if err := b.chains.Delete(binary.BigEndian.AppendUint64(p, seq)); err != nil {
		return err
	}
	k := firstWithPrefix(b.chains, p)
	if k == nil {
		return nil
	}
	next, err := b.get(binary.BigEndian.Uint64(k[len(p):]))
	if err != nil || next == nil {
		return err
	}
	if !next.NextAt.IsZero() {
		return nil // due already (a replay made it so)
	}
	if at.IsZero() {
		at = time.Now()
	}
	next.NextAt = at
	if err := b.due.Put(dueKey(at, next.Seq), present); err != nil {
		return err
	}
	return b.put(next)
}

// Deliveries implements events.Store.
func (s *Store) Deliveries(ctx context.Context, sub string, state events.State, before uint64, limit int) ([]events.Delivery, error) {
	out := []events.Delivery{}
	if before == 0 {
		before = ^uint64(0)
	}
	want := stateByte(state)[0]
	err := s.view(ctx, func(tx *bolt.Tx) error {
		bs, dl := tx.Bucket(bucketEventBySub), tx.Bucket(bucketEventDeliveries)
		if bs == nil || dl == nil {
			return nil
		}
		p := append([]byte(sub), sep)
		c := bs.Cursor()
		k, v := c.Seek(bySubKey(sub, before))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, p) && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			if state != "" && v[0] != want {
				continue
			}
			d, err := getDelivery(dl, binary.BigEndian.Uint64(k[len(p):]))
			if err != nil {
				return err
			}
			if d != nil {
				out = append(out, *d)
			}
		}
		return nil
	})
	return out, err
}

// Replay implements events.Store.
func (s *Store) Replay(ctx context.Context, sub string, seqs []uint64, now, giveUp time.Time) (int, error) {
	var n int
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		n = 0
		b, err := deliveryBuckets(tx)
		if err != nil {
			return err
		}
		list := seqs
		if list == nil {
			p := append([]byte(sub), sep)
			c := b.bySub.Cursor()
			for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
				if v[0] == 'f' {
					list = append(list, binary.BigEndian.Uint64(k[len(p):]))
				}
			}
		}
		for _, seq := range list {
			d, err := b.get(seq)
			if err != nil {
				return err
			}
			if d == nil || d.Subscription != sub || d.State == events.Pending {
				continue
			}
			d.State, d.DoneAt, d.GiveUpAt = events.Pending, time.Time{}, giveUp
			if err := b.queue(d, now); err != nil {
				return err
			}
			if err := b.put(d); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Hurry implements events.Store: one scan of the subscription's chains,
// moving each chain's first delivery.
func (s *Store) Hurry(ctx context.Context, sub string, now time.Time) (int, error) {
	if err := checkTime(now); err != nil {
		return 0, err
	}
	var n int
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		n = 0
		b, err := deliveryBuckets(tx)
		if err != nil {
			return err
		}
		p := append([]byte(sub), sep)
		var heads []uint64
		var last []byte // the chain of the previous key: sub 0x00 order key 0x00
		c := b.chains.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			chain := k[:len(k)-8]
			if bytes.Equal(chain, last) {
				continue
			}
			last = bytes.Clone(chain)
			heads = append(heads, binary.BigEndian.Uint64(k[len(k)-8:]))
		}
		for _, seq := range heads {
			d, err := b.get(seq)
			if err != nil {
				return err
			}
			if d == nil || d.State != events.Pending || !d.NextAt.After(now) {
				continue
			}
			if err := b.due.Delete(dueKey(d.NextAt, seq)); err != nil {
				return err
			}
			if err := b.due.Put(dueKey(now, seq), present); err != nil {
				return err
			}
			d.NextAt = now
			if err := b.put(d); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// CountPending implements events.Store: a scan of the chains' keys.
func (s *Store) CountPending(ctx context.Context, max int) (int, error) {
	n := 0
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEventChains)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && n < max; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// DeleteSubscription implements events.Store.
func (s *Store) DeleteSubscription(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		subs := tx.Bucket(bucketEventSubs)
		ok = subs != nil && subs.Get([]byte(id)) != nil
		if !ok {
			return nil
		}
		if err := subs.Delete([]byte(id)); err != nil {
			return err
		}
		b, err := deliveryBuckets(tx)
		if err != nil {
			return err
		}
		p := append([]byte(id), sep)
		var keys [][]byte
		c := b.bySub.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			seq := binary.BigEndian.Uint64(k[len(p):])
			d, err := b.get(seq)
			if err != nil {
				return err
			}
			if d != nil && d.State == events.Pending {
				if !d.NextAt.IsZero() {
					if err := b.due.Delete(dueKey(d.NextAt, seq)); err != nil {
						return err
					}
				}
				if err := b.chains.Delete(binary.BigEndian.AppendUint64(chainPrefix(id, d.OrderKey), seq)); err != nil {
					return err
				}
			}
			if err := b.deliveries.Delete(u64(seq)); err != nil {
				return err
			}
			if err := b.bySub.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return ok, err
}

// PruneDeliveries implements events.Store, a chunk per transaction, in
// creation order (delivery seqs grow with time).
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	total := 0
	var after uint64
	for {
		examined, n := 0, 0
		var last uint64
		err := s.Update(ctx, func(tx *bolt.Tx) error {
			examined, n, last = 0, 0, after
			dl := tx.Bucket(bucketEventDeliveries)
			if dl == nil {
				return nil
			}
			bs := tx.Bucket(bucketEventBySub)
			var drop []events.Delivery
			c := dl.Cursor()
			for k, v := c.Seek(u64(after + 1)); k != nil && examined < pruneChunk; k, v = c.Next() {
				var d events.Delivery
				if err := json.Unmarshal(v, &d); err != nil {
					return fmt.Errorf("boltstore: delivery %x: %w", k, err)
				}
				if !d.CreatedAt.Before(before) {
					examined = -1 // newer from here on
					break
				}
				examined++
				last = d.Seq
				if d.State != events.Pending {
					drop = append(drop, d)
				}
			}
			for _, d := range drop {
				if err := dl.Delete(u64(d.Seq)); err != nil {
					return err
				}
				if bs != nil {
					if err := bs.Delete(bySubKey(d.Subscription, d.Seq)); err != nil {
						return err
					}
				}
			}
			n = len(drop)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if examined < pruneChunk {
			return total, nil
		}
		after = last
	}
}
