package engine

import (
	"fmt"
	"slices"

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
	for _, n := range e.limits.numbers {
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
func (e *Engine) PhoneNumbers() []PhoneNumber { return slices.Clone(e.limits.numbers) }

// number is the served number id, if it is one.
func (e *Engine) number(id string) (PhoneNumber, bool) {
	for _, n := range e.limits.numbers {
		if n.ID == id {
			return n, true
		}
	}
	return PhoneNumber{}, false
}

// checkNumbers warns of a flow's numbers that Parley does not serve: the
// flow never answers there (until such a number is configured).
func (e *Engine) checkNumbers(f *flows.Flow) flows.Problems {
	if len(e.limits.numbers) == 0 {
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
	return ReachScope
}
