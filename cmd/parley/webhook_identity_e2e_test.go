package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// TestServeE2EUnprocessableWebhookItems: one signed delivery carries a
// sound message and four that can never be processed — a 40 KB id, no id,
// `from` of ../../etc/passwd, no sender at all. The delivery is answered
// 200 (Meta would otherwise redeliver it for days), the sound message is
// processed, the others leave no contact or conversation, are counted by
// reason in /metrics and listed for admins at /api/v1/webhooks/rejected.
func TestServeE2EUnprocessableWebhookItems(t *testing.T) {
	t.Parallel()
	h := newE2E(t, e2eOptions{flows: map[string]string{"greet.json": e2eGreetFlow}})
	h.start()
	const ann, passwd = "15551230031", "../../etc/passwd"
	annID := h.customer(ann, "Ann")
	h.sb.SetLastInbound(ann, time.Now())

	c := h.sb.Config()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	text := func(from, id, body string) map[string]any {
		m := map[string]any{"timestamp": ts, "type": "text", "text": map[string]string{"body": body}}
		if from != "" {
			m["from"] = from
		}
		if id != "" {
			m["id"] = id
		}
		return m
	}
	hugeID := "wamid." + strings.Repeat("A", 40<<10)
	body, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": c.WABAID, "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": c.DisplayPhoneNumber, "phone_number_id": c.PhoneNumberID},
				// Two entries: the message with no sender must not take one.
				"contacts": []any{
					map[string]any{"profile": map[string]string{"name": "Ann"}, "wa_id": ann, "user_id": annID},
					map[string]any{"profile": map[string]string{"name": "Bo"}, "wa_id": "15551230032"},
				},
				"messages": []any{
					text(ann, hugeID, "secret one"),
					text(ann, "", "secret two"),
					text(passwd, "wamid.E2E-PASSWD", "secret three"),
					text("", "wamid.E2E-NOSENDER", "secret four"),
					text(ann, "wamid.E2E-SOUND", "hello"),
				},
			},
		}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // a redelivery is acknowledged too
		if code, err := h.postWebhook(body, h.sign(body)); err != nil || code != http.StatusOK {
			t.Fatalf("round %d: webhook answered %d, %v; want 200", round, code, err)
		}
	}

	// The sound message is processed: Ann's conversation has it, once.
	_, msgs := h.conversation(ann)
	if in := byDirection(msgs, model.In); len(in) != 1 || in[0].Inbound.Text != "hello" {
		t.Fatalf("Ann's inbound messages: %d, want the one sound message", len(in))
	}
	// The others made no contact and no conversation.
	for _, id := range []string{passwd, ""} {
		if _, err := h.eng.Store().Contact(t.Context(), model.NewContactKey(c.PhoneNumberID, id)); err == nil {
			t.Errorf("a contact was stored for sender %q", id)
		}
	}
	var list struct {
		Conversations []struct{ Contact string } `json:"conversations"`
	}
	if code := h.api("/conversations", &list); code != http.StatusOK || len(list.Conversations) != 1 {
		t.Fatalf("conversations: %d %+v, want Ann's only", code, list)
	}

	series := `parley_webhook_items_rejected_total{reason="%s"}`
	for reason, want := range map[string]float64{whatsapp.RejectBadID: 2, whatsapp.RejectNoID: 2, whatsapp.RejectBadSender: 2, whatsapp.RejectNoSender: 2} {
		if got := h.metric(strings.Replace(series, "%s", reason, 1)); got != want {
			t.Errorf("rejected %s: %v, want %v", reason, got, want)
		}
	}

	var rejected struct {
		Items []struct {
			Field, Reason, Detail, Item string
			Clipped                     bool
		} `json:"items"`
	}
	if code := h.api("/webhooks/rejected", &rejected); code != http.StatusOK || len(rejected.Items) != 8 {
		t.Fatalf("GET /webhooks/rejected: %d, %d items; want 8", code, len(rejected.Items))
	}
	newest := rejected.Items[:4] // the second delivery's, newest first
	want := []string{whatsapp.RejectNoSender, whatsapp.RejectBadSender, whatsapp.RejectNoID, whatsapp.RejectBadID}
	for i, it := range newest {
		if it.Reason != want[i] || it.Field != "messages" || it.Detail == "" {
			t.Errorf("item %d: %+v, want reason %s", i, it, want[i])
		}
	}
	if it := newest[3]; !it.Clipped || !strings.Contains(it.Item, "wamid.AAAA") {
		t.Errorf("the 40 KB item: clipped %v, %d bytes", it.Clipped, len(it.Item))
	}
	if !strings.Contains(newest[1].Item, passwd) || !strings.Contains(newest[0].Item, "secret four") {
		t.Errorf("items do not show what Meta sent: %q, %q", newest[1].Item, newest[0].Item)
	}
	for _, said := range []string{"secret one", "secret two", "secret three", "secret four"} {
		if strings.Contains(h.log.String(), said) {
			t.Errorf("customer text %q in serve's log", said)
		}
	}
}
