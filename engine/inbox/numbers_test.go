package inbox_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Two business numbers: the harness's phone (A) and a second one (B).
const (
	numA = phone
	numB = "100000000000002"
)

var twoNumbers = []engine.PhoneNumber{{ID: numA, Display: "15550001111"}, {ID: numB, Display: "15550002222"}}

func convOn(number string, i int) string { return number + ":" + waID(i) + "#1" }

const (
	sam   = "sam@example.com"
	admin = "boss@example.com"
)

func (h *harness) queue(q inbox.Queue) {
	h.t.Helper()
	if _, err := h.ib.PutQueue(h.ctx, q); err != nil {
		h.t.Fatal(err)
	}
}

func listed(items []inbox.Item, conv string) (inbox.Item, bool) {
	for _, it := range items {
		if it.Conversation == conv {
			return it, true
		}
	}
	return inbox.Item{}, false
}

// TestQueueNumbersRouting: a queue serves the numbers it lists (none:
// all); its agents get and see only conversations on those numbers. One
// on another number still enters the queue, flagged, for an admin.
func TestQueueNumbersRouting(t *testing.T) {
	cases := []struct {
		name     string
		numbers  []string // the support queue's
		on       string   // the conversation's number
		assigned bool     // sam (online, support) gets it
	}{
		{"a queue without numbers serves every number", nil, numB, true},
		{"a queue serves its number", []string{numA}, numA, true},
		{"a queue of two numbers serves both", []string{numA, numB}, numB, true},
		{"a queue leaves out another number", []string{numA}, numB, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessOn(t, twoNumbers...)
			h.queue(inbox.Queue{ID: "support", Numbers: tc.numbers})
			h.agent(sam, 2, inbox.Online, "support")
			h.sayOn(tc.on, 1, "help")
			h.rebalance()
			conv := convOn(tc.on, 1)

			c, err := h.store.Conversation(h.ctx, conv)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != model.Agent || c.Queue != "support" {
				t.Fatalf("conversation %s in %s (%s): the handoff names support whatever the number", c.Status, c.Queue, conv)
			}
			if got := c.Assignee == sam; got != tc.assigned {
				t.Errorf("assigned to sam: %v, want %v (assignee %q)", got, tc.assigned, c.Assignee)
			}
			_, seen := listed(h.ib.List(inbox.Viewer{Email: sam}, inbox.ListFilter{}), conv)
			if seen != tc.assigned || h.ib.CanSee(inbox.Viewer{Email: sam}, c) != tc.assigned {
				t.Errorf("sam sees it: list %v, by id %v; want %v", seen, h.ib.CanSee(inbox.Viewer{Email: sam}, c), tc.assigned)
			}
			it, ok := listed(h.ib.List(inbox.Viewer{Email: admin, Admin: true}, inbox.ListFilter{}), conv)
			if !ok {
				t.Fatal("the admin does not see it")
			}
			if it.OffNumber == tc.assigned || it.PhoneNumberID != tc.on {
				t.Errorf("item %+v: off_number should be %v", it, !tc.assigned)
			}
			mine, waiting := h.ib.Unread(inbox.Viewer{Email: sam})
			if tc.assigned != (mine == 1) || waiting != 0 {
				t.Errorf("sam's unread: mine %d, waiting %d", mine, waiting)
			}
			for _, q := range h.ib.Queues() {
				if q.ID == "support" && q.OffNumber != map[bool]int{true: 0, false: 1}[tc.assigned] {
					t.Errorf("queue view %+v", q)
				}
			}
		})
	}
}

// TestQueueNumbersChange: a conversation left waiting off its queue's
// numbers is placed as soon as the queue serves its number (or the queue
// record goes, and with it the limit), and an agent of the queue cannot
// claim it before.
func TestQueueNumbersChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(h *harness)
	}{
		{"the queue takes the number", func(h *harness) { h.queue(inbox.Queue{ID: "support", Numbers: []string{numA, numB}}) }},
		{"the queue takes every number", func(h *harness) { h.queue(inbox.Queue{ID: "support"}) }},
		{"the queue record is deleted", func(h *harness) {
			if err := h.ib.DeleteQueue(h.ctx, "support"); err != nil {
				h.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessOn(t, twoNumbers...)
			h.queue(inbox.Queue{ID: "support", Numbers: []string{numA}})
			h.agent(sam, 2, inbox.Online, "support")
			h.sayOn(numB, 1, "help")
			h.rebalance()
			conv := convOn(numB, 1)
			if _, err := h.ib.Claim(h.ctx, inbox.Viewer{Email: sam}, conv); !errors.Is(err, inbox.ErrNotFound) {
				t.Errorf("sam claims a conversation off the queue's numbers: %v, want ErrNotFound", err)
			}
			tc.change(h)
			h.rebalance()
			if c, _ := h.store.Conversation(h.ctx, conv); c.Assignee != sam {
				t.Errorf("after the change the conversation is with %q, want sam", c.Assignee)
			}
		})
	}
}

