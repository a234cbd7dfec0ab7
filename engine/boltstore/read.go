package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Reads run in a read transaction each: they see every commit acknowledged
// before they started, never part of one. What they return is decoded, not
// shared with the file: callers may keep and change it.

// Contact returns a contact, or model.ErrNotFound.
func (s *Store) Contact(ctx context.Context, key model.ContactKey) (*model.Contact, error) {
	var c model.Contact
	if checkID("contact key", string(key)) != nil {
		return nil, fmt.Errorf("boltstore: contact %q: %w", key, model.ErrNotFound)
	}
	err := s.getData(ctx, func(ks keys) []byte { return ks.contact(key) }, &c, "contact", string(key))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Conversation returns a conversation, or model.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id string) (*model.Conversation, error) {
	var c model.Conversation
	if checkID("conversation id", id) != nil {
		return nil, fmt.Errorf("boltstore: conversation %q: %w", id, model.ErrNotFound)
	}
	if err := s.getData(ctx, func(ks keys) []byte { return ks.conversation(id) }, &c, "conversation", id); err != nil {
		return nil, err
	}
	return &c, nil
}

// getData decodes the value of the contact_data key that key names in the
// read transaction into v, or returns ErrNotFound.
func (s *Store) getData(ctx context.Context, key func(keys) []byte, v any, what, id string) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData).Get(key(keysIn(tx)))
		if data == nil {
			return fmt.Errorf("boltstore: %s %q: %w", what, id, model.ErrNotFound)
		}
		return decode(data, v, what, id)
	})
}

// get decodes the value of key into v, or returns ErrNotFound.
func (s *Store) get(ctx context.Context, bucket, key []byte, v any, what, id string) error {
	if len(key) == 0 {
		return fmt.Errorf("boltstore: %s %q: %w", what, id, model.ErrNotFound)
	}
	return s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get(key)
		if data == nil {
			return fmt.Errorf("boltstore: %s %q: %w", what, id, model.ErrNotFound)
		}
		return decode(data, v, what, id)
	})
}

func decode(data []byte, v any, what, id string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("boltstore: decoding %s %q: %w", what, id, err)
	}
	return nil
}

// DueTimers returns up to limit timers due at or before now, earliest
// first; limit <= 0 means no limit. It reads only the due timers: the
// timers bucket is ordered by due time.
func (s *Store) DueTimers(ctx context.Context, now time.Time, limit int) ([]model.Timer, error) {
	if limit <= 0 {
		limit = math.MaxInt
	}
	bound := timeBound(now)
	var out []model.Timer
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTimers).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit && bytes.Compare(k[:8], bound) <= 0; k, v = c.Next() {
			var t model.Timer
			if err := decode(v, &t, "timer", string(k[8:])); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// NextTimer returns the earliest timer's due time, if any.
func (s *Store) NextTimer(ctx context.Context) (time.Time, bool, error) {
	var due time.Time
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketTimers).Cursor().First(); k != nil {
			due, ok = decodeTime(k), true
		}
		return nil
	})
	return due, ok, err
}

// Message returns one transcript message, or model.ErrNotFound.
func (s *Store) Message(ctx context.Context, conversation string, seq uint64) (*model.Message, error) {
	if checkID("conversation id", conversation) != nil {
		return nil, fmt.Errorf("boltstore: message %q #%d: %w", conversation, seq, model.ErrNotFound)
	}
	m := &model.Message{}
	if err := s.getData(ctx, func(ks keys) []byte { return ks.message(conversation, seq) }, m, "message", fmt.Sprintf("%s #%d", conversation, seq)); err != nil {
		return nil, err
	}
	return m, nil
}

