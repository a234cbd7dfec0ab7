package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The -update flag rewrites golden files. It is registered only if no other
// test file of the package registered it first, so that two files asking
// for it cannot make the test binary panic.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updatingGolden() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	v, _ := g.Get().(bool)
	return v
}

const webhookTestdata = "testdata/webhooks"

// webhookPayloads returns the golden payloads by name (file name without
// .json), sorted.
func webhookPayloads(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(webhookTestdata, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no payloads in %s: %v", webhookTestdata, err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = data
	}
	return out
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestParseWebhookGolden parses each testdata/webhooks/<name>.json and
// compares the Batch, as indented JSON, with <name>.golden. Run with
// -update to rewrite the golden files, then read the diff.
func TestParseWebhookGolden(t *testing.T) {
	payloads := webhookPayloads(t)
	for _, name := range sortedNames(payloads) {
		t.Run(name, func(t *testing.T) {
			b, err := ParseWebhook(payloads[name])
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			checkBatch(t, b)
			got, err := json.MarshalIndent(b, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join(webhookTestdata, name+".golden")
			if updatingGolden() {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("batch differs from %s (go test -update rewrites it):\n%s", golden, firstDiff(want, got))
			}
		})
	}

	t.Run("no stale golden files", func(t *testing.T) {
		goldens, _ := filepath.Glob(filepath.Join(webhookTestdata, "*.golden"))
		for _, g := range goldens {
			if _, ok := payloads[strings.TrimSuffix(filepath.Base(g), ".golden")]; !ok {
				t.Errorf("%s has no payload beside it", g)
			}
		}
	})
}

// firstDiff shows the first line where want and got part.
func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(identical lines, different bytes)"
}

// TestGoldenCoverage fails when a message type, status, interactive subtype
// or webhook field that ParseWebhook models has no golden payload: adding a
// kind means adding its testdata.
func TestGoldenCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, data := range webhookPayloads(t) {
		b, err := ParseWebhook(data)
		if err != nil {
			continue // reported by TestParseWebhookGolden
		}
		for _, m := range b.Messages {
			seen["type:"+m.Type] = true
			if m.Type == TypeUnsupported && m.Problem == "" && m.UnsupportedType != "" {
				seen["unknown:"+m.UnsupportedType] = true
			}
			if m.Interactive != nil {
				seen["interactive:"+m.Interactive.Type] = true
			}
			if m.Media != nil && m.Media.Voice {
				seen["voice"] = true
			}
			if m.System != nil {
				seen["system:"+m.System.Type] = true
			}
			if m.From == "" && m.UserID != "" {
				seen["bsuid only"] = true
			}
		}
		for _, s := range b.Statuses {
			seen["status:"+s.Status] = true
			for _, e := range s.Errors {
				seen["status error:"+strconv.Itoa(e.Code)] = true
			}
			if s.Pricing != nil && s.BizOpaqueCallbackData != "" {
				seen["status with pricing and tracker"] = true
			}
		}
		for _, u := range b.TemplateUpdates {
			seen["field:"+u.Field] = true
			if u.Event != "" {
				seen["template:"+u.Event] = true
			}
		}
		if len(b.Errors) > 0 {
			seen["value errors"] = true
		}
		if len(b.Preferences) > 0 {
			seen["field:"+FieldUserPreferences] = true
		}
		if len(b.AccountUpdates) > 0 {
			seen["field:"+FieldAccountUpdate] = true
		}
		if len(b.Other) > 0 {
			seen["other"] = true
		}
	}
	want := []string{
		"type:" + TypeText, "type:" + TypeImage, "type:" + TypeVideo, "type:" + TypeAudio, "voice",
		"type:" + TypeDocument, "type:" + TypeSticker, "type:" + TypeLocation, "type:" + TypeContacts,
		"type:" + TypeInteractive, "interactive:" + InteractiveButtonReply, "interactive:" + InteractiveListReply,
		"interactive:" + InteractiveNFMReply, "type:" + TypeButton, "type:" + TypeReaction, "type:" + TypeOrder,
		"type:" + TypeSystem, "system:user_changed_number", "system:user_changed_user_id", "system:customer_identity_changed",
		"type:" + TypeRequestWelcome, "type:" + TypeEdit, "type:" + TypeRevoke, "type:" + TypeUnsupported,
		"unknown:poll_vote", "bsuid only",
		"status:" + StatusSent, "status:" + StatusDelivered, "status:" + StatusRead, "status:" + StatusPlayed,
		"status:" + StatusFailed, "status error:131047", "status with pricing and tracker",
		"value errors", "field:" + FieldTemplateStatus, "template:APPROVED", "template:REJECTED",
		"field:" + FieldTemplateQuality, "field:" + FieldTemplateCategory, "field:" + FieldUserPreferences,
		"field:" + FieldAccountUpdate, "other",
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no golden payload in %s covers %q", webhookTestdata, w)
		}
	}
}

