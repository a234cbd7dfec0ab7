package inbox

import "testing"

// TestUnreadBySeq: the unread count is the customer's messages after the
// latest of the handoff, an agent's message and a read, whatever order
// the messages are learnt in and however often (another process's
// commits come through the feed later than this one's, and again after
// a reload).
func TestUnreadBySeq(t *testing.T) {
	type step struct {
		in    bool // the customer's message; else an agent's (or a read, with read)
		read  bool
		seq   uint64
		after int // the unread count after it
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{in: true, seq: 3, after: 1}, {in: true, seq: 4, after: 2}, {seq: 5, after: 0}, {in: true, seq: 6, after: 1}}},
		{"an agent's reply learnt before an earlier message", []step{{seq: 5, after: 0}, {in: true, seq: 4, after: 0}, {in: true, seq: 6, after: 1}}},
		{"an agent's reply learnt after a later message", []step{{in: true, seq: 6, after: 1}, {seq: 5, after: 1}, {in: true, seq: 4, after: 1}}},
		{"the same message twice", []step{{in: true, seq: 3, after: 1}, {in: true, seq: 3, after: 1}}},
		{"before the handoff", []step{{in: true, seq: 2, after: 0}}},
		{"a read", []step{{in: true, seq: 3, after: 1}, {in: true, seq: 4, after: 2}, {read: true, seq: 3, after: 1}, {read: true, seq: 2, after: 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &entry{readSeq: 2} // handed off after seq 2
			for i, s := range tc.steps {
				if s.in {
					e.customerSaid(s.seq)
				} else {
					e.readUpTo(s.seq)
				}
				if e.unread != s.after {
					t.Errorf("step %d (%+v): unread %d, want %d", i, s, e.unread, s.after)
				}
			}
		})
	}
}
