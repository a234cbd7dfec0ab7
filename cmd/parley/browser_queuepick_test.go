package main

// Browser test of the handoff node's queue picker (issue 15 item 6): an
// analyst, who cannot read the inbox, picks the queue from the queues the
// inbox knows, each with who serves it; a typo is caught as it is typed.
// Parley serves two numbers: once the flow answers on one, the picker
// offers only the queues of that number, and a queue of the other is
// warned of.

import (
	"net/http"
	"testing"
)

func TestBrowserQueuePick(t *testing.T) {
	chromiumPath(t)
	h := newE2E(t, e2eOptions{})
	h.serveCfg = func(c *serveConfig) {
		c.numbers = []numberConfig{{PhoneNumberID: teamNumberB, WABAID: c.wabaID, AccessToken: "token-of-b", DisplayPhoneNumber: teamDisplayB, APIURL: c.apiURL}}
	}
	h.start()
	numberA := h.sb.Config().PhoneNumberID
	const (
		analystEmail = "ana@e2e.test"
		agentEmail   = "sam@e2e.test"
		pwd          = "long enough password"
	)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/users", `{"email":"` + analystEmail + `","name":"Ana","roles":["analyst"],"password":"` + pwd + `"}`},
		{"POST", "/users", `{"email":"` + agentEmail + `","name":"Sam","roles":["agent"],"password":"` + pwd + `"}`},
		{"PUT", "/inbox/queues/support", `{"name":"Customer care"}`},
		{"PUT", "/inbox/queues/billing", `{"name":"Billing"}`}, // nobody serves it
		{"PUT", "/inbox/queues/care_b", `{"name":"Care (second number)","numbers":["` + teamNumberB + `"]}`},
		{"PUT", "/inbox/agents/" + agentEmail, `{"queues":["support"],"capacity":2}`},
		{"PUT", "/inbox/agents/" + agentEmail + "/status", `{"status":"online"}`},
	} {
		if code, body := h.adminCall(c.method, c.path, c.body); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", c.method, c.path, code, body)
		}
	}

	b := newBrowser(t, h.url(""))
	b.signIn(analystEmail, pwd)
	b.click("new-flow")
	b.fill("new-flow-id", "desk")
	b.fill("new-flow-name", "Desk")
	b.click("new-flow-create")
	b.wait("palette")
	b.addNode("handoff", "agent")

	// A typo: the picker says which queue was meant, at once; the saved
	// draft's warning (the server's) comes under the field too.
	b.fill("field-queue", "suport")
	b.waitText("queue-suggestion", `Use “support”`)
	b.saved()
	b.waitJS(`$t('field-problem') && $t('field-problem').innerText.includes('did you mean "support"?')`, "the server's warning under the field")
	b.shot("queue typo")

	// Picked with the mouse from the list, each queue with who serves it.
	b.mouseClick(sel("field-queue"))
	b.waitJS(`$t('queue-option-support') && $t('queue-option-support').innerText.includes('Customer care')
		&& $t('queue-option-support').innerText.includes('1 agent, one online')`, "support offered, served")
	b.fill("field-queue", "")
	b.waitJS(`$t('queue-option-billing') && $t('queue-option-billing').innerText.includes('no agent')`, "billing offered, unserved")
	b.shot("queue list")
	b.mouseClick(sel("queue-option-support"))
	b.waitJS(`$t('field-queue').value === 'support' && !$t('queue-options')`, "support picked, the list closed")
	b.waitText("queue-status", "Served by 1 agent, one online.")
	b.saved()
	b.waitJS(`!document.querySelector('[data-field-wrap="queue"] [data-testid="field-problem"]')`, "no warning left")
	if got := js[string](b, `(async () => (await apiFetch('GET', '/flows/desk')).body.draft.nodes.find((n) => n.id === 'agent').queue)()`); got != "support" {
		t.Fatalf("saved queue = %q, want support", got)
	}

	// A queue to create later is still allowed, with a warning.
	b.fill("field-queue", "legal")
	b.waitText("queue-status", "new queue")
	b.saved()
	b.shot("queue new")

	// The flow answers on the first number only: the queue of the second
	// is no longer offered, and naming it is warned of, as typed and by
	// the server after the save.
	b.mouseClick(sel("field-queue"))
	b.fill("field-queue", "")
	b.waitJS(`!!$t('queue-option-care_b')`, "the queue of the second number offered while the flow answers on every number")
	b.click("tab-flow")
	b.fill("flow-numbers", numberA)
	b.saved()
	b.selectNode("agent")
	b.mouseClick(sel("field-queue"))
	b.fill("field-queue", "")
	b.waitJS(`!!$t('queue-option-support') && !$t('queue-option-care_b')`, "only the queues of the flow's number offered")
	b.fill("field-queue", "care_b")
	// The picker's own warning gives way to the server's once the draft
	// is saved (queues.test.ts pins the picker's).
	b.saved()
	b.waitJS(`$$t('field-problem').some(e => e.innerText.includes('queue "care_b", which serves none of the numbers this flow answers on'))`, "the server's warning under the field")
	b.waitJS(`!$t('queue-option-care_b')`, "the queue of the other number still not offered")
	b.shot("queue of another number")
}
