package main

// Browser test of the conversations log and a flow's analytics (issue 15
// §3), as an analyst: every conversation is listed, filters narrow by node
// and customer, a row opens the transcript with the path the bot took and
// the variables it saved; the analytics page shows the funnel along the
// main path and the day's trend, links a node to the conversations that
// stopped there, and exports the results as CSV.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

const logPizzaFlow = `{
  "format": "parley/flow@1", "id": "pizza", "name": "Pizza", "language": "en_US", "start": "hello",
  "triggers": [{"type": "keyword", "keywords": ["pizza"]}],
  "nodes": [
    {"id": "hello", "type": "send", "message": {"type": "text", "text": "Hi {{ contact.name }}! Which size?"}, "next": "size"},
    {"id": "size", "type": "wait_reply", "save_as": "size", "next": "thanks"},
    {"id": "thanks", "type": "send", "message": {"type": "text", "text": "A {{ vars.size }} pizza it is"}}
  ]
}`

func TestBrowserConversationsLog(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{flows: map[string]string{"pizza.json": logPizzaFlow}})
	const analyst, analystPwd = "ana@log.test", "ana's long password"
	if code, body := h.adminCall("POST", "/users", `{"email":"`+analyst+`","name":"Ana","roles":["analyst"],"password":"`+analystPwd+`"}`); code != http.StatusCreated {
		t.Fatalf("creating the analyst: %d %s", code, body)
	}
	// Ann orders (ends at thanks); Bob stops at the size question.
	const ann, bob = "15550003333", "15550004444"
	h.customer(ann, "Ann")
	h.customer(bob, "Bob")
	h.says(ann, sandbox.Text("pizza"))
	h.says(bob, sandbox.Text("pizza"))
	eventually(t, e2eTimeout, func() bool { return len(sentBodies(h.accepted(bob))) >= 1 }, "Bob asked the size")
	h.says(ann, sandbox.Text("=large"))
	eventually(t, e2eTimeout, func() bool {
		return strings.Contains(strings.Join(sentBodies(h.accepted(ann)), "|"), "pizza it is")
	}, "Ann's order confirmed (sent %q)", sentBodies(h.accepted(ann)))

	b := newBrowser(t, h.url(""))
	b.signIn(analyst, analystPwd)
	b.click("nav-conversations")
	b.waitJS(`$$t('log-row').length === 2`, "both conversations listed")
	b.shot("log")

	// Filter: the conversations at the size question.
	b.fill("filter-node", "size")
	b.click("filter-apply")
	b.waitJS(`$$t('log-row').length === 1 && location.search.includes('node=size')`, "one conversation at size")
	if !strings.Contains(b.text("log-list"), bob) {
		t.Errorf("the conversation at size is not Bob's: %s", b.text("log-list"))
	}
	// By the customer's number as typed.
	b.click("filter-clear")
	b.waitJS(`$$t('log-row').length === 2`, "the filter cleared")
	b.fill("filter-contact", "+1 555 000 3333")
	b.click("filter-apply")
	b.waitJS(`$$t('log-row').length === 1`, "Ann's conversation alone")
	b.click("log-open")
	b.wait("conversation-transcript")
	b.waitText("conversation-transcript", "pizza it is")
	b.waitText("conversation-path", "hello")
	// The steps the engine recorded: each node run, its exit or where it
	// stopped.
	if p := b.text("conversation-path"); !strings.Contains(p, "→ next") || !strings.Contains(p, "waits for a reply") || !strings.Contains(p, "the flow ended") {
		t.Errorf("the path lacks the steps' exits and stops: %s", p)
	}
	if p := b.text("conversation-path"); !strings.Contains(p, "thanks") {
		t.Errorf("path %q", p)
	}
	b.waitText("conversation-vars", "=large")
	b.waitText("conversation-status", "ended")
	b.shot("transcript")

	// The flow's analytics: funnel, trend, drill-down, export.
	b.open("/flows/pizza/analytics")
	b.waitJS(`$$t('fa-step').length === 3`, "a funnel of three steps")
	if got := js[string](b, `$$t('fa-step').map(s => s.dataset.node + ' ' + s.querySelector('.step-n').innerText).join('; ')`); got != "hello 2 · 100%; size 2 · 100%; thanks 1 · 50%" {
		t.Errorf("funnel %q", got)
	}
	today := time.Now().UTC().Format("2006-01-02")
	b.waitJS(`$$t('fa-day').some(d => d.dataset.day === `+quote(today)+` && d.dataset.started === '2')`, "today's trend: two started")
	b.shot("analytics")
	csv := js[string](b, `fetch($t('fa-export').getAttribute('href')).then(r => r.text())`)
	if !strings.HasPrefix(csv, "conversation,contact,version,status,node,started_at,ended_at,size\n") || !strings.Contains(csv, ",'=large") {
		t.Errorf("results CSV:\n%s", csv)
	}
	js[bool](b, `$$t('fa-node').find(r => r.dataset.node === 'size').querySelector('[data-testid="fa-stopped-here"]').click(), true`)
	b.wait("conversations")
	b.waitJS(`$$t('log-row').length === 1 && location.search.includes('node=size') && location.search.includes('flow=pizza')`, "the conversations that stopped at size")
	if v := js[string](b, `$t('filter-node').value`); v != "size" {
		t.Errorf("the node filter shows %q", v)
	}
	b.shot("stopped at size")
}
