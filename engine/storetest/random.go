package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// randomSteps is the length of the random walk: long enough to cross many
// timers and outbox items, short enough for fsync per commit.
const randomSteps = 300

// A random walk of commits and outbox completions (by a Change's
// Updates and Dequeue), checked against a model
// after every step: the timers due at a random instant, the outbox order.
func testRandomTimersAndOutbox(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 42))

	var convs []*model.Conversation
	for n := range 4 {
		convs = append(convs, conversation(contact(n).Key, 1, at(0)))
	}
	kinds := []model.TimerKind{model.TimerTimeout, model.TimerNoAgent, model.TimerExpire, model.TimerWindowClosing}
	randomTimer := func() model.Timer {
		conv := convs[rng.IntN(len(convs))]
		tm := timer(conv, at(time.Duration(rng.IntN(8))*time.Minute), kinds[rng.IntN(len(kinds))])
		tm.Node = fmt.Sprint("n", rng.IntN(2))
		return tm
	}
	timers := map[string]model.Timer{} // the model, by identity
	id := func(tm model.Timer) string {
		return fmt.Sprint(tm.Due.UnixNano(), tm.Kind, tm.Conversation, tm.Node)
	}
	type ref struct {
		conv string
		seq  uint64
	}
	var outbox []ref
	seqs := map[string]uint64{}

	for step := range randomSteps {
		switch r := rng.IntN(10); {
		case r < 7:
			c := &model.Change{At: at(0)}
			for range rng.IntN(3) {
				c.DeleteTimers = append(c.DeleteTimers, randomTimer())
			}
			for range rng.IntN(3) {
				c.SetTimers = append(c.SetTimers, randomTimer())
			}
			for range rng.IntN(3) {
				conv := convs[rng.IntN(len(convs))]
				seqs[conv.ID]++
				state := model.Queued
				if rng.IntN(4) == 0 {
					state = model.Sent
				}
				c.Messages = append(c.Messages, outbound(conv, seqs[conv.ID], "m", state))
				if state == model.Queued {
					outbox = append(outbox, ref{conv.ID, seqs[conv.ID]})
				}
			}
			commit(t, st, c)
			for _, tm := range c.DeleteTimers {
				delete(timers, id(tm))
			}
			for _, tm := range c.SetTimers {
				timers[id(tm)] = tm
			}
		case r < 9 && len(outbox) > 0:
			items, err := st.Outbox(ctx, 0, 0)
			must(t, err)
			i := rng.IntN(len(items))
			m := *items[i].Message
			m.State = model.Accepted
			commit(t, st, &model.Change{At: at(0), Updates: []*model.Message{&m}, Dequeue: []uint64{items[i].Seq}})
			outbox = slices.Delete(outbox, i, i+1)
		default:
			must(t, st.Close())
			st = s.reopen(t, path)
		}

		now := at(time.Duration(rng.IntN(10)) * time.Minute)
		var want []model.Timer
		for _, tm := range timers {
			if !tm.Due.After(now) {
				want = append(want, tm)
			}
		}
		slices.SortFunc(want, func(a, b model.Timer) int { return cmp.Compare(id(a), id(b)) })
		got, err := st.DueTimers(ctx, now, 0)
		must(t, err)
		for i := 1; i < len(got); i++ {
			if got[i].Due.Before(got[i-1].Due) {
				t.Fatalf("step %d: timers out of order: %v before %v", step, got[i-1].Due, got[i].Due)
			}
		}
		slices.SortFunc(got, func(a, b model.Timer) int { return cmp.Compare(id(a), id(b)) })
		if len(got) != len(want) {
			t.Fatalf("step %d: %d timers due at %v, want %d", step, len(got), now, len(want))
		}
		for i := range got {
			if !got[i].Same(want[i]) {
				t.Fatalf("step %d: timer %+v, want %+v", step, got[i], want[i])
			}
		}
		if limit := 1 + rng.IntN(3); len(want) > 0 {
			first, err := st.DueTimers(ctx, now, limit)
			must(t, err)
			if len(first) != min(limit, len(want)) {
				t.Fatalf("step %d: %d timers with limit %d, want %d", step, len(first), limit, min(limit, len(want)))
			}
			earliest := slices.MinFunc(want, func(a, b model.Timer) int { return a.Due.Compare(b.Due) })
			if !first[0].Due.Equal(earliest.Due) {
				t.Fatalf("step %d: first due %v, want %v", step, first[0].Due, earliest.Due)
			}
		}

		items, err := st.Outbox(ctx, 0, 0)
		must(t, err)
		if len(items) != len(outbox) {
			t.Fatalf("step %d: outbox has %d items, want %d", step, len(items), len(outbox))
		}
		for i, it := range items {
			if it.Message.Conversation != outbox[i].conv || it.Message.Seq != outbox[i].seq {
				t.Fatalf("step %d: outbox item %d is %s #%d, want %s #%d", step, i, it.Message.Conversation, it.Message.Seq, outbox[i].conv, outbox[i].seq)
			}
		}
	}
}
