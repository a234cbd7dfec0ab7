package pgstore

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
)

// TestInboxNotes: a commit's notes name the conversations that are or
// were handed off, each once, with the seqs it appended and rewrote
// there, and nothing of the others.
func TestInboxNotes(t *testing.T) {
	c := &model.Change{
		Conversations: []*model.Conversation{{ID: "a"}, {ID: "b"}},
		Messages:      []*model.Message{{Conversation: "a", Seq: 4}, {Conversation: "a", Seq: 5}, {Conversation: "b", Seq: 9}},
		Updates:       []*model.Message{{Conversation: "c", Seq: 2}, {Conversation: "c", Seq: 2}, {Conversation: "d", Seq: 1}},
	}
	var n inboxNotes
	n.status("a", "agent")
	n.status("b", "active")
	n.status("c", "agent")
	n.status("d", "ended")
	got := n.notes(c)
	want := []inbox.Note{
		{Kind: inbox.NoteConversation, ID: "a", Messages: []uint64{4, 5}},
		{Kind: inbox.NoteConversation, ID: "c", Updates: []uint64{2}},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("notes = %s, want %s", g, w)
	}
	if (inboxNotes(nil)).notes(c) != nil {
		t.Error("notes of a commit outside the inbox")
	}
}

// TestPayloadsSplit: a note too long for one NOTIFY is split, every
// payload under PostgreSQL's bound, and together they name every seq.
func TestPayloadsSplit(t *testing.T) {
	s := &Store{feedID: "0123456789ab"}
	cases := []struct {
		name     string
		messages int
		updates  int
		id       string
		parts    int // 0: more than one
	}{
		{"small", 3, 2, "100:x#1", 1},
		{"many messages", 3000, 0, "100:x#1", 0},
		{"many updates", 1, 3000, "100:x#1", 0},
		{"both", 2000, 2000, "100:x#1", 0},
		{"an id too long alone", 0, 0, strings.Repeat("x", maxNotify), -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := inbox.Note{Kind: inbox.NoteConversation, ID: tc.id}
			for i := range tc.messages {
				n.Messages = append(n.Messages, uint64(1_000_000+i))
			}
			for i := range tc.updates {
				n.Updates = append(n.Updates, uint64(2_000_000+i))
			}
			ps := s.payloads(n)
			switch {
			case tc.parts == -1 && len(ps) != 0:
				t.Fatalf("%d payloads, want none", len(ps))
			case tc.parts > 0 && len(ps) != tc.parts:
				t.Fatalf("%d payloads, want %d", len(ps), tc.parts)
			case tc.parts == 0 && len(ps) < 2:
				t.Fatalf("%d payloads, want several", len(ps))
			}
			var ms, us []uint64
			for _, p := range ps {
				if len(p) > maxNotify {
					t.Errorf("a payload of %d bytes", len(p))
				}
				var w wireNote
				if err := json.Unmarshal([]byte(p), &w); err != nil || w.Origin != s.feedID || w.Note == nil || w.Note.ID != tc.id {
					t.Fatalf("payload %q: %v", p, err)
				}
				ms, us = append(ms, w.Note.Messages...), append(us, w.Note.Updates...)
			}
			if tc.parts != -1 && (!slices.Equal(ms, n.Messages) || !slices.Equal(us, n.Updates)) {
				t.Errorf("the payloads name %d messages and %d updates, want %d and %d", len(ms), len(us), len(n.Messages), len(n.Updates))
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
