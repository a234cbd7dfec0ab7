package inbox_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
)

// TestConcurrentHandoffsFairWithinCapacity hands off many customers at
// once while the assignment loop runs: no agent ever goes over capacity,
// the load is spread within one conversation among agents with room,
// every place is filled, the store agrees with the view, and a restart
// rebuilds the same counts.
func TestConcurrentHandoffsFairWithinCapacity(t *testing.T) {
	cases := []struct {
		name       string
		handoffs   int
		capacities []int
	}{
		{"room for all", 200, []int{50, 50, 50, 50, 50}},
		{"uneven capacities", 200, []int{10, 20, 30, 60, 100}},
		{"more customers than places", 200, []int{10, 10, 20, 20, 40}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			caps := map[string]int{}
			total := 0
			for i, c := range tc.capacities {
				email := fmt.Sprintf("agent%d@example.com", i)
				caps[email] = c
				total += c
				h.agent(email, c, inbox.Online, "support")
			}
			ctx, cancel := context.WithCancel(h.ctx)
			done := make(chan struct{})
			go func() { defer close(done); h.ib.Run(ctx) }()

			var wg sync.WaitGroup
			for i := range tc.handoffs {
				wg.Add(1)
				go func() { defer wg.Done(); h.say(i, "help") }()
			}
			wg.Wait()
			cancel()
			<-done
			h.rebalance() // whatever the loop had not got to

			want := min(tc.handoffs, total)
			check := func(when string, open map[string]int) {
				t.Helper()
				sum := 0
				for a, n := range open {
					sum += n
					if n > caps[a] {
						t.Errorf("%s: %s holds %d, capacity %d", when, a, n, caps[a])
					}
					for b, m := range open {
						if n < caps[a] && m > n+1 {
							t.Errorf("%s: %s holds %d with room while %s holds %d: unfair", when, a, n, b, m)
						}
					}
				}
				if sum != want {
					t.Errorf("%s: %d assigned, want %d (%v)", when, sum, want, open)
				}
			}
			check("view", h.openCounts())
			stored := h.storedCounts()
			check("store", stored)
			if !maps.Equal(stored, nonZero(h.openCounts())) {
				t.Errorf("store %v, view %v", stored, h.openCounts())
			}
			if w := len(h.ib.List(inbox.Viewer{Admin: true}, inbox.ListFilter{Unassigned: true})); w != tc.handoffs-want {
				t.Errorf("%d waiting, want %d", w, tc.handoffs-want)
			}

			h.restart()
			if got := nonZero(h.openCounts()); !maps.Equal(got, stored) {
				t.Errorf("after restart: %v, want %v", got, stored)
			}
		})
	}
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// TestRoundRobinOnTies: agents with equal loads take turns.
func TestRoundRobinOnTies(t *testing.T) {
	h := newHarness(t)
	h.agent("a@x.com", 10, inbox.Online, "support")
	h.agent("b@x.com", 10, inbox.Online, "support")
	h.agent("c@x.com", 10, inbox.Online, "support")
	var got []string
	for i := range 6 {
		h.say(i, "help")
		h.rebalance()
		got = append(got, h.conv(i).Assignee)
		// The first agent resolves at once: loads stay tied at 0 or 1.
		if err := h.eng.ResolveConversation(h.ctx, convID(i), got[i], "done"); err != nil {
			t.Fatal(err)
		}
	}
	want := "a@x.com b@x.com c@x.com a@x.com b@x.com c@x.com"
	if strings.Join(got, " ") != want {
		t.Errorf("assigned %v, want %s", got, want)
	}
}

