package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

func testNotFound(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	commit(t, st, event(1, "wamid.1"))
	must(t, st.SaveFlow(ctx, &model.FlowRecord{ID: "welcome", Draft: []byte(`{}`)}))
	_, err := st.Publish(ctx, "welcome", []byte(`{"v":1}`), "ana", at(0))
	must(t, err)

	other := contact(2)
	tests := []struct {
		name string
		get  func() error
	}{
		{"contact", func() error { _, err := st.Contact(ctx, other.Key); return err }},
		{"contact with empty key", func() error { _, err := st.Contact(ctx, ""); return err }},
		{"conversation", func() error { _, err := st.Conversation(ctx, conversationID(other.Key, 1)); return err }},
		{"conversation with empty id", func() error { _, err := st.Conversation(ctx, ""); return err }},
		{"message of unknown conversation", func() error { _, err := st.Message(ctx, conversationID(other.Key, 1), 1); return err }},
		{"message after the last", func() error {
			_, err := st.Message(ctx, conversationID(contact(1).Key, 1), 3)
			return err
		}},
		{"message 0", func() error { _, err := st.Message(ctx, conversationID(contact(1).Key, 1), 0); return err }},
		{"message with empty conversation", func() error { _, err := st.Message(ctx, "", 1); return err }},
		{"flow", func() error { _, err := st.Flow(ctx, "goodbye"); return err }},
		{"version of unknown flow", func() error { _, err := st.FlowVersion(ctx, "goodbye", 1); return err }},
		{"version 0", func() error { _, err := st.FlowVersion(ctx, "welcome", 0); return err }},
		{"version after the last", func() error { _, err := st.FlowVersion(ctx, "welcome", 2); return err }},
		{"update of unknown message", func() error {
			conv := conversation(other.Key, 1, at(0))
			return st.Commit(ctx, &model.Change{At: at(0), Updates: []*model.Message{outbound(conv, 1, "x", model.Sent)}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.get(); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})
	}

	empty := []struct {
		name string
		n    func() (int, error)
	}{
		{"transcript of unknown conversation", func() (int, error) {
			m, err := st.Transcript(ctx, conversationID(other.Key, 1))
			return len(m), err
		}},
		{"conversations of unknown contact", func() (int, error) {
			c, err := st.Conversations(ctx, other.Key)
			return len(c), err
		}},
		{"versions of unknown flow", func() (int, error) {
			v, err := st.FlowVersions(ctx, "goodbye")
			return len(v), err
		}},
	}
	for _, tc := range empty {
		t.Run(tc.name, func(t *testing.T) {
			if n, err := tc.n(); n != 0 || err != nil {
				t.Errorf("got %d, %v; want 0, nil", n, err)
			}
		})
	}
	if seen, err := st.Seen(ctx, contact(2).Key, "wamid.2"); seen || err != nil {
		t.Errorf("Seen(unknown) = %v, %v; want false, nil", seen, err)
	}
}

func testContactRoundTrip(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	c := contact(7)
	c.UserID = "DE.1234567890"
	c.WindowClosedAt = at(time.Minute)
	commit(t, st, &model.Change{At: at(0), Contact: c})
	got, err := st.Contact(ctx, c.Key)
	must(t, err)
	sameJSON(t, "contact", got, c)

	// A later commit replaces the contact as a whole.
	c2 := *c
	c2.Name, c2.Tags, c2.Fields, c2.OptedOut = "Renamed", nil, nil, true
	commit(t, st, &model.Change{At: at(time.Second), Contact: &c2})
	got, err = st.Contact(ctx, c.Key)
	must(t, err)
	sameJSON(t, "replaced contact", got, &c2)

	// What a read returns belongs to the caller.
	got.Name = "changed by the caller"
	again, err := st.Contact(ctx, c.Key)
	must(t, err)
	if again.Name != "Renamed" {
		t.Errorf("a caller's change of a read contact reached the store: %q", again.Name)
	}
}

func testConversationRoundTrip(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	c := contact(1)
	a := conversation(c.Key, 1, at(0))
	a.Queue, a.Priority, a.Note = "billing", 2, "angry"
	b := conversation(c.Key, 2, at(time.Hour))
	b.Status, b.Reason, b.EndedAt = model.Failed, "step budget exhausted", at(2*time.Hour)
	b.Steps = []model.Step{
		{Node: "ask_order", Exit: "next", At: at(time.Hour)},
		{Node: "lookup", Stop: model.StopFailed, Reason: "step budget exhausted", At: at(2 * time.Hour)},
	}
	commit(t, st, &model.Change{At: at(0), Contact: c, Conversations: []*model.Conversation{a, b}})
	for _, want := range []*model.Conversation{a, b} {
		got, err := st.Conversation(ctx, want.ID)
		must(t, err)
		sameJSON(t, "conversation "+want.ID, got, want)
	}

	a2 := *a
	a2.Node, a2.Status, a2.Vars, a2.Seq = "thanks", model.Active, map[string]any{"order": "A-1043"}, 9
	commit(t, st, &model.Change{At: at(time.Second), Conversations: []*model.Conversation{&a2}})
	got, err := st.Conversation(ctx, a.ID)
	must(t, err)
	sameJSON(t, "replaced conversation", got, &a2)
}

func testConversationsOfContact(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	c := contact(1)
	// "1065:491500000001" is a prefix of "1065:4915000000010": the second
	// contact's conversations must not leak into the first one's.
	neighbour := &model.Contact{Key: c.Key + "0", PhoneNumberID: "1065"}
	// Started in the order 1, 2, 10 but committed in another order, and
	// with ids that sort differently as strings.
	var want []*model.Conversation
	for _, n := range []int{1, 2, 10} {
		want = append(want, conversation(c.Key, n, at(time.Duration(n)*time.Hour)))
	}
	commit(t, st, &model.Change{At: at(0), Contact: c, Conversations: []*model.Conversation{want[2]}})
	commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{want[0], want[1]}})
	commit(t, st, &model.Change{At: at(0), Contact: neighbour, Conversations: []*model.Conversation{conversation(neighbour.Key, 1, at(0))}})
	// Updating a conversation does not list it twice.
	want[1].Node = "elsewhere"
	commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{want[1]}})

	got, err := st.Conversations(ctx, c.Key)
	must(t, err)
	sameJSON(t, "conversations of contact", got, want)
	other, err := st.Conversations(ctx, neighbour.Key)
	must(t, err)
	if len(other) != 1 || other[0].Contact != neighbour.Key {
		t.Errorf("neighbour's conversations: got %d, want its 1", len(other))
	}
}

