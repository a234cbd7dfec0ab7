package main

// Browser test of the policy pages (issue 4 §6: "the web UI shows them
// later"): an analyst creates a template in the sandbox and follows it from
// PENDING to APPROVED, after one with adjacent parameters was refused
// before it was submitted and one with a name Meta already has was refused
// by Meta on its name; an admin dry-runs a CSV file with a bad row (row,
// column and why), fixes it, imports it, sees the contacts and one
// contact's consent history, and records an opt-out; the numbers panel
// shows the messaging limit and its usage once a schedule has reached the
// imported contacts. An agent has none of these entries. A template name
// and a contact name with HTML in them show as text. Screenshots are
// logged as they are saved.

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

const (
	polAnalyst    = "ana@policy.test"
	polAnalystPwd = "ana's long password"
	polAgent      = "sam@policy.test"
	polAgentPwd   = "sam's long password"
	// polHTMLName is a template name with HTML in it, created through the API.
	polHTMLName = `<img src=x onerror="window.__xss=1">promo`
)

var polReminder = sandbox.Template{
	Name: "policy_reminder", Language: "en_US", Category: "UTILITY",
	Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hi {{1}}, your order is ready.",
		Example: json.RawMessage(`{"body_text":[["Ann"]]}`)}},
}

func TestBrowserPolicy(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{
		templates: []sandbox.Template{polReminder},
		// Meta's review of a created template takes a few seconds: long
		// enough for the page to show PENDING, short enough to wait for.
		sandbox: func(c *sandbox.Config) { c.TemplateReviewDelay = 3 * time.Second },
		serve: func(c *serveConfig) {
			c.scheduleInterval, c.messagingLimit = 50*time.Millisecond, engine.DefaultMessagingLimit
		},
	})
	for _, u := range []struct{ email, name, role, pwd string }{{polAnalyst, "Ana", "analyst", polAnalystPwd}, {polAgent, "Sam", "agent", polAgentPwd}} {
		if code, body := h.adminCall("POST", "/users", `{"email":"`+u.email+`","name":"`+u.name+`","roles":["`+u.role+`"],"password":"`+u.pwd+`"}`); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("creating %s: %d %s", u.email, code, body)
		}
	}
	// A template whose name holds HTML, created through the API (the
	// form would refuse the name); Meta's review rejects it.
	htmlBody, _ := json.Marshal(map[string]any{"name": polHTMLName, "language": "en_US", "category": "MARKETING",
		"components": []map[string]any{{"type": "BODY", "text": "Spring sale!"}}})
	if code, body := h.adminCall("POST", "/templates", string(htmlBody)); code != http.StatusCreated {
		t.Fatalf("creating the template with HTML in its name: %d %s", code, body)
	}

	// ---- an analyst: templates ----
	b := newBrowser(t, h.url(""))
	b.signIn(polAnalyst, polAnalystPwd)
	if js[bool](b, `!!$t('nav-contacts')`) {
		t.Error("an analyst sees the Contacts entry (the contact list is an admin's)")
	}
	b.click("nav-templates")
	b.wait("templates")
	b.waitJS(`$$t('template-row').some((r) => r.dataset.name === 'policy_reminder' && r.dataset.status === 'APPROVED')`, "the synced template listed, APPROVED")
	row := `$$t('template-row').find((r) => r.dataset.name === 'policy_reminder')`
	if got := js[string](b, row+`.querySelector('[data-testid="template-params"]').innerText`); got != "0 · 1 · 0" {
		t.Errorf("policy_reminder's parameters: %q, want 0 · 1 · 0", got)
	}
	// The numbers panel: the configured limit, nobody reached yet.
	b.waitText("number-limit", "250")
	b.waitText("number-usage", "0")
	b.waitText("number-limit-source", "configured")

	// The template name with HTML shows as text, and Meta rejected it.
	htmlRow := `$$t('template-row').find((r) => r.dataset.name === ` + quote(polHTMLName) + `)`
	b.waitJS(htmlRow+` && `+htmlRow+`.dataset.status === 'REJECTED'`, "the template with HTML in its name listed, REJECTED")
	if got := js[string](b, htmlRow+`.querySelector('[data-testid="template-name"]').innerText`); got != polHTMLName {
		t.Errorf("the name shows as %q, want the text %q", got, polHTMLName)
	}
	js[bool](b, htmlRow+`.click(), true`)
	b.waitText("template-detail-name", polHTMLName)
	b.waitText("rejected-note", "INVALID_FORMAT")
	if js[bool](b, `window.__xss !== undefined || !!document.querySelector('[data-testid="templates"] img')`) {
		t.Fatal("a template name was rendered as HTML")
	}
	b.shot("templates list and numbers")

	// A template with adjacent parameters: refused before it is submitted.
	b.click("new-template")
	b.wait("template-form")
	b.fill("tpl-name", "Order-Shipped")
	b.waitText("tpl-name-problems", "try order_shipped")
	b.fill("tpl-name", "order_shipped")
	b.waitJS(`!$t('tpl-name-problems')`, "the name accepted")
	b.fill("tpl-category", "UTILITY")
	b.fill("tpl-body", "Hi {{1}}{{2}}, your order has shipped.")
	b.waitText("tpl-body-problems", "next to each other")
	b.fill("tpl-example-body-1", "Ann")
	b.fill("tpl-example-body-2", "A-1")
	b.click("tpl-submit")
	b.wait("tpl-refused")
	b.shot("adjacent parameters refused before submitting")
	if strings.Contains(js[string](b, `apiFetch('GET', '/templates').then((r) => JSON.stringify(r.body))`), "order_shipped") {
		t.Fatal("a template with adjacent parameters was submitted")
	}
	for _, tp := range h.sb.Templates() {
		if tp.Name == "order_shipped" {
			t.Fatal("a template with adjacent parameters reached Meta")
		}
	}

	// Fixed: submitted, PENDING while Meta reviews it, then APPROVED.
	b.fill("tpl-body", "Hi {{1}}, your order {{2}} has shipped.")
	b.waitJS(`!$t('tpl-body-problems') && !$t('tpl-refused')`, "the body accepted")
	b.fill("tpl-footer", "Acme")
	b.click("tpl-add-quick-reply")
	b.fill("tpl-button-text-0", "Track")
	b.waitText("tpl-preview", "Hi Ann, your order A-1 has shipped.")
	b.waitText("tpl-counts", "2 body parameters")
	b.click("tpl-submit")
	b.waitJS(`$t('template-detail') && $t('template-detail-name').innerText === 'order_shipped'`, "the created template shown")
	b.waitJS(`$t('template-detail').dataset.status === 'PENDING' && $t('pending-note')`, "the template PENDING")
	b.waitJS(`$$t('template-row').some((r) => r.dataset.name === 'order_shipped' && r.dataset.status === 'PENDING')`, "the list showing it PENDING")
	b.shot("template pending")
	b.waitJS(`$t('template-detail').dataset.status === 'APPROVED'`, "the template APPROVED by Meta's review, without a reload")
	b.wait("approved-note")
	b.waitJS(`$$t('history-row').length === 2 && $$t('history-row')[0].dataset.to === 'PENDING' && $$t('history-row')[1].dataset.to === 'APPROVED'`, "the history PENDING → APPROVED")
	b.waitText("template-history", "created through Parley by "+polAnalyst)
	b.waitJS(`$$t('template-row').some((r) => r.dataset.name === 'order_shipped' && r.dataset.status === 'APPROVED')`, "the list showing it APPROVED")
	b.waitText("template-buttons", "Track")
	b.shot("template approved with history")

	// A name and language Meta has already: Meta refuses it, on the name.
	b.click("new-template")
	b.wait("template-form")
	b.fill("tpl-name", "policy_reminder")
	b.fill("tpl-category", "UTILITY")
	b.fill("tpl-body", "Hello there, see you soon.")
	b.click("tpl-submit")
	b.waitText("tpl-name-problems", "already exists")
	b.shot("existing name refused by Meta on its field")
	b.click("tpl-cancel")

	// ---- an agent: none of these pages ----
	b.click("signout")
	b.signIn(polAgent, polAgentPwd)
	for _, nav := range []string{"nav-templates", "nav-contacts", "nav-schedules"} {
		if js[bool](b, `!!$t(`+quote(nav)+`)`) {
			t.Errorf("an agent sees %s", nav)
		}
	}
	for _, path := range []string{"/templates", "/contacts"} {
		b.open(path)
		b.wait("not-found")
	}
	b.click("signout")

	// ---- an admin: contacts and the CSV import ----
	b.signIn(e2eAdmin, e2ePassword)
	b.click("nav-contacts")
	b.wait("contacts")
	b.wait("contacts-empty")
	b.shot("contacts empty")
	dir := t.TempDir()
	header := "phone,name,tags,opted_in,opted_in_at,source,purpose\n"
	good := func(wa, name, source string) string {
		return "+" + wa + "," + name + ",csv;vip," + "true,2026-01-05," + source + ",Order updates from Acme on WhatsApp\n"
	}
	bad := header + good("4915200000001", "Ann", "web_form") +
		`+4915200000002,"Bob <b>Bold</b>",csv,maybe,2026-01-05,web_form,Order updates from Acme on WhatsApp` + "\n" +
		good("4915200000003", "Cem", "sms")
	fixed := strings.Replace(bad, ",maybe,", ",true,", 1)
	badPath, fixedPath := filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "contacts-fixed.csv")
	for p, s := range map[string]string{badPath: bad, fixedPath: fixed} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b.click("import-contacts")
	b.wait("import-panel")
	b.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(sel("import-file")), []string{badPath}))
	b.waitText("import-file-name", "contacts.csv · 3 rows")
	b.click("import-check")
	b.wait("import-problems")
	b.waitJS(`$$t('import-problem').length === 1`, "one problem")
	if row, col, why := b.text("problem-row"), b.text("problem-column"), b.text("problem-message"); row != "3" || col != "opted_in" || !strings.Contains(why, `"maybe" is not true or false`) {
		t.Errorf("the problem: row %q, column %q, why %q; want row 3, opted_in, not true or false", row, col, why)
	}
	b.waitText("problem-cells", "Bob <b>Bold</b>")
	b.waitJS(`$t('problem-cells').querySelector('.ct-cell.bad').innerText.includes('maybe')`, "the bad cell marked")
	b.waitJS(`$t('import-run').disabled`, "import disabled after a failed check")
	if js[bool](b, `!!document.querySelector('[data-testid="contacts"] b')`) {
		t.Fatal("a cell of the file was rendered as HTML")
	}
	b.shot("dry run with a bad row")
	if code, body := h.adminCall("GET", "/contacts", ""); code != http.StatusOK || !strings.Contains(body, `"contacts":[]`) {
		t.Fatalf("a dry run stored something: %d %s", code, body)
	}

	// Fixed: the check passes, then the import.
	b.do("choose the fixed file", chromedp.SetUploadFiles(chromedp.CSS(sel("import-file")), []string{fixedPath}))
	b.waitText("import-file-name", "contacts-fixed.csv")
	b.waitJS(`!$t('import-problems')`, "the old problems cleared")
	b.click("import-check")
	b.wait("import-summary")
	b.waitJS(`$t('import-summary').dataset.dryRun === 'true'`, "a dry run's summary")
	b.waitText("import-summary", "3 contacts would be created")
	b.shot("dry run passes")
	b.click("import-run")
	b.waitJS(`$t('import-summary') && $t('import-summary').dataset.dryRun === 'false'`, "the import's summary")
	b.waitText("import-summary", "3 contacts created")
	b.waitText("import-summary", "3 opt-ins")
	b.waitJS(`$$t('contact-row').length === 3`, "three contacts listed")
	b.waitJS(`$$t('contact-row').every((r) => r.querySelector('[data-testid="contact-consent"]').innerText === 'opted in')`, "all opted in")
	b.waitJS(`$$t('contact-name').some((e) => e.innerText === 'Bob <b>Bold</b>')`, "the name with HTML shown as text")
	b.waitText("contact-tags", "vip")
	b.shot("contacts imported")

	// One contact: window, consent history (the import's opt-in), then an opt-out recorded here.
	js[bool](b, `$$t('contact-row').find((r) => r.innerText.includes('Cem')).click(), true`)
	b.wait("contact-detail")
	b.waitText("contact-detail-name", "Cem")
	b.waitJS(`$t('contact-window-card').dataset.open === 'false'`, "the window closed (never wrote)")
	b.waitJS(`$$t('consent-row').length === 1 && $$t('consent-row')[0].dataset.kind === 'opt_in'`, "the imported opt-in")
	row0 := b.text("consent-row")
	for _, w := range []string{"opted in", "import", e2eAdmin, "Order updates from Acme on WhatsApp", "collected via sms"} {
		if !strings.Contains(row0, w) {
			t.Errorf("the consent history's row %q lacks %q", row0, w)
		}
	}
	b.wait("blocks-empty")
	b.fill("consent-kind", "opt_out")
	b.fill("consent-source", "sms")
	b.fill("consent-purpose", "Replied NO to our SMS")
	b.click("consent-submit")
	b.waitText("consent-message", "Recorded")
	b.waitJS(`$$t('consent-row').length === 2 && $$t('consent-row')[1].dataset.kind === 'opt_out'`, "the opt-out in the history")
	b.waitText("contact-detail-consent", "opted out")
	b.waitJS(`$$t('contact-row').find((r) => r.innerText.includes('Cem')).querySelector('[data-testid="contact-consent"]').innerText === 'opted out'`, "the list showing the opt-out")
	b.shot("contact consent history")
	b.fill("contacts-opted-in", "true")
	b.waitJS(`$$t('contact-row').length === 2`, "the opted-in filter")
	b.fill("contacts-opted-in", "")

	// The numbers panel: a schedule reaches the two opted-in contacts
	// outside their window; the usage counts them.
	sched := `{"name":"ready","cron":"0 9 * * *","timezone":"UTC","audience":"\"csv\" in tags",
		"action":{"kind":"send_template","template":{"name":"policy_reminder","language":"en_US","body":["{{ name }}"]}}}`
	code, body := h.adminCall("POST", "/schedules", sched)
	if code != http.StatusCreated {
		t.Fatalf("creating a schedule: %d %s", code, body)
	}
	var s struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if code, body := h.adminCall("POST", "/schedules/"+s.ID+"/run", ""); code/100 != 2 {
		t.Fatalf("running the schedule: %d %s", code, body)
	}
	eventually(t, e2eTimeout, func() bool {
		var nums struct {
			Numbers []engine.NumberView `json:"numbers"`
		}
		return h.api("/numbers", &nums) == http.StatusOK && len(nums.Numbers) == 1 && nums.Numbers[0].Usage == 2
	}, "two customers reached outside their window")
	b.click("nav-templates")
	b.wait("numbers-panel")
	b.waitText("number-usage", "2")
	b.waitText("number-limit", "250")
	b.waitText("number-next-free", "frees")
	b.shot("numbers panel with usage")
}
