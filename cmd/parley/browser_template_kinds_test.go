package main

// A browser test of the editor's template node with a template of the
// kinds flows could not express before: an image header, a NAMED body, a
// dynamic URL button before a quick reply. The analyst picks it, gets a
// field per part, and reads the template's own text filled in, in the
// properties panel and on the canvas; the flow saves without a problem.

import (
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

func TestBrowserEditorTemplateKinds(t *testing.T) {
	var tpls []sandbox.Template
	for _, x := range sandbox.DemoTemplates() {
		if x.Name == "order_update" || x.Name == "order_shipped_photo" {
			tpls = append(tpls, x)
		}
	}
	h := startUI(t, e2eOptions{templates: tpls})
	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.waitText("nav", "Flows")
	b.click("new-flow")
	b.fill("new-flow-id", "kinds")
	b.fill("new-flow-name", "Kinds")
	b.click("new-flow-create")
	b.wait("palette")

	b.addNode("template", "shipped")
	b.waitJS(`Array.from($t('template-select').options).some((o) => o.value === 'order_update/en_US')`, "the registry's template offered")
	b.fill("template-select", "order_update/en_US")
	// A NAMED template: a field per variable, by name; the URL button (the
	// first) and the quick reply (the second) at their positions.
	b.fill("field-template/header/0/text", "A-1042")
	b.fill("field-template/body/0/text", "{{ contact.name }}")
	b.fill("field-template/body/1/text", "€42.50")
	b.fill("field-template/body/2/text", "Friday")
	b.fill("field-template/buttons/0/text", "A-1042")
	b.fill("field-template/buttons/1/payload", "help")
	b.waitText("template-preview", "Order A-1042")
	b.waitText("template-preview", "Hi {{ contact.name }}, your order of €42.50 ships on Friday.")
	b.waitText("template-preview", "[Track it → A-1042]")
	b.waitText("template-preview", "[Talk to us → help]")
	b.waitText("node-template-text-shipped", "your order of €42.50 ships on Friday")
	b.shot("a named template with a URL button, filled in")

	// An image header: its link is asked for, and shown in the preview.
	b.fill("template-select", "order_shipped_photo/en_US")
	b.fill("field-template/header/0/image/link", "https://shop.example/a.jpg")
	b.fill("field-template/body/0", "{{ contact.name }}")
	b.fill("field-template/body/1", "A-1042")
	b.fill("field-template/buttons/0/text", "A-1042")
	b.waitText("template-preview", "image: https://shop.example/a.jpg")
	b.waitText("template-preview", "order A-1042 is on its way")
	b.saved()
	if js[bool](b, `!!$t('node-errors-shipped')`) {
		b.click("tab-problems")
		t.Errorf("the filled template node has errors: %s", js[string](b, `$$t('problem').map((p) => p.innerText).join(' / ')`))
	}
	b.shot("an image header filled in")
}
