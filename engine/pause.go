package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/whatsapp"
)

// AllNumbers is the Pause.Number of a pause that holds every business
// number: the Graph API unreachable, or an account-wide error (an expired
// token, a locked or unpaid account).
const AllNumbers = ""

// Pause is sending held back for one business number or for all of them,
// because Meta answered with an error whose scope is the number or the
// account (whatsapp.ScopeOf), or the Graph API could not be reached at
// all. Queued messages stay queued while it lasts. It ends by itself when
// a probe — the next queued message, sent alone once the pause's wait has
// passed — succeeds, or when an admin resumes sending.
type Pause struct {
	// Number is the business phone number id held, or AllNumbers.
	Number string `json:"number"`
	// Code is Meta's error code (0 when the API was unreachable).
	Code int `json:"code"`
	// Reason is what went wrong, in Meta's words where there are some.
	Reason string `json:"reason"`
	// Action says what someone must do, or that Parley resumes by itself.
	Action string `json:"action"`
	// NeedsAction: a person must act (renew the token, fix payment,
	// appeal); otherwise the pause is Meta's or the network's and passes.
	NeedsAction bool      `json:"needs_action"`
	Since       time.Time `json:"since"`
	// NextProbe is when the next message is tried.
	NextProbe time.Time `json:"next_probe"`
	// Probes counts the failed probes so far.
	Probes int `json:"probes"`

	probing bool // a probe is on the wire
	// throttled: Meta only asked the number to slow down (130429 and its
	// kin), flow control rather than a fault, logged at DEBUG.
	throttled bool
}

// Backoff of pauses. Meta names no wait for most of these, so probes back
// off exponentially with jitter: often enough that sending resumes soon
// after the cause is gone, rarely enough not to hammer an API that is down
// or an account that is blocked.
const (
	// unavailableFirstProbe and unavailableMaxProbe bound the probes
	// while the Graph API is unreachable or failing (5xx): the backlog
	// drains at most this long after the API is back.
	unavailableFirstProbe = time.Second
	unavailableMaxProbe   = 30 * time.Second
	// actionFirstProbe and actionMaxProbe bound the probes of a pause
	// that needs someone to act (190, 131031, 131042, 368…): a renewed
	// token is noticed within minutes without an admin's resume.
	actionFirstProbe = 30 * time.Second
	actionMaxProbe   = 10 * time.Minute
)

// pauseAdvice says what to do about a pausing error, by Meta's code
// (docs/whatsapp.md, error codes).
var pauseAdvice = map[int]string{
	0:      "check the access token and the app's permissions (WHATSAPP_ACCESS_TOKEN), then restart Parley or resume sending",
	3:      "the app lacks a capability: check its permissions in the Meta app dashboard",
	10:     "the token lacks a permission (whatsapp_business_messaging): grant it, then resume sending",
	190:    "the access token expired or was revoked: set a new WHATSAPP_ACCESS_TOKEN (a system user token does not expire) and restart Parley",
	368:    "the account is blocked for a policy violation: see Business Support in Meta Business Suite and appeal",
	131031: "the WhatsApp Business Account is locked: see its status in WhatsApp Manager and appeal",
	131042: "there is a problem with the account's payment method: fix it in Meta Business Suite",
	131037: "the number needs an approved display name: set one in WhatsApp Manager",
	131045: "the number is not registered with the Cloud API: register it",
	131048: "the number is limited for spam: review message quality in WhatsApp Manager; sending resumes on its own when Meta lifts the limit",
	133010: "the number is not registered with the Cloud API: register it",
	131005: "the token lacks access to this number or account: grant it in Meta Business Suite",
}

// pauses is the dispatcher's set of pauses, by number.
type pauses struct {
	mu sync.Mutex
	m  map[string]*Pause
}

// covering returns the pause that holds sends from number: the number's
// own, else the one of every number.
func (p *pauses) covering(number string) *Pause {
	if x := p.m[number]; x != nil {
		return x
	}
	return p.m[AllNumbers]
}

// admit tells whether a message from number may go now. While a pause
// holds the number it answers the wait; once the pause's wait has passed,
// one message goes as its probe (probe true) and the others keep waiting.
func (p *pauses) admit(number string, now time.Time) (wait time.Duration, probe bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.covering(number)
	switch {
	case x == nil:
		return 0, false
	case x.probing:
		return unavailableFirstProbe, false
	case now.Before(x.NextProbe):
		return x.NextProbe.Sub(now), false
	}
	x.probing = true
	return 0, true
}

// hold starts the pause of number for err, or extends it after a failed
// probe. A send that was already on the wire when the pause began changes
// nothing. It returns the pause and whether it is new (the caller logs a
// new one, once).
func (p *pauses) hold(number string, err error, now time.Time, probe bool) (Pause, bool) {
	code := 0
	reason := err.Error()
	var ae *whatsapp.APIError
	if errors.As(err, &ae) {
		code = ae.Code
	}
	needsAction := whatsapp.Classify(err) == whatsapp.Permanent
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*Pause{}
	}
	x, old := p.m[number]
	switch {
	case !old:
		x = &Pause{Number: number, Since: now}
		p.m[number] = x
	case !probe:
		return *x, false
	default:
		x.Probes++
	}
	x.Code, x.Reason, x.NeedsAction, x.probing = code, reason, needsAction, false
	x.throttled = !needsAction && !whatsapp.Unavailable(err)
	first, most := unavailableFirstProbe, unavailableMaxProbe
	x.Action = "none: sending resumes by itself once WhatsApp answers again"
	if needsAction {
		first, most = actionFirstProbe, actionMaxProbe
		x.Action = pauseAdvice[code]
		if x.Action == "" {
			x.Action = fmt.Sprintf("see Meta's description of error %d; sending resumes once a probe succeeds, or when an admin resumes it", code)
		}
	}
	wait := max(jitter(min(first<<min(x.Probes, 20), most)), whatsapp.RetryAfter(err))
	x.NextProbe = now.Add(wait)
	return *x, !old
}

// lift ends the pauses covering number after a send from it succeeded,
// or every pause of number (AllNumbers: every pause) when an admin
// resumes; it returns those it ended.
func (p *pauses) lift(number string, all bool) []Pause {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ended []Pause
	for k, x := range p.m {
		if k == number || k == AllNumbers || (all && number == AllNumbers) {
			ended = append(ended, *x)
			delete(p.m, k)
		}
	}
	return ended
}

// unprobe ends the probe of whichever pause holds number (its own, or
// every number's): the probe's outcome is known, or it never went out.
// Whatever scope the answer concerns — a 130429 answering the probe of an
// outage, a 503 answering the probe of a throughput hold — the pause the
// probe was for must not wait for it for ever.
func (p *pauses) unprobe(number string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range []string{number, AllNumbers} {
		if x := p.m[k]; x != nil {
			x.probing = false
		}
	}
}

// probeDone ends a probe that was not answered by a pausing error and did
// not succeed either (an error about the message itself): WhatsApp
// answered, so the pause is over.
func (p *pauses) probeDone(number string) []Pause { return p.lift(number, false) }

// list returns the pauses, every number's first, then by number.
func (p *pauses) list() []Pause {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Pause, 0, len(p.m))
	for _, x := range p.m {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b Pause) int {
		switch {
		case a.Number < b.Number:
			return -1
		case a.Number > b.Number:
			return 1
		}
		return 0
	})
	return out
}

// jitter spreads a wait over [d/2, d): retries that failed together do
// not come back together.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}
