package engine

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
)

// A probe answered by an error of another scope (a 130429 while every
// number is paused for an outage) ends that probe: the pause it was for
// lets the next one go once its wait has passed.
func TestProbeAnsweredByAnotherScope(t *testing.T) {
	var p pauses
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	p.hold(AllNumbers, &whatsapp.APIError{HTTPStatus: 503}, now, false)
	now = now.Add(time.Hour)
	if _, probe := p.admit("1", now); !probe {
		t.Fatal("no probe once the wait passed")
	}
	p.unprobe("1") // its answer is known, as the dispatcher records it
	p.hold("1", &whatsapp.APIError{HTTPStatus: 400, Code: whatsapp.CodeThroughput}, now, true)
	now = now.Add(time.Hour)
	if w, probe := p.admit("2", now); !probe { // number 2 is held by the outage's pause only
		t.Fatalf("the outage's pause waits %v for a probe that is over", w)
	}

	// And the other way round: the number's own pause probes, and the
	// answer is an outage of every number.
	if _, probe := p.admit("1", now); !probe {
		t.Fatal("no probe of the number's pause")
	}
	p.unprobe("1")
	p.hold(AllNumbers, &whatsapp.APIError{HTTPStatus: 503}, now, true)
	delete(p.m, AllNumbers) // the outage passes; the number's own pause remains
	now = now.Add(time.Hour)
	if w, probe := p.admit("1", now); !probe {
		t.Fatalf("the number's pause waits %v for a probe that an outage answered", w)
	}
}

// A pause's probes back off, with jitter, up to their bound; one that
// needs someone to act probes more rarely than an outage.
func TestPauseBackoff(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		first, max time.Duration
	}{
		{"outage", &whatsapp.APIError{HTTPStatus: 503}, unavailableFirstProbe, unavailableMaxProbe},
		{"expired token", &whatsapp.APIError{HTTPStatus: 401, Code: 190}, actionFirstProbe, actionMaxProbe},
	}
	for _, tc := range cases {
		var p pauses
		now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
		x, isNew := p.hold(AllNumbers, tc.err, now, false)
		if !isNew || x.NextProbe.Sub(now) > max(tc.first, whatsapp.RetryAfter(tc.err)) {
			t.Errorf("%s: first probe after %v, want at most %v", tc.name, x.NextProbe.Sub(now), tc.first)
		}
		for range 30 {
			now = x.NextProbe
			if _, probe := p.admit("1", now); !probe {
				t.Fatalf("%s: no probe at its time", tc.name)
			}
			x, _ = p.hold(AllNumbers, tc.err, now, true)
		}
		if w := x.NextProbe.Sub(now); w < tc.max/2 || w > tc.max {
			t.Errorf("%s: after 30 failed probes the next waits %v, want within [%v, %v]", tc.name, w, tc.max/2, tc.max)
		}
	}
}
