package schedule

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

// TestFireTimes pins fire times across time zones and both daylight-saving
// transitions (testdata/fire_times.json): robfig/cron's Next, a local
// wall-clock time at most once.
func TestFireTimes(t *testing.T) {
	data, err := os.ReadFile("testdata/fire_times.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Cron, TZ string
		From           time.Time
		Want           []string
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			tm, err := ParseTiming(c.Cron, c.TZ)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, at := range tm.Preview(c.From, len(c.Want)) {
				got = append(got, at.Format("2006-01-02 15:04 MST"))
			}
			if len(got) != len(c.Want) {
				t.Fatalf("got %q, want %q", got, c.Want)
			}
			for i := range got {
				if got[i] != c.Want[i] {
					t.Errorf("fire %d: got %s, want %s (all: %q)", i, got[i], c.Want[i], got)
				}
			}
		})
	}
}

// TestFireCountsOnTransitionDays counts an hourly schedule's runs on the
// short and the long day: 23 and 24 (not 25).
func TestFireCountsOnTransitionDays(t *testing.T) {
	for _, c := range []struct {
		tz, day string
		want    int
	}{
		{"Europe/Berlin", "2026-03-29", 23},
		{"Europe/Berlin", "2026-10-25", 24},
		{"America/New_York", "2026-03-08", 23},
		{"America/New_York", "2026-11-01", 24},
		{"UTC", "2026-03-29", 24},
	} {
		t.Run(c.tz+" "+c.day, func(t *testing.T) {
			tm, err := ParseTiming("0 * * * *", c.tz)
			if err != nil {
				t.Fatal(err)
			}
			loc := tm.Location()
			day, _ := time.ParseInLocation("2006-01-02", c.day, loc)
			end := day.AddDate(0, 0, 1)
			n := 0
			for at := tm.Next(day.Add(-time.Second)); at.Before(end); at = tm.Next(at) {
				n++
			}
			if n != c.want {
				t.Errorf("%d runs, want %d", n, c.want)
			}
		})
	}
}

func TestParseTimingRefuses(t *testing.T) {
	for _, c := range []struct {
		name, cron, tz, field string
	}{
		{"empty", "", "UTC", "cron"},
		{"six fields", "0 0 9 * * *", "UTC", "cron"},
		{"out of range", "61 * * * *", "UTC", "cron"},
		{"zone inside the expression", "CRON_TZ=Europe/Berlin 0 9 * * *", "UTC", "cron"},
		{"unknown zone", "0 9 * * *", "Mars/Olympus", "timezone"},
		{"Local is not a zone", "0 9 * * *", "Local", "timezone"},
		{"never fires", "0 0 30 2 *", "UTC", "cron"},
		{"@every 0s", "@every 0s", "UTC", "cron"},
		{"@every 1ns", "@every 1ns", "UTC", "cron"},
		{"@every -1s", "@every -1s", "UTC", "cron"},
		{"@every 30s", "@every 30s", "UTC", "cron"},
		{"@every 59s", "@every 59s", "UTC", "cron"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTiming(c.cron, c.tz)
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Fatalf("got %v, want an InvalidError on %s", err, c.field)
			}
		})
	}
}

// Schedules fire at most once a minute: the fastest accepted expressions.
func TestParseTimingMinimumInterval(t *testing.T) {
	for _, expr := range []string{"@every 1m", "@every 90s", "* * * * *", "*/1 * * * *", "@hourly"} {
		if _, err := ParseTiming(expr, "Europe/Berlin"); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
}
