package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parleyhq/parley/engine/model"
)

// Report is what Check found in a data file.
type Report struct {
	Path string
	// Counts of what the file holds.
	Contacts, Conversations, Messages, IndexEntries, Outbox, Timers int
	// Problems are inconsistencies Parley does not repair by itself: an
	// index that disagrees with the records, an outbox entry whose message
	// is gone. Restore a backup, or report them.
	Problems []string
	// Notes are findings that are harmless (the engine passes over them),
	// or that the next start settles (indexes still being built).
	Notes []string
	// More counts the problems and notes left out past maxFindings each.
	MoreProblems, MoreNotes int
}

// OK reports whether Check found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.MoreProblems == 0 }

// maxFindings caps the problems, and the notes, a Report lists.
const maxFindings = 50

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < maxFindings {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else {
		r.MoreProblems++
	}
}

func (r *Report) note(format string, args ...any) {
	if len(r.Notes) < maxFindings {
		r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
	} else {
		r.MoreNotes++
	}
}

// ErrInUse is returned by Check when another process (a running `parley
// serve`) holds the data file.
var ErrInUse = errors.New("boltstore: the data file is in use by another process")

// Check reads the whole data file at path, without writing to it: every
// page of its tree (the check of Open, to the last page), then every
// record against the indexes that commits keep with it (conversation_index
// both ways, contacts_by_wa_id), the outbox against the messages it names,
// the timers and contact_conversations against their conversations. It
// returns the report, or an error when the file cannot be read as a store
// at all (ErrDamaged for a damaged page, ErrInUse while Parley runs on
// it). It reads the history: minutes for millions of conversations.
func Check(path string) (*Report, error) {
	r := &Report{Path: path}
	if err := CheckFile(path); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: check %s: %w", path, err)
	}
	defer db.Close()
	err = guard(func() error { return db.View(func(tx *bolt.Tx) error { return checkTx(tx, r) }) })
	if err != nil {
		return nil, fmt.Errorf("boltstore: check %s: %w", path, err)
	}
	return r, nil
}

