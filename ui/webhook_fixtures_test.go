package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// keepFlow waits for every message and keeps it: each customer of a
// fixture is in a conversation, so even a passive message (a reaction, an
// edit) lands in a transcript.
const keepFlow = `{"format": "parley/flow@1", "id": "keep", "name": "Keep", "start": "ask",
 "triggers": [{"type": "any"}],
 "nodes": [{"id": "ask", "type": "wait_reply", "save_as": "said", "next": "ask"}]}`

// fixtureBody is one public webhook body: Meta's OpenAPI examples
// (whatsapp/testdata/meta), pywa's test data (whatsapp/testdata/pywa) and
// Parley's own (whatsapp/testdata/webhooks).
type fixtureBody struct {
	name string
	body []byte
}

func webhookFixtures(t *testing.T) []fixtureBody {
	t.Helper()
	dir := filepath.Join("..", "whatsapp", "testdata")
	var out []fixtureBody
	for _, set := range []string{"meta", "pywa"} {
		files, _ := filepath.Glob(filepath.Join(dir, set, "*.json"))
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var named map[string]json.RawMessage
			if err := json.Unmarshal(raw, &named); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for name, body := range named {
				out = append(out, fixtureBody{set + "/" + strings.TrimSuffix(filepath.Base(file), ".json") + "/" + name, body})
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "webhooks", "*.json"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixtureBody{"webhooks/" + strings.TrimSuffix(filepath.Base(file), ".json"), raw})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) < 120 {
		t.Fatalf("%d fixture bodies; the test data is incomplete", len(out))
	}
	return out
}

// TestWebhookFixtures posts every public webhook body to a fresh Parley
// whose customers are already in a conversation: each is answered 200,
// and every message it carries is in a transcript with its content —
// contact cards, carts, reactions, reply context, ad referral, form
// answers — or, for an edit or revoke of a message Parley holds, that
// message is changed.
func TestWebhookFixtures(t *testing.T) {
	for _, fx := range webhookFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			f := newFixture(t)
			f.publish(keepFlow)
			batch, err := whatsapp.ParseWebhook(fx.body)
			if err != nil {
				// Only Parley's own malformed body; it is answered 400.
				if code, _ := f.webhook(fx.body); code != http.StatusBadRequest {
					t.Fatalf("unparsable body answered %d", code)
				}
				return
			}
			var ok []whatsapp.InboundMessage
			for _, m := range batch.Messages {
				if reason, _ := m.Unprocessable(); reason == "" {
					ok = append(ok, m)
				}
			}
			for i, m := range ok {
				f.seq++
				// The customer is in a conversation; an edited or deleted
				// message was received before.
				pre := &engine.Inbound{PhoneNumberID: m.PhoneNumberID, ID: fmt.Sprintf("wamid.pre.%d", i), WaID: m.From, UserID: m.UserID,
					At: f.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}
				if target := original(&m); target != "" {
					pre.ID, pre.Reply.Text = target, "before the change"
				}
				if _, err := f.eng.HandleInbound(f.ctx, pre); err != nil {
					t.Fatal(err)
				}
			}
			if code, body := f.webhook(fx.body); code != http.StatusOK {
				t.Fatalf("answered %d: %s", code, body)
			}
			held := f.transcripts()
			for _, m := range ok {
				if target := original(&m); target != "" {
					checkAmended(t, &m, held[target])
					continue
				}
				got := held[m.ID]
				if got == nil {
					t.Errorf("message %s (%s) is in no transcript", m.ID, m.Type)
					continue
				}
				checkCarries(t, &m, got.Inbound)
			}
			if rejected := len(batch.Messages) - len(ok); rejected > 0 {
				_, metrics := f.do("GET", "/metrics", "", nil)
				if !strings.Contains(string(metrics), "parley_webhook_items_rejected_total") {
					t.Errorf("%d unprocessable messages not counted:\n%s", rejected, metrics)
				}
			}
			if len(batch.Other) > 0 {
				_, metrics := f.do("GET", "/metrics", "", nil)
				for _, o := range batch.Other {
					if !strings.Contains(string(metrics), `parley_webhook_items_skipped_total{field="`+o.Field+`"`) {
						t.Errorf("%s item not counted:\n%s", o.Field, metrics)
					}
				}
			}
		})
	}
}

