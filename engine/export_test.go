package engine

import (
	"fmt"
	"strings"
)

// BenchFlow exposes benchFlow to the external benchmarks.
const BenchFlow = benchFlow

// DebugState describes the dispatcher's memory, for a test that finds
// the outbox stuck.
func (d *Dispatcher) DebugState() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var b strings.Builder
	fmt.Fprintf(&b, "depth %d lastSeq %d order %d queues %d inflight %d\n", d.depth, d.lastSeq, len(d.order), len(d.queues), len(d.inflight))
	for conv, q := range d.queues {
		fmt.Fprintf(&b, "  %s: %d queued, head %d, inflight %v, notBefore in %v, attempts %d\n", conv, len(q), q[0].Seq, d.inflight[conv], d.notBefore[conv].Sub(now), d.attempts[q[0].Seq])
	}
	d.pauses.mu.Lock()
	for k, p := range d.pauses.m {
		fmt.Fprintf(&b, "  pause %q probing %v next in %v probes %d\n", k, p.probing, p.NextProbe.Sub(now), p.Probes)
	}
	d.pauses.mu.Unlock()
	return b.String()
}
