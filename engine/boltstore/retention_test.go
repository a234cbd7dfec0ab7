package boltstore

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// PruneConversations deletes the done conversations last active before the
// bound, with their transcripts and index entries, in chunks; it keeps
// running ones, recent ones and ones with a message still to send, and a
// contact it leaves without a current conversation.
func TestPruneConversations(t *testing.T) {
	defer func(n int) { pruneConversationChunk = n }(pruneConversationChunk)
	pruneConversationChunk = 2
	s, _ := openTest(t)
	ctx := t.Context()
	old, cutoff, recent := t0, t0.Add(30*24*time.Hour), t0.Add(40*24*time.Hour)
	type conv struct {
		name   string
		status model.Status
		at     time.Time
		queued bool // an outbound message still queued
		gone   bool // expected pruned
	}
	convs := []conv{
		{"ended-old-1", model.Ended, old, false, true},
		{"ended-old-2", model.Ended, old.Add(time.Hour), false, true},
		{"expired-old", model.Expired, old, false, true},
		{"failed-old", model.Failed, old.Add(2 * time.Hour), false, true},
		{"ended-old-sending", model.Ended, old, true, false},
		{"ended-old-3", model.Ended, old.Add(3 * time.Hour), false, true},
		{"waiting-old", model.Waiting, old, false, false},
		{"agent-old", model.Agent, old, false, false},
		{"ended-recent", model.Ended, recent, false, false},
	}
	for i, c := range convs {
		key := model.NewContactKey("1065", fmt.Sprint("4916", i))
		cv := &model.Conversation{ID: string(key) + "#1", Contact: key, Flow: "f", Status: c.status, StartedAt: c.at, LastActivityAt: c.at, Seq: 3}
		msgs := []*model.Message{
			{Conversation: cv.ID, Seq: 1, Direction: model.In, Contact: key},
			{Conversation: cv.ID, Seq: 2, Direction: model.Out, State: model.Delivered, Contact: key},
			{Conversation: cv.ID, Seq: 3, Direction: model.Out, State: model.Read, Contact: key},
		}
		if c.queued {
			msgs[2].State = model.Queued
		}
		ct := &model.Contact{Key: key, PhoneNumberID: "1065", WaID: fmt.Sprint("4916", i), Conversation: cv.ID}
		if err := s.Commit(ctx, &model.Change{At: c.at, Contact: ct, Conversations: []*model.Conversation{cv}, Messages: msgs}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneConversations(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range convs {
		if c.gone {
			want++
		}
	}
	if n != want {
		t.Errorf("PruneConversations = %d, want %d", n, want)
	}
	all, _, err := s.ListConversations(ctx, model.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range convs {
		key := model.NewContactKey("1065", fmt.Sprint("4916", i))
		id := string(key) + "#1"
		_, err := s.Conversation(ctx, id)
		tr, _ := s.Transcript(ctx, id)
		listed := slices.ContainsFunc(all, func(cv *model.Conversation) bool { return cv.ID == id })
		ct, cerr := s.Contact(ctx, key)
		if cerr != nil {
			t.Fatalf("%s: contact: %v", c.name, cerr)
		}
		if c.gone {
			if !errors.Is(err, model.ErrNotFound) || len(tr) != 0 || listed || ct.Conversation != "" {
				t.Errorf("%s: after prune: %v, %d messages, listed %v, contact's conversation %q; want gone", c.name, err, len(tr), listed, ct.Conversation)
			}
		} else if err != nil || len(tr) != 3 || !listed || ct.Conversation != id {
			t.Errorf("%s: after prune: %v, %d messages, listed %v, contact's conversation %q; want kept", c.name, err, len(tr), listed, ct.Conversation)
		}
	}
	if n, err := s.PruneConversations(ctx, cutoff); n != 0 || err != nil {
		t.Errorf("second prune: %d, %v; want 0", n, err)
	}
}
