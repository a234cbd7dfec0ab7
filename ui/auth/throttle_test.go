package auth_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/ui/auth"
)

// try is one or more sign-in attempts in a throttle scenario.
type try struct {
	from, email, password string
	// times the attempt is made (1 when 0), each expecting status.
	times  int
	status int
	// retryAfter is the Retry-After a 429 must carry ("" for any).
	retryAfter string
	// advance moves the clock before the attempt.
	advance time.Duration
}

// throttleFixture is a fixture whose app.Test peer (0.0.0.0) is a trusted
// proxy, so that each request's X-Forwarded-For is its client address.
func throttleFixture(t *testing.T) *fixture {
	return newFixture(t, func(o *auth.Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}
	}).withUsers()
}

func (f *fixture) attempt(from, email, pw string) response {
	f.t.Helper()
	var h map[string]string
	if from != "" {
		h = map[string]string{"X-Forwarded-For": from}
	}
	return f.do("POST", "/api/v1/auth/login", `{"email":"`+email+`","password":"`+pw+`"}`, h)
}

// TestThrottle runs sign-in scenarios on the manual clock: per-account
// and per-address delays that grow, cap and decay; the owner's known
// address is never locked out; a spray across accounts is slowed by its
// address.
func TestThrottle(t *testing.T) {
	const (
		wrong = "not the password"
		owner = "198.51.100.10"
		bot   = "203.0.113.66"
		fresh = "192.0.2.77"
	)
	hammer := func(from, email string, times int) try {
		return try{from: from, email: email, password: wrong, times: times, status: 401}
	}
	tests := []struct {
		name  string
		steps []try
	}{
		{"the owner's known address signs in while another hammers the account", []try{
			{from: owner, email: adminEmail, password: password, status: 200},
			hammer(bot, adminEmail, auth.DefaultFreeFailures),
			{from: bot, email: adminEmail, password: password, status: 429, retryAfter: "1"},
			{from: fresh, email: adminEmail, password: password, status: 429}, // unknown: waits with the account
			{from: owner, email: adminEmail, password: password, status: 200},
			{from: bot, email: adminEmail, password: wrong, status: 401, advance: time.Second},
			{from: bot, email: adminEmail, password: wrong, status: 429, retryAfter: "2"},
			{from: owner, email: adminEmail, password: password, status: 200},
			// The owner's own typos still count against their address.
			hammer(owner, adminEmail, auth.DefaultAddressFreeFailures),
			{from: owner, email: adminEmail, password: password, status: 429},
		}},
		{"known is per account: the owner's address is a stranger to another account", []try{
			{from: owner, email: adminEmail, password: password, status: 200},
			hammer(bot, analystEmail, auth.DefaultFreeFailures),
			{from: owner, email: analystEmail, password: password, status: 429},
		}},
		{"a known address is remembered for DefaultRememberAddress", []try{
			{from: owner, email: adminEmail, password: password, status: 200},
			{advance: auth.DefaultRememberAddress - time.Second, from: bot, email: adminEmail, password: wrong, times: auth.DefaultFreeFailures, status: 401},
			{from: owner, email: adminEmail, password: password, status: 200},
		}},
		{"and forgotten after it", []try{
			{from: owner, email: adminEmail, password: password, status: 200},
			{advance: auth.DefaultRememberAddress, from: bot, email: adminEmail, password: wrong, times: auth.DefaultFreeFailures, status: 401},
			{from: owner, email: adminEmail, password: password, status: 429},
		}},
		{"one password sprayed over 30 emails from one address", sprayed(bot, 30)},
		{"delays double up to DefaultMaxDelay", grows(fresh)},
		{"failures are forgiven one per DefaultForgiveEvery", []try{
			hammer(bot, analystEmail, auth.DefaultFreeFailures),
			{from: bot, email: analystEmail, password: wrong, status: 401, advance: time.Second},
			{from: bot, email: analystEmail, password: wrong, status: 401, advance: 2 * time.Second},
			{from: bot, email: analystEmail, password: wrong, status: 429, retryAfter: "4"},
			// Two forgiven: the next failure waits as the 6th did (2 s).
			{from: bot, email: analystEmail, password: wrong, status: 401, advance: 2 * auth.DefaultForgiveEvery},
			{from: bot, email: analystEmail, password: wrong, status: 429, retryAfter: "2"},
			// All forgiven: DefaultFreeFailures at once again.
			{advance: 7 * auth.DefaultForgiveEvery, from: bot, email: analystEmail, password: wrong, times: auth.DefaultFreeFailures, status: 401},
			{from: bot, email: analystEmail, password: password, status: 429, retryAfter: "1"},
			{from: bot, email: analystEmail, password: password, status: 200, advance: time.Second},
		}},
		{"signing in does not wipe the address's failures", []try{
			hammer(bot, "x@example.com", auth.DefaultFreeFailures-1),
			hammer(bot, "y@example.com", auth.DefaultFreeFailures-1),
			{from: bot, email: agentEmail, password: password, status: 200},
			hammer(bot, "z@example.com", auth.DefaultAddressFreeFailures-2*(auth.DefaultFreeFailures-1)),
			{from: bot, email: agentEmail, password: password, status: 429, retryAfter: "1"},
		}},
		{"an unknown email is throttled as an account is", []try{
			hammer(bot, "nobody@example.com", auth.DefaultFreeFailures),
			{from: fresh, email: "Nobody@Example.com", password: wrong, status: 429, retryAfter: "1"},
			hammer(bot, adminEmail, auth.DefaultFreeFailures),
			{from: fresh, email: adminEmail, password: wrong, status: 429, retryAfter: "1"},
		}},
		{"behind a trusted proxy that names no client, the proxy is the client", []try{
			hammer("", "x@example.com", auth.DefaultFreeFailures),
			hammer("", "y@example.com", auth.DefaultFreeFailures),
			{from: "", email: "z@example.com", password: wrong, status: 429},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := throttleFixture(t)
			for i, st := range tc.steps {
				f.clock.Advance(st.advance)
				for n := range max(1, st.times) {
					r := f.attempt(st.from, st.email, st.password)
					if r.status != st.status || st.retryAfter != "" && r.header.Get("Retry-After") != st.retryAfter {
						t.Fatalf("step %d (%s → %s, try %d at +%v): %d %s, Retry-After %q; want %d, Retry-After %q",
							i, st.from, st.email, n+1, f.clock.Now().Sub(t0), r.status, r.body, r.header.Get("Retry-After"), st.status, st.retryAfter)
					}
					if r.status == 429 && r.header.Get("Retry-After") == "" {
						t.Fatalf("step %d: 429 without Retry-After", i)
					}
				}
			}
		})
	}
}

