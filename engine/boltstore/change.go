package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Commit makes c durable, all or nothing, sharing the transaction and its
// fsync with the commits running at the same time.
//
// In c, the contact and conversations replace the stored ones. Messages
// are appended: one whose (Conversation, Seq) is already stored refuses
// the whole change; outbound ones in state Queued enter the outbox in the
// order of c.Messages. Updates then rewrite messages, each of which must
// be stored or appended by c (else the change is refused with an error
// wrapping model.ErrNotFound); they never enter the outbox. Dequeue
// removes outbox items (one already gone is no error). DeleteTimers are
// removed before SetTimers are set, so a timer in both stays set. With an
// InboundID already committed, Commit returns model.ErrDuplicate. A
// refused change writes nothing. The inbound id's retention counts from
// c.At, or from the wall clock if c.At is zero.
//
// Commit encodes c before queueing it, so c is the caller's again once
// Commit returns. A ctx already done commits nothing; a ctx that ends while
// the change waits makes Commit return ctx.Err() at once, though the change
// may still commit if the committer had taken it (see the package doc).
func (s *Store) Commit(ctx context.Context, c *model.Change) error {
	w, err := encodeChange(c)
	if err != nil {
		return err
	}
	return s.do(ctx, w)
}

type keyValue struct{ key, value []byte }

// changeWrite is a Change encoded, by the committing goroutine rather than
// by the committer, so that JSON encoding runs in parallel and off the
// committer's path.
type changeWrite struct {
	inboundID   []byte // the id, for the inbound bucket of schema 2
	inboundKey  dkey   // contact_data key of the id (inboundDKey)
	inboundTime []byte // inbound_by_time key: time + id
	inboundVal  []byte // inbound_by_time value (inboundTimeValue)
	contact     *dkeyValue
	contactKey  model.ContactKey // with contact: its key and wa_id (contacts_by_wa_id)
	contactWaID string
	convs       []convWrite
	msgs        []msgWrite
	updates     []msgWrite
	dequeue     [][]byte
	claim       [][]byte
	unclaim     [][]byte
	delTimers   [][]byte
	setTimers   []keyValue
	aliases     []keyValue
	reached     []keyValue // reach key, reach_by_contact key
	counts      []keyValue // flow_stats key, increment (stats.go)
	events      [][]byte   // model.Event as JSON, for the event log (events.go)
}

// dkeyValue is a contact_data record to write, its group not yet known.
type dkeyValue struct {
	key   dkey
	value []byte
}

type convWrite struct {
	dkeyValue
	id      string
	contact model.ContactKey
	sum     convSummary // what conversation_index keeps of it (index.go)
}

type msgWrite struct {
	dkeyValue
	queued bool
	m      *model.Message // for error messages only
}

