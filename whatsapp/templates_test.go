package whatsapp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

func body(text string) TemplateComponent { return TemplateComponent{Type: "BODY", Text: text} }

func TestTemplateLifecycle(t *testing.T) {
	cases := []struct {
		name     string
		tpl      Template
		event    string
		reason   string
		sendWith []OutTemplateComponent
	}{
		{name: "valid named template is approved", event: TemplateApproved, reason: "NONE",
			tpl: Template{Name: "order_shipped", Language: "en_US", Category: CategoryUtility, ParameterFormat: ParamsNamed,
				Components: []TemplateComponent{
					{Type: "HEADER", Format: "TEXT", Text: "Order {{order_id}}", Example: &TemplateExample{
						HeaderTextNamedParams: []NamedParamExample{{ParamName: "order_id", Example: "860198"}}}},
					{Type: "BODY", Text: "Thanks, {{customer_name}}! It ships today.", Example: &TemplateExample{
						BodyTextNamedParams: []NamedParamExample{{ParamName: "customer_name", Example: "Pablo"}}}},
					{Type: "FOOTER", Text: "Reply STOP to opt out"},
					{Type: "BUTTONS", Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Track"}}},
				}},
			sendWith: []OutTemplateComponent{NamedHeaderParams(NamedParam{"order_id", "1"}),
				NamedBodyParams(NamedParam{"customer_name", "Ana"}), QuickReplyButton(0, "TRACK")}},
		{name: "valid positional template is approved", event: TemplateApproved, reason: "NONE",
			tpl: Template{Name: "reminder_2", Language: "pt_BR", Category: CategoryUtility,
				Components: []TemplateComponent{{Type: "BODY", Text: "Olá {{1}}, até {{2}}.",
					Example: &TemplateExample{BodyText: [][]string{{"Ana", "amanhã"}}}}}},
			sendWith: []OutTemplateComponent{BodyParams("Ana", "sexta")}},
		{name: "name with capitals and dashes is rejected", event: TemplateRejected, reason: "INVALID_FORMAT",
			tpl: Template{Name: "Order-Update", Language: "en_US", Category: CategoryUtility, Components: []TemplateComponent{body("Hi")}}},
		{name: "adjacent parameters are rejected", event: TemplateRejected, reason: "INVALID_FORMAT",
			tpl: Template{Name: "abandoned_cart", Language: "en", Category: CategoryMarketing, Components: []TemplateComponent{body("Hi {{1}}{{2}}")}}},
		{name: "body over 1024 characters is rejected", event: TemplateRejected, reason: "INVALID_FORMAT",
			tpl: Template{Name: "long_one", Language: "en", Category: CategoryMarketing, Components: []TemplateComponent{body(strings.Repeat("é", 1025))}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			waba := e.sb.Config().WABAID
			created, err := e.client.CreateTemplate(ctxT(t), waba, tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			if created.ID == "" || created.Status != TemplatePending || created.Category != tc.tpl.Category {
				t.Errorf("created = %+v", created)
			}
			u := e.hooks.template(tc.tpl.Name, tc.event)
			if u.TemplateID != created.ID || u.Reason != tc.reason || u.Language != tc.tpl.Language {
				t.Errorf("status update = %+v", u)
			}
			if tc.event == TemplateRejected && (u.Rejection == nil || u.Rejection.Reason == "") {
				t.Errorf("INVALID_FORMAT rejections carry rejection_info: %+v", u)
			}
			list, err := e.client.ListTemplates(ctxT(t), waba, TemplateQuery{Name: tc.tpl.Name})
			if err != nil || len(list) != 1 {
				t.Fatalf("list: %v %+v", err, list)
			}
			got := list[0]
			if got.ID != created.ID || got.Status != tc.event || len(got.Components) != len(tc.tpl.Components) {
				t.Errorf("listed %+v", got)
			}
			if tc.event == TemplateRejected && got.RejectedReason != tc.reason {
				t.Errorf("rejected_reason = %q", got.RejectedReason)
			}
			if tc.event == TemplateApproved {
				if got.QualityScore == nil || got.QualityScore.Score != "UNKNOWN" {
					t.Errorf("a new template's quality is UNKNOWN: %+v", got.QualityScore)
				}
				if _, err := e.client.Send(ctxT(t), NewTemplate(customerPhone, tc.tpl.Name, tc.tpl.Language, tc.sendWith...)); err != nil {
					t.Errorf("sending the approved template: %v", err)
				}
			} else {
				_, err := e.client.Send(ctxT(t), NewTemplate(customerPhone, tc.tpl.Name, tc.tpl.Language))
				apiErr(t, err, 132001, 400, Permanent)
			}
		})
	}
}

func TestTemplateReviewFollowsTheClock(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.TemplateReviewDelay = time.Hour })
	waba := e.sb.Config().WABAID
	created, err := e.client.CreateTemplate(ctxT(t), waba, Template{Name: "slow_one", Language: "en", Category: CategoryUtility,
		Components: []TemplateComponent{body("Hello")}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute)
	e.sb.Tick()
	_, err = e.client.Send(ctxT(t), NewTemplate(customerPhone, "slow_one", "en"))
	apiErr(t, err, 132001, 400, Permanent)

	e.clock.Advance(time.Minute)
	e.sb.Tick()
	if u := e.hooks.template("slow_one", TemplateApproved); u.TemplateID != created.ID {
		t.Errorf("update %+v", u)
	}
	if _, err := e.client.Send(ctxT(t), NewTemplate(customerPhone, "slow_one", "en")); err != nil {
		t.Errorf("approved after an hour: %v", err)
	}
}

func TestTemplateManualReview(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.ManualTemplateReview = true })
	created, err := e.client.CreateTemplate(ctxT(t), e.sb.Config().WABAID, Template{Name: "promo", Language: "en",
		Category: CategoryMarketing, Components: []TemplateComponent{body("50% off")}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(48 * time.Hour)
	e.sb.Tick()
	if got := e.sb.Templates(); got[len(got)-1].Status != TemplatePending {
		t.Fatalf("manual review: %s", got[len(got)-1].Status)
	}
	if err := e.sb.RejectTemplate(created.ID, "PROMOTIONAL"); err != nil {
		t.Fatal(err)
	}
	e.hooks.template("promo", TemplateRejected)
}

func TestCreateTemplateRefusals(t *testing.T) {
	e := newTestEnv(t, nil)
	waba := e.sb.Config().WABAID
	_, err := e.client.CreateTemplate(ctxT(t), waba, Template{Name: "hello_world", Language: "en_US", Category: CategoryMarketing,
		Components: []TemplateComponent{body("again")}})
	if ae := apiErr(t, err, 100, 400, Permanent); ae.Subcode != 2388024 {
		t.Errorf("duplicate name+language: subcode %d", ae.Subcode)
	}
	_, err = e.client.CreateTemplate(ctxT(t), waba, Template{Name: "no_body", Language: "en", Category: CategoryUtility,
		Components: []TemplateComponent{{Type: "FOOTER", Text: "x"}}})
	apiErr(t, err, 100, 400, Permanent)
	_, err = e.client.CreateTemplate(ctxT(t), "123", Template{Name: "x", Language: "en", Category: CategoryUtility,
		Components: []TemplateComponent{body("x")}})
	apiErr(t, err, 100, 400, Permanent)
}

func TestListTemplatesPaging(t *testing.T) {
	var many []sandbox.Template
	for i := range 53 {
		many = append(many, sandbox.Template{Name: fmt.Sprintf("tpl_%02d", i), Language: "en",
			Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hi {{1}}"}}})
	}
	many[7].Status, many[8].Status = "REJECTED", "PAUSED"
	e := newTestEnv(t, func(c *sandbox.Config) { c.Templates = many })
	waba := e.sb.Config().WABAID

	list, err := e.client.ListTemplates(ctxT(t), waba, TemplateQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 53 {
		t.Fatalf("got %d templates, want 53", len(list))
	}
	for i, tp := range list {
		if tp.Name != fmt.Sprintf("tpl_%02d", i) || tp.Language != "en" || tp.ID == "" || len(tp.Components) != 1 {
			t.Fatalf("template %d = %+v", i, tp)
		}
	}
	pages := 0
	for _, r := range e.sb.Entries(sandbox.KindRequest) {
		if strings.HasSuffix(r.Path, "/message_templates") {
			pages++
		}
	}
	if pages != 6 {
		t.Errorf("%d page requests, want 6", pages)
	}

	approved, err := e.client.ListTemplates(ctxT(t), waba, TemplateQuery{Status: TemplateApproved, Limit: 25})
	if err != nil || len(approved) != 51 {
		t.Errorf("approved only: %d, %v", len(approved), err)
	}
	exact, err := e.client.ListTemplates(ctxT(t), waba, TemplateQuery{Limit: 53})
	if err != nil || len(exact) != 53 {
		t.Errorf("one full page: %d, %v", len(exact), err)
	}
}