// TestQueueNumbersTransfer: a transfer to another queue must land on one
// that serves the conversation's number, for an admin too; a transfer
// into a queue of its number lets that queue's agents take it.
func TestQueueNumbersTransfer(t *testing.T) {
	h := newHarnessOn(t, twoNumbers...)
	h.queue(inbox.Queue{ID: "support"})
	h.queue(inbox.Queue{ID: "shop", Numbers: []string{numA}})
	h.queue(inbox.Queue{ID: "care", Numbers: []string{numB}})
	h.agent("cara@example.com", 2, inbox.Online, "care")
	h.sayOn(numB, 1, "help")
	conv := convOn(numB, 1)
	boss := inbox.Viewer{Email: admin, Admin: true}
	for _, tc := range []struct {
		name, queue string
		v           inbox.Viewer
		err         error
	}{
		{"an admin cannot send it to a queue of another number", "shop", boss, inbox.ErrInvalid},
		{"an admin sends it to the queue of its number", "care", boss, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.ib.Transfer(h.ctx, tc.v, conv, tc.queue, "")
			if !errors.Is(err, tc.err) {
				t.Fatalf("transfer to %s: %v, want %v", tc.queue, err, tc.err)
			}
			if err != nil && !strings.Contains(err.Error(), "does not serve the number "+numB) {
				t.Errorf("the refusal does not say why: %v", err)
			}
		})
	}
	if c, _ := h.store.Conversation(h.ctx, conv); c.Queue != "care" || c.Assignee != "cara@example.com" {
		t.Errorf("after the transfer: queue %s, assignee %q", c.Queue, c.Assignee)
	}
}

