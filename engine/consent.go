package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// RecordConsent records a consent event on a contact (creating it if
// new), under its lock, in one commit. An event without a time is dated
// now.
func (e *Engine) RecordConsent(ctx context.Context, key model.ContactKey, ev model.ConsentEvent) (*model.Contact, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	if ev.At.IsZero() {
		ev.At = e.clock.Now()
	}
	return e.UpdateContact(ctx, key, func(c *model.Contact) {
		if c.PhoneNumberID == "" {
			// A contact first known by its consent (a web form, an API
			// call): its ids come from the key.
			phone, id, _ := strings.Cut(string(key), ":")
			c.PhoneNumberID = phone
			if c.WaID == "" && c.UserID == "" && whatsapp.ValidWaID(id) {
				c.WaID = id
			}
		}
		c.ApplyConsent(ev)
	})
}

// ReasonOptedOut is the reason of a conversation ended by an opt-out.
const ReasonOptedOut = "opted out"

// consentKeyword acts on an opt-out or opt-in keyword the customer sent,
// instead of the flow. It reports false when the message is left to the
// flow: an opt-in keyword from a contact who is not opted out (START may
// be a flow's trigger).
func (t *turn) consentKeyword(kind model.ConsentKind, reply *flows.Reply) (bool, error) {
	c := t.contact
	if kind == model.ConsentOptIn && !c.OptedOut {
		return false, nil
	}
	repeated := kind == model.ConsentOptOut && c.OptedOut
	target, err := t.consentConversation()
	if err != nil {
		return true, err
	}
	t.changed = true
	in := &model.Message{Direction: model.In, Sender: "customer", Inbound: reply, State: model.Received, WAMID: t.change.InboundID}
	recordOn(t, target, in)
	if repeated {
		// Already opted out: end whatever runs, say nothing again.
		if t.conv != nil {
			t.finish(model.Ended, ReasonOptedOut)
		}
		return true, nil
	}
	c.ApplyConsent(model.ConsentEvent{At: t.now, Kind: kind, Source: model.SourceKeyword, By: "customer", Detail: reply.Text})
	confirm := t.e.keywords.OptInReply
	if kind == model.ConsentOptOut {
		confirm = t.e.keywords.OptOutReply
		n, err := t.cancelQueuedTemplates()
		if err != nil {
			return true, err
		}
		text := fmt.Sprintf("the customer opted out (keyword %q)", reply.Text)
		if n > 0 {
			text += fmt.Sprintf("; %d queued template message(s) cancelled", n)
		}
		recordOn(t, target, &model.Message{Direction: model.Note, Sender: "system", Text: text})
		if t.conv != nil {
			t.finish(model.Ended, ReasonOptedOut)
		}
	} else {
		recordOn(t, target, &model.Message{Direction: model.Note, Sender: "system", Text: fmt.Sprintf("the customer opted back in (keyword %q)", reply.Text)})
	}
	// The customer has just written: the window is open for a free-form
	// confirmation.
	recordOn(t, target, &model.Message{Direction: model.Out, Sender: "bot", Message: &flows.Message{Type: flows.MsgText, Text: confirm}, State: model.Queued})
	return true, nil
}

// consentConversation is where a consent keyword and its confirmation are
// recorded: the running conversation, else the contact's last one, else a
// new one that holds only them (already ended: no flow runs in it).
func (t *turn) consentConversation() (*model.Conversation, error) {
	if t.conv != nil {
		return t.conv, nil
	}
	c := t.contact
	if c.Conversations > 0 {
		conv, err := t.e.store.Conversation(t.ctx, fmt.Sprintf("%s#%d", c.Key, c.Conversations))
		switch {
		case err == nil:
			t.change.Conversations = append(t.change.Conversations, conv)
			return conv, nil
		case !errors.Is(err, model.ErrNotFound):
			return nil, fmt.Errorf("loading the last conversation of %s: %w", c.Key, err)
		}
	}
	c.Conversations++
	conv := &model.Conversation{
		ID: fmt.Sprintf("%s#%d", c.Key, c.Conversations), Contact: c.Key, Status: model.Ended, Reason: "consent keyword",
		StartedAt: t.now, UpdatedAt: t.now, LastActivityAt: t.now, EndedAt: t.now,
	}
	t.change.Conversations = append(t.change.Conversations, conv)
	return conv, nil
}

