package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const customerPhone = "16505550123"

// outboundCases are every kind of send with the exact body the Cloud API
// expects (docs/whatsapp.md §2.3). client_test.go sends each through the sandbox.
var outboundCases = []struct {
	name string
	msg  *OutboundMessage
	want string
}{
	{"text", NewText(customerPhone, "Hi there"),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"text","text":{"body":"Hi there"}}`},
	{"text with preview, reply context and tracker", &OutboundMessage{To: customerPhone,
		Context:               &OutContext{MessageID: "wamid.in1"},
		BizOpaqueCallbackData: "conv:42/node:ask",
		Text:                  &OutText{Body: "See https://example.com", PreviewURL: true}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","context":{"message_id":"wamid.in1"},"biz_opaque_callback_data":"conv:42/node:ask","type":"text","text":{"body":"See https://example.com","preview_url":true}}`},
	{"text to a BSUID", NewText("US.13491208655302741918", "Hello"),
		`{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","type":"text","text":{"body":"Hello"}}`},
	{"image by id", NewMedia(customerPhone, TypeImage, OutMedia{ID: "1013859600285441", Caption: "Your receipt"}),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"image","image":{"id":"1013859600285441","caption":"Your receipt"}}`},
	{"video by link", NewMedia(customerPhone, TypeVideo, OutMedia{Link: "https://example.com/v.mp4", Caption: "Demo"}),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"video","video":{"link":"https://example.com/v.mp4","caption":"Demo"}}`},
	{"audio", NewMedia(customerPhone, TypeAudio, OutMedia{ID: "555"}),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"audio","audio":{"id":"555"}}`},
	{"document with filename", NewMedia(customerPhone, TypeDocument, OutMedia{Link: "https://example.com/a.pdf", Caption: "Invoice", Filename: "a.pdf"}),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"document","document":{"link":"https://example.com/a.pdf","caption":"Invoice","filename":"a.pdf"}}`},
	{"sticker", NewMedia(customerPhone, TypeSticker, OutMedia{ID: "777"}),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"sticker","sticker":{"id":"777"}}`},
	{"location", &OutboundMessage{To: customerPhone, Location: &OutLocation{Latitude: 37.48, Longitude: -122.15, Name: "HQ", Address: "1 Hacker Way"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"location","location":{"latitude":37.48,"longitude":-122.15,"name":"HQ","address":"1 Hacker Way"}}`},
	{"contacts", &OutboundMessage{To: customerPhone, Contacts: []OutContact{{
		Name:   OutContactName{FormattedName: "Ana B", FirstName: "Ana"},
		Phones: []OutContactPhone{{Phone: "+15550001", Type: "WORK", WaID: "15550001"}},
	}}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"contacts","contacts":[{"name":{"formatted_name":"Ana B","first_name":"Ana"},"phones":[{"phone":"+15550001","type":"WORK","wa_id":"15550001"}]}]}`},
	{"reaction", NewReaction(customerPhone, "wamid.in1", "👍"),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"reaction","reaction":{"message_id":"wamid.in1","emoji":"👍"}}`},
	{"reaction removed", NewReaction(customerPhone, "wamid.in1", ""),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"reaction","reaction":{"message_id":"wamid.in1","emoji":""}}`},
	{"reply buttons with header and footer", func() *OutboundMessage {
		m := NewButtons(customerPhone, "Confirm your order?", OutReply{ID: "yes", Title: "Yes"}, OutReply{ID: "no", Title: "No"})
		m.Interactive.Header = &OutHeader{Type: "text", Text: "Order 860198"}
		m.Interactive.Footer = &OutBodyText{Text: "Reply within 24 h"}
		return m
	}(),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"interactive","interactive":{"type":"button","header":{"type":"text","text":"Order 860198"},"body":{"text":"Confirm your order?"},"footer":{"text":"Reply within 24 h"},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}}]}}}`},
	{"list", NewList(customerPhone, "Pick a slot", "Slots",
		OutSection{Title: "Morning", Rows: []OutRow{{ID: "m9", Title: "9:00", Description: "Front desk"}}},
		OutSection{Title: "Afternoon", Rows: []OutRow{{ID: "a2", Title: "14:00"}}}),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"interactive","interactive":{"type":"list","body":{"text":"Pick a slot"},"action":{"button":"Slots","sections":[{"title":"Morning","rows":[{"id":"m9","title":"9:00","description":"Front desk"}]},{"title":"Afternoon","rows":[{"id":"a2","title":"14:00"}]}]}}}`},
	{"cta url", NewCTAURL(customerPhone, "Track your parcel", "Track", "https://example.com/t/1"),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"interactive","interactive":{"type":"cta_url","body":{"text":"Track your parcel"},"action":{"name":"cta_url","parameters":{"display_text":"Track","url":"https://example.com/t/1"}}}}`},
	{"template, positional, quick reply", NewTemplate(customerPhone, "order_update", "en_US",
		HeaderParams("860198"), BodyParams("Ana", "Friday"), QuickReplyButton(0, "TRACK:860198"), URLButton(1, "860198")),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"template","template":{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","text":"860198"}]},{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"Friday"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"TRACK:860198"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"860198"}]}]}}`},
	{"template, named", NewTemplate(customerPhone, "order_confirmation", "en_US",
		NamedHeaderParams(NamedParam{"order_id", "860198"}), NamedBodyParams(NamedParam{"customer_name", "Pablo"})),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"template","template":{"name":"order_confirmation","language":{"code":"en_US"},"components":[{"type":"header","parameters":[{"type":"text","parameter_name":"order_id","text":"860198"}]},{"type":"body","parameters":[{"type":"text","parameter_name":"customer_name","text":"Pablo"}]}]}}`},
	{"template without parameters", NewTemplate(customerPhone, "hello_world", "en_US"),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505550123","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`},
}

