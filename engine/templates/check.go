package templates

import (
	"fmt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// templateStatusProblem is how a template status weighs at publish time: a
// template on its way to approval (in review, or appealing a rejection) is
// a warning — the flow may be published ahead of the verdict, its sends
// are blocked until then — and any other status but APPROVED is an error.
var templateStatusProblem = map[string]flows.Severity{
	model.TemplatePending:  flows.Warning,
	model.TemplateInAppeal: flows.Warning,
}

// CheckFlowTemplates checks every template node of f against the
// registry, as a publish should: the template must exist in the node's
// language (else Meta answers 132001), be APPROVED, and take what the node
// gives, part by part (CheckTemplateSend on the node's parameters as
// written: texts filled in at run time are checked when sent). Each
// problem points at the node's template (/nodes/i/template), or at the
// part that is wrong (/nodes/i/template/body/1, …/buttons/k). A button
// written without a type whose quick reply is not at the position its
// index says gets a warning: it still goes to that quick reply. A nil
// registry is one that holds nothing.
func CheckFlowTemplates(f *flows.Flow, reg Lookup) flows.Problems {
	var ps flows.Problems
	add := func(sev flows.Severity, ptr, format string, a ...any) {
		ps = append(ps, flows.Problem{Severity: sev, Pointer: ptr, Message: fmt.Sprintf(format, a...)})
	}
	for i, n := range f.Nodes {
		t := n.Template
		if n.Type != flows.TypeTemplate || t == nil {
			continue
		}
		ptr := fmt.Sprintf("/nodes/%d/template", i)
		var (
			info model.TemplateInfo
			ok   bool
		)
		if reg != nil {
			info, ok = reg.Template(t.Name, t.Language)
		}
		if !ok {
			add(flows.Error, ptr, "template %q in %s is not in the template registry: create it, or sync the templates if it exists", t.Name, t.Language)
			continue
		}
		if info.Status != model.TemplateApproved {
			sev, soon := templateStatusProblem[info.Status]
			if !soon {
				sev = flows.Error
			}
			add(sev, ptr, "template %q in %s is %s, not APPROVED: it cannot be sent until Meta approves it", t.Name, t.Language, orUnknown(info.Status))
		}
		ts := flows.TemplateSend(*t)
		for _, p := range CheckTemplateSend(info, &ts, false) {
			sev := flows.Error
			if p.Kind == ProblemWarning {
				sev = flows.Warning
			}
			at := ptr
			if p.Path != "" {
				at += "/" + p.Path
			}
			add(sev, at, "%s", p.Message)
		}
	}
	return ps
}

func orUnknown(status string) string {
	if status == "" {
		return "of unknown status"
	}
	return status
}
