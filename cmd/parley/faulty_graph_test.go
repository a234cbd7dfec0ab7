package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// graphFault is what the faulty Graph double does with one send.
type graphFault int

const (
	passThrough    graphFault = iota
	answer503                 // HTTP 503 with a proxy's HTML page, no Meta envelope
	answer429                 // HTTP 429, no envelope
	tokenExpired              // Meta's 190
	throughput                // Meta's 130429
	resetUnsent               // the connection reset before the send reached the sandbox
	dropAfterTaken            // the sandbox took the send; the answer never comes
)

func (f graphFault) String() string {
	return [...]string{"pass", "503", "429", "190", "130429", "reset", "drop-after-taken"}[f]
}

// faultyGraph stands between Parley and the sandbox's Graph API, on a
// loopback port of its own that it can stop listening on (connections
// refused) and listen on again. While up, fault decides, per send (POST
// …/messages), what goes wrong; every other call passes.
type faultyGraph struct {
	t       testing.TB
	addr    string
	version string // the Graph API's version path, "/v23.0"
	proxy   *httputil.ReverseProxy

	mu     sync.Mutex
	srv    *http.Server
	fault  func() graphFault
	counts map[graphFault]int
	// held, when set, holds the answer of a dropAfterTaken send until it
	// is closed: Meta's statuses overtake the send's own outcome.
	held chan struct{}
}

// newFaultyGraph fronts the Graph API at graphURL ("http://host:port/v23.0").
func newFaultyGraph(t testing.TB, graphURL string) *faultyGraph {
	t.Helper()
	u, err := url.Parse(graphURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := &url.URL{Scheme: u.Scheme, Host: u.Host}
	g := &faultyGraph{t: t, addr: ln.Addr().String(), version: u.Path, proxy: httputil.NewSingleHostReverseProxy(target),
		counts: map[graphFault]int{}}
	g.serve(ln)
	t.Cleanup(g.down)
	return g
}

// URL is the Graph API's base URL through the double.
func (g *faultyGraph) URL() string { return "http://" + g.addr + g.version }

// setFault sets what happens to the next sends (nil: nothing).
func (g *faultyGraph) setFault(f func() graphFault) {
	g.mu.Lock()
	g.fault = f
	g.mu.Unlock()
}

// always is a fault for every send.
func always(f graphFault) func() graphFault { return func() graphFault { return f } }

// count is how many sends met fault f.
func (g *faultyGraph) count(f graphFault) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts[f]
}

func (g *faultyGraph) serve(ln net.Listener) {
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	g.mu.Lock()
	g.srv = srv
	g.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.t.Errorf("faulty graph: %v", err)
		}
	}()
}

// down stops listening and closes every connection: sends are refused.
func (g *faultyGraph) down() {
	g.mu.Lock()
	srv := g.srv
	g.srv = nil
	g.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (g *faultyGraph) up() {
	g.t.Helper()
	var ln net.Listener
	deadline := time.Now().Add(e2eTimeout)
	for {
		var err error
		if ln, err = net.Listen("tcp", g.addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("faulty graph: listening on %s again: %v", g.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.serve(ln)
}

func (g *faultyGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := passThrough
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages") {
		g.mu.Lock()
		if g.fault != nil {
			f = g.fault()
		}
		g.counts[f]++
		g.mu.Unlock()
	}
	meta := func(status, code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"(#%d) %s","type":"OAuthException","code":%d,"fbtrace_id":"faulty"}}`, code, msg, code)
	}
	switch f {
	case passThrough:
		g.proxy.ServeHTTP(w, r)
	case answer503:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><body>503 Service Unavailable</body></html>")
	case answer429:
		w.WriteHeader(http.StatusTooManyRequests)
	case tokenExpired:
		meta(http.StatusUnauthorized, 190, "Error validating access token: Session has expired")
	case throughput:
		meta(http.StatusBadRequest, 130429, "Rate limit hit")
	case resetUnsent:
		hangUp(w)
	case dropAfterTaken:
		g.proxy.ServeHTTP(discard{w.Header()}, r)
		g.mu.Lock()
		held := g.held
		g.mu.Unlock()
		if held != nil {
			<-held
		}
		hangUp(w)
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, not a polite close
		}
		conn.Close()
	}
}

// discard is a ResponseWriter that throws the answer away.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return http.Header{} }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