func TestOutboundJSON(t *testing.T) {
	for _, tc := range outboundCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.msg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, err := json.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("body\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	btn := func(i int) OutReply { return OutReply{ID: "b" + long(i), Title: "T" + long(i)} }
	rows := func(n int) []OutRow {
		var rs []OutRow
		for i := range n {
			rs = append(rs, OutRow{ID: "r" + long(i), Title: "Row"})
		}
		return rs
	}
	cases := []struct {
		name, want string
		msg        *OutboundMessage
	}{
		{"no recipient", "to or recipient is required", &OutboundMessage{Text: &OutText{Body: "x"}}},
		{"two recipients", "only one of to and recipient", &OutboundMessage{To: "1", Recipient: "US.1", Text: &OutText{Body: "x"}}},
		{"no payload", "exactly one payload", &OutboundMessage{To: "1"}},
		{"two payloads", "exactly one payload", &OutboundMessage{To: "1", Text: &OutText{Body: "x"}, Reaction: &OutReaction{MessageID: "w"}}},
		{"type mismatch", "does not match", &OutboundMessage{To: "1", Type: TypeImage, Text: &OutText{Body: "x"}}},
		{"empty text", "the text is empty", NewText("1", " ")},
		{"text too long", "the text is 4097 characters; WhatsApp allows 4096", NewText("1", long(4097))},
		{"tracker too long", "biz_opaque_callback_data", func() *OutboundMessage {
			m := NewText("1", "x")
			m.BizOpaqueCallbackData = long(513)
			return m
		}()},
		{"media without id or link", "exactly one of id and link", NewMedia("1", TypeImage, OutMedia{})},
		{"media with both", "exactly one of id and link", NewMedia("1", TypeImage, OutMedia{ID: "1", Link: "https://x"})},
		{"caption on audio", "caption is not allowed", NewMedia("1", TypeAudio, OutMedia{ID: "1", Caption: "c"})},
		{"filename on image", "filename is only allowed", NewMedia("1", TypeImage, OutMedia{ID: "1", Filename: "f"})},
		{"no buttons", "needs 1 to 3 buttons, not 0", NewButtons("1", "b")},
		{"four buttons", "needs 1 to 3 buttons, not 4", NewButtons("1", "b", btn(1), btn(2), btn(3), btn(4))},
		{"button title too long", "button 1's title is 21 characters; WhatsApp allows 20", NewButtons("1", "b", OutReply{ID: "a", Title: long(21)})},
		{"duplicate button", "unique", NewButtons("1", "b", OutReply{ID: "a", Title: "A"}, OutReply{ID: "a", Title: "B"})},
		{"eleven rows across sections", "the list has 11 rows; WhatsApp allows 10 across all sections", NewList("1", "b", "Go",
			OutSection{Title: "A", Rows: rows(6)}, OutSection{Title: "B", Rows: []OutRow{{ID: "z1", Title: "1"}, {ID: "z2", Title: "2"}, {ID: "z3", Title: "3"}, {ID: "z4", Title: "4"}, {ID: "z5", Title: "5"}}})},
		{"untitled section among several", "section 2 needs a title", NewList("1", "b", "Go",
			OutSection{Title: "A", Rows: rows(1)}, OutSection{Rows: []OutRow{{ID: "q", Title: "Q"}}})},
		{"row description too long", "section 1 row 1's description is 73 characters; WhatsApp allows 72", NewList("1", "b", "Go", OutSection{Rows: []OutRow{{ID: "r", Title: "R", Description: long(73)}}})},
		{"cta display text too long", "the button's display text is 21 characters; WhatsApp allows 20", NewCTAURL("1", "b", long(21), "https://x")},
		{"cta not a URL", "http(s) URL", NewCTAURL("1", "b", "Go", "ftp://x")},
		{"template without language", "template.language.code is empty", NewTemplate("1", "t", "")},
		{"template mixing named and positional", "mixes named and positional", NewTemplate("1", "t", "en",
			BodyParams("a"), NamedHeaderParams(NamedParam{"x", "y"}))},
		{"empty template parameter", "template body parameter 1 is empty", NewTemplate("1", "t", "en", BodyParams(""))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg.Validate()
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Validate = %v, want ErrInvalidMessage", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %q, want it to mention %q", err, tc.want)
			}
			if Classify(err) != Permanent {
				t.Errorf("Classify = %v, want permanent", Classify(err))
			}
		})
	}
}