func testTranscript(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	c := contact(1)
	conv := conversation(c.Key, 1, at(0))
	// Conversation "…#1" is a prefix of "…#10": transcripts must not mix.
	conv10 := conversation(c.Key, 10, at(0))
	var want []*model.Message
	for seq := uint64(1); seq <= 300; seq++ {
		var m *model.Message
		switch seq % 3 {
		case 0:
			m = inbound(conv, seq, fmt.Sprint("reply ", seq))
		case 1:
			m = outbound(conv, seq, fmt.Sprint("question ", seq), model.Queued)
		default:
			m = &model.Message{Conversation: conv.ID, Seq: seq, Direction: model.Note, At: at(time.Duration(seq)), Sender: "system", Contact: c.Key, Text: "note"}
		}
		want = append(want, m)
	}
	// Commit in chunks of 7, each with a message of the other conversation.
	for i := 0; i < len(want); i += 7 {
		chunk := want[i:min(i+7, len(want))]
		msgs := append([]*model.Message{inbound(conv10, uint64(i+1), "other")}, chunk...)
		commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{conv, conv10}, Messages: msgs})
	}
	got, err := st.Transcript(ctx, conv.ID)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("transcript has %d messages, want %d", len(got), len(want))
	}
	sameJSON(t, "transcript", got, want)
	other, err := st.Transcript(ctx, conv10.ID)
	must(t, err)
	if len(other) != (len(want)+6)/7 {
		t.Errorf("other transcript has %d messages, want %d", len(other), (len(want)+6)/7)
	}
}
