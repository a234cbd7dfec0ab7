package engine

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/whatsapp"
)

// System notices that change a customer's identity (spec/whatsapp.md §1.4,
// §4.9). The contact keeps its key, so its conversation is not split; the
// new identity's key becomes an alias of it.
const (
	SystemUserChangedNumber = "user_changed_number"
	SystemUserChangedUserID = "user_changed_user_id"
)

// resolveKey returns the contact key that key stands for: an alias's
// target, else key itself. A key cached as a contact is no alias (writing
// an alias forgets the key from the cache), so it costs no store read.
func (e *Engine) resolveKey(ctx context.Context, key ContactKey) (ContactKey, error) {
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
	if alias := NewContactKey(c.PhoneNumberID, id); alias != c.Key {
		if t.change.Aliases == nil {
			t.change.Aliases = map[ContactKey]ContactKey{}
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
