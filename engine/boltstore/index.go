package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Indexes kept by the commits that change what they index, so that
// listings and start-up read what they show, not the history:
//
//	conversation_index  's' status 0x00 time id → status 0x00 flow 0x00 contact
//	contacts_by_wa_id   wa_id 0x00 contact key → 1, for a contact whose key is
//	                    not its phone number id + ":" + its wa_id (keyed by
//	                    a user id, or its number changed): the others are
//	                    found by key, one lookup per business number
//
// Times are those of keys.go (byte order is time order), so a listing,
// newest first, reads a status's range backwards from its end or from the
// cursor, or, with no status asked, the ranges of every status (a handful)
// merged: a page costs the same at a million conversations as at a
// thousand. The value repeats what the filters ask, so a filter the index
// does not cover (a flow, a number) is checked on the index alone, without
// reading records; such a page reads as many entries as it skips, up to
// listScanCap.
//
// One entry per conversation, not one per filter: every event moves its
// conversation's activity, so each entry costs a delete and a put per
// event, and the delete lands where the conversation's previous activity
// sits — with many customers writing at once, a page of its own. Four
// entries per conversation (every conversation, by status, by flow, by
// status and flow) took BenchmarkCommit (scattered, 64 at once) from 2.9
// to 6.0 pages per event and halved its events per second; one entry
// costs 3.7. Flows are few, so a flow's page is found by skipping.
//
// To delete its old entries, a commit must know what a conversation was
// indexed under: contact_data keeps that beside the record, under the
// conversation's prefix and sub-kind 'x' (time + the index value), on the
// page the commit writes anyway. So keeping the index costs no read of
// another page and no JSON decoding in the committer.
var (
	bucketConvIndex      = []byte("conversation_index")
	bucketContactsByWaID = []byte("contacts_by_wa_id")
)

// Dimensions of conversation_index.
const (
	dimStatus       = 's'
	kindIndexed     = 'x' // contact_data sub-kind: what the conversation is indexed under
	indexedTimeSize = 8
)

// listScanCap bounds the index entries one listing page reads: a filter
// that matches few of its dimension's entries (a rare flow) returns a
// short page, with a cursor to go on from, rather than read the history.
// A variable for the tests.
var listScanCap = 20_000

// convSummary is what conversation_index keeps of a conversation.
type convSummary struct {
	at      []byte // LastActivityAt as keyed (timeBound: clamped, never refused)
	status  string
	flow    string
	contact model.ContactKey
}

func summaryOf(c *model.Conversation) convSummary {
	return convSummary{at: timeBound(c.LastActivityAt), status: string(c.Status), flow: c.Flow, contact: c.Contact}
}

// value is the index entries' value: status 0x00 flow 0x00 contact.
func (s convSummary) value() []byte {
	v := make([]byte, 0, len(s.status)+len(s.flow)+len(s.contact)+2)
	v = append(v, s.status...)
	v = append(v, sep)
	v = append(v, s.flow...)
	v = append(v, sep)
	return append(v, s.contact...)
}

// indexed is the contact_data value beside the record: time + value.
func (s convSummary) indexed() []byte {
	return append(bytes.Clone(s.at), s.value()...)
}

func parseIndexed(v []byte) (convSummary, bool) {
	if len(v) < indexedTimeSize {
		return convSummary{}, false
	}
	s, ok := parseIndexValue(v[indexedTimeSize:])
	s.at = v[:indexedTimeSize]
	return s, ok
}

func parseIndexValue(v []byte) (convSummary, bool) {
	parts := bytes.SplitN(v, []byte{sep}, 3)
	if len(parts) != 3 {
		return convSummary{}, false
	}
	return convSummary{status: string(parts[0]), flow: string(parts[1]), contact: model.ContactKey(parts[2])}, true
}

// indexPrefix is the start of a dimension's range: dim, then each part
// followed by sep.
func indexPrefix(dim byte, parts ...string) []byte {
	n := 1
	for _, p := range parts {
		n += len(p) + 1
	}
	k := make([]byte, 0, n+indexedTimeSize+32)
	k = append(k, dim)
	for _, p := range parts {
		k = append(append(k, p...), sep)
	}
	return k
}

// keys are the summary's conversation_index keys for conversation id (one;
// a list, so that a dimension can be added).
func (s convSummary) keys(id string) [][]byte {
	prefixes := [][]byte{indexPrefix(dimStatus, s.status)}
	for i, p := range prefixes {
		prefixes[i] = append(append(p, s.at...), id...)
	}
	return prefixes
}

