package ui_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// listen serves srv on a loopback port until the test ends.
func listen(t *testing.T, srv *ui.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	return ln.Addr().String()
}

// rawRequest is one request written by hand on a connection of its own,
// so that a test says exactly what goes on the wire: a Content-Length
// that is not the body's, a chunked body, a body sent in part or slowly.
type rawRequest struct {
	method, path string
	header       map[string]string
	body         []byte
	chunked      bool
	// declared is the Content-Length sent (default: the body's length).
	declared int
	// send is how much of the body is written (default all); the
	// connection then stays open, waiting for the answer.
	send int
	// pace, when set, writes the body a piece at a time, one per tick.
	piece int
	pace  time.Duration
}

// rawAnswer is what came back: the status (0 when the connection ended
// without an answer), the headers, the body, and whether the server
// closes the connection.
type rawAnswer struct {
	status int
	header http.Header
	body   string
	closed bool
}

// do sends the request and reads the answer. The body is written on a
// goroutine of its own, as a client does: the server may answer (and
// close) before it has all of it.
func (r rawRequest) do(t *testing.T, addr string) rawAnswer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: parley.test\r\n", r.method, r.path)
	for k, v := range r.header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	if r.chunked {
		head.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		declared := r.declared
		if declared == 0 {
			declared = len(r.body)
		}
		fmt.Fprintf(&head, "Content-Length: %d\r\n", declared)
	}
	head.WriteString("\r\n")
	send := r.send
	if send == 0 {
		send = len(r.body)
	}
	piece := r.piece
	if piece == 0 {
		piece = 32 << 10
	}
	answered := make(chan struct{})
	defer close(answered)
	go func() {
		if _, err := io.WriteString(conn, head.String()); err != nil {
			return
		}
		for off := 0; off < send; off += piece {
			p := r.body[off:min(off+piece, send)]
			var err error
			if r.chunked {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(p), p)
			} else {
				_, err = conn.Write(p)
			}
			if err != nil {
				return // the server answered and closed: fine
			}
			if r.pace > 0 {
				select {
				case <-time.After(r.pace):
				case <-answered:
					return
				}
			}
		}
		if r.chunked && send == len(r.body) {
			_, _ = io.WriteString(conn, "0\r\n\r\n")
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return rawAnswer{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(b), closed: resp.Close}
}