// recordOn appends a message to conv's transcript (t.record writes to the
// running conversation only).
func recordOn(t *turn, conv *model.Conversation, m *model.Message) {
	if conv == t.conv {
		t.record(m)
		return
	}
	t.changed = true
	conv.Seq++
	conv.UpdatedAt = t.now
	m.Conversation, m.Seq, m.At, m.Contact = conv.ID, conv.Seq, t.now, conv.Contact
	t.change.Messages = append(t.change.Messages, m)
}

// cancelledOptedOut is the error of a queued template cancelled by an
// opt-out.
const cancelledOptedOut = "cancelled: opted out"

// cancelQueuedTemplates fails and dequeues, in the turn's commit, every
// template message queued for the contact: business-initiated messages
// must not go out after an opt-out. Messages being sent are left to their
// outcome.
func (t *turn) cancelQueuedTemplates() (int, error) {
	key := t.contact.Key
	n := 0
	var after uint64
	for {
		items, err := t.e.store.Outbox(t.ctx, after, 1000)
		if err != nil {
			return n, fmt.Errorf("reading the outbox: %w", err)
		}
		for _, it := range items {
			after = it.Seq
			m := it.Message
			if m.Contact != key || m.Template == nil || m.State != model.Queued {
				continue
			}
			m.State, m.Error = model.SendFailed, cancelledOptedOut
			t.moved(m, model.Queued)
			t.block(model.StageOptOut, m.Conversation, m.Node, m.Template, model.BlockOptedOut, "a queued template was cancelled: the customer opted out")
			t.change.Updates = append(t.change.Updates, m)
			t.change.Dequeue = append(t.change.Dequeue, it.Seq)
			n++
		}
		if len(items) < 1000 {
			return n, nil
		}
	}
}

// marketingStopped records a 131050 on a template send: the customer
// stopped marketing messages in WhatsApp.
func (t *turn) marketingStopped(m *model.Message) {
	if m.Template == nil || t.contact.MarketingOptOut {
		return
	}
	t.contact.ApplyConsent(model.ConsentEvent{
		At: t.now, Kind: model.ConsentMarketingStop, Source: model.SourceMetaError, By: "system",
		Detail: fmt.Sprintf("%d on template %s/%s: %s", m.ErrorCode, m.Template.Name, m.Template.Language, m.Error),
	})
	t.changed = true
	if t.conv != nil && t.conv.ID == m.Conversation {
		t.note(m.Node, "the customer has stopped marketing messages (131050): marketing templates are blocked until they resume")
	}
}

// Preference values of the user_preferences webhook.
const (
	PreferenceMarketing = "marketing_messages"
	PreferenceStop      = "stop"
	PreferenceResume    = "resume"
)

// ApplyPreference applies a user_preferences webhook event: a marketing
// "stop" sets the contact's MarketingOptOut, a "resume" clears it, each
// recorded in the consent history. Other categories and values are
// ignored, and so is an event that changes nothing (a redelivery).
func (e *Engine) ApplyPreference(ctx context.Context, phoneNumberID string, p whatsapp.UserPreference) error {
	if p.Category != PreferenceMarketing {
		return nil
	}
	var kind model.ConsentKind
	switch p.Value {
	case PreferenceStop:
		kind = model.ConsentMarketingStop
	case PreferenceResume:
		kind = model.ConsentMarketingResume
	default:
		return nil
	}
	if phoneNumberID == "" {
		phoneNumberID = p.PhoneNumberID
	}
	id := p.Identity()
	if id == "" || phoneNumberID == "" {
		return errors.New("engine: user preference has no phone number id, wa_id or user_id")
	}
	key, _, err := e.resolveInbound(ctx, phoneNumberID, p.WaID, p.UserID)
	if err != nil {
		return err
	}
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := e.begin(ctx, key, e.clock.Now())
	if err != nil {
		return err
	}
	c := t.contact
	if c.MarketingOptOut == (kind == model.ConsentMarketingStop) {
		return nil
	}
	c.Key, c.PhoneNumberID = key, phoneNumberID
	c.LearnIdentity(p.WaID, p.UserID)
	at := p.Timestamp
	if at.IsZero() {
		at = t.now
	}
	c.ApplyConsent(model.ConsentEvent{At: at, Kind: kind, Source: model.SourceWhatsAppPreferences, By: "customer", Detail: p.Detail})
	return t.commit()
}
