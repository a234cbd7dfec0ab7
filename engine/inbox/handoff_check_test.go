package inbox_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/flows"
)

func TestCheckHandoffs(t *testing.T) {
	h := newHarness(t)
	if _, err := h.ib.PutQueue(h.ctx, inbox.Queue{ID: "billing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ib.PutAgent(h.ctx, inbox.Agent{Email: "sam@example.com", Capacity: 2, Queues: []string{"support"}, Status: inbox.Offline}); err != nil {
		t.Fatal(err)
	}
	f, ps := flows.Parse([]byte(`{"format": "parley/flow@1", "id": "h", "start": "a",
	 "nodes": [
	  {"id": "a", "type": "handoff", "queue": "support", "next": "b"},
	  {"id": "b", "type": "handoff", "queue": "suport", "next": "c"},
	  {"id": "c", "type": "handoff", "meta": {"label": "To billing"}, "queue": "billing", "next": "d"},
	  {"id": "d", "type": "handoff", "queue": "legal"}
	 ]}`))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	var got []string
	for _, p := range h.ib.CheckHandoffs(f) {
		if p.Severity != flows.Warning {
			t.Errorf("%s is not a warning", p)
		}
		got = append(got, p.Pointer+": "+p.Message)
	}
	want := []string{
		// An offline agent still serves the queue: they may come online.
		`/nodes/1/queue: handoff "b" sends customers to queue "suport", which does not exist and no agent serves; did you mean "support"?`,
		`/nodes/2/queue: handoff "To billing" sends customers to queue "billing", which no agent serves: they would wait with nobody to answer. Add the queue to an agent on the Agents page`,
		`/nodes/3/queue: handoff "d" sends customers to queue "legal", which does not exist and no agent serves; create it on the Queues page and give it agents`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h.ib.CheckHandoffs(nil) != nil {
		t.Error("a nil flow has problems")
	}
}

func TestHandoffQueues(t *testing.T) {
	h := newHarness(t)
	if _, err := h.ib.PutQueue(h.ctx, inbox.Queue{ID: "billing", Name: "Billing"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []inbox.Agent{
		{Email: "sam@example.com", Capacity: 2, Queues: []string{"support"}, Status: inbox.Offline},
		{Email: "kim@example.com", Capacity: 2, Queues: []string{"support", "sales"}, Status: inbox.Online},
		{Email: "lee@example.com", Capacity: 2, Queues: []string{"sales"}, Status: inbox.Away},
	} {
		if _, err := h.ib.PutAgent(h.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got := h.ib.HandoffQueues()
	want := []inbox.HandoffQueue{
		{ID: "billing", Name: "Billing", Created: true}, // created, nobody serves it
		{ID: "sales", Agents: 2, Online: true},          // served, never created
		{ID: "support", Agents: 2, Online: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := h.ib.SetStatus(h.ctx, "kim@example.com", inbox.Offline); err != nil {
		t.Fatal(err)
	}
	for _, q := range h.ib.HandoffQueues() {
		if q.Online {
			t.Errorf("%s is online with every agent offline or away", q.ID)
		}
	}
}