func checkTx(tx *bolt.Tx, r *Report) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil || meta.Get(keySchema) == nil {
		return errForeign
	}
	for _, b := range allBuckets {
		if tx.Bucket(b) == nil {
			r.note("bucket %s is missing: made at the next start", b)
		}
	}
	indexes := true
	if v := meta.Get(keySchema); len(v) != 8 || binary.BigEndian.Uint64(v) != schemaVersion {
		r.note("schema %x: this build reads %d; the next start migrates the file, indexes not checked", v, schemaVersion)
		indexes = false
	}
	if meta.Get(keyMigrating) != nil || meta.Get(keyIndexing) != nil {
		r.note("a migration is under way: the next start finishes it; indexes not checked")
		indexes = false
	}
	data := tx.Bucket(bucketData)
	ks := keysIn(tx)
	idx := tx.Bucket(bucketConvIndex)
	byWaID := tx.Bucket(bucketContactsByWaID)
	if data == nil || idx == nil || byWaID == nil {
		indexes = false
	}
	if data != nil {
		if err := checkData(ks, data, idx, byWaID, indexes, r); err != nil {
			return err
		}
	}
	if indexes {
		if err := checkConversationIndex(ks, data, idx, r); err != nil {
			return err
		}
		if err := byWaID.ForEach(func(k, _ []byte) error {
			i := bytes.IndexByte(k, sep)
			if i < 0 {
				r.problem("contacts_by_wa_id: a key with no contact: %q", k)
				return nil
			}
			v := data.Get(ks.contact(model.ContactKey(k[i+1:])))
			var ct struct {
				WaID string `json:"wa_id"`
			}
			if v == nil || json.Unmarshal(v, &ct) != nil || ct.WaID != string(k[:i]) {
				r.note("contacts_by_wa_id: %q → %q is stale (its contact is gone or changed number); lookups skip it", k[:i], k[i+1:])
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if ob := tx.Bucket(bucketOutbox); ob != nil && data != nil {
		if err := ob.ForEach(func(k, v []byte) error {
			r.Outbox++
			if claimed(v) {
				v = v[1:]
			}
			if data.Get(v) == nil {
				r.problem("outbox item %d names a message that is not stored (%q)", binary.BigEndian.Uint64(k), v)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if tb := tx.Bucket(bucketTimers); tb != nil && data != nil {
		if err := tb.ForEach(func(k, v []byte) error {
			r.Timers++
			var t model.Timer
			if err := json.Unmarshal(v, &t); err != nil {
				r.problem("timer %q: %v", k, err)
				return nil
			}
			if checkID("conversation id", t.Conversation) != nil || data.Get(ks.conversation(t.Conversation)) == nil {
				r.note("a %s timer due %s names conversation %q, which is not stored: it is dropped when due", t.Kind, t.Due.UTC().Format(time.RFC3339), t.Conversation)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if oc := tx.Bucket(bucketOtherContact); oc != nil && data != nil {
		if err := oc.ForEach(func(k, _ []byte) error {
			if i := bytes.IndexByte(k, sep); i < 0 || data.Get(ks.conversation(string(k[i+1:]))) == nil {
				r.note("contact_conversations: %q names a conversation that is not stored; listings skip it", k)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkData walks contact_data: every conversation against what it is
// indexed under and its index entries, every contact against its wa_id
// entry and current conversation.
func checkData(ks keys, data, idx, byWaID *bolt.Bucket, indexes bool, r *Report) error {
	names := &ownerNames{data: data}
	c := data.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		d, ok := names.parse(k)
		if !ok {
			r.problem("contact_data: a key that is no record's: %q", k)
			continue
		}
		switch {
		case d.kind == kindContact:
			r.Contacts++
			var ct model.Contact
			if err := json.Unmarshal(v, &ct); err != nil {
				r.problem("contact %q: %v", d.owner, err)
				continue
			}
			if indexes && ct.WaID != "" && !keyNamesWaID(model.ContactKey(d.owner), ct.WaID) && byWaID.Get(waIDKey(ct.WaID, model.ContactKey(d.owner))) == nil {
				r.problem("contact %q: no contacts_by_wa_id entry for its wa_id", d.owner)
			}
			if ct.Conversation != "" && (checkID("conversation id", ct.Conversation) != nil || data.Get(ks.conversation(ct.Conversation)) == nil) {
				r.note("contact %q: its current conversation %q is not stored (deleted by the retention?): the engine takes it as none", d.owner, ct.Conversation)
			}
		case d.kind == kindOwner:
			if g := ks.group(d.owner); !bytes.Equal(g, d.group) {
				r.problem("slot %q names owner %q, whose group is %q: its records cannot be found", d.group, d.owner, g)
			}
		case d.kind == kindConversation && d.sub == kindMessage:
			r.Messages++
		case d.kind == kindConversation && d.sub == kindRecord:
			r.Conversations++
			if !indexes {
				continue
			}
			var conv model.Conversation
			if err := json.Unmarshal(v, &conv); err != nil {
				r.problem("conversation %q: %v", d.conversation, err)
				continue
			}
			sum := summaryOf(&conv)
			if got := data.Get(ks.indexed(d.conversation)); !bytes.Equal(got, sum.indexed()) {
				r.problem("conversation %q: indexed as %q, but its record says %q", d.conversation, got, sum.indexed())
			}
			for _, ik := range sum.keys(d.conversation) {
				if got := idx.Get(ik); !bytes.Equal(got, sum.value()) {
					r.problem("conversation %q: conversation_index entry %q is %q, want %q", d.conversation, ik, got, sum.value())
				}
			}
		case d.kind == kindConversation && d.sub == kindIndexed:
			if data.Get(ks.conversation(d.conversation)) == nil {
				r.problem("conversation %q: indexed, but not stored", d.conversation)
			}
		}
	}
	return nil
}

// checkConversationIndex checks every conversation_index entry names a
// stored conversation that is indexed so.
func checkConversationIndex(ks keys, data, idx *bolt.Bucket, r *Report) error {
	return idx.ForEach(func(k, v []byte) error {
		r.IndexEntries++
		s, ok := parseIndexValue(v)
		if !ok || len(k) == 0 {
			r.problem("conversation_index: entry %q has a bad value %q", k, v)
			return nil
		}
		var p []byte
		switch k[0] {
		case dimStatus:
			p = indexPrefix(dimStatus, s.status)
		}
		if p == nil || !bytes.HasPrefix(k, p) || len(k) <= len(p)+indexedTimeSize {
			r.problem("conversation_index: entry %q does not match its value %q", k, v)
			return nil
		}
		id := string(k[len(p)+indexedTimeSize:])
		was, ok := parseIndexed(data.Get(ks.indexed(id)))
		if !ok || data.Get(ks.conversation(id)) == nil {
			r.problem("conversation_index: entry %q names conversation %q, which is not stored", k, id)
			return nil
		}
		if !slices.ContainsFunc(was.keys(id), func(want []byte) bool { return bytes.Equal(want, k) }) {
			r.problem("conversation_index: entry %q of conversation %q is stale", k, id)
		}
		return nil
	})
}
