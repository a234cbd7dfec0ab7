package limits_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/limits"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func TestTiers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured int
		pinned     bool
		tier       int // announced for "care"; -1: none
		wantCare   int
		fromMeta   bool
	}{
		{"configured", 250, false, -1, 250, false},
		{"a tier replaces it", 250, false, 2000, 2000, true},
		{"unlimited", 250, false, 0, 0, true},
		{"pinned keeps it", 250, true, 2000, 250, false},
		{"no limit", -5, false, -1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l limits.State
			l.Configure(tc.configured, tc.pinned)
			if tc.tier >= 0 {
				l.LearnTier("care", tc.tier)
			}
			care := l.Scope("care")
			if care.Limit() != tc.wantCare || care.FromMeta() != tc.fromMeta {
				t.Errorf("care: limit %d (from Meta %v), want %d (%v)", care.Limit(), care.FromMeta(), tc.wantCare, tc.fromMeta)
			}
			if other := l.Scope("default"); other.Limit() != max(tc.configured, 0) || other.FromMeta() {
				t.Errorf("another portfolio: %d (from Meta %v), want the configured %d", other.Limit(), other.FromMeta(), tc.configured)
			}
			if l.Scope("care") != care || care.Reach() == nil {
				t.Error("a scope is made once, with its reach window")
			}
		})
	}
}

func TestRestrictions(t *testing.T) {
	var l limits.State
	l.Restrict("waba-a", t0.Add(2*time.Hour))
	l.Restrict("waba-a", t0.Add(time.Hour)) // shorter: changes nothing
	for _, tc := range []struct {
		name    string
		account string
		now     time.Time
		want    time.Time
	}{
		{"its account", "waba-a", t0, t0.Add(2 * time.Hour)},
		{"another account", "waba-b", t0, time.Time{}},
		{"an unknown account", "", t0, time.Time{}},
		{"over", "waba-a", t0.Add(2 * time.Hour), time.Time{}},
	} {
		if got := l.RestrictedUntil(tc.account, tc.now); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	l.Restrict("", t0.Add(3*time.Hour)) // every account
	if got := l.RestrictedUntil("waba-b", t0); !got.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("a restriction of every account: %v", got)
	}
	if got := l.RestrictedUntil("waba-a", t0); !got.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("the later of the account's and every account's: %v", got)
	}
}

func TestSince(t *testing.T) {
	since := limits.Since(t0)
	if !since.After(t0.Add(-24*time.Hour)) || since.After(t0.Add(-24*time.Hour+time.Nanosecond)) {
		t.Errorf("Since = %v: a reach exactly 24 h old has left the window, one a nanosecond younger has not", since)
	}
}
