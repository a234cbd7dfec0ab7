package engine

import (
	"fmt"
	"slices"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// Several business numbers. One Parley may serve several phone numbers,
// in one or several WhatsApp Business Accounts (Options.PhoneNumbers). A
// customer is a customer of one number (ContactKey starts with its id),
// and everything about them goes through that number: the flows that
// answer there (a flow's `numbers`), the sends (from that number, paced by
// its throughput), the messaging limit (its portfolio's) and the account's
// restrictions (its WABA's).

// ServesNumber reports whether Parley serves the business number id: one
// of Options.PhoneNumbers, or any when none were given (an engine in a
// test or a simulation).
func (e *Engine) ServesNumber(id string) bool { return e.servesNumber(id) }

// ServesWABA reports whether webhooks of WhatsApp Business Account id are
// Parley's: a WABA of one of its numbers, or any when no number names its
// WABA.
func (e *Engine) ServesWABA(id string) bool {
	known := false
	for _, n := range e.phoneNumbers {
		if n.WABAID == "" {
			continue
		}
		known = true
		if n.WABAID == id {
			return true
		}
	}
	return !known
}

// PhoneNumbers lists the numbers Parley serves (Options.PhoneNumbers).
func (e *Engine) PhoneNumbers() []PhoneNumber { return slices.Clone(e.phoneNumbers) }

// number is the served number id, if it is one.
func (e *Engine) number(id string) (PhoneNumber, bool) {
	for _, n := range e.phoneNumbers {
		if n.ID == id {
			return n, true
		}
	}
	return PhoneNumber{}, false
}

// checkNumbers warns of a flow's numbers that Parley does not serve: the
// flow never answers there (until such a number is configured).
func (e *Engine) checkNumbers(f *flows.Flow) flows.Problems {
	if len(e.phoneNumbers) == 0 {
		return nil
	}
	var ps flows.Problems
	for i, id := range f.Numbers {
		if !e.servesNumber(id) {
			ps = append(ps, flows.Problem{Severity: flows.Warning, Pointer: fmt.Sprintf("/numbers/%d", i),
				Message: fmt.Sprintf("Parley does not serve the number %s (it serves %s): the flow answers no one there", id, e.servedNumbers())})
		}
	}
	return ps
}

// scopeOf is the reach scope of business number id: its portfolio, or the
// default one (ReachScope) for a number that names none or is not served.
func (e *Engine) scopeOf(id string) string {
	if n, ok := e.number(id); ok && n.Portfolio != "" {
		return n.Portfolio
	}
	return model.ReachScope
}

// wabaTemplateSets is a Templates that holds the templates of several
// WhatsApp Business Accounts: *Registry.
type wabaTemplateSets interface {
	TemplatesOf(waba string) templates.Lookup
}

// templatesFrom is the engine's templates as a send from business number
// id sees them: those of the number's WABA (templates belong to a WABA,
// and Meta refuses a template of another WABA: 132001). A number that
// names no WABA, or a registry that keeps one set, sees the default set.
// Every check of a send — at queue time, at dispatch, and the fill of its
// parameters — goes through it.
func (e *Engine) templatesFrom(id string) templates.Lookup {
	if e.templates == nil {
		return nil
	}
	sets, ok := e.templates.(wabaTemplateSets)
	if !ok {
		return e.templates
	}
	if n, ok := e.number(id); ok && n.WABAID != "" {
		return sets.TemplatesOf(n.WABAID)
	}
	return e.templates
}

// TemplateFrom returns a template as a send from business number id sees
// it: one of the WABA of that number (templatesFrom).
func (e *Engine) TemplateFrom(id, name, language string) (model.TemplateInfo, bool) {
	reg := e.templatesFrom(id)
	if reg == nil {
		return model.TemplateInfo{}, false
	}
	return reg.Template(name, language)
}

// checkFlowTemplates checks f's templates (CheckFlowTemplates) against the
// templates of the WABA of each number the flow answers on (its
// `numbers`, else every served number): a template must exist, approved
// and fitting, in each of those accounts. With numbers of one account the
// problems are CheckFlowTemplates's; with several, each says the account
// and a number it was found for.
func (e *Engine) checkFlowTemplates(f *flows.Flow) flows.Problems {
	type account struct{ waba, number string }
	var accounts []account
	seen := map[string]bool{}
	for _, n := range e.phoneNumbers {
		if !f.AnswersOn(n.ID) || seen[n.WABAID] {
			continue
		}
		seen[n.WABAID] = true
		accounts = append(accounts, account{n.WABAID, n.ID})
	}
	if len(accounts) <= 1 {
		reg := e.templates
		if len(accounts) == 1 {
			reg = e.templatesFrom(accounts[0].number)
		}
		return templates.CheckFlowTemplates(f, reg)
	}
	var ps flows.Problems
	for _, a := range accounts {
		waba := a.waba
		if waba == "" {
			waba = "the default account"
		}
		for _, p := range templates.CheckFlowTemplates(f, e.templatesFrom(a.number)) {
			p.Message = fmt.Sprintf("in WABA %s (of number %s): %s", waba, a.number, p.Message)
			ps = append(ps, p)
		}
	}
	return ps
}
