package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// hookReceiver is a business's event endpoint on loopback: it answers 503
// while down, refuses connections while gone, and otherwise takes events,
// refusing any whose signature does not verify.
type hookReceiver struct {
	t     *testing.T
	clock engine.Clock
	mu    sync.Mutex
	addr  string
	srv   *http.Server
	down  bool
	// secret is the subscription's, from the API.
	secret   string
	refused  int // 503s answered
	got      []model.Event
	received map[string]int
}

func newHookReceiver(t *testing.T, clock engine.Clock) *hookReceiver {
	r := &hookReceiver{t: t, clock: clock, down: true, received: map[string]int{}}
	r.listen("127.0.0.1:0")
	t.Cleanup(r.gone)
	return r
}

func (r *hookReceiver) listen(addr string) {
	r.t.Helper()
	var ln net.Listener
	eventually(r.t, e2eTimeout, func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	}, "listening on %s", addr)
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	r.mu.Lock()
	r.addr, r.srv = ln.Addr().String(), srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

func (r *hookReceiver) gone() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.refused++
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if err := events.Verify(r.secret, req.Header.Get(events.HeaderSignature), body, r.clock.Now(), events.DefaultTolerance); err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev model.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(events.HeaderEventID) {
		r.t.Errorf("receiver: event %s (%v), header %s", ev.ID, err, req.Header.Get(events.HeaderEventID))
	}
	r.received[ev.ID]++
	r.got = append(r.got, ev)
	w.WriteHeader(http.StatusOK)
}

// seen returns "type[ text]" of the events received for a contact, in order.
func (r *hookReceiver) seen(key model.ContactKey) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.got {
		if ev.Contact != key {
			continue
		}
		s := string(ev.Type)
		var d model.ReceivedData
		if ev.Type == model.EventMessageReceived && json.Unmarshal(ev.Data, &d) == nil {
			s += " " + d.Message.Text
		}
		out = append(out, s)
	}
	return out
}

// TestEventWebhooksE2E is issue 12's event webhook test on a real serve: a
// subscriber that answers 503, then refuses connections, through a restart
// of Parley, then comes back: it gets every event once, in order per
// contact, each signed. Parley's clock runs 100 times as fast, so the
// retries' backoff passes in seconds.
func TestEventWebhooksE2E(t *testing.T) {
	t.Parallel()
	clock := engine.NewScaledClock(100)
	h := newE2E(t, e2eOptions{flows: map[string]string{"order.json": e2eOrderFlow}, serve: func(c *serveConfig) { c.clock = clock }})
	h.quietLog = true
	h.start()
	r := newHookReceiver(t, clock)

	code, body := h.adminCall("POST", "/event-subscriptions",
		`{"url":"http://`+r.addr+`/parley","types":["conversation.started","message.received","conversation.ended"]}`)
	if code != http.StatusCreated {
		t.Fatalf("subscribing: %d %s", code, body)
	}
	var created struct {
		Subscription events.Info
		Secret       string
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Secret == "" {
		t.Fatalf("subscribing: %s", body)
	}
	r.mu.Lock()
	r.secret = created.Secret
	r.mu.Unlock()
	sub := created.Subscription.ID

	h.customer("15550100001", "Ann")
	h.customer("15550100002", "Bob")
	ann, bob := h.key("15550100001"), h.key("15550100002")
	h.says("15550100001", sandbox.Inbound{Type: "text", Text: "order"})
	h.says("15550100002", sandbox.Inbound{Type: "text", Text: "order"})
	h.says("15550100001", sandbox.Inbound{Type: "text", Text: "A-1"})
	eventually(t, e2eTimeout, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.refused >= 4
	}, "the receiver answering 503 to retries")

	// Gone: connections refused; Parley records it and keeps retrying.
	r.gone()
	eventually(t, e2eTimeout, func() bool {
		_, out := h.adminCall("GET", "/event-subscriptions/"+sub+"/deliveries?state=pending", "")
		return strings.Contains(out, "refused")
	}, "an attempt refused")

	// Parley restarts; more happens while the receiver is away.
	h.stop()
	h.start()
	h.says("15550100001", sandbox.Inbound{Type: "text", Text: "ann@example.com"})
	h.says("15550100002", sandbox.Inbound{Type: "text", Text: "B-2"})
	eventually(t, e2eTimeout, func() bool {
		conv, _ := h.conversation("15550100001")
		return conv != nil && conv.Status == model.Ended
	}, "Ann's conversation ending")

	// Back up, on the same address.
	r.mu.Lock()
	r.down = false
	r.mu.Unlock()
	r.listen(r.addr)
	wantAnn := []string{"conversation.started", "message.received order", "message.received A-1", "message.received ann@example.com", "conversation.ended"}
	wantBob := []string{"conversation.started", "message.received order", "message.received B-2"}
	eventually(t, e2eTimeout, func() bool {
		return len(r.seen(ann)) >= len(wantAnn) && len(r.seen(bob)) >= len(wantBob)
	}, "every event delivered")
	if got := r.seen(ann); !slices.Equal(got, wantAnn) {
		t.Errorf("Ann's events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantAnn, "\n"))
	}
	if got := r.seen(bob); !slices.Equal(got, wantBob) {
		t.Errorf("Bob's events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantBob, "\n"))
	}
	r.mu.Lock()
	for id, n := range r.received {
		if n != 1 {
			t.Errorf("event %s received %d times", id, n)
		}
	}
	r.mu.Unlock()
	_, out := h.adminCall("GET", "/event-subscriptions/"+sub+"/deliveries?state=pending", "")
	if !strings.Contains(out, `"deliveries":[]`) {
		t.Errorf("deliveries still pending: %s", out)
	}
	if strings.Contains(h.log.String(), "ann@example.com") {
		t.Error("the customer's text is in Parley's log")
	}
}
