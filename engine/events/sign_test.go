package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/events"
)

func TestSignVerify(t *testing.T) {
	const secret = "whsec_test"
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"evt_1","type":"message.received"}`)
	good := events.Sign(secret, at, body)
	if !strings.HasPrefix(good, "t=1767607200,v1=") || len(good) != len("t=1767607200,v1=")+64 {
		t.Fatalf("signature %q: want t=<unix>,v1=<64 hex digits>", good)
	}
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, good, body, at, nil},
		{"valid a little later", secret, good, body, at.Add(4 * time.Minute), nil},
		{"receiver's clock a little behind", secret, good, body, at.Add(-4 * time.Minute), nil},
		{"another v1 beside it (a secret being rotated)", secret, "t=1767607200,v1=" + strings.Repeat("0", 64) + "," + good[len("t=1767607200,"):], body, at, nil},
		{"wrong secret", "whsec_other", good, body, at, events.ErrBadSignature},
		{"body changed", secret, good, []byte(`{"id":"evt_2","type":"message.received"}`), at, events.ErrBadSignature},
		{"timestamp changed", secret, strings.Replace(good, "t=1767607200", "t=1767607201", 1), body, at, events.ErrBadSignature},
		{"replayed later", secret, good, body, at.Add(6 * time.Minute), events.ErrStale},
		{"from the future", secret, good, body, at.Add(-6 * time.Minute), events.ErrStale},
		{"no timestamp", secret, good[len("t=1767607200,"):], body, at, events.ErrBadSignature},
		{"no signature", secret, "t=1767607200", body, at, events.ErrBadSignature},
		{"empty", secret, "", body, at, events.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := events.Verify(tc.secret, tc.header, tc.body, tc.now, events.DefaultTolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 8 * time.Second, 12 * time.Second},
		{2, 16 * time.Second, 24 * time.Second},
		{3, 32 * time.Second, 48 * time.Second},
		{6, 256 * time.Second, 384 * time.Second},
		{7, 8 * time.Minute, 12 * time.Minute}, // 640 s capped at 10 min
		{50, 8 * time.Minute, 12 * time.Minute},
		{1 << 20, 8 * time.Minute, 12 * time.Minute},
	}
	for _, tc := range tests {
		lo, mid, hi := events.Backoff(tc.n, 0), events.Backoff(tc.n, 0.5), events.Backoff(tc.n, 0.999999)
		if lo < tc.min || hi > tc.max || !(lo < mid && mid < hi) {
			t.Errorf("Backoff(%d): %v…%v…%v, want within %v…%v, growing with r", tc.n, lo, mid, hi, tc.min, tc.max)
		}
	}
	// Retried for a day: every attempt's wait summed stays within MaxAge
	// for the attempts a day holds, and a day holds more than a hundred.
	var total time.Duration
	n := 0
	for total < events.MaxAge {
		n++
		total += events.Backoff(n, 0.5)
	}
	if n < 100 || n > 200 {
		t.Fatalf("%d attempts in a day, want about 150", n)
	}
}
