package engine

import (
	"time"

	"github.com/parleyhq/parley/engine/metrics"
)

// engineMetrics are the engine's series in the /metrics registry.
type engineMetrics struct {
	events      metrics.Counter   // kind, result
	eventTime   metrics.Histogram // seconds per event, by kind
	sends       metrics.Counter   // result, code
	sendLatency metrics.Histogram // seconds per Cloud API call
	statuses    metrics.Counter   // status
	reroutes    metrics.Counter
	pauses      metrics.Counter   // number, code
	receipts    metrics.Counter   // result
	calls       metrics.Counter   // result
	callTime    metrics.Histogram // seconds per attempt
}

func newEngineMetrics(r *metrics.Registry) engineMetrics {
	if r == nil {
		r = metrics.NewRegistry()
	}
	return engineMetrics{
		events:      r.Counter("parley_events_total", "Events applied to conversations, by kind (message, timer, status, agent_reply, resolve, start) and result (ok, duplicate, error).", "kind", "result"),
		eventTime:   r.Histogram("parley_event_seconds", "Time to apply an event and commit it, by kind.", metrics.LatencyBuckets, "kind"),
		sends:       r.Counter("parley_sends_total", "Outbound sends by result (accepted, retry, failed, expired, unknown, window_closed, blocked, limit_held) and Meta error code.", "result", "code"),
		sendLatency: r.Histogram("parley_send_seconds", "Cloud API send latency.", metrics.LatencyBuckets),
		statuses:    r.Counter("parley_statuses_total", "Status webhooks by status.", "status"),
		reroutes:    r.Counter("parley_window_closed_reroutes_total", "Conversations sent down their template path because the window closed."),
		receipts:    r.Counter("parley_read_receipts_total", "Customers' messages marked read and typing indicators shown, by result (read, typing, error, dropped).", "result"),
		calls:       r.Counter("parley_http_calls_total", "Attempts of flows' http steps by result (2xx, 4xx, 429, 5xx, timeout, network, refused, too_large, invalid, error).", "result"),
		callTime:    r.Histogram("parley_http_call_seconds", "Time of one attempt of an http step, answer read.", httpBuckets),
		pauses:      r.Counter("parley_sending_pauses_total", "Times sending was paused, by number (all: every number) and Meta error code (0: the Graph API unreachable or failing).", "number", "code"),
	}
}

// Event kinds of parley_events_total and parley_event_seconds.
const (
	eventKindMessage    = "message"
	eventKindTimer      = "timer"
	eventKindStatus     = "status"
	eventKindAgentReply = "agent_reply"
	eventKindResolve    = "resolve"
	eventKindStart      = "start"
	eventKindCall       = "http_call"
)

// httpBuckets reach past an attempt's longest timeout (30 s).
var httpBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30}

// observeEvent counts an event of kind that began at start (wall time: what
// it cost, whatever the engine's clock says) and ended with err; a
// duplicate is an inbound message processed before.
func (e *Engine) observeEvent(kind string, start time.Time, duplicate bool, err error) {
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case duplicate:
		result = "duplicate"
	}
	e.metrics.events.Inc(kind, result)
	e.metrics.eventTime.Observe(time.Since(start).Seconds(), kind)
}
