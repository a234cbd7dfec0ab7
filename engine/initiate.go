package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/engine/limits"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/flows"
)

// Business-initiated starts: a schedule (package schedule) starts a flow or
// sends one template to a contact who did not write first. Each start
// carries a dedupe key, committed as the change's inbound id in the same
// commit as the start, so that a caller that crashed between the start and
// its own record of it can simply do it again: the second call finds the
// key and reports the first start (found by the conversation's Origin)
// instead of starting twice.

// Errors of business-initiated starts.
var (
	// ErrNotSendable is returned by SendTemplateOnce when the template may
	// not go to the contact now: opted out, unreachable, a marketing
	// opt-out or hold, or a template the registry does not hold as
	// sendable. The reason is wrapped with it.
	ErrNotSendable = errors.New("template may not be sent")
)

// Initiation is one business-initiated start.
type Initiation struct {
	Contact model.ContactKey
	// DedupeKey makes the start idempotent ("sched:<id>:<unix>:<contact>").
	// It is kept as long as inbound ids (DedupeRetention).
	DedupeKey string
	// By is the sender recorded on a template sent outside a flow
	// ("schedule:<id>").
	By string
}

// Initiated says what a business-initiated start did.
type Initiated struct {
	// Duplicate: the dedupe key had been committed before; the fields
	// below describe that earlier start, as far as it can be found.
	Duplicate    bool
	Conversation string
	Status       model.Status
	// Reason is why the conversation failed at once, if it did.
	Reason string
	// Seq is the first outbound message the start queued; 0 if none.
	Seq uint64
}

// StartFlowOnce starts a flow's latest published version for a contact at
// its start node, once per dedupe key. It returns ErrBusy when the contact
// is in a running conversation and ErrNotFound for an unknown contact or
// flow. A flow whose first template is blocked takes its on_blocked exit,
// as for any start; the result says how the conversation stands.
func (e *Engine) StartFlowOnce(ctx context.Context, in Initiation, flowID string) (Initiated, error) {
	v, err := e.latest(ctx, flowID)
	if err != nil {
		return Initiated{}, err
	}
	return e.initiate(ctx, in, func(t *turn) error {
		t.start(v)
		t.conv.Origin = in.DedupeKey
		t.run(v.flow.Start, arriveEvent())
		return nil
	})
}

// SendTemplateOnce sends one template to a contact, outside any flow, once
// per dedupe key. The template is recorded in a conversation of its own,
// ended at once (no flow runs in it), whose Origin is the dedupe key. It
// returns ErrBusy when the contact is in a running conversation,
// ErrNotSendable when the template may not go to them, ErrOverLimit when
// the messaging limit has no place for them.
func (e *Engine) SendTemplateOnce(ctx context.Context, in Initiation, ts flows.TemplateSend) (Initiated, error) {
	return e.initiate(ctx, in, func(t *turn) error {
		c := t.contact
		if why := policy.BlockTemplate(e.templatesFrom(c.Key.PhoneNumberID()), &ts, c, t.now); why != "" {
			return fmt.Errorf("%w: %s", ErrNotSendable, why)
		}
		why, _, err := e.limitBlock(t.ctx, c, t.now)
		if err != nil {
			return err
		}
		if why != "" {
			return fmt.Errorf("%w: %s", model.ErrOverLimit, why)
		}
		c.Conversations++
		conv := &model.Conversation{
			ID: fmt.Sprintf("%s#%d", c.Key, c.Conversations), Contact: c.Key, Status: model.Ended, Origin: in.DedupeKey,
			StartedAt: t.now, UpdatedAt: t.now, LastActivityAt: t.now, EndedAt: t.now,
		}
		t.change.Conversations = append(t.change.Conversations, conv)
		sender := in.By
		if sender == "" {
			sender = "system"
		}
		recordOn(t, conv, &model.Message{Direction: model.Out, Sender: sender, Template: &ts, State: model.Queued})
		return nil
	})
}

