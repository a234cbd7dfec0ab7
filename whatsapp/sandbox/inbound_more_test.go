package sandbox_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// The sandbox sends every inbound type Meta sends, and the account,
// quality and preference webhooks; Parley's own parser reads each as the
// event it is.
func TestEveryInboundType(t *testing.T) {
	rc := newReceiver(t, "s")
	sb := start(t, sandbox.Config{AppSecret: "s", WebhookURL: rc.srv.URL, WebhookBackoff: time.Millisecond})
	first, err := sb.CustomerSays(phone, sandbox.Text("two pizzas"))
	if err != nil {
		t.Fatal(err)
	}
	card := json.RawMessage(`{"name":{"formatted_name":"Lucía Gómez","first_name":"Lucía"},"phones":[{"phone":"+1 555 0101","wa_id":"15550101","type":"MOBILE"}]}`)
	ad := sandbox.Text("I saw your ad")
	ad.Referral = &sandbox.Referral{SourceURL: "https://fb.me/x", SourceID: "120226305854810726", SourceType: "ad", Headline: "Spring sale", CTWAClickID: "ARAk"}
	fwd := sandbox.Text("look at this")
	fwd.Forwarded, fwd.FrequentlyForwarded = true, true
	for _, in := range []sandbox.Inbound{
		sandbox.Contacts(card),
		sandbox.Order(json.RawMessage(`{"catalog_id":"194836987003835","text":"","product_items":[{"product_retailer_id":"di9ozbzfi4","quantity":2,"item_price":30,"currency":"USD"}]}`)),
		sandbox.FlowAnswer(json.RawMessage(`{"flow_token":"tok-1","date":"2026-02-01"}`)),
		sandbox.Reaction("wamid.business.1", "👍"),
		sandbox.Unsupported("poll"),
		sandbox.Edit(first, "three pizzas"),
		sandbox.Revoke(first),
		ad, fwd,
		sandbox.NumberChanged("16505550999"),
	} {
		if _, err := sb.CustomerSays(phone, in); err != nil {
			t.Fatalf("%s: %v", in.Type, err)
		}
	}
	if _, err := sb.CustomerSays("16505550999", sandbox.Text("from my new number")); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.CustomerSays("16505550777", sandbox.Revoke(first)); !errors.Is(err, sandbox.ErrNotTheirs) {
		t.Errorf("another customer deleting that message: %v", err)
	}
	if err := sb.MarketingPreference("16505550999", "stop"); err != nil {
		t.Fatal(err)
	}
	sb.Restrict(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	sb.QualityUpdate("UPGRADE", "TIER_2K")
	drain(t, sb)

	var all whatsapp.Batch
	rc.mu.Lock()
	for _, body := range rc.bodies {
		b, err := whatsapp.ParseWebhook(body)
		if err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		all.Messages = append(all.Messages, b.Messages...)
		all.Preferences = append(all.Preferences, b.Preferences...)
		all.AccountUpdates = append(all.AccountUpdates, b.AccountUpdates...)
		all.NumberUpdates = append(all.NumberUpdates, b.NumberUpdates...)
		all.Other = append(all.Other, b.Other...)
	}
	rc.mu.Unlock()
	if len(all.Other) > 0 {
		t.Errorf("unread items: %+v", all.Other)
	}
	ms := all.Messages
	if len(ms) != 12 {
		t.Fatalf("%d messages, want 12", len(ms))
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"contacts", ms[1].Type == "contacts" && len(ms[1].Contacts) == 1 && ms[1].Contacts[0].Name.FormattedName == "Lucía Gómez" && ms[1].Contacts[0].Phones[0].WaID == "15550101"},
		{"order", ms[2].Type == "order" && ms[2].Order.CatalogID == "194836987003835" && len(ms[2].Order.Items) == 1 && ms[2].Order.Items[0].Quantity == 2},
		{"nfm_reply", ms[3].Interactive != nil && ms[3].Interactive.NFMReply != nil && ms[3].Interactive.NFMReply.ResponseJSON == `{"flow_token":"tok-1","date":"2026-02-01"}`},
		{"reaction", ms[4].Reaction != nil && ms[4].Reaction.Emoji == "👍" && ms[4].Reaction.MessageID == "wamid.business.1"},
		{"unsupported", ms[5].Type == whatsapp.TypeUnsupported && ms[5].UnsupportedType == "poll" && len(ms[5].Errors) == 1 && ms[5].Errors[0].Code == 131051},
		{"edit", ms[6].Edit != nil && ms[6].Edit.OriginalMessageID == first && ms[6].Edit.Message.Text == "three pizzas"},
		{"revoke", ms[7].Revoke != nil && ms[7].Revoke.OriginalMessageID == first},
		{"referral", ms[8].Referral != nil && ms[8].Referral.SourceID == "120226305854810726" && ms[8].Referral.CTWAClickID == "ARAk" && ms[8].Text == "I saw your ad"},
		{"forwarded", ms[9].Context != nil && ms[9].Context.Forwarded && ms[9].Context.FrequentlyForwarded},
		{"system", ms[10].System != nil && ms[10].System.Type == "user_changed_number" && ms[10].System.NewWaID == "16505550999" && ms[10].From == phone},
		{"new number", ms[11].From == "16505550999" && ms[11].UserID == ms[0].UserID},
		{"preference", len(all.Preferences) == 1 && all.Preferences[0].Value == "stop" && all.Preferences[0].WaID == "16505550999"},
		{"restriction", len(all.AccountUpdates) == 1 && len(all.AccountUpdates[0].Restrictions()) == 1 && all.AccountUpdates[0].Restrictions()[0].Type == whatsapp.RestrictionBizInitiated},
		{"quality", len(all.NumberUpdates) == 1 && all.NumberUpdates[0].Event == "UPGRADE"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s not as Meta sends it", c.what)
		}
	}
	if t.Failed() {
		for i, m := range ms {
			t.Logf("%d: %+v", i, m)
		}
	}
}

// The customers, their numbers and their transcripts outlive a restart.
func TestCustomersKeptAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	rc := newReceiver(t, "s")
	cfg := sandbox.Config{AppSecret: "s", WebhookURL: rc.srv.URL, WebhookBackoff: time.Millisecond}
	sb := sandbox.New(cfg)
	if err := sb.Persist(path); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	c := sb.AddCustomer(sandbox.Customer{WaID: phone, Name: "Ann"})
	if _, err := sb.CustomerSays(phone, sandbox.NumberChanged("16505550999")); err != nil {
		t.Fatal(err)
	}
	drain(t, sb)
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	again := sandbox.New(cfg)
	if err := again.Persist(path); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got, ok := again.Customer("16505550999")
	if !ok || got.UserID != c.UserID || got.Name != "Ann" || len(again.Transcript("16505550999")) != 1 {
		t.Errorf("after a restart: %+v %v, transcript %+v", got, ok, again.Transcript("16505550999"))
	}
}
