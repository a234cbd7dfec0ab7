package main

// Browser test of the agents' inbox (issue 6, "What must be shown"): a
// sandbox customer escalates; the agent, already on the inbox page, sees
// the conversation appear live without reloading, replies, the customer
// receives the reply (the sandbox's transcript), the agent resolves with
// an outcome and the bot carries on; once the window has closed the reply
// box offers templates only, and a template goes out. Customer text with
// HTML and script shows as text. Screenshots are logged as they are saved.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// inboxDeskFlow hands a customer who asks for a person to the support
// queue; resolved, the bot says the outcome.
const inboxDeskFlow = `{
  "format": "parley/flow@1", "id": "desk", "name": "Desk", "language": "en_US", "start": "to_agent",
  "triggers": [{"type": "keyword", "keywords": ["agent"]}],
  "nodes": [
    {"id": "to_agent", "type": "handoff", "queue": "support", "note": "asked: {{ reply.text }}",
     "message": {"type": "text", "text": "Connecting you to a person"},
     "next": "after"},
    {"id": "after", "type": "send", "message": {"type": "text", "text": "Bot again. Outcome: {{ vars.handoff_outcome }}"}}
  ]
}`

var inboxTemplate = sandbox.Template{
	Name: "followup", Language: "en_US", Category: "UTILITY",
	Components: []sandbox.TemplateComponent{
		{Type: "HEADER", Format: "TEXT", Text: "Case {{1}}", Example: json.RawMessage(`{"header_text":["#1"]}`)},
		{Type: "BODY", Text: "Hi {{1}}, we have news about your case.", Example: json.RawMessage(`{"body_text":[["Ann"]]}`)},
	},
}

const (
	inboxAgent    = "sam@e2e.test"
	inboxAgentPwd = "sam's long password"
)

