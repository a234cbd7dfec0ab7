package httpcall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRefusedAddresses is the SSRF table: what is refused by default, and
// what an allow list lets through.
func TestRefusedAddresses(t *testing.T) {
	tests := []struct {
		ip      string
		refused bool
	}{
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"100.64.0.1", true}, // CGNAT
		{"100.128.0.1", false},
		{"169.254.169.254", true}, // cloud metadata
		{"169.254.1.1", true},     // link-local
		{"fd00:ec2::254", true},   // AWS metadata over IPv6
		{"fd12:3456::1", true},    // ULA
		{"fe80::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"255.255.255.255", true},
		{"64:ff9b::7f00:1", true}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", false},
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		{"2606:4700:4700::1111", false},
	}
	for _, tc := range tests {
		ip := netip.MustParseAddr(tc.ip)
		if got := Refused(ip) != ""; got != tc.refused {
			t.Errorf("Refused(%s) = %q, want refused=%v", tc.ip, Refused(ip), tc.refused)
		}
	}

	al, err := parseAllow([]string{"LocalHost.", "10.0.0.0/8", "192.168.1.5", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		ok   bool
	}{
		{"host:localhost", true}, {"host:other", false},
		{"ip:10.9.9.9", true}, {"ip:192.168.1.5", true}, {"ip:192.168.1.6", false}, {"ip:::1", true}, {"ip:127.0.0.1", false},
	} {
		kind, v, _ := strings.Cut(tc.what, ":")
		var got bool
		if kind == "host" {
			got = al.host(v)
		} else {
			got = al.ip(netip.MustParseAddr(v))
		}
		if got != tc.ok {
			t.Errorf("allow %s = %v, want %v", tc.what, got, tc.ok)
		}
	}
	for _, bad := range []string{"http://x/", "x:port", ":80"} {
		if _, err := parseAllow([]string{bad}); err == nil {
			t.Errorf("%q in the allow list was accepted", bad)
		}
	}
}

func client(t *testing.T, allow ...string) *Client {
	t.Helper()
	c, err := New(Options{Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func port(t *testing.T, srv *httptest.Server) string {
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// TestLoopbackRefusedUnlessAllowed calls a real loopback server: by IP
// and by a name that resolves to it (the check is after DNS), then with
// each allowed.
func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	p := port(t, srv)
	ctx := context.Background()
	for _, tc := range []struct {
		url   string
		allow []string
		ok    bool
	}{
		{"http://127.0.0.1:" + p + "/", nil, false},
		{"http://localhost:" + p + "/", nil, false},
		{"http://127.0.0.1:" + p + "/", []string{"127.0.0.1"}, true},
		{"http://127.0.0.1:" + p + "/", []string{"127.0.0.0/8"}, true},
		{"http://localhost:" + p + "/", []string{"localhost"}, true},
		{"http://127.0.0.1:" + p + "/", []string{"localhost"}, false},
		{"http://127.0.0.1:" + p + "/", []string{"127.0.0.1:" + p}, true},
		{"http://localhost:" + p + "/", []string{"localhost:" + p}, true},
		{"http://127.0.0.1:" + p + "/", []string{"127.0.0.1:1"}, false},
	} {
		res := client(t, tc.allow...).Do(ctx, Request{Method: "GET", URL: tc.url, Timeout: 5 * time.Second})
		if tc.ok && (res.Err != nil || res.Status != 200) {
			t.Errorf("%s allow %v: %v %d, want 200", tc.url, tc.allow, res.Err, res.Status)
		}
		if !tc.ok {
			if !errors.Is(res.Err, ErrRefusedAddress) || res.Retriable {
				t.Errorf("%s allow %v: %v (retriable %v), want refused for good", tc.url, tc.allow, res.Err, res.Retriable)
			}
		}
	}
	if hits != 5 {
		t.Errorf("server saw %d calls, want the 5 allowed", hits)
	}
}

// TestRedirectToRefusedAddress: an allowed server redirecting to a
// refused address is refused at the redirect's dial.
func TestRedirectToRefusedAddress(t *testing.T) {
	inner := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner++ }))
	defer target.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/admin", http.StatusFound)
	}))
	defer front.Close()
	// The front is reached by an allowed name; the redirect names the IP.
	res := client(t, "localhost").Do(context.Background(), Request{Method: "GET", URL: "http://localhost:" + port(t, front) + "/", Timeout: 5 * time.Second})
	if !errors.Is(res.Err, ErrRefusedAddress) {
		t.Fatalf("redirect to 127.0.0.1: %v, want refused", res.Err)
	}
	if inner != 0 {
		t.Fatal("the redirect's target was called")
	}
}