// TestQueueOrder: with nobody online, conversations wait; they are then
// served highest priority first, oldest first among equals.
func TestQueueOrder(t *testing.T) {
	h := newHarness(t)
	h.agent("sam@x.com", 1, inbox.Offline, "support")
	// Customer 1 and 2 normal, 3 urgent, 4 normal, 5 urgent; a minute apart.
	texts := map[int]string{1: "help", 2: "help", 3: "urgent!", 4: "help", 5: "urgent please"}
	for i := 1; i <= 5; i++ {
		h.say(i, texts[i])
		h.clock.Advance(time.Minute)
	}
	h.rebalance()
	var waiting []string
	for _, it := range h.ib.List(inbox.Viewer{Admin: true}, inbox.ListFilter{Unassigned: true}) {
		waiting = append(waiting, it.Conversation)
	}
	wantOrder := []string{convID(3), convID(5), convID(1), convID(2), convID(4)}
	if strings.Join(waiting, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("waiting list %v, want %v", waiting, wantOrder)
	}
	h.status("sam@x.com", inbox.Online)
	var served []string
	for range 5 {
		var held string
		for _, it := range h.ib.List(inbox.Viewer{Email: "sam@x.com"}, inbox.ListFilter{Mine: true}) {
			held = it.Conversation
		}
		if held == "" {
			t.Fatal("sam holds nothing")
		}
		served = append(served, held)
		if err := h.eng.ResolveConversation(h.ctx, held, "sam@x.com", ""); err != nil {
			t.Fatal(err)
		}
		h.rebalance()
	}
	if strings.Join(served, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("served %v, want %v", served, wantOrder)
	}
}

// TestAgentGoingOffline: away keeps what one holds; offline returns it to
// the queue, where another agent takes it, oldest first, or it waits.
func TestAgentGoingOffline(t *testing.T) {
	h := newHarness(t)
	h.agent("ann@x.com", 3, inbox.Online, "support")
	for i := 1; i <= 3; i++ {
		h.say(i, "help")
		h.clock.Advance(time.Minute)
	}
	h.rebalance()
	if n := h.openCounts()["ann@x.com"]; n != 3 {
		t.Fatalf("ann holds %d, want 3", n)
	}
	h.agent("bob@x.com", 2, inbox.Online, "support")

	h.status("ann@x.com", inbox.Away)
	if n := h.openCounts()["ann@x.com"]; n != 3 {
		t.Errorf("away: ann holds %d, want 3 still", n)
	}
	h.say(4, "help")
	h.rebalance()
	if a := h.conv(4).Assignee; a != "bob@x.com" {
		t.Errorf("new conversation went to %q while ann is away, want bob", a)
	}

	h.status("ann@x.com", inbox.Offline)
	counts := h.openCounts()
	if counts["ann@x.com"] != 0 || counts["bob@x.com"] != 2 {
		t.Errorf("after ann went offline: %v; want ann 0, bob 2 (full)", counts)
	}
	// Bob had one place left: the oldest of ann's went to him.
	if a := h.conv(1).Assignee; a != "bob@x.com" {
		t.Errorf("oldest returned conversation went to %q, want bob", a)
	}
	for _, i := range []int{2, 3} {
		c := h.conv(i)
		if c.Assignee != "" || c.Status != model.Agent {
			t.Errorf("conversation %d: assignee %q status %s, want waiting", i, c.Assignee, c.Status)
		}
		if !c.HandoffAt.Equal(t0.Add(time.Duration(i-1) * time.Minute)) {
			t.Errorf("conversation %d lost its handoff time: %v", i, c.HandoffAt)
		}
	}
	if ms := h.transcript(convID(2)); !strings.Contains(ms[len(ms)-1].Text, "returned to queue support") {
		t.Errorf("transcript does not say it went back: %+v", ms[len(ms)-1])
	}
	h.status("ann@x.com", inbox.Online)
	if n := h.openCounts()["ann@x.com"]; n != 2 {
		t.Errorf("ann back online holds %d, want the 2 waiting", n)
	}
}