// checkBatch asserts the contracts a Batch promises whatever the input.
func checkBatch(t testing.TB, b *Batch) {
	t.Helper()
	for i := range b.Messages {
		checkMessage(t, &b.Messages[i], 0)
	}
	for _, s := range b.Statuses {
		if s.RecipientID != "" && isBSUID(s.RecipientID) {
			t.Errorf("status %q: BSUID %q left in RecipientID", s.ID, s.RecipientID)
		}
	}
	if _, err := json.Marshal(b); err != nil {
		t.Errorf("batch does not marshal: %v", err)
	}
}

func checkMessage(t testing.TB, m *InboundMessage, depth int) {
	t.Helper()
	payloads := map[string]bool{
		TypeText: m.Text != "", "media": m.Media != nil, TypeLocation: m.Location != nil,
		TypeContacts: m.Contacts != nil, TypeInteractive: m.Interactive != nil, TypeButton: m.Button != nil,
		TypeReaction: m.Reaction != nil, TypeOrder: m.Order != nil, TypeSystem: m.System != nil,
		TypeEdit: m.Edit != nil, TypeRevoke: m.Revoke != nil,
	}
	want := m.Type
	switch m.Type {
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		want = "media"
	case TypeText, TypeLocation, TypeContacts, TypeInteractive, TypeButton, TypeReaction,
		TypeOrder, TypeSystem, TypeEdit, TypeRevoke:
	case TypeRequestWelcome:
		want = ""
	case TypeUnsupported:
		want = ""
		if len(m.Raw) == 0 {
			t.Errorf("message %q: unsupported without Raw", m.ID)
		}
	default:
		t.Errorf("message %q: Type %q is neither modelled nor unsupported", m.ID, m.Type)
	}
	for p, set := range payloads {
		if set && p != want {
			t.Errorf("message %q of type %q has the %s payload set", m.ID, m.Type, p)
		}
		if !set && p == want && p != TypeText {
			t.Errorf("message %q of type %q lacks its payload", m.ID, m.Type)
		}
	}
	if m.Type != TypeUnsupported && (m.Raw != nil || m.UnsupportedType != "" || m.Problem != "") {
		t.Errorf("message %q of type %q carries unsupported fields", m.ID, m.Type)
	}
	if isBSUID(m.From) {
		t.Errorf("message %q: BSUID %q left in From", m.ID, m.From)
	}
	if m.Edit != nil {
		if depth >= maxEditDepth {
			t.Errorf("message %q: edit nested deeper than %d", m.ID, maxEditDepth)
		}
		checkMessage(t, m.Edit.Message, depth+1)
	}
}

