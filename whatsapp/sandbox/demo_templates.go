package sandbox

import (
	"encoding/json"
	"strings"
)

// DemoTemplates are realistic approved templates, one or more of every
// kind Meta offers: text, image, video, document and location headers;
// positional and named variables; currency and date_time parameters;
// quick-reply, URL (static and dynamic), phone-number and copy-code
// buttons, with a quick reply after a URL button so that positions count
// all buttons; an authentication template with its one-time-password
// button; a media-card carousel; a limited-time offer. The demo seeds
// them once (SeedTemplates); they are written as a business would write
// them, not derived from any flow, so a flow that does not fit one is
// refused as Meta would refuse it. order_followup and appointment_reminder
// are the ones the example flows send.
func DemoTemplates() []Template {
	ex := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
	body := func(text string, examples ...string) TemplateComponent {
		c := TemplateComponent{Type: "BODY", Text: text}
		if len(examples) > 0 {
			c.Example = ex(map[string]any{"body_text": [][]string{examples}})
		}
		return c
	}
	named := func(text string, pairs ...string) TemplateComponent {
		var ps []map[string]string
		for i := 0; i+1 < len(pairs); i += 2 {
			ps = append(ps, map[string]string{"param_name": pairs[i], "example": pairs[i+1]})
		}
		return TemplateComponent{Type: "BODY", Text: text, Example: ex(map[string]any{"body_text_named_params": ps})}
	}
	media := func(format string) TemplateComponent {
		return TemplateComponent{Type: "HEADER", Format: format, Example: ex(map[string]any{"header_handle": []string{"4::demo-" + strings.ToLower(format)}})}
	}
	buttons := func(bs ...TemplateButton) TemplateComponent { return TemplateComponent{Type: "BUTTONS", Buttons: bs} }
	qr := func(text string) TemplateButton { return TemplateButton{Type: "QUICK_REPLY", Text: text} }
	footer := func(text string) TemplateComponent { return TemplateComponent{Type: "FOOTER", Text: text} }
	return []Template{
		{Name: "order_followup", Language: "en_US", Category: "UTILITY", Components: []TemplateComponent{
			body("Hi {{1}}, we have news about your order. Would you like to talk to our team?", "Ann"),
			buttons(qr("Yes"), qr("No, thanks")),
		}},
		{Name: "appointment_reminder", Language: "en_GB", Category: "UTILITY", Components: []TemplateComponent{
			body("Hello {{1}}, this is a reminder of your {{2}} appointment on {{3}}. Will you come?", "Ann", "dental check-up", "Friday"),
			footer("Reply to this message to talk to us."),
			buttons(qr("Keep it"), qr("Cancel it")),
		}},
		{Name: "order_update", Language: "en_US", Category: "UTILITY", ParameterFormat: "NAMED", Components: []TemplateComponent{
			{Type: "HEADER", Format: "TEXT", Text: "Order {{order_number}}", Example: ex(map[string]any{
				"header_text_named_params": []map[string]string{{"param_name": "order_number", "example": "A-1042"}}})},
			named("Hi {{first_name}}, your order of {{total}} ships on {{ship_date}}.",
				"first_name", "Ann", "total", "€42.50", "ship_date", "Friday 12 June"),
			buttons(TemplateButton{Type: "URL", Text: "Track it", URL: "https://shop.example/track/{{1}}", Example: []string{"A-1042"}}, qr("Talk to us")),
		}},
		{Name: "order_shipped_photo", Language: "en_US", Category: "UTILITY", Components: []TemplateComponent{
			media("IMAGE"),
			body("Good news {{1}}: order {{2}} is on its way.", "Ann", "A-1042"),
			buttons(TemplateButton{Type: "URL", Text: "Track parcel", URL: "https://shop.example/parcel/{{1}}", Example: []string{"A-1042"}}),
		}},
		{Name: "product_launch_video", Language: "en_US", Category: "MARKETING", Components: []TemplateComponent{
			media("VIDEO"),
			body("{{1}}, meet the new collection: watch it first.", "Ann"),
			footer("Reply STOP to opt out"),
			buttons(qr("Show me more"), qr("Stop promotions")),
		}},
		{Name: "invoice_ready", Language: "en_US", Category: "UTILITY", Components: []TemplateComponent{
			media("DOCUMENT"),
			body("Hi {{1}}, your invoice {{2}} is attached.", "Ann", "INV-2026-118"),
			buttons(TemplateButton{Type: "URL", Text: "Pay online", URL: "https://shop.example/pay"}),
		}},
		{Name: "store_directions", Language: "en_US", Category: "UTILITY", Components: []TemplateComponent{
			media("LOCATION"),
			body("{{1}}, your order is ready for pickup at our store.", "Ann"),
			buttons(TemplateButton{Type: "PHONE_NUMBER", Text: "Call the store", PhoneNumber: "+15550100"}),
		}},
		{Name: "payment_due", Language: "en_US", Category: "UTILITY", Components: []TemplateComponent{
			body("Your payment of {{1}} is due on {{2}}.", "$18.20", "June 30"),
		}},
		{Name: "welcome_coupon", Language: "en_US", Category: "MARKETING", Components: []TemplateComponent{
			body("Welcome {{1}}! Here is 10% off your first order.", "Ann"),
			buttons(TemplateButton{Type: "COPY_CODE", Text: "Copy offer code", Example: []string{"WELCOME10"}},
				TemplateButton{Type: "URL", Text: "Shop now", URL: "https://shop.example/"}),
		}},
		{Name: "login_code", Language: "en_US", Category: "AUTHENTICATION", Components: []TemplateComponent{
			body("*{{1}}* is your verification code. For your security, do not share this code.", "482913"),
			footer("This code expires in 10 minutes."),
			buttons(TemplateButton{Type: "OTP", OTPType: "COPY_CODE", Text: "Copy code"}),
		}},
		{Name: "new_arrivals", Language: "en_US", Category: "MARKETING", Components: []TemplateComponent{
			body("{{1}}, these just arrived. Swipe to see them all.", "Ann"),
			{Type: "CAROUSEL", Cards: []TemplateCard{
				{Components: []TemplateComponent{media("IMAGE"), body("{{1}}, now in stock.", "Linen shirt"),
					buttons(qr("Reserve it"), TemplateButton{Type: "URL", Text: "See it", URL: "https://shop.example/p/{{1}}", Example: []string{"linen-shirt"}})}},
				{Components: []TemplateComponent{media("IMAGE"), body("{{1}}, now in stock.", "Canvas tote"),
					buttons(qr("Reserve it"), TemplateButton{Type: "URL", Text: "See it", URL: "https://shop.example/p/{{1}}", Example: []string{"canvas-tote"}})}},
			}},
		}},
		{Name: "flash_sale", Language: "en_US", Category: "MARKETING", Components: []TemplateComponent{
			media("IMAGE"),
			{Type: "LIMITED_TIME_OFFER", LimitedTimeOffer: &LimitedTimeOffer{Text: "Flash sale!", HasExpiration: true}},
			body("Good news {{1}}! Use code {{2}} for 25% off everything.", "Ann", "FLASH25"),
			buttons(TemplateButton{Type: "COPY_CODE", Example: []string{"FLASH25"}},
				TemplateButton{Type: "URL", Text: "Shop the sale", URL: "https://shop.example/sale/{{1}}", Example: []string{"flash25"}}),
		}},
	}
}

// SeedTemplates adds, approved, each template the sandbox does not have
// in that language yet (by name and language: one kept from an earlier
// run, perhaps changed since, is left as it is), and returns how many it
// added. Seeded templates are kept by Persist like any other.
func (s *Sandbox) SeedTemplates(ts []Template) int {
	s.mu.Lock()
	have := map[string]bool{}
	for _, t := range s.templates {
		have[t.Name+"/"+t.Language] = true
	}
	s.mu.Unlock()
	n := 0
	for _, t := range ts {
		if have[t.Name+"/"+t.Language] {
			continue
		}
		have[t.Name+"/"+t.Language] = true
		added := s.AddTemplate(t)
		s.mu.Lock()
		s.recordLocked(Entry{Kind: KindTemplate, Body: added.Name, Status: added.Status, Reason: "seeded"})
		s.mu.Unlock()
		n++
	}
	return n
}
