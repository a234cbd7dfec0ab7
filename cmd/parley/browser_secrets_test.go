package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/secrets"
)

// TestBrowserSecrets: an admin adds a secret on the Secrets page, sees its
// name, fingerprint and author, replaces it, and deletes it after
// confirming. The value is never on the page after saving, nor in the
// server's log, nor in the data file; the key file beside it is 0600.
func TestBrowserSecrets(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{})
	const value = "tok_live_Browser-9f3K-never-shown"

	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.open("/secrets")
	b.wait("secrets-empty")
	b.fill("secret-name", "shop_token")
	b.fill("secret-value", value)
	b.click("secret-save")
	b.waitText("secrets-notice", "Added shop_token")
	b.wait("secret-row")
	if fp := b.text("secret-fingerprint"); len(fp) != 8 {
		t.Errorf("fingerprint %q", fp)
	}
	if v := js[string](b, `$t('secret-value').value`); v != "" {
		t.Errorf("the value field still holds %q after saving", v)
	}
	if js[bool](b, `document.documentElement.outerHTML.includes(`+quote(value)+`)`) {
		t.Error("the page holds the value")
	}
	b.shot("secret added")

	first := b.text("secret-fingerprint")
	b.fill("secret-name", "shop_token")
	b.waitText("secret-save", "Replace")
	b.fill("secret-value", value+"2")
	b.click("secret-save")
	b.waitText("secrets-notice", "Replaced shop_token")
	b.waitJS(`$t('secret-fingerprint') && $t('secret-fingerprint').textContent !== `+quote(first), "a new fingerprint")

	b.click("secret-delete")
	b.click("secret-delete-confirm")
	b.wait("secrets-empty")
	b.shot("secret deleted")

	if strings.Contains(h.log.String(), value) {
		t.Error("the server's log holds the value")
	}
	if !strings.Contains(h.log.String(), "secret stored") {
		t.Error("the server's log does not say the secret was stored: is the capture live?")
	}
	raw, err := os.ReadFile(filepath.Join(h.data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(value)) {
		t.Error("the data file holds the value in clear")
	}
	if os.Getenv(secrets.KeyEnv) == "" {
		fi, err := os.Stat(filepath.Join(h.data, secrets.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("the key file's mode is %o, want 600", fi.Mode().Perm())
		}
	}
}