// TestPutQueueNumbers: a queue's numbers must be numbers Parley serves;
// they are kept sorted and unique, survive a restart, and a record
// without numbers serves every number.
func TestPutQueueNumbers(t *testing.T) {
	h := newHarnessOn(t, twoNumbers...)
	for _, tc := range []struct {
		name    string
		numbers []string
		want    []string
		err     string
	}{
		{"none: every number", nil, nil, ""},
		{"kept sorted and unique", []string{numB, numA, numB}, []string{numA, numB}, ""},
		{"a number Parley does not serve", []string{numA, "199999999999999"}, nil,
			"Parley does not serve the number 199999999999999 (it serves " + numA + ", " + numB + ")"},
		{"a display number is not an id", []string{"+1 555 000 1111"}, nil, `"+1 555 000 1111" is not a phone number id`},
		{"an empty id", []string{""}, nil, `"" is not a phone number id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := h.ib.PutQueue(h.ctx, inbox.Queue{ID: "q", Numbers: tc.numbers})
			if tc.err != "" {
				if !errors.Is(err, inbox.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want ErrInvalid with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(q.Numbers, tc.want) {
				t.Errorf("numbers %v, want %v", q.Numbers, tc.want)
			}
		})
	}
	h.queue(inbox.Queue{ID: "care", Numbers: []string{numB}})
	h.restart()
	q, err := h.ib.Queue("care")
	if err != nil || !reflect.DeepEqual(q.Numbers, []string{numB}) {
		t.Errorf("after a restart: %+v %v", q, err)
	}
	if !q.Serves(numB) || q.Serves(numA) || !(&inbox.Queue{ID: "old"}).Serves(numA) || !(*inbox.Queue)(nil).Serves(numA) {
		t.Error("Serves: a queue serves its numbers; one without numbers, or unknown, every number")
	}

	// An engine given no numbers (a test, a simulation) serves any: only
	// the form of an id is checked.
	any := newHarness(t)
	if _, err := any.ib.PutQueue(any.ctx, inbox.Queue{ID: "q", Numbers: []string{"123"}}); err != nil {
		t.Errorf("any number: %v", err)
	}
}

// TestCheckHandoffsNumbers: the publish-time check warns of a handoff to
// a queue that leaves out numbers the flow answers on, naming them, at
// the handoff's queue field.
func TestCheckHandoffsNumbers(t *testing.T) {
	h := newHarnessOn(t, twoNumbers...)
	h.queue(inbox.Queue{ID: "shop", Numbers: []string{numA}})
	h.queue(inbox.Queue{ID: "care", Numbers: []string{numB}})
	h.queue(inbox.Queue{ID: "all"})
	h.agent(sam, 2, inbox.Offline, "shop", "care", "all")
	flow := func(numbers string) *flows.Flow {
		f, ps := flows.Parse([]byte(`{"format": "parley/flow@1", "id": "h", "start": "a"` + numbers + `,
		 "nodes": [
		  {"id": "a", "type": "handoff", "queue": "shop", "next": "b"},
		  {"id": "b", "type": "handoff", "meta": {"label": "To care"}, "queue": "care", "next": "c"},
		  {"id": "c", "type": "handoff", "queue": "all"}
		 ]}`))
		if ps.HasErrors() {
			t.Fatal(ps)
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		numbers string
		want    []string
	}{
		{"a flow on number A", `, "numbers": ["` + numA + `"]`, []string{
			`/nodes/1/queue: handoff "To care" sends customers to queue "care", which serves none of the numbers this flow answers on (15550001111 (` + numA + `)): it serves only 15550002222 (` + numB + `), so no agent of it would get them. Hand off to a queue of these numbers, or add them to the queue on the Queues page`,
		}},
		{"a flow on every number", ``, []string{
			`/nodes/0/queue: handoff "a" sends customers to queue "shop", which does not serve 15550002222 (` + numB + `), a number this flow answers on: customers there would wait for an admin to move them. Add it to the queue on the Queues page, or limit the flow's numbers`,
			`/nodes/1/queue: handoff "To care" sends customers to queue "care", which does not serve 15550001111 (` + numA + `), a number this flow answers on: customers there would wait for an admin to move them. Add it to the queue on the Queues page, or limit the flow's numbers`,
		}},
		{"a flow on both numbers, named", `, "numbers": ["` + numA + `", "` + numB + `"]`, []string{
			`/nodes/0/queue: handoff "a" sends customers to queue "shop", which does not serve 15550002222 (` + numB + `), a number this flow answers on: customers there would wait for an admin to move them. Add it to the queue on the Queues page, or limit the flow's numbers`,
			`/nodes/1/queue: handoff "To care" sends customers to queue "care", which does not serve 15550001111 (` + numA + `), a number this flow answers on: customers there would wait for an admin to move them. Add it to the queue on the Queues page, or limit the flow's numbers`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range h.ib.CheckHandoffs(flow(tc.numbers)) {
				if p.Severity != flows.Warning {
					t.Errorf("%s is not a warning", p)
				}
				got = append(got, p.Pointer+": "+p.Message)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestHandoffQueuesByNumber: the picker's list narrowed to the queues
// that serve a number (a conversation's, or one of a flow's).
func TestHandoffQueuesByNumber(t *testing.T) {
	h := newHarnessOn(t, twoNumbers...)
	h.queue(inbox.Queue{ID: "shop", Numbers: []string{numA}})
	h.queue(inbox.Queue{ID: "care", Numbers: []string{numB}})
	h.agent(sam, 2, inbox.Online, "support", "shop")
	ids := func(qs []inbox.HandoffQueue) string {
		var s []string
		for _, q := range qs {
			s = append(s, q.ID+"["+strings.Join(q.Numbers, ",")+"]")
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name    string
		numbers []string
		want    string
	}{
		{"every queue", nil, "care[" + numB + "] shop[" + numA + "] support[]"},
		{"number A", []string{numA}, "shop[" + numA + "] support[]"},
		{"number B", []string{numB}, "care[" + numB + "] support[]"},
		{"either", []string{numA, numB}, "care[" + numB + "] shop[" + numA + "] support[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(h.ib.HandoffQueues(tc.numbers...)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
