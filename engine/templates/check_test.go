package templates_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// checkedFlow has a send node first, so the template node is /nodes/1.
func checkedFlow(template string) string {
	return `{"format": "parley/flow@1", "id": "notify", "start": "hello",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "hello", "type": "send", "message": {"type": "text", "text": "hello"}, "next": "tpl"},
  {"id": "tpl", "type": "template", "template": ` + template + `, "next": "bye", "on_blocked": "bye"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}
 ]}`
}

func TestCheckFlowTemplates(t *testing.T) {
	// order_update/en_US: a one-parameter header, a two-parameter body and
	// two quick replies.
	approved := model.TemplateInfo{Name: "order_update", Language: "en_US", Status: model.TemplateApproved, HeaderParams: 1, BodyParams: 2, QuickReplies: 2}
	with := func(status string) model.TemplateInfo {
		i := approved
		i.Status = status
		return i
	}
	noHeader := approved
	noHeader.HeaderParams = 0
	const good = `{"name": "order_update", "language": "en_US", "header": ["A-1"], "body": ["Ann", "today"],
	 "buttons": [{"index": 0, "payload": "track"}, {"index": 1, "payload": "stop"}]}`
	cases := []struct {
		name     string
		reg      templates.Lookup // nil: approved
		none     bool             // no registry at all
		template string
		want     []string // "severity pointer: message fragment"
	}{
		{name: "approved and well filled", template: good},
		{
			name:     "missing in that language",
			template: strings.Replace(good, "en_US", "de", 1),
			want:     []string{`error /nodes/1/template: template "order_update" in de is not in the template registry`},
		},
		{
			name: "missing: no registry", none: true, template: good,
			want: []string{`error /nodes/1/template: template "order_update" in en_US is not in the template registry`},
		},
		{name: "pending: a warning", reg: templates.NewSet(with(model.TemplatePending)), template: good,
			want: []string{`warning /nodes/1/template: template "order_update" in en_US is PENDING, not APPROVED`}},
		{name: "in appeal: a warning", reg: templates.NewSet(with(model.TemplateInAppeal)), template: good,
			want: []string{`warning /nodes/1/template: template "order_update" in en_US is IN_APPEAL, not APPROVED`}},
		{name: "rejected: an error", reg: templates.NewSet(with(model.TemplateRejected)), template: good,
			want: []string{`error /nodes/1/template: template "order_update" in en_US is REJECTED, not APPROVED`}},
		{name: "paused: an error", reg: templates.NewSet(with(model.TemplatePaused)), template: good,
			want: []string{`error /nodes/1/template: template "order_update" in en_US is PAUSED`}},
		{name: "disabled: an error", reg: templates.NewSet(with(model.TemplateDisabled)), template: good,
			want: []string{`error /nodes/1/template: template "order_update" in en_US is DISABLED`}},
		{name: "deleted: an error", reg: templates.NewSet(with(model.TemplateDeleted)), template: good,
			want: []string{`error /nodes/1/template: template "order_update" in en_US is DELETED`}},
		{
			name:     "body short of a parameter",
			template: strings.Replace(good, `["Ann", "today"]`, `["Ann"]`, 1),
			want:     []string{`error /nodes/1/template/body: template "order_update" body takes 2 parameter(s); the send gives 1`},
		},
		{
			name:     "header missing: the pointer is the template",
			template: strings.Replace(good, `"header": ["A-1"], `, ``, 1),
			want:     []string{`error /nodes/1/template: template "order_update" header takes 1 parameter(s); the send gives 0`},
		},
		{
			name: "a header parameter the template has no place for", reg: templates.NewSet(noHeader), template: good,
			want: []string{`error /nodes/1/template/header: template "order_update" header takes 0 parameter(s); the send gives 1`},
		},
		{
			name:     "a button the template does not have",
			template: strings.Replace(good, `"index": 1`, `"index": 2`, 1),
			want:     []string{`error /nodes/1/template/buttons/1: template "order_update" has 2 quick-reply button(s); there is no button 2 to fill`},
		},
		{
			name: "paused and mis-filled: every problem", reg: templates.NewSet(with(model.TemplatePaused)),
			template: strings.Replace(good, `["Ann", "today"]`, `[]`, 1),
			want: []string{
				`error /nodes/1/template: template "order_update" in en_US is PAUSED`,
				`error /nodes/1/template: template "order_update" body takes 2 parameter(s); the send gives 0`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, problems := flows.Parse([]byte(checkedFlow(tc.template)))
			if problems.HasErrors() {
				t.Fatalf("the test flow is invalid: %v", problems.Err())
			}
			reg := tc.reg
			switch {
			case tc.none:
				reg = nil
			case reg == nil:
				reg = templates.NewSet(approved)
			}
			var got []string
			for _, p := range templates.CheckFlowTemplates(f, reg) {
				got = append(got, fmt.Sprintf("%s %s: %s", p.Severity, p.Pointer, p.Message))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d:\n  %s\nwant it to start with\n  %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestCheckFlowTemplatesShaped: against a template whose shape the
// registry knows ([URL with a variable, QUICK_REPLY] buttons, a NAMED
// body, an image header), publishing points at the part that does not
// fit, and warns where a button without a type means another position.
func TestCheckFlowTemplatesShaped(t *testing.T) {
	shape := &model.TemplateShape{
		ParameterFormat: "NAMED", HeaderFormat: "IMAGE", BodyText: "Hi {{first_name}}, order {{order_id}} ships.",
		Buttons: []model.ShapeButton{{Type: "URL", Dynamic: true}, {Type: "QUICK_REPLY"}},
	}
	reg := templates.NewSet(model.TemplateInfo{Name: "shipped", Language: "en_US", Status: model.TemplateApproved, Shape: shape})
	const header = `"header": [{"image": {"link": "https://x.example/a.jpg"}}]`
	cases := []struct {
		name, template string
		want           []string
	}{
		{"well filled", `{"name": "shipped", "language": "en_US", ` + header + `,
			"body": [{"name": "first_name", "text": "{{ contact.name }}"}, {"name": "order_id", "text": "A-1"}],
			"buttons": [{"type": "url", "index": 0, "text": "A-1"}, {"type": "quick_reply", "index": 1, "payload": "help"}]}`, nil},
		{"names from the template, in order", `{"name": "shipped", "language": "en_US", ` + header + `, "body": ["Ann", "A-1"],
			"buttons": [{"type": "url", "index": 0, "text": "A-1"}]}`, nil},
		{"a quick reply written the old way", `{"name": "shipped", "language": "en_US", ` + header + `, "body": ["Ann", "A-1"],
			"buttons": [{"type": "url", "index": 0, "text": "A-1"}, {"index": 0, "payload": "help"}]}`,
			[]string{`warning /nodes/1/template/buttons/1: is quick reply 0, the button at position 1`}},
		{"the URL button left out", `{"name": "shipped", "language": "en_US", ` + header + `, "body": ["Ann", "A-1"]}`,
			[]string{`error /nodes/1/template: button 0 (URL) must be filled`}},
		{"a wrong name", `{"name": "shipped", "language": "en_US", ` + header + `,
			"body": [{"name": "first_name", "text": "Ann"}, {"name": "order", "text": "A-1"}], "buttons": [{"type": "url", "index": 0, "text": "A-1"}]}`,
			[]string{`error /nodes/1/template/body/1/name: {{order}} is not a variable of the template`}},
		{"no image", `{"name": "shipped", "language": "en_US", "body": ["Ann", "A-1"], "buttons": [{"type": "url", "index": 0, "text": "A-1"}]}`,
			[]string{`error /nodes/1/template/header: the template's header is an image`}},
		{"a literal with a line break", `{"name": "shipped", "language": "en_US", ` + header + `, "body": ["Ann\nLee", "A-1"],
			"buttons": [{"type": "url", "index": 0, "text": "A-1"}]}`,
			[]string{`error /nodes/1/template/body/0: holds a line break`}},
		{"a quick reply where the URL is", `{"name": "shipped", "language": "en_US", ` + header + `, "body": ["Ann", "A-1"],
			"buttons": [{"type": "url", "index": 0, "text": "A-1"}, {"type": "quick_reply", "index": 0, "payload": "x"}]}`,
			[]string{`error /nodes/1/template/buttons/1: button 0 of the template is a URL button, not quick_reply`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, problems := flows.Parse([]byte(checkedFlow(c.template)))
			if f == nil {
				t.Fatalf("parse: %v", problems)
			}
			var got []string
			for _, p := range templates.CheckFlowTemplates(f, reg) {
				got = append(got, fmt.Sprintf("%s %s: %s", p.Severity, p.Pointer, p.Message))
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems %q; want %q", got, c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d: %s\nwant it to start with %s", i, got[i], c.want[i])
				}
			}
		})
	}
}