func encodeChange(c *model.Change) (*changeWrite, error) {
	w := &changeWrite{}
	if c.InboundID != "" {
		at := c.At
		if at.IsZero() {
			at = time.Now()
		}
		if err := checkTime(at); err != nil {
			return nil, fmt.Errorf("boltstore: change of inbound %s: %w", c.InboundID, err)
		}
		if err := checkID("inbound id", c.InboundID); err != nil {
			return nil, err
		}
		key := c.InboundKey
		if key == "" && c.Contact != nil {
			key = c.Contact.Key
		}
		if err := checkID("inbound key", string(key)); err != nil {
			return nil, fmt.Errorf("boltstore: change of inbound %s: %w", c.InboundID, err)
		}
		w.inboundID = []byte(c.InboundID)
		if err := checkOwner("inbound key", string(key)); err != nil {
			return nil, err
		}
		w.inboundKey = inboundDKey(key, c.InboundID)
		w.inboundTime = inboundTimeKey(at, c.InboundID)
		w.inboundVal = inboundTimeValue(key)
	}
	if c.Contact != nil {
		if err := checkID("contact key", string(c.Contact.Key)); err != nil {
			return nil, err
		}
		v, err := json.Marshal(c.Contact)
		if err != nil {
			return nil, fmt.Errorf("boltstore: contact %s: %w", c.Contact.Key, err)
		}
		if err := checkOwner("contact key", string(c.Contact.Key)); err != nil {
			return nil, err
		}
		w.contact = &dkeyValue{contactDKey(c.Contact.Key), v}
		w.contactKey, w.contactWaID = c.Contact.Key, c.Contact.WaID
	}
	w.convs = make([]convWrite, 0, len(c.Conversations))
	for _, conv := range c.Conversations {
		if conv == nil {
			return nil, fmt.Errorf("boltstore: nil conversation in change")
		}
		if err := checkID("conversation id", conv.ID); err != nil {
			return nil, err
		}
		if conv.Contact != "" {
			if err := checkID("contact key", string(conv.Contact)); err != nil {
				return nil, err
			}
		}
		v, err := json.Marshal(conv)
		if err != nil {
			return nil, fmt.Errorf("boltstore: conversation %s: %w", conv.ID, err)
		}
		if err := checkOwner("conversation id", conv.ID); err != nil {
			return nil, err
		}
		w.convs = append(w.convs, convWrite{dkeyValue{conversationDKey(conv.ID), v}, conv.ID, conv.Contact, summaryOf(conv)})
	}
	w.msgs = make([]msgWrite, 0, len(c.Messages))
	for i, m := range c.Messages {
		if m == nil {
			return nil, fmt.Errorf("boltstore: nil message in change")
		}
		if err := checkID("message conversation", m.Conversation); err != nil {
			return nil, err
		}
		for _, o := range c.Messages[:i] {
			if o.Conversation == m.Conversation && o.Seq == m.Seq {
				return nil, fmt.Errorf("boltstore: message %s #%d twice in one change", m.Conversation, m.Seq)
			}
		}
		v, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("boltstore: message %s #%d: %w", m.Conversation, m.Seq, err)
		}
		w.msgs = append(w.msgs, msgWrite{
			dkeyValue: dkeyValue{messageDKey(m.Conversation, m.Seq), v},
			queued:    m.Direction == model.Out && m.State == model.Queued,
			m:         m,
		})
	}
	w.updates = make([]msgWrite, 0, len(c.Updates))
	for _, m := range c.Updates {
		if m == nil {
			return nil, fmt.Errorf("boltstore: nil message update in change")
		}
		if err := checkID("message conversation", m.Conversation); err != nil {
			return nil, err
		}
		v, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("boltstore: message %s #%d: %w", m.Conversation, m.Seq, err)
		}
		w.updates = append(w.updates, msgWrite{dkeyValue: dkeyValue{messageDKey(m.Conversation, m.Seq), v}, m: m})
	}
	w.dequeue = make([][]byte, 0, len(c.Dequeue))
	for _, seq := range c.Dequeue {
		w.dequeue = append(w.dequeue, u64(seq))
	}
	for _, seq := range c.Claim {
		w.claim = append(w.claim, u64(seq))
	}
	for _, seq := range c.Unclaim {
		w.unclaim = append(w.unclaim, u64(seq))
	}
	w.delTimers = make([][]byte, 0, len(c.DeleteTimers))
	for _, t := range c.DeleteTimers {
		k, err := timerKey(t)
		if err != nil {
			return nil, err
		}
		w.delTimers = append(w.delTimers, k)
	}
	w.setTimers = make([]keyValue, 0, len(c.SetTimers))
	for _, t := range c.SetTimers {
		k, err := timerKey(t)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("boltstore: timer of %s: %w", t.Conversation, err)
		}
		w.setTimers = append(w.setTimers, keyValue{k, v})
	}
	aliases, err := encodeAliases(c.Aliases)
	if err != nil {
		return nil, err
	}
	w.aliases = aliases
	if w.reached, err = encodeReached(c.Reached); err != nil {
		return nil, err
	}
	if w.counts, err = encodeCounts(c.Counts, c.At); err != nil {
		return nil, err
	}
	if w.events, err = encodeEvents(c.Events); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *changeWrite) check(t *txn) error {
	if w.inboundID != nil {
		forgotten := forgottenBefore(t.tx)
		if inboundLive(t.data.Get(t.keys.of(w.inboundKey)), forgotten) || inboundLive(t.inbound.Get(w.inboundID), forgotten) {
			return model.ErrDuplicate
		}
	}
	for _, m := range w.msgs {
		if t.data.Get(t.keys.of(m.key)) != nil {
			return fmt.Errorf("boltstore: message %s #%d is already stored", m.m.Conversation, m.m.Seq)
		}
	}
updates:
	for _, u := range w.updates {
		if t.data.Get(t.keys.of(u.key)) != nil {
			continue
		}
		for _, m := range w.msgs {
			if m.key.owner == u.key.owner && bytes.Equal(m.key.rest, u.key.rest) {
				continue updates
			}
		}
		return fmt.Errorf("boltstore: update of message %s #%d: %w", u.m.Conversation, u.m.Seq, model.ErrNotFound)
	}
	for _, k := range w.claim {
		switch v := t.outbox.Get(k); {
		case v == nil:
			return fmt.Errorf("boltstore: claim of outbox item %d: gone: %w", binary.BigEndian.Uint64(k), model.ErrNotQueued)
		case claimed(v):
			return fmt.Errorf("boltstore: claim of outbox item %d: %w", binary.BigEndian.Uint64(k), model.ErrClaimed)
		}
	}
	return nil
}

