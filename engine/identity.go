package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// System notices that change a customer's identity (docs/whatsapp.md §1.4,
// §4.9). The contact keeps its key, so its conversation is not split; the
// new identity's key becomes an alias of it.
const (
	SystemUserChangedNumber = "user_changed_number"
	SystemUserChangedUserID = "user_changed_user_id"
)

// resolveKey returns the contact key that key stands for: an alias's
// target, else key itself. A key cached as a contact is no alias (writing
// an alias forgets the key from the cache), so it costs no store read.
func (e *Engine) resolveKey(ctx context.Context, key model.ContactKey) (model.ContactKey, error) {
	if e.cache.has(key) {
		return key, nil
	}
	to, ok, err := e.store.Alias(ctx, key)
	if err != nil {
		return "", fmt.Errorf("resolving contact %s: %w", key, err)
	}
	if ok && to != "" {
		return to, nil
	}
	return key, nil
}

// identityChanged applies a user_changed_number or user_changed_user_id
// notice: the contact's wa_id or user id becomes the new one, so the next
// send goes there, and the new identity's key becomes an alias of the
// contact's key, so the customer's next message continues their
// conversation. Other notices, and one that changes nothing, are ignored.
func (t *turn) identityChanged(sys *whatsapp.SystemUpdate) {
	if sys == nil {
		return
	}
	c := t.contact
	var id, text string
	switch sys.Type {
	case SystemUserChangedNumber:
		if sys.NewWaID == "" || sys.NewWaID == c.WaID {
			return
		}
		id, text = sys.NewWaID, fmt.Sprintf("the customer changed their number from %s to %s", unknownID(c.WaID), sys.NewWaID)
		c.WaID = sys.NewWaID
	case SystemUserChangedUserID:
		if sys.NewUserID == "" || sys.NewUserID == c.UserID {
			return
		}
		id, text = sys.NewUserID, fmt.Sprintf("the customer's user id changed from %s to %s", unknownID(c.UserID), sys.NewUserID)
		c.UserID = sys.NewUserID
	default:
		return
	}
	t.changed = true
	if alias := model.NewContactKey(c.PhoneNumberID, id); alias != c.Key {
		if t.change.Aliases == nil {
			t.change.Aliases = map[model.ContactKey]model.ContactKey{}
		}
		t.change.Aliases[alias] = c.Key
	}
	t.note("", text+"; their messages continue this conversation")
}

func unknownID(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// resolveInbound is the contact an inbound message is from. Meta keys a
// customer by their business-scoped user id where it sends one, but a
// contact created before their first message (an import, the API: by phone
// number) is keyed by their wa_id. So a message whose user id names no
// contact, from a wa_id that does, is that contact's: its key is returned
// with the user id's key as adopt, to be written as an alias in the
// message's commit (one lookup next time).
func (e *Engine) resolveInbound(ctx context.Context, phoneNumberID, waID, userID string) (key, adopt model.ContactKey, err error) {
	id := userID
	if id == "" {
		id = waID
	}
	primary := model.NewContactKey(phoneNumberID, id)
	key, err = e.resolveKey(ctx, primary)
	if err != nil || key != primary || userID == "" || waID == "" || e.cache.has(key) {
		return key, "", err
	}
	if _, err := e.store.Contact(ctx, key); err == nil || !errors.Is(err, model.ErrNotFound) {
		return key, "", err
	}
	byPhone, err := e.resolveKey(ctx, model.NewContactKey(phoneNumberID, waID))
	if err != nil {
		return "", "", err
	}
	if _, err := e.store.Contact(ctx, byPhone); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return key, "", nil
		}
		return "", "", fmt.Errorf("loading contact %s: %w", byPhone, err)
	}
	return byPhone, primary, nil
}

// adopt makes alias stand for the turn's contact, in its commit.
func (t *turn) adopt(alias model.ContactKey) {
	if alias == "" || alias == t.contact.Key {
		return
	}
	if t.change.Aliases == nil {
		t.change.Aliases = map[model.ContactKey]model.ContactKey{}
	}
	t.change.Aliases[alias] = t.contact.Key
	t.changed = true
}

// ContactsByWaIDStore is a Store with an index of contacts by phone
// number: ContactsByWaID returns the contacts whose WaID is waID, in key
// order. Engine.ContactsByWaID uses it when the store has one, and reads
// every contact otherwise.
type ContactsByWaIDStore interface {
	ContactsByWaID(ctx context.Context, waID string) ([]*model.Contact, error)
}

// contactScanPage is how many contacts ContactsByWaID reads per store read.
const contactScanPage = 500

// ContactsByWaID returns the contacts whose phone number is waID (digits,
// as NormalizePhone makes them), on any business number, in key order.
// A customer's contact is keyed by their business-scoped user id where
// Meta sends one, so their phone number is not in the key: a store with an
// index by phone number (ContactsByWaIDStore, as boltstore has) answers
// from it; with another store this reads every contact, two seeks each
// and no transcript — a lookup for a person at a screen (tens of
// milliseconds per 10,000 contacts), not for a hot path.
func (e *Engine) ContactsByWaID(ctx context.Context, waID string) ([]*model.Contact, error) {
	if idx, ok := e.store.(ContactsByWaIDStore); ok {
		out, err := idx.ContactsByWaID(ctx, waID)
		if err != nil {
			return nil, fmt.Errorf("looking up contacts by phone number: %w", err)
		}
		return out, nil
	}
	var out []*model.Contact
	var after model.ContactKey
	for {
		page, err := e.store.ListContacts(ctx, after, contactScanPage)
		if err != nil {
			return nil, fmt.Errorf("looking up contacts by phone number: %w", err)
		}
		for _, c := range page {
			if c.WaID == waID {
				out = append(out, c)
			}
		}
		if len(page) < contactScanPage {
			return out, nil
		}
		after = page[len(page)-1].Key
	}
}
