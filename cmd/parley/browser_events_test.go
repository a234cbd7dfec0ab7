package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestBrowserEventWebhooks: an admin subscribes a URL on the Event
// webhooks page, sees the signing secret once, sends a test event, sees a
// customer's events delivered in the deliveries panel, replays one, and
// deletes the subscription after confirming.
func TestBrowserEventWebhooks(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{flows: map[string]string{"ack.json": e2eAckFlow}})
	var mu sync.Mutex
	var types []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		types = append(types, r.Header.Get("Parley-Event-Type"))
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)

	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.open("/events")
	b.wait("events-empty")
	b.fill("subscription-url", "crm.example.com")
	b.waitJS(`document.body.textContent.includes('Not a URL')`, "the URL refused as typed")
	b.fill("subscription-url", rcv.URL+"/parley")
	b.fill("subscription-description", "CRM")
	b.click("subscription-type-message.received")
	b.click("subscription-save")
	b.waitText("events-notice", "Subscribed")
	secret := b.text("events-secret-value")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q", secret)
	}
	b.wait("subscription-row")
	b.shot("subscribed, secret shown once")
	b.click("events-secret-done")
	b.waitJS(`!$t('events-secret')`, "the secret put away")
	if js[bool](b, `document.documentElement.outerHTML.includes(`+quote(secret)+`)`) {
		t.Error("the page still holds the secret")
	}

	b.click("subscription-test")
	b.waitText("events-notice", "Test event delivered")
	h.customer("15550200001", "Cleo")
	h.says("15550200001", sandbox.Inbound{Type: "text", Text: "hello there"})
	eventually(t, e2eTimeout, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(types) == 2
	}, "the customer's message delivered")
	b.click("subscription-deliveries")
	b.wait("delivery-row")
	b.waitText("delivery-status", "delivered (1 attempt)")
	b.click("delivery-replay")
	b.waitText("events-notice", "Replaying 1 delivery")
	eventually(t, e2eTimeout, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(types) == 3
	}, "the replay delivered")
	b.shot("deliveries")
	mu.Lock()
	if strings.Join(types, ",") != "test,message.received,message.received" {
		t.Errorf("received %v", types)
	}
	mu.Unlock()

	b.click("subscription-delete")
	b.click("subscription-delete-confirm")
	b.wait("events-empty")
	if strings.Contains(h.log.String(), secret) {
		t.Error("the server's log holds the secret")
	}
}