// sized is a JSON object of exactly n bytes: head, then padding in a
// string, then the closing.
func sized(n int, head string) []byte {
	tail := `"}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// TestBodyLimits: every class of route takes a body up to its cap and
// refuses one past it with 413 — a Content-Length over the cap before
// the body is sent (only fasthttp's 8 KiB read-ahead is), a chunked body
// as it crosses the cap — and closes the connection, whose rest of body
// cannot be read as a request. A route that needs a user answers 401 to
// no one before reading a byte of its body.
func TestBodyLimits(t *testing.T) {
	f := newFixture(t)
	addr := listen(t, f.srv)
	token := map[string]string{"Authorization": "Bearer " + f.tokenFor(fixtureAdmin), "Content-Type": "application/json"}
	csv := map[string]string{"Authorization": token["Authorization"], "Content-Type": "text/csv"}
	signed := func(body []byte) map[string]string {
		return map[string]string{whatsapp.SignatureHeader: whatsapp.Sign(body, sandbox.DefaultAppSecret), "Content-Type": "application/json"}
	}
	const readAhead = 8<<10 + 1 // what fasthttp reads before the server sees the request

	webhookAtCap := sized(whatsapp.MaxWebhookBytes, `{"object":"whatsapp_business_account","entry":[],"pad":"`)
	webhookOver := sized(whatsapp.MaxWebhookBytes+1, `{"object":"whatsapp_business_account","entry":[],"pad":"`)
	// A flow padded with blanks: cheaper to parse than a long name.
	flowOf := func(n int) []byte {
		head, tail := `{"id": "big", "name": "Big"`, `}`
		return []byte(head + strings.Repeat(" ", n-len(head)-len(tail)) + tail)
	}
	flowAtCap, flowOver := flowOf(flows.MaxFlowBytes), flowOf(flows.MaxFlowBytes+1)
	csvRow := func(n int) []byte {
		head := "phone,name\n15551234567,"
		return []byte(head + strings.Repeat("x", n-len(head)))
	}
	smallAtCap := sized(ui.DefaultBodyBytes, `{"name": "`)
	smallOver := sized(ui.DefaultBodyBytes+1, `{"name": "`)
	badJSON := []byte(`{"object": "whatsapp_business_account", "entry": [`)

	tests := []struct {
		name string
		req  rawRequest
		// status is the answer's; keepAlive: the connection stays open.
		status    int
		keepAlive bool
		want      string
	}{
		{name: "webhook: at the cap", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: webhookAtCap, header: signed(webhookAtCap)}, status: 200, keepAlive: true},
		{name: "webhook: at the cap, chunked", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: webhookAtCap, header: signed(webhookAtCap), chunked: true}, status: 200, keepAlive: true},
		{name: "webhook: Content-Length over the cap", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: webhookOver, header: signed(webhookOver), send: readAhead}, status: 413, want: "the body is over 1048576 bytes"},
		{name: "webhook: chunked over the cap", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: webhookOver, header: signed(webhookOver), chunked: true}, status: 413},
		{name: "webhook: bad signature", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: webhookAtCap, header: map[string]string{whatsapp.SignatureHeader: "sha256=00"}}, status: 401, keepAlive: true},
		{name: "webhook: bad JSON", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: badJSON, header: signed(badJSON)}, status: 400, keepAlive: true},
		{name: "webhook: compressed", req: rawRequest{method: "POST", path: "/webhook/whatsapp", body: badJSON, header: map[string]string{"Content-Encoding": "gzip"}}, status: 415},

		{name: "flow: at the cap", req: rawRequest{method: "PUT", path: "/api/v1/flows/big", body: flowAtCap, header: token}, status: 200, keepAlive: true, want: `"valid":false`},
		{name: "flow: validate at the cap, chunked", req: rawRequest{method: "POST", path: "/api/v1/flows/validate", body: flowAtCap, header: token, chunked: true}, status: 200, keepAlive: true, want: `"valid":false`},
		{name: "flow: Content-Length over the cap", req: rawRequest{method: "PUT", path: "/api/v1/flows/big", body: flowOver, header: token, send: readAhead}, status: 413},
		{name: "flow: chunked over the cap", req: rawRequest{method: "PUT", path: "/api/v1/flows/big", body: flowOver, header: token, chunked: true}, status: 413},
		{name: "flow: validate, chunked over the cap", req: rawRequest{method: "POST", path: "/api/v1/flows/validate", body: flowOver, header: token, chunked: true}, status: 413},
		{name: "flow: signed out, not read", req: rawRequest{method: "PUT", path: "/api/v1/flows/big", body: flowAtCap, send: readAhead}, status: 401},
		{name: "flow: signed out, chunked, not read", req: rawRequest{method: "PUT", path: "/api/v1/flows/big", body: flowAtCap, chunked: true, send: readAhead}, status: 401},

		{name: "import: at the cap", req: rawRequest{method: "POST", path: "/api/v1/contacts/import?dry_run=true", body: csvRow(consent.MaxImportBytes), header: csv}, status: 422, keepAlive: true},
		{name: "import: Content-Length over the cap", req: rawRequest{method: "POST", path: "/api/v1/contacts/import", body: csvRow(consent.MaxImportBytes + 1), header: csv, send: readAhead}, status: 413},
		{name: "import: chunked over the cap", req: rawRequest{method: "POST", path: "/api/v1/contacts/import", body: csvRow(consent.MaxImportBytes + 1), header: csv, chunked: true}, status: 413},

		{name: "other: at the cap", req: rawRequest{method: "POST", path: "/api/v1/contacts", body: smallAtCap, header: token}, status: 400, keepAlive: true},
		{name: "other: at the cap, chunked", req: rawRequest{method: "POST", path: "/api/v1/contacts", body: smallAtCap, header: token, chunked: true}, status: 400, keepAlive: true},
		{name: "other: Content-Length over the cap", req: rawRequest{method: "POST", path: "/api/v1/contacts", body: smallOver, header: token, send: readAhead}, status: 413},
		{name: "other: chunked over the cap", req: rawRequest{method: "POST", path: "/api/v1/contacts", body: smallOver, header: token, chunked: true}, status: 413},
		{name: "other: a flow's size on a small route", req: rawRequest{method: "POST", path: "/api/v1/contacts", body: flowAtCap, header: token, send: readAhead}, status: 413},
		{name: "sign-in: chunked over the cap", req: rawRequest{method: "POST", path: "/api/v1/auth/login", body: smallOver, header: map[string]string{"Content-Type": "application/json"}, chunked: true}, status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.req.do(t, addr)
			if got.status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", got.status, tt.status, got.body)
			}
			if got.closed == tt.keepAlive {
				t.Errorf("connection closed: %v, want %v", got.closed, !tt.keepAlive)
			}
			if !strings.Contains(got.body, tt.want) {
				t.Errorf("body %.300s, want %s", got.body, tt.want)
			}
		})
	}

	// The webhook's refusals are counted.
	if _, body := f.do("GET", "/metrics", "", nil); !bytes.Contains(body, []byte(`parley_webhooks_total{result="too_large"} 2`)) {
		t.Errorf("/metrics does not count the two webhooks too large:\n%s", body)
	}
}

