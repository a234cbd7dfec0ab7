package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// e2eReceiptFlow asks with a button titled by the customer's profile
// name, then sends a receipt; the prompt and the receipt have on_error
// exits, the plain prompt has none.
const e2eReceiptFlow = `{
  "format": "parley/flow@1", "id": "receipt", "name": "Receipt", "language": "en_US", "start": "ask",
  "triggers": [{"type": "keyword", "keywords": ["hi"]}],
  "nodes": [
    {"id": "ask", "type": "wait_reply", "accept": "button", "save_as": "who",
     "prompt": {"type": "buttons", "text": "Who is writing?",
                "buttons": [{"id": "me", "title": "{{ contact.name }}"}, {"id": "other", "title": "Someone else"}]},
     "next": "receipt", "on_error": "ask_plain"},
    {"id": "ask_plain", "type": "wait_reply", "prompt": {"type": "text", "text": "Who is writing? Please type your name."},
     "save_as": "who", "next": "receipt"},
    {"id": "receipt", "type": "send", "message": {"type": "text", "text": "Here is your receipt."}, "next": "await", "on_error": "sorry"},
    {"id": "sorry", "type": "send", "message": {"type": "text", "text": "Sorry, we could not send your receipt."}, "next": "await"},
    {"id": "await", "type": "wait_reply", "next": "done"},
    {"id": "done", "type": "send", "message": {"type": "text", "text": "Bye."}}
  ]
}`

// apiConvReason is GET /api/v1/conversations/{id} as far as on_error
// shows in it.
type apiConvReason struct {
	Conversation struct {
		Status model.Status `json:"status"`
		Node   string       `json:"node"`
		Reason string       `json:"reason"`
	} `json:"conversation"`
	Transcript []apiLine `json:"transcript"`
}

type apiLine struct {
	Direction model.Direction `json:"direction"`
	Text      string          `json:"text"`
}

// TestServeE2EOnError: no silent dead ends, over real HTTP. A button title
// rendered from a 29-character profile name is refused before sending and
// the prompt's on_error is taken; a send Meta refuses with 131051 takes
// the receipt's on_error; failed status webhooks (131052) move a waiting
// conversation, and where the node has no on_error the conversation fails
// with the reason, visible in the REST API.
func TestServeE2EOnError(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"receipt.json": e2eReceiptFlow}, statuses: sandbox.StatusManual})
	h.start()
	h.signIn()
	conversation := func(waID string) apiConvReason {
		t.Helper()
		conv, _ := h.conversation(waID)
		var c apiConvReason
		if code := h.api("/conversations/"+url.PathEscape(conv.ID), &c); code != http.StatusOK {
			t.Fatalf("GET conversation %s: %d", conv.ID, code)
		}
		return c
	}
	settled := func(waID string, status model.Status, node string) {
		t.Helper()
		eventually(t, e2eTimeout, func() bool {
			c, _ := h.conversation(waID)
			return c != nil && c.Status == status && c.Node == node && h.outboundSettled(waID)
		}, "%s %s at %s", waID, status, node)
	}

	// A long profile name: the buttons are never sent.
	const ann = "15551230101"
	h.customer(ann, "Ann-Margaret Featherstonehaug")
	h.says(ann, sandbox.Text("hi"))
	if got := sentBodies(h.waitAccepted(ann, 1)); !slices.Equal(got, []string{"Who is writing? Please type your name."}) {
		t.Fatalf("sent %q", got)
	}
	settled(ann, model.Waiting, "ask_plain")
	c := conversation(ann)
	if !slices.ContainsFunc(c.Transcript, func(m apiLine) bool {
		return m.Direction == model.Note && strings.Contains(m.Text, `node "ask"'s prompt cannot be sent as rendered: button 1's title is 29 characters; WhatsApp allows 20`)
	}) {
		t.Errorf("no note of the refused prompt in %+v", c.Transcript)
	}
	if n := len(h.rejected(ann)); n != 0 {
		t.Errorf("%d sends reached the sandbox and were refused; want none", n)
	}

	// Meta refuses the receipt for good: its on_error apologises.
	const bo = "15551230102"
	h.customer(bo, "Bo")
	h.says(bo, sandbox.Text("hi"))
	buttons := h.waitAccepted(bo, 1)[0]
	h.sb.Inject(sandbox.Injection{Code: 131051, To: bo})
	h.says(bo, sandbox.ButtonReply(buttons.WAMID, "me", "Bo"))
	if got := sentBodies(h.waitAccepted(bo, 2)); !slices.Equal(got, []string{"Who is writing?", "Sorry, we could not send your receipt."}) {
		t.Fatalf("sent %q", got)
	}
	settled(bo, model.Waiting, "await")
	conv, _ := h.conversation(bo)
	if got, want := h.apiOutbound(conv.ID), []string{"accepted buttons: Who is writing? [me:Bo] [other:Someone else]",
		"failed text: Here is your receipt.", "accepted text: Sorry, we could not send your receipt."}; !slices.Equal(got, want) {
		t.Errorf("REST transcript %q, want %q", got, want)
	}

	// Failed statuses: the prompt the conversation waits on takes on_error;
	// the next one has none, so the conversation fails with the reason.
	const cy = "15551230103"
	h.customer(cy, "Cy")
	h.says(cy, sandbox.Text("hi"))
	first := h.waitAccepted(cy, 1)[0]
	if err := h.sb.SetStatus(first.WAMID, "failed", 131052); err != nil {
		t.Fatal(err)
	}
	second := h.waitAccepted(cy, 2)[1]
	if second.Body != "Who is writing? Please type your name." {
		t.Fatalf("after the failed buttons: %q", second.Body)
	}
	settled(cy, model.Waiting, "ask_plain")
	if err := h.sb.SetStatus(second.WAMID, "failed", 131052); err != nil {
		t.Fatal(err)
	}
	eventually(t, e2eTimeout, func() bool {
		c, _ := h.conversation(cy)
		return c.Status == model.Failed
	}, "conversation failed")
	c = conversation(cy)
	if c.Conversation.Node != "ask_plain" || !strings.HasPrefix(c.Conversation.Reason, `node "ask_plain"'s message was not delivered (131052: `) {
		t.Errorf("conversation %s at %q: %q", c.Conversation.Status, c.Conversation.Node, c.Conversation.Reason)
	}

	log := h.log.String()
	for _, want := range []string{
		`level=WARN msg="message refused before sending" code=0`,
		`level=WARN msg="message failed for good" code=131051`,
		`level=WARN msg="message failed for good" code=131052`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("no %q in the log", want)
		}
	}
	if strings.Contains(log, "Featherstonehaug") {
		t.Error("the log holds the customer's profile name")
	}
}
