package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite engine/testdata/templates/*.json from the bodies sent now")

// demoTemplate is a demo template of the sandbox as the Graph API lists it.
func demoTemplate(t *testing.T, name string) whatsapp.Template {
	t.Helper()
	for _, st := range sandbox.DemoTemplates() {
		if st.Name != name {
			continue
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var wt whatsapp.Template
		if err := json.Unmarshal(b, &wt); err != nil {
			t.Fatal(err)
		}
		wt.Status = whatsapp.TemplateApproved
		if wt.ParameterFormat == "" {
			wt.ParameterFormat = whatsapp.ParamsPositional
		}
		return wt
	}
	t.Fatalf("no demo template %q", name)
	return whatsapp.Template{}
}

// templateKinds is one send per kind of template: which demo template,
// what Parley fills it with, and which of Meta's reference bodies
// (whatsapp/testdata/templates/meta) it must have the shape of.
var templateKinds = []struct {
	kind, template, reference string
	send                      flows.TemplateSend
}{
	{"positional_quick_replies", "order_followup", "text_positional", flows.TemplateSend{
		Body:    flows.TextParams("Ann"),
		Buttons: []flows.TemplateButton{{Index: 0, Payload: "yes"}, {Type: flows.ButtonQuickReply, Index: 1, Payload: "no"}}}},
	{"named_currency_date_url_button", "order_update", "named", flows.TemplateSend{
		Header: []flows.TemplateParam{{Name: "order_number", Text: "A-1042"}},
		Body: []flows.TemplateParam{
			{Name: "first_name", Text: "Ann"},
			{Name: "total", Currency: &flows.TemplateCurrency{Code: "EUR", Amount1000: "42500", FallbackValue: "€42.50"}},
			{Name: "ship_date", DateTime: &flows.TemplateDateTime{FallbackValue: "Friday 12 June"}}},
		// The quick reply is the template's second button: the untyped
		// form counts quick replies (0 = the first), Meta's index is 1.
		Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "A-1042"}, {Index: 0, Payload: "help"}}}},
	{"named_by_order", "order_update", "named_text", flows.TemplateSend{
		// A NAMED template filled in order, as flows written before names
		// were: the names come from the template.
		Header:  flows.TextParams("A-1042"),
		Body:    flows.TextParams("Ann", "€42.50", "Friday 12 June"),
		Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "A-1042"}}}},
	{"image_header", "order_shipped_photo", "image_header", flows.TemplateSend{
		Header:  []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://shop.example/img/a-1042.jpg"}}},
		Body:    flows.TextParams("Ann", "A-1042"),
		Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "A-1042"}}}},
	{"video_header", "product_launch_video", "video_header", flows.TemplateSend{
		Header:  []flows.TemplateParam{{Video: &flows.TemplateMedia{ID: "1234567890"}}},
		Body:    flows.TextParams("Ann"),
		Buttons: []flows.TemplateButton{{Type: flows.ButtonQuickReply, Index: 0, Payload: "more"}, {Type: flows.ButtonQuickReply, Index: 1, Payload: "stop"}}}},
	{"document_header", "invoice_ready", "document_header", flows.TemplateSend{
		Header: []flows.TemplateParam{{Document: &flows.TemplateMedia{Link: "https://shop.example/inv/INV-2026-118.pdf", Filename: "INV-2026-118.pdf"}}},
		Body:   flows.TextParams("Ann", "INV-2026-118")}},
	{"location_header", "store_directions", "location_header", flows.TemplateSend{
		Header: []flows.TemplateParam{{Location: &flows.TemplateLocation{Latitude: 37.483307, Longitude: -122.148981, Name: "Pablo Morales", Address: "1 Hacker Way, Menlo Park, CA 94025"}}},
		Body:   flows.TextParams("Ann")}},
	{"currency_date_time", "payment_due", "currency_date_time", flows.TemplateSend{
		Body: []flows.TemplateParam{
			{Currency: &flows.TemplateCurrency{Code: "USD", Amount1000: "18200", FallbackValue: "$18.20"}},
			{DateTime: &flows.TemplateDateTime{FallbackValue: "June 30"}}}}},
	{"copy_code", "welcome_coupon", "copy_code", flows.TemplateSend{
		Body:    flows.TextParams("Ann"),
		Buttons: []flows.TemplateButton{{Type: flows.ButtonCopyCode, Index: 0, Code: "WELCOME10"}}}},
	{"authentication_otp", "login_code", "authentication", flows.TemplateSend{
		Body:    flows.TextParams("482913"),
		Buttons: []flows.TemplateButton{{Type: flows.ButtonOTP, Index: 0, Code: "482913"}}}},
	{"carousel", "new_arrivals", "carousel", flows.TemplateSend{
		Body: flows.TextParams("Ann"),
		Cards: []flows.TemplateCard{
			{Header: []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://shop.example/img/linen-shirt.jpg"}}},
				Body:    flows.TextParams("Linen shirt"),
				Buttons: []flows.TemplateButton{{Type: flows.ButtonQuickReply, Index: 0, Payload: "reserve-linen-shirt"}, {Type: flows.ButtonURL, Index: 1, Text: "linen-shirt"}}},
			{Header: []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://shop.example/img/canvas-tote.jpg"}}},
				Body:    flows.TextParams("Canvas tote"),
				Buttons: []flows.TemplateButton{{Type: flows.ButtonQuickReply, Index: 0, Payload: "reserve-canvas-tote"}, {Type: flows.ButtonURL, Index: 1, Text: "canvas-tote"}}},
		}}},
	{"limited_time_offer", "flash_sale", "limited_time_offer", flows.TemplateSend{
		Header:         []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://shop.example/img/sale.jpg"}}},
		Body:           flows.TextParams("Ann", "FLASH25"),
		OfferExpiresAt: "2026-06-30T23:59:00Z",
		Buttons:        []flows.TemplateButton{{Type: flows.ButtonCopyCode, Index: 0, Code: "FLASH25"}, {Type: flows.ButtonURL, Index: 1, Text: "flash25"}}}},
}

// goldenSandbox is a sandbox holding the demo templates, and a client of it.
func goldenSandbox(t *testing.T, opts ...whatsapp.Option) (*sandbox.Sandbox, *whatsapp.Client) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{WebhookRetries: -1, Throughput: -1})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	sb.SeedTemplates(sandbox.DemoTemplates())
	cfg := sb.Config()
	return sb, whatsapp.NewClient(sb.GraphURL(), cfg.AccessToken, cfg.PhoneNumberID, opts...)
}

// TestTemplateGolden sends one template of every kind as the dispatcher
// builds it (toWhatsApp, from the registry's record of the template): the
// body that reaches the sandbox is compared byte for byte with its golden
// file (engine/testdata/templates; -update-golden rewrites them), has the
// shape of Meta's reference body for that kind, and the sandbox — which
// checks templates as Meta does — accepts it.
func TestTemplateGolden(t *testing.T) {
	sb, client := goldenSandbox(t)
	contact := &model.Contact{WaID: "15551234567"}
	for i, k := range templateKinds {
		t.Run(k.kind, func(t *testing.T) {
			def := demoTemplate(t, k.template)
			info := templates.InfoFromWhatsApp(def)
			ts := k.send
			ts.Name, ts.Language = def.Name, def.Language
			if ps := templates.CheckTemplateSend(info, &ts, true); len(ps) > 0 {
				t.Fatalf("CheckTemplateSend: %v", ps)
			}
			m := &model.Message{Conversation: "15551234567#1", Seq: uint64(i + 1), Node: "send", Template: &ts}
			out, err := toWhatsApp(m, contact, templates.NewSet(info))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.Send(context.Background(), out); err != nil {
				t.Fatalf("the sandbox refused it: %v", err)
			}
			acc := sb.Accepted()
			var raw bytes.Buffer
			if err := json.Indent(&raw, acc[len(acc)-1].Raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			raw.WriteByte('\n')
			golden := filepath.Join("testdata", "templates", k.kind+".json")
			if *updateGolden {
				if err := os.WriteFile(golden, raw.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-golden to write it)", err)
			}
			if !bytes.Equal(raw.Bytes(), want) {
				t.Errorf("body sent differs from %s:\n%s", golden, raw.String())
			}
			ref, err := os.ReadFile(filepath.Join("..", "whatsapp", "testdata", "templates", "meta", k.reference+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := shapeDiff(t, raw.Bytes(), ref); diff != "" {
				t.Errorf("body sent is not shaped as Meta's reference %s.json: %s", k.reference, diff)
			}
		})
	}
}

// shapeDiff compares two JSON bodies by shape: the set of paths (array
// indexes dropped) and the JSON type at each. Fields Parley adds that
// Meta's examples leave out (biz_opaque_callback_data) are ignored.
func shapeDiff(t *testing.T, got, ref []byte) string {
	t.Helper()
	paths := func(b []byte) map[string]string {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		var walk func(p string, v any)
		walk = func(p string, v any) {
			switch x := v.(type) {
			case map[string]any:
				out[p] = "object"
				for k, c := range x {
					walk(p+"."+k, c)
				}
			case []any:
				out[p] = "array"
				for _, c := range x {
					walk(p+"[]", c)
				}
			case string:
				out[p] = "string"
			case float64:
				out[p] = "number"
			case bool:
				out[p] = "bool"
			default:
				out[p] = "null"
			}
		}
		walk("", v)
		delete(out, ".biz_opaque_callback_data")
		return out
	}
	g, r := paths(got), paths(ref)
	var diffs []string
	for p, typ := range g {
		if rt, ok := r[p]; !ok {
			diffs = append(diffs, "Parley sends "+p+", Meta's reference has no such field")
		} else if rt != typ {
			diffs = append(diffs, fmt.Sprintf("%s is a %s, Meta's is a %s", p, typ, rt))
		}
	}
	for p := range r {
		if _, ok := g[p]; !ok {
			diffs = append(diffs, "Meta's reference has "+p+", Parley does not send it")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// TestTemplateRulesAgree: what the one check (CheckTemplateSend) refuses,
// the sandbox refuses too, with Meta's code — sent anyway, past every local
// check — and the check names the part at fault.
func TestTemplateRulesAgree(t *testing.T) {
	_, client := goldenSandbox(t, whatsapp.WithoutLocalValidation())
	long := strings.Repeat("x", 1000)
	cases := []struct {
		name, template string
		send           flows.TemplateSend
		kind, path     string
		code           int
	}{
		{"newline in a parameter", "order_followup", flows.TemplateSend{Body: flows.TextParams("Ann\nLee")}, templates.ProblemText, "body/0", 100},
		{"tab in a parameter", "order_followup", flows.TemplateSend{Body: flows.TextParams("Ann\tLee")}, templates.ProblemText, "body/0", 100},
		{"five spaces in a row", "order_followup", flows.TemplateSend{Body: flows.TextParams("Ann     Lee")}, templates.ProblemText, "body/0", 100},
		{"empty parameter", "order_followup", flows.TemplateSend{Body: flows.TextParams("")}, templates.ProblemText, "body/0", 131008},
		{"header over 60 once filled", "order_update", flows.TemplateSend{
			Header:  []flows.TemplateParam{{Name: "order_number", Text: strings.Repeat("9", 60)}},
			Body:    []flows.TemplateParam{{Name: "first_name", Text: "Ann"}, {Name: "total", Text: "€1"}, {Name: "ship_date", Text: "today"}},
			Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "x"}}}, templates.ProblemText, "header", 132005},
		{"body over 1024 once filled", "appointment_reminder", flows.TemplateSend{Body: flows.TextParams("Ann", long, "Friday")}, templates.ProblemText, "body", 132005},
		{"too few body parameters", "appointment_reminder", flows.TemplateSend{Body: flows.TextParams("Ann")}, templates.ProblemFit, "body", 132000},
		{"a named template given a wrong name", "order_update", flows.TemplateSend{
			Header:  []flows.TemplateParam{{Name: "order_number", Text: "A-1"}},
			Body:    []flows.TemplateParam{{Name: "first_name", Text: "Ann"}, {Name: "amount", Text: "€1"}, {Name: "ship_date", Text: "today"}},
			Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "x"}}}, templates.ProblemFit, "body/1/name", 132000},
		{"a dynamic URL button left out", "order_shipped_photo", flows.TemplateSend{
			Header: []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://x.example/a.jpg"}}},
			Body:   flows.TextParams("Ann", "A-1")}, templates.ProblemFit, "", 131008},
		{"a media header left out", "order_shipped_photo", flows.TemplateSend{
			Body: flows.TextParams("Ann", "A-1"), Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "x"}}}, templates.ProblemFit, "header", 132012},
		{"a video where the header is an image", "order_shipped_photo", flows.TemplateSend{
			Header: []flows.TemplateParam{{Video: &flows.TemplateMedia{ID: "1"}}},
			Body:   flows.TextParams("Ann", "A-1"), Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "x"}}}, templates.ProblemFit, "header/0", 132012},
		{"a quick reply where the button is a URL", "order_update", flows.TemplateSend{
			Header:  flows.TextParams("A-1"),
			Body:    flows.TextParams("Ann", "€1", "today"),
			Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "x"}, {Type: flows.ButtonQuickReply, Index: 0, Payload: "p"}}}, templates.ProblemFit, "buttons/1", 131009},
		{"text for a static URL", "invoice_ready", flows.TemplateSend{
			Header:  []flows.TemplateParam{{Document: &flows.TemplateMedia{ID: "1"}}},
			Body:    flows.TextParams("Ann", "INV-1"),
			Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "x"}}}, templates.ProblemFit, "buttons/0", 131009},
		{"a copy code left out", "welcome_coupon", flows.TemplateSend{Body: flows.TextParams("Ann")}, templates.ProblemFit, "", 131008},
		{"a carousel short of a card", "new_arrivals", flows.TemplateSend{Body: flows.TextParams("Ann"), Cards: []flows.TemplateCard{{
			Header: []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://x.example/a.jpg"}}}, Body: flows.TextParams("Shirt"),
			Buttons: []flows.TemplateButton{{Type: flows.ButtonURL, Index: 1, Text: "shirt"}}}}}, templates.ProblemFit, "cards", 132000},
		{"an offer without its end", "flash_sale", flows.TemplateSend{
			Header:  []flows.TemplateParam{{Image: &flows.TemplateMedia{Link: "https://x.example/a.jpg"}}},
			Body:    flows.TextParams("Ann", "FLASH25"),
			Buttons: []flows.TemplateButton{{Type: flows.ButtonCopyCode, Index: 0, Code: "FLASH25"}, {Type: flows.ButtonURL, Index: 1, Text: "f"}}}, templates.ProblemFit, "", 131008},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := demoTemplate(t, c.template)
			info := templates.InfoFromWhatsApp(def)
			ts := c.send
			ts.Name, ts.Language = def.Name, def.Language
			ps := templates.CheckTemplateSend(info, &ts, true)
			found := false
			for _, p := range ps {
				found = found || (p.Kind == c.kind && p.Path == c.path)
			}
			if !found {
				t.Errorf("CheckTemplateSend = %v; want a %s problem at %q", ps, c.kind, c.path)
			}
			comps, err := templates.Components(info.Shape, &ts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.Send(context.Background(), whatsapp.NewTemplate("15551234567", ts.Name, ts.Language, comps...))
			var apiErr *whatsapp.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != c.code {
				t.Errorf("sandbox answered %v; want code %d", err, c.code)
			}
		})
	}
}

// TestLegacyButtonIndex pins the meaning of a button written without a
// type, as flows were before typed buttons: its index counts quick
// replies. With the template's buttons [URL, QUICK_REPLY], {"index": 0}
// is the quick reply, sent at Meta's index 1, and publishing warns with
// the position to write; {"type": "quick_reply", "index": 1} is the same.
func TestLegacyButtonIndex(t *testing.T) {
	def := demoTemplate(t, "order_update")
	info := templates.InfoFromWhatsApp(def)
	base := flows.TemplateSend{Name: def.Name, Language: def.Language, Header: flows.TextParams("A-1"), Body: flows.TextParams("Ann", "€1", "today")}
	for _, b := range []flows.TemplateButton{{Index: 0, Payload: "help"}, {Type: flows.ButtonQuickReply, Index: 1, Payload: "help"}} {
		ts := base
		ts.Buttons = []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "A-1"}, b}
		comps, err := templates.Components(info.Shape, &ts)
		if err != nil {
			t.Fatal(err)
		}
		last := comps[len(comps)-1]
		if last.SubType != "quick_reply" || last.Index != "1" {
			t.Errorf("%+v sent as %+v; want the quick reply at index 1", b, last)
		}
		var warned bool
		for _, p := range templates.CheckTemplateSend(info, &ts, false) {
			if p.Kind != templates.ProblemWarning {
				t.Errorf("%+v: %v", b, p)
			}
			warned = warned || p.Path == "buttons/1"
		}
		if warned != b.Legacy() {
			t.Errorf("%+v: warned %v at publish", b, warned)
		}
	}
	ts := base
	ts.Buttons = []flows.TemplateButton{{Type: flows.ButtonURL, Index: 0, Text: "A-1"}, {Index: 1, Payload: "help"}}
	if ps := templates.CheckTemplateSend(info, &ts, true); len(ps) == 0 || ps[0].Kind != templates.ProblemFit {
		t.Errorf("the second quick reply of a template with one: %v", ps)
	}
}

// TestEveryKindFlowFitsTheDemoTemplates: the flow with a template node of
// every kind (testdata/valid/templates_every_kind.json) publishes without
// a problem against the sandbox's demo templates, as the registry records
// them from the Graph API's listing.
func TestEveryKindFlowFitsTheDemoTemplates(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "valid", "templates_every_kind.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, problems := flows.Parse(data)
	if f == nil || problems.Err() != nil {
		t.Fatalf("parse: %v", problems)
	}
	reg := templates.NewSet()
	for _, st := range sandbox.DemoTemplates() {
		reg.Put(templates.InfoFromWhatsApp(demoTemplate(t, st.Name)))
	}
	if ps := templates.CheckFlowTemplates(f, reg); len(ps) > 0 {
		t.Errorf("problems: %v", ps)
	}
}

// BenchmarkTemplateSendCheck is what the one check and the body's building
// cost per dispatched template (named, three kinds of parameter, two
// buttons).
func BenchmarkTemplateSendCheck(b *testing.B) {
	t := &testing.T{}
	def := demoTemplate(t, "order_update")
	info := templates.InfoFromWhatsApp(def)
	ts := templateKinds[1].send
	ts.Name, ts.Language = def.Name, def.Language
	reg := templates.NewSet(info)
	m := &model.Message{Conversation: "15551234567#1", Seq: 1, Node: "send", Template: &ts}
	c := &model.Contact{WaID: "15551234567"}
	b.ReportAllocs()
	for b.Loop() {
		if ps := templates.CheckTemplateSend(info, &ts, true); len(ps) > 0 {
			b.Fatal(ps)
		}
		if _, err := toWhatsApp(m, c, reg); err != nil {
			b.Fatal(err)
		}
	}
}
