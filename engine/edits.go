package engine

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// Edits and revokes change a message the customer sent earlier. WhatsApp
// shows the new text (or "This message was deleted") in place of the old
// one, and so does the transcript: the earlier message is rewritten, not
// followed by a second one. Its first content is kept beside the new one
// (Message.Original), and a deleted message keeps its content too, marked
// deleted: what an agent already read stays on record.

// amend applies an edit or revoke (in.Reply.OriginalID names the message)
// to the transcript message it changes, in the running conversation or
// else the contact's latest one. It reports whether it found that message;
// when it did not (the message is older than the conversation, or was
// never delivered to Parley) the caller records the edit as a message of
// its own.
func (t *turn) amend(in *Inbound) (bool, error) {
	target := in.Reply.OriginalID
	if target == "" {
		return false, nil
	}
	conv := ""
	switch c := t.contact; {
	case t.conv != nil:
		conv = t.conv.ID
	case c.Conversations > 0:
		conv = fmt.Sprintf("%s#%d", c.Key, c.Conversations)
	default:
		return false, nil
	}
	msgs, err := t.e.store.Transcript(t.ctx, conv)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading transcript %s for an edit: %w", conv, err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Direction != model.In || m.WAMID != target || m.Inbound == nil {
			continue
		}
		if !m.RevokedAt.IsZero() {
			return true, nil // deleted is final; a late edit changes nothing
		}
		at := in.At
		if at.IsZero() {
			at = t.now
		}
		updated := *m
		switch in.Reply.Type {
		case whatsapp.TypeEdit:
			if in.Edited == nil {
				return false, nil
			}
			if updated.Original == nil {
				updated.Original = m.Inbound
			}
			edited := *in.Edited
			updated.Inbound, updated.EditedAt = &edited, at
		case whatsapp.TypeRevoke:
			updated.RevokedAt = at
		}
		t.change.Updates = append(t.change.Updates, &updated)
		t.changed = true
		return true, nil
	}
	return false, nil
}

// amends reports whether a reply changes an earlier message.
func amends(r *flows.Reply) bool {
	return (r.Type == whatsapp.TypeEdit || r.Type == whatsapp.TypeRevoke) && r.OriginalID != ""
}
