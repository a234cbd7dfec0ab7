package pgstore_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

// BenchmarkCommitNotes measures what the inbox's notes cost a commit: a
// bot's turn (contact, conversation, the customer's message and the
// reply), the same turn in a handed-off conversation (which sends a
// note), and a delivery update alone (whose statement returns the
// conversation's status). Compare with the commit without notes (main
// before the feed) on the same machine and run.
func BenchmarkCommitNotes(b *testing.B) {
	testURL(b)
	for _, tc := range []struct {
		name   string
		status model.Status
		update bool
	}{
		{"bot turn", model.Active, false},
		{"handed-off turn", model.Agent, false},
		{"delivery update", model.Active, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st := openAt(b, filepath.Join(b.TempDir(), "db"))
			b.Cleanup(func() { st.Close() })
			ctx := b.Context()
			turn := func(i int, seq uint64) *model.Change {
				key := model.ContactKey(fmt.Sprintf("100:%d", i))
				conv := string(key) + "#1"
				return &model.Change{At: t0, Contact: &model.Contact{Key: key},
					Conversations: []*model.Conversation{{ID: conv, Contact: key, Flow: "f", Status: tc.status, StartedAt: t0, LastActivityAt: t0}},
					Messages: []*model.Message{
						{Conversation: conv, Seq: seq, Contact: key, Direction: model.In, At: t0},
						{Conversation: conv, Seq: seq + 1, Contact: key, Direction: model.Out, State: model.Sent, Text: "m", At: t0},
					}}
			}
			const contacts = 100
			if tc.update {
				for i := range contacts {
					if err := st.Commit(ctx, turn(i, 1)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var c *model.Change
				if tc.update {
					m := turn(i%contacts, 1).Messages[1]
					m.State = model.Delivered
					c = &model.Change{At: t0, Updates: []*model.Message{m}}
				} else {
					c = turn(i%contacts, uint64(2*(i/contacts)+1))
				}
				if err := st.Commit(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