// An outbox value is the contact_data key of its message; a claimed one
// (Change.Claim) has sep in front. Message keys start with a contact key,
// which is never empty and never holds sep, so the two cannot be confused.
func claimed(outboxValue []byte) bool { return len(outboxValue) > 0 && outboxValue[0] == sep }

// claimedValue is the value of an outbox entry once claimed.
func claimedValue(v []byte) []byte { return append([]byte{sep}, v...) }

func (w *changeWrite) apply(t *txn) error {
	if w.inboundID != nil {
		key, err := t.keyFor(w.inboundKey)
		if err != nil {
			return err
		}
		if err := t.data.Put(key, w.inboundTime[:8]); err != nil {
			return err
		}
		// The group's forgotten ids go while its page is written anyway
		// (inbound.go).
		p := key[:len(key)-len(w.inboundID)]
		if err := t.forgetInGroup(p, key, forgottenBefore(t.tx)); err != nil {
			return err
		}
		if err := t.inboundByTime.Put(w.inboundTime, w.inboundVal); err != nil {
			return err
		}
	}
	if w.contact != nil {
		if err := t.indexContact(w.contactKey, w.contactWaID); err != nil {
			return err
		}
		key, err := t.keyFor(w.contact.key)
		if err != nil {
			return err
		}
		if err := t.data.Put(key, w.contact.value); err != nil {
			return err
		}
	}
	for _, c := range w.convs {
		if err := t.putConversation(c); err != nil {
			return err
		}
	}
	for _, m := range w.msgs {
		key, err := t.keyFor(m.key)
		if err != nil {
			return err
		}
		if err := t.data.Put(key, m.value); err != nil {
			return err
		}
		if m.queued {
			seq, err := t.outbox.NextSequence()
			if err != nil {
				return err
			}
			if err := t.outbox.Put(u64(seq), key); err != nil {
				return err
			}
		}
	}
	for _, u := range w.updates {
		key, err := t.keyFor(u.key)
		if err != nil {
			return err
		}
		if err := t.data.Put(key, u.value); err != nil {
			return err
		}
	}
	for _, k := range w.claim {
		if v := t.outbox.Get(k); !claimed(v) { // check saw it; a change may name it twice
			if err := t.outbox.Put(k, claimedValue(v)); err != nil {
				return err
			}
		}
	}
	for _, k := range w.unclaim {
		if v := t.outbox.Get(k); claimed(v) {
			if err := t.outbox.Put(k, bytes.Clone(v[1:])); err != nil {
				return err
			}
		}
	}
	for _, k := range w.dequeue {
		if err := t.outbox.Delete(k); err != nil {
			return err
		}
	}
	for _, k := range w.delTimers {
		if err := t.timers.Delete(k); err != nil {
			return err
		}
	}
	for _, kv := range w.setTimers {
		if err := t.timers.Put(kv.key, kv.value); err != nil {
			return err
		}
	}
	if err := putAliases(t, w.aliases); err != nil {
		return err
	}
	if err := putReached(t, w.reached); err != nil {
		return err
	}
	if err := addCounts(t, w.counts); err != nil {
		return err
	}
	return appendEvents(t, w.events)
}

// putConversation stores a conversation in its group (ownerOf its id).
// A conversation whose contact is another key — not one the engine makes,
// or moved to another contact — also gets an entry in contact_conversations,
// so its contact's listing finds it. The entry is written only when
// missing, so the hot path (contact = group) writes nothing more; an entry
// left behind by a conversation that changed contact again is harmless,
// since readers keep only conversations whose contact is the one asked.
func (t *txn) putConversation(c convWrite) error {
	key, err := t.keyFor(c.key)
	if err != nil {
		return err
	}
	if c.contact != "" && string(c.contact) != ownerOf(c.id) {
		idx := otherContactKey(c.contact, c.id)
		if t.otherContact.Get(idx) == nil {
			if old := t.data.Get(key); old != nil {
				var was struct {
					Contact model.ContactKey `json:"contact"`
				}
				if err := json.Unmarshal(old, &was); err == nil && was.Contact != "" && was.Contact != c.contact {
					if err := t.otherContact.Delete(otherContactKey(was.Contact, c.id)); err != nil {
						return err
					}
				}
			}
			if err := t.otherContact.Put(idx, present); err != nil {
				return err
			}
		}
	}
	if err := t.data.Put(key, c.value); err != nil {
		return err
	}
	return t.indexConversation(c)
}
