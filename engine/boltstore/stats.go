package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Flow analytics (engine/analytics.go): Change.Counts are added, in the
// change's transaction, to one counter each:
//
//	flow_stats  flow id + sep + day (4 bytes) + version (4 bytes) + node + sep + kind (1 byte) + exit → n (8 bytes BE)
//
// The day is the UTC date of the change's At as the number yyyymmdd,
// big-endian, so byte order is date order. The day comes before the
// version: FlowStats reads a range of days, of every version, as one range
// scan.
var bucketFlowStats = []byte("flow_stats")

// dayNumber is t's UTC date as yyyymmdd.
func dayNumber(t time.Time) uint32 {
	y, m, d := t.UTC().Date()
	return uint32(y*10000 + int(m)*100 + d)
}

func dayOf(n uint32) time.Time {
	return time.Date(int(n/10000), time.Month(n/100%100), int(n%100), 0, 0, 0, 0, time.UTC)
}

// appendStatKey appends a counter's key to k.
func appendStatKey(k []byte, flow string, day uint32, version int, node string, kind model.CountKind, exit string) []byte {
	k = append(k, flow...)
	k = append(k, sep)
	k = binary.BigEndian.AppendUint32(k, day)
	k = binary.BigEndian.AppendUint32(k, uint32(version))
	k = append(k, node...)
	k = append(k, sep, byte(kind))
	return append(k, exit...)
}

// encodeCounts turns a change's counts into increments, one per distinct
// counter (the value is the increment, 8 bytes).
func encodeCounts(cs []model.Count, at time.Time) ([]keyValue, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	if at.IsZero() {
		at = time.Now()
	}
	day := dayNumber(at)
	// Every key and value in one buffer: two allocations per change.
	size := 0
	for _, c := range cs {
		size += len(c.Flow) + 1 + 8 + len(c.Node) + 2 + len(c.Exit) + 8
	}
	buf := make([]byte, 0, size)
	kvs := make([]keyValue, 0, len(cs))
next:
	for _, c := range cs {
		if err := checkID("counted flow id", c.Flow); err != nil {
			return nil, err
		}
		if err := checkID("counted node", c.Node); err != nil {
			return nil, err
		}
		if c.Version < 0 || c.Version > 1<<32-1 {
			return nil, fmt.Errorf("boltstore: counted version %d out of range", c.Version)
		}
		if c.N == 0 {
			continue
		}
		start := len(buf)
		buf = appendStatKey(buf, c.Flow, day, c.Version, c.Node, c.Kind, c.Exit)
		k := buf[start:len(buf):len(buf)]
		for i := range kvs {
			if bytes.Equal(kvs[i].key, k) {
				binary.BigEndian.PutUint64(kvs[i].value, binary.BigEndian.Uint64(kvs[i].value)+c.N)
				buf = buf[:start]
				continue next
			}
		}
		buf = binary.BigEndian.AppendUint64(buf, c.N)
		kvs = append(kvs, keyValue{k, buf[len(k)+start : len(buf) : len(buf)]})
	}
	return kvs, nil
}

// addCounts adds the increments to their counters.
func addCounts(t *txn, kvs []keyValue) error {
	if len(kvs) == 0 {
		return nil
	}
	b := t.tx.Bucket(bucketFlowStats)
	for _, kv := range kvs {
		n := binary.BigEndian.Uint64(kv.value)
		if old := b.Get(kv.key); len(old) == 8 {
			n += binary.BigEndian.Uint64(old)
		}
		if err := b.Put(kv.key, u64(n)); err != nil {
			return err
		}
	}
	return nil
}

// FlowStats implements model.Store.
func (s *Store) FlowStats(ctx context.Context, flow string, from, to time.Time) ([]model.FlowStat, error) {
	if err := checkID("flow id", flow); err != nil {
		return nil, err
	}
	var out []model.FlowStat
	err := s.view(ctx, func(tx *bolt.Tx) error {
		p := prefix(flow)
		start := binary.BigEndian.AppendUint32(bytes.Clone(p), dayNumber(from))
		last := dayNumber(to)
		c := tx.Bucket(bucketFlowStats).Cursor()
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			rest := k[len(p):]
			if len(rest) < 8 || len(v) != 8 {
				return fmt.Errorf("boltstore: malformed flow_stats entry %q", k)
			}
			day := binary.BigEndian.Uint32(rest)
			if day > last {
				break
			}
			version := binary.BigEndian.Uint32(rest[4:])
			node, tail, ok := bytes.Cut(rest[8:], []byte{sep})
			if !ok || len(tail) == 0 {
				return fmt.Errorf("boltstore: malformed flow_stats entry %q", k)
			}
			out = append(out, model.FlowStat{
				Day: dayOf(day), Version: int(version), Node: string(node),
				Kind: model.CountKind(tail[0]), Exit: string(tail[1:]), N: binary.BigEndian.Uint64(v),
			})
		}
		return nil
	})
	return out, err
}
