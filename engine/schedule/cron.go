package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser reads five-field cron expressions and descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// MaxPreview caps the fire times Preview returns.
const MaxPreview = 50

// MinInterval is the shortest time between two firings of a schedule. Each
// firing is a claimed record and a fan-out to a whole audience; five-field
// cron cannot go below a minute, and `@every` (robfig/cron rounds anything
// under a second, 0s and negative durations included, up to one second)
// must not either.
const MinInterval = time.Minute

// intervalProbes is how many consecutive fire times ParseTiming compares
// against MinInterval.
const intervalProbes = 10

// Timing is a parsed cron expression in its time zone.
type Timing struct {
	spec cron.Schedule
	loc  *time.Location
}

// ParseTiming parses a cron expression and an IANA time zone ("" is UTC).
// The zone goes in its own field, never in the expression (CRON_TZ=…). An
// expression that never fires, or fires more often than MinInterval, is
// refused.
func ParseTiming(expr, zone string) (Timing, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return Timing{}, invalid("cron", "a cron expression is required: five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily")
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return Timing{}, invalid("cron", "give the time zone in the timezone field, not in the expression")
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return Timing{}, invalid("timezone", "%q is not an IANA time zone (such as Europe/Berlin or America/New_York)", zone)
	}
	spec, err := parser.Parse(expr)
	if err != nil {
		return Timing{}, invalid("cron", "%v", err)
	}
	tm := Timing{spec: spec, loc: loc}
	fires := tm.Preview(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), intervalProbes)
	if len(fires) == 0 {
		return Timing{}, invalid("cron", "%q never fires", expr)
	}
	for i := 1; i < len(fires); i++ {
		if gap := fires[i].Sub(fires[i-1]); gap < MinInterval {
			return Timing{}, invalid("cron", "%q fires every %s: a schedule fires at most once every %s", expr, gap, MinInterval)
		}
	}
	return tm, nil
}

// Location is the timing's time zone.
func (tm Timing) Location() *time.Location { return tm.loc }

// Next is the first fire time after t, in the timing's zone, or the zero
// time if there is none within five years. A local wall-clock time fires
// at most once: the second pass of a fall-back hour is skipped (doc.go).
func (tm Timing) Next(t time.Time) time.Time {
	t = t.In(tm.loc)
	for range 4 {
		n := tm.spec.Next(t)
		if n.IsZero() || !tm.repeated(n) {
			return n
		}
		t = n
	}
	return time.Time{}
}

// repeated reports whether the wall-clock time of n was already shown
// earlier, before the clocks went back.
func (tm Timing) repeated(n time.Time) bool {
	if _, ok := tm.spec.(*cron.SpecSchedule); !ok {
		return false // @every: elapsed time, no wall clock
	}
	_, off := n.Zone()
	_, before := n.Add(-3 * time.Hour).Zone()
	if before <= off {
		return false
	}
	earlier := n.Add(-time.Duration(before-off) * time.Second)
	y1, m1, d1 := n.Date()
	y0, m0, d0 := earlier.Date()
	return y0 == y1 && m0 == m1 && d0 == d1 && earlier.Hour() == n.Hour() && earlier.Minute() == n.Minute()
}

// Preview returns the next n fire times after from, in the timing's zone.
func (tm Timing) Preview(from time.Time, n int) []time.Time {
	n = min(max(n, 0), MaxPreview)
	out := make([]time.Time, 0, n)
	t := from
	for len(out) < n {
		t = tm.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// String is for error messages.
func (tm Timing) String() string { return fmt.Sprintf("cron in %s", tm.loc) }
