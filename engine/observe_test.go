package engine_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestEventMetrics: every event the engine applies is counted in
// parley_events_total by kind and result, and timed in
// parley_event_seconds — the series README.md's /metrics names.
func TestEventMetrics(t *testing.T) {
	h, reg := limitHarness(t, 0)
	h.sayID("15550001", "wamid.a", "hi")
	h.sayID("15550001", "wamid.a", "hi") // Meta's redelivery
	h.clock.Advance(26 * time.Hour)
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := reg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`parley_events_total{kind="message",result="ok"} 1`,
		`parley_events_total{kind="message",result="duplicate"} 1`,
		`parley_events_total{kind="timer",result="ok"} 1`,
		`parley_event_seconds_count{kind="message"} 2`,
		`parley_event_seconds_count{kind="timer"} 1`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}
