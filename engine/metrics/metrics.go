// Package metrics is a small Prometheus-compatible registry: counters,
// gauges and histograms with labels, written in the text exposition
// format. Parley needs a handful of series; this avoids a dependency.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metric families and writes them out.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{families: map[string]*family{}} }

type kind string

const (
	counterKind   kind = "counter"
	gaugeKind     kind = "gauge"
	histogramKind kind = "histogram"
)

type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64
	mu         sync.Mutex
	series     map[string]*series
	valueFunc  func() float64 // a gauge's or counter's value, read when written
}

type series struct {
	values []string
	bits   atomic.Uint64 // float64 value for counters and gauges
	// histogram
	mu     sync.Mutex
	counts []uint64
	sum    float64
	count  uint64
}

func (r *Registry) family(name, help string, k kind, labels []string, buckets []float64) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.families[name]; ok {
		return f
	}
	f := &family{name: name, help: help, kind: k, labels: labels, buckets: buckets, series: map[string]*series{}}
	r.families[name] = f
	return f
}

func (f *family) with(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\x00")
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.series[key]
	if !ok {
		s = &series{values: append([]string(nil), values...)}
		if f.kind == histogramKind {
			s.counts = make([]uint64, len(f.buckets))
		}
		f.series[key] = s
	}
	return s
}

// Counter is a monotonically increasing count, by label values.
type Counter struct{ f *family }

// Counter registers (or returns) a counter family.
func (r *Registry) Counter(name, help string, labels ...string) Counter {
	return Counter{r.family(name, help, counterKind, labels, nil)}
}

// Inc adds one to the series with these label values.
func (c Counter) Inc(values ...string) { c.Add(1, values...) }

// Add adds v to the series with these label values.
func (c Counter) Add(v float64, values ...string) {
	s := c.f.with(values)
	for {
		old := s.bits.Load()
		if s.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Value returns the series' current value (for tests).
func (c Counter) Value(values ...string) float64 {
	return math.Float64frombits(c.f.with(values).bits.Load())
}

// GaugeFunc registers a gauge whose value is read when metrics are written.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	f := r.family(name, help, gaugeKind, nil, nil)
	f.valueFunc = fn
}

// CounterFunc registers a counter whose value is read when metrics are
// written, for a total kept elsewhere (the store's own counts); fn must
// never decrease.
func (r *Registry) CounterFunc(name, help string, fn func() float64) {
	f := r.family(name, help, counterKind, nil, nil)
	f.valueFunc = fn
}

// Histogram counts observations in buckets, by label values.
type Histogram struct{ f *family }

// Histogram registers (or returns) a histogram family with upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) Histogram {
	return Histogram{r.family(name, help, histogramKind, labels, buckets)}
}

// Observe records one value.
func (h Histogram) Observe(v float64, values ...string) {
	s := h.f.with(values)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range h.f.buckets {
		if v <= b {
			s.counts[i]++
		}
	}
	s.sum += v
	s.count++
}

// LatencyBuckets suit request latencies in seconds, 0.5 ms to 5 s.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// WriteTo writes every family in the Prometheus text format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	r.mu.Unlock()
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		r.mu.Lock()
		f := r.families[n]
		r.mu.Unlock()
		f.write(&b)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (f *family) write(b *strings.Builder) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
	if f.valueFunc != nil {
		fmt.Fprintf(b, "%s %s\n", f.name, num(f.valueFunc()))
		return
	}
	f.mu.Lock()
	keys := make([]string, 0, len(f.series))
	for k := range f.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ss := make([]*series, len(keys))
	for i, k := range keys {
		ss[i] = f.series[k]
	}
	f.mu.Unlock()
	for _, s := range ss {
		if f.kind != histogramKind {
			fmt.Fprintf(b, "%s%s %s\n", f.name, labels(f.labels, s.values, "", ""), num(math.Float64frombits(s.bits.Load())))
			continue
		}
		s.mu.Lock()
		for i, ub := range f.buckets {
			fmt.Fprintf(b, "%s_bucket%s %d\n", f.name, labels(f.labels, s.values, "le", num(ub)), s.counts[i])
		}
		fmt.Fprintf(b, "%s_bucket%s %d\n", f.name, labels(f.labels, s.values, "le", "+Inf"), s.count)
		fmt.Fprintf(b, "%s_sum%s %s\n", f.name, labels(f.labels, s.values, "", ""), num(s.sum))
		fmt.Fprintf(b, "%s_count%s %d\n", f.name, labels(f.labels, s.values, "", ""), s.count)
		s.mu.Unlock()
	}
}

func labels(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var parts []string
	for i, n := range names {
		parts = append(parts, n+"="+strconv.Quote(values[i]))
	}
	if extraName != "" {
		parts = append(parts, extraName+"="+strconv.Quote(extraValue))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
