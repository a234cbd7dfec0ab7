package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// ConversationPruner is a store with a retention (PARLEY_RETENTION): it
// deletes the done conversations last active before a time, with their
// transcripts. Both backends have one; a store without it skips
// testRetention.
type ConversationPruner interface {
	PruneConversations(ctx context.Context, before time.Time) (int, error)
}

// retentionCase is one conversation of the retention's contract.
type retentionCase struct {
	name   string
	status model.Status
	at     time.Time
	queued bool // an outbound message still in the outbox
	gone   bool // expected deleted
}

// retentionCases: only what is done (ended, expired, failed), last active
// before the bound and with nothing left to send goes.
func retentionCases() (cases []retentionCase, cutoff time.Time) {
	old, cutoff, recent := at(0), at(30*24*time.Hour), at(40*24*time.Hour)
	return []retentionCase{
		{"ended-old-1", model.Ended, old, false, true},
		{"ended-old-2", model.Ended, old.Add(time.Hour), false, true},
		{"expired-old", model.Expired, old, false, true},
		{"failed-old", model.Failed, old.Add(2 * time.Hour), false, true},
		{"ended-old-sending", model.Ended, old, true, false},
		{"ended-old-3", model.Ended, old.Add(3 * time.Hour), false, true},
		{"waiting-old", model.Waiting, old, false, false},
		{"active-old", model.Active, old, false, false},
		{"agent-old", model.Agent, old, false, false},
		{"ended-at-cutoff", model.Ended, cutoff, false, false},
		{"ended-recent", model.Ended, recent, false, false},
	}, cutoff
}

// commitRetentionCase commits case i: a contact whose current conversation
// it is, with a transcript of three messages and a timer.
func commitRetentionCase(t *testing.T, st model.Store, i int, c retentionCase) (model.ContactKey, string) {
	t.Helper()
	key := model.NewContactKey("1065", fmt.Sprint("4916", i))
	cv := &model.Conversation{ID: string(key) + "#1", Contact: key, Flow: "f", Status: c.status, StartedAt: c.at, LastActivityAt: c.at, Seq: 3}
	msgs := []*model.Message{
		{Conversation: cv.ID, Seq: 1, Direction: model.In, Contact: key, State: model.Received, At: c.at},
		{Conversation: cv.ID, Seq: 2, Direction: model.Out, State: model.Delivered, Contact: key, At: c.at},
		{Conversation: cv.ID, Seq: 3, Direction: model.Out, State: model.Read, Contact: key, At: c.at},
	}
	if c.queued {
		msgs[2].State = model.Queued
	}
	ct := &model.Contact{Key: key, PhoneNumberID: "1065", WaID: fmt.Sprint("4916", i), Conversation: cv.ID, Conversations: 1}
	commit(t, st, &model.Change{At: c.at, Contact: ct, Conversations: []*model.Conversation{cv}, Messages: msgs})
	return key, cv.ID
}

// PruneConversations deletes the done conversations last active before
// the bound, with their transcripts, from every listing; it keeps running
// ones, recent ones and ones with a message still to send, keeps contacts
// and leaves those it took the current conversation of with none; a
// second pass finds nothing; what it did survives reopening.
func testRetention(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	p, ok := st.(ConversationPruner)
	if !ok {
		t.Skip("the store has no retention (PruneConversations)")
	}
	ctx := ctxOf(t)
	cases, cutoff := retentionCases()
	for i, c := range cases {
		commitRetentionCase(t, st, i, c)
	}
	n, err := p.PruneConversations(ctx, cutoff)
	must(t, err)
	want := 0
	for _, c := range cases {
		if c.gone {
			want++
		}
	}
	if n != want {
		t.Errorf("PruneConversations = %d, want %d", n, want)
	}
	check := func(st model.Store) {
		t.Helper()
		all, _, err := st.ListConversations(ctx, model.ConversationFilter{})
		must(t, err)
		for i, c := range cases {
			key := model.NewContactKey("1065", fmt.Sprint("4916", i))
			id := string(key) + "#1"
			_, err := st.Conversation(ctx, id)
			tr, terr := st.Transcript(ctx, id)
			must(t, terr)
			listed := slices.ContainsFunc(all, func(cv *model.Conversation) bool { return cv.ID == id })
			mine, merr := st.Conversations(ctx, key)
			must(t, merr)
			ct, cerr := st.Contact(ctx, key)
			if cerr != nil {
				t.Fatalf("%s: contact: %v", c.name, cerr)
			}
			if c.gone {
				if !errors.Is(err, model.ErrNotFound) || len(tr) != 0 || listed || len(mine) != 0 || ct.Conversation != "" {
					t.Errorf("%s: after prune: %v, %d messages, listed %v, %d of its contact's, contact's conversation %q; want gone",
						c.name, err, len(tr), listed, len(mine), ct.Conversation)
				}
			} else if err != nil || len(tr) != 3 || !listed || len(mine) != 1 || ct.Conversation != id {
				t.Errorf("%s: after prune: %v, %d messages, listed %v, %d of its contact's, contact's conversation %q; want kept",
					c.name, err, len(tr), listed, len(mine), ct.Conversation)
			}
		}
		items, err := st.Outbox(ctx, 0, 0)
		must(t, err)
		if len(items) != 1 || items[0].Message.Conversation != string(model.NewContactKey("1065", "49164"))+"#1" {
			t.Errorf("outbox after prune: %d items, want the kept conversation's one", len(items))
		}
	}
	check(st)
	if n, err := p.PruneConversations(ctx, cutoff); n != 0 || err != nil {
		t.Errorf("second prune: %d, %v; want 0", n, err)
	}
	must(t, st.Close())
	check(s.reopen(t, path))
}