// TestNoAgentTimeout: on_no_agent fires only for a conversation nobody
// holds when the timer comes due.
func TestNoAgentTimeout(t *testing.T) {
	cases := []struct {
		name string
		// before runs between the handoff and the deadline.
		before     func(h *harness)
		wantStatus model.Status
		wantText   string
	}{
		{"nobody online", func(h *harness) {}, model.Ended, "nobody came"},
		{"assigned", func(h *harness) {
			h.agent("ann@x.com", 1, inbox.Online, "support")
		}, model.Agent, ""},
		{"assigned, then the agent went offline", func(h *harness) {
			h.agent("ann@x.com", 1, inbox.Online, "support")
			h.status("ann@x.com", inbox.Offline)
		}, model.Ended, "nobody came"},
		{"an agent answered, then went offline", func(h *harness) {
			h.agent("ann@x.com", 1, inbox.Online, "support")
			if err := h.eng.AgentSend(h.ctx, convID(1), "ann@x.com", textMsg("hi, Ann here")); err != nil {
				h.t.Fatal(err)
			}
			h.status("ann@x.com", inbox.Offline)
		}, model.Agent, "hi, Ann here"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.say(1, "help")
			h.clock.Advance(5 * time.Minute)
			tc.before(h)
			h.clock.Advance(6 * time.Minute)
			if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
				t.Fatal(err)
			}
			c := h.conv(1)
			if c.Status != tc.wantStatus {
				t.Errorf("status %s, want %s", c.Status, tc.wantStatus)
			}
			if got := lastText(h.transcript(c.ID)); got != tc.wantText {
				t.Errorf("last message %q, want %q", got, tc.wantText)
			}
			if _, err := h.ib.Item(c.ID); (err == nil) != (tc.wantStatus == model.Agent) {
				t.Errorf("in the inbox: %v, want %v", err == nil, tc.wantStatus == model.Agent)
			}
		})
	}
}

// TestResolveResumesFlow: resolving gives the conversation back to the
// bot at the handoff's next with the outcome, frees the agent's place,
// and the next waiting conversation takes it.
func TestResolveResumesFlow(t *testing.T) {
	h := newHarness(t)
	h.agent("ann@x.com", 1, inbox.Online, "support")
	h.say(1, "help")
	h.say(2, "help")
	h.rebalance()
	if h.conv(1).Assignee != "ann@x.com" || h.conv(2).Assignee != "" {
		t.Fatalf("assignees %q, %q", h.conv(1).Assignee, h.conv(2).Assignee)
	}
	if err := h.eng.ResolveConversation(h.ctx, convID(1), "ann@x.com", "refunded"); err != nil {
		t.Fatal(err)
	}
	c := h.conv(1)
	if c.Status != model.Ended || c.Vars["handoff_outcome"] != "refunded" || c.Outcome != "refunded" {
		t.Errorf("after resolve: status %s vars %v outcome %q", c.Status, c.Vars, c.Outcome)
	}
	if got := lastText(h.transcript(c.ID)); got != "outcome refunded" {
		t.Errorf("bot said %q, want %q", got, "outcome refunded")
	}
	h.rebalance()
	if a := h.conv(2).Assignee; a != "ann@x.com" {
		t.Errorf("next waiting conversation went to %q, want ann", a)
	}
	if err := h.eng.ResolveConversation(h.ctx, convID(1), "ann@x.com", ""); err == nil {
		t.Error("resolving twice succeeded")
	}
}

