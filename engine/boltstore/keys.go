package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Buckets. Every hot read is one lookup or a short range scan of one of them;
// doc.go lists each bucket's key and value.
var (
	bucketMeta           = []byte("meta")
	bucketData           = []byte("contact_data")
	bucketOtherContact   = []byte("contact_conversations")
	bucketOutbox         = []byte("outbox")
	bucketTimers         = []byte("timers")
	bucketInbound        = []byte("inbound")
	bucketInboundByTime  = []byte("inbound_by_time")
	bucketFlows          = []byte("flows")
	bucketFlowVersions   = []byte("flow_versions")
	bucketTemplates      = []byte("templates")
	bucketAliases        = []byte("contact_aliases")
	bucketReach          = []byte("reach")
	bucketReachByContact = []byte("reach_by_contact")
	allBuckets           = [][]byte{bucketMeta, bucketData, bucketOtherContact, bucketOutbox, bucketTimers, bucketInbound, bucketInboundByTime, bucketFlows, bucketFlowVersions, bucketTemplates, bucketAliases, bucketReach, bucketReachByContact, bucketFlowStats, bucketConvIndex, bucketContactsByWaID, bucketGroups}
	keySchema            = []byte("schema")
	// keyMigrating, in meta, marks a file whose version-1 records are
	// still being moved (migrate.go).
	keyMigrating         = []byte("migrating_from_1")
	schemaVersion uint64 = 5
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

// The contact_data bucket keeps everything of one customer together: the
// contact record, its conversations and their messages share the key
// prefix group + sep, where the owner of a contact's group is its key and
// the owner of a conversation's is ownerOf(its id), and the group is the
// owner's slot, numbered in order of creation (groups.go), or, for owners
// first written before schema 5, the owner itself. Engine conversation ids
// are contact key + "#" + n, so a contact's conversations are in its group
// and one event's writes (contact, conversation, the newest messages) sit
// side by side, on one or two pages. Within a group:
//
//	group 0x00 'c' suffix 0x00 'm' seq (8 bytes BE)  message
//	group 0x00 'c' suffix 0x00 'r'                   conversation record
//	group 0x00 'k'                                   contact record
//
// where suffix is the conversation id without its owner (id = owner +
// suffix). So a transcript is one range scan, the conversation's record
// comes right after its newest message, and the contact record right after
// its last conversation.
const (
	kindConversation = 'c'
	kindContact      = 'k'
	kindInbound      = 'i'
	kindMessage      = 'm'
	kindRecord       = 'r'
)

// ownerOf is the owner of a conversation id's group: the id up to its
// last '#' (the contact key, for the ids the engine makes), or the whole id
// when it has no '#' past its first byte. It depends on the id alone, so a
// message or conversation is found from its id and the owner's slot.
func ownerOf(conversation string) string {
	if i := strings.LastIndexByte(conversation, '#'); i > 0 {
		return conversation[:i]
	}
	return conversation
}

// dataKey is a contact_data key taken apart: its group, the group's
// owner (the group itself, or a slot's owner: groups.go), its kind
// (kindContact, kindConversation, kindInbound, kindOwner) and, for a
// conversation's key, the conversation id and sub-kind (kindMessage,
// kindRecord or kindIndexed).
type dataKey struct {
	group        []byte
	owner        string
	kind         byte
	conversation string
	sub          byte
}

// parse takes a contact_data key apart, naming its group's owner.
func (o *ownerNames) parse(k []byte) (dataKey, bool) {
	i := bytes.IndexByte(k, sep)
	if i < 0 || i+1 >= len(k) {
		return dataKey{}, false
	}
	d := dataKey{group: k[:i], kind: k[i+1]}
	d.owner = o.of(d.group)
	if d.kind != kindConversation {
		return d, true
	}
	rest := k[i+2:]
	j := bytes.IndexByte(rest, sep)
	if j < 0 || j+1 >= len(rest) {
		return dataKey{}, false
	}
	d.conversation = d.owner + string(rest[:j])
	d.sub = rest[j+1]
	return d, true
}

// prefix is id + sep: the start of every composite key of id.
func prefix(id string) []byte {
	k := make([]byte, 0, len(id)+1)
	return append(append(k, id...), sep)
}

// otherContactKey is contact key + sep + conversation id: the index entry
// of a conversation whose contact is not its group (see putConversation).
func otherContactKey(contact model.ContactKey, conversation string) []byte {
	k := make([]byte, 0, len(contact)+1+len(conversation))
	k = append(k, contact...)
	k = append(k, sep)
	return append(k, conversation...)
}

// timerKey is due + kind + sep + conversation + sep + node: timers sort by
// due time, and the key names the timer exactly as Timer.Same does.
func timerKey(t model.Timer) ([]byte, error) {
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

// inboundTimeValue is the value of an inbound_by_time entry of schema 3:
// 'i' + the group its id is stored in. Schema 2's value, 1, means the id is
// in the inbound bucket.
func inboundTimeValue(group model.ContactKey) []byte {
	return append([]byte{kindInbound}, group...)
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

// wabaTemplateKey is the key of a template of a WABA other than the
// default one: WABA, name and language. It has three parts where
// templateKey has two, so the two never meet.
func wabaTemplateKey(waba, name, language string) []byte {
	k := make([]byte, 0, len(waba)+1+len(name)+1+len(language))
	k = append(k, waba...)
	k = append(k, sep)
	return append(k, templateKey(name, language)...)
}
