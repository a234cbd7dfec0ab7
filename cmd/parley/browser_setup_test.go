package main

// Browser test of the first run: a `parley serve` with no user at all (no
// PARLEY_ADMIN_EMAIL) shows the setup page; creating the admin there signs
// them in on the flows list; a second visit (a fresh browser, no session)
// shows sign-in, never setup again, and the admin signs in. The first page
// loads only the main bundle: React Flow is the editor's chunk. Then the
// admin changes their own password.

import (
	"strings"
	"testing"
)

func TestBrowserFirstRunSetup(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{serve: func(c *serveConfig) { c.adminEmail, c.adminPassword = "", "" }})
	const (
		email    = "first@e2e.test"
		password = "the first admin's password"
	)

	b := newBrowser(t, h.url(""))
	b.open("/")
	b.wait("setup-form")
	if js[bool](b, `!!$t('signin-form') || !!$t('nav')`) {
		t.Fatal("a server with no user shows sign-in or the app, not setup")
	}
	scripts := b.scripts()
	if len(scripts) != 1 || !strings.HasPrefix(scripts[0], "index-") {
		t.Errorf("the setup page fetched %v; want the main bundle alone", scripts)
	}
	b.noEditorChunk("the setup page")
	b.shot("setup page")

	b.fill("setup-name", "Fiona First")
	b.fill("setup-email", email)
	b.fill("setup-password", password)
	b.click("setup-submit")
	b.wait("nav")
	b.wait("flows-empty") // the flows list, with no flow yet
	if p := js[string](b, `location.pathname`); p != "/flows" {
		t.Errorf("after setup the app is on %q, want /flows", p)
	}
	who := b.text("who")
	if !strings.Contains(who, "Fiona First") || !strings.Contains(who, "admin") {
		t.Errorf("signed in as %q, want Fiona First (admin)", who)
	}
	b.noEditorChunk("the flows list")
	b.shot("signed in on the flows list")

	// The server says setup is done, and refuses a second one.
	if needed := js[bool](b, `fetch('/api/v1/auth/setup').then((r) => r.json()).then((s) => s.needed)`); needed {
		t.Error("GET /auth/setup still says a first admin is needed")
	}
	if st := js[int](b, `apiFetch('POST', '/auth/setup', {email: 'second@e2e.test', name: 'Second', password: 'another long password'}).then((r) => r.status)`); st < 400 {
		t.Errorf("a second setup answered %d, want an error", st)
	}

	// A second visit, from a browser with no session: sign-in, not setup.
	b2 := newBrowser(t, h.url(""))
	b2.open("/")
	b2.wait("signin-form")
	if js[bool](b2, `!!$t('setup-form')`) {
		t.Fatal("the second visit shows setup again")
	}
	b2.shot("second visit shows sign-in")
	b2.fill("signin-email", email)
	b2.fill("signin-password", password)
	b2.click("signin-submit")
	b2.wait("flows-empty")
	b2.shot("signed in again")

	// The admin changes their password in the second browser: it carries
	// on, the first browser is signed out, and only the new one signs in.
	const newPassword = "a brand new passphrase"
	b2.click("who")
	b2.wait("account-form")
	b2.fill("account-current", "not the password")
	b2.fill("account-new", newPassword)
	b2.fill("account-again", newPassword)
	b2.click("account-submit")
	b2.wait("account-error")
	b2.fill("account-current", password)
	b2.click("account-submit")
	b2.wait("account-done")
	b2.shot("password changed")
	if st := js[int](b2, `fetch('/api/v1/auth/me').then((r) => r.status)`); st != 200 {
		t.Errorf("the browser that changed the password: /auth/me %d, want 200", st)
	}
	if st := js[int](b, `fetch('/api/v1/auth/me').then((r) => r.status)`); st != 401 {
		t.Errorf("the other browser after the change: /auth/me %d, want 401", st)
	}
	b2.click("signout")
	b2.wait("signin-form")
	b2.fill("signin-email", email)
	b2.fill("signin-password", newPassword)
	b2.click("signin-submit")
	b2.wait("account-form") // back where they signed out
}
