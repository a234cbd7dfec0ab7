package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// The outbox holds outbound messages in state Queued, in the order they were
// committed, across conversations and commits.
func testOutbox(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	var want []*model.Message
	for n := range 5 {
		c := contact(n)
		conv := conversation(c.Key, 1, at(0))
		msgs := []*model.Message{
			inbound(conv, 1, "hi"),
			outbound(conv, 2, fmt.Sprint("first answer to ", n), model.Queued),
			{Conversation: conv.ID, Seq: 3, Direction: model.Note, Sender: "system", Text: "noted", Contact: c.Key},
			outbound(conv, 4, "already sent", model.Sent), // not queued: not in the outbox
			outbound(conv, 5, fmt.Sprint("second answer to ", n), model.Queued),
		}
		commit(t, st, &model.Change{InboundID: fmt.Sprint("wamid.", n), At: at(0), Contact: c, Conversations: []*model.Conversation{conv}, Messages: msgs})
		want = append(want, msgs[1], msgs[4])
	}
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != len(want) {
		t.Fatalf("outbox has %d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		if i > 0 && it.Seq <= items[i-1].Seq {
			t.Errorf("item %d: seq %d after %d", i, it.Seq, items[i-1].Seq)
		}
		if it.Seq == 0 {
			t.Errorf("item %d: seq 0", i)
		}
		sameJSON(t, fmt.Sprint("item ", i), it.Message, want[i])
	}

	tests := []struct {
		name      string
		after     uint64
		limit     int
		wantFirst int // index into items, -1 for none
		wantLen   int
	}{
		{"from the start", 0, 3, 0, 3},
		{"after the first", items[0].Seq, 2, 1, 2},
		{"after the third, no limit", items[2].Seq, 0, 3, len(items) - 3},
		{"between two", items[4].Seq - 1, 1, 4, 1}, // seqs may have gaps, after need not be one
		{"after the last", items[len(items)-1].Seq, 10, -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.Outbox(ctx, tc.after, tc.limit)
			must(t, err)
			if len(got) != tc.wantLen {
				t.Fatalf("%d items, want %d", len(got), tc.wantLen)
			}
			if tc.wantFirst >= 0 && got[0].Seq != items[tc.wantFirst].Seq {
				t.Errorf("first item has seq %d, want %d", got[0].Seq, items[tc.wantFirst].Seq)
			}
		})
	}

	// Done items leave; the others keep their place; new items come after
	// every item ever queued, done ones included.
	for _, i := range []int{0, 3, len(items) - 1} {
		m := *items[i].Message
		m.State, m.WAMID = model.Accepted, fmt.Sprint("wamid.out.", i)
		commit(t, st, &model.Change{At: at(0), Updates: []*model.Message{&m}, Dequeue: []uint64{items[i].Seq}})
	}
	left, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	var wantLeft []uint64
	for i, it := range items {
		if i != 0 && i != 3 && i != len(items)-1 {
			wantLeft = append(wantLeft, it.Seq)
		}
	}
	var gotLeft []uint64
	for _, it := range left {
		gotLeft = append(gotLeft, it.Seq)
	}
	if fmt.Sprint(gotLeft) != fmt.Sprint(wantLeft) {
		t.Errorf("outbox after done: %v, want %v", gotLeft, wantLeft)
	}
	conv := conversation(contact(9).Key, 1, at(0))
	commit(t, st, &model.Change{At: at(time.Minute), Conversations: []*model.Conversation{conv}, Messages: []*model.Message{outbound(conv, 1, "late", model.Queued)}})
	all, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if last := all[len(all)-1]; last.Message.Conversation != conv.ID || last.Seq <= items[len(items)-1].Seq {
		t.Errorf("new item: seq %d of %s, want after %d", last.Seq, last.Message.Conversation, items[len(items)-1].Seq)
	}
}