// TestClaimAndTransfer: a claim takes a waiting conversation; another
// agent's claim conflicts; a transfer moves it to a queue or an agent.
func TestClaimAndTransfer(t *testing.T) {
	h := newHarness(t)
	h.agent("ann@x.com", 5, inbox.Away, "support")
	h.agent("bob@x.com", 5, inbox.Away, "support", "billing")
	h.agent("cy@x.com", 5, inbox.Away, "billing")
	h.say(1, "help")
	h.rebalance()
	ann, bob, cy := inbox.Viewer{Email: "ann@x.com"}, inbox.Viewer{Email: "bob@x.com"}, inbox.Viewer{Email: "cy@x.com"}
	if _, err := h.ib.Claim(h.ctx, cy, convID(1)); err == nil {
		t.Error("cy claimed a conversation of a queue not theirs")
	}
	if it, err := h.ib.Claim(h.ctx, ann, convID(1)); err != nil || it.Assignee != "ann@x.com" {
		t.Fatalf("ann's claim: %+v %v", it, err)
	}
	if _, err := h.ib.Claim(h.ctx, bob, convID(1)); err == nil || !strings.Contains(err.Error(), "assigned to ann") {
		t.Errorf("bob's claim of ann's: %v", err)
	}
	if _, err := h.ib.Transfer(h.ctx, ann, convID(1), "billing", "ann@x.com"); err == nil {
		t.Error("ann transferred to herself in a queue she does not work")
	}
	it, err := h.ib.Transfer(h.ctx, ann, convID(1), "billing", "")
	if err != nil || it.Queue != "billing" || it.Assignee != "" {
		t.Fatalf("transfer to billing: %+v %v", it, err)
	}
	if h.ib.CanSee(ann, h.conv(1)) {
		t.Error("ann still sees a conversation moved to a queue she does not work")
	}
	if it, err := h.ib.Transfer(h.ctx, inbox.Viewer{Email: "root@x.com", Admin: true}, convID(1), "", "cy@x.com"); err != nil || it.Assignee != "cy@x.com" {
		t.Fatalf("admin's transfer to cy: %+v %v", it, err)
	}
	if c := h.conv(1); c.Queue != "billing" || c.Assignee != "cy@x.com" {
		t.Errorf("stored: queue %q assignee %q", c.Queue, c.Assignee)
	}
	if n := h.openCounts(); n["ann@x.com"] != 0 || n["cy@x.com"] != 1 {
		t.Errorf("counts %v", n)
	}
}

// TestClosedHoursReply: a conversation waiting in a closed queue is told,
// once, when the queue opens — only while its window is open.
func TestClosedHoursReply(t *testing.T) {
	hours := &inbox.Hours{Timezone: "Europe/Dublin", Open: map[string][]string{"mon": {"09:00-17:00"}, "tue": {"09:00-17:00"}}}
	cases := []struct {
		name  string
		at    time.Time
		agent bool
		want  string
	}{
		{"inside hours", t0, false, ""},
		{"evening", time.Date(2026, 1, 5, 19, 0, 0, 0, time.UTC), false, "We open Tuesday 09:00 (Europe/Dublin)."},
		{"saturday", time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC), false, "We open Monday 09:00 (Europe/Dublin)."},
		{"evening, an agent online", time.Date(2026, 1, 5, 19, 0, 0, 0, time.UTC), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.clock.Set(tc.at)
			if _, err := h.ib.PutQueue(h.ctx, inbox.Queue{ID: "support", Hours: hours, ClosedReply: "We open {{opens}}."}); err != nil {
				t.Fatal(err)
			}
			if tc.agent {
				h.agent("ann@x.com", 1, inbox.Online, "support")
			}
			h.say(1, "help")
			h.rebalance()
			h.rebalance() // once only
			var got []string
			for _, m := range h.transcript(convID(1)) {
				if m.Sender == "system" && m.Message != nil {
					got = append(got, m.Message.Text)
				}
			}
			want := []string{}
			if tc.want != "" {
				want = []string{tc.want}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("auto replies %q, want %q", got, want)
			}
		})
	}
}

// TestAgentReplyWindow: free-form only inside the window.
func TestAgentReplyWindow(t *testing.T) {
	h := newHarness(t)
	h.say(1, "help")
	if err := h.eng.AgentSend(h.ctx, convID(1), "ann@x.com", textMsg("hello")); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(policy.WindowLength)
	if err := h.eng.AgentSend(h.ctx, convID(1), "ann@x.com", textMsg("late")); err != engine.ErrWindowClosed {
		t.Errorf("after the window: %v, want ErrWindowClosed", err)
	}
}
