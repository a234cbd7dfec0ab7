package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// pruneConversationChunk caps the conversations one retention transaction
// deletes, each with its transcript: small enough that the commits queued
// behind it wait milliseconds, not seconds. A variable for the tests.
var pruneConversationChunk = 200

// doneStatuses are the statuses of conversations the retention may delete:
// a conversation in them never runs again.
var doneStatuses = []model.Status{model.Ended, model.Expired, model.Failed}

// PruneConversations deletes the conversations that are done (ended,
// expired or failed) and whose last activity is before before, each with
// its transcript and index entries, and returns how many. A conversation
// with an outbound message still queued or being sent is kept. A
// contact whose current conversation is deleted is rewritten to have
// none; contacts themselves are kept.
//
// It finds them through conversation_index (by status, oldest first), and
// works in transactions of at most pruneConversationChunk conversations,
// each taking its turn with the commits like any write: so it never holds
// up the webhooks for long, and what it has done stays done if it fails or
// ctx ends midway.
func (s *Store) PruneConversations(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for _, status := range doneStatuses {
		w := &conversationPrune{prefix: indexPrefix(dimStatus, string(status)), before: timeBound(before)}
		for {
			if err := s.do(ctx, w); err != nil {
				return total, err
			}
			total += w.n
			if !w.more {
				break
			}
			w.from = w.next
		}
	}
	return total, nil
}

// conversationPrune is one transaction of PruneConversations: the done
// conversations of one status after from, in index order.
type conversationPrune struct {
	prefix []byte // conversation_index range of the status
	before []byte // activity bound (exclusive)
	from   []byte // the last index key looked at by the previous chunk

	// Results, set by apply (which may run twice: see write).
	next []byte // the last index key this chunk looked at
	n    int    // deleted by this chunk
	more bool   // the range goes on
}

func (w *conversationPrune) check(*txn) error { return nil }

func (w *conversationPrune) apply(t *txn) error {
	idx := t.tx.Bucket(bucketConvIndex)
	c := idx.Cursor()
	k, _ := c.Seek(w.prefix)
	if w.from != nil {
		if k, _ = c.Seek(w.from); k != nil && bytes.Equal(k, w.from) {
			k, _ = c.Next()
		}
	}
	w.n, w.more, w.next = 0, false, nil
	var ids []string
	for ; k != nil && bytes.HasPrefix(k, w.prefix) && len(k) > len(w.prefix)+indexedTimeSize; k, _ = c.Next() {
		if bytes.Compare(k[len(w.prefix):len(w.prefix)+indexedTimeSize], w.before) >= 0 {
			break
		}
		if len(ids) == pruneConversationChunk {
			w.more = true
			break
		}
		w.next = bytes.Clone(k)
		ids = append(ids, string(k[len(w.prefix)+indexedTimeSize:]))
	}
	for _, id := range ids {
		deleted, err := t.pruneConversation(id)
		if err != nil {
			return fmt.Errorf("boltstore: pruning %s: %w", id, err)
		}
		if deleted {
			w.n++
		}
	}
	return nil
}

// pruneConversation deletes conversation id with its transcript and index
// entries, unless it is not done or has a message still to send.
func (t *txn) pruneConversation(id string) (bool, error) {
	v := t.data.Get(t.keys.conversation(id))
	if v == nil {
		return false, nil
	}
	var conv struct {
		Contact model.ContactKey `json:"contact"`
		Status  model.Status     `json:"status"`
	}
	if err := json.Unmarshal(v, &conv); err != nil {
		return false, err
	}
	if !conv.Status.Done() {
		return false, nil
	}
	p := t.keys.transcript(id)
	var keys [][]byte
	c := t.data.Cursor()
	for k, mv := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, mv = c.Next() {
		var m struct {
			Direction model.Direction    `json:"dir"`
			State     model.MessageState `json:"state"`
		}
		if err := json.Unmarshal(mv, &m); err != nil {
			return false, err
		}
		if m.Direction == model.Out && (m.State == model.Queued || m.State == model.Sending) {
			return false, nil // the outbox still names it
		}
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := t.data.Delete(k); err != nil {
			return false, err
		}
	}
	if err := unindexConversation(t.keys, t.data, t.tx.Bucket(bucketConvIndex), id); err != nil {
		return false, err
	}
	if err := t.data.Delete(t.keys.conversation(id)); err != nil {
		return false, err
	}
	if conv.Contact != "" && string(conv.Contact) != ownerOf(id) {
		if err := t.otherContact.Delete(otherContactKey(conv.Contact, id)); err != nil {
			return false, err
		}
	}
	return true, t.forgetCurrent(conv.Contact, id)
}

// forgetCurrent rewrites a contact whose current conversation is id (a
// done one, being deleted) to have none, as the engine reads it anyway.
func (t *txn) forgetCurrent(contact model.ContactKey, id string) error {
	if contact == "" {
		return nil
	}
	key := t.keys.contact(contact)
	v := t.data.Get(key)
	if v == nil {
		return nil
	}
	var ct model.Contact
	if err := json.Unmarshal(v, &ct); err != nil {
		return err
	}
	if ct.Conversation != id {
		return nil
	}
	ct.Conversation = ""
	nv, err := json.Marshal(&ct)
	if err != nil {
		return err
	}
	return t.data.Put(key, nv)
}
