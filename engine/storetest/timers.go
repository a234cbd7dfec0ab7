package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

func testTimers(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	if _, ok, err := st.NextTimer(ctx); ok || err != nil {
		t.Fatalf("NextTimer of an empty store: ok %v, %v", ok, err)
	}
	c := contact(1)
	a := conversation(c.Key, 1, at(0))
	b := conversation(c.Key, 2, at(0))
	// Set out of order, over several commits; one before 1970 and two at
	// the same instant.
	var (
		early   = timer(a, time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), model.TimerExpire)
		t1      = timer(a, at(1*time.Minute), model.TimerTimeout)
		t2a     = timer(a, at(2*time.Minute), model.TimerNoAgent)
		t2b     = timer(b, at(2*time.Minute), model.TimerTimeout)
		t3      = timer(b, at(3*time.Minute+time.Nanosecond), model.TimerExpire)
		farAway = timer(b, at(365*24*time.Hour), model.TimerExpire)
	)
	commit(t, st, &model.Change{At: at(0), SetTimers: []model.Timer{t3, t1}})
	commit(t, st, &model.Change{At: at(0), SetTimers: []model.Timer{farAway, t2b, early, t2a}})

	next, ok, err := st.NextTimer(ctx)
	must(t, err)
	if !ok || !next.Equal(early.Due) {
		t.Errorf("NextTimer = %v, %v; want %v", next, ok, early.Due)
	}

	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []model.Timer
	}{
		{"none due before the first", early.Due.Add(-time.Nanosecond), 0, nil},
		{"due at exactly now", t1.Due, 0, []model.Timer{early, t1}},
		{"same instant, both", t2a.Due, 0, []model.Timer{early, t1, t2a, t2b}},
		{"limit", t3.Due, 2, []model.Timer{early, t1}},
		{"one nanosecond before", t3.Due.Add(-time.Nanosecond), 0, []model.Timer{early, t1, t2a, t2b}},
		{"limit 0 means no limit", farAway.Due, 0, []model.Timer{early, t1, t2a, t2b, t3, farAway}},
		{"zero time", time.Time{}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.DueTimers(ctx, tc.now, tc.limit)
			must(t, err)
			if len(got) != len(tc.want) {
				t.Fatalf("%d timers, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !got[i].Same(tc.want[i]) || got[i].Contact != tc.want[i].Contact {
					t.Errorf("timer %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}

	// Firing does not delete: a later commit does, by the timer's identity.
	if due, _ := st.DueTimers(ctx, t1.Due, 0); len(due) != 2 {
		t.Fatalf("timers left by reading: %d, want 2", len(due))
	}
	commit(t, st, &model.Change{At: at(time.Minute), DeleteTimers: []model.Timer{early, t1, t2b}})
	got, err := st.DueTimers(ctx, t3.Due, 0)
	must(t, err)
	sameJSON(t, "timers after deleting", got, []model.Timer{t2a, t3})
	next, ok, err = st.NextTimer(ctx)
	must(t, err)
	if !ok || !next.Equal(t2a.Due) {
		t.Errorf("NextTimer after deleting = %v, %v; want %v", next, ok, t2a.Due)
	}
	// Deleting a timer that is not there is no error.
	commit(t, st, &model.Change{At: at(time.Minute), DeleteTimers: []model.Timer{t1}})
	// A timer differs from another by due, kind, conversation or node.
	other := t2a
	other.Node = "another_node"
	commit(t, st, &model.Change{At: at(time.Minute), DeleteTimers: []model.Timer{other}})
	if due, _ := st.DueTimers(ctx, t2a.Due, 0); len(due) != 1 {
		t.Errorf("deleting a timer at another node deleted %v", t2a)
	}
}

// Pinned: in one change, DeleteTimers apply before SetTimers, so a timer
// re-armed unchanged stays set.
func testTimersDeletedBeforeSet(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	conv := conversation(contact(1).Key, 1, at(0))
	tm := timer(conv, at(time.Hour), model.TimerTimeout)
	commit(t, st, &model.Change{At: at(0), SetTimers: []model.Timer{tm}})
	commit(t, st, &model.Change{At: at(0), DeleteTimers: []model.Timer{tm}, SetTimers: []model.Timer{tm}})
	due, err := st.DueTimers(ctx, tm.Due, 0)
	must(t, err)
	if len(due) != 1 {
		t.Errorf("%d timers, want the re-armed one", len(due))
	}
}
