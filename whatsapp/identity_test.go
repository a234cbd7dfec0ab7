package whatsapp

import (
	"strings"
	"testing"
)

func TestIdentityValidators(t *testing.T) {
	cases := []struct {
		name  string
		valid func(string) bool
		in    string
		want  bool
	}{
		{"wa_id", ValidWaID, "15551234567", true},
		{"wa_id of 20 digits", ValidWaID, strings.Repeat("9", 20), true},
		{"wa_id empty", ValidWaID, "", false},
		{"wa_id of 21 digits", ValidWaID, strings.Repeat("9", 21), false},
		{"wa_id of 5,000 digits", ValidWaID, strings.Repeat("4", 5000), false},
		{"wa_id with +", ValidWaID, "+15551234567", false},
		{"wa_id path", ValidWaID, "../../etc/passwd", false},
		{"wa_id with key separators", ValidWaID, "49:12#3", false},
		{"wa_id with NUL", ValidWaID, "4912\x003", false},
		{"wa_id Arabic-Indic digits", ValidWaID, "٤٩١٢", false},
		{"BSUID", ValidUserID, "US.13491208655302741918", true},
		{"parent BSUID", ValidUserID, "US.ENT.11815799212886844830", true},
		{"BSUID letters", ValidUserID, "US.LGabc123", true},
		{"BSUID of 128", ValidUserID, "DE." + strings.Repeat("a", 128), true},
		{"BSUID of 129", ValidUserID, "DE." + strings.Repeat("a", 129), false},
		{"BSUID bare prefix", ValidUserID, "US.", false},
		{"BSUID bare parent prefix", ValidUserID, "US.ENT.", false},
		{"BSUID lowercase country", ValidUserID, "us.1234", false},
		{"BSUID with separators", ValidUserID, "US.12:34#1", false},
		{"BSUID with a path", ValidUserID, "US.../../etc", false},
		{"BSUID with RLO", ValidUserID, "US.12\u202e34", false},
		{"message id", ValidMessageID, "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTM3RUJCQkQ5QUI2RDJFQTlGMQA=", true},
		{"message id of 512", ValidMessageID, strings.Repeat("w", 512), true},
		{"message id of 513", ValidMessageID, strings.Repeat("w", 513), false},
		{"message id of 40 KB", ValidMessageID, strings.Repeat("w", 40<<10), false},
		{"message id empty", ValidMessageID, "", false},
		{"message id with space", ValidMessageID, "wamid. 1", false},
		{"message id with NUL", ValidMessageID, "wamid.\x001", false},
		{"message id with zero-width space", ValidMessageID, "wamid.\u200b1", false},
		{"phone number id", ValidPhoneNumberID, "106540352242922", true},
		{"phone number id with a colon", ValidPhoneNumberID, "1065:1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.valid(tc.in); got != tc.want {
				t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestUnprocessable(t *testing.T) {
	good := InboundMessage{ID: "wamid.1", From: "15551234567", PhoneNumberID: "1065", Type: TypeText, Text: "my secret order"}
	cases := []struct {
		name   string
		change func(m *InboundMessage)
		reason string
	}{
		{"sound", func(*InboundMessage) {}, ""},
		{"BSUID only", func(m *InboundMessage) { m.From, m.UserID = "", "US.1234" }, ""},
		{"no id", func(m *InboundMessage) { m.ID = "" }, RejectNoID},
		{"40 KB id", func(m *InboundMessage) { m.ID = strings.Repeat("w", 40<<10) }, RejectBadID},
		{"no sender", func(m *InboundMessage) { m.From = "" }, RejectNoSender},
		{"path as from", func(m *InboundMessage) { m.From = "../../etc/passwd" }, RejectBadSender},
		{"separators in from", func(m *InboundMessage) { m.From = "49:12#3" }, RejectBadSender},
		{"bad user id", func(m *InboundMessage) { m.UserID = "US.1#2" }, RejectBadSender},
		{"no business number", func(m *InboundMessage) { m.PhoneNumberID = "" }, RejectBadBusiness},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := good
			tc.change(&m)
			reason, detail := m.Unprocessable()
			if reason != tc.reason || (reason != "") != (detail != "") {
				t.Fatalf("Unprocessable: %q, %q; want %q", reason, detail, tc.reason)
			}
			if strings.Contains(detail, "secret") || strings.Contains(detail, "etc/passwd") {
				t.Errorf("the detail quotes the message: %q", detail)
			}
		})
	}
}
