package main

// Browser test of the team's admin pages (issue 15 §1): an admin invites
// an agent with a temporary password, makes them an agent of a queue with
// business hours and the business numbers it serves (Parley serves two
// here), adds a canned response and an API token (shown once, working,
// then revoked), disables and re-enables the user. The invited agent
// signs in with the temporary password and sees neither the Team page nor
// its API.

import (
	"net/http"
	"strings"
	"testing"
)

// teamNumberB is the second business number of the team test (the
// first is the sandbox's): in the same account, so nothing more syncs.
const teamNumberB, teamDisplayB = "120000000000002", "15550002222"

func TestBrowserTeam(t *testing.T) {
	chromiumPath(t)
	h := newE2E(t, e2eOptions{})
	h.serveCfg = func(c *serveConfig) {
		c.numbers = []numberConfig{{PhoneNumberID: teamNumberB, WABAID: c.wabaID, AccessToken: "token-of-b", DisplayPhoneNumber: teamDisplayB, APIURL: c.apiURL}}
	}
	h.start()
	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.click("nav-team")
	b.wait("team")
	b.wait("user-list")

	// Users: invite Sam as an agent; the temporary password is shown once.
	const sam = "sam@team.test"
	b.fill("user-email", sam)
	b.fill("user-name", "Sam")
	b.click("user-create")
	b.waitText("team-notice", sam+" can sign in now")
	password := b.text("one-time-value")
	if len(password) != 16 {
		t.Fatalf("temporary password %q", password)
	}
	b.waitJS(`$$t('user-row').some(r => r.dataset.email === `+quote(sam)+`)`, "Sam in the list")
	b.shot("user invited")

	// Agents: Sam is offered; give them the support queue and capacity 3.
	b.click("team-tab-agents")
	b.waitText("agent-add", "Add Sam")
	b.click("agent-add-user")
	b.waitJS(`$$t('agent-row').some(r => r.dataset.email === `+quote(sam)+`)`, "Sam an agent")
	b.fill("agent-queues", "support")
	b.fill("agent-capacity", "3")
	b.click("agent-save")
	b.waitText("team-notice", "Saved "+sam)
	if code, body := h.adminCall("GET", "/inbox/agents", ""); code != http.StatusOK || !strings.Contains(body, `"queues":["support"]`) || !strings.Contains(body, `"capacity":3`) {
		t.Errorf("agents after saving: %d %s", code, body)
	}
	b.shot("agent saved")

	// Queues: a bad span is refused on the page; a good one is saved.
	b.click("team-tab-queues")
	b.wait("queue-form")
	b.fill("queue-id", "support")
	b.fill("queue-name", "Support")
	b.fill("queue-timezone", "Europe/Dublin")
	b.fill("queue-hours", "mon 9-17")
	b.waitText("queue-hours-error", "not a time span")
	b.fill("queue-hours", "mon 09:00-17:30\nfri 09:00-13:00")
	b.fill("queue-closed-reply", "We open {{opens}}.")
	// Numbers: none ticked is every number; the admin picks the second.
	b.waitText("queue-numbers-summary", "All numbers")
	b.waitJS(`$t('queue-numbers-all').checked && $$t('queue-number').length === 2`, "both numbers offered, none ticked")
	numberBox := `$$t('queue-number').find(e => e.dataset.id === ` + quote(teamNumberB) + `)`
	js[bool](b, numberBox+`.click(), true`)
	b.waitText("queue-numbers-summary", "Only +"+teamDisplayB)
	b.shot("queue form with a number")
	b.click("queue-save")
	b.waitText("team-notice", "Saved queue support")
	supportRow := `$$t('queue-row').find(r => r.dataset.id === 'support')`
	b.waitJS(supportRow+`?.innerText.includes('fri 09:00-13:00')`, "the queue with its hours")
	b.waitJS(supportRow+`.querySelector('[data-testid="queue-numbers"]').innerText === '+`+teamDisplayB+`'`, "the queue with its number")
	if code, body := h.adminCall("GET", "/inbox/queues", ""); !strings.Contains(body, `"timezone":"Europe/Dublin"`) || !strings.Contains(body, `We open {{opens}}.`) ||
		!strings.Contains(body, `"numbers":["`+teamNumberB+`"]`) {
		t.Errorf("queues after saving: %d %s", code, body)
	}
	b.shot("queue saved with a number")
	// Edited, the form shows the number ticked; unticked, the queue
	// serves every number again.
	js[bool](b, supportRow+`.querySelector('[data-testid="queue-edit"]').click(), true`)
	b.waitJS(numberBox+`?.checked && !$t('queue-numbers-all').checked`, "the number ticked in the form")
	js[bool](b, numberBox+`.click(), true`)
	b.waitText("queue-numbers-summary", "All numbers")
	b.click("queue-save")
	b.waitJS(supportRow+`?.querySelector('[data-testid="queue-numbers"]').innerText === 'All numbers'`, "the queue serving every number")
	if code, body := h.adminCall("GET", "/inbox/queues", ""); code != http.StatusOK || strings.Contains(body, `"numbers"`) {
		t.Errorf("queues after unticking: %d %s", code, body)
	}

	// Canned responses.
	b.click("team-tab-canned")
	b.fill("canned-title", "Greeting")
	b.fill("canned-text", "Hello! How can I help?")
	b.fill("canned-queue", "support")
	b.click("canned-save")
	b.waitText("canned-list", "Hello! How can I help?")

	// API tokens: the secret is shown once and works; revoked, it stops.
	b.click("team-tab-tokens")
	b.fill("token-name", "crm")
	b.click("token-create")
	b.wait("one-time-value")
	secret := b.text("one-time-value")
	call := func() int {
		req, _ := http.NewRequest("GET", h.url("/api/v1/inbox/queues"), nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := call(); code != http.StatusOK {
		t.Errorf("the new token answers %d", code)
	}
	b.shot("token made")
	b.click("one-time-close")
	b.click("token-revoke")
	b.waitText("team-notice", "Revoked")
	if code := call(); code != http.StatusUnauthorized {
		t.Errorf("the revoked token answers %d, want 401", code)
	}

	// Secrets are linked from the team area.
	b.click("team-tab-secrets")
	b.wait("secrets")
	b.click("secrets-team")
	b.wait("user-list")

	// Disable and enable Sam.
	b.waitJS(`$$t('user-row').find(r => r.dataset.email === `+quote(sam)+`)`, "Sam's row")
	js[bool](b, `$$t('user-row').find(r => r.dataset.email === `+quote(sam)+`).querySelector('[data-testid="user-disable"]').click(), true`)
	b.waitText("team-notice", sam+" disabled")
	samRow := `$$t('user-row').find(r => r.dataset.email === ` + quote(sam) + `)`
	b.waitJS(samRow+`.querySelector('[data-testid="user-disabled"]') && `+samRow+`.querySelector('[data-testid="user-disable"]').innerText === 'Enable'`, "Sam shown disabled")
	js[bool](b, `$$t('user-row').find(r => r.dataset.email === `+quote(sam)+`).querySelector('[data-testid="user-disable"]').click(), true`)
	b.waitText("team-notice", sam+" enabled")
	b.waitJS(`!`+samRow+`.querySelector('[data-testid="user-disabled"]')`, "Sam shown enabled")

	// Sam signs in: no Team in the nav, the page is not there, the API refuses.
	s := newBrowser(t, h.url(""))
	s.signIn(sam, password)
	if js[bool](s, `!!$t('nav-team')`) {
		t.Error("an agent sees the Team page in the nav")
	}
	s.open("/team/users")
	s.wait("not-found")
	if st := js[int](s, `apiFetch('GET', '/users').then(r => r.status)`); st != http.StatusForbidden {
		t.Errorf("an agent listing users: %d, want 403", st)
	}
	if st := js[int](s, `apiFetch('PUT', '/inbox/queues/support', {name: 'x'}).then(r => r.status)`); st != http.StatusForbidden {
		t.Errorf("an agent changing a queue: %d, want 403", st)
	}
	s.shot("agent sees no team page")
}