// sprayed: one password tried over n emails (real and made up) from one
// address: the first DefaultAddressFreeFailures are checked, then the
// address waits; another address is not affected.
func sprayed(from string, n int) []try {
	var steps []try
	for i := range n {
		email := fmt.Sprintf("user%d@example.com", i)
		if i%10 == 3 {
			email = []string{adminEmail, analystEmail, agentEmail}[i/10%3]
		}
		st := try{from: from, email: email, password: "Summer2026!", status: 401}
		if i >= auth.DefaultAddressFreeFailures {
			st.status = 429
		}
		steps = append(steps, st)
	}
	return append(steps, try{from: "192.0.2.1", email: analystEmail, password: password, status: 200})
}

// grows: past the free failures each wait doubles from DefaultBaseDelay
// up to DefaultMaxDelay, and a try in the wait is refused without being
// counted.
func grows(from string) []try {
	steps := []try{{from: from, email: analystEmail, password: "not the password", times: auth.DefaultFreeFailures, status: 401}}
	wait := auth.DefaultBaseDelay
	for range 14 {
		steps = append(steps,
			try{from: from, email: analystEmail, password: password, status: 429, retryAfter: seconds(wait)},
			try{from: from, email: analystEmail, password: password, status: 429, retryAfter: seconds(wait - wait/2), advance: wait / 2},
			try{from: from, email: analystEmail, password: "not the password", status: 401, advance: wait / 2})
		wait = min(2*wait, auth.DefaultMaxDelay)
	}
	return append(steps, try{from: from, email: analystEmail, password: password, status: 429, retryAfter: "900"},
		try{from: from, email: analystEmail, password: password, status: 200, advance: auth.DefaultMaxDelay})
}

// seconds is d as Retry-After says it: whole seconds, rounded up.
func seconds(d time.Duration) string { return fmt.Sprint(int(math.Ceil(d.Seconds()))) }

// TestThrottleConcurrent: guesses sent at once are counted as they start,
// so no more than DefaultFreeFailures of them get a password check.
func TestThrottleConcurrent(t *testing.T) {
	f := newFixture(t).withUsers()
	const n = 6 * auth.DefaultFreeFailures
	from := netip.MustParseAddr("203.0.113.5")
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := f.svc.Login(t.Context(), analystEmail, "wrong password!", from)
			switch {
			case errors.Is(err, auth.ErrThrottled):
				codes <- 429
			case errors.Is(err, auth.ErrBadCredentials):
				codes <- 401
			default:
				codes <- 0
			}
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[401] != auth.DefaultFreeFailures || count[429] != n-auth.DefaultFreeFailures {
		t.Errorf("%d guesses at once: %v; want %d checked (401), the rest 429", n, count, auth.DefaultFreeFailures)
	}
}

// TestThrottleByPeerAddress: over real TCP, the client is the peer
// address; X-Forwarded-For, which anyone can send, counts only from a
// trusted proxy.
func TestThrottleByPeerAddress(t *testing.T) {
	tests := []struct {
		name    string
		trusted string
		// the status of the last guess from 127.0.0.2 after
		// DefaultAddressFreeFailures of them, each with a new
		// X-Forwarded-For, and of a guess from 127.0.0.3.
		again, other int
	}{
		{"no trusted proxy: the header is ignored", "", 429, 401},
		{"127.0.0.2 is a trusted proxy: each header is a client", "127.0.0.2", 401, 401},
		{"all of loopback is trusted", "127.0.0.0/8", 401, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trusted, err := auth.ParseTrustedProxies(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, func(o *auth.Options) { o.TrustedProxies = trusted }).withUsers()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = f.app.Listener(ln) }()
			t.Cleanup(func() { _ = f.app.Shutdown() })
			guess := func(from string, i int) int {
				client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
					LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)},
				}).DialContext}}
				defer client.CloseIdleConnections()
				req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/auth/login",
					strings.NewReader(fmt.Sprintf(`{"email":"u%d@example.com","password":"guess"}`, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
				return resp.StatusCode
			}
			for i := range auth.DefaultAddressFreeFailures {
				if code := guess("127.0.0.2", i); code != 401 {
					t.Fatalf("guess %d: %d, want 401", i+1, code)
				}
			}
			if code := guess("127.0.0.2", 100); code != tc.again {
				t.Errorf("one more from 127.0.0.2: %d, want %d", code, tc.again)
			}
			if code := guess("127.0.0.3", 101); code != tc.other {
				t.Errorf("from 127.0.0.3: %d, want %d", code, tc.other)
			}
		})
	}
}
