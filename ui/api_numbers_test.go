package ui_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// qualityWebhook is a signed phone_number_quality_update.
func qualityWebhook(value string) (string, map[string]string) {
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","time":1767607200,"changes":[{"field":"phone_number_quality_update","value":%s}]}]}`,
		sandbox.DefaultWABAID, value)
	return body, map[string]string{whatsapp.SignatureHeader: whatsapp.Sign([]byte(body), sandbox.DefaultAppSecret)}
}

func TestNumbersAPI(t *testing.T) {
	upgrade, upgradeSig := qualityWebhook(`{"display_phone_number":"15550000001","event":"UPGRADE","old_limit":"TIER_250","current_limit":"TIER_2K","max_daily_conversations_per_business":"TIER_2K"}`)
	flagged, flaggedSig := qualityWebhook(`{"display_phone_number":"15550000001","event":"FLAGGED","current_limit":"TIER_2K"}`)
	run(t, []scenario{
		{name: "none yet", method: "GET", url: "/api/v1/numbers", status: http.StatusOK, want: []string{`"numbers":[]`}},
		{
			name: "a tier from Meta becomes the enforced limit", method: "POST", url: "/webhook/whatsapp", body: upgrade, header: upgradeSig,
			status: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if got := f.eng.MessagingLimit(); got != 2000 {
					t.Errorf("limit %d, want 2000", got)
				}
				_, body := f.do("GET", "/api/v1/numbers/15550000001", "", nil)
				for _, w := range []string{`"key":"15550000001"`, `"tier":"TIER_2K"`, `"tier_limit":2000`, `"limit":2000`, `"limit_source":"meta"`,
					`"usage":0`, `"history":[{"at":"2026-01-05T10:00:00Z","field":"phone_number_quality_update","event":"UPGRADE","tier":"TIER_2K","old_tier":"TIER_250"}]`} {
					if !strings.Contains(string(body), w) {
						t.Errorf("number lacks %s: %s", w, body)
					}
				}
			},
		},
		{
			name: "a quality flag is shown", method: "POST", url: "/webhook/whatsapp", body: flagged, header: flaggedSig, status: http.StatusOK,
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/numbers", "", nil)
				if !strings.Contains(string(body), `"quality_event":"FLAGGED","flagged":true`) || !strings.Contains(string(body), `"tier":"TIER_2K"`) {
					t.Errorf("numbers: %s", body)
				}
			},
		},
		{name: "unknown number", method: "GET", url: "/api/v1/numbers/123", status: http.StatusNotFound},
	})
}