// Transcript returns a conversation's messages in order of Seq; none (and
// no error) for an unknown conversation.
func (s *Store) Transcript(ctx context.Context, conversation string) ([]*model.Message, error) {
	if err := checkID("conversation id", conversation); err != nil {
		return nil, err
	}
	var out []*model.Message
	err := s.view(ctx, func(tx *bolt.Tx) error {
		p := keysIn(tx).transcript(conversation)
		c := tx.Bucket(bucketData).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			m := &model.Message{}
			if err := decode(v, m, "message of", conversation); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// Outbox returns up to limit queued messages with a sequence number
// greater than after, in order; limit <= 0 means no limit. Items stay
// until a Commit dequeues them (Change.Dequeue); a claimed item's message
// is in state Sending.
func (s *Store) Outbox(ctx context.Context, after uint64, limit int) ([]model.OutboxItem, error) {
	if after == math.MaxUint64 {
		return nil, s.view(ctx, func(*bolt.Tx) error { return nil })
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	var out []model.OutboxItem
	err := s.view(ctx, func(tx *bolt.Tx) error {
		msgs := tx.Bucket(bucketData)
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, ref := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, ref = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			isClaimed := claimed(ref)
			if isClaimed {
				ref = ref[1:]
			}
			v := msgs.Get(ref)
			if v == nil {
				return fmt.Errorf("boltstore: outbox item %d: message %q is missing", seq, ref)
			}
			m := &model.Message{}
			if err := decode(v, m, "outbox item", fmt.Sprint(seq)); err != nil {
				return err
			}
			if isClaimed && m.State == model.Queued {
				m.State = model.Sending
			}
			out = append(out, model.OutboxItem{Seq: seq, Message: m})
		}
		return nil
	})
	return out, err
}

// Conversations lists the conversations of a contact, oldest (by
// StartedAt, then id) first. It reads the records of the contact's group,
// a range scan that seeks past each transcript, and the conversations that
// contact_conversations names.
func (s *Store) Conversations(ctx context.Context, contact model.ContactKey) ([]*model.Conversation, error) {
	if err := checkID("contact key", string(contact)); err != nil {
		return nil, err
	}
	var out []*model.Conversation
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return contactConversations(tx, contact, func(id string, v []byte) error {
			conv := &model.Conversation{}
			if err := decode(v, conv, "conversation", id); err != nil {
				return err
			}
			if conv.Contact == contact {
				out = append(out, conv)
			}
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b *model.Conversation) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}

// contactConversations calls fn with every conversation that may be the
// contact's: those of its group, then those contact_conversations names.
// fn must check the conversation's contact: a record of the group may name
// another contact, an index entry may be stale.
func contactConversations(tx *bolt.Tx, contact model.ContactKey, fn func(id string, v []byte) error) error {
	data := tx.Bucket(bucketData)
	ks := keysIn(tx)
	group := append(append(ks.group(string(contact)), sep), kindConversation)
	if err := scanConversations(data, group, fn); err != nil {
		return err
	}
	p := prefix(string(contact))
	c := tx.Bucket(bucketOtherContact).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		id := string(k[len(p):])
		if v := data.Get(ks.conversation(id)); v != nil {
			if err := fn(id, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanConversations calls fn with every conversation record of data whose
// key starts with p, in key order. It seeks past each transcript, so it
// reads one record per conversation, not its messages.
func scanConversations(data *bolt.Bucket, p []byte, fn func(id string, v []byte) error) error {
	names := &ownerNames{data: data}
	c := data.Cursor()
	k, v := c.First()
	if len(p) > 0 {
		k, v = c.Seek(p)
	}
	for k != nil && bytes.HasPrefix(k, p) {
		d, ok := names.parse(k)
		if ok && d.kind == kindConversation {
			switch d.sub {
			case kindMessage:
				// Seek to the conversation's record, after its messages.
				k, v = c.Seek(append(bytes.Clone(d.group), conversationDKey(d.conversation).rest...))
				continue
			case kindRecord:
				if err := fn(d.conversation, v); err != nil {
					return err
				}
			}
		}
		k, v = c.Next()
	}
	return nil
}
