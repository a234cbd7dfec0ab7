package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine"
)

// Buckets. Every hot read is one lookup or a short range scan of one of them;
// doc.go lists each bucket's key and value.
var (
	bucketMeta                  = []byte("meta")
	bucketContacts              = []byte("contacts")
	bucketConversations         = []byte("conversations")
	bucketByContact             = []byte("conversations_by_contact")
	bucketMessages              = []byte("messages")
	bucketOutbox                = []byte("outbox")
	bucketTimers                = []byte("timers")
	bucketInbound               = []byte("inbound")
	bucketInboundByTime         = []byte("inbound_by_time")
	bucketFlows                 = []byte("flows")
	bucketFlowVersions          = []byte("flow_versions")
	bucketTemplates             = []byte("templates")
	bucketAliases               = []byte("contact_aliases")
	bucketReach                 = []byte("reach")
	bucketReachByContact        = []byte("reach_by_contact")
	allBuckets                  = [][]byte{bucketMeta, bucketContacts, bucketConversations, bucketByContact, bucketMessages, bucketOutbox, bucketTimers, bucketInbound, bucketInboundByTime, bucketFlows, bucketFlowVersions, bucketTemplates, bucketAliases, bucketReach, bucketReachByContact, bucketFlowStats}
	keySchema                   = []byte("schema")
	schemaVersion        uint64 = 1
)

// sep ends a variable-length part of a composite key. Ids and keys that
// contain it are refused (see checkID), so a prefix scan for "id" + sep
// never reaches another id's keys.
const sep = 0x00

// present is the value of index entries, whose key says everything. Not
// empty: bbolt's Get returns nil for an empty value put in the same
// transaction, which would read as "absent".
var present = []byte{1}

// Times are stored as 8 big-endian bytes of UnixNano with the sign bit
// flipped, so that byte order is time order, before 1970 included. UnixNano
// covers the years 1678 to 2262; times outside are refused where stored and
// clamped where compared.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

var errTimeRange = errors.New("time outside the years 1678 to 2262")

func appendTime(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano())^(1<<63))
}

// timeBound encodes t clamped to the representable range: for comparing
// against stored times, never for storing.
func timeBound(t time.Time) []byte {
	switch {
	case t.Before(minTime):
		t = minTime
	case t.After(maxTime):
		t = maxTime
	}
	return appendTime(make([]byte, 0, 8), t)
}

func decodeTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

func checkTime(t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("%v: %w", t, errTimeRange)
	}
	return nil
}

// checkID refuses what cannot be part of a composite key.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("boltstore: empty %s", what)
	}
	if strings.IndexByte(id, sep) >= 0 {
		return fmt.Errorf("boltstore: %s %q contains a NUL byte", what, id)
	}
	return nil
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

// messageKey is conversation id + sep + 8-byte big-endian seq: a
// conversation's transcript is one range scan, in order.
func messageKey(conversation string, seq uint64) []byte {
	k := make([]byte, 0, len(conversation)+9)
	k = append(k, conversation...)
	k = append(k, sep)
	return binary.BigEndian.AppendUint64(k, seq)
}

// prefix is id + sep: the start of every composite key of id.
func prefix(id string) []byte {
	k := make([]byte, 0, len(id)+1)
	return append(append(k, id...), sep)
}

// byContactKey is contact key + sep + conversation id.
func byContactKey(contact engine.ContactKey, conversation string) []byte {
	k := make([]byte, 0, len(contact)+1+len(conversation))
	k = append(k, contact...)
	k = append(k, sep)
	return append(k, conversation...)
}

// timerKey is due + kind + sep + conversation + sep + node: timers sort by
// due time, and the key names the timer exactly as Timer.Same does.
func timerKey(t engine.Timer) ([]byte, error) {
	if err := checkTime(t.Due); err != nil {
		return nil, fmt.Errorf("boltstore: timer of %s: %w", t.Conversation, err)
	}
	if err := checkID("timer conversation", t.Conversation); err != nil {
		return nil, err
	}
	if strings.IndexByte(string(t.Kind), sep) >= 0 || strings.IndexByte(t.Node, sep) >= 0 {
		return nil, fmt.Errorf("boltstore: timer of %s: kind or node contains a NUL byte", t.Conversation)
	}
	k := make([]byte, 0, 8+len(t.Kind)+len(t.Conversation)+len(t.Node)+2)
	k = appendTime(k, t.Due)
	k = append(k, t.Kind...)
	k = append(k, sep)
	k = append(k, t.Conversation...)
	k = append(k, sep)
	return append(k, t.Node...), nil
}

// inboundTimeKey is when + inbound message id: PruneInbound is a range scan
// from the start.
func inboundTimeKey(at time.Time, id string) []byte {
	k := make([]byte, 0, 8+len(id))
	k = appendTime(k, at)
	return append(k, id...)
}

// templateKey is name + sep + language: a name's languages are one range,
// and the bucket's order is by name, then language.
func templateKey(name, language string) []byte {
	k := make([]byte, 0, len(name)+1+len(language))
	k = append(k, name...)
	k = append(k, sep)
	return append(k, language...)
}

// versionKey is flow id + sep + 4-byte big-endian version.
func versionKey(flow string, version int) []byte {
	k := make([]byte, 0, len(flow)+5)
	k = append(k, flow...)
	k = append(k, sep)
	return binary.BigEndian.AppendUint32(k, uint32(version))
}
