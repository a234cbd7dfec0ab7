package whatsapp

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/fuzztest"
)

// FuzzParseAPIError: whatever a failed Graph API call answers (Meta's
// envelope, a proxy's page, garbage, a hostile Retry-After), parseAPIError
// gives an error that keeps the status, classifies, never asks for a
// negative wait, keeps valid text valid, cuts a body that is not Meta's to
// 200 bytes, and reads the envelope it writes back to the same error.
func FuzzParseAPIError(f *testing.F) {
	for _, body := range fuzztest.Files(f, "testdata/errors/*") {
		f.Add(400, "", body)
	}
	f.Add(429, "7", []byte(`{"error":{"code":130429}}`))
	f.Add(503, "-1", []byte(`{"error":null}`))
	f.Add(500, "99999999999999999999", []byte(`{"error":{"code":1e400}}`))
	f.Add(502, "", []byte(strings.Repeat("é", 150)))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		e := parseAPIError(status, h, body)
		if e == nil || e.HTTPStatus != status {
			t.Fatalf("parseAPIError(%d) = %+v", status, e)
		}
		if e.Error() == "" || !strings.HasPrefix(e.Error(), "whatsapp: graph api error") {
			t.Fatalf("Error() = %q", e.Error())
		}
		if utf8.Valid(body) && !utf8.ValidString(e.Error()) {
			t.Fatalf("a valid UTF-8 body gave invalid text: %q", e.Error())
		}
		if RetryAfter(e) < 0 || e.RetryAfterHeader < 0 {
			t.Fatalf("negative wait %v", RetryAfter(e))
		}
		if c := Classify(e); c != Retry && c != Permanent && c != Ambiguous {
			t.Fatalf("Classify = %v", c)
		}
		if s := ScopeOf(e); s < ScopeMessage || s > ScopeAccount {
			t.Fatalf("ScopeOf = %v", s)
		}
		var env errorEnvelope
		if json.Unmarshal(body, &env) != nil || env.Error == nil {
			if len(e.Message) > 200+len("…") {
				t.Fatalf("a body that is not Meta's kept %d bytes", len(e.Message))
			}
			return
		}
		again, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		if e2 := parseAPIError(status, h, again); !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip through %s:\n got %+v\nwant %+v", again, e2, e)
		}
	})
}

// FuzzValidateOutbound: Validate answers any message (decoded from any
// JSON) with nil or an error wrapping ErrInvalidMessage, never a panic; a
// message it accepts keeps WhatsApp's limits, which are counted here again
// independently, and encodes to a body that decodes to a message it accepts
// and encodes the same.
func FuzzValidateOutbound(f *testing.F) {
	for _, c := range outboundCases {
		f.Add([]byte(c.want))
	}
	f.Add([]byte(`{"to":"1","type":"interactive","interactive":{"type":"button","header":{"type":"image"},"body":{"text":"b"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}}`))
	f.Add([]byte(`{"recipient":"US.1","type":"location","location":{"latitude":"NaN"}}`))
	f.Add([]byte(`{"to":"1","type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"x"}]}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var m OutboundMessage
		if json.Unmarshal(body, &m) != nil {
			return
		}
		err := m.Validate()
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) || Classify(err) != Permanent {
				t.Fatalf("Validate = %v: not an invalid-message error", err)
			}
			return
		}
		checkLimits(t, &m)
		out, err := json.Marshal(&m)
		if err != nil {
			t.Fatalf("an accepted message does not encode: %v", err)
		}
		var back OutboundMessage
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("an accepted message's body does not decode: %v\n%s", err, out)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("accepted, then refused after a round trip: %v\n%s", err, out)
		}
		if again, _ := json.Marshal(&back); string(again) != string(out) {
			t.Fatalf("encoding is not stable:\n%s\n%s", out, again)
		}
	})
}

// checkLimits fails unless m keeps the Cloud API's limits on what a
// customer sees.
func checkLimits(t *testing.T, m *OutboundMessage) {
	t.Helper()
	within := func(field, s string, max int) {
		if n := utf8.RuneCountInString(s); n > max {
			t.Fatalf("accepted with %s of %d characters (max %d)", field, n, max)
		}
	}
	if (m.To == "") == (m.Recipient == "") {
		t.Fatalf("accepted with to %q and recipient %q", m.To, m.Recipient)
	}
	if len(m.BizOpaqueCallbackData) > MaxBizOpaqueCallbackLen {
		t.Fatalf("accepted with %d bytes of callback data", len(m.BizOpaqueCallbackData))
	}
	if m.payloadCount() != 1 {
		t.Fatalf("accepted with %d payloads", m.payloadCount())
	}
	if m.Text != nil {
		within("text.body", m.Text.Body, MaxTextBodyLen)
	}
	for _, md := range []*OutMedia{m.Image, m.Video, m.Document} {
		if md != nil {
			within("caption", md.Caption, MaxCaptionLen)
		}
	}
	if in := m.Interactive; in != nil {
		if in.Body != nil {
			within("interactive.body.text", in.Body.Text, MaxInteractiveBodyLen)
		}
		if in.Footer != nil {
			within("interactive.footer.text", in.Footer.Text, MaxFooterLen)
		}
		if in.Header != nil && in.Header.Type == "text" {
			within("interactive.header.text", in.Header.Text, MaxHeaderTextLen)
		}
		if in.Type == InteractiveButton && len(in.Action.Buttons) > MaxReplyButtons {
			t.Fatalf("accepted with %d buttons", len(in.Action.Buttons))
		}
		rows := 0
		for _, s := range in.Action.Sections {
			rows += len(s.Rows)
			for _, r := range s.Rows {
				within("row title", r.Title, MaxListRowTitleLen)
				within("row description", r.Description, MaxListRowDescLen)
			}
		}
		if in.Type == InteractiveList && (rows > MaxListRowsTotal || len(in.Action.Sections) > MaxListSections) {
			t.Fatalf("accepted a list of %d sections, %d rows", len(in.Action.Sections), rows)
		}
	}
}
