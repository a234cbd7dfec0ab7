package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// Two business numbers in two WABAs, each with its own token, each standing
// in its own sandbox (Meta would be one Graph API for both).
const (
	numA, wabaA, tokenA = "110000000000001", "210000000000001", "token-of-number-a"
	numB, wabaB, tokenB = "120000000000002", "220000000000002", "token-of-number-b"
)

func numberFlow(id, number, text string) string {
	return fmt.Sprintf(`{"format": "parley/flow@1", "id": %q, "name": %q, "start": "hi",
 "numbers": [%q], "triggers": [{"type": "any"}],
 "nodes": [{"id": "hi", "type": "send", "message": {"type": "text", "text": %q}}]}`, id, id, number, text)
}

// nudgeFlow sends a template: business-initiated, counted against the
// messaging limit of the number's portfolio.
const nudgeFlow = `{"format": "parley/flow@1", "id": "nudge", "name": "Nudge", "start": "tpl",
 "nodes": [{"id": "tpl", "type": "template", "template": {"name": "nudge", "language": "en_US"}}]}`

// TestServeE2ETwoNumbers runs one Parley for two numbers: each number's
// customers are answered from that number only (with its token), a flow
// answers on the numbers it names, the messaging limit is counted per
// portfolio, and webhooks of a number and an account Parley does not
// serve are acknowledged and ignored.
func TestServeE2ETwoNumbers(t *testing.T) {
	tpl := []sandbox.Template{{Name: "nudge", Language: "en_US", Category: "UTILITY",
		Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Still interested?"}}}}
	h := newE2E(t, e2eOptions{
		flows: map[string]string{
			"a.json": numberFlow("hello_a", numA, "Hello from A"), "b.json": numberFlow("hello_b", numB, "Hello from B"),
			"nudge.json": nudgeFlow,
		},
		templates: tpl,
		sandbox: func(c *sandbox.Config) {
			c.PhoneNumberID, c.WABAID, c.AccessToken, c.DisplayPhoneNumber = numA, wabaA, tokenA, "15550001111"
		},
	})
	sa := h.sb.Config()
	sbB := sandbox.New(sandbox.Config{
		PhoneNumberID: numB, WABAID: wabaB, AccessToken: tokenB, DisplayPhoneNumber: "15550002222",
		AppSecret: sa.AppSecret, WebhookURL: sa.WebhookURL, StatusDelay: time.Millisecond,
		WebhookBackoff: 20 * time.Millisecond, Templates: tpl,
	})
	if _, err := sbB.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sbB.Close() })
	h.serveCfg = func(c *serveConfig) {
		c.numbers = []numberConfig{{PhoneNumberID: numB, WABAID: wabaB, AccessToken: tokenB, DisplayPhoneNumber: "15550002222",
			Portfolio: "second", APIURL: sbB.GraphURL()}}
		c.messagingLimit, c.messagingLimitPinned = 1, true
	}
	h.start()
	ctx := context.Background()

	// ann writes to A, bob to B, cat to both: each is answered by the
	// number written to, from that number.
	for _, c := range []struct {
		sb   *sandbox.Sandbox
		wa   string
		name string
	}{{h.sb, "15550000001", "Ann"}, {sbB, "15550000002", "Bob"}, {h.sb, "15550000003", "Cat"}, {sbB, "15550000003", "Cat"}} {
		c.sb.AddCustomer(sandbox.Customer{WaID: c.wa, Name: c.name})
		if _, err := c.sb.CustomerSays(c.wa, sandbox.Inbound{Type: "text", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	sentBy := func(sb *sandbox.Sandbox) []string {
		var out []string
		for _, e := range sb.Accepted() {
			out = append(out, e.To+" "+e.Body)
		}
		slices.Sort(out)
		return out
	}
	eventually(t, e2eTimeout, func() bool { return len(sentBy(h.sb)) == 2 && len(sentBy(sbB)) == 2 },
		"both numbers answering (A sent %q, B sent %q)", sentBy(h.sb), sentBy(sbB))
	if got, want := sentBy(h.sb), []string{"15550000001 Hello from A", "15550000003 Hello from A"}; !slices.Equal(got, want) {
		t.Errorf("number A sent %q, want %q", got, want)
	}
	if got, want := sentBy(sbB), []string{"15550000002 Hello from B", "15550000003 Hello from B"}; !slices.Equal(got, want) {
		t.Errorf("number B sent %q, want %q", got, want)
	}
	for _, sb := range []*sandbox.Sandbox{h.sb, sbB} {
		if r := sb.Rejected(); len(r) > 0 {
			t.Errorf("%s refused sends: %+v", sb.Config().PhoneNumberID, r)
		}
	}
	// The messaging limit (1, pinned) is per portfolio: one new customer
	// reached outside the window on each number; a second on A is blocked.
	reach := func(sb *sandbox.Sandbox, wa string) model.ContactKey {
		sb.AddCustomer(sandbox.Customer{WaID: wa, Name: "Cold " + wa})
		id := customerID(t, sb, wa)
		key := model.NewContactKey(sb.Config().PhoneNumberID, id)
		if _, err := h.eng.UpdateContact(ctx, key, func(c *model.Contact) {
			c.PhoneNumberID, c.UserID, c.WaID, c.OptedIn, c.OptedInAt = sb.Config().PhoneNumberID, id, wa, true, time.Now()
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.eng.StartFlow(ctx, key, "nudge", ""); err != nil {
			t.Fatal(err)
		}
		return key
	}
	reach(h.sb, "15550000011")
	eventually(t, e2eTimeout, func() bool { return len(h.accepted("15550000011")) == 1 }, "the first nudge on A sent")
	reach(sbB, "15550000012")
	eventually(t, e2eTimeout, func() bool {
		for _, e := range sbB.Accepted() {
			if e.To == "15550000012" && e.Body == "nudge" {
				return true
			}
		}
		return false
	}, "the nudge on B sent although A's portfolio is full")
	third := reach(h.sb, "15550000013")
	conv, err := h.eng.CurrentConversation(ctx, third)
	if err != nil {
		convs, _ := h.eng.Store().Conversations(ctx, third)
		if len(convs) == 0 {
			t.Fatalf("no conversation for %s: %v", third, err)
		}
		conv = convs[len(convs)-1]
	}
	if conv.Status != model.Failed || !strings.Contains(conv.Reason, "messaging limit") {
		t.Errorf("the second new customer on A: %s %q, want failed at the messaging limit", conv.Status, conv.Reason)
	}
	for _, n := range []string{numA, numB} {
		if used, _, err := h.eng.ReachUsageOf(ctx, n); err != nil || used != 1 {
			t.Errorf("number %s: %d customers reached (%v), want 1", n, used, err)
		}
	}
	if len(h.accepted("15550000013")) != 0 {
		t.Errorf("A sent past its limit: %+v", h.accepted("15550000013"))
	}

	// A number and an account Parley does not serve: acknowledged, not
	// processed, counted.
	foreign := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"999000000000009","changes":[
	 {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15559999999","phone_number_id":"999000000000001"},
	  "contacts":[{"profile":{"name":"Eve"},"wa_id":"15550000099"}],
	  "messages":[{"from":"15550000099","id":"wamid.foreign.1","timestamp":"1767607200","type":"text","text":{"body":"hi"}}]}},
	 {"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":4070908800}]}}]}]}`)
	code, err := h.postWebhook(foreign, h.sign(foreign))
	if err != nil || code != http.StatusOK {
		t.Fatalf("foreign webhook: %d %v", code, err)
	}
	if got := h.metric(`parley_webhook_items_ignored_total{field="messages"}`); got != 1 {
		t.Errorf("ignored messages counted %v, want 1", got)
	}
	if got := h.metric(`parley_webhook_items_ignored_total{field="account_update"}`); got != 1 {
		t.Errorf("ignored account updates counted %v, want 1", got)
	}
	if c, err := h.eng.Store().Contact(ctx, model.NewContactKey("999000000000001", "15550000099")); err == nil {
		t.Errorf("a customer of another number was kept: %+v", c)
	}
	for _, n := range []string{numA, numB} {
		if until := h.eng.RestrictedUntilOf(n); !until.IsZero() {
			t.Errorf("another account's restriction was put on %s: until %s", n, until)
		}
	}
	for _, sb := range []*sandbox.Sandbox{h.sb, sbB} {
		for _, e := range sb.Accepted() {
			if e.To == "15550000099" {
				t.Errorf("%s answered the foreign number's customer", sb.Config().PhoneNumberID)
			}
		}
	}
}

func customerID(t *testing.T, sb *sandbox.Sandbox, wa string) string {
	t.Helper()
	c, ok := sb.Customer(wa)
	if !ok {
		t.Fatalf("%s has no customer %s", sb.Config().PhoneNumberID, wa)
	}
	return c.UserID
}
