package inbox_test

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/engine/inbox"
)

func TestHubReplay(t *testing.T) {
	h := inbox.NewHub()
	support := func(ev inbox.Event) bool { return ev.Queue == "support" }
	first, _, _ := h.Subscribe("", nil)
	for i := range 5 {
		q := "support"
		if i%2 == 1 {
			q = "billing"
		}
		h.Publish(inbox.Event{Type: inbox.EventMessage, Queue: q})
	}
	var ids []string
	for range 5 {
		ids = append(ids, (<-first.C).ID)
	}
	cases := []struct {
		name      string
		lastID    string
		wantN     int
		wantReset bool
	}{
		{"no last id", "", 0, false},
		{"after the second", ids[1], 2, false}, // events 3 and 5 are support's
		{"after the last", ids[4], 0, false},
		{"from another process", "zzz-3", 0, true},
		{"garbled", "nonsense", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, replay, reset := h.Subscribe(tc.lastID, support)
			defer s.Close()
			if len(replay) != tc.wantN || reset != tc.wantReset {
				t.Errorf("replay %d reset %v, want %d %v", len(replay), reset, tc.wantN, tc.wantReset)
			}
			for _, ev := range replay {
				if ev.Queue != "support" {
					t.Errorf("replayed an event of %s", ev.Queue)
				}
			}
		})
	}
}

func TestHubRingAndSlowSubscriber(t *testing.T) {
	h := inbox.NewHub()
	slow, _, _ := h.Subscribe("", nil)
	h.Publish(inbox.Event{Type: inbox.EventMessage})
	firstID := (<-slow.C).ID
	for i := range inbox.RingSize + inbox.SubscriberBuffer + 1 {
		h.Publish(inbox.Event{Type: inbox.EventMessage, Conversation: fmt.Sprint(i)})
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != inbox.SubscriberBuffer {
		t.Errorf("slow subscriber got %d before being cut off, want %d", n, inbox.SubscriberBuffer)
	}
	if _, _, reset := h.Subscribe(firstID, nil); !reset {
		t.Error("an id older than the ring was replayed, want reset")
	}
	if h.Subscribers() != 1 {
		t.Errorf("%d subscribers, want 1 (the slow one was dropped)", h.Subscribers())
	}
}

// TestLiveEvents: an agent's stream carries their queue's handoff,
// assignment and messages, not another queue's.
func TestLiveEvents(t *testing.T) {
	h := newHarness(t)
	h.agent("ann@x.com", 5, inbox.Online, "support")
	h.agent("cy@x.com", 5, inbox.Online, "billing")
	ann := inbox.Viewer{Email: "ann@x.com"}
	cy := inbox.Viewer{Email: "cy@x.com"}
	sa, _, _ := h.ib.Hub().Subscribe("", func(ev inbox.Event) bool { return h.ib.CanSeeEvent(ann, ev) })
	sc, _, _ := h.ib.Hub().Subscribe("", func(ev inbox.Event) bool { return h.ib.CanSeeEvent(cy, ev) })
	h.say(1, "help <script>alert(1)</script>")
	h.rebalance()
	h.say(1, "anyone?")
	var got []string
	for len(sa.C) > 0 {
		ev := <-sa.C
		got = append(got, string(ev.Type))
		if ev.Type == inbox.EventMessage && ev.Unread == 0 && ev.Message.Direction == "in" {
			t.Errorf("customer message without an unread count: %+v", ev)
		}
	}
	want := "[handoff message assigned message message]"
	if fmt.Sprint(got) != want {
		t.Errorf("ann's events %v, want %s", got, want)
	}
	for len(sc.C) > 0 {
		if ev := <-sc.C; ev.Type != inbox.EventAgent {
			t.Errorf("cy got %s of queue %s", ev.Type, ev.Queue)
		}
	}
	if mine, _ := h.ib.Unread(ann); mine != 2 {
		t.Errorf("ann's unread %d, want 2", mine)
	}
	if err := h.ib.MarkRead(h.ctx, convID(1)); err != nil {
		t.Fatal(err)
	}
	if mine, _ := h.ib.Unread(ann); mine != 0 {
		t.Errorf("after reading: %d", mine)
	}
}

// TestUnreadSurvivesRestart: unread counts are rebuilt from the transcript
// and the recorded reads, as they were counted live: the customer's
// messages since the handoff, the agent's last message or the agent
// opening the conversation.
func TestUnreadSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	h.agent("ann@x.com", 5, inbox.Online, "support")
	ann := inbox.Viewer{Email: "ann@x.com"}
	unread := func(want int, when string) {
		t.Helper()
		live, _ := h.ib.Unread(ann)
		h.restart()
		h.rebalance()
		if again, _ := h.ib.Unread(ann); live != want || again != want {
			t.Errorf("%s: unread %d live and %d after a restart, want %d", when, live, again, want)
		}
	}
	h.say(1, "help")
	h.rebalance()
	h.say(1, "anyone?")
	unread(2, "after the handoff")
	if err := h.ib.MarkRead(h.ctx, convID(1)); err != nil {
		t.Fatal(err)
	}
	unread(0, "after ann opened it")
	h.say(1, "hello?")
	unread(1, "after another message")
	if err := h.eng.AgentSend(h.ctx, convID(1), "ann@x.com", textMsg("hi, Ann here")); err != nil {
		t.Fatal(err)
	}
	unread(0, "after ann answered")
	h.say(1, "thanks")
	h.say(1, "one more thing")
	unread(2, "after two more")
}
