package engine

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// templateParam finds a template variable: {{1}} or {{first_name}}.
var templateParam = regexp.MustCompile(`\{\{\s*[A-Za-z0-9_]+\s*\}\}`)

// TemplateInfoFromWhatsApp reads what the engine checks before a send from
// a template as the Graph API lists it.
func TemplateInfoFromWhatsApp(t whatsapp.Template) TemplateInfo {
	info := TemplateInfo{Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if strings.EqualFold(c.Format, "TEXT") || c.Format == "" {
				info.HeaderParams = len(templateParam.FindAllString(c.Text, -1))
			}
		case "BODY":
			info.BodyParams = len(templateParam.FindAllString(c.Text, -1))
		case "BUTTONS":
			for _, b := range c.Buttons {
				if strings.EqualFold(b.Type, "QUICK_REPLY") {
					info.QuickReplies++
				}
			}
		}
	}
	return info
}

// TemplateLister lists a WhatsApp Business Account's templates:
// *whatsapp.Client.
type TemplateLister interface {
	ListTemplates(ctx context.Context, wabaID string, q whatsapp.TemplateQuery) ([]whatsapp.Template, error)
}

// SyncTemplates reads every template of the account into set and returns
// how many there are.
func SyncTemplates(ctx context.Context, l TemplateLister, wabaID string, set *TemplateSet) (int, error) {
	ts, err := l.ListTemplates(ctx, wabaID, whatsapp.TemplateQuery{Limit: 100})
	if err != nil {
		return 0, fmt.Errorf("listing templates of %s: %w", wabaID, err)
	}
	for _, t := range ts {
		set.Put(TemplateInfoFromWhatsApp(t))
	}
	return len(ts), nil
}

// SandboxTemplate is a template shaped to fit what a flow's template node
// sends, for seeding the sandbox: a body with as many variables as the node
// gives parameters, a text header likewise, and its quick-reply buttons.
func SandboxTemplate(ref *flows.TemplateRef) whatsapp.Template {
	vars := func(n int, lead string) (string, []string) {
		if n == 0 {
			return lead, nil
		}
		parts := []string{lead}
		examples := make([]string, n)
		for i := range n {
			parts = append(parts, fmt.Sprintf("{{%d}}", i+1))
			examples[i] = fmt.Sprintf("example %d", i+1)
		}
		return strings.Join(parts, " - "), examples
	}
	body, bodyEx := vars(len(ref.Body), "Message "+ref.Name)
	t := whatsapp.Template{Name: ref.Name, Language: ref.Language, Category: "UTILITY", Status: whatsapp.TemplateApproved}
	if len(ref.Header) > 0 {
		h, ex := vars(len(ref.Header), "Header")
		t.Components = append(t.Components, whatsapp.TemplateComponent{Type: "HEADER", Format: "TEXT", Text: h,
			Example: &whatsapp.TemplateExample{HeaderText: ex}})
	}
	bc := whatsapp.TemplateComponent{Type: "BODY", Text: body}
	if bodyEx != nil {
		bc.Example = &whatsapp.TemplateExample{BodyText: [][]string{bodyEx}}
	}
	t.Components = append(t.Components, bc)
	if len(ref.Buttons) > 0 {
		var bs []whatsapp.TemplateButton
		n := 0
		for _, b := range ref.Buttons {
			n = max(n, b.Index+1)
		}
		for i := range n {
			bs = append(bs, whatsapp.TemplateButton{Type: "QUICK_REPLY", Text: fmt.Sprintf("Option %d", i+1)})
		}
		t.Components = append(t.Components, whatsapp.TemplateComponent{Type: "BUTTONS", Buttons: bs})
	}
	return t
}
