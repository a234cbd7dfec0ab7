package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// setTimers commits n timers due one second apart from t0, each of a
// conversation of its own, and returns them.
func setTimers(t *testing.T, st model.Store, n int) []model.Timer {
	t.Helper()
	var ts []model.Timer
	for i := range n {
		conv := fmt.Sprintf("c%04d", i)
		ts = append(ts, model.Timer{Due: t0.Add(time.Duration(i) * time.Second), Kind: model.TimerTimeout,
			Contact: model.ContactKey("100:" + conv), Conversation: conv, Node: "ask"})
	}
	if err := st.Commit(t.Context(), &model.Change{At: t0, SetTimers: ts}); err != nil {
		t.Fatal(err)
	}
	return ts
}

func timerNames(ts []model.Timer) []string {
	var out []string
	for _, tm := range ts {
		out = append(out, tm.Conversation)
	}
	return out
}

// handles opens n stores on one fresh database, as n processes.
func handles(t *testing.T, n int) []*pgstore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	var sts []*pgstore.Store
	for range n {
		st := openAt(t, path)
		t.Cleanup(func() { st.Close() })
		sts = append(sts, st)
	}
	return sts
}

// TestClaimTimersDisjoint: four processes claiming and firing the due
// timers of one database at once, in small batches, fire every one, each
// in one process only; the timers not due yet are left.
func TestClaimTimersDisjoint(t *testing.T) {
	testURL(t)
	sts := handles(t, 4)
	ts := setTimers(t, sts[0], 300)
	now := ts[249].Due // 250 due, 50 not yet
	var mu sync.Mutex
	firedBy := map[string][]int{}
	var wg sync.WaitGroup
	for p, st := range sts {
		wg.Add(1)
		go func() { // a process's timer loop
			defer wg.Done()
			for {
				due, err := st.ClaimTimers(t.Context(), now, 8, engine.TimerLease)
				if err != nil {
					t.Error(err)
					return
				}
				if len(due) == 0 {
					return
				}
				mu.Lock()
				for _, tm := range due {
					firedBy[tm.Conversation] = append(firedBy[tm.Conversation], p)
				}
				mu.Unlock()
				// Fired: the turn's commit deletes them.
				if err := st.Commit(t.Context(), &model.Change{At: now, DeleteTimers: due}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(firedBy) != 250 {
		t.Errorf("%d timers fired, want the 250 due", len(firedBy))
	}
	perProcess := make([]int, len(sts))
	for conv, by := range firedBy {
		if len(by) != 1 {
			t.Errorf("timer of %s fired %d times, by processes %v", conv, len(by), by)
		}
		perProcess[by[0]]++
	}
	t.Logf("fired per process: %v", perProcess)
	left, err := sts[1].DueTimers(t.Context(), ts[len(ts)-1].Due, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 50 || !left[0].Same(ts[250]) {
		t.Errorf("left %d timers, first %v; want the 50 not due, from %v", len(left), timerNames(left[:min(1, len(left))]), ts[250].Conversation)
	}
}

// TestTimerClaimLease: a claim holds against another process until its
// lease runs out, and then the other takes it; its owner claims it again
// meanwhile (extending it); a commit that sets the timer again keeps the
// claim, one that deletes it ends it.
func TestTimerClaimLease(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ts := setTimers(t, a, 3)
	lease := 30 * time.Second
	claim := func(st *pgstore.Store, at time.Duration, limit int) []string {
		t.Helper()
		got, err := st.ClaimTimers(t.Context(), t0.Add(at), limit, lease)
		if err != nil {
			t.Fatal(err)
		}
		return timerNames(got)
	}
	steps := []struct {
		name  string
		st    *pgstore.Store
		at    time.Duration
		limit int
		want  string
	}{
		{"A claims the one due, of limit 2", a, 0, 2, "[c0000]"},
		{"B finds it held", b, time.Second / 2, 0, "[]"},
		{"B takes the next due", b, 2 * time.Second, 0, "[c0001 c0002]"},
		{"A claims its own again, B's are held", a, 10 * time.Second, 0, "[c0000]"},
		{"B, at the end of A's renewed lease", b, 40 * time.Second, 0, "[c0001 c0002]"},
		{"B, once A's lease ran out", b, 40*time.Second + time.Nanosecond, 0, "[c0000 c0001 c0002]"},
		{"A finds them all B's", a, 41 * time.Second, 0, "[]"},
	}
	for _, s := range steps {
		if got := fmt.Sprint(claim(s.st, s.at, s.limit)); got != s.want {
			t.Fatalf("%s: claimed %s, want %s", s.name, got, s.want)
		}
	}
	// Set again by a commit (the same timer): still B's.
	if err := a.Commit(t.Context(), &model.Change{At: t0, SetTimers: ts[:1]}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(claim(a, 42*time.Second, 0)); got != "[]" {
		t.Fatalf("A claimed %s of B's after the timer was set again", got)
	}
	// Fired by B: gone for everyone.
	if err := b.Commit(t.Context(), &model.Change{At: t0, DeleteTimers: ts[:2]}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(claim(a, time.Hour, 0)); got != "[c0002]" {
		t.Fatalf("after B fired two and its lease ran out, A claimed %s; want [c0002]", got)
	}
}

// TestTimersFireOnceAcrossEngines: two engines, as two processes on one
// database, fire the due wait timeouts of 150 conversations at once:
// together they fire each once (without claims both would read all 150
// and each turn would lock and look at its conversation twice), and every
// conversation says its goodbye once.
func TestTimersFireOnceAcrossEngines(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	clock := engine.NewManualClock(t0)
	var engs []*engine.Engine
	for i, st := range []model.Store{a, b} {
		e, err := engine.New(ctx, engine.Options{Store: st, Clock: clock, Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, problems, err := e.Publish(ctx, []byte(waitFlow), "ann"); err != nil || problems.HasErrors() {
				t.Fatalf("publish: %v %v", err, problems.Err())
			}
		} else if err := e.RefreshFlows(ctx); err != nil {
			t.Fatal(err)
		}
		engs = append(engs, e)
	}
	const n = 150
	var convs []string
	for i := range n {
		out, err := engs[i%2].HandleInbound(ctx, &engine.Inbound{PhoneNumberID: "100", ID: fmt.Sprintf("wamid.%d", i),
			WaID: fmt.Sprintf("1555000%04d", i), At: clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}})
		if err != nil || out.Conversation == "" {
			t.Fatalf("hello %d: %+v, %v", i, out, err)
		}
		convs = append(convs, out.Conversation)
	}
	clock.Advance(2 * time.Hour)
	fired := make([]int, len(engs))
	var wg sync.WaitGroup
	for i, e := range engs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			fired[i], err = e.FireDueTimers(context.WithoutCancel(ctx))
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	t.Logf("fired by each engine: %v", fired)
	if fired[0]+fired[1] != n {
		t.Errorf("fired %d + %d timers, want %d in all: each once", fired[0], fired[1], n)
	}
	for _, conv := range convs {
		msgs, err := a.Transcript(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		byes := 0
		for _, m := range msgs {
			if m.Direction == model.Out && m.Message != nil && m.Message.Text == "bye" {
				byes++
			}
		}
		if byes != 1 {
			t.Errorf("%s said bye %d times, want once", conv, byes)
		}
	}
	if left, err := a.DueTimers(ctx, clock.Now(), 0); err != nil || len(left) != 0 {
		t.Errorf("timers left due: %d, %v", len(left), err)
	}
}

// waitFlow waits for a reply for an hour, then says goodbye.
const waitFlow = `{"format": "parley/flow@1", "id": "wait", "start": "ask",
 "triggers": [{"type": "keyword", "keywords": ["hello"]}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "save_as": "said", "timeout": "1h", "on_timeout": "bye", "next": "bye"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}
 ]}`

// BenchmarkTimers is one batch of FireDueTimers' read with 100,000 timers
// due: DueTimers' 256 (every process reads them all) against
// ClaimTimers' 64 (the batch claimed; the same owner claims the same
// rows again each time, so the table does not change between runs).
func BenchmarkTimers(b *testing.B) {
	testURL(b)
	st := openAt(b, filepath.Join(b.TempDir(), "db"))
	b.Cleanup(func() { st.Close() })
	if _, err := st.Pool().Exec(b.Context(), `INSERT INTO timers (due_ns, kind, conversation, node, data)
		SELECT $1::bigint + i, 'timeout', 'c' || i, 'ask', convert_to('{"due":"2026-03-14T09:26:53Z","kind":"timeout","contact":"100:' || i || '","conversation":"c' || i || '","node":"ask"}', 'UTF8')
		FROM generate_series(1, 100000) i`, t0.UnixNano()); err != nil {
		b.Fatal(err)
	}
	now := t0.Add(time.Hour)
	b.Run("DueTimers-256", func(b *testing.B) {
		for b.Loop() {
			if ts, err := st.DueTimers(b.Context(), now, 256); err != nil || len(ts) != 256 {
				b.Fatal(len(ts), err)
			}
		}
	})
	b.Run("ClaimTimers-64", func(b *testing.B) {
		for b.Loop() {
			if ts, err := st.ClaimTimers(b.Context(), now, 64, engine.TimerLease); err != nil || len(ts) != 64 {
				b.Fatal(len(ts), err)
			}
		}
	})
}
