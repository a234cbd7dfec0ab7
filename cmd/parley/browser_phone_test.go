package main

// Browser tests at a phone's width (issue 15 §8, §9): the inbox on a
// 390 px screen, driven by the keyboard as well as by touch-sized
// controls, and every page of the app without horizontal overflow.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// phone makes the tab a 390 × 844 phone screen.
func (b *browser) phone() {
	b.t.Helper()
	b.do("phone viewport", chromedp.EmulateViewport(390, 844))
}

// noHorizontalOverflow fails the test if the page is wider than the screen.
func (b *browser) noHorizontalOverflow(where string) {
	b.t.Helper()
	if w := js[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		b.shot("overflow " + where)
		b.t.Errorf("%s: the page is %d px wide on a %d px screen", where, w[0], w[1])
	}
}

// typeKeys types text into the focused element as keystrokes.
func (b *browser) typeKeys(text string) {
	b.t.Helper()
	b.do("type "+quote(text), chromedp.KeyEvent(text))
}

func TestBrowserInboxPhone(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{flows: map[string]string{"desk.json": inboxDeskFlow}, templates: []sandbox.Template{inboxTemplate}})
	if code, body := h.adminCall("POST", "/users", `{"email":"`+inboxAgent+`","name":"Sam","roles":["agent"],"password":"`+inboxAgentPwd+`"}`); code != http.StatusCreated {
		t.Fatalf("creating the agent: %d %s", code, body)
	}
	if code, body := h.adminCall("PUT", "/inbox/agents/"+inboxAgent, `{"queues":["support"],"capacity":3}`); code != http.StatusOK {
		t.Fatalf("agent profile: %d %s", code, body)
	}

	b := newBrowser(t, h.url(""))
	b.phone()
	// Sign-in focuses its first field: the agent types at once.
	b.open("/")
	b.wait("signin-form")
	if !js[bool](b, `document.activeElement === $t('signin-email')`) {
		t.Error("the sign-in page does not focus the email field")
	}
	b.noHorizontalOverflow("sign-in")
	b.typeKeys(inboxAgent)
	b.fill("signin-password", inboxAgentPwd)
	b.click("signin-submit")
	b.wait("nav")
	b.click("nav-inbox")
	b.wait("inbox")
	b.fill("inbox-status", "online")
	b.waitJS(`$t('inbox-live') && $t('inbox-live').innerText.includes('live')`, "the live stream connected")

	const ann = "15550001111"
	h.customer(ann, "Ann")
	h.says(ann, sandbox.Text("agent please"))
	b.waitJS(`$$t('inbox-item').length === 1`, "the escalated conversation")
	b.waitJS(`/^\(\d+\) Inbox/.test(document.title)`, "the unread count in the tab's title")
	b.noHorizontalOverflow("inbox list")
	b.shot("phone list")

	// The list is keyboard-reachable; j opens the next conversation, which
	// then takes the whole width.
	js[bool](b, `document.activeElement && document.activeElement.blur && document.activeElement.blur(), true`)
	b.key("j")
	b.wait("inbox-transcript")
	if w := js[float64](b, `$t('inbox-conv').getBoundingClientRect().width`); w < 370 {
		t.Errorf("the conversation is %.0f px wide on a 390 px screen", w)
	}
	if js[bool](b, `!!$t('inbox-list') && $t('inbox-list').offsetParent !== null`) {
		t.Error("the list still shows beside the conversation on a phone")
	}
	b.noHorizontalOverflow("conversation")
	b.shot("phone conversation")

	// r focuses the reply; Shift+Enter is a new line, Enter sends.
	b.key("r")
	b.waitJS(`document.activeElement === $t('reply-text')`, "the reply box focused")
	b.typeKeys("Hi Ann,")
	b.key(kb.Enter, chromedp.ModifierShift)
	b.typeKeys("Sam here.")
	if v := js[string](b, `$t('reply-text').value`); v != "Hi Ann,\nSam here." {
		t.Errorf("the reply box holds %q", v)
	}
	b.key(kb.Enter)
	eventually(t, e2eTimeout, func() bool {
		return slices.Contains(sentBodies(h.accepted(ann)), "Hi Ann,\nSam here.")
	}, "the two-line reply reaching Ann (sent %q)", sentBodies(h.accepted(ann)))
	b.waitJS(`$t('reply-text').value === ''`, "the reply box emptied")

	// A send refused by the server is said in plain words: the window
	// closes while the page still offers free text.
	if _, err := h.eng.UpdateContact(context.Background(), h.key(ann), func(c *model.Contact) { c.WindowClosedAt = time.Now() }); err != nil {
		t.Fatal(err)
	}
	b.fill("reply-text", "Still there?")
	b.click("reply-send")
	b.waitText("inbox-error", "more than 24 hours ago")
	if strings.Contains(b.text("inbox-error"), "POST") {
		t.Errorf("the error speaks API: %q", b.text("inbox-error"))
	}
	b.shot("plain error")

	// Window closed and no opt-in: the template is marked refused, with why.
	b.open("/inbox")
	b.click("inbox-item")
	b.wait("reply-templates")
	b.waitText("template-refused", "followup would be refused")
	b.waitText("template-refused", "opt-in")
	if !js[bool](b, `document.querySelector('[data-testid="reply-template"] option[value="followup/en_US"]').disabled`) {
		t.Error("a template that would be refused may be picked")
	}
	b.noHorizontalOverflow("templates")
	b.shot("template refused")

	// Escape leaves for the list; ? lists the shortcuts.
	js[bool](b, `document.activeElement && document.activeElement.blur && document.activeElement.blur(), true`)
	b.key(kb.Escape)
	b.waitJS(`$t('inbox-list') && $t('inbox-list').offsetParent !== null && !$t('inbox-conv')`, "back to the list")
	b.key("?")
	b.waitText("inbox-shortcuts", "next / previous conversation")
	b.shot("shortcuts")
}

// Every page an admin opens fits a phone's width; the editor says it needs
// a wider screen instead of overflowing.
func TestBrowserPhoneLayout(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{flows: map[string]string{"pizza.json": logPizzaFlow}})
	h.customer("15550003333", "Ann")
	h.says("15550003333", sandbox.Text("pizza"))
	b := newBrowser(t, h.url(""))
	b.phone()
	b.signIn(e2eAdmin, e2ePassword)
	for _, p := range []struct{ path, ready string }{
		{"/flows", "nav"},
		{"/conversations", "log-filters"},
		{"/flows/pizza/analytics", "fa-funnel"},
		{"/inbox", "inbox"},
		{"/schedules", "nav"},
		{"/templates", "nav"},
		{"/contacts", "nav"},
		{"/team/users", "user-list"},
		{"/team/queues", "queue-form"},
		{"/team/tokens", "token-form"},
		{"/events", "nav"},
		{"/secrets", "secrets"},
		{"/account", "nav"},
	} {
		b.open(p.path)
		b.wait(p.ready)
		b.noHorizontalOverflow(p.path)
	}
	b.open("/flows/pizza")
	b.waitJS(`$t('narrow-screen') && $t('narrow-screen').offsetParent !== null`, "the editor saying it needs a wider screen")
	b.noHorizontalOverflow("the editor")
	b.shot("editor on a phone")
}
