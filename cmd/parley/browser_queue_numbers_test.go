package main

// Browser test of queues that serve chosen numbers (issue 15 §1), on the
// inbox's side: Parley serves two numbers; the support queue serves only
// the second, so a customer of the first handed off to it waits there,
// out of the support agent's sight, marked for the admin. The admin's
// transfer list offers only the queues of the customer's number; the
// transfer lands with the agent of that queue.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

func TestBrowserInboxQueueNumbers(t *testing.T) {
	chromiumPath(t)
	h := newE2E(t, e2eOptions{flows: map[string]string{"desk.json": inboxDeskFlow}})
	h.serveCfg = func(c *serveConfig) {
		c.numbers = []numberConfig{{PhoneNumberID: teamNumberB, WABAID: c.wabaID, AccessToken: "token-of-b", DisplayPhoneNumber: teamDisplayB, APIURL: c.apiURL}}
	}
	h.start()
	numberA := h.sb.Config().PhoneNumberID
	for _, call := range []struct{ method, path, body string }{
		{"POST", "/users", `{"email":"` + inboxAgent + `","name":"Sam","roles":["agent"],"password":"` + inboxAgentPwd + `"}`},
		{"POST", "/users", `{"email":"kim@e2e.test","name":"Kim","roles":["agent"],"password":"kim's long password"}`},
		{"PUT", "/inbox/queues/support", `{"name":"Support","numbers":["` + teamNumberB + `"]}`},
		{"PUT", "/inbox/queues/shop", `{"name":"Shop","numbers":["` + numberA + `"]}`},
		{"PUT", "/inbox/agents/" + inboxAgent, `{"queues":["support"],"capacity":3,"status":"online"}`},
		{"PUT", "/inbox/agents/kim@e2e.test", `{"queues":["shop"],"capacity":3,"status":"online"}`},
	} {
		if code, body := h.adminCall(call.method, call.path, call.body); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", call.method, call.path, code, body)
		}
	}
	if code, body := h.adminCall("PUT", "/inbox/queues/care", `{"numbers":["199999999999999"]}`); code != http.StatusBadRequest || !strings.Contains(body, "199999999999999") {
		t.Errorf("a queue of a number Parley does not serve: %d %s, want 400 naming it", code, body)
	}

	// Ann writes to the first number and asks for a person: the handoff
	// names support, which serves only the second number.
	const ann = "15550001111"
	h.customer(ann, "Ann")
	h.says(ann, sandbox.Text("agent please"))

	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.open("/inbox")
	b.click("inbox-view-all")
	b.waitJS(`$$t('inbox-item').length === 1 && !!$t('inbox-off-number')`, "the conversation, marked as on another number")
	b.waitText("queue-off-number", "1 on other numbers") // support's count
	b.click("inbox-item")
	b.wait("conv-off-number")
	// The transfer list: the queues that serve the first number, not support.
	options := func() string {
		return js[string](b, `[...$t('transfer-queue').options].map(o => o.value).join(' ')`)
	}
	b.waitJS(`[...$t('transfer-queue').options].some(o => o.value === 'shop')`, "the shop queue offered")
	if got := options(); got != " shop" {
		t.Errorf("transfer list %q, want only shop (besides the same queue)", got)
	}
	b.shot("off its queue's numbers, transfer to the queue of its number")

	// Sam (support) does not see it.
	s := newBrowser(t, h.url(""))
	s.signIn(inboxAgent, inboxAgentPwd)
	s.open("/inbox")
	s.click("inbox-view-all")
	s.wait("inbox-list")
	if n := js[int](s, `$$t('inbox-item').length`); n != 0 {
		t.Errorf("sam sees %d conversations on a number support does not serve", n)
	}

	b.fill("transfer-queue", "shop")
	b.click("transfer-go")
	b.waitJS(`$t('inbox-conv') && !$t('conv-off-number') && $t('inbox-conv').innerText.includes('with kim@e2e.test')`, "the conversation with Kim, in shop")
	b.shot("transferred to the queue of its number")
	if code, body := h.adminCall("GET", "/inbox/conversations?view=all", ""); code != http.StatusOK || !strings.Contains(body, `"queue":"shop"`) || strings.Contains(body, "off_number") {
		t.Errorf("after the transfer: %d %s", code, body)
	}
}
