package boltstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// listed is what ListConversations reads of every candidate before it
// knows the page: enough to filter and order, not the vars and timers.
type listed struct {
	ID             string           `json:"id"`
	Contact        model.ContactKey `json:"contact"`
	Flow           string           `json:"flow"`
	Status         model.Status     `json:"status"`
	LastActivityAt time.Time        `json:"last_activity_at"`
}

// ListConversations lists the conversations that pass f, newest activity
// first, one page of up to f.Limit (<= 0: all) after f.Cursor.
//
// Cost: without f.Contact a page is a backward range scan of
// conversation_index (index.go) in the dimension that covers the filter
// (a status, or every conversation), from the end or the cursor, and one
// lookup per conversation of the page: the same at a million stored
// conversations as at a thousand. A filter the dimension does not cover
// (a flow, a number) is checked on the index values, so it reads as many
// entries as it skips, up to listScanCap: past that the page ends short,
// with a cursor to go on from. With f.Contact the candidates are that
// contact's conversations (see Conversations), filtered and sorted.
func (s *Store) ListConversations(ctx context.Context, f model.ConversationFilter) ([]*model.Conversation, string, error) {
	var after *model.Cursor
	if f.Cursor != "" {
		c, err := model.ParseCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = &c
	}
	for _, v := range []string{string(f.Contact), string(f.Status), f.Flow, f.Number} {
		if strings.IndexByte(v, sep) >= 0 { // never stored: nothing passes
			return nil, "", s.view(ctx, func(*bolt.Tx) error { return nil })
		}
	}
	if f.Contact != "" {
		return s.listContactConversations(ctx, f, after)
	}
	var out []*model.Conversation
	var more bool
	var stop *model.Cursor
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketData)
		var ids []string
		ids, more, stop = listIndexed(tx, f, after, f.Limit)
		out = make([]*model.Conversation, 0, len(ids))
		for _, id := range ids {
			v := data.Get(keysIn(tx).conversation(id))
			if v == nil {
				return fmt.Errorf("boltstore: conversation_index names %q, which is not stored (run parley check)", id)
			}
			conv := &model.Conversation{}
			if err := decode(v, conv, "conversation", id); err != nil {
				return err
			}
			out = append(out, conv)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	switch {
	case stop != nil:
		next = model.ConversationCursor(&model.Conversation{ID: stop.ID, LastActivityAt: stop.At})
	case more && len(out) > 0:
		next = model.ConversationCursor(out[len(out)-1])
	}
	return out, next, nil
}

// listContactConversations is ListConversations of one contact: its
// conversations read, filtered and sorted.
func (s *Store) listContactConversations(ctx context.Context, f model.ConversationFilter, after *model.Cursor) ([]*model.Conversation, string, error) {
	var out []*model.Conversation
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
			probe := model.Conversation{Status: l.Status, Flow: l.Flow, Contact: l.Contact}
			if !f.Match(&probe) || (after != nil && !after.After(l.LastActivityAt, l.ID)) {
				return nil
			}
			cands = append(cands, l)
			return nil
		}
		if err := contactConversations(tx, f.Contact, consider); err != nil {
			return err
		}
		slices.SortFunc(cands, func(a, b listed) int {
			return model.CompareActivity(a.LastActivityAt, a.ID, b.LastActivityAt, b.ID)
		})
		if f.Limit > 0 && len(cands) > f.Limit {
			cands = cands[:f.Limit]
			next = "more" // replaced by the last conversation's cursor below
		}
		out = make([]*model.Conversation, 0, len(cands))
		for _, l := range cands {
			conv := &model.Conversation{}
			if err := decode(data.Get(keysIn(tx).conversation(l.ID)), conv, "conversation", l.ID); err != nil {
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
		next = model.ConversationCursor(out[len(out)-1])
	}
	return out, next, nil
}
