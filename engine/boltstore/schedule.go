package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/schedule"
)

// The scheduler's buckets (schedule.Records):
//
//	schedules_defs     schedule id → schedule.Schedule (JSON)
//	schedules_firings  firing id → schedule.Firing (JSON); a firing id
//	                   starts with its schedule id and ".", then the fire
//	                   time, so one schedule's history is a range in time
//	                   order
//	schedules_active   fire time (UnixNano, 20 digits) "." firing id →
//	                   firing id: the firings not finished
//	schedules_sends    firing id 0x00 contact key → schedule.Send (JSON)
var (
	bucketSchedDefs    = []byte("schedules_defs")
	bucketSchedFirings = []byte("schedules_firings")
	bucketSchedActive  = []byte("schedules_active")
	bucketSchedSends   = []byte("schedules_sends")
)

var _ schedule.Records = (*Store)(nil)

// UpdateSchedules runs fn in a write of the committer (schedule.Records):
// bbolt has one writer at a time, so fn is atomic with every other write.
func (s *Store) UpdateSchedules(ctx context.Context, fn func(schedule.Tx) error) error {
	return s.Update(ctx, func(tx *bolt.Tx) error { return fn(schedTx{tx}) })
}

// ViewSchedules runs fn in a read transaction (schedule.Records).
func (s *Store) ViewSchedules(ctx context.Context, fn func(schedule.Tx) error) error {
	return s.view(ctx, func(tx *bolt.Tx) error { return fn(schedTx{tx}) })
}

// schedTx is schedule.Tx over a bbolt transaction.
type schedTx struct{ tx *bolt.Tx }

func (t schedTx) Schedule(id string) (*schedule.Schedule, error) {
	return getJSON[schedule.Schedule](t.tx, bucketSchedDefs, []byte(id))
}

func (t schedTx) Schedules() ([]*schedule.Schedule, error) {
	return allJSON[schedule.Schedule](t.tx, bucketSchedDefs)
}

func (t schedTx) PutSchedule(sc *schedule.Schedule) error {
	return putJSON(t.tx, bucketSchedDefs, []byte(sc.ID), sc)
}

func (t schedTx) DeleteSchedule(id string) (bool, error) {
	return deleteKey(t.tx, bucketSchedDefs, []byte(id))
}

func (t schedTx) Firing(id string) (*schedule.Firing, error) {
	return getJSON[schedule.Firing](t.tx, bucketSchedFirings, []byte(id))
}

// activeKey orders the active index by fire time, across schedules.
func activeKey(f *schedule.Firing) []byte {
	return fmt.Appendf(nil, "%020d.%s", f.At.UnixNano(), f.ID)
}

func (t schedTx) PutFiring(f *schedule.Firing) error {
	if err := putJSON(t.tx, bucketSchedFirings, []byte(f.ID), f); err != nil {
		return err
	}
	active, err := t.tx.CreateBucketIfNotExists(bucketSchedActive)
	if err != nil {
		return err
	}
	if f.Status.Finished() {
		return active.Delete(activeKey(f))
	}
	return active.Put(activeKey(f), []byte(f.ID))
}

func (t schedTx) FiringsOf(id string, limit int) ([]*schedule.Firing, error) {
	out := []*schedule.Firing{}
	b := t.tx.Bucket(bucketSchedFirings)
	if b == nil {
		return out, nil
	}
	prefix := []byte(id + ".")
	end := append(bytes.Clone(prefix), 0xff)
	c := b.Cursor()
	k, v := c.Seek(end)
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		f := new(schedule.Firing)
		if err := json.Unmarshal(v, f); err != nil {
			return nil, fmt.Errorf("decoding firing %q: %w", k, err)
		}
		if f.Schedule == id {
			out = append(out, f)
		}
	}
	return out, nil
}

func (t schedTx) Firings(fn func(*schedule.Firing) error) error {
	return eachJSON(t.tx, bucketSchedFirings, func(_ []byte, f *schedule.Firing) error { return fn(f) })
}

func (t schedTx) Active() ([]*schedule.Firing, error) {
	var out []*schedule.Firing
	b := t.tx.Bucket(bucketSchedActive)
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(_, id []byte) error {
		f, err := getJSON[schedule.Firing](t.tx, bucketSchedFirings, id)
		if err == nil && f != nil {
			out = append(out, f)
		}
		return err
	})
	return out, err
}

// sendKey is firing id 0x00 contact key: one firing's sends are a range.
func sendKey(firing string, c model.ContactKey) []byte {
	k := append([]byte(firing), 0)
	return append(k, c...)
}

func (t schedTx) PutSend(firing string, sd *schedule.Send) error {
	return putJSON(t.tx, bucketSchedSends, sendKey(firing, sd.Contact), sd)
}

func (t schedTx) Sends(firing string, fn func(*schedule.Send) error) error {
	b := t.tx.Bucket(bucketSchedSends)
	if b == nil {
		return nil
	}
	prefix := sendKey(firing, "")
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		sd := new(schedule.Send)
		if err := json.Unmarshal(v, sd); err != nil {
			return fmt.Errorf("decoding send %q: %w", k, err)
		}
		if err := fn(sd); err != nil {
			return err
		}
	}
	return nil
}

func (t schedTx) DeleteSends(firing string) error {
	b := t.tx.Bucket(bucketSchedSends)
	if b == nil {
		return nil
	}
	prefix := sendKey(firing, "")
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
