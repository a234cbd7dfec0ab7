package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Schema 1 kept contacts, conversations and messages in buckets of their
// own, so one event dirtied pages at three unrelated places. Schema 2 keeps
// them together in contact_data (keys.go). Open migrates a version-1 file:
//
//  1. One transaction creates the new buckets, rewrites every outbox item
//     to the new key of its message, sets the schema to 2 and puts the
//     meta key migrating_from_1.
//  2. Transactions of up to migrateChunk records each move the records of
//     the version-1 buckets contacts, conversations and messages into
//     contact_data, deleting them from the old bucket in the same
//     transaction; the one that empties them drops the old buckets (and
//     conversations_by_contact, which contact_conversations replaces) and
//     deletes migrating_from_1.
//
// Every step is one bbolt transaction, so a crash at any point leaves a
// file in which each record is in exactly one place and the marker says
// whether work is left: the next Open goes on from there. A version-1
// binary refuses the file from step 1 on (schema 2).

// Version-1 buckets, read only by the migration.
var (
	legacyContacts      = []byte("contacts")
	legacyConversations = []byte("conversations")
	legacyByContact     = []byte("conversations_by_contact")
	legacyMessages      = []byte("messages")
)

// migrateChunk caps the records moved in one transaction. A variable for
// the tests.
var migrateChunk = 20_000

// startMigration is step 1, run in initBuckets' transaction on a
// version-1 file.
func startMigration(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if ob := tx.Bucket(bucketOutbox); ob != nil {
		var kvs []keyValue
		err := ob.ForEach(func(k, v []byte) error {
			if len(v) < 10 || v[len(v)-9] != sep {
				return fmt.Errorf("boltstore: migrating outbox item %x: bad message key %q", k, v)
			}
			conv := string(v[:len(v)-9])
			seq := binary.BigEndian.Uint64(v[len(v)-8:])
			kvs = append(kvs, keyValue{bytes.Clone(k), named(messageDKey(conv, seq))})
			return nil
		})
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := ob.Put(kv.key, kv.value); err != nil {
				return err
			}
		}
	}
	if err := meta.Put(keyMigrating, present); err != nil {
		return err
	}
	return meta.Put(keySchema, u64(schemaVersion))
}

// migrate runs step 2 until the file is migrated; on a migrated file it
// returns at once.
func migrate(db *bolt.DB) error {
	for {
		done, err := migrateStep(db)
		if err != nil {
			return fmt.Errorf("migrating schema 1 to 2: %w", err)
		}
		if done {
			return nil
		}
	}
}

// migrateStep moves up to migrateChunk records in one transaction and
// reports whether the migration is finished.
func migrateStep(db *bolt.DB) (done bool, err error) {
	err = db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyMigrating) == nil {
			done = true
			return nil
		}
		t := newTxn(tx)
		t.named = true // the records of schema 1 keep their owners' names
		left := migrateChunk
		moves := []struct {
			name []byte
			move func(k, v []byte) error
		}{
			{legacyContacts, func(k, v []byte) error {
				return t.data.Put(named(contactDKey(model.ContactKey(k))), v)
			}},
			{legacyConversations, func(k, v []byte) error {
				var c model.Conversation
				if err := json.Unmarshal(v, &c); err != nil {
					return fmt.Errorf("conversation %q: %w", k, err)
				}
				return t.putConversation(convWrite{dkeyValue{conversationDKey(string(k)), v}, string(k), c.Contact, summaryOf(&c)})
			}},
			{legacyMessages, func(k, v []byte) error {
				if len(k) < 10 || k[len(k)-9] != sep {
					return fmt.Errorf("bad message key %q", k)
				}
				return t.data.Put(named(messageDKey(string(k[:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:]))), v)
			}},
		}
		for _, m := range moves {
			b := tx.Bucket(m.name)
			if b == nil {
				continue
			}
			var kvs []keyValue
			c := b.Cursor()
			for k, v := c.First(); k != nil && len(kvs) < left; k, v = c.Next() {
				kvs = append(kvs, keyValue{bytes.Clone(k), bytes.Clone(v)})
			}
			for _, kv := range kvs {
				if err := m.move(kv.key, kv.value); err != nil {
					return err
				}
				if err := b.Delete(kv.key); err != nil {
					return err
				}
			}
			if left -= len(kvs); left == 0 {
				return nil // more may be left: the next step looks
			}
		}
		// Every old bucket is empty: drop them and the marker.
		for _, name := range [][]byte{legacyContacts, legacyConversations, legacyMessages, legacyByContact} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		done = true
		return tx.Bucket(bucketMeta).Delete(keyMigrating)
	})
	return done, err
}
