package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
)

// TemplateRefusal says why an agent's template would be refused for a
// contact right now, or "" when it may go: the checks AgentSendTemplate
// makes that do not depend on the parameters (opt-in while the window is
// closed, opt-outs, reachability, approval, the messaging limit), so that
// the inbox can mark a template before the agent fills it in.
func (e *Engine) TemplateRefusal(ctx context.Context, key model.ContactKey, name, language string) (string, error) {
	c, err := e.store.Contact(ctx, key)
	if errors.Is(err, model.ErrNotFound) {
		c = &model.Contact{Key: key} // never wrote: no window, no opt-in
	} else if err != nil {
		return "", fmt.Errorf("reading contact %s: %w", key, err)
	}
	now := e.clock.Now()
	if _, why := policy.RecipientBlock(e.templates, name, language, c, now); why != "" {
		return why, nil
	}
	why, _, err := e.limitBlock(ctx, c, now)
	if err != nil {
		return "", fmt.Errorf("checking the messaging limit: %w", err)
	}
	return why, nil
}
