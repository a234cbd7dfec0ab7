package engine

import (
	"context"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// templateSendErrors is what the dispatcher tells of refused template
// sends: *Registry.
type templateSendErrors interface {
	MarkFromSendError(ctx context.Context, name, language string, code int) error
}

// noteTemplateRefusal tells the template registry, when it keeps statuses,
// that Meta refused m, a template, for good with code (132015, 132016).
func (e *Engine) noteTemplateRefusal(ctx context.Context, m *model.Message, class whatsapp.Class, code int) {
	reg, ok := e.templatesFrom(m.Contact.PhoneNumberID()).(templateSendErrors)
	if !ok || m.Template == nil || class != whatsapp.Permanent {
		return
	}
	if err := reg.MarkFromSendError(ctx, m.Template.Name, m.Template.Language, code); err != nil {
		e.log.Error("recording a refused template", "template", m.Template.Name, "code", code, "err", err)
	}
}
