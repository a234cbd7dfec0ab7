package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestServeE2ETemplatesPerWABA serves two numbers of two WABAs whose
// template sets differ: "offer" exists only in number B's WABA. serve
// syncs both accounts (each through its own number's token), publishes a
// flow sending "offer" on B, refuses it on A, and B's customer gets it.
func TestServeE2ETemplatesPerWABA(t *testing.T) {
	body := func(name string) []sandbox.Template {
		return []sandbox.Template{{Name: name, Language: "en_US", Category: "UTILITY",
			Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hello"}}}}
	}
	offer := func(number string) string {
		return `{"format": "parley/flow@1", "id": "offer", "name": "Offer", "start": "tpl", "numbers": ["` + number + `"],
 "nodes": [{"id": "tpl", "type": "template", "template": {"name": "offer", "language": "en_US"}}]}`
	}
	h := newE2E(t, e2eOptions{
		flows:     map[string]string{"offer.json": offer(numB)},
		templates: body("nudge"),
		sandbox: func(c *sandbox.Config) {
			c.PhoneNumberID, c.WABAID, c.AccessToken, c.DisplayPhoneNumber = numA, wabaA, tokenA, "15550001111"
		},
	})
	sa := h.sb.Config()
	sbB := sandbox.New(sandbox.Config{
		PhoneNumberID: numB, WABAID: wabaB, AccessToken: tokenB, DisplayPhoneNumber: "15550002222",
		AppSecret: sa.AppSecret, WebhookURL: sa.WebhookURL, StatusDelay: time.Millisecond,
		WebhookBackoff: 20 * time.Millisecond, Templates: body("offer"),
	})
	if _, err := sbB.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sbB.Close() })
	h.serveCfg = func(c *serveConfig) {
		c.numbers = []numberConfig{{PhoneNumberID: numB, WABAID: wabaB, AccessToken: tokenB, DisplayPhoneNumber: "15550002222",
			APIURL: sbB.GraphURL()}}
	}
	h.start()
	ctx := context.Background()

	for _, c := range []struct {
		number, name string
		ok           bool
	}{{numA, "nudge", true}, {numA, "offer", false}, {numB, "offer", true}, {numB, "nudge", false}} {
		if _, ok := h.eng.TemplateFrom(c.number, c.name, "en_US"); ok != c.ok {
			t.Errorf("template %s from number %s: %v, want %v", c.name, c.number, ok, c.ok)
		}
	}
	if !strings.Contains(h.log.String(), "templates are kept per WhatsApp Business Account") {
		t.Error("serve did not say at start that templates are kept per account")
	}
	if _, ps := h.eng.Validate([]byte(offer(numA))); !ps.HasErrors() {
		t.Errorf("a flow sending offer on number A validates: %v", ps)
	}

	sbB.AddCustomer(sandbox.Customer{WaID: "15550000021", Name: "Dee"})
	id := customerID(t, sbB, "15550000021")
	key := model.NewContactKey(numB, id)
	if _, err := h.eng.UpdateContact(ctx, key, func(c *model.Contact) {
		c.PhoneNumberID, c.UserID, c.WaID, c.OptedIn, c.OptedInAt = numB, id, "15550000021", true, time.Now()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.StartFlow(ctx, key, "offer", ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, e2eTimeout, func() bool {
		for _, e := range sbB.Accepted() {
			if e.To == "15550000021" && e.Body == "offer" {
				return true
			}
		}
		return false
	}, "the offer sent from B (B refused: %+v)", sbB.Rejected())
}