// A Change updates stored messages and dequeues outbox items with the rest
// of its writes, all or nothing: the dispatcher's and the status
// webhooks' unit of work.
func testCommitUpdatesAndDequeue(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	c := event(1, "wamid.1")
	commit(t, st, c)
	conv := *c.Conversations[0]
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != 1 {
		t.Fatalf("outbox has %d items, want 1", len(items))
	}
	it := items[0]
	m, err := st.Message(ctx, conv.ID, it.Message.Seq)
	must(t, err)
	sameJSON(t, "Message", m, c.Messages[1])

	// A retry puts the message back to queued: Updates never enqueue, and
	// the item that was not dequeued keeps its place.
	m.State, m.Error = model.Queued, "throttled"
	commit(t, st, &model.Change{At: at(time.Second), Updates: []*model.Message{m}})
	items, err = st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != 1 || items[0].Seq != it.Seq || items[0].Message.Error != "throttled" {
		t.Fatalf("outbox after an update: %+v", items)
	}

	// Accepted: the message, the outbox and the conversation in one change,
	// with a new message appended and updated in the same change.
	m.State, m.Error, m.WAMID = model.Accepted, "", "wamid.HBgLNDkxNTE"
	conv.Node, conv.Seq = "thanks", 3
	note := &model.Message{Conversation: conv.ID, Seq: 3, Direction: model.Note, Sender: "system", Contact: conv.Contact, Text: "draft"}
	noteFinal := *note
	noteFinal.Text = "final"
	commit(t, st, &model.Change{
		At:            at(2 * time.Second),
		Conversations: []*model.Conversation{&conv},
		Messages:      []*model.Message{note},
		Updates:       []*model.Message{m, &noteFinal},
		Dequeue:       []uint64{it.Seq},
	})
	if items, _ := st.Outbox(ctx, 0, 0); len(items) != 0 {
		t.Errorf("outbox after dequeue has %d items", len(items))
	}
	tr, err := st.Transcript(ctx, conv.ID)
	must(t, err)
	sameJSON(t, "transcript", tr, []*model.Message{c.Messages[0], m, &noteFinal})
	got, err := st.Conversation(ctx, conv.ID)
	must(t, err)
	sameJSON(t, "conversation", got, &conv)

	// Dequeueing an item already gone is no error.
	commit(t, st, &model.Change{At: at(3 * time.Second), Dequeue: []uint64{it.Seq, it.Seq + 1000}})

	// An update of a message never stored refuses the change as a whole.
	ghost := outbound(&conv, 99, "ghost", model.Sent)
	conv2 := conv
	conv2.Node = "must not be stored"
	bad := &model.Change{InboundID: "wamid.2", InboundKey: conv.Contact, At: at(4 * time.Second), Conversations: []*model.Conversation{&conv2}, Updates: []*model.Message{ghost}}
	if err := st.Commit(ctx, bad); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("update of an unknown message: got %v, want ErrNotFound", err)
	}
	got, err = st.Conversation(ctx, conv.ID)
	must(t, err)
	sameJSON(t, "conversation after a refused change", got, &conv)
	if seen, _ := st.Seen(ctx, conv.Contact, "wamid.2"); seen {
		t.Error("the refused change's inbound id was committed")
	}
	if _, err := st.Message(ctx, conv.ID, 99); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("Message of the refused update: got %v, want ErrNotFound", err)
	}
}

// A claim marks an outbox entry as being sent without touching its
// transcript message: Outbox shows the message in state Sending, a second
// claim is refused with ErrClaimed and a claim of an entry gone with
// ErrNotQueued, each refusing its whole change; Unclaim takes the mark off,
// and Dequeue removes a claimed entry like any other.
func testOutboxClaim(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	for n := range 3 {
		commit(t, st, event(n, fmt.Sprint("wamid.", n)))
	}
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if len(items) != 3 {
		t.Fatalf("outbox has %d items, want 3", len(items))
	}
	states := func() []model.MessageState {
		t.Helper()
		got, err := st.Outbox(ctx, 0, 0)
		must(t, err)
		var out []model.MessageState
		for _, it := range got {
			out = append(out, it.Message.State)
		}
		return out
	}

	commit(t, st, &model.Change{At: at(time.Second), Claim: []uint64{items[0].Seq, items[2].Seq}})
	if got, want := fmt.Sprint(states()), fmt.Sprint([]model.MessageState{model.Sending, model.Queued, model.Sending}); got != want {
		t.Errorf("after claims: %s, want %s", got, want)
	}
	m, err := st.Message(ctx, items[0].Message.Conversation, items[0].Message.Seq)
	must(t, err)
	if m.State != model.Queued {
		t.Errorf("transcript message of a claimed entry is %s, want it left queued", m.State)
	}

	// A second claim refuses its whole change: the other entry it claims
	// stays unclaimed, and its timer is not set.
	extra := timer(event(1, "").Conversations[0], at(2*time.Hour), model.TimerExpire)
	err = st.Commit(ctx, &model.Change{At: at(2 * time.Second), Claim: []uint64{items[1].Seq, items[0].Seq}, SetTimers: []model.Timer{extra}})
	if !errors.Is(err, model.ErrClaimed) {
		t.Fatalf("second claim: %v, want ErrClaimed", err)
	}
	if got, want := fmt.Sprint(states()), fmt.Sprint([]model.MessageState{model.Sending, model.Queued, model.Sending}); got != want {
		t.Errorf("after a refused claim: %s, want %s", got, want)
	}
	due, err := st.DueTimers(ctx, at(3*time.Hour), 0)
	must(t, err)
	for _, tm := range due {
		if tm.Kind == model.TimerExpire {
			t.Errorf("a refused change set its timer %+v", tm)
		}
	}

	// Unclaim, dequeue of a claimed entry, and a claim of an entry gone.
	commit(t, st, &model.Change{At: at(3 * time.Second), Unclaim: []uint64{items[0].Seq, items[1].Seq}, Dequeue: []uint64{items[2].Seq}})
	if got, want := fmt.Sprint(states()), fmt.Sprint([]model.MessageState{model.Queued, model.Queued}); got != want {
		t.Errorf("after unclaim and dequeue: %s, want %s", got, want)
	}
	if err := st.Commit(ctx, &model.Change{At: at(4 * time.Second), Claim: []uint64{items[2].Seq}}); !errors.Is(err, model.ErrNotQueued) {
		t.Errorf("claim of a dequeued entry: %v, want ErrNotQueued", err)
	}
	// Claim and dequeue in one change: the entry is gone.
	commit(t, st, &model.Change{At: at(5 * time.Second), Claim: []uint64{items[1].Seq}, Dequeue: []uint64{items[1].Seq}})
	if got, want := fmt.Sprint(states()), fmt.Sprint([]model.MessageState{model.Queued}); got != want {
		t.Errorf("after claim and dequeue: %s, want %s", got, want)
	}
}