// TestWebhookFixtureContent pins what a few of Meta's own examples carry,
// as the transcript API shows it.
func TestWebhookFixtureContent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "whatsapp", "testdata", "meta", "webhooks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var named map[string]json.RawMessage
	if err := json.Unmarshal(raw, &named); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fixture string
		want    []string
	}{
		{"order_message", []string{`"order":{"catalog_id":"194836987003835","items":[{"product_id":"di9ozbzfi4","quantity":2,"price":30,"currency":"USD"},{"product_id":"nqryix03ez","quantity":1,"price":25,"currency":"USD"}],"total":85,"currency":"USD"}`,
			`"display":"🛒 2 × di9ozbzfi4, 1 × nqryix03ez: 85 USD"`}},
		{"contact_sharing_message", []string{`"contacts":[{"name":"Lucía Gómez","first_name":"Lucía","last_name":"Gómez","phones":[{"phone":"+1 (983) 555-2319","wa_id":"19835552319","type":"MOBILE"}],"company":"Google"}]`}},
		{"reaction_message", []string{`"reaction":{"emoji":"👍","message_id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0RTJEOTc2ODVERUY5RDlGNkYA"}`}},
		{"text_message_with_context_product_inquiry", []string{`"context":{"message_id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA","from":"15550783881","catalog_id":"194836987003835","product_id":"di9ozbzfi4"}`}},
		{"text_message_from_click_to_whatsapp_ad", []string{`"referral":{"ad_id":"120226305854810726","source_type":"ad","source_url":"https://fb.me/3cr4Wqqkv"`, `"ctwa_clid":"`}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := newFixture(t)
			f.publish(keepFlow)
			if _, err := f.eng.HandleInbound(f.ctx, &engine.Inbound{PhoneNumberID: "106540352242922", ID: "wamid.pre", WaID: "16505551234",
				At: f.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}); err != nil {
				t.Fatal(err)
			}
			if code, body := f.webhook(named[tc.fixture]); code != http.StatusOK {
				t.Fatalf("answered %d: %s", code, body)
			}
			_, body := f.do("GET", "/api/v1/conversations/"+pathID(string(model.NewContactKey("106540352242922", "16505551234"))+"#1"), "", nil)
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("transcript lacks %s:\n%s", w, body)
				}
			}
		})
	}
}

// webhook posts a body signed as Meta signs it.
func (f *fixture) webhook(body []byte) (int, []byte) {
	f.t.Helper()
	return f.do("POST", "/webhook/whatsapp", string(body), map[string]string{whatsapp.SignatureHeader: whatsapp.Sign(body, sandbox.DefaultAppSecret)})
}

// transcripts is every inbound transcript message, by wamid.
func (f *fixture) transcripts() map[string]*model.Message {
	f.t.Helper()
	out := map[string]*model.Message{}
	contacts, err := f.store.ListContacts(f.ctx, "", 0)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range contacts {
		convs, err := f.store.Conversations(f.ctx, c.Key)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, conv := range convs {
			msgs, err := f.store.Transcript(f.ctx, conv.ID)
			if err != nil {
				f.t.Fatal(err)
			}
			for _, m := range msgs {
				if m.Direction == model.In && m.WAMID != "" {
					out[m.WAMID] = m
				}
			}
		}
	}
	return out
}

// original is the message an edit or revoke changes, "" for others.
func original(m *whatsapp.InboundMessage) string {
	switch {
	case m.Type == whatsapp.TypeEdit && m.Edit != nil && m.Edit.Message != nil:
		return m.Edit.OriginalMessageID
	case m.Type == whatsapp.TypeRevoke && m.Revoke != nil:
		return m.Revoke.OriginalMessageID
	}
	return ""
}

func checkAmended(t *testing.T, m *whatsapp.InboundMessage, got *model.Message) {
	t.Helper()
	if got == nil {
		t.Fatalf("the message %s changes is gone", original(m))
	}
	if got.Original == nil && m.Type == whatsapp.TypeEdit || got.Inbound == nil {
		t.Fatalf("edit of %s not kept: %+v", original(m), got)
	}
	switch m.Type {
	case whatsapp.TypeEdit:
		if got.EditedAt.IsZero() || got.Original.Text != "before the change" {
			t.Errorf("edit: edited at %v, original %+v", got.EditedAt, got.Original)
		}
		checkCarries(t, m.Edit.Message, got.Inbound)
		if d := engine.Display(got); !strings.HasSuffix(d, " (edited)") {
			t.Errorf("inbox shows %q", d)
		}
	case whatsapp.TypeRevoke:
		if got.RevokedAt.IsZero() || got.Inbound.Text != "before the change" {
			t.Errorf("revoke: revoked at %v, content %+v", got.RevokedAt, got.Inbound)
		}
		if d := engine.Display(got); !strings.HasPrefix(d, "(deleted by the customer)") {
			t.Errorf("inbox shows %q", d)
		}
	}
}

