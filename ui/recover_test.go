package ui

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPanicsCostOneRequest: a panic in a handler, in a goroutine the
// webhook starts per customer (byCustomer), or in a response stream (the
// inbox's events) is logged at ERROR with the stack where it happened; the
// request answers 500 (the stream just ends), and the server goes on.
func TestPanicsCostOneRequest(t *testing.T) {
	logs := &lockedBuffer{}
	s := New(Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	// Test routes, registered after the server's own: POST, which the web
	// app's catch-all (GET) does not take.
	s.app.Post("/test/panic", func(c *fiber.Ctx) error { panicInHandler(); return nil })
	s.app.Post("/test/customers", func(c *fiber.Ctx) error {
		return byCustomer([]string{"ann", "bob"}, func(s *string) string { return *s }, func(s *string) error {
			if *s == "bob" {
				panicInCustomer()
			}
			return nil
		})
	})
	s.app.Post("/test/stream", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/event-stream")
		s.streamBody(c, func(w *bufio.Writer) {
			_, _ = w.WriteString("data: first\n\n")
			_ = w.Flush()
			panicInStream()
		})
		return nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.App().Listener(ln) }()
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	base := "http://" + ln.Addr().String()

	tests := []struct {
		path   string
		status int
		body   string
		// log holds the message and the function the stack must name.
		log []string
	}{
		{"/test/panic", 500, `{"error":"` + internalError + `"}`, []string{`level=ERROR msg="request panicked"`, `panic="boom in a handler"`, "ui.panicInHandler"}},
		{"/test/customers", 500, `{"error":"` + internalError + `"}`, []string{`level=ERROR msg="request panicked"`, `panic="boom for a customer"`, "ui.panicInCustomer"}},
		{"/test/stream", 200, "data: first\n\n", []string{`level=ERROR msg="response stream panicked"`, `panic="boom in a stream"`, "ui.panicInStream"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Post(base+tt.path, "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || string(b) != tt.body {
				t.Errorf("answer %d %q, want %d %q", resp.StatusCode, b, tt.status, tt.body)
			}
			if resp.Header.Get(fiber.HeaderXContentTypeOptions) != "nosniff" {
				t.Errorf("the answer lost its security headers: %v", resp.Header)
			}
			for _, want := range tt.log {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log lacks %s:\n%s", want, logs.String())
				}
			}
			// The server lives on.
			resp, err = http.Get(base + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("after the panic, /healthz: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}

// The panics' own functions, for the stacks to name.
func panicInHandler()  { panic("boom in a handler") }
func panicInCustomer() { panic(errors.New("boom for a customer")) }
func panicInStream()   { panic("boom in a stream") }
