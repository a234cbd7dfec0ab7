package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Schema 4 adds conversation_index and contacts_by_wa_id (index.go), which
// every commit keeps. A file of an earlier schema gets them from Open:
//
//  1. The transaction that settles the schema (initBuckets) sets it to 4
//     and puts the meta key indexing_from, the contact_data key to go on
//     from ('k' + key; 'k' alone: from the start). From then on commits
//     index what they write, and a schema-3 binary refuses the file.
//  2. Transactions of up to indexChunk records each walk contact_data in
//     key order from there, seeking past transcripts: a conversation record
//     gets its index entries (and what it is indexed under, beside it), a
//     contact record its wa_id entry; the transaction moves indexing_from
//     on. The one that reaches the end deletes it.
//
// Indexing is idempotent (a conversation indexed already, by a commit or a
// step cut short by a crash, is rewritten to the same entries), so a crash
// anywhere leaves a file the next Open goes on with. It reads the whole of
// contact_data once: minutes on a store of a million conversations with a
// cold page cache, once.
var keyIndexing = []byte("indexing_from")

// indexChunk caps the records one indexing step reads. A variable for the
// tests.
var indexChunk = 20_000

// startIndexing is step 1, in initBuckets' transaction.
func startIndexing(meta *bolt.Bucket) error {
	return meta.Put(keyIndexing, []byte{'k'})
}

// migrateIndexes runs step 2 until the indexes are built; on an indexed
// file it returns at once.
func migrateIndexes(db *bolt.DB) error {
	for {
		done, err := indexStep(db)
		if err != nil {
			return fmt.Errorf("building the indexes of schema 4: %w", err)
		}
		if done {
			return nil
		}
	}
}

// indexed is a record an indexing step read, cloned out of the cursor's
// page: writes to contact_data invalidate the cursor.
type indexRecord struct {
	key, value []byte
	d          dataKey
}

func indexStep(db *bolt.DB) (done bool, err error) {
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		from := meta.Get(keyIndexing)
		if from == nil {
			done = true
			return nil
		}
		t := newTxn(tx)
		names := &ownerNames{data: t.data}
		var recs []indexRecord
		c := t.data.Cursor()
		k, v := c.First()
		if len(from) > 1 {
			k, v = c.Seek(from[1:])
		}
		for k != nil && len(recs) < indexChunk {
			d, ok := names.parse(k)
			switch {
			case ok && d.kind == kindConversation && d.sub == kindMessage:
				k, v = c.Seek(append(bytes.Clone(d.group), conversationDKey(d.conversation).rest...))
				continue
			case ok && d.kind == kindContact, ok && d.kind == kindConversation && d.sub == kindRecord:
				d.group = bytes.Clone(d.group)
				recs = append(recs, indexRecord{bytes.Clone(k), bytes.Clone(v), d})
			}
			k, v = c.Next()
		}
		next := bytes.Clone(k) // nil at the end
		for _, r := range recs {
			if err := indexRecordOf(t, r); err != nil {
				return err
			}
		}
		if next == nil {
			done = true
			return meta.Delete(keyIndexing)
		}
		return meta.Put(keyIndexing, append([]byte{'k'}, next...))
	})
	return done, err
}

func indexRecordOf(t *txn, r indexRecord) error {
	if r.d.kind == kindContact {
		var ct struct {
			WaID string `json:"wa_id"`
		}
		if err := json.Unmarshal(r.value, &ct); err != nil {
			return fmt.Errorf("contact %q: %w", r.d.owner, err)
		}
		return t.indexContact(model.ContactKey(r.d.owner), ct.WaID)
	}
	var conv model.Conversation
	if err := json.Unmarshal(r.value, &conv); err != nil {
		return fmt.Errorf("conversation %q: %w", r.d.conversation, err)
	}
	return t.indexConversation(convWrite{id: r.d.conversation, sum: summaryOf(&conv)})
}
