package main

import (
	"net/url"
	"slices"
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// markReads returns the sandbox's mark-read calls for one customer's
// messages: their wamids, "+typing" when with a typing indicator.
func (h *e2e) markReads(waID string) []string {
	var out []string
	for _, e := range h.sb.Entries(sandbox.KindMarkRead) {
		if e.To == waID {
			if e.Body == "typing" {
				e.WAMID += "+typing"
			}
			out = append(out, e.WAMID)
		}
	}
	return out
}

// TestServeE2EReadReceipts: when the bot answers, the customer's message is
// marked read through the Graph API (the sandbox checks the call as Meta
// does), once however many messages the answer has; -read-receipts=false
// marks nothing.
func TestServeE2EReadReceipts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		on   bool
	}{{"on", true}, {"off", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newE2E(t, e2eOptions{flows: map[string]string{"greet.json": e2eGreetFlow},
				serve: func(c *serveConfig) { c.readReceipts, c.typingIndicator = tc.on, true }})
			h.start()
			const ann = "15551230001"
			h.customer(ann, "Ann")

			hello := h.says(ann, sandbox.Text("hello there"))
			sent := h.waitAccepted(ann, 2) // "Hi Ann!" and the buttons
			tap := h.says(ann, sandbox.ButtonReply(sent[1].WAMID, "coffee", "Coffee"))
			h.waitAccepted(ann, 3)
			var want []string
			if tc.on {
				want = []string{hello, tap}
				eventually(t, e2eTimeout, func() bool { return len(h.markReads(ann)) >= 2 }, "two mark-reads")
			}
			if got := h.markReads(ann); !slices.Equal(got, want) {
				t.Fatalf("mark-reads %q, want %q: each answered message once", got, want)
			}
			for _, turn := range h.sb.Transcript(ann) {
				if turn.From == "customer" && (turn.Status == "read") != tc.on {
					t.Errorf("customer message %s is %s", turn.WAMID, turn.Status)
				}
			}
			if tc.on {
				// The sandbox records a mark-read when its request arrives;
				// Parley counts it when the answer is back.
				const read = `parley_read_receipts_total{result="read"}`
				eventually(t, e2eTimeout, func() bool { return h.metric(read) >= 2 }, "two read receipts counted")
				if n := h.metric(read); n != 2 {
					t.Errorf("%s = %v, want 2", read, n)
				}
			}
		})
	}
}

// TestServeE2ETyping: an agent typing in the inbox shows the customer a
// typing indicator on their latest message, through the Graph API; the
// agent's reply then does not mark that message read again.
func TestServeE2ETyping(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"desk.json": inboxDeskFlow},
		serve: func(c *serveConfig) { c.readReceipts, c.typingIndicator = true, true }})
	h.start()
	const ann = "15551230002"
	h.customer(ann, "Ann")
	asked := h.says(ann, sandbox.Text("agent please"))
	h.waitAccepted(ann, 1) // "Connecting you to a person"
	eventually(t, e2eTimeout, func() bool { return len(h.markReads(ann)) == 1 }, "the handoff message's mark-read")
	more := h.says(ann, sandbox.Text("are you there?"))
	eventually(t, e2eTimeout, func() bool {
		conv, msgs := h.conversation(ann)
		return conv != nil && len(msgs) > 0 && msgs[len(msgs)-1].Inbound != nil && msgs[len(msgs)-1].Inbound.Text == "are you there?"
	}, "the second message recorded")
	conv, _ := h.conversation(ann)
	base := "/inbox/conversations/" + url.PathEscape(conv.ID)

	var typing struct{ Shown bool }
	if code := h.apiWrite("POST", base+"/typing", "", &typing); code != 200 || !typing.Shown {
		t.Fatalf("typing: %d shown %v", code, typing.Shown)
	}
	if code := h.apiWrite("POST", base+"/reply", `{"text":"Yes, here"}`, nil); code != 202 {
		t.Fatalf("reply: %d", code)
	}
	h.waitAccepted(ann, 2)
	if got, want := h.markReads(ann), []string{asked, more + "+typing"}; !slices.Equal(got, want) {
		t.Errorf("mark-reads %q, want %q", got, want)
	}
	if n := h.metric(`parley_read_receipts_total{result="typing"}`); n != 1 {
		t.Errorf("parley_read_receipts_total{result=\"typing\"} = %v, want 1", n)
	}
}

// TestEnvBool: read receipts and typing indicators are on unless the
// environment turns them off with a boolean; anything else keeps the
// default.
func TestEnvBool(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{{"", true}, {"false", false}, {"0", false}, {"FALSE", false}, {"true", true}, {"nope", true}} {
		t.Setenv("PARLEY_READ_RECEIPTS", tc.value)
		if got := envBool("PARLEY_READ_RECEIPTS", true); got != tc.want {
			t.Errorf("PARLEY_READ_RECEIPTS=%q: %v, want %v", tc.value, got, tc.want)
		}
	}
}