func TestParseWebhookMalformed(t *testing.T) {
	cases := []struct {
		name string
		body string
	}{
		{"empty body", ``},
		{"not JSON", `hello`},
		{"truncated", `{"object":"whatsapp_business_account","entry":[{"id":"1"`},
		{"JSON null", `null`},
		{"array", `[]`},
		{"no object", `{"entry":[]}`},
		{"another product", `{"object":"page","entry":[]}`},
		{"object not a string", `{"object":1,"entry":[]}`},
		{"entry not an array", `{"object":"whatsapp_business_account","entry":{}}`},
		{"changes not an array", `{"object":"whatsapp_business_account","entry":[{"changes":"x"}]}`},
		{"trailing garbage", `{"object":"whatsapp_business_account","entry":[]} x`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := ParseWebhook([]byte(c.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if b != nil {
				t.Errorf("batch returned with an error")
			}
		})
	}
}

func TestParseWebhookTolerates(t *testing.T) {
	cases := []struct {
		name string
		body string
		want Batch
	}{
		{"no entry", `{"object":"whatsapp_business_account"}`, Batch{}},
		{"entry id and time of odd shapes", `{"object":"whatsapp_business_account","entry":[{"id":{"x":1},"time":"soon","changes":[]}]}`, Batch{}},
		{"unknown fields everywhere",
			`{"object":"whatsapp_business_account","new":1,"entry":[{"id":"1","x":[],"changes":[{"field":"messages","extra":true,"value":{"metadata":{"phone_number_id":"9","color":"red"},"messages":[{"id":"w1","type":"text","text":{"body":"hi","lang":"en"},"from":"15","mood":"ok"}]}}]}]}`,
			Batch{Messages: []InboundMessage{{WABAID: "1", PhoneNumberID: "9", ID: "w1", From: "15", Type: TypeText, Text: "hi"}}}},
		{"numeric ids",
			`{"object":"whatsapp_business_account","entry":[{"id":104,"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":110},"messages":[{"id":"w1","type":"text","text":{"body":"hi"},"from":15557654321}]}}]}]}`,
			Batch{Messages: []InboundMessage{{WABAID: "104", PhoneNumberID: "110", ID: "w1", From: "15557654321", Type: TypeText, Text: "hi"}}}},
		{"value not an object",
			`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":"??"}]}]}`,
			Batch{Other: []Other{{WABAID: "1", Field: FieldMessages, Value: json.RawMessage(`"??"`),
				Err: "value: unexpected JSON string"}}}},
		{"message not an object",
			`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[7]}}]}]}`,
			Batch{Other: []Other{{WABAID: "1", Field: FieldMessages, Value: json.RawMessage(`7`), Err: "message is not a JSON object"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := ParseWebhook([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(b)
			want, _ := json.Marshal(c.want)
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestIdentity pins how the sender is worked out from messages[] and
// contacts[] (docs/whatsapp.md §1.4): contacts are matched by wa_id or user_id, never by
// position, and a BSUID in from is a user id, not a phone number.
func TestIdentity(t *testing.T) {
	cases := []struct {
		name     string
		contacts string
		message  string
		from     string
		userID   string
		profile  string
		identity string
	}{
		{"phone only, no contacts", `[]`, `{"from":"15551"}`,
			"15551", "", "", "15551"},
		{"phone, contact adds the BSUID", `[{"profile":{"name":"Ana"},"wa_id":"15551","user_id":"US.1"}]`, `{"from":"15551"}`,
			"15551", "US.1", "Ana", "US.1"},
		{"BSUID only", `[{"profile":{"name":"Dani","username":"@d"},"user_id":"US.2"}]`, `{"from_user_id":"US.2"}`,
			"", "US.2", "Dani", "US.2"},
		{"BSUID in from", `[{"profile":{"name":"Eli"},"wa_id":"US.3"}]`, `{"from":"US.3"}`,
			"", "US.3", "Eli", "US.3"},
		{"BSUID in from beside from_user_id", `[]`, `{"from":"US.3","from_user_id":"US.3"}`,
			"", "US.3", "", "US.3"},
		{"contact of someone else", `[{"profile":{"name":"Other"},"wa_id":"15559","user_id":"US.9"}]`, `{"from":"15551"}`,
			"15551", "", "", "15551"},
		{"same phone, different BSUID", `[{"profile":{"name":"Other"},"wa_id":"15551","user_id":"US.9"}]`, `{"from":"15551","from_user_id":"US.1"}`,
			"15551", "US.1", "", "US.1"},
		{"second contact matches", `[{"profile":{"name":"A"},"wa_id":"15550"},{"profile":{"name":"B"},"wa_id":"15551"}]`, `{"from":"15551"}`,
			"15551", "", "B", "15551"},
		{"no sender takes the lone contact", `[{"profile":{"name":"Ana"},"wa_id":"15551","user_id":"US.1"}]`, `{}`,
			"15551", "US.1", "Ana", "US.1"},
		{"no sender, two contacts: none", `[{"wa_id":"15550"},{"wa_id":"15551"}]`, `{}`,
			"", "", "", ""},
		{"unreadable contact is skipped", `[{"wa_id":{}},{"profile":{"name":"B"},"wa_id":"15551"}]`, `{"from":"15551"}`,
			"15551", "", "B", "15551"},
		{"lowercase prefix is not a BSUID", `[]`, `{"from":"us.1"}`,
			"us.1", "", "", "us.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := strings.TrimSuffix(c.message, "}")
			if msg != "{" {
				msg += ","
			}
			msg += `"id":"w1","type":"text","text":{"body":"x"}}`
			body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":` +
				c.contacts + `,"messages":[` + msg + `]}}]}]}`
			b, err := ParseWebhook([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages) != 1 {
				t.Fatalf("got %d messages", len(b.Messages))
			}
			m := b.Messages[0]
			if m.From != c.from || m.UserID != c.userID || m.ProfileName != c.profile || m.Identity() != c.identity {
				t.Errorf("From, UserID, ProfileName, Identity() = %q, %q, %q, %q; want %q, %q, %q, %q",
					m.From, m.UserID, m.ProfileName, m.Identity(), c.from, c.userID, c.profile, c.identity)
			}
		})
	}
}

func TestFlexScalars(t *testing.T) {
	times := []struct {
		in   string
		want int64 // unix seconds; -1: zero time
		err  bool
	}{
		{`"1763780400"`, 1763780400, false},
		{`1763780400`, 1763780400, false},
		{`1.7637804e9`, 1763780400, false},
		{`""`, -1, false},
		{`null`, -1, false},
		{`"0"`, 0, false},
		{`"soon"`, 0, true},
		{`-5`, 0, true},
		{`99999999999999`, 0, true},
		{`1e400`, 0, true},
		{`1.5`, 0, true},
		{`true`, 0, true},
		{`{}`, 0, true},
	}
	for _, c := range times {
		var ft flexTime
		err := json.Unmarshal([]byte(c.in), &ft)
		switch {
		case c.err && err == nil:
			t.Errorf("flexTime %s: no error", c.in)
		case !c.err && err != nil:
			t.Errorf("flexTime %s: %v", c.in, err)
		case !c.err && c.want == -1 && !ft.t.IsZero():
			t.Errorf("flexTime %s = %v, want zero", c.in, ft.t)
		case !c.err && c.want >= 0 && !ft.t.Equal(time.Unix(c.want, 0)):
			t.Errorf("flexTime %s = %v, want %d", c.in, ft.t, c.want)
		}
	}

	strs := []struct{ in, want string }{
		{`"abc"`, "abc"}, {`1712345678901234567`, "1712345678901234567"}, {`null`, ""}, {`"a\"b"`, `a"b`},
	}
	for _, c := range strs {
		var s flexString
		if err := json.Unmarshal([]byte(c.in), &s); err != nil || string(s) != c.want {
			t.Errorf("flexString %s = %q, %v; want %q", c.in, s, err, c.want)
		}
	}
	for _, in := range []string{`true`, `{}`, `[]`} {
		var s flexString
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("flexString %s: no error", in)
		}
	}

	var f flexFloat
	if err := json.Unmarshal([]byte(`"-23.56"`), &f); err != nil || f != -23.56 {
		t.Errorf(`flexFloat "-23.56" = %v, %v`, f, err)
	}
	if err := json.Unmarshal([]byte(`"north"`), &f); err == nil {
		t.Error(`flexFloat "north": no error`)
	}
	var j flexJSONText
	if err := json.Unmarshal([]byte(`{ "flow_token" : "t" }`), &j); err != nil || j != `{"flow_token":"t"}` {
		t.Errorf("flexJSONText object = %q, %v", j, err)
	}
}

func TestEditNestedTooDeep(t *testing.T) {
	body := `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[
		{"id":"w2","from":"1555","type":"edit","edit":{"original_message_id":"w1","message":
			{"type":"edit","edit":{"original_message_id":"w0","message":{"type":"text","text":{"body":"x"}}}}}}]}}]}]}`
	b, err := ParseWebhook([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, b)
	inner := b.Messages[0].Edit.Message
	if inner.Type != TypeUnsupported || inner.UnsupportedType != TypeEdit {
		t.Errorf("inner edit: Type %q UnsupportedType %q, want unsupported edit", inner.Type, inner.UnsupportedType)
	}
}

// TestBatchOwnsItsMemory: the HTTP layer may reuse the body buffer (fasthttp
// does) once ParseWebhook returns.
func TestBatchOwnsItsMemory(t *testing.T) {
	body := webhookPayloads(t)["unknown_type"]
	b, err := ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(b)
	for i := range body {
		body[i] = ' '
	}
	after, _ := json.Marshal(b)
	if !bytes.Equal(before, after) {
		t.Error("batch changed when the body buffer was overwritten")
	}
}

// pywaTestdata holds real-shaped payloads from the MIT-licensed pywa
// library (see its README): JSON objects of named envelopes.
const pywaTestdata = "testdata/pywa"

// pywaPayloads returns the envelopes of the pywa fixtures, named
// "<file>/<envelope>".
func pywaPayloads(t testing.TB) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(pywaTestdata, "*.json"))
	if len(paths) == 0 {
		t.Fatalf("no fixtures in %s", pywaTestdata)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var named map[string]json.RawMessage
		if err := json.Unmarshal(data, &named); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for name, env := range named {
			out[filepath.Base(p)+"/"+name] = env
		}
	}
	return out
}

// TestSharedFixtures parses every pywa envelope: each must parse into events
// with nothing unreadable.
func TestSharedFixtures(t *testing.T) {
	payloads := pywaPayloads(t)
	for _, name := range sortedNames(payloads) {
		t.Run(name, func(t *testing.T) {
			b, err := ParseWebhook(payloads[name])
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, b)
			if b.Len() == 0 {
				t.Error("no events")
			}
			for _, o := range b.Other {
				if o.Err != "" {
					t.Errorf("unreadable %s item: %s", o.Field, o.Err)
				}
			}
		})
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, data := range webhookPayloads(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"edit","edit":{"message":{"type":"edit","edit":{"message":{}}}}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"timestamp":1e308,"conversation":{"expiration_timestamp":"-1"}}]}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseWebhook(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		checkBatch(t, b)
	})
}

// BenchmarkParseWebhook measures the inbound hot path: a single text message
// (the common delivery), ten messages in one delivery, a status-only
// delivery, and the mixed batch golden payload.
func BenchmarkParseWebhook(b *testing.B) {
	payloads := webhookPayloads(b)
	cases := []struct {
		name string
		body []byte
	}{
		{"text", payloads["text"]},
		{"10_messages", tenMessages(b, payloads["text"])},
		{"status", payloads["status_delivered"]},
		{"mixed", payloads["batch"]},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseWebhook(c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// tenMessages turns the one-message delivery text into one of ten messages,
// each with its own wamid, written compact as Meta writes its bodies.
func tenMessages(tb testing.TB, text []byte) []byte {
	tb.Helper()
	var env map[string]any
	if err := json.Unmarshal(text, &env); err != nil {
		tb.Fatal(err)
	}
	value := env["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)
	msg := value["messages"].([]any)[0].(map[string]any)
	msgs := make([]any, 10)
	for i := range msgs {
		m := maps.Clone(msg)
		m["id"] = msg["id"].(string) + "." + strconv.Itoa(i)
		msgs[i] = m
	}
	value["messages"] = msgs
	body, err := json.Marshal(env)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// referenceEdgeCases are deliveries at the edges of ParseWebhook's
// single-pass path, each of which must either leave it for the item-by-item
// path or decode to the same Batch: malformed bodies, absent, null and empty
// values, items that are not objects or have fields of the wrong type,
// repeated keys at every level, edits.
var referenceEdgeCases = []string{
	`hello`,
	`{"object":"page","entry":[]}`,
	`{"object":"whatsapp_business_account","entry":{}}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":1}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages"}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":null}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update"}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"phone_number_quality_update"}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"phone_number_quality_update","value":null}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"user_preferences"}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"user_preferences","value":{"user_preferences":[null]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"X"}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"calls","value":{"x":1}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[null,{"changes":[null]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":1,"time":"1700000000","changes":[{"field":"messages","value":{"messages":[null,{"type":"text","text":{"body":"x"}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[5,{"type":"text","text":{"body":"x"}}],"statuses":[{"status":"sent"},"x"],"errors":[{"code":"1"},[]]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"event":5,"messages":[{"type":"text","text":{"body":"x"}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"contacts":[null,{"wa_id":[]}],"messages":[{"type":"text","text":{"body":"x"}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":5}}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"interactive","interactive":{"type":"call_permission_reply","call_permission_reply":{}}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"edit","edit":{"message":null}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"edit","edit":{"message":{"type":"poll"}}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"edit","edit":{"message":{"type":"text","text":5}}}]}}]}]}`,
	// Repeated keys: encoding/json lets the last whole value win where it
	// keeps raw bytes, and merges the two where it decodes into a struct.
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text","text":{"body":"a"}}]},"value":{"messages":[{"id":"w2"}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text","text":{"body":"a"}}],"Messages":[{"id":"w2"}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"contacts":[{"wa_id":"1","profile":{"name":"A"}}],"contacts":[{"user_id":"US.1"}],"messages":[{"from":"1","type":"text","text":{"body":"a"}}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"s1","status":"sent"}],"statuses":[{"status":"read"}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"id":"1","id":{},"changes":[{"field":"messages","value":{"statuses":[{"id":"s1","status":"sent"}]}}],"changes":[{"value":{"statuses":[{"status":"read"}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1},"value":{"reason":"NONE"}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text","text":{"body":"a"}}],"meſſages":[{"id":"w2"}]}}]}]}`,
	`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text","text":{"body":"a"}}],"\u006dessages":[{"id":"w2"}]}}]}]}`,
}

// referenceBodies returns every payload the differential tests start from:
// the golden payloads, the pywa envelopes and referenceEdgeCases.
func referenceBodies(t testing.TB) map[string][]byte {
	t.Helper()
	out := webhookPayloads(t)
	for name, body := range pywaPayloads(t) {
		out["pywa/"+name] = body
	}
	for i, body := range referenceEdgeCases {
		out["edge/"+strconv.Itoa(i)] = []byte(body)
	}
	return out
}

// TestParseAtOnceMatchesItemByItem: wherever the one-pass parser answers,
// it gives exactly what the item-by-item parser gives. (While it was being
// written, both were also held to a frozen copy of the parser they replaced,
// over these bodies, ~3M fuzzed inputs and 600k JSON-tree mutations; the
// golden tests pin the results.)
func TestParseAtOnceMatchesItemByItem(t *testing.T) {
	bodies := referenceBodies(t)
	for _, name := range sortedNames(bodies) {
		t.Run(name, func(t *testing.T) { checkAtOnceMatches(t, bodies[name]) })
	}
}

// FuzzParseAtOnceMatchesItemByItem holds parseAtOnce to parseItemByItem on
// any input.
func FuzzParseAtOnceMatchesItemByItem(f *testing.F) {
	for _, body := range referenceBodies(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkAtOnceMatches(t, data) })
}

// checkAtOnceMatches fails unless parseAtOnce either declines body or
// returns a batch deeply equal to parseItemByItem's, which must then not
// fail.
func checkAtOnceMatches(t *testing.T, body []byte) {
	t.Helper()
	got, ok := parseAtOnce(bytes.Clone(body))
	if !ok {
		return
	}
	want, err := parseItemByItem(body)
	switch {
	case err != nil:
		t.Fatalf("one pass gave a batch, item by item failed: %v", err)
	case !reflect.DeepEqual(got, want):
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("one pass differs from item by item (the JSON forms may hide the difference):\n%s", firstDiff(w, g))
	}
}