// checkCarries checks that what the customer sent is in the reply kept.
func checkCarries(t *testing.T, m *whatsapp.InboundMessage, r *flows.Reply) {
	t.Helper()
	if r == nil {
		t.Fatalf("%s: no content kept", m.ID)
	}
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (%s): "+format, append([]any{m.ID, m.Type}, args...)...)
	}
	if c := m.Context; c != nil {
		if r.Context.MessageID != c.ID || r.Context.Forwarded != c.Forwarded || r.Context.FrequentlyForwarded != c.FrequentlyForwarded {
			errorf("context %+v, want %+v", r.Context, c)
		}
		if p := c.ReferredProduct; p != nil && (r.Context.ProductID != p.ProductRetailerID || r.Context.CatalogID != p.CatalogID) {
			errorf("referred product %+v, want %+v", r.Context, p)
		}
	}
	if ref := m.Referral; ref != nil {
		if r.Referral.AdID != ref.SourceID || r.Referral.Headline != ref.Headline || r.Referral.CTWAClickID != ref.CTWAClickID || r.Referral.SourceURL != ref.SourceURL {
			errorf("referral %+v, want %+v", r.Referral, ref)
		}
	}
	switch m.Type {
	case whatsapp.TypeText:
		if r.Text != m.Text {
			errorf("text %q, want %q", r.Text, m.Text)
		}
	case whatsapp.TypeImage, whatsapp.TypeVideo, whatsapp.TypeAudio, whatsapp.TypeDocument, whatsapp.TypeSticker:
		if r.Media == nil || r.Media.ID != m.Media.ID || r.Media.Caption != m.Media.Caption {
			errorf("media %+v, want %+v", r.Media, m.Media)
		}
	case whatsapp.TypeLocation:
		if r.Location == nil || r.Location.Latitude != m.Location.Latitude || r.Location.Name != m.Location.Name {
			errorf("location %+v, want %+v", r.Location, m.Location)
		}
	case whatsapp.TypeContacts:
		if len(r.Contacts) != len(m.Contacts) {
			errorf("%d contact cards, want %d", len(r.Contacts), len(m.Contacts))
			break
		}
		for i, c := range m.Contacts {
			got := r.Contacts[i]
			if got.Name != c.Name.FormattedName || len(got.Phones) != len(c.Phones) || len(got.Emails) != len(c.Emails) {
				errorf("card %d: %+v, want %+v", i, got, c)
			}
		}
	case whatsapp.TypeOrder:
		if r.Order.CatalogID != m.Order.CatalogID || len(r.Order.Items) != len(m.Order.Items) {
			errorf("order %+v, want %+v", r.Order, m.Order)
			break
		}
		for i, it := range m.Order.Items {
			if got := r.Order.Items[i]; got.ProductID != it.ProductRetailerID || got.Quantity != it.Quantity || got.Price != it.ItemPrice {
				errorf("order line %d: %+v, want %+v", i, got, it)
			}
		}
	case whatsapp.TypeReaction:
		if r.Reaction.Emoji != m.Reaction.Emoji || r.Reaction.MessageID != m.Reaction.MessageID {
			errorf("reaction %+v, want %+v", r.Reaction, m.Reaction)
		}
	case whatsapp.TypeButton:
		if r.ButtonID != m.Button.Payload || r.Title != m.Button.Text {
			errorf("quick reply %q %q, want %+v", r.ButtonID, r.Title, m.Button)
		}
	case whatsapp.TypeInteractive:
		it := m.Interactive
		switch {
		case it.ButtonReply != nil && r.ButtonID != it.ButtonReply.ID:
			errorf("button %q, want %q", r.ButtonID, it.ButtonReply.ID)
		case it.ListReply != nil && r.ListID != it.ListReply.ID:
			errorf("row %q, want %q", r.ListID, it.ListReply.ID)
		case it.NFMReply != nil:
			var want map[string]any
			if json.Unmarshal([]byte(it.NFMReply.ResponseJSON), &want) == nil && len(want) != len(r.FlowResponse) {
				errorf("flow response %v, want %v", r.FlowResponse, want)
			}
			if r.FlowResponse == nil {
				errorf("no flow response kept from %q", it.NFMReply.ResponseJSON)
			}
		}
	case whatsapp.TypeSystem:
		if r.Text != m.System.Body {
			errorf("system notice %q, want %q", r.Text, m.System.Body)
		}
	case whatsapp.TypeUnsupported:
		if !slices.Contains([]string{flows.ReplyOther}, r.Type) {
			errorf("unsupported kept as %q", r.Type)
		}
	}
}
