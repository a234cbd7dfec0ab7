package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// persisted starts a sandbox that keeps its state in path, on clock.
func persisted(t *testing.T, path string, clock sandbox.Clock) (*sandbox.Sandbox, *whatsapp.Client) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{Clock: clock, ManualTemplateReview: true, StatusDelay: time.Millisecond})
	if err := sb.Persist(path); err != nil {
		t.Fatal(err)
	}
	url, err := sb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb, whatsapp.NewClient(url, sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
}

// TestPersistSurvivesRestart: a sandbox restarted on its state file still
// knows its customers (their windows, names and transcripts), the
// templates created through the API with their review, and goes on with
// fresh ids, so no new wamid repeats an old one.
func TestPersistSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sandbox.json")
	clock := sandbox.NewManualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))

	sb, client := persisted(t, path, clock)
	sb.AddCustomer(sandbox.Customer{WaID: phone, Name: "Ann"})
	first, err := sb.CustomerSays(phone, sandbox.Text("hi"))
	if err != nil {
		t.Fatal(err)
	}
	created, err := client.CreateTemplate(ctx, sandbox.DefaultWABAID, whatsapp.Template{Name: "order_shipped", Language: "en_US",
		Category: "UTILITY", Components: []whatsapp.TemplateComponent{{Type: "BODY", Text: "Your order shipped."}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.ApproveTemplate(created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(ctx, whatsapp.NewText(phone, "hello Ann")); err != nil {
		t.Fatal(err)
	}
	before := sb.Transcript(phone)
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}

	clock.Advance(2 * time.Minute)
	again, client := persisted(t, path, clock)
	if !again.WindowOpen(phone) {
		t.Error("the customer's window is closed after the restart; they wrote 2 minutes ago")
	}
	if c, ok := again.Customer(phone); !ok || c.Name != "Ann" {
		t.Errorf("customer after the restart: %+v, %v", c, ok)
	}
	if got := again.Transcript(phone); len(got) != len(before) || len(got) != 2 || got[0].WAMID != first {
		t.Errorf("transcript after the restart: %+v, want %+v", got, before)
	}
	var tmpl *sandbox.Template
	for _, x := range again.Templates() {
		if x.ID == created.ID {
			tmpl = &x
		}
	}
	if tmpl == nil || tmpl.Status != "APPROVED" || tmpl.Name != "order_shipped" {
		t.Fatalf("template after the restart: %+v (all: %+v)", tmpl, again.Templates())
	}
	// A free-form reply inside the window is delivered, not failed with 131047.
	if _, err := client.Send(ctx, whatsapp.NewText(phone, "an agent's answer")); err != nil {
		t.Fatal(err)
	}
	drain(t, again)
	for _, e := range again.Rejected() {
		t.Errorf("rejected after the restart: %+v", e)
	}
	next, err := again.CustomerSays(phone, sandbox.Text("thanks"))
	if err != nil {
		t.Fatal(err)
	}
	for _, turn := range before {
		if turn.WAMID == next {
			t.Errorf("the new message's wamid %s repeats one from before the restart", next)
		}
	}
	// The same name and language exist: Meta refuses a second one.
	_, err = client.CreateTemplate(ctx, sandbox.DefaultWABAID, whatsapp.Template{Name: "order_shipped", Language: "en_US",
		Category: "UTILITY", Components: []whatsapp.TemplateComponent{{Type: "BODY", Text: "Again."}}})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("creating the template again after the restart: %v, want already exists", err)
	}
}

// TestPersistWritesOnChange: the state file follows changes while the
// sandbox runs (a crash keeps them), through a temporary file renamed
// over it, and nothing else is left in its directory.
func TestPersistWritesOnChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sandbox.json")
	sb, _ := persisted(t, path, nil)
	if _, err := sb.CustomerSays(phone, sandbox.Text("hi")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), `"`+phone+`"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state file does not hold the customer after a minute: %s", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "sandbox.json" {
		t.Errorf("the directory holds %v, want only sandbox.json", entries)
	}
}

// TestPersistRefusesBadFile: a state file that cannot be read stops the
// start with the file named, instead of a sandbox that silently forgot.
func TestPersistRefusesBadFile(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":       "{",
		"another format": `{"version": 99}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sandbox.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			sb := sandbox.New(sandbox.Config{})
			defer sb.Close()
			err := sb.Persist(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("Persist: %v, want an error naming %s", err, path)
			}
		})
	}
}

// TestPersistRedeliversWebhooks: a webhook Parley had not acknowledged
// when the sandbox stopped (Parley stopped first, say) is posted again
// after the restart, as Meta posts again what was not acknowledged.
func TestPersistRedeliversWebhooks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	down := newReceiver(t, sandbox.DefaultAppSecret)
	down.fail.Store(1 << 30) // Parley answers nothing but 500
	sb := sandbox.New(sandbox.Config{WebhookURL: down.srv.URL, WebhookRetries: 100, WebhookBackoff: time.Hour})
	if err := sb.Persist(path); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	wamid, err := sb.CustomerSays(phone, sandbox.Text("hi"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for down.posts.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}

	up := newReceiver(t, sandbox.DefaultAppSecret)
	again := sandbox.New(sandbox.Config{WebhookURL: up.srv.URL})
	if err := again.Persist(path); err != nil {
		t.Fatal(err)
	}
	if _, err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	drain(t, again)
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.bodies) != 1 || !strings.Contains(string(up.bodies[0]), wamid) {
		t.Errorf("after the restart, %d webhooks delivered, want the message %s again: %q", len(up.bodies), wamid, up.bodies)
	}
}
