package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// handFlow looks an order up; its call is answered by hand in the tests,
// so shop.example.com is never reached.
const handFlow = `{"format": "parley/flow@1", "id": "hand", "name": "Hand", "start": "ask",
 "nodes": [
  {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "Order number?"}, "save_as": "order_id", "next": "find"},
  {"id": "find", "type": "http", "method": "POST", "url": "https://shop.example.com/orders?key={{ secrets.shop_token }}",
   "headers": {"Authorization": "Bearer {{ secrets.shop_token }}"}, "body": {"id": "{{ vars.order_id }}"},
   "retries": 1, "save_as": "order", "next": "tell", "on_error": "sorry"},
  {"id": "tell", "type": "send", "message": {"type": "text", "text": "Order {{ vars.order_id }} is {{ vars.order.json.status }}."}, "next": "ask"},
  {"id": "sorry", "type": "send", "message": {"type": "text", "text": "No such order ({{ vars.order.status }})."}, "next": "ask"}
 ]}`

type heldView struct {
	ID       string `json:"id"`
	Calls    string `json:"calls"`
	Node     string `json:"node"`
	HeldCall *struct {
		Node    string            `json:"node"`
		Attempt int               `json:"attempt"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"held_call"`
	Vars     map[string]any    `json:"vars"`
	Messages []json.RawMessage `json:"messages"`
}

// TestTestChatAnswersCallsByHand: a chat started with "calls": "hand"
// shows each http call as it would be sent (secrets masked) and takes the
// analyst's answer as that attempt's result: a timeout is retried, a 200
// follows next with the body saved, a 404 takes on_error. The clock waits
// for the answer; bad answers are refused.
func TestTestChatAnswersCallsByHand(t *testing.T) {
	f := newFixture(t)
	t.Cleanup(func() { f.srv.Shutdown(context.Background()) })
	f.saveDraft("hand", handFlow)
	if _, _, err := f.secrets.Put(context.Background(), "shop_token", "s3cr3t-value", "test"); err != nil {
		t.Fatal(err)
	}
	do := func(method, url, body string, status int) (heldView, string) {
		t.Helper()
		got, b := f.do(method, url, body, nil)
		if got != status {
			t.Fatalf("%s %s %s: status %d, want %d; body %s", method, url, body, got, status, b)
		}
		if strings.Contains(string(b), "s3cr3t") {
			t.Fatalf("a secret's value in the answer: %s", b)
		}
		var v heldView
		if status < 300 {
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
		}
		return v, string(b)
	}
	if _, b := do("POST", "/api/v1/flows/hand/test", `{"calls": "later"}`, http.StatusBadRequest); !strings.Contains(b, `calls is \"real\"`) {
		t.Errorf("a bad calls mode: %s", b)
	}
	v, _ := do("POST", "/api/v1/flows/hand/test", `{"calls": "hand"}`, http.StatusCreated)
	if v.Calls != "hand" || v.HeldCall != nil {
		t.Fatalf("started: %+v", v)
	}
	url := "/api/v1/test/" + v.ID
	v, _ = do("POST", url+"/reply", `{"text": "A-17"}`, http.StatusOK)
	h := v.HeldCall
	if h == nil || h.Node != "find" || h.Attempt != 1 || h.Method != "POST" || h.URL != "https://shop.example.com/orders?key=***" ||
		h.Headers["Authorization"] != "Bearer ***" || h.Body != `{"id":"A-17"}` {
		t.Fatalf("held call: %+v", h)
	}
	if _, b := do("POST", url+"/advance", `{"duration": "1h"}`, http.StatusConflict); !strings.Contains(b, "waits for its answer") {
		t.Errorf("advance with a call waiting: %s", b)
	}
	for _, bad := range []string{`{}`, `{"status": 200, "error": "timeout"}`, `{"status": 99}`, `{"error": "slow"}`, `{"status": 200, "body": 1}`} {
		do("POST", url+"/call", bad, http.StatusBadRequest)
	}
	v, _ = do("POST", url+"/call", `{"error": "timeout"}`, http.StatusOK)
	if v.HeldCall == nil || v.HeldCall.Attempt != 2 {
		t.Fatalf("after a timeout, want attempt 2 held: %+v", v.HeldCall)
	}
	v, _ = do("POST", url+"/call", `{"status": 200, "body": "{\"status\": \"shipped\"}"}`, http.StatusOK)
	if v.HeldCall != nil || v.Node != "ask" || !strings.Contains(string(v.Messages[len(v.Messages)-2]), "Order A-17 is shipped.") {
		t.Fatalf("after the 200: node %s, held %+v, messages %s", v.Node, v.HeldCall, v.Messages)
	}
	if o, _ := v.Vars["order"].(map[string]any); o["status"] != 200.0 {
		t.Errorf("saved: %v", v.Vars["order"])
	}
	if _, b := do("POST", url+"/call", `{"status": 200}`, http.StatusConflict); !strings.Contains(b, "no http call waits") {
		t.Errorf("answering with none held: %s", b)
	}
	do("POST", url+"/reply", `{"text": "B-2"}`, http.StatusOK)
	v, _ = do("POST", url+"/call", `{"status": 404, "body": "not found"}`, http.StatusOK) // not retried
	if !strings.Contains(string(v.Messages[len(v.Messages)-2]), "No such order (404).") {
		t.Errorf("after the 404: %s", v.Messages)
	}
	// Transcript notes record the attempts answered by hand.
	calls := 0
	for _, m := range v.Messages {
		if strings.Contains(string(m), `"call":{`) {
			calls++
		}
	}
	if calls != 3 {
		t.Errorf("%d call notes, want 3", calls)
	}

	// A chat that makes real calls has nothing to answer.
	real, _ := do("POST", "/api/v1/flows/hand/test", `{}`, http.StatusCreated)
	if real.Calls != "real" {
		t.Errorf("default calls mode %q", real.Calls)
	}
	if _, b := do("POST", "/api/v1/test/"+real.ID+"/call", `{"status": 200}`, http.StatusConflict); !strings.Contains(b, "makes its calls for real") {
		t.Errorf("answering a real chat: %s", b)
	}
}
