package auth

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestForwardedFor: X-Forwarded-For is read from the right, past the
// trusted proxies, and only when the peer is one of them.
func TestForwardedFor(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.1 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		header     []string
		want       string
	}{
		{"an untrusted peer is the client, whatever it sends", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"a trusted proxy names the client", "10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a spoofed entry left of the proxy's is ignored", "10.1.2.3", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"through two trusted proxies", "10.1.2.3", []string{"1.2.3.4, 198.51.100.1, 192.168.1.1"}, "198.51.100.1"},
		{"headers repeated are joined in order", "10.1.2.3", []string{"1.2.3.4", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"with a port", "10.1.2.3", []string{"198.51.100.1:51234"}, "198.51.100.1"},
		{"IPv6 in brackets with a port", "2001:db8::1", []string{"[2001:db9::5]:443"}, "2001:db9::5"},
		{"all trusted: the leftmost", "10.1.2.3", []string{"10.0.0.7, 192.168.1.1"}, "10.0.0.7"},
		{"no header: the proxy", "10.1.2.3", nil, "10.1.2.3"},
		{"garbage: the last good hop", "10.1.2.3", []string{"198.51.100.1, bogus, 10.0.0.2"}, "10.0.0.2"},
		{"an IPv4-mapped peer is IPv4", "::ffff:10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1"},
	}
	for _, tc := range tests {
		peer := netip.MustParseAddr(tc.peer).Unmap()
		if got := forwardedFor(peer, tc.header, trusted); got.String() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q): no error", bad)
		}
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":             "203.0.113.9",
		"::ffff:203.0.113.9":      "203.0.113.9",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:bbbb::9999": "2001:db8:1:2::/64",
		"":                        "unknown",
	} {
		var a netip.Addr
		if in != "" {
			a = netip.MustParseAddr(in)
		}
		if got := addrKey(a); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestThrottleBounded: a flood of made-up keys keeps the throttle at its
// bound, forgetting the least recently used.
func TestThrottleBounded(t *testing.T) {
	th := newThrottle(throttleOptions{accountFree: 5, addressFree: 10, baseDelay: time.Second, maxDelay: time.Hour, forgiveEvery: time.Hour, remember: time.Hour})
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i := range maxThrottledKeys + 100 {
		if a, _ := th.begin(fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("a%d", i), now); i%2 == 0 {
			th.succeeded(a, now) // known, and its failure undone
			th.begin(fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("a%d", i), now)
		}
	}
	if n := th.accounts.len(); n != maxThrottledKeys {
		t.Errorf("%d accounts remembered, want the bound %d", n, maxThrottledKeys)
	}
	if n := th.known.len(); n != maxKnownPairs {
		t.Errorf("%d known pairs, want the bound %d", n, maxKnownPairs)
	}
	if _, ok := th.accounts.get("u0@example.com"); ok {
		t.Error("the oldest account is still there")
	}
	if _, ok := th.accounts.get(fmt.Sprintf("u%d@example.com", maxThrottledKeys+98)); !ok {
		t.Error("the newest account is gone")
	}
}
