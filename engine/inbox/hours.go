package inbox

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/nodes"
)

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var zones sync.Map // name -> *time.Location

func location(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// check validates the hours: a known time zone, weekday names, spans.
func (h *Hours) check() error {
	if _, err := location(h.Timezone); err != nil {
		return fmt.Errorf("timezone: %v", err)
	}
	for day, spans := range h.Open {
		known := false
		for _, w := range weekdays {
			known = known || w == day
		}
		if !known {
			return fmt.Errorf("%q is not a weekday (mon … sun)", day)
		}
		for _, s := range spans {
			if _, _, ok := nodes.ParseSpan(s); !ok {
				return fmt.Errorf("%s: %q is not a span like 09:00-17:30", day, s)
			}
		}
	}
	return nil
}

// IsOpen reports whether now falls inside the hours. Nil hours are
// always open.
func (h *Hours) IsOpen(now time.Time) bool {
	if h == nil {
		return true
	}
	loc, err := location(h.Timezone)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	minute := local.Hour()*60 + local.Minute()
	for _, span := range h.Open[weekdays[local.Weekday()]] {
		if from, to, ok := nodes.ParseSpan(span); ok && minute >= from && minute < to {
			return true
		}
	}
	return false
}

// NextOpen is when the hours next open after now (now itself when open),
// within a week; false when they never open.
func (h *Hours) NextOpen(now time.Time) (time.Time, bool) {
	if h.IsOpen(now) {
		return now, true
	}
	loc, err := location(h.Timezone)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	for i := 0; i <= 7; i++ {
		d := day.AddDate(0, 0, i)
		best := -1
		for _, span := range h.Open[weekdays[d.Weekday()]] {
			from, _, ok := nodes.ParseSpan(span)
			if !ok {
				continue
			}
			if at := wallClock(d, from); at.After(local) && (best < 0 || from < best) {
				best = from
			}
		}
		if best >= 0 {
			return wallClock(d, best), true
		}
	}
	return time.Time{}, false
}

// closedReply is the queue's automatic reply at now, with {{opens}}
// filled in; "" when the queue is open or has no hours.
func (q *Queue) closedReply(now time.Time) string {
	if q == nil || q.Hours == nil || q.Hours.IsOpen(now) {
		return ""
	}
	text := q.ClosedReply
	if text == "" {
		text = DefaultClosedReply
	}
	opens := "as soon as we can"
	if at, ok := q.Hours.NextOpen(now); ok {
		opens = at.Format("Monday 15:04")
		if q.Hours.Timezone != "" {
			opens += " (" + q.Hours.Timezone + ")"
		}
	}
	return strings.ReplaceAll(text, "{{opens}}", opens)
}

// wallClock is minute past midnight on day d, on the local wall clock
// (a day with a daylight-saving change is not 24 hours long).
func wallClock(d time.Time, minute int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), minute/60, minute%60, 0, 0, d.Location())
}
