package ui_test

import (
	"net/http"
	"strings"
	"testing"
)

// greetFlow greets the customer by name and by tag, hands off on "agent",
// and says the outcome once resolved.
const greetFlow = `{"format": "parley/flow@1", "id": "greet", "name": "Greet", "start": "hi",
 "triggers": [{"type": "keyword", "keywords": ["hello"]}],
 "nodes": [
  {"id": "hi", "type": "send", "message": {"type": "text", "text": "Hi {{ contact.name }} ({{ contact.language }}, {{ 'vip' in contact.tags ? 'VIP' : 'regular' }}, {{ contact.fields.city }}, opted in {{ contact.opted_in }})"}, "next": "ask"},
  {"id": "ask", "type": "wait_reply", "save_as": "said", "next": "agent"},
  {"id": "agent", "type": "handoff", "queue": "support", "next": "after"},
  {"id": "after", "type": "send", "message": {"type": "text", "text": "back: {{ vars.handoff_outcome }}"}}
 ]}`

// The test chat's customer is who the tester says; the tester acts as the
// agent; a routing test starts what the published triggers would.
func TestTestChatProfileAgentAndRouting(t *testing.T) {
	f := chatFixture(t)
	f.saveDraft("greet", greetFlow)
	v := chatDo(t, f, "POST", "/api/v1/flows/greet/test",
		`{"contact": {"name": "Ana", "language": "pt_BR", "tags": ["vip"], "fields": {"city": "Porto"}, "opted_in": false}}`, http.StatusCreated)
	if m := last(t, v); !strings.Contains(m, "Hi Ana (pt_BR, VIP, Porto, opted in false)") {
		t.Errorf("the greeting does not read the profile: %s", m)
	}
	sid := "/api/v1/test/" + v.ID
	if code, body := f.do("POST", sid+"/agent", `{"text": "too early"}`, nil); code != http.StatusConflict || !strings.Contains(string(body), "not with an agent") {
		t.Errorf("an agent reply before the handoff: %d %s", code, body)
	}
	v = chatDo(t, f, "POST", sid+"/reply", `{"text": "a person please"}`, http.StatusOK)
	if v.Status != "agent" {
		t.Fatalf("status %q after the handoff", v.Status)
	}
	v = chatDo(t, f, "POST", sid+"/agent", `{"text": "Sam here"}`, http.StatusOK)
	if m := last(t, v); !strings.Contains(m, `"sender":"agent:tester"`) || !strings.Contains(m, "Sam here") {
		t.Errorf("the agent's reply: %s", m)
	}
	v = chatDo(t, f, "POST", sid+"/agent", `{"resolve": "solved"}`, http.StatusOK)
	if m := last(t, v); !strings.Contains(m, "back: solved") {
		t.Errorf("after resolving: %s", m)
	}
	for _, bad := range []string{`{}`, `{"text": "a", "resolve": "b"}`, `{"text": " "}`} {
		if code, _ := f.do("POST", sid+"/agent", bad, nil); code != http.StatusBadRequest {
			t.Errorf("agent %s: %d, want 400", bad, code)
		}
	}
	if code, _ := f.do("POST", "/api/v1/flows/greet/test", `{"contact": {"tags": [`+strings.Repeat(`"t",`, 50)+`"t"]}}`, nil); code != http.StatusBadRequest {
		t.Errorf("51 tags: %d, want 400", code)
	}

	// Routing: only published flows take part.
	if code, body := f.do("POST", "/api/v1/test/route", `{"text": "hello there"}`, nil); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "starts no flow") {
		t.Errorf("routing before publishing: %d %s", code, body)
	}
	f.publish(greetFlow)
	got, body := f.do("POST", "/api/v1/test/route", `{"text": "Hello there", "contact": {"name": "Bo"}}`, nil)
	if got != http.StatusCreated || !strings.Contains(string(body), `"route":{"flow":"greet","version":1,"trigger":"keyword hello"}`) || !strings.Contains(string(body), "Hi Bo") {
		t.Errorf("routing a keyword: %d %s", got, body)
	}
	if code, _ := f.do("POST", "/api/v1/test/route", `{"text": "good morning"}`, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("a message no trigger matches: %d, want 422", code)
	}
}