// adminCall makes an API call as the seeded admin, with a session and its
// CSRF token.
func (h *e2e) adminCall(method, path, body string) (int, string) {
	h.t.Helper()
	resp, err := http.Post(h.url("/api/v1/auth/login"), "application/json",
		strings.NewReader(`{"email":"`+e2eAdmin+`","password":"`+e2ePassword+`"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	req, _ := http.NewRequest(method, h.url("/api/v1"+path), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	req.Header.Set("X-CSRF-Token", login.CSRF)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBrowserInbox(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{flows: map[string]string{"desk.json": inboxDeskFlow}, templates: []sandbox.Template{inboxTemplate},
		serve: func(c *serveConfig) { c.readReceipts, c.typingIndicator = true, true }})
	if code, body := h.adminCall("POST", "/users", `{"email":"`+inboxAgent+`","name":"Sam","roles":["agent"],"password":"`+inboxAgentPwd+`"}`); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("creating the agent: %d %s", code, body)
	}
	if code, body := h.adminCall("PUT", "/inbox/agents/"+inboxAgent, `{"queues":["support"],"capacity":3}`); code != http.StatusOK {
		t.Fatalf("agent profile: %d %s", code, body)
	}

	b := newBrowser(t, h.url(""))
	b.signIn(inboxAgent, inboxAgentPwd)
	b.click("nav-inbox")
	b.wait("inbox")
	// The inbox is its own chunk and needs no React Flow.
	if !slices.ContainsFunc(b.scripts(), func(s string) bool { return strings.HasPrefix(s, "InboxPage-") }) {
		t.Errorf("the inbox was not loaded as its own chunk: %v", b.scripts())
	}
	b.noEditorChunk("the inbox")
	b.fill("inbox-status", "online")
	b.waitJS(`$t('inbox-live') && $t('inbox-live').innerText.includes('live')`, "the live stream connected")
	b.waitJS(`$t('inbox-status').value === 'online'`, "status online")
	b.shot("inbox empty, online")

	// A customer escalates; the page shows it without a reload.
	const ann = "15550001111"
	h.customer(ann, "Ann")
	hostile := `agent please <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`
	h.says(ann, sandbox.Text(hostile))
	b.waitJS(`$$t('inbox-item').length === 1`, "the escalated conversation to appear live")
	b.shot("conversation appeared live")
	b.click("inbox-item")
	b.wait("inbox-transcript")
	b.waitText("inbox-transcript", `<script>window.__xss=2</script>`)
	if js[bool](b, `window.__xss !== undefined || !!document.querySelector('.inbox-transcript script, .inbox-transcript img')`) {
		t.Fatal("customer HTML was rendered as HTML")
	}
	b.waitText("conv-note", "asked: agent please <img")
	b.waitText("inbox-window", "window")
	b.waitText("conv-number", "+"+h.sb.Config().DisplayPhoneNumber) // the business number it is on
	b.shot("conversation open, html shown as text")

	// The agent replies; the customer sees "typing…" meanwhile, and
	// receives it.
	b.fill("reply-text", "Hi Ann, Sam here. Sorted!")
	eventually(t, e2eTimeout, func() bool {
		return slices.ContainsFunc(h.markReads(ann), func(s string) bool { return strings.HasSuffix(s, "+typing") })
	}, "a typing indicator while the agent types (mark-reads %q)", h.markReads(ann))
	b.click("reply-send")
	eventually(t, e2eTimeout, func() bool {
		return slices.Contains(sentBodies(h.accepted(ann)), "Hi Ann, Sam here. Sorted!")
	}, "the customer receiving the agent's reply (sent %q)", sentBodies(h.accepted(ann)))
	b.waitText("inbox-transcript", "Hi Ann, Sam here. Sorted!")
	b.waitJS(`$$t('msg-state').some(e => e.innerText.includes('read') || e.innerText.includes('delivered'))`, "delivery ticks")
	b.shot("reply delivered")

	// Customer writes back: it arrives live in the open conversation.
	h.says(ann, sandbox.Text("Thank you!"))
	b.waitText("inbox-transcript", "Thank you!")

	// Resolve: the bot carries on with the outcome.
	b.fill("resolve-outcome", "solved")
	b.click("resolve-go")
	eventually(t, e2eTimeout, func() bool {
		return slices.Contains(sentBodies(h.accepted(ann)), "Bot again. Outcome: solved")
	}, "the bot carrying on (sent %q)", sentBodies(h.accepted(ann)))
	b.waitText("conv-status", "ended")
	b.waitJS(`$$t('inbox-item').length === 0`, "the resolved conversation leaving the list")
	b.shot("resolved, bot carried on")

	// A second customer; their window closes (Meta said so: 131047 late).
	const bob = "15550002222"
	h.customer(bob, "Bob")
	h.says(bob, sandbox.Text("agent"))
	b.waitJS(`$$t('inbox-item').length === 1`, "the second conversation")
	b.click("inbox-item")
	b.wait("reply-freeform")
	if _, err := h.eng.UpdateContact(context.Background(), h.key(bob), func(c *model.Contact) {
		c.WindowClosedAt = time.Now()
		c.OptedIn = true
	}); err != nil {
		t.Fatal(err)
	}
	b.open("/inbox")
	b.click("inbox-item")
	b.wait("reply-templates")
	if js[bool](b, `!!$t('reply-text')`) {
		t.Error("the reply box still offers free-form text with the window closed")
	}
	b.waitText("inbox-window", "window closed")
	// The picker has a field per parameter of the header and of the body
	// (the registry's counts), and sends only once all are filled.
	// The templates load after the box shows: pick one once it is there.
	b.waitJS(`!!document.querySelector('[data-testid="reply-template"] option[value="followup/en_US"]')`, "the template followup among the choices")
	b.fill("reply-template", "followup/en_US")
	b.wait("template-header-0")
	b.wait("template-body-0")
	if n := js[int](b, `document.querySelectorAll('input[data-testid^="template-header-"], input[data-testid^="template-body-"]').length`); n != 2 {
		t.Errorf("the template picker shows %d parameter fields, want 2 (1 header, 1 body)", n)
	}
	b.fill("template-body-0", "Bob")
	if !js[bool](b, `$t('template-send').disabled`) {
		t.Error("a template with its header parameter empty may be sent")
	}
	b.fill("template-header-0", "#4417")
	b.shot("window closed, templates only")
	b.click("template-send")
	eventually(t, e2eTimeout, func() bool {
		for _, e := range h.accepted(bob) {
			if e.Type == "template" {
				return strings.Contains(string(e.Raw), `"#4417"`) && strings.Contains(string(e.Raw), `"Bob"`)
			}
		}
		return false
	}, "the template with its header and body parameters reaching the customer (sent %q)", sentBodies(h.accepted(bob)))
	b.shot("template sent")
}
