package main

// Browser test of the test chat for a team (issue 15 §4): the analyst sets
// who the customer is (name, language, tags, fields, no opt-in) and the
// flow greets them so; the chat hands off and the analyst answers and
// resolves as the agent; a template shows its words and buttons; a routing
// test starts what the published triggers would for a first message.

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

const chatTeamFlow = `{
  "format": "parley/flow@1", "id": "greet", "name": "Greet", "language": "en_US", "start": "hi",
  "triggers": [{"type": "keyword", "keywords": ["hello"]}],
  "nodes": [
    {"id": "hi", "type": "send", "message": {"type": "text", "text": "Hi {{ contact.name }} ({{ contact.language }}, {{ 'vip' in contact.tags ? 'VIP' : 'regular' }}, {{ contact.fields.city }}, opted in {{ contact.opted_in }})"}, "next": "ask"},
    {"id": "ask", "type": "wait_reply", "save_as": "said", "next": "agent"},
    {"id": "agent", "type": "handoff", "queue": "support", "next": "news"},
    {"id": "news", "type": "template", "template": {"name": "casenews", "language": "en_US", "header": ["#7"], "body": ["{{ contact.name }}"], "buttons": [{"index": 0, "payload": "thanks"}]}}
  ]
}`

var chatTeamTemplate = sandbox.Template{
	Name: "casenews", Language: "en_US", Category: "UTILITY",
	Components: []sandbox.TemplateComponent{
		{Type: "HEADER", Format: "TEXT", Text: "Case {{1}}", Example: json.RawMessage(`{"header_text":["#1"]}`)},
		{Type: "BODY", Text: "Hi {{1}}, we have news about your case.", Example: json.RawMessage(`{"body_text":[["Ann"]]}`)},
		{Type: "BUTTONS", Buttons: []sandbox.TemplateButton{{Type: "QUICK_REPLY", Text: "Thank you"}}},
	},
}

func TestBrowserTestChatForTeams(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{flows: map[string]string{"greet.json": chatTeamFlow}, templates: []sandbox.Template{chatTeamTemplate}})
	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.open("/flows/greet")
	b.click("tab-test")
	b.wait("chat-customer")
	js[bool](b, `$t('chat-customer').open = true, true`)
	b.fill("chat-who-name", "Ana")
	b.fill("chat-who-language", "pt_BR")
	b.fill("chat-who-tags", "vip, late")
	b.fill("chat-who-fields", "city: Porto")
	js[bool](b, `$t('chat-who-optin').click(), true`)
	b.waitJS(`!$t('chat-who-optin').checked`, "opt-in unticked")
	b.click("chat-start")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Hi Ana (pt_BR, VIP, Porto, opted in false)'))`, "the greeting read from the profile")
	b.shot("greeting from the profile")

	// Handed off: the analyst answers as the agent, then resolves.
	b.fill("chat-input", "a person please")
	b.click("chat-send")
	b.waitText("chat-status", "agent")
	b.fill("chat-agent-text", "Sam here, on it")
	b.click("chat-agent-send")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Sam here, on it'))`, "the agent's reply in the chat")
	b.fill("chat-agent-outcome", "solved")
	b.click("chat-agent-resolve")
	// The template shows its words with the parameters, and its button's title.
	b.waitText("chat-template-body", "Hi Ana, we have news about your case.")
	b.waitText("chat-template-header", "Case #7")
	b.waitText("chat-qr-thanks", "Thank you")
	b.shot("agent, then the template in words")

	// Routing: a first message goes where the published triggers send it.
	b.fill("chat-from", "route")
	b.fill("chat-first", "Hello there")
	b.click("chat-start")
	b.waitText("chat-route", "greet")
	b.waitText("chat-route", "hello")
	b.waitJS(`$$t('chat-in').some((m) => m.innerText.includes('Hello there')) && $$t('chat-out').some((m) => m.innerText.includes('Hi Ana'))`, "the routed chat")
	b.fill("chat-first", "good morning")
	b.click("chat-start")
	b.waitText("chat-error", "starts no flow")
	b.shot("routing test")
}
