package metrics

import (
	"strings"
	"testing"
)

func TestWriteTo(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("parley_webhooks_total", "Webhooks by result.", "result")
	c.Inc("ok")
	c.Inc("ok")
	c.Inc("bad_signature")
	h := r.Histogram("parley_latency_seconds", "Latency.", []float64{0.01, 0.1})
	h.Observe(0.005)
	h.Observe(0.05)
	r.GaugeFunc("parley_outbox_depth", "Queued messages.", func() float64 { return 7 })
	r.CounterFunc("parley_store_commits_total", "Commits.", func() float64 { return 42 })
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP parley_latency_seconds Latency.
# TYPE parley_latency_seconds histogram
parley_latency_seconds_bucket{le="0.01"} 1
parley_latency_seconds_bucket{le="0.1"} 2
parley_latency_seconds_bucket{le="+Inf"} 2
parley_latency_seconds_sum 0.055
parley_latency_seconds_count 2
# HELP parley_outbox_depth Queued messages.
# TYPE parley_outbox_depth gauge
parley_outbox_depth 7
# HELP parley_store_commits_total Commits.
# TYPE parley_store_commits_total counter
parley_store_commits_total 42
# HELP parley_webhooks_total Webhooks by result.
# TYPE parley_webhooks_total counter
parley_webhooks_total{result="bad_signature"} 1
parley_webhooks_total{result="ok"} 2
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