// initiate runs start for a contact under its lock, unless the dedupe key
// was committed before, and commits it with the key.
func (e *Engine) initiate(ctx context.Context, in Initiation, start func(*turn) error) (Initiated, error) {
	if in.DedupeKey == "" {
		return Initiated{}, errors.New("engine: a business-initiated start needs a dedupe key")
	}
	key, err := e.resolveKey(ctx, in.Contact)
	if err != nil {
		return Initiated{}, err
	}
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return Initiated{}, err
	}
	defer unlock()
	// The key is read before the busy check: the start being repeated may
	// be what makes the contact busy now.
	seen, err := e.store.Seen(ctx, in.Contact, in.DedupeKey)
	if err != nil {
		return Initiated{}, fmt.Errorf("checking start %s: %w", in.DedupeKey, err)
	}
	if seen {
		return e.initiatedBy(ctx, key, in.DedupeKey)
	}
	t, err := e.begin(ctx, key, e.clock.Now())
	if err != nil {
		return Initiated{}, err
	}
	if c := t.contact; c.PhoneNumberID == "" && c.WaID == "" && c.UserID == "" {
		return Initiated{}, fmt.Errorf("contact %s: %w", key, model.ErrNotFound)
	}
	if t.conv != nil {
		return Initiated{}, ErrBusy
	}
	if err := start(t); err != nil {
		return Initiated{}, err
	}
	t.changed = true
	t.change.InboundID, t.change.InboundKey = in.DedupeKey, in.Contact
	if err := t.commit(); err != nil {
		if errors.Is(err, model.ErrDuplicate) {
			return e.initiatedBy(ctx, key, in.DedupeKey)
		}
		return Initiated{}, err
	}
	res := Initiated{}
	for _, conv := range t.change.Conversations {
		if conv.Origin == in.DedupeKey {
			res.Conversation, res.Status, res.Reason = conv.ID, conv.Status, conv.Reason
		}
	}
	res.Seq = firstQueued(t.change.Messages, res.Conversation)
	return res, nil
}

// initiatedBy finds the start a dedupe key committed: the contact's
// conversation whose Origin it is.
func (e *Engine) initiatedBy(ctx context.Context, key model.ContactKey, dedupe string) (Initiated, error) {
	res := Initiated{Duplicate: true}
	convs, err := e.store.Conversations(ctx, key)
	if err != nil {
		return res, fmt.Errorf("finding start %s: %w", dedupe, err)
	}
	for i := len(convs) - 1; i >= 0; i-- {
		conv := convs[i]
		if conv.Origin != dedupe {
			continue
		}
		res.Conversation, res.Status, res.Reason = conv.ID, conv.Status, conv.Reason
		msgs, err := e.store.Transcript(ctx, conv.ID)
		if err != nil {
			return res, fmt.Errorf("finding start %s: %w", dedupe, err)
		}
		res.Seq = firstQueued(msgs, conv.ID)
		break
	}
	return res, nil
}

// firstQueued is the sequence of the first outbound message of conv in ms
// (as queued: it may have moved on since), or 0.
func firstQueued(ms []*model.Message, conv string) uint64 {
	for _, m := range ms {
		if m.Conversation == conv && m.Direction == model.Out {
			return m.Seq
		}
	}
	return 0
}

// Template returns a template of the engine's registry.
func (e *Engine) Template(name, language string) (model.TemplateInfo, bool) {
	if e.templates == nil {
		return model.TemplateInfo{}, false
	}
	return e.templates.Template(name, language)
}

// NeedsReach reports whether a business-initiated send to c, made at any
// moment up to by, could take a new place under the messaging limit: the
// limit is on, and by then c's window may be closed and c's last reach out
// of the moving window. Asking with by later than now is the cautious
// question for a send that waits in the outbox a while.
func (e *Engine) NeedsReach(ctx context.Context, c *model.Contact, by time.Time) (bool, error) {
	number := c.Key.PhoneNumberID()
	if e.MessagingLimitOf(number) <= 0 || policy.WindowOpen(c, by) {
		return false, nil
	}
	// The store, not the reach cache: asking the cache about a later
	// instant would evict reaches still counted now.
	reached, err := e.store.ReachedSince(ctx, e.scopeOf(number), c.Key, limits.Since(by))
	if err != nil {
		return false, fmt.Errorf("checking the reach of %s: %w", c.Key, err)
	}
	return !reached, nil
}

// RestrictedUntil is when Meta's restriction of business-initiated
// messaging from the default number ends, or the zero time when there is
// none now (RestrictedUntilOf: a number's).
func (e *Engine) RestrictedUntil() time.Time {
	return e.restrictedUntil(e.DefaultPhoneNumberID(), e.clock.Now())
}

// RestrictedUntilOf is RestrictedUntil for the business number id.
func (e *Engine) RestrictedUntilOf(id string) time.Time { return e.restrictedUntil(id, e.clock.Now()) }
