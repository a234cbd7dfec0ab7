package engine

import (
	"context"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Work that the processes sharing one store (model.SharedStore) divide
// between them instead of each doing all of it: firing due timers
// (model.TimerClaimer), and each business number's throughput
// (model.Peers). A store that offers neither, bbolt's, has one process: it
// fires every due timer and paces at the whole rate.

// TimerLease is how long a claim on due timers lasts (model.TimerClaimer):
// longer than firing a batch of timerClaimBatch takes, so that only a dead
// process's claims run out. It is also how late a dead process's timers
// fire, at most, beyond their due time.
const TimerLease = 30 * time.Second

// timerBatch is how many due timers FireDueTimers reads at a time;
// timerClaimBatch how many it claims at a time from a model.TimerClaimer:
// smaller, so that a burst of due timers is spread over the processes.
const (
	timerBatch      = 256
	timerClaimBatch = 64
)

// dueTimers returns the timers FireDueTimers fires next: those it claimed
// on a model.TimerClaimer, else every due timer.
func (e *Engine) dueTimers(ctx context.Context, now time.Time) ([]model.Timer, error) {
	if c, ok := e.store.(model.TimerClaimer); ok {
		return c.ClaimTimers(ctx, now, timerClaimBatch, TimerLease)
	}
	return e.store.DueTimers(ctx, now, timerBatch)
}

// Pacing shared among processes (model.Peers): Meta's throughput is per
// business number (docs/whatsapp.md §4.7: above it, 130429), not per
// process, so the dispatcher of each process paces every number at its
// rate divided by the processes live, and together they keep to it. Each
// dispatcher beats every PaceHeartbeat; a process that stops leaves and
// one that dies drops out after PaceTTL, and the others take up its share
// at their next beat.
const (
	// PaceHeartbeat is how often a dispatcher beats and counts the
	// processes live: how long the others take to make room for a process
	// that joins, or to take up the share of one that left.
	PaceHeartbeat = 2 * time.Second
	// PaceTTL is how long a beat keeps a process live: several beats, so
	// that a slow database does not drop a live process (the others
	// would then send its share as well as it), and how long the others
	// leave unused the share of a process that died.
	PaceTTL = 5 * PaceHeartbeat
	// PaceJoinWait is how long a process that joins others waits before it
	// sends: until every other has beaten since (each beats every
	// PaceHeartbeat, checked at least every Poll) and so paces at its
	// smaller share. A process alone sends at once.
	PaceJoinWait = 2 * PaceHeartbeat
)

// peerShare is a dispatcher's part in its numbers' throughput.
type peerShare struct {
	// store is the engine's store as Peers; nil when it has one process,
	// this one.
	store model.Peers
	// live is how many processes share each number's rate, this one
	// included (at least 1), and joinUntil, when this process has just
	// joined others, until when it sends nothing (PaceJoinWait): both
	// under the dispatcher's mu. last is when the processes were counted
	// (beats run one at a time).
	live      int
	joinUntil time.Time
	last      time.Time
}

// startBeats counts the processes once, so that the first sends know this
// process's share, then beats every PaceHeartbeat (looked at every Poll)
// in a goroutine of its own, not between rounds, which a backlog makes
// long, until ctx is done. stop waits for the beats to end and then
// leaves, so that no beat comes after the leave.
func (d *Dispatcher) startBeats(ctx context.Context) (stop func()) {
	d.share.store, _ = d.e.store.(model.Peers)
	if d.share.store == nil {
		return func() {}
	}
	d.beat(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(min(d.opts.Poll, PaceHeartbeat))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				d.beat(ctx)
			}
		}
	}()
	return func() {
		<-done
		d.leave()
	}
}

// beat counts the processes live, every PaceHeartbeat, and resizes the
// numbers' buckets to this process's share. A beat that fails keeps the
// count it had: a process that cannot reach the store cannot claim a send
// either.
func (d *Dispatcher) beat(ctx context.Context) {
	sh := &d.share
	now := d.now()
	if !sh.last.IsZero() && now.Sub(sh.last) < PaceHeartbeat {
		return
	}
	live, since, err := sh.store.Heartbeat(ctx, now, PaceTTL)
	if err != nil {
		if ctx.Err() == nil {
			d.e.log.Error("counting the processes that share the numbers' throughput", "err", err)
		}
		return
	}
	live = max(1, live)
	sh.last = now
	d.mu.Lock()
	defer d.mu.Unlock()
	if live > 1 && now.Sub(since) < PaceJoinWait {
		sh.joinUntil = since.Add(PaceJoinWait)
	} else {
		sh.joinUntil = time.Time{}
	}
	if live == sh.live {
		return
	}
	d.e.log.Info("pacing shared among processes", "processes", live, "was", sh.live)
	sh.live = live
	for id, b := range d.numbers {
		b.resize(now, d.rateOf(id))
	}
}

// joining reports how long this process still waits, having just joined
// others, before it sends (PaceJoinWait).
func (d *Dispatcher) joining(now time.Time) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return max(0, d.share.joinUntil.Sub(now))
}

// leave tells the other processes this one sends no more.
func (d *Dispatcher) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.share.store.Leave(ctx); err != nil {
		d.e.log.Warn("leaving the processes that share the numbers' throughput", "err", err)
	}
}

// rateOf is this process's part of a number's throughput, in messages
// per second: the number's rate divided by the processes sharing it. d.mu
// is held.
func (d *Dispatcher) rateOf(id string) float64 {
	rate := d.opts.Rate
	if r := d.opts.Rates[id]; r > 0 {
		rate = r
	}
	return rate / float64(max(1, d.share.live))
}

// resize gives the bucket a new rate ceiling: tokens refill at the old
// rate up to now, a slowdown (slow) keeps its proportion, and the capacity
// (the burst) is one second at the new rate, at least one message.
func (b *bucket) resize(now time.Time, ceil float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.ceil > 0 {
		b.rate *= ceil / b.ceil
	} else {
		b.rate = ceil
	}
	b.ceil = ceil
	b.capacity = max(1, ceil)
	b.tokens = min(b.tokens, b.capacity)
}
