package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

// TestLoadTemplates: simulate's template file takes templates as the
// Graph API lists them (their shape read from their components) or by
// their counts, side by side.
func TestLoadTemplates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "templates.json")
	const file = `[
 {"name": "order_update", "language": "en_US", "status": "APPROVED", "parameter_format": "NAMED",
  "components": [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi {{first_name}}"},
                 {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://x.example/{{1}}"}, {"type": "QUICK_REPLY", "text": "Help"}]}]},
 {"name": "hello", "language": "en", "status": "APPROVED", "body_params": 1}
]`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	reg, err := loadTemplates(path)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := reg.Template("order_update", "en_US")
	if !ok || info.Shape == nil || info.Shape.HeaderFormat != "IMAGE" || info.Shape.ParameterFormat != "NAMED" ||
		len(info.Shape.Buttons) != 2 || !info.Shape.Buttons[0].Dynamic {
		t.Errorf("order_update: %+v %+v", info, info.Shape)
	}
	if info, ok := reg.Template("hello", "en"); !ok || info.Shape != nil || info.BodyParams != 1 || info.Status != model.TemplateApproved {
		t.Errorf("hello: %+v", info)
	}
}
