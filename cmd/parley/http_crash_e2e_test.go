package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// httpCrashFlow writes a lead to the test's CRM with an http step, then
// tells the customer the lead's id.
const httpCrashFlow = `{
  "format": "parley/flow@1",
  "id": "lead",
  "start": "save",
  "triggers": [{"type": "any"}],
  "nodes": [
    {"id": "save", "type": "http", "method": "POST", "url": "CRM/leads",
     "body": {"phone": "{{ contact.wa_id }}", "text": "{{ reply.text }}"},
     "timeout": "1s", "save_as": "lead", "next": "done", "on_error": "sorry"},
    {"id": "done", "type": "send", "message": {"type": "text", "text": "lead {{ vars.lead.json.id }} saved"}},
    {"id": "sorry", "type": "send", "message": {"type": "text", "text": "sorry: {{ vars.lead.status }}"}}
  ]
}`

// TestHTTPStepCrashE2E runs `parley serve` as a subprocess, lets a
// customer reach an http step, and SIGKILLs Parley while the call is in
// flight (the CRM holds it). The restarted Parley makes the call again
// with the same Idempotency-Key once the attempt's lease has run out, and
// the flow goes on exactly once: one lead answer, one reply.
func TestHTTPStepCrashE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a Parley subprocess; skipped with -short")
	}
	type call struct{ key, body string }
	var (
		mu    sync.Mutex
		calls []call
	)
	arrived := make(chan struct{}, 8)
	hold := make(chan struct{}) // closed once Parley is dead: the first call never answers it
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, call{r.Header.Get("Idempotency-Key"), string(b)})
		n := len(calls)
		mu.Unlock()
		arrived <- struct{}{}
		if n == 1 {
			<-hold
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id": "L%d"}`, n)
	}))
	defer crm.Close()
	defer func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}()

	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flowsDir, dataDir := filepath.Join(dir, "flows"), filepath.Join(dir, "data")
	if err := os.MkdirAll(flowsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flowsDir, "lead.json"), []byte(strings.Replace(httpCrashFlow, "CRM", crm.URL, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := crashFreeAddr(t)
	sb := sandbox.New(sandbox.Config{WebhookURL: "http://" + addr + "/webhook/whatsapp", Throughput: -1, PairInterval: -1,
		StatusDelay: 10 * time.Millisecond, WebhookRetries: 3, WebhookBackoff: 50 * time.Millisecond, WebhookTimeout: 5 * time.Second})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	logPath := filepath.Join(dir, "parley.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	start := func() (*exec.Cmd, chan error) {
		cmd := exec.Command(bin, "serve", "-addr", addr, "-log-level", "info", "-timer-interval", "50ms")
		cmd.Env = append(os.Environ(),
			"WHATSAPP_API_URL="+sb.GraphURL(),
			"WHATSAPP_ACCESS_TOKEN="+sandbox.DefaultAccessToken,
			"WHATSAPP_APP_SECRET="+sandbox.DefaultAppSecret,
			"WHATSAPP_PHONE_NUMBER_ID="+sandbox.DefaultPhoneNumberID,
			"WHATSAPP_WABA_ID="+sandbox.DefaultWABAID,
			"WHATSAPP_VERIFY_TOKEN=crash-verify",
			"PARLEY_DATA="+dataDir,
			"PARLEY_FLOWS="+flowsDir,
			"PARLEY_HTTP_ALLOW_HOSTS="+strings.TrimPrefix(crm.URL, "http://"), // that port only
		)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(e2eTimeout)
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return cmd, done
				}
			}
			select {
			case err := <-done:
				t.Fatalf("parley exited at start: %v\n%s", err, crashTail(logPath))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("parley not ready\n%s", crashTail(logPath))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	proc, exited := start()
	const customer = "15550001111"
	if _, err := sb.CustomerSays(customer, sandbox.Inbound{Type: "text", Text: "call me about solar"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(e2eTimeout):
		t.Fatalf("the CRM was never called\n%s", crashTail(logPath))
	}
	// The call is in flight: kill Parley mid-call.
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	close(hold)
	proc, exited = start()
	defer func() {
		proc.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	select {
	case <-arrived: // after the lease (timeout 1s + 10s) ran out
	case <-time.After(e2eTimeout):
		t.Fatalf("the call was not repeated after the restart\n%s", crashTail(logPath))
	}
	deadline := time.Now().Add(e2eTimeout)
	var replies []string
	for {
		replies = replies[:0]
		for _, turn := range sb.Transcript(customer) {
			if turn.From == "business" {
				replies = append(replies, turn.Text)
			}
		}
		if len(replies) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Give a second, wrong continuation every chance to show.
	if err := sb.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	replies = replies[:0]
	for _, turn := range sb.Transcript(customer) {
		if turn.From == "business" {
			replies = append(replies, turn.Text)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[0].key == "" || calls[0].key != calls[1].key || calls[0].body != calls[1].body {
		t.Fatalf("CRM calls %+v, want the same call twice with one key\n%s", calls, crashTail(logPath))
	}
	if len(replies) != 1 || replies[0] != "lead L2 saved" {
		t.Fatalf("replies %q, want one \"lead L2 saved\"\n%s", replies, crashTail(logPath))
	}
	log, _ := os.ReadFile(logPath)
	if strings.Contains(string(log), "call me about solar") {
		t.Error("the customer's text is in the log")
	}
	t.Logf("key %s repeated once after SIGKILL; body %s", calls[0].key, calls[0].body)
}
