package engine_test

import "testing"

// RouteFor answers what a first message would start, as HandleInbound
// would: a keyword first, else the catch-all; nothing without either.
func TestRouteFor(t *testing.T) {
	const pizza = `{"format": "parley/flow@1", "id": "pizza", "start": "hi",
	 "triggers": [{"type": "keyword", "keywords": ["pizza", "order"]}],
	 "nodes": [{"id": "hi", "type": "send", "message": {"type": "text", "text": "hi"}}]}`
	h := newHarness(t, pizza)
	for text, want := range map[string]string{"Pizza please": "pizza v1 keyword pizza", "order 42": "pizza v1 keyword order", "hello": ""} {
		r, ok := h.eng.RouteFor(phone, text)
		got := ""
		if ok {
			got = r.Flow + " v" + string(rune('0'+r.Version)) + " " + r.Trigger
		}
		if got != want {
			t.Errorf("%q routes to %q, want %q", text, got, want)
		}
	}
	h.publish(echoFlow) // a catch-all
	if r, ok := h.eng.RouteFor(phone, "hello"); !ok || r.Flow != "echo" || r.Trigger != "any" {
		t.Errorf("hello with a catch-all: %+v %v", r, ok)
	}
	if r, _ := h.eng.RouteFor(phone, "pizza"); r.Flow != "pizza" {
		t.Errorf("a keyword loses to the catch-all: %+v", r)
	}
}
