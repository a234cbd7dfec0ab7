package main

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestBrowserSendingPaused: the access token expires; every signed-in
// user sees a banner saying sending is paused and what to do, an admin
// resumes once the token is renewed, and the banner goes.
func TestBrowserSendingPaused(t *testing.T) {
	chromiumPath(t)
	w := newFaultWorld(t)
	if code, body := w.adminCall("POST", "/users", `{"email":"`+inboxAgent+`","name":"Sam","roles":["agent"],"password":"`+inboxAgentPwd+`"}`); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("creating the agent: %d %s", code, body)
	}
	w.graph.setFault(always(tokenExpired))
	w.says("15553050001", sandbox.Text("m0"))
	w.readyzSays("access token")

	agent := newBrowser(t, w.url(""))
	agent.signIn(inboxAgent, inboxAgentPwd)
	agent.waitText("sending-banner", "WhatsApp sending paused")
	agent.waitText("sending-banner", "WHATSAPP_ACCESS_TOKEN")
	if js[bool](agent, `!!$t('sending-resume')`) {
		t.Error("an agent is offered to resume sending")
	}
	agent.shot("agent sees the pause")

	admin := newBrowser(t, w.url(""))
	admin.signIn(e2eAdmin, e2ePassword)
	admin.waitText("sending-banner", "To do:")
	admin.shot("admin sees the pause")
	w.graph.setFault(nil) // the token is renewed
	admin.click("sending-resume")
	admin.waitJS(`!$t('sending-banner')`, "the banner gone")
	w.waitAccepted("15553050001", 1)
	admin.shot("resumed")
}