// indexConversation brings conversation_index up to date with the
// conversation written: its entries under what it was indexed as (if
// that changed) go, the new ones come. A conversation rewritten with the
// same activity, status and flow writes nothing more.
func (t *txn) indexConversation(c convWrite) error {
	idx := t.tx.Bucket(bucketConvIndex)
	key, err := t.keyFor(indexedDKey(c.id))
	if err != nil {
		return err
	}
	now := c.sum.indexed()
	old := t.data.Get(key)
	if bytes.Equal(old, now) {
		return nil
	}
	if old != nil {
		if was, ok := parseIndexed(old); ok {
			for _, k := range was.keys(c.id) {
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	v := c.sum.value()
	for _, k := range c.sum.keys(c.id) {
		if err := idx.Put(k, v); err != nil {
			return err
		}
	}
	return t.data.Put(key, now)
}

// unindexConversation removes a conversation's entries (retention).
func unindexConversation(ks keys, data, idx *bolt.Bucket, id string) error {
	key := ks.indexed(id)
	if old := data.Get(key); old != nil {
		if was, ok := parseIndexed(old); ok {
			for _, k := range was.keys(id) {
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
		}
		return data.Delete(key)
	}
	return nil
}

// waIDKey is wa_id + sep + contact key.
func waIDKey(waID string, contact model.ContactKey) []byte {
	k := make([]byte, 0, len(waID)+1+len(contact))
	k = append(append(k, waID...), sep)
	return append(k, contact...)
}

// indexContact keeps contacts_by_wa_id, for the contacts whose key does
// not name their wa_id (keyed by a business-scoped user id, or whose
// number changed): a contact keyed phone number id + ":" + wa_id is found
// by its key (ContactsByWaID), and writes nothing here. An entry is
// written only when missing, so the hot path only reads. When it is
// missing, the stored record's wa_id (a number that changed) loses its
// entry.
func (t *txn) indexContact(key model.ContactKey, waID string) error {
	if waID == "" || strings.IndexByte(waID, sep) >= 0 || keyNamesWaID(key, waID) {
		return nil
	}
	b := t.tx.Bucket(bucketContactsByWaID)
	k := waIDKey(waID, key)
	if b.Get(k) != nil {
		return nil
	}
	if old := t.data.Get(t.keys.contact(key)); old != nil {
		var was struct {
			WaID string `json:"wa_id"`
		}
		if json.Unmarshal(old, &was) == nil && was.WaID != "" && was.WaID != waID {
			if err := b.Delete(waIDKey(was.WaID, key)); err != nil {
				return err
			}
		}
	}
	return b.Put(k, present)
}

// listIndexed pages conversation_index for ListConversations: newest
// first, from after (nil: the newest), the conversations that pass f; up
// to limit of them (<= 0: all). With f.Status it reads that status's
// range; without, it merges the ranges of every status (a handful: found
// by one seek each). more says another one follows; stop, when not nil, is
// where a page cut short by listScanCap stopped reading, for the next page
// to go on from.
func listIndexed(tx *bolt.Tx, f model.ConversationFilter, after *model.Cursor, limit int) (ids []string, more bool, stop *model.Cursor) {
	b := tx.Bucket(bucketConvIndex)
	var prefixes [][]byte
	if f.Status != "" {
		prefixes = [][]byte{indexPrefix(dimStatus, string(f.Status))}
	} else {
		prefixes = statusPrefixes(b)
	}
	streams := make([]*indexStream, 0, len(prefixes))
	for _, p := range prefixes {
		if st := newIndexStream(b, p, after); st.k != nil {
			streams = append(streams, st)
		}
	}
	var last []byte // time + id of the entry read last
	for scanned := 0; ; scanned++ {
		// The stream whose entry lists first: the greatest time + id.
		var top *indexStream
		for _, st := range streams {
			if st.k != nil && (top == nil || bytes.Compare(st.suffix(), top.suffix()) > 0) {
				top = st
			}
		}
		if top == nil {
			return ids, false, nil
		}
		if scanned == listScanCap && limit > 0 {
			// The page ends after the entry read last: the next one
			// starts right after it.
			return ids, true, &model.Cursor{At: decodeTime(last[:indexedTimeSize]), ID: string(last[indexedTimeSize:])}
		}
		suffix := top.suffix()
		last = append(last[:0], suffix...)
		if s, ok := parseIndexValue(top.v); ok {
			probe := model.Conversation{Status: model.Status(s.status), Flow: s.flow, Contact: s.contact}
			if f.Match(&probe) {
				if limit > 0 && len(ids) == limit {
					return ids, true, nil
				}
				ids = append(ids, string(suffix[indexedTimeSize:]))
			}
		}
		top.prev()
	}
}

// statusPrefixes are the ranges of conversation_index, one per status
// that has conversations: one seek each.
func statusPrefixes(b *bolt.Bucket) [][]byte {
	var out [][]byte
	c := b.Cursor()
	for k, _ := c.Seek([]byte{dimStatus}); k != nil && k[0] == dimStatus; {
		i := bytes.IndexByte(k, sep)
		if i < 0 {
			break
		}
		out = append(out, bytes.Clone(k[:i+1]))
		past := append(bytes.Clone(k[:i]), sep+1) // the next status's range
		k, _ = c.Seek(past)
	}
	return out
}

// indexStream reads one range of conversation_index backwards.
type indexStream struct {
	c    *bolt.Cursor
	p    []byte
	k, v []byte // the current entry; k nil at the range's start
}

// newIndexStream positions a stream on the last entry of range p that
// lists after the cursor (all of them: after nil).
func newIndexStream(b *bolt.Bucket, p []byte, after *model.Cursor) *indexStream {
	st := &indexStream{c: b.Cursor(), p: p}
	var target []byte
	if after != nil {
		target = append(append(bytes.Clone(p), timeBound(after.At)...), after.ID...)
	} else {
		target = append(bytes.Clone(p[:len(p)-1]), sep+1) // just past the range
	}
	// The last key before target.
	if k, _ := st.c.Seek(target); k == nil {
		st.k, st.v = st.c.Last()
	} else {
		st.k, st.v = st.c.Prev()
	}
	st.settle()
	return st
}

func (st *indexStream) prev() {
	st.k, st.v = st.c.Prev()
	st.settle()
}

// settle skips what is not an entry of the range, and ends the stream at
// the range's start.
func (st *indexStream) settle() {
	for st.k != nil {
		if !bytes.HasPrefix(st.k, st.p) {
			st.k = nil
			return
		}
		if len(st.k) > len(st.p)+indexedTimeSize {
			return
		}
		st.k, st.v = st.c.Prev()
	}
}

// suffix is the current entry's time + id.
func (st *indexStream) suffix() []byte { return st.k[len(st.p):] }

// keyNamesWaID reports whether a contact key is phone number id + ":" +
// waID, and so finds the contact from its wa_id without an index.
func keyNamesWaID(key model.ContactKey, waID string) bool {
	_, id, ok := strings.Cut(string(key), ":")
	return ok && id == waID
}

// ContactsByWaID returns the contacts whose wa_id is waID, on any business
// number, in key order: for each business number the contacts are kept
// under (one seek each), the contact keyed number + ":" + waID; and the
// range of contacts_by_wa_id for the others. Each is checked against its
// record (an entry a changed number left behind is skipped).
func (s *Store) ContactsByWaID(ctx context.Context, waID string) ([]*model.Contact, error) {
	if waID == "" || strings.IndexByte(waID, sep) >= 0 {
		return nil, nil
	}
	var out []*model.Contact
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		found := map[string]bool{}
		consider := func(key string) error {
			if found[key] {
				return nil
			}
			v := data.Get(keysIn(tx).contact(model.ContactKey(key)))
			if v == nil {
				return nil
			}
			ct := &model.Contact{}
			if err := decode(v, ct, "contact", key); err != nil {
				return err
			}
			if ct.WaID == waID {
				found[key] = true
				out = append(out, ct)
			}
			return nil
		}
		// The business numbers: those of the named groups, then of the
		// slots' owners (groups.go).
		c := data.Cursor()
		for k, _ := c.First(); k != nil && (len(k) == 0 || k[0] != slotMark); {
			group := k[:max(bytes.IndexByte(k, sep), 0)]
			i := bytes.IndexByte(group, ':')
			if i < 0 { // not a contact key: past this group
				k, _ = c.Seek(append(bytes.Clone(group), sep+1))
				continue
			}
			number := string(group[:i])
			if err := consider(number + ":" + waID); err != nil {
				return err
			}
			k, _ = c.Seek([]byte(number + string(rune(':'+1)))) // the next number's contacts
		}
		gc := tx.Bucket(bucketGroups).Cursor()
		for k, _ := gc.First(); k != nil; {
			i := bytes.IndexByte(k, ':')
			if i < 0 {
				k, _ = gc.Next()
				continue
			}
			number := string(k[:i])
			if err := consider(number + ":" + waID); err != nil {
				return err
			}
			k, _ = gc.Seek([]byte(number + string(rune(':'+1))))
		}
		p := append([]byte(waID), sep)
		ic := tx.Bucket(bucketContactsByWaID).Cursor()
		for k, _ := ic.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = ic.Next() {
			if err := consider(string(k[len(p):])); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *model.Contact) int { return strings.Compare(string(a.Key), string(b.Key)) })
	return out, err
}