// TestSlowUploadsHoldLittleMemory: 100 connections upload slowly at once.
// Each holds a connection and what it has sent so far, never its declared
// size, and is cut off at the read deadline with 408; past the body
// memory, requests are refused with 503 rather than held.
func TestSlowUploadsHoldLittleMemory(t *testing.T) {
	const (
		conns       = 100
		readTimeout = time.Second
	)
	webhook := func(size, piece int, pace time.Duration) rawRequest {
		return rawRequest{method: "POST", path: "/webhook/whatsapp", body: make([]byte, size), piece: piece, pace: pace}
	}
	tests := []struct {
		name       string
		req        rawRequest
		bodyMemory int64
		// maxGrowth bounds the live heap's growth; the statuses are the
		// answers allowed.
		maxGrowth int64
		statuses  []int
	}{
		{
			// fasthttp's 8 KiB read-ahead never fills: it times out itself.
			name: "declared 5 MiB, a trickle", req: webhook(5<<20, 512, 100*time.Millisecond),
			maxGrowth: 4 << 20, statuses: []int{http.StatusRequestTimeout},
		},
		{
			// Read as it comes (64 KiB held each), until the deadline.
			name: "declared 1 MiB (the webhook's cap), slowly", req: webhook(whatsapp.MaxWebhookBytes, 2<<10, 50*time.Millisecond),
			maxGrowth: 12 << 20, statuses: []int{http.StatusRequestTimeout},
		},
		{
			// Faster: 100 × 320 KiB = 32 MiB would arrive; the body memory
			// (8 MiB, reserved up to twice as buffers grow) stops it. The
			// bound leaves room for a busy machine's lagging GC (17.3 MiB
			// seen at load 14).
			name: "declared 1 MiB, faster, over the body memory", req: webhook(whatsapp.MaxWebhookBytes, 16<<10, 50*time.Millisecond), bodyMemory: 8 << 20,
			maxGrowth: 24 << 20, statuses: []int{http.StatusRequestTimeout, http.StatusServiceUnavailable},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			srv := ui.New(ui.Config{Engine: f.eng, Auth: f.auth, AppSecret: sandbox.DefaultAppSecret, Logger: slog.New(slog.DiscardHandler),
				ReadTimeout: readTimeout, BodyMemory: tt.bodyMemory})
			addr := listen(t, srv)
			before := liveHeap()

			var wg sync.WaitGroup
			answers := make(chan rawAnswer, conns)
			start := time.Now()
			for range conns {
				wg.Go(func() { answers <- tt.req.do(t, addr) })
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			peak := before
			for sampling := true; sampling; {
				select {
				case <-done:
					sampling = false
				case <-time.After(100 * time.Millisecond):
					peak = max(peak, liveHeap())
				}
			}
			took := time.Since(start)
			close(answers)
			got := map[int]int{}
			for a := range answers {
				got[a.status]++
				if !slices.Contains(tt.statuses, a.status) {
					t.Errorf("answer %d %q, want one of %v", a.status, a.body, tt.statuses)
				}
				if a.status == http.StatusServiceUnavailable && a.header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
			}
			growth := int64(peak) - int64(before)
			t.Logf("%d slow uploads: live heap grew by at most %.1f MiB; answers %v after %v", conns, float64(growth)/(1<<20), got, took.Round(10*time.Millisecond))
			if growth > tt.maxGrowth {
				t.Errorf("live heap grew by %.1f MiB, more than %.1f", float64(growth)/(1<<20), float64(tt.maxGrowth)/(1<<20))
			}
			if len(tt.statuses) > 1 && len(got) < len(tt.statuses) {
				t.Errorf("answers %v, want each of %v", got, tt.statuses)
			}
			if took > readTimeout+10*time.Second {
				t.Errorf("the uploads took %v to be cut off; the read timeout is %v", took, readTimeout)
			}
		})
	}
}

// liveHeap is the heap in use after a collection: what is reachable.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