// TestInvalidMessageProblems: Validate lists every rule broken, one
// sentence each, and never quotes a value (it may be the customer's text).
func TestInvalidMessageProblems(t *testing.T) {
	secret := "Ann Margaret Smith-Jones-Ox"
	m := NewButtons("1", "Pick", OutReply{ID: "a", Title: "Yes"}, OutReply{ID: "b", Title: secret}, OutReply{ID: "c", Title: secret})
	err := m.Validate()
	var inv *InvalidMessageError
	if !errors.As(err, &inv) {
		t.Fatalf("Validate = %v, want an *InvalidMessageError", err)
	}
	want := []string{
		"button 2's title is 27 characters; WhatsApp allows 20",
		"button 3's title is 27 characters; WhatsApp allows 20",
		"button 3 has the id or title of an earlier button; WhatsApp needs them unique",
	}
	if strings.Join(inv.Problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(inv.Problems, "\n"), strings.Join(want, "\n"))
	}
	if inv.Reason() != strings.Join(want, "; ") || err.Error() != "whatsapp: invalid outbound message: "+inv.Reason() {
		t.Errorf("Error() = %q", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error quotes a value: %q", err)
	}
}

func TestSetRecipient(t *testing.T) {
	for id, wantBSUID := range map[string]bool{
		"16505550123": false, "+1 650 555": false,
		"US.13491208655302741918": true, "US.ENT.11815799212886844830": true, "us.123": false,
	} {
		m := NewText(id, "x")
		if got := m.Recipient != ""; got != wantBSUID {
			t.Errorf("%q: recipient=%q to=%q", id, m.Recipient, m.To)
		}
	}
}

func TestMarkReadBody(t *testing.T) {
	b, _ := json.Marshal(markRead{MessagingProduct: "whatsapp", Status: "read", MessageID: "wamid.x", TypingIndicator: &typingIndicator{Type: "text"}})
	want := `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.x","typing_indicator":{"type":"text"}}`
	if !bytes.Equal(b, []byte(want)) {
		t.Errorf("got %s", b)
	}
}
