package inbox_test

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/engine"
)

// TestAssignTakesOnlyWhatNobodyHolds pins engine.Assign's rule, on which
// assignment across processes rests: the automatic assignment and a claim
// take only a conversation nobody holds, and an agent returns to the
// queue only what they hold; anything else is ErrAssigned and changes
// nothing. A transfer by someone else still moves it.
func TestAssignTakesOnlyWhatNobodyHolds(t *testing.T) {
	steps := []struct {
		name, agent, by string
		want            error
		holder          string
	}{
		{"ana claims it", "ana@example.com", "ana@example.com", nil, "ana@example.com"},
		{"ana again: nothing to do", "ana@example.com", "ana@example.com", nil, "ana@example.com"},
		{"the automatic assignment to bob", "bob@example.com", "", engine.ErrAssigned, "ana@example.com"},
		{"bob claims it", "bob@example.com", "bob@example.com", engine.ErrAssigned, "ana@example.com"},
		{"bob returns it to the queue", "", "bob@example.com", engine.ErrAssigned, "ana@example.com"},
		{"an admin gives it to bob", "bob@example.com", "admin@example.com", nil, "bob@example.com"},
		{"bob returns it", "", "bob@example.com", nil, ""},
		{"the automatic assignment to ana", "ana@example.com", "", nil, "ana@example.com"},
	}
	h := newHarness(t)
	h.say(1, "help")
	conv := h.conv(1)
	for _, s := range steps {
		err := h.eng.Assign(h.ctx, conv.ID, conv.Handoffs, s.agent, s.by)
		if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", s.name, err, s.want)
		}
		if got := h.conv(1).Assignee; got != s.holder {
			t.Errorf("%s: held by %q, want %q", s.name, got, s.holder)
		}
	}
}
