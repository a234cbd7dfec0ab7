package boltstore

import (
	"context"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine"
)

// listed is what ListConversations reads of every candidate before it
// knows the page: enough to filter and order, not the vars and timers.
type listed struct {
	ID             string            `json:"id"`
	Contact        engine.ContactKey `json:"contact"`
	Flow           string            `json:"flow"`
	Status         engine.Status     `json:"status"`
	LastActivityAt time.Time         `json:"last_activity_at"`
}

// ListConversations lists the conversations that pass f, newest activity
// first, one page of up to f.Limit (<= 0: all) after f.Cursor.
//
// Cost: there is no index by activity, so a listing reads every candidate
// once, in one read transaction (a seek per conversation, past its transcript) — each one's head decoded to filter and
// order it, only the page's conversations decoded whole. With f.Contact the
// candidates are that contact's conversations (see Conversations); without it they are every conversation in the store.
// That is fine for an admin listing at tens of thousands of conversations;
// beyond, an activity index kept by Commit would make a page a short range
// scan.
func (s *Store) ListConversations(ctx context.Context, f engine.ConversationFilter) ([]*engine.Conversation, string, error) {
	var after *engine.Cursor
	if f.Cursor != "" {
		c, err := engine.ParseCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = &c
	}
	if f.Contact != "" {
		if checkID("contact key", string(f.Contact)) != nil {
			return nil, "", s.view(ctx, func(*bolt.Tx) error { return nil })
		}
	}
	var out []*engine.Conversation
	next := ""
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		var cands []listed
		consider := func(id string, v []byte) error {
			var l listed
			if err := decode(v, &l, "conversation", id); err != nil {
				return err
			}
			l.ID = id // the key, which Get below reads
			probe := engine.Conversation{Status: l.Status, Flow: l.Flow, Contact: l.Contact}
			if !f.Match(&probe) || (after != nil && !after.After(l.LastActivityAt, l.ID)) {
				return nil
			}
			cands = append(cands, l)
			return nil
		}
		if f.Contact != "" {
			if err := contactConversations(tx, f.Contact, consider); err != nil {
				return err
			}
		} else if err := scanConversations(data, nil, consider); err != nil {
			return err
		}
		slices.SortFunc(cands, func(a, b listed) int {
			return engine.CompareActivity(a.LastActivityAt, a.ID, b.LastActivityAt, b.ID)
		})
		if f.Limit > 0 && len(cands) > f.Limit {
			cands = cands[:f.Limit]
			next = "more" // replaced by the last conversation's cursor below
		}
		out = make([]*engine.Conversation, 0, len(cands))
		for _, l := range cands {
			conv := &engine.Conversation{}
			if err := decode(data.Get(conversationKey(l.ID)), conv, "conversation", l.ID); err != nil {
				return err
			}
			out = append(out, conv)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if next != "" {
		next = engine.ConversationCursor(out[len(out)-1])
	}
	return out, next, nil
}
