package sandbox

import (
	"path/filepath"
	"testing"
)

// TestDemoTemplates: the demo templates are of every kind, each passes the
// sandbox's own review as a created template would, and seeding them is
// kept across a restart and done once.
func TestDemoTemplates(t *testing.T) {
	kinds := map[string]bool{}
	for _, tpl := range DemoTemplates() {
		x := &template{Template: tpl}
		if status, reason := review(x); status != "APPROVED" {
			t.Errorf("%s: review %s %s (%s)", tpl.Name, status, reason, x.rejectionDetail)
		}
		if tpl.ParameterFormat == "NAMED" {
			kinds["named"] = true
		}
		for _, c := range tpl.Components {
			switch c.Type {
			case "HEADER":
				kinds["header "+c.Format] = true
			case "BUTTONS":
				for _, b := range c.Buttons {
					kinds["button "+b.Type] = true
				}
			default:
				kinds[c.Type] = true
			}
		}
		kinds[tpl.Category] = true
	}
	for _, k := range []string{"named", "header TEXT", "header IMAGE", "header VIDEO", "header DOCUMENT", "header LOCATION",
		"button QUICK_REPLY", "button URL", "button PHONE_NUMBER", "button COPY_CODE", "button OTP", "CAROUSEL", "LIMITED_TIME_OFFER",
		"MARKETING", "UTILITY", "AUTHENTICATION"} {
		if !kinds[k] {
			t.Errorf("no demo template has %s", k)
		}
	}

	path := filepath.Join(t.TempDir(), "sandbox.json")
	sb := New(Config{WebhookRetries: -1})
	if err := sb.Persist(path); err != nil {
		t.Fatal(err)
	}
	if n := sb.SeedTemplates(DemoTemplates()); n != len(DemoTemplates()) {
		t.Fatalf("seeded %d, want %d", n, len(DemoTemplates()))
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	again := New(Config{WebhookRetries: -1})
	if err := again.Persist(path); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := len(again.Templates()); got != len(DemoTemplates()) {
		t.Errorf("after a restart: %d templates, want %d", got, len(DemoTemplates()))
	}
	if n := again.SeedTemplates(DemoTemplates()); n != 0 {
		t.Errorf("seeded %d again after a restart", n)
	}
}
