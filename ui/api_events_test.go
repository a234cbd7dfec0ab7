package ui_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
)

// TestEventSubscriptionsAPI walks a subscription's life through the API:
// created (its secret shown once), listed and read without it, refused
// bad settings, a test event and a real one delivered signed, its
// deliveries listed, replayed, the secret rotated, deleted.
func TestEventSubscriptionsAPI(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var secret string
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := events.Verify(secret, r.Header.Get(events.HeaderSignature), body, f.clock.Now(), events.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got = append(got, r.Header.Get(events.HeaderEventType))
	}))
	t.Cleanup(rcv.Close)
	call := func(method, url, body string, want int) []byte {
		t.Helper()
		status, out := f.do(method, "/api/v1"+url, body, nil)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, url, status, out, want)
		}
		return out
	}

	out := call("POST", "/event-subscriptions", fmt.Sprintf(`{"url":%q,"types":["contact.opted_in"],"description":"CRM"}`, rcv.URL), http.StatusCreated)
	created := decode[struct {
		Subscription events.Info
		Secret       string
	}](t, out)
	id := created.Subscription.ID
	mu.Lock()
	secret = created.Secret
	mu.Unlock()
	if !strings.HasPrefix(secret, "whsec_") || !created.Subscription.Enabled || created.Subscription.CreatedBy != "admin@parley.test" {
		t.Fatalf("created %s", out)
	}
	for _, u := range []string{"/event-subscriptions", "/event-subscriptions/" + id} {
		if out := call("GET", u, "", http.StatusOK); strings.Contains(string(out), secret) || strings.Contains(string(out), "sealed") || !strings.Contains(string(out), id) {
			t.Fatalf("GET %s: %s", u, out)
		}
	}
	for _, body := range []string{`{"url":"ftp://x"}`, `{"types":["nope"]}`, `{"url":`} {
		call("PUT", "/event-subscriptions/"+id, body, http.StatusBadRequest)
	}
	call("POST", "/event-subscriptions", `{"types":["contact.opted_in"]}`, http.StatusBadRequest)
	call("GET", "/event-subscriptions/sub_nope", "", http.StatusNotFound)

	if a := decode[events.Attempt](t, call("POST", "/event-subscriptions/"+id+"/test", "", http.StatusOK)); a.Status != 200 || a.Error != "" {
		t.Fatalf("test event: %+v", a)
	}
	key := model.NewContactKey("100000000000001", "15550001111")
	if _, err := f.eng.RecordConsent(f.ctx, key, model.ConsentEvent{Kind: model.ConsentOptIn, Source: model.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.events.Pass(f.ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if strings.Join(got, ",") != "test,contact.opted_in" {
		t.Fatalf("received %v", got)
	}
	mu.Unlock()
	page := decode[struct {
		Deliveries []events.Delivery
		Next       uint64
	}](t, call("GET", "/event-subscriptions/"+id+"/deliveries?state=delivered", "", http.StatusOK))
	if len(page.Deliveries) != 1 || page.Deliveries[0].Event.Type != model.EventContactOptedIn || page.Deliveries[0].AttemptCount != 1 || page.Next != 0 {
		t.Fatalf("deliveries %+v", page)
	}
	seq := page.Deliveries[0].Seq
	call("GET", "/event-subscriptions/"+id+"/deliveries?state=lost", "", http.StatusBadRequest)
	if out := call("POST", fmt.Sprintf("/event-subscriptions/%s/deliveries/%d/replay", id, seq), "", http.StatusOK); string(out) != `{"replayed":1}` {
		t.Fatalf("replay: %s", out)
	}
	if out := call("POST", "/event-subscriptions/"+id+"/replay-failed", "", http.StatusOK); string(out) != `{"replayed":0}` {
		t.Fatalf("replay failed: %s", out)
	}
	if _, err := f.events.Pass(f.ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(got) != 3 {
		t.Fatalf("after the replay, received %v", got)
	}
	mu.Unlock()

	rotated := decode[struct {
		Subscription events.Info
		Secret       string
	}](t, call("PUT", "/event-subscriptions/"+id, `{"rotate_secret":true,"enabled":false}`, http.StatusOK))
	if rotated.Secret == "" || rotated.Secret == secret || rotated.Subscription.Enabled {
		t.Fatalf("rotated %+v", rotated)
	}
	var plain map[string]any
	_ = json.Unmarshal(call("PUT", "/event-subscriptions/"+id, `{"description":"CRM (EU)"}`, http.StatusOK), &plain)
	if _, ok := plain["secret"]; ok {
		t.Fatalf("an update without rotation shows a secret: %v", plain)
	}
	call("DELETE", "/event-subscriptions/"+id, "", http.StatusNoContent)
	call("DELETE", "/event-subscriptions/"+id, "", http.StatusNotFound)
	call("GET", "/event-subscriptions/"+id+"/deliveries", "", http.StatusNotFound)
}
