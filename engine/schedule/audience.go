package schedule

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/engine/model"
)

// audiencePage is how many contacts CountAudience reads at a time.
const audiencePage = 500

// AudienceCount is how many contacts an audience expression selects now,
// out of all contacts, and how many of those a fan-out would skip for
// consent (not opted in, or opted out) or reachability.
type AudienceCount struct {
	Matching    int `json:"matching"`
	Total       int `json:"total"`
	NoConsent   int `json:"no_consent"`
	OptedOut    int `json:"opted_out"`
	Unreachable int `json:"unreachable"`
}

// CountAudience compiles an audience expression and counts the contacts it
// selects now: the live feedback of the schedule editor, before saving.
// An expression that does not compile returns the same *InvalidError as
// saving would; one that fails on a contact counts that contact out, as
// the fan-out does.
func (s *Scheduler) CountAudience(ctx context.Context, audience string) (AudienceCount, error) {
	var n AudienceCount
	prog, err := compileAudience(audience)
	if err != nil {
		return n, err
	}
	now := s.now()
	after := model.ContactKey("")
	for {
		cs, err := s.e.Store().ListContacts(ctx, after, audiencePage)
		if err != nil {
			return n, fmt.Errorf("counting an audience: %w", err)
		}
		if len(cs) == 0 {
			return n, nil
		}
		for _, c := range cs {
			n.Total++
			if ok, err := inAudience(prog, envOf(c, now)); err != nil || !ok {
				continue
			}
			n.Matching++
			switch {
			case c.OptedOut:
				n.OptedOut++
			case !c.OptedIn:
				n.NoConsent++
			case c.Unreachable:
				n.Unreachable++
			}
		}
		after = cs[len(cs)-1].Key
	}
}