// TestAnswers: what each kind of answer gives, against real loopback
// servers.
func TestAnswers(t *testing.T) {
	var gotKey, gotBody, gotType, gotAuth string
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		gotKey, gotType, gotAuth = r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"shipped","n":3}`)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Bad gateway</body></html>")
	})
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such order", 404) })
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "down", 503)
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) })
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 100)) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 101)) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// 2 GB announced, streamed until the client hangs up.
		w.Header().Set("Content-Length", "2147483648")
		buf := make([]byte, 32<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		// Endless, chunked: no length to refuse up front.
		buf := make([]byte, 32<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	// The slow ones read the request first: only then does the server
	// notice the client hanging up, which ends the handler.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
	mux.HandleFunc("/slowbody", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("{"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := New(Options{Allow: []string{"127.0.0.1"}, MaxBody: 100})
	if err != nil {
		t.Fatal(err)
	}
	do := func(path string, timeout time.Duration) Result {
		return c.Do(context.Background(), Request{Method: "POST", URL: srv.URL + path, Timeout: timeout,
			Body: []byte(`{"a":1}`), Headers: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer t"}, IdempotencyKey: "conv#1:3"})
	}

	res := do("/json", 5*time.Second)
	if res.Err != nil || res.Status != 200 || res.Retriable {
		t.Fatalf("json: %+v", res)
	}
	if m, _ := res.JSON.(map[string]any); m["status"] != "shipped" || res.Text != `{"status":"shipped","n":3}` {
		t.Errorf("json: %#v %q", res.JSON, res.Text)
	}
	if gotKey != "conv#1:3" || gotBody != `{"a":1}` || gotType != "application/json" || gotAuth != "Bearer t" {
		t.Errorf("the server got key %q body %q type %q auth %q", gotKey, gotBody, gotType, gotAuth)
	}

	tests := []struct {
		path       string
		timeout    time.Duration
		status     int
		err        error
		retriable  bool
		retryAfter time.Duration
		text       string
	}{
		{path: "/html", status: 200, text: "<html><body>Bad gateway</body></html>"},
		{path: "/404", status: 404, text: "no such order\n"},
		{path: "/503", status: 503, retriable: true, retryAfter: 7 * time.Second, text: "down\n"},
		{path: "/429", status: 429, retriable: true},
		{path: "/exact", status: 200, text: string(make([]byte, 100))},
		{path: "/big", status: 200, err: ErrTooLarge},
		{path: "/huge", status: 200, err: ErrTooLarge},
		{path: "/stream", status: 200, err: ErrTooLarge},
		{path: "/slow", timeout: 200 * time.Millisecond, err: ErrTimeout, retriable: true},
		{path: "/slowbody", timeout: 200 * time.Millisecond, err: ErrTimeout, retriable: true},
		{path: "/reset", err: ErrNetwork, retriable: true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			res := do(tc.path, timeout)
			if res.Status != tc.status || !errors.Is(res.Err, tc.err) || (tc.err == nil) != (res.Err == nil) || res.Retriable != tc.retriable || res.RetryAfter != tc.retryAfter {
				t.Errorf("got status %d err %v retriable %v retry-after %s; want %d %v %v %s", res.Status, res.Err, res.Retriable, res.RetryAfter, tc.status, tc.err, tc.retriable, tc.retryAfter)
			}
			if tc.err == nil && res.Text != tc.text {
				t.Errorf("text %q, want %q", res.Text, tc.text)
			}
			if tc.err == nil && tc.path == "/html" && res.JSON != nil {
				t.Errorf("html parsed as JSON: %v", res.JSON)
			}
			if res.Err != nil && strings.Contains(res.Err.Error(), srv.URL) {
				t.Errorf("the error names the URL (which may hold a secret): %v", res.Err)
			}
			if tc.timeout > 0 && res.Duration > tc.timeout+5*time.Second {
				t.Errorf("took %s with a %s timeout", res.Duration, tc.timeout)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	c := client(t, "127.0.0.1")
	for _, tc := range []Request{
		{Method: "GET", URL: "ftp://127.0.0.1/"},
		{Method: "GET", URL: "http://u:p@127.0.0.1/"},
		{Method: "GET", URL: "http://127.0.0.1:1/", Headers: map[string]string{"X": "a\r\nHost: evil"}},
	} {
		res := c.Do(context.Background(), tc)
		if !errors.Is(res.Err, ErrRequest) || res.Retriable {
			t.Errorf("%s %q: %v (retriable %v), want a request error for good", tc.URL, tc.Headers, res.Err, res.Retriable)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "x": 0,
		"Thu, 01 Jan 2026 12:00:30 GMT": 30 * time.Second,
		"Thu, 01 Jan 2026 11:00:00 GMT": 0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}
