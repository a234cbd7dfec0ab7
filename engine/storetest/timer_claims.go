package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// testTimerClaims pins model.TimerClaimer, for a store that implements
// it (one that does not fires every due timer in its only process): a
// claim returns due timers in DueTimers' order, up to its limit; its owner
// claims them again; a Commit deletes a claimed timer as any other; and,
// on a SharedStore, a second handle on the same database (another
// process) does not get what the first holds until the lease runs out.
func testTimerClaims(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	cl, ok := st.(model.TimerClaimer)
	if !ok {
		t.Skip("not an model.TimerClaimer: DueTimers is what its one process fires")
	}
	ctx := ctxOf(t)
	c := contact(1)
	a := conversation(c.Key, 1, at(0))
	b := conversation(c.Key, 2, at(0))
	var (
		t1  = timer(a, at(1*time.Minute), model.TimerTimeout)
		t2a = timer(a, at(2*time.Minute), model.TimerNoAgent)
		t2b = timer(b, at(2*time.Minute), model.TimerTimeout)
		t3  = timer(b, at(3*time.Minute), model.TimerExpire)
	)
	commit(t, st, &model.Change{At: at(0), SetTimers: []model.Timer{t3, t2b, t1, t2a}})
	lease := time.Minute
	claim := func(cl model.TimerClaimer, now time.Time, limit int) []model.Timer {
		t.Helper()
		got, err := cl.ClaimTimers(ctx, now, limit, lease)
		must(t, err)
		return got
	}
	sameJSON(t, "nothing due yet", claim(cl, t1.Due.Add(-time.Nanosecond), 0), []model.Timer(nil))
	sameJSON(t, "limit 2, earliest first", claim(cl, t2a.Due, 2), []model.Timer{t1, t2a})
	sameJSON(t, "claimed again by their owner, limit 0: no limit", claim(cl, t3.Due, 0), []model.Timer{t1, t2a, t2b, t3})
	commit(t, st, &model.Change{At: at(time.Minute), DeleteTimers: []model.Timer{t1, t2b}})
	sameJSON(t, "after deleting two", claim(cl, t3.Due, 0), []model.Timer{t2a, t3})
	// Claimed timers are still due timers, to DueTimers.
	due, err := st.DueTimers(ctx, t3.Due, 0)
	must(t, err)
	sameJSON(t, "DueTimers of claimed timers", due, []model.Timer{t2a, t3})

	if _, shared := st.(model.SharedStore); !shared {
		return
	}
	other, ok := s.reopen(t, path).(model.TimerClaimer) // another process
	if !ok {
		t.Fatal("a second handle is not a TimerClaimer")
	}
	// The first's claims, made at t3.Due, hold to t3.Due + lease.
	sameJSON(t, "another process, while the lease runs", claim(other, t3.Due.Add(lease), 0), []model.Timer(nil))
	sameJSON(t, "another process, once it ran out", claim(other, t3.Due.Add(lease+time.Nanosecond), 1), []model.Timer{t2a})
	sameJSON(t, "the first, of what is left", claim(cl, t3.Due.Add(lease+time.Nanosecond), 0), []model.Timer{t3})

	must(t, st.Close())
	if _, err := cl.ClaimTimers(ctx, t3.Due, 0, lease); !errors.Is(err, model.ErrClosed) {
		t.Errorf("ClaimTimers after Close: %v, want ErrClosed", err)
	}
}
