package ui_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// preferenceWebhook is a signed user_preferences delivery for wa.
func preferenceWebhook(wa, value string) (string, map[string]string) {
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"%s"},"user_preferences":[{"wa_id":"%s","detail":"User requested to %s marketing messages","category":"marketing_messages","value":"%s","timestamp":1767607200}]}}]}]}`,
		sandbox.DefaultWABAID, phone, wa, value, value)
	return body, map[string]string{whatsapp.SignatureHeader: whatsapp.Sign([]byte(body), sandbox.DefaultAppSecret)}
}

func TestConsentAPI(t *testing.T) {
	annURL := "/api/v1/contacts/" + string(key(ann)) + "/consent"
	newURL := "/api/v1/contacts/" + string(key("15559990000")) + "/consent"
	stop, stopSig := preferenceWebhook(bob, "stop")
	run(t, []scenario{
		{
			name: "webhook: a marketing stop from user_preferences", method: "POST", url: "/webhook/whatsapp",
			body: stop, header: stopSig, status: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/contacts/"+string(key(bob))+"/consent", "", nil)
				want := `"marketing_opt_out":true,"consent":[{"at":"2026-01-05T10:00:00Z","kind":"marketing_stop","source":"whatsapp_preferences","by":"customer","detail":"User requested to stop marketing messages"}]`
				if !strings.Contains(string(body), want) {
					t.Errorf("consent after the webhook:\n%s\nwant %s", body, want)
				}
			},
		},
		{
			name: "history: none yet is an empty list", method: "GET", url: annURL, status: http.StatusOK,
			want: []string{`"contact":"100000000000001:15551234567"`, `"opted_in":false`, `"opted_out":false`, `"marketing_opt_out":false`, `"consent":[]`},
		},
		{name: "history: unknown contact", method: "GET", url: newURL, status: http.StatusNotFound, want: []string{"contact not found"}},
		{
			name: "history: a keyword opt-out is on record", method: "GET", url: annURL, status: http.StatusOK,
			before: func(t *testing.T, f *fixture) { f.say(ann, "STOP") },
			want:   []string{`"opted_out":true`, `"kind":"opt_out","source":"keyword"`, `"detail":"STOP"`},
		},
		{
			name: "record: an opt-in from a web form, by the acting user", method: "POST", url: annURL,
			body:   `{"kind":"opt_in","source":"web_form","purpose":"Order updates from Acme on WhatsApp"}`,
			header: map[string]string{asUser: "maria@example.com"},
			status: http.StatusCreated,
			want:   []string{`"opted_in":true`, `"opted_in_at":"2026-01-05T12:04:00Z"`, `{"at":"2026-01-05T12:04:00Z","kind":"opt_in","source":"web_form","purpose":"Order updates from Acme on WhatsApp","by":"maria@example.com"}`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				c, err := f.eng.Contact(f.ctx, key(ann))
				if err != nil || !c.OptedIn || len(c.Consent) != 1 {
					t.Errorf("stored: %+v, %v", c, err)
				}
			},
		},
		{
			name: "record: an opt-out with its own by", method: "POST", url: annURL,
			body: `{"kind":"opt_out","source":"sms","by":"import-job"}`, status: http.StatusCreated,
			want: []string{`"opted_out":true`, `"by":"import-job"`},
		},
		{
			name: "record: a new contact is created", method: "POST", url: newURL,
			body: `{"kind":"opt_in","source":"import"}`, status: http.StatusCreated,
			want: []string{`"contact":"100000000000001:15559990000"`, `"opted_in":true`, `"by":"admin@parley.test"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				c, err := f.eng.Contact(f.ctx, key("15559990000"))
				if err != nil || c.PhoneNumberID != phone || c.WaID != "15559990000" {
					t.Errorf("stored: %+v, %v", c, err)
				}
			},
		},
		{
			name: "record: marketing stop and resume", method: "POST", url: annURL,
			before: func(t *testing.T, f *fixture) {
				if _, err := f.eng.RecordConsent(f.ctx, key(ann), model.ConsentEvent{Kind: model.ConsentMarketingStop, Source: model.SourceAPI}); err != nil {
					t.Fatal(err)
				}
			},
			body: `{"kind":"marketing_resume","source":"api"}`, status: http.StatusCreated,
			want: []string{`"marketing_opt_out":false`, `"kind":"marketing_stop"`, `"kind":"marketing_resume"`},
		},
		{name: "record: unknown kind", method: "POST", url: annURL, body: `{"kind":"maybe","source":"api"}`, status: http.StatusBadRequest, want: []string{`kind \"maybe\"`}},
		{name: "record: unknown source", method: "POST", url: annURL, body: `{"kind":"opt_in","source":"rumour"}`, status: http.StatusBadRequest, want: []string{`source \"rumour\"`}},
		{name: "record: not JSON", method: "POST", url: annURL, body: `opt in please`, status: http.StatusBadRequest},
		{name: "record: a key without a phone number id", method: "POST", url: "/api/v1/contacts/15551234567/consent", body: `{"kind":"opt_in","source":"api"}`, status: http.StatusBadRequest},
	})
}
